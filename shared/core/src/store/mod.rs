//! The ledger store: the port every money-moving function writes through, its records, and the
//! pure rules both adapters (in-memory here, DynamoDB in `mpp-aws`) apply identically.
//!
//! The port is split by what one function may do, so each Lambda's IAM policy can be exactly
//! its trait: `WalletReader` and `PaymentReader` only read; `PayStore` creates payments;
//! `CancelStore` and `RefundStore` move existing ones; `AdminStore` is for operators, tests and
//! the local stack. See `docs/store.md` for the table design.

pub mod memory;
pub mod payment;
pub mod rules;
pub mod transitions;

use crate::clock::business_day;
use crate::ids::{CustomerId, SecretHash};
use crate::money::{Currency, MinorUnit, Money};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub use payment::{ClosedFrom, Declined, Order, Paid, PaymentRecord, PaymentRow, Status};
pub use rules::Decline;

/// Wallet account status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountStatus {
    /// Usable.
    Normal,
    /// Temporarily blocked (by risk or the user).
    Frozen,
    /// Closed for good.
    Closed,
}

impl AccountStatus {
    /// The stored and seed-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Normal => "NORMAL",
            AccountStatus::Frozen => "FROZEN",
            AccountStatus::Closed => "CLOSED",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<AccountStatus> {
        match s {
            "NORMAL" => Some(AccountStatus::Normal),
            "FROZEN" => Some(AccountStatus::Frozen),
            "CLOSED" => Some(AccountStatus::Closed),
            _ => None,
        }
    }
}

/// Know-your-customer state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KycStatus {
    /// Verified: may pay.
    Passed,
    /// Verification failed.
    Failed,
    /// Not verified yet.
    Pending,
}

impl KycStatus {
    /// The stored and seed-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KycStatus::Passed => "PASSED",
            KycStatus::Failed => "FAILED",
            KycStatus::Pending => "PENDING",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<KycStatus> {
        match s {
            "PASSED" => Some(KycStatus::Passed),
            "FAILED" => Some(KycStatus::Failed),
            "PENDING" => Some(KycStatus::Pending),
            _ => None,
        }
    }
}

/// Per-currency limits. Daily limits count per business day (UTC+8, see `clock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest single payment.
    pub single_max: MinorUnit,
    /// Largest sum of payments in one business day.
    pub daily_amount_max: MinorUnit,
    /// Most payments in one business day.
    pub daily_count_max: u32,
}

impl Limits {
    /// No limit at all (what an account without configured limits gets).
    pub const UNLIMITED: Limits = Limits {
        single_max: MinorUnit(u64::MAX),
        daily_amount_max: MinorUnit(u64::MAX),
        daily_count_max: u32::MAX,
    };
}

/// What is left of today's limits in one currency. Counted down from the limits at the first
/// payment of the business day, so the store can check a payment without knowing the limits
/// client-side (DynamoDB condition expressions cannot add). A limit changed during a day applies
/// from the next business day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayUsage {
    /// The business day (`YYYYMMDD`, UTC+8) these counters belong to.
    pub day: u32,
    /// Amount still allowed today.
    pub amount_left: MinorUnit,
    /// Payments still allowed today.
    pub count_left: u32,
}

/// A wallet account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The MPP's user id.
    pub customer_id: CustomerId,
    /// Normal, frozen, closed.
    pub status: AccountStatus,
    /// KYC state.
    pub kyc: KycStatus,
    /// Balance per currency; a currency without an entry is one the wallet does not hold.
    pub balances: BTreeMap<Currency, MinorUnit>,
    /// Limits per currency; a held currency without an entry is unlimited.
    pub limits: BTreeMap<Currency, Limits>,
    /// Today's remaining allowance per currency (absent: nothing spent today).
    pub usage: BTreeMap<Currency, DayUsage>,
    /// May pay by NFC with its customer id (`paymentMethod.customerId`).
    pub nfc_enabled: bool,
}

