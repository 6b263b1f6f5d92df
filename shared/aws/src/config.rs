//! Configuration from the environment, read once per cold start, and the clients built from it.
//! Every function's `main.rs` is `Runtime::from_env().await` plus its own handler deps.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `TABLE_PREFIX` | DynamoDB table name prefix | `mpp` |
//! | `DYNAMODB_ENDPOINT` | DynamoDB endpoint override (DynamoDB Local) | AWS |
//! | `ALIPAY_CLIENT_IDS` | accepted Alipay+ client ids, comma-separated | required |
//! | `ALIPAY_PUBLIC_KEYS` | `VERSION:BASE64DER` per key, comma-separated (rotation: list both) | required |
//! | `MAX_CLOCK_SKEW_SECONDS` | accepted `Request-Time` distance from now | 300 |
//! | `MPP_CLIENT_ID` | `Client-Id` answered when a request had none | first accepted id |
//! | `SIGNER` | `kms`, `kms-envelope` or `local` | `kms` |
//! | `SIGNING_KEY_VERSION` | our `keyVersion` | 1 |
//! | `KMS_SIGNING_KEY_ID` | `kms`: the RSA_2048 SIGN_VERIFY key id, ARN or alias | |
//! | `ENCRYPTED_SIGNING_KEY` | `kms-envelope`: Base64 KMS ciphertext of the PKCS#8 key | |
//! | `SIGNING_KEY_PEM` | `local` (development only): the private key PEM | |
//! | `KMS_ENDPOINT` | KMS endpoint override (moto) | AWS |
//! | `TOKEN_MAC_KEY_ID` | account binding: the KMS `HMAC_256` key binding tokens are derived under (`mpp_core::token_mac`); used by apply-token, consult-unbinding and auth-notify (rebuilds token bodies at send time), the only roles the key allows | none: a token MAC fails (the function answers U) |
//! | `CANCEL_CUTOFF_MINUTES` | cancel window past the next midnight UTC+8 | 30 |
//! | `METRICS_NAMESPACE` | CloudWatch namespace of the EMF metric lines (`crate::metrics`) | `MPP/local` |
//! | `ALIPAY_NOTIFY_URL` | notify: where notifyPayment goes without a `paymentNotifyUrl` | required (notify) |
//! | `NOTIFY_ALLOW_HOSTS` | notify: hosts outbound calls may reach, comma-separated (`host`, `*.domain`); `https` only | `*.alipayplus.com` and the host of `ALIPAY_NOTIFY_URL` |
//! | `NOTIFY_RETRY_QUEUE_URL`, `NOTIFY_DEAD_LETTER_QUEUE_URL` | notify: the SQS queues | required (notify) |
//! | `AUTH_PAGE_BASE_URL` | account binding: the public base URL of the authorization page (`authUrl` = it + `/wallet/authorizationPage?authId=…`); an `https` URL in AWS | `http://127.0.0.1:8080` |
//! | `BINDINGS_PER_ACCOUNT_MAX` | account binding: most merchants one account may be bound to at once | 20 |
//! | `PSP_ID`, `BLOCKED_MERCHANTS`, `REGISTERED_MERCHANTS`, `BLOCKED_MCCS`, `BLOCKED_REGIONS`, `RISK_MAX_AMOUNTS`, `CURRENCIES` | merchant and risk policy (`mpp_core::payments::Policy`) | allow |

use crate::dynamo::{dynamo_client, dynamo_client_from, DynamoStore, TableNames};
use crate::kms::{kms_client, kms_client_from, KmsEnvelopeSigner, KmsSigner};
use crate::kms_mac::KmsTokenMac;
use base64::Engine as _;
use mpp_core::clock::{Clock, SystemClock};
use mpp_core::edge::Edge;
use mpp_core::payments::Policy;
use mpp_core::payments::PolicyError;
use mpp_core::signature::{load_public_key, LocalSigner, Signer, VerifierConfig, DEFAULT_MAX_SKEW};
use mpp_core::token_mac::{TokenMac, UnconfiguredTokenMac};
use std::sync::Arc;

pub use crate::notify_settings::NotifySettings;

