//! Test fixtures: the seed page's order, a scripted gateway on a virtual clock.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::type_complexity
)] // test-only helpers

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use mpp_acquirer::gateway::{Gateway, Reply};
use mpp_acquirer::messages::{AcqCancelRequest, AcqInquiryRequest};
use mpp_acquirer::order::OrderState;
use mpp_acquirer::store::{MemoryOrderStore, OrderStore};
use mpp_acquirer::timer::ManualTimer;
use mpp_acquirer::{Acquirer, RetryPolicy, Sale};
use mpp_core::payments::{CancelPaymentResponse, InquiryPaymentResponse};
use mpp_core::result_code::ResultCode;
use mpp_core::wire::acquirer::{AcqPayRequest, AcqPayResponse};
use mpp_core::wire::{parse_request, Amount, ResultObject, Text};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The user-presented sample of the seed page (its order and merchant).
pub const SEED_PAY: &str = r#"{
    "paymentExpiryTime": "2019-06-01T12:01:01+08:30",
    "paymentNotifyUrl": "http://xmock.inc.alipay.net/api/Ipay/globalSite/automation/paymentNotify.htm",
    "paymentRequestId": "pay_1089760038715669_102775745075669",
    "paymentFactor": {"isInStorePayment": "true", "inStorePaymentScenario": "PaymentCode"},
    "order": {
        "referenceOrderId": "102775745075669",
        "orderDescription": "Mi Band 3 Wrist Strap Metal Screwless Stainless Steel For Xiaomi Mi Band 3 ",
        "orderAmount": {"currency": "JPY", "value": "100"},
        "merchant": {
            "referenceMerchantId": "M00000000001",
            "merchantName": "cup Hu",
            "merchantMCC": "1405",
            "store": {"referenceStoreId": "S0000000001", "storeName": "UGG-2", "storeMcc": "1405"},
            "merchantAddress": {"region": "JP", "city": "xxx"}
        },
        "env": {"storeTerminalId": "122222", "storeTerminalRequestTime": "2019-06-01T12:01:01+08:00"}
    },
    "settlementStrategy": {"settlementCurrency": "USD"},
    "paymentAmount": {"currency": "JPY", "value": "100"},
    "paymentMethod": {"paymentMethodType": "CONNECT_WALLET", "paymentMethodId": "28100602000000000012"}
}"#;

/// The seed page's code.
pub const SEED_CODE: &str = "28100602000000000012";

/// 2026-11-21 10:00:00 UTC+8.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap()
}

/// The sample as a sale.
pub fn sale() -> Sale {
    let req: AcqPayRequest = parse_request(SEED_PAY.as_bytes()).unwrap();
    Sale {
        code: SEED_CODE.to_string(),
        amount: req.payment_amount,
        order: req.order,
        expiry: None,
        notify_url: None,
        settlement_currency: None,
    }
}

fn result(code: ResultCode) -> ResultObject {
    ResultObject::from(code)
}

pub fn pay(code: ResultCode) -> Reply<AcqPayResponse> {
    Reply::Answer(AcqPayResponse {
        result: result(code),
        acquirer_id: None,
        psp_id: None,
        payment_id: (code == ResultCode::Success)
            .then(|| Text::new("2019060811401080010018882020035").unwrap()),
        payment_amount: None,
        payment_time: None,
        customer_id: None,
        wallet_brand_name: None,
    })
}

pub fn inquiry(
    result_code: ResultCode,
    payment: Option<ResultCode>,
) -> Reply<InquiryPaymentResponse> {
    Reply::Answer(InquiryPaymentResponse {
        result: result(result_code),
        payment_result: payment.map(result),
        payment_request_id: None,
        payment_id: None,
        payment_time: None,
        payment_amount: None,
        pay_to_amount: None,
        customer_id: None,
        order_lifecycle_id: None,
    })
}

pub fn cancel(code: ResultCode) -> Reply<CancelPaymentResponse> {
    Reply::Answer(CancelPaymentResponse {
        result: result(code),
    })
}

pub fn silence<T>() -> Reply<T> {
    Reply::NoAnswer("timed out".to_string())
}

/// One call the gateway saw.
#[derive(Clone, Debug)]
pub struct Call {
    pub api: &'static str,
    pub at: DateTime<Utc>,
    pub body: Vec<u8>,
    /// The order's state when the call arrived.
    pub state: Option<OrderState>,
}

