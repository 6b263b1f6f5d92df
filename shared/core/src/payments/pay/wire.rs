//! pay (Alipay+ → MPP): the request with every field of `pay-api-mpp.md`, and the response.

use crate::ids::CustomerId;
use crate::payments::{
    check_pair_mentions, check_promo_currency, check_quote, PaymentPromoDetail, Quote,
    SurchargeInfo, PROMO_DETAILS_MAX,
};
use crate::wire::{
    fingerprint, is_true, opt_bounded_vec, Amount, AuthorizationType, Flag, InStorePaymentScenario,
    Natural, OrderSource, OsType, ParamIllegal, PaymentMethodType, PaymentNetworkType, Region,
    ResultObject, TerminalType, Text, Timestamp, UserLoginIdType, Validate,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Most elements of `order.goods` (the spec's "Maximum size: 100 elements").
pub const GOODS_MAX: usize = 100;

/// The pay request Alipay+ sends to the MPP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayRequest {
    /// The ACQP's id at Alipay+.
    pub acquirer_id: Text<64>,
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The order the buyer and merchant agreed.
    pub order: Order,
    /// Alipay+'s id of the payment: the idempotency key.
    pub payment_request_id: Text<64>,
    /// What Alipay+ asks for, in the order's currency.
    pub payment_amount: Amount,
    /// What the MPP settles to Alipay+, in the MPP's currency.
    pub pay_to_amount: Amount,
    /// Exchange rate between paymentAmount and payToAmount currencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_quote: Option<Quote>,
    /// Surcharge collected from the user (iff `needSurcharge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surcharge_info: Option<SurchargeInfo>,
    /// Who pays and how.
    pub payment_method: PaymentMethod,
    /// Scenario flags.
    pub payment_factor: PaymentFactor,
    /// After this instant the order is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_expiry_time: Option<Timestamp>,
    /// Where to send notifyPayment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_notify_url: Option<Text<2048>>,
    /// Links a supplemental payment to the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_lifecycle_id: Option<Text<64>>,
    /// Promotions applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_promo_info: Option<PaymentPromoInfo>,
    /// Card-network (Mastercard NFC) details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_network_additional_info: Option<PaymentNetworkAdditionalInfo>,
    /// Opaque key-value text from the ACQP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_through_info: Option<Text<20000>>,
}

/// The key parameters of a pay request, in a fixed order, for the idempotency fingerprint.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PayKey<'a> {
    payment_amount: &'a Amount,
    pay_to_amount: &'a Amount,
    surcharge_info: Option<&'a SurchargeInfo>,
    payment_method: &'a PaymentMethod,
    payment_promo_info: Option<&'a PaymentPromoInfo>,
}

impl PayRequest {
    /// A payment evaluation: `isAgreementPayment` and `isPaymentEvaluation` both `"true"`.
    pub fn is_evaluation(&self) -> bool {
        is_true(self.payment_factor.is_agreement_payment)
            && is_true(self.payment_factor.is_payment_evaluation)
    }

    /// Lower-hex SHA-256 over the key parameters (paymentAmount, payToAmount, surchargeInfo,
    /// paymentMethod, paymentPromoInfo): equal key parameters give the equal fingerprint.
    pub fn key_fingerprint(&self) -> String {
        fingerprint(&PayKey {
            payment_amount: &self.payment_amount,
            pay_to_amount: &self.pay_to_amount,
            surcharge_info: self.surcharge_info.as_ref(),
            payment_method: &self.payment_method,
            payment_promo_info: self.payment_promo_info.as_ref(),
        })
    }
}

