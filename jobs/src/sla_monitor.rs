//! The SLA monitor: warns departments before a clock is due, records a breach (level-1
//! supervision, timeline event, mail to the department and the service centres) when a clock
//! passes its due time, and escalates (level-2 supervision, mail to the chain's office) when a
//! breached clock is still unmet one working day later.
//!
//! Candidates are read in batches through the partial indexes `ix_sla_clocks_warn`, `_breach`
//! and `_escalate` (the queries repeat their predicates), so a pass costs what is due, not what
//! is open. A batch is then claimed with one conditional `UPDATE … RETURNING` in one short
//! transaction, together with everything the claimed clocks write (supervisions, timeline,
//! outbox, as multi-row inserts): a second monitor, a restart or a retried pass finds the guard
//! column set and does nothing. The unique index on `supervisions (clock_id, level)` is the
//! second guard. Mail to officials is held until the calendar's next working-hours opening.

use crate::{
    mail::{enqueue_many_for_office, recipients, templates::Template},
    runner::JobContext,
};
use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    appeal, appeal_event,
    calendar::Calendar,
    chain,
    enums::SupervisionSource,
    organization,
    sla::{self, AppealAction},
    sla_clock::{self, COLUMN as C},
    supervision,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
    sea_query::{Expr, OnConflict},
};
use std::collections::HashMap;
use uuid::Uuid;

/// The monitor's job name.
pub const JOB: &str = "sla_monitor";

/// Clocks read per candidate query.
const BATCH: u64 = 500;

