//! What the "How it works" view could not read, said so that a learner knows what is
//! missing and why. (The page's own states, with their messages, are in `state`.)

/// Why part of the view is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The token is not three dot-separated segments.
    #[error("the token is not a JWT (three base64url parts separated by dots)")]
    NotAJwt,
    /// A segment of the token cannot be read.
    #[error("the token's {part} is {why}")]
    TokenSegment {
        part: &'static str,
        why: &'static str,
    },
    /// The call got no answer, so there is no request ID to ask a trace for.
    #[error(
        "the page got no answer, so it has no request ID to ask for (the local stack's terminal shows every request)"
    )]
    NoAnswer,
    /// The response carried no `x-amzn-RequestId` the page could read.
    #[error(
        "the answer had no x-amzn-RequestId header the page could read (the API must expose it through CORS, Access-Control-Expose-Headers)"
    )]
    NoRequestId,
    /// The request ID has characters no API Gateway request ID has.
    #[error("the answer's x-amzn-RequestId is not a request ID: {0:?}")]
    BadRequestId(String),
    /// The emulator has no trace under that ID (never recorded, or evicted).
    #[error("the local stack has no trace of request {0} (it keeps only the most recent requests)")]
    TraceNotFound(String),
    /// The trace endpoint answered something else.
    #[error("the trace endpoint answered {0}")]
    TraceStatus(u16),
    /// The trace endpoint could not be reached (stack stopped, CORS refused).
    #[error("the trace endpoint could not be reached")]
    TraceUnreachable,
    /// The trace is not a `RequestTrace`.
    #[error("the trace is not in the shape this page reads: {0}")]
    TraceMalformed(String),
}
