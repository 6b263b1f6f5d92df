//! A TCP proxy on 127.0.0.1 that can stop answering: in front of DynamoDB Local or moto's KMS,
//! it forwards bytes both ways until it is told to stall; from then on it accepts connections
//! and reads what it is sent, and never replies (not even by closing) — the way a dependency
//! hangs behind a broken network path. Told to forward again, new connections go through (the
//! clients drop the connections they abandoned, so nothing half-sent is replayed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bytes read at a time.
const CHUNK_BYTES: usize = 16 * 1024;
/// Reads on one connection before the proxy drops it (far more than any test sends).
const CHUNKS_PER_CONNECTION_MAX: u32 = 1_000_000;

/// A running proxy; it stops with the test's runtime.
pub struct Stall {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stalled: Arc<AtomicBool>,
    held: Arc<AtomicU64>,
}

impl Stall {
    /// A proxy to `upstream` (`http://127.0.0.1:PORT`), forwarding.
    pub async fn start(upstream: &str) -> Stall {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .replace("localhost", "127.0.0.1")
            .parse()
            .unwrap_or_else(|e| panic!("upstream {upstream} is not http://IP:PORT: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stalled = Arc::new(AtomicBool::new(false));
        let held = Arc::new(AtomicU64::new(0));
        let (s, h) = (stalled.clone(), held.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(connection(client, upstream, s.clone(), h.clone()));
            }
        });
        Stall { url, stalled, held }
    }

    /// Stops answering (connections already open go silent too).
    pub fn stall(&self) {
        self.stalled.store(true, Ordering::SeqCst);
    }

    /// Forwards again.
    pub fn resume(&self) {
        self.stalled.store(false, Ordering::SeqCst);
    }

    /// Chunks of requests received while stalled and never answered.
    pub fn swallowed(&self) -> u64 {
        self.held.load(Ordering::SeqCst)
    }
}

async fn connection(
    mut client: TcpStream,
    upstream: SocketAddr,
    stalled: Arc<AtomicBool>,
    held: Arc<AtomicU64>,
) {
    if stalled.load(Ordering::SeqCst) {
        swallow(&mut client, &held).await;
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up_stalled = stalled.clone();
    let up_held = held.clone();
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; CHUNK_BYTES];
        for _ in 0..CHUNKS_PER_CONNECTION_MAX {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if up_stalled.load(Ordering::SeqCst) {
                // Accepted and read, never passed on.
                up_held.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; CHUNK_BYTES];
    for _ in 0..CHUNKS_PER_CONNECTION_MAX {
        let n = match server_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stalled.load(Ordering::SeqCst) {
            continue;
        }
        if client_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = up.await;
}

/// Reads and discards until the client gives up; never writes, never closes first.
async fn swallow(client: &mut TcpStream, held: &AtomicU64) {
    let mut buf = vec![0u8; CHUNK_BYTES];
    for _ in 0..CHUNKS_PER_CONNECTION_MAX {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                held.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}
