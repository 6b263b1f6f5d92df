//! The refund Lambda function: Alipay+ gives back part or all of a succeeded payment, once per
//! `refundRequestId`.

pub mod handler;
