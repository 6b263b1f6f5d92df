//! The reconciliation: a sorted merge of the clearing file's rows and our ledger's transactions
//! of one cycle, both in merge-key order (`Transaction::key`). Each discrepancy is handed to the
//! caller's sink as it is found; the engine keeps counters only, so memory does not grow with
//! the day's size. Amounts are integers in minor units (`i128` sums), never floating point.

use super::clearing::{ClearingError, ClearingSummary};
use super::ledger::LedgerSource;
use super::{ClearingDay, Transaction, TransactionType};
use crate::money::Currency;
use crate::store::StoreError;
use serde::Serialize;
use std::collections::VecDeque;

/// What kind of discrepancy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiscrepancyKind {
    /// In Alipay+'s file, not in our ledger (Alipay+ will settle a transaction we do not have).
    OnlyInFile,
    /// In our ledger (in the file's settlement currency), not in the file.
    OnlyInLedger,
    /// Both have it; the settlement (or transaction) amounts differ.
    AmountMismatch,
    /// Both have it; the settlement (or transaction) currencies differ.
    CurrencyMismatch,
    /// The same id is a payment on one side and a refund on the other.
    TypeMismatch,
    /// The file lists the same transaction more than once (the repeats).
    DuplicateInFile,
    /// The file's `totalCount` is not its number of rows.
    SummaryCountMismatch,
    /// The file's net amount is not the sum of its rows.
    SummaryAmountMismatch,
    /// A row of the file is in another settlement currency than the file.
    FileCurrencyMismatch,
}

impl DiscrepancyKind {
    /// Every kind, in report order.
    pub const ALL: [DiscrepancyKind; 9] = [
        DiscrepancyKind::OnlyInFile,
        DiscrepancyKind::OnlyInLedger,
        DiscrepancyKind::AmountMismatch,
        DiscrepancyKind::CurrencyMismatch,
        DiscrepancyKind::TypeMismatch,
        DiscrepancyKind::DuplicateInFile,
        DiscrepancyKind::SummaryCountMismatch,
        DiscrepancyKind::SummaryAmountMismatch,
        DiscrepancyKind::FileCurrencyMismatch,
    ];

    /// The report's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DiscrepancyKind::OnlyInFile => "ONLY_IN_FILE",
            DiscrepancyKind::OnlyInLedger => "ONLY_IN_LEDGER",
            DiscrepancyKind::AmountMismatch => "AMOUNT_MISMATCH",
            DiscrepancyKind::CurrencyMismatch => "CURRENCY_MISMATCH",
            DiscrepancyKind::TypeMismatch => "TYPE_MISMATCH",
            DiscrepancyKind::DuplicateInFile => "DUPLICATE_IN_FILE",
            DiscrepancyKind::SummaryCountMismatch => "SUMMARY_COUNT_MISMATCH",
            DiscrepancyKind::SummaryAmountMismatch => "SUMMARY_AMOUNT_MISMATCH",
            DiscrepancyKind::FileCurrencyMismatch => "FILE_CURRENCY_MISMATCH",
        }
    }

    fn index(self) -> usize {
        match self {
            DiscrepancyKind::OnlyInFile => 0,
            DiscrepancyKind::OnlyInLedger => 1,
            DiscrepancyKind::AmountMismatch => 2,
            DiscrepancyKind::CurrencyMismatch => 3,
            DiscrepancyKind::TypeMismatch => 4,
            DiscrepancyKind::DuplicateInFile => 5,
            DiscrepancyKind::SummaryCountMismatch => 6,
            DiscrepancyKind::SummaryAmountMismatch => 7,
            DiscrepancyKind::FileCurrencyMismatch => 8,
        }
    }
}

/// One discrepancy: the file's row and our transaction, where each exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discrepancy {
    /// What is wrong.
    pub kind: DiscrepancyKind,
    /// The file's row.
    pub file: Option<Transaction>,
    /// Our transaction.
    pub ledger: Option<Transaction>,
    /// For the summary checks: what the file declares and what its rows add up to.
    pub declared: Option<i128>,
    /// For the summary checks: what the rows add up to.
    pub counted: Option<i128>,
}

