//! Where a deployed request's hops are, since the page cannot see them: the `sam logs`
//! commands that print them, ready to copy.
//!
//! What the logs can be searched by is what the functions write, so the commands follow
//! it (checked against SAM CLI 1.170's `sam logs --help` and its `parse_date`):
//!
//! - API Gateway's request ID (`x-amzn-RequestId`) is in neither function's logs: the TOKEN
//!   authorizer's event has no `requestContext` (only `type`, `authorizationToken`,
//!   `methodArn`), hello receives only what the request template renders (`{"name": ...}`),
//!   and each Lambda invocation has a request ID of its own. No API Gateway execution or
//!   access log is configured in template.yaml either. So no command filters by it.
//! - The authorizer writes one line per decision with the token's fingerprint
//!   (`"token":"<12 hex digits>"`, `authorizer_contract::token_fingerprint`). That is the
//!   filter for hop 2, from the token's `iat` (no decision about it can be older; a cache
//!   hit writes nothing, and the line is the earlier decision's).
//! - hello writes a line only when it refuses an event, and Lambda adds its START / END /
//!   REPORT lines: for hop 4, everything hello logged in the minutes around the call.
//!
//! Times are UTC, `2026-12-01 22:09:00 UTC` (SAM's `parse_date` reads it as that instant).
//! Every value put in a command is checked to be made only of characters that need no
//! shell quoting, and is single-quoted anyway: the learner pastes it into a shell.

use crate::token;

/// The authorizer's logical ID in template.yaml (a test reads the template).
pub const AUTHORIZER_FUNCTION: &str = "AuthorizerFunction";
/// hello's logical ID in template.yaml.
pub const HELLO_FUNCTION: &str = "HelloFunction";

/// How long before the call hello's window opens, and after it closes (CloudWatch may
/// take a while to ingest, and the clocks of the browser and AWS differ).
const BEFORE_SECONDS: i64 = 60;
const AFTER_SECONDS: i64 = 120;

/// A deployed stack's logs, as `sam logs` reaches them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// The CloudFormation stack (config.json's `stackName`).
    pub name: String,
    /// Its region, read from the API's URL; `None` leaves it to the AWS configuration.
    pub region: Option<String>,
}

impl Stack {
    /// The stack `name`, in the region of `api_url`
    /// (`https://{id}.execute-api.{region}.amazonaws.com/...`). `None` when `name` has a
    /// character a stack name cannot have.
    pub fn new(name: &str, api_url: &str) -> Option<Self> {
        plain(name).then(|| Stack {
            name: name.to_owned(),
            region: region_of(api_url),
        })
    }

    /// The command for hop 2: every decision the authorizer logged about this token.
    pub fn authorizer_command(
        &self,
        fingerprint: &str,
        issued: i64,
        called: i64,
    ) -> Option<String> {
        if !(fingerprint.len() == 12 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit())) {
            return None;
        }
        // `issued` is a claim: any number at all.
        let from = issued.min(called).saturating_sub(BEFORE_SECONDS);
        self.command(
            AUTHORIZER_FUNCTION,
            Some(fingerprint),
            from,
            called.saturating_add(AFTER_SECONDS),
        )
    }

    /// The command for hop 4: what hello logged around the call.
    pub fn hello_command(&self, called: i64) -> Option<String> {
        self.command(
            HELLO_FUNCTION,
            None,
            called.saturating_sub(BEFORE_SECONDS),
            called.saturating_add(AFTER_SECONDS),
        )
    }

    fn command(&self, function: &str, filter: Option<&str>, from: i64, to: i64) -> Option<String> {
        let mut words = vec!["sam logs".to_owned(), format!("--stack-name {}", self.name)];
        if let Some(region) = &self.region {
            words.push(format!("--region {region}"));
        }
        words.push(format!("--name {function}"));
        if let Some(filter) = filter {
            words.push(format!("--filter '{filter}'"));
        }
        words.push(format!("--start-time '{}'", token::utc(from)?));
        words.push(format!("--end-time '{}'", token::utc(to)?));
        Some(words.join(" "))
    }
}

