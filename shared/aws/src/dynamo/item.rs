//! Records to DynamoDB items and back. One place names every attribute, so the condition
//! expressions in the other modules and the readers here cannot drift apart.
//!
//! Conventions: amounts are `N` (a `u64` in decimal; DynamoDB keeps 38 digits, so `u64::MAX`
//! fits); instants are `S` in RFC 3339 UTC with nine fractional digits (`2026-11-21T03:00:00.
//! 000000000Z`): fixed width, so string order is time order and `expiresAt > :now` compares
//! instants, and the text round-trips a `DateTime<Utc>` exactly; money is a map
//! `{currency: S, value: N}`; an absent `Option` is an absent attribute.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use mpp_core::ids::{CustomerId, SecretHash};
use mpp_core::money::{Currency, MinorUnit, Money};
use mpp_core::payments::{PaymentRecord, PaymentRow, PaymentState, RefundRecord};
use mpp_core::result_code::ResultCode;
use mpp_core::store::StoreError;
use mpp_core::store::{
    AccessToken, Account, AccountStatus, DayUsage, EntryKind, KycStatus, LedgerEntry, Limits,
    PaymentCode,
};
use std::collections::{BTreeMap, HashMap};

/// A DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

// Key attributes.
pub(crate) const CUSTOMER_ID: &str = "customerId";
pub(crate) const TOKEN_HASH: &str = "tokenHash";
pub(crate) const CODE_HASH: &str = "codeHash";
pub(crate) const PAYMENT_REQUEST_ID: &str = "paymentRequestId";
pub(crate) const REFUND_REQUEST_ID: &str = "refundRequestId";
pub(crate) const ENTRY_ID: &str = "entryId";

// Accounts.
pub(crate) const STATUS: &str = "status";
pub(crate) const KYC: &str = "kyc";
pub(crate) const NFC_ENABLED: &str = "nfcEnabled";
/// Map currency code -> balance.
pub(crate) const BALANCES: &str = "balances";
/// Map currency code -> `{single, dailyAmount, dailyCount, explicit}`. Every held currency has
/// an entry (unlimited ones with `explicit = false`), so the pay update can always read
/// `limits.CUR.dailyAmount` as the start of a new day's allowance.
pub(crate) const LIMITS: &str = "limits";
pub(crate) const SINGLE: &str = "single";
pub(crate) const DAILY_AMOUNT: &str = "dailyAmount";
pub(crate) const DAILY_COUNT: &str = "dailyCount";
pub(crate) const EXPLICIT: &str = "explicit";
const REM_PREFIX: &str = "rem_";
const CNT_PREFIX: &str = "cnt_";

// Tokens and codes.
pub(crate) const SCOPES: &str = "scopes";
pub(crate) const EXPIRES_AT: &str = "expiresAt";
pub(crate) const REVOKED: &str = "revoked";
pub(crate) const USED_BY: &str = "usedBy";

// Payments.
pub(crate) const FINGERPRINT: &str = "fingerprint";
pub(crate) const STATE: &str = "state";
pub(crate) const RESULT_CODE: &str = "resultCode";
pub(crate) const PAYMENT_ID: &str = "paymentId";
pub(crate) const PAYMENT_AMOUNT: &str = "paymentAmount";
pub(crate) const PAY_TO_AMOUNT: &str = "payToAmount";
pub(crate) const DEBIT: &str = "debit";
pub(crate) const PAYMENT_TIME: &str = "paymentTime";
pub(crate) const CREATED_AT: &str = "createdAt";
pub(crate) const NOTIFY_URL: &str = "notifyUrl";
pub(crate) const REFUNDED: &str = "refunded";
pub(crate) const CLOSED_AT: &str = "closedAt";
/// `orderLifecycleId` (payments and ledger entries); the payments index of the same name is
/// keyed by it (sort key `createdAt`), sparse: only payments that carried one are in it.
pub(crate) const ORDER_LIFECYCLE_ID: &str = "orderLifecycleId";
pub(crate) const SUPPLEMENTAL_OF: &str = "supplementalOf";
/// The payments table's global secondary index for supplemental payments' links.
pub const LIFECYCLE_INDEX: &str = "orderLifecycleId-createdAt";

