//! # The bindings area
//!
//! Account binding (`account-binding.md`): the authorization a `prepare` opens, the page where
//! the user approves it, the code the approval issues, the tokens `applyToken` exchanges it for,
//! their rotation and their cancellation (by the merchant's `cancelToken` or from the wallet after
//! `consultUnbinding`), and the `authNotify` each transition may owe Alipay+. One file per
//! operation holds everything of it, in this order: its wire types, its edge glue, its port and
//! named decision, its flow, its memory-store adapter and its unit tests:
//!
//! - [`prepare`](mod@prepare), [`authorization_page`](mod@authorization_page),
//!   [`apply_token`](mod@apply_token), [`cancel_token`](mod@cancel_token),
//!   [`auth_notify`](mod@auth_notify), [`consult_unbinding`](mod@consult_unbinding).
//!
//! This file holds what several operations share: the records ([`Authorization`],
//! [`WalletLogin`]), the write a decision makes ([`BindingWrite`]), the token material, the
//! settings, the area's ports ([`BindingPorts`]) and the memory store's binding state. The
//! records, their keys and the conditional writes are described in `docs/store.md` ("Account
//! binding"). The decisions are written once for every store: the memory store applies them
//! under its lock (each operation's `memory` section), DynamoDB as conditional writes
//! (`mpp-aws`, `dynamo/bindings.rs`).
//!
//! One record per binding ([`Authorization`], keyed by its opaque `authId`) carries the whole life
//! of the binding; every move is decided by a named pure function (in its operation's file) on
//! what the store read and written as **one conditional write** guarded on the record's
//! `version` (plus, in the same transaction, the access-token items pay reads and the account's
//! binding counter):
//!
//! ```text
//! (none)   --prepare------> PENDING     decide_prepare       (idempotent on authClientId + referenceAgreementId)
//! PENDING  --approve------> APPROVED    decide_page          (code issued: hash + expiry)
//! PENDING  --decline------> DECLINED    decide_page
//! APPROVED --exchange-----> BOUND       decide_exchange      (access token item put, counter + 1)
//! BOUND    --refresh------> BOUND       decide_refresh       (generation + 1: old access token revoked, new one put)
//! BOUND    --cancelToken--> CANCELLED   decide_cancel_token  (access token revoked, counter − 1)
//! ```
//!
//! Secrets are never stored: codes and tokens are kept as SHA-256 hashes. So that a re-sent
//! `applyToken` (Alipay+ retrying after a lost answer) gets the *same* pair, and so that the
//! wallet side (consultUnbinding, TOKEN_CANCELED) can name a binding's live access token, tokens
//! are derived, not drawn: `authId ‖ base64url(HMAC(K, authId ‖ generation ‖ label))` under the
//! server-held key K (`crate::token_mac`; a KMS HMAC key in AWS), where `generation` is the
//! record's `token_generation` (0 on the exchange, + 1 per refresh). The store reads the record,
//! derives the pairs a decision may need with the key (an async call: KMS), then decides; the
//! decisions stay pure. The stored record alone gives no token.

use crate::cause::Cause;
use crate::ids::{CustomerId, Secret, SecretHash};
use crate::operations::AUTHORIZATION_PAGE;
use crate::store::memory::{MemoryStore, State};
use crate::store::{AccessToken, Delivery, StoreError};
use crate::token_mac::{derive_pair, DerivedPair, TokenMac};
use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

pub mod apply_token;
pub mod auth_notify;
pub mod authorization_page;
pub mod cancel_token;
pub mod consult_unbinding;
pub mod prepare;

pub use apply_token::*;
pub use auth_notify::*;
pub use authorization_page::*;
pub use cancel_token::*;
pub use consult_unbinding::*;
pub use prepare::*;

/// Characters of an `authId`: 128 random bits in lower-case hex.
pub const AUTH_ID_CHARS: usize = 32;
/// Characters of the secret part of a code or token: 256 bits in unpadded base64url.
pub const SECRET_CHARS: usize = 43;
/// Characters of a code, access token or refresh token: `authId` then the secret part.
pub const TOKEN_CHARS: usize = AUTH_ID_CHARS + SECRET_CHARS;

