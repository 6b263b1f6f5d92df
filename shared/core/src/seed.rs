//! The seed file: wallets, tokens and payment codes as JSON, loaded through the admin port by
//! `mpp serve --seed`, `mpp seed`, tests and operators. Format (documented in `docs/seed.md`):
//!
//! ```json
//! {"accounts": [{"customerId": "2160000000000001", "status": "NORMAL", "kyc": "PASSED",
//!                "nfcEnabled": true, "balances": {"KRW": "100000"},
//!                "limits": {"KRW": {"singleMax": "50000", "dailyAmountMax": "200000", "dailyCountMax": "20"}}}],
//!  "tokens": [{"accessToken": "2810000000000000000000000000JWDQ", "customerId": "2160000000000001",
//!              "scope": "AGREEMENT_PAY", "expiresAt": "2030-01-01T00:00:00+08:00", "revoked": false}],
//!  "paymentCodes": [{"code": "281006020000000000", "customerId": "2160000000000001",
//!                    "expiresAt": "2030-01-01T00:00:00+08:00"}]}
//! ```
//!
//! Every error names the entry (`accounts[1].balances.KRW`) and the rule.

use crate::bindings::{LoginAdmin, WalletLogin};
use crate::ids::{CustomerId, Secret};
use crate::money::{Currency, MinorUnit};
use crate::otp::{check_email, check_phone, Contacts};
use crate::store::{
    AccessToken, Account, AccountStatus, AdminStore, KycStatus, Limits, PaymentCode, StoreError,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Most entries of each kind one seed file may hold (it is loaded in one process).
pub const SEED_ENTRIES_MAX: usize = 100_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedFile {
    #[serde(default)]
    accounts: Vec<SeedAccount>,
    #[serde(default)]
    tokens: Vec<SeedToken>,
    #[serde(default)]
    payment_codes: Vec<SeedCode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedAccount {
    customer_id: String,
    #[serde(default = "normal")]
    status: String,
    #[serde(default = "passed")]
    kyc: String,
    #[serde(default)]
    nfc_enabled: bool,
    #[serde(default)]
    balances: BTreeMap<String, String>,
    #[serde(default)]
    limits: BTreeMap<String, SeedLimits>,
    /// sendOTP's SMS address (E.164).
    phone: Option<String>,
    /// sendOTP's e-mail address.
    email: Option<String>,
    /// The wallet login id for the authorization page (account binding).
    #[serde(default)]
    login_id: Option<String>,
    /// The wallet PIN (4–12 digits); stored only as its Argon2id hash.
    #[serde(default)]
    pin: Option<String>,
}

fn normal() -> String {
    "NORMAL".into()
}

fn passed() -> String {
    "PASSED".into()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedLimits {
    single_max: Option<String>,
    daily_amount_max: Option<String>,
    daily_count_max: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedToken {
    access_token: String,
    customer_id: String,
    #[serde(default = "agreement_pay")]
    scope: String,
    expires_at: String,
    #[serde(default)]
    revoked: bool,
}

fn agreement_pay() -> String {
    crate::store::SCOPE_AGREEMENT_PAY.into()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedCode {
    code: String,
    customer_id: String,
    expires_at: String,
}

/// A parsed seed: domain records ready for the admin port. Secrets are already hashed.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    /// Accounts with their opening balances.
    pub accounts: Vec<Account>,
    /// Access tokens (hashed).
    pub tokens: Vec<AccessToken>,
    /// Payment codes (hashed).
    pub payment_codes: Vec<PaymentCode>,
    /// Phone and e-mail of the accounts that have any (sendOTP).
    pub contacts: Vec<(CustomerId, Contacts)>,
    /// Wallet logins (the PIN as an Argon2id hash).
    pub logins: Vec<WalletLogin>,
}

/// A seed file that cannot be loaded, naming the entry.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Not JSON of the seed shape.
    #[error("seed file: {0}")]
    Shape(String),
    /// One entry is wrong.
    #[error("seed file: {at}: {rule}")]
    Entry {
        /// Where, e.g. `accounts[0].balances.KRW`.
        at: String,
        /// What is wrong.
        rule: String,
    },
    /// The store refused an entry.
    #[error("seed file: {at}: {source}")]
    Store {
        /// Which entry.
        at: String,
        /// Why.
        source: StoreError,
    },
}

fn entry(at: impl Into<String>, rule: impl Into<String>) -> SeedError {
    SeedError::Entry {
        at: at.into(),
        rule: rule.into(),
    }
}

fn amount(at: &str, v: &str) -> Result<MinorUnit, SeedError> {
    // Balances may be zero; limits and amounts otherwise follow the wire rule.
    if v == "0" {
        return Ok(MinorUnit::ZERO);
    }
    MinorUnit::parse_natural(v).map_err(|e| entry(at, format!("\"{v}\" {e}")))
}

fn currency(at: &str, code: &str) -> Result<Currency, SeedError> {
    Currency::from_code(code)
        .ok_or_else(|| entry(at, format!("\"{code}\" is not an ISO 4217 currency code")))
}

fn time(at: &str, v: &str) -> Result<DateTime<Utc>, SeedError> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| entry(at, format!("\"{v}\" is not an ISO 8601 time with offset")))
}

fn customer(at: &str, v: &str) -> Result<CustomerId, SeedError> {
    if v.is_empty() || v.chars().count() > 64 {
        return Err(entry(at, "must be 1 to 64 characters"));
    }
    Ok(CustomerId::new(v))
}

impl Seed {
    /// Parses and checks a seed file.
    pub fn parse(json: &[u8]) -> Result<Seed, SeedError> {
        let file: SeedFile =
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(json))
                .map_err(|e| SeedError::Shape(format!("{}: {}", e.path(), e.inner())))?;
        if file.accounts.len() > SEED_ENTRIES_MAX
            || file.tokens.len() > SEED_ENTRIES_MAX
            || file.payment_codes.len() > SEED_ENTRIES_MAX
        {
            return Err(SeedError::Shape(format!(
                "at most {SEED_ENTRIES_MAX} entries of each kind"
            )));
        }
        let mut seed = Seed::default();
        for (i, a) in file.accounts.iter().enumerate() {
            let at = format!("accounts[{i}]");
            let mut balances = BTreeMap::new();
            for (code, v) in &a.balances {
                let c = currency(&format!("{at}.balances"), code)?;
                balances.insert(c, amount(&format!("{at}.balances.{code}"), v)?);
            }
            let mut limits = BTreeMap::new();
            for (code, l) in &a.limits {
                let c = currency(&format!("{at}.limits"), code)?;
                let base = format!("{at}.limits.{code}");
                let opt =
                    |name: &str, v: &Option<String>| -> Result<Option<MinorUnit>, SeedError> {
                        v.as_deref()
                            .map(|v| amount(&format!("{base}.{name}"), v))
                            .transpose()
                    };
                let count = opt("dailyCountMax", &l.daily_count_max)?
                    .map(|c| {
                        u32::try_from(c.get())
                            .map_err(|_| entry(format!("{base}.dailyCountMax"), "must fit 32 bits"))
                    })
                    .transpose()?;
                limits.insert(
                    c,
                    Limits {
                        single_max: opt("singleMax", &l.single_max)?
                            .unwrap_or(Limits::UNLIMITED.single_max),
                        daily_amount_max: opt("dailyAmountMax", &l.daily_amount_max)?
                            .unwrap_or(Limits::UNLIMITED.daily_amount_max),
                        daily_count_max: count.unwrap_or(Limits::UNLIMITED.daily_count_max),
                    },
                );
            }
            let contacts = Contacts {
                phone: a.phone.clone(),
                email: a.email.clone(),
            };
            if let Some(p) = &contacts.phone {
                check_phone(p).map_err(|rule| entry(format!("{at}.phone"), rule))?;
            }
            if let Some(e) = &contacts.email {
                check_email(e).map_err(|rule| entry(format!("{at}.email"), rule))?;
            }
            if contacts != Contacts::default() {
                seed.contacts
                    .push((CustomerId::new(a.customer_id.as_str()), contacts));
            }
            match (&a.login_id, &a.pin) {
                (None, None) => {}
                (Some(login_id), Some(pin)) => {
                    if login_id.is_empty() || login_id.chars().count() > 64 {
                        return Err(entry(format!("{at}.loginId"), "must be 1 to 64 characters"));
                    }
                    if seed.logins.iter().any(|l| &l.login_id == login_id) {
                        return Err(entry(format!("{at}.loginId"), "is used twice"));
                    }
                    // The PIN itself is never quoted in an error.
                    let pin_hash = crate::pin::hash_pin(pin)
                        .map_err(|e| entry(format!("{at}.pin"), e.to_string()))?;
                    seed.logins.push(WalletLogin {
                        login_id: login_id.clone(),
                        customer_id: customer(&format!("{at}.customerId"), &a.customer_id)?,
                        pin_hash,
                        failures: 0,
                        locked_until: None,
                        version: 0,
                    });
                }
                (Some(_), None) => {
                    return Err(entry(format!("{at}.pin"), "is required with loginId"))
                }
                (None, Some(_)) => {
                    return Err(entry(format!("{at}.loginId"), "is required with pin"))
                }
            }
            seed.accounts.push(Account {
                customer_id: customer(&format!("{at}.customerId"), &a.customer_id)?,
                status: AccountStatus::parse(&a.status).ok_or_else(|| {
                    entry(
                        format!("{at}.status"),
                        format!("\"{}\" is not NORMAL, FROZEN or CLOSED", a.status),
                    )
                })?,
                kyc: KycStatus::parse(&a.kyc).ok_or_else(|| {
                    entry(
                        format!("{at}.kyc"),
                        format!("\"{}\" is not PASSED, FAILED or PENDING", a.kyc),
                    )
                })?,
                balances,
                limits,
                usage: BTreeMap::new(),
                nfc_enabled: a.nfc_enabled,
            });
        }
        for (i, t) in file.tokens.iter().enumerate() {
            let at = format!("tokens[{i}]");
            if t.access_token.is_empty() || t.access_token.chars().count() > 128 {
                return Err(entry(
                    format!("{at}.accessToken"),
                    "must be 1 to 128 characters",
                ));
            }
            seed.tokens.push(AccessToken {
                token_hash: Secret::new(t.access_token.as_str()).hash(),
                customer_id: customer(&format!("{at}.customerId"), &t.customer_id)?,
                scopes: t
                    .scope
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
                expires_at: time(&format!("{at}.expiresAt"), &t.expires_at)?,
                revoked: t.revoked,
            });
        }
        for (i, c) in file.payment_codes.iter().enumerate() {
            let at = format!("paymentCodes[{i}]");
            if !(16..=32).contains(&c.code.len()) || !c.code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(entry(format!("{at}.code"), "must be 16 to 32 digits"));
            }
            seed.payment_codes.push(PaymentCode {
                code_hash: Secret::new(c.code.as_str()).hash(),
                customer_id: customer(&format!("{at}.customerId"), &c.customer_id)?,
                expires_at: time(&format!("{at}.expiresAt"), &c.expires_at)?,
                used_by: None,
            });
        }
        Ok(seed)
    }

    /// Writes the seed through the admin port. Accounts that already exist are left as they are
    /// (a restarted `mpp serve` on DynamoDB keeps its balances); tokens and codes are upserted.
    pub async fn apply(
        &self,
        store: &dyn AdminStore,
        now: DateTime<Utc>,
    ) -> Result<SeedReport, SeedError> {
        let mut report = SeedReport::default();
        for (i, a) in self.accounts.iter().enumerate() {
            match store.create_account(a, now).await {
                Ok(()) => report.accounts_created += 1,
                Err(StoreError::AlreadyExists(_)) => report.accounts_existing += 1,
                Err(source) => {
                    return Err(SeedError::Store {
                        at: format!("accounts[{i}]"),
                        source,
                    })
                }
            }
        }
        // Contacts are written again like tokens: an operator changes a phone number by seeding.
        for (customer, contacts) in &self.contacts {
            store
                .put_contacts(customer, contacts)
                .await
                .map_err(|source| SeedError::Store {
                    at: format!("accounts[{customer}]"),
                    source,
                })?;
        }
        for (i, t) in self.tokens.iter().enumerate() {
            store
                .put_token(t)
                .await
                .map_err(|source| SeedError::Store {
                    at: format!("tokens[{i}]"),
                    source,
                })?;
            report.tokens += 1;
        }
        for (i, c) in self.payment_codes.iter().enumerate() {
            store
                .put_payment_code(c)
                .await
                .map_err(|source| SeedError::Store {
                    at: format!("paymentCodes[{i}]"),
                    source,
                })?;
            report.payment_codes += 1;
        }
        Ok(report)
    }
}

