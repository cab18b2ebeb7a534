//! Money and interest rates, exact.
//!
//! [`Money`] is yuan with exactly two decimal places over `rust_decimal`; on the wire it is a
//! decimal string (`"1500000.00"`), in the database integer fen (`BIGINT`), so sums and guarded
//! updates are exact in SQL. [`Rate`] is a yearly rate in percent with at most four decimal
//! places (`"3.45"`), stored as integer ten-thousandths of a percent.
//!
//! Parsing is strict: only a JSON string of digits with an optional `.` and at most two (money)
//! or four (rates) decimal places; no exponent, no sign unless negatives are allowed, no
//! whitespace. Where a division happens (an average rate, an average duration) the result is
//! rounded half-even ("banker's rounding") to the places of its type.

use rust_decimal::{Decimal, RoundingStrategy};
use std::{fmt, str::FromStr};

/// An amount of yuan with two decimal places.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Why a text is not an amount or a rate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be a decimal string such as \"1500000.00\"")]
    NotADecimal,
    #[error("must have at most {0} decimal places")]
    TooPrecise(u32),
    #[error("must not be negative")]
    Negative,
    #[error("must be more than 0")]
    NotPositive,
    #[error("must be at most {0}")]
    TooLarge(String),
}

/// Digits, an optional single `.` followed by digits, optionally a leading `-`.
fn decimal_of(s: &str, places: u32, negative_ok: bool) -> Result<Decimal, AmountError> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (body.contains('.') && frac.is_empty()) {
        return Err(AmountError::NotADecimal);
    }
    if int.len() > 20 {
        return Err(AmountError::TooLarge(Money::MAX_YUAN.to_string()));
    }
    if frac.len() as u32 > places {
        return Err(AmountError::TooPrecise(places));
    }
    let d = Decimal::from_str(s).map_err(|_| AmountError::NotADecimal)?;
    if d.is_sign_negative() && !d.is_zero() && !negative_ok {
        return Err(AmountError::Negative);
    }
    Ok(if d.is_zero() { Decimal::ZERO } else { d })
}

impl Money {
    /// The largest amount accepted: 10^13 yuan (10^15 fen, far inside `i64`).
    pub const MAX_YUAN: i64 = 10_000_000_000_000;
    /// Zero yuan.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Parses an amount: at most two decimal places, not negative, at most [`Self::MAX_YUAN`].
    pub fn parse(s: &str) -> Result<Self, AmountError> {
        Self::parse_signed(s).and_then(|m| {
            if m.0.is_sign_negative() {
                Err(AmountError::Negative)
            } else {
                Ok(m)
            }
        })
    }

    /// Parses an amount that must be more than zero.
    pub fn parse_positive(s: &str) -> Result<Self, AmountError> {
        let m = Self::parse(s)?;
        if m.0.is_zero() {
            return Err(AmountError::NotPositive);
        }
        Ok(m)
    }

    /// Parses an amount that may be negative (its magnitude at most [`Self::MAX_YUAN`]).
    pub fn parse_signed(s: &str) -> Result<Self, AmountError> {
        let d = decimal_of(s, 2, true)?;
        if d.abs() > Decimal::from(Self::MAX_YUAN) {
            return Err(AmountError::TooLarge(Self::MAX_YUAN.to_string()));
        }
        Ok(Money(d))
    }

    /// The amount in fen.
    pub fn fen(self) -> i64 {
        let mut d = self.0;
        d.rescale(2);
        i64::try_from(d.mantissa()).unwrap_or(i64::MAX)
    }

    /// The amount of `fen` fen.
    pub fn from_fen(fen: i64) -> Self {
        Money(Decimal::new(fen, 2))
    }

    /// The amount as a decimal (scale 2).
    pub fn decimal(self) -> Decimal {
        let mut d = self.0;
        d.rescale(2);
        d
    }