/// How long the authorization page of a `prepare` may be used (the user scans a QR code or is
/// redirected at once; half an hour covers a login on a phone).
pub const PAGE_VALIDITY: Duration = Duration::minutes(30);
/// How long an issued authCode may be exchanged (not published: "short-lived"; the ACQP
/// exchanges it within seconds of the redirect).
pub const CODE_VALIDITY: Duration = Duration::minutes(5);
/// A lost answer's window: the same code, or the same refresh token, presented again this long
/// after it was used gets the same pair (Alipay+ recommends 5 minutes for refresh).
pub const REPEAT_WINDOW: Duration = Duration::minutes(5);
/// Access token lifetime (the MPP chooses; answered as `accessTokenExpiryTime`).
pub const ACCESS_TOKEN_VALIDITY: Duration = Duration::days(30);
/// Refresh token lifetime (answered as `refreshTokenExpiryTime`).
pub const REFRESH_TOKEN_VALIDITY: Duration = Duration::days(365);
/// Wrong PINs in a row that lock PIN entry.
pub const PIN_TRIES_MAX: u32 = 5;
/// How long PIN entry stays locked after [`PIN_TRIES_MAX`] wrong PINs.
pub const PIN_LOCK: Duration = Duration::minutes(15);
/// Default cap of bound merchants per wallet account (`BINDINGS_PER_ACCOUNT_MAX`).
pub const BINDINGS_PER_ACCOUNT_DEFAULT: u32 = 20;
/// Most bindings one customer's list answers with (the cap of bindings per account is set per
/// stack, default 20; the list is read one binding at a time, so this bounds the reads).
pub const CUSTOMER_BINDINGS_MAX: usize = 100;

/// Where a binding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthorizationState {
    /// Prepared: the page waits for the user.
    Pending,
    /// The user approved: a code is out.
    Approved,
    /// The user declined.
    Declined,
    /// The code was exchanged: tokens are live.
    Bound,
    /// cancelToken: nothing works any more.
    Cancelled,
}

impl AuthorizationState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizationState::Pending => "PENDING",
            AuthorizationState::Approved => "APPROVED",
            AuthorizationState::Declined => "DECLINED",
            AuthorizationState::Bound => "BOUND",
            AuthorizationState::Cancelled => "CANCELLED",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<AuthorizationState> {
        match s {
            "PENDING" => Some(AuthorizationState::Pending),
            "APPROVED" => Some(AuthorizationState::Approved),
            "DECLINED" => Some(AuthorizationState::Declined),
            "BOUND" => Some(AuthorizationState::Bound),
            "CANCELLED" => Some(AuthorizationState::Cancelled),
            _ => None,
        }
    }
}

/// What `prepare` asked for (the fields of §2 the binding keeps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// `authClientId`.
    pub auth_client_id: String,
    /// `authClientName`.
    pub auth_client_name: String,
    /// `authClientDisplayName`.
    pub auth_client_display_name: Option<String>,
    /// `authClientLogo`.
    pub auth_client_logo: Option<String>,
    /// `referenceMerchantId`.
    pub reference_merchant_id: Option<String>,
    /// `referenceAgreementId`.
    pub reference_agreement_id: Option<String>,
    /// `authRedirectUrl`.
    pub auth_redirect_url: String,
    /// `scopes`.
    pub scopes: Vec<String>,
    /// `authState`, echoed back with the code.
    pub auth_state: Option<String>,
}

/// The live tokens of a bound authorization (hashes only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenPair {
    /// SHA-256 of the access token.
    pub access_hash: SecretHash,
    /// Access token expiry.
    pub access_expires_at: DateTime<Utc>,
    /// SHA-256 of the refresh token.
    pub refresh_hash: SecretHash,
    /// Refresh token expiry.
    pub refresh_expires_at: DateTime<Utc>,
    /// When this pair was issued.
    pub issued_at: DateTime<Utc>,
    /// The refresh token this pair was issued for (`None`: the code): presented again within
    /// [`REPEAT_WINDOW`] of `issued_at`, it gets this pair again.
    pub issued_for: Option<SecretHash>,
}

