//! # mpp-e2e
//!
//! Shared test code: the signed-request harness that drives the real function handlers
//! (`harness`) and, beside it, the store conformance suite. The tests themselves live in
//! `tests/tests/`. Test-only: nothing here ships.

pub mod after_pay_scenarios;
pub mod binding_scenarios;
pub mod clearing_conformance;
pub mod conformance;
pub mod faults;
pub mod harness;
pub mod logs;
pub mod otp_scenarios;
pub mod pay_scenarios;
pub mod process;
pub mod queues;
pub mod receiver;
pub mod stall;
pub mod wallet_page;
