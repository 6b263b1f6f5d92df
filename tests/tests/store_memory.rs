//! The store conformance suite on the in-memory store (the reference semantics).

use mpp_core::store::memory::MemoryStore;
use std::sync::Arc;

async fn store() -> Option<Arc<MemoryStore>> {
    Some(Arc::new(MemoryStore::new()))
}

mpp_e2e::conformance_tests!(store);
