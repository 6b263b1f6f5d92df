//! The store conformance suite: one set of scenarios that every adapter of the ledger store
//! must pass identically — the in-memory store (`tests/store_memory.rs`) and the DynamoDB store
//! on DynamoDB Local (`tests/store_dynamodb.rs`). [`conformance_tests!`](crate::conformance_tests)
//! expands to one `#[tokio::test]` per scenario, each on a fresh store from a factory.
//!
//! Every scenario ends by checking the ledger equation (`store::ledger_mismatches` is empty for
//! every wallet). All times derive from [`t0`], 2026-11-21 11:00 in UTC+8 (business day
//! 20261121); the business day turns at [`next_day`] - 13 h later, midnight UTC+8.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use chrono::{DateTime, Duration, TimeZone, Utc};
use mpp_core::ids::{CustomerId, SecretHash};
use mpp_core::money::{Currency, MinorUnit, Money};
use mpp_core::result_code::ResultCode;
use mpp_core::store::{
    ledger_mismatches, AccessToken, Account, AccountStatus, AdminStore, CancelOutcome, CancelStore,
    CommitOutcome, DayUsage, DebitIntent, Decline, EntryKind, KycStatus, Limits, MethodFound,
    MethodGuard, MethodRef, PayStore, PaymentCode, PaymentReader, PaymentRecord, PaymentState,
    PutOutcome, RefundIntent, RefundOutcome, RefundRefusal, RefundStore, StoreError, WalletReader,
    SCOPE_AGREEMENT_PAY,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every port at once: what the suite runs against.
pub trait Store:
    WalletReader + PaymentReader + PayStore + CancelStore + RefundStore + AdminStore + 'static
{
}

impl<T> Store for T where
    T: WalletReader + PaymentReader + PayStore + CancelStore + RefundStore + AdminStore + 'static
{
}

/// Concurrent payments in the concurrency scenarios (the issue asks for 200).
pub const CONCURRENT_PAYMENTS: usize = 200;

/// Expands to one `#[tokio::test]` per scenario. `$make` names an `async fn() ->
/// Option<Arc<S>>` giving a fresh store, or `None` to skip (a missing DynamoDB Local outside CI).
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@each $make;
            admin_round_trip,
            token_payment_commits_once_and_repeats_answer_exists,
            token_declines,
            code_payment_uses_the_code_once,
            code_declines,
            account_declines,
            limit_and_balance_declines,
            declines_follow_the_rule_order,
            the_day_rollover_resets_the_allowance,
            record_payment_first_wins,
            cancel_of_an_unknown_id_leaves_a_closed_placeholder,
            cancel_of_a_failed_payment_closes_it,
            cancel_of_a_success_reverses_balance_allowance_and_ledger,
            cancel_on_a_later_day_leaves_that_days_allowance,
            cancel_after_refunds_gives_back_the_rest,
            refunds_partial_several_and_refused,
            concurrent_repeats_debit_once,
            concurrent_payments_never_overdraw,
            customer_guard_and_supplemental_original,
        );
    };
    (@each $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(store) = $make().await {
                    $crate::conformance::$name(store).await;
                }
            }
        )*
    };
}

// ---- Fixtures -----------------------------------------------------------------------------

/// 2026-11-21T03:00:00Z: 11:00 in UTC+8, business day 20261121.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()
}

/// The business day of [`t0`].
pub const DAY0: u32 = 20261121;

/// The first instant of the next business day: 2026-11-21T16:00:00Z.
pub fn next_day() -> DateTime<Utc> {
    t0() + Duration::hours(13)
}

/// Korean won.
pub fn krw() -> Currency {
    Currency::from_code("KRW").unwrap()
}

/// US dollars.
pub fn usd() -> Currency {
    Currency::from_code("USD").unwrap()
}

/// `value` won.
pub fn won(value: u64) -> Money {
    Money {
        currency: krw(),
        value: MinorUnit(value),
    }
}

/// Limits.
pub fn limits(single: u64, daily_amount: u64, daily_count: u32) -> Limits {
    Limits {
        single_max: MinorUnit(single),
        daily_amount_max: MinorUnit(daily_amount),
        daily_count_max: daily_count,
    }
}

/// A normal, KYC-passed account without limits or NFC, holding `balances`.
pub fn account(id: &str, balances: &[(Currency, u64)]) -> Account {
    Account {
        customer_id: CustomerId::new(id),
        status: AccountStatus::Normal,
        kyc: KycStatus::Passed,
        balances: balances.iter().map(|(c, v)| (*c, MinorUnit(*v))).collect(),
        limits: BTreeMap::new(),
        usage: BTreeMap::new(),
        nfc_enabled: false,
    }
}

/// A hash standing for a token or code (the store never sees the secret).
pub fn hash(name: &str) -> SecretHash {
    mpp_core::ids::Secret::new(name).hash()
}

/// How long the suite's tokens are valid from [`t0`].
pub const TOKEN_VALID_DAYS: i64 = 30;

/// An `AGREEMENT_PAY` token of `owner`, valid for [`TOKEN_VALID_DAYS`] from [`t0`].
pub fn token(name: &str, owner: &str) -> AccessToken {
    AccessToken {
        token_hash: hash(name),
        customer_id: CustomerId::new(owner),
        scopes: vec!["USER_LOGIN_ID".to_string(), SCOPE_AGREEMENT_PAY.to_string()],
        expires_at: t0() + Duration::days(TOKEN_VALID_DAYS),
        revoked: false,
    }
}

/// A payment code of `owner`, valid for a minute from [`t0`].
pub fn code(name: &str, owner: &str) -> PaymentCode {
    PaymentCode {
        code_hash: hash(name),
        customer_id: CustomerId::new(owner),
        expires_at: t0() + Duration::minutes(1),
        used_by: None,
    }
}

/// The pay transaction of `debit` from `customer` at `now`, with our payment id `pay-{id}`.
pub fn intent(
    id: &str,
    customer: &str,
    debit: Money,
    guard: MethodGuard,
    now: DateTime<Utc>,
) -> DebitIntent {
    DebitIntent {
        payment: PaymentRecord {
            payment_request_id: id.to_string(),
            fingerprint: Some(format!("fp-{id}-{}", debit.value)),
            state: PaymentState::Succeeded,
            result_code: ResultCode::Success,
            payment_id: Some(format!("pay-{id}")),
            customer_id: Some(CustomerId::new(customer)),
            payment_amount: Some(debit),
            pay_to_amount: Some(debit),
            debit: Some(debit),
            payment_time: Some(now.to_rfc3339()),
            created_at: now,
            expires_at: Some(now + Duration::minutes(1)),
            notify_url: Some("https://a.example/notify".to_string()),
            refunded: MinorUnit::ZERO,
            closed_at: None,
            order_lifecycle_id: None,
            supplemental_of: None,
        },
        customer_id: CustomerId::new(customer),
        debit,
        guard,
        original: None,
        now,
    }
}

