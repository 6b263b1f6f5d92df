//! sendOTP's and verifyOTP's ports on DynamoDB: the OTP table (`{prefix}-otps`, PK `otpKey`)
//! holds two kinds of item, told apart by `kind`:
//!
//! - `OTP`: one per `verifyRequestId` (the key): token hash, customer, channel, salt, code hash,
//!   times, wrong tries, state; `ttl` (epoch seconds) a day after expiry, so DynamoDB's TTL
//!   removes it.
//! - `DAY`: `DAY#<yyyymmdd>#<tokenHash>`: OTPs sent to a token that business day (`sent`); `ttl`
//!   two days on.
//!
//! Calls: sendOTP 3 (`GetItem` token, `GetItem` account, `TransactWriteItems` of the OTP put and
//! the day's conditional count: the cap holds under concurrency because the count's condition
//! is `sent < OTP_DAILY_MAX`). verifyOTP 2 (`BatchGetItem` token + OTP, one conditional
//! `UpdateItem` guarded on the state and tries read; a refused condition is decided again on the
//! `ALL_OLD` item, at most [`TXN_ATTEMPTS_MAX`] times); an answer without a write 1.
//!
//! Contacts (`phone`, `email`) are attributes of the account item, set by `put_contacts`.

use super::call::ALL_OLD;
use super::call::{build_err, call_token, send_tracked, unexpected, Effect, Reasons, TxOutcome};
use super::item::{self, Item};
use super::{DynamoStore, TXN_ATTEMPTS_MAX};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use mpp_core::ids::{CustomerId, SecretHash};
use mpp_core::otp::VerifyType;
use mpp_core::otp::{
    decide_verify, written_outcome, Contacts, IssueOutcome, OtpAttempt, OtpRecord, OtpState,
    Recipient, SendOtpStore, VerifyDecision, VerifyOtpStore, VerifyOutcome, OTP_DAILY_MAX,
};
use mpp_core::store::{AccessToken, StoreError};
use std::collections::HashMap;

/// The OTP table's key.
pub(crate) const OTP_KEY: &str = "otpKey";
const KIND: &str = "kind";
const KIND_OTP: &str = "OTP";
const KIND_DAY: &str = "DAY";
const TOKEN_HASH: &str = "tokenHash";
const CHANNEL: &str = "channel";
const SALT: &str = "salt";
const CODE_HASH: &str = "codeHash";
const CREATED_AT: &str = "createdAt";
const EXPIRES_AT: &str = "expiresAt";
const FAILED_TRIES: &str = "failedTries";
const STATE: &str = "state";
const SENT: &str = "sent";
/// The nonces of the verify calls whose write was applied (a string set; at most
/// `OTP_TRIES_MAX` + 1 entries, since only a PENDING OTP is written): tells our own write whose
/// answer was lost from other calls' writes, even identical ones (two wrong codes both taking
/// tries 2 → 3) or later ones (tries 3 → 4 on top of ours).
const WRITTEN_BY: &str = "writtenBy";
/// The attribute DynamoDB's TTL reads (the template enables it).
pub(crate) const TTL: &str = "ttl";
/// Account attributes.
const PHONE: &str = "phone";
const EMAIL: &str = "email";
/// How long a used or expired OTP and a day's count stay before TTL removes them.
const KEEP_SECS: i64 = 86_400;

fn day_key(token_hash: &SecretHash, day: u32) -> String {
    format!("DAY#{day}#{}", token_hash.as_str())
}

fn epoch(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0)
}

fn otp_item(o: &OtpRecord) -> Item {
    HashMap::from([
        (OTP_KEY.to_string(), item::s(&o.verify_request_id)),
        (KIND.to_string(), item::s(KIND_OTP)),
        (TOKEN_HASH.to_string(), item::s(o.token_hash.as_str())),
        (
            item::CUSTOMER_ID.to_string(),
            item::s(o.customer_id.as_str()),
        ),
        (CHANNEL.to_string(), item::s(o.channel.as_str())),
        (SALT.to_string(), item::s(&o.salt)),
        (CODE_HASH.to_string(), item::s(&o.code_hash)),
        (
            CREATED_AT.to_string(),
            item::s(item::time_text(o.created_at)),
        ),
        (
            EXPIRES_AT.to_string(),
            item::s(item::time_text(o.expires_at)),
        ),
        (FAILED_TRIES.to_string(), item::n(u64::from(o.failed_tries))),
        (STATE.to_string(), item::s(o.state.as_str())),
        (
            TTL.to_string(),
            item::n(epoch(o.expires_at + chrono::Duration::seconds(KEEP_SECS))),
        ),
    ])
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("otp item: {what}"))
}

fn text<'a>(i: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match i.get(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        _ => Err(corrupt(name)),
    }
}

fn number(i: &Item, name: &str) -> Result<u64, StoreError> {
    match i.get(name) {
        Some(AttributeValue::N(n)) => n.parse().map_err(|_| corrupt(name)),
        _ => Err(corrupt(name)),
    }
}

