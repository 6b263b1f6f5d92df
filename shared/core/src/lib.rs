//! # mpp-core
//!
//! The Alipay+ contract and the wallet's business rules, shared by every Lambda function and the
//! `mpp` command: the wire model and its validation (`wire`), the one result-code table
//! (`result_code`), money (`money`), message signatures (`signature`), the ledger store port with
//! what every area shares and the in-memory adapter (`store`), the delivery both notifiers share
//! (`flows`) and the internal routes' edge (`internal`). Core is organised by area, and each area
//! by operation: the payments area (`payments`: pay, evaluation, inquiryPayment, cancelPayment,
//! refund, notifyPayment), the OTP area (`otp`), the account binding area (`bindings`) and the
//! payment-code area (`codes`: getPaymentCode) hold, per operation, its wire types, edge glue,
//! port, decision, flow and memory adapter.
//!
//! It must never import the AWS SDK or `lambda_http`: AWS adapters live in `mpp-aws`, the HTTP
//! runtime in the function crates. What crosses in is plain bytes, headers and ports.

pub mod bindings;
pub mod cause;
pub mod clock;
pub mod codes;
pub mod deadline;
pub mod edge;
pub mod flows;
pub mod ids;
pub mod internal;
pub mod messaging;
pub mod money;
pub mod operations;
pub mod otp;
pub mod outbound;
pub mod payments;
pub mod pin;
pub mod reconcile;
pub mod result_code;
pub mod seed;
pub mod signature;
pub mod store;
pub mod token_mac;
pub mod wire;
pub mod wiring;
