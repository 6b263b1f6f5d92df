//! `mpp bench`: a load generator for an MPP (a local `mpp serve` or a deployed stage).
//!
//! It sends `--requests` signed Alipay+ requests at `--concurrency`, bounded in count and in time
//! (`--max-seconds`, at most [`MAX_SECONDS_MAX`]), and reports throughput, latency percentiles,
//! a result-code histogram and every answer that was not a signed envelope. It exits 1 when any
//! request got no answer, an answer that is not an Alipay+ envelope, an answer whose signature
//! does not verify, or two different `paymentId`s for one `paymentRequestId`.
//!
//! The mix (chosen per request from `--mix-seed`, so a run is reproducible):
//! - 50 % new payments of 1 000 KRW (100 JPY at 10), auto debit by access token;
//! - 15 % repeats of an earlier new payment (the same signed body again);
//! - 10 % evaluations (the pay body on `/evaluation`);
//! - 15 % inquiries of an earlier new payment;
//! - 10 % failures: payments larger than any bench wallet holds (`USER_BALANCE_NOT_ENOUGH`).
//!
//! Payments spread over `--seed-customers` bench wallets (request `i` uses wallet
//! `i mod seed-customers`), each holding 10^12 KRW with no limits, so the run never drains a
//! wallet into all-failures and concurrent requests rarely meet on one wallet. The server must
//! know those wallets: `mpp bench --write-seed FILE --seed-customers K` writes their seed, and
//! `mpp serve --seed FILE` loads it (the demo wallet, with its 20 payments a day, cannot carry a
//! load run).
//!
//! Every request is signed before the clock starts (one RSA signature each, spread over the
//! machine's cores), so on a shared machine the load phase measures the server, not the client's
//! signing; the client still verifies every answer (an RSA public-key operation, ~0.1 ms) inside
//! the measured latency.

use crate::{other, CliError};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mpp_client::SignedClient;
use mpp_core::flows::wire_time;
use mpp_core::signature::{
    content_to_sign, signature_header_value, LocalSigner, CONTENT_TYPE_JSON,
};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default time bound of the load phase: room for the default 2 000 requests even at a few
/// dozen a second (a loaded machine, a remote stage), while a stuck server still ends the run
/// within two minutes.
pub const DEFAULT_MAX_SECONDS: u64 = 120;
/// Requests are signed before the load starts and the MPP accepts a `Request-Time` at most
/// 5 minutes old (`DEFAULT_MAX_SKEW`): signing time plus load time must stay under this, which
/// leaves a minute of margin.
pub const MAX_SECONDS_MAX: u64 = 240;
/// Most requests in one run: each is held signed in memory (about 1 KB) and costs one RSA
/// signature (about 1 ms of one core) before the load starts.
pub const REQUESTS_MAX: u64 = 50_000;
/// Most requests in flight at once: past this a laptop runs out of sockets before the MPP
/// runs out of anything interesting.
pub const CONCURRENCY_MAX: usize = 512;
/// Most bench wallets (the seed file's own limit).
pub const SEED_CUSTOMERS_MAX: u32 = mpp_core::seed::SEED_ENTRIES_MAX as u32;
/// Each bench wallet's opening balance, KRW (no minor unit): a billion bench payments.
pub const WALLET_BALANCE_KRW: u64 = 1_000_000_000_000;
/// A bench payment, KRW (100 JPY at 10 KRW per JPY).
pub const PAYMENT_KRW: u64 = 1_000;
/// The failing payment: more than any bench wallet holds.
pub const OVER_BALANCE_KRW: u64 = 10 * WALLET_BALANCE_KRW;
/// Exit code when any answer failed the checks.
const EXIT_BAD_ANSWERS: u8 = 1;
/// Repeats and inquiries pick a new payment at least this many requests older than themselves
/// times the concurrency, so the original has most likely been answered.
const REFERENCE_DISTANCE_PER_WORKER: u64 = 2;

