//! The account-binding conformance suite: every transition (prepare, code issued, code
//! exchanged, refresh, cancel) and the races the issue names, on any store — the in-memory one
//! (`tests/bindings_memory.rs`) and DynamoDB Local (`tests/bindings_dynamodb.rs`).
//! [`binding_tests!`](crate::binding_tests) expands to one `#[tokio::test]` per scenario.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use crate::conformance::{account, intent, krw, t0, won};
use chrono::Duration;
use mpp_core::bindings::*;
use mpp_core::ids::{CustomerId, Secret};
use mpp_core::payments::{CommitOutcome, Decline, MethodFound, MethodGuard, MethodRef};
use mpp_core::store::Ports;

/// Expands to one `#[tokio::test]` per scenario. `$make` names an `async fn() -> Option<Ports>`
/// giving a fresh store's ports, or `None` to skip (a missing DynamoDB Local outside CI).
#[macro_export]
macro_rules! binding_tests {
    ($make:path) => {
        $crate::binding_tests!(@each $make;
            prepare_is_idempotent_on_client_and_agreement,
            the_page_decides_once,
            code_exchange_binds_and_a_resent_exchange_gets_the_same_pair,
            bad_expired_and_declined_codes_are_refused,
            refresh_rotates_the_pair_and_a_resent_refresh_gets_the_same_pair,
            cancel_revokes_both_tokens_and_answers_the_same_again,
            the_cap_of_bindings_per_account_refuses_one_more,
            wrong_pins_lock_pin_entry_and_writes_are_versioned,
            race_two_exchanges_of_one_code,
            race_refresh_against_refresh,
            race_refresh_against_cancel,
            race_pay_against_cancel,
            a_customers_bindings_are_listed_through_bind_refresh_and_cancel,
            the_wallet_unbinds_with_the_live_token_only,
        );
    };
    (@each $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(ports) = $make().await {
                    $crate::binding_scenarios::$name(ports).await;
                }
            }
        )*
    };
}

const CUSTOMER: &str = "c-bind";
const MAX: u32 = 3;

fn client(agreement: Option<&str>) -> Client {
    Client {
        auth_client_id: "client-1".into(),
        auth_client_name: "Merchant Ltd".into(),
        auth_client_display_name: Some("Shop".into()),
        auth_client_logo: None,
        reference_merchant_id: Some("M1".into()),
        reference_agreement_id: agreement.map(str::to_string),
        auth_redirect_url: "https://merchant.example/back".into(),
        scopes: vec!["AGREEMENT_PAY".into()],
        auth_state: Some("st".into()),
    }
}

/// A new pending authorization (as prepare builds it; the fingerprint stands for the key fields).
pub fn pending(agreement: Option<&str>, fingerprint: &str) -> Authorization {
    Authorization::pending(client(agreement), fingerprint.into(), t0()).unwrap()
}

async fn prepared(p: &Ports, agreement: &str) -> Authorization {
    match p
        .bindings
        .prepare
        .prepare(&pending(Some(agreement), "fp"))
        .await
        .unwrap()
    {
        PrepareOutcome::Created(a) => a,
        other => panic!("{other:?}"),
    }
}

/// Approves `auth` as `customer` at t0: the code.
async fn approve(p: &Ports, auth: &Authorization, customer: &str) -> Secret {
    let code = new_auth_code(&auth.auth_id).unwrap();
    let choice = PageChoice::Approve {
        customer_id: CustomerId::new(customer),
        code_hash: code.hash(),
        push_code: None,
    };
    match p
        .bindings
        .authorization_page
        .decide(&auth.auth_id, &choice, t0())
        .await
        .unwrap()
    {
        PageOutcome::Approved(_) => code,
        other => panic!("{other:?}"),
    }
}

fn ask(presented: &Secret, minutes: i64) -> TokenIntent {
    TokenIntent {
        presented: presented.clone(),
        auth_client_id: None,
        now: t0() + Duration::minutes(minutes),
        bindings_max: MAX,
    }
}

fn issued(o: TokenOutcome) -> IssuedTokens {
    match o {
        TokenOutcome::Issued(t) => t,
        TokenOutcome::Refused(r) => panic!("refused: {r:?}"),
    }
}

