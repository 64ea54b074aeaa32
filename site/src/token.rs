//! The first hop of "How it works": the ID token as the page can read it. A JWT's header
//! and claims are base64url JSON anyone can decode; the signature is what makes them
//! true, and only the authorizer checks it. So everything here is labelled "not verified
//! by the page", and the raw token is never kept: the view holds the decoded parts and
//! the token's fingerprint (the name the authorizer's log lines give it).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::error::Error;

/// What the page read out of the token it sent.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedToken {
    /// The JOSE header (`alg`, `kid`, `typ`).
    pub header: Value,
    /// The claims (`iss`, `aud`, `sub`, `name`, `exp`, ...).
    pub claims: Value,
    /// `exp`, seconds since the Unix epoch, when it is a number.
    pub expires: Option<i64>,
    /// `iat`, likewise.
    pub issued: Option<i64>,
}

/// The token's header and claims, decoded (never verified: that is the authorizer's job).
/// A leading `Bearer ` is skipped, as the authorizer skips it.
pub fn decode(token: &str) -> Result<DecodedToken, Error> {
    let compact = token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
        .unwrap_or(token);
    let mut segments = compact.split('.');
    let (Some(header), Some(claims), Some(_signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(Error::NotAJwt);
    };
    let header = segment("header", header)?;
    let claims = segment("claims", claims)?;
    let seconds = |name: &str| claims.get(name).and_then(Value::as_i64);
    Ok(DecodedToken {
        expires: seconds("exp"),
        issued: seconds("iat"),
        header,
        claims,
    })
}

/// One base64url segment holding a JSON object.
fn segment(part: &'static str, text: &str) -> Result<Value, Error> {
    // RFC 7515 section 2: base64url without padding; a padded segment is tolerated.
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| Error::TokenSegment {
            part,
            why: "not base64url",
        })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| Error::TokenSegment {
        part,
        why: "not JSON",
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(Error::TokenSegment {
            part,
            why: "not a JSON object",
        })
    }
}

/// The fingerprint the authorizer logs for this token, exactly as it computes it (the
/// header's value as API Gateway passes it on).
pub fn fingerprint(token: &str) -> String {
    authorizer_contract::token_fingerprint(token)
}

/// A moment in UTC as `2026-12-01 22:09:00 UTC` (seconds since the Unix epoch). `None`
/// outside the years `time` can represent, which no token's `exp` reaches honestly.
pub fn utc(seconds: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    ))
}

/// How far `at` is from `now`, in whole minutes (rounded): "in 60 min", "expired 5 min
/// ago", "in under a minute", "expired under a minute ago".
pub fn relative(at: i64, now: i64) -> String {
    let seconds = at.saturating_sub(now);
    let minutes = (seconds.unsigned_abs() + 30) / 60;
    match (seconds > 0, minutes) {
        (true, 0) => "in under a minute".to_owned(),
        (true, m) => format!("in {m} min"),
        (false, 0) => "expired under a minute ago".to_owned(),
        (false, m) => format!("expired {m} min ago"),
    }
}

/// When the token expires, as the view says it: absolute, then relative to `now`.
pub fn expiry(token: &DecodedToken, now: i64) -> String {
    match token.expires.and_then(|exp| utc(exp).map(|at| (exp, at))) {
        Some((exp, at)) => format!("{at} ({})", relative(exp, now)),
        None => "unknown: the token has no numeric exp claim".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn decodes_header_and_claims_without_verifying() {
        let token = jwt(
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            r#"{"name":"O'Brien \"Bob\" <b>&","exp":1796083200,"iat":1796079600}"#,
        );
        let decoded = decode(&token).unwrap();
        assert_eq!(
            decoded.header,
            serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})
        );
        assert_eq!(decoded.claims["name"], r#"O'Brien "Bob" <b>&"#);
        assert_eq!(decoded.expires, Some(1_796_083_200));
        assert_eq!(decoded.issued, Some(1_796_079_600));
        // The same with a Bearer prefix, which the authorizer also accepts.
        assert_eq!(decode(&format!("Bearer {token}")).unwrap(), decoded);
    }

    #[test]
    fn says_which_part_of_a_broken_token_is_unreadable() {
        assert_eq!(decode("a.b"), Err(Error::NotAJwt));
        assert_eq!(decode("a.b.c.d"), Err(Error::NotAJwt));
        assert_eq!(
            decode("!!.e30.c"),
            Err(Error::TokenSegment {
                part: "header",
                why: "not base64url"
            })
        );
        let not_json = format!("e30.{}.c", URL_SAFE_NO_PAD.encode("nope"));
        assert_eq!(
            decode(&not_json),
            Err(Error::TokenSegment {
                part: "claims",
                why: "not JSON"
            })
        );
        let array = format!("e30.{}.c", URL_SAFE_NO_PAD.encode("[1]"));
        assert_eq!(
            decode(&array),
            Err(Error::TokenSegment {
                part: "claims",
                why: "not a JSON object"
            })
        );
    }

    #[test]
    fn a_token_without_exp_has_an_unknown_expiry() {
        let decoded = decode(&jwt("{}", r#"{"exp":"soon"}"#)).unwrap();
        assert_eq!(decoded.expires, None);
        assert_eq!(
            expiry(&decoded, 0),
            "unknown: the token has no numeric exp claim"
        );
    }

    #[test]
    fn expiry_is_absolute_in_utc_and_relative_in_minutes() {
        let decoded = decode(&jwt("{}", r#"{"exp":1796083200}"#)).unwrap();
        // 1796083200 is 2026-12-01 00:00:00 UTC.
        assert_eq!(
            expiry(&decoded, 1_796_083_200 - 3_599),
            "2026-12-01 00:00:00 UTC (in 60 min)"
        );
        assert_eq!(
            expiry(&decoded, 1_796_083_200 + 3_600),
            "2026-12-01 00:00:00 UTC (expired 60 min ago)"
        );
    }

    #[test]
    fn relative_times_round_to_the_minute() {
        assert_eq!(relative(100, 100), "expired under a minute ago");
        assert_eq!(relative(129, 100), "in under a minute");
        assert_eq!(relative(130, 100), "in 1 min");
        assert_eq!(relative(100, 189), "expired 1 min ago");
        assert_eq!(relative(100 + 5 * 60, 100), "in 5 min");
        // Any claim at all: no overflow.
        assert!(relative(i64::MIN, i64::MAX).starts_with("expired "));
        assert!(relative(i64::MAX, i64::MIN).starts_with("in "));
    }

    #[test]
    fn utc_formats_the_epoch_and_refuses_what_time_cannot_hold() {
        assert_eq!(utc(0).as_deref(), Some("1970-01-01 00:00:00 UTC"));
        assert_eq!(
            utc(1_796_086_799).as_deref(),
            Some("2026-12-01 00:59:59 UTC")
        );
        assert_eq!(utc(i64::MAX), None);
    }

    #[test]
    fn the_fingerprint_is_the_authorizers() {
        // SHA-256("abc") = ba7816bf8f01cfea... (FIPS 180-2, appendix B.1).
        assert_eq!(fingerprint("abc"), "ba7816bf8f01");
    }
}
