//! What the hub does with each call. Every function answers (never fails): an MPP that does not
//! answer, or answers unverifiably, becomes U `UNKNOWN_EXCEPTION` for the acquirer, who then
//! re-sends or inquires, as the seed page says.

use super::faults::FaultKind;
use super::translate::{to_mpp_pay, Additions, Untranslatable};
use super::{
    Forward, HubPayment, HubState, IssuedCode, Records, ISSUED_CODES_MAX, ISSUED_CODE_DIGITS,
    ISSUED_CODE_PREFIX, PAYMENTS_MAX,
};
use crate::code::identify;
use crate::expiry::{final_expiry, to_wire_second};
use crate::gateway::{decode, Reply, CANCEL_PATH, INQUIRY_PATH, PAY_PATH};
use crate::messages::{AcqCancelRequest, AcqInquiryRequest};
use chrono::Utc;
use mpp_client::SignedClient;
use mpp_core::codes::{GetPaymentCodeRequest, GetPaymentCodeResponse, PaymentCodeInfo};
use mpp_core::flows::new_id;
use mpp_core::payments::{
    CancelPaymentRequest, CancelPaymentResponse, InquiryPaymentRequest, InquiryPaymentResponse,
    NotifyPaymentRequest, NotifyPaymentResponse, PayResponse,
};
use mpp_core::result_code::{ResultCode, ResultStatus};
use mpp_core::wire::acquirer::{AcqPayRequest, AcqPayResponse};
use mpp_core::wire::{to_body, ResultObject, Text, Timestamp};
use std::sync::Arc;

fn result_with(code: ResultCode, message: Option<String>) -> ResultObject {
    let mut r = ResultObject::from(code);
    if let Some(m) = message {
        r.result_message = Some(m.chars().take(256).collect());
    }
    r
}

fn pay_answer(result: ResultObject) -> AcqPayResponse {
    AcqPayResponse {
        result,
        acquirer_id: None,
        psp_id: None,
        payment_id: None,
        payment_amount: None,
        payment_time: None,
        customer_id: None,
        wallet_brand_name: None,
    }
}

fn refuse(code: ResultCode, message: impl Into<String>) -> AcqPayResponse {
    pay_answer(result_with(code, Some(message.into())))
}

fn inquiry_answer(
    result: ResultObject,
    payment_result: Option<ResultObject>,
) -> InquiryPaymentResponse {
    InquiryPaymentResponse {
        result,
        payment_result,
        payment_request_id: None,
        payment_id: None,
        payment_time: None,
        payment_amount: None,
        pay_to_amount: None,
        customer_id: None,
        order_lifecycle_id: None,
    }
}

/// The acquirer's idempotency key parameters (§6): amount and payment method.
fn fingerprint(req: &AcqPayRequest) -> Vec<u8> {
    to_body(&(&req.payment_amount, &req.payment_method))
}

/// Is `url` an http(s) URL on a loopback host? The hub POSTs to whatever the acquirer names,
/// so it only ever posts to this machine.
fn loopback_url(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    let host = u.host_str().unwrap_or("");
    let host_ok = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    host_ok && matches!(u.scheme(), "http" | "https")
}

/// What pay does after the checks.
enum Plan {
    /// Answer now with this code.
    Answer(ResultCode),
    /// Send the stored MPP pay (again).
    Forward,
}

/// The acquirer's pay.
pub(super) async fn pay(
    hub: &Arc<HubState>,
    req: AcqPayRequest,
    fault: Option<FaultKind>,
) -> AcqPayResponse {
    let answer = pay_checked(hub, &req, fault).await;
    match fault {
        Some(FaultKind::AnswerU(code)) => {
            tracing::warn!(flow = "hub", payment_request_id = %req.payment_request_id, result_code = code.code(), "fault: pay answered U");
            pay_answer(ResultObject::from(code))
        }
        Some(FaultKind::Drop | FaultKind::Delay(_) | FaultKind::Slow(_) | FaultKind::Deny)
        | None => answer,
    }
}

