//! The static server for the built site (`site/dist`), with a generated `config.json`
//! that points the page at the local API and identity provider.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use tower_http::services::ServeDir;

use crate::Error;

/// The page's runtime configuration for the local stack: exactly the three keys the site
/// reads (`googleClientId` null: no Google button; the local sign-in form instead).
pub fn config_json(api_url: &str, idp_url: &str) -> String {
    format!(
        r#"{{"apiUrl": {}, "googleClientId": null, "localSignInUrl": {}}}"#,
        Value::from(api_url),
        Value::from(idp_url)
    )
}

/// Checks that `dir` holds a built site.
pub fn check_site_dir(dir: &Path) -> Result<PathBuf, Error> {
    if dir.join("index.html").is_file() {
        Ok(dir.to_owned())
    } else {
        Err(Error::SiteNotBuilt(dir.to_owned()))
    }
}

/// Serves `dir`, with `config` at `/config.json` whatever the directory holds. Nothing is
/// cached by the browser, so a rebuilt site shows at the next reload.
pub fn app(dir: &Path, config: String) -> Router {
    Router::new()
        .route(
            "/config.json",
            get(move || {
                let config = config.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], config).into_response() }
            }),
        )
        .fallback_service(ServeDir::new(dir).append_index_html_on_directories(true))
        .layer(map_response(no_cache))
}

async fn no_cache(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
