//! The method ARN: how API Gateway names the method a request calls, in the authorizer
//! event's `methodArn` and in the policy `Resource`s it matches against it.
//!
//! `arn:PARTITION:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/RESOURCE-PATH` (API
//! Gateway developer guide, "Control access to an API with IAM permissions", the
//! resource format of permissions for executing an API). The emulator formats it, the
//! authorizer parses it to name its whole stage, and the emulator matches policies
//! against it with IAM's wildcards: all here, so the three cannot drift apart.

use std::fmt;
use std::str::FromStr;

/// The parts of a method ARN, to build one with [`MethodArn::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    /// `aws`, `aws-cn`, ...
    pub partition: &'a str,
    pub region: &'a str,
    /// Twelve digits.
    pub account: &'a str,
    /// The REST API's ID.
    pub api: &'a str,
    pub stage: &'a str,
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The resource path without its leading slash (`hello`, `pets/7`; empty for `/`).
    pub resource: &'a str,
}

/// A method ARN, kept as its text (what goes on the wire and into policies) with where
/// each part lies in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MethodArn {
    text: String,
    /// Byte ranges in `text` of partition, region, account, api, stage, method,
    /// resource (in that order).
    spans: [(usize, usize); 7],
}

/// Text that is not a method ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAMethodArn;

impl fmt::Display for NotAMethodArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "not a method ARN (arn:PARTITION:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH)",
        )
    }
}

impl std::error::Error for NotAMethodArn {}

impl MethodArn {
    /// The ARN of `parts`. One allocation, no formatting machinery: the emulator makes
    /// one per request.
    pub fn new(parts: Parts<'_>) -> MethodArn {
        let pieces = [
            "arn:",
            parts.partition,
            ":execute-api:",
            parts.region,
            ":",
            parts.account,
            ":",
            parts.api,
            "/",
            parts.stage,
            "/",
            parts.method,
            "/",
            parts.resource,
        ];
        let mut text = String::with_capacity(pieces.iter().map(|p| p.len()).sum());
        let mut spans = [(0, 0); 7];
        for (i, piece) in pieces.into_iter().enumerate() {
            let start = text.len();
            text.push_str(piece);
            // The odd pieces are the parts; the even ones the separators.
            if i % 2 == 1 {
                spans[i / 2] = (start, text.len());
            }
        }
        MethodArn { text, spans }
    }

    /// Reads a method ARN, as an authorizer receives it. API Gateway builds it from the
    /// request path, which the client chooses: anything else is refused.
    pub fn parse(text: &str) -> Result<MethodArn, NotAMethodArn> {
        let mut fields = text.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("execute-api"), Some(region), Some(account)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(NotAMethodArn);
        };
        let rest = fields.next().ok_or(NotAMethodArn)?;
        if partition.is_empty() || region.is_empty() {
            return Err(NotAMethodArn);
        }
        if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NotAMethodArn);
        }
        let mut path = rest.splitn(4, '/');
        let (Some(api), Some(stage), Some(method)) = (path.next(), path.next(), path.next()) else {
            return Err(NotAMethodArn);
        };
        if api.is_empty() || stage.is_empty() {
            return Err(NotAMethodArn);
        }
        let parts = Parts {
            partition,
            region,
            account,
            api,
            stage,
            method,
            resource: path.next().unwrap_or(""),
        };
        let arn = MethodArn::new(parts);
        // `GET` alone (no `/` after the method) reads as `GET/` with an empty resource:
        // keep the text as given.
        Ok(MethodArn {
            text: text.to_owned(),
            ..arn
        })
    }

    /// The text, as sent and matched.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn part(&self, i: usize) -> &str {
        let (start, end) = self.spans[i];
        self.text.get(start..end).unwrap_or("")
    }

    pub fn partition(&self) -> &str {
        self.part(0)
    }
    pub fn region(&self) -> &str {
        self.part(1)
    }
    pub fn account(&self) -> &str {
        self.part(2)
    }
    pub fn api(&self) -> &str {
        self.part(3)
    }
    pub fn stage(&self) -> &str {
        self.part(4)
    }
    pub fn method(&self) -> &str {
        self.part(5)
    }
    /// The resource path without its leading slash.
    pub fn resource(&self) -> &str {
        self.part(6)
    }

    /// All its parts: what [`MethodArn::new`] would make it from.
    pub fn parts(&self) -> Parts<'_> {
        Parts {
            partition: self.partition(),
            region: self.region(),
            account: self.account(),
            api: self.api(),
            stage: self.stage(),
            method: self.method(),
            resource: self.resource(),
        }
    }

    /// The policy resource that covers every method and path of this ARN's stage
    /// (`.../API/STAGE/*/*`): API Gateway caches a policy per identity and re-evaluates
    /// it for every method called within the TTL, so a policy naming one method would
    /// refuse the next call to any other.
    pub fn stage_wildcard(&self) -> String {
        MethodArn::new(Parts {
            method: "*",
            resource: "*",
            ..self.parts()
        })
        .text
    }

    /// Whether the policy resource `pattern` covers this ARN, with IAM's wildcards
    /// ([`iam_wildcard_match`]).
    pub fn matched_by(&self, pattern: &str) -> bool {
        iam_wildcard_match(pattern, &self.text)
    }
}

impl fmt::Display for MethodArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for MethodArn {
    type Err = NotAMethodArn;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        MethodArn::parse(text)
    }
}