impl Validate for PayRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        let f = &self.payment_factor;
        self.payment_method.validate_payer("paymentMethod")?;
        if is_true(f.is_payment_evaluation) && !is_true(f.is_agreement_payment) {
            return Err(ParamIllegal::new(
                "paymentFactor.isAgreementPayment",
                "must be \"true\" when paymentFactor.isPaymentEvaluation is \"true\"",
            ));
        }
        if is_true(f.is_supplemental_payment) && self.order_lifecycle_id.is_none() {
            return Err(ParamIllegal::new(
                "orderLifecycleId",
                "is required when paymentFactor.isSupplementalPayment is \"true\"",
            ));
        }
        let pay = self.payment_amount.currency;
        let pay_to = self.pay_to_amount.currency;
        match &self.payment_quote {
            None if pay != pay_to => {
                return Err(ParamIllegal::new(
                    "paymentQuote",
                    "is required when payToAmount.currency differs from paymentAmount.currency",
                ));
            }
            None => {}
            Some(q) => {
                check_pair_mentions(
                    q.quote_currency_pair,
                    pay,
                    pay_to,
                    "paymentQuote.quoteCurrencyPair",
                    "paymentAmount and payToAmount currencies",
                )?;
                check_quote(q, "paymentQuote")?;
            }
        }
        match (&self.surcharge_info, is_true(f.need_surcharge)) {
            (None, true) => {
                return Err(ParamIllegal::new(
                    "surchargeInfo",
                    "is required when paymentFactor.needSurcharge is \"true\"",
                ));
            }
            (Some(_), false) => {
                return Err(ParamIllegal::new(
                    "surchargeInfo",
                    "must be absent unless paymentFactor.needSurcharge is \"true\"",
                ));
            }
            (Some(s), true) => s.validate_against(pay, "surchargeInfo")?,
            (None, false) => {}
        }
        if let Some(p) = &self.payment_promo_info {
            check_promo_currency(
                p.payment_promo_details.as_deref(),
                pay_to,
                "paymentPromoInfo.paymentPromoDetails",
                "payToAmount.currency",
            )?;
        }
        Ok(())
    }
}

/// The order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The merchant's order id.
    pub reference_order_id: Text<64>,
    /// What was bought.
    pub order_description: Text<256>,
    /// The order amount shown to the user.
    pub order_amount: Amount,
    /// The merchant.
    pub merchant: Merchant,
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
    /// The user's device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Env>,
}

/// The merchant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Merchant {
    /// Alipay+'s merchant id.
    pub reference_merchant_id: Text<32>,
    /// Merchant category code (wire name `merchantMCC`).
    #[serde(rename = "merchantMCC")]
    pub merchant_mcc: Text<32>,
    /// Legal name.
    pub merchant_name: Text<256>,
    /// Where the payment happens.
    pub merchant_address: Address,
    /// Display name. REQUIRED on the pay page, absent from the auto-debit and evaluation
    /// samples: optional here (see `docs/wire.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_display_name: Option<Text<64>>,
    /// When the merchant registered its business.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_register_date: Option<Timestamp>,
    /// The store, in-store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<Store>,
}

/// A merchant's store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Store {
    /// The merchant's store id.
    pub reference_store_id: Text<32>,
    /// Legal name.
    pub store_name: Text<256>,
    /// Store category code (wire name `storeMCC`).
    #[serde(rename = "storeMCC")]
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

/// An address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// ISO 3166 alpha-2.
    pub region: Region,
    /// State or province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Text<64>>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<Text<64>>,
    /// Line 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address1: Option<Text<256>>,
    /// Line 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<Text<256>>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<Text<32>>,
}

/// One line of goods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Goods {
    /// The merchant's goods id.
    pub reference_goods_id: Text<64>,
    /// Name.
    pub goods_name: Text<256>,
    /// Category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_category: Option<Text<256>>,
    /// Unit price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_unit_amount: Option<Amount>,
    /// Quantity, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_quantity: Option<Natural>,
}

/// Shipping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipping {
    /// Recipient.
    pub shipping_name: UserName,
    /// Address.
    pub shipping_address: Address,
    /// Carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_carrier: Option<Text<128>>,
    /// Recipient's phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_phone_no: Option<Text<16>>,
}

/// A person's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserName {
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Text<32>>,
    /// Middle name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<Text<32>>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<Text<32>>,
    /// Full name.
    pub full_name: Text<128>,
}

/// The buyer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    /// The merchant's buyer id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_buyer_id: Option<Text<64>>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_name: Option<UserName>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_phone_no: Option<Text<24>>,
    /// Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_email: Option<Text<64>>,
}

/// The user's device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Env {
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

/// The payment method. `Debug` hides `paymentMethodId` (an access token or payment code),
/// `customData` and `paymentMethodMetaData.userLoginId`, and masks `customerId`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethod {
    /// Wallet type.
    pub payment_method_type: PaymentMethodType,
    /// Access token (auto debit) or payment code (user-presented). Max 128: our decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_id: Option<Text<128>>,
    /// The MPP's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text<64>>,
    /// Login id and the like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_meta_data: Option<PaymentMethodMetaData>,
    /// Data the MPP app generated (NFC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Text<20>>,
}

