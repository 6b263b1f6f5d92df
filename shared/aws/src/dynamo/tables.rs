//! Creating the six tables (for tests, DynamoDB Local and `mpp serve --dynamodb-endpoint`; in AWS
//! the SAM template owns them).

use super::call::build_err;
use super::call::{send, unexpected, Effect};
use super::DynamoStore;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
};
use mpp_core::store::StoreError;
use std::time::Duration;

/// Polls of `DescribeTable` while a new table becomes ACTIVE, [`TABLE_WAIT_POLL_MS`] apart:
/// DynamoDB Local is instant, AWS takes seconds; a minute in all is plenty.
pub const TABLE_WAIT_POLLS_MAX: u32 = 600;
/// Time between two polls.
const TABLE_WAIT_POLL_MS: u64 = 100;

impl DynamoStore {
    /// Creates the tables that do not exist yet (on-demand billing; Payments with a
    /// NEW_AND_OLD_IMAGES stream for the notifier) and waits until all six are ACTIVE.
    pub async fn create_tables(&self) -> Result<(), StoreError> {
        let t = &self.tables;
        let specs: [(&str, &str, Option<&str>, bool); 8] = [
            (&t.accounts, super::item::CUSTOMER_ID, None, false),
            (&t.access_tokens, super::item::TOKEN_HASH, None, false),
            (&t.payment_codes, super::item::CODE_HASH, None, false),
            (&t.payments, super::item::PAYMENT_REQUEST_ID, None, true),
            (&t.refunds, super::item::REFUND_REQUEST_ID, None, false),
            (
                &t.ledger,
                super::item::CUSTOMER_ID,
                Some(super::item::ENTRY_ID),
                false,
            ),
            (&t.otps, super::otp::OTP_KEY, None, false),
            (&t.bindings, super::bindings::BINDING_KEY, None, true),
        ];
        for (name, pk, sk, stream) in specs {
            if self.table_status(name).await?.is_none() {
                // Payments carry the sparse index of supplemental payments' links; payments and
                // refunds the sparse day indexes of reconciliation.
                let mut indexes = Vec::new();
                if name == t.payments.as_str() {
                    indexes.push((
                        super::item::LIFECYCLE_INDEX,
                        super::item::ORDER_LIFECYCLE_ID,
                        super::item::CREATED_AT,
                    ));
                    indexes.push((
                        super::item::PAYMENTS_DAY_INDEX,
                        super::item::CLEARING_DAY,
                        super::item::PAYMENT_REQUEST_ID,
                    ));
                }
                if name == t.refunds.as_str() {
                    indexes.push((
                        super::item::REFUNDS_DAY_INDEX,
                        super::item::CLEARING_DAY,
                        super::item::REFUND_REQUEST_ID,
                    ));
                }
                self.create_table(name, pk, sk, stream, &indexes).await?;
            }
        }
        for (name, ..) in specs {
            self.wait_active(name).await?;
        }
        Ok(())
    }

    async fn table_status(&self, name: &str) -> Result<Option<TableStatus>, StoreError> {
        let req = self.client.describe_table().table_name(name);
        match send(Effect::Read, "DescribeTable", || req.clone().send()).await? {
            Ok(out) => Ok(out.table.and_then(|t| t.table_status)),
            Err(DescribeTableError::ResourceNotFoundException(_)) => Ok(None),
            Err(e) => Err(unexpected("DescribeTable", e)),
        }
    }

    async fn create_table(
        &self,
        name: &str,
        pk: &str,
        sk: Option<&str>,
        stream: bool,
        indexes: &[(&str, &str, &str)],
    ) -> Result<(), StoreError> {
        let mut req = self
            .client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(pk)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(build_err)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(pk)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(build_err)?,
            );
        if let Some(sk) = sk {
            req = req
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(sk)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(build_err)?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(sk)
                        .key_type(KeyType::Range)
                        .build()
                        .map_err(build_err)?,
                );
        }
        let mut defined: Vec<String> = std::iter::once(pk).chain(sk).map(str::to_string).collect();
        for &(index_name, ipk, isk) in indexes {
            let key = |attr: &str, key_type: KeyType| {
                KeySchemaElement::builder()
                    .attribute_name(attr)
                    .key_type(key_type)
                    .build()
                    .map_err(build_err)
            };
            for attr in [ipk, isk] {
                // An attribute is defined once per table, even when two keys share it.
                if defined.iter().any(|d| d == attr) {
                    continue;
                }
                defined.push(attr.to_string());
                req = req.attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(attr)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(build_err)?,
                );
            }
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(index_name)
                    .key_schema(key(ipk, KeyType::Hash)?)
                    .key_schema(key(isk, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(build_err)?,
            );
        }
        if stream {
            req = req.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()
                    .map_err(build_err)?,
            );
        }
        match send(Effect::Write, "CreateTable", || req.clone().send()).await? {
            Ok(_) => Ok(()),
            // Someone else created it meanwhile: fine, we wait for it like for ours.
            Err(CreateTableError::ResourceInUseException(_)) => Ok(()),
            Err(e) => Err(unexpected("CreateTable", e)),
        }
    }

    async fn wait_active(&self, name: &str) -> Result<(), StoreError> {
        for poll in 0..TABLE_WAIT_POLLS_MAX {
            if self.table_status(name).await? == Some(TableStatus::Active) {
                return Ok(());
            }
            tracing::debug!(table = name, poll, "waiting for the table to become ACTIVE");
            tokio::time::sleep(Duration::from_millis(TABLE_WAIT_POLL_MS)).await;
        }
        Err(StoreError::Unavailable(
            format!("table {name} not ACTIVE after {TABLE_WAIT_POLLS_MAX} polls").into(),
        ))
    }
}
