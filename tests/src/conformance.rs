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
use mpp_core::payments::record::Order;
use mpp_core::payments::{
    CancelOutcome, CancelStore, ClosedFrom, CommitOutcome, DebitIntent, Decline, MethodFound,
    MethodGuard, MethodRef, PayStore, PaymentReader, PaymentRecord, PaymentState, PutOutcome,
    RefundIntent, RefundOutcome, RefundRefusal, RefundStore, Status, WalletReader,
};
use mpp_core::result_code::ResultCode;
use mpp_core::store::{
    ledger_mismatches, AccessToken, Account, AccountStatus, AdminStore, DayUsage, EntryKind,
    KycStatus, Limits, PaymentCode, StoreError, SCOPE_AGREEMENT_PAY,
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
    let order = Order {
        fingerprint: format!("fp-{id}-{}", debit.value),
        payment_amount: debit,
        pay_to_amount: debit,
        debit,
        expires_at: now + Duration::minutes(1),
        notify_url: Some("https://a.example/notify".to_string()),
        order_lifecycle_id: None,
        supplemental_of: None,
    };
    DebitIntent {
        payment: PaymentRecord::succeeded(
            id,
            now,
            order,
            format!("pay-{id}"),
            CustomerId::new(customer),
            now,
        ),
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
    let id = &i.payment.payment_request_id;
    if let Status::Succeeded { order, paid } = &mut o.payment.status {
        paid.payment_id = format!("pay-{id}-{n}");
        order.fingerprint = format!("fp-other-{n}");
    }
    o
}

/// A declined payment as pay records it.
pub fn failed_record(id: &str, code: ResultCode, now: DateTime<Utc>) -> PaymentRecord {
    let order = Order {
        fingerprint: format!("fp-{id}"),
        payment_amount: won(100),
        pay_to_amount: won(100),
        debit: won(100),
        expires_at: now + Duration::minutes(1),
        notify_url: None,
        order_lifecycle_id: None,
        supplemental_of: None,
    };
    PaymentRecord::failed(id, now, order, code, None)
}

/// The record cancel leaves at `now` for an id it never saw.
pub fn placeholder(id: &str, now: DateTime<Utc>) -> PaymentRecord {
    PaymentRecord::unseen_closed(id, now)
}

/// What pay was asked, of a payment pay wrote (a placeholder has none: a test bug).
pub fn order_mut(p: &mut PaymentRecord) -> &mut Order {
    match &mut p.status {
        Status::Succeeded { order, .. }
        | Status::Failed { order, .. }
        | Status::Cancelled { order, .. }
        | Status::Closed {
            from: ClosedFrom::Declined { order, .. },
            ..
        } => order,
        Status::Closed {
            from: ClosedFrom::Unseen,
            ..
        } => panic!("a placeholder has no order"),
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

/// Commits `i` and expects `decline`, with nothing written.
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

/// A wallet holding `krw_balance` won under KRW `limits`, with the access token `token_name`.
async fn limited_wallet<S: Store>(
    s: &S,
    id: &str,
    krw_balance: u64,
    krw_limits: Limits,
    token_name: &str,
) {
    let mut a = account(id, &[(krw(), krw_balance)]);
    a.limits.insert(krw(), krw_limits);
    setup_wallet(s, a, token_name).await;
}

fn by_token(name: &str) -> MethodGuard {
    MethodGuard::Token(hash(name))
}

/// One row of a scenario table: a store call and the answer it must get, or a check of what
/// the wallet holds. [`run`] plays the rows in order, naming the row of a failed assertion.
// Rows are built once per scenario and played in order: their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// The payment commits.
    Pays(DebitIntent),
    /// The payment is declined for its reason and writes nothing (see [`expect_decline`]).
    Declined(DebitIntent, Decline),
    /// Cancel of this `paymentRequestId` at this time reverses a succeeded payment.
    Reverses(&'static str, DateTime<Utc>),
    /// Cancel of this `paymentRequestId` at this time answers exactly this.
    Cancels(&'static str, DateTime<Utc>, CancelOutcome),
    /// The payment meets this stored record (a repeat or a late pay) and debits nothing.
    Meets(DebitIntent, PaymentRecord),
    /// The store holds this record for the `paymentRequestId`.
    Stored(&'static str, Option<PaymentRecord>),
    /// Looking up this payment method finds this.
    Finds(MethodRef, MethodFound),
    /// The refund applies.
    Refunds(RefundIntent),
    /// The refund is refused for this reason.
    Refused(RefundIntent, RefundRefusal),
    /// The wallet's settings become normal, KYC passed, with these KRW limits.
    LimitsBecome(&'static str, Limits),
    /// The wallet holds this much of the currency.
    Balance(&'static str, Currency, u64),
    /// The wallet's KRW allowance (amount, count) as the rules see it on a business day.
    Allowance(&'static str, u32, (u64, u32)),
    /// The wallet's stored KRW usage.
    Usage(&'static str, DayUsage),
    /// The wallet's ledger entries of a kind: (entry id, value), sorted.
    Entries(&'static str, EntryKind, Vec<(String, u64)>),
    /// How many ledger entries of a kind the wallet has.
    EntryCount(&'static str, EntryKind, usize),
    /// A declined payment is recorded (the first record of its id).
    Records(PaymentRecord),
}

/// Plays `steps` in order against `s`.
pub async fn run<S: Store>(s: &S, steps: Vec<Step>) {
    for (row, step) in steps.into_iter().enumerate() {
        match step {
            Step::Pays(i) => commit_ok(s, &i).await,
            Step::Declined(i, decline) => expect_decline(s, &i, decline).await,
            Step::Reverses(id, at) => {
                let outcome = s.cancel_payment(id, at).await.unwrap();
                assert!(
                    matches!(outcome, CancelOutcome::Reversed(_)),
                    "row {row}: cancel of {id}: {outcome:?}"
                );
            }
            Step::Cancels(id, at, expected) => assert_eq!(
                s.cancel_payment(id, at).await.unwrap(),
                expected,
                "row {row}: cancel of {id}"
            ),
            Step::Meets(i, record) => assert_eq!(
                s.commit_payment(&i).await.unwrap(),
                CommitOutcome::Exists(record),
                "row {row}: payment {}",
                i.payment.payment_request_id
            ),
            Step::Stored(id, record) => assert_eq!(
                s.payment(id).await.unwrap(),
                record,
                "row {row}: the record of {id}"
            ),
            Step::Finds(method, found) => assert_eq!(
                s.find_method(&method).await.unwrap(),
                found,
                "row {row}: {method:?}"
            ),
            Step::Refunds(r) => {
                let outcome = s.refund(&r).await.unwrap();
                assert!(
                    matches!(outcome, RefundOutcome::Refunded(_)),
                    "row {row}: refund {}: {outcome:?}",
                    r.refund_request_id
                );
            }
            Step::Refused(r, refusal) => assert_eq!(
                s.refund(&r).await.unwrap(),
                RefundOutcome::Refused(refusal),
                "row {row}: refund {}",
                r.refund_request_id
            ),
            Step::LimitsBecome(id, l) => s
                .update_account_settings(
                    &CustomerId::new(id),
                    AccountStatus::Normal,
                    KycStatus::Passed,
                    &BTreeMap::from([(krw(), l)]),
                )
                .await
                .unwrap(),
            Step::Balance(id, currency, value) => {
                assert_eq!(
                    balance(s, id, currency).await,
                    value,
                    "row {row}: balance of {id}"
                )
            }
            Step::Allowance(id, day, left) => {
                assert_eq!(
                    allowance(s, id, day).await,
                    left,
                    "row {row}: allowance of {id}"
                )
            }
            Step::Usage(id, usage) => assert_eq!(
                get_account(s, id).await.usage.get(&krw()),
                Some(&usage),
                "row {row}: usage of {id}"
            ),
            Step::Entries(id, kind, entries) => assert_eq!(
                ledger_kind(s, id, kind).await,
                entries,
                "row {row}: {kind:?} entries of {id}"
            ),
            Step::EntryCount(id, kind, n) => assert_eq!(
                ledger_kind(s, id, kind).await.len(),
                n,
                "row {row}: {kind:?} entries of {id}"
            ),
            Step::Records(p) => assert_eq!(
                s.record_payment(&p).await.unwrap(),
                PutOutcome::Stored,
                "row {row}: record {}",
                p.payment_request_id
            ),
        }
    }
}

/// A payment of `value` won from `customer` with the access token named `token_name`.
pub fn token_pay(
    id: &str,
    customer: &str,
    value: u64,
    token_name: &str,
    now: DateTime<Utc>,
) -> DebitIntent {
    intent(id, customer, won(value), by_token(token_name), now)
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
    let c = code("code-admin", "c-admin");
    s.put_token(&t).await.unwrap();
    s.put_payment_code(&c).await.unwrap();
    let admin = || CustomerId::new("c-admin");
    let by_token = || MethodRef::AccessToken(hash("tok-admin"));
    let nope = || hash("nope");
    run(
        &*s,
        vec![
            Step::Finds(by_token(), MethodFound::Token(Some(t.clone()))),
            Step::Finds(MethodRef::AccessToken(nope()), MethodFound::Token(None)),
            Step::Finds(
                MethodRef::PaymentCode(hash("code-admin")),
                MethodFound::Code(Some(c)),
            ),
            Step::Finds(MethodRef::PaymentCode(nope()), MethodFound::Code(None)),
            Step::Finds(MethodRef::Customer(admin()), MethodFound::Customer(admin())),
        ],
    )
    .await;
    t.revoked = true;
    s.put_token(&t).await.unwrap();
    run(
        &*s,
        vec![Step::Finds(by_token(), MethodFound::Token(Some(t)))],
    )
    .await;

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
    limited_wallet(&*s, "c-pay", 10_000, limits(5_000, 8_000, 3), "tok-pay").await;

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

    let with = |id: &str, token_name: &str, at| token_pay(id, "c-tok", 100, token_name, at);
    let before_expiry = t0() + Duration::days(TOKEN_VALID_DAYS) - Duration::nanoseconds(1);
    run(
        &*s,
        vec![
            Step::Declined(with("t1", "tok-unknown", t0()), Decline::TokenInvalid),
            Step::Declined(with("t2", "tok-revoked", t0()), Decline::TokenInvalid),
            Step::Declined(with("t3", "tok-scope", t0()), Decline::TokenInvalid),
            Step::Declined(with("t4", "tok-expired", t0()), Decline::TokenExpired),
            Step::Declined(with("t5", "tok-of-other", t0()), Decline::TokenInvalid),
            // One nanosecond before expiry it still works.
            Step::Pays(with("t6", "tok-ok", before_expiry)),
            Step::Balance("c-tok", krw(), 9_900),
        ],
    )
    .await;
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
        mpp_core::payments::PayContext {
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
    let with = |id: &str, code_name: &str, at| {
        intent(id, "c-code", won(1), MethodGuard::Code(hash(code_name)), at)
    };
    let late = t0() + Duration::minutes(1);
    run(
        &*s,
        vec![
            Step::Declined(with("k1", "code-unknown", t0()), Decline::CodeInvalid),
            Step::Declined(with("k2", "code-late", late), Decline::CodeExpired),
            Step::Declined(with("k3", "code-other", t0()), Decline::CodeInvalid),
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
    // A payment of `customer` with its own token, or with `guard`.
    let own = |id: &str, customer: &str, value| {
        token_pay(id, customer, value, &format!("tok-{customer}"), t0())
    };
    let with = |id: &str, customer: &str, guard| intent(id, customer, won(1), guard, t0());
    let dollars = Money {
        currency: usd(),
        value: MinorUnit(1),
    };
    run(
        &*s,
        vec![
            Step::Declined(
                token_pay("u1", "c-ghost", 1, "tok-ghost", t0()),
                Decline::UserNotExist,
            ),
            Step::Declined(
                with("u1n", "c-ghost", MethodGuard::Nfc),
                Decline::UserNotExist,
            ),
            Step::Declined(own("u2", "c-frozen", 1), Decline::UserStatusAbnormal),
            Step::Declined(own("u3", "c-closed", 1), Decline::UserStatusAbnormal),
            Step::Declined(own("u4", "c-pending", 1), Decline::KycNotQualified),
            Step::Declined(own("u5", "c-kyc-failed", 1), Decline::KycNotQualified),
            Step::Declined(
                with("u6", "c-plain", MethodGuard::Nfc),
                Decline::MethodUnavailable,
            ),
            Step::Declined(
                intent("u7", "c-plain", dollars, by_token("tok-c-plain"), t0()),
                Decline::CurrencyNotSupport,
            ),
            Step::Pays(intent("u8", "c-nfc", won(300), MethodGuard::Nfc, t0())),
            Step::Pays(own("u9", "c-plain", 300)),
            Step::Balance("c-nfc", krw(), 700),
        ],
    )
    .await;
    assert_ledger(&*s).await;
}

/// Single limit, daily amount, daily count and balance, each at its boundary.
pub async fn limit_and_balance_declines<S: Store>(s: Arc<S>) {
    limited_wallet(&*s, "c-lim", 100_000, limits(5_000, 8_000, 3), "tok-lim").await;
    limited_wallet(
        &*s,
        "c-count",
        100_000,
        limits(50_000, 80_000, 2),
        "tok-count",
    )
    .await;
    setup_wallet(&*s, account("c-poor", &[(krw(), 100)]), "tok-poor").await;
    let lim = |id: &str, value| token_pay(id, "c-lim", value, "tok-lim", t0());
    let count = |id: &str| token_pay(id, "c-count", 10, "tok-count", t0());
    let poor = |id: &str, value| token_pay(id, "c-poor", value, "tok-poor", t0());
    run(
        &*s,
        vec![
            Step::Declined(lim("l1", 5_001), Decline::SingleLimit),
            Step::Pays(lim("l2", 5_000)),
            Step::Declined(lim("l3", 3_001), Decline::DailyAmount),
            Step::Pays(lim("l4", 2_999)),
            Step::Allowance("c-lim", DAY0, (1, 1)),
            Step::Pays(lim("l5", 1)),
            Step::Allowance("c-lim", DAY0, (0, 0)),
            Step::Declined(lim("l6", 1), Decline::DailyAmount),
            Step::Pays(count("n1")),
            Step::Pays(count("n2")),
            Step::Declined(count("n3"), Decline::DailyCount),
            Step::Declined(poor("b1", 101), Decline::BalanceNotEnough),
            Step::Pays(poor("b2", 100)),
            Step::Declined(poor("b3", 1), Decline::BalanceNotEnough),
            Step::Balance("c-poor", krw(), 0),
            Step::Balance("c-lim", krw(), 92_000),
        ],
    )
    .await;
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
    let order = |id: &str, value| token_pay(id, "c-order", value, "tok-order", t0());
    run(
        &*s,
        vec![
            Step::Declined(
                token_pay("o1", "c-order", 100, "tok-order-revoked", t0()),
                Decline::TokenInvalid,
            ),
            Step::Declined(order("o2", 100), Decline::UserStatusAbnormal),
            Step::LimitsBecome("c-order", limits(5, 5, 0)),
            Step::Declined(order("o3", 100), Decline::SingleLimit),
            Step::Declined(order("o4", 5), Decline::DailyCount),
            Step::LimitsBecome("c-order", limits(500, 500, 5)),
            Step::Declined(order("o5", 100), Decline::BalanceNotEnough),
        ],
    )
    .await;
    assert_ledger(&*s).await;
}

/// The allowance is per business day (UTC+8): spent at 23:59:59, fresh at 00:00.
pub async fn the_day_rollover_resets_the_allowance<S: Store>(s: Arc<S>) {
    limited_wallet(&*s, "c-day", 10_000, limits(1_000, 1_000, 1), "tok-day").await;
    let day = |id: &str, value, at| token_pay(id, "c-day", value, "tok-day", at);
    run(
        &*s,
        vec![
            Step::Pays(day("d1", 1_000, t0())),
            Step::Declined(
                day("d2", 1, next_day() - Duration::seconds(1)),
                Decline::DailyAmount,
            ),
            Step::Pays(day("d3", 1_000, next_day())),
            Step::Usage(
                "c-day",
                DayUsage {
                    day: 20261122,
                    amount_left: MinorUnit(0),
                    count_left: 0,
                },
            ),
            Step::Declined(
                day("d4", 1, next_day() + Duration::hours(1)),
                Decline::DailyAmount,
            ),
            // A week later, across a month end, the allowance is whole again.
            Step::Pays(day("d5", 400, next_day() + Duration::days(9))),
            Step::Allowance("c-day", 20261201, (600, 0)),
            Step::Balance("c-day", krw(), 7_600),
        ],
    )
    .await;
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
        matches!(s.record_payment(&late).await.unwrap(), PutOutcome::Exists(p) if p.state() == PaymentState::Succeeded)
    );
    assert_ledger(&*s).await;
}

/// Cancel before pay: a closed placeholder stands, the late pay meets it, cancel again says
/// already closed.
pub async fn cancel_of_an_unknown_id_leaves_a_closed_placeholder<S: Store>(s: Arc<S>) {
    setup_wallet(&*s, account("c-ph", &[(krw(), 1_000)]), "tok-ph").await;
    let now = t0() + Duration::seconds(5);
    let closed = placeholder("x1", now);
    run(
        &*s,
        vec![
            Step::Cancels("x1", now, CancelOutcome::Closed(closed.clone())),
            Step::Stored("x1", Some(closed.clone())),
            Step::Meets(token_pay("x1", "c-ph", 10, "tok-ph", now), closed.clone()),
            Step::Cancels("x1", now, CancelOutcome::AlreadyClosed(closed)),
            Step::Balance("c-ph", krw(), 1_000),
        ],
    )
    .await;
    assert_ledger(&*s).await;
}

/// Cancel of a declined payment closes it; nothing moves.
pub async fn cancel_of_a_failed_payment_closes_it<S: Store>(s: Arc<S>) {
    setup_wallet(&*s, account("c-fail", &[(krw(), 1_000)]), "tok-fail").await;
    let failed = failed_record("f1", ResultCode::UserBalanceNotEnough, t0());
    let now = t0() + Duration::seconds(30);
    let closed = failed.clone().close_declined(now).unwrap();
    run(
        &*s,
        vec![
            Step::Records(failed),
            Step::Cancels("f1", now, CancelOutcome::Closed(closed.clone())),
            Step::Stored("f1", Some(closed.clone())),
            Step::Cancels("f1", now, CancelOutcome::AlreadyClosed(closed)),
            Step::Refused(
                refund_intent("rf", "f1", won(1), now),
                RefundRefusal::NotRefundable,
            ),
        ],
    )
    .await;
    assert_ledger(&*s).await;
}

/// Cancel of a success: CANCELLED, balance and the day's allowance back, a REVERSAL entry;
/// cancel again is the same answer; refunds and repeats meet the cancelled record.
pub async fn cancel_of_a_success_reverses_balance_allowance_and_ledger<S: Store>(s: Arc<S>) {
    limited_wallet(
        &*s,
        "c-cancel",
        10_000,
        limits(5_000, 8_000, 3),
        "tok-cancel",
    )
    .await;
    let i = token_pay("s1", "c-cancel", 1_000, "tok-cancel", t0());
    let now = t0() + Duration::minutes(2);
    let cancelled = i.payment.clone().cancel_paid(now).unwrap();
    run(
        &*s,
        vec![
            Step::Pays(i.clone()),
            Step::Allowance("c-cancel", DAY0, (7_000, 2)),
            Step::Cancels("s1", now, CancelOutcome::Reversed(cancelled.clone())),
            Step::Balance("c-cancel", krw(), 10_000),
            Step::Allowance("c-cancel", DAY0, (8_000, 3)),
            Step::Entries(
                "c-cancel",
                EntryKind::Reversal,
                vec![("s1#REVERSAL".to_string(), 1_000)],
            ),
            Step::Stored("s1", Some(cancelled.clone())),
            Step::Cancels("s1", now, CancelOutcome::AlreadyClosed(cancelled.clone())),
            Step::Meets(i, cancelled),
            Step::Refused(
                refund_intent("rc", "s1", won(1), now),
                RefundRefusal::NotRefundable,
            ),
            Step::Balance("c-cancel", krw(), 10_000),
        ],
    )
    .await;
    assert_ledger(&*s).await;
}

/// A payment cancelled on a later business day gives the balance back; that day's allowance is
/// untouched (the debit counted against a day that is over).
pub async fn cancel_on_a_later_day_leaves_that_days_allowance<S: Store>(s: Arc<S>) {
    limited_wallet(&*s, "c-late", 10_000, limits(5_000, 8_000, 3), "tok-late").await;
    let late = |id: &str, value, at| token_pay(id, "c-late", value, "tok-late", at);
    run(
        &*s,
        vec![
            Step::Pays(late("y1", 1_000, t0())),
            Step::Pays(late("y2", 500, next_day())),
            Step::Reverses("y1", next_day() + Duration::hours(1)),
            Step::Balance("c-late", krw(), 9_500),
            Step::Allowance("c-late", 20261122, (7_500, 2)),
            Step::Usage(
                "c-late",
                DayUsage {
                    day: 20261122,
                    amount_left: MinorUnit(7_500),
                    count_left: 2,
                },
            ),
            // Cancelled a day later with no payment since: the debit day's counters are given
            // back.
            Step::Pays(late("y3", 200, next_day() + Duration::days(1))),
            Step::Reverses("y3", next_day() + Duration::days(2)),
            Step::Usage(
                "c-late",
                DayUsage {
                    day: 20261123,
                    amount_left: MinorUnit(8_000),
                    count_left: 3,
                },
            ),
            Step::Balance("c-late", krw(), 9_500),
        ],
    )
    .await;
    assert_ledger(&*s).await;
}

/// Cancel after partial refunds reverses what is left; after a full refund nothing is left to
/// reverse and no REVERSAL entry is written.
pub async fn cancel_after_refunds_gives_back_the_rest<S: Store>(s: Arc<S>) {
    limited_wallet(&*s, "c-rr", 10_000, limits(5_000, 8_000, 3), "tok-rr").await;
    let rr = |id: &str, value| token_pay(id, "c-rr", value, "tok-rr", t0());
    run(
        &*s,
        vec![
            Step::Pays(rr("z1", 1_000)),
            Step::Refunds(refund_intent("zr1", "z1", won(300), t0())),
            Step::Balance("c-rr", krw(), 9_300),
        ],
    )
    .await;
    assert!(
        matches!(s.cancel_payment("z1", t0()).await.unwrap(), CancelOutcome::Reversed(p) if p.refunded() == MinorUnit(300))
    );
    let reversal_of_z1 = || vec![("z1#REVERSAL".to_string(), 700)];
    run(
        &*s,
        vec![
            Step::Balance("c-rr", krw(), 10_000),
            Step::Entries("c-rr", EntryKind::Reversal, reversal_of_z1()),
            Step::Allowance("c-rr", DAY0, (7_700, 3)),
            Step::Pays(rr("z2", 500)),
            Step::Refunds(refund_intent("zr2", "z2", won(500), t0())),
            Step::Reverses("z2", t0()),
            // Nothing left to reverse: still only z1's.
            Step::Entries("c-rr", EntryKind::Reversal, reversal_of_z1()),
            Step::Allowance("c-rr", DAY0, (7_200, 3)),
            Step::Balance("c-rr", krw(), 10_000),
        ],
    )
    .await;
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
    commit_ok(&*s, &token_pay("q1", "c-ref", 1_000, "tok-ref", t0())).await;
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
    let of = |id: &str, payment: &str, value| refund_intent(id, payment, won(value), t0());
    run(
        &*s,
        vec![
            Step::Refunds(of("rq2", "q1", 600)),
            Step::Refused(of("rq3", "q1", 101), RefundRefusal::ExceedsPayment),
            Step::Refunds(of("rq4", "q1", 100)),
            Step::Refused(of("rq5", "q1", 1), RefundRefusal::ExceedsPayment),
        ],
    )
    .await;
    assert_eq!(
        s.payment("q1").await.unwrap().map(|p| p.refunded()),
        Some(MinorUnit(1_000))
    );
    let dollars = Money {
        currency: usd(),
        value: MinorUnit(1),
    };
    run(
        &*s,
        vec![
            Step::Balance("c-ref", krw(), 10_000),
            Step::EntryCount("c-ref", EntryKind::Refund, 3),
            Step::Pays(token_pay("q2", "c-ref", 100, "tok-ref", t0())),
            Step::Refused(of("rq6", "q2", 101), RefundRefusal::ExceedsPayment),
            Step::Refused(
                refund_intent("rq7", "q2", dollars, t0()),
                RefundRefusal::CurrencyMismatch,
            ),
            Step::Refused(of("rq8", "nope", 1), RefundRefusal::PaymentNotFound),
            Step::Records(failed_record("q3", ResultCode::UserBalanceNotEnough, t0())),
            Step::Refused(of("rq9", "q3", 1), RefundRefusal::NotRefundable),
            Step::Balance("c-ref", krw(), 9_900),
            Step::Balance("c-ref", usd(), 500),
        ],
    )
    .await;
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
    order_mut(&mut original.payment).order_lifecycle_id = Some("LC-1".to_string());
    commit_ok(&*s, &original).await;
    let mut failed = failed_record("lc-f", ResultCode::UserBalanceNotEnough, t0());
    order_mut(&mut failed).order_lifecycle_id = Some("LC-1".to_string());
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
    order_mut(&mut sup.payment).order_lifecycle_id = Some("LC-1".to_string());
    order_mut(&mut sup.payment).supplemental_of = Some("lc-0".to_string());
    sup.original = Some("lc-0".to_string());
    commit_ok(&*s, &sup).await;
    let stored = s.payment("lc-1").await.unwrap().unwrap();
    assert_eq!(
        stored.order().and_then(|o| o.supplemental_of.as_deref()),
        Some("lc-0")
    );
    assert_eq!(stored.order_lifecycle_id(), Some("LC-1"));
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
        s.cancel_payment("lc-0", t0()).await.unwrap(),
        CancelOutcome::Reversed(_)
    ));
    let mut late = intent("lc-5", "c-plain", won(10), MethodGuard::Customer, t0());
    late.original = Some("lc-0".to_string());
    expect_decline(&*s, &late, Decline::NoOriginalPayment).await;
    assert_eq!(balance(&*s, "c-plain", krw()).await, 950);
    assert_eq!(balance(&*s, "c-other", krw()).await, 1_000);
    assert_ledger(&*s).await;
}
