//! Account binding (`account-binding.md` §1–4): the authorization a `prepare` opens, the code
//! the user's approval issues, the tokens `applyToken` exchanges it for, their rotation and their
//! cancellation — records, ports and the decisions, once for every store.
//!
//! One record per binding ([`Authorization`], keyed by its opaque `authId`) carries the whole life
//! of the binding; every move is decided by a named pure function here on what the store read
//! and written as **one conditional write** guarded on the record's `version` (plus, in the same
//! transaction, the access-token items pay reads and the account's binding counter):
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

use super::auth_notify::{auth_notification, AuthNotification};
use super::{AccessToken, StoreError, SCOPE_AGREEMENT_PAY};
use crate::cause::Cause;
use crate::ids::{CustomerId, Secret, SecretHash};
use crate::token_mac::{derive_pair, DerivedPair, TokenMac};
use crate::wire::AuthorizationNotifyType;
use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use std::fmt;

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
    /// outbox item that must not exist yet (`store::auth_notify`).
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

// ---- token material ----------------------------------------------------------------------

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

// ---- prepare -----------------------------------------------------------------------------

/// What a `prepare` found or did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrepareOutcome {
    /// A new pending authorization (this one).
    Created(Authorization),
    /// The same request again: the authorization it created.
    Repeated(Authorization),
    /// The same `authClientId` + `referenceAgreementId` with other key fields.
    Inconsistent,
}

/// The idempotency key of a `prepare` (`None`: no `referenceAgreementId`, so every prepare is a
/// new authorization): SHA-256 of `authClientId` and `referenceAgreementId`.
pub fn prepare_key(client: &Client) -> Option<String> {
    let agreement = client.reference_agreement_id.as_deref()?;
    Some(
        Secret::new(format!("{}\u{0}{agreement}", client.auth_client_id))
            .hash()
            .0,
    )
}

/// Decides a `prepare` on the authorization its idempotency key already names, if any.
pub fn decide_prepare(
    new: &Authorization,
    existing: Option<Authorization>,
) -> Decision<PrepareOutcome> {
    match existing {
        Some(old) if old.fingerprint == new.fingerprint => {
            Decision::Answer(PrepareOutcome::Repeated(old))
        }
        Some(_) => Decision::Answer(PrepareOutcome::Inconsistent),
        None => Decision::Write(
            Box::new(BindingWrite {
                binding: new.clone(),
                expect_version: None,
                put_token: None,
                revoke_token: None,
                counter: None,
                notify: None,
            }),
            PrepareOutcome::Created(new.clone()),
        ),
    }
}

// ---- the page: approve or decline --------------------------------------------------------

/// The user's decision on the page (the PIN was checked before).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageChoice {
    /// Approve as this user, with this code (drawn by the caller).
    Approve {
        /// The wallet user who logged in.
        customer_id: CustomerId,
        /// The new authCode's hash.
        code_hash: SecretHash,
        /// The plain code, when the MPP is configured to push codes with authNotify
        /// (`AUTHCODE_CREATED`); `None`: the code travels only through the redirect.
        push_code: Option<Secret>,
    },
    /// Decline.
    Decline,
}

/// What became of the page's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageOutcome {
    /// Approved: the code is live.
    Approved(Authorization),
    /// Declined.
    Declined(Authorization),
    /// Not (any more) waiting for the user: used, declined, cancelled or past its page validity.
    Closed,
    /// No such authorization.
    NotFound,
}