fn refused(o: TokenOutcome) -> TokenRefusal {
    match o {
        TokenOutcome::Issued(_) => panic!("issued"),
        TokenOutcome::Refused(r) => r,
    }
}

/// A bound authorization: prepared, approved, exchanged at t0 + 1 min.
async fn bound(p: &Ports, agreement: &str) -> (Authorization, IssuedTokens) {
    let auth = prepared(p, agreement).await;
    let code = approve(p, &auth, CUSTOMER).await;
    let t = issued(
        p.bindings
            .tokens
            .exchange_code(&ask(&code, 1), mac())
            .await
            .unwrap(),
    );
    (auth, t)
}

/// The access-token item pay reads: (live, revoked).
async fn token_state(p: &Ports, token: &Secret) -> Option<bool> {
    match p
        .payments
        .wallet
        .find_method(&MethodRef::AccessToken(token.hash()))
        .await
        .unwrap()
    {
        MethodFound::Token(Some(t)) => {
            assert_eq!(t.customer_id, CustomerId::new(CUSTOMER));
            assert!(
                t.scopes.iter().any(|s| s == "AGREEMENT_PAY"),
                "{:?}",
                t.scopes
            );
            Some(t.revoked)
        }
        MethodFound::Token(None) => None,
        other => panic!("{other:?}"),
    }
}

async fn count(p: &Ports) -> u32 {
    p.bindings
        .authorization_page
        .bound_count(&CustomerId::new(CUSTOMER))
        .await
        .unwrap()
}

/// prepare: created once per `authClientId` + `referenceAgreementId`; a repeat gets the same
/// authorization; other key fields are inconsistent; without an agreement id every prepare is new.
pub async fn prepare_is_idempotent_on_client_and_agreement(p: Ports) {
    let first = prepared(&p, "agr-1").await;
    match p
        .bindings
        .prepare
        .prepare(&pending(Some("agr-1"), "fp"))
        .await
        .unwrap()
    {
        PrepareOutcome::Repeated(a) => assert_eq!(a.auth_id, first.auth_id),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        p.bindings
            .prepare
            .prepare(&pending(Some("agr-1"), "other"))
            .await
            .unwrap(),
        PrepareOutcome::Inconsistent
    );
    let a = pending(None, "fp");
    let b = pending(None, "fp");
    assert!(matches!(
        p.bindings.prepare.prepare(&a).await.unwrap(),
        PrepareOutcome::Created(_)
    ));
    assert!(matches!(
        p.bindings.prepare.prepare(&b).await.unwrap(),
        PrepareOutcome::Created(_)
    ));
    let stored = p
        .bindings
        .authorization_page
        .authorization(&first.auth_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, first);
}

/// The page: one decision per authorization; an unknown id is `NotFound`; a page past its
/// validity is closed.
pub async fn the_page_decides_once(p: Ports) {
    let auth = prepared(&p, "agr-page").await;
    approve(&p, &auth, CUSTOMER).await;
    assert_eq!(
        p.bindings
            .authorization_page
            .decide(&auth.auth_id, &PageChoice::Decline, t0())
            .await
            .unwrap(),
        PageOutcome::Closed
    );
    let other = prepared(&p, "agr-page-2").await;
    match p
        .bindings
        .authorization_page
        .decide(&other.auth_id, &PageChoice::Decline, t0())
        .await
        .unwrap()
    {
        PageOutcome::Declined(a) => assert_eq!(a.state, AuthorizationState::Declined),
        o => panic!("{o:?}"),
    }
    let late = prepared(&p, "agr-page-3").await;
    assert_eq!(
        p.bindings
            .authorization_page
            .decide(
                &late.auth_id,
                &PageChoice::Decline,
                t0() + PAGE_VALIDITY + Duration::seconds(1)
            )
            .await
            .unwrap(),
        PageOutcome::Closed
    );
    assert_eq!(
        p.bindings
            .authorization_page
            .decide(&"0".repeat(32), &PageChoice::Decline, t0())
            .await
            .unwrap(),
        PageOutcome::NotFound
    );
}