/// Answers from scripts (then the fallback, forever); every call takes `latency` of virtual
/// time.
pub struct Scripted {
    pub timer: Arc<ManualTimer>,
    pub orders: Arc<MemoryOrderStore>,
    pub latency: Duration,
    pub pays: Mutex<VecDeque<Reply<AcqPayResponse>>>,
    pub pay_fallback: Reply<AcqPayResponse>,
    pub inquiries: Mutex<VecDeque<Reply<InquiryPaymentResponse>>>,
    pub inquiry_fallback: Reply<InquiryPaymentResponse>,
    pub cancels: Mutex<VecDeque<Reply<CancelPaymentResponse>>>,
    pub cancel_fallback: Reply<CancelPaymentResponse>,
    pub calls: Mutex<Vec<Call>>,
    /// Runs once, during the n-th call (1-based) of an API, with the order's id: a notification
    /// landing while that request is in flight.
    pub hooks: Mutex<Vec<(&'static str, u32, Box<dyn FnOnce(String) + Send>)>>,
}

impl Scripted {
    pub fn new(timer: Arc<ManualTimer>, orders: Arc<MemoryOrderStore>) -> Scripted {
        Scripted {
            timer,
            orders,
            latency: Duration::from_millis(200),
            pays: Mutex::new(VecDeque::new()),
            pay_fallback: pay(ResultCode::PaymentInProcess),
            inquiries: Mutex::new(VecDeque::new()),
            inquiry_fallback: inquiry(ResultCode::Success, Some(ResultCode::PaymentInProcess)),
            cancels: Mutex::new(VecDeque::new()),
            cancel_fallback: cancel(ResultCode::Success),
            calls: Mutex::new(Vec::new()),
            hooks: Mutex::new(Vec::new()),
        }
    }

    /// Registers a hook for the n-th call of `api`.
    pub fn hook(&self, api: &'static str, n: u32, f: impl FnOnce(String) + Send + 'static) {
        self.hooks.lock().unwrap().push((api, n, Box::new(f)));
    }

    async fn record(&self, api: &'static str, id: &str, body: Vec<u8>) {
        let state = self.orders.get(id).await.unwrap().map(|o| o.state);
        self.calls.lock().unwrap().push(Call {
            api,
            at: self.timer.now(),
            body,
            state,
        });
        self.timer.advance(self.latency);
        let n = self.calls(api).len() as u32;
        let due = {
            let mut hooks = self.hooks.lock().unwrap();
            let i = hooks.iter().position(|(a, at, _)| *a == api && *at == n);
            i.map(|i| hooks.remove(i).2)
        };
        if let Some(f) = due {
            f(id.to_string());
        }
    }

    pub fn calls(&self, api: &str) -> Vec<Call> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.api == api)
            .cloned()
            .collect()
    }
}

use mpp_acquirer::timer::Timer as _;

#[async_trait]
impl Gateway for Scripted {
    async fn pay(&self, body: &[u8]) -> Reply<AcqPayResponse> {
        let req: AcqPayRequest = parse_request(body).unwrap();
        self.record("pay", req.payment_request_id.as_str(), body.to_vec())
            .await;
        self.pays
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| self.pay_fallback.clone())
    }

    async fn inquire(&self, req: &AcqInquiryRequest) -> Reply<InquiryPaymentResponse> {
        self.record(
            "inquiry",
            req.payment_request_id.as_str(),
            mpp_core::wire::to_body(req),
        )
        .await;
        self.inquiries
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| self.inquiry_fallback.clone())
    }

    async fn cancel(&self, req: &AcqCancelRequest) -> Reply<CancelPaymentResponse> {
        self.record(
            "cancel",
            req.payment_request_id.as_str(),
            mpp_core::wire::to_body(req),
        )
        .await;
        self.cancels
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| self.cancel_fallback.clone())
    }
}

/// A virtual-clock acquirer around a scripted gateway.
pub struct Rig {
    pub timer: Arc<ManualTimer>,
    pub orders: Arc<MemoryOrderStore>,
    pub gateway: Arc<Scripted>,
    pub acquirer: Acquirer,
}

pub fn rig(policy: RetryPolicy, script: impl FnOnce(&mut Scripted)) -> Rig {
    let timer = Arc::new(ManualTimer::new(t0()));
    let orders = Arc::new(MemoryOrderStore::new());
    let mut scripted = Scripted::new(timer.clone(), orders.clone());
    script(&mut scripted);
    let gateway = Arc::new(scripted);
    let acquirer = Acquirer {
        gateway: gateway.clone(),
        orders: orders.clone(),
        timer: timer.clone(),
        policy,
    };
    Rig {
        timer,
        orders,
        gateway,
        acquirer,
    }
}

/// Collects steps.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<mpp_acquirer::Step>>);

impl mpp_acquirer::Steps for Recorder {
    fn step(&self, _id: &str, step: &mpp_acquirer::Step) {
        self.0.lock().unwrap().push(step.clone());
    }
}

pub fn krw(value: u64) -> Amount {
    Amount {
        currency: mpp_core::money::Currency::from_code("KRW").unwrap(),
        value: mpp_core::money::MinorUnit(value),
    }
}
