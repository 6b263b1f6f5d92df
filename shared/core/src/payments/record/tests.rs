use super::*;
use crate::money::Currency;
use chrono::{Duration, TimeZone};

/// The instant the store tests start from (2026-11-21 11:00 UTC+8).
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()
}

/// `v` won.
pub(crate) fn krw(v: u64) -> Money {
    Money {
        currency: Currency::from_code("KRW").unwrap(),
        value: MinorUnit(v),
    }
}

fn order() -> Order {
    Order {
        fingerprint: "fp".to_string(),
        payment_amount: krw(1_000),
        pay_to_amount: krw(1_000),
        debit: krw(1_000),
        expires_at: t0() + Duration::minutes(1),
        notify_url: Some("https://a.example/n".to_string()),
        order_lifecycle_id: Some("LC-1".to_string()),
        supplemental_of: None,
    }
}

fn succeeded() -> PaymentRecord {
    PaymentRecord::succeeded(
        "p1",
        t0(),
        order(),
        "pid-1".to_string(),
        CustomerId::new("c1"),
        t0(),
    )
    .refund_paid(MinorUnit(200))
    .unwrap()
}

fn failed() -> PaymentRecord {
    PaymentRecord::failed(
        "p1",
        t0(),
        order(),
        ResultCode::UserBalanceNotEnough,
        Some(CustomerId::new("c1")),
    )
}

/// One record of every state (and both kinds of closed).
fn every_state() -> Vec<PaymentRecord> {
    let later = t0() + Duration::minutes(5);
    vec![
        succeeded(),
        failed(),
        failed().close_declined(later).unwrap(),
        PaymentRecord::unseen_closed("p1", later),
        succeeded().cancel_paid(later).unwrap(),
    ]
}

#[test]
fn each_state_is_stored_as_every_earlier_version_stored_it() {
    let rows: Vec<PaymentRow> = every_state().iter().map(PaymentRecord::to_row).collect();
    let shape: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.state,
                r.result_code,
                r.fingerprint.is_some(),
                r.payment_id.as_deref(),
                r.payment_time.as_deref(),
                r.refunded,
                r.closed_at.is_some(),
            )
        })
        .collect();
    let time = Some("2026-11-21T11:00:00+08:00");
    assert_eq!(
        shape,
        vec![
            (
                PaymentState::Succeeded,
                ResultCode::Success,
                true,
                Some("pid-1"),
                time,
                MinorUnit(200),
                false
            ),
            (
                PaymentState::Failed,
                ResultCode::UserBalanceNotEnough,
                true,
                None,
                None,
                MinorUnit::ZERO,
                false
            ),
            (
                PaymentState::Closed,
                ResultCode::UserBalanceNotEnough,
                true,
                None,
                None,
                MinorUnit::ZERO,
                true
            ),
            (
                PaymentState::Closed,
                ResultCode::OrderIsClosed,
                false,
                None,
                None,
                MinorUnit::ZERO,
                true
            ),
            (
                PaymentState::Cancelled,
                ResultCode::Success,
                true,
                Some("pid-1"),
                time,
                MinorUnit(200),
                true
            ),
        ]
    );
    // A placeholder holds nothing of a pay's.
    let unseen = &rows[3];
    assert!(unseen.customer_id.is_none() && unseen.debit.is_none() && unseen.expires_at.is_none());
    assert!(unseen.payment_amount.is_none() && unseen.notify_url.is_none());
    // A decline keeps the payer it knew.
    assert_eq!(rows[1].customer_id, Some(CustomerId::new("c1")));
}

#[test]
fn each_state_round_trips_through_its_row() {
    for record in every_state() {
        assert_eq!(
            PaymentRecord::from_row(record.to_row()).ok(),
            Some(record.clone()),
            "{record:?}"
        );
    }
}

#[test]
fn payment_time_is_whole_seconds_in_utc_plus_8() {
    let at = t0() + Duration::milliseconds(789);
    let p = PaymentRecord::succeeded("p1", at, order(), "pid".into(), CustomerId::new("c"), at);
    let paid = p.paid().unwrap();
    assert_eq!(paid.at, t0());
    assert_eq!(paid.payment_time(), "2026-11-21T11:00:00+08:00");
    assert_eq!(PaymentRecord::from_row(p.to_row()).ok(), Some(p));
}

#[test]
fn each_state_answers_its_payment_result() {
    let results: Vec<_> = every_state()
        .iter()
        .map(|r| (r.status.payment_result(), r.status.is_open()))
        .collect();
    assert_eq!(
        results,
        vec![
            (ResultCode::Success, true),
            (ResultCode::UserBalanceNotEnough, true),
            (ResultCode::OrderIsClosed, false),
            (ResultCode::OrderIsClosed, false),
            (ResultCode::OrderIsClosed, false),
        ]
    );
}

