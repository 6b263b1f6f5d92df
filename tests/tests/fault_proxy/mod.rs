//! A fault-injecting HTTP proxy in front of DynamoDB Local, on 127.0.0.1. DynamoDB Local never
//! throttles, serialises transactions (so never answers `TransactionConflict`) and never loses an
//! answer; AWS does all three. The proxy makes them happen to every request, deterministically:
//! it counts how often it has seen each request (a transaction by its `ClientRequestToken`,
//! anything else by its exact body: a retry of the same call sends the same body) and
//!
//! - `TransactWriteItems`: the 1st time cancels it with `TransactionConflict` (not forwarded);
//!   the 2nd time forwards it and replaces the answer by a 500 (applied, answer lost: the store
//!   must send it again with the same token, which DynamoDB answers without applying twice);
//!   the 3rd time forwards it.
//! - `BatchGetItem`: 1st time every key comes back unprocessed; 2nd time the answer is lost.
//! - Every other data operation: 1st time `ThrottlingException`; 2nd time forwarded and the answer
//!   lost; 3rd time forwarded.
//! - Table management is forwarded untouched.
//!
//! So every store call meets a fault of each kind its operation can have, and must still give
//! the memory store's answer.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Largest request head read (the SDK's are about 2 KB).
const HEAD_LINES_MAX: usize = 100;
/// Largest request body read (DynamoDB's own request limit).
const BODY_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Requests served on one keep-alive connection before it is closed.
const REQUESTS_PER_CONNECTION_MAX: u32 = 100_000;

const PREFIX: &str = "com.amazonaws.dynamodb.v20120810#";

/// How many faults of each kind were injected.
#[derive(Debug, Default)]
pub struct Injected {
    /// Transactions cancelled with `TransactionConflict`.
    pub conflicts: AtomicU64,
    /// Requests answered with `ThrottlingException`.
    pub throttles: AtomicU64,
    /// Requests applied whose answer was replaced by a 500.
    pub lost_answers: AtomicU64,
    /// `BatchGetItem`s answered with every key unprocessed.
    pub unprocessed: AtomicU64,
}

/// Which faults the proxy injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Each request meets every fault its operation can have once, then goes through.
    EveryKindOnce,
    /// Every data request is applied and its answer lost.
    LoseEveryAnswer,
    /// Every data request is throttled.
    ThrottleEverything,
}

/// A running proxy.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The faults injected so far.
    pub injected: Arc<Injected>,
}

struct State {
    schedule: Schedule,
    upstream: String,
    client: reqwest::Client,
    counts: Mutex<HashMap<u64, u64>>,
    injected: Arc<Injected>,
}

enum Fault {
    None,
    Conflict,
    Throttle,
    LostAnswer,
    Unprocessed,
}