async fn pay_checked(
    hub: &Arc<HubState>,
    req: &AcqPayRequest,
    fault: Option<FaultKind>,
) -> AcqPayResponse {
    let acq_id = req.payment_request_id.as_str();
    let plan = repeat_plan(hub, acq_id, &fingerprint(req));
    match plan {
        Some(Plan::Answer(code)) => return pay_answer(ResultObject::from(code)),
        Some(Plan::Forward) => return forward_pay(hub, acq_id).await,
        None => {}
    }
    let payment = match new_payment(hub, req) {
        Ok(p) => p,
        Err(refusal) => return refuse(refusal.code, refusal.message),
    };
    {
        let mut records = hub.records();
        if records.by_acq.len() >= PAYMENTS_MAX {
            return pay_answer(ResultObject::from(ResultCode::RequestTrafficExceedLimit));
        }
        if records.by_acq.contains_key(acq_id) {
            // A racing copy of the same request got there first and is being forwarded.
            return pay_answer(ResultObject::from(ResultCode::PaymentInProcess));
        }
        // A hub-issued code is taken only now, with the payment recorded under the same lock:
        // a pay refused before this point (no rate, bad expiry) leaves the code usable, and of
        // two payments racing for one code exactly one gets it.
        if let Some(code) = &payment.issued_code {
            if let Err(refusal) = usable_issued_code(&records, code, acq_id, Utc::now()) {
                return refuse(refusal.code, refusal.message);
            }
            if let Some(c) = records.issued.get_mut(code) {
                c.used_by = Some(acq_id.to_string());
            }
        }
        records
            .by_mpp
            .insert(payment.mpp_payment_request_id.clone(), acq_id.to_string());
        records.by_acq.insert(acq_id.to_string(), payment);
    }
    if let Some(FaultKind::Slow(d)) = fault {
        tracing::warn!(flow = "hub", payment_request_id = %acq_id, delay_ms = d.as_millis() as u64, "fault: slow MPP");
        let h = hub.clone();
        let id = acq_id.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            let late = forward_pay(&h, &id).await;
            tracing::info!(flow = "hub", payment_request_id = %id, result_code = %late.result.result_code, "slow MPP answered");
        });
        return pay_answer(ResultObject::from(ResultCode::PaymentInProcess));
    }
    forward_pay(hub, acq_id).await
}

/// For a `paymentRequestId` the hub has seen: the answer, or "forward it again".
fn repeat_plan(hub: &HubState, acq_id: &str, fingerprint: &[u8]) -> Option<Plan> {
    let mut records = hub.records();
    if records.closed_unseen.contains(acq_id) {
        return Some(Plan::Answer(ResultCode::OrderIsClosed));
    }
    let p = records.by_acq.get_mut(acq_id)?;
    if p.fingerprint != fingerprint {
        return Some(Plan::Answer(ResultCode::RepeatReqInconsistent));
    }
    if p.closed {
        return Some(Plan::Answer(ResultCode::OrderIsClosed));
    }
    match p.forward {
        Forward::InFlight => Some(Plan::Answer(ResultCode::PaymentInProcess)),
        Forward::Answered | Forward::NoAnswer => {
            p.forward = Forward::InFlight;
            Some(Plan::Forward)
        }
    }
}