/// The exchange binds: the access token is live for pay, the account counts one binding; the
/// same code again within the window gets the same pair (no second write), later `InvalidCode`.
pub async fn code_exchange_binds_and_a_resent_exchange_gets_the_same_pair(p: Ports) {
    let auth = prepared(&p, "agr-x").await;
    let code = approve(&p, &auth, CUSTOMER).await;
    let first = issued(
        p.bindings
            .tokens
            .exchange_code(&ask(&code, 1), mac())
            .await
            .unwrap(),
    );
    assert_eq!(first.customer_id, CustomerId::new(CUSTOMER));
    assert!(first.access_token.expose().starts_with(&auth.auth_id));
    assert_eq!(first.access_token.expose().len(), TOKEN_CHARS);
    assert_eq!(
        first.access_expires_at,
        t0() + Duration::minutes(1) + ACCESS_TOKEN_VALIDITY
    );
    assert_eq!(token_state(&p, &first.access_token).await, Some(false));
    assert_eq!(
        token_state(&p, &first.refresh_token).await,
        None,
        "refresh tokens do not pay"
    );
    assert_eq!(count(&p).await, 1);
    let again = issued(
        p.bindings
            .tokens
            .exchange_code(&ask(&code, 4), mac())
            .await
            .unwrap(),
    );
    assert_eq!(again, first);
    assert_eq!(count(&p).await, 1);
    assert_eq!(
        refused(
            p.bindings
                .tokens
                .exchange_code(&ask(&code, 7), mac())
                .await
                .unwrap()
        ),
        TokenRefusal::InvalidCode
    );
    // Another client than the binding's.
    let mut other = ask(&code, 2);
    other.auth_client_id = Some("client-2".into());
    assert_eq!(
        refused(
            p.bindings
                .tokens
                .exchange_code(&other, mac())
                .await
                .unwrap()
        ),
        TokenRefusal::OtherClient
    );
    let stored = p
        .bindings
        .authorization_page
        .authorization(&auth.auth_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, AuthorizationState::Bound);
    assert!(stored.token_generation == 0 && stored.code_hash == Some(code.hash()));
}

/// A code we never issued, a wrong secret after a real id, a code past its 5 minutes, and a
/// declined authorization's code.
pub async fn bad_expired_and_declined_codes_are_refused(p: Ports) {
    let auth = prepared(&p, "agr-bad").await;
    let code = approve(&p, &auth, CUSTOMER).await;
    let forged = Secret::new(format!("{}{}", auth.auth_id, "A".repeat(SECRET_CHARS)));
    assert_eq!(
        refused(
            p.bindings
                .tokens
                .exchange_code(&ask(&forged, 1), mac())
                .await
                .unwrap()
        ),
        TokenRefusal::InvalidCode
    );
    assert_eq!(
        refused(
            p.bindings
                .tokens
                .exchange_code(&ask(&Secret::new("nonsense"), 1), mac())
                .await
                .unwrap()
        ),
        TokenRefusal::InvalidCode
    );
    assert_eq!(
        refused(
            p.bindings
                .tokens
                .exchange_code(&ask(&code, 6), mac())
                .await
                .unwrap()
        ),
        TokenRefusal::ExpiredCode
    );
    assert_eq!(count(&p).await, 0);
    let declined = prepared(&p, "agr-bad-2").await;
    p.bindings
        .authorization_page
        .decide(&declined.auth_id, &PageChoice::Decline, t0())
        .await
        .unwrap();
    let guess = new_auth_code(&declined.auth_id).unwrap();
    assert_eq!(
        refused(
            p.bindings
                .tokens
                .exchange_code(&ask(&guess, 1), mac())
                .await
                .unwrap()
        ),
        TokenRefusal::InvalidCode
    );
}

