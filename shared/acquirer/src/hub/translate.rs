//! The acquirer's pay becomes the MPP's pay: Alipay+'s own `paymentRequestId`, `acquirerId` and
//! `pspId` added, `payToAmount` converted with the configured rate and explained by
//! `paymentQuote`, `paymentNotifyUrl` pointing back at the hub, `paymentExpiryTime` set to the
//! final expiry, and the order re-shaped into the MPP-side types.

use super::quote::{convert, ConvertError, Rate};
use chrono::{DateTime, Utc};
use mpp_core::clock::business_tz;
use mpp_core::money::Currency;
use mpp_core::payments::check_amounts;
use mpp_core::payments::{Env, Merchant, Order, PayRequest, PaymentMethod, Store};
use mpp_core::result_code::ResultCode;
use mpp_core::wire::acquirer::{AcqEnv, AcqOrder, AcqPayRequest, AcqStore};
use mpp_core::wire::{
    parse_request, to_body, Flag, InStorePaymentScenario, ParamIllegal, Text, Timestamp,
};

/// Why the acquirer's pay cannot become an MPP pay: a code and a message for the acquirer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Untranslatable {
    /// The code answered (F).
    pub code: ResultCode,
    /// Why.
    pub message: String,
}

impl From<ParamIllegal> for Untranslatable {
    fn from(p: ParamIllegal) -> Untranslatable {
        Untranslatable {
            code: ResultCode::ParamIllegal,
            message: p.to_string(),
        }
    }
}

impl From<ConvertError> for Untranslatable {
    fn from(e: ConvertError) -> Untranslatable {
        let code = match e {
            ConvertError::NoRate { .. } => ResultCode::CurrencyNotSupport,
            ConvertError::OutOfRange(_) => ResultCode::ParamIllegal,
        };
        Untranslatable {
            code,
            message: e.to_string(),
        }
    }
}

/// What the hub adds to every MPP pay.
#[derive(Clone, Debug)]
pub struct Additions<'a> {
    /// Alipay+'s id of this payment (the MPP's `paymentRequestId`).
    pub mpp_payment_request_id: &'a str,
    /// The acquirer's id at Alipay+.
    pub acquirer_id: &'a str,
    /// The MPP's id at Alipay+.
    pub psp_id: &'a str,
    /// The MPP's settlement currency.
    pub mpp_currency: Currency,
    /// Configured rates.
    pub rates: &'a [Rate],
    /// Where the MPP notifies (the hub).
    pub notify_url: &'a str,
    /// The final expiry.
    pub expires_at: DateTime<Utc>,
    /// A code the hub issued through getPaymentCode, decoded to the MPP's user: the MPP's pay
    /// names the user by `customerId` instead of carrying the code (`user-presented-mpp.md` §1).
    pub customer_id: Option<&'a str>,
}

/// Builds the MPP's pay, checked by the MPP's own validator and quote arithmetic before it is
/// sent (what we send must pass the rules we hold others to).
pub fn to_mpp_pay(acq: &AcqPayRequest, add: &Additions<'_>) -> Result<PayRequest, Untranslatable> {
    let (pay_to_amount, payment_quote) =
        match convert(acq.payment_amount, add.mpp_currency, add.rates)? {
            Some((amount, quote)) => (amount, Some(quote)),
            None => (acq.payment_amount, None),
        };
    let mut factor = acq.payment_factor.clone().unwrap_or_default();
    // A code scanned in store; an auto-debit pay (an access token, `isAgreementPayment`) keeps
    // the merchant's factor as sent.
    if !mpp_core::wire::is_true(factor.is_agreement_payment) {
        factor.in_store_payment_scenario = Some(InStorePaymentScenario::PaymentCode);
        factor.is_in_store_payment = Some(Flag::new(true));
    }
    let text = |field: &'static str, s: &str| {
        Text::<64>::new(s).map_err(|rule| ParamIllegal::new(field, rule))
    };
    let req = PayRequest {
        acquirer_id: text("acquirerId", add.acquirer_id)?,
        psp_id: text("pspId", add.psp_id)?,
        order: mpp_order(&acq.order)?,
        payment_request_id: text("paymentRequestId", add.mpp_payment_request_id)?,
        payment_amount: acq.payment_amount,
        pay_to_amount,
        payment_quote,
        surcharge_info: None,
        payment_method: match add.customer_id {
            Some(c) => PaymentMethod {
                payment_method_type: acq.payment_method.payment_method_type.clone(),
                payment_method_id: None,
                customer_id: Some(
                    Text::new(c)
                        .map_err(|rule| ParamIllegal::new("paymentMethod.customerId", rule))?,
                ),
                payment_method_meta_data: None,
                custom_data: None,
            },
            None => acq.payment_method.clone(),
        },
        payment_factor: factor,
        payment_expiry_time: Some(Timestamp::from_datetime(
            add.expires_at.with_timezone(&business_tz()),
        )),
        payment_notify_url: Some(
            Text::new(add.notify_url)
                .map_err(|rule| ParamIllegal::new("paymentNotifyUrl", rule))?,
        ),
        order_lifecycle_id: None,
        payment_promo_info: None,
        payment_network_additional_info: None,
        pass_through_info: None,
    };
    let checked = parse_request::<PayRequest>(&to_body(&req))?;
    check_amounts(&checked)?;
    Ok(checked)
}

fn mpp_order(o: &AcqOrder) -> Result<Order, ParamIllegal> {
    let m = &o.merchant;
    let merchant_address = m.merchant_address.clone().ok_or_else(|| {
        ParamIllegal::new(
            "order.merchant.merchantAddress",
            "is required: the MPP needs the merchant's region",
        )
    })?;
    Ok(Order {
        reference_order_id: o.reference_order_id.clone(),
        order_description: o.order_description.clone(),
        order_amount: o.order_amount,
        merchant: Merchant {
            reference_merchant_id: m.reference_merchant_id.clone(),
            merchant_mcc: m.merchant_mcc.clone(),
            merchant_name: m.merchant_name.clone(),
            merchant_address,
            merchant_display_name: m.merchant_display_name.clone(),
            merchant_register_date: m.merchant_register_date.clone(),
            store: m.store.as_ref().map(mpp_store),
        },
        goods: o.goods.clone(),
        shipping: o.shipping.clone(),
        buyer: o.buyer.clone(),
        env: o.env.as_ref().and_then(mpp_env),
    })
}

fn mpp_store(s: &AcqStore) -> Store {
    Store {
        reference_store_id: s.reference_store_id.clone(),
        store_name: s.store_name.clone(),
        store_mcc: s.store_mcc.clone(),
        store_display_name: s.store_display_name.clone(),
        store_terminal_id: s.store_terminal_id.clone(),
        store_address: s.store_address.clone(),
    }
}

/// The user's device as the MPP reads it; the terminal fields stay with Alipay+.
fn mpp_env(e: &AcqEnv) -> Option<Env> {
    let env = Env {
        terminal_type: e.terminal_type,
        os_type: e.os_type,
        device_token_id: e.device_token_id.clone(),
        client_ip: e.client_ip.clone(),
        cookie_id: e.cookie_id.clone(),
        user_agent: e.user_agent.clone(),
    };
    let empty = env.terminal_type.is_none()
        && env.os_type.is_none()
        && env.device_token_id.is_none()
        && env.client_ip.is_none()
        && env.cookie_id.is_none()
        && env.user_agent.is_none();
    (!empty).then_some(env)
}
