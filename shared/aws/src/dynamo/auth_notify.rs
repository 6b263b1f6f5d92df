//! authNotify's outbox on DynamoDB: one item `notify#<notificationId>` in the bindings table per
//! notification, put in the binding transition's own transaction (condition: it does not exist
//! yet), carrying the exact body; the bindings table's stream (INSERTs of `notify#` items) drives
//! the first attempt, and the delivery state is kept on the item ([`AuthNotifyDeliveries`], the
//! same code as notifyPayment's, `delivery.rs`). An acknowledged item loses its body.

use super::bindings::BINDING_KEY;
use super::delivery::Target;
use super::item::{s, time_text, Fields, Item};
use super::DynamoStore;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use mpp_core::bindings::{
    parse_notification_id, AuthNotification, NotifyBody, OutboxEntry, TokenBody, OUTBOX_KEY_PREFIX,
};
use mpp_core::store::{Delivery, DeliveryStore, StoreError};
use std::collections::HashMap;

const NOTIFICATION_ID: &str = "notificationId";
const BODY: &str = "body";
const TEMPLATE: &str = "template";
const TOKEN_GENERATION: &str = "tokenGeneration";
const ACCESS_HASH: &str = "accessHash";

fn outbox_key(id: &str) -> String {
    format!("{OUTBOX_KEY_PREFIX}{id}")
}

/// The outbox item of `n`.
fn outbox_item(n: &AuthNotification) -> Item {
    let mut it = super::item::key(BINDING_KEY, &outbox_key(&n.notification_id));
    it.insert(NOTIFICATION_ID.into(), s(&n.notification_id));
    match &n.body {
        NotifyBody::Exact(body) => {
            it.insert(BODY.into(), s(body));
        }
        NotifyBody::Derived(t) => {
            it.insert(TEMPLATE.into(), s(&t.template));
            it.insert(TOKEN_GENERATION.into(), super::item::n(t.token_generation));
            it.insert(ACCESS_HASH.into(), s(&t.access_hash));
        }
    }
    it.insert(super::item::CREATED_AT.into(), s(time_text(n.created_at)));
    it
}

/// The transaction part that puts `n` (it must not exist: a notification is written once).
pub(crate) fn outbox_put(
    table: &str,
    n: &AuthNotification,
) -> Result<TransactWriteItem, StoreError> {
    let p = Put::builder()
        .table_name(table)
        .set_item(Some(outbox_item(n)))
        .condition_expression("attribute_not_exists(#k)")
        .expression_attribute_names("#k", BINDING_KEY)
        .build()
        .map_err(super::call::build_err)?;
    Ok(TransactWriteItem::builder().put(p).build())
}

/// A notification from its item (either shape: see the module comment); `Ok(None)` for a bindings-table item that is not an outbox
/// item (the stream carries every binding write; only `notify#` items are notifications).
pub fn auth_notification_from(item: &Item) -> Result<Option<AuthNotification>, StoreError> {
    let f = Fields::new(item, "authNotify outbox item");
    if !f.s(BINDING_KEY)?.starts_with(OUTBOX_KEY_PREFIX) {
        return Ok(None);
    }
    let id = f.s(NOTIFICATION_ID)?;
    let (auth_id, notify_type, _) = parse_notification_id(id)?;
    let body = match (f.opt_s(BODY)?, f.opt_s(TEMPLATE)?) {
        // A code, or an item written before token bodies were derived: sent as it is.
        (Some(body), _) => NotifyBody::Exact(body.to_string()),
        (None, Some(template)) => NotifyBody::Derived(TokenBody {
            auth_id: auth_id.to_string(),
            token_generation: f.opt_u64(TOKEN_GENERATION)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "authNotify {id:.80}: template without tokenGeneration"
                ))
            })?,
            access_hash: f.s(ACCESS_HASH)?.to_string(),
            template: template.to_string(),
        }),
        // An exact body removed on delivery.
        (None, None) => NotifyBody::Exact(String::new()),
    };
    Ok(Some(AuthNotification {
        notification_id: id.to_string(),
        auth_id: auth_id.to_string(),
        notify_type,
        body,
        created_at: f.time(super::item::CREATED_AT)?,
    }))
}

/// Decodes a bindings-table stream image in DynamoDB JSON (DynamoDB Local's `GetRecords`).
pub fn auth_notification_from_image(
    image: &serde_json::Value,
) -> Result<Option<AuthNotification>, StoreError> {
    let item: serde_dynamo::Item = serde_json::from_value(image.clone())
        .map_err(|e| StoreError::Corrupt(format!("stream image is not DynamoDB JSON: {e}")))?;
    auth_notification_from_item(item)
}

/// Decodes a stream image as the typed Lambda event carries it.
pub fn auth_notification_from_item(
    item: serde_dynamo::Item,
) -> Result<Option<AuthNotification>, StoreError> {
    let item: HashMap<String, aws_sdk_dynamodb::types::AttributeValue> = item.into();
    auth_notification_from(&item)
}

impl DynamoStore {
    /// The outbox item of a notification (tests, operators).
    pub async fn outbox_entry(
        &self,
        notification_id: &str,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let key = super::item::key(BINDING_KEY, &outbox_key(notification_id));
        let Some(item) = self.get(&self.tables.bindings, key).await? else {
            return Ok(None);
        };
        let Some(notification) = auth_notification_from(&item)? else {
            return Ok(None);
        };
        let delivery = AuthNotifyDeliveries(self.clone())
            .delivery(notification_id)
            .await?;
        Ok(Some(OutboxEntry {
            notification,
            delivery,
        }))
    }
}

/// authNotify's delivery state on its outbox item: the [`DeliveryStore`] the shared delivery
/// code (`mpp_core::flows::notify::attempt`) keeps its state in, keyed by notification id.
#[derive(Clone, Debug)]
pub struct AuthNotifyDeliveries(pub DynamoStore);

impl AuthNotifyDeliveries {
    fn target(&self, notification_id: &str) -> Target<'_> {
        Target {
            table: &self.0.tables.bindings,
            key_name: BINDING_KEY,
            key: outbox_key(notification_id),
            what: "authNotify",
            remove_on_delivery: Some(BODY),
        }
    }
}

#[async_trait]
impl DeliveryStore for AuthNotifyDeliveries {
    async fn delivery(&self, notification_id: &str) -> Result<Delivery, StoreError> {
        self.0.delivery_of(&self.target(notification_id)).await
    }

    async fn record_attempt(
        &self,
        notification_id: &str,
        attempt: u32,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0
            .record_attempt_on(&self.target(notification_id), attempt, error, at)
            .await
    }

    async fn record_dead_letter(
        &self,
        notification_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0
            .record_dead_letter_on(&self.target(notification_id), at)
            .await
    }
}
