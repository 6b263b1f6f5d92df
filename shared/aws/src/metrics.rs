//! The one metrics pipeline: CloudWatch Embedded Metric Format (EMF) lines on stdout, which
//! CloudWatch Logs turns into metrics with no API call on the request path. The namespace is
//! per stack (`METRICS_NAMESPACE`, set by the template to `MPP/<stack name>`), so two stacks in
//! one account never mix their figures, and the template's alarms read exactly these metrics:
//! `tests/tests/infra.rs` checks every alarm in the stack's namespace against [`EMITTED`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The namespace when none is configured (`mpp serve` prints no metric lines; tests).
pub const DEFAULT_NAMESPACE: &str = "MPP/local";

/// One metric the functions emit, and the dimension sets it is published under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// The CloudWatch metric name.
    pub name: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// Every dimension set it carries (EMF publishes the metric once per set).
    pub dimension_sets: &'static [&'static [&'static str]],
}

/// The dimension sets of an Alipay+ answer.
const ANSWER_DIMENSIONS: &[&[&str]] = &[
    &["flow"],
    &["flow", "result_status"],
    &["flow", "result_code"],
];
/// Per function.
const FLOW: &[&[&str]] = &[&["flow"]];

/// One answer to Alipay+ (count), per operation and by status and code.
pub const ANSWERS: Metric = Metric {
    name: "Answers",
    unit: "Count",
    dimension_sets: ANSWER_DIMENSIONS,
};
/// Time from request to answer, per operation and by status and code.
pub const LATENCY_MS: Metric = Metric {
    name: "LatencyMs",
    unit: "Milliseconds",
    dimension_sets: ANSWER_DIMENSIONS,
};
/// A cold start's initialisation time.
pub const INIT_MS: Metric = Metric {
    name: "InitMs",
    unit: "Milliseconds",
    dimension_sets: FLOW,
};
/// A notifyPayment acknowledged by Alipay+ (S).
pub const NOTIFY_DELIVERED: Metric = Metric {
    name: "NotifyDelivered",
    unit: "Count",
    dimension_sets: FLOW,
};
/// A notifyPayment attempt that failed (a retry is scheduled or the job dead-lettered).
pub const NOTIFY_FAILED_ATTEMPTS: Metric = Metric {
    name: "NotifyFailedAttempts",
    unit: "Count",
    dimension_sets: FLOW,
};
/// A notifyPayment that failed its last attempt.
pub const NOTIFY_DEAD_LETTERED: Metric = Metric {
    name: "NotifyDeadLettered",
    unit: "Count",
    dimension_sets: FLOW,
};
/// A notifyPayment not sent because its destination is not allowed (`mpp_core::outbound`).
pub const NOTIFY_REFUSED: Metric = Metric {
    name: "NotifyRefused",
    unit: "Count",
    dimension_sets: FLOW,
};

/// Discrepancies one clearing file's reconciliation found (0 when balanced): the alarm is on
/// any datapoint above 0.
pub const RECONCILE_DISCREPANCIES: Metric = Metric {
    name: "ReconcileDiscrepancies",
    unit: "Count",
    dimension_sets: FLOW,
};
/// A landed clearing file that could not be reconciled (malformed, or the ledger kept failing).
pub const RECONCILE_FAILED: Metric = Metric {
    name: "ReconcileFailed",
    unit: "Count",
    dimension_sets: FLOW,
};

/// Every metric the code emits.
pub const EMITTED: [Metric; 9] = [
    ANSWERS,
    LATENCY_MS,
    INIT_MS,
    NOTIFY_DELIVERED,
    NOTIFY_FAILED_ATTEMPTS,
    NOTIFY_DEAD_LETTERED,
    NOTIFY_REFUSED,
    RECONCILE_DISCREPANCIES,
    RECONCILE_FAILED,
];

static NAMESPACE: OnceLock<String> = OnceLock::new();

/// Sets the namespace once per cold start (from `Config::metrics_namespace`); later calls are
/// ignored.
pub fn set_namespace(namespace: &str) {
    let _ = NAMESPACE.set(namespace.to_string());
}

/// The namespace metric lines go to.
pub fn namespace() -> &'static str {
    NAMESPACE
        .get()
        .map(String::as_str)
        .unwrap_or(DEFAULT_NAMESPACE)
}

/// Whether this process is a Lambda function (the runtime sets `AWS_LAMBDA_FUNCTION_NAME`);
/// `mpp serve` calls the same handlers and prints no metric lines.
pub fn in_lambda() -> bool {
    static IN_LAMBDA: OnceLock<bool> = OnceLock::new();
    *IN_LAMBDA.get_or_init(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some())
}

/// An EMF line: `values` (each a metric and its value) under `namespace`, with the dimension
/// values in `dimensions`. The dimension sets declared are those of the first metric (metrics
/// logged together share them; [`EMITTED`] groups them so).
pub fn line(
    namespace: &str,
    values: &[(Metric, f64)],
    dimensions: &[(&str, &str)],
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let sets = values.first().map(|(m, _)| m.dimension_sets).unwrap_or(&[]);
    let mut body = serde_json::Map::new();
    body.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": sets,
                "Metrics": values
                    .iter()
                    .map(|(m, _)| serde_json::json!({"Name": m.name, "Unit": m.unit}))
                    .collect::<Vec<_>>(),
            }]
        }),
    );
    for (k, v) in dimensions {
        body.insert((*k).to_string(), serde_json::Value::from(*v));
    }
    for (m, v) in values {
        body.insert(m.name.to_string(), serde_json::Value::from(*v));
    }
    serde_json::Value::Object(body).to_string()
}

/// Datapoints emitted by this process, per metric of [`EMITTED`] (in order): what a test or an
/// operator at a local process can read without CloudWatch.
static EMITTED_COUNTS: [AtomicU64; EMITTED.len()] = [const { AtomicU64::new(0) }; EMITTED.len()];

/// How many datapoints of `metric` this process has emitted (counted in and out of Lambda).
pub fn emitted(metric: Metric) -> u64 {
    EMITTED
        .iter()
        .position(|m| *m == metric)
        .and_then(|i| EMITTED_COUNTS.get(i))
        .map(|c| c.load(Ordering::Relaxed))
        .unwrap_or(0)
}

/// Prints [`line`] in the configured namespace (in Lambda only) and counts it.
pub fn emit(values: &[(Metric, f64)], dimensions: &[(&str, &str)]) {
    for (metric, _) in values {
        if let Some(i) = EMITTED.iter().position(|m| m == metric) {
            if let Some(c) = EMITTED_COUNTS.get(i) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    if in_lambda() {
        println!(
            "{}",
            line(namespace(), values, dimensions, chrono::Utc::now())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_declare_every_dimension_they_name_and_every_metric_they_carry() {
        let l = line(
            "MPP/stack",
            &[(NOTIFY_REFUSED, 1.0)],
            &[("flow", "notifyPayment")],
            chrono::Utc::now(),
        );
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "MPP/stack");
        assert_eq!(directive["Metrics"][0]["Name"], "NotifyRefused");
        assert_eq!(v["NotifyRefused"], 1.0);
        for set in directive["Dimensions"].as_array().unwrap() {
            for key in set.as_array().unwrap() {
                assert!(v.get(key.as_str().unwrap()).is_some(), "{key} has a value");
            }
        }
    }

    #[test]
    fn metrics_logged_together_share_their_dimension_sets() {
        assert_eq!(ANSWERS.dimension_sets, LATENCY_MS.dimension_sets);
        let mut names: Vec<_> = EMITTED.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EMITTED.len());
    }
}