/// Nothing a shell would read specially: letters, digits and hyphens.
fn plain(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The region of an API Gateway URL: `https://{id}.execute-api.{region}.amazonaws.com`
/// (or `.amazonaws.com.cn`); `None` for any other host (a custom domain).
pub fn region_of(api_url: &str) -> Option<String> {
    let host = api_url.strip_prefix("https://")?.split(['/', ':']).next()?;
    let mut labels = host.split('.');
    let (_id, "execute-api", region, "amazonaws", "com") = (
        labels.next()?,
        labels.next()?,
        labels.next()?,
        labels.next()?,
        labels.next()?,
    ) else {
        return None;
    };
    let rest: Vec<&str> = labels.collect();
    let known_suffix = rest.is_empty() || rest == ["cn"];
    (known_suffix && plain(region) && region.bytes().all(|b| !b.is_ascii_uppercase()))
        .then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod";
    /// 2026-12-01 22:09:00 UTC.
    const CALLED: i64 = 1_796_162_940;

    #[test]
    fn the_region_comes_from_the_apis_url() {
        assert_eq!(region_of(API).as_deref(), Some("eu-west-1"));
        assert_eq!(
            region_of("https://x.execute-api.cn-north-1.amazonaws.com.cn/prod").as_deref(),
            Some("cn-north-1")
        );
        for other in [
            "https://api.example.com/prod",
            "http://abc.execute-api.eu-west-1.amazonaws.com/prod",
            "https://abc.execute-api.eu-west-1.amazonaws.com.evil.example/prod",
            "https://abc.execute-api.eu;west-1.amazonaws.com/prod",
            "http://127.0.0.1:4101/prod",
        ] {
            assert_eq!(region_of(other), None, "{other}");
        }
    }

    #[test]
    fn the_authorizer_command_filters_by_the_tokens_fingerprint_from_its_issue() {
        let stack = Stack::new("greeting-stack", API).unwrap();
        // Issued 10 minutes before the call.
        assert_eq!(
            stack
                .authorizer_command("ba7816bf8f01", CALLED - 600, CALLED)
                .unwrap(),
            "sam logs --stack-name greeting-stack --region eu-west-1 --name AuthorizerFunction \
             --filter 'ba7816bf8f01' --start-time '2026-12-01 21:58:00 UTC' \
             --end-time '2026-12-01 22:11:00 UTC'"
        );
    }

    #[test]
    fn the_hello_command_covers_the_minutes_around_the_call() {
        let stack = Stack::new("greeting-stack", "https://api.example.com/prod").unwrap();
        assert_eq!(
            stack.hello_command(CALLED).unwrap(),
            "sam logs --stack-name greeting-stack --name HelloFunction \
             --start-time '2026-12-01 22:08:00 UTC' --end-time '2026-12-01 22:11:00 UTC'"
        );
    }

    #[test]
    fn nothing_a_shell_would_interpret_gets_into_a_command() {
        assert_eq!(Stack::new("s';rm -rf ~;'", API), None);
        assert_eq!(Stack::new("", API), None);
        let stack = Stack::new("s", API).unwrap();
        assert_eq!(stack.authorizer_command("'; rm -rf ~", 0, CALLED), None);
        assert_eq!(stack.authorizer_command("BA7816BF8F0", 0, CALLED), None);
        assert_eq!(stack.hello_command(i64::MAX), None);
        // A token whose iat no calendar holds gives no command rather than a wrong one.
        assert_eq!(
            stack.authorizer_command("ba7816bf8f01", i64::MIN, CALLED),
            None
        );
    }

    /// The logical IDs in the commands are the functions of the template that deploys.
    #[test]
    fn the_commands_name_the_templates_functions() {
        let template: serde_norway::Value =
            serde_norway::from_str(include_str!("../../template.yaml")).unwrap();
        for function in [AUTHORIZER_FUNCTION, HELLO_FUNCTION] {
            assert_eq!(
                template["Resources"][function]["Type"].as_str(),
                Some("AWS::Serverless::Function"),
                "{function}"
            );
        }
        // The authorizer is the one the API's security scheme invokes.
        let api = include_str!("../../openapi.yaml");
        assert!(api.contains(&format!("${{{AUTHORIZER_FUNCTION}.Arn}}")));
        assert!(api.contains(&format!("${{{HELLO_FUNCTION}.Arn}}")));
    }
}