/// Refresh: a new pair, the old access token revoked (pay refuses it), the old refresh token
/// again within 5 minutes the same new pair, later `InvalidRefreshToken`; an expired refresh
/// token `ExpiredRefreshToken`.
pub async fn refresh_rotates_the_pair_and_a_resent_refresh_gets_the_same_pair(p: Ports) {
    let (_, t1) = bound(&p, "agr-r").await;
    let t2 = issued(
        p.bindings
            .tokens
            .refresh_token(&ask(&t1.refresh_token, 10), mac())
            .await
            .unwrap(),
    );
    assert_ne!(t2.access_token, t1.access_token);
    assert_ne!(t2.refresh_token, t1.refresh_token);
    assert_eq!(
        token_state(&p, &t1.access_token).await,
        Some(true),
        "the old pair stops working"
    );
    assert_eq!(token_state(&p, &t2.access_token).await, Some(false));
    let again = issued(
        p.bindings
            .tokens
            .refresh_token(&ask(&t1.refresh_token, 14), mac())
            .await
            .unwrap(),
    );
    assert_eq!(again, t2);
    assert_eq!(
        refused(
            p.bindings
                .tokens
                .refresh_token(&ask(&t1.refresh_token, 16), mac())
                .await
                .unwrap()
        ),
        TokenRefusal::InvalidRefreshToken
    );
    // An access token is not a refresh token.
    assert_eq!(
        refused(
            p.bindings
                .tokens
                .refresh_token(&ask(&t2.access_token, 17), mac())
                .await
                .unwrap()
        ),
        TokenRefusal::InvalidRefreshToken
    );
    let late = ask(&t2.refresh_token, 11 + REFRESH_TOKEN_VALIDITY.num_minutes());
    assert_eq!(
        refused(p.bindings.tokens.refresh_token(&late, mac()).await.unwrap()),
        TokenRefusal::ExpiredRefreshToken
    );
    let t3 = issued(
        p.bindings
            .tokens
            .refresh_token(&ask(&t2.refresh_token, 20), mac())
            .await
            .unwrap(),
    );
    assert_eq!(token_state(&p, &t2.access_token).await, Some(true));
    assert_eq!(token_state(&p, &t3.access_token).await, Some(false));
    assert_eq!(count(&p).await, 1);
}

/// cancelToken: both tokens stop working, the account counts one binding less, the same token
/// again gets the same answer; unknown or rotated-away tokens are `InvalidToken`; a seeded
/// token (no binding) is revoked by its item.
pub async fn cancel_revokes_both_tokens_and_answers_the_same_again(p: Ports) {
    let (_, t1) = bound(&p, "agr-c").await;
    let t2 = issued(
        p.bindings
            .tokens
            .refresh_token(&ask(&t1.refresh_token, 2), mac())
            .await
            .unwrap(),
    );
    assert_eq!(
        p.bindings
            .cancel_token
            .cancel_token(&t1.access_token, t0())
            .await
            .unwrap(),
        CancelTokenOutcome::Refused(TokenRefusal::InvalidToken),
        "a rotated-away token is not the binding's"
    );
    assert_eq!(
        p.bindings
            .cancel_token
            .cancel_token(&t2.access_token, t0())
            .await
            .unwrap(),
        CancelTokenOutcome::Cancelled
    );
    assert_eq!(token_state(&p, &t2.access_token).await, Some(true));
    assert_eq!(count(&p).await, 0);
    assert_eq!(
        p.bindings
            .cancel_token
            .cancel_token(&t2.access_token, t0())
            .await
            .unwrap(),
        CancelTokenOutcome::Cancelled
    );
    assert_eq!(count(&p).await, 0);
    assert_eq!(
        refused(
            p.bindings
                .tokens
                .refresh_token(&ask(&t2.refresh_token, 3), mac())
                .await
                .unwrap()
        ),
        TokenRefusal::InvalidRefreshToken
    );
    assert_eq!(
        p.bindings
            .cancel_token
            .cancel_token(&Secret::new("never-issued"), t0())
            .await
            .unwrap(),
        CancelTokenOutcome::Refused(TokenRefusal::InvalidToken)
    );
    // A seeded token.
    let seeded = crate::conformance::token("tok-seeded", CUSTOMER);
    p.admin.put_token(&seeded).await.unwrap();
    let plain = Secret::new("tok-seeded");
    assert_eq!(
        p.bindings
            .cancel_token
            .cancel_token(&plain, t0())
            .await
            .unwrap(),
        CancelTokenOutcome::Cancelled
    );
    assert_eq!(token_state(&p, &plain).await, Some(true));
    assert_eq!(
        p.bindings
            .cancel_token
            .cancel_token(&plain, t0())
            .await
            .unwrap(),
        CancelTokenOutcome::Cancelled
    );
}

