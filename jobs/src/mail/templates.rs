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
    /// To a department when an appeal is assigned, transferred or reopened to it
    /// (`action_label`: 分派, 转办, 重办); due times are local time text.
    AppealAssigned {
        department_name: String,
        number: String,
        title: String,
        category_label: String,
        action_label: String,
        reply_due: String,
        close_due: String,
        note: Option<String>,
    },
    /// To a department when the service centre supervises (督办) one of its appeals by hand.
    AppealSupervised {
        department_name: String,
        number: String,
        title: String,
        level: i32,
        note: Option<String>,
    },
    /// To the enterprise when its appeal moves (已响应, 已出具意见, 需补充材料, 已办结).
    AppealUpdate {
        enterprise_name: String,
        number: String,
        title: String,
        action_label: String,
        message: String,
    },
    /// To a bank or an enterprise when a financing request moves (`action_label`: 收到新需求,
    /// 已受理, 需补充材料, 已批准, ...); `due` is the bank's next deadline as local time text.
    FinancingUpdate {
        recipient_name: String,
        number: String,
        enterprise_name: String,
        product_label: String,
        amount: String,
        action_label: String,
        due: Option<String>,
        message: Option<String>,
    },
    /// To the department before a clock's due time (`remaining`: working time, e.g. "2 小时").
    SlaWarning {
        /// What kind of subject it is, as people read it: 诉求, 融资需求, 资金申请.
        #[serde(default = "appeal_label")]
        subject_label: String,
        department_name: String,
        number: String,
        title: String,
        clock_label: String,
        due_at: String,
        remaining: String,
    },
    /// To the department and the service centres when a clock passes its due time.
    SlaBreach {
        /// What kind of subject it is, as people read it: 诉求, 融资需求, 资金申请.
        #[serde(default = "appeal_label")]
        subject_label: String,
        department_name: String,
        number: String,
        title: String,
        clock_label: String,
        due_at: String,
    },
    /// To the chain's office (or the service centres) when a breached clock is still unmet.
    SlaEscalation {
        /// What kind of subject it is, as people read it: 诉求, 融资需求, 资金申请.
        #[serde(default = "appeal_label")]
        subject_label: String,
        department_name: String,
        number: String,
        title: String,
        clock_label: String,
        due_at: String,
        breached_at: String,
    },
    /// To the enterprise (and on expiry its bank) when a credit line is frozen, unfrozen,
    /// closed or expires; amounts are yuan text.
    CreditLineChanged {
        recipient_name: String,
        enterprise_name: String,
        bank_name: String,
        action_label: String,
        status_label: String,
        limit: String,
        outstanding: String,
        expires_on: String,
        note: Option<String>,
    },
    /// To the chain office and the bank when a monthly lead-bank report is ready: a summary,
    /// and the report as a CSV attachment.
    BankReportReady {
        bank_name: String,
        chain_name: String,
        period: String,
        version: i32,
        requests_received: i32,
        accepted_on_time: i32,
        decided_on_time: i32,
        approved_count: i32,
        approved_amount: String,
        rejected_count: i32,
        drawn_amount: String,
        repaid_amount: String,
        outstanding_end: String,
        avg_rate: Option<String>,
        enterprises_served: i32,
        avg_decision_working_hours: Option<String>,
        attachment: MailAttachment,
    },
    /// To an enterprise, a bank or an office when a fund application or a risk claim moves
    /// (`subject_label`: 资金申报, 风险补偿; `action_label`: 初审通过, 公示中, 已拨付, ...);
    /// `due` is the reviewer's next deadline as local time text.
    FundUpdate {
        recipient_name: String,
        subject_label: String,
        number: String,
        program_name: String,
        title: String,
        amount: String,
        action_label: String,
        due: Option<String>,
        message: Option<String>,
    },
    /// To an eligible enterprise when a fund program opens (政策直达), or when an apply-free
    /// award (免申即享) was created for it (`award_number` set).
    PolicyMatch {
        enterprise_name: String,
        program_name: String,
        kind_label: String,
        max_amount: String,
        closes_at: String,
        basis: Vec<String>,
        award_number: Option<String>,
    },
}

/// A file sent with a mail (stored with the template's data in the outbox).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAttachment {
    pub filename: String,
    /// A MIME type, e.g. `text/csv; charset=utf-8`.
    pub content_type: String,
    /// The file's text.
    pub content: String,
}

/// `t` in the calendar's time zone, to the minute ("2026-03-03 17:00"): how mails and
/// notifications show instants.
pub fn local_minute(cal: &entity::calendar::Calendar, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&cal.settings().time_zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Mails queued before the engine named the subject were about appeals.
fn appeal_label() -> String {
    "诉求".into()
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

/// The subject, text and HTML sources of template `name`, compiled in.
macro_rules! sources {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../templates/", $name, ".subject.txt")),
            include_str!(concat!("../../templates/", $name, ".txt")),
            include_str!(concat!("../../templates/", $name, ".html")),
        )
    };
}

