//! Attacks and edge cases on the pure verifier: every case asserts the exact error.
//! No network: keys come from the committed test-only fixtures.

use std::time::Duration;

use authorizer::{Config, Error, GoogleClaims, KeySet, Verifier};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use testkit::keys::{ATTACKER, PRIMARY, PRIMARY_PUBLIC_PEM, ROTATED, jwks};
use testkit::tokens::{
    CLIENT_ID, assemble, b64, google_claims, service_account_claims, sign, sign_with_header,
};

/// A fixed instant, so that every time-claim case is exact.
const NOW: u64 = 1_770_000_000;

fn config() -> Config {
    Config {
        client_ids: vec![
            CLIENT_ID.into(),
            "second-client.apps.googleusercontent.com".into(),
        ],
        jwks_url: "http://127.0.0.1:9/unused".into(),
        allowed_hosted_domains: None,
        clock_skew: Duration::from_secs(60),
    }
}

fn keys() -> KeySet {
    KeySet::from_json(jwks(&[PRIMARY, ROTATED]).to_string().as_bytes()).unwrap()
}

fn verify(token: &str) -> Result<GoogleClaims, Error> {
    Verifier::new(&config()).verify_with_keys(token, &keys(), NOW)
}

fn claims() -> Value {
    google_claims(CLIENT_ID, NOW)
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn without(mut claims: Value, field: &str) -> Value {
    claims.as_object_mut().unwrap().remove(field);
    claims
}

fn header(alg: Algorithm, kid: Option<&str>) -> Header {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    header
}

fn expected_claims() -> GoogleClaims {
    GoogleClaims {
        sub: "110169484474386276334".into(),
        email: Some("jane.doe@example.com".into()),
        email_verified: Some(true),
        name: Some("Jane Doe".into()),
        given_name: Some("Jane".into()),
        family_name: Some("Doe".into()),
        hd: None,
        iat: NOW,
        exp: NOW + 3600,
    }
}

// --- genuine tokens ---

#[test]
fn accepts_valid_raw_token() {
    assert_eq!(verify(&sign(&PRIMARY, &claims())), Ok(expected_claims()));
}

#[test]
fn accepts_bearer_prefix_in_any_case() {
    let token = sign(&PRIMARY, &claims());
    for value in [
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("BEARER   {token}"),
        format!("  Bearer {token}  "),
    ] {
        assert_eq!(verify(&value), Ok(expected_claims()), "{value:.20}");
    }
}

#[test]
fn accepts_both_google_issuer_spellings() {
    for iss in ["accounts.google.com", "https://accounts.google.com"] {
        let token = sign(&PRIMARY, &with(claims(), "iss", json!(iss)));
        assert_eq!(verify(&token), Ok(expected_claims()), "{iss}");
    }
}

#[test]
fn accepts_any_configured_client_id() {
    let token = sign(
        &PRIMARY,
        &with(
            claims(),
            "aud",
            json!("second-client.apps.googleusercontent.com"),
        ),
    );
    assert_eq!(verify(&token), Ok(expected_claims()));
}

#[test]
fn accepts_token_signed_with_second_key_of_the_set() {
    assert_eq!(verify(&sign(&ROTATED, &claims())), Ok(expected_claims()));
}

#[test]
fn reads_hosted_domain_in_lower_case() {
    let token = sign(&PRIMARY, &with(claims(), "hd", json!("Example.COM")));
    assert_eq!(verify(&token).unwrap().hd.as_deref(), Some("example.com"));
}

#[test]
fn accepts_email_verified_sent_as_string() {
    let token = sign(&PRIMARY, &with(claims(), "email_verified", json!("true")));
    assert_eq!(verify(&token), Ok(expected_claims()));
}

// --- algorithm attacks ---

#[test]
fn rejects_alg_none_with_empty_signature() {
    let token = assemble(
        &json!({"alg": "none", "typ": "JWT", "kid": PRIMARY.kid}),
        &claims(),
        b"",
    );
    assert!(token.ends_with('.'));
    assert_eq!(
        verify(&token),
        Err(Error::DisallowedAlgorithm("none".into()))
    );
}

#[test]
fn rejects_alg_none_in_other_spellings() {
    for alg in ["None", "NONE", "nOnE"] {
        let token = assemble(&json!({"alg": alg, "kid": PRIMARY.kid}), &claims(), b"sig");
        assert_eq!(verify(&token), Err(Error::DisallowedAlgorithm(alg.into())));
    }
}

#[test]
fn rejects_hs256_signed_with_the_rsa_public_key_as_secret() {
    let key = EncodingKey::from_secret(PRIMARY_PUBLIC_PEM.as_bytes());
    let token = jsonwebtoken::encode(
        &header(Algorithm::HS256, Some(PRIMARY.kid)),
        &claims(),
        &key,
    )
    .unwrap();
    assert_eq!(
        verify(&token),
        Err(Error::DisallowedAlgorithm("HS256".into()))
    );
}

#[test]
fn rejects_rs512_header() {
    let token = sign_with_header(
        &PRIMARY,
        &header(Algorithm::RS512, Some(PRIMARY.kid)),
        &claims(),
    );
    assert_eq!(
        verify(&token),
        Err(Error::DisallowedAlgorithm("RS512".into()))
    );
}

#[test]
fn rejects_ps256_header() {
    let token = sign_with_header(
        &PRIMARY,
        &header(Algorithm::PS256, Some(PRIMARY.kid)),
        &claims(),
    );
    assert_eq!(
        verify(&token),
        Err(Error::DisallowedAlgorithm("PS256".into()))
    );
}

#[test]
fn rejects_es256_header() {
    let token = assemble(
        &json!({"alg": "ES256", "kid": PRIMARY.kid}),
        &claims(),
        &[7u8; 64],
    );
    assert_eq!(
        verify(&token),
        Err(Error::DisallowedAlgorithm("ES256".into()))
    );
}

#[test]
fn rejects_non_string_alg() {
    let token = assemble(
        &json!({"alg": ["RS256"], "kid": PRIMARY.kid}),
        &claims(),
        b"sig",
    );
    assert_eq!(
        verify(&token),
        Err(Error::DisallowedAlgorithm("[\"RS256\"]".into()))
    );
}

#[test]
fn rejects_header_without_alg() {
    let token = assemble(&json!({"kid": PRIMARY.kid}), &claims(), b"sig");
    assert_eq!(verify(&token), Err(Error::Malformed("header has no alg")));
}

// --- keys ---

#[test]
fn rejects_missing_kid() {
    let token = sign_with_header(&PRIMARY, &header(Algorithm::RS256, None), &claims());
    assert_eq!(verify(&token), Err(Error::MissingKeyId));
}

#[test]
fn rejects_empty_or_non_string_kid() {
    for kid in [json!(""), json!(42), json!(null)] {
        let token = assemble(&json!({"alg": "RS256", "kid": kid}), &claims(), b"sig");
        assert_eq!(verify(&token), Err(Error::MissingKeyId), "{kid}");
    }
}

#[test]
fn rejects_a_kid_longer_than_128_bytes_keeping_only_its_length() {
    let kid = "k".repeat(129);
    let token = assemble(&json!({"alg": "RS256", "kid": kid}), &claims(), b"sig");
    assert_eq!(verify(&token), Err(Error::InvalidKeyId(129)));
    assert_eq!(
        Error::InvalidKeyId(129).to_string(),
        "the kid is not a key ID (129 bytes; a key ID is at most 128 bytes of A-Z a-z 0-9 . _ -)"
    );
    assert_eq!(Error::InvalidKeyId(129).reason(), "invalid_kid");
}

#[test]
fn accepts_the_shape_of_a_128_byte_kid() {
    // Shaped like a key ID, so it is looked up (and is unknown).
    let kid = "aZ09._-".repeat(19)[..128].to_owned();
    let token = assemble(&json!({"alg": "RS256", "kid": kid}), &claims(), b"sig");
    assert_eq!(verify(&token), Err(Error::UnknownKeyId(kid)));
}

#[test]
fn rejects_a_kid_with_bytes_outside_the_key_id_alphabet() {
    for kid in [
        "key 1",
        "key/1",
        "key\r\ninjected: line",
        "\u{1b}[31mred",
        "ключ",
        "k\"",
        "../../etc/passwd",
    ] {
        let token = assemble(&json!({"alg": "RS256", "kid": kid}), &claims(), b"sig");
        assert_eq!(
            verify(&token),
            Err(Error::InvalidKeyId(kid.len())),
            "{kid:?}"
        );
    }
}

#[test]
fn rejects_a_6_kb_kid_before_any_lookup() {
    let kid = "A".repeat(6000);
    // A short signature keeps the token under MAX_TOKEN_BYTES: the kid is what is refused.
    let token = assemble(&json!({"alg": "RS256", "kid": kid}), &json!({}), b"s");
    assert!(
        token.len() <= authorizer::MAX_TOKEN_BYTES,
        "{}",
        token.len()
    );
    let error = verify(&token).unwrap_err();
    assert_eq!(error, Error::InvalidKeyId(6000));
    assert!(error.to_string().len() < 120);
}

#[test]
fn keeps_only_a_bounded_escaped_alg_in_the_error() {
    let alg = format!("\u{1b}[2J{}", "x".repeat(5000));
    let token = assemble(&json!({"alg": alg, "kid": PRIMARY.kid}), &claims(), b"sig");
    let error = verify(&token).unwrap_err();
    let kept: String = alg.chars().take(64).collect();
    assert_eq!(
        error,
        Error::DisallowedAlgorithm(format!("{kept}…({} bytes)", alg.len()))
    );
    let shown = error.to_string();
    assert!(shown.len() < 200, "{shown}");
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
}

#[test]
fn rejects_unknown_kid() {
    let token = sign_with_header(
        &PRIMARY,
        &header(Algorithm::RS256, Some("not-a-google-key")),
        &claims(),
    );
    assert_eq!(
        verify(&token),
        Err(Error::UnknownKeyId("not-a-google-key".into()))
    );
}

#[test]
fn rejects_token_signed_by_another_key_under_a_known_kid() {
    let token = sign_with_header(
        &ATTACKER,
        &header(Algorithm::RS256, Some(PRIMARY.kid)),
        &claims(),
    );
    assert_eq!(verify(&token), Err(Error::BadSignature));
}

#[test]
fn rejects_token_signed_with_a_known_key_under_the_other_kid() {
    let token = sign_with_header(
        &PRIMARY,
        &header(Algorithm::RS256, Some(ROTATED.kid)),
        &claims(),
    );
    assert_eq!(verify(&token), Err(Error::BadSignature));
}

// --- audience ---

#[test]
fn rejects_wrong_audience() {
    let token = sign(
        &PRIMARY,
        &with(
            claims(),
            "aud",
            json!("someone-else.apps.googleusercontent.com"),
        ),
    );
    assert_eq!(verify(&token), Err(Error::WrongAudience));
}

#[test]
fn rejects_missing_audience() {
    let token = sign(&PRIMARY, &without(claims(), "aud"));
    assert_eq!(verify(&token), Err(Error::MissingClaim("aud")));
}

#[test]
fn accepts_audience_array_of_only_trusted_clients() {
    let token = sign(&PRIMARY, &with(claims(), "aud", json!([CLIENT_ID])));
    assert_eq!(verify(&token), Ok(expected_claims()));
}

#[test]
fn rejects_audience_array_with_an_untrusted_client() {
    let token = sign(
        &PRIMARY,
        &with(
            claims(),
            "aud",
            json!([CLIENT_ID, "evil.apps.googleusercontent.com"]),
        ),
    );
    assert_eq!(verify(&token), Err(Error::WrongAudience));
}

#[test]
fn rejects_empty_audience_array() {
    let token = sign(&PRIMARY, &with(claims(), "aud", json!([])));
    assert_eq!(verify(&token), Err(Error::WrongAudience));
}

// --- issuer ---

#[test]
fn rejects_look_alike_issuers() {
    for iss in [
        "http://accounts.google.com",
        "https://accounts.google.com/",
        "accounts.google.com.evil.example",
        "https://accounts.google.co",
        "ACCOUNTS.GOOGLE.COM",
        "https://evil.example",
    ] {
        let token = sign(&PRIMARY, &with(claims(), "iss", json!(iss)));
        assert_eq!(verify(&token), Err(Error::WrongIssuer), "{iss}");
    }
}

#[test]
fn rejects_issuer_as_array_even_when_it_contains_google() {
    let token = sign(
        &PRIMARY,
        &with(claims(), "iss", json!(["https://accounts.google.com"])),
    );
    assert_eq!(verify(&token), Err(Error::WrongIssuer));
}

#[test]
fn rejects_missing_issuer() {
    let token = sign(&PRIMARY, &without(claims(), "iss"));
    assert_eq!(verify(&token), Err(Error::MissingClaim("iss")));
}

// --- time ---

#[test]
fn rejects_expired_token_beyond_leeway() {
    let token = sign(&PRIMARY, &with(claims(), "exp", json!(NOW - 61)));
    assert_eq!(
        verify(&token),
        Err(Error::Expired {
            exp: NOW - 61,
            now: NOW
        })
    );
}

#[test]
fn accepts_recently_expired_token_within_leeway() {
    let token = sign(&PRIMARY, &with(claims(), "exp", json!(NOW - 60)));
    assert_eq!(verify(&token).map(|c| c.exp), Ok(NOW - 60));
}

#[test]
fn rejects_iat_in_the_future_beyond_leeway() {
    let token = sign(&PRIMARY, &with(claims(), "iat", json!(NOW + 61)));
    assert_eq!(
        verify(&token),
        Err(Error::IssuedInFuture {
            iat: NOW + 61,
            now: NOW
        })
    );
}

#[test]
fn accepts_iat_in_the_future_within_leeway() {
    let token = sign(&PRIMARY, &with(claims(), "iat", json!(NOW + 60)));
    assert_eq!(verify(&token).map(|c| c.iat), Ok(NOW + 60));
}

#[test]
fn rejects_nbf_in_the_future_beyond_leeway() {
    let token = sign(&PRIMARY, &with(claims(), "nbf", json!(NOW + 61)));
    assert_eq!(
        verify(&token),
        Err(Error::NotYetValid {
            nbf: NOW + 61,
            now: NOW
        })
    );
}

#[test]
fn accepts_token_without_nbf() {
    assert_eq!(
        verify(&sign(&PRIMARY, &without(claims(), "nbf"))),
        Ok(expected_claims())
    );
}

#[test]
fn rejects_missing_exp_and_iat() {
    assert_eq!(
        verify(&sign(&PRIMARY, &without(claims(), "exp"))),
        Err(Error::MissingClaim("exp"))
    );
    assert_eq!(
        verify(&sign(&PRIMARY, &without(claims(), "iat"))),
        Err(Error::MissingClaim("iat"))
    );
}

#[test]
fn rejects_time_claims_of_the_wrong_type() {
    for (field, value) in [
        ("exp", json!("9999999999")),
        ("iat", json!(-5)),
        ("nbf", json!(1.5)),
        ("exp", json!(true)),
    ] {
        let token = sign(&PRIMARY, &with(claims(), field, value.clone()));
        let field: &'static str = match field {
            "exp" => "exp",
            "iat" => "iat",
            _ => "nbf",
        };
        assert_eq!(
            verify(&token),
            Err(Error::InvalidClaim(field)),
            "{field}={value}"
        );
    }
}

