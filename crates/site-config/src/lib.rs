//! The page's runtime configuration, `config.json` beside `index.html`, so one build serves
//! every stage: the site reads it ([`SiteConfig::parse`]), the local stack and
//! `cargo xtask deploy` write it ([`SiteConfig::local`], [`SiteConfig::deployed`],
//! [`SiteConfig::to_json`]). One struct, so a key renamed here is renamed everywhere.
//!
//! ```json
//! {"apiUrl": "http://127.0.0.1:4101/prod",
//!  "googleClientId": null,
//!  "localSignInUrl": "http://127.0.0.1:4102",
//!  "traceUrl": "http://127.0.0.1:4101",
//!  "stackName": null}
//! ```
//!
//! `traceUrl` and `stackName` feed the page's "How it works" view: locally the emulator
//! serves each request's trace under `traceUrl` (the `request-trace` crate's endpoints, on
//! the API's origin); deployed there is none, and the view prints the `sam logs` commands
//! for the stack `stackName` instead.

use serde::{Deserialize, Serialize};

/// The file's name, relative to the page.
pub const CONFIG_PATH: &str = "config.json";

/// Google client IDs end with this.
const GOOGLE_CLIENT_ID_SUFFIX: &str = ".apps.googleusercontent.com";

/// The file's keys. [`SiteConfig::parse`] gives a checked one: URLs without a trailing
/// slash, at least one way to sign in. Absent keys are written as `null`, which the site
/// reads as "off".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteConfig {
    /// The API stage's base URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod`.
    pub api_url: String,
    /// The OAuth client ID for Google Identity Services; `None` turns Google sign-in off.
    #[serde(default)]
    pub google_client_id: Option<String>,
    /// The local identity provider's base URL; `None` turns the local sign-in form off.
    #[serde(default)]
    pub local_sign_in_url: Option<String>,
    /// Where the local stack serves request traces (`{traceUrl}/.local/trace/{requestId}`):
    /// the API's origin, on a loopback host only. `None` when deployed: API Gateway keeps
    /// no such thing, the logs are in CloudWatch.
    #[serde(default)]
    pub trace_url: Option<String>,
    /// The CloudFormation stack the page belongs to, for the `sam logs` commands the
    /// "How it works" view prints when there is no trace; `None` locally.
    #[serde(default)]
    pub stack_name: Option<String>,
}

/// Why `config.json` was not usable. The message names the field and what to write there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON, or not the expected shape (unknown or missing fields, wrong types).
    #[error("config.json is not valid: {0}")]
    Malformed(String),
    /// `apiUrl` is not an http(s) URL.
    #[error("config.json: \"apiUrl\" must be an http:// or https:// URL, not {0:?}")]
    ApiUrl(String),
    /// `localSignInUrl` is not an http(s) URL.
    #[error(
        "config.json: \"localSignInUrl\" must be an http:// or https:// URL or null, not {0:?}"
    )]
    LocalSignInUrl(String),
    /// `traceUrl` is not an http(s) origin on a loopback host.
    #[error(
        "config.json: \"traceUrl\" must be an http:// origin on 127.0.0.1, [::1] or localhost (the local stack's API), or null, not {0:?}"
    )]
    TraceUrl(String),
    /// `stackName` is not a CloudFormation stack name.
    #[error(
        "config.json: \"stackName\" must be a CloudFormation stack name (a letter, then letters, digits and hyphens, at most 128), or null, not {0:?}"
    )]
    StackName(String),
    /// `googleClientId` does not look like a Google OAuth client ID.
    #[error(
        "config.json: \"googleClientId\" must look like \"1234-abc.apps.googleusercontent.com\" or be null, not {0:?}"
    )]
    GoogleClientId(String),
    /// Neither Google nor local sign-in is configured, so nobody could sign in.
    #[error(
        "config.json: set \"googleClientId\" or \"localSignInUrl\" (or both) so people can sign in"
    )]
    NoSignIn,
}

impl SiteConfig {
    /// The local stack's: no Google button, the local identity provider's form instead,
    /// and traces from the emulator on the API's own origin (where `request-trace` says
    /// they are served).
    pub fn local(api_url: &str, local_sign_in_url: &str) -> Self {
        SiteConfig {
            api_url: api_url.to_owned(),
            google_client_id: None,
            local_sign_in_url: Some(local_sign_in_url.to_owned()),
            trace_url: Some(origin(api_url).to_owned()),
            stack_name: None,
        }
    }

    /// A deployment's: Google sign-in with the site's OAuth client, no local form, no
    /// traces; the stack's name for the logs.
    pub fn deployed(api_url: &str, google_client_id: &str, stack_name: &str) -> Self {
        SiteConfig {
            api_url: api_url.to_owned(),
            google_client_id: Some(google_client_id.to_owned()),
            local_sign_in_url: None,
            trace_url: None,
            stack_name: Some(stack_name.to_owned()),
        }
    }