/// One binding, from `prepare` to `cancelToken`.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Opaque id (128 random bits, hex): the key, and the only thing in the page's URL.
    pub auth_id: String,
    /// SHA-256 of the key fields compared on a repeated `prepare`.
    pub fingerprint: String,
    /// Who asks, for what.
    pub client: Client,
    /// Where it is.
    pub state: AuthorizationState,
    /// When `prepare` created it.
    pub created_at: DateTime<Utc>,
    /// The page may be used until then.
    pub page_expires_at: DateTime<Utc>,
    /// The wallet user, once approved.
    pub customer_id: Option<CustomerId>,
    /// SHA-256 of the authCode, once approved.
    pub code_hash: Option<SecretHash>,
    /// The code may be exchanged until then.
    pub code_expires_at: Option<DateTime<Utc>>,
    /// The generation of the live pair (0 on the exchange, + 1 per refresh): tokens are derived
    /// from it and the server-held key (`crate::token_mac`).
    pub token_generation: u64,
    /// The live pair, once bound (kept on cancel: the cancelled access token's hash answers a
    /// repeated cancelToken).
    pub tokens: Option<TokenPair>,
    /// When it was declined, bound or cancelled.
    pub decided_at: Option<DateTime<Utc>>,
    /// Incremented by every write; every write is conditioned on the value it read.
    pub version: u64,
}

impl Authorization {
    /// A new pending authorization for `client` (what prepare stores), with a fresh `authId`.
    pub fn pending(
        client: Client,
        fingerprint: String,
        now: DateTime<Utc>,
    ) -> Result<Authorization, StoreError> {
        Ok(Authorization {
            auth_id: new_auth_id()?,
            fingerprint,
            client,
            state: AuthorizationState::Pending,
            created_at: now,
            page_expires_at: now + PAGE_VALIDITY,
            customer_id: None,
            code_hash: None,
            code_expires_at: None,
            token_generation: 0,
            tokens: None,
            decided_at: None,
            version: 0,
        })
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("auth_id", &self.auth_id)
            .field("state", &self.state)
            .field("customer_id", &self.customer_id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A wallet login: the login id and the PIN's Argon2id hash (a PHC string), with the wrong-PIN
/// counter.
#[derive(Clone, PartialEq, Eq)]
pub struct WalletLogin {
    /// The login id the user types (key).
    pub login_id: String,
    /// Whose.
    pub customer_id: CustomerId,
    /// Argon2id PHC string of the PIN (salted).
    pub pin_hash: String,
    /// Wrong PINs in a row.
    pub failures: u32,
    /// PIN entry refused until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// Incremented by every write; every write is conditioned on the value it read.
    pub version: u64,
}

impl fmt::Debug for WalletLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletLogin")
            .field("customer_id", &self.customer_id)
            .field("failures", &self.failures)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// What one transition writes, atomically: the binding (new, or replacing the version read),
/// and with it the access-token items pay reads and the account's binding counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingWrite {
    /// The record after the move (`version` = the read version + 1; 0 for a new one).
    pub binding: Authorization,
    /// The version it was decided on; `None`: the record must not exist yet.
    pub expect_version: Option<u64>,
    /// A new access token (put, must not exist).
    pub put_token: Option<AccessToken>,
    /// An access token to revoke (must exist).
    pub revoke_token: Option<SecretHash>,
    /// The account's count of bound merchants: from `expect` to `expect ± 1`.
    pub counter: Option<CounterChange>,
    /// The authNotify this transition owes Alipay+, written in the same atomic write as an
    /// outbox item that must not exist yet (`bindings::auth_notify`).
    pub notify: Option<AuthNotification>,
}

/// A change of an account's count of bound merchants, guarded on the value read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterChange {
    /// Whose.
    pub customer_id: CustomerId,
    /// The count the decision read.
    pub expect: u32,
    /// +1 (bound) or −1 (cancelled).
    pub up: bool,
    /// The binding that joins (`up`) or leaves the account's list of bound bindings (the
    /// `customer#` item's `authIds`, in the same write).
    pub auth_id: String,
}

/// A plain token pair to answer `applyToken` with (derived, never stored).
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    /// The access token.
    pub access_token: Secret,
    /// Its expiry.
    pub access_expires_at: DateTime<Utc>,
    /// The refresh token.
    pub refresh_token: Secret,
    /// Its expiry.
    pub refresh_expires_at: DateTime<Utc>,
    /// The wallet user.
    pub customer_id: CustomerId,
}

