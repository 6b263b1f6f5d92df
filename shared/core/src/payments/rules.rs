//! The debit rules, as pure functions over records. The in-memory store applies them under its
//! lock; the DynamoDB store encodes the same rules as condition expressions and, when a
//! transaction is cancelled, runs these functions over the returned old items to say which rule
//! failed. Evaluation calls them read-only. One definition, so the three cannot disagree.
//!
//! Order when several rules fail at once (documented in `docs/decisions.md`): the payment
//! method, then who the user is (exists, status, KYC), then whether the method is usable, then the
//! currency, then the limits (single, daily amount, daily count), and the balance last — the
//! permanent reasons before the transient one.

use super::{MethodFound, MethodGuard, PaymentRecord};
use crate::ids::CustomerId;
use crate::money::Money;
use crate::result_code::ResultCode;
use crate::store::{Account, AccountStatus, KycStatus, SCOPE_AGREEMENT_PAY};
use chrono::{DateTime, Utc};

/// Why a debit was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decline {
    /// Token unknown, revoked, or without `AGREEMENT_PAY`.
    TokenInvalid,
    /// Token past its expiry.
    TokenExpired,
    /// Payment code unknown or already used.
    CodeInvalid,
    /// Payment code past its validity.
    CodeExpired,
    /// No such account.
    UserNotExist,
    /// Frozen or closed.
    UserStatusAbnormal,
    /// KYC not passed.
    KycNotQualified,
    /// The account may not pay this way (NFC not enabled).
    MethodUnavailable,
    /// The wallet does not hold the debit currency.
    CurrencyNotSupport,
    /// Above the single-payment limit.
    SingleLimit,
    /// Above what is left of today's amount limit.
    DailyAmount,
    /// No payments left today.
    DailyCount,
    /// Not enough balance.
    BalanceNotEnough,
    /// A supplemental payment whose `orderLifecycleId` names no earlier succeeded payment of
    /// the same customer (or that payment was cancelled meanwhile).
    NoOriginalPayment,
}

impl Decline {
    /// The result code this decline is answered with.
    pub fn code(self) -> ResultCode {
        match self {
            Decline::TokenInvalid => ResultCode::InvalidToken,
            Decline::TokenExpired => ResultCode::ExpiredAccessToken,
            Decline::CodeInvalid => ResultCode::InvalidCode,
            Decline::CodeExpired => ResultCode::ExpiredCode,
            Decline::UserNotExist => ResultCode::UserNotExist,
            Decline::UserStatusAbnormal => ResultCode::UserStatusAbnormal,
            Decline::KycNotQualified => ResultCode::UserKycNotQualified,
            Decline::MethodUnavailable => ResultCode::UnavailablePaymentMethod,
            Decline::CurrencyNotSupport => ResultCode::CurrencyNotSupport,
            Decline::SingleLimit => ResultCode::PaymentAmountExceedLimit,
            Decline::DailyAmount => ResultCode::UserAmountExceedLimit,
            Decline::DailyCount => ResultCode::PaymentCountExceedLimit,
            Decline::BalanceNotEnough => ResultCode::UserBalanceNotEnough,
            // The pay table's "general business failure, don't retry": a re-send cannot
            // succeed, and no more specific code of the table fits (`docs/decisions.md`).
            Decline::NoOriginalPayment => ResultCode::ProcessFail,
        }
    }
}

/// Checks the token or code the request names and says whose it is.
pub fn check_method(found: &MethodFound, now: DateTime<Utc>) -> Result<CustomerId, Decline> {
    match found {
        MethodFound::Token(None) => Err(Decline::TokenInvalid),
        MethodFound::Token(Some(t)) => {
            if t.revoked || !t.scopes.iter().any(|s| s == SCOPE_AGREEMENT_PAY) {
                Err(Decline::TokenInvalid)
            } else if now >= t.expires_at {
                Err(Decline::TokenExpired)
            } else {
                Ok(t.customer_id.clone())
            }
        }
        MethodFound::Code(None) => Err(Decline::CodeInvalid),
        MethodFound::Code(Some(c)) => {
            if c.used_by.is_some() {
                Err(Decline::CodeInvalid)
            } else if now >= c.expires_at {
                Err(Decline::CodeExpired)
            } else {
                Ok(c.customer_id.clone())
            }
        }
        MethodFound::Customer(id) => Ok(id.clone()),
    }
}

