//! The ledger store: what every area shares — accounts, tokens, payment codes, the ledger, the
//! store's errors — the ports that belong to no one operation (`AdminStore` for operators, tests
//! and the local stack; `DeliveryStore`, the delivery state both notifications keep), the
//! in-memory adapter (`memory`), and [`Ports`], one store seen through every area's ports.
//!
//! Each area owns its own ports, split by what one function may do so each Lambda's IAM policy
//! can be exactly its trait: the payments area's in [`crate::payments`]
//! ([`crate::payments::PaymentPorts`]), the OTP area's in [`crate::otp`], the binding area's in
//! [`crate::bindings`]. See `docs/store.md` for the table design.

pub mod memory;

use crate::ids::{CustomerId, SecretHash};
use crate::money::{Currency, MinorUnit, Money};
use crate::payments::{PaymentPorts, PaymentRecord, PaymentStores};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

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
    /// The payments area's ports (pay, evaluation, inquiryPayment, cancelPayment, refund).
    pub payments: PaymentPorts,
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
        T: PaymentStores
            + AdminStore
            + DeliveryStore
            + crate::otp::OtpStores
            + crate::bindings::BindingStores
            + 'static,
    {
        Ports {
            payments: PaymentPorts::of(store.clone()),
            otp: crate::otp::OtpPorts::of(store.clone()),
            bindings: crate::bindings::BindingPorts::of(store.clone()),
            deliveries: store.clone(),
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