impl fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IssuedTokens(<redacted>)")
    }
}

/// A decision: nothing to write (the answer), or one write and the answer once it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision<T> {
    /// Answer without writing.
    Answer(T),
    /// Write, then answer.
    Write(Box<BindingWrite>, T),
}

// ---- settings -----------------------------------------------------------------------------------

/// Account-binding settings (environment `AUTH_PAGE_BASE_URL`, `BINDINGS_PER_ACCOUNT_MAX`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingSettings {
    /// The public base URL the authorization page is reached at (`https://wallet.example.com`,
    /// or an execute-api stage URL); `authUrl` is this, the page's path and `?authId=`.
    pub page_base_url: String,
    /// Most merchants one account may be bound to at once; one more is refused.
    pub bindings_per_account_max: u32,
    /// Push every new authCode to Alipay+ with authNotify `AUTHCODE_CREATED` (as well as the
    /// redirect). Off by default: the spec makes it optional ("the MPP may also push").
    pub push_auth_code: bool,
}

impl Default for BindingSettings {
    fn default() -> BindingSettings {
        BindingSettings {
            page_base_url: "http://127.0.0.1:8080".into(),
            bindings_per_account_max: BINDINGS_PER_ACCOUNT_DEFAULT,
            push_auth_code: false,
        }
    }
}

impl BindingSettings {
    /// The authorization page of `auth_id`.
    pub fn auth_url(&self, auth_id: &str) -> String {
        format!(
            "{}{}?authId={auth_id}",
            self.page_base_url.trim_end_matches('/'),
            AUTHORIZATION_PAGE.path()
        )
    }
}

// ---- token material -----------------------------------------------------------------------------

/// `n` random bytes from the system's CSPRNG (AWS-LC).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut b = [0u8; N];
    aws_lc_rs::rand::fill(&mut b)
        .map_err(|_| StoreError::Unavailable("system random source failed".into()))?;
    Ok(b)
}

/// A new opaque `authId`: 128 random bits in hex.
pub fn new_auth_id() -> Result<String, StoreError> {
    Ok(hex::encode(random_bytes::<16>()?))
}

/// A new authCode for `auth_id`: the id, then 256 random bits.
pub fn new_auth_code(auth_id: &str) -> Result<Secret, StoreError> {
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    Ok(Secret::new(format!("{auth_id}{secret}")))
}

/// The `authId` a code or token names, if it has the shape of ours (`TOKEN_CHARS` characters,
/// the first [`AUTH_ID_CHARS`] lower-case hex, the rest base64url).
pub fn auth_id_of(secret: &str) -> Option<&str> {
    if secret.len() != TOKEN_CHARS || !secret.is_ascii() {
        return None;
    }
    let (id, rest) = secret.split_at(AUTH_ID_CHARS);
    let id_ok = id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let rest_ok = rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && rest_ok).then_some(id)
}

/// An `authId` as it arrives in the page's query string (32 lower-case hex), owned.
pub fn auth_id_of_page(s: String) -> Option<String> {
    let ok = s.len() == AUTH_ID_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then_some(s)
}

/// The pair `derived` (of the record's generation) as issued at `now`: plain tokens for the
/// answer, hashes for the store. `issued_for`: the refresh token it replaces (`None`: the code).
fn pair_for(
    b: &Authorization,
    derived: &DerivedPair,
    now: DateTime<Utc>,
    issued_for: Option<SecretHash>,
) -> Option<(IssuedTokens, TokenPair)> {
    let customer_id = b.customer_id.clone()?;
    let pair = TokenPair {
        access_hash: derived.access.hash(),
        access_expires_at: now + ACCESS_TOKEN_VALIDITY,
        refresh_hash: derived.refresh.hash(),
        refresh_expires_at: now + REFRESH_TOKEN_VALIDITY,
        issued_at: now,
        issued_for,
    };
    let issued = IssuedTokens {
        access_token: derived.access.clone(),
        access_expires_at: pair.access_expires_at,
        refresh_token: derived.refresh.clone(),
        refresh_expires_at: pair.refresh_expires_at,
        customer_id,
    };
    Some((issued, pair))
}

