//! The page's HTTP calls, through the browser's `fetch`. Each returns what the plain-Rust
//! state machine needs (`HelloOutcome`, a credential or a `SignInFailure`).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCache, RequestCredentials, RequestInit, RequestMode, Response};

use crate::config::{CONFIG_PATH, SiteConfig};
use crate::state::{HelloOutcome, SignInFailure, Token, credential_from};

/// A request that reached a server: its status and body.
struct Answer {
    status: u16,
    body: String,
}

/// `fetch(url, init)` and read the body. `Err` when no answer could be read: network
/// failure, connection refused, or blocked by CORS (the browser hides which).
async fn fetch(url: &str, init: &RequestInit) -> Result<Answer, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await?
        .dyn_into()?;
    let body = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok(Answer {
        status: response.status(),
        body,
    })
}

fn init(method: &str) -> RequestInit {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_cache(RequestCache::NoStore);
    init.set_credentials(RequestCredentials::Omit);
    init
}

/// Reads and checks `config.json` beside the page. `Err` is the message for the page.
pub async fn load_config() -> Result<SiteConfig, String> {
    let init = init("GET");
    init.set_mode(RequestMode::SameOrigin);
    match fetch(CONFIG_PATH, &init).await {
        Ok(Answer { status: 200, body }) => SiteConfig::parse(&body).map_err(|e| e.to_string()),
        Ok(Answer { status, .. }) => Err(format!("{CONFIG_PATH} could not be loaded ({status})")),
        Err(_) => Err(format!("{CONFIG_PATH} could not be loaded")),
    }
}

/// `GET {api}/hello` with `Authorization: <token>`.
pub async fn get_hello(url: &str, token: &Token) -> HelloOutcome {
    let init = init("GET");
    init.set_mode(RequestMode::Cors);
    match Headers::new().and_then(|headers| {
        headers.set("Authorization", token.as_str())?;
        Ok(headers)
    }) {
        Ok(headers) => init.set_headers(&headers),
        Err(_) => return HelloOutcome::Unreachable,
    }
    match fetch(url, &init).await {
        Ok(Answer { status, body }) => HelloOutcome::Answered { status, body },
        Err(_) => HelloOutcome::Unreachable,
    }
}

/// `POST {local identity provider}/sign-in` with `{"name", "email"}`: the credential.
pub async fn local_sign_in(
    endpoint: &str,
    name: &str,
    email: &str,
) -> Result<String, SignInFailure> {
    let init = init("POST");
    init.set_mode(RequestMode::Cors);
    let body = serde_json::json!({ "name": name, "email": email }).to_string();
    init.set_body(&JsValue::from_str(&body));
    let headers = Headers::new().map_err(|_| SignInFailure::Unreachable)?;
    headers
        .set("Content-Type", "application/json")
        .map_err(|_| SignInFailure::Unreachable)?;
    init.set_headers(&headers);
    match fetch(endpoint, &init).await {
        Ok(Answer { status, body }) => credential_from(status, &body),
        Err(_) => Err(SignInFailure::Unreachable),
    }
}
