//! Property tests: nothing a client can put in the `Authorization` header panics the
//! verifier or gets through it.

use std::sync::LazyLock;
use std::time::Duration;

use authorizer::{Config, Error, KeySet, Verifier, parse_token};
use proptest::prelude::*;
use testkit::keys::{PRIMARY, jwks};
use testkit::tokens::{CLIENT_ID, google_claims, sign};

const NOW: u64 = 1_770_000_000;

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    Verifier::new(&Config {
        client_ids: vec![CLIENT_ID.into()],
        jwks_url: "http://127.0.0.1:9/unused".into(),
        allowed_hosted_domains: None,
        clock_skew: Duration::from_secs(60),
    })
});
static KEYS: LazyLock<KeySet> =
    LazyLock::new(|| KeySet::from_json(jwks(&[PRIMARY]).to_string().as_bytes()).unwrap());
static VALID_TOKEN: LazyLock<String> =
    LazyLock::new(|| sign(&PRIMARY, &google_claims(CLIENT_ID, NOW)));

fn verifier() -> &'static Verifier {
    &VERIFIER
}

fn keys() -> &'static KeySet {
    &KEYS
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_are_refused_without_panic(input in any::<String>()) {
        let result = verifier().verify_with_keys(&input, keys(), NOW);
        prop_assert!(result.is_err());
        prop_assert!(result.unwrap_err().is_token_rejection());
    }

    #[test]
    fn jwt_shaped_strings_are_refused_without_panic(
        header in "[A-Za-z0-9_-]{0,80}",
        payload in "[A-Za-z0-9_-]{0,200}",
        signature in "[A-Za-z0-9_-]{0,400}",
    ) {
        let token = format!("{header}.{payload}.{signature}");
        let _ = parse_token(&token);
        prop_assert!(verifier().verify_with_keys(&token, keys(), NOW).is_err());
    }

    #[test]
    fn any_single_character_change_to_a_valid_token_is_refused(
        position in any::<prop::sample::Index>(),
        replacement in prop::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".to_vec()),
    ) {
        let token = VALID_TOKEN.clone();
        prop_assert!(verifier().verify_with_keys(&token, keys(), NOW).is_ok());
        let i = position.index(token.len());
        prop_assume!(token.as_bytes()[i] != replacement);
        let mut bytes = token.into_bytes();
        bytes[i] = replacement;
        let mutated = String::from_utf8(bytes).unwrap();
        let result = verifier().verify_with_keys(&mutated, keys(), NOW);
        prop_assert!(result.is_err(), "mutation at {} accepted", i);
    }

}

proptest! {
    // Each case signs a token: fewer cases keep the debug build's run short.
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_claims_never_panic(claims in prop::collection::hash_map("[a-z_]{1,8}", any::<i64>().prop_map(serde_json::Value::from), 0..8)) {
        let claims = serde_json::Value::Object(claims.into_iter().collect());
        let token = sign(&PRIMARY, &claims);
        let result = verifier().verify_with_keys(&token, keys(), NOW);
        prop_assert!(matches!(result, Err(Error::MissingClaim(_) | Error::InvalidClaim(_) | Error::WrongIssuer | Error::WrongAudience)), "{:?}", result);
    }
}
