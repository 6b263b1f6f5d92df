//! The clearing file in our column layout (`docs/reconcile.md`), as a golden fixture: it reads
//! back to the transactions it lists, its summary adds up, and writing them again gives the
//! same bytes.

#![allow(clippy::unwrap_used)]

use mpp_core::reconcile::clearing::{summarise, ClearingFileName, ClearingReader, ClearingWriter};
use mpp_core::reconcile::{Transaction, TransactionType};

const NAME: &str = "transactionItems_1022172000000000001_KRW_20261121001_LOCALAGREEMENT_000.csv";

#[test]
fn the_fixture_reads_adds_up_and_round_trips_byte_for_byte() {
    let bytes = std::fs::read(format!("tests/clearing_fixtures/{NAME}")).unwrap();
    let reader = ClearingReader::open(bytes.as_slice()).unwrap();
    let summary = reader.summary().clone();
    let rows: Vec<Transaction> = reader.map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2].transaction_type, TransactionType::Refund);
    assert_eq!(rows[2].id(), "REF20261121000001");
    let name = ClearingFileName::parse(NAME).unwrap();
    assert_eq!(name.file_name(), NAME);
    let again = summarise(
        name.settlement_currency,
        summary.clearing_day.unwrap(),
        &rows,
    );
    assert_eq!(again, summary, "the summary is what the rows add up to");
    let mut w = ClearingWriter::start(Vec::new(), &again).unwrap();
    for r in &rows {
        w.row(r).unwrap();
    }
    assert_eq!(
        String::from_utf8(w.finish().unwrap()).unwrap(),
        String::from_utf8(bytes).unwrap()
    );
}