/// The cap: the fourth binding of one account (cap 3) is refused; after a cancel it goes through.
pub async fn the_cap_of_bindings_per_account_refuses_one_more(p: Ports) {
    let mut tokens = Vec::new();
    for i in 0..MAX {
        tokens.push(bound(&p, &format!("agr-cap-{i}")).await.1);
    }
    assert_eq!(count(&p).await, MAX);
    let extra = prepared(&p, "agr-cap-x").await;
    let code = approve(&p, &extra, CUSTOMER).await;
    assert_eq!(
        refused(
            p.bindings
                .tokens
                .exchange_code(&ask(&code, 1), mac())
                .await
                .unwrap()
        ),
        TokenRefusal::TooManyBindings
    );
    assert_eq!(
        p.bindings
            .cancel_token
            .cancel_token(&tokens[0].access_token, t0())
            .await
            .unwrap(),
        CancelTokenOutcome::Cancelled
    );
    issued(
        p.bindings
            .tokens
            .exchange_code(&ask(&code, 2), mac())
            .await
            .unwrap(),
    );
    assert_eq!(count(&p).await, MAX);
}

/// PIN entry: each outcome one write guarded on the version read; the fifth wrong PIN in a row
/// locks for 15 minutes; a stale write is refused.
pub async fn wrong_pins_lock_pin_entry_and_writes_are_versioned(p: Ports) {
    let login = WalletLogin {
        login_id: "user@example".into(),
        customer_id: CustomerId::new(CUSTOMER),
        pin_hash: "$argon2id$stand-in".into(),
        failures: 0,
        locked_until: None,
        version: 0,
    };
    p.bindings.logins.put_wallet_login(&login).await.unwrap();
    let mut now = t0();
    for i in 1..=PIN_TRIES_MAX {
        let current = p
            .bindings
            .authorization_page
            .login("user@example")
            .await
            .unwrap()
            .unwrap();
        let (write, outcome) = decide_pin(&current, false, now);
        let write = write.unwrap();
        assert!(p
            .bindings
            .authorization_page
            .put_login(&write, current.version)
            .await
            .unwrap());
        assert!(
            p.bindings
                .authorization_page
                .put_login(&write, current.version)
                .await
                .unwrap(),
            "the same write again is in place (a retry after a lost answer)"
        );
        let mut other = write.clone();
        other.failures += 7;
        assert!(
            !p.bindings
                .authorization_page
                .put_login(&other, current.version)
                .await
                .unwrap(),
            "another write on the stale version is refused"
        );
        if i < PIN_TRIES_MAX {
            assert_eq!(outcome, PinOutcome::Wrong(PIN_TRIES_MAX - i));
        } else {
            assert_eq!(outcome, PinOutcome::Locked(now + PIN_LOCK));
        }
        now += Duration::seconds(1);
    }
    let locked = p
        .bindings
        .authorization_page
        .login("user@example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        decide_pin(&locked, true, now).1,
        PinOutcome::Locked(locked.locked_until.unwrap())
    );
    let after = locked.locked_until.unwrap() + Duration::seconds(1);
    let (write, outcome) = decide_pin(&locked, true, after);
    assert_eq!(outcome, PinOutcome::Accepted(CustomerId::new(CUSTOMER)));
    assert!(p
        .bindings
        .authorization_page
        .put_login(&write.unwrap(), locked.version)
        .await
        .unwrap());
    assert_eq!(
        p.bindings.authorization_page.login("nobody").await.unwrap(),
        None
    );
}

/// Two exchanges of one code at once: both answered with the one pair; one binding counted.
pub async fn race_two_exchanges_of_one_code(p: Ports) {
    let auth = prepared(&p, "agr-race-x").await;
    let code = approve(&p, &auth, CUSTOMER).await;
    let (ia, ib) = (ask(&code, 1), ask(&code, 1));
    let (a, b) = tokio::join!(
        p.bindings.tokens.exchange_code(&ia, mac()),
        p.bindings.tokens.exchange_code(&ib, mac())
    );
    let (a, b) = (issued(a.unwrap()), issued(b.unwrap()));
    assert_eq!(a, b);
    assert_eq!(count(&p).await, 1);
    assert_eq!(token_state(&p, &a.access_token).await, Some(false));
}