/// The flags of `mpp bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Requests to send (at most 50 000).
    #[arg(long, default_value_t = 2_000)]
    pub requests: u64,
    /// Requests in flight at once (at most 512).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Stop sending after this many seconds even if requests remain (at most 240).
    #[arg(long, default_value_t = DEFAULT_MAX_SECONDS)]
    pub max_seconds: u64,
    #[command(flatten)]
    pub alipay: crate::call::AlipayArgs,
    /// How many bench wallets the server was seeded with (see --write-seed).
    #[arg(long, default_value_t = 1_000)]
    pub seed_customers: u32,
    /// Write the seed of the bench wallets to this file and exit (load it with
    /// `mpp serve --seed FILE` or `mpp seed FILE --dynamodb-endpoint ...`).
    #[arg(long)]
    pub write_seed: Option<PathBuf>,
    /// Seed of the request mix (same seed, same sequence of requests).
    #[arg(long, default_value_t = 1)]
    pub mix_seed: u64,
}

/// What a request is, for the mix and the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    NewPayment,
    Repeat,
    Evaluation,
    Inquiry,
    OverBalance,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::NewPayment => "new payment",
            Kind::Repeat => "repeat",
            Kind::Evaluation => "evaluation",
            Kind::Inquiry => "inquiry",
            Kind::OverBalance => "over balance",
        }
    }

    /// The `result.resultCode` a healthy MPP answers.
    fn expected(self) -> &'static str {
        match self {
            Kind::NewPayment | Kind::Repeat | Kind::Evaluation | Kind::Inquiry => "SUCCESS",
            Kind::OverBalance => "USER_BALANCE_NOT_ENOUGH",
        }
    }

    /// Out of 100, in mix order.
    fn pick(roll: u64) -> Kind {
        match roll % 100 {
            0..50 => Kind::NewPayment,
            50..65 => Kind::Repeat,
            65..75 => Kind::Evaluation,
            75..90 => Kind::Inquiry,
            _ => Kind::OverBalance,
        }
    }
}

/// One request, planned: what it is, where it goes, its body, the payment it is about.
#[derive(Clone)]
struct Planned {
    kind: Kind,
    path: String,
    body: Value,
    payment_request_id: String,
}

/// One request, signed and ready.
struct Prepared {
    kind: Kind,
    path: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    /// The payment it is about (its own id for payments and evaluations).
    payment_request_id: String,
}

/// What came back for one request.
struct Outcome {
    kind: Kind,
    latency: Duration,
    verdict: Verdict,
}

enum Verdict {
    NoAnswer,
    NotEnvelope,
    BadSignature,
    /// A signed envelope: its code, and the `paymentId` it names for which payment (payments,
    /// repeats and successful inquiries).
    Answered {
        code: String,
        paid: Option<(String, String)>,
    },
}

/// The bench wallet `i`: its customer id and access token.
pub fn bench_wallet(i: u32) -> (String, String) {
    (format!("21690{i:011}"), format!("2810BENCH{i:023}"))
}

/// The seed file of `customers` bench wallets.
pub fn bench_seed(customers: u32) -> Value {
    let accounts: Vec<Value> = (0..customers)
        .map(|i| {
            json!({"customerId": bench_wallet(i).0, "status": "NORMAL", "kyc": "PASSED",
                   "balances": {"KRW": WALLET_BALANCE_KRW.to_string()}})
        })
        .collect();
    let tokens: Vec<Value> = (0..customers)
        .map(|i| {
            let (customer, token) = bench_wallet(i);
            json!({"accessToken": token, "customerId": customer, "scope": "AGREEMENT_PAY",
                   "expiresAt": "2099-01-01T00:00:00+08:00"})
        })
        .collect();
    json!({"accounts": accounts, "tokens": tokens})
}

