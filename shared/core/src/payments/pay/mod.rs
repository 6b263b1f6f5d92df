//! pay and payment evaluation (one operation here: evaluation is pay's checks without the
//! debit, answered from the same request type, so it has no module of its own: [`evaluate`],
//! [`EvaluationDeps`]; its function reads through [`WalletReader`] only).
//!
//! Everything core knows of pay: the wire types ([`wire`]), the merchant and risk rules
//! ([`policy`]), the edge glue, the ports ([`PayStore`], [`WalletReader`]), the flow and the
//! memory store's adapter below.
//!
//! Order of checks (also in `docs/decisions.md`), the first failing one answers:
//! 1. (edge) signature, then the request's own validation → `PARAM_ILLEGAL`;
//! 2. amounts: `payToAmount` against `paymentAmount × paymentQuote`, the surcharge against its
//!    quote → `PARAM_ILLEGAL`;
//! 3. one read: the payment with this `paymentRequestId` and the token or code;
//! 4. a repeat answers from the stored payment (`REPEAT_REQ_INCONSISTENT` if the key parameters
//!    differ; `ORDER_IS_CLOSED` once cancelled);
//! 5. `paymentExpiryTime` passed → `ORDER_IS_CLOSED`;
//! 6. policy: PSP, merchant, regulation, MPP currency, risk;
//! 7. the payment method: token, code, NFC verification data, login id;
//! 8. one transaction that re-checks the method and applies the account rules
//!    (`payments::rules`: user, status, KYC, method availability, currency, single limit, daily
//!    amount, daily count, balance) and debits.
//!
//! A decline is stored so that its repeat gets the same answer; a store failure is not (the
//! answer is U `UNKNOWN_EXCEPTION` and the repeat is processed afresh, safely, because the write
//! is conditional on the payment not existing).

pub mod policy;
pub mod wire;

pub use policy::*;
pub use wire::*;

use super::record;
use super::rules::{
    apply_debit, check_account, check_method, check_original, original_of, Decline,
};
use super::{quote, MethodFound, MethodGuard, MethodRef, PaymentRecord, Status};
use crate::clock::{business_day, Clock};
use crate::edge::{Answered, EdgeError, Keyed};
use crate::flows::{new_id, result, text, timestamp};
use crate::ids::{CustomerId, Secret};
use crate::money::Money;
use crate::result_code::ResultCode;
use crate::store::memory::MemoryStore;
use crate::store::{Account, EntryKind, LedgerEntry, StoreError};
use crate::wire::{is_true, InStorePaymentScenario, ParamIllegal};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

// ---- wire ---------------------------------------------------------------------------------------

// In `wire` (a file of its own: pay's request is the largest message): [`PayRequest`],
// [`PayResponse`] and their parts, with their `Validate` impls.

// ---- edge ---------------------------------------------------------------------------------------

impl From<PayError> for EdgeError {
    fn from(e: PayError) -> EdgeError {
        match e {
            PayError::Param(p) => EdgeError::Param(p),
            PayError::Store(s) => EdgeError::Store(s),
        }
    }
}

impl Keyed for PayRequest {
    fn payment_request_id(&self) -> &str {
        self.payment_request_id.as_str()
    }
}

impl Answered for PayResponse {
    fn code(&self) -> ResultCode {
        self.result.code().unwrap_or(ResultCode::UnknownException)
    }
}

// ---- port and decision --------------------------------------------------------------------------