/// Each template: name, subject, plain text, HTML.
const SOURCES: &[(&str, &str, &str, &str)] = &[
    sources!("welcome"),
    sources!("job_failed"),
    sources!("appeal_assigned"),
    sources!("appeal_supervised"),
    sources!("appeal_update"),
    sources!("sla_warning"),
    sources!("sla_breach"),
    sources!("sla_escalation"),
    sources!("financing_update"),
    sources!("credit_line_changed"),
    sources!("bank_report_ready"),
    sources!("fund_update"),
    sources!("policy_match"),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // `.html` templates auto-escape (minijinja's default by extension); the sources are
        // compiled into the binary and checked by the unit tests below.
        for (name, subject, text, html) in SOURCES {
            for (suffix, src) in [(".subject.txt", subject), (".txt", text), (".html", html)] {
                let file = format!("{name}{suffix}");
                if let Err(e) = env.add_template_owned(file.clone(), *src) {
                    tracing::error!(template = %file, error = %e, "invalid mail template");
                }
            }
        }
        env
    })
}

impl Template {
    /// The stored name (`welcome`, `job_failed`, ...), also the template files' stem.
    pub fn name(&self) -> &'static str {
        match self {
            Template::Welcome { .. } => "welcome",
            Template::JobFailed { .. } => "job_failed",
            Template::AppealAssigned { .. } => "appeal_assigned",
            Template::AppealSupervised { .. } => "appeal_supervised",
            Template::AppealUpdate { .. } => "appeal_update",
            Template::SlaWarning { .. } => "sla_warning",
            Template::SlaBreach { .. } => "sla_breach",
            Template::SlaEscalation { .. } => "sla_escalation",
            Template::FinancingUpdate { .. } => "financing_update",
            Template::CreditLineChanged { .. } => "credit_line_changed",
            Template::BankReportReady { .. } => "bank_report_ready",
            Template::FundUpdate { .. } => "fund_update",
            Template::PolicyMatch { .. } => "policy_match",
        }
    }

    /// The file the mail carries, if any.
    pub fn attachment(&self) -> Option<&MailAttachment> {
        match self {
            Template::BankReportReady { attachment, .. } => Some(attachment),
            _ => None,
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
    fn fund_mails_render_in_chinese() {
        let t = Template::FundUpdate {
            recipient_name: "某<电子>公司".into(),
            subject_label: "资金申报".into(),
            number: "ZJ20261201-000001".into(),
            program_name: "产业链专项扶持基金".into(),
            title: "智能产线改造".into(),
            amount: "500000.00".into(),
            action_label: "公示中".into(),
            due: None,
            message: Some("公示期至 2026-12-08 17:00".into()),
        };
        let r = t.render().expect("renders");
        assert_eq!(r.subject, "【资金申报】ZJ20261201-000001 公示中");
        assert!(r.text.contains("公示期至 2026-12-08 17:00"), "{}", r.text);
        assert!(r.html.contains("某&lt;电子&gt;公司"), "{}", r.html);
        let t = Template::PolicyMatch {
            enterprise_name: "某公司".into(),
            program_name: "专精特新奖励".into(),
            kind_label: "奖励".into(),
            max_amount: "200000.00".into(),
            closes_at: "2026-12-31 00:00".into(),
            basis: vec!["具备专精特新资格".into()],
            award_number: Some("ZJ20261201-000002".into()),
        };
        let r = t.render().expect("renders");
        assert_eq!(r.subject, "【免申即享】专精特新奖励");
        assert!(r.text.contains("具备专精特新资格"), "{}", r.text);
        let t = Template::PolicyMatch {
            enterprise_name: "某公司".into(),
            program_name: "专精特新奖励".into(),
            kind_label: "奖励".into(),
            max_amount: "200000.00".into(),
            closes_at: "2026-12-31 00:00".into(),
            basis: vec![],
            award_number: None,
        };
        let r = t.render().expect("renders");
        assert_eq!(r.subject, "【政策直达】专精特新奖励 开始申报");
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

    fn appeal_templates() -> Vec<Template> {
        vec![
            Template::AppealAssigned {
                department_name: "市工信局".into(),
                number: "SQ20261123-000001".into(),
                title: "厂房<用电>扩容".into(),
                category_label: "用能".into(),
                action_label: "转办".into(),
                reply_due: "2026-03-03 09:00".into(),
                close_due: "2026-03-09 09:00".into(),
                note: Some("请优先办理".into()),
            },
            Template::AppealSupervised {
                department_name: "市工信局".into(),
                number: "SQ20261123-000001".into(),
                title: "厂房<用电>扩容".into(),
                level: 1,
                note: None,
            },
            Template::AppealUpdate {
                enterprise_name: "苏州链科技有限公司".into(),
                number: "SQ20261123-000001".into(),
                title: "厂房<用电>扩容".into(),
                action_label: "已响应".into(),
                message: "已联系供电公司".into(),
            },
            Template::SlaWarning {
                subject_label: "诉求".into(),
                department_name: "市工信局".into(),
                number: "SQ20261123-000001".into(),
                title: "厂房<用电>扩容".into(),
                clock_label: "响应".into(),
                due_at: "2026-03-03 09:00".into(),
                remaining: "2 小时".into(),
            },
            Template::SlaBreach {
                subject_label: "诉求".into(),
                department_name: "市工信局".into(),
                number: "SQ20261123-000001".into(),
                title: "厂房<用电>扩容".into(),
                clock_label: "响应".into(),
                due_at: "2026-03-03 09:00".into(),
            },
            Template::SlaEscalation {
                subject_label: "诉求".into(),
                department_name: "市工信局".into(),
                number: "SQ20261123-000001".into(),
                title: "厂房<用电>扩容".into(),
                clock_label: "响应".into(),
                due_at: "2026-03-03 09:00".into(),
                breached_at: "2026-03-03 09:00".into(),
            },
        ]
    }

    #[test]
    fn appeal_templates_render_with_number_in_subject_and_escaped_html() {
        for t in appeal_templates() {
            let r = t
                .render()
                .unwrap_or_else(|e| panic!("{} renders: {e}", t.name()));
            assert!(r.subject.contains("SQ20261123-000001"), "{}", r.subject);
            assert!(!r.subject.contains('\n'));
            assert!(r.text.contains("SQ20261123-000001"), "{}", r.text);
            assert!(r.html.contains("&lt;用电&gt;"), "{}", r.html);
            assert!(!r.html.contains("<用电>"), "{}", r.html);
            let back =
                Template::from_stored(t.name(), &t.data_json().expect("json")).expect("reads back");
            assert_eq!(back, t);
        }
    }

    #[test]
    fn the_financing_template_renders_escaped_with_and_without_its_options() {
        for (due, message) in [
            (
                Some("2026-03-03 09:00".to_string()),
                Some("请补充<报表>".to_string()),
            ),
            (None, None),
        ] {
            let t = Template::FinancingUpdate {
                recipient_name: "南通银行".into(),
                number: "RZ20261123-000001".into(),
                enterprise_name: "某<电子>公司".into(),
                product_label: "订单融资".into(),
                amount: "1500000.00".into(),
                action_label: "收到新需求".into(),
                due: due.clone(),
                message: message.clone(),
            };
            let r = t.render().expect("renders");
            assert_eq!(r.subject, "【融资需求】RZ20261123-000001 收到新需求");
            assert!(r.text.contains("1500000.00 元"), "{}", r.text);
            assert!(r.html.contains("某&lt;电子&gt;公司"), "{}", r.html);
            assert_eq!(r.text.contains("办理时限"), due.is_some());
            assert_eq!(r.html.contains("&lt;报表&gt;"), message.is_some());
            let back =
                Template::from_stored(t.name(), &t.data_json().expect("json")).expect("reads back");
            assert_eq!(back, t);
        }
    }

    #[test]
    fn sla_subjects_name_the_clock() {
        let subjects: Vec<String> = appeal_templates()
            .iter()
            .map(|t| t.subject().expect("subject"))
            .collect();
        assert_eq!(
            subjects[3],
            "【临期提醒】诉求 SQ20261123-000001 响应时限将至"
        );
        assert_eq!(subjects[4], "【超时督办】诉求 SQ20261123-000001 响应超时");
        assert_eq!(
            subjects[5],
            "【升级督办】诉求 SQ20261123-000001 响应超时未办"
        );
    }

    #[test]
    fn optional_note_is_left_out_when_absent() {
        let ts = appeal_templates();
        let assigned = ts[0].render().expect("renders");
        assert!(
            assigned.text.contains("说明：请优先办理"),
            "{}",
            assigned.text
        );
        assert!(assigned.text.contains("应答时限：2026-03-03 09:00"));
        let supervised = ts[1].render().expect("renders");
        assert!(!supervised.text.contains("督办意见"), "{}", supervised.text);
        assert!(supervised.text.contains("第 1 级"));
    }

    #[test]
    fn wrap_lines_breaks_long_lines() {
        assert_eq!(wrap_lines("abcdef\ngh", 4, 100), "abcd\nef\ngh");
        assert_eq!(wrap_lines("abcdef", 4, 3), "abc");
    }
}
