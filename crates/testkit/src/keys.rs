//! Test-only RSA-2048 keys, committed under `testkit/fixtures/`. They protect nothing.

use jsonwebtoken::EncodingKey;
use serde_json::Value;

/// One committed test key: its `kid`, private PEM and public JWK.
#[derive(Debug, Clone, Copy)]
pub struct TestKey {
    pub kid: &'static str,
    private_pem: &'static str,
    jwk_json: &'static str,
}

/// The key the fake JWKS serves first.
pub const PRIMARY: TestKey = TestKey {
    kid: "test-only-primary",
    private_pem: include_str!("../fixtures/test-only-primary.pem"),
    jwk_json: include_str!("../fixtures/test-only-primary.jwk.json"),
};

/// The key that appears after a simulated rotation.
pub const ROTATED: TestKey = TestKey {
    kid: "test-only-rotated",
    private_pem: include_str!("../fixtures/test-only-rotated.pem"),
    jwk_json: include_str!("../fixtures/test-only-rotated.jwk.json"),
};

/// A key no JWKS serves.
pub const ATTACKER: TestKey = TestKey {
    kid: "test-only-attacker",
    private_pem: include_str!("../fixtures/test-only-attacker.pem"),
    jwk_json: include_str!("../fixtures/test-only-attacker.jwk.json"),
};

/// The primary key's public half as SPKI PEM: what an attacker would feed to HS256.
pub const PRIMARY_PUBLIC_PEM: &str = include_str!("../fixtures/test-only-primary.pub.pem");

impl TestKey {
    /// The public key as a JWK (`kty`, `kid`, `alg`, `use`, `n`, `e`).
    pub fn jwk(&self) -> Value {
        serde_json::from_str(self.jwk_json).expect("committed JWK fixture is JSON")
    }

    /// The private key for signing.
    pub fn encoding_key(&self) -> EncodingKey {
        EncodingKey::from_rsa_pem(self.private_pem.as_bytes()).expect("committed PEM fixture")
    }

    /// The key as a token signer (`google_tokens`, which the local identity provider
    /// signs with too).
    pub fn signer(&self) -> google_tokens::Signer {
        google_tokens::Signer::from_rsa_pem(self.private_pem, self.kid)
            .expect("committed PEM fixture")
    }

    /// The private key PEM (PKCS#1).
    pub fn private_pem(&self) -> &'static str {
        self.private_pem
    }
}

/// A JWKS document holding `keys`.
pub fn jwks(keys: &[TestKey]) -> Value {
    serde_json::json!({ "keys": keys.iter().map(TestKey::jwk).collect::<Vec<_>>() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_committed_jwk_is_what_the_signer_publishes_for_its_key() {
        for key in [PRIMARY, ROTATED, ATTACKER] {
            let published = serde_json::to_value(key.signer().jwk()).unwrap();
            assert_eq!(published, key.jwk(), "{}", key.kid);
        }
    }
}
