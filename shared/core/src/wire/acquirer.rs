//! The acquirer (ACQP) side of user-presented mode: the pay request an ACQP sends to Alipay+ and
//! Alipay+'s responses (`accept-a-payment-user-presented.md`). Lenient where that page's sample
//! omits fields the MPP-side pay marks required (`merchantDisplayName`, `payToAmount`, ids that
//! travel in headers), and spelled as the sample spells them (`store.storeMcc`).

use super::result::ResultObject;
use super::scalar::{opt_bounded_vec, Amount, CurrencyCode, Text, Timestamp};
use super::{OsType, ParamIllegal, TerminalType, Validate};
use crate::payments::{Address, Buyer, Goods, PaymentFactor, PaymentMethod, Shipping, GOODS_MAX};
use serde::{Deserialize, Serialize};

/// The pay request from the ACQP to Alipay+ (user-presented mode: the payment code is
/// `paymentMethod.paymentMethodId`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcqPayRequest {
    /// The ACQP's payment id: the idempotency key.
    pub payment_request_id: Text<64>,
    /// The order.
    pub order: AcqOrder,
    /// What the merchant charges.
    pub payment_amount: Amount,
    /// `CONNECT_WALLET` and the scanned code.
    pub payment_method: PaymentMethod,
    /// Scenario flags (`isInStorePayment`, `inStorePaymentScenario`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_factor: Option<PaymentFactor>,
    /// After this instant Alipay+ closes the order (at most 1 minute from the order anyway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_expiry_time: Option<Timestamp>,
    /// Where Alipay+ sends notifyPayment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_notify_url: Option<Text<2048>>,
    /// How the ACQP is settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_strategy: Option<SettlementStrategy>,
}

impl Validate for AcqPayRequest {
    /// User-presented mode: the payment code is the payer.
    fn validate(&self) -> Result<(), ParamIllegal> {
        if self.payment_method.payment_method_id.is_none() {
            return Err(ParamIllegal::new(
                "paymentMethod.paymentMethodId",
                "is required: it carries the payment code in user-presented mode",
            ));
        }
        self.payment_method.validate_payer("paymentMethod")
    }
}

/// The order as the ACQP sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcqOrder {
    /// The merchant's order id.
    pub reference_order_id: Text<64>,
    /// What was bought.
    pub order_description: Text<256>,
    /// The order amount.
    pub order_amount: Amount,
    /// The merchant.
    pub merchant: AcqMerchant,
    /// Up to 100 goods.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bounded_vec::<_, _, GOODS_MAX>"
    )]
    pub goods: Option<Vec<Goods>>,
    /// Shipping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Shipping>,
    /// The buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Buyer>,
    /// The terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<AcqEnv>,
}

/// The merchant as the ACQP sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcqMerchant {
    /// The merchant id.
    pub reference_merchant_id: Text<32>,
    /// Merchant category code (wire name `merchantMCC`).
    #[serde(rename = "merchantMCC")]
    pub merchant_mcc: Text<32>,
    /// Legal name.
    pub merchant_name: Text<256>,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_address: Option<Address>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_display_name: Option<Text<64>>,
    /// Registration date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_register_date: Option<Timestamp>,
    /// The store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<AcqStore>,
}

/// The store as the ACQP sends it: `storeMcc` (the sample's spelling; `storeMCC` also read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcqStore {
    /// The store id.
    pub reference_store_id: Text<32>,
    /// Legal name.
    pub store_name: Text<256>,
    /// Store category code.
    #[serde(alias = "storeMCC")]
    pub store_mcc: Text<32>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_display_name: Option<Text<64>>,
    /// Terminal id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_terminal_id: Option<Text<64>>,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_address: Option<Address>,
}

/// The terminal's environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcqEnv {
    /// Terminal id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_terminal_id: Option<Text<64>>,
    /// When the terminal sent the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_terminal_request_time: Option<Timestamp>,
    /// Terminal type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_type: Option<TerminalType>,
    /// OS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<OsType>,
    /// Device token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token_id: Option<Text<64>>,
    /// Client IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<Text<64>>,
    /// Cookie id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_id: Option<Text<64>>,
    /// User agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<Text<1024>>,
}

/// How the ACQP wants to be settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementStrategy {
    /// The settlement currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_currency: Option<CurrencyCode>,
}

/// Alipay+'s answer to the ACQP's pay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcqPayResponse {
    /// The outcome.
    pub result: ResultObject,
    /// The ACQP's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// The MPP's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psp_id: Option<Text<64>>,
    /// Alipay+'s payment id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Text<64>>,
    /// The amount paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_amount: Option<Amount>,
    /// When the payment became final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_time: Option<Timestamp>,
    /// The MPP's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text<64>>,
    /// The wallet the user paid with, e.g. `KAKAOPAY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_brand_name: Option<Text<128>>,
}

impl Validate for AcqPayResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}