/// Two refreshes of one refresh token at once: one rotation, both answered with its pair.
pub async fn race_refresh_against_refresh(p: Ports) {
    let (_, t1) = bound(&p, "agr-race-r").await;
    let (ia, ib) = (ask(&t1.refresh_token, 2), ask(&t1.refresh_token, 2));
    let (a, b) = tokio::join!(
        p.bindings.tokens.refresh_token(&ia, mac()),
        p.bindings.tokens.refresh_token(&ib, mac())
    );
    let (a, b) = (issued(a.unwrap()), issued(b.unwrap()));
    assert_eq!(a, b);
    assert_eq!(token_state(&p, &t1.access_token).await, Some(true));
    assert_eq!(token_state(&p, &a.access_token).await, Some(false));
    let stored = p
        .bindings
        .authorization_page
        .authorization(&t1.access_token.expose()[..AUTH_ID_CHARS])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.version, 3,
        "prepare, approve, exchange, one rotation"
    );
}

/// A refresh and a cancel of the same binding at once: exactly one wins, and the state is the
/// winner's (cancel first: the refresh is refused and nothing is live; refresh first: the cancel
/// names a replaced token and is refused, the new pair is live).
pub async fn race_refresh_against_cancel(p: Ports) {
    let (_, t1) = bound(&p, "agr-race-rc").await;
    let ir = ask(&t1.refresh_token, 2);
    let (r, c) = tokio::join!(
        p.bindings.tokens.refresh_token(&ir, mac()),
        p.bindings
            .cancel_token
            .cancel_token(&t1.access_token, t0() + Duration::minutes(2))
    );
    assert_eq!(token_state(&p, &t1.access_token).await, Some(true));
    match (r.unwrap(), c.unwrap()) {
        (
            TokenOutcome::Refused(TokenRefusal::InvalidRefreshToken),
            CancelTokenOutcome::Cancelled,
        ) => {
            assert_eq!(count(&p).await, 0);
        }
        (TokenOutcome::Issued(t2), CancelTokenOutcome::Refused(TokenRefusal::InvalidToken)) => {
            assert_eq!(token_state(&p, &t2.access_token).await, Some(false));
            assert_eq!(count(&p).await, 1);
        }
        other => panic!("both or neither won: {other:?}"),
    }
}

/// A pay with the token and a cancel of it at once: the cancel always succeeds; the pay either
/// committed before it or is declined `TokenInvalid`; a pay after the cancel is declined.
pub async fn race_pay_against_cancel(p: Ports) {
    p.admin
        .create_account(&account(CUSTOMER, &[(krw(), 100_000)]), t0())
        .await
        .unwrap();
    let (_, t1) = bound(&p, "agr-race-pc").await;
    let guard = MethodGuard::Token(t1.access_token.hash());
    let pay = intent(
        "pc-1",
        CUSTOMER,
        won(1_000),
        guard.clone(),
        t0() + Duration::minutes(2),
    );
    let (paid, cancelled) = tokio::join!(
        p.payments.pay.commit_payment(&pay),
        p.bindings
            .cancel_token
            .cancel_token(&t1.access_token, t0() + Duration::minutes(2))
    );
    assert_eq!(cancelled.unwrap(), CancelTokenOutcome::Cancelled);
    match paid.unwrap() {
        CommitOutcome::Committed | CommitOutcome::Declined(Decline::TokenInvalid) => {}
        other => panic!("{other:?}"),
    }
    let later = intent(
        "pc-2",
        CUSTOMER,
        won(1_000),
        guard,
        t0() + Duration::minutes(3),
    );
    assert_eq!(
        p.payments.pay.commit_payment(&later).await.unwrap(),
        CommitOutcome::Declined(Decline::TokenInvalid)
    );
}

async fn listed(p: &Ports, customer: &str) -> Vec<String> {
    p.bindings
        .unbinding
        .customer_bindings(&CustomerId::new(customer))
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.auth_id)
        .collect()
}