impl Account {
    /// The ledger entries an account opens with: one credit per non-zero opening balance
    /// (`OPENING#<currency>`), so the ledger equation holds from the first moment.
    pub fn opening_entries(&self, now: DateTime<Utc>) -> Vec<LedgerEntry> {
        self.balances
            .iter()
            .filter(|(_, v)| **v > MinorUnit::ZERO)
            .map(|(&currency, &value)| LedgerEntry {
                customer_id: self.customer_id.clone(),
                entry_id: format!("OPENING#{currency}"),
                kind: EntryKind::Credit,
                money: Money { currency, value },
                payment_request_id: None,
                order_lifecycle_id: None,
                at: now,
            })
            .collect()
    }

    /// The limits for a currency (unlimited when none are set).
    pub fn limits_for(&self, currency: Currency) -> Limits {
        self.limits
            .get(&currency)
            .copied()
            .unwrap_or(Limits::UNLIMITED)
    }

    /// Today's remaining allowance for a currency on `day`.
    pub fn allowance(&self, currency: Currency, day: u32) -> (MinorUnit, u32) {
        match self.usage.get(&currency) {
            Some(u) if u.day == day => (u.amount_left, u.count_left),
            _ => {
                let l = self.limits_for(currency);
                (l.daily_amount_max, l.daily_count_max)
            }
        }
    }
}

/// Scope an access token must hold for auto debit.
pub const SCOPE_AGREEMENT_PAY: &str = "AGREEMENT_PAY";

/// An access token issued at account binding; stored by the hash of the token only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    /// SHA-256 of the token.
    pub token_hash: SecretHash,
    /// Whose token.
    pub customer_id: CustomerId,
    /// Granted scopes, e.g. `AGREEMENT_PAY`.
    pub scopes: Vec<String>,
    /// Not valid from this instant on.
    pub expires_at: DateTime<Utc>,
    /// Revoked by the user or by cancelToken.
    pub revoked: bool,
}

/// A user-presented payment code (one use, short validity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentCode {
    /// SHA-256 of the code.
    pub code_hash: SecretHash,
    /// Whose code.
    pub customer_id: CustomerId,
    /// Not valid from this instant on.
    pub expires_at: DateTime<Utc>,
    /// The `paymentRequestId` that used it, once used.
    pub used_by: Option<String>,
}

/// How the pay request names the payer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodRef {
    /// Auto debit: the access token in `paymentMethodId`.
    AccessToken(SecretHash),
    /// User-presented mode: the payment code in `paymentMethodId`.
    PaymentCode(SecretHash),
    /// `paymentMethod.customerId`: an NFC tap, a code Alipay+ issued and decoded
    /// (`PaymentCode`), a supplemental payment or a transit debt recovery.
    Customer(CustomerId),
}

/// What the store found for a `MethodRef`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodFound {
    /// The token item, if any.
    Token(Option<AccessToken>),
    /// The code item, if any.
    Code(Option<PaymentCode>),
    /// The customer id needs no lookup.
    Customer(CustomerId),
}

/// The guard the pay transaction re-checks atomically with the debit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodGuard {
    /// Token must exist, be unrevoked, hold `AGREEMENT_PAY`, and be unexpired at `now`.
    Token(SecretHash),
    /// Code must exist, be unused and unexpired at `now`; the payment marks it used.
    Code(SecretHash),
    /// An NFC tap: the account must allow NFC payments.
    Nfc,
    /// A `customerId` payer that is not a tap (a code Alipay+ issued and decoded, a supplemental
    /// payment, a transit debt recovery): the account in good standing, nothing more.
    Customer,
}

/// Where a payment is in its life. Each move is one conditional write on the prior state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaymentState {
    /// The wallet was debited.
    Succeeded,
    /// Declined; nothing was taken. `result_code` says why.
    Failed,
    /// Closed without money moving: cancelled before or instead of the pay, or a failed payment
    /// cancelled (a pay past its expiry is recorded FAILED with `ORDER_IS_CLOSED`).
    Closed,
    /// Succeeded, then cancelled: the debit was reversed.
    Cancelled,
}

