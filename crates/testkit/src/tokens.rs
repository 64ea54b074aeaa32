//! Google-shaped ID tokens for tests.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use google_tokens::GoogleClaims;
use jsonwebtoken::Header;
use serde_json::Value;

use crate::keys::TestKey;

/// The client ID the test suites configure as the audience.
pub const CLIENT_ID: &str = "test-client.apps.googleusercontent.com";

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// The claims Google puts in an ID token, issued at `now` for `aud`, valid one hour.
pub fn google_claims(aud: &str, now: u64) -> Value {
    let now = i64::try_from(now).expect("a time before 2^63");
    let claims = GoogleClaims {
        at_hash: Some("HK6E_P6Dh8Y93mRNtsDB1Q".into()),
        name: Some("Jane Doe".into()),
        picture: Some("https://lh3.googleusercontent.com/a/test".into()),
        given_name: Some("Jane".into()),
        family_name: Some("Doe".into()),
        nbf: Some(now.saturating_sub(10)),
        jti: Some("0123456789abcdef0123456789abcdef01234567".into()),
        ..GoogleClaims::new(
            aud,
            "110169484474386276334",
            "jane.doe@example.com",
            now,
            now + 3600,
        )
    };
    serde_json::to_value(claims).expect("claims serialize")
}

/// The numeric ID of the service account in [`service_account_claims`].
pub const SERVICE_ACCOUNT_ID: &str = "104523456789012345678";

/// The claims Google signs for a Google Cloud service account that asks for an ID
/// token with audience `aud` (IAM `generateIdToken`, the metadata server's identity
/// endpoint, Pub/Sub push, Cloud Scheduler): `iss` Google's, `aud` whatever was asked
/// for, `azp` and `sub` the account's numeric ID, its `…iam.gserviceaccount.com`
/// address verified, no profile claims. Issued at `now`, valid one hour.
pub fn service_account_claims(aud: &str, now: u64) -> Value {
    let now = i64::try_from(now).expect("a time before 2^63");
    let claims = GoogleClaims {
        azp: SERVICE_ACCOUNT_ID.into(),
        ..GoogleClaims::new(
            aud,
            SERVICE_ACCOUNT_ID,
            "robot@proj.iam.gserviceaccount.com",
            now,
            now + 3600,
        )
    };
    serde_json::to_value(claims).expect("claims serialize")
}

/// Signs `claims` with RS256 and the key's `kid`, as Google does (and as the local
/// identity provider does: both sign with `google_tokens`).
pub fn sign(key: &TestKey, claims: &Value) -> String {
    key.signer().sign(claims).expect("signing with a test key")
}

/// Signs `claims` with `key` under an arbitrary header (e.g. another `kid`, no `kid`).
pub fn sign_with_header(key: &TestKey, header: &Header, claims: &Value) -> String {
    jsonwebtoken::encode(header, claims, &key.encoding_key()).expect("signing with a test key")
}

/// A token assembled by hand from a header, a payload and raw signature bytes: for
/// headers jsonwebtoken refuses to produce (`alg: none`, ES256 with an RSA key...).
pub fn assemble(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

/// base64url without padding, as JWTs use.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
