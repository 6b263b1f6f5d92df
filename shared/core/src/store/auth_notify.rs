//! authNotify's outbox (`account-binding.md` §5): the notification a binding transition owes
//! Alipay+, written **in the same atomic write as the transition** and delivered afterwards from
//! the store's change feed by the same machinery as notifyPayment (`flows::notify`).
//!
//! Why an outbox and not the binding record itself: the body carries the plain authCode or
//! access token, which the store never keeps (only hashes) and which exists only while the
//! transition that made it runs. So the transition builds the exact body once, the outbox item
//! holds it until Alipay+ acknowledges it (then the body is removed: nothing secret stays at
//! rest), and every attempt sends those bytes unchanged.
//!
//! A notification's id is `authId.TYPE.version` (the binding's version after the transition):
//! a re-run of the same transition writes the same id, which the store refuses to write twice,
//! so a notification is never created twice.

use super::bindings::Authorization;
use super::{Delivery, StoreError};
use crate::ids::Secret;
use crate::wire::{to_body, AuthNotifyRequest, AuthorizationNotifyType, Text};
use chrono::{DateTime, Utc};
use std::fmt;

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
    /// The authNotify body, byte for byte (identical on every attempt). Holds a code or a token:
    /// never logged (`Debug` leaves it out).
    pub body: String,
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

/// An outbox item: the notification and its delivery bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The notification (its body is `""` once delivered: removed from the store).
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

/// The notification `binding` (the record *after* the transition) owes Alipay+, carrying
/// `secret`: the plain authCode for `AUTHCODE_CREATED`, the access token for the token types.
/// `None` only for a record whose client fields no longer fit the wire (cannot happen for what
/// prepare accepted; the caller then writes no notification rather than a broken one).
pub fn auth_notification(
    binding: &Authorization,
    notify_type: AuthorizationNotifyType,
    secret: &Secret,
    now: DateTime<Utc>,
) -> Option<AuthNotification> {
    let c = &binding.client;
    let code = notify_type == AuthorizationNotifyType::AuthcodeCreated;
    let body = AuthNotifyRequest {
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
        access_token: match code {
            true => None,
            false => Some(Text::new(secret.expose()).ok()?),
        },
        customer_id: binding
            .customer_id
            .as_ref()
            .map(|id| Text::new(id.as_str()))
            .transpose()
            .ok()?,
        user_login_id: None,
    };
    Some(AuthNotification {
        notification_id: notification_id(binding, notify_type),
        auth_id: binding.auth_id.clone(),
        notify_type,
        body: String::from_utf8(to_body(&body)).ok()?,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ids::CustomerId;
    use crate::store::bindings::Client;
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

    #[test]
    fn the_body_carries_what_its_type_needs_and_nothing_else() {
        let b = binding();
        let now = Utc::now();
        let code = auth_notification(
            &b,
            AuthorizationNotifyType::AuthcodeCreated,
            &Secret::new("CODE-1"),
            now,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&code.body).unwrap();
        assert_eq!(v["authorizationNotifyType"], "AUTHCODE_CREATED");
        assert_eq!(v["authCode"], "CODE-1");
        assert_eq!(v["authState"], "state-7c1");
        assert!(v.get("accessToken").is_none());
        assert_eq!(v["referenceMerchantId"], "M-1");
        assert_eq!(v["referenceAgreementId"], "AG-1");
        let token = auth_notification(
            &b,
            AuthorizationNotifyType::TokenCreated,
            &Secret::new("TOKEN-1"),
            now,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&token.body).unwrap();
        assert_eq!(v["accessToken"], "TOKEN-1");
        assert_eq!(v["customerId"], "2160000000000001");
        assert!(v.get("authCode").is_none() && v.get("authState").is_none());
        let parsed: AuthNotifyRequest = serde_json::from_str(&token.body).unwrap();
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
            !format!("{token:?}").contains("TOKEN-1"),
            "Debug must not print the body"
        );
    }
}
