//! What a function's dependencies are built from, in one place.
//!
//! Every Alipay+-facing function crate builds its `handler::Deps` with `Deps::from_wiring`
//! from a [`Wiring`]; the Lambda cold start (`mpp_aws::config::Runtime::wiring`), `mpp serve` and
//! the test harness each make one `Wiring` and hand it to every function they run. A new
//! dependency is added here and in the functions that take it, not in three callers.

use crate::clock::Clock;
use crate::edge::Edge;
use crate::payments::Policy;
use crate::store::Ports;
use chrono::Duration;
use std::sync::Arc;

/// Everything the Alipay+-facing functions are built from. Each function takes only the ports
/// it needs (its IAM role allows no more).
#[derive(Clone)]
pub struct Wiring {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// The store, through every port.
    pub ports: Ports,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Merchant and risk rules.
    pub policy: Arc<Policy>,
    /// Time after the next midnight (UTC+8) until which a payment may be cancelled.
    pub cancel_cutoff: Duration,
    /// Account binding: where the authorization page is, the cap of bindings per account.
    pub bindings: crate::bindings::BindingSettings,
    /// The server-held key binding tokens are derived under (`crate::token_mac`).
    pub token_mac: Arc<dyn crate::token_mac::TokenMac>,
}