/// The clearing cycle (`YYYYMMDD`, UTC+8) of a succeeded payment or a refund: the partition key
/// of the day indexes, sparse (a payment has it only while SUCCEEDED; a cancel removes it).
pub(crate) const CLEARING_DAY: &str = "clearingDay";
/// The payments table's day index (hash `clearingDay`, range `paymentRequestId`).
pub const PAYMENTS_DAY_INDEX: &str = "clearingDay-paymentRequestId";
/// The refunds table's day index (hash `clearingDay`, range `refundRequestId`).
pub const REFUNDS_DAY_INDEX: &str = "clearingDay-refundRequestId";

// Refunds.
pub(crate) const AMOUNT: &str = "amount";
pub(crate) const REFUND_ID: &str = "refundId";
pub(crate) const REFUND_TIME: &str = "refundTime";

// Ledger.
pub(crate) const KIND: &str = "kind";
pub(crate) const MONEY: &str = "money";
pub(crate) const AT: &str = "at";

// Money maps.
const CURRENCY: &str = "currency";
const VALUE: &str = "value";

/// The attribute holding what is left of `day`'s amount limit in `currency`.
pub(crate) fn rem_attr(currency: Currency, day: u32) -> String {
    format!("{REM_PREFIX}{}_{day}", currency.code())
}

/// The attribute holding how many payments are left on `day` in `currency`.
pub(crate) fn cnt_attr(currency: Currency, day: u32) -> String {
    format!("{CNT_PREFIX}{}_{day}", currency.code())
}

/// The business days before `day`, newest first, `count` of them (calendar arithmetic on the
/// `YYYYMMDD` number, so month and year ends are right).
pub(crate) fn days_before(day: u32, count: u32) -> Vec<u32> {
    let Some(date) = NaiveDate::from_ymd_opt((day / 10_000) as i32, (day / 100) % 100, day % 100)
    else {
        return Vec::new();
    };
    date.iter_days()
        .rev()
        .skip(1)
        .take(count as usize)
        .map(|d| (d.year() as u32) * 10_000 + d.month() * 100 + d.day())
        .collect()
}

/// An instant as stored.
pub(crate) fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// `S`.
pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// `N` from an unsigned integer.
pub(crate) fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// `BOOL`.
pub(crate) fn b(v: bool) -> AttributeValue {
    AttributeValue::Bool(v)
}

/// A money map.
pub(crate) fn money(m: Money) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        (CURRENCY.to_string(), s(m.currency.code())),
        (VALUE.to_string(), n(m.value.get())),
    ]))
}

/// A limits map entry.
pub(crate) fn limits(l: Limits, explicit: bool) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        (SINGLE.to_string(), n(l.single_max.get())),
        (DAILY_AMOUNT.to_string(), n(l.daily_amount_max.get())),
        (DAILY_COUNT.to_string(), n(u64::from(l.daily_count_max))),
        (EXPLICIT.to_string(), b(explicit)),
    ]))
}

/// A one-attribute key.
pub(crate) fn key(name: &str, value: &str) -> Item {
    HashMap::from([(name.to_string(), s(value))])
}

/// The ledger key.
pub(crate) fn ledger_key(customer: &CustomerId, entry_id: &str) -> Item {
    HashMap::from([
        (CUSTOMER_ID.to_string(), s(customer.as_str())),
        (ENTRY_ID.to_string(), s(entry_id)),
    ])
}

pub(crate) fn put_opt(item: &mut Item, name: &str, v: Option<AttributeValue>) {
    if let Some(v) = v {
        item.insert(name.to_string(), v);
    }
}

