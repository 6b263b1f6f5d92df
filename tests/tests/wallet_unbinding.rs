//! Unbinding from the wallet (`account-binding.md` §6; `mpp_core::bindings::consult_unbinding`) on the
//! memory store: the app backend's internal route lists a customer's bindings, asks Alipay+
//! consultUnbinding (a scripted consultant here; the signed client against the hub runs in
//! `merchant_binding_e2e.rs`) with the live token re-derived from the key, and revokes with
//! TOKEN_CANCELED in the outbox only on an explicit "true". "false", Alipay+'s F and no answer
//! change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use async_trait::async_trait;
use chrono::Duration as Minutes;
use mpp_core::bindings::*;
use mpp_core::clock::FixedClock;
use mpp_core::ids::CustomerId;
use mpp_core::payments::{MethodFound, MethodRef};
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::Ports;
use mpp_e2e::conformance::t0;
use mpp_e2e::harness::test_token_mac;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const CUSTOMER: &str = "2160000000000001";

/// A consultant answering a fixed outcome and keeping what it was asked.
struct Scripted {
    answer: Result<bool, ConsultError>,
    asked: Mutex<Vec<ConsultUnbindingRequest>>,
}

#[async_trait]
impl UnbindingConsultant for Scripted {
    async fn consult(&self, req: &ConsultUnbindingRequest) -> Result<bool, ConsultError> {
        self.asked.lock().unwrap().push(req.clone());
        self.answer.clone()
    }
}

struct World {
    store: Arc<MemoryStore>,
    ports: Ports,
    auth: Authorization,
    tokens: IssuedTokens,
}

async fn bound() -> World {
    let store = Arc::new(MemoryStore::new());
    let ports = Ports::of(store.clone());
    let client = Client {
        auth_client_id: "2188120000000001".into(),
        auth_client_name: "Demo Shop Ltd.".into(),
        auth_client_display_name: Some("Demo Shop".into()),
        auth_client_logo: None,
        reference_merchant_id: Some("M-UB".into()),
        reference_agreement_id: Some("AG-UB".into()),
        auth_redirect_url: "https://merchant.example/bound".into(),
        scopes: vec!["AGREEMENT_PAY".into()],
        auth_state: None,
    };
    let PrepareOutcome::Created(auth) = ports
        .bindings
        .prepare
        .prepare(&Authorization::pending(client, "fp".into(), t0()).unwrap())
        .await
        .unwrap()
    else {
        panic!("not created")
    };
    let code = new_auth_code(&auth.auth_id).unwrap();
    let choice = PageChoice::Approve {
        customer_id: CustomerId::new(CUSTOMER),
        code_hash: code.hash(),
        push_code: None,
    };
    ports
        .bindings
        .authorization_page
        .decide(&auth.auth_id, &choice, t0())
        .await
        .unwrap();
    let intent = TokenIntent {
        presented: code,
        auth_client_id: None,
        now: t0() + Minutes::minutes(1),
        bindings_max: 5,
    };
    let TokenOutcome::Issued(tokens) = ports
        .bindings
        .tokens
        .exchange_code(&intent, test_token_mac().as_ref())
        .await
        .unwrap()
    else {
        panic!("not issued")
    };
    World {
        store,
        ports,
        auth,
        tokens,
    }
}

fn deps(w: &World, answer: Result<bool, ConsultError>) -> (UnbindingDeps, Arc<Scripted>) {
    let consultant = Arc::new(Scripted {
        answer,
        asked: Mutex::new(Vec::new()),
    });
    let d = UnbindingDeps {
        store: w.ports.bindings.unbinding.clone(),
        consultant: consultant.clone(),
        mac: test_token_mac(),
        clock: Arc::new(FixedClock::new(t0() + Minutes::minutes(2))),
    };
    (d, consultant)
}

async fn call(d: &UnbindingDeps, body: Value) -> (u16, Value) {
    let a = serve_internal(
        d,
        "POST",
        Some("application/json"),
        body.to_string().as_bytes(),
    )
    .await;
    (a.status, serde_json::from_slice(&a.body).unwrap())
}

async fn live(w: &World) -> bool {
    match w
        .ports
        .payments
        .wallet
        .find_method(&MethodRef::AccessToken(w.tokens.access_token.hash()))
        .await
        .unwrap()
    {
        MethodFound::Token(Some(t)) => !t.revoked,
        other => panic!("{other:?}"),
    }
}

fn canceled_id(w: &World) -> String {
    // The record after the revocation: version + 1 of the bound one (prepare 0, approve 1,
    // exchange 2, unbind 3).
    let mut after = w.auth.clone();
    after.version = 3;
    notification_id(&after, AuthorizationNotifyType::TokenCanceled)
}