    /// Parses and checks the text of `config.json`.
    pub fn parse(json: &str) -> Result<Self, ConfigError> {
        let raw: SiteConfig =
            serde_json::from_str(json).map_err(|e| ConfigError::Malformed(e.to_string()))?;
        raw.checked()
    }

    /// The file's text: every key, pretty-printed, with a final newline.
    pub fn to_json(&self) -> String {
        // A struct of strings and options always serializes.
        let text = serde_json::to_string_pretty(self).expect("config.json serializes");
        text + "\n"
    }

    /// Checks every field as the site does before using it; URLs lose trailing slashes.
    pub fn checked(self) -> Result<Self, ConfigError> {
        let unchecked = self;
        let api_url = http_url(&unchecked.api_url).ok_or(ConfigError::ApiUrl(unchecked.api_url))?;
        let local_sign_in_url = unchecked
            .local_sign_in_url
            .map(|url| http_url(&url).ok_or(ConfigError::LocalSignInUrl(url)))
            .transpose()?;
        let google_client_id = unchecked
            .google_client_id
            .map(|id| {
                let prefix = id.strip_suffix(GOOGLE_CLIENT_ID_SUFFIX).unwrap_or("");
                let well_formed = !prefix.is_empty()
                    && prefix
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if well_formed {
                    Ok(id)
                } else {
                    Err(ConfigError::GoogleClientId(id))
                }
            })
            .transpose()?;
        if google_client_id.is_none() && local_sign_in_url.is_none() {
            return Err(ConfigError::NoSignIn);
        }
        let trace_url = unchecked
            .trace_url
            .map(|url| loopback_origin(&url).ok_or(ConfigError::TraceUrl(url)))
            .transpose()?;
        let stack_name = unchecked
            .stack_name
            .map(|name| {
                if is_stack_name(&name) {
                    Ok(name)
                } else {
                    Err(ConfigError::StackName(name))
                }
            })
            .transpose()?;
        Ok(Self {
            api_url,
            google_client_id,
            local_sign_in_url,
            trace_url,
            stack_name,
        })
    }

    /// `GET` this for the trace of the request API Gateway named `request_id` (its
    /// `x-amzn-RequestId`); `None` when there is no trace endpoint (deployed).
    pub fn trace_endpoint(&self, request_id: &str) -> Option<String> {
        self.trace_url
            .as_ref()
            .map(|base| format!("{base}{}", request_trace::trace_path(request_id)))
    }

    /// `GET` this with the ID token to be greeted.
    pub fn hello_url(&self) -> String {
        format!("{}/hello", self.api_url)
    }

    /// `POST` `{"name", "email"}` here to get a token from the local identity provider.
    pub fn local_sign_in_endpoint(&self) -> Option<String> {
        self.local_sign_in_url
            .as_ref()
            .map(|base| format!("{base}/sign-in"))
    }
}

/// The scheme, host and port of an http(s) URL (all of it when it has no path).
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

/// `url` without trailing slashes, when it is a plain-http origin (no path) on a loopback
/// host: the only place a trace endpoint exists. A deployed page never asks another host
/// for a trace, whatever its config.json says (and its CSP would refuse it anyway).
fn loopback_origin(url: &str) -> Option<String> {
    let checked = http_url(url)?;
    let rest = checked.strip_prefix("http://")?;
    if rest.contains('/') || rest.contains('@') {
        return None;
    }
    // The host, without the port; IPv6 literals keep their brackets.
    let host = match rest.strip_prefix('[') {
        Some(v6) => &rest[..v6.find(']')? + 2],
        None => rest.split(':').next().unwrap_or(""),
    };
    let port_ok = match rest[host.len()..].strip_prefix(':') {
        None => rest.len() == host.len(),
        Some(port) => port.parse::<u16>().is_ok(),
    };
    let loopback = host == "localhost"
        || host == "[::1]"
        || host.strip_prefix("127.").is_some_and(|rest| {
            rest.split('.').count() == 3 && rest.split('.').all(|o| o.parse::<u8>().is_ok())
        });
    (loopback && port_ok).then_some(checked)
}