/// Typed reads from an item; every failure is `Corrupt`, naming the record kind and attribute.
pub(crate) struct Fields<'a> {
    item: &'a Item,
    what: &'static str,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(item: &'a Item, what: &'static str) -> Fields<'a> {
        Fields { item, what }
    }

    pub(crate) fn corrupt(&self, name: &str, why: &str) -> StoreError {
        StoreError::Corrupt(format!("{} attribute {name}: {why}", self.what))
    }

    pub(crate) fn opt(&self, name: &str) -> Option<&'a AttributeValue> {
        self.item.get(name)
    }

    pub(crate) fn opt_s(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.opt(name) {
            None => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.as_str())),
            Some(_) => Err(self.corrupt(name, "not a string")),
        }
    }

    pub(crate) fn s(&self, name: &str) -> Result<&'a str, StoreError> {
        self.opt_s(name)?
            .ok_or_else(|| self.corrupt(name, "missing"))
    }

    pub(crate) fn opt_u64(&self, name: &str) -> Result<Option<u64>, StoreError> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) => number(v)
                .map(Some)
                .ok_or_else(|| self.corrupt(name, "not a u64")),
        }
    }

    pub(crate) fn u64(&self, name: &str) -> Result<u64, StoreError> {
        self.opt_u64(name)?
            .ok_or_else(|| self.corrupt(name, "missing"))
    }

    pub(crate) fn bool(&self, name: &str) -> Result<bool, StoreError> {
        match self.opt(name) {
            Some(AttributeValue::Bool(v)) => Ok(*v),
            Some(_) => Err(self.corrupt(name, "not a boolean")),
            None => Err(self.corrupt(name, "missing")),
        }
    }

    pub(crate) fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.opt_s(name)? {
            None => Ok(None),
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| self.corrupt(name, "not an RFC 3339 instant")),
        }
    }

    pub(crate) fn time(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(name)?
            .ok_or_else(|| self.corrupt(name, "missing"))
    }

    pub(crate) fn opt_money(&self, name: &str) -> Result<Option<Money>, StoreError> {
        match self.opt(name) {
            None => Ok(None),
            Some(AttributeValue::M(m)) => {
                let currency = match m.get(CURRENCY) {
                    Some(AttributeValue::S(c)) => Currency::from_code(c),
                    _ => None,
                };
                let value = m.get(VALUE).and_then(number);
                match (currency, value) {
                    (Some(currency), Some(v)) => Ok(Some(Money {
                        currency,
                        value: MinorUnit(v),
                    })),
                    _ => Err(self.corrupt(name, "not a money map")),
                }
            }
            Some(_) => Err(self.corrupt(name, "not a map")),
        }
    }

    pub(crate) fn money(&self, name: &str) -> Result<Money, StoreError> {
        self.opt_money(name)?
            .ok_or_else(|| self.corrupt(name, "missing"))
    }

    pub(crate) fn map(
        &self,
        name: &str,
    ) -> Result<&'a HashMap<String, AttributeValue>, StoreError> {
        match self.opt(name) {
            Some(AttributeValue::M(m)) => Ok(m),
            Some(_) => Err(self.corrupt(name, "not a map")),
            None => Err(self.corrupt(name, "missing")),
        }
    }
}

fn number(v: &AttributeValue) -> Option<u64> {
    match v {
        AttributeValue::N(t) => t.parse().ok(),
        _ => None,
    }
}

// ---- Payments ----------------------------------------------------------------------------