impl PaymentState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Succeeded => "SUCCEEDED",
            PaymentState::Failed => "FAILED",
            PaymentState::Closed => "CLOSED",
            PaymentState::Cancelled => "CANCELLED",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<PaymentState> {
        match s {
            "SUCCEEDED" => Some(PaymentState::Succeeded),
            "FAILED" => Some(PaymentState::Failed),
            "CLOSED" => Some(PaymentState::Closed),
            "CANCELLED" => Some(PaymentState::Cancelled),
            _ => None,
        }
    }
}

/// Most payments of one order lifecycle the supplemental-payment lookup reads (one page): an
/// original and its supplemental payments (a transit ride has one or two); past this bound the
/// earliest 32 are still searched for the original.
pub const LIFECYCLE_PAYMENTS_MAX: usize = 32;

/// One entry of the wallet ledger. For every wallet and currency,
/// `sum(credits) - sum(debits) = balance` (opening balances are credits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The wallet.
    pub customer_id: CustomerId,
    /// Unique per wallet and deterministic per cause, so a repeated write cannot add it twice.
    pub entry_id: String,
    /// What moved the money.
    pub kind: EntryKind,
    /// How much.
    pub money: Money,
    /// The payment it belongs to, if any.
    pub payment_request_id: Option<String>,
    /// The payment's `orderLifecycleId`, if it had one (links supplemental debits to the
    /// original's).
    pub order_lifecycle_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Kinds of ledger entry; `Debit` takes money, every other kind gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Balance an account was created with, or a top-up by an operator.
    Credit,
    /// A payment.
    Debit,
    /// A cancelled payment given back.
    Reversal,
    /// A refund.
    Refund,
}

impl EntryKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Credit => "CREDIT",
            EntryKind::Debit => "DEBIT",
            EntryKind::Reversal => "REVERSAL",
            EntryKind::Refund => "REFUND",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<EntryKind> {
        match s {
            "CREDIT" => Some(EntryKind::Credit),
            "DEBIT" => Some(EntryKind::Debit),
            "REVERSAL" => Some(EntryKind::Reversal),
            "REFUND" => Some(EntryKind::Refund),
            _ => None,
        }
    }

    /// +1 for money in, -1 for money out.
    pub fn sign(self) -> i8 {
        match self {
            EntryKind::Debit => -1,
            EntryKind::Credit | EntryKind::Reversal | EntryKind::Refund => 1,
        }
    }
}

/// Everything the pay transaction needs, computed before the one write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebitIntent {
    /// The record to create (state `Succeeded`).
    pub payment: PaymentRecord,
    /// The wallet to debit.
    pub customer_id: CustomerId,
    /// What to debit.
    pub debit: Money,
    /// What must still hold about the payment method.
    pub guard: MethodGuard,
    /// A supplemental payment: the `paymentRequestId` of its original, which must still be a
    /// succeeded payment of `customer_id` when the debit commits.
    pub original: Option<String>,
    /// The instant the conditions are judged at.
    pub now: DateTime<Utc>,
}

impl DebitIntent {
    /// The business day the debit counts against.
    pub fn day(&self) -> u32 {
        business_day(self.now)
    }

    /// The ledger entry id of this debit.
    pub fn entry_id(&self) -> String {
        format!("{}#DEBIT", self.payment.payment_request_id)
    }
}

/// What the pay read found: the payment (if this is a repeat) and the method item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayContext {
    /// The stored payment with this `paymentRequestId`, if any.
    pub existing: Option<PaymentRecord>,
    /// The token, code or customer.
    pub method: MethodFound,
}

