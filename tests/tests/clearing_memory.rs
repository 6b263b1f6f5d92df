//! The clearing-day query's conformance scenarios on the in-memory store.

use mpp_core::store::memory::MemoryStore;
use std::sync::Arc;

async fn store() -> Option<Arc<MemoryStore>> {
    Some(Arc::new(MemoryStore::new()))
}

mpp_e2e::clearing_conformance_tests!(store);
