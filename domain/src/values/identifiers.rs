//! Polish institution identifiers: NIP (tax id) and REGON (statistical number),
//! both checked by their weighted check digits.

use serde::{Deserialize, Serialize};

use super::{string_value, ValueError};

const NIP_WEIGHTS: [u32; 9] = [6, 5, 7, 2, 3, 4, 5, 6, 7];
const REGON9_WEIGHTS: [u32; 8] = [8, 9, 2, 3, 4, 5, 6, 7];
const REGON14_WEIGHTS: [u32; 13] = [2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8];

/// Strips the separators people type (spaces and hyphens) and returns the digits, or None
/// when anything else appears (the caller names the number in its error).
fn digits_of(s: &str) -> Option<Vec<u32>> {
    let mut digits = Vec::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ' ' | '-' => {}
            _ => digits.push(c.to_digit(10)?),
        }
    }
    Some(digits)
}

fn weighted_sum(digits: &[u32], weights: &[u32]) -> u32 {
    digits.iter().zip(weights).map(|(d, w)| d * w).sum()
}

fn to_string(digits: &[u32]) -> String {
    digits
        .iter()
        .filter_map(|d| char::from_digit(*d, 10))
        .collect()
}

/// A Polish tax identification number (NIP): the identity of an institution
/// everywhere in the service. Always 10 digits with a valid check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nip(String);

impl Nip {
    /// Parses a NIP as people write it ("956-230-79-84", "956 230 79 84",
    /// "PL9562307984") into its 10-digit form, checking the check digit.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let t = s.trim();
        let t = match t.get(..2) {
            Some(p) if p.eq_ignore_ascii_case("PL") => &t[2..],
            _ => t,
        };
        let digits = digits_of(t).ok_or_else(|| {
            ValueError::new(
                "nip_characters",
                "NIP may contain only digits, spaces and hyphens",
            )
        })?;
        if digits.len() != 10 {
            return Err(ValueError::new("nip_digits", "NIP must have 10 digits"));
        }
        let check = weighted_sum(&digits[..9], &NIP_WEIGHTS) % 11;
        if check == 10 || check != digits[9] {
            return Err(ValueError::new(
                "nip_check_digit",
                "NIP check digit is wrong",
            ));
        }
        Ok(Self(to_string(&digits)))
    }

    /// The NIP that completes nine digits (`0..=999_999_999`) with their check digit, or None
    /// when that digit would be 10 (no NIP has those nine digits). Invented institutions of
    /// the demo and of tests get their NIPs here, from the one copy of the algorithm.
    pub fn completing(nine_digits: u32) -> Option<Self> {
        let digits: Vec<u32> = format!("{nine_digits:09}")
            .chars()
            .filter_map(|c| c.to_digit(10))
            .collect();
        if digits.len() != 9 {
            return None;
        }
        let check = weighted_sum(&digits, &NIP_WEIGHTS) % 11;
        (check < 10).then(|| Self(format!("{nine_digits:09}{check}")))
    }
}
string_value!(Nip);

/// A REGON statistical number: 9 digits for an entity, 14 for a local unit, with a
/// valid check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Regon(String);