/// A 64-bit mix of `x` (splitmix64): the mix's only randomness.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pay_body(payment_request_id: &str, token: &str, krw: u64, evaluation: bool) -> Value {
    let jpy = (krw / 10).to_string();
    let mut factor = json!({"isAgreementPayment": "true"});
    if evaluation {
        factor["isPaymentEvaluation"] = json!("true");
    }
    json!({
        "order": {
            "referenceOrderId": format!("ORDER-{payment_request_id}"),
            "orderDescription": "mpp bench",
            "orderAmount": {"value": jpy, "currency": "JPY"},
            "merchant": {
                "referenceMerchantId": "M00000000001",
                "merchantMCC": "5411",
                "merchantName": "BENCH",
                "merchantAddress": {"region": "JP", "city": "Tokyo"}
            }
        },
        "acquirerId": "1020000000000000001",
        "pspId": "1020000000000000001",
        "paymentRequestId": payment_request_id,
        "paymentAmount": {"value": jpy, "currency": "JPY"},
        "paymentMethod": {"paymentMethodType": "CONNECT_WALLET", "paymentMethodId": token},
        "payToAmount": {"value": krw.to_string(), "currency": "KRW"},
        "paymentQuote": {"quoteId": "1234567", "quoteCurrencyPair": "JPY/KRW", "quotePrice": "10"},
        "paymentFactor": factor
    })
}

/// The request plan: kinds, bodies and paths, before signing. Deterministic in `mix_seed`
/// (payment ids carry `run`, so runs against one store never collide).
fn plan(args: &BenchArgs, run: &str) -> Vec<Planned> {
    let prefix = args.alipay.path_prefix.trim_end_matches('/');
    let distance = REFERENCE_DISTANCE_PER_WORKER * args.concurrency as u64;
    let mut paid: Vec<(u64, usize)> = Vec::new();
    let mut out: Vec<Planned> = Vec::with_capacity(args.requests as usize);
    for i in 0..args.requests {
        let roll = splitmix(args.mix_seed ^ splitmix(i));
        let wallet = (i % u64::from(args.seed_customers)) as u32;
        let token = bench_wallet(wallet).1;
        let id = format!("bench-{run}-{i}");
        // A reference to an earlier new payment far enough back; none yet: a new payment.
        let earlier = paid.partition_point(|(j, _)| j + distance <= i);
        let reference = (earlier > 0).then(|| paid[(roll >> 8) as usize % earlier].1);
        let kind = match (Kind::pick(roll), reference) {
            (Kind::Repeat | Kind::Inquiry, None) => Kind::NewPayment,
            (k, _) => k,
        };
        let pay_path = format!("{prefix}/pay");
        let entry = match (kind, reference) {
            (Kind::Repeat, Some(r)) => Planned {
                kind,
                ..out[r].clone()
            },
            (Kind::Inquiry, Some(r)) => {
                let target = out[r].payment_request_id.clone();
                let body = json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001",
                                  "paymentRequestId": target});
                Planned {
                    kind,
                    path: format!("{prefix}/inquiryPayment"),
                    body,
                    payment_request_id: target,
                }
            }
            (Kind::Evaluation, _) => Planned {
                kind,
                path: format!("{prefix}/evaluation"),
                body: pay_body(&id, &token, PAYMENT_KRW, true),
                payment_request_id: id,
            },
            (Kind::OverBalance, _) => Planned {
                kind,
                path: pay_path,
                body: pay_body(&id, &token, OVER_BALANCE_KRW, false),
                payment_request_id: id,
            },
            (Kind::NewPayment | Kind::Repeat | Kind::Inquiry, _) => {
                paid.push((i, out.len()));
                Planned {
                    kind: Kind::NewPayment,
                    path: pay_path,
                    body: pay_body(&id, &token, PAYMENT_KRW, false),
                    payment_request_id: id,
                }
            }
        };
        out.push(entry);
    }
    out
}

/// Signs every planned request, on every core.
fn sign_all(
    planned: Vec<Planned>,
    signer: &LocalSigner,
    key_version: u32,
    client_id: &str,
    bar: &ProgressBar,
) -> Result<Vec<Prepared>, CliError> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunk = planned.len().div_ceil(threads).max(1);
    let chunks: Vec<Vec<Planned>> = {
        let mut rest = planned.into_iter();
        let mut v = Vec::new();
        loop {
            let c: Vec<_> = rest.by_ref().take(chunk).collect();
            if c.is_empty() {
                break v;
            }
            v.push(c);
        }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| scope.spawn(move || sign_chunk(c, signer, key_version, client_id, bar)))
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().map_err(|_| other("a signing thread panicked"))??);
        }
        Ok(all)
    })
}

