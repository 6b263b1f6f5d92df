//! The operation table: every operation the MPP serves or calls, written once.
//!
//! For each: its Alipay+ name (also the `flow` log field and the last segment of its route),
//! its route under the path prefix, who calls whom, the function crate (and binary) that serves
//! it, and its deadline. The routers (`mpp serve`, the Lambda handlers), `mpp call`, the test
//! harness, the acquirer's gateway and the infra test read it; nothing else spells an operation's
//! path. Adding an operation starts with a row here (checklist: `docs/architecture.md`).

use crate::bindings;
use crate::payments;
use crate::wire::WireTypes;
use std::time::Duration;

/// Where Alipay+ serves its payment APIs, and where it calls ours
/// (`/aps/api/v1/payments/{name}`).
pub const PATH_PREFIX: &str = "/aps/api/v1/payments";

/// Where Alipay+ serves its other APIs (`/aps/api/v1/codes/getPaymentCode`).
pub const API_PREFIX: &str = "/aps/api/v1";

/// Where Alipay+ serves the account-binding APIs, and where it calls ours
/// (`/aps/api/v1/authorizations/{name}`, `account-binding.md` §1).
pub const AUTH_PREFIX: &str = "/aps/api/v1/authorizations";

/// Where the wallet's own pages live (the authorization page a `prepare` answers with); not an
/// Alipay+ API: unsigned, answered in HTML to the user's browser.
pub const PAGE_PREFIX: &str = "/wallet";

/// Who calls whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Alipay+ calls the MPP (signed, on the public API).
    Inbound,
    /// The MPP calls Alipay+ (signed, outbound).
    Outbound,
    /// The MPP's own app backend calls the MPP (IAM-authorised internal API), which then calls
    /// Alipay+.
    Internal,
    /// A file from Alipay+ lands (its SFTP delivery, copied to S3) and starts the function: no
    /// HTTP route, nobody waits on an answer.
    Landed,
    /// The user's browser opens a page of the wallet (GET and POST, HTML; not signed).
    Page,
}

/// One operation. Equal and hashed by its name, which is unique in the table (tested below).
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    /// The Alipay+ operation name; also the `flow` log field and the metric dimension.
    pub name: &'static str,
    /// The spec's path prefix ([`PATH_PREFIX`] for the payment APIs).
    pub prefix: &'static str,
    /// The route under `prefix`; an internal operation is served at this route on the internal
    /// API.
    pub route: &'static str,
    /// Who calls whom.
    pub direction: Direction,
    /// The crate under `functions/` (and its binary) that serves it; `None`: served by no
    /// function of ours (an outbound call made inside another function).
    pub function: Option<&'static str>,
    /// How long the caller waits for the answer (Alipay+'s published wait, alipayplus-apis.md
    /// §1: 5 or 8 s; for notifyPayment, the 5 s client timeout Alipay+ asks us to use). The
    /// source of the operation's deadline (`deadline::operation_budget`) and, for an HTTP
    /// function, of its API Gateway integration timeout.
    pub wait: Duration,
    /// The function's timeout in the template: `wait` for a function answering a caller; longer
    /// for one that works through a batch of events (notify).
    pub function_timeout: Duration,
    /// Its request and response types (`None`: no JSON message, a page or a landed file). Every
    /// golden fixture round-trips through the types of the operation its file name starts with
    /// (`shared/core/tests/wire_golden.rs`), so a new operation's fixtures need no new test.
    pub wire: Option<WireTypes>,
}

impl PartialEq for Operation {
    fn eq(&self, other: &Operation) -> bool {
        self.name == other.name
    }
}

impl Eq for Operation {}