/// Shown for an appeal no department holds yet.
const NO_DEPARTMENT: &str = "（待分派）";

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
#[tracing::instrument(skip_all, fields(%now))]
pub async fn run_pass(
    db: &DatabaseConnection,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Result<PassReport, DbErr> {
    let mut report = PassReport::default();
    let mut dir = Directory::default();
    for step in [Step::Warn, Step::Breach, Step::Escalate] {
        let (done, failed) = run_step(db, calendar, now, step, &mut dir).await?;
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Warn,
    Breach,
    Escalate,
}

impl Step {
    /// The instant column the step's partial index orders by.
    fn column(self) -> sla_clock::Column {
        match self {
            Step::Warn => sla_clock::Column::WarnAt,
            Step::Breach => sla_clock::Column::DueAt,
            Step::Escalate => sla_clock::Column::EscalateAt,
        }
    }

    /// That instant of `clock` (`None` only for a clock never breached).
    fn instant(self, clock: &sla_clock::Model) -> Option<DateTime<Utc>> {
        match self {
            Step::Warn => Some(clock.warn_at),
            Step::Breach => Some(clock.due_at),
            Step::Escalate => clock.escalate_at,
        }
    }

    /// Open, unpaused clocks this step has not handled yet and whose instant has come: the
    /// partial index's predicate plus the step's conditions. Also the claim's guard.
    fn due(self, now: DateTime<Utc>) -> Condition {
        let open = Condition::all()
            .add(C.met_at.is_null())
            .add(C.cancelled_at.is_null())
            .add(C.paused_at.is_null());
        match self {
            Step::Warn => open.add(C.warned_at.is_null()).add(C.warn_at.lte(now)),
            Step::Breach => open.add(C.breached_at.is_null()).add(C.due_at.lte(now)),
            Step::Escalate => open
                .add(C.escalated_at.is_null())
                .add(C.escalate_at.is_not_null())
                .add(C.escalate_at.lte(now)),
        }
    }
}

/// Runs one step over all its candidates in keyset-paged batches; returns (done, failed).
#[tracing::instrument(skip_all, fields(step = ?step))]
async fn run_step(
    db: &DatabaseConnection,
    cal: &Calendar,
    now: DateTime<Utc>,
    step: Step,
    dir: &mut Directory,
) -> Result<(u64, u64), DbErr> {
    let (mut done, mut failed) = (0, 0);
    // Handled clocks leave the candidates; the cursor moves past the ones that failed, so they
    // cannot hold the pass in a loop.
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    loop {
        let mut q = sla_clock::Entity::find().filter(step.due(now));
        if let Some((at, id)) = after {
            let col = step.column();
            q = q.filter(
                Condition::any().add(col.gt(at)).add(
                    Condition::all()
                        .add(col.eq(at))
                        .add(sla_clock::Column::Id.gt(id)),
                ),
            );
        }
        let batch = q
            .order_by_asc(step.column())
            .order_by_asc(sla_clock::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = batch.last() else { break };
        after = step.instant(last).map(|at| (at, last.id));
        let full = batch.len() as u64 == BATCH;
        let appeals = appeals_of(db, &batch).await?;
        // Everything a claim writes is prepared first: on SQLite the transaction holds the
        // only writer connection, so names and addresses are looked up before it.
        let mut prepared = Vec::with_capacity(batch.len());
        for clock in &batch {
            match appeals.get(&clock.appeal_id) {
                Some(appeal) => {
                    prepared.push(prepare(db, cal, now, step, clock, appeal, dir).await?)
                }
                None => {
                    failed += 1;
                    tracing::error!(clock = %clock.id, appeal = %clock.appeal_id, "SLA clock without its appeal");
                }
            }
        }
        match apply(db, cal, now, step, prepared).await {
            Ok(n) => done += n,
            // Without a connection every other batch would fail the same way.
            Err(e @ (DbErr::Conn(_) | DbErr::ConnectionAcquire(_))) => return Err(e),
            Err(e) => {
                failed += batch.len() as u64;
                tracing::error!(error = %e, clocks = batch.len(), "cannot handle a batch of SLA clocks");
            }
        }
        if !full || after.is_none() {
            break;
        }
    }
    Ok((done, failed))
}

/// The appeals of a batch of clocks, by id.
async fn appeals_of(
    db: &DatabaseConnection,
    clocks: &[sla_clock::Model],
) -> Result<HashMap<Uuid, appeal::Model>, DbErr> {
    let mut ids: Vec<Uuid> = clocks.iter().map(|c| c.appeal_id).collect();
    ids.sort();
    ids.dedup();
    Ok(appeal::Entity::find()
        .filter(appeal::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// What claiming one clock writes: its supervision and timeline event (breach, escalation)
/// and its mails.
struct Prepared {
    clock: sla_clock::Model,
    appeal: appeal::Model,
    /// `(supervision note, event note)` for a breach or an escalation.
    notes: Option<(String, String)>,
    mails: Vec<(String, Template)>,
    /// Counted as done when claimed (a warning of an overdue clock is claimed silently).
    counts: bool,
}

/// Builds what claiming `clock` will write.
async fn prepare(
    db: &DatabaseConnection,
    cal: &Calendar,
    now: DateTime<Utc>,
    step: Step,
    clock: &sla_clock::Model,
    appeal: &appeal::Model,
    dir: &mut Directory,
) -> Result<Prepared, DbErr> {
    let dept = dir.department(db, appeal.department_id).await?;
    let label = clock.kind.label_zh();
    let due = local(cal, clock.due_at);
    let (notes, mails, counts) = match step {
        Step::Warn => {
            let mail = clock.due_at > now;
            let template = Template::SlaWarning {
                department_name: dept.name.clone(),
                number: appeal.number.clone(),
                title: appeal.title.clone(),
                clock_label: label.into(),
                due_at: due,
                remaining: working_time_text(cal.working_time_between(now, clock.due_at)),
            };
            let mails = if mail {
                dept.mails
                    .iter()
                    .map(|to| (to.clone(), template.clone()))
                    .collect()
            } else {
                Vec::new()
            };
            (None, mails, mail)
        }
        Step::Breach => {
            let mut to = dept.mails.clone();
            to.extend(dir.service_centres(db).await?);
            let template = Template::SlaBreach {
                department_name: dept.name.clone(),
                number: appeal.number.clone(),
                title: appeal.title.clone(),
                clock_label: label.into(),
                due_at: due.clone(),
            };
            let notes = (
                format!("{label}时限已超时"),
                format!("{label}时限 {due} 已超时，自动督办"),
            );
            let mails = sorted_unique(to)
                .into_iter()
                .map(|to| (to, template.clone()))
                .collect();
            (Some(notes), mails, true)
        }
        Step::Escalate => {
            let mut to = match appeal.chain_id {
                Some(chain) => dir.chain_office(db, chain).await?,
                None => Vec::new(),
            };
            if to.is_empty() {
                to = dir.service_centres(db).await?;
            }
            let breached = local(cal, clock.breached_at.unwrap_or(clock.due_at));
            let template = Template::SlaEscalation {
                department_name: dept.name.clone(),
                number: appeal.number.clone(),
                title: appeal.title.clone(),
                clock_label: label.into(),
                due_at: due.clone(),
                breached_at: breached,
            };
            let notes = (
                format!("{label}超时一个工作日仍未办理，升级督办"),
                format!("{label}时限 {due} 超时后一个工作日仍未办理，升级督办"),
            );
            let mails = sorted_unique(to)
                .into_iter()
                .map(|to| (to, template.clone()))
                .collect();
            (Some(notes), mails, true)
        }
    };
    Ok(Prepared {
        clock: clock.clone(),
        appeal: appeal.clone(),
        notes,
        mails,
        counts,
    })
}

/// Claims a batch of clocks with one conditional `UPDATE … RETURNING` and writes, in the same
/// transaction, the supervisions, timeline events and mails of the clocks it claimed (a clock
/// another monitor claimed first is not returned, so nothing is written twice). Returns how
/// many warnings, breaches or escalations it made.
async fn apply(
    db: &DatabaseConnection,
    cal: &Calendar,
    now: DateTime<Utc>,
    step: Step,
    prepared: Vec<Prepared>,
) -> Result<u64, DbErr> {
    if prepared.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = prepared.iter().map(|p| p.clock.id).collect();
    let txn = db.begin().await?;
    let mut claim = sla_clock::Entity::update_many()
        .col_expr(sla_clock::Column::UpdatedAt, Expr::val(now))
        .filter(C.id.is_in(ids))
        .filter(step.due(now));
    claim = match step {
        Step::Warn => claim.col_expr(sla_clock::Column::WarnedAt, Expr::val(now)),
        Step::Breach => {
            // The breach happened at the due time; escalation one working day later, which
            // only the calendar knows: one CASE over the batch.
            let mut case: Option<sea_orm::sea_query::CaseStatement> = None;
            for p in &prepared {
                let at = Expr::val(sla::escalate_at(cal, p.clock.due_at));
                let cond = C.id.eq(p.clock.id);
                case = Some(match case {
                    None => Expr::case(cond, at),
                    Some(c) => c.case(cond, at),
                });
            }
            let escalate: Expr = match case {
                Some(c) => c.finally(Expr::col(sla_clock::Column::EscalateAt)).into(),
                None => Expr::col(sla_clock::Column::EscalateAt),
            };
            claim
                .col_expr(
                    sla_clock::Column::BreachedAt,
                    Expr::col(sla_clock::Column::DueAt),
                )
                .col_expr(sla_clock::Column::EscalateAt, escalate)
        }
        Step::Escalate => claim.col_expr(sla_clock::Column::EscalatedAt, Expr::val(now)),
    };
    let claimed: std::collections::HashSet<Uuid> = claim
        .exec_with_returning(&txn)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let (level, action, source) = match step {
        Step::Escalate => (2, AppealAction::Escalation, SupervisionSource::Escalation),
        _ => (1, AppealAction::Breach, SupervisionSource::Breach),
    };
    let mut supervisions = Vec::new();
    let mut events = Vec::new();
    let mut mails = Vec::new();
    let mut done = 0;
    for p in prepared
        .into_iter()
        .filter(|p| claimed.contains(&p.clock.id))
    {
        if let Some((supervision_note, event_note)) = p.notes {
            supervisions.push(supervision::ActiveModel {
                id: Set(Uuid::now_v7()),
                appeal_id: Set(p.appeal.id),
                clock_id: Set(Some(p.clock.id)),
                level: Set(level),
                source: Set(source),
                department_id: Set(p.appeal.department_id),
                note: Set(Some(supervision_note)),
                created_by: Set(None),
                created_at: Set(now),
            });
            events.push(appeal_event::ActiveModel {
                id: Set(Uuid::now_v7()),
                appeal_id: Set(p.appeal.id),
                at: Set(now),
                actor_id: Set(None),
                actor_organization_id: Set(None),
                department_id: Set(p.appeal.department_id),
                action: Set(action.code().to_string()),
                from_status: Set(Some(p.appeal.status)),
                to_status: Set(p.appeal.status),
                note: Set(Some(event_note)),
                visibility: Set(action.visibility()),
                to_department_id: Set(None),
            });
            tracing::info!(clock = %p.clock.id, appeal = %p.appeal.number, kind = ?p.clock.kind, level, "SLA supervision recorded");
        }
        if p.counts {
            done += 1;
        }
        mails.extend(p.mails);
    }
    if !supervisions.is_empty() {
        supervision::Entity::insert_many(supervisions)
            .on_conflict(
                OnConflict::columns([supervision::Column::ClockId, supervision::Column::Level])
                    .target_and_where(supervision::Column::ClockId.is_not_null())
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        appeal_event::Entity::insert_many(events)
            .exec_without_returning(&txn)
            .await?;
    }
    enqueue_many_for_office(&txn, cal, now, &mails).await?;
    txn.commit().await?;
    Ok(done)
}

/// A department's name and addresses.
#[derive(Clone, Debug)]
struct Party {
    name: String,
    mails: Vec<String>,
}

/// Names and addresses looked up during one pass.
#[derive(Default)]
struct Directory {
    departments: HashMap<Uuid, Party>,
    centres: Option<Vec<String>>,
    offices: HashMap<Uuid, Vec<String>>,
}

impl Directory {
    /// The department holding an appeal (a placeholder without addresses when none does).
    async fn department(
        &mut self,
        db: &DatabaseConnection,
        id: Option<Uuid>,
    ) -> Result<Party, DbErr> {
        let Some(id) = id else {
            return Ok(Party {
                name: NO_DEPARTMENT.into(),
                mails: Vec::new(),
            });
        };
        if let Some(p) = self.departments.get(&id) {
            return Ok(p.clone());
        }
        let name = organization::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|o| o.name)
            .unwrap_or_else(|| NO_DEPARTMENT.into());
        let party = Party {
            name,
            mails: recipients::of_organization(db, id).await?,
        };
        self.departments.insert(id, party.clone());
        Ok(party)
    }

    async fn service_centres(&mut self, db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
        if let Some(c) = &self.centres {
            return Ok(c.clone());
        }
        let c = recipients::of_service_centres(db).await?;
        self.centres = Some(c.clone());
        Ok(c)
    }

    /// The addresses of the chain's office organization.
    async fn chain_office(
        &mut self,
        db: &DatabaseConnection,
        chain: Uuid,
    ) -> Result<Vec<String>, DbErr> {
        if let Some(m) = self.offices.get(&chain) {
            return Ok(m.clone());
        }
        let mails = match chain::Entity::find_by_id(chain).one(db).await? {
            Some(c) => recipients::of_organization(db, c.office_organization_id).await?,
            None => Vec::new(),
        };
        self.offices.insert(chain, mails.clone());
        Ok(mails)
    }
}

fn sorted_unique(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// `t` in the calendar's time zone, to the minute.
fn local(cal: &Calendar, t: DateTime<Utc>) -> String {
    t.with_timezone(&cal.settings().time_zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
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
