//! A merchant as an acquirer's terminal configuration knows it, and the order it sends for one
//! sale: the shape of the seed page's sample.

use chrono::{DateTime, Utc};
use mpp_core::clock::business_tz;
use mpp_core::payments::Address;
use mpp_core::wire::acquirer::{AcqEnv, AcqMerchant, AcqOrder, AcqStore};
use mpp_core::wire::{Amount, ParamIllegal, Region, Text, Timestamp};

/// A merchant, its store and terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merchant {
    /// `referenceMerchantId`.
    pub id: String,
    /// Legal name.
    pub name: String,
    /// Merchant category code.
    pub mcc: String,
    /// ISO 3166 alpha-2 region of the merchant.
    pub region: String,
    /// `referenceStoreId`.
    pub store_id: String,
    /// Store name.
    pub store_name: String,
    /// The terminal that scanned.
    pub terminal_id: String,
}

impl Merchant {
    /// The seed page's sample merchant (a Japanese store, MCC 1405).
    pub fn sample() -> Merchant {
        Merchant {
            id: "M00000000001".into(),
            name: "cup Hu".into(),
            mcc: "1405".into(),
            region: "JP".into(),
            store_id: "S0000000001".into(),
            store_name: "UGG-2".into(),
            terminal_id: "122222".into(),
        }
    }

    /// The order for one sale; every field checked by the wire rules.
    pub fn order(
        &self,
        reference_order_id: &str,
        description: &str,
        amount: Amount,
        scanned_at: DateTime<Utc>,
    ) -> Result<AcqOrder, ParamIllegal> {
        fn text<const N: usize>(field: &str, s: &str) -> Result<Text<N>, ParamIllegal> {
            Text::new(s).map_err(|rule| ParamIllegal::new(field, rule))
        }
        let region = Region::parse(&self.region)
            .map_err(|rule| ParamIllegal::new("order.merchant.merchantAddress.region", rule))?;
        Ok(AcqOrder {
            reference_order_id: text("order.referenceOrderId", reference_order_id)?,
            order_description: text("order.orderDescription", description)?,
            order_amount: amount,
            merchant: AcqMerchant {
                reference_merchant_id: text("order.merchant.referenceMerchantId", &self.id)?,
                merchant_mcc: text("order.merchant.merchantMCC", &self.mcc)?,
                merchant_name: text("order.merchant.merchantName", &self.name)?,
                merchant_address: Some(Address {
                    region,
                    state: None,
                    city: None,
                    address1: None,
                    address2: None,
                    zip_code: None,
                }),
                merchant_display_name: None,
                merchant_register_date: None,
                store: Some(AcqStore {
                    reference_store_id: text(
                        "order.merchant.store.referenceStoreId",
                        &self.store_id,
                    )?,
                    store_name: text("order.merchant.store.storeName", &self.store_name)?,
                    store_mcc: text("order.merchant.store.storeMcc", &self.mcc)?,
                    store_display_name: None,
                    store_terminal_id: None,
                    store_address: None,
                }),
            },
            goods: None,
            shipping: None,
            buyer: None,
            env: Some(AcqEnv {
                store_terminal_id: Some(text("order.env.storeTerminalId", &self.terminal_id)?),
                store_terminal_request_time: Some(Timestamp::from_datetime(
                    scanned_at.with_timezone(&business_tz()),
                )),
                terminal_type: None,
                os_type: None,
                device_token_id: None,
                client_ip: None,
                cookie_id: None,
                user_agent: None,
            }),
        })
    }
}
