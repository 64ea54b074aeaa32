//! The request's header names as the client spelled them.
//!
//! API Gateway hands templates (`$input.params().header`, `$input.params()`) and the
//! REQUEST authorizer event (`headers`, `multiValueHeaders`) the names as they came:
//! AWS's own example of the REQUEST input has `X-AMZ-Date` and `HeaderAuth1`
//! ("Input to an API Gateway Lambda authorizer", api-gateway-lambda-authorizer-input),
//! and LocalStack's aws-validated `test_apigateway_lambda.snapshot.json`
//! (`test_lambda_aws_proxy_integration`) records a client's `tEsT-HEADeR` reaching the
//! event as `tEsT-HEADeR`. The `http` crate keeps names in lower case only, so whoever
//! reads the request off the wire (the local stack's server) records the spellings and
//! hands them over as this request extension, while the definition reads them
//! ([`crate::ApiDefinition::reads_header_names`]). Without it (a request built in
//! process, `tower::ServiceExt::oneshot`), names are spelled in lower case.
//!
//! Lookups stay case-insensitive (`$input.params('x')`, `method.request.header.X`,
//! identity sources), as in API Gateway: only the spelling of names handed on changes.

use axum::http::HeaderMap;
use loopback_guard::head_record::HeadNames;

/// Every header name of one request head, in the order the client sent them, as it
/// spelled them (a request extension).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHeaderNames(HeadNames);

impl ClientHeaderNames {
    /// The names of one head, in order (duplicates included).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        ClientHeaderNames(names.into_iter().collect())
    }

    /// The names of one head as the server recorded them.
    pub fn recorded(names: HeadNames) -> Self {
        ClientHeaderNames(names)
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter()
    }

    /// Whether these names are those of `headers` (one per header line, each present):
    /// a record that does not fit the request is not used.
    pub fn fits(&self, headers: &HeaderMap) -> bool {
        if self.0.len() != headers.len() {
            return false;
        }
        // Without a repeated name the map holds the headers in the order they were read,
        // so comparing in step settles it without parsing a name (a lookup by `&str`
        // parses it: that was most of this check's cost).
        let in_step = self
            .0
            .iter()
            .zip(headers.iter().map(|(key, _)| key))
            .all(|(name, key)| name.eq_ignore_ascii_case(key.as_str()));
        in_step || self.0.iter().all(|name| headers.contains_key(name))
    }

    /// How the client spelled `lower` (a name as the `http` crate keeps it): its first
    /// occurrence's spelling when it sent the name more than once.
    pub fn spell<'a>(&'a self, lower: &'a str) -> &'a str {
        self.0
            .iter()
            .find(|name| name.eq_ignore_ascii_case(lower))
            .unwrap_or(lower)
    }
}

/// `lower` as the client spelled it, or as it is when no spellings were recorded.
pub(crate) fn spell<'a>(names: Option<&'a ClientHeaderNames>, lower: &'a str) -> &'a str {
    names.map_or(lower, |names| names.spell(lower))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_spelling_of_a_repeated_name_wins() {
        let names = ClientHeaderNames::new(["X-Custom", "accept", "x-CUSTOM"]);
        assert_eq!(names.spell("x-custom"), "X-Custom");
        assert_eq!(names.spell("accept"), "accept");
        assert_eq!(names.spell("host"), "host");
    }

    #[test]
    fn a_record_fits_only_the_headers_it_was_taken_from() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", "1".parse().unwrap());
        headers.append("x-a", "2".parse().unwrap());
        headers.insert("host", "h".parse().unwrap());
        let fitting = ClientHeaderNames::new(["X-A", "Host", "x-a"]);
        assert!(fitting.fits(&headers));
        let short = ClientHeaderNames::new(["X-A", "Host"]);
        assert!(!short.fits(&headers));
        let other = ClientHeaderNames::new(["X-A", "Host", "X-B"]);
        assert!(!other.fits(&headers));
    }
}
