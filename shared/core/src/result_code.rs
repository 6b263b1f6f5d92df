//! The one result-code table: wire code, status, message and HTTP status, in one place.
//!
//! Every response the project builds takes its `result` from here. Codes come from the pay API's
//! Result/Error codes table (`pay-api-mpp.md`), the common codes of `alipayplus-apis.md` §5 and
//! the auto-debit condition table; the few the public material does not publish are marked
//! `project decision` in `docs/decisions.md`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `S`, `F` or `U`: did it work, did it fail for good, or is the outcome unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResultStatus {
    /// Successful.
    S,
    /// Failed; retrying the same request will not change the answer.
    F,
    /// Unknown or in progress; the caller inquires or re-sends.
    U,
}

impl ResultStatus {
    /// The wire letter.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultStatus::S => "S",
            ResultStatus::F => "F",
            ResultStatus::U => "U",
        }
    }

    /// Parses the wire letter.
    pub fn parse(s: &str) -> Option<ResultStatus> {
        match s {
            "S" => Some(ResultStatus::S),
            "F" => Some(ResultStatus::F),
            "U" => Some(ResultStatus::U),
            _ => None,
        }
    }
}

impl fmt::Display for ResultStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeInfo {
    /// The wire code, e.g. `USER_BALANCE_NOT_ENOUGH`.
    pub code: &'static str,
    /// Its status.
    pub status: ResultStatus,
    /// The message we send in `resultMessage`.
    pub message: &'static str,
    /// The HTTP status of a response carrying this code.
    pub http_status: u16,
}