/// The live pair again (a re-sent request), with the expiry times it was issued with: `derived`
/// must be the record's generation and hash to the stored pair.
fn pair_again(
    b: &Authorization,
    derived: Option<&DerivedPair>,
    pair: &TokenPair,
) -> Option<IssuedTokens> {
    let derived = derived.filter(|d| d.generation == b.token_generation)?;
    let (mut issued, _) = pair_for(b, derived, pair.issued_at, pair.issued_for.clone())?;
    if issued.access_token.hash() != pair.access_hash
        || issued.refresh_token.hash() != pair.refresh_hash
    {
        return None;
    }
    issued.access_expires_at = pair.access_expires_at;
    issued.refresh_expires_at = pair.refresh_expires_at;
    Some(issued)
}

/// The generations a token decision on `current` may need derived (`decide_exchange`,
/// `decide_refresh`): none for a record that cannot issue (so a made-up code costs no MAC); the
/// record's generation (a repeat, or the exchange's first pair); for a refresh, also the next.
pub fn generations_needed(current: Option<&Authorization>, refresh: bool) -> Vec<u64> {
    match current.map(|b| (b.state, b.token_generation)) {
        Some((AuthorizationState::Approved, _)) if !refresh => vec![0],
        Some((AuthorizationState::Bound, g)) if refresh => vec![g, g.saturating_add(1)],
        Some((AuthorizationState::Bound, g)) => vec![g],
        _ => Vec::new(),
    }
}

/// Derives the pairs of `generations` of `auth_id` with the server-held key.
pub async fn derive_pairs(
    mac: &dyn TokenMac,
    auth_id: &str,
    generations: &[u64],
) -> Result<Vec<DerivedPair>, StoreError> {
    let mut out = Vec::with_capacity(generations.len());
    for g in generations {
        out.push(
            derive_pair(mac, auth_id, *g)
                .await
                .map_err(|e| StoreError::Unavailable(Cause::with_source("token key", e)))?,
        );
    }
    Ok(out)
}

/// The pairs a token decision on `current` needs (see [`generations_needed`]).
pub async fn derive_needed(
    mac: &dyn TokenMac,
    current: Option<&Authorization>,
    refresh: bool,
) -> Result<Vec<DerivedPair>, StoreError> {
    match current {
        Some(b) => derive_pairs(mac, &b.auth_id, &generations_needed(current, refresh)).await,
        None => Ok(Vec::new()),
    }
}

fn derived_of(derived: &[DerivedPair], generation: u64) -> Option<&DerivedPair> {
    derived.iter().find(|d| d.generation == generation)
}

/// The access-token item pay reads, for a pair of `b`.
fn token_item(b: &Authorization, pair: &TokenPair) -> Option<AccessToken> {
    Some(AccessToken {
        token_hash: pair.access_hash.clone(),
        customer_id: b.customer_id.clone()?,
        scopes: b.client.scopes.clone(),
        expires_at: pair.access_expires_at,
        revoked: false,
    })
}

fn next(b: &Authorization) -> Authorization {
    let mut n = b.clone();
    n.version = b.version + 1;
    n
}

fn write(binding: Authorization, before: &Authorization) -> BindingWrite {
    BindingWrite {
        binding,
        expect_version: Some(before.version),
        put_token: None,
        revoke_token: None,
        counter: None,
        notify: None,
    }
}

// ---- wire shared by several operations ----------------------------------------------------------

/// Whether `s` is an absolute `http`/`https` URL without credentials (the user is sent there).
pub fn is_web_url(s: &str) -> bool {
    match url::Url::parse(s) {
        Ok(u) => {
            matches!(u.scheme(), "https" | "http")
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        }
        Err(_) => false,
    }
}

