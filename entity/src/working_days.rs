//! A number of working days (`1`, `0.5`, `2.125`), as used by SLA policies and extensions.

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;
use rust_decimal::Decimal;

/// A non-negative number of working days with at most 3 decimal places, at most [`WorkingDays::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkingDays(Decimal);

/// Why a number is not a valid count of working days.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorkingDaysError {
    /// Below zero.
    #[error("working days must not be negative")]
    Negative,
    /// More than 3 decimal places.
    #[error("working days allow at most 3 decimal places")]
    TooPrecise,
    /// Above the maximum.
    #[error("working days must be at most {max}", max = WorkingDays::MAX)]
    TooLarge,
    /// Not a decimal number.
    #[error("working days must be a decimal number such as 1 or 0.5")]
    NotANumber,
}

impl WorkingDays {
    /// The largest accepted count: one year of calendar days.
    pub const MAX: u32 = 365;
    /// Decimal places kept.
    const MAX_SCALE: u32 = 3;

    /// Zero working days.
    pub const ZERO: WorkingDays = WorkingDays(Decimal::ZERO);

    /// Validates a decimal: `0 <= d <= MAX`, at most 3 decimal places (trailing zeros ignored).
    pub fn parse_decimal(d: Decimal) -> Result<Self, WorkingDaysError> {
        let d = d.normalize();
        if d.is_sign_negative() && !d.is_zero() {
            return Err(WorkingDaysError::Negative);
        }
        if d.scale() > Self::MAX_SCALE {
            return Err(WorkingDaysError::TooPrecise);
        }
        if d > Decimal::from(Self::MAX) {
            return Err(WorkingDaysError::TooLarge);
        }
        // `-0` normalizes to a negative zero; store a plain zero.
        Ok(WorkingDays(if d.is_zero() { Decimal::ZERO } else { d }))
    }

    /// A whole number of days; values above [`WorkingDays::MAX`] saturate to it.
    pub fn from_int(days: u32) -> Self {
        WorkingDays(Decimal::from(days.min(Self::MAX)))
    }

    /// The value, normalized (no trailing zeros).
    pub fn as_decimal(&self) -> Decimal {
        self.0
    }

    /// `self × day_length`, exact to the millisecond (half-even rounding below it).
    ///
    /// Sub-millisecond parts of `day_length` are ignored; saturates at `TimeDelta::MAX`.
    pub fn to_duration(&self, day_length: TimeDelta) -> TimeDelta {
        // At most 3 decimal places, so thousandths of a day are an exact integer.
        let thousandths = (self.0 * Decimal::from(1000)).trunc();
        let thousandths = i128::try_from(thousandths).unwrap_or(0);
        let numerator = thousandths * i128::from(day_length.num_milliseconds());
        let (quotient, remainder) = (numerator.div_euclid(1000), numerator.rem_euclid(1000));
        let millis = match remainder.cmp(&500) {
            std::cmp::Ordering::Less => quotient,
            std::cmp::Ordering::Greater => quotient + 1,
            std::cmp::Ordering::Equal => quotient + (quotient & 1),
        };
        i64::try_from(millis)
            .ok()
            .and_then(TimeDelta::try_milliseconds)
            .unwrap_or(if millis < 0 {
                TimeDelta::MIN
            } else {
                TimeDelta::MAX
            })
    }
}

impl fmt::Display for WorkingDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for WorkingDays {
    type Err = WorkingDaysError;
    /// Plain decimal notation only (`1`, `0.5`, `2.125`): `Decimal` alone would also read
    /// `+1`, `.5`, `1.`, ` 1 ` and `1_0` (as 10), forms the API description does not admit.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let plain = match digits.split_once('.') {
            Some((whole, fraction)) => all_digits(whole) && all_digits(fraction),
            None => all_digits(digits),
        };
        if !plain {
            return Err(WorkingDaysError::NotANumber);
        }
        if negative {
            return Err(WorkingDaysError::Negative);
        }
        // Leading and trailing zeros carry no value, and the API description admits any number
        // of them; `Decimal` holds at most 28 digits, so they go before it reads the rest.
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let whole = whole.trim_start_matches('0');
        let fraction = fraction.trim_end_matches('0');
        let whole = if whole.is_empty() { "0" } else { whole };
        let d = if fraction.is_empty() {
            Decimal::from_str_exact(whole)
        } else {
            Decimal::from_str_exact(&format!("{whole}.{fraction}"))
        };
        // What is still too long for a `Decimal` is far above the maximum, or too precise.
        let d = d.map_err(|_| {
            if fraction.len() > Self::MAX_SCALE as usize {
                WorkingDaysError::TooPrecise
            } else {
                WorkingDaysError::TooLarge
            }
        })?;
        Self::parse_decimal(d)
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl TryFrom<Decimal> for WorkingDays {
    type Error = WorkingDaysError;
    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        Self::parse_decimal(d)
    }
}