fn result(v: &Value) -> (&str, &str) {
    (
        v["result"]["resultStatus"].as_str().unwrap(),
        v["result"]["resultCode"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn the_list_shows_the_live_bindings_and_asks_nothing() {
    let w = bound().await;
    let (d, consultant) = deps(&w, Ok(true));
    let (status, v) = call(&d, json!({"customerId": CUSTOMER})).await;
    assert_eq!((status, result(&v)), (200, ("S", "SUCCESS")));
    assert_eq!(v["bindings"][0]["authId"], w.auth.auth_id.as_str());
    assert_eq!(v["bindings"][0]["authClientName"], "Demo Shop Ltd.");
    assert!(!v.to_string().contains(w.tokens.access_token.expose()));
    let (_, other) = call(&d, json!({"customerId": "someone-else"})).await;
    assert_eq!(other["bindings"], json!([]));
    assert!(consultant.asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn allowed_revokes_with_token_canceled_in_the_outbox_and_a_repeat_is_s() {
    let w = bound().await;
    let (d, consultant) = deps(&w, Ok(true));
    let (status, v) = call(
        &d,
        json!({"customerId": CUSTOMER, "authId": w.auth.auth_id}),
    )
    .await;
    assert_eq!((status, result(&v)), (200, ("S", "SUCCESS")));
    assert_eq!(v["allowUnbinding"], "true");
    let asked = consultant.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].access_token.as_str(),
        w.tokens.access_token.expose(),
        "Alipay+ is asked about the live token, re-derived from the key"
    );
    assert_eq!(asked[0].auth_client_id.as_str(), "2188120000000001");
    assert_eq!(
        asked[0].reference_merchant_id.as_ref().unwrap().as_str(),
        "M-UB"
    );
    assert!(!live(&w).await, "the access token is revoked");
    let entry = w
        .store
        .outbox_entry(&canceled_id(&w))
        .expect("TOKEN_CANCELED");
    // The outbox item holds no token; the sender rebuilds the body with the key.
    let NotifyBody::Derived(kept) = &entry.notification.body else {
        panic!("TOKEN_CANCELED is rebuilt at send time")
    };
    assert!(!serde_json::to_string(kept)
        .unwrap()
        .contains(w.tokens.access_token.expose()));
    let sent = entry
        .notification
        .body
        .render(test_token_mac().as_ref())
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(body["authorizationNotifyType"], "TOKEN_CANCELED");
    assert_eq!(body["accessToken"], w.tokens.access_token.expose());
    assert_eq!(body["customerId"], CUSTOMER);
    // A re-sent unbinding (the app lost the answer): S, nothing asked or written again.
    let (_, again) = call(
        &d,
        json!({"customerId": CUSTOMER, "authId": w.auth.auth_id}),
    )
    .await;
    assert_eq!(result(&again), ("S", "SUCCESS"));
    assert_eq!(consultant.asked.lock().unwrap().len(), 1);
    // The merchant's cancelToken afterwards: S (the same revoked token).
    assert_eq!(
        w.ports
            .bindings
            .cancel_token
            .cancel_token(&w.tokens.access_token, t0())
            .await
            .unwrap(),
        CancelTokenOutcome::Cancelled
    );
    let (_, list) = call(&d, json!({"customerId": CUSTOMER})).await;
    assert_eq!(list["bindings"], json!([]));
}

#[tokio::test]
async fn not_allowed_refused_or_unknown_changes_nothing() {
    for (answer, want) in [
        (Ok(false), ("F", "UNBINDING_NOT_ALLOWED")),
        (
            Err(ConsultError::Refused {
                code: "ACCESS_DENIED".into(),
                message: "The access is denied.".into(),
            }),
            ("F", "ACCESS_DENIED"),
        ),
        (
            Err(ConsultError::Unknown("timed out after 2000 ms".into())),
            ("U", "UNKNOWN_EXCEPTION"),
        ),
    ] {
        let w = bound().await;
        let (d, consultant) = deps(&w, answer);
        let (_, v) = call(
            &d,
            json!({"customerId": CUSTOMER, "authId": w.auth.auth_id}),
        )
        .await;
        assert_eq!(result(&v), want, "{v}");
        if want.1 == "UNBINDING_NOT_ALLOWED" {
            assert_eq!(v["allowUnbinding"], "false");
            assert!(v["result"]["resultMessage"]
                .as_str()
                .unwrap()
                .contains("Unbind at the merchant"));
        }
        assert_eq!(consultant.asked.lock().unwrap().len(), 1);
        assert!(live(&w).await, "{want:?}: the token still works");
        assert!(w.store.outbox_entry(&canceled_id(&w)).is_none());
        let (_, list) = call(&d, json!({"customerId": CUSTOMER})).await;
        assert_eq!(list["bindings"][0]["authId"], w.auth.auth_id.as_str());
    }
}

#[tokio::test]
async fn another_customers_binding_or_bad_input_is_refused_plainly() {
    let w = bound().await;
    let (d, consultant) = deps(&w, Ok(true));
    let (_, v) = call(
        &d,
        json!({"customerId": "someone-else", "authId": w.auth.auth_id}),
    )
    .await;
    assert_eq!(result(&v), ("F", "BINDING_NOT_EXIST"));
    for (body, field) in [
        (json!({"authId": w.auth.auth_id}), "customerId"),
        (
            json!({"customerId": CUSTOMER, "authId": "not-an-id"}),
            "authId",
        ),
        (json!({"customerId": ""}), "customerId"),
    ] {
        let (status, v) = call(&d, body).await;
        assert_eq!((status, result(&v)), (200, ("F", "PARAM_ILLEGAL")));
        assert!(v["result"]["resultMessage"]
            .as_str()
            .unwrap()
            .contains(field));
    }
    assert_eq!(
        serve_internal(&d, "GET", Some("application/json"), b"{}")
            .await
            .status,
        405
    );
    assert_eq!(
        serve_internal(&d, "POST", Some("text/plain"), b"{}")
            .await
            .status,
        415
    );
    assert!(consultant.asked.lock().unwrap().is_empty());
    assert!(live(&w).await);
}