/// Checks a new pay and builds the MPP's pay for it.
fn new_payment(hub: &HubState, req: &AcqPayRequest) -> Result<HubPayment, Untranslatable> {
    let invalid_code = |message: String| Untranslatable {
        code: ResultCode::InvalidCode,
        message,
    };
    let raw = req
        .payment_method
        .payment_method_id
        .as_ref()
        .map(|t| t.as_str())
        .unwrap_or("");
    let now = Utc::now();
    // Auto debit (issue 18: `mpp merchant charge`): the payer is an access token, not a code;
    // it goes to the MPP of the token's prefix, else the first MPP (tokens the MPP issued at
    // binding carry no network prefix).
    let agreement = req
        .payment_factor
        .as_ref()
        .is_some_and(|f| mpp_core::wire::is_true(f.is_agreement_payment));
    let (issued, issued_code, prefix) = if agreement {
        let prefix = hub
            .route_for(raw)
            .map(|(p, _)| p.to_string())
            .or_else(|| hub.mpp.first().map(|(p, _)| p.clone()))
            .ok_or_else(|| invalid_code("no MPP is routed".into()))?;
        (None, None, prefix)
    } else {
        let code = identify(raw).map_err(|e| invalid_code(e.to_string()))?;
        let issued = if code.expose().starts_with(ISSUED_CODE_PREFIX) {
            let records = hub.records();
            Some(usable_issued_code(
                &records,
                code.expose(),
                req.payment_request_id.as_str(),
                now,
            )?)
        } else {
            None
        };
        let prefix = match &issued {
            Some(c) => c.route_prefix.clone(),
            None => hub
                .route_for(code.expose())
                .map(|(p, _)| p.to_string())
                .ok_or_else(|| {
                    invalid_code(format!(
                        "no MPP is routed for codes starting {}",
                        code.prefix()
                    ))
                })?,
        };
        let issued_code = issued.as_ref().map(|_| code.expose().to_string());
        (issued, issued_code, prefix)
    };
    let notify = req
        .payment_notify_url
        .as_ref()
        .map(|u| u.as_str().to_string());
    if let Some(url) = &notify {
        if !loopback_url(url) {
            return Err(Untranslatable {
                code: ResultCode::ParamIllegal,
                message:
                    "paymentNotifyUrl: the local hub only notifies http(s) URLs on this machine"
                        .into(),
            });
        }
    }
    let requested = req.payment_expiry_time.as_ref().map(|t| t.utc());
    let expires_at = match final_expiry(now, requested, hub.config.order_life) {
        Ok(at) => to_wire_second(at),
        Err(e) => {
            return Err(Untranslatable {
                code: ResultCode::OrderIsClosed,
                message: e.to_string(),
            })
        }
    };
    let mpp_id = new_id(now);
    let additions = Additions {
        mpp_payment_request_id: &mpp_id,
        acquirer_id: &hub.config.acquirer_id,
        psp_id: &hub.config.psp_id,
        mpp_currency: hub.config.mpp_currency,
        rates: &hub.config.rates,
        notify_url: &hub.notify_url,
        expires_at,
        customer_id: issued.as_ref().map(|c| c.customer_id.as_str()),
    };
    let mpp_pay = to_mpp_pay(req, &additions)?;
    Ok(HubPayment {
        acq_payment_request_id: req.payment_request_id.as_str().to_string(),
        mpp_payment_request_id: mpp_id,
        route_prefix: prefix,
        payment_amount: req.payment_amount,
        pay_to_amount: mpp_pay.pay_to_amount,
        acquirer_notify_url: notify,
        forward: Forward::InFlight,
        pay_forwards: 0,
        mpp_result: None,
        closed: false,
        notifications_received: 0,
        notifications_forwarded: 0,
        fingerprint: fingerprint(req),
        mpp_body: to_body(&mpp_pay),
        issued_code,
    })
}

/// Whether a code the hub issued may pay the acquirer's payment `acq_id`: unknown or used by
/// another payment → `INVALID_CODE`, past its minute → `EXPIRED_CODE` (the pay page's codes).
fn usable_issued_code(
    records: &Records,
    code: &str,
    acq_id: &str,
    now: chrono::DateTime<Utc>,
) -> Result<IssuedCode, Untranslatable> {
    let refuse = |code: ResultCode, message: &str| Untranslatable {
        code,
        message: message.to_string(),
    };
    let Some(issued) = records.issued.get(code) else {
        return Err(refuse(
            ResultCode::InvalidCode,
            "this code was not issued by getPaymentCode",
        ));
    };
    match issued.used_by.as_deref() {
        Some(by) if by != acq_id => Err(refuse(
            ResultCode::InvalidCode,
            "this code was already used",
        )),
        Some(_) => Ok(issued.clone()),
        None if now >= issued.expires_at => {
            Err(refuse(ResultCode::ExpiredCode, "this code has expired"))
        }
        None => Ok(issued.clone()),
    }
}

