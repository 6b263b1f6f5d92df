//! `mpp bindings list|revoke`: the operator's (and the app backend's) side of unbinding from the
//! wallet, against `mpp serve`'s internal route `POST /bindings/consultUnbinding` (in AWS the
//! consult-unbinding function on the IAM-authorised internal API; `docs/acquirer.md`).
//!
//! `list` prints one line per live binding of the customer. `revoke` asks the MPP to undo one:
//! the MPP consults Alipay+ (or `mpp hub`) and revokes only on `allowUnbinding` "true". It prints
//! the result code and exits 0 only when the binding is revoked (now or before); 1 when the
//! merchant does not allow it or there is no such binding (F), 3 when the outcome is unknown
//! (U: nothing changed unless a re-run says S).

use crate::{other, CliError};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::time::Duration;

/// The wait for the MPP's answer: its flow is bounded by the operation's 8 s
/// (`mpp_core::operations::CONSULT_UNBINDING`), plus a margin for the local server.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Binding commands.
#[derive(Subcommand)]
pub enum BindingsCommand {
    /// List a customer's live bindings (authId, merchant, scopes, when bound).
    List(ListArgs),
    /// Unbind from the wallet: consultUnbinding at Alipay+, then the revocation and TOKEN_CANCELED.
    Revoke(RevokeArgs),
}

#[derive(Args)]
pub struct ListArgs {
    /// The wallet user.
    #[arg(long)]
    pub customer_id: String,
    /// The MPP (`mpp serve`) base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub mpp_url: String,
}

#[derive(Args)]
pub struct RevokeArgs {
    /// The wallet user.
    #[arg(long)]
    pub customer_id: String,
    /// The binding (`authId`, as `mpp bindings list` prints it).
    #[arg(long)]
    pub auth_id: String,
    /// The MPP (`mpp serve`) base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub mpp_url: String,
}

pub async fn run(command: BindingsCommand) -> Result<ExitCode, CliError> {
    match command {
        BindingsCommand::List(a) => {
            let v = call(&a.mpp_url, json!({"customerId": a.customer_id})).await?;
            let (status, code) = result(&v);
            if status == "S" {
                for b in v["bindings"].as_array().into_iter().flatten() {
                    println!(
                        "authId {} client {} ({}) scopes {} bound {}",
                        text(&b["authId"]),
                        text(&b["authClientId"]),
                        text(&b["authClientName"]),
                        b["scopes"]
                            .as_array()
                            .map(|s| s.iter().map(text).collect::<Vec<_>>().join(","))
                            .unwrap_or_default(),
                        text(&b["boundAt"]),
                    );
                }
            }
            println!("result: {status} {code}");
            Ok(exit(&status))
        }
        BindingsCommand::Revoke(a) => {
            let v = call(
                &a.mpp_url,
                json!({"customerId": a.customer_id, "authId": a.auth_id}),
            )
            .await?;
            let (status, code) = result(&v);
            if let Some(allow) = v["allowUnbinding"].as_str() {
                println!("allowUnbinding: {allow}");
            }
            let outcome = match (status.as_str(), code.as_str()) {
                ("S", _) => "revoked",
                (_, "UNBINDING_NOT_ALLOWED") => "not allowed: unbind at the merchant",
                ("F", _) => "refused: nothing changed",
                _ => "unknown: nothing changed unless a re-run says revoked",
            };
            println!("result: {status} {code} ({outcome})");
            if let Some(m) = v["result"]["resultMessage"].as_str() {
                println!("message: {m}");
            }
            Ok(exit(&status))
        }
    }
}

fn exit(status: &str) -> ExitCode {
    match status {
        "S" => ExitCode::SUCCESS,
        "F" => ExitCode::from(1),
        _ => ExitCode::from(3),
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("-").to_string()
}

fn result(v: &Value) -> (String, String) {
    (
        text(&v["result"]["resultStatus"]),
        text(&v["result"]["resultCode"]),
    )
}

async fn call(mpp_url: &str, body: Value) -> Result<Value, CliError> {
    let url = format!(
        "{}{}",
        mpp_url.trim_end_matches('/'),
        mpp_core::operations::CONSULT_UNBINDING.route
    );
    let http = mpp_client::http_client(ANSWER_TIMEOUT).map_err(other)?;
    let answer = http
        .post(&url)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| other(format!("{url}: {e}")))?;
    let bytes = answer.bytes().await.map_err(other)?;
    serde_json::from_slice(&bytes).map_err(|e| other(format!("{url}: not a JSON answer: {e}")))
}
