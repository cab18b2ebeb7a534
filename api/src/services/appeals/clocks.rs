//! The appeal's SLA clocks: the category's policy, creating, meeting, rescheduling and
//! recomputing them.

#[allow(unused_imports)]
use super::*;

/// The current SLA policy of a category (defaults when the row is missing).
pub struct Policy {
    pub reply: WorkingDays,
    pub opinion: WorkingDays,
    pub close: WorkingDays,
    pub warn_before_hours: WorkingDays,
}

impl Policy {
    pub(super) fn of(row: Option<&sla_policy::Model>) -> Self {
        Self::of_days(row.map(|p| {
            [
                p.reply_working_days.as_str(),
                p.opinion_working_days.as_str(),
                p.close_working_days.as_str(),
                p.warn_before_working_hours.as_str(),
            ]
        }))
    }

    /// From a policy row's reply, opinion, close and warning amounts; `None`: no row, the
    /// defaults 1/3/5 days and 2 hours.
    pub(super) fn of_days(days: Option<[&str; 4]>) -> Self {
        match days {
            Some([reply, opinion, close, warn]) => Self {
                reply: days_of(reply),
                opinion: days_of(opinion),
                close: days_of(close),
                warn_before_hours: days_of(warn),
            },
            None => Self {
                reply: WorkingDays::from_int(1),
                opinion: WorkingDays::from_int(3),
                close: WorkingDays::from_int(5),
                warn_before_hours: WorkingDays::from_int(2),
            },
        }
    }

    fn target(&self, kind: ClockKind) -> WorkingDays {
        match kind {
            ClockKind::Reply => self.reply,
            ClockKind::Opinion => self.opinion,
            ClockKind::Close => self.close,
        }
    }
}

pub(super) async fn policy(
    conn: &impl ConnectionTrait,
    category: AppealCategory,
) -> AppResult<Policy> {
    let row = sla_policy::Entity::find_by_id(category).one(conn).await?;
    Ok(Policy::of(row.as_ref()))
}

pub(super) fn clock_row(
    cal: &Calendar,
    appeal_id: Uuid,
    kind: ClockKind,
    round: i32,
    start: DateTime<Utc>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> sla_clock::ActiveModel {
    let spec = ClockSpec {
        start,
        target: policy.target(kind),
        extension: WorkingDays::ZERO,
        paused: TimeDelta::zero(),
        warn_before_hours: policy.warn_before_hours,
    };
    let times = spec.times(cal);
    sla_clock::ActiveModel {
        id: Set(Uuid::now_v7()),
        appeal_id: Set(appeal_id),
        kind: Set(kind),
        round: Set(round),
        start_at: Set(start),
        target_working_days: Set(spec.target.to_string()),
        extension_working_days: Set("0".into()),
        warn_before_working_hours: Set(spec.warn_before_hours.to_string()),
        paused_working_seconds: Set(0),
        paused_at: Set(None),
        due_at: Set(times.due_at),
        warn_at: Set(times.warn_at),
        met_at: Set(None),
        warned_at: Set(None),
        breached_at: Set(None),
        escalate_at: Set(None),
        escalated_at: Set(None),
        cancelled_at: Set(None),
        updated_at: Set(now),
    }
}

/// The stored inputs of a clock.
pub(super) fn spec_of(c: &sla_clock::Model) -> ClockSpec {
    ClockSpec {
        start: c.start_at,
        target: days_of(&c.target_working_days),
        extension: days_of(&c.extension_working_days),
        paused: TimeDelta::seconds(c.paused_working_seconds),
        warn_before_hours: days_of(&c.warn_before_working_hours),
    }
}

pub(super) async fn clocks_of(
    conn: &impl ConnectionTrait,
    appeal: Uuid,
) -> AppResult<Vec<sla_clock::Model>> {
    Ok(rows::all(
        conn,
        sla_clock::Entity::find()
            .filter(sla_clock::Column::AppealId.eq(appeal))
            .order_by_asc(sla_clock::Column::Round)
            .order_by_asc(sla_clock::Column::Kind),
    )
    .await?)
}

pub(super) fn is_open(c: &sla_clock::Model) -> bool {
    c.met_at.is_none() && c.cancelled_at.is_none()
}

/// Saves a clock with new inputs and the due/warning times they give.
pub(super) async fn reschedule(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    c: sla_clock::Model,
    spec: ClockSpec,
    paused_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let times = spec.times(cal);
    // A breach stays a fact; its pending escalation follows the clock.
    let escalate_at = (c.breached_at.is_some() && c.escalated_at.is_none())
        .then_some(times.escalate_at)
        .or(c.escalate_at);
    let mut am: sla_clock::ActiveModel = c.into();
    am.extension_working_days = Set(spec.extension.to_string());
    am.paused_working_seconds = Set(spec.paused.num_seconds());
    am.paused_at = Set(paused_at);
    am.due_at = Set(times.due_at);
    am.warn_at = Set(times.warn_at);
    am.escalate_at = Set(escalate_at);
    am.updated_at = Set(now);
    am.update(conn).await?;
    Ok(())
}

/// Marks the open clocks of `kinds` met at `now`.
pub(super) async fn meet(
    conn: &impl ConnectionTrait,
    appeal: Uuid,
    kinds: &[ClockKind],
    now: DateTime<Utc>,
) -> AppResult<()> {
    sla_clock::Entity::update_many()
        .col_expr(sla_clock::Column::MetAt, Expr::val(now))
        .col_expr(sla_clock::Column::UpdatedAt, Expr::val(now))
        .filter(sla_clock::Column::AppealId.eq(appeal))
        .filter(sla_clock::Column::Kind.is_in(kinds.iter().copied()))
        .filter(sla_clock::Column::MetAt.is_null())
        .filter(sla_clock::Column::CancelledAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Recomputes the due and warning times of every unmet clock after a calendar change, in the
/// caller's transaction. Breaches already recorded stay (a breach is a fact); clocks whose
/// appeal waits for the enterprise keep counting their finished pauses.
pub async fn recompute_clocks(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let mut after: Option<Uuid> = None;
    let mut changed = 0;
    loop {
        // Breached clocks too, until they escalate: their escalation follows the calendar.
        let mut q = sla_clock::Entity::find()
            .filter(sla_clock::Column::MetAt.is_null())
            .filter(sla_clock::Column::CancelledAt.is_null())
            .filter(sla_clock::Column::EscalatedAt.is_null())
            .order_by_asc(sla_clock::Column::Id)
            .limit(RECOMPUTE_BATCH);
        if let Some(last) = after {
            q = q.filter(sla_clock::Column::Id.gt(last));
        }
        let batch = q.all(conn).await?;
        let Some(last) = batch.last().map(|c| c.id) else {
            break;
        };
        after = Some(last);
        let n = batch.len() as u64;
        for c in batch {
            let spec = spec_of(&c);
            let times = spec.times(cal);
            let escalation_moves =
                c.breached_at.is_some() && c.escalate_at != Some(times.escalate_at);
            if times.due_at != c.due_at || times.warn_at != c.warn_at || escalation_moves {
                let paused_at = c.paused_at;
                reschedule(conn, cal, c, spec, paused_at, now).await?;
                changed += 1;
            }
        }
        if n < RECOMPUTE_BATCH {
            break;
        }
    }
    Ok(changed)
}