/// Decides the user's choice on the authorization as read.
pub fn decide_page(
    current: Option<Authorization>,
    choice: &PageChoice,
    now: DateTime<Utc>,
) -> Decision<PageOutcome> {
    let Some(b) = current else {
        return Decision::Answer(PageOutcome::NotFound);
    };
    if b.state != AuthorizationState::Pending || now > b.page_expires_at {
        return Decision::Answer(PageOutcome::Closed);
    }
    let mut n = next(&b);
    n.decided_at = Some(now);
    match choice {
        PageChoice::Approve {
            customer_id,
            code_hash,
            push_code,
        } => {
            n.state = AuthorizationState::Approved;
            n.customer_id = Some(customer_id.clone());
            n.code_hash = Some(code_hash.clone());
            n.code_expires_at = Some(now + CODE_VALIDITY);
            let mut w = write(n.clone(), &b);
            w.notify = push_code.as_ref().and_then(|code| {
                auth_notification(&n, AuthorizationNotifyType::AuthcodeCreated, code, now)
            });
            Decision::Write(Box::new(w), PageOutcome::Approved(n))
        }
        PageChoice::Decline => {
            n.state = AuthorizationState::Declined;
            Decision::Write(Box::new(write(n.clone(), &b)), PageOutcome::Declined(n))
        }
    }
}

// ---- applyToken --------------------------------------------------------------------------

/// Why `applyToken` or `cancelToken` refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Unknown, wrong, declined or already used (past the repeat window) code: `INVALID_CODE`.
    InvalidCode,
    /// A code past its validity: `EXPIRED_CODE`.
    ExpiredCode,
    /// Unknown, rotated (past the repeat window) or cancelled refresh token:
    /// `INVALID_REFRESH_TOKEN`.
    InvalidRefreshToken,
    /// A refresh token past its expiry: `EXPIRED_REFRESH_TOKEN`.
    ExpiredRefreshToken,
    /// The request's `authClientId` is not the binding's: `ACCESS_DENIED`.
    OtherClient,
    /// The account holds the most bindings allowed: `PROCESS_FAIL`.
    TooManyBindings,
    /// An access token we do not know (cancelToken): `INVALID_TOKEN`.
    InvalidToken,
}

/// What `applyToken` answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenOutcome {
    /// The pair (new, or the same again for a repeat).
    Issued(IssuedTokens),
    /// Refused; nothing written.
    Refused(TokenRefusal),
}

/// An `applyToken` to decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenIntent {
    /// The code (`AUTHORIZATION_CODE`) or the refresh token (`REFRESH_TOKEN`).
    pub presented: Secret,
    /// The request's `authClientId`, when sent: it must be the binding's.
    pub auth_client_id: Option<String>,
    /// When.
    pub now: DateTime<Utc>,
    /// Most bound merchants per account.
    pub bindings_max: u32,
}

fn other_client(b: &Authorization, intent: &TokenIntent) -> bool {
    intent
        .auth_client_id
        .as_deref()
        .is_some_and(|c| c != b.client.auth_client_id)
}

