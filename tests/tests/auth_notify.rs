//! authNotify (`account-binding.md` §5): the notification a binding transition owes Alipay+ is
//! written in the transition's own atomic write (an outbox item), read back from the store's
//! change feed — the memory store's, and **real stream records of the bindings table on DynamoDB
//! Local** — and delivered by the same code as notifyPayment (`flows::notify::attempt`): signed,
//! retried on the schedule with identical bodies through a receiver that is down, answers F or U,
//! times out or signs wrongly; dead-lettered at the bound; never sent again after an S. No token
//! is at rest: a TOKEN_CREATED / TOKEN_CANCELED item, its queued jobs and its dead letter hold
//! what rebuilds the body, and each attempt rebuilds it with the token key (a key that does not
//! answer fails that attempt, on the same schedule); a pushed code's body is removed from the
//! store once acknowledged; items and jobs written before this (with the body) are delivered as
//! they are.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use chrono::Duration as Minutes;
use mpp_aws::dynamo::local_stream::{LocalStream, StartAt};
use mpp_aws::dynamo::{
    auth_notification_from_image, dynamo_client, AuthNotifyDeliveries, DynamoStore, TableNames,
};
use mpp_client::SignedClient;
use mpp_core::bindings::{
    new_auth_code, AuthNotification, Authorization, AuthorizationNotifyType, Client, IssuedTokens,
    NotifyBody, OutboxEntry, PageChoice, PageOutcome, PrepareOutcome, TokenIntent, TokenOutcome,
};
use mpp_core::clock::{Clock, FixedClock};
use mpp_core::flows::notify::{
    attempt, auth_notify_job, JobOutcome, Notification, NotifyDeps, NotifyJob, ATTEMPTS_MAX,
    RETRY_DELAYS_SECS,
};
use mpp_core::ids::{CustomerId, Secret};
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::{DeliveryStore, Ports};
use mpp_core::token_mac::{TokenMac, TokenMacError, MAC_BYTES};
use mpp_e2e::conformance::t0;
use mpp_e2e::harness::*;
use mpp_e2e::process::dynamodb_endpoint;
use mpp_e2e::receiver::{Behaviour, Receiver};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Polls of a stream before giving up on a record (DynamoDB Local writes it at once).
const POLLS_MAX: u32 = 40;

use mpp_e2e::queues::TestQueue;

/// Where the outbox's notifications come from.
enum Feed {
    Memory(
        tokio::sync::mpsc::UnboundedReceiver<AuthNotification>,
        Arc<MemoryStore>,
    ),
    Dynamo(Box<LocalStream>, DynamoStore),
}

struct Rig {
    ports: Ports,
    feed: Feed,
    /// Every stream record read so far, as DynamoDB JSON text (DynamoDB Local only): what the
    /// table held, to search for secrets.
    raw: Vec<String>,
    deliveries: Arc<dyn DeliveryStore>,
    retries: Arc<TestQueue>,
    dead: Arc<TestQueue>,
}

fn deps(rig: &Rig, url: &str) -> NotifyDeps {
    deps_with(rig, url, test_token_mac())
}

/// The deps with `token_mac` as the key the sender rebuilds token bodies with.
fn deps_with(rig: &Rig, url: &str, token_mac: Arc<dyn TokenMac>) -> NotifyDeps {
    let transport = SignedClient::new(
        "",
        CLIENT_ID,
        keys().mpp.clone(),
        Some(keys().alipay_public.clone()),
        Duration::from_millis(500),
    )
    .unwrap();
    NotifyDeps {
        transport: Arc::new(transport),
        retries: rig.retries.clone(),
        dead_letters: rig.dead.clone(),
        deliveries: rig.deliveries.clone(),
        clock: Arc::new(FixedClock::new(t0())) as Arc<dyn Clock>,
        default_url: url.to_string(),
        token_mac,
    }
}

async fn memory() -> Option<Rig> {
    let store = Arc::new(MemoryStore::new());
    let feed = store.subscribe_auth_notify();
    Some(Rig {
        ports: Ports::of(store.clone()),
        deliveries: Arc::new(mpp_core::bindings::AuthNotifyDeliveries(store.clone())),
        feed: Feed::Memory(feed, store),
        raw: Vec::new(),
        retries: Arc::default(),
        dead: Arc::default(),
    })
}