/// getPaymentCode from the MPP: `codeQuantity` fresh codes for its customer, each valid for the
/// configured minute and single use. The codes belong to the first route's MPP (the hub serves
/// one MPP client id).
pub(super) fn get_payment_code(
    hub: &HubState,
    req: GetPaymentCodeRequest,
) -> GetPaymentCodeResponse {
    let failed = |code: ResultCode| GetPaymentCodeResponse {
        result: ResultObject::from(code),
        payment_code_info_list: None,
    };
    let Some((route_prefix, _)) = hub.mpp.first() else {
        return failed(ResultCode::UnknownException);
    };
    let now = Utc::now();
    let start = to_wire_second(now);
    let expires_at = start + hub.config.code_life;
    let mut records = hub.records();
    if records.issued.len() >= ISSUED_CODES_MAX {
        records.issued.retain(|_, c| c.expires_at > now);
    }
    let quantity = usize::try_from(req.quantity()).unwrap_or(usize::MAX);
    if records.issued.len().saturating_add(quantity) > ISSUED_CODES_MAX {
        return failed(ResultCode::RequestTrafficExceedLimit);
    }
    let mut list = Vec::with_capacity(quantity);
    // Bounded by codeQuantity (at most 10, checked by the wire rules).
    for _ in 0..quantity {
        let code = loop {
            // A repeat of a live code is astronomically unlikely (20 random digits); draw again.
            let candidate = issued_code_digits();
            if !records.issued.contains_key(&candidate) {
                break candidate;
            }
        };
        let (Ok(payment_code), Some(start_t), Some(expiry_t)) = (
            Text::new(code.as_str()),
            wire_timestamp(start),
            wire_timestamp(expires_at),
        ) else {
            return failed(ResultCode::UnknownException);
        };
        records.issued.insert(
            code,
            IssuedCode {
                customer_id: req.customer_id.as_str().to_string(),
                route_prefix: route_prefix.clone(),
                expires_at,
                used_by: None,
            },
        );
        list.push(PaymentCodeInfo {
            payment_code,
            code_validity_start_time: start_t,
            code_expiry_time: expiry_t,
        });
    }
    tracing::info!(flow = "hub", codes = list.len(), "payment codes issued");
    GetPaymentCodeResponse {
        result: ResultObject::from(ResultCode::Success),
        payment_code_info_list: Some(list),
    }
}

/// [`ISSUED_CODE_PREFIX`] and random digits, [`ISSUED_CODE_DIGITS`] in all.
fn issued_code_digits() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut code = String::with_capacity(ISSUED_CODE_DIGITS);
    code.push_str(ISSUED_CODE_PREFIX);
    while code.len() < ISSUED_CODE_DIGITS {
        code.push(char::from(b'0' + rng.gen_range(0..10u8)));
    }
    code
}

fn wire_timestamp(at: chrono::DateTime<Utc>) -> Option<Timestamp> {
    Timestamp::parse(&mpp_core::flows::wire_time(at)).ok()
}

/// The client, path and body for a stored payment.
fn target(hub: &HubState, acq_id: &str) -> Option<(SignedClient, HubPayment)> {
    let records = hub.records();
    let p = records.by_acq.get(acq_id)?;
    let client = hub.client(&p.route_prefix)?.clone();
    Some((client, p.clone()))
}

/// Sends the stored MPP pay and turns the MPP's answer into the acquirer's.
async fn forward_pay(hub: &HubState, acq_id: &str) -> AcqPayResponse {
    let Some((client, p)) = target(hub, acq_id) else {
        return pay_answer(ResultObject::from(ResultCode::UnknownException));
    };
    let reply: Reply<PayResponse> = relay(hub, &client, PAY_PATH, &p.mpp_body).await;
    if let Reply::Answer(a) = &reply {
        if a.result.result_status == ResultStatus::S {
            super::clearing::record_payment(
                hub,
                &p.mpp_payment_request_id,
                a.payment_id.as_ref().map(|t| t.as_str()),
                a.payment_time.as_ref().map(|t| t.as_str()),
                p.payment_amount,
                p.pay_to_amount,
            );
        }
    }
    let (forward, result) = match &reply {
        Reply::Answer(a) => (Forward::Answered, Some(a.result.clone())),
        Reply::NoAnswer(why) => {
            tracing::warn!(flow = "hub", payment_request_id = %acq_id, reason = %why, "MPP gave no answer to pay");
            (Forward::NoAnswer, None)
        }
    };
    {
        let mut records = hub.records();
        if let Some(rec) = records.by_acq.get_mut(acq_id) {
            rec.forward = forward;
            rec.pay_forwards = rec.pay_forwards.saturating_add(1);
            if result.is_some() {
                rec.mpp_result = result;
            }
        }
    }
    match reply {
        Reply::Answer(a) => acquirer_pay_answer(hub, &p, a),
        Reply::NoAnswer(_) => pay_answer(ResultObject::from(ResultCode::UnknownException)),
    }
}