/// Decides a code exchange on the authorization the code names and the account's count of
/// bound merchants (`bound`).
///
/// Preconditions in order: the code is ours and its hash is the record's (`InvalidCode`); the
/// client matches; a BOUND record whose pair was issued for this code less than
/// [`REPEAT_WINDOW`] ago answers that pair again; otherwise only APPROVED exchanges
/// (`InvalidCode`), before the code's expiry (`ExpiredCode`), within the cap (`TooManyBindings`).
///
/// `derived`: the pairs [`derive_needed`] made for this record (generation 0).
pub fn decide_exchange(
    intent: &TokenIntent,
    current: Option<Authorization>,
    bound: u32,
    derived: &[DerivedPair],
) -> Decision<TokenOutcome> {
    let refuse = |r| Decision::Answer(TokenOutcome::Refused(r));
    let Some(b) = current else {
        return refuse(TokenRefusal::InvalidCode);
    };
    if b.code_hash.as_ref() != Some(&intent.presented.hash()) {
        return refuse(TokenRefusal::InvalidCode);
    }
    if other_client(&b, intent) {
        return refuse(TokenRefusal::OtherClient);
    }
    match b.state {
        AuthorizationState::Approved => {}
        AuthorizationState::Bound => {
            // A re-sent exchange (lost answer): the first pair again, while it is still the
            // code's pair and within the window.
            return match &b.tokens {
                Some(p) if p.issued_for.is_none() && intent.now <= p.issued_at + REPEAT_WINDOW => {
                    match pair_again(&b, derived_of(derived, b.token_generation), p) {
                        Some(t) => Decision::Answer(TokenOutcome::Issued(t)),
                        None => refuse(TokenRefusal::InvalidCode),
                    }
                }
                _ => refuse(TokenRefusal::InvalidCode),
            };
        }
        AuthorizationState::Pending
        | AuthorizationState::Declined
        | AuthorizationState::Cancelled => return refuse(TokenRefusal::InvalidCode),
    }
    if b.code_expires_at.is_none_or(|t| intent.now > t) {
        return refuse(TokenRefusal::ExpiredCode);
    }
    if bound >= intent.bindings_max {
        return refuse(TokenRefusal::TooManyBindings);
    }
    let Some((issued, pair)) =
        derived_of(derived, 0).and_then(|d| pair_for(&b, d, intent.now, None))
    else {
        return refuse(TokenRefusal::InvalidCode);
    };
    let mut n = next(&b);
    n.token_generation = 0;
    n.state = AuthorizationState::Bound;
    n.decided_at = Some(intent.now);
    n.tokens = Some(pair.clone());
    let put_token = token_item(&n, &pair);
    let counter = n.customer_id.clone().map(|customer_id| CounterChange {
        customer_id,
        expect: bound,
        up: true,
        auth_id: b.auth_id.clone(),
    });
    // TOKEN_CREATED: only here (a re-sent exchange answers without a write, so it is never owed
    // twice; a refresh is the merchant's own call). The outbox keeps no token: its hash and
    // generation, and the sender re-derives it (`store::auth_notify::TokenBody`).
    let notify = auth_notification(
        &n,
        AuthorizationNotifyType::TokenCreated,
        &issued.access_token,
        intent.now,
    );
    let mut w = write(n, &b);
    w.put_token = put_token;
    w.counter = counter;
    w.notify = notify;
    Decision::Write(Box::new(w), TokenOutcome::Issued(issued))
}

/// Decides a refresh on the authorization the refresh token names.
///
/// Preconditions in order: BOUND (`InvalidRefreshToken` otherwise); the client matches; the
/// token is the live refresh token (rotate: a new pair derived from it, the old access token
/// revoked), or the one the live pair was issued for less than [`REPEAT_WINDOW`] ago (the same
/// pair again); the live one past its expiry is `ExpiredRefreshToken`.
///
/// `derived`: the pairs [`derive_needed`] made for this record (its generation and the next).
pub fn decide_refresh(
    intent: &TokenIntent,
    current: Option<Authorization>,
    derived: &[DerivedPair],
) -> Decision<TokenOutcome> {
    let refuse = |r| Decision::Answer(TokenOutcome::Refused(r));
    let Some(b) = current else {
        return refuse(TokenRefusal::InvalidRefreshToken);
    };
    let (AuthorizationState::Bound, Some(pair)) = (b.state, b.tokens.clone()) else {
        return refuse(TokenRefusal::InvalidRefreshToken);
    };
    let presented = intent.presented.hash();
    if other_client(&b, intent)
        && (presented == pair.refresh_hash || pair.issued_for.as_ref() == Some(&presented))
    {
        return refuse(TokenRefusal::OtherClient);
    }
    if pair.issued_for.as_ref() == Some(&presented) {
        if intent.now <= pair.issued_at + REPEAT_WINDOW {
            if let Some(t) = pair_again(&b, derived_of(derived, b.token_generation), &pair) {
                return Decision::Answer(TokenOutcome::Issued(t));
            }
        }
        return refuse(TokenRefusal::InvalidRefreshToken);
    }
    if presented != pair.refresh_hash {
        return refuse(TokenRefusal::InvalidRefreshToken);
    }
    if intent.now > pair.refresh_expires_at {
        return refuse(TokenRefusal::ExpiredRefreshToken);
    }
    let generation = b.token_generation.saturating_add(1);
    let Some((issued, new_pair)) = derived_of(derived, generation)
        .and_then(|d| pair_for(&b, d, intent.now, Some(presented.clone())))
    else {
        return refuse(TokenRefusal::InvalidRefreshToken);
    };
    let mut n = next(&b);
    n.token_generation = generation;
    n.tokens = Some(new_pair.clone());
    let put_token = token_item(&n, &new_pair);
    let mut w = write(n, &b);
    w.put_token = put_token;
    w.revoke_token = Some(pair.access_hash);
    Decision::Write(Box::new(w), TokenOutcome::Issued(issued))
}

