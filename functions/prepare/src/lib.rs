//! The prepare Lambda function: Alipay+ asks for our authorization page for a merchant binding request.

pub mod handler;
