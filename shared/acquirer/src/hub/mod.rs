//! `mpp hub`: a small simulated Alipay+ on loopback, so acquirer → Alipay+ → MPP → notify runs
//! on one machine.
//!
//! It accepts the acquirer's pay, inquiryPayment and cancelPayment (signed by the acquirer,
//! answered signed by "Alipay+"), routes each payment by its code's prefix to an MPP URL, turns
//! the acquirer's pay into the MPP's pay (its own `paymentRequestId`, `acquirerId`, `pspId`,
//! `payToAmount` converted with a configured rate plus `paymentQuote`, `paymentNotifyUrl` set to
//! itself), relays the answers, and forwards the MPP's notifyPayment to the acquirer's
//! `paymentNotifyUrl`. On demand it drops, delays or replaces answers ([`faults`]).
//!
//! One acquirer per hub (its client id and key are configured); records live in memory.

pub mod bindings;
pub mod clearing;
pub mod faults;
mod flows;
mod otp;
pub mod quote;
pub mod translate;

use crate::http::{inbound, read, respond, ServeError, Server};
use crate::messages::{AcqCancelRequest, AcqInquiryRequest, Wire};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use faults::{Fault, FaultApi, FaultKind, Faults};
use mpp_client::SignedClient;
use mpp_core::bindings::AuthNotifyResponse;
use mpp_core::clock::SystemClock;
use mpp_core::codes::{GetPaymentCodeRequest, GET_PAYMENT_CODE_PATH};
use mpp_core::edge::{no_interface, serve, Edge, EdgeError};
use mpp_core::money::Currency;
use mpp_core::payments::NotifyPaymentRequest;
use mpp_core::signature::{Signer, VerifierConfig};
use mpp_core::wire::acquirer::AcqPayRequest;
use mpp_core::wire::{Amount, ResultObject};
use quote::Rate;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// The admin path for faults: `GET` lists, `POST` sets (one spec a line), `DELETE` clears.
pub const FAULTS_PATH: &str = "/hub/faults";

/// Alipay+'s published schedule for notifications towards partners (§8): 4 s, 4 s, 30 s,
/// 60 s ×3, 5 min ×2 after the first attempt; nine attempts in about 12 minutes.
pub const NOTIFY_RETRY_DELAYS: [Duration; 8] = [
    Duration::from_secs(4),
    Duration::from_secs(4),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(60),
    Duration::from_secs(60),
    Duration::from_secs(300),
    Duration::from_secs(300),
];

/// How long a dropped answer is held: past the acquirer's 8 s client timeout (the longest
/// wait §1 publishes), so the caller has given up before it would arrive.
pub const DROP_HOLD: Duration = Duration::from_secs(10);

/// Alipay+ waits 8 s for the MPP's pay (§1).
pub const MPP_TIMEOUT: Duration = Duration::from_secs(8);

/// A 5 s client timeout for notifications (§1).
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// Most payments (and most ids cancelled unseen) the hub keeps: it is a simulator; past this,
/// pay and cancel answer `REQUEST_TRAFFIC_EXCEED_LIMIT` (U) rather than grow without bound.
pub const PAYMENTS_MAX: usize = 100_000;

/// Most routes (prefixes) one hub takes.
pub const ROUTES_MAX: usize = 64;

/// The leading digits of every code the hub issues through getPaymentCode. A code with this
/// prefix is the hub's own: it is looked up among the issued codes (unknown: `INVALID_CODE`),
/// never routed to an MPP as an MPP-issued code.
pub const ISSUED_CODE_PREFIX: &str = "2899";
/// Digits of an issued code (within the 16 to 24 Alipay+ issues today).
pub const ISSUED_CODE_DIGITS: usize = 24;
/// How long an issued code is valid (`user-presented-mpp.md` §2: one minute).
pub const ISSUED_CODE_LIFE: chrono::Duration = chrono::Duration::minutes(1);
/// Most issued codes the hub keeps; expired ones are dropped first, and past this getPaymentCode
/// answers `REQUEST_TRAFFIC_EXCEED_LIMIT` (U) rather than grow without bound.
pub const ISSUED_CODES_MAX: usize = 100_000;