/// Outcome of the pay transaction.
// One outcome per store call, moved straight into the answer: boxing the record buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Debited; the record is stored.
    Committed,
    /// A rule failed; nothing was written.
    Declined(Decline),
    /// A payment with this id already exists (a racing repeat, or a cancel that came first).
    Exists(PaymentRecord),
}

/// Outcome of putting a record only if none exists.
// One outcome per store call, moved straight into the answer: boxing the record buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored.
    Stored,
    /// Another record was there first; here it is.
    Exists(PaymentRecord),
}

/// Outcome of cancelPayment.
// One outcome per store call, moved straight into the answer: boxing the record buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The payment had succeeded; debit, day usage and ledger were reversed.
    Reversed(PaymentRecord),
    /// Closed with no money moving (was failed, or unknown: a closed record now stands).
    Closed(PaymentRecord),
    /// Already cancelled or closed before: the same answer again.
    AlreadyClosed(PaymentRecord),
    /// Still open (succeeded or failed) but past the cancel window: nothing written; refund is
    /// the way.
    WindowExceeded(PaymentRecord),
}

/// A refund to apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundIntent {
    /// Idempotency key.
    pub refund_request_id: String,
    /// SHA-256 of the refund's key parameters.
    pub fingerprint: String,
    /// The original payment.
    pub payment_request_id: String,
    /// Amount credited to the wallet, in the payment's debit currency.
    pub amount: Money,
    /// Our refund id.
    pub refund_id: String,
    /// When.
    pub now: DateTime<Utc>,
    /// The `paymentId` the request named, if any: it must be the payment's.
    pub payment_id: Option<String>,
}

/// A stored refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRecord {
    /// Idempotency key.
    pub refund_request_id: String,
    /// Key-parameter fingerprint.
    pub fingerprint: String,
    /// The original payment.
    pub payment_request_id: String,
    /// Credited amount.
    pub amount: Money,
    /// Our refund id.
    pub refund_id: String,
    /// When it was applied, RFC 3339 in UTC+8.
    pub refund_time: String,
}

/// Outcome of a refund.
// One outcome per store call, moved straight into the answer: boxing the record buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    /// Credited.
    Refunded(RefundRecord),
    /// This `refundRequestId` was applied before; here is what was stored.
    Exists(RefundRecord),
    /// Refused; nothing written.
    Refused(RefundRefusal),
}

/// Why a refund was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundRefusal {
    /// No such payment.
    PaymentNotFound,
    /// The payment did not succeed, or was cancelled.
    NotRefundable,
    /// The sum of refunds would exceed what was paid.
    ExceedsPayment,
    /// The refund currency is not the payment's.
    CurrencyMismatch,
    /// The request's `paymentId` is not the payment's.
    PaymentIdMismatch,
}

/// Store failures, phrased as the questions callers ask.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store throttled us after the bounded retries.
    #[error("store throttled")]
    Throttled,
    /// The write may or may not have happened (timeout, connection lost after sending). Safe to
    /// repeat: every write is conditional on the prior state and carries an idempotency token.
    #[error("store outcome unknown: {0}")]
    OutcomeUnknown(#[source] crate::cause::Cause),
    /// The store is unreachable or refused the call.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] crate::cause::Cause),
    /// A stored item could not be read back as a record (a bug or manual edit).
    #[error("stored item is corrupt: {0}")]
    Corrupt(String),
    /// A transaction kept losing races past the retry bound.
    #[error("contention: gave up after {0} attempts")]
    Contention(u32),
    /// An admin write met an existing item.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// An admin operation named an item that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
}

/// Reads the evaluation and pay functions need about a payer (read-only IAM).
#[async_trait]
pub trait WalletReader: Send + Sync {
    /// Looks the token, code or customer up.
    async fn find_method(&self, method: &MethodRef) -> Result<MethodFound, StoreError>;
    /// Reads an account.
    async fn account(&self, customer_id: &CustomerId) -> Result<Option<Account>, StoreError>;
}

