//! Reconciling one day of a million transactions in bounded memory: time and peak memory.
//!
//! Generates a clearing file of `RECONCILE_BENCH_N` rows (default 1,000,000; 1 refund in 10) in a
//! scrambled order (Alipay+ promises none) into a temporary directory, and a ledger of the same
//! day served page by page through the `ClearingLedger` port by a generator (nothing held in
//! memory), with four planted discrepancies; then runs the same `reconcile::run::run` as
//! `mpp reconcile` and the reconcile function, and prints the time, the counts and the process's
//! peak resident set (`VmHWM`). Bounded: one run, N at most 10,000,000.
//!
//! `cargo bench -p mpp-core --bench reconcile_scale` (results and the exact command in
//! BENCHMARKS.md). No assertion on time: the figures are for people.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use async_trait::async_trait;
use mpp_core::money::{Currency, MinorUnit, Money};
use mpp_core::reconcile::clearing::{ClearingSummary, ClearingWriter};
use mpp_core::reconcile::engine::DiscrepancyKind;
use mpp_core::reconcile::ledger::{ClearingLedger, ClearingPage};
use mpp_core::reconcile::run::{run, RunInput};
use mpp_core::reconcile::{ClearingDay, Transaction, TransactionType};
use mpp_core::store::StoreError;
use std::io::{BufReader, BufWriter};
use std::time::Instant;

/// The most rows one run generates.
const N_MAX: u64 = 10_000_000;

fn krw(v: u64) -> Money {
    Money {
        currency: Currency::from_code("KRW").unwrap(),
        value: MinorUnit(v),
    }
}

/// Transaction `i` as our ledger has it (ids sort as numbers: fixed width).
fn ledger_row(i: u64) -> Transaction {
    let refund = i % 10 == 9;
    Transaction {
        transaction_type: if refund {
            TransactionType::Refund
        } else {
            TransactionType::Payment
        },
        payment_request_id: format!("2026112111{i:012}"),
        payment_id: Some(format!("PAY{i:012}")),
        refund_request_id: refund.then(|| format!("2026112111{i:012}")),
        refund_id: refund.then(|| format!("RF{i:012}")),
        transaction_time: Some("2026-11-21T11:00:00+08:00".into()),
        transaction_amount: None,
        settlement_amount: krw(1_000 + i % 9_000),
    }
}

/// The planted differences: row 1 only in ours, row 2 only in the file (not generated for the
/// ledger), row 3's amount changed in the file, row 19 (a refund) only in ours.
fn in_file(i: u64) -> Option<Transaction> {
    match i {
        1 | 19 => None,
        3 => Some(Transaction {
            settlement_amount: krw(7),
            ..ledger_row(i)
        }),
        _ => Some(ledger_row(i)),
    }
}

fn in_ledger(i: u64) -> bool {
    i != 2
}

struct Generated {
    n: u64,
}

#[async_trait]
impl ClearingLedger for Generated {
    async fn clearing_page(
        &self,
        _day: ClearingDay,
        kind: TransactionType,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ClearingPage, StoreError> {
        let mut i = after
            .map(|a| a[10..].parse::<u64>().unwrap() + 1)
            .unwrap_or(0);
        let mut items = Vec::with_capacity(limit);
        while i < self.n && items.len() < limit {
            let t = ledger_row(i);
            if t.transaction_type == kind && in_ledger(i) {
                items.push(t);
            }
            i += 1;
        }
        let resume_after = (i < self.n).then(|| format!("2026112111{:012}", i - 1));
        Ok(ClearingPage {
            items,
            resume_after,
        })
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let n: u64 = std::env::var("RECONCILE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
        .min(N_MAX);
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("transactionItems_1022172000000000001_KRW_20261121001_AGR_000.csv");
    let day = ClearingDay::parse("2026-11-21").unwrap();

    let started = Instant::now();
    let rows = || (0..n).filter_map(in_file);
    let summary = ClearingSummary {
        settlement_currency: Some(Currency::from_code("KRW").unwrap()),
        clearing_day: Some(day),
        total_count: rows().count() as u64,
        net_amount: rows().map(|t| t.signed_settlement()).sum(),
    };
    let mut w = ClearingWriter::start(
        BufWriter::new(std::fs::File::create(&path).unwrap()),
        &summary,
    )
    .unwrap();
    // A scrambled order without holding the rows: i -> i * P mod n, P prime and coprime to n.
    const P: u64 = 1_000_003;
    for k in 0..n {
        if let Some(t) = in_file((k.wrapping_mul(P)) % n) {
            w.row(&t).unwrap();
        }
    }
    w.finish().unwrap();
    let generated = started.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    let rss_after_generation = peak_rss_kib();

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let report = dir.path().join("report.jsonl");
    let started = Instant::now();
    let tally = rt
        .block_on(async {
            let input = BufReader::new(std::fs::File::open(&path).unwrap());
            let mut out = BufWriter::new(std::fs::File::create(&report).unwrap());
            run(
                input,
                RunInput {
                    name: path.to_str().unwrap(),
                    day: None,
                    tmp: dir.path(),
                },
                &Generated { n },
                &mut out,
            )
            .await
        })
        .unwrap();
    let reconciled = started.elapsed();
    println!("rows in file:        {}", tally.file.count);
    println!("file size:           {:.1} MB", size as f64 / 1e6);
    println!("generate file:       {:.2} s", generated.as_secs_f64());
    println!("reconcile:           {:.2} s", reconciled.as_secs_f64());
    println!(
        "rows per second:     {:.0}",
        tally.file.count as f64 / reconciled.as_secs_f64()
    );
    println!(
        "matched:             {} (net {})",
        tally.matched.count, tally.matched.amount
    );
    for k in DiscrepancyKind::ALL {
        let c = tally.count(k);
        if c > 0 {
            println!("{:<20} {c}", format!("{}:", k.as_str()));
        }
    }
    println!("peak RSS after generating: {} KiB", rss_after_generation);
    println!("peak RSS (VmHWM):    {} KiB", peak_rss_kib());
    assert_eq!(tally.discrepancies(), 4, "the four planted discrepancies");
}
