//! The page's HTTP calls, through the browser's `fetch`. Each returns what the plain-Rust
//! state machine and the "How it works" view need (an [`Answer`], a credential or a
//! `SignInFailure`, a trace).

use request_trace::RequestTrace;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCache, RequestCredentials, RequestInit, RequestMode, Response};

use crate::config::{CONFIG_PATH, SiteConfig};
use crate::error::Error;
use crate::hops::{Answer, trace_from};
use crate::state::{SignInFailure, Token, credential_from};

/// `fetch(url, init)` and read the body. `Err` when no answer could be read: network
/// failure, connection refused, or blocked by CORS (the browser hides which).
async fn fetch(url: &str, init: &RequestInit) -> Result<Answer, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await?
        .dyn_into()?;
    let headers = header_list(&response.headers());
    let body = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok(Answer {
        status: response.status(),
        headers,
        body,
    })
}

/// The headers the browser lets the page read, as `fetch` lists them (lower-case names,
/// sorted; a cross-origin answer shows only CORS-safelisted and exposed ones).
fn header_list(headers: &Headers) -> Vec<(String, String)> {
    let Ok(Some(entries)) = js_sys::try_iter(headers) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pair: js_sys::Array = entry.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
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
        Ok(Answer {
            status: 200, body, ..
        }) => SiteConfig::parse(&body).map_err(|e| e.to_string()),
        Ok(Answer { status, .. }) => Err(format!("{CONFIG_PATH} could not be loaded ({status})")),
        Err(_) => Err(format!("{CONFIG_PATH} could not be loaded")),
    }
}

/// `GET {api}/hello` with `Authorization: <token>`: the answer as the page may read it,
/// `None` when there was none (`HelloOutcome::Unreachable`).
pub async fn get_hello(url: &str, token: &Token) -> Option<Answer> {
    let init = init("GET");
    init.set_mode(RequestMode::Cors);
    let headers = Headers::new().ok()?;
    headers.set("Authorization", token.as_str()).ok()?;
    init.set_headers(&headers);
    fetch(url, &init).await.ok()
}

/// The local stack's trace of request `request_id`, from `url` (the API's origin, CORS).
pub async fn get_trace(url: &str, request_id: &str) -> Result<RequestTrace, Error> {
    let init = init("GET");
    init.set_mode(RequestMode::Cors);
    match fetch(url, &init).await {
        Ok(answer) => trace_from(request_id, answer.status, &answer.body),
        Err(_) => Err(Error::TraceUnreachable),
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
        Ok(Answer { status, body, .. }) => credential_from(status, &body),
        Err(_) => Err(SignInFailure::Unreachable),
    }
}