fn sign_chunk(
    chunk: Vec<Planned>,
    signer: &LocalSigner,
    key_version: u32,
    client_id: &str,
    bar: &ProgressBar,
) -> Result<Vec<Prepared>, CliError> {
    let mut out = Vec::with_capacity(chunk.len());
    for Planned {
        kind,
        path,
        body,
        payment_request_id,
    } in chunk
    {
        let body = serde_json::to_vec(&body).map_err(other)?;
        let time = wire_time(chrono::Utc::now());
        let content = content_to_sign("POST", &path, client_id, &time, &body);
        let raw = signer.sign_sync(&content).map_err(other)?;
        let headers = vec![
            ("Client-Id".to_string(), client_id.to_string()),
            ("Request-Time".to_string(), time),
            (
                "Signature".to_string(),
                signature_header_value(key_version, &raw),
            ),
            ("Content-Type".to_string(), CONTENT_TYPE_JSON.to_string()),
        ];
        out.push(Prepared {
            kind,
            path,
            body,
            headers,
            payment_request_id,
        });
        bar.inc(1);
    }
    Ok(out)
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// Reads one answer: was it answered, signed, an envelope; which code; which `paymentId`.
fn judge(
    p: &Prepared,
    answer: Result<mpp_client::SignedResponse, mpp_client::CallError>,
) -> Verdict {
    let Ok(answer) = answer else {
        return Verdict::NoAnswer;
    };
    if answer.signature.is_err() {
        return Verdict::BadSignature;
    }
    let Some(body) = answer.json() else {
        return Verdict::NotEnvelope;
    };
    let result = &body["result"];
    let (Some(code), Some("S" | "F" | "U")) = (
        result["resultCode"].as_str(),
        result["resultStatus"].as_str(),
    ) else {
        return Verdict::NotEnvelope;
    };
    let payment_id = body["paymentId"].as_str().map(str::to_string);
    let paid = match p.kind {
        Kind::NewPayment | Kind::Repeat if code == "SUCCESS" => payment_id,
        Kind::Inquiry if code == "SUCCESS" && body["paymentResult"]["resultCode"] == "SUCCESS" => {
            payment_id
        }
        Kind::NewPayment | Kind::Repeat | Kind::Inquiry | Kind::Evaluation | Kind::OverBalance => {
            None
        }
    };
    Verdict::Answered {
        code: code.to_string(),
        paid: paid.map(|id| (p.payment_request_id.clone(), id)),
    }
}

/// The load phase: `concurrency` workers take the next request until all are sent or `deadline`.
async fn load(
    client: &SignedClient,
    prepared: Arc<Vec<Prepared>>,
    concurrency: usize,
    deadline: Instant,
) -> Vec<Outcome> {
    let next = Arc::new(AtomicU64::new(0));
    let progress = bar(prepared.len() as u64, "send");
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, prepared, next, progress) = (
            client.clone(),
            prepared.clone(),
            next.clone(),
            progress.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            // Bounded by the request count and the deadline; each send by the client timeout.
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(p) = prepared.get(i) else {
                    break;
                };
                let started = Instant::now();
                let answer = client.send(&p.path, &p.body, p.headers.clone()).await;
                let latency = started.elapsed();
                outcomes.push(Outcome {
                    kind: p.kind,
                    latency,
                    verdict: judge(p, answer),
                });
                progress.inc(1);
            }
            outcomes
        }));
    }
    let mut all = Vec::with_capacity(prepared.len());
    for w in workers {
        match w.await {
            Ok(outcomes) => all.extend(outcomes),
            Err(e) => eprintln!("mpp bench: a worker failed: {e}"),
        }
    }
    progress.finish_and_clear();
    all
}

