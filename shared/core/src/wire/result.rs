//! The `result` object every response carries (and `paymentResult` in inquiry and notify).

use super::scalar::Text;
use crate::result_code::{ResultCode, ResultStatus};
use serde::{Deserialize, Deserializer, Serialize};

/// `{"resultCode", "resultStatus", "resultMessage"}`. The code is kept as a string so a code we
/// do not know (from Alipay+) still parses; [`ResultObject::code`] looks it up in our table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultObject {
    /// The code, 1 to 64 characters.
    #[serde(deserialize_with = "result_code_str")]
    pub result_code: String,
    /// `S`, `F` or `U`.
    pub result_status: ResultStatus,
    /// The message, at most 256 characters.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "result_message_str"
    )]
    pub result_message: Option<String>,
}

fn result_code_str<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Text::<64>::deserialize(d).map(Text::into_string)
}

fn result_message_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<Text<256>>::deserialize(d).map(|o| o.map(Text::into_string))
}

impl ResultObject {
    /// The code in our table, if it is one we know.
    pub fn code(&self) -> Option<ResultCode> {
        ResultCode::from_code(&self.result_code)
    }

    /// Whether the status is `S`.
    pub fn is_success(&self) -> bool {
        self.result_status == ResultStatus::S
    }
}

impl From<ResultCode> for ResultObject {
    fn from(c: ResultCode) -> ResultObject {
        ResultObject {
            result_code: c.code().to_string(),
            result_status: c.status(),
            result_message: Some(c.message().to_string()),
        }
    }
}
