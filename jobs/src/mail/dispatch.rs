//! The dispatcher job: claims due outbox rows in batches, renders and sends them, marks them
//! `sent`, or backs off (exponential, with jitter) and finally marks them `failed`.
//!
//! A claim is one short transaction that moves the rows' `next_attempt_at` forward by
//! `claim_timeout` and counts the attempt; sending happens after it commits, so no transaction is
//! open while SMTP talks. Should the dispatcher die mid-send, the rows become due again when the
//! claim runs out and are sent again with the same `Message-ID` (at least once). On PostgreSQL
//! the claim uses `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint batches.

use super::{
    templates::Template,
    transport::{Mailer, SendError},
};
use crate::{MailConfig, runner::JobContext};
use chrono::{DateTime, TimeDelta, Utc};
use entity::mail_outbox::{self, COLUMN as M, MailStatus};
use futures::StreamExt;
use lettre::{
    Message,
    message::{
        Attachment, Body, MultiPart, SinglePart,
        header::{ContentTransferEncoding, ContentType},
    },
};
use rand::Rng;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};
use uuid::Uuid;

/// The dispatcher's job name.
pub const JOB: &str = "mail_dispatch";

/// Batches one step sends at most before giving the slot back.
const MAX_BATCHES_PER_STEP: usize = 50;

/// Sends every due mail (up to a bound); returns how many were sent.
#[tracing::instrument(skip_all, fields(job = JOB))]
pub async fn run_once(ctx: &JobContext, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let cfg = &ctx.config.mail;
    let mut sent = 0;
    for _ in 0..MAX_BATCHES_PER_STEP {
        let batch = claim(&ctx.db, now, cfg.batch_size, cfg.claim_timeout).await?;
        let full = batch.len() as u64 == cfg.batch_size;
        if batch.is_empty() {
            break;
        }
        let results: Vec<(mail_outbox::Model, Result<(), SendError>)> =
            futures::stream::iter(batch)
                .map(|m| async move {
                    let r = send_one(&ctx.mailer, cfg, &m, now).await;
                    (m, r)
                })
                .buffer_unordered(cfg.concurrency.max(1))
                .collect()
                .await;
        sent += record(&ctx.db, cfg, now, results).await?;
        if !full {
            break;
        }
    }
    Ok(sent)
}