/// Reads of payments (inquiryPayment; read-only IAM).
#[async_trait]
pub trait PaymentReader: Send + Sync {
    /// The payment with this id.
    async fn payment(&self, payment_request_id: &str) -> Result<Option<PaymentRecord>, StoreError>;
}

/// What the pay function writes.
#[async_trait]
pub trait PayStore: Send + Sync {
    /// One read: the payment with this id (a repeat?) and the method item.
    async fn load_for_pay(
        &self,
        payment_request_id: &str,
        method: &MethodRef,
    ) -> Result<PayContext, StoreError>;
    /// One atomic write: create the payment, debit, count the day's usage, guard the method,
    /// append the ledger entry. Nothing is written unless everything holds.
    async fn commit_payment(&self, intent: &DebitIntent) -> Result<CommitOutcome, StoreError>;
    /// Stores a declined (or closed) payment so its repeat gets the same answer; only if none
    /// exists.
    async fn record_payment(&self, record: &PaymentRecord) -> Result<PutOutcome, StoreError>;
    /// The payments stored with this `orderLifecycleId` (at most [`LIFECYCLE_PAYMENTS_MAX`]),
    /// for a supplemental payment's link to its original.
    async fn lifecycle_payments(
        &self,
        order_lifecycle_id: &str,
    ) -> Result<Vec<PaymentRecord>, StoreError>;
}

/// What the cancel function writes.
#[async_trait]
pub trait CancelStore: Send + Sync {
    /// Cancels as [`transitions::decide_cancel`] decides on the payment read: reverses a success
    /// in one transaction, closes a failed payment, leaves a closed record for an id never seen
    /// ([`PaymentRecord::unseen_closed`]), and answers without writing when already closed or past the
    /// intent's window.
    async fn cancel(&self, intent: &transitions::CancelIntent)
        -> Result<CancelOutcome, StoreError>;

