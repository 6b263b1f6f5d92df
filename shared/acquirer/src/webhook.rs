//! Seed Step 3: the notifyPayment webhook. Alipay+ signs the notification; the shared edge
//! verifies it and signs our acknowledgement. A notification is one more source of the final
//! result: it settles a `Pending` order through the same conditional transitions as pay and
//! inquiry answers, and when it disagrees with a result already recorded, the disagreement is
//! kept on the order and an inquiry (the tie-breaker, §8: "must agree once final") is sent and
//! its answer recorded beside it.
//!
//! Answers: S once the notification is recorded (whether it changed the order or not; Alipay+
//! need not send it again); F `ORDER_NOT_EXIST` for a `paymentRequestId` that is not ours;
//! F `PARAM_ILLEGAL` when the amount is not the order's (recorded as a conflict).

use crate::driver::Acquirer;
use crate::gateway::Reply;
use crate::http::{inbound, read, respond};
use crate::messages::Wire;
use crate::order::{Note, NotifyReceipt, Order, OrderState, Source, Success, Transition};
use axum::extract::{Request, State};
use axum::response::Response;
use mpp_core::edge::{no_interface, serve, Edge, EdgeError};
use mpp_core::payments::{NotifyPaymentRequest, NotifyPaymentResponse};
use mpp_core::result_code::{ResultCode, ResultStatus};
use mpp_core::wire::ResultObject;
use std::sync::Arc;

/// The operation name in logs.
pub const OPERATION: &str = "notifyPayment";

/// What the webhook needs.
#[derive(Clone)]
pub struct Webhook {
    /// Verifies Alipay+'s signature, signs our answer.
    pub edge: Edge,
    /// The orders, and the gateway for reconciling inquiries.
    pub acquirer: Acquirer,
    /// The path the webhook answers on (the `paymentNotifyUrl`'s path).
    pub path: String,
}

/// What one notification did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotifyOutcome {
    /// It settled the order.
    Settled(OrderState),
    /// The order already had this result.
    Agrees,
    /// A cancelled (or cancelling) order was notified as a success: the one disagreement §8
    /// allows (a success later cancelled); recorded.
    CancelledAfterSuccess,
    /// It disagrees with the recorded result: recorded, and an inquiry was sent to reconcile.
    Conflict,
    /// Not our order.
    Unknown,
    /// The amount is not the order's.
    AmountMismatch,
}

fn ack(code: ResultCode) -> Wire<NotifyPaymentResponse> {
    Wire(NotifyPaymentResponse {
        result: ResultObject::from(code),
    })
}

/// Handles one verified notification.
pub async fn on_notify(
    hook: &Webhook,
    req: &NotifyPaymentRequest,
) -> Result<NotifyOutcome, crate::driver::AcquirerError> {
    let orders = &hook.acquirer.orders;
    let id = req.payment_request_id.as_str();
    let Some(order) = orders.get(id).await? else {
        return Ok(NotifyOutcome::Unknown);
    };
    let receipt = NotifyReceipt {
        status: req.payment_result.result_status,
        code: req.payment_result.result_code.clone(),
        payment_id: req.payment_id.as_ref().map(|p| p.as_str().to_string()),
        at: hook.acquirer.timer.now(),
    };
    orders.note(id, &Note::Notified(receipt)).await?;
    if req.payment_amount.money() != order.amount {
        let detail = format!(
            "notification amount {} is not the order's {}",
            req.payment_amount.money(),
            order.amount
        );
        orders.note(id, &Note::Conflict(detail)).await?;
        return Ok(NotifyOutcome::AmountMismatch);
    }
    let transition = match req.payment_result.result_status {
        ResultStatus::S => Transition::Succeed {
            success: Success {
                payment_id: req.payment_id.as_ref().map(|p| p.as_str().to_string()),
                payment_time: req.payment_time.as_ref().map(|t| t.as_str().to_string()),
                customer_id: req.customer_id.as_ref().map(|c| c.as_str().to_string()),
            },
            source: Source::Notify,
        },
        // Validation refuses U in a notification; F and U both mean "not paid" here.
        ResultStatus::F | ResultStatus::U => Transition::Fail {
            code: req.payment_result.result_code.clone(),
            source: Source::Notify,
        },
    };
    let current = match orders.transition(id, &transition).await? {
        Ok(settled) => return Ok(NotifyOutcome::Settled(settled.state)),
        Err(_) => orders.get(id).await?.unwrap_or(order),
    };
    let outcome = compare(&current, &transition);
    match &outcome {
        NotifyOutcome::Conflict => {
            let detail = format!(
                "notification said {} {} but the order is {} (by {:?})",
                req.payment_result.result_status,
                req.payment_result.result_code,
                current.state,
                current.resolved_by
            );
            tracing::error!(flow = OPERATION, payment_request_id = %id, detail = %detail, "conflicting results");
            orders.note(id, &Note::Conflict(detail)).await?;
            let acquirer = hook.acquirer.clone();
            let id = id.to_string();
            tokio::spawn(async move { reconcile(&acquirer, &id).await });
        }
        NotifyOutcome::CancelledAfterSuccess => {
            let detail = "notified S after the cancel: the cancel returns the money".to_string();
            orders.note(id, &Note::Reconciled(detail)).await?;
        }
        NotifyOutcome::Settled(_)
        | NotifyOutcome::Agrees
        | NotifyOutcome::Unknown
        | NotifyOutcome::AmountMismatch => {}
    }
    Ok(outcome)
}

