//! Verifying Alipay+ requests we receive and responses we get back.

use super::content::content_digest;
use super::error::SignatureError;
use super::header::parse_signature_header;
use super::keys::RsaPublicKey;
use super::{header_names, ALGORITHM_RSA256};
use chrono::{DateTime, Duration, Utc};
use http::HeaderMap;
use std::collections::{BTreeMap, BTreeSet};

/// The default clock-skew window: a request whose `Request-Time` is more than 5 minutes before
/// or after our clock is refused (`INVALID_SIGNATURE`). Why 5 minutes: `docs/signing.md`.
pub const DEFAULT_MAX_SKEW: Duration = Duration::minutes(5);

/// Longest time header we read (`2019-05-28T12:12:12.123456789+08:00` is 35 characters).
const TIME_HEADER_BYTES_MAX: usize = 64;

/// Longest client id kept for an error message.
const CLIENT_ID_CHARS_MAX: usize = 64;

/// Who may call us and with which keys: the accepted client ids, one Alipay+ public key per key
/// version, and the clock-skew window.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The `Client-Id` values we accept.
    pub client_ids: BTreeSet<String>,
    /// Public keys by `keyVersion`; a header without `keyVersion` uses the highest.
    pub keys: BTreeMap<u32, RsaPublicKey>,
    /// How far `Request-Time` may be from our clock, either way.
    pub max_skew: Duration,
}

impl VerifierConfig {
    /// One client, one key, the default skew window.
    pub fn new(client_id: impl Into<String>, key_version: u32, key: RsaPublicKey) -> Self {
        VerifierConfig {
            client_ids: BTreeSet::from([client_id.into()]),
            keys: BTreeMap::from([(key_version, key)]),
            max_skew: DEFAULT_MAX_SKEW,
        }
    }

    /// Adds (or replaces) the key for a version: during a rotation both versions are configured.
    pub fn with_key(mut self, key_version: u32, key: RsaPublicKey) -> Self {
        self.keys.insert(key_version, key);
        self
    }

    /// Accepts one more client id.
    pub fn with_client(mut self, client_id: impl Into<String>) -> Self {
        self.client_ids.insert(client_id.into());
        self
    }

    /// Sets the clock-skew window.
    pub fn with_max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = max_skew;
        self
    }
}

/// Who signed a message that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The `Client-Id` header.
    pub client_id: String,
    /// The key version that verified (for [`KeySet::Single`]: the header's `keyVersion`, or 0
    /// when it has none).
    pub key_version: u32,
}

/// The keys a verification may use.
#[derive(Debug, Clone, Copy)]
pub enum KeySet<'a> {
    /// One key whatever the header's `keyVersion` says (the caller knows whose answer it is).
    Single(&'a RsaPublicKey),
    /// Keys by version: `keyVersion` picks one, absent means the highest.
    ByVersion(&'a BTreeMap<u32, RsaPublicKey>),
}

/// What a verification checks, for the cases [`verify_request`] and [`verify_response`] do not
/// cover (e.g. a notifyPayment request the acquirer simulator receives).
#[derive(Debug, Clone, Copy)]
pub struct VerifyPolicy<'a> {
    /// `Request-Time` or `Response-Time`.
    pub time_header: &'static str,
    /// The accepted client ids; `None` accepts any (the key alone authenticates).
    pub client_ids: Option<&'a BTreeSet<String>>,
    /// The keys.
    pub keys: KeySet<'a>,
    /// `Some((max_skew, now))` refuses a time header further than `max_skew` from `now`.
    pub window: Option<(Duration, DateTime<Utc>)>,
}

