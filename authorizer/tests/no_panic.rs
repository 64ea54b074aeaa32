//! Property tests: nothing a client can put in the `Authorization` header panics the
//! verifier or gets through it, and a REQUEST event yields a token only when every
//! `Authorization` value it carries is that one.

use std::sync::LazyLock;
use std::time::Duration;

use authorizer::{AuthorizerEvent, Config, Error, KeySet, Verifier, parse_token};
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn a_request_event_yields_a_token_only_when_all_its_authorization_values_agree(
        single in prop::option::of(("(?i:authorization)", "[ -~]{0,12}")),
        multi in prop::collection::vec(("(?i:authorization)|Accept", "[ -~]{0,12}"), 0..4),
    ) {
        let mut headers = serde_json::Map::new();
        if let Some((name, value)) = &single {
            headers.insert(name.clone(), value.clone().into());
        }
        let mut multi_value_headers = serde_json::Map::new();
        for (name, value) in &multi {
            let values = multi_value_headers.entry(name.clone()).or_insert_with(|| serde_json::json!([]));
            values.as_array_mut().unwrap().push(value.clone().into());
        }
        let event = serde_json::json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:api/prod/GET/hello",
            "headers": headers,
            "multiValueHeaders": multi_value_headers,
            "requestContext": {},
        });
        // A value the http crate refuses (none here: printable ASCII) would fail here.
        let event: AuthorizerEvent = serde_json::from_value(event).unwrap();
        // What API Gateway's client sent, by hand: every Authorization value, any case.
        let mut values: Vec<String> = single.iter().map(|(_, v)| v.clone()).collect();
        values.extend(
            multi
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
                .map(|(_, v)| v.clone()),
        );
        values.dedup();
        let mut distinct = values.clone();
        distinct.sort();
        distinct.dedup();
        match event.token() {
            Ok(token) => {
                prop_assert!(distinct.len() <= 1, "{:?} gave {:?}", values, token);
                prop_assert_eq!(token, distinct.first().map_or("", String::as_str));
            }
            Err(error) => {
                prop_assert_eq!(error, Error::ConflictingAuthorizationHeaders);
                prop_assert!(distinct.len() > 1, "{:?}", values);
            }
        }
    }
}