impl Regon {
    /// Parses a 9- or 14-digit REGON (spaces and hyphens ignored), checking the
    /// check digit: (weighted sum mod 11) mod 10.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let digits = digits_of(s.trim()).ok_or_else(|| {
            ValueError::new(
                "regon_characters",
                "REGON may contain only digits, spaces and hyphens",
            )
        })?;
        let weights: &[u32] = match digits.len() {
            9 => &REGON9_WEIGHTS,
            14 => &REGON14_WEIGHTS,
            _ => {
                return Err(ValueError::new(
                    "regon_digits",
                    "REGON must have 9 or 14 digits",
                ))
            }
        };
        let n = digits.len();
        let check = weighted_sum(&digits[..n - 1], weights) % 11 % 10;
        if check != digits[n - 1] {
            return Err(ValueError::new(
                "regon_check_digit",
                "REGON check digit is wrong",
            ));
        }
        Ok(Self(to_string(&digits)))
    }
}
string_value!(Regon);

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends the NIP check digit to nine digits, or None when the remainder is 10.
    fn nip_with_check(nine: &str) -> Option<String> {
        let d: Vec<u32> = nine.chars().filter_map(|c| c.to_digit(10)).collect();
        let c = weighted_sum(&d, &NIP_WEIGHTS) % 11;
        (c != 10).then(|| format!("{nine}{c}"))
    }

    #[test]
    fn nip_accepts_valid_forms_and_normalises() {
        for s in [
            "9562307984",
            "956-230-79-84",
            "956 230 79 84",
            "PL9562307984",
            "pl 956-230-79-84",
            " 9562307984 ",
        ] {
            assert_eq!(Nip::parse(s).expect(s).as_str(), "9562307984", "{s}");
        }
        let own = nip_with_check("123456780").expect("remainder not 10");
        assert_eq!(own, "1234567802");
        // 123456789 leaves remainder 10: no tenth digit makes it valid.
        assert!(nip_with_check("123456789").is_none());
        assert_eq!(Nip::parse(&own).expect("valid").as_str(), own);
    }

    #[test]
    fn nip_rejects_bad_input_with_clear_messages() {
        assert_eq!(
            Nip::parse("9562307985").expect_err("bad").message,
            "NIP check digit is wrong"
        );
        assert_eq!(
            Nip::parse("956230798").expect_err("short").message,
            "NIP must have 10 digits"
        );
        assert_eq!(
            Nip::parse("95623079841").expect_err("long").message,
            "NIP must have 10 digits"
        );
        assert_eq!(
            Nip::parse("").expect_err("empty").message,
            "NIP must have 10 digits"
        );
        assert!(Nip::parse("95623O7984")
            .expect_err("letter")
            .message
            .contains("only digits"));
        assert!(Nip::parse("DE9562307984").is_err());
    }

    #[test]
    fn nip_with_remainder_ten_is_never_valid() {
        // Find nine digits whose weighted sum leaves 10 and try every tenth digit.
        let nine = (0..1000u32)
            .map(|i| format!("{:09}", i))
            .find(|n| nip_with_check(n).is_none())
            .expect("some prefix has remainder 10");
        for last in 0..10 {
            assert!(Nip::parse(&format!("{nine}{last}")).is_err());
        }
    }

    #[test]
    fn nip_serde_round_trip_and_rejects() {
        assert_eq!(
            Nip::completing(956_230_798).map(|n| n.to_string()),
            Some("9562307984".to_owned())
        );
        assert_eq!(Nip::completing(1_000_000_000), None);
        let nip = Nip::parse("956-230-79-84").expect("valid");
        let json = serde_json::to_string(&nip).expect("ser");
        assert_eq!(json, "\"9562307984\"");
        assert_eq!(
            serde_json::from_str::<Nip>("\"PL9562307984\"").expect("de"),
            nip
        );
        assert!(serde_json::from_str::<Nip>("\"9562307985\"").is_err());
    }

    #[test]
    fn regon_9_and_14() {
        // 12345678 -> 8+18+6+12+20+30+42+56 = 192; 192 % 11 = 5.
        assert_eq!(
            Regon::parse("123456785").expect("valid").as_str(),
            "123456785"
        );
        assert_eq!(
            Regon::parse("123456786").expect_err("bad").message,
            "REGON check digit is wrong"
        );
        // 1234567851234 -> 2+8+24+20+0+54+49+24+30+1+4+12+32 = 260; 260 % 11 = 7.
        assert_eq!(
            Regon::parse("1234567851234-7").expect("valid").as_str(),
            "12345678512347"
        );
        assert!(Regon::parse("12345678512348").is_err());
        assert_eq!(
            Regon::parse("1234567").expect_err("len").message,
            "REGON must have 9 or 14 digits"
        );
        assert!(Regon::parse("12345678a")
            .expect_err("letter")
            .message
            .contains("only digits"));
        // Remainder 10 gives check digit 0: 00500000 -> 5*2 = 10.
        assert!(Regon::parse("005000000").is_ok());
        assert!(Regon::parse("005000001").is_err());
        let json = serde_json::to_string(&Regon::parse("123456785").expect("valid")).expect("ser");
        assert_eq!(json, "\"123456785\"");
        assert!(serde_json::from_str::<Regon>("\"123456786\"").is_err());
    }
}