/// Claims up to `limit` due pending mails for this dispatcher.
pub async fn claim(
    db: &impl TransactionTrait,
    now: DateTime<Utc>,
    limit: u64,
    claim_timeout: TimeDelta,
) -> Result<Vec<mail_outbox::Model>, DbErr> {
    let txn = db.begin().await?;
    let mut q = mail_outbox::Entity::find()
        .filter(M.status.eq(MailStatus::Pending))
        .filter(M.next_attempt_at.lte(now))
        .order_by_asc(mail_outbox::Column::NextAttemptAt)
        .limit(limit);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = q.all(&txn).await?;
    if !rows.is_empty() {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        mail_outbox::Entity::update_many()
            .col_expr(
                mail_outbox::Column::Attempts,
                Expr::col(mail_outbox::Column::Attempts).add(1),
            )
            .col_expr(
                mail_outbox::Column::NextAttemptAt,
                Expr::val(now + claim_timeout),
            )
            .col_expr(mail_outbox::Column::UpdatedAt, Expr::val(now))
            .filter(M.id.is_in(ids))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(rows
        .into_iter()
        .map(|mut r| {
            r.attempts += 1;
            r
        })
        .collect())
}

/// The message of an outbox row: same `Message-ID` on every attempt.
pub fn build_message(
    cfg: &MailConfig,
    row: &mail_outbox::Model,
    now: DateTime<Utc>,
) -> Result<Message, SendError> {
    let permanent = |message: String| SendError {
        permanent: true,
        message,
    };
    let template =
        Template::from_stored(&row.template, &row.data).map_err(|e| permanent(e.to_string()))?;
    let r = template.render().map_err(|e| permanent(e.to_string()))?;
    let from = cfg
        .from
        .parse()
        .map_err(|e| permanent(format!("invalid from address {:?}: {e}", cfg.from)))?;
    let to = row
        .recipient
        .parse()
        .map_err(|e| permanent(format!("invalid recipient {:?}: {e}", row.recipient)))?;
    let part =
        |ct: ContentType, s: String| SinglePart::builder().header(ct).body(eight_bit_body(s));
    let body = MultiPart::alternative()
        .singlepart(part(ContentType::TEXT_PLAIN, r.text))
        .singlepart(part(ContentType::TEXT_HTML, r.html));
    // With a file: multipart/mixed of the readable alternatives and the attachment.
    let body = match template.attachment() {
        None => body,
        Some(a) => {
            let ct = ContentType::parse(&a.content_type).map_err(|e| {
                permanent(format!("invalid attachment type {:?}: {e}", a.content_type))
            })?;
            MultiPart::mixed()
                .multipart(body)
                .singlepart(Attachment::new(a.filename.clone()).body(a.content.clone(), ct))
        }
    };
    Message::builder()
        .from(from)
        .to(to)
        .subject(r.subject)
        .message_id(Some(row.message_id.clone()))
        .date(now.into())
        .multipart(body)
        .map_err(|e| permanent(format!("cannot build message: {e}")))
}

/// An 8-bit body, so Chinese text stays readable in `.eml` files and on the wire. lettre picks
/// 8-bit only for lines under 76 bytes (about 25 Chinese characters); RFC 5322 allows 998, so
/// the body is built here and falls back to lettre's choice only past that.
fn eight_bit_body(s: String) -> Body {
    let crlf = s.replace("\r\n", "\n").replace('\n', "\r\n");
    // Lines within the limit, and no NUL or lone CR (which would make an 8-bit body invalid).
    let fits = crlf
        .split("\r\n")
        .all(|l| l.len() <= 990 && !l.contains(['\0', '\r']));
    if fits {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
    } else {
        Body::new(s)
    }
}

async fn send_one(
    mailer: &Mailer,
    cfg: &MailConfig,
    row: &mail_outbox::Model,
    now: DateTime<Utc>,
) -> Result<(), SendError> {
    let message = build_message(cfg, row, now)?;
    mailer.send(message).await
}

/// The delay before retry number `attempts + 1`: `base · 2^(attempts-1)` capped at `max`, of
/// which a random half is kept (so retries of many mails spread out, never sooner than half).
pub fn backoff(cfg: &MailConfig, attempts: i32) -> TimeDelta {
    let exp = attempts.saturating_sub(1).clamp(0, 30) as u32;
    let full_ms = cfg
        .backoff_base
        .num_milliseconds()
        .saturating_mul(1i64 << exp);
    let full_ms = Ord::max(Ord::min(full_ms, cfg.backoff_max.num_milliseconds()), 1);
    let half = full_ms / 2;
    TimeDelta::milliseconds(half + rand::thread_rng().gen_range(0..=full_ms - half))
}

async fn record(
    db: &impl ConnectionTrait,
    cfg: &MailConfig,
    now: DateTime<Utc>,
    results: Vec<(mail_outbox::Model, Result<(), SendError>)>,
) -> Result<u64, DbErr> {
    let mut sent_ids = vec![];
    for (row, res) in results {
        match res {
            Ok(()) => sent_ids.push(row.id),
            Err(e) => {
                let give_up = e.permanent || row.attempts >= cfg.max_attempts;
                let message = super::templates::wrap_lines(&e.message, 500, 2000);
                tracing::warn!(mail = %row.id, attempts = row.attempts, give_up, error = %message, "mail not sent");
                let mut am = mail_outbox::ActiveModel {
                    id: sea_orm::ActiveValue::Unchanged(row.id),
                    ..Default::default()
                };
                am.last_error = Set(Some(message));
                am.updated_at = Set(now);
                if give_up {
                    am.status = Set(MailStatus::Failed);
                } else {
                    am.next_attempt_at = Set(now + backoff(cfg, row.attempts));
                }
                mail_outbox::Entity::update(am).exec(db).await?;
            }
        }
    }
    let n = sent_ids.len() as u64;
    if !sent_ids.is_empty() {
        mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::Status, Expr::val(MailStatus::Sent))
            .col_expr(mail_outbox::Column::SentAt, Expr::val(now))
            .col_expr(mail_outbox::Column::UpdatedAt, Expr::val(now))
            .filter(M.id.is_in(sent_ids))
            .exec(db)
            .await?;
    }
    Ok(n)
}

