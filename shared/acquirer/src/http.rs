//! The HTTP glue the hub and the notification webhook share: loopback-only listeners, a server
//! that stops when dropped, and the conversions between axum and `mpp_core::edge`.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::response::Response;
use mpp_core::edge::{Inbound, Outbound};
use mpp_core::wire::MAX_BODY_BYTES;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Only loopback addresses: these are simulators and test endpoints.
    #[error("{0} is not a loopback address: this server listens on 127.0.0.1 (or ::1) only")]
    NotLoopback(SocketAddr),
    /// The bind failed.
    #[error("listening on {addr}: {source}")]
    Bind {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Binds `addr`, which must be a loopback address (port 0 picks a free port).
pub async fn bind_loopback(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    if !addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback(addr));
    }
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// A running server; dropping it stops it.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    /// Serves `router` on `listener` in a background task.
    pub fn spawn(listener: TcpListener, router: axum::Router) -> Result<Server, ServeError> {
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            source,
        })?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "server stopped");
            }
        });
        Ok(Server {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish, and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// An axum request as its parts and body bytes. A body past [`MAX_BODY_BYTES`] is not read:
/// the edge gets a body that is just too large and refuses it as `PARAM_ILLEGAL`.
pub async fn read(request: Request) -> (http::request::Parts, Vec<u8>) {
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES + 1).await {
        Ok(b) => b.to_vec(),
        Err(_) => vec![b' '; MAX_BODY_BYTES + 1],
    };
    (parts, bytes)
}

/// The request as the edge sees it.
pub fn inbound<'a>(parts: &'a http::request::Parts, body: &'a [u8]) -> Inbound<'a> {
    Inbound {
        method: parts.method.as_str(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/"),
        headers: &parts.headers,
        body,
    }
}

/// The edge's signed answer as an axum response.
pub fn respond(out: Outbound) -> Response {
    let mut response = Response::new(Body::from(out.body));
    *response.status_mut() = http::StatusCode::from_u16(out.status).unwrap_or(http::StatusCode::OK);
    for (name, value) in out.headers {
        match (
            http::HeaderName::try_from(name.as_str()),
            http::HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(n), Ok(v)) => {
                response.headers_mut().insert(n, v);
            }
            // Our headers are fixed ASCII; a bad one is dropped and logged, never a panic.
            (Err(_), _) | (_, Err(_)) => {
                tracing::error!(header = %name, "unencodable response header dropped")
            }
        }
    }
    response
}