fn acquirer_pay_answer(hub: &HubState, p: &HubPayment, a: PayResponse) -> AcqPayResponse {
    let success = a.result.result_status == ResultStatus::S;
    let mut answer = pay_answer(a.result);
    answer.acquirer_id = Text::new(hub.config.acquirer_id.as_str()).ok();
    answer.psp_id = Text::new(hub.config.psp_id.as_str()).ok();
    if success {
        answer.payment_id = Text::new(p.mpp_payment_request_id.as_str()).ok();
        answer.payment_amount = Some(p.payment_amount);
        answer.payment_time = a.payment_time;
        answer.customer_id = a.customer_id;
        answer.wallet_brand_name = Text::new(hub.config.wallet_brand.as_str()).ok();
    }
    answer
}

/// The acquirer's inquiryPayment.
pub(super) async fn inquiry(
    hub: &HubState,
    req: AcqInquiryRequest,
    fault: Option<FaultKind>,
) -> InquiryPaymentResponse {
    let acq_id = req.payment_request_id.as_str();
    if let Some(FaultKind::AnswerU(code)) = fault {
        tracing::warn!(flow = "hub", payment_request_id = %acq_id, result_code = code.code(), "fault: inquiry answered U");
        return if code == ResultCode::PaymentInProcess {
            inquiry_answer(
                ResultObject::from(ResultCode::Success),
                Some(ResultObject::from(code)),
            )
        } else {
            inquiry_answer(ResultObject::from(code), None)
        };
    }
    let known = {
        let records = hub.records();
        if records.closed_unseen.contains(acq_id) {
            return inquiry_answer(
                ResultObject::from(ResultCode::Success),
                Some(ResultObject::from(ResultCode::OrderIsClosed)),
            );
        }
        records.by_acq.get(acq_id).map(|p| p.forward)
    };
    match known {
        None => return inquiry_answer(ResultObject::from(ResultCode::OrderNotExist), None),
        Some(Forward::InFlight) => {
            return inquiry_answer(
                ResultObject::from(ResultCode::Success),
                Some(ResultObject::from(ResultCode::PaymentInProcess)),
            )
        }
        Some(Forward::Answered | Forward::NoAnswer) => {}
    }
    let Some((client, p)) = target(hub, acq_id) else {
        return inquiry_answer(ResultObject::from(ResultCode::UnknownException), None);
    };
    let Ok(mpp_req) = mpp_ids(hub, &p).map(|(acquirer_id, psp_id, id)| InquiryPaymentRequest {
        acquirer_id: Some(acquirer_id),
        psp_id,
        payment_request_id: id,
    }) else {
        return inquiry_answer(ResultObject::from(ResultCode::UnknownException), None);
    };
    let reply: Reply<InquiryPaymentResponse> =
        relay(hub, &client, INQUIRY_PATH, &to_body(&mpp_req)).await;
    let a = match reply {
        Reply::Answer(a) => a,
        Reply::NoAnswer(why) => {
            tracing::warn!(flow = "hub", payment_request_id = %acq_id, reason = %why, "MPP gave no answer to inquiry");
            return inquiry_answer(ResultObject::from(ResultCode::UnknownException), None);
        }
    };
    match a.result.result_status {
        ResultStatus::S => {}
        // The MPP never stored the pay (say, our forward was lost): the acquirer may re-send.
        ResultStatus::F | ResultStatus::U => return inquiry_answer(a.result, None),
    }
    let success = a
        .payment_result
        .as_ref()
        .is_some_and(|r| r.result_status == ResultStatus::S);
    let mut answer = inquiry_answer(a.result, a.payment_result);
    answer.payment_request_id = Some(req.payment_request_id.clone());
    if success {
        answer.payment_id = Text::new(p.mpp_payment_request_id.as_str()).ok();
        answer.payment_time = a.payment_time;
        answer.payment_amount = Some(p.payment_amount);
        answer.customer_id = a.customer_id;
    }
    answer
}

pub(super) type MppIds = (Text<64>, Text<64>, Text<64>);