#[test]
fn rejects_exp_near_u64_max_without_overflow() {
    let token = sign(&PRIMARY, &with(claims(), "exp", json!(u64::MAX)));
    assert_eq!(
        verify(&token),
        Err(Error::LifetimeTooLong {
            exp: u64::MAX,
            iat: NOW,
            now: NOW
        })
    );
    let token = sign(&PRIMARY, &with(claims(), "iat", json!(u64::MAX)));
    assert_eq!(
        verify(&token),
        Err(Error::IssuedInFuture {
            iat: u64::MAX,
            now: NOW
        })
    );
}

// --- lifetime (google-auth-library: "Expiration time too far in future") ---

const DAY: u64 = 24 * 3600;

/// Claims issued at `iat`, expiring at `exp`, checked at NOW.
fn lifetime(iat: u64, exp: u64) -> Result<GoogleClaims, Error> {
    let claims = with(with(claims(), "iat", json!(iat)), "exp", json!(exp));
    let claims = without(claims, "nbf");
    verify(&sign(&PRIMARY, &claims))
}

#[test]
fn accepts_exp_exactly_24_hours_after_now_and_iat() {
    assert_eq!(lifetime(NOW, NOW + DAY).map(|c| c.exp), Ok(NOW + DAY));
}

#[test]
fn rejects_exp_24_hours_and_one_second_after_now() {
    assert_eq!(
        lifetime(NOW, NOW + DAY + 1),
        Err(Error::LifetimeTooLong {
            exp: NOW + DAY + 1,
            iat: NOW,
            now: NOW
        })
    );
    assert_eq!(
        lifetime(NOW, NOW + DAY + 1).unwrap_err().reason(),
        "lifetime_too_long"
    );
}

