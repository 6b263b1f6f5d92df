//! The ledger store on DynamoDB: every port of `mpp_core::store` over six tables. The table
//! design, the expressions and the call budget per operation are in `docs/store.md`; the
//! semantics are the in-memory store's, proved by the conformance suite in `tests/`.
//!
//! - A new payment is one `BatchGetItem` (`load_for_pay`) and one `TransactWriteItems`
//!   (`commit_payment`); a cancelled transaction is diagnosed from its cancellation reasons and
//!   the old items by the same rules the memory store runs (`mpp_core::payments::rules`).
//! - Every read is strongly consistent, so a write is visible to the next read.
//! - Retries are this module's, bounded and named ([`SEND_ATTEMPTS_MAX`], [`TXN_ATTEMPTS_MAX`]);
//!   the SDK's own retries are switched off by [`dynamo_client`] so the bounds multiply no further.
//! - No SDK type crosses the port: failures are `StoreError`s.

mod admin;
mod auth_notify;
mod bindings;
mod call;
mod calls;
mod cancel;
mod clearing;
mod delivery;
mod item;
#[cfg(feature = "local-dev")]
pub mod local_stream;
mod otp;
mod pay;
mod refund;
mod stream;
mod tables;

pub use auth_notify::{
    auth_notification_from_image, auth_notification_from_item, AuthNotifyDeliveries,
};
pub use call::{backoff, BACKOFF_BASE_MS, BACKOFF_CAP_MS, SEND_ATTEMPTS_MAX, TRANSACT_ITEMS_MAX};
pub use calls::CallCounter;
pub use item::{PAYMENTS_DAY_INDEX, REFUNDS_DAY_INDEX};
pub use pay::USAGE_LOOKBACK_DAYS;
pub use stream::{payment_from_image, payment_from_item, payment_image};
pub use tables::TABLE_WAIT_POLLS_MAX;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig};
#[cfg(feature = "local-dev")]
use aws_credential_types::Credentials;
#[cfg(feature = "local-dev")]
use aws_sdk_dynamodb::config::Region;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use aws_sdk_dynamodb::Client;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use call::{send, unexpected, Effect};
use item::Item;
use mpp_core::ids::CustomerId;
use mpp_core::payments::{MethodFound, MethodRef, PaymentReader, PaymentRecord, WalletReader};
use mpp_core::store::{Account, StoreError};
use std::collections::HashMap;
use std::time::Duration;

/// Attempts of one transaction when it loses a race (`TransactionConflict`, or a condition that
/// failed although the returned items satisfy every rule: something changed in between). Each
/// attempt may itself retry throttling up to [`SEND_ATTEMPTS_MAX`] times. Eight attempts with the
/// jittered backoff resolve the conflicts of 200 concurrent payments on one wallet in tests.
pub const TXN_ATTEMPTS_MAX: u32 = 8;

/// Rounds of `BatchGetItem` while DynamoDB leaves keys unprocessed (throttling); each round
/// waits a backoff.
pub const BATCH_ROUNDS_MAX: u32 = 5;

/// Pages read by one `Query` or `Scan` (1 MB each): an admin listing past 1 GB is refused
/// rather than left running.
pub const PAGES_MAX: u32 = 1_000;

/// Time for one request attempt. DynamoDB answers in milliseconds; a transaction under heavy
/// contention on DynamoDB Local takes longer, hence the generous bound.
pub const ATTEMPT_TIMEOUT_MS: u64 = 5_000;

/// Time to open a connection.
pub const CONNECT_TIMEOUT_MS: u64 = 2_000;

/// The region and credentials used against a loopback endpoint (DynamoDB Local ignores both but
/// the SDK must sign with something).
#[cfg(feature = "local-dev")]
const LOCAL_REGION: &str = "us-east-1";
#[cfg(feature = "local-dev")]
const LOCAL_KEY: &str = "local";

