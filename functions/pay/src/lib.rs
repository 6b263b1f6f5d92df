//! The pay Lambda function: Alipay+ charges a wallet user (auto debit, user-presented mode, NFC,
//! supplemental payments); evaluation requests arriving on this route are evaluated by the same
//! core code the evaluation function runs. `handler` is the whole of it; `main.rs` only wires it.

pub mod handler;