#[test]
fn accepts_a_lifetime_of_exactly_24_hours_issued_in_the_past() {
    // Issued 23 h ago for 24 h: exp is 1 h from now, exp - iat is exactly 24 h.
    let iat = NOW - 23 * 3600;
    assert_eq!(lifetime(iat, iat + DAY).map(|c| c.iat), Ok(iat));
}

#[test]
fn rejects_a_lifetime_of_24_hours_and_one_second_even_when_exp_is_near() {
    // exp is only 1 h away, but the token was minted to live longer than a day.
    let iat = NOW - 23 * 3600 - 1;
    assert_eq!(
        lifetime(iat, iat + DAY + 1),
        Err(Error::LifetimeTooLong {
            exp: iat + DAY + 1,
            iat,
            now: NOW
        })
    );
}

// --- authorized party (azp): OpenID Connect Core 3.1.3.7, steps 4-5 ---

#[test]
fn rejects_a_google_signed_service_account_token_for_our_audience() {
    let error = verify(&sign(&PRIMARY, &service_account_claims(CLIENT_ID, NOW))).unwrap_err();
    assert_eq!(
        error,
        Error::WrongAuthorizedParty("104523456789012345678".into())
    );
    assert_eq!(error.reason(), "wrong_authorized_party");
    assert!(error.is_token_rejection());
    assert_eq!(
        error.to_string(),
        "the authorized party (azp) \"104523456789012345678\" is not one of the configured client IDs"
    );
}

