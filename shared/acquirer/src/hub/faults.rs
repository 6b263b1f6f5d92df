//! Faults the hub injects on demand, so the acquirer's recovery paths run for real.
//!
//! A fault is `API=KIND[:ARG][*TIMES]`:
//!
//! | spec | effect |
//! | --- | --- |
//! | `pay=drop` | forward the pay (money moves), then hold the answer past the caller's timeout and close with an unsigned 504 |
//! | `pay=delay:1500` | forward, answer after 1500 ms |
//! | `pay=u:UNKNOWN_EXCEPTION` | forward, answer U with that code instead of the MPP's answer |
//! | `pay=slow:1500` | answer U `PAYMENT_IN_PROCESS` at once; reach the MPP only after 1500 ms (a slow MPP) |
//! | `inquiry=u:PAYMENT_IN_PROCESS` | answer `paymentResult` U `PAYMENT_IN_PROCESS` without asking the MPP |
//! | `inquiry=u:UNKNOWN_EXCEPTION` | answer `result` U `UNKNOWN_EXCEPTION` without asking the MPP |
//! | `cancel=u:UNKNOWN_EXCEPTION*2` | forward the cancel, answer U, twice |
//! | `notify=drop` | acknowledge the MPP's notification, never forward it to the acquirer |
//! | `applyToken=drop*1` | forward the merchant's applyToken (the MPP issues the pair), then hold the answer past the caller's timeout: the merchant re-sends and gets the same pair |
//! | `prepare=delay:3000` | forward, answer after 3 s (a slow MPP); also `cancelToken=…` |
//! | `authNotify=drop` | record the MPP's authNotify, then hold the answer: the MPP retries it on its schedule |
//! | `consultUnbinding=deny` | answer the MPP's consultUnbinding S with `allowUnbinding` "false" (the merchant keeps the binding); without it the hub answers "true" |
//! | `consultUnbinding=drop*1` | answer "true", then hold the answer past the MPP's timeout (the MPP asks again; also `u:…`, `delay:…`) |
//!
//! `drop`, `delay` and `u` apply to every API; `slow` to pay only. `*N` applies the fault to the
//! next N calls of that API; without it, to every call until cleared.

use mpp_core::result_code::{ResultCode, ResultStatus};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

/// The longest delay a fault may ask for: long enough for any caller's timeout (8 s) several
/// times over, short enough that a typo does not hang a test run.
pub const FAULT_DELAY_MAX: Duration = Duration::from_secs(120);

/// The API a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultApi {
    /// The acquirer's pay.
    Pay,
    /// The acquirer's inquiryPayment.
    Inquiry,
    /// The acquirer's cancelPayment.
    Cancel,
    /// The MPP's notifyPayment (and its forwarding to the acquirer).
    Notify,
    /// The merchant's prepare, forwarded to the MPP (account binding, issue 18).
    Prepare,
    /// The merchant's applyToken, forwarded to the MPP.
    ApplyToken,
    /// The merchant's cancelToken, forwarded to the MPP.
    CancelToken,
    /// The MPP's authNotify (`drop`: the hub holds its answer, so the MPP retries).
    AuthNotify,
    /// The MPP's consultUnbinding (the wallet unbinds; `deny`: "false").
    ConsultUnbinding,
}

impl FaultApi {
    /// The spelling in a fault spec.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultApi::Pay => "pay",
            FaultApi::Inquiry => "inquiry",
            FaultApi::Cancel => "cancel",
            FaultApi::Notify => "notify",
            FaultApi::Prepare => "prepare",
            FaultApi::ApplyToken => "applyToken",
            FaultApi::CancelToken => "cancelToken",
            FaultApi::AuthNotify => "authNotify",
            FaultApi::ConsultUnbinding => "consultUnbinding",
        }
    }
}

/// What goes wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Process, then never deliver the answer in time.
    Drop,
    /// Process, then answer after this long.
    Delay(Duration),
    /// Process, then answer U with this code instead (inquiry: `PAYMENT_IN_PROCESS` goes in
    /// `paymentResult`, other codes in `result`; no MPP call).
    AnswerU(ResultCode),
    /// pay only: answer U `PAYMENT_IN_PROCESS` now, reach the MPP after this long.
    Slow(Duration),
    /// consultUnbinding only: answer `allowUnbinding` "false".
    Deny,
}

/// One fault rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Which API.
    pub api: FaultApi,
    /// What happens.
    pub kind: FaultKind,
    /// For how many calls (`None`: until cleared).
    pub times: Option<u32>,
}

