//! Typed configuration, read once from the environment at start-up.

use std::time::Duration;

use crate::Error;

/// Google's JWKS (the v3 certs endpoint, which serves the keys as a JWK set).
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// Default leeway for `exp`, `iat` and `nbf`, in seconds.
pub const DEFAULT_CLOCK_SKEW_SECONDS: u64 = 60;

/// The largest leeway we accept: more than this would make expiry meaningless
/// (Google ID tokens live for one hour).
const MAX_CLOCK_SKEW_SECONDS: u64 = 300;

/// The authorizer's settings. Build with [`Config::from_env`] (Lambda) or
/// [`Config::from_lookup`] (tests, the `check-token` command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// OAuth client IDs whose tokens are accepted (`aud`). Never empty.
    pub client_ids: Vec<String>,
    /// Where the signing keys are fetched from.
    pub jwks_url: String,
    /// When set, only tokens whose `hd` claim is one of these domains are allowed;
    /// other genuine tokens get a Deny policy (403).
    pub allowed_hosted_domains: Option<Vec<String>>,
    /// Leeway for the time claims.
    pub clock_skew: Duration,
}

impl Config {
    /// Reads `GOOGLE_CLIENT_IDS`, `GOOGLE_JWKS_URL`, `ALLOWED_HOSTED_DOMAINS` and
    /// `CLOCK_SKEW_SECONDS` from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], reading variables through `lookup` so that tests
    /// need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let client_ids = comma_list(lookup("GOOGLE_CLIENT_IDS").as_deref()).ok_or(
            Error::MissingVariable {
                name: "GOOGLE_CLIENT_IDS",
                expected: "a comma-separated list of Google OAuth client IDs, e.g. 1234-abc.apps.googleusercontent.com",
            },
        )?;
        if let Some(bad) = client_ids
            .iter()
            .find(|id| id.chars().any(char::is_whitespace))
        {
            return Err(Error::InvalidVariable {
                name: "GOOGLE_CLIENT_IDS",
                value: bad.clone(),
                expected: "client IDs without spaces, separated by commas",
            });
        }

        let jwks_url = match lookup("GOOGLE_JWKS_URL").map(|v| v.trim().to_owned()) {
            None => GOOGLE_JWKS_URL.to_owned(),
            Some(url) if url.is_empty() => GOOGLE_JWKS_URL.to_owned(),
            Some(url) => {
                parse_jwks_url(&url)?;
                url
            }
        };

        let allowed_hosted_domains =
            comma_list(lookup("ALLOWED_HOSTED_DOMAINS").as_deref()).map(|domains| {
                domains
                    .into_iter()
                    .map(|d| d.to_ascii_lowercase())
                    .collect()
            });

        let clock_skew = match lookup("CLOCK_SKEW_SECONDS").map(|v| v.trim().to_owned()) {
            None => DEFAULT_CLOCK_SKEW_SECONDS,
            Some(v) if v.is_empty() => DEFAULT_CLOCK_SKEW_SECONDS,
            Some(v) => match v.parse::<u64>() {
                Ok(seconds) if seconds <= MAX_CLOCK_SKEW_SECONDS => seconds,
                _ => {
                    return Err(Error::InvalidVariable {
                        name: "CLOCK_SKEW_SECONDS",
                        value: v,
                        expected: "a whole number of seconds from 0 to 300 (default 60)",
                    });
                }
            },
        };

        Ok(Config {
            client_ids,
            jwks_url,
            allowed_hosted_domains,
            clock_skew: Duration::from_secs(clock_skew),
        })
    }
}

/// What `GOOGLE_JWKS_URL` may be: `https`, or plain `http` to a loopback host only
/// (127.0.0.0/8, `[::1]`, `localhost`: the local stack's identity provider). Keys
/// fetched in clear text across a network could be swapped by anyone on the path,
/// and then every token they sign would verify.
pub(crate) fn parse_jwks_url(value: &str) -> Result<reqwest::Url, Error> {
    let invalid = || Error::InvalidVariable {
        name: "GOOGLE_JWKS_URL",
        value: value.to_owned(),
        expected: "an https URL serving a JWK set (plain http only to a loopback host: 127.0.0.1, [::1] or localhost)",
    };
    let url = reqwest::Url::parse(value).map_err(|_| invalid())?;
    let loopback = || match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    };
    let allowed = match url.scheme() {
        "https" => url.has_host(),
        "http" => loopback(),
        _ => false,
    };
    if allowed { Ok(url) } else { Err(invalid()) }
}