async fn dynamodb() -> Option<Rig> {
    let endpoint = dynamodb_endpoint()?;
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let tables = TableNames::with_prefix(&format!("an-{}-{n}", std::process::id()));
    let store = DynamoStore::new(dynamo_client(Some(&endpoint)).await, tables.clone());
    store.create_tables().await.unwrap();
    let stream = LocalStream::open(&endpoint, &tables.bindings, StartAt::TrimHorizon)
        .await
        .unwrap();
    Some(Rig {
        ports: Ports::of(Arc::new(store.clone())),
        deliveries: Arc::new(AuthNotifyDeliveries(store.clone())),
        feed: Feed::Dynamo(Box::new(stream), store),
        raw: Vec::new(),
        retries: Arc::default(),
        dead: Arc::default(),
    })
}

static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Rig {
    /// The next `want` notifications the feed gives (for DynamoDB: INSERTs of outbox items on
    /// the bindings table's stream, every other binding write skipped).
    async fn notifications(&mut self, want: usize) -> Vec<AuthNotification> {
        let mut got = Vec::new();
        for _ in 0..POLLS_MAX {
            match &mut self.feed {
                Feed::Memory(rx, _) => {
                    while let Ok(n) = rx.try_recv() {
                        got.push(n);
                    }
                }
                Feed::Dynamo(stream, _) => {
                    for r in stream.poll().await.unwrap() {
                        self.raw.push(r.to_string());
                        if r["eventName"] != "INSERT" {
                            continue;
                        }
                        if let Some(n) =
                            auth_notification_from_image(&r["dynamodb"]["NewImage"]).unwrap()
                        {
                            got.push(n);
                        }
                    }
                }
            }
            if got.len() >= want {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("the feed gave {} notifications, wanted {want}", got.len());
    }

    /// Nothing more on the feed (checked after a pause long enough for the stream).
    async fn no_more(&mut self) {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let more = match &mut self.feed {
            Feed::Memory(rx, _) => rx.try_recv().ok().map(|n| n.notification_id),
            Feed::Dynamo(stream, _) => stream
                .poll()
                .await
                .unwrap()
                .iter()
                .filter(|r| r["eventName"] == "INSERT")
                .find_map(|r| auth_notification_from_image(&r["dynamodb"]["NewImage"]).unwrap())
                .map(|n| n.notification_id),
        };
        assert_eq!(more, None, "no further notification expected");
    }

    async fn outbox(&self, id: &str) -> OutboxEntry {
        match &self.feed {
            Feed::Memory(_, store) => store.outbox_entry(id).unwrap(),
            Feed::Dynamo(_, store) => store.outbox_entry(id).await.unwrap().unwrap(),
        }
    }

    /// The rest of the stream (DynamoDB Local: the delivery bookkeeping's MODIFY records) kept
    /// in [`Rig::raw`].
    async fn drain(&mut self) {
        if let Feed::Dynamo(stream, _) = &mut self.feed {
            tokio::time::sleep(Duration::from_millis(600)).await;
            for r in stream.poll().await.unwrap() {
                self.raw.push(r.to_string());
            }
        }
    }

    /// Runs `job`, then every retry it schedules, until none is left (bounded). Every queued
    /// job is the first one but for its attempt number, and holds no token.
    async fn pump(&self, deps: &NotifyDeps, job: NotifyJob) -> Vec<JobOutcome> {
        let mut outcomes = vec![attempt(deps, &job).await.unwrap()];
        for _ in 0..ATTEMPTS_MAX + 2 {
            let next = self.retries.0.lock().unwrap().pop();
            let Some((next, _)) = next else { break };
            assert_eq!(
                NotifyJob {
                    attempt: job.attempt,
                    ..next.clone()
                },
                job,
                "every attempt sends from the same job"
            );
            if job.token_body.is_some() {
                let queued = serde_json::to_string(&next).unwrap();
                assert!(!queued.contains("accessToken"), "no token in a queued job");
            }
            outcomes.push(attempt(deps, &next).await.unwrap());
        }
        outcomes
    }
}

fn client() -> Client {
    Client {
        auth_client_id: "2188120000000001".into(),
        auth_client_name: "Demo Shop Ltd.".into(),
        auth_client_display_name: Some("Demo Shop".into()),
        auth_client_logo: None,
        reference_merchant_id: Some("M-AN".into()),
        reference_agreement_id: Some("AG-AN".into()),
        auth_redirect_url: "https://merchant.example/bound".into(),
        scopes: vec!["AGREEMENT_PAY".into()],
        auth_state: Some("state-an".into()),
    }
}

/// Prepared, approved (the code pushed when `push`), exchanged at t0 + 1 min.
async fn bind(p: &Ports, push: bool) -> (Authorization, Secret, IssuedTokens) {
    bind_agreement(p, "AG-AN", push).await
}

/// [`bind`] for the merchant's agreement `agreement` (another agreement: another binding).
async fn bind_agreement(
    p: &Ports,
    agreement: &str,
    push: bool,
) -> (Authorization, Secret, IssuedTokens) {
    let mut c = client();
    c.reference_agreement_id = Some(agreement.into());
    let PrepareOutcome::Created(auth) = p
        .bindings
        .prepare
        .prepare(&Authorization::pending(c, format!("fp-{agreement}"), t0()).unwrap())
        .await
        .unwrap()
    else {
        panic!("not created")
    };
    let code = new_auth_code(&auth.auth_id).unwrap();
    let choice = PageChoice::Approve {
        customer_id: CustomerId::new("2160000000000001"),
        code_hash: code.hash(),
        push_code: push.then(|| code.clone()),
    };
    let PageOutcome::Approved(_) = p
        .bindings
        .authorization_page
        .decide(&auth.auth_id, &choice, t0())
        .await
        .unwrap()
    else {
        panic!("not approved")
    };
    let TokenOutcome::Issued(t) = p
        .bindings
        .tokens
        .exchange_code(&exchange(&code), mac())
        .await
        .unwrap()
    else {
        panic!("not issued")
    };
    (auth, code, t)
}

fn exchange(code: &Secret) -> TokenIntent {
    TokenIntent {
        presented: code.clone(),
        auth_client_id: None,
        now: t0() + Minutes::minutes(1),
        bindings_max: 5,
    }
}

/// The bytes the sender sends for `n` (a token body rebuilt with the test key).
async fn sent(n: &AuthNotification) -> String {
    n.body.render(test_token_mac().as_ref()).await.unwrap()
}

async fn body(n: &AuthNotification) -> Value {
    serde_json::from_str(&sent(n).await).unwrap()
}

fn url(receiver: &Receiver) -> String {
    receiver
        .url
        .replace("/payments/notifyPayment", "/authorizations/authNotify")
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod memory_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(rig) = super::memory().await {
                        super::$name(rig).await;
                    }
                }
            )*
        }
        mod dynamodb_local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(rig) = super::dynamodb().await {
                        super::$name(rig).await;
                    }
                }
            )*
        }
    };
}

