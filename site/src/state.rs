//! What the page shows, and how it moves from one state to the next: plain Rust, tested on
//! the host. The view (`app`, wasm only) renders [`Page::phase`] and feeds events back.
//!
//! ```text
//! Starting ──config ok──► SignedOut ──sign in──► SigningIn ──credential──► Loading ──200──► Greeting
//!    │                       ▲  ▲                    │                        │
//!    └─config bad─► Misconfigured  └──── sign out ───┼── (any signed-in state) ├─401─► Expired (token dropped)
//!                                                     └─fails─► SignInFailed   ├─403─► Forbidden
//!                                                                              ├─5xx─► ServerError
//!                                                                              └─fetch rejects─► Unreachable
//! ```

use std::fmt;

use serde::Deserialize;

/// A Google-shaped ID token. Held in memory only; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The raw JWT, for the `Authorization` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(<{} bytes>)", self.0.len())
    }
}

/// Where the page is. Each state has a message a non-developer understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Reading `config.json`.
    Starting,
    /// `config.json` is missing or wrong; the detail is for whoever deployed the page.
    Misconfigured(String),
    /// Nobody is signed in.
    SignedOut,
    /// Waiting for the identity provider's token.
    SigningIn,
    /// Waiting for the API's answer.
    Loading,
    /// The API's greeting, shown as text.
    Greeting(String),
    /// 401: the token expired or was not accepted; the token is gone, sign in again.
    Expired,
    /// 403: signed in, but this account is not allowed.
    Forbidden,
    /// The request never got an answer (network down, API stopped, CORS refused).
    Unreachable,
    /// 5xx, or a 200 whose body is not a greeting.
    ServerError(Option<u16>),
    /// Any other status (404, 429, ...).
    Unexpected(u16),
    /// The identity provider did not give us a token.
    SignInFailed(SignInFailure),
}

/// Why getting a token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFailure {
    /// The sign-in service could not be reached.
    Unreachable,
    /// It answered, but not with a token.
    Refused(u16),
    /// It answered 200 without a `credential`.
    NoCredential,
}

impl Phase {
    /// A stable name for the state (the page's `data-state`; tests wait on it).
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Misconfigured(_) => "misconfigured",
            Phase::SignedOut => "signed-out",
            Phase::SigningIn => "signing-in",
            Phase::Loading => "loading",
            Phase::Greeting(_) => "greeting",
            Phase::Expired => "expired",
            Phase::Forbidden => "forbidden",
            Phase::Unreachable => "unreachable",
            Phase::ServerError(_) => "server-error",
            Phase::Unexpected(_) => "unexpected",
            Phase::SignInFailed(_) => "sign-in-failed",
        }
    }

    /// What the page says. For [`Phase::Greeting`] it is the API's message itself.
    pub fn message(&self) -> String {
        match self {
            Phase::Starting => "Loading…".into(),
            Phase::Misconfigured(detail) => format!(
                "This page isn't set up correctly, so signing in is not available. \
                 (For the site's owner: {detail})"
            ),
            Phase::SignedOut => "You're signed out. Sign in to get your greeting.".into(),
            Phase::SigningIn => "Signing you in…".into(),
            Phase::Loading => "Getting your greeting…".into(),
            Phase::Greeting(message) => message.clone(),
            Phase::Expired => {
                "Your sign-in has expired or was not accepted. Please sign in again.".into()
            }
            Phase::Forbidden => "You're signed in, but this account isn't allowed to use this \
                                 service. Sign out and try another account."
                .into(),
            Phase::Unreachable => "We can't reach the greeting service right now. Check your \
                                   connection, then try again."
                .into(),
            Phase::ServerError(Some(status)) => format!(
                "The greeting service had a problem (error {status}). Please try again in a moment."
            ),
            Phase::ServerError(None) => "The greeting service sent an answer we couldn't read. \
                                         Please try again in a moment."
                .into(),
            Phase::Unexpected(status) => format!(
                "The greeting service answered in a way we didn't expect (status {status}). \
                 Please try again later."
            ),
            Phase::SignInFailed(SignInFailure::Unreachable) => {
                "We can't reach the sign-in service. Check your connection, then try again.".into()
            }
            Phase::SignInFailed(SignInFailure::Refused(status)) => {
                format!(
                    "Signing in didn't work (the sign-in service answered {status}). Please try again."
                )
            }
            Phase::SignInFailed(SignInFailure::NoCredential) => {
                "Signing in didn't work (no token came back). Please try again.".into()
            }
        }
    }

    /// Whether this is a problem to draw attention to.
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            Phase::Misconfigured(_)
                | Phase::Expired
                | Phase::Forbidden
                | Phase::Unreachable
                | Phase::ServerError(_)
                | Phase::Unexpected(_)
                | Phase::SignInFailed(_)
        )
    }

    /// Whether waiting for something (the page marks itself busy).
    pub fn is_busy(&self) -> bool {
        matches!(self, Phase::Starting | Phase::SigningIn | Phase::Loading)
    }
}

