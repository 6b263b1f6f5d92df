//! `GET /dev/clearing` on `mpp serve`: the ledger of one clearing day, one page at a time, for
//! `mpp reconcile --mpp-url`. A development endpoint: answered only to loopback peers (never
//! part of the Alipay+ surface, never deployed). The page is a clearing file in our layout
//! (summary of the page, then its rows), the resume point in the `x-resume-after` header.
//!
//! Query: `day` (YYYY-MM-DD), `type` (PAYMENT | REFUND), `limit` (1–500), `after` (an id).

use crate::reconcile::RESUME_HEADER;
use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use mpp_core::reconcile::clearing::{ClearingSummary, ClearingWriter};
use mpp_core::reconcile::ledger::{ClearingLedger, CLEARING_PAGE_MAX};
use mpp_core::reconcile::{ClearingDay, Transaction, TransactionType};
use std::collections::HashMap;
use std::net::SocketAddr;

/// The route.
pub const PATH: &str = "/dev/clearing";

fn plain(status: StatusCode, text: &str) -> Response {
    let mut r = Response::new(Body::from(format!("{text}\n")));
    *r.status_mut() = status;
    r
}

/// Answers one page, or a plain 4xx/5xx (this is not an Alipay+ route: no envelope).
pub async fn handle(
    ledger: &dyn ClearingLedger,
    peer: Option<SocketAddr>,
    query: Option<&str>,
) -> Response {
    if !peer.is_some_and(|p| p.ip().is_loopback()) {
        return plain(StatusCode::FORBIDDEN, "loopback only");
    }
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let Some(day) = params.get("day").and_then(|d| ClearingDay::parse(d)) else {
        return plain(StatusCode::BAD_REQUEST, "day=YYYY-MM-DD is required");
    };
    let Some(kind) = params.get("type").and_then(|t| TransactionType::parse(t)) else {
        return plain(StatusCode::BAD_REQUEST, "type=PAYMENT|REFUND is required");
    };
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None => CLEARING_PAGE_MAX,
        Some(Ok(l)) if (1..=CLEARING_PAGE_MAX).contains(&l) => l,
        Some(_) => return plain(StatusCode::BAD_REQUEST, "limit is 1-500"),
    };
    let page = match ledger
        .clearing_page(day, kind, params.get("after").map(String::as_str), limit)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "dev clearing page failed");
            return plain(StatusCode::SERVICE_UNAVAILABLE, "ledger unavailable");
        }
    };
    let summary = ClearingSummary {
        settlement_currency: None,
        clearing_day: Some(day),
        total_count: page.items.len() as u64,
        net_amount: page.items.iter().map(Transaction::signed_settlement).sum(),
    };
    let body = ClearingWriter::start(Vec::new(), &summary).and_then(|mut w| {
        for t in &page.items {
            w.row(t)?;
        }
        w.finish()
    });
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "dev clearing page not written");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "page not written");
        }
    };
    let mut r = Response::new(Body::from(body));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Some(after) = page.resume_after {
        // Ids may hold any character: percent-encoded, so the header is always valid ASCII.
        let encoded: String = url::form_urlencoded::byte_serialize(after.as_bytes()).collect();
        match http::HeaderValue::from_str(&encoded) {
            Ok(v) => {
                r.headers_mut().insert(RESUME_HEADER, v);
            }
            // Never drop the resume point silently: that would end the day early.
            Err(_) => {
                return plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "resume point not encodable",
                )
            }
        }
    }
    r
}