on_both_stores!(
    token_created_is_delivered_once_and_leaves_no_secret_at_rest,
    codes_are_pushed_only_when_configured,
    failures_are_retried_on_the_schedule_with_identical_bodies,
    a_receiver_that_stays_down_is_dead_lettered_at_the_bound,
    a_token_key_that_does_not_answer_fails_the_attempt_on_the_same_schedule,
    jobs_queued_before_token_bodies_were_derived_are_sent_as_they_are,
);

async fn token_created_is_delivered_once_and_leaves_no_secret_at_rest(mut rig: Rig) {
    let (auth, code, tokens) = bind(&rig.ports, false).await;
    let got = rig.notifications(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let n = &got[0];
    assert_eq!(n.notify_type, AuthorizationNotifyType::TokenCreated);
    assert_eq!(n.auth_id, auth.auth_id);
    let b = body(n).await;
    assert_eq!(b["authorizationNotifyType"], "TOKEN_CREATED");
    assert_eq!(b["accessToken"], tokens.access_token.expose());
    assert_eq!(b["customerId"], "2160000000000001");
    assert_eq!(b["authClientId"], "2188120000000001");
    assert_eq!(b["referenceMerchantId"], "M-AN");
    assert_eq!(b["referenceAgreementId"], "AG-AN");
    assert!(b.get("authCode").is_none() && b.get("refreshToken").is_none());

    // The exchange re-sent after a lost answer: the same pair, no second notification.
    let TokenOutcome::Issued(again) = rig
        .ports
        .bindings
        .tokens
        .exchange_code(&exchange(&code), mac())
        .await
        .unwrap()
    else {
        panic!("re-sent exchange refused")
    };
    assert_eq!(again.access_token, tokens.access_token);
    rig.no_more().await;

    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    let deps = deps(&rig, &url(&receiver));
    let job = auth_notify_job(n, &url(&receiver));
    assert_eq!(job.operation, Notification::AuthNotify);
    let token = tokens.access_token.expose();
    let NotifyBody::Derived(kept) = &n.body else {
        panic!("TOKEN_CREATED is rebuilt at send time")
    };
    assert!(!serde_json::to_string(kept).unwrap().contains(token));
    assert!(!serde_json::to_string(&job).unwrap().contains(token));
    assert_eq!(
        rig.pump(&deps, job.clone()).await,
        vec![JobOutcome::Delivered]
    );
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].signature_ok, "our signature must verify");
    assert_eq!(received[0].path, "/aps/api/v1/authorizations/authNotify");
    assert_eq!(received[0].body, sent(n).await.as_bytes());
    // Redelivered (a stream retry, a duplicate message): nothing is sent again.
    assert_eq!(
        attempt(&deps, &job).await.unwrap(),
        JobOutcome::AlreadyDelivered
    );
    assert_eq!(receiver.received().len(), 1);
    let entry = rig.outbox(&n.notification_id).await;
    assert_eq!(entry.delivery.attempts, 1);
    assert!(entry.delivery.delivered_at.is_some());
    assert_eq!(entry.notification.body, n.body, "nothing secret to remove");
    // What the table held at every step (the stream's images: the binding's writes, the outbox
    // item, its delivery bookkeeping): never the access token.
    rig.drain().await;
    assert!(
        matches!(rig.feed, Feed::Memory(..)) || rig.raw.len() > 3,
        "the stream's records were read"
    );
    assert!(
        rig.raw.iter().all(|r| !r.contains(token)),
        "no token at rest in the bindings table"
    );
}

