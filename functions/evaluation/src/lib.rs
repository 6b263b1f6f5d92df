//! The evaluation Lambda function: payment evaluation (`isAgreementPayment` and
//! `isPaymentEvaluation` both `"true"`) with read-only store access. A pay request that is not
//! an evaluation is refused here (`PARAM_ILLEGAL`): this function may not move money.

pub mod handler;
