//! authNotify (MPP → Alipay+, `POST /aps/api/v1/authorizations/authNotify`,
//! `account-binding.md` §5): its wire types and its outbox. The outbox holds the notification a
//! binding transition owes Alipay+, written **in the same atomic write as the transition** and
//! delivered afterwards from the store's change feed by the same machinery as notifyPayment
//! (`flows::notify`, shared with notifyPayment: this file has no flow of its own).
//!
//! Why an outbox and not the binding record itself: the notification must exist exactly when the
//! transition does (never one without the other), and its delivery state (attempts, the S) needs
//! a home of its own. What the item holds depends on the type:
//!
//! - `TOKEN_CREATED`, `TOKEN_CANCELED`: **no token**. Tokens are derived (`crate::token_mac`), so
//!   the item holds what re-derivation needs ([`TokenBody`]: the body without `accessToken`, the
//!   binding's token generation, the token's hash) and the sender rebuilds the body at send time
//!   with the token key (KMS `GenerateMac` in AWS). The same inputs give the same bytes, so every
//!   attempt — retries, re-queued jobs, a dead letter replayed — sends an identical body; a
//!   token whose hash is not the recorded one (another key) is never sent.
//! - `AUTHCODE_CREATED`: the authCode is random, not derivable, so the item holds the exact body
//!   (short-lived: the code is single-use, valid [`super::CODE_VALIDITY`], stored in
//!   the binding only as a hash) and the body is removed once Alipay+ acknowledges it. Items
//!   written before token bodies were derived hold an exact body too and are delivered as they
//!   are ([`NotifyBody::Exact`]).
//!
//! A notification's id is `authId.TYPE.version` (the binding's version after the transition):
//! a re-run of the same transition writes the same id, which the store refuses to write twice,
//! so a notification is never created twice.

use super::{Authorization, AuthorizationNotifyType};
use crate::ids::Secret;
use crate::store::memory::MemoryStore;
use crate::store::{Delivery, DeliveryStore, StoreError};
use crate::token_mac::{derive_token, TokenMac, TokenMacError, ACCESS_LABEL};
use crate::wire::{to_body, ParamIllegal, ResultObject, Text, Validate};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

// ---- wire ---------------------------------------------------------------------------------------

/// What the MPP tells Alipay+ about a binding.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthNotifyRequest {
    /// What happened.
    pub authorization_notify_type: AuthorizationNotifyType,
    /// The client that asked for the binding (prepare's `authClientId`).
    pub auth_client_id: Text<64>,
    /// prepare's `referenceMerchantId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_merchant_id: Option<Text<32>>,
    /// prepare's `referenceAgreementId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_agreement_id: Option<Text<64>>,
    /// `AUTHCODE_CREATED`: the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<Text<128>>,
    /// `AUTHCODE_CREATED`: prepare's `authState`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_state: Option<Text<256>>,
    /// The token types: the access token concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<Text<128>>,
    /// The wallet user, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text<64>>,
    /// "In certain cases" (we do not send it: the login id is not the merchant's business).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_login_id: Option<Text<64>>,
}

impl fmt::Debug for AuthNotifyRequest {
    /// Codes and tokens never print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthNotifyRequest")
            .field("authorization_notify_type", &self.authorization_notify_type)
            .field("auth_client_id", &self.auth_client_id)
            .finish_non_exhaustive()
    }
}

impl Validate for AuthNotifyRequest {
    /// The type's own fields are there: a code for `AUTHCODE_CREATED`, a token otherwise.
    fn validate(&self) -> Result<(), ParamIllegal> {
        match self.authorization_notify_type {
            AuthorizationNotifyType::AuthcodeCreated if self.auth_code.is_none() => Err(
                ParamIllegal::new("authCode", "is required with AUTHCODE_CREATED"),
            ),
            AuthorizationNotifyType::TokenCreated | AuthorizationNotifyType::TokenCanceled
                if self.access_token.is_none() =>
            {
                Err(ParamIllegal::new(
                    "accessToken",
                    "is required with TOKEN_CREATED and TOKEN_CANCELED",
                ))
            }
            AuthorizationNotifyType::AuthcodeCreated
            | AuthorizationNotifyType::TokenCreated
            | AuthorizationNotifyType::TokenCanceled => Ok(()),
        }
    }
}

/// Alipay+'s answer: anything but S means send again later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthNotifyResponse {
    /// The outcome.
    pub result: ResultObject,
    /// The ACQP of the binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// Our id at Alipay+.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psp_id: Option<Text<64>>,
}