async fn codes_are_pushed_only_when_configured(mut rig: Rig) {
    let (_, code, tokens) = bind(&rig.ports, true).await;
    let got = rig.notifications(2).await;
    let kinds: Vec<_> = got.iter().map(|n| n.notify_type).collect();
    assert_eq!(
        kinds,
        vec![
            AuthorizationNotifyType::AuthcodeCreated,
            AuthorizationNotifyType::TokenCreated
        ]
    );
    let first = body(&got[0]).await;
    assert_eq!(first["authCode"], code.expose());
    assert_eq!(first["authState"], "state-an");
    assert!(first.get("accessToken").is_none());
    assert_eq!(
        body(&got[1]).await["accessToken"],
        tokens.access_token.expose()
    );
    // The code is kept as the exact body (random: nothing could rebuild it).
    assert!(matches!(got[0].body, NotifyBody::Exact(_)));
    assert_ne!(got[0].notification_id, got[1].notification_id);
    rig.no_more().await;
}

async fn failures_are_retried_on_the_schedule_with_identical_bodies(mut rig: Rig) {
    bind(&rig.ports, false).await;
    let n = rig.notifications(1).await.remove(0);
    let script = vec![
        Behaviour::Fail500,
        Behaviour::AnswerF,
        Behaviour::AnswerU,
        Behaviour::Slow(Duration::from_millis(1500)),
        Behaviour::WrongKey,
    ];
    let receiver = Receiver::start(script, Behaviour::Ack).await;
    let deps = deps(&rig, &url(&receiver));
    let outcomes = rig.pump(&deps, auth_notify_job(&n, &url(&receiver))).await;
    let delays: Vec<JobOutcome> = RETRY_DELAYS_SECS[..5]
        .iter()
        .map(|&d| JobOutcome::Retrying { delay_secs: d })
        .collect();
    assert_eq!(outcomes[..5], delays[..]);
    assert_eq!(
        outcomes[5..],
        [JobOutcome::Delivered],
        "stops at the first S"
    );
    let got = receiver.received();
    assert_eq!(got.len(), 6);
    let bytes = sent(&n).await;
    assert!(
        got.iter()
            .all(|g| g.body == bytes.as_bytes() && g.signature_ok),
        "identical, signed bodies"
    );
    let entry = rig.outbox(&n.notification_id).await;
    assert_eq!(entry.delivery.attempts, 6);
    assert!(entry.delivery.delivered_at.is_some() && entry.delivery.dead_lettered_at.is_none());
    assert!(rig.dead.0.lock().unwrap().is_empty());
}

