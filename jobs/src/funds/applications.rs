//! Creating fund applications (an enterprise's, or an apply-free award), their review clocks,
//! timeline lines and notifications: one place for the api's actions and the jobs.

use crate::{
    engine::{
        Subject,
        clocks::{self, NewClock},
        timeline::Entry,
    },
    mail::{Template, templates::local_minute},
    notify::{Audience, Mail, Notice, Object, name_of, notify},
    numbering::{self, Series},
};
use chrono::{DateTime, Utc};
use entity::{
    calendar::Calendar,
    enums::{ClockKind, FundStatus, NotificationKind as Kind, OrgKind, Role},
    fund_application::{self, FundAction, title_key},
    fund_program,
    money::Money,
    sla_clock,
    working_days::WorkingDays,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Working hours before a review deadline when the reviewer is warned.
pub const WARN_BEFORE_HOURS: u32 = 4;

/// What a new application carries.
#[derive(Clone, Debug)]
pub struct NewApplication {
    pub enterprise_id: Uuid,
    /// The chain the enterprise is eligible through.
    pub chain_id: Option<Uuid>,
    /// `None`: an apply-free award.
    pub submitted_by: Option<Uuid>,
    pub amount_fen: i64,
    pub project_title: String,
    pub description: String,
}

/// The review clock of `kind` for `program` in `round`.
pub fn review_clock(program: &fund_program::Model, kind: ClockKind, round: i32) -> NewClock {
    NewClock {
        kind,
        round,
        target: WorkingDays::from_int(program.review_working_days.max(1) as u32),
        warn_before_hours: WorkingDays::from_int(WARN_BEFORE_HOURS),
    }
}

/// The program's year: its opening's local year (the duplicate-funding guard compares it).
pub fn program_year(cal: &Calendar, program: &fund_program::Model) -> i32 {
    use chrono::Datelike;
    cal.local_date(program.opens_at).year()
}

/// An approved (or paid) application of the same enterprise and project title in another
/// program of the same year (就高不重复): the reviewers see it as a flag.
pub async fn duplicate_of(
    conn: &impl ConnectionTrait,
    a: &fund_application::Model,
) -> Result<Option<Uuid>, DbErr> {
    use fund_application::Column as F;
    Ok(fund_application::Entity::find()
        .filter(F::EnterpriseId.eq(a.enterprise_id))
        .filter(F::TitleKey.eq(a.title_key.clone()))
        .filter(F::Year.eq(a.year))
        .filter(F::ProgramId.ne(a.program_id))
        .filter(F::Status.is_in([FundStatus::Approved, FundStatus::Disbursed]))
        .one(conn)
        .await?
        .map(|d| d.id))
}

/// Creates an application with its first review clock and timeline line: an enterprise's
/// starts in initial review; an apply-free award (`submitted_by: None`) is already past it and
/// starts in final review. The caller has checked eligibility, the window and the amount; the
/// one-live-application rule is the database's unique index.
pub async fn insert(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    program: &fund_program::Model,
    new: NewApplication,
    actor_organization_id: Option<Uuid>,
) -> Result<(fund_application::Model, Vec<sla_clock::Model>), DbErr> {
    let award = new.submitted_by.is_none();
    let id = Uuid::now_v7();
    let number = numbering::next(conn, cal, now, Series::Fund).await?;
    let mut row = fund_application::Model {
        id,
        number,
        program_id: program.id,
        enterprise_id: new.enterprise_id,
        chain_id: new.chain_id,
        submitted_by: new.submitted_by,
        amount_fen: new.amount_fen,
        title_key: title_key(&new.project_title),
        project_title: new.project_title,
        description: new.description,
        status: if award {
            FundStatus::InitialPassed
        } else {
            FundStatus::Submitted
        },
        apply_free: award,
        recommended_amount_fen: None,
        approved_amount_fen: None,
        reserved_fen: 0,
        disbursed_fen: 0,
        notice_ends_at: None,
        duplicate_funding_flag: false,
        duplicate_of: None,
        year: program_year(cal, program),
        round: 0,
        submitted_at: now,
        initial_reviewed_at: award.then_some(now),
        final_reviewed_at: None,
        approved_at: None,
        withdrawn_at: None,
        updated_at: now,
    };
    row.duplicate_of = duplicate_of(conn, &row).await?;
    row.duplicate_funding_flag = row.duplicate_of.is_some();
    let saved = fund_application::ActiveModel::from(row.clone())
        .reset_all()
        .insert(conn)
        .await?;
    let kind = if award {
        ClockKind::FinalReview
    } else {
        ClockKind::InitialReview
    };
    let started = clocks::start(
        conn,
        cal,
        Subject::fund_application(id),
        now,
        &[review_clock(program, kind, 0)],
        now,
    )
    .await?;
    let action = if award {
        FundAction::Award
    } else {
        FundAction::Submit
    };
    crate::engine::timeline::record(
        conn,
        vec![entry(
            &saved,
            new.submitted_by,
            actor_organization_id,
            now,
            action,
            None,
            None,
        )],
    )
    .await?;
    Ok((saved, started))
}

/// The timeline line of `action` on `a` (in its new status) by `actor` (`None`: the jobs).
pub fn entry(
    a: &fund_application::Model,
    actor: Option<Uuid>,
    actor_organization_id: Option<Uuid>,
    now: DateTime<Utc>,
    action: FundAction,
    from: Option<FundStatus>,
    note: Option<String>,
) -> Entry {
    Entry {
        subject: Subject::fund_application(a.id),
        at: now,
        actor_id: actor,
        actor_organization_id,
        holder_id: None,
        action: action.code().into(),
        from_status: from.map(FundStatus::code),
        to_status: a.status.code(),
        note,
        to_holder_id: None,
        visibility: action.visibility(),
    }
}

/// The amount an application is about now: approved, else recommended, else requested.
pub fn current_amount(a: &fund_application::Model) -> Money {
    Money::from_fen(
        a.approved_amount_fen
            .or(a.recommended_amount_fen)
            .unwrap_or(a.amount_fen),
    )
}

/// What an application event tells, to whom it is.
#[derive(Clone, Debug)]
pub struct Tell {
    pub kind: Kind,
    /// What the mail says happened (初审通过, 公示中, ...).
    pub action_label: String,
    pub message: Option<String>,
}

impl Tell {
    pub fn new(kind: Kind, action_label: &str, message: Option<String>) -> Self {
        Self {
            kind,
            action_label: action_label.into(),
            message,
        }
    }

    fn notice(&self, a: &fund_application::Model) -> Notice {
        let body = match &self.message {
            Some(m) => format!("{}：{m}", self.action_label),
            None => format!("{}。", self.action_label),
        };
        Notice::new(
            self.kind,
            Some(Object::fund_application(a.id)),
            format!("{}：{} {}", self.kind.label_zh(), a.number, a.project_title),
            body,
        )
    }

    fn template(
        &self,
        a: &fund_application::Model,
        program: &fund_program::Model,
        recipient_name: String,
        due: Option<String>,
    ) -> Template {
        Template::FundUpdate {
            recipient_name,
            subject_label: "资金申报".into(),
            number: a.number.clone(),
            program_name: program.name.clone(),
            title: a.project_title.clone(),
            amount: current_amount(a).to_string(),
            action_label: self.action_label.clone(),
            due,
            message: self.message.clone(),
        }
    }
}

/// Tells the enterprise (the user who applied, or its users for an award or once that user is
/// gone; mail at once).
pub async fn tell_enterprise(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    a: &fund_application::Model,
    program: &fund_program::Model,
    tell: Tell,
) -> Result<(), DbErr> {
    let audience = match a.submitted_by {
        Some(u) => Audience::User(u),
        None => Audience::organization_roles(a.enterprise_id, &[Role::Enterprise]),
    };
    let name = name_of(conn, a.enterprise_id).await?;
    notify(
        conn,
        now,
        audience,
        tell.notice(a),
        Some(Mail::now(tell.template(a, program, name, None))),
    )
    .await?;
    Ok(())
}

/// Tells the reviewers of the stage the application is in now — the office of its chain in
/// initial review, the fund offices in final review and in notice — with their deadline (mail
/// held to working hours).
pub async fn tell_reviewers(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    a: &fund_application::Model,
    program: &fund_program::Model,
    open: &[sla_clock::Model],
    tell: Tell,
) -> Result<(), DbErr> {
    let due = open
        .iter()
        .filter(|c| clocks::is_open(c))
        .min_by_key(|c| c.due_at)
        .map(|c| format!("{}前{}", local_minute(cal, c.due_at), c.kind.label_zh()));
    let (audience, name) = match a.status {
        FundStatus::Submitted | FundStatus::Returned => {
            let Some(chain) = a.chain_id else {
                return Ok(());
            };
            let Some(c) = entity::chain::Entity::find_by_id(chain).one(conn).await? else {
                return Ok(());
            };
            (
                Audience::organization_roles(c.office_organization_id, &[Role::ChainOffice]),
                name_of(conn, c.office_organization_id).await?,
            )
        }
        _ => (
            Audience::OrganizationsOfKind(OrgKind::FundOffice),
            "资金主管部门".to_string(),
        ),
    };
    let mut notice = tell.notice(a);
    if let Some(d) = &due {
        notice.body.push_str(&format!("办理时限：{d}。"));
    }
    notify(
        conn,
        now,
        audience,
        notice,
        Some(Mail::office_hours(
            tell.template(a, program, name, due),
            cal,
        )),
    )
    .await?;
    Ok(())
}