/// The six table names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableNames {
    /// PK `customerId`.
    pub accounts: String,
    /// PK `tokenHash`.
    pub access_tokens: String,
    /// PK `codeHash`.
    pub payment_codes: String,
    /// PK `paymentRequestId`; stream NEW_AND_OLD_IMAGES.
    pub payments: String,
    /// PK `refundRequestId`.
    pub refunds: String,
    /// PK `customerId`, SK `entryId`.
    pub ledger: String,
    /// PK `otpKey`: sendOTP's one-time passwords and per-token daily counts; TTL `ttl`.
    pub otps: String,
    /// PK `bindingKey`: account binding (authorizations, prepare keys, logins, counters).
    pub bindings: String,
}

impl TableNames {
    /// `{prefix}-accounts`, `{prefix}-access-tokens`, `{prefix}-payment-codes`,
    /// `{prefix}-payments`, `{prefix}-refunds`, `{prefix}-ledger`.
    pub fn with_prefix(prefix: &str) -> TableNames {
        TableNames {
            accounts: format!("{prefix}-accounts"),
            access_tokens: format!("{prefix}-access-tokens"),
            payment_codes: format!("{prefix}-payment-codes"),
            payments: format!("{prefix}-payments"),
            refunds: format!("{prefix}-refunds"),
            ledger: format!("{prefix}-ledger"),
            otps: format!("{prefix}-otps"),
            bindings: format!("{prefix}-bindings"),
        }
    }
}

/// The store on DynamoDB. Cheap to clone (the client is shared).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    tables: TableNames,
}

impl DynamoStore {
    /// A store over `tables` through `client` (build it with [`dynamo_client`]).
    pub fn new(client: Client, tables: TableNames) -> DynamoStore {
        DynamoStore { client, tables }
    }

    /// The table names.
    pub fn tables(&self) -> &TableNames {
        &self.tables
    }

    /// One consistent `GetItem`. A key with an empty value names nothing (DynamoDB refuses empty
    /// key strings), so it is answered without a request.
    async fn get(&self, table: &str, key: Item) -> Result<Option<Item>, StoreError> {
        if key_is_empty(&key) {
            return Ok(None);
        }
        let req = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true);
        match send(Effect::Read, "GetItem", || req.clone().send()).await? {
            Ok(out) => Ok(out.item),
            Err(e) => Err(unexpected("GetItem", e)),
        }
    }

    /// One consistent `BatchGetItem` of one key per table (plus rounds for unprocessed keys);
    /// answers in the order asked.
    async fn batch_get(&self, wanted: &[(&str, Item)]) -> Result<Vec<Option<Item>>, StoreError> {
        let mut pending: HashMap<String, KeysAndAttributes> = HashMap::new();
        for (table, key) in wanted.iter().filter(|(_, k)| !key_is_empty(k)) {
            let ka = KeysAndAttributes::builder()
                .keys(key.clone())
                .consistent_read(true)
                .build()
                .map_err(|e| {
                    StoreError::Unavailable(format!("BatchGetItem request: {e}").into())
                })?;
            pending.insert((*table).to_string(), ka);
        }
        let mut found: Vec<(String, Item)> = Vec::new();
        for round in 0..BATCH_ROUNDS_MAX {
            if pending.is_empty() {
                break;
            }
            if round > 0 {
                call::pause(round).await;
            }
            let req = self
                .client
                .batch_get_item()
                .set_request_items(Some(pending.clone()));
            let out = match send(Effect::Read, "BatchGetItem", || req.clone().send()).await? {
                Ok(out) => out,
                Err(e) => return Err(unexpected("BatchGetItem", e)),
            };
            for (table, items) in out.responses.unwrap_or_default() {
                found.extend(items.into_iter().map(|i| (table.clone(), i)));
            }
            pending = out.unprocessed_keys.unwrap_or_default();
        }
        if !pending.is_empty() {
            return Err(StoreError::Throttled);
        }
        Ok(wanted
            .iter()
            .map(|(table, key)| {
                found
                    .iter()
                    .find(|(t, i)| t == table && key.iter().all(|(k, v)| i.get(k) == Some(v)))
                    .map(|(_, i)| i.clone())
            })
            .collect())
    }

    async fn get_payment(
        &self,
        payment_request_id: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let key = item::key(item::PAYMENT_REQUEST_ID, payment_request_id);
        self.get(&self.tables.payments, key)
            .await?
            .as_ref()
            .map(item::payment_from)
            .transpose()
    }
}