/// Splits a comma-separated value, trimming entries and dropping empty ones.
/// `None` when nothing is left.
fn comma_list(value: Option<&str>) -> Option<Vec<String>> {
    let items: Vec<String> = value?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!items.is_empty()).then_some(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, Error> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_only_client_ids_are_set() {
        let config = config(&[("GOOGLE_CLIENT_IDS", "a.apps.googleusercontent.com")]).unwrap();
        assert_eq!(
            config,
            Config {
                client_ids: vec!["a.apps.googleusercontent.com".into()],
                jwks_url: GOOGLE_JWKS_URL.into(),
                allowed_hosted_domains: None,
                clock_skew: Duration::from_secs(60),
            }
        );
    }

    #[test]
    fn parses_every_variable() {
        let config = config(&[
            ("GOOGLE_CLIENT_IDS", " one , two,,"),
            ("GOOGLE_JWKS_URL", "http://127.0.0.1:9000/certs"),
            ("ALLOWED_HOSTED_DOMAINS", "Example.com, school.edu"),
            ("CLOCK_SKEW_SECONDS", "5"),
        ])
        .unwrap();
        assert_eq!(config.client_ids, vec!["one", "two"]);
        assert_eq!(config.jwks_url, "http://127.0.0.1:9000/certs");
        assert_eq!(
            config.allowed_hosted_domains,
            Some(vec!["example.com".into(), "school.edu".into()])
        );
        assert_eq!(config.clock_skew, Duration::from_secs(5));
    }

    #[test]
    fn missing_client_ids_names_the_variable() {
        let err = config(&[]).unwrap_err();
        assert!(matches!(
            err,
            Error::MissingVariable {
                name: "GOOGLE_CLIENT_IDS",
                ..
            }
        ));
        assert!(err.to_string().starts_with("GOOGLE_CLIENT_IDS is not set"));
    }

    #[test]
    fn blank_client_ids_count_as_missing() {
        let err = config(&[("GOOGLE_CLIENT_IDS", " , ")]).unwrap_err();
        assert!(matches!(
            err,
            Error::MissingVariable {
                name: "GOOGLE_CLIENT_IDS",
                ..
            }
        ));
    }

    #[test]
    fn client_id_with_space_is_rejected() {
        let err = config(&[("GOOGLE_CLIENT_IDS", "a b")]).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidVariable {
                name: "GOOGLE_CLIENT_IDS",
                value: "a b".into(),
                expected: "client IDs without spaces, separated by commas",
            }
        );
    }

    #[test]
    fn rejects_jwks_url_that_is_not_http() {
        for bad in ["not a url", "ftp://example.com/certs", "file:///etc/passwd"] {
            let err = config(&[("GOOGLE_CLIENT_IDS", "a"), ("GOOGLE_JWKS_URL", bad)]).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidVariable { name: "GOOGLE_JWKS_URL", value, .. } if value == bad),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn rejects_plain_http_jwks_url_to_a_host_that_is_not_loopback() {
        for bad in [
            "http://www.googleapis.com/oauth2/v3/certs",
            "http://10.0.0.1/certs",
            "http://128.0.0.1/certs",
            "http://[::2]/certs",
            "http://localhost.evil.com/certs",
            "http://127.0.0.1.nip.io/certs",
        ] {
            let err = config(&[("GOOGLE_CLIENT_IDS", "a"), ("GOOGLE_JWKS_URL", bad)]).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "GOOGLE_JWKS_URL={bad:?} is invalid: an https URL serving a JWK set (plain http only to a loopback host: 127.0.0.1, [::1] or localhost)"
                )
            );
        }
    }

    #[test]
    fn accepts_https_anywhere_and_plain_http_to_loopback() {
        for good in [
            "https://www.googleapis.com/oauth2/v3/certs",
            "https://10.0.0.1:8443/certs",
            "http://127.0.0.1:9000/certs",
            "http://127.1.2.3/certs",
            "http://[::1]:9000/certs",
            "http://localhost:9000/certs",
            "http://LOCALHOST/certs",
        ] {
            let config = config(&[("GOOGLE_CLIENT_IDS", "a"), ("GOOGLE_JWKS_URL", good)]);
            assert_eq!(config.map(|c| c.jwks_url), Ok(good.to_owned()), "{good}");
        }
    }

    #[test]
    fn rejects_clock_skew_that_is_not_a_small_number() {
        for bad in ["-1", "abc", "301", "1.5"] {
            let err =
                config(&[("GOOGLE_CLIENT_IDS", "a"), ("CLOCK_SKEW_SECONDS", bad)]).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidVariable { name: "CLOCK_SKEW_SECONDS", value, .. } if value == bad),
                "{bad}: {err:?}"
            );
        }
    }
}
