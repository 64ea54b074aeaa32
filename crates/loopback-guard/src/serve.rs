//! How every server on 127.0.0.1 listens: behind the Host allowlist
//! ([`crate::host_check`]), with a deadline for the request head and (unless the
//! server long-polls) for the whole request, and a graceful stop. The local stack's
//! API, identity provider and site, and `lambda-runners`' Runtime API use it.
//!
//! The accept loop is written out (hyper's HTTP/1 connection builder, as in axum's
//! `serve-with-hyper` example) because `axum::serve` sets no timer, so hyper's header
//! read timeout never fires under it: a client that opens a connection and never finishes
//! its headers would hold it forever.
//!
//! A server that records request heads ([`HeadRecording`]) records a connection's only
//! while the app reads the names: recording is about a tenth of a cached gateway
//! request's CPU (load bench). A connection accepted while they are not read closes,
//! after the response in flight, as soon as they are, so the client's next request comes
//! on a recorded one.
//!
//! The Host check and the request deadline are one hand-written service ([`Guarded`])
//! rather than axum middleware and tower-http's `TimeoutLayer`: each layer boxed and
//! cloned services per request, about a quarter of the emulator's allocations per
//! request (uprobes on the allocator, load bench).

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Extensions, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tower::{Service, ServiceExt};

use crate::head_record::{HeadNames, Recording};
use crate::host_check::{self, AllowedHosts};

/// What a server serves: any tower service of axum requests that always answers (an
/// axum `Router`, or a hand-written dispatcher).
pub trait App:
    Service<Request<Body>, Response = Response, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> App for S where
    S: Service<Request<Body>, Response = Response, Error = Infallible, Future: Send + 'static>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// How long a server may take to finish in-flight requests when stopping.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The deadlines a server applies to every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From the moment a server waits for a request head (a new connection, or an idle
    /// keep-alive one) until the head is complete; past it the connection is closed
    /// without an answer.
    pub header_read_timeout: Duration,
    /// From a complete head until the response starts (reading the body included); past
    /// it the answer is 408 with an empty body.
    pub request_timeout: Duration,
}

impl Default for Limits {
    /// 10 s for the head (a browser sends it at once); 40 s for the request, above the
    /// authorizer's and hello's 10 s each and API Gateway's 29 s integration timeout.
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(40),
        }
    }
}

/// What a server hands each request of a connection along with it: the header names
/// of its head as the client spelled them ([`crate::head_record`]), put into the
/// request's extensions as the app expects them.
pub type OnHead = fn(HeadNames, &mut Extensions);

/// How a server records its requests' header names as the client spelled them.
#[derive(Debug, Clone)]
pub struct HeadRecording {
    /// Hands each request its names.
    pub on_head: OnHead,
    /// Whether the app reads the names now (it may change, as when the local stack
    /// reloads its definition). Read when a connection is accepted: one accepted while
    /// it is `false` is not recorded, and closes gracefully once it turns `true`.
    pub wanted: watch::Receiver<bool>,
}

/// A server task and the means to stop it gracefully.
#[derive(Debug)]
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    /// Serves `app` on `listener` with `limits` until stopped.
    pub fn spawn(listener: TcpListener, app: impl App, limits: Limits) -> Self {
        Self::start(
            listener,
            app,
            limits.header_read_timeout,
            Some(limits.request_timeout),
            None,
        )
    }

    /// As [`Server::spawn`], and while `recording.wanted`, each request carries the
    /// header names of its head as the client spelled them, through `recording.on_head`.
    pub fn spawn_recording_heads(
        listener: TcpListener,
        app: impl App,
        limits: Limits,
        recording: HeadRecording,
    ) -> Self {
        Self::start(
            listener,
            app,
            limits.header_read_timeout,
            Some(limits.request_timeout),
            Some(recording),
        )
    }

    /// A server whose requests may wait as long as they like once their head is in
    /// (a long poll, as the Lambda Runtime API's `next`); heads still have
    /// `header_read_timeout`.
    pub fn spawn_long_polling(
        listener: TcpListener,
        app: impl App,
        header_read_timeout: Duration,
    ) -> Self {
        Self::start(listener, app, header_read_timeout, None, None)
    }

    fn start(
        listener: TcpListener,
        app: impl App,
        header_read_timeout: Duration,
        request_timeout: Option<Duration>,
        recording: Option<HeadRecording>,
    ) -> Self {
        let addr = local_addr(&listener);
        let app = Guarded {
            app,
            allowed: Arc::new(AllowedHosts::new(addr.port())),
            request_timeout,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(
            listener,
            app,
            header_read_timeout,
            recording,
            stopped,
        ));
        Server { addr, stop, task }
    }

    /// Stops accepting, lets in-flight requests finish (up to a grace period).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(SHUTDOWN_GRACE * 2, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }

    /// Stops at once: every connection is dropped.
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// Every request of a server, in order: the Host allowlist ([`host_check::refusal`]),
/// then the app, which must start its response within `request_timeout` (else 408 with
/// an empty body, as tower-http's `TimeoutLayer` answered before).
#[derive(Clone)]
struct Guarded<S> {
    app: S,
    allowed: Arc<AllowedHosts>,
    request_timeout: Option<Duration>,
}

