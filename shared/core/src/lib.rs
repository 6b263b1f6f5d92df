//! # mpp-core
//!
//! The Alipay+ contract and the wallet's business rules, shared by every Lambda function and the
//! `mpp` command: the wire model and its validation (`wire`), the one result-code table
//! (`result_code`), money (`money`), message signatures (`signature`), the ledger store port with
//! its pure rules and the in-memory adapter (`store`), and the use cases (`flows`). The OTP area
//! (`otp`) and the account binding area (`bindings`) are organised by operation: one file per
//! Alipay+ operation holds its wire types, edge glue, port, decision, flow and memory adapter.
//!
//! It must never import the AWS SDK or `lambda_http`: AWS adapters live in `mpp-aws`, the HTTP
//! runtime in the function crates. What crosses in is plain bytes, headers and ports.

pub mod bindings;
pub mod cause;
pub mod clock;
pub mod deadline;
pub mod edge;
pub mod flows;
pub mod ids;
pub mod messaging;
pub mod money;
pub mod operations;
pub mod otp;
pub mod outbound;
pub mod pin;
pub mod reconcile;
pub mod result_code;
pub mod seed;
pub mod signature;
pub mod store;
pub mod token_mac;
pub mod wire;
pub mod wiring;
