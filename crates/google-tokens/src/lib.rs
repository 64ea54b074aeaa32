//! What an issuer of Google-shaped ID tokens does, written once for the two that exist
//! here: the local identity provider (`local::idp`, what `cargo xtask demo` signs in with)
//! and the test suites' fixtures (`testkit`). Both are verified by the production
//! authorizer with nothing changed but `GOOGLE_JWKS_URL`, so they must agree with Google,
//! and so with each other, on:
//!
//! - the claims ([`GoogleClaims`]: Google's names, `iss` [`ISSUER`]);
//! - the signature ([`Signer::sign`]: RS256, the header's `kid` and `typ: JWT`);
//! - the published key ([`Signer::jwks`]: a JWK with `kid`, `use: sig`, `alg: RS256`);
//! - how the JWKS is served ([`CERTS_PATH`], [`jwks_response`]: JSON with Google's
//!   `Cache-Control`, which the authorizer honours).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The issuer Google puts in ID tokens (the authorizer accepts only Google's).
pub const ISSUER: &str = "https://accounts.google.com";

/// Where Google serves its JWKS (`https://www.googleapis.com/oauth2/v3/certs`), and so
/// where the local servers do.
pub const CERTS_PATH: &str = "/oauth2/v3/certs";

/// Why a key could not be loaded or a token signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The PEM is not an RSA private key, or its public half cannot be written as a JWK.
    #[error("unusable RSA key: {0}")]
    Key(String),
    /// jsonwebtoken could not sign the claims.
    #[error("cannot sign the token: {0}")]
    Sign(String),
}

/// The claims of a Google ID token (Google's "Authenticate with a backend server" guide
/// lists them). Optional ones are left out of the token when `None`, as Google leaves out
/// what does not apply (`hd` for a consumer account, profile claims for a service account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoogleClaims {
    pub iss: String,
    pub azp: String,
    pub aud: String,
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl GoogleClaims {
    /// A verified `email`'s token for `client_id` (as `aud` and `azp`, as Google signs for
    /// a web client), issued at `iat`, expiring at `exp`; no optional claims.
    pub fn new(client_id: &str, sub: &str, email: &str, iat: i64, exp: i64) -> Self {
        GoogleClaims {
            iss: ISSUER.to_owned(),
            azp: client_id.to_owned(),
            aud: client_id.to_owned(),
            sub: sub.to_owned(),
            email: email.to_owned(),
            email_verified: true,
            hd: None,
            at_hash: None,
            name: None,
            picture: None,
            given_name: None,
            family_name: None,
            iat,
            nbf: None,
            exp,
            jti: None,
        }
    }
}

/// An RSA private key and its `kid`: signs tokens and publishes the public half.
pub struct Signer {
    key: EncodingKey,
    kid: String,
    jwk: Jwk,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The RSA key in `pem` (PKCS#1 or PKCS#8), announced as `kid`.
    pub fn from_rsa_pem(pem: &str, kid: &str) -> Result<Self, Error> {
        let key =
            EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| Error::Key(e.to_string()))?;
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256)
            .map_err(|e| Error::Key(e.to_string()))?;
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
        Ok(Signer {
            key,
            kid: kid.to_owned(),
            jwk,
        })
    }

    /// The RSA key in `pem` with a `kid` like Google's (40 hex digits) derived from its
    /// public half, so the same key always has the same `kid`.
    pub fn from_rsa_pem_derived_kid(pem: &str) -> Result<Self, Error> {
        let signer = Signer::from_rsa_pem(pem, "")?;
        let public =
            serde_json::to_vec(&signer.jwk.algorithm).map_err(|e| Error::Key(e.to_string()))?;
        let kid: String = Sha256::digest(&public)[..20]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut jwk = signer.jwk;
        jwk.common.key_id = Some(kid.clone());
        Ok(Signer {
            key: signer.key,
            kid,
            jwk,
        })
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// A JWKS document holding this key alone.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    /// Signs `claims` as Google does: RS256, header `{"alg", "kid", "typ": "JWT"}`.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| Error::Sign(e.to_string()))
    }
}

/// Google's `Cache-Control` on its JWKS, with `max_age` seconds.
pub fn cache_control(max_age: u64) -> String {
    format!("public, max-age={max_age}, must-revalidate, no-transform")
}

/// The answer to `GET` [`CERTS_PATH`]: the JWKS as JSON, with Google's `Cache-Control`
/// when `max_age` is set (none: the client decides how long to keep it).
pub fn jwks_response(jwks: &Value, max_age: Option<u64>) -> Response {
    let mut response = axum::Json(jwks).into_response();
    if let Some(age) = max_age
        && let Ok(value) = HeaderValue::from_str(&cache_control(age))
    {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

    const PEM: &str = include_str!("../../testkit/fixtures/test-only-primary.pem");

    #[test]
    fn signs_rs256_under_the_kid_with_typ_jwt() {
        let signer = Signer::from_rsa_pem(PEM, "k1").unwrap();
        let claims = GoogleClaims::new("c.apps.googleusercontent.com", "1", "a@b.c", 100, 200);
        let token = signer.sign(&claims).unwrap();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some("k1"));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        // Verifies with the published JWK.
        let key = DecodingKey::from_jwk(signer.jwk()).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.set_audience(&["c.apps.googleusercontent.com"]);
        let read = decode::<GoogleClaims>(&token, &key, &validation).unwrap();
        assert_eq!(read.claims, claims);
    }

    #[test]
    fn leaves_out_claims_that_do_not_apply() {
        let claims = GoogleClaims::new("c", "1", "a@b.c", 100, 200);
        assert_eq!(
            serde_json::to_value(&claims).unwrap(),
            json!({"iss": "https://accounts.google.com", "azp": "c", "aud": "c", "sub": "1",
                   "email": "a@b.c", "email_verified": true, "iat": 100, "exp": 200})
        );
    }

    #[test]
    fn publishes_the_public_key_with_kid_use_and_alg() {
        let signer = Signer::from_rsa_pem(PEM, "k1").unwrap();
        let jwks = signer.jwks();
        let key = &jwks["keys"][0];
        assert_eq!(
            (
                &key["kty"],
                &key["kid"],
                &key["use"],
                &key["alg"],
                &key["e"]
            ),
            (
                &json!("RSA"),
                &json!("k1"),
                &json!("sig"),
                &json!("RS256"),
                &json!("AQAB")
            )
        );
        assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn a_derived_kid_is_40_hex_digits_and_stable() {
        let a = Signer::from_rsa_pem_derived_kid(PEM).unwrap();
        let b = Signer::from_rsa_pem_derived_kid(PEM).unwrap();
        assert_eq!(a.kid(), b.kid());
        assert_eq!(a.kid().len(), 40);
        assert!(a.kid().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.jwks()["keys"][0]["kid"], json!(a.kid()));
    }

    #[test]
    fn refuses_a_pem_that_is_not_an_rsa_key() {
        assert!(matches!(
            Signer::from_rsa_pem("-----BEGIN NOTHING-----", "k"),
            Err(Error::Key(_))
        ));
    }

    #[tokio::test]
    async fn serves_the_jwks_with_googles_cache_control() {
        let jwks = json!({"keys": []});
        let response = jwks_response(&jwks, Some(3600));
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=3600, must-revalidate, no-transform"
        );
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), jwks);
        let uncached = jwks_response(&jwks, None);
        assert!(uncached.headers().get(header::CACHE_CONTROL).is_none());
    }
}