/// How a `GET /hello` ended, as the browser saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloOutcome {
    /// The API answered (with CORS headers, or the browser would not show us).
    Answered { status: u16, body: String },
    /// `fetch` rejected: network failure, connection refused, or blocked by CORS.
    Unreachable,
}

impl HelloOutcome {
    /// The state this outcome leads to.
    pub fn phase(&self) -> Phase {
        #[derive(Deserialize)]
        struct Greeting {
            message: String,
        }
        match self {
            HelloOutcome::Unreachable => Phase::Unreachable,
            HelloOutcome::Answered { status: 200, body } => {
                match serde_json::from_str::<Greeting>(body) {
                    Ok(greeting) => Phase::Greeting(greeting.message),
                    Err(_) => Phase::ServerError(None),
                }
            }
            HelloOutcome::Answered { status: 401, .. } => Phase::Expired,
            HelloOutcome::Answered { status: 403, .. } => Phase::Forbidden,
            HelloOutcome::Answered { status, .. } if (500..600).contains(status) => {
                Phase::ServerError(Some(*status))
            }
            HelloOutcome::Answered { status, .. } => Phase::Unexpected(*status),
        }
    }
}

/// Reads the local identity provider's answer to `POST /sign-in`: `{"credential": "<jwt>"}`,
/// the same field Google Identity Services hands its callback.
pub fn credential_from(status: u16, body: &str) -> Result<String, SignInFailure> {
    #[derive(Deserialize)]
    struct Answer {
        credential: String,
    }
    if status != 200 {
        return Err(SignInFailure::Refused(status));
    }
    match serde_json::from_str::<Answer>(body) {
        Ok(answer) if !answer.credential.trim().is_empty() => Ok(answer.credential),
        _ => Err(SignInFailure::NoCredential),
    }
}

/// A `GET /hello` to make: its number (answers to older requests are ignored) and token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloRequest {
    /// Matches the answer to the request.
    pub id: u64,
    /// Goes in the `Authorization` header.
    pub token: Token,
}