fn time(i: &Item, name: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text(i, name)?)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt(name))
}

/// An OTP from its item; `None` for an item of another kind (a day count is never an OTP, even
/// when a hostile `verifyRequestId` names its key).
fn otp_from(i: &Item) -> Result<Option<OtpRecord>, StoreError> {
    if text(i, KIND)? != KIND_OTP {
        return Ok(None);
    }
    Ok(Some(OtpRecord {
        verify_request_id: text(i, OTP_KEY)?.to_string(),
        token_hash: SecretHash(text(i, TOKEN_HASH)?.to_string()),
        customer_id: CustomerId::new(text(i, item::CUSTOMER_ID)?),
        channel: VerifyType::parse(text(i, CHANNEL)?).ok_or_else(|| corrupt(CHANNEL))?,
        salt: text(i, SALT)?.to_string(),
        code_hash: text(i, CODE_HASH)?.to_string(),
        created_at: time(i, CREATED_AT)?,
        expires_at: time(i, EXPIRES_AT)?,
        failed_tries: u32::try_from(number(i, FAILED_TRIES)?).map_err(|_| corrupt(FAILED_TRIES))?,
        state: OtpState::parse(text(i, STATE)?).ok_or_else(|| corrupt(STATE))?,
    }))
}

fn contacts_from(account: &Item) -> Contacts {
    let get = |name: &str| match account.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    };
    Contacts {
        phone: get(PHONE),
        email: get(EMAIL),
    }
}

impl DynamoStore {
    /// Sets (or removes) `phone` and `email` on an existing account item.
    pub(crate) async fn set_contacts(
        &self,
        customer_id: &CustomerId,
        contacts: &Contacts,
    ) -> Result<(), StoreError> {
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        let mut values = HashMap::new();
        let mut names = HashMap::from([("#id".to_string(), item::CUSTOMER_ID.to_string())]);
        for (attr, value) in [(PHONE, &contacts.phone), (EMAIL, &contacts.email)] {
            names.insert(format!("#{attr}"), attr.to_string());
            match value {
                Some(v) => {
                    sets.push(format!("#{attr} = :{attr}"));
                    values.insert(format!(":{attr}"), item::s(v));
                }
                None => removes.push(format!("#{attr}")),
            }
        }
        let mut update = String::new();
        if !sets.is_empty() {
            update.push_str(&format!("SET {}", sets.join(", ")));
        }
        if !removes.is_empty() {
            update.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let req = self
            .client
            .update_item()
            .table_name(&self.tables.accounts)
            .set_key(Some(item::key(item::CUSTOMER_ID, customer_id.as_str())))
            .update_expression(update.trim())
            .condition_expression("attribute_exists(#id)")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values));
        match send_tracked(Effect::Write, "UpdateItem", || req.clone().send())
            .await?
            .result
        {
            Ok(_) => Ok(()),
            Err(UpdateItemError::ConditionalCheckFailedException(_)) => {
                Err(StoreError::NotFound(format!("account {customer_id}")))
            }
            Err(e) => Err(unexpected("UpdateItem", e)),
        }
    }

    /// Writes one verify decision: PENDING with the tries read → the decided OTP. `Ok(None)`:
    /// written; `Ok(Some(now))`: the condition failed and this is the OTP as it is now.
    async fn write_verify(
        &self,
        before: &OtpRecord,
        after: &OtpRecord,
        nonce: &str,
    ) -> Result<Option<Option<OtpRecord>>, StoreError> {
        let req = self
            .client
            .update_item()
            .table_name(&self.tables.otps)
            .set_key(Some(item::key(OTP_KEY, &after.verify_request_id)))
            .update_expression("SET #state = :state, #tries = :tries ADD #by :nonce")
            .condition_expression("#kind = :otp AND #state = :pending AND #tries = :read")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_names("#tries", FAILED_TRIES)
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_names("#by", WRITTEN_BY)
            .expression_attribute_values(":nonce", AttributeValue::Ss(vec![nonce.to_string()]))
            .expression_attribute_values(":state", item::s(after.state.as_str()))
            .expression_attribute_values(":tries", item::n(u64::from(after.failed_tries)))
            .expression_attribute_values(":otp", item::s(KIND_OTP))
            .expression_attribute_values(":pending", item::s(OtpState::Pending.as_str()))
            .expression_attribute_values(":read", item::n(u64::from(before.failed_tries)))
            .return_values_on_condition_check_failure(ALL_OLD);
        let sent = send_tracked(Effect::Write, "UpdateItem", || req.clone().send()).await?;
        match sent.result {
            Ok(_) => Ok(None),
            Err(UpdateItemError::ConditionalCheckFailedException(e)) => {
                let ours = e.item.as_ref().and_then(|i| i.get(WRITTEN_BY)).is_some_and(
                    |v| matches!(v, AttributeValue::Ss(n) if n.iter().any(|x| x == nonce)),
                );
                let now = match e.item.as_ref() {
                    Some(i) => otp_from(i)?,
                    None => None,
                };
                // Our own update, whose answer was lost on an earlier attempt of this call: the
                // item carries this call's nonce (another call's write, identical or later, does
                // not). It counted; it must not count again.
                if sent.after_lost_answer && ours {
                    return Ok(None);
                }
                Ok(Some(now))
            }
            Err(e) => Err(unexpected("UpdateItem", e)),
        }
    }
}

