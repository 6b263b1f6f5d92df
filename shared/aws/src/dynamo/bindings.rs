//! Account binding on DynamoDB: the `{prefix}-bindings` table (key `bindingKey`) and the
//! access-tokens table pay reads. Every transition is one read (or two: the record, then the
//! account's counter), the decision of `mpp_core::bindings`, and **one
//! `TransactWriteItems`**: the binding record guarded on the `version` it was decided on, with
//! the access-token items and the account's binding counter in the same transaction. A refused
//! condition is read and decided again (a lost race: the other writer's state decides), at most
//! [`TXN_ATTEMPTS_MAX`](super::TXN_ATTEMPTS_MAX) times.
//!
//! Items (`bindingKey`): `auth#<authId>` the binding; `prepare#<sha256(client, agreement)>` →
//! `authId`, the idempotency key of prepare; `login#<loginId>` a wallet login; `customer#<id>`
//! with `bound`, how many merchants the account is bound to, and `authIds` (SS), which bindings
//! (both changed by the same transaction that binds or cancels); `notify#<id>` an authNotify waiting
//! in the outbox (`auth_notify.rs`), put in the transition's own transaction.

use super::call::{
    call_token, pause, send, unexpected, Effect, Reasons, TxOutcome, CONDITION_FAILED,
};
use super::item::{self, put_opt, s, time_text, Fields, Item};
use super::DynamoStore;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use mpp_core::bindings::*;
use mpp_core::ids::{CustomerId, Secret, SecretHash};
use mpp_core::store::StoreError;
use mpp_core::token_mac::TokenMac;
use std::collections::HashMap;

/// The key attribute of the bindings table.
pub(crate) const BINDING_KEY: &str = "bindingKey";
const VERSION: &str = "version";
const AUTH_ID: &str = "authId";
const BOUND: &str = "bound";
/// The `customer#` item's string set of its BOUND bindings' ids.
const AUTH_IDS: &str = "authIds";

fn auth_key(auth_id: &str) -> Item {
    item::key(BINDING_KEY, &format!("auth#{auth_id}"))
}

fn prepare_item_key(key: &str) -> Item {
    item::key(BINDING_KEY, &format!("prepare#{key}"))
}

fn login_key(login_id: &str) -> Item {
    item::key(BINDING_KEY, &format!("login#{login_id}"))
}

fn customer_key(c: &CustomerId) -> Item {
    item::key(BINDING_KEY, &format!("customer#{}", c.as_str()))
}

fn opt_s(v: &Option<String>) -> Option<AttributeValue> {
    v.as_ref().map(s)
}

fn opt_t(v: Option<DateTime<Utc>>) -> Option<AttributeValue> {
    v.map(|t| s(time_text(t)))
}

/// A binding as an item.
fn auth_item(a: &Authorization) -> Item {
    let c = &a.client;
    let mut it = auth_key(&a.auth_id);
    for (k, v) in [
        (AUTH_ID, s(&a.auth_id)),
        ("fingerprint", s(&a.fingerprint)),
        ("authClientId", s(&c.auth_client_id)),
        ("authClientName", s(&c.auth_client_name)),
        ("authRedirectUrl", s(&c.auth_redirect_url)),
        (
            "scopes",
            AttributeValue::L(c.scopes.iter().map(s).collect()),
        ),
        (item::STATE, s(a.state.as_str())),
        (item::CREATED_AT, s(time_text(a.created_at))),
        ("pageExpiresAt", s(time_text(a.page_expires_at))),
        (VERSION, item::n(a.version)),
    ] {
        it.insert(k.to_string(), v);
    }
    put_opt(
        &mut it,
        "authClientDisplayName",
        opt_s(&c.auth_client_display_name),
    );
    put_opt(&mut it, "authClientLogo", opt_s(&c.auth_client_logo));
    put_opt(
        &mut it,
        "referenceMerchantId",
        opt_s(&c.reference_merchant_id),
    );
    put_opt(
        &mut it,
        "referenceAgreementId",
        opt_s(&c.reference_agreement_id),
    );
    put_opt(&mut it, "authState", opt_s(&c.auth_state));
    put_opt(
        &mut it,
        item::CUSTOMER_ID,
        a.customer_id.as_ref().map(|c| s(c.as_str())),
    );
    put_opt(
        &mut it,
        "codeHash",
        a.code_hash.as_ref().map(|h| s(h.as_str())),
    );
    put_opt(&mut it, "codeExpiresAt", opt_t(a.code_expires_at));
    it.insert("tokenGeneration".into(), item::n(a.token_generation));
    put_opt(&mut it, "decidedAt", opt_t(a.decided_at));
    if let Some(p) = &a.tokens {
        it.insert("accessHash".into(), s(p.access_hash.as_str()));
        it.insert("accessExpiresAt".into(), s(time_text(p.access_expires_at)));
        it.insert("refreshHash".into(), s(p.refresh_hash.as_str()));
        it.insert(
            "refreshExpiresAt".into(),
            s(time_text(p.refresh_expires_at)),
        );
        it.insert("issuedAt".into(), s(time_text(p.issued_at)));
        put_opt(
            &mut it,
            "issuedFor",
            p.issued_for.as_ref().map(|h| s(h.as_str())),
        );
    }
    it
}