macro_rules! result_codes {
    ($( $(#[$doc:meta])* $variant:ident = ($code:literal, $status:ident, $http:literal, $msg:literal), )*) => {
        /// Every result code the project can send or receive.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ResultCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ResultCode {
            /// Every code, in table order.
            pub const ALL: &'static [ResultCode] = &[ $( ResultCode::$variant, )* ];

            /// The row for this code.
            pub const fn info(self) -> CodeInfo {
                match self {
                    $( ResultCode::$variant => CodeInfo {
                        code: $code,
                        status: ResultStatus::$status,
                        message: $msg,
                        http_status: $http,
                    }, )*
                }
            }

            /// Looks a wire code up.
            pub fn from_code(code: &str) -> Option<ResultCode> {
                match code {
                    $( $code => Some(ResultCode::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

result_codes! {
    /// The call worked.
    Success = ("SUCCESS", S, 200, "success"),
    /// The caller may not use this API.
    AccessDenied = ("ACCESS_DENIED", F, 200, "The access is denied."),
    /// The payment business is not supported.
    BusinessNotSupport = ("BUSINESS_NOT_SUPPORT", F, 200, "The payment business is not supported."),
    /// The currency is not supported.
    CurrencyNotSupport = ("CURRENCY_NOT_SUPPORT", F, 200, "The currency is not supported."),
    /// A payment code past its validity.
    ExpiredCode = ("EXPIRED_CODE", F, 200, "The code is expired."),
    /// The `Client-Id` is not one we accept.
    InvalidClient = ("INVALID_CLIENT", F, 200, "The client is invalid."),
    /// A payment code we do not know.
    InvalidCode = ("INVALID_CODE", F, 200, "The code is invalid."),
    /// The contract is invalid.
    InvalidContract = ("INVALID_CONTRACT", F, 200, "The contract is invalid."),
    /// The request signature did not verify.
    InvalidSignature = ("INVALID_SIGNATURE", F, 200, "The signature is invalid."),
    /// The access token is unknown, revoked or of the wrong scope.
    InvalidToken = ("INVALID_TOKEN", F, 200, "The access token is invalid."),
    /// The access token is past its expiry (auto-debit condition table).
    ExpiredAccessToken = ("EXPIRED_ACCESS_TOKEN", F, 200, "The access token is expired."),
    /// No public key for the `keyVersion` in the signature header.
    KeyNotFound = ("KEY_NOT_FOUND", F, 200, "The key is not found."),
    /// The content type is not JSON.
    MediaTypeNotAcceptable = ("MEDIA_TYPE_NOT_ACCEPTABLE", F, 415, "The server does not implement the media type that is acceptable to the client."),
    /// The merchant is not allowed to take payments from our users.
    MerchantNotRegistered = ("MERCHANT_NOT_REGISTERED", F, 200, "The merchant is not registered."),
    /// Not a POST.
    MethodNotSupported = ("METHOD_NOT_SUPPORTED", F, 405, "The server does not implement the requested HTTP method."),
    /// No API at this path.
    NoInterfaceDef = ("NO_INTERFACE_DEF", F, 404, "API is not defined."),
    /// The payment expired or was cancelled.
    OrderIsClosed = ("ORDER_IS_CLOSED", F, 200, "The order is closed."),
    /// inquiryPayment for a `paymentRequestId` we never saw (§5, §7).
    OrderNotExist = ("ORDER_NOT_EXIST", F, 200, "The order does not exist."),
    /// A field breaks the contract.
    ParamIllegal = ("PARAM_ILLEGAL", F, 200, "Illegal parameters exist. For example, a non-numeric input, or an invalid date."),
    /// Above the single-transaction limit.
    PaymentAmountExceedLimit = ("PAYMENT_AMOUNT_EXCEED_LIMIT", F, 200, "The payment amount exceeds the limit."),
    /// Above the daily payment count.
    PaymentCountExceedLimit = ("PAYMENT_COUNT_EXCEED_LIMIT", F, 200, "The number of payments exceeds the limit."),
    /// A general business failure.
    ProcessFail = ("PROCESS_FAIL", F, 200, "A general business failure occurred. Don't retry."),
    /// Regulatory restriction.
    RegulationRestriction = ("REGULATION_RESTRICTION", F, 200, "The payment failed due to regulatory restriction."),
    /// Same idempotency key, different key parameters.
    RepeatReqInconsistent = ("REPEAT_REQ_INCONSISTENT", F, 200, "Repeated requests are inconsistent."),
    /// A risk rule declined the payment.
    RiskReject = ("RISK_REJECT", F, 200, "The request is rejected because of the risk control."),
    /// The user has no usable payment method for this payment.
    UnavailablePaymentMethod = ("UNAVAILABLE_PAYMENT_METHOD", F, 200, "The payment method is unavailable."),
    /// Above the accumulated (daily) amount limit.
    UserAmountExceedLimit = ("USER_AMOUNT_EXCEED_LIMIT", F, 200, "The payment amount exceeds the user payment limit."),
    /// Not enough balance.
    UserBalanceNotEnough = ("USER_BALANCE_NOT_ENOUGH", F, 200, "The user balance is not enough for the payment."),
    /// KYC not passed.
    UserKycNotQualified = ("USER_KYC_NOT_QUALIFIED", F, 200, "The user is not KYC compliant."),
    /// No such user.
    UserNotExist = ("USER_NOT_EXIST", F, 200, "The user does not exist."),
    /// Identity verification (OTP, PIN, NFC data) failed.
    UserPaymentVerificationFailed = ("USER_PAYMENT_VERIFICATION_FAILED", F, 200, "User fails to pass the payment verification in the methods like OTP, PIN, and so on."),
    /// Frozen or closed account.
    UserStatusAbnormal = ("USER_STATUS_ABNORMAL", F, 200, "The user status is abnormal."),
    /// Cancel after the cancel window (project decision: the public Alipay+ code name).
    CancelWindowExceed = ("CANCEL_WINDOW_EXCEED", F, 200, "The cancellation is beyond the cancellation window."),
    /// Refunds would exceed what was paid (project decision: the public Alipay+ code name).
    RefundAmountExceed = ("REFUND_AMOUNT_EXCEED", F, 200, "The total refund amount exceeds the payment amount."),
    /// The payment is not in a state that allows the operation (project decision).
    OrderStatusInvalid = ("ORDER_STATUS_INVALID", F, 200, "The order status is invalid."),
    /// applyToken: the refresh token is unknown, rotated or revoked (account-binding.md §3).
    InvalidRefreshToken = ("INVALID_REFRESH_TOKEN", F, 200, "The refresh token is invalid."),
    /// applyToken: the refresh token is past its expiry (account-binding.md §3).
    ExpiredRefreshToken = ("EXPIRED_REFRESH_TOKEN", F, 200, "The refresh token is expired."),
    /// Still being processed: inquire later.
    PaymentInProcess = ("PAYMENT_IN_PROCESS", U, 200, "The payment is being processed."),
    /// Throttled: re-send later.
    RequestTrafficExceedLimit = ("REQUEST_TRAFFIC_EXCEED_LIMIT", U, 200, "The request traffic exceeds the limit."),
    /// Something unexpected failed; the outcome is unknown.
    UnknownException = ("UNKNOWN_EXCEPTION", U, 200, "An API calling is failed, which is caused by unknown reasons."),
    /// The wallet's unbinding (internal route, issue 18): consultUnbinding answered
    /// `allowUnbinding` "false"; nothing changed (project code: the spec sends the user to the
    /// merchant and names no code).
    UnbindingNotAllowed = ("UNBINDING_NOT_ALLOWED", F, 200, "The merchant does not allow unbinding in the wallet. Unbind at the merchant."),
    /// The wallet's unbinding: the customer has no live binding by that id (project code).
    BindingNotExist = ("BINDING_NOT_EXIST", F, 200, "The binding does not exist."),
}

impl ResultCode {
    /// The wire code.
    pub fn code(self) -> &'static str {
        self.info().code
    }

    /// S, F or U.
    pub fn status(self) -> ResultStatus {
        self.info().status
    }

    /// The message.
    pub fn message(self) -> &'static str {
        self.info().message
    }

    /// The HTTP status of a response carrying this code.
    pub fn http_status(self) -> u16 {
        self.info().http_status
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the `| CODE | S/F/U | message |` rows of the pay page's Result/Error codes table.
    fn spec_pay_table() -> Vec<(String, String, String)> {
        let page = include_str!("../../../docs/spec/pay-api-mpp.md");
        let start = page.find("## Result/Error codes").expect("table heading");
        page[start..]
            .lines()
            .skip_while(|l| !l.starts_with("| Code"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<String> = l.split('|').map(|c| c.trim().to_string()).collect();
                (cells[1].clone(), cells[2].clone(), cells[3].clone())
            })
            .collect()
    }

    #[test]
    fn every_code_of_the_spec_pay_table_is_in_our_table_with_its_status_and_message() {
        let rows = spec_pay_table();
        assert!(rows.len() >= 33, "parsed {} rows", rows.len());
        for (code, status, message) in rows {
            let ours = ResultCode::from_code(&code).unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(ours.status().as_str(), status, "{code}");
            if ours == ResultCode::Success {
                // The table says "Success"; every sample response on the wire says "success".
                assert_eq!(ours.message().to_lowercase(), message.to_lowercase());
            } else {
                assert_eq!(ours.message(), message, "{code}");
            }
        }
    }

    #[test]
    fn every_common_code_of_the_apis_page_is_in_our_table_with_its_status() {
        let page = include_str!("../../../docs/spec/alipayplus-apis.md");
        let start = page.find("## 5. Result object").expect("section 5");
        let section = &page[start..page[start..].find("## 6.").map(|e| start + e).unwrap()];
        let mut seen = 0;
        for chunk in section.split('`').collect::<Vec<_>>().windows(2) {
            let (code, after) = (chunk[0], chunk[1]);
            if code.chars().all(|c| c.is_ascii_uppercase() || c == '_') && code.len() > 3 {
                let status = after
                    .trim_start()
                    .trim_start_matches('(')
                    .chars()
                    .next()
                    .unwrap();
                let ours = ResultCode::from_code(code).unwrap_or_else(|| panic!("{code} missing"));
                assert_eq!(ours.status().as_str(), status.to_string(), "{code}");
                seen += 1;
            }
        }
        assert!(seen >= 15, "parsed {seen} codes");
    }

    #[test]
    fn the_auto_debit_condition_table_codes_are_all_known() {
        let page = include_str!("../../../docs/spec/make-a-payment-auto-debit.md");
        let mut seen = 0;
        for line in page.lines().filter(|l| l.starts_with("| The")) {
            for code in line.split('`').skip(1).step_by(2) {
                assert!(ResultCode::from_code(code).is_some(), "{code} missing");
                seen += 1;
            }
        }
        assert!(seen >= 15, "parsed {seen} codes");
    }

    #[test]
    fn codes_are_unique_and_round_trip() {
        for &c in ResultCode::ALL {
            assert_eq!(ResultCode::from_code(c.code()), Some(c));
            assert!(c.code().len() <= 64 && c.message().len() <= 256);
        }
        assert_eq!(ResultCode::from_code("NOPE"), None);
    }
}