async fn a_receiver_that_stays_down_is_dead_lettered_at_the_bound(mut rig: Rig) {
    bind(&rig.ports, false).await;
    let n = rig.notifications(1).await.remove(0);
    // A port nobody listens on: every attempt is refused at the TCP level.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!(
            "http://{}/aps/api/v1/authorizations/authNotify",
            l.local_addr().unwrap()
        )
    };
    let deps = deps(&rig, &down);
    let outcomes = rig.pump(&deps, auth_notify_job(&n, &down)).await;
    assert_eq!(outcomes.len() as u32, ATTEMPTS_MAX);
    let expected: Vec<JobOutcome> = RETRY_DELAYS_SECS
        .iter()
        .map(|&d| JobOutcome::Retrying { delay_secs: d })
        .chain([JobOutcome::DeadLettered])
        .collect();
    assert_eq!(outcomes, expected);
    let dead = rig.dead.0.lock().unwrap().clone();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0.attempt, ATTEMPTS_MAX);
    assert_eq!(
        NotifyJob {
            attempt: 1,
            ..dead[0].0.clone()
        },
        auth_notify_job(&n, &down),
        "the dead letter holds the same job to replay"
    );
    let letter = serde_json::to_string(&dead[0].0).unwrap();
    assert!(
        !letter.contains("accessToken") && dead[0].0.body.is_empty(),
        "no token in the dead letter"
    );
    // Replayed by an operator (the redrive puts it back on the retry queue): the same bytes.
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    let replay = NotifyJob {
        url: url(&receiver),
        ..dead[0].0.clone()
    };
    let bytes = mpp_core::flows::notify::NotifyJob::render(&replay, test_token_mac().as_ref())
        .await
        .unwrap();
    assert_eq!(bytes, sent(&n).await);
    let entry = rig.outbox(&n.notification_id).await;
    assert_eq!(entry.delivery.attempts, ATTEMPTS_MAX);
    assert!(entry.delivery.dead_lettered_at.is_some() && entry.delivery.delivered_at.is_none());
    assert!(entry.delivery.last_error.unwrap().contains("no answer"));
    // The job (as the queue carries it) reads back, and an old notifyPayment job still does.
    let line = serde_json::to_string(&dead[0].0).unwrap();
    let back: NotifyJob = serde_json::from_str(&line).unwrap();
    assert_eq!(back, dead[0].0);
    let old: NotifyJob = serde_json::from_str(
        r#"{"paymentRequestId":"P-1","url":"http://127.0.0.1:9/x","body":"{}","attempt":2}"#,
    )
    .unwrap();
    assert_eq!(
        (old.operation, old.key.as_str()),
        (Notification::NotifyPayment, "P-1")
    );
}