/// A payment as an item: its stored row ([`PaymentRecord::to_row`]), attribute for attribute.
pub(crate) fn payment_item(record: &PaymentRecord) -> Item {
    let p = record.to_row();
    let mut item = HashMap::from([
        (PAYMENT_REQUEST_ID.to_string(), s(&p.payment_request_id)),
        (STATE.to_string(), s(p.state.as_str())),
        (RESULT_CODE.to_string(), s(p.result_code.code())),
        (CREATED_AT.to_string(), s(time_text(p.created_at))),
        (REFUNDED.to_string(), n(p.refunded.get())),
    ]);
    put_opt(&mut item, FINGERPRINT, p.fingerprint.as_deref().map(s));
    put_opt(&mut item, PAYMENT_ID, p.payment_id.as_deref().map(s));
    put_opt(
        &mut item,
        CUSTOMER_ID,
        p.customer_id.as_ref().map(|c| s(c.as_str())),
    );
    put_opt(&mut item, PAYMENT_AMOUNT, p.payment_amount.map(money));
    put_opt(&mut item, PAY_TO_AMOUNT, p.pay_to_amount.map(money));
    put_opt(&mut item, DEBIT, p.debit.map(money));
    put_opt(&mut item, PAYMENT_TIME, p.payment_time.as_deref().map(s));
    put_opt(&mut item, EXPIRES_AT, p.expires_at.map(|t| s(time_text(t))));
    put_opt(&mut item, NOTIFY_URL, p.notify_url.as_deref().map(s));
    put_opt(&mut item, CLOSED_AT, p.closed_at.map(|t| s(time_text(t))));
    put_opt(
        &mut item,
        ORDER_LIFECYCLE_ID,
        p.order_lifecycle_id.as_deref().map(s),
    );
    put_opt(
        &mut item,
        SUPPLEMENTAL_OF,
        p.supplemental_of.as_deref().map(s),
    );
    put_opt(
        &mut item,
        CLEARING_DAY,
        mpp_core::reconcile::ledger::payment_day(record).map(|d| s(d.compact())),
    );
    item
}

/// A payment from its item: the attributes into the stored row, then the row into its state
/// ([`PaymentRecord::from_row`], the one place a shape no state can have is `Corrupt`).
pub(crate) fn payment_from(item: &Item) -> Result<PaymentRecord, StoreError> {
    let f = Fields::new(item, "payment");
    let state = f.s(STATE)?;
    let code = f.s(RESULT_CODE)?;
    PaymentRecord::from_row(PaymentRow {
        payment_request_id: f.s(PAYMENT_REQUEST_ID)?.to_string(),
        fingerprint: f.opt_s(FINGERPRINT)?.map(str::to_string),
        state: PaymentState::parse(state).ok_or_else(|| f.corrupt(STATE, "unknown state"))?,
        result_code: ResultCode::from_code(code)
            .ok_or_else(|| f.corrupt(RESULT_CODE, "unknown result code"))?,
        payment_id: f.opt_s(PAYMENT_ID)?.map(str::to_string),
        customer_id: f.opt_s(CUSTOMER_ID)?.map(CustomerId::new),
        payment_amount: f.opt_money(PAYMENT_AMOUNT)?,
        pay_to_amount: f.opt_money(PAY_TO_AMOUNT)?,
        debit: f.opt_money(DEBIT)?,
        payment_time: f.opt_s(PAYMENT_TIME)?.map(str::to_string),
        created_at: f.time(CREATED_AT)?,
        expires_at: f.opt_time(EXPIRES_AT)?,
        notify_url: f.opt_s(NOTIFY_URL)?.map(str::to_string),
        refunded: MinorUnit(f.u64(REFUNDED)?),
        closed_at: f.opt_time(CLOSED_AT)?,
        order_lifecycle_id: f.opt_s(ORDER_LIFECYCLE_ID)?.map(str::to_string),
        supplemental_of: f.opt_s(SUPPLEMENTAL_OF)?.map(str::to_string),
    })
}

// ---- Accounts ----------------------------------------------------------------------------

/// An account as an item: every held currency gets a limits entry (see [`LIMITS`]), and each
/// `usage` entry becomes its day's `rem_`/`cnt_` pair.
pub(crate) fn account_item(a: &Account) -> Item {
    let balances: HashMap<String, AttributeValue> = a
        .balances
        .iter()
        .map(|(c, v)| (c.code().to_string(), n(v.get())))
        .collect();
    let mut limit_map: HashMap<String, AttributeValue> = a
        .balances
        .keys()
        .map(|c| (c.code().to_string(), limits(Limits::UNLIMITED, false)))
        .collect();
    for (c, l) in &a.limits {
        limit_map.insert(c.code().to_string(), limits(*l, true));
    }
    let mut item = HashMap::from([
        (CUSTOMER_ID.to_string(), s(a.customer_id.as_str())),
        (STATUS.to_string(), s(a.status.as_str())),
        (KYC.to_string(), s(a.kyc.as_str())),
        (NFC_ENABLED.to_string(), b(a.nfc_enabled)),
        (BALANCES.to_string(), AttributeValue::M(balances)),
        (LIMITS.to_string(), AttributeValue::M(limit_map)),
    ]);
    for (c, u) in &a.usage {
        item.insert(rem_attr(*c, u.day), n(u.amount_left.get()));
        item.insert(cnt_attr(*c, u.day), n(u64::from(u.count_left)));
    }
    item
}