/// Puts a `failed` mail back in the queue with fresh attempts. `None` when no such mail;
/// `Some(Err(status))` when it is not failed.
pub async fn retry(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Result<mail_outbox::Model, MailStatus>>, DbErr> {
    let res = mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::Status, Expr::val(MailStatus::Pending))
        .col_expr(mail_outbox::Column::Attempts, Expr::val(0))
        .col_expr(mail_outbox::Column::NextAttemptAt, Expr::val(now))
        .col_expr(mail_outbox::Column::UpdatedAt, Expr::val(now))
        .filter(M.id.eq(id))
        .filter(M.status.eq(MailStatus::Failed))
        .exec(db)
        .await?;
    let row = mail_outbox::Entity::find_by_id(id).one(db).await?;
    Ok(row.map(|r| {
        if res.rows_affected == 1 {
            Ok(r)
        } else {
            Err(r.status)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> mail_outbox::Model {
        let t = Template::Welcome {
            organization_name: "无锡精密机械有限公司".into(),
            contact_name: None,
        };
        let now = Utc::now();
        mail_outbox::Model {
            id: Uuid::now_v7(),
            message_id: "<abc@liantong.local>".into(),
            template: t.name().into(),
            data: t.data_json().expect("json"),
            recipient: "x@example.cn".into(),
            subject: t.subject().expect("subject"),
            status: MailStatus::Pending,
            attempts: 1,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            updated_at: now,
            sent_at: None,
            user_id: None,
            kind: None,
        }
    }

    #[test]
    fn message_keeps_the_row_message_id_and_readable_chinese_body() {
        let m = build_message(&MailConfig::default(), &row(), Utc::now()).expect("message");
        let raw = String::from_utf8(m.formatted()).expect("utf-8");
        assert!(raw.contains("Message-ID: <abc@liantong.local>"), "{raw}");
        assert!(raw.contains("Content-Transfer-Encoding: 8bit"), "{raw}");
        assert!(
            raw.contains("贵单位“无锡精密机械有限公司”已通过链通产业链服务平台的企业认证。"),
            "{raw}"
        );
    }

    #[test]
    fn a_template_with_a_file_is_sent_as_mixed_with_the_attachment() {
        let t = Template::BankReportReady {
            bank_name: "南通银行".into(),
            chain_name: "船舶海工".into(),
            period: "2026-02".into(),
            version: 1,
            requests_received: 3,
            accepted_on_time: 2,
            decided_on_time: 1,
            approved_count: 1,
            approved_amount: "100.00".into(),
            rejected_count: 0,
            drawn_amount: "0.00".into(),
            repaid_amount: "0.00".into(),
            outstanding_end: "0.00".into(),
            avg_rate: Some("3.45".into()),
            enterprises_served: 2,
            avg_decision_working_hours: None,
            attachment: crate::mail::templates::MailAttachment {
                filename: "report.csv".into(),
                content_type: "text/csv; charset=utf-8".into(),
                content: "period,version\r\n2026-02,1\r\n".into(),
            },
        };
        let mut r = row();
        r.template = t.name().into();
        r.data = t.data_json().expect("json");
        let m = build_message(&MailConfig::default(), &r, Utc::now()).expect("message");
        let raw = String::from_utf8(m.formatted()).expect("utf-8");
        assert!(raw.contains("multipart/mixed"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("attachment; filename=\"report.csv\""), "{raw}");
        assert!(raw.contains("2026-02,1"), "{raw}");
        assert!(raw.contains("加权平均利率 3.45%"), "{raw}");
        // Without a file the message stays a plain alternative.
        let plain = String::from_utf8(
            build_message(&MailConfig::default(), &row(), Utc::now())
                .expect("message")
                .formatted(),
        )
        .expect("utf-8");
        assert!(!plain.contains("multipart/mixed"));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let cfg = MailConfig::default();
        for attempt in 1..=4 {
            let full = 30 * (1 << (attempt - 1));
            for _ in 0..20 {
                let d = backoff(&cfg, attempt).num_milliseconds();
                assert!(
                    d >= full * 500 && d <= full * 1000,
                    "attempt {attempt}: {d}"
                );
            }
        }
        assert!(backoff(&cfg, 30) <= cfg.backoff_max);
        assert!(backoff(&cfg, 30) >= cfg.backoff_max / 2);
    }
}