/// A count and a net amount (payments minus refunds, minor units of the settlement currency).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CountAmount {
    /// How many.
    pub count: u64,
    /// Net amount in minor units.
    pub amount: i128,
}

impl CountAmount {
    fn add(&mut self, t: &Transaction) {
        self.count += 1;
        self.amount += t.signed_settlement();
    }
}

/// The outcome of one reconciliation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    /// The cycle.
    pub day: ClearingDay,
    /// The file's settlement currency.
    pub currency: Currency,
    /// The file's summary as declared.
    pub declared: ClearingSummary,
    /// Every row of the file.
    pub file: CountAmount,
    /// Our transactions of the cycle in the file's currency.
    pub ledger: CountAmount,
    /// Transactions found on both sides and equal.
    pub matched: CountAmount,
    /// Our transactions of the cycle in other settlement currencies (their own files).
    pub other_currencies: u64,
    counts: [u64; 9],
}

impl Tally {
    /// How many discrepancies of a kind.
    pub fn count(&self, kind: DiscrepancyKind) -> u64 {
        self.counts[kind.index()]
    }

    /// All discrepancies.
    pub fn discrepancies(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// True when nothing is off.
    pub fn balanced(&self) -> bool {
        self.discrepancies() == 0
    }
}

/// Why a reconciliation could not finish (as opposed to finding discrepancies).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The clearing file.
    #[error("clearing file: {0}")]
    File(#[from] ClearingError),
    /// Our ledger.
    #[error("ledger: {0}")]
    Ledger(#[from] StoreError),
    /// The file's rows were not in key order (the caller must sort them: `sort::sort_rows`).
    #[error("clearing rows not in key order")]
    Unsorted,
    /// The report could not be written.
    #[error("report: {0}")]
    Sink(#[source] std::io::Error),
}

/// What the merge sees of one side: a small lookahead over a sorted stream.
struct Ahead<S> {
    src: S,
    buf: VecDeque<Transaction>,
}

/// The merge reads at most two rows ahead on each side (to tell a type mismatch from a payment
/// and a refund that share an id).
const LOOKAHEAD: usize = 2;

/// Reconciles the file's rows (`rows`, in key order) against `ledger` (in key order).
pub async fn reconcile<R, L>(
    day: ClearingDay,
    currency: Currency,
    declared: ClearingSummary,
    rows: R,
    ledger: L,
    sink: &mut (dyn FnMut(&Discrepancy) -> std::io::Result<()> + Send),
) -> Result<Tally, ReconcileError>
where
    R: Iterator<Item = Result<Transaction, ClearingError>> + Send,
    L: LedgerSource,
{
    let mut m = Merge {
        tally: Tally {
            day,
            currency,
            declared,
            file: CountAmount::default(),
            ledger: CountAmount::default(),
            matched: CountAmount::default(),
            other_currencies: 0,
            counts: [0; 9],
        },
        sink,
    };
    let mut file = Ahead {
        src: rows,
        buf: VecDeque::with_capacity(LOOKAHEAD),
    };
    let mut ours = Ahead {
        src: ledger,
        buf: VecDeque::with_capacity(LOOKAHEAD),
    };
    let mut last_file: Option<Transaction> = None;
    loop {
        fill_file(&mut file, &mut m, &mut last_file)?;
        fill_ledger(&mut ours).await?;
        let (f, l) = (file.buf.front(), ours.buf.front());
        match (f, l) {
            (None, None) => break,
            (Some(_), None) => {
                let f = file.buf.pop_front();
                m.report(DiscrepancyKind::OnlyInFile, f, None)?;
            }
            (None, Some(_)) => {
                let l = ours.buf.pop_front();
                m.ledger_only(l)?;
            }
            (Some(f), Some(l)) => match f.key_cmp(l) {
                std::cmp::Ordering::Equal => {
                    let (f, l) = (file.buf.pop_front(), ours.buf.pop_front());
                    if let (Some(f), Some(l)) = (f, l) {
                        m.pair(f, l)?;
                    }
                }
                std::cmp::Ordering::Less => {
                    // Same id, the file's a payment and ours a refund: a type mismatch unless
                    // the file's refund of that id comes next.
                    let same_id = f.id() == l.id();
                    let refund_follows = file.buf.get(1).is_some_and(|n| {
                        n.id() == f.id() && n.transaction_type == TransactionType::Refund
                    });
                    let f = file.buf.pop_front();
                    if same_id && !refund_follows {
                        let l = ours.buf.pop_front();
                        m.type_mismatch(f, l)?;
                    } else {
                        m.report(DiscrepancyKind::OnlyInFile, f, None)?;
                    }
                }
                std::cmp::Ordering::Greater => {
                    let same_id = f.id() == l.id();
                    let refund_follows = ours.buf.get(1).is_some_and(|n| {
                        n.id() == l.id() && n.transaction_type == TransactionType::Refund
                    });
                    let l = ours.buf.pop_front();
                    if same_id && !refund_follows {
                        let f = file.buf.pop_front();
                        m.type_mismatch(f, l)?;
                    } else {
                        m.ledger_only(l)?;
                    }
                }
            },
        }
    }
    m.summary_checks()?;
    Ok(m.tally)
}

/// Keeps two rows of the file ahead; counts every row once, reports repeats and rows of another
/// currency as they are read.
fn fill_file<R>(
    file: &mut Ahead<R>,
    m: &mut Merge<'_>,
    last: &mut Option<Transaction>,
) -> Result<(), ReconcileError>
where
    R: Iterator<Item = Result<Transaction, ClearingError>>,
{
    while file.buf.len() < LOOKAHEAD {
        let Some(row) = file.src.next() else {
            return Ok(());
        };
        let row = row?;
        m.tally.file.add(&row);
        if let Some(prev) = last.as_ref() {
            match prev.key_cmp(&row) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => {
                    m.report(DiscrepancyKind::DuplicateInFile, Some(row), None)?;
                    continue;
                }
                std::cmp::Ordering::Greater => return Err(ReconcileError::Unsorted),
            }
        }
        *last = Some(row.clone());
        if row.settlement_amount.currency != m.tally.currency {
            m.report(DiscrepancyKind::FileCurrencyMismatch, Some(row), None)?;
            continue;
        }
        file.buf.push_back(row);
    }
    Ok(())
}

async fn fill_ledger<L: LedgerSource>(ours: &mut Ahead<L>) -> Result<(), ReconcileError> {
    while ours.buf.len() < LOOKAHEAD {
        match ours.src.next_transaction().await? {
            Some(t) => ours.buf.push_back(t),
            None => break,
        }
    }
    Ok(())
}

struct Merge<'s> {
    tally: Tally,
    sink: &'s mut (dyn FnMut(&Discrepancy) -> std::io::Result<()> + Send),
}

impl Merge<'_> {
    fn emit(&mut self, d: Discrepancy) -> Result<(), ReconcileError> {
        self.tally.counts[d.kind.index()] += 1;
        (self.sink)(&d).map_err(ReconcileError::Sink)
    }