#[async_trait]
impl SendOtpStore for DynamoStore {
    async fn otp_token(&self, token_hash: &SecretHash) -> Result<Option<AccessToken>, StoreError> {
        self.get(
            &self.tables.access_tokens,
            item::key(item::TOKEN_HASH, token_hash.as_str()),
        )
        .await?
        .as_ref()
        .map(item::token_from)
        .transpose()
    }

    async fn recipient(&self, customer_id: &CustomerId) -> Result<Option<Recipient>, StoreError> {
        let got = self
            .get(
                &self.tables.accounts,
                item::key(item::CUSTOMER_ID, customer_id.as_str()),
            )
            .await?;
        let Some(i) = got else { return Ok(None) };
        let account = item::account_from(&i)?;
        Ok(Some(Recipient {
            status: account.status,
            contacts: contacts_from(&i),
        }))
    }

    async fn issue_otp(&self, otp: &OtpRecord) -> Result<IssueOutcome, StoreError> {
        let put = Put::builder()
            .table_name(&self.tables.otps)
            .set_item(Some(otp_item(otp)))
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", OTP_KEY)
            .build()
            .map_err(build_err)?;
        let ttl = otp.created_at + chrono::Duration::seconds(2 * KEEP_SECS);
        let count = Update::builder()
            .table_name(&self.tables.otps)
            .set_key(Some(item::key(
                OTP_KEY,
                &day_key(&otp.token_hash, otp.day()),
            )))
            .update_expression(
                "SET #sent = if_not_exists(#sent, :zero) + :one, #kind = :day, #ttl = :ttl",
            )
            // decide_issue's rule, applied atomically with the put.
            .condition_expression("attribute_not_exists(#sent) OR #sent < :max")
            .expression_attribute_names("#sent", SENT)
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":zero", item::n(0))
            .expression_attribute_values(":one", item::n(1))
            .expression_attribute_values(":day", item::s(KIND_DAY))
            .expression_attribute_values(":ttl", item::n(epoch(ttl)))
            .expression_attribute_values(":max", item::n(u64::from(OTP_DAILY_MAX)))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        match self
            .transact_retrying(items, &call_token("sendOTP"))
            .await?
        {
            TxOutcome::Done => Ok(IssueOutcome::Issued),
            TxOutcome::Cancelled(reasons) => {
                let r = Reasons(&reasons);
                if r.failed(0).is_some() {
                    // A fresh random id already stored: only a broken generator does that.
                    return Err(StoreError::AlreadyExists(format!(
                        "otp {}",
                        otp.verify_request_id
                    )));
                }
                if r.failed(1).is_some() {
                    return Ok(IssueOutcome::DailyCapReached);
                }
                Err(StoreError::Unavailable(
                    format!("sendOTP transaction cancelled: {}", r.summary()).into(),
                ))
            }
        }
    }
}

#[async_trait]
impl VerifyOtpStore for DynamoStore {
    async fn load_for_verify(
        &self,
        token_hash: &SecretHash,
        verify_request_id: &str,
    ) -> Result<(Option<AccessToken>, Option<OtpRecord>), StoreError> {
        let got = self
            .batch_get(&[
                (
                    self.tables.access_tokens.as_str(),
                    item::key(item::TOKEN_HASH, token_hash.as_str()),
                ),
                (
                    self.tables.otps.as_str(),
                    item::key(OTP_KEY, verify_request_id),
                ),
            ])
            .await?;
        let token = match got.first() {
            Some(Some(i)) => Some(item::token_from(i)?),
            _ => None,
        };
        let otp = match got.get(1) {
            Some(Some(i)) => otp_from(i)?,
            _ => None,
        };
        Ok((token, otp))
    }

    async fn verify_otp(
        &self,
        attempt: &OtpAttempt,
        current: Option<OtpRecord>,
    ) -> Result<VerifyOutcome, StoreError> {
        let mut current = current;
        // One nonce per call: every attempt of this call writes it.
        let nonce = super::call::call_nonce();
        for attempt_no in 0..TXN_ATTEMPTS_MAX {
            if attempt_no > 0 {
                super::call::pause(attempt_no).await;
            }
            let decision = decide_verify(attempt, current.as_ref());
            let outcome = written_outcome(&decision);
            let (before, after) = match (&decision, &current) {
                (VerifyDecision::Answer(_), _) | (_, None) => return Ok(outcome),
                (VerifyDecision::MarkVerified(after), Some(before))
                | (VerifyDecision::CountWrong(after, _), Some(before)) => (before, after),
            };
            match self.write_verify(before, after, &nonce).await? {
                None => return Ok(outcome),
                Some(now) => current = now,
            }
        }
        Err(StoreError::Contention(TXN_ATTEMPTS_MAX))
    }
}
