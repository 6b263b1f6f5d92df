//! Time as a port: what time it is and how to wait. Production uses the system clock and tokio's
//! timer; the retry-schedule tests use [`ManualTimer`], whose sleeps move a virtual clock at once,
//! so a minute of inquiries and minutes of cancel back-off run in microseconds.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Mutex;
use std::time::Duration;

/// Now, and waiting.
#[async_trait]
pub trait Timer: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// Waits `d`.
    async fn sleep(&self, d: Duration);
}

/// The machine's clock and tokio's sleep.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemTimer;

#[async_trait]
impl Timer for SystemTimer {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// Most sleeps a [`ManualTimer`] keeps for inspection (a run is bounded far below this).
pub const MANUAL_SLEEPS_KEPT_MAX: usize = 10_000;

/// A virtual clock for tests: `sleep` advances it by the duration and returns at once; every
/// sleep is recorded. Fakes that stand for slow peers call [`ManualTimer::advance`].
#[derive(Debug)]
pub struct ManualTimer {
    now: Mutex<DateTime<Utc>>,
    sleeps: Mutex<Vec<(DateTime<Utc>, Duration)>>,
}

impl ManualTimer {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> ManualTimer {
        ManualTimer {
            now: Mutex::new(start),
            sleeps: Mutex::new(Vec::new()),
        }
    }

    /// Moves the clock forward without recording a sleep (a peer's latency).
    pub fn advance(&self, d: Duration) {
        let by = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = now.checked_add_signed(by).unwrap_or(*now);
    }

    /// Every sleep so far: when it started and how long it was.
    pub fn sleeps(&self) -> Vec<(DateTime<Utc>, Duration)> {
        self.sleeps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait]
impl Timer for ManualTimer {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn sleep(&self, d: Duration) {
        let start = self.now();
        {
            let mut sleeps = self.sleeps.lock().unwrap_or_else(|p| p.into_inner());
            if sleeps.len() < MANUAL_SLEEPS_KEPT_MAX {
                sleeps.push((start, d));
            }
        }
        self.advance(d);
        // Let other tasks (a webhook, a racing notification) run, as a real sleep would.
        tokio::task::yield_now().await;
    }
}