/// A code the hub issued (getPaymentCode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCode {
    /// The MPP's user it stands for.
    pub customer_id: String,
    /// The route (MPP) that asked for it.
    pub route_prefix: String,
    /// Not valid from this instant on.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The acquirer's `paymentRequestId` that used it.
    pub used_by: Option<String>,
}

/// Codes whose prefix starts with `prefix` go to the MPP at `url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Leading digits (1 to 32).
    pub prefix: String,
    /// The MPP's base URL.
    pub url: String,
}

/// A route spec that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("route `{spec}`: {reason} (form: PREFIX=URL, e.g. 28=http://127.0.0.1:8080)")]
pub struct RouteParseError {
    /// The spec.
    pub spec: String,
    /// What is wrong.
    pub reason: String,
}

impl FromStr for Route {
    type Err = RouteParseError;

    fn from_str(spec: &str) -> Result<Route, RouteParseError> {
        let err = |reason: &str| RouteParseError {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let (prefix, url) = spec.trim().split_once('=').ok_or_else(|| err("no `=`"))?;
        let digits = !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit());
        if !digits || prefix.len() > crate::code::CODE_DIGITS_MAX {
            return Err(err("PREFIX must be 1 to 32 digits"));
        }
        let parsed = reqwest::Url::parse(url).map_err(|_| err("URL does not parse"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(err("URL must be http or https"));
        }
        Ok(Route {
            prefix: prefix.to_string(),
            url: url.trim_end_matches('/').to_string(),
        })
    }
}

/// How the hub behaves.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Code prefix → MPP URL (the longest matching prefix wins).
    pub routes: Vec<Route>,
    /// The MPP's settlement currency (`payToAmount`).
    pub mpp_currency: Currency,
    /// Rates for `payToAmount`.
    pub rates: Vec<Rate>,
    /// The acquirer's id at Alipay+ (added to the MPP's pay).
    pub acquirer_id: String,
    /// The MPP's id at Alipay+.
    pub psp_id: String,
    /// `walletBrandName` in answers to the acquirer.
    pub wallet_brand: String,
    /// Where the APIs live, on both sides.
    pub path_prefix: String,
    /// Alipay+'s order life (the expiry table's one minute).
    pub order_life: chrono::Duration,
    /// The client timeout towards the MPP.
    pub mpp_timeout: Duration,
    /// The client timeout for notifications to the acquirer.
    pub notify_timeout: Duration,
    /// Delays between notification attempts to the acquirer.
    pub notify_retry_delays: Vec<Duration>,
    /// How long a dropped answer is held.
    pub drop_hold: Duration,
    /// How long a code issued by getPaymentCode is valid.
    pub code_life: chrono::Duration,
    /// Where clearing files are written (`None`: none are).
    pub clearing_dir: Option<std::path::PathBuf>,
    /// The participant agreement id in clearing file names.
    pub participant_agreement_id: String,
    /// Where the MPP's authNotify is relayed to (the merchant's acquirer); `None`: only kept.
    pub merchant_auth_notify_url: Option<String>,
}

impl HubConfig {
    /// Production-shaped defaults for `routes` settling in `mpp_currency`.
    pub fn new(routes: Vec<Route>, mpp_currency: Currency) -> HubConfig {
        HubConfig {
            routes,
            mpp_currency,
            rates: Vec::new(),
            acquirer_id: "1022188000000000001".to_string(),
            psp_id: "1022172000000000001".to_string(),
            wallet_brand: "LOCAL_MPP".to_string(),
            path_prefix: crate::gateway::DEFAULT_PATH_PREFIX.to_string(),
            order_life: crate::expiry::ALIPAY_ORDER_LIFE,
            mpp_timeout: MPP_TIMEOUT,
            notify_timeout: NOTIFY_TIMEOUT,
            notify_retry_delays: NOTIFY_RETRY_DELAYS.to_vec(),
            drop_hold: DROP_HOLD,
            code_life: ISSUED_CODE_LIFE,
            clearing_dir: None,
            participant_agreement_id: "LOCALAGREEMENT".to_string(),
            merchant_auth_notify_url: None,
        }
    }
}

