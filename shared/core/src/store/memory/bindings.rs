//! Account binding on the in-memory store: every decision of `store::bindings` applied under the
//! store's one lock, so each transition is atomic exactly as the DynamoDB transaction is.

use super::super::bindings::*;
use super::{MemoryStore, State};
use crate::ids::{CustomerId, Secret, SecretHash};
use crate::store::auth_notify::{AuthNotification, NotifyBody, OutboxEntry};
use crate::store::{Delivery, DeliveryStore, StoreError};
use crate::token_mac::TokenMac;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// The binding part of the memory store's state.
#[derive(Default)]
pub(super) struct BindingState {
    authorizations: HashMap<String, Authorization>,
    prepare_keys: HashMap<String, String>,
    logins: HashMap<String, WalletLogin>,
    /// authNotify's outbox, by notification id.
    outbox: HashMap<String, OutboxEntry>,
    /// The outbox's change feed (the bindings table's stream INSERTs of `notify#` items).
    outbox_feed: Option<tokio::sync::mpsc::UnboundedSender<AuthNotification>>,
}

impl State {
    fn bound_count(&self, customer: &CustomerId) -> u32 {
        let n = self
            .bindings
            .authorizations
            .values()
            .filter(|a| {
                a.state == AuthorizationState::Bound && a.customer_id.as_ref() == Some(customer)
            })
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    fn named(&self, secret: &Secret) -> Option<Authorization> {
        auth_id_of(secret.expose()).and_then(|id| self.bindings.authorizations.get(id).cloned())
    }

    /// Applies one decided write; the lock is held, so the version read is the version here.
    fn apply(&mut self, w: &BindingWrite) -> Result<(), StoreError> {
        let current = self
            .bindings
            .authorizations
            .get(&w.binding.auth_id)
            .map(|a| a.version);
        if current != w.expect_version {
            return Err(StoreError::Corrupt(format!(
                "authorization {} changed under the lock",
                w.binding.auth_id
            )));
        }
        if let Some(h) = &w.revoke_token {
            if let Some(t) = self.tokens.get_mut(h) {
                t.revoked = true;
            }
        }
        if let Some(n) = &w.notify {
            if self.bindings.outbox.contains_key(&n.notification_id) {
                return Err(StoreError::Corrupt(format!(
                    "authNotify {} written twice",
                    n.notification_id
                )));
            }
        }
        if let Some(t) = &w.put_token {
            self.tokens.insert(t.token_hash.clone(), t.clone());
        }
        if let Some(n) = &w.notify {
            self.bindings.outbox.insert(
                n.notification_id.clone(),
                OutboxEntry {
                    notification: n.clone(),
                    delivery: Delivery::default(),
                },
            );
            if let Some(feed) = &self.bindings.outbox_feed {
                // A closed receiver means nobody listens any more: nothing to tell.
                let _ = feed.send(n.clone());
            }
        }
        self.bindings
            .authorizations
            .insert(w.binding.auth_id.clone(), w.binding.clone());
        Ok(())
    }
}

#[async_trait]
impl PrepareStore for MemoryStore {
    async fn prepare(&self, new: &Authorization) -> Result<PrepareOutcome, StoreError> {
        let mut s = self.lock();
        let key = prepare_key(&new.client);
        let existing = key
            .as_ref()
            .and_then(|k| s.bindings.prepare_keys.get(k))
            .and_then(|id| s.bindings.authorizations.get(id))
            .cloned();
        match decide_prepare(new, existing) {
            Decision::Answer(a) => Ok(a),
            Decision::Write(w, a) => {
                s.apply(&w)?;
                if let Some(k) = key {
                    s.bindings.prepare_keys.insert(k, new.auth_id.clone());
                }
                Ok(a)
            }
        }
    }
}

#[async_trait]
impl AuthorizationPageStore for MemoryStore {
    async fn authorization(&self, auth_id: &str) -> Result<Option<Authorization>, StoreError> {
        Ok(self.lock().bindings.authorizations.get(auth_id).cloned())
    }

