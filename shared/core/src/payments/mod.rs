//! The payments area: pay (with evaluation), inquiryPayment, cancelPayment, refund and
//! notifyPayment, organised by operation. Each operation's module holds everything core knows of
//! it — wire types, edge glue, port, decision, flow and the memory store's adapter — in that
//! order: [`pay`](mod@pay) (a directory: its request is the largest message),
//! [`inquiry_payment`], [`cancel_payment`], [`refund`](mod@refund), [`notify_payment`]. This
//! module holds what several of them share: the payment record and its typed states ([`record`]),
//! the money rules pay, cancel and refund apply ([`rules`]), the quote arithmetic pay and refund
//! check ([`quote`]), the wire types pay and refund both carry ([`Quote`], [`SurchargeInfo`],
//! [`PaymentPromoDetail`]), how a payer is named and found ([`MethodRef`], [`MethodFound`],
//! [`MethodGuard`]), and the area's ports ([`PaymentPorts`]). Every public item of an operation
//! is re-exported here, so importers write `mpp_core::payments::X`.
//!
//! The transitions after pay are named pure functions in the operation that makes them
//! ([`decide_cancel`], [`decide_refund`]), over what the store read: each checks its
//! preconditions and returns either the answer (nothing to write) or exactly what to write. The
//! in-memory store applies a decision under its lock; the DynamoDB store turns it into one
//! conditional write (or transaction) guarded on the state it was decided on, and when that
//! condition is refused it decides again on the item the refusal returned. One definition of the
//! money rules, so the two stores cannot disagree. The state diagram, with the table design, is in
//! `docs/store.md`:
//!
//! ```text
//! Succeeded --reverse--> Cancelled          (cancelPayment within the window: the debit goes back)
//! Failed    --close----> Closed(Declined)   (cancelPayment within the window: nothing moved)
//! (none)    --close----> Closed(Unseen)     (cancelPayment of an unknown id: a placeholder)
//! Succeeded --refund---> Succeeded          (refunded += amount, never above the debit)
//! ```
//!
//! The decisions take the typed [`PaymentRecord`] (its [`Status`] holds what each state has), so
//! none of them can meet a corrupt record: that was refused when the store decoded it.

pub mod cancel_payment;
pub mod inquiry_payment;
pub mod notify_payment;
pub mod pay;
pub mod quote;
pub mod record;
pub mod refund;
pub mod rules;

pub use cancel_payment::*;
pub use inquiry_payment::*;
pub use notify_payment::*;
pub use pay::*;
// `record::Order` (the stored order) stays under its module: `Order` here is pay's wire order.
pub use record::{ClosedFrom, Declined, Paid, PaymentRecord, PaymentRow, Status};
pub use refund::*;
pub use rules::*;

use crate::ids::{CustomerId, SecretHash};
use crate::store::{AccessToken, PaymentCode};
use crate::wire::{
    Amount, CurrencyCode, CurrencyPair, Decimal, ParamIllegal, PromoType, Text, Timestamp,
};
use serde::{Deserialize, Serialize};

// ---- shared wire types --------------------------------------------------------------------------

// What the messages of several payment operations carry (pay and refund: quotes, surcharges,
// promotions) and the rules they share. Generic scalars stay in `crate::wire`; pay's own parts
// (also reused by the acquirer and getPaymentCode messages) are in `pay::wire`.

/// Most elements of `paymentPromoDetails` (not published; our bound, see `docs/wire.md`).
pub const PROMO_DETAILS_MAX: usize = 100;

/// An exchange rate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// Alipay+'s quote id.
    pub quote_id: Text<64>,
    /// `"BASE/QUOTE"`.
    pub quote_currency_pair: CurrencyPair,
    /// The rate.
    pub quote_price: Decimal,
    /// Effective from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_start_time: Option<Timestamp>,
    /// Effective until.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_expiry_time: Option<Timestamp>,
    /// The pair's first currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_currency: Option<CurrencyCode>,
    /// Amount of base currency the price is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_unit: Option<Text<12>>,
}

/// The surcharge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurchargeInfo {
    /// What the user actually pays when a surcharge applies.
    pub surcharge_amount: Amount,
    /// Rate between paymentAmount and surchargeAmount currencies.
    pub surcharge_quote: Quote,
}

impl SurchargeInfo {
    /// The surcharge quote names `base` (the payment/refund currency) and the surcharge currency.
    pub(crate) fn validate_against(
        &self,
        base: crate::money::Currency,
        path: &str,
    ) -> Result<(), ParamIllegal> {
        check_pair_mentions(
            self.surcharge_quote.quote_currency_pair,
            base,
            self.surcharge_amount.currency,
            &format!("{path}.surchargeQuote.quoteCurrencyPair"),
            "the payment and surchargeAmount currencies",
        )?;
        check_quote(&self.surcharge_quote, &format!("{path}.surchargeQuote"))
    }
}

/// One promotion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPromoDetail {
    /// Alipay+'s promotion id.
    pub promo_id: Text<128>,
    /// Type.
    pub promo_type: PromoType,
    /// Name.
    pub promo_name: Text<128>,
    /// Saved, in payToAmount's currency.
    pub savings_amount: Amount,
}

/// Checks that a quote's currency pair names both currencies of the amounts it converts between.
pub(crate) fn check_pair_mentions(
    pair: CurrencyPair,
    a: crate::money::Currency,
    b: crate::money::Currency,
    field: &str,
    what: &str,
) -> Result<(), ParamIllegal> {
    if pair.mentions(a) && pair.mentions(b) {
        Ok(())
    } else {
        Err(ParamIllegal::new(
            field,
            format!("`{pair}` must be the pair of {what} ({a} and {b})"),
        ))
    }
}