#[test]
fn accepts_azp_of_another_configured_client() {
    let token = sign(
        &PRIMARY,
        &with(
            claims(),
            "azp",
            json!("second-client.apps.googleusercontent.com"),
        ),
    );
    assert_eq!(verify(&token), Ok(expected_claims()));
}

#[test]
fn accepts_a_token_without_azp() {
    assert_eq!(
        verify(&sign(&PRIMARY, &without(claims(), "azp"))),
        Ok(expected_claims())
    );
}

#[test]
fn rejects_azp_that_is_not_a_string_even_null() {
    for azp in [
        json!(null),
        json!(104523456789012345678_u128 as f64),
        json!([CLIENT_ID]),
    ] {
        let token = sign(&PRIMARY, &with(claims(), "azp", azp.clone()));
        assert_eq!(verify(&token), Err(Error::InvalidClaim("azp")), "{azp}");
    }
}

#[test]
fn keeps_only_a_bounded_azp_in_the_error() {
    let long = "9".repeat(2000);
    let error = verify(&sign(&PRIMARY, &with(claims(), "azp", json!(long)))).unwrap_err();
    assert_eq!(
        error,
        Error::WrongAuthorizedParty(format!("{}…(2000 bytes)", "9".repeat(64)))
    );
}

// --- email ---