/// One signed call to the MPP at `route`, its answer verified and decoded (or no answer).
pub(super) async fn relay<T>(
    hub: &HubState,
    client: &SignedClient,
    route: &str,
    body: &[u8],
) -> Reply<T>
where
    T: serde::de::DeserializeOwned + mpp_core::wire::Validate,
{
    match client.call(&hub.path(route), body).await {
        Ok(answer) => decode(answer),
        Err(e) => Reply::NoAnswer(e.to_string()),
    }
}

/// The hub's acquirer id, the MPP's psp id and the payment's Alipay+ id, as wire text.
pub(super) fn mpp_ids(hub: &HubState, p: &HubPayment) -> Result<MppIds, String> {
    Ok((
        Text::new(hub.config.acquirer_id.as_str())?,
        Text::new(hub.config.psp_id.as_str())?,
        Text::new(p.mpp_payment_request_id.as_str())?,
    ))
}

/// The acquirer's cancelPayment.
pub(super) async fn cancel(
    hub: &HubState,
    req: AcqCancelRequest,
    fault: Option<FaultKind>,
) -> CancelPaymentResponse {
    let answer = cancel_checked(hub, &req).await;
    match fault {
        Some(FaultKind::AnswerU(code)) => {
            tracing::warn!(flow = "hub", payment_request_id = %req.payment_request_id, result_code = code.code(), "fault: cancel answered U");
            CancelPaymentResponse {
                result: ResultObject::from(code),
            }
        }
        Some(FaultKind::Drop | FaultKind::Delay(_) | FaultKind::Slow(_) | FaultKind::Deny)
        | None => answer,
    }
}

async fn cancel_checked(hub: &HubState, req: &AcqCancelRequest) -> CancelPaymentResponse {
    let acq_id = req.payment_request_id.as_str();
    let answer = |code: ResultCode| CancelPaymentResponse {
        result: ResultObject::from(code),
    };
    let target = {
        let mut records = hub.records();
        if !records.by_acq.contains_key(acq_id) {
            if records.closed_unseen.len() >= PAYMENTS_MAX {
                return answer(ResultCode::RequestTrafficExceedLimit);
            }
            // Never seen: close the id so a late pay takes nothing (§10).
            records.closed_unseen.insert(acq_id.to_string());
            return answer(ResultCode::Success);
        }
        drop(records);
        target(hub, acq_id)
    };
    let Some((client, p)) = target else {
        return answer(ResultCode::UnknownException);
    };
    let Ok(mpp_req) = mpp_ids(hub, &p).map(|(acquirer_id, psp_id, id)| CancelPaymentRequest {
        acquirer_id: Some(acquirer_id),
        psp_id,
        payment_request_id: id,
    }) else {
        return answer(ResultCode::UnknownException);
    };
    let reply: Reply<CancelPaymentResponse> =
        relay(hub, &client, CANCEL_PATH, &to_body(&mpp_req)).await;
    match reply {
        Reply::Answer(a) => {
            if a.result.result_status == ResultStatus::S {
                if let Some(rec) = hub.records().by_acq.get_mut(acq_id) {
                    rec.closed = true;
                }
                super::clearing::record_cancel(hub, &p.mpp_payment_request_id);
            }
            a
        }
        Reply::NoAnswer(why) => {
            tracing::warn!(flow = "hub", payment_request_id = %acq_id, reason = %why, "MPP gave no answer to cancel");
            answer(ResultCode::UnknownException)
        }
    }
}