/// A setting that is missing or wrong. The function refuses to start (Lambda reports the init
/// error) rather than answer Alipay+ with a half-configured edge.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is absent.
    #[error("{0} is required")]
    Missing(&'static str),
    /// A variable cannot be used.
    #[error("{name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why (never its value: some are secrets).
        reason: String,
    },
    /// The policy variables.
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// A variable a function needs beyond [`Config`] (a queue URL, Alipay+'s URL): set and not
/// empty, or `Missing` naming it.
pub fn required_var(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError::Missing(name))
}

pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.into(),
    }
}

/// Which signer answers are signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerChoice {
    /// KMS `Sign` per answer.
    Kms {
        /// Key id, ARN or alias.
        key_id: String,
    },
    /// KMS `Decrypt` once per cold start, local signing after.
    KmsEnvelope {
        /// The encrypted PKCS#8 key.
        ciphertext: Vec<u8>,
    },
    /// A PEM in the environment (development only).
    Local {
        /// The PEM text.
        pem: String,
    },
}

/// Everything read from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table prefix.
    pub table_prefix: String,
    /// DynamoDB endpoint override.
    pub dynamodb_endpoint: Option<String>,
    /// KMS endpoint override.
    pub kms_endpoint: Option<String>,
    /// Accepted client ids and keys.
    pub verifier: VerifierConfig,
    /// Fallback `Client-Id`.
    pub client_id: String,
    /// The signer.
    pub signer: SignerChoice,
    /// Our key version.
    pub signing_key_version: u32,
    /// Merchant and risk rules.
    pub policy: Policy,
    /// Cancel window past the next midnight (UTC+8).
    pub cancel_cutoff: chrono::Duration,
    /// CloudWatch namespace of the metric lines.
    pub metrics_namespace: String,
    /// Account binding: the page's base URL, the cap of bindings per account.
    pub bindings: mpp_core::bindings::BindingSettings,
    /// Account binding: the KMS HMAC key tokens are derived under (`TOKEN_MAC_KEY_ID`).
    pub token_mac_key_id: Option<String>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_settings(|k| std::env::var(k).ok())
    }

    /// Reads settings from `get` (tests pass a map).
    pub fn from_settings(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let client_ids: Vec<String> = get("ALIPAY_CLIENT_IDS")
            .ok_or(ConfigError::Missing("ALIPAY_CLIENT_IDS"))?
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let first = client_ids
            .first()
            .cloned()
            .ok_or(ConfigError::Missing("ALIPAY_CLIENT_IDS"))?;
        let keys_text =
            get("ALIPAY_PUBLIC_KEYS").ok_or(ConfigError::Missing("ALIPAY_PUBLIC_KEYS"))?;
        let mut verifier: Option<VerifierConfig> = None;
        for entry in keys_text
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (version, key) = entry
                .split_once(':')
                .ok_or_else(|| invalid("ALIPAY_PUBLIC_KEYS", "each entry is VERSION:BASE64DER"))?;
            let version: u32 = version
                .trim()
                .parse()
                .map_err(|_| invalid("ALIPAY_PUBLIC_KEYS", "a key version is not a number"))?;
            let key = load_public_key(key.trim()).map_err(|e| {
                invalid("ALIPAY_PUBLIC_KEYS", format!("key version {version}: {e}"))
            })?;
            verifier = Some(match verifier {
                None => VerifierConfig::new(first.clone(), version, key),
                Some(v) => v.with_key(version, key),
            });
        }
        let mut verifier = verifier.ok_or(ConfigError::Missing("ALIPAY_PUBLIC_KEYS"))?;
        for id in client_ids.iter().skip(1) {
            verifier = verifier.with_client(id.clone());
        }
        let skew = match get("MAX_CLOCK_SKEW_SECONDS") {
            None => DEFAULT_MAX_SKEW,
            Some(s) => chrono::Duration::seconds(
                s.parse()
                    .map_err(|_| invalid("MAX_CLOCK_SKEW_SECONDS", "not a number"))?,
            ),
        };
        let verifier = verifier.with_max_skew(skew);
        let signer = match get("SIGNER").as_deref().unwrap_or("kms") {
            "kms" => SignerChoice::Kms {
                key_id: get("KMS_SIGNING_KEY_ID")
                    .ok_or(ConfigError::Missing("KMS_SIGNING_KEY_ID"))?,
            },
            "kms-envelope" => SignerChoice::KmsEnvelope {
                ciphertext: base64::engine::general_purpose::STANDARD
                    .decode(
                        get("ENCRYPTED_SIGNING_KEY")
                            .ok_or(ConfigError::Missing("ENCRYPTED_SIGNING_KEY"))?,
                    )
                    .map_err(|_| invalid("ENCRYPTED_SIGNING_KEY", "not Base64"))?,
            },
            "local" => SignerChoice::Local {
                pem: get("SIGNING_KEY_PEM").ok_or(ConfigError::Missing("SIGNING_KEY_PEM"))?,
            },
            other => {
                return Err(invalid(
                    "SIGNER",
                    format!("{other:?} is not kms, kms-envelope or local"),
                ))
            }
        };
        let number = |name: &'static str, default: i64| -> Result<i64, ConfigError> {
            get(name)
                .map(|v| v.parse().map_err(|_| invalid(name, "not a number")))
                .unwrap_or(Ok(default))
        };
        Ok(Config {
            table_prefix: get("TABLE_PREFIX").unwrap_or_else(|| "mpp".into()),
            dynamodb_endpoint: get("DYNAMODB_ENDPOINT"),
            kms_endpoint: get("KMS_ENDPOINT"),
            client_id: get("MPP_CLIENT_ID").unwrap_or(first),
            verifier,
            signer,
            signing_key_version: u32::try_from(number("SIGNING_KEY_VERSION", 1)?)
                .map_err(|_| invalid("SIGNING_KEY_VERSION", "out of range"))?,
            policy: Policy::from_settings(|k| get(k))?,
            cancel_cutoff: chrono::Duration::minutes(number("CANCEL_CUTOFF_MINUTES", 30)?),
            metrics_namespace: get("METRICS_NAMESPACE")
                .unwrap_or_else(|| crate::metrics::DEFAULT_NAMESPACE.to_string()),
            bindings: crate::binding_settings::binding_settings(&get)?,
            token_mac_key_id: get("TOKEN_MAC_KEY_ID"),
        })
    }
}