/// Nearest-rank percentile of sorted latencies, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// Counts of everything that must not happen.
#[derive(Default)]
struct Problems {
    no_answer: u64,
    not_envelope: u64,
    bad_signature: u64,
    inconsistent: u64,
}

impl Problems {
    fn any(&self) -> bool {
        self.no_answer + self.not_envelope + self.bad_signature + self.inconsistent > 0
    }
}

fn report(outcomes: &[Outcome], elapsed: Duration) -> Problems {
    let mut problems = Problems::default();
    let mut codes: BTreeMap<(Kind, String), u64> = BTreeMap::new();
    let mut by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    let mut payment_ids: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for o in outcomes {
        by_kind.entry(o.kind).or_default().push(o.latency);
        let code = match &o.verdict {
            Verdict::NoAnswer => {
                problems.no_answer += 1;
                "(no answer)"
            }
            Verdict::NotEnvelope => {
                problems.not_envelope += 1;
                "(not an envelope)"
            }
            Verdict::BadSignature => {
                problems.bad_signature += 1;
                "(bad signature)"
            }
            Verdict::Answered { code, paid } => {
                if let Some((request, payment)) = paid {
                    payment_ids.entry(request).or_default().insert(payment);
                }
                code
            }
        };
        *codes.entry((o.kind, code.to_string())).or_default() += 1;
    }
    problems.inconsistent = payment_ids.values().filter(|ids| ids.len() > 1).count() as u64;

    let mut all: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
    all.sort_unstable();
    let secs = elapsed.as_secs_f64().max(f64::EPSILON);
    println!(
        "sent {} requests in {:.2} s: {:.1} requests/s ({} answered)",
        outcomes.len(),
        secs,
        outcomes.len() as f64 / secs,
        outcomes.len() as u64 - problems.no_answer
    );
    println!(
        "latency ms: p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
        percentile_ms(&all, 50.0),
        percentile_ms(&all, 95.0),
        percentile_ms(&all, 99.0),
        percentile_ms(&all, 100.0)
    );
    println!(
        "\n{:<14} {:>7} {:>9} {:>9} {:>9}",
        "kind", "count", "p50 ms", "p99 ms", "max ms"
    );
    for (kind, latencies) in &mut by_kind {
        latencies.sort_unstable();
        println!(
            "{:<14} {:>7} {:>9.2} {:>9.2} {:>9.2}",
            kind.name(),
            latencies.len(),
            percentile_ms(latencies, 50.0),
            percentile_ms(latencies, 99.0),
            percentile_ms(latencies, 100.0)
        );
    }
    println!(
        "\n{:<14} {:<34} {:>7}  expected",
        "kind", "result code", "count"
    );
    for ((kind, code), n) in &codes {
        let mark = if code == kind.expected() { "yes" } else { "NO" };
        println!("{:<14} {:<34} {:>7}  {mark}", kind.name(), code, n);
    }
    println!(
        "\nno answer: {}  not an envelope: {}  bad signature: {}  paymentRequestIds with two paymentIds: {}",
        problems.no_answer, problems.not_envelope, problems.bad_signature, problems.inconsistent
    );
    problems
}

fn check_bounds(args: &BenchArgs) -> Result<(), CliError> {
    if !(1..=REQUESTS_MAX).contains(&args.requests) {
        return Err(other(format!("--requests must be 1 to {REQUESTS_MAX}")));
    }
    if !(1..=CONCURRENCY_MAX).contains(&args.concurrency) {
        return Err(other(format!(
            "--concurrency must be 1 to {CONCURRENCY_MAX}"
        )));
    }
    if !(1..=MAX_SECONDS_MAX).contains(&args.max_seconds) {
        return Err(other(format!(
            "--max-seconds must be 1 to {MAX_SECONDS_MAX}"
        )));
    }
    if !(1..=SEED_CUSTOMERS_MAX).contains(&args.seed_customers) {
        return Err(other(format!(
            "--seed-customers must be 1 to {SEED_CUSTOMERS_MAX}"
        )));
    }
    Ok(())
}

