//! Payments from DynamoDB Stream images: the notify function reads the stream record's
//! `NewImage` (DynamoDB JSON, as Lambda delivers it) back into a `PaymentRecord` with the same
//! decoding the store uses, so a stream record and a read can never disagree.

use super::item::{payment_from, payment_item};
use mpp_core::payments::PaymentRecord;
use mpp_core::store::StoreError;

/// Decodes a stream image (the `NewImage` object of a stream record, in DynamoDB JSON:
/// `{"paymentRequestId": {"S": "..."}, ...}`).
pub fn payment_from_image(image: &serde_json::Value) -> Result<PaymentRecord, StoreError> {
    let item: serde_dynamo::Item = serde_json::from_value(image.clone())
        .map_err(|e| StoreError::Corrupt(format!("stream image is not DynamoDB JSON: {e}")))?;
    let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
        item.into();
    payment_from(&item)
}

/// Decodes a stream image as the typed Lambda event carries it (`aws_lambda_events`' DynamoDB
/// `StreamRecord::new_image`), with the same decoding the store uses.
pub fn payment_from_item(item: serde_dynamo::Item) -> Result<PaymentRecord, StoreError> {
    let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
        item.into();
    payment_from(&item)
}

/// The image a payments-table stream record carries for `record` (the item the store writes):
/// what tools and tests put in a stream event.
pub fn payment_image(record: &PaymentRecord) -> serde_dynamo::Item {
    serde_dynamo::Item::from(payment_item(record))
}