impl State {
    fn fault(&self, operation: &str, body: &[u8]) -> Fault {
        // A transaction is known by its token (its items may be serialised in another order when
        // rebuilt); anything else by its exact body.
        let token = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v["ClientRequestToken"].as_str().map(str::to_string));
        let key = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            h.write(operation.as_bytes());
            match &token {
                Some(t) => h.write(t.as_bytes()),
                None => h.write(body),
            }
            h.finish()
        };
        let n = {
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            let c = counts.entry(key).or_default();
            *c += 1;
            *c
        };
        let data = matches!(
            operation,
            "TransactWriteItems"
                | "BatchGetItem"
                | "GetItem"
                | "PutItem"
                | "UpdateItem"
                | "Query"
                | "Scan"
        );
        match self.schedule {
            Schedule::LoseEveryAnswer if data => return Fault::LostAnswer,
            Schedule::ThrottleEverything if data => return Fault::Throttle,
            _ => {}
        }
        match (operation, n % 3) {
            ("TransactWriteItems", 1) => Fault::Conflict,
            ("BatchGetItem", 1) => Fault::Unprocessed,
            ("GetItem" | "PutItem" | "UpdateItem" | "Query" | "Scan", 1) => Fault::Throttle,
            (
                "TransactWriteItems" | "BatchGetItem" | "GetItem" | "PutItem" | "UpdateItem"
                | "Query" | "Scan",
                2,
            ) => Fault::LostAnswer,
            _ => Fault::None,
        }
    }

    async fn forward(
        &self,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut req = self.client.post(&self.upstream).body(body);
        for (k, v) in headers {
            if !matches!(k.as_str(), "host" | "content-length" | "connection") {
                req = req.header(k, v);
            }
        }
        // The upstream failing is the proxy's own failure: answer like an unreachable server.
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => return error(503, "ServiceUnavailable", json!({"message": e.to_string()})),
        };
        let status = resp.status().as_u16();
        let keep: Vec<(String, String)> = resp
            .headers()
            .iter()
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "content-type" | "x-amz-crc32" | "x-amzn-requestid"
                )
            })
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let bytes = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return error(503, "ServiceUnavailable", json!({"message": e.to_string()})),
        };
        (status, keep, bytes)
    }

    async fn handle(
        &self,
        operation: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        match self.fault(operation, &body) {
            Fault::None => self.forward(headers, body).await,
            Fault::Conflict => {
                self.injected.conflicts.fetch_add(1, Ordering::Relaxed);
                let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let count = request["TransactItems"]
                    .as_array()
                    .map(Vec::len)
                    .unwrap_or(1);
                let reasons: Vec<Value> = (0..count)
                    .map(|i| if i == 0 { json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}) } else { json!({"Code": "None"}) })
                    .collect();
                error(
                    400,
                    "TransactionCanceledException",
                    json!({"CancellationReasons": reasons}),
                )
            }
            Fault::Throttle => {
                self.injected.throttles.fetch_add(1, Ordering::Relaxed);
                error(400, "ThrottlingException", json!({}))
            }
            Fault::LostAnswer => {
                self.injected.lost_answers.fetch_add(1, Ordering::Relaxed);
                let _applied = self.forward(headers, body).await;
                error(500, "InternalServerError", json!({}))
            }
            Fault::Unprocessed => {
                self.injected.unprocessed.fetch_add(1, Ordering::Relaxed);
                let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let out = json!({"Responses": {}, "UnprocessedKeys": request["RequestItems"]});
                (
                    200,
                    vec![(
                        "content-type".to_string(),
                        "application/x-amz-json-1.0".to_string(),
                    )],
                    out.to_string().into_bytes(),
                )
            }
        }
    }
}

fn error(status: u16, kind: &str, extra: Value) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut body =
        json!({"__type": format!("{PREFIX}{kind}"), "message": format!("injected {kind}")});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    (
        status,
        vec![(
            "content-type".to_string(),
            "application/x-amz-json-1.0".to_string(),
        )],
        body.to_string().into_bytes(),
    )
}

/// Starts a proxy to `upstream` on this test's runtime; it stops with the runtime.
pub async fn start(upstream: &str, schedule: Schedule) -> Proxy {
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("binding a loopback port for the proxy: {e}"),
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(e) => panic!("the proxy's address: {e}"),
    };
    let injected = Arc::new(Injected::default());
    let state = Arc::new(State {
        schedule,
        upstream: upstream.to_string(),
        client: mpp_client::http_client_builder()
            .and_then(|b| {
                b.build()
                    .map_err(|e| mpp_client::CallError::Transport(e.to_string()))
            })
            .unwrap_or_else(|e| panic!("the proxy's HTTP client: {e}")),
        counts: Mutex::new(HashMap::new()),
        injected: injected.clone(),
    });
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, state.clone()));
        }
    });
    Proxy { url, injected }
}

async fn serve(stream: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let mut conn = BufReader::new(stream);
    for _ in 0..REQUESTS_PER_CONNECTION_MAX {
        let mut headers = Vec::new();
        let mut request_line = String::new();
        if conn.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        for _ in 0..HEAD_LINES_MAX {
            let mut line = String::new();
            if conn.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if length > BODY_BYTES_MAX {
            return Ok(());
        }
        let mut body = vec![0; length];
        conn.read_exact(&mut body).await?;
        let target = header("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or("").to_string();
        let (status, out_headers, out) = state.handle(&operation, &headers, body).await;
        let mut response = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", out.len());
        for (k, v) in out_headers {
            response.push_str(&format!("{k}: {v}\r\n"));
        }
        response.push_str("\r\n");
        let s = conn.get_mut();
        s.write_all(response.as_bytes()).await?;
        s.write_all(&out).await?;
        s.flush().await?;
    }
    Ok(())
}
