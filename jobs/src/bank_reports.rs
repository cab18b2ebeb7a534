//! Lead-bank monthly reports: the figures of a (bank, chain, month), computed with a few
//! aggregate queries for every pair at once, stored as immutable versioned rows, written as CSV,
//! and the monthly job (`bank_reports`) that generates the previous month and mails each report
//! to the chain office and the bank with the CSV attached. The api's `POST /bank-reports/generate`
//! calls the same [`generate`].
//!
//! Months are local months of the calendar's time zone: `[first day 00:00, next first day 00:00)`
//! for instants, `first day ..= last day` for value dates.

use crate::{
    csv::Csv,
    mail::{Template, templates::MailAttachment},
    notify::{Audience, Mail, Notice, Notification, Object, notify_many},
    runner::JobContext,
};
use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use entity::{
    bank_report::{self, Column as B},
    calendar::Calendar,
    chain, chain_bank,
    enums::{ClockKind, FinancingStatus, MovementKind, NotificationKind},
    money::{Money, Rate, round_half_even},
    organization,
};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, SqlErr, Statement, TransactionSession,
    TransactionTrait, Value,
};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The monthly job's name.
pub const JOB: &str = "bank_reports";

/// Attempts at a version number when another generator takes the same one meanwhile.
const VERSION_ATTEMPTS: usize = 5;

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    first: NaiveDate,
}

impl Period {
    /// Parses exactly `YYYY-MM` (month 01–12, year 1900–9999).
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 7
            || b[4] != b'-'
            || !s[..4]
                .bytes()
                .chain(s[5..].bytes())
                .all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let year: i32 = s[..4].parse().ok()?;
        let month: u32 = s[5..].parse().ok()?;
        if year < 1900 {
            return None;
        }
        NaiveDate::from_ymd_opt(year, month, 1).map(|first| Self { first })
    }

    /// The month containing `date`.
    pub fn of(date: NaiveDate) -> Self {
        Self {
            first: date.with_day(1).unwrap_or(date),
        }
    }

    /// The month before the local month of `now`.
    pub fn previous(now: DateTime<Utc>, tz: Tz) -> Self {
        let this = Self::of(now.with_timezone(&tz).date_naive());
        Self {
            first: this
                .first
                .checked_sub_months(Months::new(1))
                .unwrap_or(this.first),
        }
    }

    /// Whether the month has ended by `now` (local time).
    pub fn is_past(&self, now: DateTime<Utc>, tz: Tz) -> bool {
        *self < Self::of(now.with_timezone(&tz).date_naive())
    }

    /// The first day.
    pub fn first_day(&self) -> NaiveDate {
        self.first
    }

    /// The first day of the next month.
    pub fn next_first_day(&self) -> NaiveDate {
        self.first
            .checked_add_months(Months::new(1))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The last day.
    pub fn last_day(&self) -> NaiveDate {
        self.next_first_day().pred_opt().unwrap_or(self.first)
    }

    /// `[start, end)` as instants in `tz`.
    pub fn bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let at = |d: NaiveDate| {
            tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| d.and_time(NaiveTime::MIN).and_utc())
        };
        (at(self.first), at(self.next_first_day()))
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.first.year(), self.first.month())
    }
}

/// The figures of one (bank, chain, month); amounts in fen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub requests_received: i64,
    pub accepted_on_time: i64,
    pub decided_on_time: i64,
    pub approved_count: i64,
    pub approved_amount_fen: i64,
    pub rejected_count: i64,
    pub drawn_amount_fen: i64,
    pub repaid_amount_fen: i64,
    pub outstanding_end_fen: i64,
    pub avg_rate: Option<Rate>,
    pub enterprises_served: i64,
    pub avg_decision_working_hours: Option<Decimal>,
}

/// Bound parameters of a raw statement, numbered for the backend (`$n`, `?n`).
struct Params {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Params {
    fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: vec![],
        }
    }

    /// Binds `v` and returns its placeholder.
    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        // Numbered on both, so a placeholder may appear anywhere and more than once.
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => format!("?{}", self.values.len()),
        }
    }

    fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

#[derive(Debug, FromQueryResult)]
struct RequestRow {
    bank_id: Uuid,
    chain_id: Uuid,
    received: i64,
    served: i64,
    accepted_on_time: i64,
    decided_on_time: i64,
}

#[derive(Debug, FromQueryResult)]
struct ApprovalRow {
    bank_id: Uuid,
    chain_id: Uuid,
    rate_e4: i64,
    n: i64,
    amount: i64,
}

