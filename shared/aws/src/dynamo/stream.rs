//! Payments from DynamoDB Stream images: the notify function reads the stream record's
//! `NewImage` (DynamoDB JSON, as Lambda delivers it) back into a `PaymentRecord` with the same
//! decoding the store uses, so a stream record and a read can never disagree.

use super::item::payment_from;
use mpp_core::store::{PaymentRecord, StoreError};

/// Decodes a stream image (the `NewImage` object of a stream record, in DynamoDB JSON:
/// `{"paymentRequestId": {"S": "..."}, ...}`).
pub fn payment_from_image(image: &serde_json::Value) -> Result<PaymentRecord, StoreError> {
    let item: serde_dynamo::Item = serde_json::from_value(image.clone())
        .map_err(|e| StoreError::Corrupt(format!("stream image is not DynamoDB JSON: {e}")))?;
    let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
        item.into();
    payment_from(&item)
}