    fn report(
        &mut self,
        kind: DiscrepancyKind,
        file: Option<Transaction>,
        ledger: Option<Transaction>,
    ) -> Result<(), ReconcileError> {
        self.emit(Discrepancy {
            kind,
            file,
            ledger,
            declared: None,
            counted: None,
        })
    }

    /// Ours only: in the file's currency it is missing from the file; in another currency it
    /// belongs to that currency's file.
    fn ledger_only(&mut self, l: Option<Transaction>) -> Result<(), ReconcileError> {
        let Some(l) = l else { return Ok(()) };
        if l.settlement_amount.currency != self.tally.currency {
            self.tally.other_currencies += 1;
            return Ok(());
        }
        self.tally.ledger.add(&l);
        self.report(DiscrepancyKind::OnlyInLedger, None, Some(l))
    }

    fn type_mismatch(
        &mut self,
        f: Option<Transaction>,
        l: Option<Transaction>,
    ) -> Result<(), ReconcileError> {
        if let Some(l) = &l {
            if l.settlement_amount.currency == self.tally.currency {
                self.tally.ledger.add(l);
            }
        }
        self.report(DiscrepancyKind::TypeMismatch, f, l)
    }

    fn pair(&mut self, f: Transaction, l: Transaction) -> Result<(), ReconcileError> {
        if l.settlement_amount.currency == self.tally.currency {
            self.tally.ledger.add(&l);
        }
        let kind = if f.settlement_amount.currency != l.settlement_amount.currency {
            Some(DiscrepancyKind::CurrencyMismatch)
        } else if f.settlement_amount.value != l.settlement_amount.value {
            Some(DiscrepancyKind::AmountMismatch)
        } else {
            match (f.transaction_amount, l.transaction_amount) {
                (Some(a), Some(b)) if a.currency != b.currency => {
                    Some(DiscrepancyKind::CurrencyMismatch)
                }
                (Some(a), Some(b)) if a.value != b.value => Some(DiscrepancyKind::AmountMismatch),
                _ => None,
            }
        };
        match kind {
            Some(kind) => self.report(kind, Some(f), Some(l)),
            None => {
                self.tally.matched.add(&l);
                Ok(())
            }
        }
    }

