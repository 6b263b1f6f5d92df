//! The notify functions' delivery state (`notifyAttempts`, `notifyLastError`,
//! `notifyDeliveredAt`, `notifyDeadLetteredAt`), kept on the item the notification is about:
//! notifyPayment's on the payment item (the notify-payment function's IAM policy is GetItem and
//! UpdateItem on the payments table), authNotify's on its outbox item `notify#<id>` in the
//! bindings table (`AuthNotifyDeliveries`; the auth-notify function's policy is GetItem and
//! UpdateItem there). Each update is conditional on the item existing. One implementation for
//! both: [`Target`] names the table, the key, and what an acknowledgement removes.

use super::call::{send, unexpected, Effect};
use super::item::{key, n, s, time_text, Item, PAYMENT_REQUEST_ID};
use super::DynamoStore;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use mpp_core::store::{Delivery, DeliveryStore, StoreError};

const ATTEMPTS: &str = "notifyAttempts";
const LAST_ERROR: &str = "notifyLastError";
const DELIVERED_AT: &str = "notifyDeliveredAt";
const DEAD_LETTERED_AT: &str = "notifyDeadLetteredAt";

fn time(v: Option<&AttributeValue>) -> Option<DateTime<Utc>> {
    v.and_then(|a| a.as_s().ok())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Where one notification's delivery state lives.
pub(crate) struct Target<'a> {
    /// The table.
    pub table: &'a str,
    /// The key attribute's name.
    pub key_name: &'static str,
    /// The key.
    pub key: String,
    /// What the item is, for errors.
    pub what: &'static str,
    /// An attribute removed when Alipay+ acknowledges (authNotify's body: the secret it
    /// carried leaves the store).
    pub remove_on_delivery: Option<&'static str>,
}

impl Target<'_> {
    fn item_key(&self) -> Item {
        key(self.key_name, &self.key)
    }

    fn missing(&self) -> StoreError {
        StoreError::NotFound(format!("{} {:.80}", self.what, self.key))
    }
}

impl DynamoStore {
    /// The delivery state on `t` (default when the item or the state is absent).
    pub(crate) async fn delivery_of(&self, t: &Target<'_>) -> Result<Delivery, StoreError> {
        let out = send(Effect::Read, "GetItem", || {
            self.client
                .get_item()
                .table_name(t.table)
                .set_key(Some(t.item_key()))
                .consistent_read(true)
                .projection_expression("#a, #e, #d, #x")
                .expression_attribute_names("#a", ATTEMPTS)
                .expression_attribute_names("#e", LAST_ERROR)
                .expression_attribute_names("#d", DELIVERED_AT)
                .expression_attribute_names("#x", DEAD_LETTERED_AT)
                .send()
        })
        .await?
        .map_err(|e| unexpected("GetItem", e))?;
        let Some(item) = out.item else {
            return Ok(Delivery::default());
        };
        Ok(Delivery {
            attempts: item
                .get(ATTEMPTS)
                .and_then(|a| a.as_n().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            last_error: item.get(LAST_ERROR).and_then(|a| a.as_s().ok()).cloned(),
            delivered_at: time(item.get(DELIVERED_AT)),
            dead_lettered_at: time(item.get(DEAD_LETTERED_AT)),
        })
    }

    /// Records an attempt on `t` (`error` None: delivered at `at`).
    pub(crate) async fn record_attempt_on(
        &self,
        t: &Target<'_>,
        attempt: u32,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (expression, outcome_name, outcome) = match (error, t.remove_on_delivery) {
            (None, None) => (
                "SET #a = :a, #d = :v REMOVE #e",
                DELIVERED_AT,
                s(time_text(at)),
            ),
            (None, Some(_)) => (
                "SET #a = :a, #d = :v REMOVE #e, #r",
                DELIVERED_AT,
                s(time_text(at)),
            ),
            (Some(e), _) => ("SET #a = :a, #e = :v", LAST_ERROR, s(e)),
        };
        let out = send(Effect::Write, "UpdateItem", || {
            let mut req = self
                .client
                .update_item()
                .table_name(t.table)
                .set_key(Some(t.item_key()))
                .update_expression(expression)
                .condition_expression("attribute_exists(#k)")
                .expression_attribute_names("#k", t.key_name)
                .expression_attribute_names("#a", ATTEMPTS)
                .expression_attribute_values(":a", n(u64::from(attempt)))
                .expression_attribute_values(":v", outcome.clone());
            req = req.expression_attribute_names(
                if error.is_none() { "#d" } else { "#e" },
                outcome_name,
            );
            if error.is_none() {
                req = req.expression_attribute_names("#e", LAST_ERROR);
                if let Some(r) = t.remove_on_delivery {
                    req = req.expression_attribute_names("#r", r);
                }
            }
            req.send()
        })
        .await?;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.is_conditional_check_failed_exception() => Err(t.missing()),
            Err(e) => Err(unexpected("UpdateItem", e)),
        }
    }

    /// Records on `t` that the notification went to the dead-letter queue.
    pub(crate) async fn record_dead_letter_on(
        &self,
        t: &Target<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let out = send(Effect::Write, "UpdateItem", || {
            self.client
                .update_item()
                .table_name(t.table)
                .set_key(Some(t.item_key()))
                .update_expression("SET #x = :x")
                .condition_expression("attribute_exists(#k)")
                .expression_attribute_names("#k", t.key_name)
                .expression_attribute_names("#x", DEAD_LETTERED_AT)
                .expression_attribute_values(":x", s(time_text(at)))
                .send()
        })
        .await?;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.is_conditional_check_failed_exception() => Err(t.missing()),
            Err(e) => Err(unexpected("UpdateItem", e)),
        }
    }

    fn payment_target(&self, payment_request_id: &str) -> Target<'_> {
        Target {
            table: &self.tables.payments,
            key_name: PAYMENT_REQUEST_ID,
            key: payment_request_id.to_string(),
            what: "payment",
            remove_on_delivery: None,
        }
    }
}

#[async_trait]
impl DeliveryStore for DynamoStore {
    async fn delivery(&self, payment_request_id: &str) -> Result<Delivery, StoreError> {
        self.delivery_of(&self.payment_target(payment_request_id))
            .await
    }

    async fn record_attempt(
        &self,
        payment_request_id: &str,
        attempt: u32,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.record_attempt_on(&self.payment_target(payment_request_id), attempt, error, at)
            .await
    }

    async fn record_dead_letter(
        &self,
        payment_request_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.record_dead_letter_on(&self.payment_target(payment_request_id), at)
            .await
    }
}