impl std::hash::Hash for Operation {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

impl Operation {
    /// The function crate's name the naming promise gives this operation: the Alipay+ name in
    /// kebab case, an acronym one word (`inquiryPayment` → `inquiry-payment`, `sendOTP` →
    /// `send-otp`). Checked against `function` in the tests, so a crate cannot drift from its
    /// operation's name.
    pub fn kebab_name(&self) -> String {
        let mut out = String::with_capacity(self.name.len() + 4);
        let mut previous_lower = false;
        for c in self.name.chars() {
            if c.is_ascii_uppercase() && previous_lower {
                out.push('-');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// The prefix of the operation's SAM logical ids: the crate name in Pascal case
    /// (`inquiry-payment` → `InquiryPayment`: `InquiryPaymentFunction`, `…FunctionRole`, ...;
    /// `send-otp` → `SendOtp`).
    pub fn resource_prefix(&self) -> String {
        self.kebab_name()
            .split('-')
            .map(|word| {
                let mut chars = word.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            })
            .collect()
    }

    /// The full path as the spec names it (`/aps/api/v1/payments/pay`).
    pub fn path(&self) -> String {
        format!("{}{}", self.prefix, self.route)
    }
}

/// pay (auto debit, user-presented codes, NFC, supplemental payments; and payment evaluation
/// when flagged, which is served on its own route below).
pub const PAY: Operation = Operation {
    name: "pay",
    prefix: PATH_PREFIX,
    route: "/pay",
    direction: Direction::Inbound,
    function: Some("pay"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: Some(WireTypes::of::<payments::PayRequest, payments::PayResponse>()),
};

/// Payment evaluation: checks only, no money moves.
pub const EVALUATION: Operation = Operation {
    name: "evaluation",
    prefix: PATH_PREFIX,
    route: "/evaluation",
    direction: Direction::Inbound,
    function: Some("evaluation"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: Some(WireTypes::of::<payments::PayRequest, payments::PayResponse>()),
};

/// inquiryPayment: what became of a payment. Alipay+ polls it; 5 s so a slow answer does not
/// hold up its next poll.
pub const INQUIRY_PAYMENT: Operation = Operation {
    name: "inquiryPayment",
    prefix: PATH_PREFIX,
    route: "/inquiryPayment",
    direction: Direction::Inbound,
    function: Some("inquiry-payment"),
    wait: Duration::from_secs(5),
    function_timeout: Duration::from_secs(5),
    wire: Some(WireTypes::of::<
        payments::InquiryPaymentRequest,
        payments::InquiryPaymentResponse,
    >()),
};

/// cancelPayment.
pub const CANCEL_PAYMENT: Operation = Operation {
    name: "cancelPayment",
    prefix: PATH_PREFIX,
    route: "/cancelPayment",
    direction: Direction::Inbound,
    function: Some("cancel-payment"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: Some(WireTypes::of::<
        payments::CancelPaymentRequest,
        payments::CancelPaymentResponse,
    >()),
};

/// refund.
pub const REFUND: Operation = Operation {
    name: "refund",
    prefix: PATH_PREFIX,
    route: "/refund",
    direction: Direction::Inbound,
    function: Some("refund"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: Some(WireTypes::of::<
        payments::RefundRequest,
        payments::RefundResponse,
    >()),
};

/// notifyPayment: the MPP tells Alipay+ a payment's result (from the payments stream).
pub const NOTIFY_PAYMENT: Operation = Operation {
    name: "notifyPayment",
    prefix: PATH_PREFIX,
    route: "/notifyPayment",
    direction: Direction::Outbound,
    function: Some("notify-payment"),
    // MPP → Alipay+: "use a 5 s client timeout".
    wait: Duration::from_secs(5),
    // A batch of stream records, each one bounded call.
    function_timeout: Duration::from_secs(60),
    wire: Some(WireTypes::of::<
        payments::NotifyPaymentRequest,
        payments::NotifyPaymentResponse,
    >()),
};

/// getPaymentCode: the app backend asks for payment codes; the function asks Alipay+. The app
/// backend → our internal function waits 8 s (the Lambda timeout); the client's own retry budget
/// (`mpp_client::codes::DEADLINE`, 7 s) fits inside it.
pub const GET_PAYMENT_CODE: Operation = Operation {
    name: "getPaymentCode",
    prefix: API_PREFIX,
    route: "/codes/getPaymentCode",
    direction: Direction::Internal,
    function: Some("get-payment-code"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: Some(WireTypes::of::<
        crate::codes::GetPaymentCodeRequest,
        crate::codes::GetPaymentCodeResponse,
    >()),
};

/// sendOTP (risk control for auto debit, `account-binding.md` §7): the merchant challenges the
/// user; we send a one-time password by SMS or e-mail. The path is not published; the spec takes
/// `/aps/api/v1/users/sendOTP`. The wait is not published either: 8 s like pay (the SMS or
/// e-mail hand-off runs inside it, `otp::DELIVERY_BUDGET`).
pub const SEND_OTP: Operation = Operation {
    name: "sendOTP",
    prefix: API_PREFIX,
    route: "/users/sendOTP",
    direction: Direction::Inbound,
    function: Some("send-otp"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: Some(WireTypes::of::<
        crate::otp::SendOtpRequest,
        crate::otp::SendOtpResponse,
    >()),
};

/// prepare (account binding): Alipay+ asks for our authorization page (`authUrl`).
pub const PREPARE: Operation = Operation {
    name: "prepare",
    prefix: AUTH_PREFIX,
    route: "/prepare",
    direction: Direction::Inbound,
    function: Some("prepare"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: Some(WireTypes::of::<
        bindings::PrepareRequest,
        bindings::PrepareResponse,
    >()),
};

/// verifyOTP: does the code the user typed match? 5 s: one read and one conditional write.
pub const VERIFY_OTP: Operation = Operation {
    name: "verifyOTP",
    prefix: API_PREFIX,
    route: "/users/verifyOTP",
    direction: Direction::Inbound,
    function: Some("verify-otp"),
    wait: Duration::from_secs(5),
    function_timeout: Duration::from_secs(5),
    wire: Some(WireTypes::of::<
        crate::otp::VerifyOtpRequest,
        crate::otp::VerifyOtpResponse,
    >()),
};

/// Reconciliation of Alipay+'s clearing file (`user-presented-mpp.md` §3, the transaction
/// detail report `transactionItems_…csv`): an object landing in the clearing bucket starts the
/// function; no route, nobody waits. `wait` and the timeout are the function's own bound: a day
/// of a million transactions reconciles in well under a minute (BENCHMARKS.md), the rest is
/// headroom for a slow ledger query; Lambda's maximum is 900 s.
pub const RECONCILE: Operation = Operation {
    name: "reconcile",
    prefix: API_PREFIX,
    route: "/reconcile",
    direction: Direction::Landed,
    function: Some("reconcile"),
    wait: Duration::from_secs(900),
    function_timeout: Duration::from_secs(900),
    wire: None,
};

/// applyToken (account binding): an authCode exchanged for tokens, or a refresh.
pub const APPLY_TOKEN: Operation = Operation {
    name: "applyToken",
    prefix: AUTH_PREFIX,
    route: "/applyToken",
    direction: Direction::Inbound,
    function: Some("apply-token"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: Some(WireTypes::of::<
        bindings::ApplyTokenRequest,
        bindings::ApplyTokenResponse,
    >()),
};

/// cancelToken (account binding): the merchant unbinds; the token and its refresh token stop
/// working.
pub const CANCEL_TOKEN: Operation = Operation {
    name: "cancelToken",
    prefix: AUTH_PREFIX,
    route: "/cancelToken",
    direction: Direction::Inbound,
    function: Some("cancel-token"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: Some(WireTypes::of::<
        bindings::CancelTokenRequest,
        bindings::CancelTokenResponse,
    >()),
};

/// The authorization page (the wallet's H5 page of `authUrl`): GET shows it, POST takes the
/// user's login, PIN and decision. A person waits, not Alipay+: 8 s covers one Argon2id check
/// and two writes with room to spare.
pub const AUTHORIZATION_PAGE: Operation = Operation {
    name: "authorizationPage",
    prefix: PAGE_PREFIX,
    route: "/authorizationPage",
    direction: Direction::Page,
    function: Some("authorization-page"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: None,
};

/// authNotify (MPP → Alipay+, `account-binding.md` §5): a binding's code or token created, or the
/// binding revoked in the wallet. Delivered like notifyPayment (outbox, stream, retries).
pub const AUTH_NOTIFY: Operation = Operation {
    name: "authNotify",
    prefix: AUTH_PREFIX,
    route: "/authNotify",
    direction: Direction::Outbound,
    function: Some("auth-notify"),
    // MPP → Alipay+: the same 5 s client timeout as notifyPayment.
    wait: Duration::from_secs(5),
    function_timeout: Duration::from_secs(60),
    wire: Some(WireTypes::of::<
        bindings::AuthNotifyRequest,
        bindings::AuthNotifyResponse,
    >()),
};

/// consultUnbinding from the wallet (`account-binding.md` §6; issue 18): the MPP's own app
/// backend lists a customer's bindings and undoes one; the function asks Alipay+
/// consultUnbinding (MPP → Alipay+) and, when allowed, revokes the token and writes
/// TOKEN_CANCELED. Internal and IAM-authorised like getPaymentCode; 8 s like it (the client's
/// retry budget, `mpp_client::consult_unbinding::DEADLINE`, 7 s, fits inside).
pub const CONSULT_UNBINDING: Operation = Operation {
    name: "consultUnbinding",
    prefix: API_PREFIX,
    route: "/bindings/consultUnbinding",
    direction: Direction::Internal,
    function: Some("consult-unbinding"),
    wait: Duration::from_secs(8),
    function_timeout: Duration::from_secs(8),
    wire: Some(WireTypes::of::<
        bindings::ConsultUnbindingRequest,
        bindings::ConsultUnbindingResponse,
    >()),
};

/// Every operation, in the order the docs list them.
pub const OPERATIONS: [&Operation; 16] = [
    &PAY,
    &EVALUATION,
    &INQUIRY_PAYMENT,
    &CANCEL_PAYMENT,
    &REFUND,
    &NOTIFY_PAYMENT,
    &GET_PAYMENT_CODE,
    &SEND_OTP,
    &VERIFY_OTP,
    &RECONCILE,
    &PREPARE,
    &APPLY_TOKEN,
    &CANCEL_TOKEN,
    &AUTHORIZATION_PAGE,
    &AUTH_NOTIFY,
    &CONSULT_UNBINDING,
];

/// The inbound operation or page served at `path` behind `stage` (the part of the path before
/// the spec's prefix: `""` locally, `/prod` through an execute-api URL).
pub fn served_at(path: &str, stage: &str) -> Option<&'static Operation> {
    let rest = path.strip_prefix(stage)?;
    OPERATIONS
        .into_iter()
        .find(|o| matches!(o.direction, Direction::Inbound | Direction::Page) && o.path() == rest)
}

/// The operation of an Alipay+ name.
pub fn by_name(name: &str) -> Option<&'static Operation> {
    OPERATIONS.into_iter().find(|o| o.name == name)
}

/// The inbound payment operation served at `route` (the path after [`PATH_PREFIX`]).
pub fn inbound_by_route(route: &str) -> Option<&'static Operation> {
    OPERATIONS
        .into_iter()
        .find(|o| o.direction == Direction::Inbound && o.prefix == PATH_PREFIX && o.route == route)
}

/// The inbound operation outside [`PATH_PREFIX`] served at the full `path`
/// (`/aps/api/v1/users/sendOTP`): those keep the spec's path whatever prefix the payment APIs
/// are served under.
pub fn inbound_by_path(path: &str) -> Option<&'static Operation> {
    OPERATIONS
        .into_iter()
        .find(|o| o.direction == Direction::Inbound && o.prefix != PATH_PREFIX && o.path() == path)
}

/// The operation a function crate serves.
pub fn by_function(function: &str) -> Option<&'static Operation> {
    OPERATIONS
        .into_iter()
        .find(|o| o.function == Some(function))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_routes_and_functions_are_unique() {
        let mut names = HashSet::new();
        let mut routes = HashSet::new();
        let mut functions = HashSet::new();
        for o in OPERATIONS {
            assert!(names.insert(o.name), "{} twice", o.name);
            assert!(routes.insert(o.route), "{} twice", o.route);
            if let Some(f) = o.function {
                assert!(functions.insert(f), "{f} twice");
            }
        }
    }

    #[test]
    fn the_name_is_the_route_and_every_deadline_fits_alipay_plus() {
        for o in OPERATIONS {
            // The naming promise: route, log field and metric dimension are the Alipay+ name.
            assert!(o.route.ends_with(&format!("/{}", o.name)), "{}", o.name);
            match o.direction {
                Direction::Inbound | Direction::Internal | Direction::Page => {
                    assert!(o.wait <= Duration::from_secs(8), "{}", o.name);
                    assert_eq!(o.function_timeout, o.wait, "{}", o.name)
                }
                Direction::Outbound => {
                    assert!(o.wait <= Duration::from_secs(8), "{}", o.name);
                    assert!(o.function_timeout >= o.wait, "{}", o.name)
                }
                // Nobody waits; Lambda's own maximum bounds it.
                Direction::Landed => {
                    assert!(o.function_timeout <= Duration::from_secs(900), "{}", o.name)
                }
            }
            assert_eq!(by_name(o.name), Some(o));
            if let Some(f) = o.function {
                assert_eq!(by_function(f), Some(o));
                // The naming promise reaches the crate and its binary too.
                assert_eq!(f, o.kebab_name(), "{}", o.name);
            }
        }
        assert_eq!(INQUIRY_PAYMENT.kebab_name(), "inquiry-payment");
        assert_eq!(INQUIRY_PAYMENT.resource_prefix(), "InquiryPayment");
        assert_eq!(SEND_OTP.kebab_name(), "send-otp");
        assert_eq!(VERIFY_OTP.resource_prefix(), "VerifyOtp");
        assert_eq!(GET_PAYMENT_CODE.kebab_name(), "get-payment-code");
        assert_eq!(PAY.path(), "/aps/api/v1/payments/pay");
        assert_eq!(GET_PAYMENT_CODE.path(), crate::codes::GET_PAYMENT_CODE_PATH);
        for o in OPERATIONS {
            if o.direction == Direction::Inbound {
                assert!(
                    [PATH_PREFIX, API_PREFIX, AUTH_PREFIX].contains(&o.prefix),
                    "{}",
                    o.name
                );
            }
        }
        assert_eq!(SEND_OTP.path(), "/aps/api/v1/users/sendOTP");
        assert_eq!(
            inbound_by_path("/aps/api/v1/users/verifyOTP"),
            Some(&VERIFY_OTP)
        );
        assert_eq!(inbound_by_route("/users/verifyOTP"), None);
        assert_eq!(inbound_by_path("/aps/api/v1/payments/pay"), None);
        assert_eq!(
            served_at("/prod/aps/api/v1/authorizations/applyToken", "/prod"),
            Some(&APPLY_TOKEN)
        );
        assert_eq!(
            served_at("/wallet/authorizationPage", ""),
            Some(&AUTHORIZATION_PAGE)
        );
        assert_eq!(served_at("/aps/api/v1/payments/pay", ""), Some(&PAY));
        assert_eq!(
            served_at("/prod/aps/api/v1/users/sendOTP", "/prod"),
            Some(&SEND_OTP)
        );
        assert_eq!(inbound_by_route("/inquiryPayment"), Some(&INQUIRY_PAYMENT));
        assert_eq!(inbound_by_route("/notifyPayment"), None);
    }
}