/// One evaluation on the first and the last bench wallet: the server must know them.
async fn preflight(client: &SignedClient, args: &BenchArgs) -> Result<(), CliError> {
    let path = format!(
        "{}/evaluation",
        args.alipay.path_prefix.trim_end_matches('/')
    );
    for wallet in [0, args.seed_customers - 1] {
        let token = bench_wallet(wallet).1;
        let body = serde_json::to_vec(&pay_body(
            &format!("bench-preflight-{wallet}"),
            &token,
            PAYMENT_KRW,
            true,
        ))
        .map_err(other)?;
        let answer = client
            .call(&path, &body)
            .await
            .map_err(|e| other(format!("{}: {e}", args.alipay.url)))?;
        if let Err(e) = &answer.signature {
            return Err(other(format!(
                "the answer's signature does not verify ({e}): check --verify-key"
            )));
        }
        let code = answer
            .json()
            .and_then(|v| v["result"]["resultCode"].as_str().map(str::to_string))
            .unwrap_or_default();
        if code != "SUCCESS" {
            return Err(other(format!(
                "bench wallet {wallet} cannot pay (evaluation answered {code:?}): write the bench seed with \
                 `mpp bench --write-seed bench-seed.json --seed-customers {}` and start the server with \
                 `mpp serve --seed bench-seed.json`",
                args.seed_customers
            )));
        }
    }
    Ok(())
}

/// Runs `mpp bench`: writes the bench seed, or checks the server knows the bench wallets, signs
/// the planned requests, sends them, reports; exit 1 if any answer failed the checks.
pub async fn run(args: BenchArgs) -> Result<ExitCode, CliError> {
    check_bounds(&args)?;
    if let Some(path) = &args.write_seed {
        let text = serde_json::to_string_pretty(&bench_seed(args.seed_customers)).map_err(other)?;
        std::fs::write(path, text).map_err(CliError::io(path))?;
        println!(
            "wrote {} bench wallets (10^12 KRW each, no limits) to {}",
            args.seed_customers,
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let signer = args.alipay.signer()?;
    let client = args.alipay.client(signer.clone())?;
    preflight(&client, &args).await?;

    let run_id = chrono::Utc::now().format("%Y%m%d%H%M%S%3f").to_string();
    println!(
        "mpp bench: {} requests, concurrency {}, at most {} s, against {} ({} bench wallets, mix seed {}, run {run_id})",
        args.requests, args.concurrency, args.max_seconds, args.alipay.url, args.seed_customers, args.mix_seed
    );
    let planned = plan(&args, &run_id);
    let signing_started = Instant::now();
    let progress = bar(planned.len() as u64, "sign");
    let (key_version, client_id) = (args.alipay.key_version, args.alipay.client_id.clone());
    let prepared = tokio::task::spawn_blocking({
        let progress = progress.clone();
        move || sign_all(planned, &signer, key_version, &client_id, &progress)
    })
    .await
    .map_err(other)??;
    progress.finish_and_clear();
    let signing = signing_started.elapsed();
    println!(
        "signed {} requests in {:.2} s before the load (not measured)",
        prepared.len(),
        signing.as_secs_f64()
    );

    // The oldest signature must still be inside the MPP's skew window when the last is sent.
    let budget = Duration::from_secs(args.max_seconds)
        .min(Duration::from_secs(MAX_SECONDS_MAX).saturating_sub(signing));
    let started = Instant::now();
    let outcomes = load(
        &client,
        Arc::new(prepared),
        args.concurrency,
        started + budget,
    )
    .await;
    let elapsed = started.elapsed();
    if (outcomes.len() as u64) < args.requests {
        println!(
            "stopped at the time bound ({:.0} s): {} of {} requests sent",
            budget.as_secs_f64(),
            outcomes.len(),
            args.requests
        );
    }
    let problems = report(&outcomes, elapsed);
    if problems.any() {
        eprintln!("mpp bench: some answers failed the checks");
        return Ok(ExitCode::from(EXIT_BAD_ANSWERS));
    }
    Ok(ExitCode::SUCCESS)
}