/// Properties over arbitrary input: the parsers never panic, and the check digits catch
/// what they can mathematically catch.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn digits_string(d: &[u32]) -> String {
        d.iter().filter_map(|&x| char::from_digit(x, 10)).collect()
    }

    /// Nine digits whose NIP check remainder is not 10, with the check digit appended.
    fn valid_nip() -> impl Strategy<Value = Vec<u32>> {
        proptest::collection::vec(0u32..10, 9)
            .prop_filter("remainder 10 has no check digit", |d| {
                weighted_sum(d, &NIP_WEIGHTS) % 11 != 10
            })
            .prop_map(|mut d| {
                d.push(weighted_sum(&d, &NIP_WEIGHTS) % 11);
                d
            })
    }

    /// A 9- or 14-digit REGON with its check digit.
    fn valid_regon() -> impl Strategy<Value = Vec<u32>> {
        prop_oneof![
            proptest::collection::vec(0u32..10, 8),
            proptest::collection::vec(0u32..10, 13)
        ]
        .prop_map(|mut d| {
            d.push(regon_remainder(&d) % 10);
            d
        })
    }

    fn regon_remainder(body: &[u32]) -> u32 {
        let weights: &[u32] = if body.len() == 8 {
            &REGON9_WEIGHTS
        } else {
            &REGON14_WEIGHTS
        };
        weighted_sum(body, weights) % 11
    }

    proptest! {
        #[test]
        fn nip_and_regon_never_panic(s in "\\PC*", t in "[0-9 \\-PLpl]{0,20}") {
            let _ = Nip::parse(&s);
            let _ = Regon::parse(&s);
            let _ = Nip::parse(&t);
            let _ = Regon::parse(&t);
        }

        #[test]
        fn valid_nips_round_trip(d in valid_nip(), sep in prop_oneof![Just(""), Just("-"), Just(" ")]) {
            let plain = digits_string(&d);
            let nip = Nip::parse(&plain).map_err(|e| TestCaseError::fail(e.message))?;
            prop_assert_eq!(nip.as_str(), plain.as_str());
            // As people write it: 956-230-79-84, with or without the PL prefix.
            let written = format!("PL{}{sep}{}{sep}{}{sep}{}", &plain[..3], &plain[3..6], &plain[6..8], &plain[8..]);
            prop_assert_eq!(Nip::parse(&written).map(|n| n.to_string()), Ok(plain.clone()));
            prop_assert_eq!(Nip::parse(&format!("{nip}")), Ok(nip));
        }

        #[test]
        fn any_single_digit_change_of_a_nip_is_refused(d in valid_nip(), at in 0usize..10, delta in 1u32..10) {
            // Every weight is non-zero modulo the prime 11, so one changed digit always
            // changes the remainder.
            let mut changed = d.clone();
            changed[at] = (changed[at] + delta) % 10;
            prop_assert!(Nip::parse(&digits_string(&changed)).is_err(), "{:?}", changed);
        }

        #[test]
        fn valid_regons_round_trip(d in valid_regon()) {
            let plain = digits_string(&d);
            let regon = Regon::parse(&plain).map_err(|e| TestCaseError::fail(e.message))?;
            prop_assert_eq!(regon.as_str(), plain.as_str());
            prop_assert_eq!(Regon::parse(&format!("{regon}")), Ok(regon));
        }

        #[test]
        fn single_digit_changes_of_a_regon_are_refused_where_the_checksum_can_tell(
            d in valid_regon(), at in 0usize..14, delta in 1u32..10
        ) {
            let n = d.len();
            let at = at % n;
            let mut changed = d.clone();
            changed[at] = (changed[at] + delta) % 10;
            let accepted = Regon::parse(&digits_string(&changed)).is_ok();
            // REGON's own blind spots: the 14-digit form weighs its fifth digit 0, and a
            // remainder of 10 gives the same check digit (0) as a remainder of 0.
            let blind = at < n - 1
                && ((n == 14 && at == 4) || {
                    let (old, new) = (regon_remainder(&d[..n - 1]), regon_remainder(&changed[..n - 1]));
                    old % 10 == new % 10
                });
            prop_assert_eq!(accepted, blind, "{:?} -> {:?}", d, changed);
        }
    }
}