#[derive(Debug, FromQueryResult)]
struct DecisionRow {
    bank_id: Uuid,
    chain_id: Uuid,
    rejected: i64,
    timed: i64,
    seconds: i64,
}

#[derive(Debug, FromQueryResult)]
struct MovementRow {
    bank_id: Uuid,
    chain_id: Uuid,
    drawn: i64,
    repaid: i64,
    balance: i64,
}

/// The figures of `period` for every (bank, chain) with activity, of `bank` only when given.
pub async fn compute(
    conn: &impl ConnectionTrait,
    period: Period,
    tz: Tz,
    bank: Option<Uuid>,
) -> Result<HashMap<(Uuid, Uuid), Figures>, DbErr> {
    let backend = conn.get_database_backend();
    let (start, end) = period.bounds(tz);
    let mut out: HashMap<(Uuid, Uuid), Figures> = HashMap::new();

    // Requests received, enterprises served, and the on-time answers of the latest round.
    let mut p = Params::new(backend);
    let on_time = |p: &mut Params, kind: ClockKind| {
        let k1 = p.bind(kind.to_value());
        let k2 = p.bind(kind.to_value());
        format!(
            "CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM sla_clocks c \
               WHERE c.financing_request_id = r.id AND c.kind = {k1} \
               AND c.met_at IS NOT NULL AND c.met_at <= c.due_at \
               AND c.round = (SELECT MAX(c2.round) FROM sla_clocks c2 \
                 WHERE c2.financing_request_id = r.id AND c2.kind = {k2})) \
             THEN 1 ELSE 0 END), 0) AS BIGINT)"
        )
    };
    let accepted = on_time(&mut p, ClockKind::Accept);
    let decided = on_time(&mut p, ClockKind::Decide);
    let (s, e) = (p.bind(start), p.bind(end));
    let mut sql = format!(
        "SELECT r.bank_id, r.chain_id, COUNT(*) AS received, \
         COUNT(DISTINCT r.enterprise_id) AS served, {accepted} AS accepted_on_time, \
         {decided} AS decided_on_time FROM financing_requests r \
         WHERE r.submitted_at >= {s} AND r.submitted_at < {e}"
    );
    if let Some(b) = bank {
        sql += &format!(" AND r.bank_id = {}", p.bind(b));
    }
    sql += " GROUP BY r.bank_id, r.chain_id";
    for r in RequestRow::find_by_statement(p.statement(sql))
        .all(conn)
        .await?
    {
        let f = out.entry((r.bank_id, r.chain_id)).or_default();
        f.requests_received = r.received;
        f.enterprises_served = r.served;
        f.accepted_on_time = r.accepted_on_time;
        f.decided_on_time = r.decided_on_time;
    }

    // Lines approved, by rate (so the weighted mean stays exact in decimal).
    let mut p = Params::new(backend);
    let (s, e) = (p.bind(start), p.bind(end));
    let mut sql = format!(
        "SELECT bank_id, chain_id, rate_e4, COUNT(*) AS n, \
         CAST(SUM(limit_fen) AS BIGINT) AS amount FROM credit_lines \
         WHERE approved_at >= {s} AND approved_at < {e}"
    );
    if let Some(b) = bank {
        sql += &format!(" AND bank_id = {}", p.bind(b));
    }
    sql += " GROUP BY bank_id, chain_id, rate_e4";
    let mut rates: HashMap<(Uuid, Uuid), Vec<(Rate, i64)>> = HashMap::new();
    for r in ApprovalRow::find_by_statement(p.statement(sql))
        .all(conn)
        .await?
    {
        let f = out.entry((r.bank_id, r.chain_id)).or_default();
        f.approved_count += r.n;
        f.approved_amount_fen += r.amount;
        rates
            .entry((r.bank_id, r.chain_id))
            .or_default()
            .push((Rate::from_e4(r.rate_e4), r.amount));
    }
    for (pair, items) in rates {
        if let Some(f) = out.get_mut(&pair) {
            f.avg_rate = Rate::weighted_mean(items);
        }
    }

    // Decisions: rejections and the working time to decide.
    let mut p = Params::new(backend);
    let rejected = p.bind(FinancingStatus::Rejected.to_value());
    let rejected2 = p.bind(FinancingStatus::Rejected.to_value());
    let approved = p.bind(FinancingStatus::Approved.to_value());
    let (s, e) = (p.bind(start), p.bind(end));
    let mut sql = format!(
        "SELECT bank_id, chain_id, \
         CAST(SUM(CASE WHEN status = {rejected} THEN 1 ELSE 0 END) AS BIGINT) AS rejected, \
         COUNT(decision_working_seconds) AS timed, \
         CAST(COALESCE(SUM(decision_working_seconds), 0) AS BIGINT) AS seconds \
         FROM financing_requests WHERE status IN ({rejected2}, {approved}) \
         AND decided_at >= {s} AND decided_at < {e}"
    );
    if let Some(b) = bank {
        sql += &format!(" AND bank_id = {}", p.bind(b));
    }
    sql += " GROUP BY bank_id, chain_id";
    for r in DecisionRow::find_by_statement(p.statement(sql))
        .all(conn)
        .await?
    {
        let f = out.entry((r.bank_id, r.chain_id)).or_default();
        f.rejected_count = r.rejected;
        if r.timed > 0 {
            f.avg_decision_working_hours = Some(round_half_even(
                Decimal::from(r.seconds) / Decimal::from(r.timed) / Decimal::from(3600),
                2,
            ));
        }
    }

    // The ledger: drawn and repaid within the month net of reversals booked in it, and the
    // balance at its end, from the movements themselves.
    let mut p = Params::new(backend);
    let draw = p.bind(MovementKind::Drawdown.to_value());
    let repay = p.bind(MovementKind::Repayment.to_value());
    let first = p.bind(period.first_day());
    let last = p.bind(period.last_day());
    // +amount for a drawdown (or the reversal of a repayment), -amount otherwise; `o` is the
    // reversed movement of a reversal.
    let signed = format!(
        "CASE WHEN m.kind = {draw} OR o.kind = {repay} THEN m.amount_fen ELSE -m.amount_fen END"
    );
    let in_month = |kind: &str| {
        format!(
            "CAST(COALESCE(SUM(CASE WHEN m.value_date >= {first} AND COALESCE(o.kind, m.kind) = {kind} \
             THEN (CASE WHEN m.reverses_id IS NULL THEN m.amount_fen ELSE -m.amount_fen END) \
             ELSE 0 END), 0) AS BIGINT)"
        )
    };
    let (drawn, repaid) = (in_month(&draw), in_month(&repay));
    let mut sql = format!(
        "SELECT l.bank_id, l.chain_id, {drawn} AS drawn, {repaid} AS repaid, \
         CAST(COALESCE(SUM({signed}), 0) AS BIGINT) AS balance \
         FROM credit_movements m JOIN credit_lines l ON l.id = m.line_id \
         LEFT JOIN credit_movements o ON o.id = m.reverses_id \
         WHERE m.value_date <= {last}"
    );
    if let Some(b) = bank {
        sql += &format!(" AND l.bank_id = {}", p.bind(b));
    }
    sql += " GROUP BY l.bank_id, l.chain_id";
    for r in MovementRow::find_by_statement(p.statement(sql))
        .all(conn)
        .await?
    {
        let f = out.entry((r.bank_id, r.chain_id)).or_default();
        f.drawn_amount_fen = r.drawn;
        f.repaid_amount_fen = r.repaid;
        f.outstanding_end_fen = r.balance;
    }
    Ok(out)
}