/// Another pay request for the same `paymentRequestId` (its own payment id and fingerprint).
pub fn other_request(i: &DebitIntent, n: usize) -> DebitIntent {
    let mut o = i.clone();
    o.payment.payment_id = Some(format!("pay-{}-{n}", i.payment.payment_request_id));
    o.payment.fingerprint = Some(format!("fp-other-{n}"));
    o
}

/// A declined payment as pay records it.
pub fn failed_record(id: &str, code: ResultCode, now: DateTime<Utc>) -> PaymentRecord {
    PaymentRecord {
        payment_request_id: id.to_string(),
        fingerprint: Some(format!("fp-{id}")),
        state: PaymentState::Failed,
        result_code: code,
        payment_id: None,
        customer_id: None,
        payment_amount: Some(won(100)),
        pay_to_amount: Some(won(100)),
        debit: Some(won(100)),
        payment_time: None,
        created_at: now,
        expires_at: Some(now + Duration::minutes(1)),
        notify_url: None,
        refunded: MinorUnit::ZERO,
        closed_at: None,
        order_lifecycle_id: None,
        supplemental_of: None,
    }
}

/// The record cancel leaves for an id it never saw.
pub fn placeholder(id: &str, now: DateTime<Utc>) -> PaymentRecord {
    PaymentRecord {
        fingerprint: None,
        state: PaymentState::Closed,
        result_code: ResultCode::OrderIsClosed,
        debit: None,
        payment_amount: None,
        pay_to_amount: None,
        ..failed_record(id, ResultCode::OrderIsClosed, now)
    }
}

/// A refund of `amount` of payment `payment` at `now`.
pub fn refund_intent(id: &str, payment: &str, amount: Money, now: DateTime<Utc>) -> RefundIntent {
    RefundIntent {
        refund_request_id: id.to_string(),
        fingerprint: format!("rfp-{id}-{}", amount.value),
        payment_request_id: payment.to_string(),
        amount,
        refund_id: format!("refund-{id}"),
        now,
        payment_id: None,
    }
}

// ---- Checks -------------------------------------------------------------------------------

async fn get_account<S: Store>(s: &S, id: &str) -> Account {
    s.account(&CustomerId::new(id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("account {id} exists"))
}

/// The balance of `id` in `currency` (0 when not held).
pub async fn balance<S: Store>(s: &S, id: &str, currency: Currency) -> u64 {
    get_account(s, id)
        .await
        .balances
        .get(&currency)
        .map(|v| v.get())
        .unwrap_or(0)
}

/// Today's remaining allowance of `id` in KRW as the rules see it on `day`.
pub async fn allowance<S: Store>(s: &S, id: &str, day: u32) -> (u64, u32) {
    let (a, c) = get_account(s, id).await.allowance(krw(), day);
    (a.get(), c)
}

/// The ledger equation for every wallet of the store.
pub async fn assert_ledger<S: Store>(s: &S) {
    let ids = s.account_ids().await.unwrap();
    assert!(!ids.is_empty(), "the scenario created accounts");
    for id in ids {
        let a = s.account(&id).await.unwrap().unwrap();
        let entries = s.ledger(&id).await.unwrap();
        let bad = ledger_mismatches(&a, &entries);
        assert!(bad.is_empty(), "ledger of {id} does not add up: {bad:?}");
    }
}

fn entries_of(entries: &[mpp_core::store::LedgerEntry], kind: EntryKind) -> Vec<(String, u64)> {
    let mut v: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| (e.entry_id.clone(), e.money.value.get()))
        .collect();
    v.sort();
    v
}

async fn ledger_kind<S: Store>(s: &S, id: &str, kind: EntryKind) -> Vec<(String, u64)> {
    entries_of(&s.ledger(&CustomerId::new(id)).await.unwrap(), kind)
}

/// Commits `intent` and expects `decline`, with nothing written.
/// Each row in order: the payment is declined for its reason and writes nothing.
async fn expect_declines<S: Store>(s: &S, rows: &[(DebitIntent, Decline)]) {
    for (i, decline) in rows {
        expect_decline(s, i, *decline).await;
    }
}

async fn expect_decline<S: Store>(s: &S, i: &DebitIntent, decline: Decline) {
    let before = s.account(&i.customer_id).await.unwrap();
    let outcome = s.commit_payment(i).await.unwrap();
    assert_eq!(
        outcome,
        CommitOutcome::Declined(decline),
        "payment {}",
        i.payment.payment_request_id
    );
    assert_eq!(
        s.payment(&i.payment.payment_request_id).await.unwrap(),
        None,
        "a decline writes no payment"
    );
    assert_eq!(
        s.account(&i.customer_id).await.unwrap(),
        before,
        "a decline leaves the account alone"
    );
}

async fn commit_ok<S: Store>(s: &S, i: &DebitIntent) {
    assert_eq!(
        s.commit_payment(i).await.unwrap(),
        CommitOutcome::Committed,
        "payment {}",
        i.payment.payment_request_id
    );
}

async fn setup_wallet<S: Store>(s: &S, a: Account, token_name: &str) {
    let id = a.customer_id.as_str().to_string();
    s.create_account(&a, t0()).await.unwrap();
    s.put_token(&token(token_name, &id)).await.unwrap();
}

fn by_token(name: &str) -> MethodGuard {
    MethodGuard::Token(hash(name))
}

// ---- Scenarios ----------------------------------------------------------------------------

