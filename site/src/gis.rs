//! Google Identity Services (`https://accounts.google.com/gsi/client`), bound through
//! wasm-bindgen. The script is added to the page only when `config.json` has a client ID.
//!
//! `initialize({client_id, callback})` registers the callback that receives the ID token
//! as `credential`; `renderButton` draws Google's button; `disableAutoSelect` on sign-out
//! stops Google from signing the same account in again by itself.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Where Google serves the library.
const CLIENT_SCRIPT: &str = "https://accounts.google.com/gsi/client";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["google", "accounts", "id"], js_name = initialize)]
    fn gis_initialize(config: &Object) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, js_namespace = ["google", "accounts", "id"], js_name = renderButton)]
    fn gis_render_button(parent: &web_sys::HtmlElement, options: &Object) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, js_namespace = ["google", "accounts", "id"], js_name = disableAutoSelect)]
    fn gis_disable_auto_select() -> Result<(), JsValue>;
}

fn object(entries: &[(&str, JsValue)]) -> Result<Object, JsValue> {
    let object = Object::new();
    for (key, value) in entries {
        Reflect::set(&object, &JsValue::from_str(key), value)?;
    }
    Ok(object)
}

/// Adds Google's script to the page and waits until it has loaded.
async fn load_script() -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let script: web_sys::HtmlScriptElement = document.create_element("script")?.unchecked_into();
    script.set_src(CLIENT_SCRIPT);
    script.set_async(true);
    let loaded = Promise::new(&mut |resolve: Function, reject: Function| {
        script.set_onload(Some(&resolve));
        script.set_onerror(Some(&reject));
    });
    document
        .head()
        .ok_or_else(|| JsValue::from_str("no <head>"))?
        .append_child(&script)?;
    JsFuture::from(loaded).await.map(|_| ())
}

/// Whether `google.accounts.id` is already there (the page included the script itself).
fn already_loaded() -> bool {
    let global = js_sys::global();
    ["google", "accounts", "id"]
        .iter()
        .try_fold(JsValue::from(global), |object, key| {
            Reflect::get(&object, &JsValue::from_str(key))
                .ok()
                .filter(|value| value.is_object())
        })
        .is_some()
}

/// Loads the library (unless the page already has it) and registers `on_credential` for
/// the ID tokens Google hands over.
pub async fn start(
    client_id: &str,
    on_credential: impl Fn(String) + 'static,
) -> Result<(), JsValue> {
    if !already_loaded() {
        load_script().await?;
    }
    let callback = Closure::<dyn Fn(JsValue)>::new(move |response: JsValue| {
        let credential = Reflect::get(&response, &JsValue::from_str("credential"))
            .ok()
            .and_then(|c| c.as_string());
        if let Some(credential) = credential {
            on_credential(credential);
        }
    });
    let config = object(&[
        ("client_id", JsValue::from_str(client_id)),
        ("callback", callback.as_ref().clone()),
        ("auto_select", JsValue::FALSE),
        ("cancel_on_tap_outside", JsValue::TRUE),
    ])?;
    gis_initialize(&config)?;
    // Google keeps calling it for the page's lifetime.
    callback.forget();
    Ok(())
}

/// Draws Google's "Sign in with Google" button inside `parent`.
pub fn render_button(parent: &web_sys::HtmlElement) -> Result<(), JsValue> {
    let options = object(&[
        ("type", JsValue::from_str("standard")),
        ("theme", JsValue::from_str("outline")),
        ("size", JsValue::from_str("large")),
        ("text", JsValue::from_str("signin_with")),
        ("shape", JsValue::from_str("pill")),
    ])?;
    gis_render_button(parent, &options)
}

/// On sign-out: Google must not sign the same account in again without asking.
pub fn disable_auto_select() {
    // Only fails when the library never loaded; then there is nothing to disable.
    let _ = gis_disable_auto_select();
}
