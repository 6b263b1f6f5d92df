//! Accepting one payment, seed Steps 1 and 2: identify the code, build and record the order,
//! send pay, and follow the answer with inquiries or re-sends until a final result or expiry,
//! then cancel until the cancel succeeds (within its bound).
//!
//! Every loop has a count bound and a time bound ([`RetryPolicy`]); time comes from a [`Timer`],
//! so the schedule is tested on a virtual clock. A notification that settles the order while the
//! driver waits wakes it at once (the store's change signal).

use crate::code::{identify, CodeError, CodeReach};
use crate::expiry::{final_expiry, to_wire_second, ExpiryError};
use crate::gateway::{Gateway, Reply};
use crate::messages::{AcqCancelRequest, AcqInquiryRequest};
use crate::order::{Note, Order, OrderState, Source, Transition};
use crate::schedule::{RetryPolicy, WAKE_CHECKS_MAX};
use crate::store::{OrderStore, OrderStoreError};
use crate::timer::Timer;
use crate::verdict::{judge_cancel, judge_inquiry, judge_pay, CancelVerdict, Verdict};
use chrono::{DateTime, Utc};
use mpp_core::clock::business_tz;
use mpp_core::flows::new_id;
use mpp_core::money::Currency;
use mpp_core::payments::{InquiryPaymentResponse, PaymentFactor, PaymentMethod};
use mpp_core::result_code::ResultStatus;
use mpp_core::wire::acquirer::{AcqOrder, AcqPayRequest, SettlementStrategy};
use mpp_core::wire::{
    parse_request, to_body, Amount, CurrencyCode, Flag, InStorePaymentScenario, ParamIllegal,
    PaymentMethodType, Text, Timestamp,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the merchant's terminal hands the acquirer. `Debug` never shows the code.
#[derive(Clone)]
pub struct Sale {
    /// The scanned value, as scanned.
    pub code: String,
    /// What to charge.
    pub amount: Amount,
    /// The order: merchant, store, goods.
    pub order: AcqOrder,
    /// The `paymentExpiryTime` the merchant asks for, if any (the table caps it at 1 minute).
    pub expiry: Option<DateTime<Utc>>,
    /// Where Alipay+ should send notifyPayment.
    pub notify_url: Option<String>,
    /// How the acquirer wants to be settled.
    pub settlement_currency: Option<Currency>,
}

impl std::fmt::Debug for Sale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sale")
            .field(
                "code",
                &format_args!("<{} characters>", self.code.chars().count()),
            )
            .field("amount", &self.amount)
            .field("order", &self.order.reference_order_id)
            .field("expiry", &self.expiry)
            .field("notify_url", &self.notify_url)
            .field("settlement_currency", &self.settlement_currency)
            .finish()
    }
}

/// An API the driver calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// pay.
    Pay,
    /// inquiryPayment.
    Inquiry,
    /// cancelPayment.
    Cancel,
}

impl Api {
    /// The Alipay+ operation name.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Pay => "pay",
            Api::Inquiry => "inquiryPayment",
            Api::Cancel => "cancelPayment",
        }
    }
}

/// One thing that happened, as it happens (the command line prints them; tests may collect).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Step 1 passed.
    Identified {
        /// The code's two-digit prefix.
        prefix: String,
        /// Its length.
        digits: usize,
        /// Issued length or expansion length.
        reach: CodeReach,
    },
    /// The order is recorded.
    Created {
        /// Its `paymentRequestId`.
        payment_request_id: String,
        /// Its final expiry.
        expires_at: DateTime<Utc>,
    },
    /// A request left.
    Sent {
        /// Which API.
        api: Api,
        /// 1 for the first of its kind.
        attempt: u32,
    },
    /// A verified answer came back.
    Answered {
        /// Which API.
        api: Api,
        /// Which attempt.
        attempt: u32,
        /// `result.resultStatus`.
        status: ResultStatus,
        /// `result.resultCode`.
        code: String,
        /// For inquiry: `paymentResult` status and code.
        payment_result: Option<(ResultStatus, String)>,
    },
    /// Nothing usable came back.
    NoAnswer {
        /// Which API.
        api: Api,
        /// Which attempt.
        attempt: u32,
        /// Why.
        reason: String,
    },
    /// Waiting before the next request.
    Waiting {
        /// What comes next.
        next: Api,
        /// How long.
        gap: Duration,
    },
    /// Someone else (a notification) settled the order while we waited.
    SettledElsewhere {
        /// The state it is in.
        state: OrderState,
    },
    /// Two sources disagreed; recorded on the order.
    Conflict {
        /// What disagreed.
        detail: String,
    },
    /// The order expired (or ran out of inquiries) unresolved: cancelling.
    Expired,
    /// The driver is done with the order.
    Finished {
        /// Its state.
        state: OrderState,
        /// Its result code.
        code: Option<String>,
        /// What settled it.
        by: Option<Source>,
    },
}