#[test]
fn a_row_no_state_can_have_is_corrupt() {
    let corrupt =
        |row: PaymentRow| matches!(PaymentRecord::from_row(row), Err(StoreError::Corrupt(_)));
    // Succeeded or cancelled without what a debit holds.
    let strips: [fn(&mut PaymentRow); 6] = [
        |r| r.payment_id = None,
        |r| r.customer_id = None,
        |r| r.debit = None,
        |r| r.payment_time = None,
        |r| r.payment_time = Some("yesterday".into()),
        |r| r.fingerprint = None,
    ];
    for strip in strips {
        for record in [succeeded(), succeeded().cancel_paid(t0()).unwrap()] {
            let mut row = record.to_row();
            strip(&mut row);
            assert!(corrupt(row.clone()), "{row:?}");
        }
    }
    // A failed payment answers its decline code: one holding SUCCESS (or a U code) would be
    // answered as paid, so it is corrupt; so is one with a debit's fields or refunds.
    for code in [ResultCode::Success, ResultCode::UnknownException] {
        let mut row = failed().to_row();
        row.result_code = code;
        assert!(corrupt(row), "{code:?}");
    }
    let mut row = failed().to_row();
    row.payment_id = Some("pid".into());
    assert!(corrupt(row));
    let mut row = failed().to_row();
    row.refunded = MinorUnit(1);
    assert!(corrupt(row));
    // Refunded above the debit; a succeeded one with a decline code.
    let mut row = succeeded().to_row();
    row.refunded = MinorUnit(1_001);
    assert!(corrupt(row));
    let mut row = succeeded().to_row();
    row.result_code = ResultCode::UserBalanceNotEnough;
    assert!(corrupt(row));
    // An open payment with a closedAt.
    let mut row = succeeded().to_row();
    row.closed_at = Some(t0());
    assert!(corrupt(row));
    // A placeholder holding a pay's fields.
    let mut row = PaymentRecord::unseen_closed("p1", t0()).to_row();
    row.debit = Some(krw(1));
    assert!(corrupt(row));
}

#[test]
fn records_from_before_closed_at_was_kept_still_read() {
    for record in [
        failed().close_declined(t0()).unwrap(),
        PaymentRecord::unseen_closed("p1", t0()),
        succeeded().cancel_paid(t0()).unwrap(),
    ] {
        let mut row = record.to_row();
        row.closed_at = None;
        let read = PaymentRecord::from_row(row.clone()).unwrap();
        assert_eq!(read.closed_at(), None);
        assert_eq!(read.state(), record.state());
        assert_eq!(read.to_row(), row);
    }
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn money() -> impl Strategy<Value = Money> {
        (
            prop::sample::select(vec!["KRW", "USD", "JPY"]),
            0u64..=u64::MAX,
        )
            .prop_map(|(c, v)| Money {
                currency: Currency::from_code(c).unwrap(),
                value: MinorUnit(v),
            })
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 2000-01-01 .. 2100-01-01, to the nanosecond (items keep nine fractional digits).
        (946_684_800i64..4_102_444_800i64, 0u32..1_000_000_000u32)
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap())
    }

    fn text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_-]{1,24}"
    }

    fn order() -> impl Strategy<Value = Order> {
        (
            text(),
            money(),
            money(),
            money(),
            instant(),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
        )
            .prop_map(|(fp, pay, pay_to, debit, expires, url, lc, sup)| Order {
                fingerprint: fp,
                payment_amount: pay,
                pay_to_amount: pay_to,
                debit,
                expires_at: expires,
                notify_url: url,
                order_lifecycle_id: lc,
                supplemental_of: sup,
            })
    }

    fn declined() -> impl Strategy<Value = Declined> {
        let f_codes: Vec<ResultCode> = [
            ResultCode::UserBalanceNotEnough,
            ResultCode::OrderIsClosed,
            ResultCode::ProcessFail,
            ResultCode::InvalidToken,
            ResultCode::RiskReject,
        ]
        .into_iter()
        .filter(|c| c.status() == ResultStatus::F)
        .collect();
        (
            prop::sample::select(f_codes),
            prop::option::of(text().prop_map(|c| CustomerId::new(&c))),
        )
            .prop_map(|(code, customer)| Declined { code, customer })
    }

    fn paid() -> impl Strategy<Value = (Order, String, String, DateTime<Utc>, u64)> {
        (order(), text(), text(), instant(), any::<u64>())
    }

    fn record() -> impl Strategy<Value = PaymentRecord> {
        prop_oneof![
            (text(), instant(), paid()).prop_map(|(id, created, (o, pid, c, at, r))| {
                // Anything from nothing to the whole debit.
                let refunded = MinorUnit(match o.debit.value.get().checked_add(1) {
                    Some(m) => r % m,
                    None => r,
                });
                PaymentRecord::succeeded(&id, created, o, pid, CustomerId::new(&c), at)
                    .refund_paid(refunded)
                    .unwrap()
            }),
            (text(), instant(), order(), declined()).prop_map(|(id, created, o, d)| {
                PaymentRecord::failed(&id, created, o, d.code, d.customer)
            }),
            (text(), instant(), order(), declined(), instant()).prop_map(
                |(id, created, o, d, at)| {
                    PaymentRecord::failed(&id, created, o, d.code, d.customer)
                        .close_declined(at)
                        .unwrap()
                }
            ),
            (text(), instant()).prop_map(|(id, at)| PaymentRecord::unseen_closed(&id, at)),
            (text(), instant(), paid(), instant()).prop_map(
                |(id, created, (o, pid, c, at, _), closed)| {
                    PaymentRecord::succeeded(&id, created, o, pid, CustomerId::new(&c), at)
                        .cancel_paid(closed)
                        .unwrap()
                }
            ),
        ]
    }

    proptest! {
        /// Every record of every state survives its stored row unchanged, and the row it
        /// gives is the row it came from.
        #[test]
        fn every_record_round_trips_through_its_row(record in record()) {
            let row = record.to_row();
            let back = PaymentRecord::from_row(row.clone()).ok();
            prop_assert_eq!(back.as_ref(), Some(&record));
            prop_assert_eq!(back.map(|b| b.to_row()), Some(row));
        }
    }
}