// ---- cancelToken -------------------------------------------------------------------------

/// What `cancelToken` answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelTokenOutcome {
    /// Revoked now, or before by this same token: S.
    Cancelled,
    /// Refused; nothing written.
    Refused(TokenRefusal),
}

/// Decides a cancelToken on the authorization the access token names and the account's count of
/// bound merchants.
///
/// The token must be the binding's live access token (BOUND: revoke it, CANCELLED: the same S
/// again); anything else (unknown, rotated away, another binding's) is `InvalidToken`.
pub fn decide_cancel_token(
    token: &SecretHash,
    current: Option<Authorization>,
    bound: u32,
    now: DateTime<Utc>,
) -> Decision<CancelTokenOutcome> {
    let refuse = Decision::Answer(CancelTokenOutcome::Refused(TokenRefusal::InvalidToken));
    let Some(b) = current else {
        return refuse;
    };
    let Some(pair) = b.tokens.clone() else {
        return refuse;
    };
    if &pair.access_hash != token {
        return refuse;
    }
    match b.state {
        AuthorizationState::Cancelled => Decision::Answer(CancelTokenOutcome::Cancelled),
        AuthorizationState::Bound => {
            let mut n = next(&b);
            n.state = AuthorizationState::Cancelled;
            n.decided_at = Some(now);
            let counter = n.customer_id.clone().map(|customer_id| CounterChange {
                customer_id,
                expect: bound,
                up: false,
                auth_id: b.auth_id.clone(),
            });
            let mut w = write(n, &b);
            w.revoke_token = Some(pair.access_hash);
            w.counter = counter;
            Decision::Write(Box::new(w), CancelTokenOutcome::Cancelled)
        }
        AuthorizationState::Pending
        | AuthorizationState::Approved
        | AuthorizationState::Declined => refuse,
    }
}

/// Decides a cancelToken of a token no binding issued (a seeded one): revoke the item if it
/// exists and is live; the same answer again if revoked; `InvalidToken` if unknown.
pub fn decide_revoke_plain(found: Option<&AccessToken>) -> Result<bool, TokenRefusal> {
    match found {
        Some(t) => Ok(!t.revoked),
        None => Err(TokenRefusal::InvalidToken),
    }
}

// ---- unbinding from the wallet -----------------------------------------------------------

/// A wallet-side unbinding to decide (consultUnbinding answered `allowUnbinding` "true").
#[derive(Clone, PartialEq, Eq)]
pub struct UnbindIntent {
    /// The binding.
    pub auth_id: String,
    /// The customer asking: must be the binding's.
    pub customer_id: CustomerId,
    /// The live access token as derived for consultUnbinding: it must still be the live one (a
    /// refresh in between moves the binding on), and TOKEN_CANCELED carries it.
    pub access_token: Secret,
    /// When.
    pub now: DateTime<Utc>,
}

impl fmt::Debug for UnbindIntent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnbindIntent")
            .field("auth_id", &self.auth_id)
            .finish_non_exhaustive()
    }
}

/// What a wallet-side unbinding came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnbindOutcome {
    /// Revoked now: the access token is dead and TOKEN_CANCELED is in the outbox.
    Revoked,
    /// Revoked before (by the merchant's cancelToken or an earlier unbinding): nothing written.
    AlreadyCancelled,
    /// No binding of this customer by that id, or not bound (pending, declined).
    NotFound,
    /// The live pair is not the one consulted about (a refresh in between): nothing written;
    /// consult again.
    Moved,
}

