//! The SLA monitor, for every subject: warns the holder before a clock is due, records a breach
//! (level-1 supervision, timeline line, mail to the holder and the subject's breach watchers)
//! when a clock passes its due time, and escalates (level-2 supervision, mail to whom the
//! subject escalates to) when a breached clock is still unmet one working day of unpaused
//! working time after its current due time.
//!
//! Candidates are read in batches through the partial indexes `ix_sla_clocks_warn`, `_breach`
//! and `_escalate` ([`clocks::due`]), so a pass costs what is due, not what is open. Each batch
//! is then handled in one short transaction: the subjects are resolved (and locked for share on
//! PostgreSQL) by their type's resolver, the clocks are claimed with one conditional
//! `UPDATE … RETURNING` ([`clocks::claim`]), and everything the claimed clocks write follows
//! (supervisions, timeline, outbox, as multi-row inserts). A second monitor, a restart or a
//! retried pass finds the guard column set and does nothing; the unique index on
//! `supervisions (clock_id, level)` is the second guard. Mail to officials is held until the
//! calendar's next working-hours opening.

use super::{
    clocks::{self, Step},
    subjects::{self, Party, Resolved},
    timeline::{self, Entry, Supervision},
};
use crate::{
    mail::templates::{Template, local_minute as local},
    notify::{Audience, Mail, Notice, Notification, Object, notify_many},
    runner::JobContext,
};
use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    appeal::AppealAction,
    calendar::Calendar,
    enums::{NotificationKind, SubjectType, SupervisionSource},
    sla_clock,
};
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
};
use uuid::Uuid;

/// The monitor's job name.
pub const JOB: &str = "sla_monitor";

/// Clocks read per candidate query.
const BATCH: u64 = 500;

/// Shown for a subject nobody holds yet.
const NO_HOLDER: &str = "（待分派）";
/// What one pass did. A clock overdue before it was warned gets no warning (its breach covers
/// it) and is not counted in `warnings`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Warnings mailed.
    pub warnings: u64,
    /// Breaches recorded.
    pub breaches: u64,
    /// Escalations recorded.
    pub escalations: u64,
    /// Clocks that could not be handled (logged; they are tried again next pass).
    pub failed: u64,
}

impl PassReport {
    /// Warnings, breaches and escalations together.
    pub fn total(&self) -> u64 {
        self.warnings + self.breaches + self.escalations
    }
}

/// One monitor step at `now` with the calendar in effect; fails when some clock could not be
/// handled (after handling all the others).
#[tracing::instrument(skip_all, fields(job = JOB))]
pub async fn run_once(ctx: &JobContext, now: DateTime<Utc>) -> anyhow::Result<u64> {
    // A recompute after a calendar change that was interrupted is finished first.
    clocks::recompute_if_behind(&ctx.db, &ctx.calendar, now).await?;
    let cal = ctx.calendar.current(&ctx.db).await?;
    let report = run_pass(&ctx.db, &cal, now).await?;
    if report.failed > 0 {
        anyhow::bail!(
            "{} clock(s) could not be handled (see the log); {} warning(s), {} breach(es), {} escalation(s) done",
            report.failed,
            report.warnings,
            report.breaches,
            report.escalations
        );
    }
    Ok(report.total())
}

/// Warns, breaches and escalates every clock due at `now`, each at most once.
pub async fn run_pass(
    db: &DatabaseConnection,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Result<PassReport, DbErr> {
    run_pass_observed(db, calendar, now, || async {}).await
}

/// [`run_pass`], calling `between` after each batch of candidates is read and before its
/// transaction starts: where another writer may change a subject (tests show that the holder
/// told is the one when the claim is made).
#[tracing::instrument(skip_all, fields(%now))]
pub async fn run_pass_observed<F, Fut>(
    db: &DatabaseConnection,
    calendar: &Calendar,
    now: DateTime<Utc>,
    mut between: F,
) -> Result<PassReport, DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut report = PassReport::default();
    for step in [Step::Warn, Step::Breach, Step::Escalate] {
        let (done, failed) = run_step(db, calendar, now, step, &mut between).await?;
        match step {
            Step::Warn => report.warnings = done,
            Step::Breach => report.breaches = done,
            Step::Escalate => report.escalations = done,
        }
        report.failed += failed;
    }
    if report.total() + report.failed > 0 {
        tracing::info!(
            warnings = report.warnings,
            breaches = report.breaches,
            escalations = report.escalations,
            failed = report.failed,
            "SLA monitor pass"
        );
    }
    Ok(report)
}