/// The auth-notify Lambda's handler fed the bindings table's **real** stream records — every
/// binding write of a whole binding, not only the outbox item — and then an SQS retry message:
/// exactly the one notification goes out, and a retry of a delivered job sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auth_notify_handler_reads_real_stream_records_and_retry_messages() {
    use lambda_runtime::{Context, LambdaEvent};
    use serde_json::json;
    let Some(rig) = dynamodb().await else {
        return;
    };
    let Feed::Dynamo(mut stream, _) = rig.feed else {
        unreachable!()
    };
    let (_, _, tokens) = bind(&rig.ports, false).await;
    let mut batch = Vec::new();
    for _ in 0..POLLS_MAX {
        batch.extend(stream.poll().await.unwrap());
        if batch.iter().any(|r| {
            r["dynamodb"]["Keys"]["bindingKey"]["S"]
                .as_str()
                .is_some_and(|k| k.starts_with("notify#"))
        }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        batch.len() > 1,
        "the stream carries the binding's own writes too"
    );
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    let rig_deps = Rig {
        ports: rig.ports.clone(),
        feed: Feed::Memory(
            tokio::sync::mpsc::unbounded_channel().1,
            Arc::new(MemoryStore::new()),
        ),
        raw: Vec::new(),
        deliveries: rig.deliveries.clone(),
        retries: rig.retries.clone(),
        dead: rig.dead.clone(),
    };
    let deps = auth_notify::Deps {
        notify: deps(&rig_deps, &url(&receiver)),
    };
    let out = auth_notify::handle(
        &deps,
        LambdaEvent::new(
            serde_json::from_value(json!({ "Records": batch })).unwrap(),
            Context::default(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({ "batchItemFailures": [] })
    );
    let got = receiver.received();
    assert_eq!(got.len(), 1, "one notification among the binding's writes");
    let sent: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(sent["authorizationNotifyType"], "TOKEN_CREATED");
    assert_eq!(sent["accessToken"], tokens.access_token.expose());

    // A retry message of the same job after the S: nothing is sent again.
    let id = batch
        .iter()
        .find_map(|r| {
            auth_notification_from_image(&r["dynamodb"]["NewImage"])
                .ok()
                .flatten()
        })
        .unwrap()
        .notification_id;
    let job = NotifyJob {
        operation: Notification::AuthNotify,
        key: id,
        url: url(&receiver),
        body: String::from_utf8(got[0].body.clone()).unwrap(),
        token_body: None,
        attempt: 2,
    };
    let message = json!({
        "eventSource": "aws:sqs",
        "messageId": "m-1",
        "body": serde_json::to_string(&job).unwrap(),
    });
    let out = auth_notify::handle(
        &deps,
        LambdaEvent::new(
            serde_json::from_value(json!({ "Records": [message] })).unwrap(),
            Context::default(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({ "batchItemFailures": [] })
    );
    assert_eq!(receiver.received().len(), 1, "never sent again after an S");
}

async fn a_token_key_that_does_not_answer_fails_the_attempt_on_the_same_schedule(mut rig: Rig) {
    let (_, _, tokens) = bind(&rig.ports, false).await;
    let n = rig.notifications(1).await.remove(0);
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    // KMS GenerateMac unavailable twice, then back.
    let flaky = Arc::new(FlakyMac {
        failures_left: std::sync::atomic::AtomicU32::new(2),
    });
    let deps = deps_with(&rig, &url(&receiver), flaky);
    let outcomes = rig.pump(&deps, auth_notify_job(&n, &url(&receiver))).await;
    assert_eq!(
        outcomes,
        vec![
            JobOutcome::Retrying {
                delay_secs: RETRY_DELAYS_SECS[0]
            },
            JobOutcome::Retrying {
                delay_secs: RETRY_DELAYS_SECS[1]
            },
            JobOutcome::Delivered,
        ],
        "a key failure is a failed attempt, retried on the schedule"
    );
    let got = receiver.received();
    assert_eq!(got.len(), 1, "nothing is sent while the key is down");
    let sent_body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(sent_body["accessToken"], tokens.access_token.expose());
    assert_eq!(got[0].body, sent(&n).await.as_bytes());
    let entry = rig.outbox(&n.notification_id).await;
    assert_eq!(entry.delivery.attempts, 3);

    // A key that never comes back: dead-lettered at the bound, never sent without its token.
    bind_agreement(&rig.ports, "AG-AN-2", false).await;
    let n = rig.notifications(1).await.remove(0);
    let down = Arc::new(FlakyMac {
        failures_left: std::sync::atomic::AtomicU32::new(u32::MAX),
    });
    let deps = deps_with(&rig, &url(&receiver), down);
    let outcomes = rig.pump(&deps, auth_notify_job(&n, &url(&receiver))).await;
    assert_eq!(outcomes.len() as u32, ATTEMPTS_MAX);
    assert_eq!(outcomes.last(), Some(&JobOutcome::DeadLettered));
    assert_eq!(receiver.received().len(), 1, "still only the first one");
    let entry = rig.outbox(&n.notification_id).await;
    assert!(entry.delivery.dead_lettered_at.is_some() && entry.delivery.delivered_at.is_none());
    let error = entry.delivery.last_error.unwrap();
    assert!(error.contains("token key unavailable"), "{error}");
    assert!(!error.contains(tokens.access_token.expose()));
}

async fn jobs_queued_before_token_bodies_were_derived_are_sent_as_they_are(mut rig: Rig) {
    let (_, _, tokens) = bind(&rig.ports, false).await;
    let n = rig.notifications(1).await.remove(0);
    let receiver = Receiver::start(vec![Behaviour::AnswerU], Behaviour::Ack).await;
    // A retry job as the earlier code queued it: the whole body, token included.
    let old_body = sent(&n).await;
    let old = serde_json::json!({
        "operation": "authNotify",
        "key": n.notification_id,
        "url": url(&receiver),
        "body": old_body,
        "attempt": 2,
    });
    let job: NotifyJob = serde_json::from_value(old).unwrap();
    assert!(job.token_body.is_none());
    // Delivered with no key at all: its bytes are used as they are.
    let deps = deps_with(
        &rig,
        &url(&receiver),
        Arc::new(mpp_core::token_mac::UnconfiguredTokenMac),
    );
    let outcomes = rig.pump(&deps, job).await;
    assert_eq!(
        outcomes,
        vec![
            JobOutcome::Retrying {
                delay_secs: RETRY_DELAYS_SECS[1]
            },
            JobOutcome::Delivered
        ]
    );
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|g| g.body == old_body.as_bytes()));
    let b: Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!(b["accessToken"], tokens.access_token.expose());
}

/// An outbox item as the earlier code wrote it to DynamoDB (the whole body, token included):
/// read from the real stream record and delivered byte for byte, its body removed at the S.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_item_written_before_token_bodies_were_derived_is_sent_as_it_is() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let Some(mut rig) = dynamodb().await else {
        return;
    };
    let (auth, _, tokens) = bind(&rig.ports, false).await;
    let n = rig.notifications(1).await.remove(0);
    let old_body = sent(&n).await;
    let Feed::Dynamo(_, store) = &rig.feed else {
        unreachable!()
    };
    let id = format!("{}.TOKEN_CANCELED.9", auth.auth_id);
    let s = |v: &str| AttributeValue::S(v.to_string());
    dynamo_client(dynamodb_endpoint().as_deref())
        .await
        .put_item()
        .table_name(&store.tables().bindings)
        .item("bindingKey", s(&format!("notify#{id}")))
        .item("notificationId", s(&id))
        .item("body", s(&old_body))
        .item("createdAt", s("2026-01-01T00:00:00.000000000Z"))
        .send()
        .await
        .unwrap();
    let old = rig.notifications(1).await.remove(0);
    assert_eq!(old.notification_id, id);
    assert_eq!(old.body, NotifyBody::Exact(old_body.clone()));
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    // No key needed: the stored bytes are sent.
    let deps = deps_with(
        &rig,
        &url(&receiver),
        Arc::new(mpp_core::token_mac::UnconfiguredTokenMac),
    );
    let outcomes = rig
        .pump(&deps, auth_notify_job(&old, &url(&receiver)))
        .await;
    assert_eq!(outcomes, vec![JobOutcome::Delivered]);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, old_body.as_bytes());
    let entry = rig.outbox(&id).await;
    assert_eq!(
        entry.notification.body,
        NotifyBody::Exact(String::new()),
        "the old item's token leaves the store once acknowledged"
    );
    assert!(tokens.access_token.expose().len() > 40);
}

/// A token key that fails (`Unavailable`, as KMS GenerateMac throttled or down) its first
/// `failures_left` calls, then answers as the test key.
struct FlakyMac {
    failures_left: std::sync::atomic::AtomicU32,
}

#[async_trait::async_trait]
impl TokenMac for FlakyMac {
    async fn mac(&self, message: &[u8]) -> Result<[u8; MAC_BYTES], TokenMacError> {
        use std::sync::atomic::Ordering;
        let down = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        match down {
            true => Err(TokenMacError::Unavailable(mpp_core::cause::Cause::new(
                "KMS GenerateMac: throttled",
            ))),
            false => test_token_mac().mac(message).await,
        }
    }
}

/// The token key of these scenarios (the harness's).
fn mac() -> &'static dyn mpp_core::token_mac::TokenMac {
    static MAC: std::sync::OnceLock<mpp_core::token_mac::LocalTokenMac> =
        std::sync::OnceLock::new();
    MAC.get_or_init(|| mpp_core::token_mac::LocalTokenMac::new(&[0x5au8; 32]).unwrap())
}