fn key_is_empty(key: &Item) -> bool {
    key.values()
        .any(|v| matches!(v, aws_sdk_dynamodb::types::AttributeValue::S(s) if s.is_empty()))
}

/// A DynamoDB client for the store: the SDK's retries off (the store retries, bounded) and
/// [`ATTEMPT_TIMEOUT_MS`]/[`CONNECT_TIMEOUT_MS`] timeouts. Without `endpoint`, region and
/// credentials come from the environment (the Lambda role); an `endpoint` only overrides the
/// URL. Development builds (feature `local-dev`: `mpp serve`, tests) give a loopback `endpoint`
/// (DynamoDB Local) region `us-east-1` and fixed dummy credentials instead, nothing read from
/// the environment; Lambda binaries are built without that.
pub async fn dynamo_client(endpoint: Option<&str>) -> Client {
    match endpoint {
        #[cfg(feature = "local-dev")]
        Some(url) if is_loopback(url) => {
            let conf = aws_sdk_dynamodb::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(LOCAL_REGION))
                .credentials_provider(Credentials::from_keys(LOCAL_KEY, LOCAL_KEY, None))
                .endpoint_url(url)
                .retry_config(RetryConfig::disabled())
                .timeout_config(timeouts())
                .build();
            Client::from_conf(conf)
        }
        Some(url) => {
            let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
            let conf = aws_sdk_dynamodb::config::Builder::from(&sdk)
                .endpoint_url(url)
                .retry_config(RetryConfig::disabled())
                .timeout_config(timeouts())
                .build();
            Client::from_conf(conf)
        }
        None => dynamo_client_from(&aws_config::defaults(BehaviorVersion::latest()).load().await),
    }
}

/// A DynamoDB client for the store from an AWS configuration shared with other clients (one
/// `SdkConfig` per cold start), with the store's retry and timeout settings.
pub fn dynamo_client_from(sdk: &SdkConfig) -> Client {
    let conf = aws_sdk_dynamodb::config::Builder::from(sdk)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts())
        .build();
    Client::from_conf(conf)
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(ATTEMPT_TIMEOUT_MS))
        .connect_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
        .build()
}

/// `http://127.0.0.1:8000`, `http://localhost:8000`, `http://[::1]:8000`.
#[cfg(feature = "local-dev")]
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

#[async_trait]
impl WalletReader for DynamoStore {
    async fn find_method(&self, method: &MethodRef) -> Result<MethodFound, StoreError> {
        match method {
            MethodRef::AccessToken(h) => {
                let got = self
                    .get(
                        &self.tables.access_tokens,
                        item::key(item::TOKEN_HASH, h.as_str()),
                    )
                    .await?;
                Ok(MethodFound::Token(
                    got.as_ref().map(item::token_from).transpose()?,
                ))
            }
            MethodRef::PaymentCode(h) => {
                let got = self
                    .get(
                        &self.tables.payment_codes,
                        item::key(item::CODE_HASH, h.as_str()),
                    )
                    .await?;
                Ok(MethodFound::Code(
                    got.as_ref().map(item::code_from).transpose()?,
                ))
            }
            MethodRef::Customer(c) => Ok(MethodFound::Customer(c.clone())),
        }
    }

    async fn account(&self, customer_id: &CustomerId) -> Result<Option<Account>, StoreError> {
        let got = self
            .get(
                &self.tables.accounts,
                item::key(item::CUSTOMER_ID, customer_id.as_str()),
            )
            .await?;
        got.as_ref().map(item::account_from).transpose()
    }
}

#[async_trait]
impl PaymentReader for DynamoStore {
    async fn payment(&self, payment_request_id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.get_payment(payment_request_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "local-dev")]
    #[test]
    fn loopback_endpoints_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:8000"));
        assert!(is_loopback("http://localhost:8000/"));
        assert!(is_loopback("http://[::1]:8000"));
        assert!(!is_loopback("https://dynamodb.us-east-1.amazonaws.com"));
        assert!(!is_loopback("http://10.0.0.1:8000"));
    }

    #[test]
    fn table_names_carry_the_prefix() {
        let t = TableNames::with_prefix("mpp-dev");
        assert_eq!(t.accounts, "mpp-dev-accounts");
        assert_eq!(t.ledger, "mpp-dev-ledger");
    }
}