impl Validate for AuthNotifyResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

// ---- edge ---------------------------------------------------------------------------------------

// authNotify received (the local hub plays Alipay+): no payment to name.
crate::edge::unkeyed_and_answered! {
    AuthNotifyRequest => AuthNotifyResponse,
}

// ---- port and decision: the outbox item a transition owes ---------------------------------------

/// The prefix of an outbox item's key in the bindings table (`notify#<id>`), and of nothing
/// else: the stream consumer (and the Lambda's event filter) select outbox items by it.
pub const OUTBOX_KEY_PREFIX: &str = "notify#";

/// One authNotify to deliver.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthNotification {
    /// `authId.TYPE.version`: the idempotency key of the notification.
    pub notification_id: String,
    /// The binding.
    pub auth_id: String,
    /// What happened.
    pub notify_type: AuthorizationNotifyType,
    /// What the body is sent from: the exact body (a code), or what rebuilds it (a token).
    /// Never logged (`Debug` leaves it out).
    pub body: NotifyBody,
    /// When the transition wrote it.
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for AuthNotification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthNotification")
            .field("notification_id", &self.notification_id)
            .field("notify_type", &self.notify_type)
            .finish_non_exhaustive()
    }
}

/// What an outbox item (and a queued job) holds to send.
#[derive(Clone, PartialEq, Eq)]
pub enum NotifyBody {
    /// The body byte for byte: `AUTHCODE_CREATED` (a random code cannot be re-derived), and
    /// items written before token bodies were derived. `""` once delivered (removed).
    Exact(String),
    /// A token type's body, rebuilt at send time with the token key: nothing secret at rest.
    Derived(TokenBody),
}

impl fmt::Debug for NotifyBody {
    /// An exact body may hold a code: only its length prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotifyBody::Exact(body) => write!(f, "Exact(<{} bytes>)", body.len()),
            NotifyBody::Derived(t) => f.debug_tuple("Derived").field(t).finish(),
        }
    }
}

impl NotifyBody {
    /// The bytes to send: the exact body as it is, or the derived one rebuilt ([`TokenBody::render`]).
    pub async fn render(&self, mac: &dyn TokenMac) -> Result<String, BodyError> {
        match self {
            NotifyBody::Exact(body) => Ok(body.clone()),
            NotifyBody::Derived(t) => t.render(mac).await,
        }
    }
}

/// What rebuilds a `TOKEN_CREATED` / `TOKEN_CANCELED` body: everything but the access token, and
/// what names the token (binding, generation) and checks it (its hash, as the binding keeps it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenBody {
    /// The binding the token belongs to.
    pub auth_id: String,
    /// The binding's token generation the token was derived at (`crate::token_mac`).
    pub token_generation: u64,
    /// SHA-256 (hex) of the access token: the rebuilt token must hash to it.
    pub access_hash: String,
    /// The authNotify body without `accessToken` (the JSON the transition built).
    pub template: String,
}

impl fmt::Debug for TokenBody {
    /// The template holds the customer id: left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBody")
            .field("token_generation", &self.token_generation)
            .finish_non_exhaustive()
    }
}

/// Why a body could not be built at send time. Every one fails that attempt only: it is retried
/// on the notification schedule and dead-lettered at the bound, never sent without its token.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The token key did not answer (KMS `GenerateMac` unavailable, throttled) or is not
    /// configured.
    #[error(transparent)]
    Key(#[from] TokenMacError),
    /// The re-derived token does not hash to the recorded one (a different key is configured).
    #[error("the re-derived access token is not the one notified (another token key?)")]
    NotTheToken,
    /// The stored template does not read as an authNotify body.
    #[error("the stored authNotify template does not read: {0}")]
    Template(String),
}

impl TokenBody {
    /// The body: the template with the access token of [`Self::token_generation`] re-derived
    /// and checked against [`Self::access_hash`]. Deterministic: the same bytes every time.
    pub async fn render(&self, mac: &dyn TokenMac) -> Result<String, BodyError> {
        let mut body: AuthNotifyRequest =
            serde_json::from_str(&self.template).map_err(|e| BodyError::Template(e.to_string()))?;
        let token = derive_token(mac, &self.auth_id, self.token_generation, ACCESS_LABEL).await?;
        if token.hash().as_str() != self.access_hash {
            return Err(BodyError::NotTheToken);
        }
        body.access_token =
            Some(Text::new(token.expose()).map_err(|e| BodyError::Template(e.to_string()))?);
        String::from_utf8(to_body(&body)).map_err(|e| BodyError::Template(e.to_string()))
    }
}

