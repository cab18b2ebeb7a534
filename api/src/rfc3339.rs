//! Serializes instants exactly as chrono's `Serialize for DateTime<Utc>` does
//! (`2026-11-23T02:00:00Z`, `…T02:00:00.123Z`, `.123456Z` or `.123456789Z`: the shortest of 0, 3,
//! 6 or 9 fraction digits that is exact), but into a stack buffer instead of through
//! `core::fmt`. A 50-appeal page carries ~600 instants; chrono's path was a tenth of the
//! request's CPU. Years outside 0000–9999 and leap seconds go through chrono unchanged.
//!
//! Use with `#[serde(serialize_with = "crate::rfc3339::utc")]` (or `option_utc`).

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

fn two(buf: &mut [u8], at: usize, v: u32) {
    buf[at] = b'0' + (v / 10) as u8;
    buf[at + 1] = b'0' + (v % 10) as u8;
}

/// Writes `t` into `buf`, returning the length; `None` when chrono must do it.
fn write(t: &DateTime<Utc>, buf: &mut [u8; 30]) -> Option<usize> {
    let year = t.year();
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let y = year as u32;
    two(buf, 0, y / 100);
    two(buf, 2, y % 100);
    buf[4] = b'-';
    two(buf, 5, t.month());
    buf[7] = b'-';
    two(buf, 8, t.day());
    buf[10] = b'T';
    two(buf, 11, t.hour());
    buf[13] = b':';
    two(buf, 14, t.minute());
    buf[16] = b':';
    two(buf, 17, t.second());
    let mut len = 19;
    let digits = if nanos == 0 {
        0
    } else if nanos.is_multiple_of(1_000_000) {
        3
    } else if nanos.is_multiple_of(1_000) {
        6
    } else {
        9
    };
    if digits > 0 {
        buf[len] = b'.';
        len += 1;
        let mut v = nanos / 10u32.pow(9 - digits);
        for i in (0..digits as usize).rev() {
            buf[len + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        len += digits as usize;
    }
    buf[len] = b'Z';
    Some(len + 1)
}

/// `serialize_with` for `DateTime<Utc>`.
pub fn utc<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match write(t, &mut buf) {
        // Only ASCII digits and separators were written.
        Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
        None => serde::Serialize::serialize(t, s),
    }
}

/// `serialize_with` for `Option<DateTime<Utc>>`.
pub fn option_utc<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => utc(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn ours(t: &DateTime<Utc>) -> String {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::new(&mut out);
        utc(t, &mut ser).unwrap_or_default();
        String::from_utf8(out).unwrap_or_default()
    }

    fn chronos(t: &DateTime<Utc>) -> String {
        serde_json::to_string(t).unwrap_or_default()
    }

    #[test]
    fn matches_chrono_on_fixed_instants() {
        let base = Utc
            .with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
            .single()
            .unwrap_or_default();
        for nanos in [0, 123_000_000, 123_456_000, 123_456_789, 1, 999_999_999] {
            let t = base + chrono::TimeDelta::nanoseconds(nanos);
            assert_eq!(ours(&t), chronos(&t), "{nanos}");
        }
        assert_eq!(ours(&base), "\"2026-11-23T02:00:00Z\"");
        let far = Utc
            .with_ymd_and_hms(12026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(ours(&far), chronos(&far));
    }

    proptest! {
        #[test]
        fn matches_chrono(secs in -62_000_000_000i64..300_000_000_000i64, nanos in 0u32..1_000_000_000, pick in 0u8..4) {
            // Fractions of every length chrono distinguishes.
            let nanos = match pick { 0 => 0, 1 => nanos / 1_000_000 * 1_000_000, 2 => nanos / 1_000 * 1_000, _ => nanos };
            if let Some(t) = DateTime::<Utc>::from_timestamp(secs, nanos) {
                prop_assert_eq!(ours(&t), chronos(&t));
            }
        }
    }
}
