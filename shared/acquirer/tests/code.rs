//! Seed Step 1: every two-digit prefix at every length from 15 to 33.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mpp_acquirer::code::{identify, CodeError, CodeReach, CODE_PREFIXES};

fn code(prefix: u32, len: usize) -> String {
    let mut s = format!("{prefix:02}");
    while s.len() < len {
        s.push(char::from(b'0' + (s.len() % 10) as u8));
    }
    s
}

#[test]
fn every_prefix_at_every_length_from_15_to_33() {
    let mut accepted = 0;
    for prefix in 0..100u32 {
        for len in 15..=33usize {
            let value = code(prefix, len);
            assert_eq!(value.len(), len);
            let alipay_prefix = (25..=30).contains(&prefix);
            match identify(&value) {
                Ok(c) => {
                    assert!(
                        alipay_prefix && (16..=32).contains(&len),
                        "{value} accepted"
                    );
                    assert_eq!(c.len(), len);
                    assert_eq!(c.expose(), value);
                    assert_eq!(c.prefix(), &value[..2]);
                    let reach = if len <= 24 {
                        CodeReach::Issued
                    } else {
                        CodeReach::Expansion
                    };
                    assert_eq!(c.reach(), reach, "{value}");
                    accepted += 1;
                }
                Err(CodeError::TooShort { len: l }) => assert!(len == 15 && l == 15, "{value}"),
                Err(CodeError::TooLong { len: l }) => assert!(len == 33 && l == 33, "{value}"),
                Err(CodeError::NotAlipayPlus { prefix: p }) => {
                    assert!(!alipay_prefix && (16..=32).contains(&len), "{value}");
                    assert_eq!(p, format!("{prefix:02}"));
                }
                Err(e) => panic!("{value}: unexpected {e}"),
            }
        }
    }
    // 6 prefixes × 17 lengths (16..=32).
    assert_eq!(accepted, CODE_PREFIXES.len() * 17);
}

#[test]
fn the_seed_codes_are_accepted() {
    assert_eq!(
        identify("28100602000000000012").unwrap().reach(),
        CodeReach::Issued
    );
    assert_eq!(identify("281006020000000000").unwrap().len(), 18);
}

#[test]
fn anything_but_ascii_digits_is_refused_with_its_position() {
    assert_eq!(identify(""), Err(CodeError::Empty));
    assert_eq!(
        identify("2810060200000000001a"),
        Err(CodeError::NotDigits { position: 19 })
    );
    assert_eq!(
        identify(" 281006020000000000"),
        Err(CodeError::NotDigits { position: 0 })
    );
    assert_eq!(
        identify("281006020000000000\n"),
        Err(CodeError::NotDigits { position: 18 })
    );
    // Full-width digits are digits to Unicode, not to a scanner.
    assert_eq!(
        identify("２81006020000000000"),
        Err(CodeError::NotDigits { position: 0 })
    );
    assert_eq!(
        identify("-281006020000000000"),
        Err(CodeError::NotDigits { position: 0 })
    );
    // An access token is not a payment code.
    assert_eq!(
        identify("2810000000000000000000000000JWDQ"),
        Err(CodeError::NotDigits { position: 28 })
    );
}

#[test]
fn reasons_read_plainly_and_codes_never_print() {
    let e = identify("2410060200000000").unwrap_err();
    assert_eq!(
        e.to_string(),
        "codes starting 24 are not Alipay+ payment codes (they start 25 to 30)"
    );
    assert!(identify("281")
        .unwrap_err()
        .to_string()
        .contains("16 to 32 digits"));
    let c = identify("281006020000000000").unwrap();
    assert!(!format!("{c:?}").contains("1006020"));
    assert!(!format!("{c}").contains("1006020"));
}