/// What every Alipay+-facing function builds once per cold start.
#[derive(Clone)]
pub struct Runtime {
    /// The configuration it was built from.
    pub config: Config,
    /// Signature checks and response signing.
    pub edge: Edge,
    /// The DynamoDB store (each function hands on only the port it needs).
    pub store: Arc<DynamoStore>,
    /// The system clock.
    pub clock: Arc<dyn Clock>,
    /// Merchant and risk rules.
    pub policy: Arc<Policy>,
    /// The cold start's AWS configuration, for a function's own clients (sendOTP's SNS and SES).
    pub sdk: aws_config::SdkConfig,
    /// The token key (`TOKEN_MAC_KEY_ID` in KMS; without it every MAC fails `NotConfigured`).
    pub token_mac: Arc<dyn TokenMac>,
}

impl Runtime {
    /// What every function's dependencies are built from (`Deps::from_wiring`).
    pub fn wiring(&self) -> mpp_core::wiring::Wiring {
        mpp_core::wiring::Wiring {
            edge: self.edge.clone(),
            ports: mpp_core::store::Ports::of(self.store.clone()),
            clock: self.clock.clone(),
            policy: self.policy.clone(),
            cancel_cutoff: self.config.cancel_cutoff,
            bindings: self.config.bindings.clone(),
            token_mac: self.token_mac.clone(),
        }
    }