/// Parses `rem_KRW_20261121` into its currency and day.
fn usage_attr(name: &str, prefix: &str) -> Option<(Currency, u32)> {
    let rest = name.strip_prefix(prefix)?;
    let (code, day) = rest.split_once('_')?;
    Some((Currency::from_code(code)?, day.parse().ok()?))
}

/// An account from its item. `usage` is rebuilt from the newest day that has both counters per
/// currency (older days are leftovers the pay update did not reach yet; they never count).
/// Limits entries written only to give a held currency its unlimited default are left out, so
/// `limits` reads back as it was written.
pub(crate) fn account_from(item: &Item) -> Result<Account, StoreError> {
    let f = Fields::new(item, "account");
    let status = f.s(STATUS)?;
    let kyc = f.s(KYC)?;
    let mut balances = BTreeMap::new();
    for (code, v) in f.map(BALANCES)? {
        let c = Currency::from_code(code).ok_or_else(|| f.corrupt(BALANCES, "unknown currency"))?;
        let v = number(v).ok_or_else(|| f.corrupt(BALANCES, "balance not a u64"))?;
        balances.insert(c, MinorUnit(v));
    }
    let mut explicit_limits = BTreeMap::new();
    for (code, v) in f.map(LIMITS)? {
        let c = Currency::from_code(code).ok_or_else(|| f.corrupt(LIMITS, "unknown currency"))?;
        let (l, explicit) = limits_from(v).ok_or_else(|| f.corrupt(LIMITS, "bad limits entry"))?;
        if explicit {
            explicit_limits.insert(c, l);
        }
    }
    Ok(Account {
        customer_id: CustomerId::new(f.s(CUSTOMER_ID)?),
        status: AccountStatus::parse(status).ok_or_else(|| f.corrupt(STATUS, "unknown status"))?,
        kyc: KycStatus::parse(kyc).ok_or_else(|| f.corrupt(KYC, "unknown KYC state"))?,
        balances,
        limits: explicit_limits,
        usage: usage_from(item)?,
        nfc_enabled: f.bool(NFC_ENABLED)?,
    })
}

fn limits_from(v: &AttributeValue) -> Option<(Limits, bool)> {
    let AttributeValue::M(m) = v else { return None };
    let explicit = match m.get(EXPLICIT) {
        Some(AttributeValue::Bool(e)) => *e,
        _ => return None,
    };
    Some((
        Limits {
            single_max: MinorUnit(number(m.get(SINGLE)?)?),
            daily_amount_max: MinorUnit(number(m.get(DAILY_AMOUNT)?)?),
            daily_count_max: u32::try_from(number(m.get(DAILY_COUNT)?)?).ok()?,
        },
        explicit,
    ))
}

fn usage_from(item: &Item) -> Result<BTreeMap<Currency, DayUsage>, StoreError> {
    let f = Fields::new(item, "account");
    let mut usage: BTreeMap<Currency, DayUsage> = BTreeMap::new();
    for name in item.keys() {
        let Some((c, day)) = usage_attr(name, REM_PREFIX) else {
            continue;
        };
        if usage.get(&c).is_some_and(|u| u.day >= day) {
            continue;
        }
        let cnt = cnt_attr(c, day);
        let Some(count) = f.opt_u64(&cnt)? else {
            continue;
        };
        let amount = f.u64(name)?;
        let count_left = u32::try_from(count).map_err(|_| f.corrupt(&cnt, "above u32"))?;
        usage.insert(
            c,
            DayUsage {
                day,
                amount_left: MinorUnit(amount),
                count_left,
            },
        );
    }
    Ok(usage)
}