/// An outbox item: the notification and its delivery bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The notification (an exact body is `""` once delivered: removed from the store).
    pub notification: AuthNotification,
    /// Attempts, last error, delivered / dead-lettered times.
    pub delivery: Delivery,
}

/// The id of the `notify_type` notification of `binding` (as written by the transition).
pub fn notification_id(binding: &Authorization, notify_type: AuthorizationNotifyType) -> String {
    format!(
        "{}.{}.{}",
        binding.auth_id,
        notify_type.as_str(),
        binding.version
    )
}

/// The notification `binding` (the record *after* the transition) owes Alipay+ about `secret`:
/// the plain authCode for `AUTHCODE_CREATED` (kept as the exact body), the access token for the
/// token types (kept as a [`TokenBody`]: `secret` must be the token derived at the binding's
/// `token_generation`, as the exchange and the unbinding make it; only its hash is kept).
/// `None` only for a record whose client fields no longer fit the wire (cannot happen for what
/// prepare accepted; the caller then writes no notification rather than a broken one).
pub fn auth_notification(
    binding: &Authorization,
    notify_type: AuthorizationNotifyType,
    secret: &Secret,
    now: DateTime<Utc>,
) -> Option<AuthNotification> {
    let c = &binding.client;
    let code = match notify_type {
        AuthorizationNotifyType::AuthcodeCreated => true,
        AuthorizationNotifyType::TokenCreated | AuthorizationNotifyType::TokenCanceled => false,
    };
    let request = AuthNotifyRequest {
        authorization_notify_type: notify_type,
        auth_client_id: Text::new(c.auth_client_id.as_str()).ok()?,
        reference_merchant_id: opt(&c.reference_merchant_id)?,
        reference_agreement_id: opt(&c.reference_agreement_id)?,
        auth_code: match code {
            true => Some(Text::new(secret.expose()).ok()?),
            false => None,
        },
        auth_state: match code {
            true => opt(&c.auth_state)?,
            false => None,
        },
        // The token types' token is filled in at send time (TokenBody::render).
        access_token: None,
        customer_id: binding
            .customer_id
            .as_ref()
            .map(|id| Text::new(id.as_str()))
            .transpose()
            .ok()?,
        user_login_id: None,
    };
    let json = String::from_utf8(to_body(&request)).ok()?;
    let body = match code {
        true => NotifyBody::Exact(json),
        false => {
            // The token must fit the wire now, not fail at every send.
            Text::<128>::new(secret.expose()).ok()?;
            NotifyBody::Derived(TokenBody {
                auth_id: binding.auth_id.clone(),
                token_generation: binding.token_generation,
                access_hash: secret.hash().as_str().to_string(),
                template: json,
            })
        }
    };
    Some(AuthNotification {
        notification_id: notification_id(binding, notify_type),
        auth_id: binding.auth_id.clone(),
        notify_type,
        body,
        created_at: now,
    })
}

/// An optional field as wire text (`None` inside: absent; outer `None`: too long).
fn opt<const MAX: usize>(v: &Option<String>) -> Option<Option<Text<MAX>>> {
    v.as_deref().map(Text::new).transpose().ok()
}

