//! A JWKS endpoint on 127.0.0.1 whose behaviour a test changes at will: it serves,
//! fails, redirects, streams endless chunked bodies and stalls, and records every
//! path it is asked for.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use google_tokens::CERTS_PATH;
use serde_json::Value;

/// What the server answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    /// 200 with the JWKS and `Cache-Control: public, max-age=N` when set, as
    /// [`google_tokens::jwks_response`] answers (the local identity provider too).
    Serve { jwks: Value, max_age: Option<u64> },
    /// 503, as a failing key server would.
    Unavailable,
    /// 200 with a body that is not a JWKS.
    Garbage(String),
    /// 302 Found to `location`. Any path other than the certs path is answered with a
    /// usable JWKS, so following the redirect would succeed; [`JwksServer::paths`]
    /// shows whether it was followed.
    Redirect(String),
    /// 200 with a chunked body (no `Content-Length`) of `total` bytes of JSON-ish
    /// filler, in chunks of `chunk` bytes with `pause` between them;
    /// [`JwksServer::streamed`] counts the bytes the client made the server produce.
    Chunked {
        total: usize,
        chunk: usize,
        pause: Duration,
    },
    /// Accepts the request and never answers, not even the status line.
    StallBeforeHeaders,
    /// Sends the status, headers and a first chunk, then nothing ever again.
    StallMidBody,
}

#[derive(Debug)]
struct Shared {
    behaviour: Mutex<Behaviour>,
    fetches: AtomicUsize,
    paths: Mutex<Vec<String>>,
    streamed: AtomicUsize,
    stream_finished: AtomicBool,
}

/// A running JWKS server; stops when dropped.
#[derive(Debug)]
pub struct JwksServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    /// Starts serving `jwks` with `max-age` on an ephemeral port.
    pub async fn start(jwks: Value, max_age: Option<u64>) -> Self {
        Self::start_with(Behaviour::Serve { jwks, max_age }).await
    }

    /// Starts with any behaviour.
    pub async fn start_with(behaviour: Behaviour) -> Self {
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(behaviour),
            fetches: AtomicUsize::new(0),
            paths: Mutex::new(Vec::new()),
            streamed: AtomicUsize::new(0),
            stream_finished: AtomicBool::new(false),
        });
        let app = Router::new()
            .route(CERTS_PATH, get(certs))
            .fallback(elsewhere)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        JwksServer { addr, shared, task }
    }

    /// The JWKS URL to configure.
    pub fn url(&self) -> String {
        format!("http://{}{CERTS_PATH}", self.addr)
    }

    /// How many requests the server has answered.
    pub fn fetches(&self) -> usize {
        self.shared.fetches.load(Ordering::SeqCst)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every path asked for, in order (the certs path and any other).
    pub fn paths(&self) -> Vec<String> {
        self.shared.paths.lock().expect("lock").clone()
    }

    /// Bytes of a [`Behaviour::Chunked`] body produced so far (pulled by the
    /// connection, so written or about to be written to the socket).
    pub fn streamed(&self) -> usize {
        self.shared.streamed.load(Ordering::SeqCst)
    }

    /// Whether a [`Behaviour::Chunked`] body was produced to its end.
    pub fn stream_finished(&self) -> bool {
        self.shared.stream_finished.load(Ordering::SeqCst)
    }

    /// Changes what the next requests get.
    pub fn set(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().expect("lock") = behaviour;
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn certs(State(shared): State<Arc<Shared>>) -> Response {
    shared.fetches.fetch_add(1, Ordering::SeqCst);
    shared
        .paths
        .lock()
        .expect("lock")
        .push(CERTS_PATH.to_owned());
    let behaviour = shared.behaviour.lock().expect("lock").clone();
    match behaviour {
        Behaviour::Serve { jwks, max_age } => google_tokens::jwks_response(&jwks, max_age),
        Behaviour::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "down for the test").into_response()
        }
        Behaviour::Garbage(body) => (StatusCode::OK, body).into_response(),
        Behaviour::Redirect(location) => {
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        Behaviour::Chunked {
            total,
            chunk,
            pause,
        } => chunked(shared, total, chunk, pause),
        Behaviour::StallBeforeHeaders => std::future::pending().await,
        Behaviour::StallMidBody => {
            let first = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(Bytes::from_static(b"{\"keys\": ["))
            });
            let body = Body::from_stream(futures_util::StreamExt::chain(
                first,
                futures_util::stream::pending(),
            ));
            (StatusCode::OK, body).into_response()
        }
    }
}

/// A body of `total` bytes with no `Content-Length` (hyper sends it chunked).
fn chunked(shared: Arc<Shared>, total: usize, chunk: usize, pause: Duration) -> Response {
    let filler = Bytes::from(vec![b' '; chunk]);
    let stream = futures_util::stream::unfold(0usize, move |sent| {
        let (shared, filler) = (shared.clone(), filler.clone());
        async move {
            if sent >= total {
                shared.stream_finished.store(true, Ordering::SeqCst);
                return None;
            }
            if sent > 0 {
                tokio::time::sleep(pause).await;
            }
            let piece = filler.slice(..chunk.min(total - sent));
            shared.streamed.fetch_add(piece.len(), Ordering::SeqCst);
            Some((Ok::<_, std::io::Error>(piece.clone()), sent + piece.len()))
        }
    });
    let mut response = (StatusCode::OK, Body::from_stream(stream)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Any other path (a redirect's target): recorded, and answered with the primary test
/// key's JWKS, so that a client that followed a redirect would get usable keys.
async fn elsewhere(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    shared
        .paths
        .lock()
        .expect("lock")
        .push(uri.path().to_owned());
    axum::Json(crate::keys::jwks(&[crate::keys::PRIMARY])).into_response()
}

/// A URL on 127.0.0.1 where nothing listens (connection refused).
pub async fn closed_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}{CERTS_PATH}")
}