/// The keys and client ids on both sides of the hub.
#[derive(Clone)]
pub struct HubKeys {
    /// Alipay+'s private key: signs requests to the MPP, answers and notifications to the
    /// acquirer.
    pub signer: Arc<dyn Signer>,
    /// The MPP's public key (its answers and notifications).
    pub mpp_public_key: mpp_core::signature::RsaPublicKey,
    /// Its key version (the `keyVersion` the MPP signs with).
    pub mpp_key_version: u32,
    /// The `Client-Id` between hub and MPP (both directions, as in Alipay+).
    pub mpp_client_id: String,
    /// The acquirer's public key (its requests and acknowledgements).
    pub acquirer_public_key: mpp_core::signature::RsaPublicKey,
    /// Its key version.
    pub acquirer_key_version: u32,
    /// The acquirer's `Client-Id` (both directions).
    pub acquirer_client_id: String,
}

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Listening failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// An HTTP client could not be built.
    #[error("building a client: {0}")]
    Client(#[from] mpp_client::CallError),
    /// The configuration is unusable.
    #[error("{0}")]
    Config(String),
}

/// Where the last pay forward to the MPP stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    /// Being sent (or held by a `slow` fault).
    InFlight,
    /// The MPP answered (verified).
    Answered,
    /// No usable answer.
    NoAnswer,
}

/// What the hub knows of one payment.
#[derive(Clone)]
pub struct HubPayment {
    /// The acquirer's `paymentRequestId`.
    pub acq_payment_request_id: String,
    /// Alipay+'s id: the MPP's `paymentRequestId` and the acquirer's `paymentId`.
    pub mpp_payment_request_id: String,
    /// The route's prefix.
    pub route_prefix: String,
    /// The acquirer's amount.
    pub payment_amount: Amount,
    /// The MPP's amount.
    pub pay_to_amount: Amount,
    /// Where to forward notifications.
    pub acquirer_notify_url: Option<String>,
    /// The last forward.
    pub forward: Forward,
    /// Pays sent to the MPP.
    pub pay_forwards: u32,
    /// The MPP's last pay answer.
    pub mpp_result: Option<ResultObject>,
    /// Cancelled (the MPP said S to the cancel).
    pub closed: bool,
    /// Notifications received from the MPP.
    pub notifications_received: u32,
    /// Notifications the acquirer acknowledged with S.
    pub notifications_forwarded: u32,
    fingerprint: Vec<u8>,
    mpp_body: Vec<u8>,
    /// The hub-issued code it pays with, taken when the payment is recorded.
    issued_code: Option<String>,
}

impl fmt::Debug for HubPayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubPayment")
            .field("acq_payment_request_id", &self.acq_payment_request_id)
            .field("mpp_payment_request_id", &self.mpp_payment_request_id)
            .field("route_prefix", &self.route_prefix)
            .field("payment_amount", &self.payment_amount)
            .field("pay_to_amount", &self.pay_to_amount)
            .field("forward", &self.forward)
            .field("pay_forwards", &self.pay_forwards)
            .field("mpp_result", &self.mpp_result)
            .field("closed", &self.closed)
            .field("notifications_received", &self.notifications_received)
            .field("notifications_forwarded", &self.notifications_forwarded)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Records {
    by_acq: HashMap<String, HubPayment>,
    by_mpp: HashMap<String, String>,
    /// Cancels for ids the hub never saw: a later pay with the id must not take money (§10).
    closed_unseen: HashSet<String>,
    /// Codes issued through getPaymentCode, by code.
    issued: HashMap<String, IssuedCode>,
    /// The MPP's authNotify, oldest first (at most `bindings::AUTH_NOTICES_MAX`).
    auth_notices: Vec<bindings::AuthNotice>,
}

pub(crate) struct HubState {
    config: HubConfig,
    acq_edge: Edge,
    mpp_edge: Edge,
    signer: Arc<dyn Signer>,
    acquirer_public_key: mpp_core::signature::RsaPublicKey,
    acquirer_client_id: String,
    mpp: Vec<(String, SignedClient)>,
    faults: Faults,
    records: Mutex<Records>,
    notify_url: String,
    clearing: Mutex<clearing::ClearingBook>,
}