impl From<WorkingDays> for Decimal {
    fn from(days: WorkingDays) -> Decimal {
        days.0
    }
}

impl serde::Serialize for WorkingDays {
    /// A JSON string in normalized form: `"1"`, `"0.5"`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for WorkingDays {
    /// Accepts a JSON number (`1`, `0.5`) or a string (`"0.5"`).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Visitor)
    }
}

struct Visitor;

impl serde::de::Visitor<'_> for Visitor {
    type Value = WorkingDays;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of working days, as a number or a string (e.g. 1 or \"0.5\")")
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        WorkingDays::parse_decimal(Decimal::from(v)).map_err(E::custom)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        WorkingDays::parse_decimal(Decimal::from(v)).map_err(E::custom)
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if !v.is_finite() {
            return Err(E::custom(WorkingDaysError::NotANumber));
        }
        if v == 0.0 {
            // `-0.0` too: JSON Schema's `minimum: 0` admits it.
            return Ok(WorkingDays::ZERO);
        }
        // Rust prints the shortest decimal that reads back as `v`, so 0.1 stays 0.1.
        let text = v.to_string();
        text.parse::<WorkingDays>().map_err(E::custom)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.parse::<WorkingDays>().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn accepts_whole_and_fractional_days_and_normalizes() {
        assert_eq!(
            WorkingDays::parse_decimal(dec("1.000"))
                .unwrap()
                .to_string(),
            "1"
        );
        assert_eq!(
            WorkingDays::parse_decimal(dec("0.50")).unwrap().to_string(),
            "0.5"
        );
        assert_eq!(
            WorkingDays::parse_decimal(dec("2.125"))
                .unwrap()
                .to_string(),
            "2.125"
        );
        assert_eq!(
            WorkingDays::parse_decimal(dec("0")).unwrap(),
            WorkingDays::ZERO
        );
        assert_eq!(
            WorkingDays::parse_decimal(dec("-0.000")).unwrap(),
            WorkingDays::ZERO
        );
        assert_eq!(
            WorkingDays::parse_decimal(dec("365")).unwrap().to_string(),
            "365"
        );
    }

    #[test]
    fn rejects_negative_too_precise_and_too_large() {
        assert_eq!(
            WorkingDays::parse_decimal(dec("-1")),
            Err(WorkingDaysError::Negative)
        );
        assert_eq!(
            WorkingDays::parse_decimal(dec("0.0001")),
            Err(WorkingDaysError::TooPrecise)
        );
        assert_eq!(
            WorkingDays::parse_decimal(dec("365.001")),
            Err(WorkingDaysError::TooLarge)
        );
        assert_eq!(
            "abc".parse::<WorkingDays>(),
            Err(WorkingDaysError::NotANumber)
        );
        assert_eq!(
            "1e3".parse::<WorkingDays>(),
            Err(WorkingDaysError::NotANumber)
        );
    }

    #[test]
    fn reads_plain_decimal_notation_only() {
        assert_eq!("0.50".parse::<WorkingDays>().unwrap().to_string(), "0.5");
        assert_eq!("007".parse::<WorkingDays>().unwrap().to_string(), "7");
        for odd in ["+1", ".5", "1.", " 1", "1_0", "1,5", "", "-", "0x1"] {
            assert_eq!(
                odd.parse::<WorkingDays>(),
                Err(WorkingDaysError::NotANumber),
                "{odd:?}"
            );
        }
        assert_eq!("-0".parse::<WorkingDays>(), Err(WorkingDaysError::Negative));
        assert_eq!(
            serde_json::from_str::<WorkingDays>("-0.0").unwrap(),
            WorkingDays::ZERO
        );
    }

    #[test]
    fn any_number_of_leading_and_trailing_zeros_is_read() {
        let parse = |s: &str| s.parse::<WorkingDays>();
        assert_eq!(
            parse("00.20000000000000000000000000000000000000").unwrap(),
            parse("0.2").unwrap()
        );
        assert_eq!(
            parse(&format!("{}1.5{}", "0".repeat(40), "0".repeat(40))).unwrap(),
            parse("1.5").unwrap()
        );
        assert_eq!(parse(&"0".repeat(50)).unwrap(), WorkingDays::ZERO);
        assert!(matches!(
            parse(&"9".repeat(40)),
            Err(WorkingDaysError::TooLarge)
        ));
        assert!(matches!(
            parse(&format!("0.{}1", "0".repeat(40))),
            Err(WorkingDaysError::TooPrecise)
        ));
    }

    #[test]
    fn from_int_saturates_at_max() {
        assert_eq!(WorkingDays::from_int(5).as_decimal(), Decimal::from(5));
        assert_eq!(
            WorkingDays::from_int(10_000).as_decimal(),
            Decimal::from(365)
        );
    }

    #[test]
    fn to_duration_is_exact_in_milliseconds() {
        let eight_hours = TimeDelta::hours(8);
        assert_eq!(
            WorkingDays::from_int(3).to_duration(eight_hours),
            TimeDelta::hours(24)
        );
        assert_eq!(
            "0.5"
                .parse::<WorkingDays>()
                .unwrap()
                .to_duration(eight_hours),
            TimeDelta::hours(4)
        );
        // 0.001 × 7 h = 25.2 s exactly.
        assert_eq!(
            "0.001"
                .parse::<WorkingDays>()
                .unwrap()
                .to_duration(TimeDelta::hours(7)),
            TimeDelta::milliseconds(25_200)
        );
        // 0.001 × 1.5 ms = 0.0015 ms → 0 (half-even would give 0 for 0.5, 2 for 2.5).
        assert_eq!(
            "0.001"
                .parse::<WorkingDays>()
                .unwrap()
                .to_duration(TimeDelta::microseconds(1500)),
            TimeDelta::zero()
        );
        // 0.5 × 5 ms = 2.5 ms → 2; 0.5 × 7 ms = 3.5 ms → 4.
        let half = "0.5".parse::<WorkingDays>().unwrap();
        assert_eq!(
            half.to_duration(TimeDelta::milliseconds(5)),
            TimeDelta::milliseconds(2)
        );
        assert_eq!(
            half.to_duration(TimeDelta::milliseconds(7)),
            TimeDelta::milliseconds(4)
        );
        assert_eq!(
            WorkingDays::from_int(365).to_duration(TimeDelta::MAX),
            TimeDelta::MAX
        );
    }

    #[test]
    fn serializes_as_normalized_string() {
        let days = WorkingDays::parse_decimal(dec("1.50")).unwrap();
        assert_eq!(serde_json::to_string(&days).unwrap(), "\"1.5\"");
        assert_eq!(
            serde_json::to_string(&WorkingDays::from_int(1)).unwrap(),
            "\"1\""
        );
    }

    #[test]
    fn deserializes_numbers_and_strings() {
        let parse = |json: &str| serde_json::from_str::<WorkingDays>(json);
        assert_eq!(parse("1").unwrap(), WorkingDays::from_int(1));
        assert_eq!(parse("0.5").unwrap().to_string(), "0.5");
        assert_eq!(parse("0.1").unwrap().to_string(), "0.1");
        assert_eq!(parse("\"0.5\"").unwrap().to_string(), "0.5");
        assert_eq!(parse("\"3.000\"").unwrap(), WorkingDays::from_int(3));
        assert!(parse("-1").is_err());
        assert!(parse("0.0005").is_err());
        assert!(parse("\"x\"").is_err());
        assert!(parse("true").is_err());
        assert!(parse("400").is_err());
    }
}