impl Seed {
    /// Writes the wallet logins (login id and PIN hash, counters cleared) through the login
    /// port; returns how many.
    pub async fn apply_logins(&self, store: &dyn LoginAdmin) -> Result<usize, SeedError> {
        for (i, l) in self.logins.iter().enumerate() {
            store
                .put_wallet_login(l)
                .await
                .map_err(|source| SeedError::Store {
                    at: format!("logins[{i}]"),
                    source,
                })?;
        }
        Ok(self.logins.len())
    }
}

/// What a seed wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// New accounts.
    pub accounts_created: usize,
    /// Accounts that were already there (left unchanged).
    pub accounts_existing: usize,
    /// Tokens written.
    pub tokens: usize,
    /// Codes written.
    pub payment_codes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_seed_parses() {
        let seed = Seed::parse(include_bytes!("../../../examples/seed.json")).unwrap();
        assert_eq!(seed.accounts.len(), 2);
        assert_eq!(seed.tokens.len(), 2);
        assert_eq!(seed.payment_codes.len(), 1);
        assert_eq!(
            seed.contacts[0].1.phone.as_deref(),
            Some("+821012345678"),
            "the demo wallet has a phone for sendOTP"
        );
        assert_eq!(seed.logins.len(), 1);
        assert!(seed.logins[0].pin_hash.starts_with("$argon2id$"));
        let krw = Currency::from_code("KRW").unwrap();
        assert_eq!(
            seed.accounts[0].limits_for(krw).single_max,
            MinorUnit(50_000)
        );
    }

    #[test]
    fn errors_name_the_entry() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"accounts":[{"customerId":"1","balances":{"KRW":"01"}}]}"#,
                "accounts[0].balances.KRW",
            ),
            (
                r#"{"accounts":[{"customerId":"1","balances":{"KRX":"1"}}]}"#,
                "accounts[0].balances",
            ),
            (
                r#"{"accounts":[{"customerId":"1","status":"ODD"}]}"#,
                "accounts[0].status",
            ),
            (
                r#"{"accounts":[{"customerId":"1","kyc":"MAYBE"}]}"#,
                "accounts[0].kyc",
            ),
            (
                r#"{"accounts":[{"customerId":"1","limits":{"KRW":{"singleMax":"-1"}}}]}"#,
                "accounts[0].limits.KRW.singleMax",
            ),
            (
                r#"{"tokens":[{"accessToken":"t","customerId":"1","expiresAt":"tomorrow"}]}"#,
                "tokens[0].expiresAt",
            ),
            (
                r#"{"paymentCodes":[{"code":"12","customerId":"1","expiresAt":"2030-01-01T00:00:00Z"}]}"#,
                "paymentCodes[0].code",
            ),
            (
                r#"{"accounts":[{"customerId":"1","colour":"red"}]}"#,
                "accounts[0]",
            ),
            (
                r#"{"accounts":[{"customerId":"1","phone":"010-1234"}]}"#,
                "accounts[0].phone",
            ),
            (
                r#"{"accounts":[{"customerId":"1","email":"nobody"}]}"#,
                "accounts[0].email",
            ),
            (
                r#"{"accounts":[{"customerId":"1","loginId":"a","pin":"12x4"}]}"#,
                "accounts[0].pin",
            ),
            (
                r#"{"accounts":[{"customerId":"1","loginId":"a"}]}"#,
                "accounts[0].pin",
            ),
        ];
        for (json, at) in cases {
            let err = Seed::parse(json.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(at), "{json}: {err}");
        }
    }
}