#[test]
fn verified_email_only_when_email_verified_is_true() {
    for (verified, expected) in [
        (Some(json!(true)), Some("jane.doe@example.com")),
        (Some(json!("true")), Some("jane.doe@example.com")),
        (Some(json!(false)), None),
        (Some(json!("false")), None),
        (None, None),
    ] {
        let claims = match &verified {
            Some(v) => with(claims(), "email_verified", v.clone()),
            None => without(claims(), "email_verified"),
        };
        let claims = verify(&sign(&PRIMARY, &claims)).unwrap();
        assert_eq!(claims.verified_email(), expected, "{verified:?}");
        // The claim itself is still reported as sent.
        assert_eq!(claims.email.as_deref(), Some("jane.doe@example.com"));
    }
}

// --- subject and other claims ---

#[test]
fn rejects_missing_sub() {
    assert_eq!(
        verify(&sign(&PRIMARY, &without(claims(), "sub"))),
        Err(Error::MissingClaim("sub"))
    );
}

#[test]
fn rejects_empty_sub() {
    assert_eq!(
        verify(&sign(&PRIMARY, &with(claims(), "sub", json!("  ")))),
        Err(Error::MissingClaim("sub"))
    );
}

#[test]
fn rejects_numeric_sub() {
    assert_eq!(
        verify(&sign(&PRIMARY, &with(claims(), "sub", json!(12345)))),
        Err(Error::InvalidClaim("sub"))
    );
}