/// Checks a quote on its own: `baseCurrency`, if given, is the pair's first currency, and the
/// quote does not expire before it starts.
pub(crate) fn check_quote(q: &Quote, path: &str) -> Result<(), ParamIllegal> {
    if let Some(unit) = &q.quote_unit {
        // "The amount in the base currency" the price is for: a number, or nothing is priced.
        let positive = Decimal::parse(unit.as_str()).is_ok_and(|d| d.mantissa() > 0);
        if !positive {
            return Err(ParamIllegal::new(
                format!("{path}.quoteUnit"),
                "must be a positive decimal amount of the base currency (digits, optional \
                 fraction)",
            ));
        }
    }
    if let Some(base) = q.base_currency {
        if base.currency() != q.quote_currency_pair.base() {
            return Err(ParamIllegal::new(
                format!("{path}.baseCurrency"),
                "must be the first currency of quoteCurrencyPair",
            ));
        }
    }
    if let (Some(start), Some(end)) = (&q.quote_start_time, &q.quote_expiry_time) {
        if end.at() < start.at() {
            return Err(ParamIllegal::new(
                format!("{path}.quoteExpiryTime"),
                "must not be before quoteStartTime",
            ));
        }
    }
    Ok(())
}

/// Checks that promotion savings are in `currency`.
pub(crate) fn check_promo_currency(
    details: Option<&[PaymentPromoDetail]>,
    currency: crate::money::Currency,
    path: &str,
    what: &str,
) -> Result<(), ParamIllegal> {
    for (i, d) in details.unwrap_or_default().iter().enumerate() {
        if d.savings_amount.currency != currency {
            return Err(ParamIllegal::new(
                format!("{path}[{i}].savingsAmount.currency"),
                format!("must equal {what} ({currency})"),
            ));
        }
    }
    Ok(())
}

// ---- payer and state ----------------------------------------------------------------------------

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

/// The payments area's ports of one store: what `mpp serve` and the tests hand each payment
/// function (a Lambda function takes only the port it needs; its IAM role allows no more). A new
/// payment port is a field here, its bound in [`PaymentStores`] and a line in
/// [`PaymentPorts::of`].
#[derive(Clone)]
pub struct PaymentPorts {
    /// pay's writes.
    pub pay: std::sync::Arc<dyn PayStore>,
    /// Reads of tokens, codes and accounts (evaluation, and pay's evaluation requests).
    pub wallet: std::sync::Arc<dyn WalletReader>,
    /// inquiryPayment's reads of payments.
    pub inquiry_payment: std::sync::Arc<dyn PaymentReader>,
    /// cancelPayment's writes.
    pub cancel_payment: std::sync::Arc<dyn CancelStore>,
    /// refund's writes.
    pub refund: std::sync::Arc<dyn RefundStore>,
}

/// A store that serves every port of the payments area.
pub trait PaymentStores:
    PayStore + WalletReader + PaymentReader + CancelStore + RefundStore + 'static
{
}

impl<T> PaymentStores for T where
    T: PayStore + WalletReader + PaymentReader + CancelStore + RefundStore + 'static
{
}

impl PaymentPorts {
    /// Every payment port of `store`.
    pub fn of<T: PaymentStores>(store: std::sync::Arc<T>) -> PaymentPorts {
        PaymentPorts {
            pay: store.clone(),
            wallet: store.clone(),
            inquiry_payment: store.clone(),
            cancel_payment: store.clone(),
            refund: store,
        }
    }
}

/// Payments in each state, for the operations' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::record::tests::{krw, t0};
    use super::record::Order;
    use super::PaymentRecord;
    use crate::ids::CustomerId;
    use crate::money::MinorUnit;
    use crate::result_code::ResultCode;
    use chrono::Duration;

    pub(crate) fn order(debit: u64) -> Order {
        Order {
            fingerprint: "fp".to_string(),
            payment_amount: krw(debit),
            pay_to_amount: krw(debit),
            debit: krw(debit),
            expires_at: t0() + Duration::minutes(1),
            notify_url: None,
            order_lifecycle_id: None,
            supplemental_of: None,
        }
    }

    pub(crate) fn paid(id: &str, debit: u64, refunded: u64) -> PaymentRecord {
        let p = PaymentRecord::succeeded(
            id,
            t0(),
            order(debit),
            format!("pid-{id}"),
            CustomerId::new("c1"),
            t0(),
        );
        p.refund_paid(MinorUnit(refunded)).unwrap()
    }

    pub(crate) fn failed(id: &str) -> PaymentRecord {
        PaymentRecord::failed(
            id,
            t0(),
            order(1_000),
            ResultCode::UserBalanceNotEnough,
            None,
        )
    }

    #[test]
    pub(crate) fn the_named_transitions_refuse_a_state_they_do_not_start_from() {
        let p = paid("p1", 1_000, 0);
        assert_eq!(p.clone().close_declined(t0()), Err(p.clone()));
        assert_eq!(failed("p1").cancel_paid(t0()), Err(failed("p1")));
        assert_eq!(failed("p1").refund_paid(MinorUnit(1)), Err(failed("p1")));
        // Never above the debit.
        assert_eq!(p.clone().refund_paid(MinorUnit(1_001)), Err(p.clone()));
        let cancelled = p.clone().cancel_paid(t0()).unwrap();
        assert_eq!(cancelled.clone().cancel_paid(t0()), Err(cancelled));
    }
}