/// The account's list (`customer#`) follows every transition that binds or cancels: two bound,
/// a refresh keeps both (generation 1), a cancelToken takes one off; another customer has none.
pub async fn a_customers_bindings_are_listed_through_bind_refresh_and_cancel(p: Ports) {
    assert!(listed(&p, CUSTOMER).await.is_empty());
    let (a, ta) = bound(&p, "agr-list-a").await;
    let (b, _) = bound(&p, "agr-list-b").await;
    let mut want = vec![a.auth_id.clone(), b.auth_id.clone()];
    want.sort();
    let mut got = listed(&p, CUSTOMER).await;
    got.sort();
    assert_eq!(got, want);
    issued(
        p.bindings
            .tokens
            .refresh_token(&ask(&ta.refresh_token, 2), mac())
            .await
            .unwrap(),
    );
    let after = p
        .bindings
        .unbinding
        .customer_bindings(&CustomerId::new(CUSTOMER))
        .await
        .unwrap();
    assert_eq!(after.len(), 2);
    let refreshed = after.iter().find(|x| x.auth_id == a.auth_id).unwrap();
    assert_eq!(refreshed.token_generation, 1);
    let live_b = mpp_core::token_mac::derive_pair(mac(), &b.auth_id, 0)
        .await
        .unwrap();
    assert_eq!(
        p.bindings
            .cancel_token
            .cancel_token(&live_b.access, t0())
            .await
            .unwrap(),
        CancelTokenOutcome::Cancelled
    );
    assert_eq!(listed(&p, CUSTOMER).await, vec![a.auth_id.clone()]);
    assert!(listed(&p, "someone-else").await.is_empty());
}

/// The wallet-side unbinding: only the binding's own customer, only with the live token (the
/// one derived from the key and the record's generation); revoked once, the same answer again.
pub async fn the_wallet_unbinds_with_the_live_token_only(p: Ports) {
    let (a, t1) = bound(&p, "agr-unbind").await;
    let t2 = issued(
        p.bindings
            .tokens
            .refresh_token(&ask(&t1.refresh_token, 2), mac())
            .await
            .unwrap(),
    );
    let record = p
        .bindings
        .unbinding
        .customer_bindings(&CustomerId::new(CUSTOMER))
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.auth_id == a.auth_id)
        .unwrap();
    let live = mpp_core::token_mac::derive_pair(mac(), &a.auth_id, record.token_generation)
        .await
        .unwrap();
    assert!(
        live.access == t2.access_token,
        "the key and the generation name the live token"
    );
    let intent = |customer: &str, token: &Secret| UnbindIntent {
        auth_id: a.auth_id.clone(),
        customer_id: CustomerId::new(customer),
        access_token: token.clone(),
        now: t0() + Duration::minutes(3),
    };
    assert_eq!(
        p.bindings
            .unbinding
            .unbind(&intent("someone-else", &live.access))
            .await
            .unwrap(),
        UnbindOutcome::NotFound
    );
    assert_eq!(
        p.bindings
            .unbinding
            .unbind(&intent(CUSTOMER, &t1.access_token))
            .await
            .unwrap(),
        UnbindOutcome::Moved,
        "the rotated-away token is not the live one"
    );
    assert_eq!(token_state(&p, &t2.access_token).await, Some(false));
    assert_eq!(
        p.bindings
            .unbinding
            .unbind(&intent(CUSTOMER, &live.access))
            .await
            .unwrap(),
        UnbindOutcome::Revoked
    );
    assert_eq!(token_state(&p, &t2.access_token).await, Some(true));
    assert_eq!(count(&p).await, 0);
    assert!(listed(&p, CUSTOMER).await.is_empty());
    assert_eq!(
        p.bindings
            .unbinding
            .unbind(&intent(CUSTOMER, &live.access))
            .await
            .unwrap(),
        UnbindOutcome::AlreadyCancelled
    );
    assert_eq!(
        p.bindings
            .cancel_token
            .cancel_token(&live.access, t0())
            .await
            .unwrap(),
        CancelTokenOutcome::Cancelled,
        "the merchant's cancelToken afterwards: the same S"
    );
}

/// The token key of these scenarios (the harness's).
fn mac() -> &'static dyn mpp_core::token_mac::TokenMac {
    static MAC: std::sync::OnceLock<mpp_core::token_mac::LocalTokenMac> =
        std::sync::OnceLock::new();
    MAC.get_or_init(|| mpp_core::token_mac::LocalTokenMac::new(&[0x5au8; 32]).unwrap())
}
