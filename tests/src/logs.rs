//! Capturing the functions' log lines in tests: a writer that keeps every byte, for a
//! `tracing` subscriber in the functions' JSON format.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Everything written to it, shared between its clones.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The lines written since the last call, each parsed as JSON.
    pub fn take_json(&self) -> Vec<serde_json::Value> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}