    /// Reads the environment, loads one AWS configuration, builds the DynamoDB and KMS clients
    /// from it and the signer (for `kms-envelope`, the one KMS `Decrypt` of this cold start).
    pub async fn from_env() -> Result<Runtime, ConfigError> {
        let config = Config::from_env()?;
        crate::metrics::set_namespace(&config.metrics_namespace);
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let dynamo = match &config.dynamodb_endpoint {
            Some(url) => dynamo_client(Some(url)).await,
            None => dynamo_client_from(&sdk),
        };
        let kms = || async {
            match &config.kms_endpoint {
                Some(url) => kms_client(Some(url)).await,
                None => kms_client_from(&sdk),
            }
        };
        let signer: Arc<dyn Signer> = match &config.signer {
            SignerChoice::Kms { key_id } => Arc::new(KmsSigner::new(
                kms().await,
                key_id.clone(),
                config.signing_key_version,
            )),
            SignerChoice::KmsEnvelope { ciphertext } => Arc::new(
                KmsEnvelopeSigner::load(&kms().await, ciphertext, config.signing_key_version)
                    .await
                    .map_err(|e| invalid("ENCRYPTED_SIGNING_KEY", e.to_string()))?,
            ),
            SignerChoice::Local { pem } => Arc::new(
                LocalSigner::from_pem(pem, config.signing_key_version)
                    .map_err(|e| invalid("SIGNING_KEY_PEM", e.to_string()))?,
            ),
        };
        let token_mac: Arc<dyn TokenMac> = match &config.token_mac_key_id {
            Some(key_id) => Arc::new(KmsTokenMac::new(kms().await, key_id.clone())),
            None => Arc::new(UnconfiguredTokenMac),
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let edge = Edge {
            verifier: Arc::new(config.verifier.clone()),
            signer,
            clock: clock.clone(),
            client_id: config.client_id.clone(),
        };
        Ok(Runtime {
            store: Arc::new(DynamoStore::new(
                dynamo,
                TableNames::with_prefix(&config.table_prefix),
            )),
            policy: Arc::new(config.policy.clone()),
            edge,
            clock,
            config,
            sdk,
            token_mac,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn key_b64() -> String {
        let key = mpp_core::signature::generate_key_pair(2048).unwrap();
        mpp_core::signature::public_key_base64_der(&key.to_public_key())
    }

    #[test]
    fn reads_keys_clients_signer_and_policy() {
        let k = key_b64();
        let vars: HashMap<&str, String> = [
            ("ALIPAY_CLIENT_IDS", "A, B".to_string()),
            ("ALIPAY_PUBLIC_KEYS", format!("1:{k},2:{k}")),
            ("SIGNER", "kms".into()),
            ("KMS_SIGNING_KEY_ID", "alias/mpp-signing".into()),
            ("BLOCKED_MCCS", "7995".into()),
        ]
        .into();
        let c = Config::from_settings(|n| vars.get(n).cloned()).unwrap();
        assert_eq!(c.verifier.client_ids.len(), 2);
        assert_eq!(c.verifier.keys.len(), 2);
        assert_eq!(c.client_id, "A");
        assert_eq!(
            c.signer,
            SignerChoice::Kms {
                key_id: "alias/mpp-signing".into()
            }
        );
        assert!(c.policy.blocked_mccs.contains("7995"));
        assert_eq!(c.cancel_cutoff, chrono::Duration::minutes(30));
    }

    #[test]
    fn missing_and_bad_settings_name_the_variable() {
        let k = key_b64();
        let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
            (vec![], "ALIPAY_CLIENT_IDS"),
            (
                vec![("ALIPAY_CLIENT_IDS", "A".into())],
                "ALIPAY_PUBLIC_KEYS",
            ),
            (
                vec![
                    ("ALIPAY_CLIENT_IDS", "A".into()),
                    ("ALIPAY_PUBLIC_KEYS", "x:abc".into()),
                ],
                "ALIPAY_PUBLIC_KEYS",
            ),
            (
                vec![
                    ("ALIPAY_CLIENT_IDS", "A".into()),
                    ("ALIPAY_PUBLIC_KEYS", format!("1:{k}")),
                ],
                "KMS_SIGNING_KEY_ID",
            ),
            (
                vec![
                    ("ALIPAY_CLIENT_IDS", "A".into()),
                    ("ALIPAY_PUBLIC_KEYS", format!("1:{k}")),
                    ("SIGNER", "hsm".into()),
                ],
                "SIGNER",
            ),
        ];
        for (vars, name) in cases {
            let vars: HashMap<&str, String> = vars.into_iter().collect();
            let err = Config::from_settings(|n| vars.get(n).cloned())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(name), "{err}");
        }
    }
}