/// Runs one step over all its candidates in keyset-paged batches; returns (done, failed).
#[tracing::instrument(skip_all, fields(step = ?step))]
async fn run_step<F, Fut>(
    db: &DatabaseConnection,
    cal: &Calendar,
    now: DateTime<Utc>,
    step: Step,
    between: &mut F,
) -> Result<(u64, u64), DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let (mut done, mut failed) = (0, 0);
    // Handled clocks leave the candidates; the cursor moves past the ones that failed, so they
    // cannot hold the pass in a loop.
    let mut cursor = None;
    loop {
        let (batch, next) = clocks::due(db, step, now, cursor, BATCH).await?;
        if batch.is_empty() {
            break;
        }
        let full = batch.len() as u64 == BATCH;
        cursor = next;
        // A clock whose stored instant is stale (a recompute after a calendar change is under
        // way) waits for its new times.
        let batch: Vec<sla_clock::Model> = batch
            .into_iter()
            .filter(|c| clocks::still_due(cal, step, c, now))
            .collect();
        between().await;
        match apply(db, cal, now, step, &batch).await {
            Ok((n, missing)) => {
                done += n;
                failed += missing;
            }
            // Without a connection every other batch would fail the same way.
            Err(e @ (DbErr::Conn(_) | DbErr::ConnectionAcquire(_))) => return Err(e),
            Err(e) => {
                failed += batch.len() as u64;
                tracing::error!(error = %e, clocks = batch.len(), "cannot handle a batch of SLA clocks");
            }
        }
        if !full || cursor.is_none() {
            break;
        }
    }
    Ok((done, failed))
}

/// Handles one batch of candidate clocks in one transaction: resolves their subjects (locked
/// for share on PostgreSQL), claims the clocks still due, and writes the supervisions,
/// timeline lines and mails of those it claimed. Returns how many warnings, breaches or
/// escalations it made, and how many clocks had no subject (left unclaimed, logged).
async fn apply(
    db: &DatabaseConnection,
    cal: &Calendar,
    now: DateTime<Utc>,
    step: Step,
    batch: &[sla_clock::Model],
) -> Result<(u64, u64), DbErr> {
    if batch.is_empty() {
        return Ok((0, 0));
    }
    let txn = db.begin().await?;
    let mut by_type: BTreeMap<SubjectType, Vec<Uuid>> = BTreeMap::new();
    for c in batch {
        by_type
            .entry(c.subject_type)
            .or_default()
            .push(c.subject().id);
    }
    let mut resolved: HashMap<(SubjectType, Uuid), Resolved> = HashMap::new();
    for (kind, ids) in by_type {
        for (id, r) in subjects::resolve(&txn, kind, &ids).await? {
            resolved.insert((kind, id), r);
        }
    }
    let key = |c: &sla_clock::Model| (c.subject_type, c.subject().id);
    let (known, orphans): (Vec<_>, Vec<_>) = batch
        .iter()
        .cloned()
        .partition(|c| resolved.contains_key(&key(c)));
    for c in &orphans {
        tracing::error!(clock = %c.id, subject = ?c.subject(), "SLA clock without its subject");
    }
    let claimed = clocks::claim(&txn, cal, step, &known, now).await?;
    let mut supervisions = Vec::new();
    let mut lines = Vec::new();
    let mut notices = Vec::new();
    let mut done = 0;
    for clock in &claimed {
        let Some(s) = resolved.get(&key(clock)) else {
            continue;
        };
        let Some(w) = what(cal, now, step, clock, s) else {
            // A warning of an overdue clock is claimed silently: its breach covers it.
            continue;
        };
        done += 1;
        if let Some((level, action, source, supervision_note, line_note)) = w.supervision {
            supervisions.push(Supervision {
                subject: s.subject,
                clock_id: Some(clock.id),
                level,
                source,
                holder_id: s.holder.as_ref().map(|h| h.id),
                note: Some(supervision_note),
                created_by: None,
                at: now,
            });
            lines.push(Entry {
                subject: s.subject,
                at: now,
                actor_id: None,
                actor_organization_id: None,
                holder_id: s.holder.as_ref().map(|h| h.id),
                action: action.code().to_string(),
                from_status: Some(s.status.clone()),
                to_status: s.status.clone(),
                note: Some(line_note),
                to_holder_id: None,
                visibility: action.visibility(),
            });
            tracing::info!(clock = %clock.id, subject = %s.number, kind = ?clock.kind, level, "SLA supervision recorded");
        }
        // Everyone told is an official: mail held to working hours.
        let title = w
            .template
            .subject()
            .map_err(|e| DbErr::Custom(format!("SLA mail subject: {e}")))?;
        let notice = Notice::new(w.kind, Some(Object::subject(s.subject)), title, w.body);
        for party in w.audience {
            notices.push(
                Notification::new(Audience::organization(party.id), notice.clone())
                    .mail(Mail::office_hours(w.template.clone(), cal)),
            );
        }
    }
    timeline::supervise(&txn, supervisions).await?;
    timeline::record(&txn, lines).await?;
    notify_many(&txn, now, &notices).await?;
    txn.commit().await?;
    Ok((done, orphans.len() as u64))
}

