//! What an answer from Alipay+ means for an order (the seed page's result table, §7 and §10).
//! Pure functions: the driver decides what to do next from these alone.

use crate::gateway::Reply;
use crate::order::Success;
use mpp_core::payments::{CancelPaymentResponse, InquiryPaymentResponse};
use mpp_core::result_code::{ResultCode, ResultStatus};
use mpp_core::wire::acquirer::AcqPayResponse;
use mpp_core::wire::ResultObject;

/// The meaning of a pay or inquiry answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// S: the payment succeeded.
    Succeeded(Success),
    /// F: the payment failed with this code (for inquiry: including `ORDER_IS_CLOSED`).
    Failed(String),
    /// U `PAYMENT_IN_PROCESS` (pay), or a U payment result (inquiry): inquire again later.
    InProcess,
    /// inquiryPayment said `ORDER_NOT_EXIST`: the pay never arrived, so re-sending it is safe.
    NotFound,
    /// Any other U, no answer, or an inquiry that itself failed: the outcome is unknown.
    Unknown(String),
}

/// The meaning of a cancel answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelVerdict {
    /// S: the payment is closed; whatever was taken goes back.
    Closed,
    /// F: the same cancel will be refused again; an operator must look.
    Refused(String),
    /// U or no answer: send the same cancel again.
    Unknown(String),
}

fn describe(r: &ResultObject) -> String {
    format!("{} {}", r.result_status, r.result_code)
}

fn is_code(r: &ResultObject, code: ResultCode) -> bool {
    r.code() == Some(code)
}

/// The seed page's table for pay: S success, F failure, U `PAYMENT_IN_PROCESS` inquire, any
/// other U or no answer: unknown (re-send the same request).
pub fn judge_pay(reply: &Reply<AcqPayResponse>) -> Verdict {
    let answer = match reply {
        Reply::Answer(a) => a,
        Reply::NoAnswer(why) => return Verdict::Unknown(why.clone()),
    };
    let r = &answer.result;
    match r.result_status {
        ResultStatus::S => Verdict::Succeeded(Success {
            payment_id: answer.payment_id.as_ref().map(|t| t.as_str().to_string()),
            payment_time: answer.payment_time.as_ref().map(|t| t.as_str().to_string()),
            customer_id: answer.customer_id.as_ref().map(|t| t.as_str().to_string()),
        }),
        ResultStatus::F => Verdict::Failed(r.result_code.clone()),
        ResultStatus::U if is_code(r, ResultCode::PaymentInProcess) => Verdict::InProcess,
        ResultStatus::U => Verdict::Unknown(describe(r)),
    }
}

/// §7: `result` says whether the inquiry worked, `paymentResult` what became of the payment.
pub fn judge_inquiry(reply: &Reply<InquiryPaymentResponse>) -> Verdict {
    let answer = match reply {
        Reply::Answer(a) => a,
        Reply::NoAnswer(why) => return Verdict::Unknown(why.clone()),
    };
    let r = &answer.result;
    match r.result_status {
        ResultStatus::S => {}
        ResultStatus::F if is_code(r, ResultCode::OrderNotExist) => return Verdict::NotFound,
        ResultStatus::F | ResultStatus::U => {
            return Verdict::Unknown(format!("inquiry answered {}", describe(r)))
        }
    }
    let Some(p) = &answer.payment_result else {
        return Verdict::Unknown("inquiry answered S without paymentResult".to_string());
    };
    match p.result_status {
        ResultStatus::S => Verdict::Succeeded(Success {
            payment_id: answer.payment_id.as_ref().map(|t| t.as_str().to_string()),
            payment_time: answer.payment_time.as_ref().map(|t| t.as_str().to_string()),
            customer_id: answer.customer_id.as_ref().map(|t| t.as_str().to_string()),
        }),
        ResultStatus::F => Verdict::Failed(p.result_code.clone()),
        ResultStatus::U => Verdict::InProcess,
    }
}

/// §10: S closed, F refused for good, U or silence: send it again.
pub fn judge_cancel(reply: &Reply<CancelPaymentResponse>) -> CancelVerdict {
    let answer = match reply {
        Reply::Answer(a) => a,
        Reply::NoAnswer(why) => return CancelVerdict::Unknown(why.clone()),
    };
    let r = &answer.result;
    match r.result_status {
        ResultStatus::S => CancelVerdict::Closed,
        ResultStatus::F => CancelVerdict::Refused(r.result_code.clone()),
        ResultStatus::U => CancelVerdict::Unknown(describe(r)),
    }
}