#[test]
fn rejects_name_of_the_wrong_type() {
    let token = sign(&PRIMARY, &with(claims(), "name", json!({"first": "x"})));
    assert_eq!(verify(&token), Err(Error::InvalidClaim("name")));
}

// --- tampering and garbage ---

#[test]
fn rejects_tampered_payload() {
    let token = sign(&PRIMARY, &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64(with(claims(), "name", json!("Mallory"))
        .to_string()
        .as_bytes());
    let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
    assert_eq!(verify(&tampered), Err(Error::BadSignature));
}

#[test]
fn rejects_tampered_header() {
    let token = sign(&PRIMARY, &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let header = b64(
        json!({"alg": "RS256", "kid": PRIMARY.kid, "typ": "JWT", "x": "1"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(
        verify(&format!("{header}.{}.{}", parts[1], parts[2])),
        Err(Error::BadSignature)
    );
}

#[test]
fn rejects_header_with_fields_of_the_wrong_type() {
    let token = assemble(
        &json!({"alg": "RS256", "kid": PRIMARY.kid, "typ": 7}),
        &claims(),
        b"sig",
    );
    assert_eq!(
        verify(&token),
        Err(Error::Malformed("header has fields of the wrong type"))
    );
}

#[test]
fn rejects_truncated_signature() {
    let token = sign(&PRIMARY, &claims());
    // Two characters fewer still decode (to 255 bytes): the signature just fails.
    assert_eq!(verify(&token[..token.len() - 2]), Err(Error::BadSignature));
    // Four fewer leave stray bits that strict base64url refuses.
    assert_eq!(
        verify(&token[..token.len() - 4]),
        Err(Error::Malformed("the signature is not base64url"))
    );
}

#[test]
fn rejects_empty_token() {
    for value in ["", "   ", "Bearer", "Bearer ", "bearer    "] {
        assert_eq!(verify(value), Err(Error::MissingToken), "{value:?}");
    }
}

#[test]
fn rejects_garbage() {
    assert_eq!(
        verify("hello"),
        Err(Error::Malformed("expected three dot-separated segments"))
    );
    assert_eq!(
        verify("Basic dXNlcjpwYXNz"),
        Err(Error::Malformed("characters outside base64url"))
    );
}

#[test]
fn rejects_one_megabyte_token_before_parsing() {
    let huge = "a".repeat(1 << 20);
    assert_eq!(verify(&huge), Err(Error::TokenTooLarge(1 << 20)));
}

#[test]
fn rejects_invalid_base64() {
    assert_eq!(
        verify("e30=.e30=.c2ln"),
        Err(Error::Malformed("characters outside base64url"))
    );
    assert_eq!(
        verify("e30+.e30.c2ln"),
        Err(Error::Malformed("characters outside base64url"))
    );
    // Valid alphabet, impossible length (one leftover character).
    assert_eq!(
        verify("eyJhbGciOiJSUzI1NiJ9A.e30.c2ln"),
        Err(Error::Malformed("header is not base64url"))
    );
}

#[test]
fn rejects_header_that_is_not_json() {
    let token = format!("{}.{}.{}", b64(b"not json"), b64(b"{}"), b64(b"sig"));
    assert_eq!(
        verify(&token),
        Err(Error::Malformed("header is not a JSON object"))
    );
    let token = format!("{}.{}.{}", b64(b"[1,2]"), b64(b"{}"), b64(b"sig"));
    assert_eq!(
        verify(&token),
        Err(Error::Malformed("header is not a JSON object"))
    );
}

#[test]
fn rejects_signed_payload_that_is_not_json() {
    // Correctly signed, so only the payload's content is wrong.
    let header = b64(json!({"alg": "RS256", "kid": PRIMARY.kid})
        .to_string()
        .as_bytes());
    let payload = b64(b"definitely not json");
    let message = format!("{header}.{payload}");
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &PRIMARY.encoding_key(),
        Algorithm::RS256,
    )
    .unwrap();
    assert_eq!(
        verify(&format!("{message}.{signature}")),
        Err(Error::Malformed("the payload is not a JSON object"))
    );
}

#[test]
fn rejects_signed_payload_that_is_not_base64url() {
    let header = b64(json!({"alg": "RS256", "kid": PRIMARY.kid})
        .to_string()
        .as_bytes());
    // One leftover character: valid alphabet, impossible length.
    let message = format!("{header}.e30AA");
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &PRIMARY.encoding_key(),
        Algorithm::RS256,
    )
    .unwrap();
    assert_eq!(
        verify(&format!("{message}.{signature}")),
        Err(Error::Malformed("the payload is not base64url"))
    );
}

#[test]
fn rejects_duplicate_dots() {
    let token = sign(&PRIMARY, &claims());
    let (head, rest) = token.split_once('.').unwrap();
    assert_eq!(
        verify(&format!("{head}..{rest}")),
        Err(Error::Malformed("expected three dot-separated segments"))
    );
    assert_eq!(
        verify(&format!("{token}.")),
        Err(Error::Malformed("expected three dot-separated segments"))
    );
    assert_eq!(
        verify(&format!(".{token}")),
        Err(Error::Malformed("expected three dot-separated segments"))
    );
}

#[test]
fn rejects_empty_payload_or_signature_segment() {
    let header = b64(json!({"alg": "RS256", "kid": PRIMARY.kid})
        .to_string()
        .as_bytes());
    assert_eq!(
        verify(&format!("{header}..c2ln")),
        Err(Error::Malformed("empty segment"))
    );
    assert_eq!(
        verify(&format!("{header}.e30.")),
        Err(Error::Malformed("empty segment"))
    );
}

// --- key sets ---

#[test]
fn key_set_keeps_only_rsa_signature_keys_with_a_kid() {
    let mut no_kid = PRIMARY.jwk();
    no_kid.as_object_mut().unwrap().remove("kid");
    let mut enc = ROTATED.jwk();
    enc["use"] = json!("enc");
    enc["kid"] = json!("encryption-key");
    let document = json!({"keys": [
        PRIMARY.jwk(),
        no_kid,
        enc,
        {"kty": "EC", "crv": "P-256", "kid": "ec-key", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        {"kty": "RSA", "kid": "broken"},
    ]});
    let keys = KeySet::from_json(document.to_string().as_bytes()).unwrap();
    assert_eq!(keys.kids(), vec![PRIMARY.kid.to_owned()]);
}

#[test]
fn key_set_skips_keys_whose_kid_no_token_could_name() {
    let mut spaced = ROTATED.jwk();
    spaced["kid"] = json!("has space");
    let mut long = ROTATED.jwk();
    long["kid"] = json!("k".repeat(129));
    let document = json!({"keys": [PRIMARY.jwk(), spaced, long]});
    let keys = KeySet::from_json(document.to_string().as_bytes()).unwrap();
    assert_eq!(keys.kids(), vec![PRIMARY.kid.to_owned()]);
}

#[test]
fn key_set_without_usable_keys_is_an_error() {
    assert_eq!(
        KeySet::from_json(br#"{"keys": []}"#).unwrap_err(),
        Error::InvalidKeySet("no RSA signing key with a kid".into())
    );
    assert!(
        matches!(KeySet::from_json(b"<html>oops</html>"), Err(Error::InvalidKeySet(m)) if m.starts_with("not a JWK set"))
    );
}