/// `authorizationNotifyType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthorizationNotifyType {
    /// The user approved on our page: `authCode` and `authState` are pushed.
    AuthcodeCreated,
    /// The code was exchanged: `accessToken` (and `customerId`) are pushed.
    TokenCreated,
    /// The binding was revoked from inside the wallet.
    TokenCanceled,
}

impl AuthorizationNotifyType {
    /// The wire spelling (also the notification id's middle part).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizationNotifyType::AuthcodeCreated => "AUTHCODE_CREATED",
            AuthorizationNotifyType::TokenCreated => "TOKEN_CREATED",
            AuthorizationNotifyType::TokenCanceled => "TOKEN_CANCELED",
        }
    }
}

// ---- ports --------------------------------------------------------------------------------------

/// The binding area's ports, one per function (each sized to what it may do): what
/// [`crate::store::Ports`] holds for the area. A new binding port is a field here, its bound in
/// [`BindingStores`] and a line in [`BindingPorts::of`]: nothing outside this area.
#[derive(Clone)]
pub struct BindingPorts {
    /// prepare's writes.
    pub prepare: std::sync::Arc<dyn PrepareStore>,
    /// The authorization page's reads and writes.
    pub authorization_page: std::sync::Arc<dyn AuthorizationPageStore>,
    /// applyToken's writes.
    pub tokens: std::sync::Arc<dyn TokenStore>,
    /// cancelToken's writes.
    pub cancel_token: std::sync::Arc<dyn CancelTokenStore>,
    /// Wallet logins (the seed, operators).
    pub logins: std::sync::Arc<dyn LoginAdmin>,
    /// The wallet's unbinding: a customer's bindings, the wallet-side revocation.
    pub unbinding: std::sync::Arc<dyn UnbindingStore>,
}

/// A store that serves every port of the binding area.
pub trait BindingStores:
    PrepareStore
    + AuthorizationPageStore
    + TokenStore
    + CancelTokenStore
    + LoginAdmin
    + UnbindingStore
    + 'static
{
}

impl<T> BindingStores for T where
    T: PrepareStore
        + AuthorizationPageStore
        + TokenStore
        + CancelTokenStore
        + LoginAdmin
        + UnbindingStore
        + 'static
{
}

impl BindingPorts {
    /// Every binding port of `store`.
    pub fn of<T: BindingStores>(store: std::sync::Arc<T>) -> BindingPorts {
        BindingPorts {
            prepare: store.clone(),
            authorization_page: store.clone(),
            tokens: store.clone(),
            cancel_token: store.clone(),
            logins: store.clone(),
            unbinding: store,
        }
    }
}

/// Operators and the seed: wallet logins.
#[async_trait]
pub trait LoginAdmin: Send + Sync {
    /// Creates or replaces a login (its counter cleared).
    async fn put_wallet_login(&self, login: &WalletLogin) -> Result<(), StoreError>;
}

// ---- memory store -------------------------------------------------------------------------------

/// The binding part of the memory store's state.
#[derive(Default)]
pub(crate) struct BindingState {
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

    /// The answer of `decision`, its write applied first (the caller holds the lock).
    fn settle<T>(&mut self, decision: Decision<T>) -> Result<T, StoreError> {
        match decision {
            Decision::Answer(a) => Ok(a),
            Decision::Write(w, a) => {
                self.apply(&w)?;
                Ok(a)
            }
        }
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
impl LoginAdmin for MemoryStore {
    async fn put_wallet_login(&self, login: &WalletLogin) -> Result<(), StoreError> {
        self.lock()
            .bindings
            .logins
            .insert(login.login_id.clone(), login.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `json` as a request, serialises it back and compares (the operations' wire tests).
    pub(super) fn round_trip<T: serde::de::DeserializeOwned + Serialize + crate::wire::Validate>(
        json: &str,
    ) {
        let parsed: T = crate::wire::parse_request(json.as_bytes()).unwrap();
        let back = serde_json::to_value(&parsed).unwrap();
        let want: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, want);
    }

    #[test]
    fn redirect_urls_must_be_web_urls() {
        assert!(is_web_url("https://m.example/back?x=1"));
        assert!(is_web_url("http://127.0.0.1:9/b"));
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "https://u:p@m.example/",
            "/relative",
            "ftp://m.example/",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }
}
