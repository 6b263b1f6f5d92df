//! The order store port and its in-memory adapter.
//!
//! One trait sized to what the driver and the webhook do: create, read, one conditional
//! transition, one bookkeeping note, and a change signal so a waiting driver hears at once that
//! a notification settled its order.

use crate::order::{apply, note, Note, Order, Refused, Transition};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

/// Why the store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderStoreError {
    /// `create` for an id that exists: ids must be unique per order.
    #[error("order {0} already exists")]
    AlreadyExists(String),
    /// No order with this id.
    #[error("order {0} does not exist")]
    NotFound(String),
    /// The store failed; the write may or may not have happened.
    #[error("order store unavailable: {0}")]
    Unavailable(String),
}

/// Where orders live.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Stores a new order; refuses an existing id.
    async fn create(&self, order: &Order) -> Result<(), OrderStoreError>;
    /// Reads one order.
    async fn get(&self, payment_request_id: &str) -> Result<Option<Order>, OrderStoreError>;
    /// Applies `t` if the order's current state allows it (one conditional write); answers
    /// the order after the write, or the refusal with the state it was in.
    async fn transition(
        &self,
        payment_request_id: &str,
        t: &Transition,
    ) -> Result<Result<Order, Refused>, OrderStoreError>;
    /// Records bookkeeping; answers the order after it.
    async fn note(&self, payment_request_id: &str, n: &Note) -> Result<Order, OrderStoreError>;
    /// A signal that changes whenever any order changes state.
    fn changes(&self) -> watch::Receiver<u64>;
}

/// Orders in a map behind a lock; the process's lifetime is their lifetime.
#[derive(Debug)]
pub struct MemoryOrderStore {
    orders: Mutex<HashMap<String, Order>>,
    changed: watch::Sender<u64>,
}

impl Default for MemoryOrderStore {
    fn default() -> MemoryOrderStore {
        MemoryOrderStore::new()
    }
}

impl MemoryOrderStore {
    /// An empty store.
    pub fn new() -> MemoryOrderStore {
        MemoryOrderStore {
            orders: Mutex::new(HashMap::new()),
            changed: watch::Sender::new(0),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Order>) -> T) -> T {
        let mut orders = self.orders.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut orders)
    }
}

#[async_trait]
impl OrderStore for MemoryOrderStore {
    async fn create(&self, order: &Order) -> Result<(), OrderStoreError> {
        self.with(|orders| {
            if orders.contains_key(&order.payment_request_id) {
                return Err(OrderStoreError::AlreadyExists(
                    order.payment_request_id.clone(),
                ));
            }
            orders.insert(order.payment_request_id.clone(), order.clone());
            Ok(())
        })
    }

    async fn get(&self, payment_request_id: &str) -> Result<Option<Order>, OrderStoreError> {
        Ok(self.with(|orders| orders.get(payment_request_id).cloned()))
    }

    async fn transition(
        &self,
        payment_request_id: &str,
        t: &Transition,
    ) -> Result<Result<Order, Refused>, OrderStoreError> {
        let outcome = self.with(|orders| {
            let order = orders
                .get_mut(payment_request_id)
                .ok_or_else(|| OrderStoreError::NotFound(payment_request_id.to_string()))?;
            Ok(apply(order, t).map(|()| order.clone()))
        })?;
        if outcome.is_ok() {
            self.changed.send_modify(|v| *v = v.wrapping_add(1));
        }
        Ok(outcome)
    }

    async fn note(&self, payment_request_id: &str, n: &Note) -> Result<Order, OrderStoreError> {
        self.with(|orders| {
            let order = orders
                .get_mut(payment_request_id)
                .ok_or_else(|| OrderStoreError::NotFound(payment_request_id.to_string()))?;
            note(order, n);
            Ok(order.clone())
        })
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
