//! A stand-in for Alipay+'s notifyPayment endpoint on 127.0.0.1: it verifies our signature,
//! signs its answers with the test Alipay+ key, and follows a script (fail, answer F or U, time
//! out, sign with a wrong key) before acknowledging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use crate::harness::keys;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::response::Response;
use mpp_core::flows::wire_time;
use mpp_core::signature::{
    generate_key_pair, sign_headers, verify_with_time_header, KeySet, LocalSigner, VerifyPolicy,
};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// What the receiver does with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Signed S.
    Ack,
    /// HTTP 500, no envelope.
    Fail500,
    /// Signed F `PROCESS_FAIL`.
    AnswerF,
    /// Signed U `UNKNOWN_EXCEPTION`.
    AnswerU,
    /// Waits this long before acking (past the client's timeout).
    Slow(Duration),
    /// S, but signed with a key that is not Alipay+'s.
    WrongKey,
}

/// One request the receiver saw.
#[derive(Clone, Debug)]
pub struct Received {
    /// The path.
    pub path: String,
    /// The body bytes.
    pub body: Vec<u8>,
    /// Whether our signature verified with the MPP's public key.
    pub signature_ok: bool,
}

#[derive(Default)]
struct Script {
    steps: VecDeque<Behaviour>,
    then: Option<Behaviour>,
    received: Vec<Received>,
}

/// The running receiver.
pub struct Receiver {
    /// `http://127.0.0.1:PORT/aps/api/v1/payments/notifyPayment`.
    pub url: String,
    script: Arc<Mutex<Script>>,
}

fn wrong_key() -> &'static LocalSigner {
    static K: OnceLock<LocalSigner> = OnceLock::new();
    K.get_or_init(|| LocalSigner::new(generate_key_pair(2048).unwrap(), 1))
}

impl Receiver {
    /// Starts on a free loopback port: `steps` in order, then `then` for every later request.
    pub async fn start(steps: Vec<Behaviour>, then: Behaviour) -> Receiver {
        let script = Arc::new(Mutex::new(Script {
            steps: steps.into(),
            then: Some(then),
            received: Vec::new(),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new()
            .fallback(serve)
            .with_state(script.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Receiver {
            url: format!("http://{addr}/aps/api/v1/payments/notifyPayment"),
            script,
        }
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }
}

async fn serve(State(script): State<Arc<Mutex<Script>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap().to_vec();
    let path = parts.uri.path().to_string();
    let policy = VerifyPolicy {
        time_header: "Request-Time",
        client_ids: None,
        keys: KeySet::Single(&keys().mpp_public),
        window: None,
    };
    let signature_ok =
        verify_with_time_header(&policy, "POST", &path, &parts.headers, &body).is_ok();
    let behaviour = {
        let mut s = script.lock().unwrap();
        s.received.push(Received {
            path: path.clone(),
            body: body.clone(),
            signature_ok,
        });
        s.steps
            .pop_front()
            .or_else(|| s.then.clone())
            .unwrap_or(Behaviour::Ack)
    };
    let (code, status, signer): (&str, &str, &LocalSigner) = match &behaviour {
        Behaviour::Ack => ("SUCCESS", "S", keys().alipay.as_ref()),
        Behaviour::AnswerF => ("PROCESS_FAIL", "F", keys().alipay.as_ref()),
        Behaviour::AnswerU => ("UNKNOWN_EXCEPTION", "U", keys().alipay.as_ref()),
        Behaviour::WrongKey => ("SUCCESS", "S", wrong_key()),
        Behaviour::Slow(d) => {
            tokio::time::sleep(*d).await;
            ("SUCCESS", "S", keys().alipay.as_ref())
        }
        Behaviour::Fail500 => {
            return Response::builder()
                .status(500)
                .body(Body::from("boom"))
                .unwrap();
        }
    };
    let answer = format!(
        r#"{{"result":{{"resultCode":"{code}","resultStatus":"{status}","resultMessage":"test"}}}}"#
    );
    let time = wire_time(chrono::Utc::now());
    let headers = sign_headers(
        signer,
        "TEST_ALIPAYPLUS_CLIENT",
        "POST",
        &path,
        "Response-Time",
        &time,
        answer.as_bytes(),
    )
    .await
    .unwrap();
    let mut builder = Response::builder().status(200);
    for (k, v) in headers {
        builder = builder.header(k, v);
    }
    builder.body(Body::from(answer)).unwrap()
}