impl<S: App> Service<Request<Body>> for Guarded<S> {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.app.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if let Some(refusal) = host_check::refusal(&self.allowed, &request) {
            return Box::pin(std::future::ready(Ok(refusal)));
        }
        // hyper's adapter calls a fresh clone of this service for each request, made
        // ready above: no second clone of the app.
        let answer = self.app.call(request);
        let timeout = self.request_timeout;
        Box::pin(async move {
            match timeout {
                Some(timeout) => match tokio::time::timeout(timeout, answer).await {
                    Ok(answer) => answer,
                    Err(_) => Ok(StatusCode::REQUEST_TIMEOUT.into_response()),
                },
                None => answer.await,
            }
        })
    }
}

/// What every connection of a server watches, to know when to close gracefully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Watched {
    /// The server stops: every connection closes.
    stopping: bool,
    /// The app reads header names: the connections not recording them close.
    names_wanted: bool,
}

async fn serve<S: App>(
    listener: TcpListener,
    app: Guarded<S>,
    header_read_timeout: Duration,
    recording: Option<HeadRecording>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let (on_head, mut wanted) = match recording {
        Some(HeadRecording { on_head, wanted }) => (Some(on_head), Some(wanted)),
        None => (None, None),
    };
    // One channel per server, so a connection waits on one thing, polled at each of its
    // wake-ups.
    let (watched, _) = watch::channel(Watched {
        stopping: false,
        names_wanted: wanted.as_ref().is_some_and(|w| *w.borrow()),
    });
    // Dropping the set (when this task ends or is aborted) aborts every connection.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        // Out of file descriptors and the like: wait, don't spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let recorded = on_head.is_some() && watched.borrow().names_wanted;
                let (stream, heads) = Recording::new(stream, recorded);
                let on_head = on_head.filter(|_| recorded);
                // The gateway reads the client's address as axum's ConnectInfo.
                let service = app.clone().map_request(move |request: hyper::Request<Incoming>| {
                    let mut request = request.map(Body::new);
                    request.extensions_mut().insert(ConnectInfo(remote));
                    if let Some(on_head) = on_head
                        && let Some(names) = heads.take()
                    {
                        on_head(names, request.extensions_mut());
                    }
                    request
                });
                let connection = http.serve_connection(
                    TokioIo::new(stream),
                    TowerToHyperService::new(service),
                );
                let mut watch = watched.subscribe();
                connections.spawn(async move {
                    let mut connection = std::pin::pin!(connection);
                    let close = watch.wait_for(|w| w.stopping || (w.names_wanted && !recorded));
                    tokio::select! {
                        biased;
                        _ = connection.as_mut() => return,
                        // Also when the server's task is gone (it aborts this one then).
                        _ = close => connection.as_mut().graceful_shutdown(),
                    }
                    // The response in flight is finished; an idle connection closes.
                    let _ = connection.await;
                });
            }
            changed = async { wanted.as_mut()?.changed().await.ok() }, if wanted.is_some() => {
                match changed {
                    Some(()) => {
                        let now = wanted.as_ref().is_some_and(|w| *w.borrow());
                        watched.send_modify(|w| w.names_wanted = now);
                    }
                    // The app no longer says: what it said last stays.
                    None => wanted = None,
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = &mut stopped => break,
        }
    }
    // No more connections: the port refuses from here on.
    drop(listener);
    watched.send_modify(|w| w.stopping = true);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// The address `listener` is bound to (127.0.0.1:0 if the system cannot say).
pub fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
}