/// Whether a stored account lacks a limits entry for a currency it holds (the pay update would
/// then fail on every try, so this is reported as corruption rather than retried).
pub(crate) fn account_lacks_limits(item: &Item, currency: Currency) -> bool {
    let held =
        matches!(item.get(BALANCES), Some(AttributeValue::M(m)) if m.contains_key(currency.code()));
    let limited =
        matches!(item.get(LIMITS), Some(AttributeValue::M(m)) if m.contains_key(currency.code()));
    held && !limited
}

// ---- Tokens and codes --------------------------------------------------------------------

/// A token as an item.
pub(crate) fn token_item(t: &AccessToken) -> Item {
    HashMap::from([
        (TOKEN_HASH.to_string(), s(t.token_hash.as_str())),
        (CUSTOMER_ID.to_string(), s(t.customer_id.as_str())),
        (
            SCOPES.to_string(),
            AttributeValue::L(t.scopes.iter().map(s).collect()),
        ),
        (EXPIRES_AT.to_string(), s(time_text(t.expires_at))),
        (REVOKED.to_string(), b(t.revoked)),
    ])
}

/// A token from its item.
pub(crate) fn token_from(item: &Item) -> Result<AccessToken, StoreError> {
    let f = Fields::new(item, "access token");
    let scopes = match f.opt(SCOPES) {
        Some(AttributeValue::L(l)) => l
            .iter()
            .map(|v| match v {
                AttributeValue::S(s) => Ok(s.clone()),
                _ => Err(f.corrupt(SCOPES, "not a list of strings")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(f.corrupt(SCOPES, "not a list")),
    };
    Ok(AccessToken {
        token_hash: SecretHash(f.s(TOKEN_HASH)?.to_string()),
        customer_id: CustomerId::new(f.s(CUSTOMER_ID)?),
        scopes,
        expires_at: f.time(EXPIRES_AT)?,
        revoked: f.bool(REVOKED)?,
    })
}

/// A payment code as an item.
pub(crate) fn code_item(c: &PaymentCode) -> Item {
    let mut item = HashMap::from([
        (CODE_HASH.to_string(), s(c.code_hash.as_str())),
        (CUSTOMER_ID.to_string(), s(c.customer_id.as_str())),
        (EXPIRES_AT.to_string(), s(time_text(c.expires_at))),
    ]);
    put_opt(&mut item, USED_BY, c.used_by.as_deref().map(s));
    item
}

/// A payment code from its item.
pub(crate) fn code_from(item: &Item) -> Result<PaymentCode, StoreError> {
    let f = Fields::new(item, "payment code");
    Ok(PaymentCode {
        code_hash: SecretHash(f.s(CODE_HASH)?.to_string()),
        customer_id: CustomerId::new(f.s(CUSTOMER_ID)?),
        expires_at: f.time(EXPIRES_AT)?,
        used_by: f.opt_s(USED_BY)?.map(str::to_string),
    })
}

// ---- Refunds and ledger ------------------------------------------------------------------

/// A refund as an item.
pub(crate) fn refund_item(r: &RefundRecord) -> Item {
    let mut item = HashMap::from([
        (REFUND_REQUEST_ID.to_string(), s(&r.refund_request_id)),
        (FINGERPRINT.to_string(), s(&r.fingerprint)),
        (PAYMENT_REQUEST_ID.to_string(), s(&r.payment_request_id)),
        (AMOUNT.to_string(), money(r.amount)),
        (REFUND_ID.to_string(), s(&r.refund_id)),
        (REFUND_TIME.to_string(), s(&r.refund_time)),
    ]);
    put_opt(
        &mut item,
        CLEARING_DAY,
        mpp_core::reconcile::ledger::refund_day(r).map(|d| s(d.compact())),
    );
    item
}

/// A refund from its item.
pub(crate) fn refund_from(item: &Item) -> Result<RefundRecord, StoreError> {
    let f = Fields::new(item, "refund");
    Ok(RefundRecord {
        refund_request_id: f.s(REFUND_REQUEST_ID)?.to_string(),
        fingerprint: f.s(FINGERPRINT)?.to_string(),
        payment_request_id: f.s(PAYMENT_REQUEST_ID)?.to_string(),
        amount: f.money(AMOUNT)?,
        refund_id: f.s(REFUND_ID)?.to_string(),
        refund_time: f.s(REFUND_TIME)?.to_string(),
    })
}

/// A ledger entry as an item.
pub(crate) fn ledger_item(e: &LedgerEntry) -> Item {
    let mut item = ledger_key(&e.customer_id, &e.entry_id);
    item.insert(KIND.to_string(), s(e.kind.as_str()));
    item.insert(MONEY.to_string(), money(e.money));
    item.insert(AT.to_string(), s(time_text(e.at)));
    put_opt(
        &mut item,
        PAYMENT_REQUEST_ID,
        e.payment_request_id.as_deref().map(s),
    );
    put_opt(
        &mut item,
        ORDER_LIFECYCLE_ID,
        e.order_lifecycle_id.as_deref().map(s),
    );
    item
}

/// A ledger entry from its item.
pub(crate) fn ledger_from(item: &Item) -> Result<LedgerEntry, StoreError> {
    let f = Fields::new(item, "ledger entry");
    let kind = f.s(KIND)?;
    Ok(LedgerEntry {
        customer_id: CustomerId::new(f.s(CUSTOMER_ID)?),
        entry_id: f.s(ENTRY_ID)?.to_string(),
        kind: EntryKind::parse(kind).ok_or_else(|| f.corrupt(KIND, "unknown kind"))?,
        money: f.money(MONEY)?,
        payment_request_id: f.opt_s(PAYMENT_REQUEST_ID)?.map(str::to_string),
        order_lifecycle_id: f.opt_s(ORDER_LIFECYCLE_ID)?.map(str::to_string),
        at: f.time(AT)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn krw() -> Currency {
        Currency::from_code("KRW").unwrap()
    }

    #[test]
    fn days_before_crosses_month_and_year_ends() {
        assert_eq!(days_before(20260301, 2), vec![20260228, 20260227]);
        assert_eq!(days_before(20270101, 1), vec![20261231]);
        assert!(days_before(20261399, 3).is_empty());
    }

    #[test]
    fn instants_round_trip_exactly_and_sort_as_text() {
        let a = Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()
            + chrono::Duration::nanoseconds(123);
        let b = a + chrono::Duration::nanoseconds(1);
        assert!(time_text(a) < time_text(b));
        let item = HashMap::from([(AT.to_string(), s(time_text(a)))]);
        assert_eq!(Fields::new(&item, "t").time(AT).unwrap(), a);
    }

    #[test]
    fn accounts_round_trip_with_usage_and_limits() {
        let usd = Currency::from_code("USD").unwrap();
        let a = Account {
            customer_id: CustomerId::new("2160000000000001"),
            status: AccountStatus::Normal,
            kyc: KycStatus::Passed,
            balances: BTreeMap::from([(krw(), MinorUnit(5)), (usd, MinorUnit(0))]),
            limits: BTreeMap::from([(
                krw(),
                Limits {
                    single_max: MinorUnit(9),
                    daily_amount_max: MinorUnit(20),
                    daily_count_max: 3,
                },
            )]),
            usage: BTreeMap::from([(
                krw(),
                DayUsage {
                    day: 20261121,
                    amount_left: MinorUnit(11),
                    count_left: 2,
                },
            )]),
            nfc_enabled: true,
        };
        let mut item = account_item(&a);
        assert_eq!(account_from(&item).unwrap(), a);
        // An older day's leftover counters never win over the newest.
        item.insert(rem_attr(krw(), 20261001), n(1));
        item.insert(cnt_attr(krw(), 20261001), n(1));
        assert_eq!(account_from(&item).unwrap(), a);
        assert!(!account_lacks_limits(&item, usd));
    }

    /// The payment items of every state, attribute for attribute as earlier versions wrote them
    /// (existing tables and the stream consumers read this format): golden, then read back.
    #[test]
    fn payment_items_of_every_state_are_golden_and_round_trip() {
        use mpp_core::payments::record::Order;
        use serde_json::json;
        let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap();
        let later = t0 + chrono::Duration::minutes(5);
        let krw = |v| Money {
            currency: krw(),
            value: MinorUnit(v),
        };
        let order = Order {
            fingerprint: "fp".to_string(),
            payment_amount: krw(1_000),
            pay_to_amount: krw(1_000),
            debit: krw(1_000),
            expires_at: t0 + chrono::Duration::minutes(1),
            notify_url: Some("https://a.example/n".to_string()),
            order_lifecycle_id: Some("LC-1".to_string()),
            supplemental_of: Some("p0".to_string()),
        };
        let succeeded = PaymentRecord::succeeded(
            "p1",
            t0,
            order.clone(),
            "pid-1".to_string(),
            CustomerId::new("c1"),
            t0,
        )
        .refund_paid(MinorUnit(200))
        .unwrap();
        let failed = PaymentRecord::failed(
            "p1",
            t0,
            order,
            ResultCode::UserBalanceNotEnough,
            Some(CustomerId::new("c1")),
        );
        let money =
            |v: u64| json!({"M": {"currency": {"S": "KRW"}, "value": {"N": v.to_string()}}});
        let pay = json!({
            "paymentRequestId": {"S": "p1"},
            "fingerprint": {"S": "fp"},
            "paymentAmount": money(1_000),
            "payToAmount": money(1_000),
            "debit": money(1_000),
            "createdAt": {"S": "2026-11-21T03:00:00.000000000Z"},
            "expiresAt": {"S": "2026-11-21T03:01:00.000000000Z"},
            "notifyUrl": {"S": "https://a.example/n"},
            "orderLifecycleId": {"S": "LC-1"},
            "supplementalOf": {"S": "p0"},
            "customerId": {"S": "c1"},
        });
        let with = |base: &serde_json::Value, extra: serde_json::Value| {
            let mut v = base.clone();
            if let (Some(v), serde_json::Value::Object(extra)) = (v.as_object_mut(), extra) {
                v.extend(extra);
            }
            v
        };
        let paid = with(
            &pay,
            json!({
                "paymentId": {"S": "pid-1"},
                "paymentTime": {"S": "2026-11-21T11:00:00+08:00"},
                "refunded": {"N": "200"},
                "resultCode": {"S": "SUCCESS"},
            }),
        );
        let declined = with(
            &pay,
            json!({"refunded": {"N": "0"}, "resultCode": {"S": "USER_BALANCE_NOT_ENOUGH"}}),
        );
        let closed_at = json!({"S": "2026-11-21T03:05:00.000000000Z"});
        let cases = [
            (
                succeeded.clone(),
                with(
                    &paid,
                    json!({"state": {"S": "SUCCEEDED"}, "clearingDay": {"S": "20261121"}}),
                ),
            ),
            (
                failed.clone(),
                with(&declined, json!({"state": {"S": "FAILED"}})),
            ),
            (
                failed.close_declined(later).unwrap(),
                with(
                    &declined,
                    json!({"state": {"S": "CLOSED"}, "closedAt": closed_at}),
                ),
            ),
            (
                succeeded.cancel_paid(later).unwrap(),
                with(
                    &paid,
                    json!({"state": {"S": "CANCELLED"}, "closedAt": closed_at}),
                ),
            ),
            (
                PaymentRecord::unseen_closed("p1", later),
                json!({
                    "paymentRequestId": {"S": "p1"},
                    "state": {"S": "CLOSED"},
                    "resultCode": {"S": "ORDER_IS_CLOSED"},
                    "createdAt": closed_at,
                    "closedAt": closed_at,
                    "refunded": {"N": "0"},
                }),
            ),
        ];
        for (record, golden) in cases {
            let image = serde_json::to_value(super::super::payment_image(&record)).unwrap();
            assert_eq!(image, golden, "{record:?}");
            assert_eq!(
                super::super::payment_from_image(&golden).ok(),
                Some(record.clone())
            );
            assert_eq!(payment_from(&payment_item(&record)).ok(), Some(record));
        }
    }
}