/// Accounts, tokens and codes are written and read back as they were; credits are idempotent
/// by entry id; admin writes on missing or existing accounts say so.
pub async fn admin_round_trip<S: Store>(s: Arc<S>) {
    let mut a = account("c-admin", &[(krw(), 10_000), (usd(), 0)]);
    a.limits.insert(krw(), limits(5_000, 8_000, 3));
    a.usage.insert(
        krw(),
        DayUsage {
            day: DAY0,
            amount_left: MinorUnit(7_000),
            count_left: 2,
        },
    );
    a.nfc_enabled = true;
    s.create_account(&a, t0()).await.unwrap();
    assert_eq!(s.account(&a.customer_id).await.unwrap(), Some(a.clone()));
    assert!(matches!(
        s.create_account(&a, t0()).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(s.account(&CustomerId::new("c-nobody")).await.unwrap(), None);
    assert_eq!(
        ledger_kind(&*s, "c-admin", EntryKind::Credit).await,
        vec![("OPENING#KRW".to_string(), 10_000)]
    );

    // Top-ups: a new currency, then the same entry id again is applied once.
    let eur = Currency::from_code("EUR").unwrap();
    let topup = Money {
        currency: eur,
        value: MinorUnit(250),
    };
    s.credit(&a.customer_id, topup, "TOPUP#1", t0())
        .await
        .unwrap();
    s.credit(&a.customer_id, topup, "TOPUP#1", t0())
        .await
        .unwrap();
    assert_eq!(balance(&*s, "c-admin", eur).await, 250);
    assert!(matches!(
        s.credit(&CustomerId::new("c-nobody"), topup, "TOPUP#1", t0())
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Settings replace status, KYC and limits; usage and balances stay.
    let new_limits = BTreeMap::from([(usd(), limits(100, 200, 2))]);
    s.update_account_settings(
        &a.customer_id,
        AccountStatus::Frozen,
        KycStatus::Pending,
        &new_limits,
    )
    .await
    .unwrap();
    let got = get_account(&*s, "c-admin").await;
    assert_eq!(got.status, AccountStatus::Frozen);
    assert_eq!(got.kyc, KycStatus::Pending);
    assert_eq!(got.limits, new_limits);
    assert_eq!(got.limits_for(krw()), Limits::UNLIMITED);
    assert_eq!(got.usage, a.usage);
    assert_eq!(got.balances.get(&eur), Some(&MinorUnit(250)));
    assert!(matches!(
        s.update_account_settings(
            &CustomerId::new("c-nobody"),
            AccountStatus::Normal,
            KycStatus::Passed,
            &new_limits
        )
        .await,
        Err(StoreError::NotFound(_))
    ));

    // Tokens and codes by hash; overwritten by a second put.
    let mut t = token("tok-admin", "c-admin");
    s.put_token(&t).await.unwrap();
    assert_eq!(
        s.find_method(&MethodRef::AccessToken(hash("tok-admin")))
            .await
            .unwrap(),
        MethodFound::Token(Some(t.clone()))
    );
    t.revoked = true;
    s.put_token(&t).await.unwrap();
    assert_eq!(
        s.find_method(&MethodRef::AccessToken(hash("tok-admin")))
            .await
            .unwrap(),
        MethodFound::Token(Some(t))
    );
    assert_eq!(
        s.find_method(&MethodRef::AccessToken(hash("nope")))
            .await
            .unwrap(),
        MethodFound::Token(None)
    );
    let c = code("code-admin", "c-admin");
    s.put_payment_code(&c).await.unwrap();
    assert_eq!(
        s.find_method(&MethodRef::PaymentCode(hash("code-admin")))
            .await
            .unwrap(),
        MethodFound::Code(Some(c))
    );
    assert_eq!(
        s.find_method(&MethodRef::PaymentCode(hash("nope")))
            .await
            .unwrap(),
        MethodFound::Code(None)
    );
    let nfc = MethodRef::Customer(CustomerId::new("c-admin"));
    assert_eq!(
        s.find_method(&nfc).await.unwrap(),
        MethodFound::Customer(CustomerId::new("c-admin"))
    );

    s.create_account(&account("c-admin-2", &[]), t0())
        .await
        .unwrap();
    let mut ids: Vec<String> = s
        .account_ids()
        .await
        .unwrap()
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["c-admin".to_string(), "c-admin-2".to_string()]);
    assert!(s.payments().await.unwrap().is_empty());
    assert!(s
        .ledger(&CustomerId::new("c-admin-2"))
        .await
        .unwrap()
        .is_empty());
    assert_ledger(&*s).await;
}

/// A token payment: one read, one commit that debits balance and allowance and writes the
/// DEBIT entry; a repeat finds the record; another request with the same id, or the very same
/// intent again, gets `Exists` with the stored record and no second debit.
pub async fn token_payment_commits_once_and_repeats_answer_exists<S: Store>(s: Arc<S>) {
    let mut a = account("c-pay", &[(krw(), 10_000)]);
    a.limits.insert(krw(), limits(5_000, 8_000, 3));
    setup_wallet(&*s, a, "tok-pay").await;

    let ctx = s
        .load_for_pay("p1", &MethodRef::AccessToken(hash("tok-pay")))
        .await
        .unwrap();
    assert_eq!(ctx.existing, None);
    assert_eq!(
        ctx.method,
        MethodFound::Token(Some(token("tok-pay", "c-pay")))
    );

    let i = intent("p1", "c-pay", won(1_000), by_token("tok-pay"), t0());
    commit_ok(&*s, &i).await;
    assert_eq!(balance(&*s, "c-pay", krw()).await, 9_000);
    let acc = get_account(&*s, "c-pay").await;
    assert_eq!(
        acc.usage.get(&krw()),
        Some(&DayUsage {
            day: DAY0,
            amount_left: MinorUnit(7_000),
            count_left: 2
        })
    );
    assert_eq!(s.payment("p1").await.unwrap(), Some(i.payment.clone()));
    assert_eq!(
        ledger_kind(&*s, "c-pay", EntryKind::Debit).await,
        vec![("p1#DEBIT".to_string(), 1_000)]
    );

    let again = s
        .load_for_pay("p1", &MethodRef::AccessToken(hash("tok-pay")))
        .await
        .unwrap();
    assert_eq!(again.existing, Some(i.payment.clone()));
    let by_customer = s
        .load_for_pay("p1", &MethodRef::Customer(CustomerId::new("c-pay")))
        .await
        .unwrap();
    assert_eq!(by_customer.existing, Some(i.payment.clone()));
    assert_eq!(
        by_customer.method,
        MethodFound::Customer(CustomerId::new("c-pay"))
    );

    assert_eq!(
        s.commit_payment(&other_request(&i, 1)).await.unwrap(),
        CommitOutcome::Exists(i.payment.clone())
    );
    assert_eq!(
        s.commit_payment(&i).await.unwrap(),
        CommitOutcome::Exists(i.payment.clone()),
        "the same intent again"
    );
    assert_eq!(balance(&*s, "c-pay", krw()).await, 9_000, "debited once");
    assert_eq!(ledger_kind(&*s, "c-pay", EntryKind::Debit).await.len(), 1);
    assert_eq!(s.payments().await.unwrap(), vec![i.payment.clone()]);
    assert_ledger(&*s).await;
}

/// Every token failure has its decline and writes nothing.
pub async fn token_declines<S: Store>(s: Arc<S>) {
    setup_wallet(&*s, account("c-tok", &[(krw(), 10_000)]), "tok-ok").await;
    s.create_account(&account("c-other", &[(krw(), 10_000)]), t0())
        .await
        .unwrap();
    let mut revoked = token("tok-revoked", "c-tok");
    revoked.revoked = true;
    let mut no_scope = token("tok-scope", "c-tok");
    no_scope.scopes = vec!["USER_LOGIN_ID".to_string()];
    let mut expired = token("tok-expired", "c-tok");
    expired.expires_at = t0();
    for t in [&revoked, &no_scope, &expired] {
        s.put_token(t).await.unwrap();
    }
    s.put_token(&token("tok-of-other", "c-other"))
        .await
        .unwrap();

    let d = won(100);
    expect_declines(
        &*s,
        &[
            (
                intent("t1", "c-tok", d, by_token("tok-unknown"), t0()),
                Decline::TokenInvalid,
            ),
            (
                intent("t2", "c-tok", d, by_token("tok-revoked"), t0()),
                Decline::TokenInvalid,
            ),
            (
                intent("t3", "c-tok", d, by_token("tok-scope"), t0()),
                Decline::TokenInvalid,
            ),
            (
                intent("t4", "c-tok", d, by_token("tok-expired"), t0()),
                Decline::TokenExpired,
            ),
            (
                intent("t5", "c-tok", d, by_token("tok-of-other"), t0()),
                Decline::TokenInvalid,
            ),
        ],
    )
    .await;
    // One nanosecond before expiry it still works.
    commit_ok(
        &*s,
        &intent(
            "t6",
            "c-tok",
            d,
            by_token("tok-ok"),
            t0() + Duration::days(TOKEN_VALID_DAYS) - Duration::nanoseconds(1),
        ),
    )
    .await;
    assert_eq!(balance(&*s, "c-tok", krw()).await, 9_900);
    assert_ledger(&*s).await;
}

/// A payment code pays once: the commit marks it used and a second payment is refused.
pub async fn code_payment_uses_the_code_once<S: Store>(s: Arc<S>) {
    s.create_account(&account("c-code", &[(krw(), 10_000)]), t0())
        .await
        .unwrap();
    s.put_payment_code(&code("code-1", "c-code")).await.unwrap();
    let ctx = s
        .load_for_pay("k1", &MethodRef::PaymentCode(hash("code-1")))
        .await
        .unwrap();
    assert_eq!(
        ctx,
        mpp_core::store::PayContext {
            existing: None,
            method: MethodFound::Code(Some(code("code-1", "c-code")))
        }
    );
    commit_ok(
        &*s,
        &intent(
            "k1",
            "c-code",
            won(700),
            MethodGuard::Code(hash("code-1")),
            t0(),
        ),
    )
    .await;
    let mut used = code("code-1", "c-code");
    used.used_by = Some("k1".to_string());
    assert_eq!(
        s.find_method(&MethodRef::PaymentCode(hash("code-1")))
            .await
            .unwrap(),
        MethodFound::Code(Some(used))
    );
    expect_decline(
        &*s,
        &intent(
            "k2",
            "c-code",
            won(1),
            MethodGuard::Code(hash("code-1")),
            t0(),
        ),
        Decline::CodeInvalid,
    )
    .await;
    assert_eq!(balance(&*s, "c-code", krw()).await, 9_300);
    assert_ledger(&*s).await;
}

/// Unknown, expired and someone else's codes are declined.
pub async fn code_declines<S: Store>(s: Arc<S>) {
    s.create_account(&account("c-code", &[(krw(), 10_000)]), t0())
        .await
        .unwrap();
    s.create_account(&account("c-other", &[(krw(), 10_000)]), t0())
        .await
        .unwrap();
    s.put_payment_code(&code("code-other", "c-other"))
        .await
        .unwrap();
    s.put_payment_code(&code("code-late", "c-code"))
        .await
        .unwrap();
    let by_code = |n: &str| MethodGuard::Code(hash(n));
    expect_declines(
        &*s,
        &[
            (
                intent("k1", "c-code", won(1), by_code("code-unknown"), t0()),
                Decline::CodeInvalid,
            ),
            (
                intent(
                    "k2",
                    "c-code",
                    won(1),
                    by_code("code-late"),
                    t0() + Duration::minutes(1),
                ),
                Decline::CodeExpired,
            ),
            (
                intent("k3", "c-code", won(1), by_code("code-other"), t0()),
                Decline::CodeInvalid,
            ),
        ],
    )
    .await;
    assert_eq!(
        s.find_method(&MethodRef::PaymentCode(hash("code-other")))
            .await
            .unwrap(),
        MethodFound::Code(Some(code("code-other", "c-other"))),
        "a declined payment leaves the code unused"
    );
    assert_ledger(&*s).await;
}

/// Who the user is: missing, frozen, closed, KYC, NFC, currency.
pub async fn account_declines<S: Store>(s: Arc<S>) {
    let mut frozen = account("c-frozen", &[(krw(), 1_000)]);
    frozen.status = AccountStatus::Frozen;
    let mut closed = account("c-closed", &[(krw(), 1_000)]);
    closed.status = AccountStatus::Closed;
    let mut pending = account("c-pending", &[(krw(), 1_000)]);
    pending.kyc = KycStatus::Pending;
    let mut failed = account("c-kyc-failed", &[(krw(), 1_000)]);
    failed.kyc = KycStatus::Failed;
    let mut nfc = account("c-nfc", &[(krw(), 1_000)]);
    nfc.nfc_enabled = true;
    for a in [
        frozen,
        closed,
        pending,
        failed,
        nfc,
        account("c-plain", &[(krw(), 1_000)]),
    ] {
        let id = a.customer_id.as_str().to_string();
        setup_wallet(&*s, a, &format!("tok-{id}")).await;
    }
    s.put_token(&token("tok-ghost", "c-ghost")).await.unwrap();
    let tok = |c: &str| by_token(&format!("tok-{c}"));
    expect_declines(
        &*s,
        &[
            (
                intent("u1", "c-ghost", won(1), by_token("tok-ghost"), t0()),
                Decline::UserNotExist,
            ),
            (
                intent("u1n", "c-ghost", won(1), MethodGuard::Nfc, t0()),
                Decline::UserNotExist,
            ),
            (
                intent("u2", "c-frozen", won(1), tok("c-frozen"), t0()),
                Decline::UserStatusAbnormal,
            ),
            (
                intent("u3", "c-closed", won(1), tok("c-closed"), t0()),
                Decline::UserStatusAbnormal,
            ),
            (
                intent("u4", "c-pending", won(1), tok("c-pending"), t0()),
                Decline::KycNotQualified,
            ),
            (
                intent("u5", "c-kyc-failed", won(1), tok("c-kyc-failed"), t0()),
                Decline::KycNotQualified,
            ),
            (
                intent("u6", "c-plain", won(1), MethodGuard::Nfc, t0()),
                Decline::MethodUnavailable,
            ),
        ],
    )
    .await;
    let dollars = Money {
        currency: usd(),
        value: MinorUnit(1),
    };
    expect_decline(
        &*s,
        &intent("u7", "c-plain", dollars, tok("c-plain"), t0()),
        Decline::CurrencyNotSupport,
    )
    .await;
    commit_ok(
        &*s,
        &intent("u8", "c-nfc", won(300), MethodGuard::Nfc, t0()),
    )
    .await;
    commit_ok(
        &*s,
        &intent("u9", "c-plain", won(300), tok("c-plain"), t0()),
    )
    .await;
    assert_eq!(balance(&*s, "c-nfc", krw()).await, 700);
    assert_ledger(&*s).await;
}

/// Single limit, daily amount, daily count and balance, each at its boundary.
pub async fn limit_and_balance_declines<S: Store>(s: Arc<S>) {
    let mut a = account("c-lim", &[(krw(), 100_000)]);
    a.limits.insert(krw(), limits(5_000, 8_000, 3));
    setup_wallet(&*s, a, "tok-lim").await;
    let g = || by_token("tok-lim");
    expect_decline(
        &*s,
        &intent("l1", "c-lim", won(5_001), g(), t0()),
        Decline::SingleLimit,
    )
    .await;
    commit_ok(&*s, &intent("l2", "c-lim", won(5_000), g(), t0())).await;
    expect_decline(
        &*s,
        &intent("l3", "c-lim", won(3_001), g(), t0()),
        Decline::DailyAmount,
    )
    .await;
    commit_ok(&*s, &intent("l4", "c-lim", won(2_999), g(), t0())).await;
    assert_eq!(allowance(&*s, "c-lim", DAY0).await, (1, 1));
    commit_ok(&*s, &intent("l5", "c-lim", won(1), g(), t0())).await;
    assert_eq!(allowance(&*s, "c-lim", DAY0).await, (0, 0));
    expect_decline(
        &*s,
        &intent("l6", "c-lim", won(1), g(), t0()),
        Decline::DailyAmount,
    )
    .await;

    let mut c = account("c-count", &[(krw(), 100_000)]);
    c.limits.insert(krw(), limits(50_000, 80_000, 2));
    setup_wallet(&*s, c, "tok-count").await;
    commit_ok(
        &*s,
        &intent("n1", "c-count", won(10), by_token("tok-count"), t0()),
    )
    .await;
    commit_ok(
        &*s,
        &intent("n2", "c-count", won(10), by_token("tok-count"), t0()),
    )
    .await;
    expect_decline(
        &*s,
        &intent("n3", "c-count", won(10), by_token("tok-count"), t0()),
        Decline::DailyCount,
    )
    .await;

    setup_wallet(&*s, account("c-poor", &[(krw(), 100)]), "tok-poor").await;
    expect_decline(
        &*s,
        &intent("b1", "c-poor", won(101), by_token("tok-poor"), t0()),
        Decline::BalanceNotEnough,
    )
    .await;
    commit_ok(
        &*s,
        &intent("b2", "c-poor", won(100), by_token("tok-poor"), t0()),
    )
    .await;
    expect_decline(
        &*s,
        &intent("b3", "c-poor", won(1), by_token("tok-poor"), t0()),
        Decline::BalanceNotEnough,
    )
    .await;
    assert_eq!(balance(&*s, "c-poor", krw()).await, 0);
    assert_eq!(balance(&*s, "c-lim", krw()).await, 92_000);
    assert_ledger(&*s).await;
}

/// When several rules fail, the method is named before the user, the user before the limits,
/// the limits before the balance.
pub async fn declines_follow_the_rule_order<S: Store>(s: Arc<S>) {
    let mut a = account("c-order", &[(krw(), 10)]);
    a.status = AccountStatus::Frozen;
    a.limits.insert(krw(), limits(5, 5, 0));
    setup_wallet(&*s, a, "tok-order").await;
    let mut revoked = token("tok-order-revoked", "c-order");
    revoked.revoked = true;
    s.put_token(&revoked).await.unwrap();
    expect_decline(
        &*s,
        &intent(
            "o1",
            "c-order",
            won(100),
            by_token("tok-order-revoked"),
            t0(),
        ),
        Decline::TokenInvalid,
    )
    .await;
    expect_decline(
        &*s,
        &intent("o2", "c-order", won(100), by_token("tok-order"), t0()),
        Decline::UserStatusAbnormal,
    )
    .await;
    s.update_account_settings(
        &CustomerId::new("c-order"),
        AccountStatus::Normal,
        KycStatus::Passed,
        &BTreeMap::from([(krw(), limits(5, 5, 0))]),
    )
    .await
    .unwrap();
    expect_decline(
        &*s,
        &intent("o3", "c-order", won(100), by_token("tok-order"), t0()),
        Decline::SingleLimit,
    )
    .await;
    expect_decline(
        &*s,
        &intent("o4", "c-order", won(5), by_token("tok-order"), t0()),
        Decline::DailyCount,
    )
    .await;
    s.update_account_settings(
        &CustomerId::new("c-order"),
        AccountStatus::Normal,
        KycStatus::Passed,
        &BTreeMap::from([(krw(), limits(500, 500, 5))]),
    )
    .await
    .unwrap();
    expect_decline(
        &*s,
        &intent("o5", "c-order", won(100), by_token("tok-order"), t0()),
        Decline::BalanceNotEnough,
    )
    .await;
    assert_ledger(&*s).await;
}

/// The allowance is per business day (UTC+8): spent at 23:59:59, fresh at 00:00.
pub async fn the_day_rollover_resets_the_allowance<S: Store>(s: Arc<S>) {
    let mut a = account("c-day", &[(krw(), 10_000)]);
    a.limits.insert(krw(), limits(1_000, 1_000, 1));
    setup_wallet(&*s, a, "tok-day").await;
    let g = || by_token("tok-day");
    commit_ok(&*s, &intent("d1", "c-day", won(1_000), g(), t0())).await;
    expect_decline(
        &*s,
        &intent(
            "d2",
            "c-day",
            won(1),
            g(),
            next_day() - Duration::seconds(1),
        ),
        Decline::DailyAmount,
    )
    .await;
    commit_ok(&*s, &intent("d3", "c-day", won(1_000), g(), next_day())).await;
    let acc = get_account(&*s, "c-day").await;
    assert_eq!(
        acc.usage.get(&krw()),
        Some(&DayUsage {
            day: 20261122,
            amount_left: MinorUnit(0),
            count_left: 0
        })
    );
    expect_decline(
        &*s,
        &intent("d4", "c-day", won(1), g(), next_day() + Duration::hours(1)),
        Decline::DailyAmount,
    )
    .await;
    // A week later, across a month end, the allowance is whole again.
    commit_ok(
        &*s,
        &intent("d5", "c-day", won(400), g(), next_day() + Duration::days(9)),
    )
    .await;
    assert_eq!(allowance(&*s, "c-day", 20261201).await, (600, 0));
    assert_eq!(balance(&*s, "c-day", krw()).await, 7_600);
    assert_ledger(&*s).await;
}

/// A declined payment is recorded once; the first record wins and stops a later commit.
pub async fn record_payment_first_wins<S: Store>(s: Arc<S>) {
    setup_wallet(&*s, account("c-rec", &[(krw(), 1_000)]), "tok-rec").await;
    let first = failed_record("r1", ResultCode::UserBalanceNotEnough, t0());
    assert_eq!(s.record_payment(&first).await.unwrap(), PutOutcome::Stored);
    let second = failed_record("r1", ResultCode::InvalidToken, t0() + Duration::seconds(1));
    assert_eq!(
        s.record_payment(&second).await.unwrap(),
        PutOutcome::Exists(first.clone())
    );
    assert_eq!(s.payment("r1").await.unwrap(), Some(first.clone()));
    let i = intent("r1", "c-rec", won(10), by_token("tok-rec"), t0());
    assert_eq!(
        s.commit_payment(&i).await.unwrap(),
        CommitOutcome::Exists(first.clone())
    );
    assert_eq!(balance(&*s, "c-rec", krw()).await, 1_000);
    // And a commit first makes a later record lose.
    commit_ok(
        &*s,
        &intent("r2", "c-rec", won(10), by_token("tok-rec"), t0()),
    )
    .await;
    let late = failed_record("r2", ResultCode::ProcessFail, t0());
    assert!(
        matches!(s.record_payment(&late).await.unwrap(), PutOutcome::Exists(p) if p.state == PaymentState::Succeeded)
    );
    assert_ledger(&*s).await;
}

/// Cancel before pay: a closed placeholder stands, the late pay meets it, cancel again says
/// already closed.
pub async fn cancel_of_an_unknown_id_leaves_a_closed_placeholder<S: Store>(s: Arc<S>) {
    setup_wallet(&*s, account("c-ph", &[(krw(), 1_000)]), "tok-ph").await;
    let now = t0() + Duration::seconds(5);
    let outcome = s
        .cancel_payment("x1", &placeholder("x1", t0()), now)
        .await
        .unwrap();
    let mut closed = placeholder("x1", t0());
    closed.closed_at = Some(now);
    assert_eq!(outcome, CancelOutcome::Closed(closed.clone()));
    assert_eq!(s.payment("x1").await.unwrap(), Some(closed.clone()));
    let late = intent("x1", "c-ph", won(10), by_token("tok-ph"), now);
    assert_eq!(
        s.commit_payment(&late).await.unwrap(),
        CommitOutcome::Exists(closed.clone())
    );
    assert_eq!(
        s.cancel_payment("x1", &placeholder("x1", now), now)
            .await
            .unwrap(),
        CancelOutcome::AlreadyClosed(closed)
    );
    assert_eq!(balance(&*s, "c-ph", krw()).await, 1_000);
    assert_ledger(&*s).await;
}

/// Cancel of a declined payment closes it; nothing moves.
pub async fn cancel_of_a_failed_payment_closes_it<S: Store>(s: Arc<S>) {
    setup_wallet(&*s, account("c-fail", &[(krw(), 1_000)]), "tok-fail").await;
    let failed = failed_record("f1", ResultCode::UserBalanceNotEnough, t0());
    s.record_payment(&failed).await.unwrap();
    let now = t0() + Duration::seconds(30);
    let mut closed = failed.clone();
    closed.state = PaymentState::Closed;
    closed.closed_at = Some(now);
    assert_eq!(
        s.cancel_payment("f1", &placeholder("f1", now), now)
            .await
            .unwrap(),
        CancelOutcome::Closed(closed.clone())
    );
    assert_eq!(s.payment("f1").await.unwrap(), Some(closed.clone()));
    assert_eq!(
        s.cancel_payment("f1", &placeholder("f1", now), now)
            .await
            .unwrap(),
        CancelOutcome::AlreadyClosed(closed)
    );
    assert_eq!(
        s.refund(&refund_intent("rf", "f1", won(1), now))
            .await
            .unwrap(),
        RefundOutcome::Refused(RefundRefusal::NotRefundable)
    );
    assert_ledger(&*s).await;
}

/// Cancel of a success: CANCELLED, balance and the day's allowance back, a REVERSAL entry;
/// cancel again is the same answer; refunds and repeats meet the cancelled record.
pub async fn cancel_of_a_success_reverses_balance_allowance_and_ledger<S: Store>(s: Arc<S>) {
    let mut a = account("c-cancel", &[(krw(), 10_000)]);
    a.limits.insert(krw(), limits(5_000, 8_000, 3));
    setup_wallet(&*s, a, "tok-cancel").await;
    let i = intent("s1", "c-cancel", won(1_000), by_token("tok-cancel"), t0());
    commit_ok(&*s, &i).await;
    assert_eq!(allowance(&*s, "c-cancel", DAY0).await, (7_000, 2));
    let now = t0() + Duration::minutes(2);
    let mut cancelled = i.payment.clone();
    cancelled.state = PaymentState::Cancelled;
    cancelled.closed_at = Some(now);
    assert_eq!(
        s.cancel_payment("s1", &placeholder("s1", now), now)
            .await
            .unwrap(),
        CancelOutcome::Reversed(cancelled.clone())
    );
    assert_eq!(balance(&*s, "c-cancel", krw()).await, 10_000);
    assert_eq!(allowance(&*s, "c-cancel", DAY0).await, (8_000, 3));
    assert_eq!(
        ledger_kind(&*s, "c-cancel", EntryKind::Reversal).await,
        vec![("s1#REVERSAL".to_string(), 1_000)]
    );
    assert_eq!(s.payment("s1").await.unwrap(), Some(cancelled.clone()));
    assert_eq!(
        s.cancel_payment("s1", &placeholder("s1", now), now)
            .await
            .unwrap(),
        CancelOutcome::AlreadyClosed(cancelled.clone())
    );
    assert_eq!(
        s.commit_payment(&i).await.unwrap(),
        CommitOutcome::Exists(cancelled.clone())
    );
    assert_eq!(
        s.refund(&refund_intent("rc", "s1", won(1), now))
            .await
            .unwrap(),
        RefundOutcome::Refused(RefundRefusal::NotRefundable)
    );
    assert_eq!(balance(&*s, "c-cancel", krw()).await, 10_000);
    assert_ledger(&*s).await;
}

/// A payment cancelled on a later business day gives the balance back; that day's allowance is
/// untouched (the debit counted against a day that is over).
pub async fn cancel_on_a_later_day_leaves_that_days_allowance<S: Store>(s: Arc<S>) {
    let mut a = account("c-late", &[(krw(), 10_000)]);
    a.limits.insert(krw(), limits(5_000, 8_000, 3));
    setup_wallet(&*s, a, "tok-late").await;
    commit_ok(
        &*s,
        &intent("y1", "c-late", won(1_000), by_token("tok-late"), t0()),
    )
    .await;
    commit_ok(
        &*s,
        &intent("y2", "c-late", won(500), by_token("tok-late"), next_day()),
    )
    .await;
    let later = next_day() + Duration::hours(1);
    assert!(matches!(
        s.cancel_payment("y1", &placeholder("y1", later), later)
            .await
            .unwrap(),
        CancelOutcome::Reversed(_)
    ));
    assert_eq!(balance(&*s, "c-late", krw()).await, 9_500);
    assert_eq!(allowance(&*s, "c-late", 20261122).await, (7_500, 2));
    assert_eq!(
        get_account(&*s, "c-late")
            .await
            .usage
            .get(&krw())
            .map(|u| u.day),
        Some(20261122)
    );
    // Cancelled a day later with no payment since: the debit day's counters are given back.
    commit_ok(
        &*s,
        &intent(
            "y3",
            "c-late",
            won(200),
            by_token("tok-late"),
            next_day() + Duration::days(1),
        ),
    )
    .await;
    let day_after = next_day() + Duration::days(2);
    assert!(matches!(
        s.cancel_payment("y3", &placeholder("y3", day_after), day_after)
            .await
            .unwrap(),
        CancelOutcome::Reversed(_)
    ));
    assert_eq!(
        get_account(&*s, "c-late").await.usage.get(&krw()),
        Some(&DayUsage {
            day: 20261123,
            amount_left: MinorUnit(8_000),
            count_left: 3
        })
    );
    assert_eq!(balance(&*s, "c-late", krw()).await, 9_500);
    assert_ledger(&*s).await;
}

/// Cancel after partial refunds reverses what is left; after a full refund nothing is left to
/// reverse and no REVERSAL entry is written.
pub async fn cancel_after_refunds_gives_back_the_rest<S: Store>(s: Arc<S>) {
    let mut a = account("c-rr", &[(krw(), 10_000)]);
    a.limits.insert(krw(), limits(5_000, 8_000, 3));
    setup_wallet(&*s, a, "tok-rr").await;
    commit_ok(
        &*s,
        &intent("z1", "c-rr", won(1_000), by_token("tok-rr"), t0()),
    )
    .await;
    assert!(matches!(
        s.refund(&refund_intent("zr1", "z1", won(300), t0()))
            .await
            .unwrap(),
        RefundOutcome::Refunded(_)
    ));
    assert_eq!(balance(&*s, "c-rr", krw()).await, 9_300);
    assert!(
        matches!(s.cancel_payment("z1", &placeholder("z1", t0()), t0()).await.unwrap(), CancelOutcome::Reversed(p) if p.refunded == MinorUnit(300))
    );
    assert_eq!(balance(&*s, "c-rr", krw()).await, 10_000);
    assert_eq!(
        ledger_kind(&*s, "c-rr", EntryKind::Reversal).await,
        vec![("z1#REVERSAL".to_string(), 700)]
    );
    assert_eq!(allowance(&*s, "c-rr", DAY0).await, (7_700, 3));

    commit_ok(
        &*s,
        &intent("z2", "c-rr", won(500), by_token("tok-rr"), t0()),
    )
    .await;
    assert!(matches!(
        s.refund(&refund_intent("zr2", "z2", won(500), t0()))
            .await
            .unwrap(),
        RefundOutcome::Refunded(_)
    ));
    assert!(matches!(
        s.cancel_payment("z2", &placeholder("z2", t0()), t0())
            .await
            .unwrap(),
        CancelOutcome::Reversed(_)
    ));
    assert_eq!(
        ledger_kind(&*s, "c-rr", EntryKind::Reversal).await.len(),
        1,
        "nothing left to reverse"
    );
    assert_eq!(allowance(&*s, "c-rr", DAY0).await, (7_200, 3));
    assert_eq!(balance(&*s, "c-rr", krw()).await, 10_000);
    assert_ledger(&*s).await;
}

/// Refunds: partial and several up to what was paid, never above; idempotent by
/// `refundRequestId`; refused for unknown, failed and cancelled payments and another currency.
pub async fn refunds_partial_several_and_refused<S: Store>(s: Arc<S>) {
    setup_wallet(
        &*s,
        account("c-ref", &[(krw(), 10_000), (usd(), 500)]),
        "tok-ref",
    )
    .await;
    commit_ok(
        &*s,
        &intent("q1", "c-ref", won(1_000), by_token("tok-ref"), t0()),
    )
    .await;
    let r1 = refund_intent("rq1", "q1", won(300), t0() + Duration::minutes(1));
    let RefundOutcome::Refunded(rec1) = s.refund(&r1).await.unwrap() else {
        panic!("first refund applies")
    };
    assert_eq!(rec1.amount, won(300));
    assert_eq!(rec1.refund_id, "refund-rq1");
    assert_eq!(rec1.payment_request_id, "q1");
    assert_eq!(rec1.refund_time, "2026-11-21T11:01:00+08:00");
    assert_eq!(
        s.refund(&r1).await.unwrap(),
        RefundOutcome::Exists(rec1.clone()),
        "repeat"
    );
    let changed = refund_intent("rq1", "q1", won(10), t0());
    assert_eq!(
        s.refund(&changed).await.unwrap(),
        RefundOutcome::Exists(rec1.clone()),
        "repeat with other parameters"
    );
    assert!(matches!(
        s.refund(&refund_intent("rq2", "q1", won(600), t0()))
            .await
            .unwrap(),
        RefundOutcome::Refunded(_)
    ));
    assert_eq!(
        s.refund(&refund_intent("rq3", "q1", won(101), t0()))
            .await
            .unwrap(),
        RefundOutcome::Refused(RefundRefusal::ExceedsPayment)
    );
    assert!(matches!(
        s.refund(&refund_intent("rq4", "q1", won(100), t0()))
            .await
            .unwrap(),
        RefundOutcome::Refunded(_)
    ));
    assert_eq!(
        s.refund(&refund_intent("rq5", "q1", won(1), t0()))
            .await
            .unwrap(),
        RefundOutcome::Refused(RefundRefusal::ExceedsPayment)
    );
    assert_eq!(
        s.payment("q1").await.unwrap().map(|p| p.refunded),
        Some(MinorUnit(1_000))
    );
    assert_eq!(balance(&*s, "c-ref", krw()).await, 10_000);
    assert_eq!(ledger_kind(&*s, "c-ref", EntryKind::Refund).await.len(), 3);

    commit_ok(
        &*s,
        &intent("q2", "c-ref", won(100), by_token("tok-ref"), t0()),
    )
    .await;
    assert_eq!(
        s.refund(&refund_intent("rq6", "q2", won(101), t0()))
            .await
            .unwrap(),
        RefundOutcome::Refused(RefundRefusal::ExceedsPayment)
    );
    let dollars = Money {
        currency: usd(),
        value: MinorUnit(1),
    };
    assert_eq!(
        s.refund(&refund_intent("rq7", "q2", dollars, t0()))
            .await
            .unwrap(),
        RefundOutcome::Refused(RefundRefusal::CurrencyMismatch)
    );
    assert_eq!(
        s.refund(&refund_intent("rq8", "nope", won(1), t0()))
            .await
            .unwrap(),
        RefundOutcome::Refused(RefundRefusal::PaymentNotFound)
    );
    s.record_payment(&failed_record("q3", ResultCode::UserBalanceNotEnough, t0()))
        .await
        .unwrap();
    assert_eq!(
        s.refund(&refund_intent("rq9", "q3", won(1), t0()))
            .await
            .unwrap(),
        RefundOutcome::Refused(RefundRefusal::NotRefundable)
    );
    assert_eq!(balance(&*s, "c-ref", krw()).await, 9_900);
    assert_eq!(balance(&*s, "c-ref", usd()).await, 500);
    assert_ledger(&*s).await;
}

/// [`CONCURRENT_PAYMENTS`] pay requests with one `paymentRequestId` at once: one commits, every
/// other meets its record, the wallet is debited once.
pub async fn concurrent_repeats_debit_once<S: Store>(s: Arc<S>) {
    setup_wallet(&*s, account("c-same", &[(krw(), 1_000_000)]), "tok-same").await;
    let base = intent("same-1", "c-same", won(100), by_token("tok-same"), t0());
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..CONCURRENT_PAYMENTS {
        let (s, i) = (s.clone(), other_request(&base, n));
        tasks.spawn(async move { (i.payment.clone(), s.commit_payment(&i).await) });
    }
    let mut committed = Vec::new();
    let mut exists = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (mine, outcome) = joined.unwrap();
        match outcome.unwrap() {
            CommitOutcome::Committed => committed.push(mine),
            CommitOutcome::Exists(other) => exists.push(other),
            CommitOutcome::Declined(d) => panic!("unexpected decline {d:?}"),
        }
    }
    assert_eq!(committed.len(), 1, "exactly one commit");
    assert_eq!(exists.len(), CONCURRENT_PAYMENTS - 1);
    assert!(
        exists.iter().all(|e| *e == committed[0]),
        "every repeat sees the committed record"
    );
    assert_eq!(
        s.payment("same-1").await.unwrap().as_ref(),
        committed.first()
    );
    assert_eq!(balance(&*s, "c-same", krw()).await, 1_000_000 - 100);
    assert_eq!(ledger_kind(&*s, "c-same", EntryKind::Debit).await.len(), 1);
    assert_ledger(&*s).await;
}

/// [`CONCURRENT_PAYMENTS`] different payments at once against a wallet that covers only 60 of
/// them: no overdraft, the balance is the opening minus what committed, every commit has its
/// record and DEBIT entry.
pub async fn concurrent_payments_never_overdraw<S: Store>(s: Arc<S>) {
    const AFFORDABLE: u64 = 60;
    let opening = 100 * AFFORDABLE;
    setup_wallet(&*s, account("c-many", &[(krw(), opening)]), "tok-many").await;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..CONCURRENT_PAYMENTS {
        let s = s.clone();
        tasks.spawn(async move {
            let i = intent(
                &format!("many-{n}"),
                "c-many",
                won(100),
                by_token("tok-many"),
                t0(),
            );
            (
                i.payment.payment_request_id.clone(),
                s.commit_payment(&i).await,
            )
        });
    }
    let mut committed = Vec::new();
    let mut gave_up = 0;
    while let Some(joined) = tasks.join_next().await {
        let (id, outcome) = joined.unwrap();
        match outcome {
            Ok(CommitOutcome::Committed) => committed.push(id),
            Ok(CommitOutcome::Declined(Decline::BalanceNotEnough)) => {}
            // Losing every race past the bound is allowed (nothing was written), and rare.
            Err(StoreError::Contention(_)) => gave_up += 1,
            other => panic!("unexpected outcome for {id}: {other:?}"),
        }
    }
    let spent = 100 * committed.len() as u64;
    assert!(spent <= opening, "no overdraft");
    assert_eq!(balance(&*s, "c-many", krw()).await, opening - spent);
    if gave_up == 0 {
        assert_eq!(
            committed.len() as u64,
            AFFORDABLE,
            "every affordable payment commits"
        );
    }
    let mut stored: Vec<String> = s
        .payments()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.payment_request_id)
        .collect();
    stored.sort();
    committed.sort();
    assert_eq!(stored, committed, "a record exactly for each commit");
    assert_eq!(
        ledger_kind(&*s, "c-many", EntryKind::Debit).await.len(),
        committed.len()
    );
    assert_ledger(&*s).await;
}

/// `MethodGuard::Customer` needs no NFC; `lifecycle_payments` finds the payments of an
/// `orderLifecycleId` (earliest first, bounded); a supplemental debit commits only while its
/// original is a succeeded payment of the same customer, and its ledger entry carries the link.
pub async fn customer_guard_and_supplemental_original<S: Store>(s: Arc<S>) {
    setup_wallet(&*s, account("c-plain", &[(krw(), 1_000)]), "tok-c-plain").await;
    setup_wallet(&*s, account("c-other", &[(krw(), 1_000)]), "tok-c-other").await;
    // A customerId payer that is not a tap: no NFC needed.
    let mut original = intent("lc-0", "c-plain", won(100), MethodGuard::Customer, t0());
    original.payment.order_lifecycle_id = Some("LC-1".to_string());
    commit_ok(&*s, &original).await;
    let mut failed = failed_record("lc-f", ResultCode::UserBalanceNotEnough, t0());
    failed.order_lifecycle_id = Some("LC-1".to_string());
    assert_eq!(s.record_payment(&failed).await.unwrap(), PutOutcome::Stored);
    let found = s.lifecycle_payments("LC-1").await.unwrap();
    let mut ids: Vec<&str> = found
        .iter()
        .map(|p| p.payment_request_id.as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, ["lc-0", "lc-f"]);
    assert!(s.lifecycle_payments("LC-none").await.unwrap().is_empty());
    // A supplemental debit against it.
    let mut sup = intent("lc-1", "c-plain", won(50), MethodGuard::Customer, t0());
    sup.payment.order_lifecycle_id = Some("LC-1".to_string());
    sup.payment.supplemental_of = Some("lc-0".to_string());
    sup.original = Some("lc-0".to_string());
    commit_ok(&*s, &sup).await;
    let stored = s.payment("lc-1").await.unwrap().unwrap();
    assert_eq!(stored.supplemental_of.as_deref(), Some("lc-0"));
    assert_eq!(stored.order_lifecycle_id.as_deref(), Some("LC-1"));
    let ledger = s.ledger(&CustomerId::new("c-plain")).await.unwrap();
    let debit = ledger
        .iter()
        .find(|e| e.payment_request_id.as_deref() == Some("lc-1"))
        .unwrap();
    assert_eq!(debit.order_lifecycle_id.as_deref(), Some("LC-1"));
    // The original of another customer, a failed one, or one that does not exist: declined,
    // nothing written.
    for (id, customer, orig) in [
        ("lc-2", "c-other", "lc-0"),
        ("lc-3", "c-plain", "lc-f"),
        ("lc-4", "c-plain", "lc-missing"),
    ] {
        let mut i = intent(id, customer, won(10), MethodGuard::Customer, t0());
        i.original = Some(orig.to_string());
        expect_decline(&*s, &i, Decline::NoOriginalPayment).await;
        assert!(s.payment(id).await.unwrap().is_none(), "{id}");
    }
    // Cancelled meanwhile: declined too.
    assert!(matches!(
        s.cancel_payment("lc-0", &placeholder("lc-0", t0()), t0())
            .await
            .unwrap(),
        CancelOutcome::Reversed(_)
    ));
    let mut late = intent("lc-5", "c-plain", won(10), MethodGuard::Customer, t0());
    late.original = Some("lc-0".to_string());
    expect_decline(&*s, &late, Decline::NoOriginalPayment).await;
    assert_eq!(balance(&*s, "c-plain", krw()).await, 950);
    assert_eq!(balance(&*s, "c-other", krw()).await, 1_000);
    assert_ledger(&*s).await;
}