/// A fault spec that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("fault `{spec}`: {reason} (form: API=KIND[:ARG][*TIMES], e.g. pay=drop*1, pay=u:UNKNOWN_EXCEPTION, pay=slow:1500, inquiry=u:PAYMENT_IN_PROCESS, notify=drop)")]
pub struct FaultParseError {
    /// The spec.
    pub spec: String,
    /// What is wrong.
    pub reason: String,
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(spec: &str) -> Result<Fault, FaultParseError> {
        let err = |reason: &str| FaultParseError {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let (api, rest) = spec.trim().split_once('=').ok_or_else(|| err("no `=`"))?;
        let api = match api {
            "pay" => FaultApi::Pay,
            "inquiry" | "inquiryPayment" => FaultApi::Inquiry,
            "cancel" | "cancelPayment" => FaultApi::Cancel,
            "notify" | "notifyPayment" => FaultApi::Notify,
            "prepare" => FaultApi::Prepare,
            "applyToken" => FaultApi::ApplyToken,
            "cancelToken" => FaultApi::CancelToken,
            "authNotify" => FaultApi::AuthNotify,
            "consultUnbinding" => FaultApi::ConsultUnbinding,
            _ => {
                return Err(err(
                    "API must be pay, inquiry, cancel, notify, prepare, applyToken, cancelToken, authNotify or consultUnbinding",
                ))
            }
        };
        let (rest, times) = match rest.split_once('*') {
            Some((r, n)) => match n.parse::<u32>() {
                Ok(n) if n >= 1 => (r, Some(n)),
                Ok(_) | Err(_) => return Err(err("TIMES must be a whole number from 1")),
            },
            None => (rest, None),
        };
        let (kind, arg) = match rest.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (rest, None),
        };
        let millis = |a: Option<&str>| -> Result<Duration, FaultParseError> {
            let ms = a
                .ok_or_else(|| err("needs a duration in milliseconds"))?
                .parse::<u64>()
                .map_err(|_| err("the duration must be whole milliseconds"))?;
            let d = Duration::from_millis(ms);
            if d > FAULT_DELAY_MAX {
                return Err(err("the duration is above 120000 ms"));
            }
            Ok(d)
        };
        let kind = match (kind, api) {
            ("drop", _) => FaultKind::Drop,
            ("delay", _) => FaultKind::Delay(millis(arg)?),
            ("slow", FaultApi::Pay) => FaultKind::Slow(millis(arg)?),
            (
                "slow",
                FaultApi::Inquiry
                | FaultApi::Cancel
                | FaultApi::Notify
                | FaultApi::Prepare
                | FaultApi::ApplyToken
                | FaultApi::CancelToken
                | FaultApi::AuthNotify
                | FaultApi::ConsultUnbinding,
            ) => return Err(err("slow applies to pay only")),
            ("deny", FaultApi::ConsultUnbinding) => FaultKind::Deny,
            ("deny", _) => return Err(err("deny applies to consultUnbinding only")),
            ("u", _) => {
                let code = arg.unwrap_or("UNKNOWN_EXCEPTION");
                let code = ResultCode::from_code(code).ok_or_else(|| err("unknown result code"))?;
                match code.status() {
                    ResultStatus::U => FaultKind::AnswerU(code),
                    ResultStatus::S | ResultStatus::F => {
                        return Err(err("u needs a code whose status is U"))
                    }
                }
            }
            _ => return Err(err("KIND must be drop, delay, u, slow or deny")),
        };
        Ok(Fault { api, kind, times })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=", self.api.as_str())?;
        match self.kind {
            FaultKind::Drop => write!(f, "drop")?,
            FaultKind::Delay(d) => write!(f, "delay:{}", d.as_millis())?,
            FaultKind::AnswerU(c) => write!(f, "u:{}", c.code())?,
            FaultKind::Slow(d) => write!(f, "slow:{}", d.as_millis())?,
            FaultKind::Deny => write!(f, "deny")?,
        }
        match self.times {
            Some(n) => write!(f, "*{n}"),
            None => Ok(()),
        }
    }
}

/// The faults in force, one per API; set, taken and cleared while the hub runs.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<BTreeMap<FaultApi, Fault>>,
}

impl Faults {
    /// No faults.
    pub fn new() -> Faults {
        Faults::default()
    }

    /// Puts `fault` in force for its API (replacing the previous one).
    pub fn set(&self, fault: Fault) {
        self.lock().insert(fault.api, fault);
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The faults in force.
    pub fn list(&self) -> Vec<Fault> {
        self.lock().values().copied().collect()
    }

    /// The fault for one call of `api`, counting it down.
    pub fn take(&self, api: FaultApi) -> Option<FaultKind> {
        let mut rules = self.lock();
        let fault = rules.get_mut(&api)?;
        let kind = fault.kind;
        match fault.times {
            None => {}
            Some(n) if n <= 1 => {
                rules.remove(&api);
            }
            Some(n) => fault.times = Some(n - 1),
        }
        Some(kind)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<FaultApi, Fault>> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }
}