impl HubState {
    fn records(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn clearing(&self) -> std::sync::MutexGuard<'_, clearing::ClearingBook> {
        self.clearing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The MPP client for a code: the longest configured prefix it starts with.
    fn route_for(&self, code: &str) -> Option<(&str, &SignedClient)> {
        self.mpp
            .iter()
            .filter(|(prefix, _)| code.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(p, c)| (p.as_str(), c))
    }

    fn client(&self, prefix: &str) -> Option<&SignedClient> {
        self.mpp.iter().find(|(p, _)| p == prefix).map(|(_, c)| c)
    }

    fn path(&self, route: &str) -> String {
        format!("{}{}", self.config.path_prefix, route)
    }
}

/// A running hub.
pub struct Hub {
    state: Arc<HubState>,
    server: Server,
    cycle_ends: Option<tokio::task::JoinHandle<()>>,
}

impl Hub {
    /// Starts the hub on `listener` (bind it with [`crate::http::bind_loopback`]).
    pub async fn start(
        config: HubConfig,
        keys: HubKeys,
        listener: TcpListener,
    ) -> Result<Hub, HubError> {
        if config.routes.is_empty() || config.routes.len() > ROUTES_MAX {
            return Err(HubError::Config(format!("give 1 to {ROUTES_MAX} routes")));
        }
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            source,
        })?;
        let prefix = config.path_prefix.trim_end_matches('/').to_string();
        let config = HubConfig {
            path_prefix: prefix,
            ..config
        };
        let mut mpp = Vec::new();
        for r in &config.routes {
            let client = SignedClient::new(
                &r.url,
                &keys.mpp_client_id,
                keys.signer.clone(),
                Some(keys.mpp_public_key.clone()),
                config.mpp_timeout,
            )?;
            mpp.push((r.prefix.clone(), client));
        }
        let acq_edge = Edge {
            verifier: Arc::new(VerifierConfig::new(
                &keys.acquirer_client_id,
                keys.acquirer_key_version,
                keys.acquirer_public_key.clone(),
            )),
            signer: keys.signer.clone(),
            clock: Arc::new(SystemClock),
            client_id: keys.acquirer_client_id.clone(),
        };
        let mpp_edge = Edge {
            verifier: Arc::new(VerifierConfig::new(
                &keys.mpp_client_id,
                keys.mpp_key_version,
                keys.mpp_public_key.clone(),
            )),
            signer: keys.signer.clone(),
            clock: Arc::new(SystemClock),
            client_id: keys.mpp_client_id.clone(),
        };
        let notify_url = format!(
            "http://{addr}{}{}",
            config.path_prefix,
            crate::gateway::NOTIFY_PATH
        );
        let state = Arc::new(HubState {
            config,
            acq_edge,
            mpp_edge,
            signer: keys.signer,
            acquirer_public_key: keys.acquirer_public_key,
            acquirer_client_id: keys.acquirer_client_id,
            mpp,
            faults: Faults::new(),
            records: Mutex::new(Records::default()),
            notify_url,
            clearing: Mutex::new(clearing::ClearingBook::default()),
        });
        let router = axum::Router::new()
            .fallback(route)
            .with_state(state.clone());
        let server = Server::spawn(listener, router)?;
        tracing::info!(flow = "hub", addr = %server.addr(), "listening");
        let cycle_ends = state
            .config
            .clearing_dir
            .is_some()
            .then(|| tokio::spawn(clearing::at_cycle_ends(state.clone())));
        Ok(Hub {
            state,
            server,
            cycle_ends,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The URL the MPP notifies (the `paymentNotifyUrl` of every MPP pay).
    pub fn notify_url(&self) -> &str {
        &self.state.notify_url
    }

    /// The faults in force; set and clear them while it runs.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// What the hub knows of the acquirer's payment `acq_payment_request_id`.
    pub fn payment(&self, acq_payment_request_id: &str) -> Option<HubPayment> {
        self.state
            .records()
            .by_acq
            .get(acq_payment_request_id)
            .cloned()
    }

    /// The authNotify the MPP sent, oldest first (issue 18).
    pub fn auth_notices(&self) -> Vec<bindings::AuthNotice> {
        self.state.records().auth_notices.clone()
    }

    /// What the hub knows of a code it issued.
    pub fn issued_code(&self, code: &str) -> Option<IssuedCode> {
        self.state.records().issued.get(code).cloned()
    }

    /// Writes the clearing file of `day` now (as `POST /hub/clearing?day=` does).
    pub fn write_clearing_file(
        &self,
        day: mpp_core::reconcile::ClearingDay,
    ) -> Result<std::path::PathBuf, clearing::ClearingFileError> {
        clearing::write_day(&self.state, day)
    }

    /// Stops serving and waits for requests in flight.
    pub async fn stop(self) {
        if let Some(task) = &self.cycle_ends {
            task.abort();
        }
        self.server.stop().await;
    }
}

/// Every request: the admin path, the three acquirer APIs, the MPP's notification, or
/// `NO_INTERFACE_DEF`.
async fn route(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let (parts, body) = read(request).await;
    if parts.uri.path() == FAULTS_PATH {
        return admin(&hub, &parts.method, &body);
    }
    if parts.uri.path() == clearing::CLEARING_PATH {
        return clearing_admin(&hub, &parts.method, parts.uri.query());
    }
    if parts.uri.path() == GET_PAYMENT_CODE_PATH {
        // The MPP's own call: signed with the MPP's key, answered as Alipay+.
        let inbound = inbound(&parts, &body);
        let h = hub.clone();
        let out = serve(
            &hub.mpp_edge,
            "getPaymentCode",
            inbound,
            |req: Wire<GetPaymentCodeRequest>| async move {
                Ok::<_, EdgeError>(Wire(flows::get_payment_code(&h, req.0)))
            },
        )
        .await;
        return respond(out);
    }
    if parts.uri.path() == bindings::AUTH_NOTICES_PATH {
        return plain(http::StatusCode::OK, bindings::notices_lines(&hub));
    }
    // Account binding (issue 18): the merchant's prepare, applyToken and cancelToken through its
    // acquirer, forwarded to the MPP; the MPP's authNotify, kept and acknowledged (`bindings`).
    if let Some(response) = binding_route(&hub, &parts, &body).await {
        return response;
    }
    // sendOTP and verifyOTP from the acquirer: forwarded to the token's MPP (`otp`).
    if parts.uri.path() == mpp_core::operations::SEND_OTP.path() {
        let h = hub.clone();
        let out = serve(
            &hub.acq_edge,
            mpp_core::operations::SEND_OTP.name,
            inbound(&parts, &body),
            |req: mpp_core::otp::SendOtpRequest| async move {
                Ok::<_, EdgeError>(otp::send_otp(&h, req).await)
            },
        )
        .await;
        return respond(out);
    }
    if parts.uri.path() == mpp_core::operations::VERIFY_OTP.path() {
        let h = hub.clone();
        let out = serve(
            &hub.acq_edge,
            mpp_core::operations::VERIFY_OTP.name,
            inbound(&parts, &body),
            |req: mpp_core::otp::VerifyOtpRequest| async move {
                Ok::<_, EdgeError>(otp::verify_otp(&h, req).await)
            },
        )
        .await;
        return respond(out);
    }
    let op = parts
        .uri
        .path()
        .strip_prefix(hub.config.path_prefix.as_str())
        .unwrap_or("")
        .to_string();
    let inbound = inbound(&parts, &body);
    match op.as_str() {
        crate::gateway::PAY_PATH => {
            let fault = hub.faults.take(FaultApi::Pay);
            let h = hub.clone();
            let out = serve(
                &hub.acq_edge,
                "pay",
                inbound,
                |req: Wire<AcqPayRequest>| async move {
                    Ok::<_, EdgeError>(Wire(flows::pay(&h, req.0, fault).await))
                },
            )
            .await;
            deliver(&hub, out, fault).await
        }
        crate::gateway::INQUIRY_PATH => {
            let fault = hub.faults.take(FaultApi::Inquiry);
            let h = hub.clone();
            let out = serve(
                &hub.acq_edge,
                "inquiryPayment",
                inbound,
                |req: AcqInquiryRequest| async move {
                    Ok::<_, EdgeError>(flows::inquiry(&h, req, fault).await)
                },
            )
            .await;
            deliver(&hub, out, fault).await
        }
        crate::gateway::CANCEL_PATH => {
            let fault = hub.faults.take(FaultApi::Cancel);
            let h = hub.clone();
            let out = serve(
                &hub.acq_edge,
                "cancelPayment",
                inbound,
                |req: AcqCancelRequest| async move {
                    Ok::<_, EdgeError>(flows::cancel(&h, req, fault).await)
                },
            )
            .await;
            deliver(&hub, out, fault).await
        }
        clearing::REFUND_PATH => {
            let h = hub.clone();
            let out = serve(
                &hub.acq_edge,
                "refund",
                inbound,
                |req: clearing::AcqRefundRequest| async move {
                    Ok::<_, EdgeError>(clearing::refund(&h, req).await)
                },
            )
            .await;
            respond(out)
        }
        crate::gateway::NOTIFY_PATH => {
            let fault = hub.faults.take(FaultApi::Notify);
            let h = hub.clone();
            let out = serve(
                &hub.mpp_edge,
                "notifyPayment",
                inbound,
                |req: Wire<NotifyPaymentRequest>| async move {
                    Ok::<_, EdgeError>(Wire(flows::notify(&h, req.0, fault).await))
                },
            )
            .await;
            respond(out)
        }
        _ => respond(no_interface(&hub.acq_edge, inbound).await),
    }
}

/// Applies a `drop` or `delay` fault to a signed answer.
/// The binding operations by their spec paths, each with its fault (`FaultApi`); `None`: not
/// a binding path.
async fn binding_route(
    hub: &Arc<HubState>,
    parts: &http::request::Parts,
    body: &[u8],
) -> Option<Response> {
    use mpp_core::operations::{APPLY_TOKEN, AUTH_NOTIFY, CANCEL_TOKEN, PREPARE};
    let path = parts.uri.path();
    let h = hub.clone();
    let (out, fault) = if path == PREPARE.path() {
        let fault = hub.faults.take(FaultApi::Prepare);
        let out = serve(
            &hub.acq_edge,
            PREPARE.name,
            inbound(parts, body),
            |req| async move { Ok::<_, EdgeError>(bindings::prepare(&h, req).await) },
        )
        .await;
        (out, fault)
    } else if path == APPLY_TOKEN.path() {
        let fault = hub.faults.take(FaultApi::ApplyToken);
        let out = serve(
            &hub.acq_edge,
            APPLY_TOKEN.name,
            inbound(parts, body),
            |req| async move { Ok::<_, EdgeError>(bindings::apply_token(&h, req).await) },
        )
        .await;
        (out, fault)
    } else if path == CANCEL_TOKEN.path() {
        let fault = hub.faults.take(FaultApi::CancelToken);
        let out = serve(
            &hub.acq_edge,
            CANCEL_TOKEN.name,
            inbound(parts, body),
            |req| async move { Ok::<_, EdgeError>(bindings::cancel_token(&h, req).await) },
        )
        .await;
        (out, fault)
    } else if path == mpp_core::bindings::CONSULT_UNBINDING_PATH {
        let fault = hub.faults.take(FaultApi::ConsultUnbinding);
        let out = serve(
            &hub.mpp_edge,
            "consultUnbinding",
            inbound(parts, body),
            |req| async move { Ok::<_, EdgeError>(bindings::consult_unbinding(&h, req, fault)) },
        )
        .await;
        (out, fault)
    } else if path == AUTH_NOTIFY.path() {
        let fault = hub.faults.take(FaultApi::AuthNotify);
        let out = serve(
            &hub.mpp_edge,
            AUTH_NOTIFY.name,
            inbound(parts, body),
            |req| async move {
                // Kept and acknowledged at once; relayed to the merchant's side when configured
                // (its own schedule: the MPP's delivery does not wait on the merchant).
                let relay = h
                    .config
                    .merchant_auth_notify_url
                    .clone()
                    .map(|url| (url, mpp_core::wire::to_body(&req)));
                let answer = bindings::auth_notify(&h, req);
                if let Some((url, body)) = relay {
                    let h = h.clone();
                    tokio::spawn(async move {
                        flows::post_until_acknowledged::<AuthNotifyResponse>(
                            &h,
                            "authNotify",
                            &url,
                            &body,
                        )
                        .await
                    });
                }
                Ok::<_, EdgeError>(answer)
            },
        )
        .await;
        (out, fault)
    } else {
        return None;
    };
    Some(deliver(hub, out, fault).await)
}

async fn deliver(
    hub: &HubState,
    out: mpp_core::edge::Outbound,
    fault: Option<FaultKind>,
) -> Response {
    match fault {
        Some(FaultKind::Drop) => {
            tracing::warn!(
                flow = "hub",
                hold_ms = hub.config.drop_hold.as_millis() as u64,
                "fault: answer dropped"
            );
            tokio::time::sleep(hub.config.drop_hold).await;
            plain(http::StatusCode::GATEWAY_TIMEOUT, String::new())
        }
        Some(FaultKind::Delay(d)) => {
            tracing::warn!(
                flow = "hub",
                delay_ms = d.as_millis() as u64,
                "fault: answer delayed"
            );
            tokio::time::sleep(d).await;
            respond(out)
        }
        Some(FaultKind::AnswerU(_) | FaultKind::Slow(_) | FaultKind::Deny) | None => respond(out),
    }
}

fn plain(status: http::StatusCode, text: String) -> Response {
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = status;
    r
}

/// `POST /hub/clearing?day=YYYY-MM-DD`: writes that day's clearing file now; answers its path.
fn clearing_admin(hub: &HubState, method: &http::Method, query: Option<&str>) -> Response {
    if *method != http::Method::POST {
        return plain(http::StatusCode::METHOD_NOT_ALLOWED, "POST\n".to_string());
    }
    let day = query
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("day="))
        .and_then(mpp_core::reconcile::ClearingDay::parse);
    let Some(day) = day else {
        return plain(
            http::StatusCode::BAD_REQUEST,
            "day=YYYY-MM-DD is required\n".to_string(),
        );
    };
    match clearing::write_day(hub, day) {
        Ok(path) => plain(http::StatusCode::OK, format!("{}\n", path.display())),
        Err(e @ clearing::ClearingFileError::NoDirectory) => plain(
            http::StatusCode::CONFLICT,
            format!("{e} (mpp hub --clearing-dir)\n"),
        ),
        Err(e) => {
            tracing::error!(flow = "hub", error = %e, "clearing file not written");
            plain(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "not written\n".to_string(),
            )
        }
    }
}

/// Most fault lines one admin request may set.
const FAULT_LINES_MAX: usize = 16;

fn admin(hub: &HubState, method: &http::Method, body: &[u8]) -> Response {
    let list =
        |faults: &Faults| -> String { faults.list().iter().map(|f| format!("{f}\n")).collect() };
    match *method {
        http::Method::GET => plain(http::StatusCode::OK, list(&hub.faults)),
        http::Method::DELETE => {
            hub.faults.clear();
            plain(http::StatusCode::OK, String::new())
        }
        http::Method::POST => {
            let text = String::from_utf8_lossy(body);
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if lines.len() > FAULT_LINES_MAX {
                return plain(
                    http::StatusCode::BAD_REQUEST,
                    format!("at most {FAULT_LINES_MAX} faults\n"),
                );
            }
            let parsed: Result<Vec<Fault>, _> = lines.iter().map(|l| l.parse::<Fault>()).collect();
            match parsed {
                Ok(faults) => {
                    for f in faults {
                        tracing::warn!(flow = "hub", fault = %f, "fault set");
                        hub.faults.set(f);
                    }
                    plain(http::StatusCode::OK, list(&hub.faults))
                }
                Err(e) => plain(http::StatusCode::BAD_REQUEST, format!("{e}\n")),
            }
        }
        _ => plain(
            http::StatusCode::METHOD_NOT_ALLOWED,
            "GET, POST or DELETE\n".to_string(),
        ),
    }
}