/// The MPP's notifyPayment: acknowledged at once, forwarded to the acquirer in the background.
pub(super) async fn notify(
    hub: &Arc<HubState>,
    req: NotifyPaymentRequest,
    fault: Option<FaultKind>,
) -> NotifyPaymentResponse {
    let answer = |code: ResultCode| NotifyPaymentResponse {
        result: ResultObject::from(code),
    };
    let mpp_id = req.payment_request_id.as_str();
    let found = {
        let mut records = hub.records();
        let acq_id = records.by_mpp.get(mpp_id).cloned();
        acq_id.and_then(|id| {
            let rec = records.by_acq.get_mut(&id)?;
            rec.notifications_received = rec.notifications_received.saturating_add(1);
            Some(rec.clone())
        })
    };
    let Some(p) = found else {
        return answer(ResultCode::OrderNotExist);
    };
    let delay = match fault {
        Some(FaultKind::Drop) => {
            tracing::warn!(flow = "hub", payment_request_id = %p.acq_payment_request_id, "fault: notification not forwarded");
            return answer(ResultCode::Success);
        }
        Some(FaultKind::AnswerU(code)) => {
            tracing::warn!(flow = "hub", payment_request_id = %p.acq_payment_request_id, result_code = code.code(), "fault: notification answered U");
            return answer(code);
        }
        Some(FaultKind::Delay(d)) => d,
        Some(FaultKind::Slow(_) | FaultKind::Deny) | None => std::time::Duration::ZERO,
    };
    let Some(url) = p.acquirer_notify_url.clone() else {
        return answer(ResultCode::Success);
    };
    let Some(body) = acquirer_notification(&p, &req) else {
        return answer(ResultCode::UnknownException);
    };
    let h = hub.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        forward_notification(&h, &p.acq_payment_request_id, &url, &body).await;
    });
    answer(ResultCode::Success)
}

/// The notification as the acquirer knows the payment: its id and amount, Alipay+'s payment id.
fn acquirer_notification(p: &HubPayment, mpp: &NotifyPaymentRequest) -> Option<Vec<u8>> {
    let success = mpp.payment_result.result_status == ResultStatus::S;
    let n = NotifyPaymentRequest {
        payment_result: mpp.payment_result.clone(),
        payment_request_id: Text::new(p.acq_payment_request_id.as_str()).ok()?,
        payment_id: Text::new(p.mpp_payment_request_id.as_str()).ok(),
        payment_time: mpp.payment_time.clone(),
        payment_amount: p.payment_amount,
        pay_to_amount: None,
        customer_id: if success {
            mpp.customer_id.clone()
        } else {
            None
        },
    };
    Some(to_body(&n))
}

/// POSTs one notification to the acquirer until it acknowledges with S, on the configured
/// schedule (bounded by its length).
async fn forward_notification(hub: &HubState, acq_id: &str, url: &str, body: &[u8]) {
    if post_until_acknowledged::<NotifyPaymentResponse>(hub, acq_id, url, body).await {
        if let Some(rec) = hub.records().by_acq.get_mut(acq_id) {
            rec.notifications_forwarded = rec.notifications_forwarded.saturating_add(1);
        }
    }
}

/// POSTs `body` to `url` (the merchant's acquirer), signed by the hub as Alipay+, its answer
/// verified with the acquirer's key, until an S, on the notification schedule
/// (`notify_retry_delays`: at most its length + 1 attempts). `key` names the notification in
/// the logs. Whether it was acknowledged.
pub(super) async fn post_until_acknowledged<R>(
    hub: &HubState,
    key: &str,
    url: &str,
    body: &[u8],
) -> bool
where
    R: serde::de::DeserializeOwned + mpp_core::wire::Validate + mpp_core::edge::Answered,
{
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let base = parsed.origin().ascii_serialization();
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let client = match SignedClient::new(
        base,
        &hub.acquirer_client_id,
        hub.signer.clone(),
        Some(hub.acquirer_public_key.clone()),
        hub.config.notify_timeout,
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(flow = "hub", key = %key, error = %e, "no client for the notification");
            return false;
        }
    };
    let delays = &hub.config.notify_retry_delays;
    for attempt in 0..=delays.len() {
        let reply: Reply<R> = match client.call(&path, body).await {
            Ok(a) => decode(a),
            Err(e) => Reply::NoAnswer(e.to_string()),
        };
        let outcome = match &reply {
            Reply::Answer(a) => a.code().code().to_string(),
            Reply::NoAnswer(why) => format!("no answer: {why}"),
        };
        let acknowledged = matches!(&reply, Reply::Answer(a) if a.code() == ResultCode::Success);
        tracing::info!(flow = "hub", key = %key, attempt = attempt + 1, outcome = %outcome, "notification forwarded");
        if acknowledged {
            return true;
        }
        if let Some(d) = delays.get(attempt) {
            tokio::time::sleep(*d).await;
        }
    }
    tracing::error!(flow = "hub", key = %key, "notification never acknowledged");
    false
}