/// The (bank, chain) pairs of `chain_banks`, of `bank` only when given.
pub async fn pairs(
    conn: &impl ConnectionTrait,
    bank: Option<Uuid>,
) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    use chain_bank::Column as CB;
    let mut q = chain_bank::Entity::find()
        .select_only()
        .columns([CB::OrganizationId, CB::ChainId])
        .order_by_asc(CB::OrganizationId)
        .order_by_asc(CB::ChainId);
    if let Some(b) = bank {
        q = q.filter(CB::OrganizationId.eq(b));
    }
    q.into_tuple().all(conn).await
}

fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Generates `period`'s report for every (bank, chain) pair (of `bank` when given): each a new
/// version of its (bank, chain, period). Two generators racing for a version: the loser takes
/// the next one (inside a savepoint), never a duplicate.
pub async fn generate<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    period: Period,
    tz: Tz,
    now: DateTime<Utc>,
    bank: Option<Uuid>,
    generated_by: Option<Uuid>,
) -> Result<Vec<bank_report::Model>, DbErr> {
    let figures = compute(conn, period, tz, bank).await?;
    let mut out = vec![];
    for (bank_id, chain_id) in pairs(conn, bank).await? {
        let f = figures
            .get(&(bank_id, chain_id))
            .cloned()
            .unwrap_or_default();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let latest = bank_report::Entity::find()
                .select_only()
                .column(B::Version)
                .filter(B::BankId.eq(bank_id))
                .filter(B::ChainId.eq(chain_id))
                .filter(B::Period.eq(period.to_string()))
                .order_by_desc(B::Version)
                .into_tuple::<i32>()
                .one(conn)
                .await?;
            let row = bank_report::Model {
                id: Uuid::now_v7(),
                bank_id,
                chain_id,
                period: period.to_string(),
                version: latest.unwrap_or(0) + 1,
                requests_received: count(f.requests_received),
                accepted_on_time: count(f.accepted_on_time),
                decided_on_time: count(f.decided_on_time),
                approved_count: count(f.approved_count),
                approved_amount_fen: f.approved_amount_fen,
                rejected_count: count(f.rejected_count),
                drawn_amount_fen: f.drawn_amount_fen,
                repaid_amount_fen: f.repaid_amount_fen,
                outstanding_end_fen: f.outstanding_end_fen,
                avg_rate: f.avg_rate.map(|r| r.to_string()),
                enterprises_served: count(f.enterprises_served),
                avg_decision_working_hours: f.avg_decision_working_hours.map(|h| h.to_string()),
                generated_at: now,
                generated_by,
            };
            let sp = conn.begin().await?;
            let am = bank_report::ActiveModel {
                id: Set(row.id),
                bank_id: Set(row.bank_id),
                chain_id: Set(row.chain_id),
                period: Set(row.period.clone()),
                version: Set(row.version),
                requests_received: Set(row.requests_received),
                accepted_on_time: Set(row.accepted_on_time),
                decided_on_time: Set(row.decided_on_time),
                approved_count: Set(row.approved_count),
                approved_amount_fen: Set(row.approved_amount_fen),
                rejected_count: Set(row.rejected_count),
                drawn_amount_fen: Set(row.drawn_amount_fen),
                repaid_amount_fen: Set(row.repaid_amount_fen),
                outstanding_end_fen: Set(row.outstanding_end_fen),
                avg_rate: Set(row.avg_rate.clone()),
                enterprises_served: Set(row.enterprises_served),
                avg_decision_working_hours: Set(row.avg_decision_working_hours.clone()),
                generated_at: Set(row.generated_at),
                generated_by: Set(row.generated_by),
            };
            match bank_report::Entity::insert(am)
                .exec_without_returning(&sp)
                .await
            {
                Ok(_) => {
                    sp.commit().await?;
                    out.push(row);
                    break;
                }
                Err(e)
                    if attempt < VERSION_ATTEMPTS
                        && matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
                {
                    sp.rollback().await?;
                }
                Err(e) => {
                    sp.rollback().await?;
                    return Err(e);
                }
            }
        }
    }
    Ok(out)
}

