//! Mail templates (Simplified Chinese, plain text and HTML), rendered with minijinja. A template
//! is a typed enum variant carrying its data; the outbox stores the name and the data as JSON.

use minijinja::Environment;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Every mail Liantong sends, with its data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", content = "data", rename_all = "snake_case")]
pub enum Template {
    /// To an enterprise's contact when the enterprise is verified.
    Welcome {
        organization_name: String,
        contact_name: Option<String>,
    },
    /// To the administrators when a job run fails.
    JobFailed {
        job: String,
        slot: String,
        started_at: String,
        error: String,
    },
}

/// A rendered mail.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A template that cannot be rendered or read back.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot render template: {0}")]
    Render(#[from] minijinja::Error),
    #[error("bad template data: {0}")]
    Data(#[from] serde_json::Error),
}

const SOURCES: &[(&str, &str)] = &[
    (
        "welcome.subject.txt",
        include_str!("../../templates/welcome.subject.txt"),
    ),
    ("welcome.txt", include_str!("../../templates/welcome.txt")),
    ("welcome.html", include_str!("../../templates/welcome.html")),
    (
        "job_failed.subject.txt",
        include_str!("../../templates/job_failed.subject.txt"),
    ),
    (
        "job_failed.txt",
        include_str!("../../templates/job_failed.txt"),
    ),
    (
        "job_failed.html",
        include_str!("../../templates/job_failed.html"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // `.html` templates auto-escape (minijinja's default by extension); the sources are
        // compiled into the binary and checked by the unit tests below.
        for (name, src) in SOURCES {
            if let Err(e) = env.add_template(name, src) {
                tracing::error!(template = name, error = %e, "invalid mail template");
            }
        }
        env
    })
}

impl Template {
    /// The stored name (`welcome`, `job_failed`).
    pub fn name(&self) -> &'static str {
        match self {
            Template::Welcome { .. } => "welcome",
            Template::JobFailed { .. } => "job_failed",
        }
    }

    /// The data as stored in the outbox (JSON).
    pub fn data_json(&self) -> Result<String, TemplateError> {
        let v = serde_json::to_value(self)?;
        Ok(serde_json::to_string(&v["data"])?)
    }

    /// Reads a stored template back.
    pub fn from_stored(name: &str, data: &str) -> Result<Self, TemplateError> {
        let data: serde_json::Value = serde_json::from_str(data)?;
        Ok(serde_json::from_value(
            serde_json::json!({"template": name, "data": data}),
        )?)
    }

    fn context(&self) -> Result<serde_json::Value, TemplateError> {
        let v = serde_json::to_value(self)?;
        Ok(v["data"].clone())
    }

    /// The subject line.
    pub fn subject(&self) -> Result<String, TemplateError> {
        let ctx = self.context()?;
        let s = env()
            .get_template(&format!("{}.subject.txt", self.name()))?
            .render(minijinja::value::Serde(&ctx))?;
        // One line, whatever the data holds.
        Ok(s.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// Subject, plain text and HTML.
    pub fn render(&self) -> Result<Rendered, TemplateError> {
        let subject = self.subject()?;
        let mut ctx = self.context()?;
        ctx["subject"] = serde_json::Value::String(subject.clone());
        let text = env()
            .get_template(&format!("{}.txt", self.name()))?
            .render(minijinja::value::Serde(&ctx))?;
        let html = env()
            .get_template(&format!("{}.html", self.name()))?
            .render(minijinja::value::Serde(&ctx))?;
        Ok(Rendered {
            subject,
            text,
            html,
        })
    }
}

/// Cuts `s` to at most `max_chars` and breaks lines longer than `width` characters, so a body
/// stays readable 8-bit text (SMTP limits lines to 998 bytes).
pub fn wrap_lines(s: &str, width: usize, max_chars: usize) -> String {
    let mut out = String::new();
    for (n, line) in s
        .chars()
        .take(max_chars)
        .collect::<String>()
        .lines()
        .enumerate()
    {
        if n > 0 {
            out.push('\n');
        }
        let chars: Vec<char> = line.chars().collect();
        for (i, chunk) in chars.chunks(width.max(1)).enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.extend(chunk);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welcome_renders_chinese_text_and_escaped_html() {
        let t = Template::Welcome {
            organization_name: "苏州<链>科技有限公司".into(),
            contact_name: Some("王经理".into()),
        };
        let r = t.render().expect("renders");
        assert_eq!(
            r.subject,
            "【链通】苏州<链>科技有限公司，您的企业认证已通过"
        );
        assert!(r.text.starts_with("王经理，您好："), "{}", r.text);
        assert!(r.text.contains("苏州<链>科技有限公司"));
        assert!(r.html.contains("苏州&lt;链&gt;科技有限公司"), "{}", r.html);
    }

    #[test]
    fn stored_form_round_trips() {
        let t = Template::JobFailed {
            job: "x".into(),
            slot: "s".into(),
            started_at: "a".into(),
            error: "e".into(),
        };
        let back =
            Template::from_stored(t.name(), &t.data_json().expect("json")).expect("reads back");
        assert_eq!(back, t);
        assert!(back.render().expect("renders").text.contains("后台任务“x”"));
    }

    #[test]
    fn wrap_lines_breaks_long_lines() {
        assert_eq!(wrap_lines("abcdef\ngh", 4, 100), "abcd\nef\ngh");
        assert_eq!(wrap_lines("abcdef", 4, 3), "abc");
    }
}
