//! The account-binding conformance suite on the in-memory store.

use mpp_core::store::memory::MemoryStore;
use mpp_core::store::Ports;
use std::sync::Arc;

async fn ports() -> Option<Ports> {
    Some(Ports::of(Arc::new(MemoryStore::new())))
}

mpp_e2e::binding_tests!(ports);