    /// `self + other`, `None` past [`Self::MAX_YUAN`] in magnitude.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        let d = self.0.checked_add(other.0)?;
        (d.abs() <= Decimal::from(Self::MAX_YUAN)).then_some(Money(d))
    }

    /// `self - other`, `None` past [`Self::MAX_YUAN`] in magnitude.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        let d = self.0.checked_sub(other.0)?;
        (d.abs() <= Decimal::from(Self::MAX_YUAN)).then_some(Money(d))
    }

    /// Zero?
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// `percent` % of the amount, rounded half-even to the fen (a risk fund's covered share).
    pub fn percent(self, percent: Rate) -> Money {
        Money(round_half_even(
            self.0 * percent.decimal() / Decimal::from(100),
            2,
        ))
    }
}

impl fmt::Display for Money {
    /// Always two decimal places: `1500000.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.decimal())
    }
}

impl FromStr for Money {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    /// A JSON string only (never a number): `"1500000.00"`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Money::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A yearly interest rate in percent, at most four decimal places, `0 < rate <= 100` when
/// parsed from input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(Decimal);

impl Rate {
    const PLACES: u32 = 4;

    /// Parses a rate: more than 0, at most 100, at most four decimal places.
    pub fn parse(s: &str) -> Result<Self, AmountError> {
        let d = decimal_of(s, Self::PLACES, false)?;
        if d.is_zero() {
            return Err(AmountError::NotPositive);
        }
        if d > Decimal::from(100) {
            return Err(AmountError::TooLarge("100".into()));
        }
        Ok(Rate(d))
    }

    /// In ten-thousandths of a percent (`3.45` → 34_500), as stored.
    pub fn e4(self) -> i64 {
        let mut d = self.0;
        d.rescale(Self::PLACES);
        i64::try_from(d.mantissa()).unwrap_or(i64::MAX)
    }

    /// The rate of `e4` ten-thousandths of a percent.
    pub fn from_e4(e4: i64) -> Self {
        Rate(Decimal::new(e4, Self::PLACES))
    }

    /// The rate as a decimal of percent.
    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// The mean of `rates` weighted by `weights` (e.g. line limits in fen), rounded half-even to
    /// four places; `None` when the weights sum to zero.
    pub fn weighted_mean(items: impl IntoIterator<Item = (Rate, i64)>) -> Option<Rate> {
        let (mut num, mut den) = (Decimal::ZERO, Decimal::ZERO);
        for (r, w) in items {
            num += r.0 * Decimal::from(w);
            den += Decimal::from(w);
        }
        if den.is_zero() {
            return None;
        }
        Some(Rate(round_half_even(num / den, Self::PLACES)))
    }
}

/// `d` rounded half-even to `places` decimal places, with exactly that many places.
pub fn round_half_even(d: Decimal, places: u32) -> Decimal {
    let mut r = d.round_dp_with_strategy(places, RoundingStrategy::MidpointNearestEven);
    r.rescale(places);
    r
}

impl fmt::Display for Rate {
    /// Normalized: `3.45`, `4`, `3.1234`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

impl serde::Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_parse_strictly() {
        assert_eq!(Money::parse("1500000.00").unwrap().fen(), 150_000_000);
        assert_eq!(Money::parse("1.5").unwrap().to_string(), "1.50");
        assert_eq!(Money::parse("7").unwrap().to_string(), "7.00");
        assert_eq!(Money::parse("0").unwrap(), Money::ZERO);
        for bad in [
            "", " 1", "1 ", "1.", ".5", "1e3", "+1", "1,000", "abc", "1.2.3", "0x10",
        ] {
            assert_eq!(Money::parse(bad), Err(AmountError::NotADecimal), "{bad:?}");
        }
        assert_eq!(Money::parse("1.234"), Err(AmountError::TooPrecise(2)));
        assert_eq!(Money::parse("-1.00"), Err(AmountError::Negative));
        assert_eq!(Money::parse_positive("0.00"), Err(AmountError::NotPositive));
        assert!(Money::parse("10000000000000.00").is_ok());
        assert!(Money::parse("10000000000000.01").is_err());
        assert!(Money::parse("99999999999999999999999999").is_err());
        assert_eq!(Money::parse_signed("-3.10").unwrap().fen(), -310);
    }

