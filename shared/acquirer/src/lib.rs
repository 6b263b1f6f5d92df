//! # mpp-acquirer
//!
//! The acquirer (ACQP) side of Alipay+ user-presented mode, and a local Alipay+ to run it
//! against. It owns: payment-code identification (seed Step 1, [`code`]); the order, its state
//! machine and its store port ([`order`], [`store`]); the pay → (inquiry | re-send) → cancel
//! logic with every bound named ([`driver`], [`schedule`], [`verdict`]) on an injectable clock
//! ([`timer`]); the `paymentExpiryTime` table ([`expiry`]); the notifyPayment webhook
//! ([`webhook`]); the signed gateway to Alipay+ ([`gateway`]); and the hub, a simulated Alipay+
//! with fault injection ([`hub`]). The design and the state diagram are in `docs/acquirer.md`.
//!
//! Signing, verification, the wire model and the server edge come from `mpp-core`, the signed
//! client from `mpp-client`. It must never import the AWS SDK or `lambda_http`, nor the MPP's
//! stores or use cases: the MPP is reached only over HTTP, as a real acquirer reaches it. (From
//! `mpp_core::flows` it takes only shared helpers: ids, wire time, and the quote check the hub
//! runs on what it sends.)

pub mod code;
pub mod driver;
pub mod expiry;
pub mod gateway;
pub mod http;
pub mod hub;
pub mod merchant;
pub mod messages;
pub mod order;
pub mod schedule;
pub mod store;
pub mod timer;
pub mod verdict;
pub mod webhook;

pub use driver::{Acquirer, AcquirerError, Api, NoSteps, Sale, Step, Steps};
pub use merchant::Merchant;
pub use order::{Order, OrderState, Source};
pub use schedule::RetryPolicy;
