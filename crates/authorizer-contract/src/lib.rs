//! The parts of the API Gateway ↔ Lambda authorizer contract that are not types in
//! `aws_lambda_events`. First, how an authorizer says "this caller is not
//! authenticated".
//!
//! An authorizer that fails with exactly the message [`UNAUTHORIZED`] makes API Gateway
//! answer 401 (its `UNAUTHORIZED` gateway response); any other failure is a 500
//! (`AUTHORIZER_FAILURE`). AWS's own example authorizers do so with
//! `callback("Unauthorized"); // Return a 401 Unauthorized response` (API Gateway
//! developer guide, "Use API Gateway Lambda authorizers", the example functions).
//! The authorizers here also use it as the error's type, as `lambda_runtime` reports it.
//!
//! Also here: [`MethodArn`], the method ARN the emulator formats, the authorizer
//! parses and policies match ([`method_arn`]); and [`token_fingerprint`], how both the
//! authorizer and the emulator name a token in their logs.

pub mod method_arn;

pub use method_arn::{MethodArn, NotAMethodArn, iam_wildcard_match};

/// The error message (and type) of a Lambda authorizer's refusal: API Gateway answers 401.
pub const UNAUTHORIZED: &str = "Unauthorized";

/// A short, non-reversible name for a token, so logs can correlate requests without
/// ever holding a usable credential: the first 12 hex digits of its SHA-256 (`none`
/// when empty). The authorizer's decision lines and the emulator's hop lines both use
/// it, so one request's token reads the same in both.
pub fn token_fingerprint(token: &str) -> String {
    use sha2::{Digest, Sha256};
    if token.is_empty() {
        return "none".to_owned();
    }
    let digest = Sha256::digest(token.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_is_the_exact_word_api_gateway_matches() {
        // The wire value: changing it would turn every 401 into a 500 on AWS.
        assert_eq!(super::UNAUTHORIZED, "Unauthorized");
    }

    #[test]
    fn a_fingerprint_is_the_first_12_hex_digits_of_the_sha256() {
        // SHA-256("abc") = ba7816bf8f01cfea... (FIPS 180-2, appendix B.1).
        assert_eq!(super::token_fingerprint("abc"), "ba7816bf8f01");
        assert_eq!(super::token_fingerprint(""), "none");
    }
}
