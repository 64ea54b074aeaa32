//! Hot reload: the API listener serves whichever gateway is current, and a watcher on the
//! files the stack was started with (`openapi.yaml`, `template.yaml`) builds a new one
//! when they change, so a learner edits and retries without restarting.
//!
//! A new gateway is a new stage deployment: its authorizer cache starts empty, as after
//! `create-deployment` in AWS. A file that does not build (YAML error, a route the
//! emulator refuses, a function it cannot run) is logged in one sentence and the previous
//! gateway keeps serving.
//!
//! Editors save in several events (truncate, write, rename over the file), so the
//! watcher waits until the files have been quiet for [`DEBOUNCE`] and reloads once. Only
//! events that change a file count: reading one (as the reload itself does) is an
//! access event, which would otherwise start the next reload, and the next. It watches
//! the files' directories, not the files: a rename over a watched file would end a watch
//! on the file itself. (notify's debouncer crates report no event kinds, so they cannot
//! drop the access events: the debounce is the few lines below.)

use std::convert::Infallible;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use notify::event::{EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::Error;
use crate::gateway::{self, Gateway};

/// How long the watched files must be quiet before a reload.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// The gateway requests go to, replaceable while the listener runs.
pub(crate) struct LiveGateway {
    current: RwLock<Current>,
    /// Authorizer invocations of the gateways replaced so far, so that the stack's count
    /// covers its whole run.
    retired_invocations: AtomicU64,
    /// Whether the current gateway reads the client's header names
    /// ([`Gateway::reads_header_names`]): the API server records them only then.
    reads_header_names: watch::Sender<bool>,
}

struct Current {
    gateway: Arc<Gateway>,
    /// The stage and the local-only endpoints beside it ([`router`]), for the
    /// requests under `/.local`; every other request goes to the stage directly.
    router: Router,
}

impl LiveGateway {
    pub fn new(gateway: Arc<Gateway>) -> Self {
        let reads_header_names = watch::Sender::new(gateway.reads_header_names());
        LiveGateway {
            current: RwLock::new(Current {
                router: router(gateway.clone()),
                gateway,
            }),
            retired_invocations: AtomicU64::new(0),
            reads_header_names,
        }
    }

    /// Whether the current gateway reads the client's header names, as it changes.
    pub fn reads_header_names(&self) -> watch::Receiver<bool> {
        self.reads_header_names.subscribe()
    }

    /// Where `path` goes: the router (under `/.local`) or the stage.
    fn route(&self, path: &str) -> Route {
        let current = self.read();
        if is_local(path) {
            Route::Router(current.router.clone())
        } else {
            Route::Stage(current.gateway.clone())
        }
    }

    /// Serves `gateway` from the next request on; requests in flight finish on the old one.
    pub fn replace(&self, gateway: Arc<Gateway>) {
        let router = router(gateway.clone());
        let reads_header_names = gateway.reads_header_names();
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let old = std::mem::replace(&mut *current, Current { gateway, router });
        self.retired_invocations
            .fetch_add(old.gateway.authorizer_invocations(), Ordering::Relaxed);
        drop(current);
        self.reads_header_names.send_if_modified(|reads| {
            std::mem::replace(reads, reads_header_names) != reads_header_names
        });
    }

    /// Authorizer invocations since the stack started, across reloads (an invocation
    /// still in flight on a replaced gateway when it was replaced is not counted).
    pub fn authorizer_invocations(&self) -> u64 {
        // Under the lock `replace` writes both under, so no swap falls in between.
        let current = self.read();
        self.retired_invocations.load(Ordering::Relaxed) + current.gateway.authorizer_invocations()
    }

    /// Each function's invocations on the current gateway (since the files were last
    /// loaded), as `GET /.local/invocations` answers.
    pub fn invocations(&self) -> apigw::request_trace::Invocations {
        self.read().gateway.invocations()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// What one gateway serves: the stage (and whatever the emulator serves beside it, which
/// is then reloaded with it).
fn router(gateway: Arc<Gateway>) -> Router {
    // The stage, and beside it the local-only trace endpoints (never deployed).
    apigw::trace::local_app(gateway.clone()).merge(gateway::app(gateway))
}

enum Route {
    Router(Router),
    Stage(Arc<Gateway>),
}

/// Whether `path` is under [`request_trace::LOCAL_PREFIX`] (the prefix itself, or
/// below it), where the local-only endpoints are.
fn is_local(path: &str) -> bool {
    path.strip_prefix(apigw::request_trace::LOCAL_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The API's HTTP service: each request goes to the gateway current when it arrives.
/// The stage's requests skip the router: routing them through it (a path lookup, boxed
/// services cloned per request, a second service call) cost the load bench about 4% of
/// the server's CPU.
#[derive(Clone)]
pub(crate) struct Api(pub Arc<LiveGateway>);

impl tower::Service<Request<Body>> for Api {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let route = self.0.route(request.uri().path());
        Box::pin(async move {
            Ok(match route {
                Route::Router(router) => router.oneshot(request).await.into_response(),
                Route::Stage(gateway) => gateway::handle(gateway, request).await,
            })
        })
    }
}

/// Builds the gateway anew from the files, as at start-up.
pub(crate) type Rebuild = Box<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Arc<Gateway>, Error>> + Send>> + Send + Sync,
>;

/// Watches `files`; stops when dropped.
pub(crate) struct Watcher {
    files: Vec<PathBuf>,
    _watcher: RecommendedWatcher,
    task: JoinHandle<()>,
}

impl Watcher {
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching `files` (each must exist): on a change, `rebuild` and, if it builds,
/// serve the result through `live`.
pub(crate) fn watch(
    files: &[PathBuf],
    live: Arc<LiveGateway>,
    rebuild: Rebuild,
) -> Result<Watcher, Error> {
    let files: Vec<PathBuf> = files
        .iter()
        .map(|f| canonical_file(f))
        .collect::<Result<_, _>>()?;
    let (events, mut received) = mpsc::unbounded_channel::<PathBuf>();
    let watched = files.clone();
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
        let event = match result {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(target: "local::reload", "watching the definition failed: {error}");
                return;
            }
        };
        if !changes_content(&event.kind) {
            return;
        }
        for path in event.paths.into_iter().filter(|p| watched.contains(p)) {
            // The receiver is gone only when the stack stops.
            let _ = events.send(path);
        }
    })
    .map_err(|source| Error::Watch {
        path: files[0].clone(),
        detail: source.to_string(),
    })?;
    let mut dirs: Vec<&Path> = files.iter().filter_map(|f| f.parent()).collect();
    dirs.dedup();
    for dir in dirs {
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|source| Error::Watch {
                path: dir.to_path_buf(),
                detail: source.to_string(),
            })?;
    }
    let task = tokio::spawn(async move {
        while let Some(first) = received.recv().await {
            // Collect until the files have been quiet for DEBOUNCE.
            let mut changed = vec![first];
            while let Ok(Some(path)) = tokio::time::timeout(DEBOUNCE, received.recv()).await {
                if !changed.contains(&path) {
                    changed.push(path);
                }
            }
            changed.sort();
            let names = changed
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" and ");
            match rebuild().await {
                Ok(gateway) => {
                    live.replace(gateway);
                    tracing::info!(
                        target: "local::reload",
                        "reloaded {}: the new definition serves from the next request, with an empty authorizer cache",
                        crate::log_text::escape(&names)
                    );
                }
                Err(error) => tracing::warn!(
                    target: "local::reload",
                    "{} changed but was refused, so the previous definition keeps serving: {}",
                    crate::log_text::escape(&names),
                    crate::log_text::escape(&error.to_string())
                ),
            }
        }
    });
    Ok(Watcher {
        files,
        _watcher: watcher,
        task,
    })
}

/// A write, a new file, a rename or a removal; not a read, an open or a metadata change.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// The file's absolute path with its directory resolved, as the watcher reports it.
fn canonical_file(file: &Path) -> Result<PathBuf, Error> {
    let fail = |detail: String| Error::Watch {
        path: file.to_path_buf(),
        detail,
    };
    let name = file
        .file_name()
        .ok_or_else(|| fail("not a file name".to_owned()))?;
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let dir = dir.canonicalize().map_err(|e| fail(e.to_string()))?;
    Ok(dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::is_local;

    #[test]
    fn only_the_local_prefix_and_what_is_below_it_skip_the_stage() {
        for local in [
            "/.local",
            "/.local/",
            "/.local/trace/x",
            "/.local/invocations",
        ] {
            assert!(is_local(local), "{local}");
        }
        for stage in [
            "/prod/hello",
            "/.localx",
            "/.locals/trace",
            "/",
            "",
            "/prod/.local",
        ] {
            assert!(!is_local(stage), "{stage}");
        }
    }
}
