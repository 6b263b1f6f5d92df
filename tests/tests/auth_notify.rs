//! authNotify (`account-binding.md` §5): the notification a binding transition owes Alipay+ is
//! written in the transition's own atomic write (an outbox item), read back from the store's
//! change feed — the memory store's, and **real stream records of the bindings table on DynamoDB
//! Local** — and delivered by the same code as notifyPayment (`flows::notify::attempt`): signed,
//! retried on the schedule with identical bodies through a receiver that is down, answers F or U,
//! times out or signs wrongly; dead-lettered at the bound; never sent again after an S; and the
//! body (which holds the code or token) removed from the store once acknowledged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use chrono::Duration as Minutes;
use mpp_aws::dynamo::local_stream::{LocalStream, StartAt};
use mpp_aws::dynamo::{
    auth_notification_from_image, dynamo_client, AuthNotifyDeliveries, DynamoStore, TableNames,
};
use mpp_client::SignedClient;
use mpp_core::clock::{Clock, FixedClock};
use mpp_core::flows::notify::{
    attempt, auth_notify_job, JobOutcome, Notification, NotifyDeps, NotifyJob, ATTEMPTS_MAX,
    RETRY_DELAYS_SECS,
};
use mpp_core::ids::{CustomerId, Secret};
use mpp_core::store::auth_notify::{AuthNotification, OutboxEntry};
use mpp_core::store::bindings::*;
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::{DeliveryStore, Ports};
use mpp_core::wire::AuthorizationNotifyType;
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
    deliveries: Arc<dyn DeliveryStore>,
    retries: Arc<TestQueue>,
    dead: Arc<TestQueue>,
}

fn deps(rig: &Rig, url: &str) -> NotifyDeps {
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
    }
}

async fn memory() -> Option<Rig> {
    let store = Arc::new(MemoryStore::new());
    let feed = store.subscribe_auth_notify();
    Some(Rig {
        ports: Ports::of(store.clone()),
        deliveries: Arc::new(mpp_core::store::memory::AuthNotifyDeliveries(store.clone())),
        feed: Feed::Memory(feed, store),
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

    /// Runs `job`, then every retry it schedules, until none is left (bounded).
    async fn pump(&self, deps: &NotifyDeps, job: NotifyJob) -> Vec<JobOutcome> {
        let mut outcomes = vec![attempt(deps, &job).await.unwrap()];
        for _ in 0..ATTEMPTS_MAX + 2 {
            let next = self.retries.0.lock().unwrap().pop();
            let Some((next, _)) = next else { break };
            assert_eq!(next.body, job.body, "every attempt sends the same bytes");
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
    let PrepareOutcome::Created(auth) = p
        .prepare
        .prepare(&Authorization::pending(client(), "fp".into(), t0()).unwrap())
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
        .authorization_page
        .decide(&auth.auth_id, &choice, t0())
        .await
        .unwrap()
    else {
        panic!("not approved")
    };
    let TokenOutcome::Issued(t) = p
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

fn body(n: &AuthNotification) -> Value {
    serde_json::from_str(&n.body).unwrap()
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
);

async fn token_created_is_delivered_once_and_leaves_no_secret_at_rest(mut rig: Rig) {
    let (auth, code, tokens) = bind(&rig.ports, false).await;
    let got = rig.notifications(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let n = &got[0];
    assert_eq!(n.notify_type, AuthorizationNotifyType::TokenCreated);
    assert_eq!(n.auth_id, auth.auth_id);
    let b = body(n);
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
    assert_eq!(
        rig.pump(&deps, job.clone()).await,
        vec![JobOutcome::Delivered]
    );
    let sent = receiver.received();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].signature_ok, "our signature must verify");
    assert_eq!(sent[0].path, "/aps/api/v1/authorizations/authNotify");
    assert_eq!(sent[0].body, n.body.as_bytes());
    // Redelivered (a stream retry, a duplicate message): nothing is sent again.
    assert_eq!(
        attempt(&deps, &job).await.unwrap(),
        JobOutcome::AlreadyDelivered
    );
    assert_eq!(receiver.received().len(), 1);
    let entry = rig.outbox(&n.notification_id).await;
    assert_eq!(entry.delivery.attempts, 1);
    assert!(entry.delivery.delivered_at.is_some());
    assert_eq!(
        entry.notification.body, "",
        "the token leaves the store once acknowledged"
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
    let first = body(&got[0]);
    assert_eq!(first["authCode"], code.expose());
    assert_eq!(first["authState"], "state-an");
    assert!(first.get("accessToken").is_none());
    assert_eq!(body(&got[1])["accessToken"], tokens.access_token.expose());
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
    assert!(
        got.iter()
            .all(|g| g.body == n.body.as_bytes() && g.signature_ok),
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
        dead[0].0.body, n.body,
        "the dead letter holds the same bytes to replay"
    );
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
        deliveries: rig.deliveries.clone(),
        retries: rig.retries.clone(),
        dead: rig.dead.clone(),
    };
    let deps = auth_notify::handler::Deps {
        notify: deps(&rig_deps, &url(&receiver)),
    };
    let out = auth_notify::handler::handle(
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
        attempt: 2,
    };
    let message = json!({
        "eventSource": "aws:sqs",
        "messageId": "m-1",
        "body": serde_json::to_string(&job).unwrap(),
    });
    let out = auth_notify::handler::handle(
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

/// The token key of these scenarios (the harness's).
fn mac() -> &'static dyn mpp_core::token_mac::TokenMac {
    static MAC: std::sync::OnceLock<mpp_core::token_mac::LocalTokenMac> =
        std::sync::OnceLock::new();
    MAC.get_or_init(|| mpp_core::token_mac::LocalTokenMac::new(&[0x5au8; 32]).unwrap())
}
