//! Binding the local stack's servers; how they serve (deadlines, Host allowlist,
//! graceful stop) is `loopback_guard::serve`, shared with the Lambda Runtime API.

use std::net::{Ipv4Addr, SocketAddr};

use apigw::ClientHeaderNames;
use loopback_guard::serve::HeadRecording;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use loopback_guard::serve::{App, Limits, Server, local_addr};

use crate::Error;

/// Binds 127.0.0.1:`port` for the server called `name` (in the error).
pub(crate) async fn bind(name: &'static str, port: u16) -> Result<TcpListener, Error> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr).await.map_err(|source| Error::Bind {
        server: name,
        addr,
        source,
    })
}

/// Serves the emulator's `app`: while `reads_header_names` (the current definition's
/// [`apigw::Gateway::reads_header_names`]), each request carries its header names as
/// the client spelled them ([`apigw::ClientHeaderNames`]).
pub(crate) fn spawn_api(
    listener: TcpListener,
    app: impl App,
    limits: Limits,
    reads_header_names: watch::Receiver<bool>,
) -> Server {
    let recording = HeadRecording {
        on_head: |names, extensions| {
            extensions.insert(ClientHeaderNames::recorded(names));
        },
        wanted: reads_header_names,
    };
    Server::spawn_recording_heads(listener, app, limits, recording)
}