/// The page's state: the phase and the token (memory only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    phase: Phase,
    token: Option<Token>,
    /// The request whose answer we are waiting for; 0 = none yet.
    request: u64,
    /// Counts sign-in attempts so a late token from an abandoned attempt is ignored.
    sign_in: u64,
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    /// The page before `config.json` is read.
    pub fn new() -> Self {
        Self {
            phase: Phase::Starting,
            token: None,
            request: 0,
            sign_in: 0,
        }
    }

    /// Where the page is.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Whether someone is signed in (a token is held).
    pub fn signed_in(&self) -> bool {
        self.token.is_some()
    }

    /// Whether the sign-in controls should be offered.
    pub fn offers_sign_in(&self) -> bool {
        !self.signed_in()
            && !matches!(
                self.phase,
                Phase::Starting | Phase::Misconfigured(_) | Phase::SigningIn
            )
    }

    /// Whether "Try again" makes sense: signed in, and the last call went wrong in a way
    /// that retrying may fix.
    pub fn can_retry(&self) -> bool {
        self.signed_in()
            && matches!(
                self.phase,
                Phase::Unreachable | Phase::ServerError(_) | Phase::Unexpected(_)
            )
    }

    /// `config.json` was read: `Err` holds what is wrong with it.
    pub fn configured(&mut self, result: Result<(), String>) {
        self.phase = match result {
            Ok(()) => Phase::SignedOut,
            Err(detail) => Phase::Misconfigured(detail),
        };
    }

    /// The local sign-in form was sent; returns the attempt's number for
    /// [`Model::sign_in_failed`] and [`Model::credential_received`].
    pub fn sign_in_started(&mut self) -> u64 {
        self.sign_in += 1;
        self.phase = Phase::SigningIn;
        self.sign_in
    }

    /// The local identity provider gave no token for attempt `attempt`.
    pub fn sign_in_failed(&mut self, attempt: u64, failure: SignInFailure) {
        if attempt == self.sign_in && self.phase == Phase::SigningIn {
            self.phase = Phase::SignInFailed(failure);
        }
    }

    /// A token arrived (Google's callback, or the local form's attempt `attempt`; Google's
    /// callback passes `None`). Returns the API call to make, if any.
    pub fn credential_received(
        &mut self,
        attempt: Option<u64>,
        credential: String,
    ) -> Option<HelloRequest> {
        if attempt.is_some_and(|attempt| attempt != self.sign_in || self.phase != Phase::SigningIn)
        {
            return None;
        }
        if matches!(self.phase, Phase::Starting | Phase::Misconfigured(_)) {
            return None;
        }
        self.token = Some(Token(credential));
        self.call_hello()
    }

    /// "Try again": repeat the call with the token held.
    pub fn retry(&mut self) -> Option<HelloRequest> {
        if self.can_retry() {
            self.call_hello()
        } else {
            None
        }
    }

    fn call_hello(&mut self) -> Option<HelloRequest> {
        let token = self.token.clone()?;
        self.request += 1;
        self.phase = Phase::Loading;
        Some(HelloRequest {
            id: self.request,
            token,
        })
    }

    /// The answer to request `id`. Answers to older requests, or arriving after sign-out,
    /// change nothing. A 401 drops the token: it will not work again. Returns whether the
    /// answer was taken (so the page shows how *this* request went, never a stale one).
    pub fn hello_answered(&mut self, id: u64, outcome: &HelloOutcome) -> bool {
        if id != self.request || self.phase != Phase::Loading || !self.signed_in() {
            return false;
        }
        self.phase = outcome.phase();
        if self.phase == Phase::Expired {
            self.token = None;
        }
        true
    }

    /// Forgets the token and returns to signed out (from any state but the unconfigured ones).
    pub fn sign_out(&mut self) {
        self.token = None;
        if !matches!(self.phase, Phase::Starting | Phase::Misconfigured(_)) {
            self.phase = Phase::SignedOut;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, body: &str) -> HelloOutcome {
        HelloOutcome::Answered {
            status,
            body: body.into(),
        }
    }

    fn signed_out() -> Model {
        let mut model = Model::new();
        model.configured(Ok(()));
        model
    }

    /// Signed in through the local form, waiting for the API.
    fn loading() -> (Model, HelloRequest) {
        let mut model = signed_out();
        let attempt = model.sign_in_started();
        let request = model
            .credential_received(Some(attempt), "a.b.c".into())
            .unwrap();
        (model, request)
    }

    #[test]
    fn greeting_is_the_api_message_exactly() {
        let name = r#"O'Brien "Bob" <b>x</b>"#;
        let body = serde_json::json!({ "message": format!("Hello {name}!") }).to_string();
        assert_eq!(
            answered(200, &body).phase(),
            Phase::Greeting(r#"Hello O'Brien "Bob" <b>x</b>!"#.into())
        );
        assert_eq!(
            answered(200, &body).phase().message(),
            r#"Hello O'Brien "Bob" <b>x</b>!"#
        );
    }

    #[test]
    fn maps_statuses_to_states() {
        assert_eq!(
            answered(401, r#"{"message":"Unauthorized"}"#).phase(),
            Phase::Expired
        );
        assert_eq!(answered(403, "").phase(), Phase::Forbidden);
        assert_eq!(answered(500, "").phase(), Phase::ServerError(Some(500)));
        assert_eq!(answered(502, "x").phase(), Phase::ServerError(Some(502)));
        assert_eq!(answered(599, "").phase(), Phase::ServerError(Some(599)));
        assert_eq!(answered(404, "").phase(), Phase::Unexpected(404));
        assert_eq!(answered(429, "").phase(), Phase::Unexpected(429));
        assert_eq!(HelloOutcome::Unreachable.phase(), Phase::Unreachable);
    }

    #[test]
    fn a_200_without_a_greeting_is_a_server_problem() {
        for body in ["", "<html>", r#"{"msg":"hi"}"#, r#"{"message":7}"#] {
            assert_eq!(
                answered(200, body).phase(),
                Phase::ServerError(None),
                "{body}"
            );
        }
    }

    #[test]
    fn every_state_has_a_plain_message_and_a_name() {
        let phases = [
            Phase::Starting,
            Phase::Misconfigured("config.json: x".into()),
            Phase::SignedOut,
            Phase::SigningIn,
            Phase::Loading,
            Phase::Greeting("Hello Jane!".into()),
            Phase::Expired,
            Phase::Forbidden,
            Phase::Unreachable,
            Phase::ServerError(Some(503)),
            Phase::ServerError(None),
            Phase::Unexpected(404),
            Phase::SignInFailed(SignInFailure::Unreachable),
            Phase::SignInFailed(SignInFailure::Refused(400)),
            Phase::SignInFailed(SignInFailure::NoCredential),
        ];
        for phase in &phases {
            let message = phase.message();
            assert!(!message.is_empty());
            assert!(!message.contains("CORS"), "{message}");
            assert!(!phase.name().is_empty());
        }
        assert!(Phase::Expired.message().contains("sign in again"));
        assert!(Phase::Unreachable.message().contains("can't reach"));
        assert!(Phase::ServerError(Some(503)).message().contains("503"));
    }

    #[test]
    fn local_sign_in_reads_the_credential() {
        assert_eq!(
            credential_from(200, r#"{"credential":"a.b.c"}"#),
            Ok("a.b.c".into())
        );
        assert_eq!(
            credential_from(400, r#"{"credential":"a.b.c"}"#),
            Err(SignInFailure::Refused(400))
        );
        assert_eq!(
            credential_from(200, r#"{"token":"a.b.c"}"#),
            Err(SignInFailure::NoCredential)
        );
        assert_eq!(
            credential_from(200, r#"{"credential":" "}"#),
            Err(SignInFailure::NoCredential)
        );
    }

    #[test]
    fn starts_waiting_for_configuration() {
        let model = Model::new();
        assert_eq!(model.phase(), &Phase::Starting);
        assert!(!model.offers_sign_in());
        assert!(model.phase().is_busy());
    }

    #[test]
    fn bad_configuration_offers_no_sign_in() {
        let mut model = Model::new();
        model.configured(Err("config.json: x".into()));
        assert_eq!(model.phase().name(), "misconfigured");
        assert!(!model.offers_sign_in());
        assert_eq!(model.credential_received(None, "a.b.c".into()), None);
        model.sign_out();
        assert_eq!(model.phase().name(), "misconfigured");
    }

    #[test]
    fn sign_in_then_greeting() {
        let (mut model, request) = loading();
        assert_eq!(request.id, 1);
        assert_eq!(request.token.as_str(), "a.b.c");
        assert_eq!(model.phase(), &Phase::Loading);
        assert!(model.signed_in());
        assert!(!model.offers_sign_in());
        model.hello_answered(request.id, &answered(200, r#"{"message":"Hello Jane!"}"#));
        assert_eq!(model.phase(), &Phase::Greeting("Hello Jane!".into()));
        assert!(model.signed_in());
        assert!(!model.can_retry());
    }

    #[test]
    fn google_callback_signs_in_without_an_attempt_number() {
        let mut model = signed_out();
        let request = model.credential_received(None, "g.o.o".into()).unwrap();
        assert_eq!(request.token.as_str(), "g.o.o");
        assert_eq!(model.phase(), &Phase::Loading);
    }

    #[test]
    fn sign_out_forgets_the_token() {
        let (mut model, request) = loading();
        model.hello_answered(request.id, &answered(200, r#"{"message":"Hello Jane!"}"#));
        model.sign_out();
        assert_eq!(model.phase(), &Phase::SignedOut);
        assert!(!model.signed_in());
        assert!(model.offers_sign_in());
        assert_eq!(model.retry(), None);
    }

    #[test]
    fn expired_drops_the_token_and_offers_sign_in_again() {
        let (mut model, request) = loading();
        model.hello_answered(request.id, &answered(401, r#"{"message":"Unauthorized"}"#));
        assert_eq!(model.phase(), &Phase::Expired);
        assert!(!model.signed_in());
        assert!(model.offers_sign_in());
        assert!(!model.can_retry());
    }

    #[test]
    fn forbidden_keeps_the_user_signed_in_to_sign_out() {
        let (mut model, request) = loading();
        model.hello_answered(request.id, &answered(403, r#"{"message":"Forbidden"}"#));
        assert_eq!(model.phase(), &Phase::Forbidden);
        assert!(model.signed_in());
        assert!(!model.offers_sign_in());
        assert!(!model.can_retry());
    }

    #[test]
    fn unreachable_can_be_retried_with_the_same_token() {
        let (mut model, request) = loading();
        model.hello_answered(request.id, &HelloOutcome::Unreachable);
        assert_eq!(model.phase(), &Phase::Unreachable);
        assert!(model.can_retry());
        let again = model.retry().unwrap();
        assert_eq!(again.id, 2);
        assert_eq!(again.token, request.token);
        assert_eq!(model.phase(), &Phase::Loading);
        model.hello_answered(again.id, &answered(503, ""));
        assert_eq!(model.phase(), &Phase::ServerError(Some(503)));
        assert!(model.can_retry());
    }

    #[test]
    fn ignores_an_answer_that_arrives_after_sign_out() {
        let (mut model, request) = loading();
        model.sign_out();
        assert!(!model.hello_answered(request.id, &answered(200, r#"{"message":"Hello Jane!"}"#)));
        assert_eq!(model.phase(), &Phase::SignedOut);
    }

    #[test]
    fn ignores_an_answer_to_an_older_request() {
        let (mut model, first) = loading();
        model.sign_out();
        let attempt = model.sign_in_started();
        let second = model
            .credential_received(Some(attempt), "d.e.f".into())
            .unwrap();
        assert!(!model.hello_answered(first.id, &answered(401, "")));
        assert_eq!(model.phase(), &Phase::Loading);
        assert!(model.hello_answered(second.id, &answered(200, r#"{"message":"Hello Dee!"}"#)));
        assert_eq!(model.phase(), &Phase::Greeting("Hello Dee!".into()));
    }

    #[test]
    fn local_sign_in_failure_is_shown_and_sign_in_offered() {
        let mut model = signed_out();
        let attempt = model.sign_in_started();
        assert_eq!(model.phase(), &Phase::SigningIn);
        assert!(!model.offers_sign_in());
        model.sign_in_failed(attempt, SignInFailure::Unreachable);
        assert_eq!(
            model.phase(),
            &Phase::SignInFailed(SignInFailure::Unreachable)
        );
        assert!(model.offers_sign_in());
        assert!(!model.signed_in());
    }

    #[test]
    fn a_late_token_from_an_abandoned_attempt_is_ignored() {
        let mut model = signed_out();
        let first = model.sign_in_started();
        model.sign_in_failed(first, SignInFailure::Refused(500));
        let second = model.sign_in_started();
        assert_eq!(model.credential_received(Some(first), "old".into()), None);
        let request = model
            .credential_received(Some(second), "new".into())
            .unwrap();
        assert_eq!(request.token.as_str(), "new");
    }

    #[test]
    fn token_debug_does_not_show_the_token() {
        let (_, request) = loading();
        let shown = format!("{request:?}");
        assert!(!shown.contains("a.b.c"), "{shown}");
    }
}