/// Decides a wallet-side unbinding on the binding as read and the account's count: the same
/// transition as cancelToken (CANCELLED, the access token revoked, the count − 1, the binding off
/// the account's list) plus TOKEN_CANCELED in the outbox, in one write.
pub fn decide_unbind(
    intent: &UnbindIntent,
    current: Option<Authorization>,
    bound: u32,
) -> Decision<UnbindOutcome> {
    let Some(b) = current.filter(|b| b.customer_id.as_ref() == Some(&intent.customer_id)) else {
        return Decision::Answer(UnbindOutcome::NotFound);
    };
    match b.state {
        AuthorizationState::Cancelled => return Decision::Answer(UnbindOutcome::AlreadyCancelled),
        AuthorizationState::Bound => {}
        AuthorizationState::Pending
        | AuthorizationState::Approved
        | AuthorizationState::Declined => return Decision::Answer(UnbindOutcome::NotFound),
    }
    let token = intent.access_token.hash();
    match decide_cancel_token(&token, Some(b), bound, intent.now) {
        Decision::Write(mut w, CancelTokenOutcome::Cancelled) => {
            w.notify = auth_notification(
                &w.binding,
                AuthorizationNotifyType::TokenCanceled,
                &intent.access_token,
                intent.now,
            );
            Decision::Write(w, UnbindOutcome::Revoked)
        }
        Decision::Answer(CancelTokenOutcome::Cancelled) => {
            Decision::Answer(UnbindOutcome::AlreadyCancelled)
        }
        Decision::Answer(CancelTokenOutcome::Refused(_))
        | Decision::Write(_, CancelTokenOutcome::Refused(_)) => {
            Decision::Answer(UnbindOutcome::Moved)
        }
    }
}

// ---- PIN entry ---------------------------------------------------------------------------

/// What a PIN check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinOutcome {
    /// The PIN was right.
    Accepted(CustomerId),
    /// Wrong; this many tries are left before the lock.
    Wrong(u32),
    /// Locked until then (no PIN was checked).
    Locked(DateTime<Utc>),
    /// No such login id.
    UnknownLogin,
}

/// Whether PIN entry is locked for `login` at `now`.
pub fn pin_locked(login: &WalletLogin, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    login.locked_until.filter(|t| now < *t)
}

/// Decides what a PIN check writes: a right PIN clears the counter (no write when it is clear),
/// a wrong one counts, and the [`PIN_TRIES_MAX`]th wrong one in a row locks PIN entry for
/// [`PIN_LOCK`] (the counter restarts after it).
pub fn decide_pin(
    login: &WalletLogin,
    right: bool,
    now: DateTime<Utc>,
) -> (Option<WalletLogin>, PinOutcome) {
    if let Some(until) = pin_locked(login, now) {
        return (None, PinOutcome::Locked(until));
    }
    let mut n = login.clone();
    n.version += 1;
    if right {
        if login.failures == 0 && login.locked_until.is_none() {
            return (None, PinOutcome::Accepted(login.customer_id.clone()));
        }
        n.failures = 0;
        n.locked_until = None;
        return (Some(n), PinOutcome::Accepted(login.customer_id.clone()));
    }
    n.failures = login.failures + 1;
    if n.failures >= PIN_TRIES_MAX {
        n.failures = 0;
        let until = now + PIN_LOCK;
        n.locked_until = Some(until);
        return (Some(n), PinOutcome::Locked(until));
    }
    n.locked_until = None;
    let left = PIN_TRIES_MAX - n.failures;
    (Some(n), PinOutcome::Wrong(left))
}

/// Whether a granted scope list lets the token pay (for the page's wording and tests).
pub fn scopes_allow_pay(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == SCOPE_AGREEMENT_PAY)
}

