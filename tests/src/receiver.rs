//! A stand-in for Alipay+'s notifyPayment endpoint on 127.0.0.1: it verifies our signature,
//! signs its answers with the test Alipay+ key, and follows a script (fail, answer F or U, time
//! out, sign with a wrong key) before acknowledging. [`Receiver::answer_as`] makes it another
//! party: the merchant's acquirer behind `mpp hub`, signing with the acquirer's key the hub
//! trusts and checking the hub's signature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use crate::harness::keys;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::response::Response;
use mpp_core::flows::wire_time;
use mpp_core::signature::{
    generate_key_pair, sign_headers, verify_with_time_header, KeySet, LocalSigner, RsaPublicKey,
    VerifyPolicy,
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
    /// Whether the caller's signature verified (the MPP's public key, or the caller's key of
    /// [`Receiver::answer_as`]).
    pub signature_ok: bool,
    /// When it arrived.
    pub at: std::time::Instant,
}

#[derive(Default)]
struct Script {
    steps: VecDeque<Behaviour>,
    then: Option<Behaviour>,
    received: Vec<Received>,
    /// Who it plays, when not Alipay+ towards the MPP.
    party: Option<Party>,
}

/// The keys of another party than Alipay+ (see [`Receiver::answer_as`]).
#[derive(Clone)]
struct Party {
    signer: Arc<LocalSigner>,
    caller_key: RsaPublicKey,
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
            party: None,
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

    /// From now on answers signed by `signer` (S, F and U; `WrongKey` stays a stranger's key)
    /// and checks callers' signatures with `caller_key`: the merchant's acquirer behind
    /// `mpp hub`, with the acquirer key the hub is configured to trust.
    pub fn answer_as(&self, signer: Arc<LocalSigner>, caller_key: RsaPublicKey) {
        self.script.lock().unwrap().party = Some(Party { signer, caller_key });
    }

    /// Appends `steps` to the script (played before the `then` behaviour).
    pub fn push_steps(&self, steps: impl IntoIterator<Item = Behaviour>) {
        self.script.lock().unwrap().steps.extend(steps);
    }
}

async fn serve(State(script): State<Arc<Mutex<Script>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap().to_vec();
    let path = parts.uri.path().to_string();
    let party = script.lock().unwrap().party.clone();
    let policy = VerifyPolicy {
        time_header: "Request-Time",
        client_ids: None,
        keys: KeySet::Single(party.as_ref().map_or(&keys().mpp_public, |p| &p.caller_key)),
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
            at: std::time::Instant::now(),
        });
        s.steps
            .pop_front()
            .or_else(|| s.then.clone())
            .unwrap_or(Behaviour::Ack)
    };
    let own: &LocalSigner = party
        .as_ref()
        .map_or(keys().alipay.as_ref(), |p| p.signer.as_ref());
    let (code, status, signer): (&str, &str, &LocalSigner) = match &behaviour {
        Behaviour::Ack => ("SUCCESS", "S", own),
        Behaviour::AnswerF => ("PROCESS_FAIL", "F", own),
        Behaviour::AnswerU => ("UNKNOWN_EXCEPTION", "U", own),
        Behaviour::WrongKey => ("SUCCESS", "S", wrong_key()),
        Behaviour::Slow(d) => {
            tokio::time::sleep(*d).await;
            ("SUCCESS", "S", own)
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