/// How a notification relates to an order it could not settle.
fn compare(order: &Order, t: &Transition) -> NotifyOutcome {
    let says_success = matches!(t, Transition::Succeed { .. });
    match order.state {
        OrderState::Succeeded if says_success => NotifyOutcome::Agrees,
        OrderState::Failed if !says_success => NotifyOutcome::Agrees,
        OrderState::Cancelling | OrderState::Cancelled if says_success => {
            NotifyOutcome::CancelledAfterSuccess
        }
        OrderState::Cancelling | OrderState::Cancelled => NotifyOutcome::Agrees,
        OrderState::Succeeded | OrderState::Failed => NotifyOutcome::Conflict,
        // A notification before the pay left, or a Pending order the transition refused (it
        // cannot be: Pending accepts both): keep it as a conflict for a person to read.
        OrderState::Created | OrderState::Pending => NotifyOutcome::Conflict,
    }
}

/// Asks Alipay+ once what became of the order and records the answer beside the conflict.
pub async fn reconcile(acquirer: &Acquirer, id: &str) {
    let text = match acquirer.inquire(id).await {
        Ok(Reply::Answer(a)) => match &a.payment_result {
            Some(p) => format!(
                "result {} {}, paymentResult {} {}",
                a.result.result_status, a.result.result_code, p.result_status, p.result_code
            ),
            None => format!("result {} {}", a.result.result_status, a.result.result_code),
        },
        Ok(Reply::NoAnswer(why)) => format!("no answer: {why}"),
        Err(e) => format!("not sent: {e}"),
    };
    tracing::warn!(flow = OPERATION, payment_request_id = %id, inquiry = %text, "reconciled");
    if let Err(e) = acquirer.orders.note(id, &Note::Reconciled(text)).await {
        tracing::error!(flow = OPERATION, payment_request_id = %id, error = %e, "reconciliation not recorded");
    }
}

/// The answer for an outcome.
fn answer_for(outcome: &NotifyOutcome) -> ResultCode {
    match outcome {
        NotifyOutcome::Settled(_)
        | NotifyOutcome::Agrees
        | NotifyOutcome::CancelledAfterSuccess
        | NotifyOutcome::Conflict => ResultCode::Success,
        NotifyOutcome::Unknown => ResultCode::OrderNotExist,
        NotifyOutcome::AmountMismatch => ResultCode::ParamIllegal,
    }
}

/// Serves one HTTP request for the webhook: the notify path through the edge, anything else
/// `NO_INTERFACE_DEF`.
pub async fn route(State(hook): State<Arc<Webhook>>, request: Request) -> Response {
    let (parts, body) = read(request).await;
    let inbound = inbound(&parts, &body);
    if parts.uri.path() != hook.path {
        return respond(no_interface(&hook.edge, inbound).await);
    }
    let handler = hook.clone();
    let out = serve(
        &hook.edge,
        OPERATION,
        inbound,
        |req: Wire<NotifyPaymentRequest>| async move {
            match on_notify(&handler, &req.0).await {
                Ok(outcome) => {
                    tracing::info!(flow = OPERATION, payment_request_id = %req.0.payment_request_id, outcome = ?outcome, "notification handled");
                    Ok(ack(answer_for(&outcome)))
                }
                Err(e) => {
                    // The store failed: U, so Alipay+ sends it again.
                    tracing::error!(flow = OPERATION, error = %e, "notification not recorded");
                    Ok::<_, EdgeError>(ack(ResultCode::UnknownException))
                }
            }
        },
    )
    .await;
    respond(out)
}

/// The webhook as a router (every path goes to [`route`]).
pub fn router(hook: Webhook) -> axum::Router {
    axum::Router::new()
        .fallback(route)
        .with_state(Arc::new(hook))
}

/// Starts the webhook on `listener` (bind it with [`crate::http::bind_loopback`]).
pub fn start(
    hook: Webhook,
    listener: tokio::net::TcpListener,
) -> Result<crate::http::Server, crate::http::ServeError> {
    crate::http::Server::spawn(listener, router(hook))
}