/// What claiming one clock says, and to whom.
struct Outcome {
    /// Level, timeline action, source, supervision note and timeline note (breach, escalation).
    supervision: Option<(i32, AppealAction, SupervisionSource, String, String)>,
    audience: Vec<Party>,
    kind: NotificationKind,
    /// The in-app notification's text (its title is the mail's subject).
    body: String,
    template: Template,
}

/// The outcome of `step` on `clock` of subject `s`; `None` for a warning of an overdue clock.
fn what(
    cal: &Calendar,
    now: DateTime<Utc>,
    step: Step,
    clock: &sla_clock::Model,
    s: &Resolved,
) -> Option<Outcome> {
    let subject_label = clock.subject_type.label_zh().to_string();
    let holder_name = s
        .holder
        .as_ref()
        .map(|h| h.name.clone())
        .unwrap_or_else(|| NO_HOLDER.into());
    let holder: Vec<Party> = s.holder.iter().cloned().collect();
    let label = clock.kind.label_zh();
    let due = local(cal, clock.due_at);
    Some(match step {
        Step::Warn => {
            if clock.due_at <= now {
                return None;
            }
            Outcome {
                supervision: None,
                audience: holder,
                kind: NotificationKind::SlaWarning,
                body: format!(
                    "{holder_name}承办的{subject_label}「{}」{label}时限 {due}，剩余工作时间 {}。",
                    s.title,
                    working_time_text(cal.working_time_between(now, clock.due_at))
                ),
                template: Template::SlaWarning {
                    subject_label,
                    department_name: holder_name,
                    number: s.number.clone(),
                    title: s.title.clone(),
                    clock_label: label.into(),
                    due_at: due,
                    remaining: working_time_text(cal.working_time_between(now, clock.due_at)),
                },
            }
        }
        Step::Breach => Outcome {
            supervision: Some((
                1,
                AppealAction::Breach,
                SupervisionSource::Breach,
                format!("{label}时限已超时"),
                format!("{label}时限 {due} 已超时，自动督办"),
            )),
            audience: holder
                .into_iter()
                .chain(s.breach_watchers.iter().cloned())
                .collect(),
            kind: NotificationKind::SlaBreach,
            body: format!(
                "{holder_name}承办的{subject_label}「{}」{label}时限 {due} 已超时，平台已自动督办。",
                s.title
            ),
            template: Template::SlaBreach {
                subject_label,
                department_name: holder_name,
                number: s.number.clone(),
                title: s.title.clone(),
                clock_label: label.into(),
                due_at: due,
            },
        },
        Step::Escalate => Outcome {
            supervision: Some((
                2,
                AppealAction::Escalation,
                SupervisionSource::Escalation,
                format!("{label}超时一个工作日仍未办理，升级督办"),
                format!("{label}时限 {due} 超时后一个工作日仍未办理，升级督办"),
            )),
            audience: s.escalate_to.clone(),
            kind: NotificationKind::SlaEscalation,
            body: format!(
                "{holder_name}承办的{subject_label}「{}」{label}时限 {due} 超时后一个工作日仍未办理，平台已升级督办。",
                s.title
            ),
            template: Template::SlaEscalation {
                subject_label,
                department_name: holder_name,
                number: s.number.clone(),
                title: s.title.clone(),
                clock_label: label.into(),
                due_at: due,
                breached_at: local(cal, clock.breached_at.unwrap_or(clock.due_at)),
            },
        },
    })
}

/// Working time as mail text: "2 小时", "1 小时 30 分钟", "45 分钟".
fn working_time_text(d: TimeDelta) -> String {
    let minutes = d.num_minutes().max(0);
    match (minutes / 60, minutes % 60) {
        (0, 0) => "不足 1 分钟".into(),
        (0, m) => format!("{m} 分钟"),
        (h, 0) => format!("{h} 小时"),
        (h, m) => format!("{h} 小时 {m} 分钟"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_time_reads_in_hours_and_minutes() {
        assert_eq!(working_time_text(TimeDelta::hours(2)), "2 小时");
        assert_eq!(working_time_text(TimeDelta::minutes(90)), "1 小时 30 分钟");
        assert_eq!(working_time_text(TimeDelta::minutes(45)), "45 分钟");
        assert_eq!(working_time_text(TimeDelta::seconds(30)), "不足 1 分钟");
        assert_eq!(working_time_text(TimeDelta::seconds(-5)), "不足 1 分钟");
    }

    #[test]
    fn local_time_is_in_the_calendar_zone_to_the_minute() {
        let cal = Calendar::new(
            entity::calendar::CalendarSettings::default(),
            std::iter::empty(),
        );
        let t: DateTime<Utc> = "2026-03-03T09:00:30Z".parse().expect("instant");
        assert_eq!(local(&cal, t), "2026-03-03 17:00");
    }
}
