//! A JWKS endpoint on 127.0.0.1 whose behaviour a test changes at will.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

/// What the server answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    /// 200 with the JWKS and `Cache-Control: public, max-age=N` when set.
    Serve { jwks: Value, max_age: Option<u64> },
    /// 503, as a failing key server would.
    Unavailable,
    /// 200 with a body that is not a JWKS.
    Garbage(String),
}

#[derive(Debug)]
struct Shared {
    behaviour: Mutex<Behaviour>,
    fetches: AtomicUsize,
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
        });
        let app = Router::new()
            .route("/oauth2/v3/certs", get(certs))
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
        format!("http://{}/oauth2/v3/certs", self.addr)
    }

    /// How many requests the server has answered.
    pub fn fetches(&self) -> usize {
        self.shared.fetches.load(Ordering::SeqCst)
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
    let behaviour = shared.behaviour.lock().expect("lock").clone();
    match behaviour {
        Behaviour::Serve { jwks, max_age } => {
            let mut response = axum::Json(jwks).into_response();
            if let Some(age) = max_age {
                let value = HeaderValue::from_str(&format!(
                    "public, max-age={age}, must-revalidate, no-transform"
                ))
                .expect("header value");
                response.headers_mut().insert(header::CACHE_CONTROL, value);
            }
            response
        }
        Behaviour::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "down for the test").into_response()
        }
        Behaviour::Garbage(body) => (StatusCode::OK, body).into_response(),
    }
}

/// A URL on 127.0.0.1 where nothing listens (connection refused).
pub async fn closed_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}/oauth2/v3/certs")
}