// ---- ports -------------------------------------------------------------------------------

/// The binding area's ports, one per function (each sized to what it may do): what
/// [`super::Ports`] holds for the area. A new binding port is a field here, its bound in
/// [`BindingStores`] and a line in [`BindingPorts::of`]: nothing outside this file.
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

/// The prepare function's store: read the key's authorization, write a new one (one
/// conditional transaction: the authorization and its idempotency key, both new).
#[async_trait]
pub trait PrepareStore: Send + Sync {
    /// Stores `new` as [`decide_prepare`] decides on what its idempotency key names.
    async fn prepare(&self, new: &Authorization) -> Result<PrepareOutcome, StoreError>;
}

/// The authorization page's store: read the authorization and the login, write the PIN counter
/// and the user's decision (each one conditional write).
#[async_trait]
pub trait AuthorizationPageStore: Send + Sync {
    /// The authorization with this id.
    async fn authorization(&self, auth_id: &str) -> Result<Option<Authorization>, StoreError>;
    /// The login with this id.
    async fn login(&self, login_id: &str) -> Result<Option<WalletLogin>, StoreError>;
    /// How many merchants the account is bound to now.
    async fn bound_count(&self, customer_id: &CustomerId) -> Result<u32, StoreError>;
    /// Writes the outcome of a PIN check ([`decide_pin`]'s record), conditioned on the version
    /// it was decided on; `false`: someone else wrote first (the caller reads again). The same
    /// write again (a retry after a lost answer) finds itself in place and answers `true`.
    async fn put_login(&self, login: &WalletLogin, expect_version: u64)
        -> Result<bool, StoreError>;
    /// Applies the user's choice as [`decide_page`] decides on the authorization as read.
    async fn decide(
        &self,
        auth_id: &str,
        choice: &PageChoice,
        now: DateTime<Utc>,
    ) -> Result<PageOutcome, StoreError>;
}

/// The applyToken function's store.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// `AUTHORIZATION_CODE`: [`decide_exchange`] on the authorization the code names, with the
    /// pairs derived under `mac` ([`derive_needed`]) after each read.
    async fn exchange_code(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
    ) -> Result<TokenOutcome, StoreError>;
    /// `REFRESH_TOKEN`: [`decide_refresh`] on the authorization the token names, likewise.
    async fn refresh_token(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
    ) -> Result<TokenOutcome, StoreError>;
}

/// The cancelToken function's store.
#[async_trait]
pub trait CancelTokenStore: Send + Sync {
    /// [`decide_cancel_token`] on the authorization the token names; a token no binding issued
    /// is revoked by its item ([`decide_revoke_plain`]).
    async fn cancel_token(
        &self,
        token: &Secret,
        now: DateTime<Utc>,
    ) -> Result<CancelTokenOutcome, StoreError>;
}

/// The wallet's unbinding (consult-unbinding, `mpp bindings`): a customer's bindings, and the
/// wallet-side revocation with its TOKEN_CANCELED in the same write.
#[async_trait]
pub trait UnbindingStore: Send + Sync {
    /// The customer's BOUND bindings, through the account's list (DynamoDB: the `customer#<id>`
    /// item's `authIds`, kept by every transition that binds or cancels; no scan, no index), at
    /// most [`CUSTOMER_BINDINGS_MAX`], oldest first.
    async fn customer_bindings(
        &self,
        customer_id: &CustomerId,
    ) -> Result<Vec<Authorization>, StoreError>;
    /// [`decide_unbind`] on the binding `auth_id` and the account's count.
    async fn unbind(&self, intent: &UnbindIntent) -> Result<UnbindOutcome, StoreError>;
}

/// Operators and the seed: wallet logins.
#[async_trait]
pub trait LoginAdmin: Send + Sync {
    /// Creates or replaces a login (its counter cleared).
    async fn put_wallet_login(&self, login: &WalletLogin) -> Result<(), StoreError>;
}
