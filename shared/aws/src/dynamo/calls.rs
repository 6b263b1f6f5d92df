//! Counting DynamoDB requests per operation, as an SDK interceptor: tests use it to hold the
//! store to its call budget (a new payment in at most two requests, a repeat in one).

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Counts every request sent (each attempt, retries included), by operation name
/// (`TransactWriteItems`, `BatchGetItem`, ...). Clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CallCounter {
    /// A counter at zero.
    pub fn new() -> CallCounter {
        CallCounter::default()
    }

    /// A client like `client` whose requests this counter counts.
    pub fn attach(&self, client: &Client) -> Client {
        Client::from_conf(
            client
                .config()
                .to_builder()
                .interceptor(self.clone())
                .build(),
        )
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, u64>> {
        // Counts are plain numbers: a panic elsewhere cannot leave them inconsistent.
        match self.counts.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Requests so far, by operation.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.lock().clone()
    }

    /// Requests so far, all operations.
    pub fn total(&self) -> u64 {
        self.lock().values().sum()
    }

    /// Back to zero.
    pub fn reset(&self) {
        self.lock().clear();
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_string());
        *self
            .lock()
            .entry(operation.unwrap_or_else(|| "unknown".to_string()))
            .or_default() += 1;
        Ok(())
    }
}
