//! Binding the local stack's servers; how they serve (deadlines, Host allowlist,
//! graceful stop) is `loopback_guard::serve`, shared with the Lambda Runtime API.

use std::net::{Ipv4Addr, SocketAddr};

use apigw::ClientHeaderNames;
use tokio::net::TcpListener;

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

/// Serves the emulator's `app`: each request carries its header names as the client
/// spelled them ([`apigw::ClientHeaderNames`]).
pub(crate) fn spawn_api(listener: TcpListener, app: impl App, limits: Limits) -> Server {
    Server::spawn_recording_heads(listener, app, limits, |names, extensions| {
        extensions.insert(ClientHeaderNames::recorded(names));
    })
}