    #[test]
    fn the_largest_amount_round_trips_through_fen() {
        let m = Money::parse("10000000000000.00").unwrap();
        assert_eq!(Money::from_fen(m.fen()), m);
        assert_eq!(Money::from_fen(m.fen()).to_string(), "10000000000000.00");
    }

    #[test]
    fn json_numbers_are_refused() {
        assert!(serde_json::from_str::<Money>("1500.00").is_err());
        assert!(serde_json::from_str::<Money>("\"1500.00\"").is_ok());
        assert_eq!(
            serde_json::to_string(&Money::from_fen(5)).unwrap(),
            "\"0.05\""
        );
    }

    #[test]
    fn rates_parse_to_four_places_and_average_half_even() {
        assert_eq!(Rate::parse("3.45").unwrap().e4(), 34_500);
        assert_eq!(Rate::parse("3.45").unwrap().to_string(), "3.45");
        assert_eq!(Rate::parse("3.12345"), Err(AmountError::TooPrecise(4)));
        assert_eq!(Rate::parse("0"), Err(AmountError::NotPositive));
        assert!(Rate::parse("100.0001").is_err());
        // (3.0001 + 3.0002) / 2 = 3.00015 → 3.0002 (half to even), and 3.00025 → 3.0002.
        let r = |s| Rate::parse(s).unwrap();
        assert_eq!(
            Rate::weighted_mean([(r("3.0001"), 1), (r("3.0002"), 1)])
                .unwrap()
                .to_string(),
            "3.0002"
        );
        assert_eq!(
            Rate::weighted_mean([(r("3.0002"), 1), (r("3.0003"), 1)])
                .unwrap()
                .to_string(),
            "3.0002"
        );
        assert_eq!(
            Rate::weighted_mean([(r("3"), 3), (r("4"), 1)])
                .unwrap()
                .to_string(),
            "3.25"
        );
        assert_eq!(Rate::weighted_mean(std::iter::empty()), None);
    }

    proptest! {
        #[test]
        fn every_fen_amount_round_trips(fen in 0i64..=1_000_000_000_000_000) {
            let m = Money::from_fen(fen);
            let text = m.to_string();
            prop_assert_eq!(Money::parse(&text).unwrap(), m);
            prop_assert_eq!(Money::parse(&text).unwrap().fen(), fen);
            let (_, frac) = text.split_once('.').unwrap();
            prop_assert_eq!(frac.len(), 2);
        }

        #[test]
        fn addition_is_exact_and_matches_fen(a in 0i64..=500_000_000_000_000, b in 0i64..=500_000_000_000_000) {
            let sum = Money::from_fen(a).checked_add(Money::from_fen(b)).unwrap();
            prop_assert_eq!(sum.fen(), a + b);
            prop_assert_eq!(sum.checked_sub(Money::from_fen(b)).unwrap().fen(), a);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,30}") {
            let _ = Money::parse(&s);
            let _ = Rate::parse(&s);
        }

        #[test]
        fn three_decimal_places_are_refused(int in 0u64..1_000_000, frac in 0u32..1000) {
            let s = format!("{int}.{frac:03}");
            prop_assert_eq!(Money::parse(&s), Err(AmountError::TooPrecise(2)));
        }

        #[test]
        fn rates_round_trip_through_e4(e4 in 1i64..=1_000_000) {
            let r = Rate::from_e4(e4);
            prop_assert_eq!(Rate::parse(&r.to_string()).unwrap().e4(), e4);
        }
    }

    #[test]
    fn percent_rounds_half_even_to_the_fen() {
        let m = |s: &str| Money::parse(s).unwrap();
        let r = |s: &str| Rate::parse(s).unwrap();
        assert_eq!(m("1000000.00").percent(r("80")), m("800000.00"));
        // 0.125 → 0.12, 0.135 → 0.14
        assert_eq!(m("0.25").percent(r("50")), m("0.12"));
        assert_eq!(m("0.27").percent(r("50")), m("0.14"));
        assert_eq!(m("333.33").percent(r("33.3333")).to_string(), "111.11");
    }
}