/// The parts of a notification id, checked: what an outbox key must look like.
pub fn parse_notification_id(id: &str) -> Result<(&str, AuthorizationNotifyType, u64), StoreError> {
    let bad = || StoreError::Corrupt(format!("not an authNotify id: {id:.80}"));
    let mut parts = id.splitn(3, '.');
    let (Some(auth), Some(kind), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let kind = [
        AuthorizationNotifyType::AuthcodeCreated,
        AuthorizationNotifyType::TokenCreated,
        AuthorizationNotifyType::TokenCanceled,
    ]
    .into_iter()
    .find(|k| k.as_str() == kind)
    .ok_or_else(bad)?;
    Ok((auth, kind, version.parse().map_err(|_| bad())?))
}

// ---- memory store -------------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::bindings::Client;
    use crate::ids::CustomerId;
    use crate::token_mac::{LocalTokenMac, UnconfiguredTokenMac};
    use crate::wire::Validate;

    fn binding() -> Authorization {
        let client = Client {
            auth_client_id: "2188120000000001".into(),
            auth_client_name: "Demo Shop Ltd.".into(),
            auth_client_display_name: None,
            auth_client_logo: None,
            reference_merchant_id: Some("M-1".into()),
            reference_agreement_id: Some("AG-1".into()),
            auth_redirect_url: "https://merchant.example/bound".into(),
            scopes: vec!["AGREEMENT_PAY".into()],
            auth_state: Some("state-7c1".into()),
        };
        let mut b = Authorization::pending(client, "f".into(), Utc::now()).unwrap();
        b.customer_id = Some(CustomerId::new("2160000000000001"));
        b.version = 2;
        b
    }

    #[tokio::test]
    async fn the_body_carries_what_its_type_needs_and_nothing_else() {
        let b = binding();
        let now = Utc::now();
        let mac = LocalTokenMac::new(&[7u8; 32]).unwrap();
        let code = auth_notification(
            &b,
            AuthorizationNotifyType::AuthcodeCreated,
            &Secret::new("CODE-1"),
            now,
        )
        .unwrap();
        let NotifyBody::Exact(code_body) = &code.body else {
            panic!("a code is kept as the exact body")
        };
        let v: serde_json::Value = serde_json::from_str(code_body).unwrap();
        assert_eq!(v["authorizationNotifyType"], "AUTHCODE_CREATED");
        assert_eq!(v["authCode"], "CODE-1");
        assert_eq!(v["authState"], "state-7c1");
        assert!(v.get("accessToken").is_none());
        assert_eq!(v["referenceMerchantId"], "M-1");
        assert_eq!(v["referenceAgreementId"], "AG-1");
        assert_eq!(code.body.render(&mac).await.unwrap(), *code_body);

        let live = derive_token(&mac, &b.auth_id, b.token_generation, ACCESS_LABEL)
            .await
            .unwrap();
        let token =
            auth_notification(&b, AuthorizationNotifyType::TokenCreated, &live, now).unwrap();
        let NotifyBody::Derived(kept) = &token.body else {
            panic!("a token body is rebuilt at send time")
        };
        assert!(
            !serde_json::to_string(kept).unwrap().contains(live.expose()),
            "no token at rest"
        );
        let sent = token.body.render(&mac).await.unwrap();
        // The exact bytes: the fields in the wire type's order, the token in its place.
        assert_eq!(
            sent,
            format!(
                r#"{{"authorizationNotifyType":"TOKEN_CREATED","authClientId":"2188120000000001","referenceMerchantId":"M-1","referenceAgreementId":"AG-1","accessToken":"{}","customerId":"2160000000000001"}}"#,
                live.expose()
            )
        );
        assert_eq!(
            token.body.render(&mac).await.unwrap(),
            sent,
            "same bytes again"
        );
        let parsed: AuthNotifyRequest = serde_json::from_str(&sent).unwrap();
        parsed.validate().unwrap();
        assert_eq!(
            token.notification_id,
            format!("{}.TOKEN_CREATED.2", b.auth_id)
        );
        let (auth, kind, version) = parse_notification_id(&token.notification_id).unwrap();
        assert_eq!(
            (auth, kind, version),
            (b.auth_id.as_str(), AuthorizationNotifyType::TokenCreated, 2)
        );
        assert!(parse_notification_id("x.NOPE.1").is_err());
        assert!(
            !format!("{token:?}").contains(live.expose()) && !format!("{kept:?}").contains("2160"),
            "Debug prints neither token nor customer"
        );
    }

    #[tokio::test]
    async fn a_token_body_is_never_built_without_its_token() {
        let b = binding();
        let mac = LocalTokenMac::new(&[7u8; 32]).unwrap();
        let live = derive_token(&mac, &b.auth_id, 0, ACCESS_LABEL)
            .await
            .unwrap();
        let n = auth_notification(
            &b,
            AuthorizationNotifyType::TokenCanceled,
            &live,
            Utc::now(),
        )
        .unwrap();
        let other = LocalTokenMac::new(&[8u8; 32]).unwrap();
        assert!(matches!(
            n.body.render(&other).await,
            Err(BodyError::NotTheToken)
        ));
        assert!(matches!(
            n.body.render(&UnconfiguredTokenMac).await,
            Err(BodyError::Key(TokenMacError::NotConfigured))
        ));
        let NotifyBody::Derived(mut broken) = n.body.clone() else {
            panic!("derived")
        };
        broken.template = "{".into();
        assert!(matches!(
            broken.render(&mac).await,
            Err(BodyError::Template(_))
        ));
        // A token that would not fit the wire: no notification rather than one never sendable.
        assert!(auth_notification(
            &b,
            AuthorizationNotifyType::TokenCanceled,
            &Secret::new("x".repeat(129)),
            Utc::now()
        )
        .is_none());
    }
}