/// IAM's wildcards, as API Gateway applies them to a policy's `Action` and `Resource`:
/// `*` is any run of characters (including `/` and none), `?` exactly one character;
/// everything else matches itself. Iterative with one backtrack point, so it is linear
/// in practice and never recurses on hostile patterns.
pub fn iam_wildcard_match(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        // Every character is one byte: no need to decode (the usual case, per request).
        return wildcard_match_units(pattern.as_bytes(), text.as_bytes());
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    wildcard_match_units(&p, &t)
}

fn wildcard_match_units<T: PartialEq + WildcardUnit>(p: &[T], t: &[T]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi].is_one() || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi].is_any() {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(WildcardUnit::is_any)
}

/// A character or byte that may be a wildcard.
trait WildcardUnit {
    /// `*`.
    fn is_any(&self) -> bool;
    /// `?`.
    fn is_one(&self) -> bool;
}

impl WildcardUnit for char {
    fn is_any(&self) -> bool {
        *self == '*'
    }
    fn is_one(&self) -> bool {
        *self == '?'
    }
}

impl WildcardUnit for u8 {
    fn is_any(&self) -> bool {
        *self == b'*'
    }
    fn is_one(&self) -> bool {
        *self == b'?'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/GET/hello";

    fn hello() -> MethodArn {
        MethodArn::new(Parts {
            partition: "aws",
            region: "us-east-1",
            account: "123456789012",
            api: "greetlocal",
            stage: "prod",
            method: "GET",
            resource: "hello",
        })
    }

    #[test]
    fn formats_and_parses_back_to_the_same_parts() {
        let arn = hello();
        assert_eq!(arn.as_str(), ARN);
        assert_eq!(arn.to_string(), ARN);
        let parsed: MethodArn = ARN.parse().unwrap();
        assert_eq!(parsed, arn);
        assert_eq!(
            (parsed.partition(), parsed.region(), parsed.account()),
            ("aws", "us-east-1", "123456789012")
        );
        assert_eq!(
            (
                parsed.api(),
                parsed.stage(),
                parsed.method(),
                parsed.resource()
            ),
            ("greetlocal", "prod", "GET", "hello")
        );
    }

    #[test]
    fn the_resource_keeps_its_slashes_and_may_be_empty() {
        let arn =
            MethodArn::parse("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/dev/POST/a/b/c")
                .unwrap();
        assert_eq!((arn.method(), arn.resource()), ("POST", "a/b/c"));
        let root =
            MethodArn::parse("arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/").unwrap();
        assert_eq!((root.method(), root.resource()), ("GET", ""));
        // No slash after the method: the text is kept as given.
        let bare =
            MethodArn::parse("arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET").unwrap();
        assert_eq!(
            bare.as_str(),
            "arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET"
        );
        assert_eq!((bare.method(), bare.resource()), ("GET", ""));
    }

    #[test]
    fn the_stage_wildcard_covers_every_method_and_path_of_the_stage_only() {
        let arn =
            MethodArn::parse("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/dev/POST/a/b/c")
                .unwrap();
        let wildcard = arn.stage_wildcard();
        assert_eq!(
            wildcard,
            "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/dev/*/*"
        );
        assert!(arn.matched_by(&wildcard));
        let other_stage =
            MethodArn::parse("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/prod/POST/a")
                .unwrap();
        assert!(!other_stage.matched_by(&wildcard));
    }

    #[test]
    fn refuses_what_is_not_a_method_arn() {
        for bad in [
            "",
            "arn",
            "arn:aws:lambda:eu-west-1:123456789012:function:f",
            "arn:aws:execute-api:eu-west-1:123456789012:abc",
            "arn:aws:execute-api:eu-west-1:123456789012:abc/prod",
            "arn:aws:execute-api:eu-west-1:notanumber:abc/prod/GET/hello",
            "arn:aws:execute-api:eu-west-1::abc/prod/GET/hello",
            "arn:aws:execute-api::123456789012:abc/prod/GET/",
            "arn::execute-api:eu-west-1:123456789012:abc/prod/GET/",
            "arn:aws:execute-api:eu-west-1:123456789012:/prod/GET/",
            "arn:aws:execute-api:eu-west-1:123456789012:abc//GET/",
            "ARN:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/",
        ] {
            assert_eq!(MethodArn::parse(bad), Err(NotAMethodArn), "{bad}");
        }
        assert_eq!(
            NotAMethodArn.to_string(),
            "not a method ARN (arn:PARTITION:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH)"
        );
    }

    #[test]
    fn wildcards_follow_iam() {
        assert!(iam_wildcard_match("*", ""));
        // `?` is one character, not one byte.
        assert!(iam_wildcard_match("caf?/*", "café/x"));
        assert!(!iam_wildcard_match("caf??", "café"));
        assert!(iam_wildcard_match("a*/*", "a/b/c/d"));
        let arn = hello();
        assert!(arn.matched_by("arn:*:greetlocal/prod/*/*"));
        assert!(
            arn.matched_by("arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/GE?/hello")
        );
        assert!(
            !arn.matched_by(
                "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/P?ST/hello"
            )
        );
        assert!(!arn.matched_by("arn:aws:execute-api:us-east-1:123456789012:greetlocal/dev/*"));
        assert!(!iam_wildcard_match("?", ""));
        assert!(iam_wildcard_match("*?", "x"));
        assert!(!iam_wildcard_match("abc", "abcd"));
    }
}