/// The original a supplemental payment of `customer` links to: among `lifecycle` (the payments
/// with its `orderLifecycleId`), the succeeded payments of that customer, a non-supplemental one
/// before a supplemental one, then the earliest.
pub fn original_of(lifecycle: &[PaymentRecord], customer: &CustomerId) -> Result<String, Decline> {
    lifecycle
        .iter()
        .filter(|p| p.is_paid_by(customer))
        .min_by_key(|p| {
            let supplemental = p.order().is_some_and(|o| o.supplemental_of.is_some());
            (supplemental, p.created_at)
        })
        .map(|p| p.payment_request_id.clone())
        .ok_or(Decline::NoOriginalPayment)
}

/// Whether `original` (read inside the atomic step) still qualifies as the original of a
/// supplemental payment of `customer`.
pub fn check_original(
    original: Option<&PaymentRecord>,
    customer: &CustomerId,
) -> Result<(), Decline> {
    match original {
        Some(p) if p.is_paid_by(customer) => Ok(()),
        _ => Err(Decline::NoOriginalPayment),
    }
}

/// Checks that `account` may be debited `debit` on business day `day` through `guard`.
pub fn check_account(
    account: Option<&Account>,
    guard: &MethodGuard,
    debit: Money,
    day: u32,
) -> Result<(), Decline> {
    let Some(a) = account else {
        return Err(Decline::UserNotExist);
    };
    if a.status != AccountStatus::Normal {
        return Err(Decline::UserStatusAbnormal);
    }
    if a.kyc != KycStatus::Passed {
        return Err(Decline::KycNotQualified);
    }
    if matches!(guard, MethodGuard::Nfc) && !a.nfc_enabled {
        return Err(Decline::MethodUnavailable);
    }
    let Some(balance) = a.balances.get(&debit.currency).copied() else {
        return Err(Decline::CurrencyNotSupport);
    };
    if debit.value > a.limits_for(debit.currency).single_max {
        return Err(Decline::SingleLimit);
    }
    let (amount_left, count_left) = a.allowance(debit.currency, day);
    if debit.value > amount_left {
        return Err(Decline::DailyAmount);
    }
    if count_left == 0 {
        return Err(Decline::DailyCount);
    }
    if debit.value > balance {
        return Err(Decline::BalanceNotEnough);
    }
    Ok(())
}

/// Applies a checked debit to an account: balance down, today's allowance down.
pub fn apply_debit(account: &mut Account, debit: Money, day: u32) {
    let (amount_left, count_left) = account.allowance(debit.currency, day);
    if let Some(b) = account.balances.get_mut(&debit.currency) {
        *b = b.checked_sub(debit.value).unwrap_or_default();
    }
    account.usage.insert(
        debit.currency,
        crate::store::DayUsage {
            day,
            amount_left: amount_left.checked_sub(debit.value).unwrap_or_default(),
            count_left: count_left.saturating_sub(1),
        },
    );
}

/// Gives a debit back: balance up, and today's allowance up if the debit was made on the day
/// the counters belong to (yesterday's counters no longer matter).
pub fn reverse_debit(account: &mut Account, money: Money, debit_day: u32) {
    let b = account.balances.entry(money.currency).or_default();
    *b = b.checked_add(money.value).unwrap_or(*b);
    if let Some(u) = account.usage.get_mut(&money.currency) {
        if u.day == debit_day {
            u.amount_left = u
                .amount_left
                .checked_add(money.value)
                .unwrap_or(u.amount_left);
            u.count_left = u.count_left.saturating_add(1);
        }
    }
}

/// Credits a wallet (refund, top-up).
pub fn apply_credit(account: &mut Account, money: Money) {
    let b = account.balances.entry(money.currency).or_default();
    *b = b.checked_add(money.value).unwrap_or(*b);
}
