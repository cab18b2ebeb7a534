//! Small input checks that collect every problem of a request into one 422.

use crate::error::{AppError, AppResult, FieldError};
use chrono::{DateTime, NaiveDate, Utc};
use entity::money::{Money, Rate};

/// The first date the API accepts or answers.
pub const MIN_DATE: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date");
/// The last date the API accepts or answers.
pub const MAX_DATE: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

/// A date within 1900-01-01..=9999-12-31, else 422 on `field`.
pub fn date_in_range(field: &str, d: NaiveDate) -> AppResult<NaiveDate> {
    if (MIN_DATE..=MAX_DATE).contains(&d) {
        Ok(d)
    } else {
        Err(AppError::invalid(field, out_of_range()))
    }
}

/// An instant within 1900-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z, else 422 on `field`.
pub fn instant_in_range(field: &str, t: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    date_in_range(field, t.date_naive()).map(|_| t)
}

fn out_of_range() -> String {
    format!("must be between {MIN_DATE} and {MAX_DATE}")
}

/// Collects field errors; `finish` turns them into a 422 when there are any.
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    /// A new, empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem with `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// A required free text of at most `max` characters as sent, not blank: line breaks and tabs
    /// are allowed, other control characters are not. Returns it trimmed.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        self.required(field, value, max, TextKind::Free)
    }

    /// An optional free text: blank becomes `None`.
    pub fn opt_text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        self.optional(field, value, max, TextKind::Free)
    }

    /// A required single-line text (a name, a code): no control characters at all.
    pub fn line(&mut self, field: &str, value: &str, max: usize) -> String {
        self.required(field, value, max, TextKind::Line)
    }

    /// An optional single-line text: blank becomes `None`.
    pub fn opt_line(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        self.optional(field, value, max, TextKind::Line)
    }

    fn required(&mut self, field: &str, value: &str, max: usize, kind: TextKind) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.add(field, "must not be empty");
        } else {
            self.shape(field, value, v, max, kind);
        }
        v.to_string()
    }

    fn optional(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
        kind: TextKind,
    ) -> Option<String> {
        let raw = value?;
        let v = raw.trim();
        if v.is_empty() {
            // Blank is no value, but still no longer than the limit.
            self.shape(field, raw, v, max, kind);
            return None;
        }
        self.shape(field, raw, v, max, kind);
        Some(v.to_string())
    }

    /// The limit counts the characters as sent, surrounding whitespace included (so it is
    /// exactly the `maxLength` of the API description); the characters are checked on the
    /// trimmed value.
    fn shape(&mut self, field: &str, raw: &str, v: &str, max: usize, kind: TextKind) {
        if let Some(message) = kind.refusal(v) {
            self.add(field, message);
        } else if raw.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    /// A date within 1900-01-01..=9999-12-31.
    pub fn date(&mut self, field: &str, d: NaiveDate) {
        if !(MIN_DATE..=MAX_DATE).contains(&d) {
            self.add(field, out_of_range());
        }
    }

    /// An optional e-mail address.
    pub fn opt_email(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        if !is_email(v) {
            self.add(field, "is not a valid e-mail address");
        }
        Some(v.to_string())
    }

    /// An amount of money as the contract sends it: a decimal string of yuan with at most two
    /// places (`"1500000.00"`). A JSON number, a missing value, an empty or non-numeric string,
    /// three places or a negative amount are recorded against `field`; with `positive`, zero too.
    pub fn money(
        &mut self,
        field: &str,
        value: &serde_json::Value,
        positive: bool,
    ) -> Option<Money> {
        let s = self.decimal_text(field, value, "\"1500000.00\"")?;
        let parsed = if positive {
            Money::parse_positive(s)
        } else {
            Money::parse(s)
        };
        self.check(field, parsed)
    }

    /// An optional amount: `null` or absent is `None`.
    pub fn opt_money(&mut self, field: &str, value: &serde_json::Value) -> Option<Option<Money>> {
        if value.is_null() {
            return Some(None);
        }
        self.money(field, value, true).map(Some)
    }

    /// A yearly rate in percent as a decimal string (`"3.45"`): more than 0, at most 100, at
    /// most four places.
    pub fn rate(&mut self, field: &str, value: &serde_json::Value) -> Option<Rate> {
        let s = self.decimal_text(field, value, "\"3.45\"")?;
        self.check(field, Rate::parse(s))
    }

    fn decimal_text<'v>(
        &mut self,
        field: &str,
        value: &'v serde_json::Value,
        example: &str,
    ) -> Option<&'v str> {
        match value {
            serde_json::Value::String(s) => Some(s.as_str()),
            serde_json::Value::Null => {
                self.add(field, "is required");
                None
            }
            serde_json::Value::Number(_) => {
                self.add(
                    field,
                    format!("must be a decimal string such as {example}, not a JSON number"),
                );
                None
            }
            _ => {
                self.add(field, format!("must be a decimal string such as {example}"));
                None
            }
        }
    }

    /// Merges a result, recording its error.
    pub fn check<T>(&mut self, field: &str, r: Result<T, impl std::fmt::Display>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    /// `Ok` when nothing was recorded, else a 422 with every problem.
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

/// What a text field may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Free text: line breaks (LF, CR LF) and tabs, no other control character.
    Free,
    /// A name, username or code: no control character at all.
    Line,
}

impl TextKind {
    /// Why `v` is refused, if it is.
    pub fn refusal(self, v: &str) -> Option<&'static str> {
        let mut chars = v.chars().peekable();
        while let Some(ch) = chars.next() {
            if !ch.is_control() {
                continue;
            }
            let allowed = self == Self::Free
                && (ch == '\n' || ch == '\t' || (ch == '\r' && chars.peek() == Some(&'\n')));
            if !allowed {
                return Some(match self {
                    Self::Free => {
                        "must not contain control characters other than line breaks and tabs"
                    }
                    Self::Line => "must not contain control characters or line breaks",
                });
            }
        }
        None
    }
}

/// A pragmatic e-mail check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(v: &str) -> bool {
    if v.len() > 254 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_the_text_as_sent() {
        let mut c = Checks::new();
        assert_eq!(c.line("name", "  南通  ", 6), "南通");
        assert_eq!(c.opt_line("region", Some("   "), 3), None);
        assert!(c.finish().is_ok());
        let mut c = Checks::new();
        c.line("name", "  南通  ", 5);
        c.opt_text("note", Some(&"\r\n".repeat(51)), 100);
        let Err(AppError::Validation(errs)) = c.finish() else {
            panic!("padded values past the limit are refused");
        };
        assert_eq!(
            errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["name", "note"]
        );
    }

    #[test]
    fn emails() {
        assert!(is_email("zhang.san@example.cn"));
        assert!(!is_email("zhang san@example.cn"));
        assert!(!is_email("nobody@localhost"));
        assert!(!is_email("a@b@c.cn"));
    }

    #[test]
    fn control_characters() {
        assert_eq!(TextKind::Free.refusal("两行\r\n第二行\t制表"), None);
        assert!(TextKind::Free.refusal("nul\0").is_some());
        assert!(TextKind::Free.refusal("cr\ronly").is_some());
        assert!(TextKind::Free.refusal("esc\u{1b}[0m").is_some());
        assert!(TextKind::Free.refusal("c1\u{85}").is_some());
        assert!(TextKind::Line.refusal("a\nb").is_some());
        assert_eq!(TextKind::Line.refusal("南通船舶海工产业链"), None);
    }
}