    fn summary_checks(&mut self) -> Result<(), ReconcileError> {
        let declared = self.tally.declared.clone();
        if u128::from(declared.total_count) != u128::from(self.tally.file.count) {
            self.emit(Discrepancy {
                kind: DiscrepancyKind::SummaryCountMismatch,
                file: None,
                ledger: None,
                declared: Some(i128::from(declared.total_count)),
                counted: Some(i128::from(self.tally.file.count)),
            })?;
        }
        if declared.net_amount != self.tally.file.amount {
            self.emit(Discrepancy {
                kind: DiscrepancyKind::SummaryAmountMismatch,
                file: None,
                ledger: None,
                declared: Some(declared.net_amount),
                counted: Some(self.tally.file.amount),
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{MinorUnit, Money};
    use crate::reconcile::ledger::IterSource;

    fn money(cur: &str, v: u64) -> Money {
        Money {
            currency: Currency::from_code(cur).unwrap(),
            value: MinorUnit(v),
        }
    }

    fn pay(id: &str, v: u64) -> Transaction {
        Transaction {
            transaction_type: TransactionType::Payment,
            payment_request_id: id.into(),
            payment_id: Some(format!("our-{id}")),
            refund_request_id: None,
            refund_id: None,
            transaction_time: None,
            transaction_amount: None,
            settlement_amount: money("KRW", v),
        }
    }

    fn refund(id: &str, of: &str, v: u64) -> Transaction {
        Transaction {
            transaction_type: TransactionType::Refund,
            refund_request_id: Some(id.into()),
            ..pay(of, v)
        }
    }

    async fn run(
        file: Vec<Transaction>,
        ledger: Vec<Transaction>,
    ) -> (Tally, Vec<(DiscrepancyKind, String)>) {
        let mut file = file;
        file.sort_by(Transaction::key_cmp);
        let mut ledger = ledger;
        ledger.sort_by(Transaction::key_cmp);
        let declared = ClearingSummary {
            settlement_currency: None,
            clearing_day: None,
            total_count: file.len() as u64,
            net_amount: file.iter().map(Transaction::signed_settlement).sum(),
        };
        let mut seen = Vec::new();
        let mut sink = |d: &Discrepancy| {
            let id = d
                .file
                .as_ref()
                .or(d.ledger.as_ref())
                .map(|t| t.id().to_string())
                .unwrap_or_default();
            seen.push((d.kind, id));
            Ok(())
        };
        let tally = reconcile(
            ClearingDay::parse("2026-11-21").unwrap(),
            Currency::from_code("KRW").unwrap(),
            declared,
            file.into_iter().map(Ok),
            IterSource(ledger.into_iter()),
            &mut sink,
        )
        .await
        .unwrap();
        (tally, seen)
    }

    #[tokio::test]
    async fn equal_sides_balance() {
        let rows = vec![pay("a", 100), pay("b", 200), refund("r", "a", 30)];
        let (t, seen) = run(rows.clone(), rows).await;
        assert!(t.balanced(), "{seen:?}");
        assert_eq!(
            t.matched,
            CountAmount {
                count: 3,
                amount: 270
            }
        );
        assert_eq!(t.file, t.ledger);
    }

    #[tokio::test]
    async fn an_empty_cycle_balances() {
        let (t, seen) = run(vec![], vec![]).await;
        assert!(t.balanced() && seen.is_empty());
    }

    #[tokio::test]
    async fn each_discrepancy_is_reported_once() {
        let file = vec![
            pay("a", 100),
            pay("b", 200),         // only in the file
            pay("c", 301),         // amount changed
            refund("r1", "a", 10), // only in the file
            refund("x", "a", 5),   // ours is a payment "x": type mismatch
            pay("d", 1),
            pay("d", 1), // a repeat
        ];
        let mut other = pay("e", 9);
        other.settlement_amount = money("USD", 9);
        let ledger = vec![
            pay("a", 100),
            pay("c", 300),
            pay("x", 5),
            pay("d", 1),
            refund("r2", "c", 20), // only in ours
            pay("z", 7),           // only in ours
            other,                 // another currency's file: skipped
        ];
        let (t, seen) = run(file, ledger).await;
        let kinds: Vec<(DiscrepancyKind, &str)> =
            seen.iter().map(|(k, id)| (*k, id.as_str())).collect();
        use DiscrepancyKind::*;
        assert_eq!(
            kinds,
            [
                (OnlyInFile, "b"),
                (AmountMismatch, "c"),
                (DuplicateInFile, "d"),
                (OnlyInFile, "r1"),
                (OnlyInLedger, "r2"),
                (TypeMismatch, "x"),
                (OnlyInLedger, "z"),
            ]
        );
        assert_eq!(t.other_currencies, 1);
        assert_eq!(
            t.matched,
            CountAmount {
                count: 2,
                amount: 101
            }
        );
        assert!(!t.balanced());
    }

    #[tokio::test]
    async fn a_payment_and_a_refund_sharing_an_id_are_not_a_type_mismatch() {
        let rows = vec![pay("s", 50), refund("s", "p", 10)];
        let (t, seen) = run(rows.clone(), vec![pay("s", 50)]).await;
        assert_eq!(seen, [(DiscrepancyKind::OnlyInFile, "s".to_string())]);
        assert_eq!(t.matched.count, 1);
    }

    #[tokio::test]
    async fn a_summary_that_does_not_add_up_is_reported() {
        let mut sink = |_: &Discrepancy| Ok(());
        let declared = ClearingSummary {
            settlement_currency: None,
            clearing_day: None,
            total_count: 2,
            net_amount: 99,
        };
        let t = reconcile(
            ClearingDay::parse("2026-11-21").unwrap(),
            Currency::from_code("KRW").unwrap(),
            declared,
            vec![Ok(pay("a", 100))].into_iter(),
            IterSource(vec![pay("a", 100)].into_iter()),
            &mut sink,
        )
        .await
        .unwrap();
        assert_eq!(t.count(DiscrepancyKind::SummaryCountMismatch), 1);
        assert_eq!(t.count(DiscrepancyKind::SummaryAmountMismatch), 1);
        assert_eq!(t.matched.count, 1);
    }

    #[tokio::test]
    async fn unsorted_rows_are_refused_not_misreported() {
        let mut sink = |_: &Discrepancy| Ok(());
        let declared = ClearingSummary {
            settlement_currency: None,
            clearing_day: None,
            total_count: 2,
            net_amount: 0,
        };
        let err = reconcile(
            ClearingDay::parse("2026-11-21").unwrap(),
            Currency::from_code("KRW").unwrap(),
            declared,
            vec![Ok(pay("b", 1)), Ok(pay("a", 1))].into_iter(),
            IterSource(Vec::new().into_iter()),
            &mut sink,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ReconcileError::Unsorted));
    }
}
