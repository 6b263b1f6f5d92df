//! The Alipay+ wire model: every message of the spec as types that only hold legal values.
//!
//! Raw bytes become a message through [`parse_request`], which answers either a checked value or
//! a [`ParamIllegal`] naming the JSON path of the first bad field and the rule it breaks. Every
//! scalar is a JSON string ([`Text`], [`Flag`], [`Amount`], [`Timestamp`], ...); cross-field rules
//! live in each request's [`Validate`] impl. Responses serialize back into the same form, and
//! [`to_body`] turns one into bytes. The rules and the decisions behind them are in
//! `docs/wire.md`.

pub mod acquirer;
mod enums;
mod parse;
mod result;
mod scalar;

// The generic wire model (an operation's own messages live in its area's module, e.g.
// `crate::payments::refund`): re-exported whole.
pub use enums::*;
pub use parse::*;
pub use result::*;
pub use scalar::*;

use crate::result_code::ResultCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest body we read: 256 KiB. The largest legal pay request is about 150 KB
/// (`passThroughInfo` alone may be 20 000 characters, up to 80 KB of UTF-8; 100 goods of
/// 64 + 256 + 256 characters are up to another 60 KB), so this leaves room for the partner's
/// future fields while bounding what one request can make us allocate.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A body that breaks the contract: which field (its JSON path, e.g. `order.orderAmount.value`,
/// or [`BODY_FIELD`] for the body as a whole) and which rule. Answered as `PARAM_ILLEGAL`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {rule}")]
pub struct ParamIllegal {
    /// The JSON path of the offending field.
    pub field: String,
    /// The rule it breaks, in words.
    pub rule: String,
}

impl ParamIllegal {
    /// Builds one.
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> ParamIllegal {
        ParamIllegal {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

/// Cross-field rules a strict partner checks once every field is well-formed.
pub trait Validate {
    /// `Ok` or the first broken rule, naming the field.
    fn validate(&self) -> Result<(), ParamIllegal>;
}

/// A message type's golden round trip: `body` parsed through every rule ([`parse_request`]) and
/// serialized back ([`to_body`]).
pub type RoundTrip = fn(&[u8]) -> Result<Vec<u8>, ParamIllegal>;

fn round_trip<T: DeserializeOwned + Validate + Serialize>(
    body: &[u8],
) -> Result<Vec<u8>, ParamIllegal> {
    parse_request::<T>(body).map(|message| to_body(&message))
}

/// An operation's request and response types, as their round trips (a row of the operation
/// table, `crate::operations`).
#[derive(Clone, Copy, Debug)]
pub struct WireTypes {
    /// The request's.
    pub request: RoundTrip,
    /// The response's.
    pub response: RoundTrip,
}

impl WireTypes {
    /// The round trips of request type `Q` and response type `R`.
    pub const fn of<Q, R>() -> WireTypes
    where
        Q: DeserializeOwned + Validate + Serialize,
        R: DeserializeOwned + Validate + Serialize,
    {
        WireTypes {
            request: round_trip::<Q>,
            response: round_trip::<R>,
        }
    }
}

/// Serializes a response. Serializing these types cannot fail (string keys, no maps with
/// non-string keys, no floats); should it ever, the body is a fixed `UNKNOWN_EXCEPTION` result,
/// which is the honest answer to "something unexpected happened".
pub fn to_body<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_else(|_| unknown_exception_body())
}

fn unknown_exception_body() -> Vec<u8> {
    let c = ResultCode::UnknownException;
    format!(
        r#"{{"result":{{"resultCode":"{}","resultStatus":"{}","resultMessage":"{}"}}}}"#,
        c.code(),
        c.status(),
        c.message()
    )
    .into_bytes()
}

/// Lower-case hex SHA-256 of a value's JSON serialization.
pub(crate) fn fingerprint<T: Serialize>(v: &T) -> String {
    use sha2::{Digest, Sha256};
    let bytes = to_body(v);
    hex::encode(Sha256::digest(&bytes))
}
