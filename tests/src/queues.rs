//! The notify tests' queues: a retry queue and a dead-letter queue that keep what they are
//! given, for the test to pump (`notify.rs`, `auth_notify.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use mpp_core::flows::notify::{DeadLetters, NotifyJob, QueueError, RetryQueue};
use std::sync::Mutex;

/// A queue that keeps what it is given, for the test to pump.
#[derive(Default)]
pub struct TestQueue(pub Mutex<Vec<(NotifyJob, u32)>>);

#[async_trait::async_trait]
impl RetryQueue for TestQueue {
    async fn schedule(&self, job: &NotifyJob, delay_secs: u32) -> Result<(), QueueError> {
        self.0.lock().unwrap().push((job.clone(), delay_secs));
        Ok(())
    }
}

#[async_trait::async_trait]
impl DeadLetters for TestQueue {
    async fn put(&self, job: &NotifyJob) -> Result<(), QueueError> {
        self.0.lock().unwrap().push((job.clone(), 0));
        Ok(())
    }
}