/// CloudFormation's rule for a stack name (AWS CloudFormation API reference,
/// `CreateStack`, `StackName`): "must start with an alphabetical character", then
/// alphanumerics and hyphens, at most 128 characters. It goes into a shell command the
/// page offers to copy, so nothing else may.
fn is_stack_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `url` without trailing slashes, when it is an absolute http(s) URL with a host.
fn http_url(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let plausible = !host.is_empty()
        && !url.contains(['?', '#'])
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible.then(|| url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: &str = r#"{"apiUrl": "http://127.0.0.1:4101/prod", "googleClientId": null, "localSignInUrl": "http://127.0.0.1:4102"}"#;

    #[test]
    fn parses_the_local_stack_configuration() {
        let config = SiteConfig::parse(LOCAL).unwrap();
        assert_eq!(config.api_url, "http://127.0.0.1:4101/prod");
        assert_eq!(config.google_client_id, None);
        assert_eq!(
            config.local_sign_in_endpoint().as_deref(),
            Some("http://127.0.0.1:4102/sign-in")
        );
        assert_eq!(config.hello_url(), "http://127.0.0.1:4101/prod/hello");
    }

    #[test]
    fn parses_a_deployed_configuration_with_google_only() {
        let config = SiteConfig::parse(
            r#"{"apiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/prod/",
                "googleClientId": "1234-abc_DEF.apps.googleusercontent.com",
                "localSignInUrl": null}"#,
        )
        .unwrap();
        assert_eq!(
            config.hello_url(),
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/hello"
        );
        assert_eq!(
            config.google_client_id.as_deref(),
            Some("1234-abc_DEF.apps.googleusercontent.com")
        );
        assert_eq!(config.local_sign_in_endpoint(), None);
    }

    #[test]
    fn missing_optional_fields_mean_off() {
        let config = SiteConfig::parse(
            r#"{"apiUrl": "http://127.0.0.1:4101/prod", "localSignInUrl": "http://127.0.0.1:4102/"}"#,
        )
        .unwrap();
        assert_eq!(config.google_client_id, None);
        assert_eq!(
            config.local_sign_in_url.as_deref(),
            Some("http://127.0.0.1:4102")
        );
    }

    #[test]
    fn rejects_unknown_fields_so_typos_show() {
        let error = SiteConfig::parse(
            r#"{"apiURL": "http://127.0.0.1:4101/prod", "localSignInUrl": "http://127.0.0.1:4102"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(error, ConfigError::Malformed(ref m) if m.contains("apiURL")),
            "{error}"
        );
    }

    #[test]
    fn rejects_text_that_is_not_json() {
        let error = SiteConfig::parse("<!DOCTYPE html><p>Not found</p>").unwrap_err();
        assert!(matches!(error, ConfigError::Malformed(_)));
    }

    #[test]
    fn rejects_api_urls_that_are_not_http() {
        for url in [
            "",
            "127.0.0.1:4101",
            "ftp://x/prod",
            "http://",
            "http:///prod",
            "javascript:alert(1)",
            "http://a b/prod",
            "https://x/prod?stage=1",
        ] {
            let json =
                serde_json::json!({"apiUrl": url, "localSignInUrl": "http://127.0.0.1:4102"});
            assert_eq!(
                SiteConfig::parse(&json.to_string()),
                Err(ConfigError::ApiUrl(url.to_owned())),
                "{url}"
            );
        }
    }

    #[test]
    fn rejects_a_bad_local_sign_in_url() {
        let json = r#"{"apiUrl": "http://127.0.0.1:4101/prod", "localSignInUrl": "4102"}"#;
        assert_eq!(
            SiteConfig::parse(json),
            Err(ConfigError::LocalSignInUrl("4102".into()))
        );
    }

    #[test]
    fn rejects_client_ids_that_are_not_google_client_ids() {
        for id in [
            "",
            "1234",
            ".apps.googleusercontent.com",
            "12 34.apps.googleusercontent.com",
            "1234.apps.googleusercontent.com.evil",
        ] {
            let json = serde_json::json!({"apiUrl": "https://api/prod", "googleClientId": id});
            assert_eq!(
                SiteConfig::parse(&json.to_string()),
                Err(ConfigError::GoogleClientId(id.to_owned())),
                "{id}"
            );
        }
    }

    #[test]
    fn requires_a_way_to_sign_in() {
        let json =
            r#"{"apiUrl": "https://api/prod", "googleClientId": null, "localSignInUrl": null}"#;
        assert_eq!(SiteConfig::parse(json), Err(ConfigError::NoSignIn));
        assert!(ConfigError::NoSignIn.to_string().contains("googleClientId"));
    }

    #[test]
    fn writes_exactly_the_keys_the_site_reads() {
        let local = SiteConfig::local("http://127.0.0.1:4101/prod", "http://127.0.0.1:4102");
        let written: serde_json::Value = serde_json::from_str(&local.to_json()).unwrap();
        assert_eq!(
            written,
            serde_json::json!({
                "apiUrl": "http://127.0.0.1:4101/prod",
                "googleClientId": null,
                "localSignInUrl": "http://127.0.0.1:4102",
                "traceUrl": "http://127.0.0.1:4101",
                "stackName": null
            })
        );
        assert!(local.to_json().ends_with("}\n"));
        let deployed = SiteConfig::deployed(
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
            "1234-abc.apps.googleusercontent.com",
            "greeting-stack",
        );
        let written: serde_json::Value = serde_json::from_str(&deployed.to_json()).unwrap();
        assert_eq!(
            written,
            serde_json::json!({
                "apiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
                "googleClientId": "1234-abc.apps.googleusercontent.com",
                "localSignInUrl": null,
                "traceUrl": null,
                "stackName": "greeting-stack"
            })
        );
    }

    #[test]
    fn what_the_local_stack_and_deploy_write_the_site_reads_back() {
        for written in [
            SiteConfig::local("http://127.0.0.1:4101/prod", "http://127.0.0.1:4102"),
            SiteConfig::local("http://127.0.0.1:39999", "http://127.0.0.1:4102"),
            SiteConfig::deployed(
                "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
                "1234-abc.apps.googleusercontent.com",
                "greeting-stack",
            ),
        ] {
            assert_eq!(SiteConfig::parse(&written.to_json()), Ok(written));
        }
    }

    #[test]
    fn the_local_trace_endpoint_is_on_the_apis_origin() {
        let local = SiteConfig::local("http://127.0.0.1:4101/prod", "http://127.0.0.1:4102");
        assert_eq!(local.trace_url.as_deref(), Some("http://127.0.0.1:4101"));
        assert_eq!(
            local.trace_endpoint("c0ffee-1").as_deref(),
            Some("http://127.0.0.1:4101/.local/trace/c0ffee-1")
        );
        let deployed = SiteConfig::deployed(
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
            "1234-abc.apps.googleusercontent.com",
            "greeting-stack",
        );
        assert_eq!(deployed.trace_endpoint("c0ffee-1"), None);
    }

    #[test]
    fn a_config_json_written_before_traces_still_reads() {
        let config = SiteConfig::parse(LOCAL).unwrap();
        assert_eq!(config.trace_url, None);
        assert_eq!(config.stack_name, None);
    }

    #[test]
    fn accepts_trace_urls_on_loopback_hosts_only() {
        for (url, read) in [
            ("http://127.0.0.1:4101", "http://127.0.0.1:4101"),
            ("http://127.0.0.1:4101/", "http://127.0.0.1:4101"),
            ("http://127.1.2.3", "http://127.1.2.3"),
            ("http://localhost:4101", "http://localhost:4101"),
            ("http://[::1]:4101", "http://[::1]:4101"),
        ] {
            let json = serde_json::json!({"apiUrl": "http://127.0.0.1:4101/prod",
                "localSignInUrl": "http://127.0.0.1:4102", "traceUrl": url});
            let config = SiteConfig::parse(&json.to_string()).unwrap();
            assert_eq!(config.trace_url.as_deref(), Some(read), "{url}");
        }
        for url in [
            "https://abc.execute-api.eu-west-1.amazonaws.com",
            "http://127.0.0.1.evil.example:4101",
            "http://localhost.evil.example",
            "http://127.0.0.1:4101/prod",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:4101@evil.example",
            "http://[::1].evil:80",
            "https://127.0.0.1:4101",
            "http://10.0.0.1:4101",
            "127.0.0.1:4101",
        ] {
            let json = serde_json::json!({"apiUrl": "http://127.0.0.1:4101/prod",
                "localSignInUrl": "http://127.0.0.1:4102", "traceUrl": url});
            assert_eq!(
                SiteConfig::parse(&json.to_string()),
                Err(ConfigError::TraceUrl(url.to_owned())),
                "{url}"
            );
        }
    }

    #[test]
    fn refuses_a_stack_name_cloudformation_would_refuse() {
        for name in [
            "",
            "1stack",
            "-stack",
            "greeting_stack",
            "greeting stack",
            "greeting';rm -rf ~;'",
            &"a".repeat(129),
        ] {
            let json = serde_json::json!({"apiUrl": "https://api/prod",
                "googleClientId": "1234-abc.apps.googleusercontent.com", "stackName": name});
            assert_eq!(
                SiteConfig::parse(&json.to_string()),
                Err(ConfigError::StackName(name.to_owned())),
                "{name}"
            );
        }
        let json = serde_json::json!({"apiUrl": "https://api/prod",
            "googleClientId": "1234-abc.apps.googleusercontent.com",
            "stackName": format!("G-{}", "a".repeat(126))});
        assert!(SiteConfig::parse(&json.to_string()).is_ok());
    }

    #[test]
    fn checking_refuses_what_parsing_refuses() {
        let deployed = SiteConfig::deployed("https://api/prod", "<GoogleClientId>", "s");
        assert_eq!(
            deployed.checked(),
            Err(ConfigError::GoogleClientId("<GoogleClientId>".into()))
        );
    }
}
