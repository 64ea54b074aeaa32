//! The one word of the API Gateway ↔ Lambda authorizer contract that is not a type in
//! `aws_lambda_events`: how an authorizer says "this caller is not authenticated".
//!
//! An authorizer that fails with exactly the message [`UNAUTHORIZED`] makes API Gateway
//! answer 401 (its `UNAUTHORIZED` gateway response); any other failure is a 500
//! (`AUTHORIZER_FAILURE`). AWS's own example authorizers do so with
//! `callback("Unauthorized"); // Return a 401 Unauthorized response` (API Gateway
//! developer guide, "Use API Gateway Lambda authorizers", the example functions).
//! The authorizers here also use it as the error's type, as `lambda_runtime` reports it.

/// The error message (and type) of a Lambda authorizer's refusal: API Gateway answers 401.
pub const UNAUTHORIZED: &str = "Unauthorized";

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_is_the_exact_word_api_gateway_matches() {
        // The wire value: changing it would turn every 401 into a 500 on AWS.
        assert_eq!(super::UNAUTHORIZED, "Unauthorized");
    }
}