    async fn login(&self, login_id: &str) -> Result<Option<WalletLogin>, StoreError> {
        Ok(self.lock().bindings.logins.get(login_id).cloned())
    }

    async fn bound_count(&self, customer_id: &CustomerId) -> Result<u32, StoreError> {
        Ok(self.lock().bound_count(customer_id))
    }

    async fn put_login(
        &self,
        login: &WalletLogin,
        expect_version: u64,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        match s.bindings.logins.get(&login.login_id) {
            // This very write again (a retry after a lost answer): it is in place.
            Some(l) if l == login => Ok(true),
            Some(l) if l.version == expect_version => {
                s.bindings
                    .logins
                    .insert(login.login_id.clone(), login.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn decide(
        &self,
        auth_id: &str,
        choice: &PageChoice,
        now: DateTime<Utc>,
    ) -> Result<PageOutcome, StoreError> {
        let mut s = self.lock();
        let current = s.bindings.authorizations.get(auth_id).cloned();
        match decide_page(current, choice, now) {
            Decision::Answer(a) => Ok(a),
            Decision::Write(w, a) => {
                s.apply(&w)?;
                Ok(a)
            }
        }
    }
}

/// How often a memory-store token decision reads again when the record moved while its pairs
/// were being derived (the lock is not held across the key's await). Two writers of one binding
/// at once are rare; the bound keeps a pathological race finite.
const DERIVE_ROUNDS_MAX: u32 = 8;

impl MemoryStore {
    /// Read → derive (lock released: the key may be remote) → read again and decide under the
    /// lock if the record is as it was, else again, at most [`DERIVE_ROUNDS_MAX`] times.
    async fn token_decision(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
        refresh: bool,
    ) -> Result<TokenOutcome, StoreError> {
        for _ in 0..DERIVE_ROUNDS_MAX {
            let read = self.lock().named(&intent.presented);
            let derived = derive_needed(mac, read.as_ref(), refresh).await?;
            let mut s = self.lock();
            let current = s.named(&intent.presented);
            if current.as_ref().map(|a| a.version) != read.as_ref().map(|a| a.version) {
                continue;
            }
            let decision = if refresh {
                decide_refresh(intent, current, &derived)
            } else {
                let bound = current
                    .as_ref()
                    .and_then(|a| a.customer_id.as_ref())
                    .map(|c| s.bound_count(c))
                    .unwrap_or(0);
                decide_exchange(intent, current, bound, &derived)
            };
            return match decision {
                Decision::Answer(a) => Ok(a),
                Decision::Write(w, a) => {
                    s.apply(&w)?;
                    Ok(a)
                }
            };
        }
        Err(StoreError::Contention(DERIVE_ROUNDS_MAX))
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn exchange_code(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
    ) -> Result<TokenOutcome, StoreError> {
        self.token_decision(intent, mac, false).await
    }

    async fn refresh_token(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
    ) -> Result<TokenOutcome, StoreError> {
        self.token_decision(intent, mac, true).await
    }
}

#[async_trait]
impl CancelTokenStore for MemoryStore {
    async fn cancel_token(
        &self,
        token: &Secret,
        now: DateTime<Utc>,
    ) -> Result<CancelTokenOutcome, StoreError> {
        let mut s = self.lock();
        let hash: SecretHash = token.hash();
        let Some(current) = s.named(token) else {
            // Not a binding's token: a seeded one is revoked by its item.
            return Ok(match decide_revoke_plain(s.tokens.get(&hash)) {
                Ok(live) => {
                    if live {
                        if let Some(t) = s.tokens.get_mut(&hash) {
                            t.revoked = true;
                        }
                    }
                    CancelTokenOutcome::Cancelled
                }
                Err(r) => CancelTokenOutcome::Refused(r),
            });
        };
        let bound = current
            .customer_id
            .as_ref()
            .map(|c| s.bound_count(c))
            .unwrap_or(0);
        match decide_cancel_token(&hash, Some(current), bound, now) {
            Decision::Answer(a) => Ok(a),
            Decision::Write(w, a) => {
                s.apply(&w)?;
                Ok(a)
            }
        }
    }
}

#[async_trait]
impl UnbindingStore for MemoryStore {
    async fn customer_bindings(
        &self,
        customer_id: &CustomerId,
    ) -> Result<Vec<Authorization>, StoreError> {
        let s = self.lock();
        let mut found: Vec<Authorization> = s
            .bindings
            .authorizations
            .values()
            .filter(|a| {
                a.state == AuthorizationState::Bound && a.customer_id.as_ref() == Some(customer_id)
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.auth_id).cmp(&(b.created_at, &b.auth_id)));
        found.truncate(CUSTOMER_BINDINGS_MAX);
        Ok(found)
    }

    async fn unbind(&self, intent: &UnbindIntent) -> Result<UnbindOutcome, StoreError> {
        let mut s = self.lock();
        let current = s.bindings.authorizations.get(&intent.auth_id).cloned();
        let bound = current
            .as_ref()
            .and_then(|a| a.customer_id.as_ref())
            .map(|c| s.bound_count(c))
            .unwrap_or(0);
        match decide_unbind(intent, current, bound) {
            Decision::Answer(a) => Ok(a),
            Decision::Write(w, a) => {
                s.apply(&w)?;
                Ok(a)
            }
        }
    }
}

#[async_trait]
impl LoginAdmin for MemoryStore {
    async fn put_wallet_login(&self, login: &WalletLogin) -> Result<(), StoreError> {
        self.lock()
            .bindings
            .logins
            .insert(login.login_id.clone(), login.clone());
        Ok(())
    }
}

impl MemoryStore {
    /// authNotify's change feed: every outbox item a binding transition writes, in commit order
    /// (the in-memory counterpart of the bindings table's stream INSERTs of `notify#` items).
    /// One subscriber; a later call replaces it.
    pub fn subscribe_auth_notify(&self) -> tokio::sync::mpsc::UnboundedReceiver<AuthNotification> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.lock().bindings.outbox_feed = Some(tx);
        rx
    }

    /// The outbox item of a notification (tests, operators).
    pub fn outbox_entry(&self, notification_id: &str) -> Option<OutboxEntry> {
        self.lock().bindings.outbox.get(notification_id).cloned()
    }
}

/// authNotify's delivery bookkeeping on the memory store's outbox: the [`DeliveryStore`] the
/// shared delivery code (`flows::notify::attempt`) keeps its state in, keyed by notification id.
#[derive(Clone)]
pub struct AuthNotifyDeliveries(pub Arc<MemoryStore>);

impl AuthNotifyDeliveries {
    fn update(&self, id: &str, f: impl FnOnce(&mut OutboxEntry)) -> Result<(), StoreError> {
        let mut s = self.0.lock();
        let entry = s
            .bindings
            .outbox
            .get_mut(id)
            .ok_or_else(|| StoreError::Corrupt(format!("no authNotify {id:.80}")))?;
        f(entry);
        Ok(())
    }
}

#[async_trait]
impl DeliveryStore for AuthNotifyDeliveries {
    async fn delivery(&self, notification_id: &str) -> Result<Delivery, StoreError> {
        Ok(self
            .0
            .lock()
            .bindings
            .outbox
            .get(notification_id)
            .map(|e| e.delivery.clone())
            .unwrap_or_default())
    }

    async fn record_attempt(
        &self,
        notification_id: &str,
        attempt: u32,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.update(notification_id, |e| {
            e.delivery.attempts = attempt;
            match error {
                None => {
                    e.delivery.delivered_at = Some(at);
                    e.delivery.last_error = None;
                    // Acknowledged: a code it carried leaves the store (a token body holds
                    // no token: nothing to remove).
                    match &mut e.notification.body {
                        NotifyBody::Exact(body) => body.clear(),
                        NotifyBody::Derived(_) => {}
                    }
                }
                Some(err) => e.delivery.last_error = Some(err.to_string()),
            }
        })
    }

    async fn record_dead_letter(
        &self,
        notification_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.update(notification_id, |e| e.delivery.dead_lettered_at = Some(at))
    }
}
