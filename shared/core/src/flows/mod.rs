//! The use cases. Each is a plain async function in a fixed order: validate → load → decide →
//! one atomic write → build the answer. Signature checks and the envelope live at the edge
//! (`crate::edge`), so a flow only sees a validated request and returns a response body type.

pub mod notify;

use crate::clock::business_tz;
use crate::result_code::ResultCode;
use crate::wire::{ResultObject, Text, Timestamp};
use chrono::{DateTime, Utc};

/// The Alipay+ `result` object for a code.
pub fn result(code: ResultCode) -> ResultObject {
    ResultObject::from(code)
}

/// A new payment or refund id: the UTC+8 time to the second, then 32 random hex digits
/// (46 characters; the field allows 64). Unique without coordination.
pub fn new_id(now: DateTime<Utc>) -> String {
    format!(
        "{}{}",
        now.with_timezone(&business_tz()).format("%Y%m%d%H%M%S"),
        uuid::Uuid::new_v4().simple()
    )
}

pub use crate::clock::wire_time;

/// A stored wire time back as a `Timestamp` (`None` if it was not one, which only a corrupt
/// record can cause).
pub fn timestamp(text: &str) -> Option<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(Timestamp::from_datetime)
}

/// A string we produced as a `Text` field (`None` if it breaks the field's rules).
pub fn text<const MAX: usize>(s: &str) -> Option<Text<MAX>> {
    Text::new(s).ok()
}