/// Most payments of one order lifecycle the supplemental-payment lookup reads (one page): an
/// original and its supplemental payments (a transit ride has one or two); past this bound the
/// earliest 32 are still searched for the original.
pub const LIFECYCLE_PAYMENTS_MAX: usize = 32;

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

    /// The DEBIT entry the transaction appends: both stores write this one.
    pub fn ledger_entry(&self) -> LedgerEntry {
        LedgerEntry {
            customer_id: self.customer_id.clone(),
            entry_id: self.entry_id(),
            kind: EntryKind::Debit,
            money: self.debit,
            payment_request_id: Some(self.payment.payment_request_id.clone()),
            order_lifecycle_id: self.payment.order_lifecycle_id().map(str::to_string),
            at: self.now,
        }
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

/// Reads the evaluation and pay functions need about a payer (read-only IAM).
#[async_trait]
pub trait WalletReader: Send + Sync {
    /// Looks the token, code or customer up.
    async fn find_method(&self, method: &MethodRef) -> Result<MethodFound, StoreError>;
    /// Reads an account.
    async fn account(&self, customer_id: &CustomerId) -> Result<Option<Account>, StoreError>;
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

// ---- flow ---------------------------------------------------------------------------------------

/// Without `paymentExpiryTime` an order lives at most one minute (alipayplus-apis.md §9).
pub const DEFAULT_EXPIRY: Duration = Duration::minutes(1);

/// What the evaluation function needs: read-only.
#[derive(Clone)]
pub struct EvaluationDeps {
    /// Token, code and account reads.
    pub wallet: Arc<dyn WalletReader>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Merchant and risk rules.
    pub policy: Arc<Policy>,
}

/// What the pay function needs.
#[derive(Clone)]
pub struct PayDeps {
    /// The payment writes.
    pub store: Arc<dyn PayStore>,
    /// Reads, for evaluation requests that arrive on the pay route.
    pub wallet: Arc<dyn WalletReader>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Merchant and risk rules.
    pub policy: Arc<Policy>,
}

impl PayDeps {
    fn evaluation(&self) -> EvaluationDeps {
        EvaluationDeps {
            wallet: self.wallet.clone(),
            clock: self.clock.clone(),
            policy: self.policy.clone(),
        }
    }
}

/// Why pay could not answer with a business result.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// The request is valid JSON of the right shape but its amounts do not add up.
    #[error(transparent)]
    Param(#[from] ParamIllegal),
    /// The store failed; the outcome is unknown to the caller.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The answer and what the log line needs.
#[derive(Debug, Clone)]
pub struct PayAnswer {
    /// The response body.
    pub response: PayResponse,
    /// The code answered.
    pub code: ResultCode,
}

fn answer(code: ResultCode) -> PayAnswer {
    PayAnswer {
        response: PayResponse::result_only(result(code)),
        code,
    }
}

/// The wallet debit the request asks for: the surcharge amount when there is one (the user pays
/// it; Alipay+ still settles `payToAmount`), otherwise `payToAmount`.
pub fn debit_of(req: &PayRequest) -> Money {
    match &req.surcharge_info {
        Some(s) => s.surcharge_amount.money(),
        None => req.pay_to_amount.money(),
    }
}

/// Checks the amounts against their quotes (module `quote`).
pub fn check_amounts(req: &PayRequest) -> Result<(), ParamIllegal> {
    let illegal = |field: &str, rule: &str| ParamIllegal {
        field: field.into(),
        rule: rule.into(),
    };
    match &req.payment_quote {
        Some(q) => match quote::converts(&req.payment_amount, &req.pay_to_amount, q) {
            None => return Err(illegal("paymentQuote.quoteCurrencyPair", "must pair paymentAmount's and payToAmount's currencies")),
            Some(false) => return Err(illegal("payToAmount.value", "must equal paymentAmount × paymentQuote.quotePrice rounded to the currency's minor unit")),
            Some(true) => {}
        },
        None => {
            if req.payment_amount != req.pay_to_amount {
                return Err(illegal("payToAmount", "must equal paymentAmount when no paymentQuote is given"));
            }
        }
    }
    if let Some(s) = &req.surcharge_info {
        if s.surcharge_amount.currency != req.pay_to_amount.currency {
            return Err(illegal(
                "surchargeInfo.surchargeAmount.currency",
                "must be payToAmount's currency",
            ));
        }
        match quote::converts(&req.payment_amount, &s.surcharge_amount, &s.surcharge_quote) {
            None => return Err(illegal("surchargeInfo.surchargeQuote.quoteCurrencyPair", "must pair paymentAmount's and surchargeAmount's currencies")),
            Some(false) => return Err(illegal("surchargeInfo.surchargeAmount.value", "must equal paymentAmount × surchargeQuote.quotePrice rounded to the currency's minor unit")),
            Some(true) => {}
        }
    }
    Ok(())
}

/// How the request names the payer, or the code that refuses it.
///
/// `paymentMethodId` is a payment code in user-presented mode (`inStorePaymentScenario`
/// `PaymentCode`, or an all-digit Alipay+ code shape without the agreement flag) and an access
/// token otherwise. `customerId` names the user directly ([`customer_guard`]); a login id alone
/// names no debit method this wallet offers (`UNAVAILABLE_PAYMENT_METHOD`).
pub fn method_of(req: &PayRequest) -> Result<(MethodRef, MethodGuard), ResultCode> {
    let m = &req.payment_method;
    if let Some(id) = &m.payment_method_id {
        let secret = Secret::new(id.as_str());
        let scenario_code = req.payment_factor.in_store_payment_scenario
            == Some(InStorePaymentScenario::PaymentCode);
        let agreement = is_true(req.payment_factor.is_agreement_payment);
        if scenario_code || (!agreement && looks_like_payment_code(id.as_str())) {
            return Ok((
                MethodRef::PaymentCode(secret.hash()),
                MethodGuard::Code(secret.hash()),
            ));
        }
        return Ok((
            MethodRef::AccessToken(secret.hash()),
            MethodGuard::Token(secret.hash()),
        ));
    }
    if let Some(c) = &m.customer_id {
        return Ok((
            MethodRef::Customer(CustomerId::new(c.as_str())),
            customer_guard(req)?,
        ));
    }
    Err(ResultCode::UnavailablePaymentMethod)
}

/// What a `customerId` payer must satisfy, by scenario (`docs/decisions.md`, "customerId"):
/// - an NFC tap (`NfcPayment`, not supplemental, not transit debt recovery): the account has NFC
///   enabled ([`MethodGuard::Nfc`]); `nfcEnabled` gates taps only;
/// - `PaymentCode` (a code Alipay+ issued through getPaymentCode and decoded to our user),
///   `OrderCode` and `EntryCode` (the user acted in our app), a supplemental payment or a transit
///   debt recovery: an account in good standing ([`MethodGuard::Customer`]);
/// - no scenario and neither supplemental nor debt recovery: nothing says how the user
///   authorised the debit, so `UNAVAILABLE_PAYMENT_METHOD`.
pub fn customer_guard(req: &PayRequest) -> Result<MethodGuard, ResultCode> {
    let f = &req.payment_factor;
    let later = is_true(f.is_supplemental_payment) || is_true(f.is_transit_debt_recovery);
    match f.in_store_payment_scenario {
        Some(InStorePaymentScenario::NfcPayment) if !later => Ok(MethodGuard::Nfc),
        Some(
            InStorePaymentScenario::NfcPayment
            | InStorePaymentScenario::PaymentCode
            | InStorePaymentScenario::OrderCode
            | InStorePaymentScenario::EntryCode,
        ) => Ok(MethodGuard::Customer),
        None if later => Ok(MethodGuard::Customer),
        None => Err(ResultCode::UnavailablePaymentMethod),
    }
}

/// Alipay+ payment codes: 16 to 24 digits starting 25–30 (up to 32 for future expansion).
pub fn looks_like_payment_code(s: &str) -> bool {
    (16..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_digit())
        && matches!(&s[..2], "25" | "26" | "27" | "28" | "29" | "30")
}

/// NFC taps carry `customData` generated by the wallet app; a tap without it fails the payment
/// verification. Supplemental payments and transit debt recovery happen after the tap and carry
/// none (the spec's supplemental sample has none).
fn nfc_verification(req: &PayRequest) -> Result<(), ResultCode> {
    let nfc =
        req.payment_factor.in_store_payment_scenario == Some(InStorePaymentScenario::NfcPayment);
    let later = is_true(req.payment_factor.is_supplemental_payment)
        || is_true(req.payment_factor.is_transit_debt_recovery);
    if nfc && !later && req.payment_method.custom_data.is_none() {
        return Err(ResultCode::UserPaymentVerificationFailed);
    }
    Ok(())
}

fn expiry_of(req: &PayRequest, now: DateTime<Utc>) -> DateTime<Utc> {
    req.payment_expiry_time
        .as_ref()
        .map(|t| t.utc())
        .unwrap_or(now + DEFAULT_EXPIRY)
}

/// What pay was asked, as every payment it writes keeps it.
fn order_of(req: &PayRequest, fingerprint: &str, now: DateTime<Utc>) -> record::Order {
    record::Order {
        fingerprint: fingerprint.to_string(),
        payment_amount: req.payment_amount.money(),
        pay_to_amount: req.pay_to_amount.money(),
        debit: debit_of(req),
        expires_at: expiry_of(req, now),
        notify_url: req
            .payment_notify_url
            .as_ref()
            .map(|u| u.as_str().to_string()),
        order_lifecycle_id: req
            .order_lifecycle_id
            .as_ref()
            .map(|l| l.as_str().to_string()),
        supplemental_of: None,
    }
}

/// The answer a stored payment gives to a repeat of its request.
pub fn answer_for_record(record: &PaymentRecord, fingerprint: &str) -> PayAnswer {
    let Some(stored) = record.fingerprint() else {
        // A cancel came first and left a closed record: the order is closed.
        return answer(ResultCode::OrderIsClosed);
    };
    if stored != fingerprint {
        return answer(ResultCode::RepeatReqInconsistent);
    }
    match &record.status {
        Status::Succeeded { paid, .. } => PayAnswer {
            response: PayResponse {
                payment_id: text(&paid.payment_id),
                payment_time: timestamp(&paid.payment_time()),
                customer_id: text(paid.customer.as_str()),
                ..PayResponse::result_only(result(ResultCode::Success))
            },
            code: ResultCode::Success,
        },
        Status::Failed { declined, .. } => answer(declined.code),
        // After a cancel (or expiry) the order is closed; inquiry says the same.
        Status::Closed { .. } | Status::Cancelled { .. } => answer(ResultCode::OrderIsClosed),
    }
}

/// Stores a decline so its repeat gets the same answer; a racing writer that got there first
/// decides the answer instead.
async fn decline(
    deps: &PayDeps,
    req: &PayRequest,
    fingerprint: &str,
    now: DateTime<Utc>,
    code: ResultCode,
    customer: Option<CustomerId>,
) -> Result<PayAnswer, PayError> {
    let id = req.payment_request_id.as_str();
    let record = PaymentRecord::failed(id, now, order_of(req, fingerprint, now), code, customer);
    match deps.store.record_payment(&record).await? {
        PutOutcome::Stored => Ok(answer(code)),
        PutOutcome::Exists(other) => Ok(answer_for_record(&other, fingerprint)),
    }
}

/// Handles a pay request (an evaluation request on the pay route is evaluated, not paid).
pub async fn pay(deps: &PayDeps, req: &PayRequest) -> Result<PayAnswer, PayError> {
    if req.is_evaluation() {
        return evaluate(&deps.evaluation(), req).await;
    }
    check_amounts(req)?;
    let now = deps.clock.now();
    let fingerprint = req.key_fingerprint();
    let (method, guard) = match method_of(req) {
        Ok(m) => m,
        Err(code) => {
            // No method to look up, but the one read still answers a repeat: a customer
            // reference needs no lookup, so this reads the payment alone.
            let probe = MethodRef::Customer(CustomerId::new(""));
            let ctx = deps
                .store
                .load_for_pay(req.payment_request_id.as_str(), &probe)
                .await?;
            if let Some(existing) = ctx.existing {
                return Ok(answer_for_record(&existing, &fingerprint));
            }
            return decline(deps, req, &fingerprint, now, code, None).await;
        }
    };
    let ctx = deps
        .store
        .load_for_pay(req.payment_request_id.as_str(), &method)
        .await?;
    if let Some(existing) = ctx.existing {
        return Ok(answer_for_record(&existing, &fingerprint));
    }
    if now > expiry_of(req, now) {
        return decline(
            deps,
            req,
            &fingerprint,
            now,
            ResultCode::OrderIsClosed,
            None,
        )
        .await;
    }
    let debit = debit_of(req);
    if let Err(code) = deps.policy.check(req, debit.currency, debit.value) {
        return decline(deps, req, &fingerprint, now, code, None).await;
    }
    let customer = match check_method(&ctx.method, now) {
        Ok(c) => c,
        Err(d) => return decline(deps, req, &fingerprint, now, d.code(), None).await,
    };
    if let Err(code) = nfc_verification(req) {
        return decline(deps, req, &fingerprint, now, code, Some(customer)).await;
    }
    let original = match supplemental_link(deps, req, &customer).await? {
        Ok(original) => original,
        Err(d) => return decline(deps, req, &fingerprint, now, d.code(), Some(customer)).await,
    };
    let order = record::Order {
        supplemental_of: original.clone(),
        ..order_of(req, &fingerprint, now)
    };
    let record = PaymentRecord::succeeded(
        req.payment_request_id.as_str(),
        now,
        order,
        new_id(now),
        customer.clone(),
        now,
    );
    let intent = DebitIntent {
        payment: record.clone(),
        customer_id: customer.clone(),
        debit,
        guard,
        original,
        now,
    };
    match deps.store.commit_payment(&intent).await? {
        CommitOutcome::Committed => Ok(answer_for_record(&record, &fingerprint)),
        CommitOutcome::Exists(other) => Ok(answer_for_record(&other, &fingerprint)),
        CommitOutcome::Declined(d) => {
            decline(deps, req, &fingerprint, now, d.code(), Some(customer)).await
        }
    }
}

/// A supplemental payment (`isSupplementalPayment` "true") is accepted only against an earlier
/// succeeded payment of the same customer with the same `orderLifecycleId` (the wire rules make
/// the id required then): `Ok(Some(original))`, or the decline. Other payments: `Ok(None)`.
async fn supplemental_link(
    deps: &PayDeps,
    req: &PayRequest,
    customer: &CustomerId,
) -> Result<Result<Option<String>, Decline>, StoreError> {
    if !is_true(req.payment_factor.is_supplemental_payment) {
        return Ok(Ok(None));
    }
    let Some(lifecycle) = &req.order_lifecycle_id else {
        return Ok(Err(Decline::NoOriginalPayment));
    };
    let found = deps.store.lifecycle_payments(lifecycle.as_str()).await?;
    Ok(original_of(&found, customer).map(Some))
}

/// Payment evaluation: the same checks as pay, read-only: nothing is written, no money moves,
/// no usage is counted, so a later real payment with the same `paymentRequestId` is unaffected.
pub async fn evaluate(deps: &EvaluationDeps, req: &PayRequest) -> Result<PayAnswer, PayError> {
    check_amounts(req)?;
    let now = deps.clock.now();
    let debit = debit_of(req);
    if let Err(code) = deps.policy.check(req, debit.currency, debit.value) {
        return Ok(answer(code));
    }
    let (method, guard) = match method_of(req) {
        Ok(m) => m,
        Err(code) => return Ok(answer(code)),
    };
    let found = deps.wallet.find_method(&method).await?;
    let customer = match check_method(&found, now) {
        Ok(c) => c,
        Err(d) => return Ok(answer(d.code())),
    };
    if let Err(code) = nfc_verification(req) {
        return Ok(answer(code));
    }
    let account = deps.wallet.account(&customer).await?;
    match check_account(
        account.as_ref(),
        &guard,
        debit,
        crate::clock::business_day(now),
    ) {
        Ok(()) => Ok(answer(ResultCode::Success)),
        Err(d) => Ok(answer(d.code())),
    }
}

// ---- memory store -------------------------------------------------------------------------------

#[async_trait]
impl WalletReader for MemoryStore {
    async fn find_method(&self, method: &MethodRef) -> Result<MethodFound, StoreError> {
        Ok(self.lock().find(method))
    }

    async fn account(&self, customer_id: &CustomerId) -> Result<Option<Account>, StoreError> {
        Ok(self.lock().accounts.get(customer_id).cloned())
    }
}

#[async_trait]
impl PayStore for MemoryStore {
    async fn load_for_pay(
        &self,
        payment_request_id: &str,
        method: &MethodRef,
    ) -> Result<PayContext, StoreError> {
        let s = self.lock();
        Ok(PayContext {
            existing: s.payments.get(payment_request_id).cloned(),
            method: s.find(method),
        })
    }

    async fn commit_payment(&self, intent: &DebitIntent) -> Result<CommitOutcome, StoreError> {
        let mut s = self.lock();
        let id = &intent.payment.payment_request_id;
        if let Some(existing) = s.payments.get(id) {
            return Ok(CommitOutcome::Exists(existing.clone()));
        }
        // Re-check the method inside the atomic step, as the DynamoDB ConditionCheck does.
        let found = match &intent.guard {
            MethodGuard::Token(h) => Some(MethodFound::Token(s.tokens.get(h).cloned())),
            MethodGuard::Code(h) => Some(MethodFound::Code(s.codes.get(h).cloned())),
            MethodGuard::Nfc | MethodGuard::Customer => None,
        };
        if let Some(found) = found {
            match check_method(&found, intent.now) {
                Ok(owner) if owner == intent.customer_id => {}
                // Someone else's token or code is as good as none.
                Ok(_) if matches!(found, MethodFound::Code(_)) => {
                    return Ok(CommitOutcome::Declined(Decline::CodeInvalid))
                }
                Ok(_) => return Ok(CommitOutcome::Declined(Decline::TokenInvalid)),
                Err(d) => return Ok(CommitOutcome::Declined(d)),
            }
        }
        if let Some(original) = &intent.original {
            // The supplemental link, re-checked atomically with the debit (a ConditionCheck on
            // the original in DynamoDB).
            if let Err(d) = check_original(s.payments.get(original), &intent.customer_id) {
                return Ok(CommitOutcome::Declined(d));
            }
        }
        let day = intent.day();
        if let Err(d) = check_account(
            s.accounts.get(&intent.customer_id),
            &intent.guard,
            intent.debit,
            day,
        ) {
            return Ok(CommitOutcome::Declined(d));
        }
        // All checks hold: apply everything.
        if let Some(a) = s.accounts.get_mut(&intent.customer_id) {
            apply_debit(a, intent.debit, day);
        }
        if let MethodGuard::Code(h) = &intent.guard {
            if let Some(c) = s.codes.get_mut(h) {
                c.used_by = Some(id.clone());
            }
        }
        s.insert_payment(intent.payment.clone());
        s.append(intent.ledger_entry());
        Ok(CommitOutcome::Committed)
    }

    async fn record_payment(&self, record: &PaymentRecord) -> Result<PutOutcome, StoreError> {
        let mut s = self.lock();
        if let Some(existing) = s.payments.get(&record.payment_request_id) {
            return Ok(PutOutcome::Exists(existing.clone()));
        }
        s.insert_payment(record.clone());
        Ok(PutOutcome::Stored)
    }

    async fn lifecycle_payments(
        &self,
        order_lifecycle_id: &str,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let s = self.lock();
        let mut found: Vec<PaymentRecord> = s
            .payments
            .values()
            .filter(|p| p.order_lifecycle_id() == Some(order_lifecycle_id))
            .cloned()
            .collect();
        // The earliest first, and no more than one page, as the DynamoDB query reads.
        found.sort_by_key(|p| p.created_at);
        found.truncate(LIFECYCLE_PAYMENTS_MAX);
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_code_shapes() {
        assert!(looks_like_payment_code("281006020000000000"));
        assert!(looks_like_payment_code("2510000000000000"));
        assert!(!looks_like_payment_code("2410000000000000"));
        assert!(!looks_like_payment_code("251000000000000"));
        assert!(!looks_like_payment_code("2810000000000000000000000000JWDQ"));
        assert!(looks_like_payment_code(&format!("30{}", "0".repeat(30))));
        assert!(!looks_like_payment_code(&format!("30{}", "0".repeat(31))));
    }
}