/// The CSV field names, in order (also the JSON field names).
pub const CSV_HEADER: &[&str] = &[
    "id",
    "bank_id",
    "chain_id",
    "period",
    "version",
    "requests_received",
    "accepted_on_time",
    "decided_on_time",
    "approved_count",
    "approved_amount",
    "rejected_count",
    "drawn_amount",
    "repaid_amount",
    "outstanding_end",
    "avg_rate",
    "enterprises_served",
    "avg_decision_working_hours",
    "generated_at",
];

/// A report as CSV: the header row and one row, amounts in yuan.
pub fn to_csv(r: &bank_report::Model) -> String {
    let mut csv = Csv::new().header(CSV_HEADER);
    csv.text(&r.id.to_string())
        .text(&r.bank_id.to_string())
        .text(&r.chain_id.to_string())
        .text(&r.period)
        .number(r.version)
        .number(r.requests_received)
        .number(r.accepted_on_time)
        .number(r.decided_on_time)
        .number(r.approved_count)
        .number(Money::from_fen(r.approved_amount_fen))
        .number(r.rejected_count)
        .number(Money::from_fen(r.drawn_amount_fen))
        .number(Money::from_fen(r.repaid_amount_fen))
        .number(Money::from_fen(r.outstanding_end_fen))
        .opt_number(r.avg_rate.as_deref())
        .number(r.enterprises_served)
        .opt_number(r.avg_decision_working_hours.as_deref())
        .text(
            &r.generated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .end_line();
    csv.finish()
}

/// The CSV's file name.
pub fn csv_filename(r: &bank_report::Model) -> String {
    // Short: a long name is folded into RFC 2231 continuations some mail clients mangle.
    format!("bank-report-{}-v{}.csv", r.period, r.version)
}

/// Generates the previous month's reports and notifies, per report, the chain office and the
/// bank (mail with the CSV attached), all in one transaction.
#[tracing::instrument(skip_all, fields(job = JOB))]
pub async fn run_once(ctx: &JobContext, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let cal = ctx.calendar.current(&ctx.db).await?;
    let tz = cal.settings().time_zone;
    let period = Period::previous(now, tz);
    let txn = ctx.db.begin().await?;
    let reports = generate(&txn, period, tz, now, None, None).await?;
    let notices = notifications(&txn, &cal, &reports).await?;
    notify_many(&txn, now, &notices).await?;
    txn.commit().await?;
    tracing::info!(period = %period, reports = reports.len(), "bank reports generated");
    Ok(reports.len() as u64)
}

/// The notices of new reports: to the chain's office and to the bank, each with the summary and
/// the CSV attached.
pub async fn notifications<'a>(
    conn: &impl ConnectionTrait,
    cal: &'a Calendar,
    reports: &[bank_report::Model],
) -> Result<Vec<Notification<'a>>, DbErr> {
    let chains: BTreeMap<Uuid, (String, Uuid)> = chain::Entity::find()
        .filter(chain::Column::Id.is_in(reports.iter().map(|r| r.chain_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.name, c.office_organization_id)))
        .collect();
    let banks: BTreeMap<Uuid, String> = organization::Entity::find()
        .select_only()
        .columns([organization::Column::Id, organization::Column::Name])
        .filter(organization::Column::Id.is_in(reports.iter().map(|r| r.bank_id)))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut out = vec![];
    for r in reports {
        let Some((chain_name, office)) = chains.get(&r.chain_id) else {
            continue;
        };
        let bank_name = banks.get(&r.bank_id).cloned().unwrap_or_default();
        let money = |fen| Money::from_fen(fen).to_string();
        let template = Template::BankReportReady {
            bank_name: bank_name.clone(),
            chain_name: chain_name.clone(),
            period: r.period.clone(),
            version: r.version,
            requests_received: r.requests_received,
            accepted_on_time: r.accepted_on_time,
            decided_on_time: r.decided_on_time,
            approved_count: r.approved_count,
            approved_amount: money(r.approved_amount_fen),
            rejected_count: r.rejected_count,
            drawn_amount: money(r.drawn_amount_fen),
            repaid_amount: money(r.repaid_amount_fen),
            outstanding_end: money(r.outstanding_end_fen),
            avg_rate: r.avg_rate.clone(),
            enterprises_served: r.enterprises_served,
            avg_decision_working_hours: r.avg_decision_working_hours.clone(),
            attachment: MailAttachment {
                filename: csv_filename(r),
                content_type: "text/csv; charset=utf-8".into(),
                content: to_csv(r),
            },
        };
        let notice = Notice::new(
            NotificationKind::BankReportReady,
            Some(Object::bank_report(r.id)),
            format!("{bank_name} · {chain_name} {} 月度报告", r.period),
            format!(
                "收到融资需求 {} 笔，批准 {} 笔共 {} 元，月末贷款余额 {} 元。",
                r.requests_received,
                r.approved_count,
                money(r.approved_amount_fen),
                money(r.outstanding_end_fen)
            ),
        );
        for org in [*office, r.bank_id] {
            out.push(
                Notification::new(Audience::organization(org), notice.clone())
                    .mail(Mail::office_hours(template.clone(), cal)),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_strictly_and_bound_local_months() {
        assert_eq!(
            Period::parse("2026-03").map(|p| p.to_string()).as_deref(),
            Some("2026-03")
        );
        for bad in [
            "2026-3",
            "2026-13",
            "2026-00",
            "26-03",
            "2026/03",
            "2026-03-01",
            "0999-01",
            "２０２６-03",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        let p = Period::parse("2026-02").expect("period");
        assert_eq!(
            p.last_day(),
            NaiveDate::from_ymd_opt(2026, 2, 28).expect("date")
        );
        let (s, e) = p.bounds(chrono_tz::Asia::Shanghai);
        assert_eq!(s.to_rfc3339(), "2026-01-31T16:00:00+00:00");
        assert_eq!(e.to_rfc3339(), "2026-02-28T16:00:00+00:00");
        // 2026-03-01 02:00 in Shanghai is still February in UTC, but March locally.
        let now: DateTime<Utc> = "2026-02-28T18:00:00Z".parse().expect("instant");
        assert_eq!(Period::previous(now, chrono_tz::Asia::Shanghai), p);
        assert!(p.is_past(now, chrono_tz::Asia::Shanghai));
        assert!(
            !Period::parse("2026-03")
                .expect("p")
                .is_past(now, chrono_tz::Asia::Shanghai)
        );
    }
}