    /// [`CancelStore::cancel`] without a window (operators, the conformance suite).
    async fn cancel_payment(
        &self,
        payment_request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<CancelOutcome, StoreError> {
        self.cancel(&transitions::CancelIntent {
            payment_request_id: payment_request_id.to_string(),
            now,
            cutoff: None,
        })
        .await
    }
}

/// What the refund function writes.
#[async_trait]
pub trait RefundStore: Send + Sync {
    /// Applies a refund once per `refundRequestId`, never above what was paid.
    async fn refund(&self, intent: &RefundIntent) -> Result<RefundOutcome, StoreError>;
}

/// Operators, tests and the local stack: create and inspect wallets.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Creates an account; its opening balances become credit ledger entries.
    async fn create_account(&self, account: &Account, now: DateTime<Utc>)
        -> Result<(), StoreError>;
    /// Adds money to a wallet (a top-up), with its ledger entry.
    async fn credit(
        &self,
        customer_id: &CustomerId,
        money: Money,
        entry_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Sets status, KYC and limits of an existing account.
    async fn update_account_settings(
        &self,
        customer_id: &CustomerId,
        status: AccountStatus,
        kyc: KycStatus,
        limits: &BTreeMap<Currency, Limits>,
    ) -> Result<(), StoreError>;
    /// Stores an access token (by hash).
    async fn put_token(&self, token: &AccessToken) -> Result<(), StoreError>;
    /// Stores a payment code (by hash).
    async fn put_payment_code(&self, code: &PaymentCode) -> Result<(), StoreError>;
    /// Sets the phone and e-mail of an existing account (sendOTP's addresses).
    async fn put_contacts(
        &self,
        customer_id: &CustomerId,
        contacts: &crate::otp::Contacts,
    ) -> Result<(), StoreError>;
    /// Every ledger entry of a wallet.
    async fn ledger(&self, customer_id: &CustomerId) -> Result<Vec<LedgerEntry>, StoreError>;
    /// Every payment (bounded scan, for checks and the local stack).
    async fn payments(&self) -> Result<Vec<PaymentRecord>, StoreError>;
    /// Every account id (bounded scan, for checks).
    async fn account_ids(&self) -> Result<Vec<CustomerId>, StoreError>;
}

/// Checks `opening balance − debits + credits = balance` for one wallet: sums the ledger per
/// currency and compares with the account's balances. Returns the mismatches.
pub fn ledger_mismatches(account: &Account, entries: &[LedgerEntry]) -> Vec<(Currency, i128, u64)> {
    let mut sums: BTreeMap<Currency, i128> = BTreeMap::new();
    for e in entries {
        *sums.entry(e.money.currency).or_default() +=
            i128::from(e.kind.sign()) * i128::from(e.money.value.get());
    }
    let mut out = Vec::new();
    let currencies: std::collections::BTreeSet<Currency> = sums
        .keys()
        .chain(account.balances.keys())
        .copied()
        .collect();
    for c in currencies {
        let ledger = sums.get(&c).copied().unwrap_or(0);
        let balance = account.balances.get(&c).map(|m| m.get()).unwrap_or(0);
        if ledger != i128::from(balance) {
            out.push((c, ledger, balance));
        }
    }
    out
}

/// One store seen through every port: what `mpp serve` and the tests hand each function.
/// (A Lambda function takes only the port it needs.)
#[derive(Clone)]
pub struct Ports {
    /// pay's writes.
    pub pay: std::sync::Arc<dyn PayStore>,
    /// Reads of tokens, codes and accounts.
    pub wallet: std::sync::Arc<dyn WalletReader>,
    /// Reads of payments.
    pub payments: std::sync::Arc<dyn PaymentReader>,
    /// cancelPayment's writes.
    pub cancel: std::sync::Arc<dyn CancelStore>,
    /// refund's writes.
    pub refund: std::sync::Arc<dyn RefundStore>,
    /// Operator writes and checks.
    pub admin: std::sync::Arc<dyn AdminStore>,
    /// notifyPayment delivery state.
    pub deliveries: std::sync::Arc<dyn DeliveryStore>,
    /// The OTP area's ports (sendOTP, verifyOTP).
    pub otp: crate::otp::OtpPorts,
    /// The binding area's ports (prepare, the authorization page, applyToken, cancelToken, the
    /// wallet's unbinding, logins).
    pub bindings: crate::bindings::BindingPorts,
}

impl Ports {
    /// Every port of `store`.
    pub fn of<T>(store: std::sync::Arc<T>) -> Ports
    where
        T: PayStore
            + WalletReader
            + PaymentReader
            + CancelStore
            + RefundStore
            + AdminStore
            + DeliveryStore
            + crate::otp::OtpStores
            + crate::bindings::BindingStores
            + 'static,
    {
        Ports {
            otp: crate::otp::OtpPorts::of(store.clone()),
            bindings: crate::bindings::BindingPorts::of(store.clone()),
            deliveries: store.clone(),
            pay: store.clone(),
            wallet: store.clone(),
            payments: store.clone(),
            cancel: store.clone(),
            refund: store.clone(),
            admin: store,
        }
    }
}

/// What became of a payment's notifyPayment, kept on the payment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed (no secrets: a status, a code, a transport error).
    pub last_error: Option<String>,
    /// When Alipay+ acknowledged it with S; nothing is sent after this.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was handed to the dead-letter queue after the last attempt.
    pub dead_lettered_at: Option<DateTime<Utc>>,
}

/// The notify function's store access: its delivery state on the payments table, nothing else.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// The delivery state of a payment (default if none was recorded).
    async fn delivery(&self, payment_request_id: &str) -> Result<Delivery, StoreError>;
    /// Records an attempt and its outcome (`error` None: delivered at `at`).
    async fn record_attempt(
        &self,
        payment_request_id: &str,
        attempt: u32,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Records that the notification went to the dead-letter queue.
    async fn record_dead_letter(
        &self,
        payment_request_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}
