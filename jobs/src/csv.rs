//! The one CSV writer of every export: RFC 4180 lines (CRLF, fields with a comma, quote or line
//! break quoted) and formula-injection protection as OWASP recommends — a text cell that starts
//! with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so Excel and WPS
//! show it as text instead of running it. Numbers the system computed are written as they are.
//! It lives in `jobs` so the reports the jobs mail and the api's downloads share one writer.

/// A CSV document being written.
#[derive(Debug, Default)]
pub struct Csv {
    out: String,
    fields_in_line: usize,
}

impl Csv {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// A header row.
    pub fn header(mut self, names: &[&str]) -> Self {
        for name in names {
            self.text(name);
        }
        self.end_line();
        self
    }

    /// A text cell (a name, a title, a code): neutralized when it could start a formula.
    pub fn text(&mut self, value: &str) -> &mut Self {
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            self.raw(&format!("'{value}"))
        } else {
            self.raw(value)
        }
    }

    /// An optional text cell; `None` is an empty field.
    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        self.text(value.unwrap_or_default())
    }

    /// A number the system computed (an integer or a decimal string). Anything else is
    /// treated as text, so a mistake can never open a formula.
    pub fn number(&mut self, value: impl ToString) -> &mut Self {
        let v = value.to_string();
        let numeric = !v.is_empty()
            && v.strip_prefix('-')
                .unwrap_or(&v)
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.');
        if numeric { self.raw(&v) } else { self.text(&v) }
    }

    /// An optional number; `None` is an empty field.
    pub fn opt_number(&mut self, value: Option<impl ToString>) -> &mut Self {
        match value {
            Some(v) => self.number(v),
            None => self.raw(""),
        }
    }

    /// Ends the current line.
    pub fn end_line(&mut self) -> &mut Self {
        self.out.push_str("\r\n");
        self.fields_in_line = 0;
        self
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }

    fn raw(&mut self, f: &str) -> &mut Self {
        if self.fields_in_line > 0 {
            self.out.push(',');
        }
        self.fields_in_line += 1;
        if f.contains([',', '"', '\n', '\r']) {
            self.out.push('"');
            self.out.push_str(&f.replace('"', "\"\""));
            self.out.push('"');
        } else {
            self.out.push_str(f);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_quotes_and_breaks_are_quoted() {
        let mut csv = Csv::new();
        csv.text("a,b").text("say \"hi\"").text("plain").end_line();
        assert_eq!(csv.finish(), "\"a,b\",\"say \"\"hi\"\"\",plain\r\n");
    }

    #[test]
    fn formula_cells_are_neutralized() {
        let mut csv = Csv::new();
        for cell in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            csv.text(cell);
        }
        csv.end_line();
        assert_eq!(
            csv.finish(),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+cmd|' /C calc'!A0,'-2+3,'@SUM(A1),'\tx,\"'\rx\"\r\n"
        );
    }

    #[test]
    fn numbers_stay_numbers_and_anything_else_is_text() {
        let mut csv = Csv::new();
        csv.number(12)
            .number("0.6667")
            .number(-30)
            .number("-2+3")
            .opt_number(None::<i64>)
            .end_line();
        assert_eq!(csv.finish(), "12,0.6667,-30,'-2+3,\r\n");
    }
}
