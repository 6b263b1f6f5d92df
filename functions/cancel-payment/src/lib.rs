//! The cancel Lambda function: Alipay+ closes a payment (cancelPayment), whatever its state;
//! money taken goes back in one transaction.

pub mod handler;