/// Receives the steps of every order the driver runs.
pub trait Steps: Send + Sync {
    /// One step of order `payment_request_id`.
    fn step(&self, payment_request_id: &str, step: &Step);
}

/// Steps to nowhere (the log still has them).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSteps;

impl Steps for NoSteps {
    fn step(&self, _payment_request_id: &str, _step: &Step) {}
}

/// Why a sale could not be driven.
#[derive(Debug, thiserror::Error)]
pub enum AcquirerError {
    /// Step 1 refused the scanned value; nothing was sent.
    #[error("not an Alipay+ payment code: {0}")]
    Code(#[from] CodeError),
    /// The requested expiry is unusable; nothing was sent.
    #[error(transparent)]
    Expiry(#[from] ExpiryError),
    /// The sale does not make a legal pay request; nothing was sent.
    #[error("the pay request would be illegal: {0}")]
    Request(#[from] ParamIllegal),
    /// The order store failed.
    #[error(transparent)]
    Store(#[from] OrderStoreError),
}

/// The acquirer: its port to Alipay+, its orders, its clock, its bounds.
#[derive(Clone)]
pub struct Acquirer {
    /// Calls Alipay+.
    pub gateway: Arc<dyn Gateway>,
    /// Keeps orders.
    pub orders: Arc<dyn OrderStore>,
    /// Now and waiting.
    pub timer: Arc<dyn Timer>,
    /// The bounds.
    pub policy: RetryPolicy,
}

fn illegal(field: &str) -> impl FnOnce(String) -> ParamIllegal + '_ {
    move |rule| ParamIllegal::new(field, rule)
}

/// The pay request for a sale: `CONNECT_WALLET` with the code as `paymentMethodId`, in-store
/// `PaymentCode` scenario, the final expiry, checked by our own validator before it is used.
pub fn build_request(
    payment_request_id: &str,
    code: &str,
    sale: &Sale,
    expires_at: DateTime<Utc>,
) -> Result<AcqPayRequest, ParamIllegal> {
    let req = AcqPayRequest {
        payment_request_id: Text::new(payment_request_id).map_err(illegal("paymentRequestId"))?,
        order: sale.order.clone(),
        payment_amount: sale.amount,
        payment_method: PaymentMethod {
            payment_method_type: PaymentMethodType::connect_wallet(),
            payment_method_id: Some(
                Text::new(code).map_err(illegal("paymentMethod.paymentMethodId"))?,
            ),
            customer_id: None,
            payment_method_meta_data: None,
            custom_data: None,
        },
        payment_factor: Some(PaymentFactor {
            is_in_store_payment: Some(Flag::new(true)),
            in_store_payment_scenario: Some(InStorePaymentScenario::PaymentCode),
            ..PaymentFactor::default()
        }),
        payment_expiry_time: Some(Timestamp::from_datetime(
            expires_at.with_timezone(&business_tz()),
        )),
        payment_notify_url: match &sale.notify_url {
            Some(u) => Some(Text::new(u.as_str()).map_err(illegal("paymentNotifyUrl"))?),
            None => None,
        },
        settlement_strategy: sale.settlement_currency.map(|c| SettlementStrategy {
            settlement_currency: Some(CurrencyCode::new(c)),
        }),
    };
    // What we send must pass the rules we hold others to.
    parse_request::<AcqPayRequest>(&to_body(&req))
}

/// What the driver does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    Pay,
    Inquire,
    Cancel,
}

impl Acquirer {
    /// Seed Steps 1 and 2 for one sale: answers the order in its last state (`Succeeded`,
    /// `Failed`, `Cancelled`, or `Cancelling` when the cancel could not be confirmed).
    pub async fn pay(&self, sale: &Sale, steps: &dyn Steps) -> Result<Order, AcquirerError> {
        let code = identify(&sale.code)?;
        let placed = self.timer.now();
        let expires_at = to_wire_second(final_expiry(placed, sale.expiry, self.policy.order_life)?);
        if expires_at <= placed {
            return Err(ExpiryError::NotAfterOrder {
                requested: expires_at,
                placed,
            }
            .into());
        }
        let id = format!("acq{}", new_id(placed));
        let req = build_request(&id, code.expose(), sale, expires_at)?;
        steps.step(
            &id,
            &Step::Identified {
                prefix: code.prefix().to_string(),
                digits: code.len(),
                reach: code.reach(),
            },
        );
        let order = Order::new(
            id.clone(),
            sale.order.reference_order_id.as_str().to_string(),
            sale.amount.money(),
            to_body(&req),
            placed,
            expires_at,
        );
        self.orders.create(&order).await?;
        tracing::info!(flow = "acquirer", payment_request_id = %id, expires_at = %expires_at, "order created");
        steps.step(
            &id,
            &Step::Created {
                payment_request_id: id.clone(),
                expires_at,
            },
        );
        if let Err(refused) = self.orders.transition(&id, &Transition::Sent).await? {
            tracing::error!(flow = "acquirer", payment_request_id = %id, error = %refused, "new order not sendable");
            return self.finish(&id, steps).await;
        }
        self.drive(&id, steps).await
    }

    /// Follows a `Pending` order to a final result or to the cancel.
    pub async fn drive(&self, id: &str, steps: &dyn Steps) -> Result<Order, AcquirerError> {
        let mut changes = self.orders.changes();
        let order = self.load(id).await?;
        let deadline = order.expires_at;
        let p = self.policy;
        let mut next = Next::Pay;
        let (mut pays, mut inquiries) = (0u32, 0u32);
        // Every pass sends one request; the two budgets bound the passes.
        let passes_max = p.pay_attempts_max.saturating_add(p.inquiries_max);
        for _ in 0..passes_max {
            if next == Next::Pay && pays >= p.pay_attempts_max {
                next = Next::Inquire;
            }
            if next == Next::Inquire && inquiries >= p.inquiries_max {
                next = Next::Cancel;
            }
            let (verdict, api) = match next {
                Next::Cancel => break,
                Next::Pay => {
                    pays += 1;
                    (
                        self.send_pay(id, &order.request_body, pays, steps).await?,
                        Api::Pay,
                    )
                }
                Next::Inquire => {
                    inquiries += 1;
                    (self.send_inquiry(id, inquiries, steps).await?, Api::Inquiry)
                }
            };
            let resend_left = pays < p.pay_attempts_max;
            next = match verdict {
                Verdict::Succeeded(success) => {
                    let t = Transition::Succeed {
                        success,
                        source: source_of(api),
                    };
                    return self.settle(id, t, steps).await;
                }
                Verdict::Failed(code) => {
                    let t = Transition::Fail {
                        code,
                        source: source_of(api),
                    };
                    return self.settle(id, t, steps).await;
                }
                Verdict::InProcess => Next::Inquire,
                Verdict::NotFound if resend_left => Next::Pay,
                Verdict::Unknown(_) if api == Api::Pay && resend_left => Next::Pay,
                Verdict::NotFound | Verdict::Unknown(_) => Next::Inquire,
            };
            let gap = match next {
                Next::Pay => p.resend.gap(pays.saturating_sub(1)),
                Next::Inquire => p.inquiry.gap(inquiries),
                Next::Cancel => Duration::ZERO,
            };
            let wake_at = self.timer.now() + chrono::Duration::from_std(gap).unwrap_or_default();
            let until = wake_at.min(deadline);
            steps.step(
                id,
                &Step::Waiting {
                    next: api_of(next),
                    gap: to_std(until - self.timer.now()),
                },
            );
            if let Some(settled) = self.pause(id, until, &mut changes).await? {
                steps.step(
                    id,
                    &Step::SettledElsewhere {
                        state: settled.state,
                    },
                );
                return self.finish(id, steps).await;
            }
            if self.timer.now() >= deadline {
                break;
            }
        }
        self.cancel(id, steps).await
    }

    async fn send_pay(
        &self,
        id: &str,
        body: &[u8],
        attempt: u32,
        steps: &dyn Steps,
    ) -> Result<Verdict, AcquirerError> {
        self.orders.note(id, &Note::PayAttempt).await?;
        steps.step(
            id,
            &Step::Sent {
                api: Api::Pay,
                attempt,
            },
        );
        let reply = self.gateway.pay(body).await;
        match &reply {
            Reply::Answer(a) => steps.step(id, &answered(Api::Pay, attempt, &a.result, None)),
            Reply::NoAnswer(reason) => steps.step(id, &no_answer(Api::Pay, attempt, reason)),
        }
        let verdict = judge_pay(&reply);
        tracing::info!(flow = "acquirer", api = "pay", payment_request_id = %id, attempt, verdict = ?verdict_name(&verdict), "answered");
        Ok(verdict)
    }

    async fn send_inquiry(
        &self,
        id: &str,
        attempt: u32,
        steps: &dyn Steps,
    ) -> Result<Verdict, AcquirerError> {
        self.orders.note(id, &Note::Inquiry).await?;
        steps.step(
            id,
            &Step::Sent {
                api: Api::Inquiry,
                attempt,
            },
        );
        let reply = self.inquire(id).await?;
        match &reply {
            Reply::Answer(a) => steps.step(
                id,
                &answered(Api::Inquiry, attempt, &a.result, a.payment_result.as_ref()),
            ),
            Reply::NoAnswer(reason) => steps.step(id, &no_answer(Api::Inquiry, attempt, reason)),
        }
        let verdict = judge_inquiry(&reply);
        tracing::info!(flow = "acquirer", api = "inquiryPayment", payment_request_id = %id, attempt, verdict = ?verdict_name(&verdict), "answered");
        Ok(verdict)
    }

    /// One inquiryPayment for an order, outside the schedule (reconciliation, operators,
    /// tests). Not counted on the order.
    pub async fn inquire(&self, id: &str) -> Result<Reply<InquiryPaymentResponse>, AcquirerError> {
        let req = AcqInquiryRequest {
            payment_request_id: Text::new(id).map_err(illegal("paymentRequestId"))?,
            payment_id: None,
        };
        Ok(self.gateway.inquire(&req).await)
    }

    /// Waits until `until`, or until the order leaves `Pending` (then answers it).
    async fn pause(
        &self,
        id: &str,
        until: DateTime<Utc>,
        changes: &mut watch::Receiver<u64>,
    ) -> Result<Option<Order>, AcquirerError> {
        for _ in 0..WAKE_CHECKS_MAX {
            changes.borrow_and_update();
            let order = self.load(id).await?;
            if order.state != OrderState::Pending {
                return Ok(Some(order));
            }
            let now = self.timer.now();
            if now >= until {
                return Ok(None);
            }
            tokio::select! {
                () = self.timer.sleep(to_std(until - now)) => {}
                changed = changes.changed() => {
                    if changed.is_err() {
                        // The store is gone; nothing will wake us: sleep the rest.
                        self.timer.sleep(to_std(until - self.timer.now())).await;
                    }
                    continue;
                }
            }
            let order = self.load(id).await?;
            return Ok((order.state != OrderState::Pending).then_some(order));
        }
        // Woken too often by other orders: stop listening and sleep the rest.
        let left = until - self.timer.now();
        self.timer.sleep(to_std(left)).await;
        let order = self.load(id).await?;
        Ok((order.state != OrderState::Pending).then_some(order))
    }

    /// Expired unresolved: cancel, retried with back-off until S, an F, or the bound.
    async fn cancel(&self, id: &str, steps: &dyn Steps) -> Result<Order, AcquirerError> {
        steps.step(id, &Step::Expired);
        if let Err(refused) = self.orders.transition(id, &Transition::StartCancel).await? {
            // A notification settled it at the last moment.
            tracing::info!(flow = "acquirer", payment_request_id = %id, state = %refused.from, "settled before the cancel");
            steps.step(
                id,
                &Step::SettledElsewhere {
                    state: refused.from,
                },
            );
            return self.finish(id, steps).await;
        }
        let req = AcqCancelRequest {
            payment_request_id: Text::new(id).map_err(illegal("paymentRequestId"))?,
            payment_id: None,
        };
        let p = self.policy;
        for attempt in 1..=p.cancel_attempts_max {
            self.orders.note(id, &Note::CancelAttempt).await?;
            steps.step(
                id,
                &Step::Sent {
                    api: Api::Cancel,
                    attempt,
                },
            );
            let reply = self.gateway.cancel(&req).await;
            match &reply {
                Reply::Answer(a) => {
                    steps.step(id, &answered(Api::Cancel, attempt, &a.result, None))
                }
                Reply::NoAnswer(reason) => steps.step(id, &no_answer(Api::Cancel, attempt, reason)),
            }
            match judge_cancel(&reply) {
                CancelVerdict::Closed => {
                    if let Err(refused) = self.orders.transition(id, &Transition::Cancelled).await?
                    {
                        tracing::error!(flow = "acquirer", payment_request_id = %id, error = %refused, "cancel succeeded on an order not cancelling");
                    }
                    return self.finish(id, steps).await;
                }
                CancelVerdict::Refused(code) => {
                    tracing::error!(flow = "acquirer", payment_request_id = %id, result_code = %code, "cancel refused: operator needed");
                    self.orders.note(id, &Note::CancelRefused { code }).await?;
                    return self.finish(id, steps).await;
                }
                CancelVerdict::Unknown(reason) => {
                    tracing::warn!(flow = "acquirer", payment_request_id = %id, attempt, reason = %reason, "cancel unconfirmed");
                    if attempt < p.cancel_attempts_max {
                        let gap = p.cancel.gap(attempt - 1);
                        steps.step(
                            id,
                            &Step::Waiting {
                                next: Api::Cancel,
                                gap,
                            },
                        );
                        self.timer.sleep(gap).await;
                    }
                }
            }
        }
        tracing::error!(flow = "acquirer", payment_request_id = %id, attempts = p.cancel_attempts_max, "cancel still unconfirmed: order left CANCELLING");
        self.finish(id, steps).await
    }

    /// Applies a final result; if something else settled the order first, records a conflict
    /// when the two disagree.
    async fn settle(
        &self,
        id: &str,
        t: Transition,
        steps: &dyn Steps,
    ) -> Result<Order, AcquirerError> {
        if let Err(refused) = self.orders.transition(id, &t).await? {
            let current = self.load(id).await?;
            steps.step(
                id,
                &Step::SettledElsewhere {
                    state: current.state,
                },
            );
            if current.state.is_final() && current.state != t.target() {
                let detail = format!(
                    "{} said {} but the order is already {} (by {:?})",
                    source_name(&t),
                    t.target(),
                    refused.from,
                    current.resolved_by
                );
                tracing::error!(flow = "acquirer", payment_request_id = %id, detail = %detail, "conflicting results");
                self.orders
                    .note(id, &Note::Conflict(detail.clone()))
                    .await?;
                steps.step(id, &Step::Conflict { detail });
            }
        }
        self.finish(id, steps).await
    }

    async fn finish(&self, id: &str, steps: &dyn Steps) -> Result<Order, AcquirerError> {
        let order = self.load(id).await?;
        tracing::info!(flow = "acquirer", payment_request_id = %id, state = %order.state, result_code = ?order.result_code, resolved_by = ?order.resolved_by, pays = order.pay_attempts, inquiries = order.inquiries, cancels = order.cancel_attempts, "finished");
        steps.step(
            id,
            &Step::Finished {
                state: order.state,
                code: order.result_code.clone(),
                by: order.resolved_by,
            },
        );
        Ok(order)
    }

    async fn load(&self, id: &str) -> Result<Order, AcquirerError> {
        self.orders
            .get(id)
            .await?
            .ok_or_else(|| OrderStoreError::NotFound(id.to_string()).into())
    }
}

fn source_of(api: Api) -> Source {
    match api {
        Api::Pay => Source::Pay,
        Api::Inquiry => Source::Inquiry,
        Api::Cancel => Source::Cancel,
    }
}

fn source_name(t: &Transition) -> &'static str {
    match t {
        Transition::Succeed { source, .. } | Transition::Fail { source, .. } => match source {
            Source::Pay => "pay",
            Source::Inquiry => "inquiry",
            Source::Notify => "notification",
            Source::Cancel => "cancel",
        },
        Transition::Sent | Transition::StartCancel | Transition::Cancelled => "driver",
    }
}

fn api_of(next: Next) -> Api {
    match next {
        Next::Pay => Api::Pay,
        Next::Inquire => Api::Inquiry,
        Next::Cancel => Api::Cancel,
    }
}

fn verdict_name(v: &Verdict) -> &'static str {
    match v {
        Verdict::Succeeded(_) => "succeeded",
        Verdict::Failed(_) => "failed",
        Verdict::InProcess => "in_process",
        Verdict::NotFound => "not_found",
        Verdict::Unknown(_) => "unknown",
    }
}

fn to_std(d: chrono::Duration) -> Duration {
    d.to_std().unwrap_or(Duration::ZERO)
}

fn answered(
    api: Api,
    attempt: u32,
    r: &mpp_core::wire::ResultObject,
    payment: Option<&mpp_core::wire::ResultObject>,
) -> Step {
    Step::Answered {
        api,
        attempt,
        status: r.result_status,
        code: r.result_code.clone(),
        payment_result: payment.map(|p| (p.result_status, p.result_code.clone())),
    }
}

fn no_answer(api: Api, attempt: u32, reason: &str) -> Step {
    Step::NoAnswer {
        api,
        attempt,
        reason: reason.to_string(),
    }
}