impl fmt::Debug for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentMethod")
            .field("payment_method_type", &self.payment_method_type)
            .field(
                "payment_method_id",
                &self.payment_method_id.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "customer_id",
                &self
                    .customer_id
                    .as_ref()
                    .map(|c| CustomerId::new(c.as_str()).masked()),
            )
            .field("payment_method_meta_data", &self.payment_method_meta_data)
            .field(
                "custom_data",
                &self.custom_data.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl PaymentMethod {
    /// The payer is named by exactly one of paymentMethodId, customerId and
    /// paymentMethodMetaData.userLoginId; userLoginId and userLoginIdType go together.
    pub(crate) fn validate_payer(&self, path: &str) -> Result<(), ParamIllegal> {
        let meta = self.payment_method_meta_data.as_ref();
        let login = meta.and_then(|m| m.user_login_id.as_ref());
        let named = [
            self.payment_method_id.is_some(),
            self.customer_id.is_some(),
            login.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if named != 1 {
            return Err(ParamIllegal::new(
                path,
                format!(
                    "must name the payer by exactly one of paymentMethodId, customerId or \
                     paymentMethodMetaData.userLoginId (got {named})"
                ),
            ));
        }
        if let Some(m) = meta {
            match (&m.user_login_id, &m.user_login_id_type) {
                (Some(_), None) => {
                    return Err(ParamIllegal::new(
                        format!("{path}.paymentMethodMetaData.userLoginIdType"),
                        "is required with userLoginId",
                    ));
                }
                (None, Some(_)) => {
                    return Err(ParamIllegal::new(
                        format!("{path}.paymentMethodMetaData.userLoginId"),
                        "is required with userLoginIdType",
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Payment-method metadata.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodMetaData {
    /// The ACQP's auth client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_client_id: Option<Text<64>>,
    /// The user's login (phone or email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_login_id: Option<Text<128>>,
    /// What kind of login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_login_id_type: Option<UserLoginIdType>,
}

impl fmt::Debug for PaymentMethodMetaData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentMethodMetaData")
            .field("auth_client_id", &self.auth_client_id)
            .field(
                "user_login_id",
                &self.user_login_id.as_ref().map(|_| "<redacted>"),
            )
            .field("user_login_id_type", &self.user_login_id_type)
            .finish()
    }
}

/// Scenario flags; absent flags mean `false`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFactor {
    /// In-store (else online).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_in_store_payment: Option<Flag>,
    /// The MPP collects a surcharge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_surcharge: Option<Flag>,
    /// A cashier page is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_cashier_payment: Option<Flag>,
    /// In-store scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_store_payment_scenario: Option<InStorePaymentScenario>,
    /// Authorization type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_type: Option<AuthorizationType>,
    /// A supplemental payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_supplemental_payment: Option<Flag>,
    /// Transit debt recovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_transit_debt_recovery: Option<Flag>,
    /// Domestic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_domestic: Option<Flag>,
    /// Auto debit with an access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_agreement_payment: Option<Flag>,
    /// Evaluation only: check, move no money.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_payment_evaluation: Option<Flag>,
}

/// Promotions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPromoInfo {
    /// Up to [`PROMO_DETAILS_MAX`] promotions.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bounded_vec::<_, _, PROMO_DETAILS_MAX>"
    )]
    pub payment_promo_details: Option<Vec<PaymentPromoDetail>>,
}

/// Card-network details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentNetworkAdditionalInfo {
    /// Terminal or e-commerce.
    pub order_source: OrderSource,
    /// The network's lifecycle id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_network_lifecycle_id: Option<Text<64>>,
    /// The network's transaction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_network_order_id: Option<Text<64>>,
    /// The network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_network_type: Option<PaymentNetworkType>,
}

/// The MPP's answer to pay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayResponse {
    /// The outcome.
    pub result: ResultObject,
    /// Our payment id (on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Text<64>>,
    /// When the payment became final (on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_time: Option<Timestamp>,
    /// The user (on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text<64>>,
    /// Opaque text for the ACQP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_through_info: Option<Text<20000>>,
    /// A page for the user (KYC, top-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guide_url: Option<Text<2048>>,
}

impl PayResponse {
    /// A response carrying only `result`.
    pub fn result_only(result: ResultObject) -> PayResponse {
        PayResponse {
            result,
            payment_id: None,
            payment_time: None,
            customer_id: None,
            pass_through_info: None,
            guide_url: None,
        }
    }
}

impl Validate for PayResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}