/// A binding from its item.
fn auth_from(it: &Item) -> Result<Authorization, StoreError> {
    let f = Fields::new(it, "authorization");
    let o = |name: &str| -> Result<Option<String>, StoreError> {
        Ok(f.opt_s(name)?.map(str::to_string))
    };
    let scopes = match f.opt("scopes") {
        Some(AttributeValue::L(l)) => l
            .iter()
            .map(|v| match v {
                AttributeValue::S(x) => Ok(x.clone()),
                _ => Err(f.corrupt("scopes", "not a list of strings")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(f.corrupt("scopes", "not a list")),
    };
    let state = AuthorizationState::parse(f.s(item::STATE)?)
        .ok_or_else(|| f.corrupt(item::STATE, "not a binding state"))?;
    let tokens = match f.opt_s("accessHash")? {
        None => None,
        Some(access) => Some(TokenPair {
            access_hash: SecretHash(access.to_string()),
            access_expires_at: f.time("accessExpiresAt")?,
            refresh_hash: SecretHash(f.s("refreshHash")?.to_string()),
            refresh_expires_at: f.time("refreshExpiresAt")?,
            issued_at: f.time("issuedAt")?,
            issued_for: o("issuedFor")?.map(SecretHash),
        }),
    };
    Ok(Authorization {
        auth_id: f.s(AUTH_ID)?.to_string(),
        fingerprint: f.s("fingerprint")?.to_string(),
        client: Client {
            auth_client_id: f.s("authClientId")?.to_string(),
            auth_client_name: f.s("authClientName")?.to_string(),
            auth_client_display_name: o("authClientDisplayName")?,
            auth_client_logo: o("authClientLogo")?,
            reference_merchant_id: o("referenceMerchantId")?,
            reference_agreement_id: o("referenceAgreementId")?,
            auth_redirect_url: f.s("authRedirectUrl")?.to_string(),
            scopes,
            auth_state: o("authState")?,
        },
        state,
        created_at: f.time(item::CREATED_AT)?,
        page_expires_at: f.time("pageExpiresAt")?,
        customer_id: o(item::CUSTOMER_ID)?.map(CustomerId::new),
        code_hash: o("codeHash")?.map(SecretHash),
        code_expires_at: f.opt_time("codeExpiresAt")?,
        // Absent on a record written before generations (issue 18): generation 0.
        token_generation: f.opt_u64("tokenGeneration")?.unwrap_or(0),
        tokens,
        decided_at: f.opt_time("decidedAt")?,
        version: f.u64(VERSION)?,
    })
}

fn login_item(l: &WalletLogin) -> Item {
    let mut it = login_key(&l.login_id);
    it.insert("loginId".into(), s(&l.login_id));
    it.insert(item::CUSTOMER_ID.into(), s(l.customer_id.as_str()));
    it.insert("pinHash".into(), s(&l.pin_hash));
    it.insert("failures".into(), item::n(u64::from(l.failures)));
    it.insert(VERSION.into(), item::n(l.version));
    put_opt(&mut it, "lockedUntil", opt_t(l.locked_until));
    it
}

fn login_from(it: &Item) -> Result<WalletLogin, StoreError> {
    let f = Fields::new(it, "wallet login");
    Ok(WalletLogin {
        login_id: f.s("loginId")?.to_string(),
        customer_id: CustomerId::new(f.s(item::CUSTOMER_ID)?),
        pin_hash: f.s("pinHash")?.to_string(),
        failures: u32::try_from(f.u64("failures")?)
            .map_err(|_| f.corrupt("failures", "too large"))?,
        locked_until: f.opt_time("lockedUntil")?,
        version: f.u64(VERSION)?,
    })
}

fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn values(pairs: Vec<(&str, AttributeValue)>) -> HashMap<String, AttributeValue> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The transaction of one decided write: the binding guarded on its version, then the token
/// items and the counter. Also answers which index each part has, for reading a refusal.
fn transaction(
    tables: &super::TableNames,
    w: &BindingWrite,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let build = super::call::build_err;
    let mut items = Vec::new();
    let mut put = Put::builder()
        .table_name(&tables.bindings)
        .set_item(Some(auth_item(&w.binding)))
        .return_values_on_condition_check_failure(super::call::ALL_OLD);
    put = match w.expect_version {
        None => put
            .condition_expression("attribute_not_exists(#k)")
            .set_expression_attribute_names(Some(names(&[("#k", BINDING_KEY)]))),
        Some(v) => put
            .condition_expression("#v = :v")
            .set_expression_attribute_names(Some(names(&[("#v", VERSION)])))
            .set_expression_attribute_values(Some(values(vec![(":v", item::n(v))]))),
    };
    items.push(
        TransactWriteItem::builder()
            .put(put.build().map_err(build)?)
            .build(),
    );
    if let Some(h) = &w.revoke_token {
        let u = Update::builder()
            .table_name(&tables.access_tokens)
            .set_key(Some(item::key(item::TOKEN_HASH, h.as_str())))
            .update_expression("SET #r = :t")
            .condition_expression("attribute_exists(#h)")
            .set_expression_attribute_names(Some(names(&[
                ("#r", item::REVOKED),
                ("#h", item::TOKEN_HASH),
            ])))
            .set_expression_attribute_values(Some(values(vec![(":t", item::b(true))])))
            .build()
            .map_err(build)?;
        items.push(TransactWriteItem::builder().update(u).build());
    }
    if let Some(t) = &w.put_token {
        let p = Put::builder()
            .table_name(&tables.access_tokens)
            .set_item(Some(item::token_item(t)))
            .condition_expression("attribute_not_exists(#h)")
            .set_expression_attribute_names(Some(names(&[("#h", item::TOKEN_HASH)])))
            .build()
            .map_err(build)?;
        items.push(TransactWriteItem::builder().put(p).build());
    }
    if let Some(c) = &w.counter {
        // The count and the list move together: ADD / DELETE of the id in the string set.
        let (update, condition) = match (c.up, c.expect) {
            (true, 0) => (
                "SET #b = if_not_exists(#b, :zero) + :one ADD #ids :id",
                "attribute_not_exists(#b) OR #b = :e",
            ),
            (true, _) => ("SET #b = #b + :one ADD #ids :id", "#b = :e"),
            (false, _) => ("SET #b = #b - :one DELETE #ids :id", "#b = :e"),
        };
        let mut vals = vec![
            (":one", item::n(1)),
            (":e", item::n(u64::from(c.expect))),
            (":id", AttributeValue::Ss(vec![c.auth_id.clone()])),
        ];
        if update.contains(":zero") {
            vals.push((":zero", item::n(0)));
        }
        let u = Update::builder()
            .table_name(&tables.bindings)
            .set_key(Some(customer_key(&c.customer_id)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[("#b", BOUND), ("#ids", AUTH_IDS)])))
            .set_expression_attribute_values(Some(values(vals)))
            .build()
            .map_err(build)?;
        items.push(TransactWriteItem::builder().update(u).build());
    }
    if let Some(n) = &w.notify {
        items.push(super::auth_notify::outbox_put(&tables.bindings, n)?);
    }
    Ok(items)
}

/// What one attempt of a decided write came to.
enum Applied {
    /// Written.
    Done,
    /// A condition was refused or the transaction lost a race: read and decide again.
    Again,
}

impl DynamoStore {
    async fn get_auth(&self, auth_id: &str) -> Result<Option<Authorization>, StoreError> {
        self.get(&self.tables.bindings, auth_key(auth_id))
            .await?
            .as_ref()
            .map(auth_from)
            .transpose()
    }

    async fn named(&self, secret: &Secret) -> Result<Option<Authorization>, StoreError> {
        match auth_id_of(secret.expose()) {
            Some(id) => self.get_auth(id).await,
            None => Ok(None),
        }
    }

    async fn counter(&self, customer: Option<&CustomerId>) -> Result<u32, StoreError> {
        let Some(c) = customer else { return Ok(0) };
        let got = self.get(&self.tables.bindings, customer_key(c)).await?;
        let n = got
            .as_ref()
            .map(|it| Fields::new(it, "binding counter").opt_u64(BOUND))
            .transpose()?
            .flatten()
            .unwrap_or(0);
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Runs one decided write as one transaction. A transaction that only lost a race
    /// (`TransactionConflict`) or was throttled runs again with the same items and token
    /// (`transact_retrying`, bounded); a refused condition means the state moved: the caller
    /// reads and decides again.
    async fn apply(&self, w: &BindingWrite, attempt: u32) -> Result<Applied, StoreError> {
        let items = transaction(&self.tables, w)?;
        let token = call_token(&format!("binding-{attempt}"));
        match self.transact_retrying(items, &token).await? {
            TxOutcome::Done => Ok(Applied::Done),
            TxOutcome::Cancelled(reasons) => {
                if reasons.iter().any(|x| x.code == CONDITION_FAILED) {
                    return Ok(Applied::Again);
                }
                Err(StoreError::Unavailable(
                    format!(
                        "binding transaction cancelled: {}",
                        Reasons(&reasons).summary()
                    )
                    .into(),
                ))
            }
        }
    }

    /// Read → decide → write, again on a refused condition, at most `TXN_ATTEMPTS_MAX` times.
    async fn decide_loop<T, R, Fut>(&self, mut read_decide: R) -> Result<T, StoreError>
    where
        R: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Decision<T>, StoreError>>,
    {
        for attempt in 0..super::TXN_ATTEMPTS_MAX {
            if attempt > 0 {
                pause(attempt).await;
            }
            match read_decide().await? {
                Decision::Answer(a) => return Ok(a),
                Decision::Write(w, a) => match self.apply(&w, attempt).await? {
                    Applied::Done => return Ok(a),
                    Applied::Again => continue,
                },
            }
        }
        Err(StoreError::Contention(super::TXN_ATTEMPTS_MAX))
    }
}

#[async_trait]
impl PrepareStore for DynamoStore {
    async fn prepare(&self, new: &Authorization) -> Result<PrepareOutcome, StoreError> {
        let key = prepare_key(&new.client);
        for attempt in 0..super::TXN_ATTEMPTS_MAX {
            if attempt > 0 {
                pause(attempt).await;
            }
            let existing = match &key {
                None => None,
                Some(k) => match self.get(&self.tables.bindings, prepare_item_key(k)).await? {
                    None => None,
                    Some(it) => {
                        let id = Fields::new(&it, "prepare key").s(AUTH_ID)?.to_string();
                        Some(self.get_auth(&id).await?.ok_or_else(|| {
                            StoreError::Corrupt("prepare key without its authorization".into())
                        })?)
                    }
                },
            };
            let (w, answer) = match decide_prepare(new, existing) {
                Decision::Answer(a) => return Ok(a),
                Decision::Write(w, a) => (w, a),
            };
            let mut items = transaction(&self.tables, &w)?;
            if let Some(k) = &key {
                let mut it = prepare_item_key(k);
                it.insert(AUTH_ID.into(), s(&new.auth_id));
                let p = Put::builder()
                    .table_name(&self.tables.bindings)
                    .set_item(Some(it))
                    .condition_expression("attribute_not_exists(#k)")
                    .set_expression_attribute_names(Some(names(&[("#k", BINDING_KEY)])))
                    .build()
                    .map_err(super::call::build_err)?;
                items.push(TransactWriteItem::builder().put(p).build());
            }
            match self
                .transact_retrying(items, &call_token("prepare"))
                .await?
            {
                TxOutcome::Done => return Ok(answer),
                // Another prepare of the same key won: read it and answer from it.
                TxOutcome::Cancelled(_) => continue,
            }
        }
        Err(StoreError::Contention(super::TXN_ATTEMPTS_MAX))
    }
}

#[async_trait]
impl AuthorizationPageStore for DynamoStore {
    async fn authorization(&self, auth_id: &str) -> Result<Option<Authorization>, StoreError> {
        self.get_auth(auth_id).await
    }

    async fn login(&self, login_id: &str) -> Result<Option<WalletLogin>, StoreError> {
        self.get(&self.tables.bindings, login_key(login_id))
            .await?
            .as_ref()
            .map(login_from)
            .transpose()
    }

    async fn bound_count(&self, customer_id: &CustomerId) -> Result<u32, StoreError> {
        self.counter(Some(customer_id)).await
    }

    async fn put_login(
        &self,
        login: &WalletLogin,
        expect_version: u64,
    ) -> Result<bool, StoreError> {
        let req = self
            .client
            .put_item()
            .table_name(&self.tables.bindings)
            .set_item(Some(login_item(login)))
            .condition_expression("#v = :v")
            .set_expression_attribute_names(Some(names(&[("#v", VERSION)])))
            .set_expression_attribute_values(Some(values(vec![(":v", item::n(expect_version))])))
            .return_values_on_condition_check_failure(super::call::ALL_OLD);
        match send(Effect::Write, "PutItem", || req.clone().send()).await? {
            Ok(_) => Ok(true),
            // Refused: another check wrote first, or this very write was applied and its answer
            // lost, and the retry met it. Our own write is recognised as written.
            Err(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e)) => {
                let ours = e
                    .item()
                    .map(|old| login_from(old).map(|l| l == *login))
                    .transpose()?
                    .unwrap_or(false);
                Ok(ours)
            }
            Err(e) => Err(unexpected("PutItem", e)),
        }
    }

    async fn decide(
        &self,
        auth_id: &str,
        choice: &PageChoice,
        now: DateTime<Utc>,
    ) -> Result<PageOutcome, StoreError> {
        self.decide_loop(|| async {
            let current = self.get_auth(auth_id).await?;
            Ok(decide_page(current, choice, now))
        })
        .await
    }
}

#[async_trait]
impl TokenStore for DynamoStore {
    async fn exchange_code(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
    ) -> Result<TokenOutcome, StoreError> {
        self.decide_loop(|| async {
            let current = self.named(&intent.presented).await?;
            let bound = self
                .counter(current.as_ref().and_then(|a| a.customer_id.as_ref()))
                .await?;
            let derived = derive_needed(mac, current.as_ref(), false).await?;
            Ok(decide_exchange(intent, current, bound, &derived))
        })
        .await
    }

    async fn refresh_token(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
    ) -> Result<TokenOutcome, StoreError> {
        self.decide_loop(|| async {
            let current = self.named(&intent.presented).await?;
            let derived = derive_needed(mac, current.as_ref(), true).await?;
            Ok(decide_refresh(intent, current, &derived))
        })
        .await
    }
}

#[async_trait]
impl CancelTokenStore for DynamoStore {
    async fn cancel_token(
        &self,
        token: &Secret,
        now: DateTime<Utc>,
    ) -> Result<CancelTokenOutcome, StoreError> {
        let hash = token.hash();
        if auth_id_of(token.expose()).is_some() {
            let found = self.named(token).await?;
            if found.is_some() {
                return self
                    .decide_loop(|| async {
                        let current = self.named(token).await?;
                        let bound = self
                            .counter(current.as_ref().and_then(|a| a.customer_id.as_ref()))
                            .await?;
                        Ok(decide_cancel_token(&hash, current, bound, now))
                    })
                    .await;
            }
        }
        // Not a binding's token: a seeded one is revoked by its item.
        let got = self
            .get(
                &self.tables.access_tokens,
                item::key(item::TOKEN_HASH, hash.as_str()),
            )
            .await?;
        let found = got.as_ref().map(item::token_from).transpose()?;
        match decide_revoke_plain(found.as_ref()) {
            Err(r) => Ok(CancelTokenOutcome::Refused(r)),
            Ok(false) => Ok(CancelTokenOutcome::Cancelled),
            Ok(true) => {
                let req = self
                    .client
                    .update_item()
                    .table_name(&self.tables.access_tokens)
                    .set_key(Some(item::key(item::TOKEN_HASH, hash.as_str())))
                    .update_expression("SET #r = :t")
                    .condition_expression("attribute_exists(#h)")
                    .set_expression_attribute_names(Some(names(&[
                        ("#r", item::REVOKED),
                        ("#h", item::TOKEN_HASH),
                    ])))
                    .set_expression_attribute_values(Some(values(vec![(":t", item::b(true))])));
                match send(Effect::Write, "UpdateItem", || req.clone().send()).await? {
                    Ok(_) => Ok(CancelTokenOutcome::Cancelled),
                    Err(UpdateItemError::ConditionalCheckFailedException(_)) => {
                        Ok(CancelTokenOutcome::Refused(TokenRefusal::InvalidToken))
                    }
                    Err(e) => Err(unexpected("UpdateItem", e)),
                }
            }
        }
    }
}

#[async_trait]
impl UnbindingStore for DynamoStore {
    async fn customer_bindings(
        &self,
        customer_id: &CustomerId,
    ) -> Result<Vec<Authorization>, StoreError> {
        let got = self
            .get(&self.tables.bindings, customer_key(customer_id))
            .await?;
        let ids: Vec<String> = match got.as_ref().and_then(|it| it.get(AUTH_IDS)) {
            None => Vec::new(),
            Some(AttributeValue::Ss(ids)) => ids.clone(),
            Some(_) => {
                return Err(StoreError::Corrupt(
                    "binding counter: authIds is not a string set".into(),
                ))
            }
        };
        // One GetItem per binding, at most CUSTOMER_BINDINGS_MAX (the cap per account is lower).
        let mut found = Vec::new();
        for id in ids.iter().take(CUSTOMER_BINDINGS_MAX) {
            // A binding cancelled between the two reads is left out, as it would be a moment
            // later.
            if let Some(a) = self.get_auth(id).await? {
                if a.state == AuthorizationState::Bound
                    && a.customer_id.as_ref() == Some(customer_id)
                {
                    found.push(a);
                }
            }
        }
        found.sort_by(|a, b| (a.created_at, &a.auth_id).cmp(&(b.created_at, &b.auth_id)));
        Ok(found)
    }

    async fn unbind(&self, intent: &UnbindIntent) -> Result<UnbindOutcome, StoreError> {
        self.decide_loop(|| async {
            let current = self.get_auth(&intent.auth_id).await?;
            let bound = self
                .counter(current.as_ref().and_then(|a| a.customer_id.as_ref()))
                .await?;
            Ok(decide_unbind(intent, current, bound))
        })
        .await
    }
}

#[async_trait]
impl LoginAdmin for DynamoStore {
    async fn put_wallet_login(&self, login: &WalletLogin) -> Result<(), StoreError> {
        let req = self
            .client
            .put_item()
            .table_name(&self.tables.bindings)
            .set_item(Some(login_item(login)));
        match send(Effect::Write, "PutItem", || req.clone().send()).await? {
            Ok(_) => Ok(()),
            Err(e) => Err(unexpected("PutItem", e)),
        }
    }
}
