//! Account binding on the in-memory store: every decision of `store::bindings` applied under the
//! store's one lock, so each transition is atomic exactly as the DynamoDB transaction is.

use super::super::bindings::*;
use super::{MemoryStore, State};
use crate::ids::{CustomerId, Secret, SecretHash};
use crate::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The binding part of the memory store's state.
#[derive(Default)]
pub(super) struct BindingState {
    authorizations: HashMap<String, Authorization>,
    prepare_keys: HashMap<String, String>,
    logins: HashMap<String, WalletLogin>,
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
        if let Some(t) = &w.put_token {
            self.tokens.insert(t.token_hash.clone(), t.clone());
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

#[async_trait]
impl TokenStore for MemoryStore {
    async fn exchange_code(&self, intent: &TokenIntent) -> Result<TokenOutcome, StoreError> {
        let mut s = self.lock();
        let current = s.named(&intent.presented);
        let bound = current
            .as_ref()
            .and_then(|a| a.customer_id.as_ref())
            .map(|c| s.bound_count(c))
            .unwrap_or(0);
        match decide_exchange(intent, current, bound) {
            Decision::Answer(a) => Ok(a),
            Decision::Write(w, a) => {
                s.apply(&w)?;
                Ok(a)
            }
        }
    }

    async fn refresh_token(&self, intent: &TokenIntent) -> Result<TokenOutcome, StoreError> {
        let mut s = self.lock();
        let current = s.named(&intent.presented);
        match decide_refresh(intent, current) {
            Decision::Answer(a) => Ok(a),
            Decision::Write(w, a) => {
                s.apply(&w)?;
                Ok(a)
            }
        }
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
impl LoginAdmin for MemoryStore {
    async fn put_wallet_login(&self, login: &WalletLogin) -> Result<(), StoreError> {
        self.lock()
            .bindings
            .logins
            .insert(login.login_id.clone(), login.clone());
        Ok(())
    }
}
