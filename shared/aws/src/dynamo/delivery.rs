//! The notify function's delivery state: attributes on the payment item, nothing else
//! (`notifyAttempts`, `notifyLastError`, `notifyDeliveredAt`, `notifyDeadLetteredAt`). Each
//! update is conditional on the payment existing; the notify function's IAM policy is GetItem
//! and UpdateItem on the payments table.

use super::call::{send, unexpected, Effect};
use super::item::{key, n, s, time_text, PAYMENT_REQUEST_ID};
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

#[async_trait]
impl DeliveryStore for DynamoStore {
    async fn delivery(&self, payment_request_id: &str) -> Result<Delivery, StoreError> {
        let out = send(Effect::Read, "GetItem", || {
            self.client
                .get_item()
                .table_name(&self.tables.payments)
                .set_key(Some(key(PAYMENT_REQUEST_ID, payment_request_id)))
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

    async fn record_attempt(
        &self,
        payment_request_id: &str,
        attempt: u32,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (expression, outcome_name, outcome) = match error {
            None => (
                "SET #a = :a, #d = :v REMOVE #e",
                DELIVERED_AT,
                s(time_text(at)),
            ),
            Some(e) => ("SET #a = :a, #e = :v", LAST_ERROR, s(e)),
        };
        let out = send(Effect::Write, "UpdateItem", || {
            let mut req = self
                .client
                .update_item()
                .table_name(&self.tables.payments)
                .set_key(Some(key(PAYMENT_REQUEST_ID, payment_request_id)))
                .update_expression(expression)
                .condition_expression("attribute_exists(#k)")
                .expression_attribute_names("#k", PAYMENT_REQUEST_ID)
                .expression_attribute_names("#a", ATTEMPTS)
                .expression_attribute_values(":a", n(u64::from(attempt)))
                .expression_attribute_values(":v", outcome.clone());
            req = req.expression_attribute_names(
                if error.is_none() { "#d" } else { "#e" },
                outcome_name,
            );
            if error.is_none() {
                req = req.expression_attribute_names("#e", LAST_ERROR);
            }
            req.send()
        })
        .await?;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.is_conditional_check_failed_exception() => Err(StoreError::NotFound(
                format!("payment {payment_request_id}"),
            )),
            Err(e) => Err(unexpected("UpdateItem", e)),
        }
    }

    async fn record_dead_letter(
        &self,
        payment_request_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let out = send(Effect::Write, "UpdateItem", || {
            self.client
                .update_item()
                .table_name(&self.tables.payments)
                .set_key(Some(key(PAYMENT_REQUEST_ID, payment_request_id)))
                .update_expression("SET #x = :x")
                .condition_expression("attribute_exists(#k)")
                .expression_attribute_names("#k", PAYMENT_REQUEST_ID)
                .expression_attribute_names("#x", DEAD_LETTERED_AT)
                .expression_attribute_values(":x", s(time_text(at)))
                .send()
        })
        .await?;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.is_conditional_check_failed_exception() => Err(StoreError::NotFound(
                format!("payment {payment_request_id}"),
            )),
            Err(e) => Err(unexpected("UpdateItem", e)),
        }
    }
}