/// Verifies a request Alipay+ sent us: `Client-Id` in the accepted list, `Request-Time` within
/// `cfg.max_skew` of `now`, `Signature` by the key of its `keyVersion` over
/// `<method> <path_and_query>\n<Client-Id>.<Request-Time>.<body>`.
///
/// `path_and_query` is the path that was called (with the query, if any), `body` the bytes as
/// received (Base64-decoded first if API Gateway encoded them). Header names match in any case.
pub fn verify_request(
    cfg: &VerifierConfig,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Verified, SignatureError> {
    let policy = VerifyPolicy {
        time_header: header_names::REQUEST_TIME,
        client_ids: Some(&cfg.client_ids),
        keys: KeySet::ByVersion(&cfg.keys),
        window: Some((cfg.max_skew, now)),
    };
    verify_with_time_header(&policy, method, path_and_query, headers, body)
}

/// Verifies a response to a request we sent (`method` and `path_and_query` are our request's):
/// `Signature` by `key` over `<method> <path>\n<Client-Id>.<Response-Time>.<body>`. Any
/// `Client-Id` and `keyVersion` are accepted (the key alone authenticates) and the time is not
/// window-checked (the answer is to a request we just sent).
pub fn verify_response(
    key: &RsaPublicKey,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), SignatureError> {
    let policy = VerifyPolicy {
        time_header: header_names::RESPONSE_TIME,
        client_ids: None,
        keys: KeySet::Single(key),
        window: None,
    };
    verify_with_time_header(&policy, method, path_and_query, headers, body).map(|_| ())
}

/// Verifies a message under an explicit [`VerifyPolicy`]. Checks run cheapest first, so a stale
/// or unknown-client message costs no RSA operation: headers, client, algorithm, key version,
/// time window, then the signature.
pub fn verify_with_time_header(
    policy: &VerifyPolicy<'_>,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Verified, SignatureError> {
    let client_id = single_header(headers, header_names::CLIENT_ID)?;
    let time = single_header(headers, policy.time_header)?;
    let signature = single_header(headers, header_names::SIGNATURE)?;

    if let Some(accepted) = policy.client_ids {
        if !accepted.contains(client_id) {
            return Err(SignatureError::UnknownClient(
                client_id.chars().take(CLIENT_ID_CHARS_MAX).collect(),
            ));
        }
    }
    let parsed = parse_signature_header(signature)?;
    if parsed.algorithm != ALGORITHM_RSA256 {
        return Err(SignatureError::UnsupportedAlgorithm(parsed.algorithm));
    }
    let (key_version, key) = pick_key(policy.keys, parsed.key_version)?;
    if let Some((max_skew, now)) = policy.window {
        check_window(policy.time_header, time, max_skew, now)?;
    }
    let digest = content_digest(
        method.as_bytes(),
        path_and_query.as_bytes(),
        client_id.as_bytes(),
        time.as_bytes(),
        body,
    );
    if !key.verify_digest(&digest, &parsed.signature) {
        return Err(SignatureError::BadSignature);
    }
    Ok(Verified {
        client_id: client_id.to_string(),
        key_version,
    })
}

/// Parses a time header in either form partners send: ISO 8601 with an offset
/// (`2019-05-28T12:12:12+08:00`, `2025-02-20T08:51:49.09Z`, also `+0800`) or epoch milliseconds
/// (`1685599933871`).
pub fn parse_wire_time(value: &str) -> Option<DateTime<Utc>> {
    if value.len() > TIME_HEADER_BYTES_MAX || value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // 13 digits until the year 2286; 16 allows any date chrono can hold without overflow.
        if value.len() > 16 {
            return None;
        }
        let millis: i64 = value.parse().ok()?;
        return DateTime::from_timestamp_millis(millis);
    }
    DateTime::parse_from_rfc3339(value)
        .or_else(|_| DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn check_window(
    header: &'static str,
    value: &str,
    max_skew: Duration,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let at = parse_wire_time(value).ok_or(SignatureError::MalformedHeader {
        header,
        reason: "neither ISO 8601 with an offset nor epoch milliseconds",
    })?;
    let offset = at - now;
    if offset > max_skew || offset < -max_skew {
        return Err(SignatureError::OutsideTimeWindow {
            header,
            offset_secs: offset.num_seconds(),
            max_skew_secs: max_skew.num_seconds(),
        });
    }
    Ok(())
}

fn pick_key<'a>(
    keys: KeySet<'a>,
    wanted: Option<u32>,
) -> Result<(u32, &'a RsaPublicKey), SignatureError> {
    match (keys, wanted) {
        (KeySet::Single(key), version) => Ok((version.unwrap_or(0), key)),
        (KeySet::ByVersion(keys), Some(version)) => keys
            .get(&version)
            .map(|key| (version, key))
            .ok_or(SignatureError::UnknownKeyVersion(version)),
        (KeySet::ByVersion(keys), None) => keys
            .last_key_value()
            .map(|(version, key)| (*version, key))
            .ok_or(SignatureError::NoKeys),
    }
}

/// The one value of a required header, as visible ASCII.
fn single_header<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
) -> Result<&'h str, SignatureError> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(SignatureError::MissingHeader(name))?;
    if values.next().is_some() {
        return Err(SignatureError::DuplicateHeader(name));
    }
    value.to_str().map_err(|_| SignatureError::MalformedHeader {
        header: name,
        reason: "not visible ASCII",
    })
}
