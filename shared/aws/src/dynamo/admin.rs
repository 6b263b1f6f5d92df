//! `AdminStore`: creating and inspecting wallets. Calls: `create_account` 1 transaction,
//! `credit` 1 transaction, `update_account_settings` 2 (`GetItem`, `UpdateItem`), tokens and
//! codes 1 `PutItem`; the listings page through `Query`/`Scan` up to [`PAGES_MAX`] pages.

use super::call::{build_err, credit_update, ALL_OLD};
use super::call::{call_token, send, unexpected, Effect, Reasons, TxOutcome, TRANSACT_ITEMS_MAX};
use super::item::{self, Item};
use super::{DynamoStore, PAGES_MAX};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use mpp_core::ids::CustomerId;
use mpp_core::money::{Currency, Money};
use mpp_core::payments::PaymentRecord;
use mpp_core::store::{
    AccessToken, Account, AccountStatus, AdminStore, EntryKind, KycStatus, LedgerEntry, Limits,
    PaymentCode, StoreError,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

impl DynamoStore {
    async fn put_plain(&self, table: &str, item: Item) -> Result<(), StoreError> {
        let req = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item));
        match send(Effect::Write, "PutItem", || req.clone().send()).await? {
            Ok(_) => Ok(()),
            Err(e) => Err(unexpected("PutItem", e)),
        }
    }

    /// Every item of a `Query` on the ledger of one wallet, page by page.
    async fn query_ledger(&self, customer_id: &CustomerId) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..PAGES_MAX {
            let req = self
                .client
                .query()
                .table_name(&self.tables.ledger)
                .key_condition_expression("#id = :id")
                .expression_attribute_names("#id", item::CUSTOMER_ID)
                .expression_attribute_values(":id", item::s(customer_id.as_str()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            let page = match send(Effect::Read, "Query", || req.clone().send()).await? {
                Ok(page) => page,
                Err(e) => return Err(unexpected("Query", e)),
            };
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
        Err(StoreError::Unavailable(
            format!("ledger of {customer_id} exceeds {PAGES_MAX} pages").into(),
        ))
    }

    /// Every item of a table (only `projection` if given), page by page.
    async fn scan(&self, table: &str, projection: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..PAGES_MAX {
            let mut req = self
                .client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            if let Some(attr) = projection {
                req = req
                    .projection_expression("#p")
                    .expression_attribute_names("#p", attr);
            }
            let page = match send(Effect::Read, "Scan", || req.clone().send()).await? {
                Ok(page) => page,
                Err(e) => return Err(unexpected("Scan", e)),
            };
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
        Err(StoreError::Unavailable(
            format!("table {table} exceeds {PAGES_MAX} pages").into(),
        ))
    }
}

#[async_trait]
impl AdminStore for DynamoStore {
    async fn create_account(
        &self,
        account: &Account,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let openings = account.opening_entries(now);
        if openings.len() + 1 > TRANSACT_ITEMS_MAX {
            return Err(StoreError::Unavailable(
                format!(
                    "an account opens with at most {} currencies",
                    TRANSACT_ITEMS_MAX - 1
                )
                .into(),
            ));
        }
        let put_account = Put::builder()
            .table_name(&self.tables.accounts)
            .set_item(Some(item::account_item(account)))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", item::CUSTOMER_ID)
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)?;
        let mut items = vec![TransactWriteItem::builder().put(put_account).build()];
        for e in &openings {
            items.push(
                TransactWriteItem::builder()
                    .put(self.ledger_put(e)?)
                    .build(),
            );
        }
        let token = call_token("create-account");
        match self.transact_retrying(items, &token).await? {
            TxOutcome::Done => Ok(()),
            TxOutcome::Cancelled(reasons) => {
                let reasons = Reasons(&reasons);
                if reasons.failed(0).is_some() {
                    Err(StoreError::AlreadyExists(format!(
                        "account {}",
                        account.customer_id
                    )))
                } else if (1..reasons.0.len()).any(|i| reasons.failed(i).is_some()) {
                    Err(StoreError::Corrupt(format!(
                        "opening ledger entries of {} exist without the account",
                        account.customer_id
                    )))
                } else {
                    Err(StoreError::Unavailable(
                        format!("transaction cancelled: {}", reasons.summary()).into(),
                    ))
                }
            }
        }
    }

    async fn credit(
        &self,
        customer_id: &CustomerId,
        money: Money,
        entry_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let update = credit_update(&self.tables.accounts, customer_id, money)?;
        let entry = LedgerEntry {
            customer_id: customer_id.clone(),
            entry_id: entry_id.to_string(),
            kind: EntryKind::Credit,
            money,
            payment_request_id: None,
            order_lifecycle_id: None,
            at: now,
        };
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder()
                .put(self.ledger_put(&entry)?)
                .build(),
        ];
        let token = call_token("credit");
        match self.transact_retrying(items, &token).await? {
            TxOutcome::Done => Ok(()),
            TxOutcome::Cancelled(reasons) => {
                let reasons = Reasons(&reasons);
                if reasons.failed(1).is_some() {
                    Ok(()) // the same top-up again: applied once
                } else if reasons.failed(0).is_some() {
                    Err(StoreError::NotFound(format!("account {customer_id}")))
                } else {
                    Err(StoreError::Unavailable(
                        format!("transaction cancelled: {}", reasons.summary()).into(),
                    ))
                }
            }
        }
    }

    async fn update_account_settings(
        &self,
        customer_id: &CustomerId,
        status: AccountStatus,
        kyc: KycStatus,
        limits: &BTreeMap<Currency, Limits>,
    ) -> Result<(), StoreError> {
        let key = item::key(item::CUSTOMER_ID, customer_id.as_str());
        let Some(current) = self.get(&self.tables.accounts, key.clone()).await? else {
            return Err(StoreError::NotFound(format!("account {customer_id}")));
        };
        // Every currency that has an entry now or will: the new explicit limits, unlimited
        // defaults for the rest (a held currency must keep an entry, see `item::LIMITS`).
        let mut currencies: BTreeSet<String> =
            limits.keys().map(|c| c.code().to_string()).collect();
        for attr in [item::LIMITS, item::BALANCES] {
            if let Some(aws_sdk_dynamodb::types::AttributeValue::M(m)) = current.get(attr) {
                currencies.extend(m.keys().cloned());
            }
        }
        let mut names = HashMap::from([
            ("#id".to_string(), item::CUSTOMER_ID.to_string()),
            ("#st".to_string(), item::STATUS.to_string()),
            ("#kyc".to_string(), item::KYC.to_string()),
            ("#lim".to_string(), item::LIMITS.to_string()),
        ]);
        let mut values = HashMap::from([
            (":st".to_string(), item::s(status.as_str())),
            (":kyc".to_string(), item::s(kyc.as_str())),
        ]);
        let mut sets = vec!["#st = :st".to_string(), "#kyc = :kyc".to_string()];
        for (i, code) in currencies.iter().enumerate() {
            let explicit = Currency::from_code(code)
                .and_then(|c| limits.get(&c))
                .copied();
            names.insert(format!("#c{i}"), code.clone());
            values.insert(
                format!(":l{i}"),
                item::limits(explicit.unwrap_or(Limits::UNLIMITED), explicit.is_some()),
            );
            sets.push(format!("#lim.#c{i} = :l{i}"));
        }
        let req = self
            .client
            .update_item()
            .table_name(&self.tables.accounts)
            .set_key(Some(key))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression("attribute_exists(#id)")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values));
        match send(Effect::Write, "UpdateItem", || req.clone().send()).await? {
            Ok(_) => Ok(()),
            Err(UpdateItemError::ConditionalCheckFailedException(_)) => {
                Err(StoreError::NotFound(format!("account {customer_id}")))
            }
            Err(e) => Err(unexpected("UpdateItem", e)),
        }
    }

    async fn put_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        self.put_plain(&self.tables.access_tokens, item::token_item(token))
            .await
    }

    async fn put_payment_code(&self, code: &PaymentCode) -> Result<(), StoreError> {
        self.put_plain(&self.tables.payment_codes, item::code_item(code))
            .await
    }

    async fn put_contacts(
        &self,
        customer_id: &CustomerId,
        contacts: &mpp_core::otp::Contacts,
    ) -> Result<(), StoreError> {
        self.set_contacts(customer_id, contacts).await
    }

    async fn ledger(&self, customer_id: &CustomerId) -> Result<Vec<LedgerEntry>, StoreError> {
        self.query_ledger(customer_id)
            .await?
            .iter()
            .map(item::ledger_from)
            .collect()
    }

    async fn payments(&self) -> Result<Vec<PaymentRecord>, StoreError> {
        self.scan(&self.tables.payments, None)
            .await?
            .iter()
            .map(item::payment_from)
            .collect()
    }

    async fn account_ids(&self) -> Result<Vec<CustomerId>, StoreError> {
        let items = self
            .scan(&self.tables.accounts, Some(item::CUSTOMER_ID))
            .await?;
        items
            .iter()
            .map(|i| match i.get(item::CUSTOMER_ID) {
                Some(aws_sdk_dynamodb::types::AttributeValue::S(id)) => Ok(CustomerId::new(id)),
                _ => Err(StoreError::Corrupt(
                    "account without customerId".to_string(),
                )),
            })
            .collect()
    }
}
