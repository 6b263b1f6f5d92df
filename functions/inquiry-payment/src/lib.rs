//! The inquiry Lambda function: Alipay+ asks what became of a payment (inquiryPayment).
//! Read-only store access.

pub mod handler;
