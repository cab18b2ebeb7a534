//! The public notice (公示): the applications in notice, readable without signing in; objections
//! by any signed-in user while the notice runs; the fund office's decision on each. An upheld
//! objection rejects the application and releases its reservation once; dismissing the last
//! pending objection after the notice's end approves it at once.

use super::applications::{ObjectionView, load_for_update};
use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
};
use chrono::{DateTime, Utc};
use entity::{
    enums::{
        EventVisibility, FundStatus, NotificationKind as Kind, ObjectionStatus, OrgKind, Role,
    },
    fund_application::{self, Column as F, FundAction},
    fund_program,
    money::Money,
    objection, organization,
};
use jobs::{
    engine::timeline,
    funds::{
        applications::{Tell, entry, tell_enterprise},
        budget,
        notices::approve_if_ended,
    },
    mail::{Template, templates::local_minute},
    notify::{Audience, Mail, Notice, Object, notify},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// One application in public notice.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicNotice {
    pub application_id: Uuid,
    pub number: String,
    pub enterprise_name: String,
    pub program_id: Uuid,
    pub program_name: String,
    pub project_title: String,
    #[schema(value_type = String, example = "400000.00")]
    pub amount: Money,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub notice_ends_at: DateTime<Utc>,
}

/// `GET /public-notices` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct NoticeFilter {
    pub program_id: Option<Uuid>,
}

/// The applications in notice (no sign-in needed), oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &NoticeFilter,
    page: &PageQuery,
) -> AppResult<Page<PublicNotice>> {
    let mut q = fund_application::Entity::find().filter(F::Status.eq(FundStatus::InNotice));
    if let Some(p) = filter.program_id {
        q = q.filter(F::ProgramId.eq(p));
    }
    let page = pagination::fetch(conn, q, F::Id, page, |a: &fund_application::Model| a.id).await?;
    let (programs, orgs): (HashMap<Uuid, String>, HashMap<Uuid, String>) = if page.items.is_empty()
    {
        Default::default()
    } else {
        (
            fund_program::Entity::find()
                .select_only()
                .columns([fund_program::Column::Id, fund_program::Column::Name])
                .filter(fund_program::Column::Id.is_in(page.items.iter().map(|a| a.program_id)))
                .into_tuple::<(Uuid, String)>()
                .all(conn)
                .await?
                .into_iter()
                .collect(),
            organization::Entity::find()
                .select_only()
                .columns([organization::Column::Id, organization::Column::Name])
                .filter(organization::Column::Id.is_in(page.items.iter().map(|a| a.enterprise_id)))
                .into_tuple::<(Uuid, String)>()
                .all(conn)
                .await?
                .into_iter()
                .collect(),
        )
    };
    Ok(page.map(|a| PublicNotice {
        application_id: a.id,
        enterprise_name: orgs.get(&a.enterprise_id).cloned().unwrap_or_default(),
        program_name: programs.get(&a.program_id).cloned().unwrap_or_default(),
        program_id: a.program_id,
        amount: Money::from_fen(a.approved_amount_fen.unwrap_or(a.amount_fen)),
        notice_ends_at: a.notice_ends_at.unwrap_or(a.updated_at),
        number: a.number,
        project_title: a.project_title,
    }))
}

/// `POST /fund-applications/{id}/objections`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObjection {
    #[schema(min_length = 1, max_length = 10000)]
    pub content: String,
}

/// Objects to an application in notice (any signed-in user, while the notice runs).
pub async fn object(
    conn: &impl ConnectionTrait,
    cal: &entity::calendar::Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    input: NewObjection,
) -> AppResult<ObjectionView> {
    let content = super::text("content", &input.content)?;
    // A notice is public: anyone may object to an application in it. Outside the notice the
    // application is as visible as ever, and invisible ones stay 404.
    let mut q = fund_application::Entity::find_by_id(id);
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_shared();
    }
    let a = q.one(conn).await?.ok_or(AppError::NotFound)?;
    if a.status != FundStatus::InNotice {
        let visible = fund_application::Entity::find_by_id(id)
            .filter(scope::fund_applications(actor))
            .one(conn)
            .await?
            .is_some();
        return Err(if visible {
            AppError::conflict(
                "not_in_notice",
                format!(
                    "the application is {}, not in public notice",
                    a.status.code()
                ),
            )
        } else {
            AppError::NotFound
        });
    }
    let ends = a.notice_ends_at.unwrap_or(now);
    if now >= ends {
        return Err(AppError::conflict(
            "notice_ended",
            format!("the public notice ended at {}", local_minute(cal, ends)),
        ));
    }
    let o = objection::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(a.id),
        content: Set(content.clone()),
        raised_by: Set(actor.id),
        raised_by_organization_id: Set(actor.organization_id),
        raised_at: Set(now),
        status: Set(ObjectionStatus::Pending),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_note: Set(None),
    }
    .insert(conn)
    .await?;
    // The enterprise sees that an objection came, not what it says or who raised it.
    let mut line = entry(
        &a,
        Some(actor.id),
        actor.organization_id,
        now,
        FundAction::FinalApprove,
        None,
        Some(content.clone()),
    );
    line.action = "objection".into();
    line.from_status = Some(a.status.code());
    line.visibility = EventVisibility::Event;
    timeline::record(conn, vec![line]).await?;
    let p = super::program(conn, a.program_id).await?;
    notify(
        conn,
        now,
        Audience::OrganizationsOfKind(OrgKind::FundOffice),
        Notice::new(
            Kind::FundObjection,
            Some(Object::fund_application(a.id)),
            format!("公示异议：{} {}", a.number, a.project_title),
            format!("收到公示异议，请在公示期满前后及时处理：{content}"),
        ),
        Some(Mail::office_hours(
            Template::FundUpdate {
                recipient_name: "资金主管部门".into(),
                subject_label: "公示异议".into(),
                number: a.number.clone(),
                program_name: p.name.clone(),
                title: a.project_title.clone(),
                amount: Money::from_fen(a.approved_amount_fen.unwrap_or(a.amount_fen)).to_string(),
                action_label: "收到异议".into(),
                due: Some(local_minute(cal, ends)),
                message: Some(content),
            },
            cal,
        )),
    )
    .await?;
    Ok(ObjectionView::of(o, a.status, true, true))
}

/// `POST /objections/{id}/decision`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionDecision {
    pub upheld: bool,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub note: String,
}

/// The fund office decides an objection: upheld rejects the application and releases its
/// reservation (once: the application row is locked and its reserved amount zeroed with the
/// status change).
pub async fn decide(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    input: ObjectionDecision,
) -> AppResult<ObjectionView> {
    actor.require(&[Role::FundOffice])?;
    let note = if input.upheld {
        super::text("note", &input.note)?
    } else {
        input.note.trim().chars().take(super::TEXT_MAX).collect()
    };
    let o = objection::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    // The application first, then the objection: the order every action on it takes.
    let a = load_for_update(conn, actor, o.application_id).await?;
    let mut oq = objection::Entity::find_by_id(id);
    if conn.get_database_backend() == DbBackend::Postgres {
        oq = oq.lock_exclusive();
    }
    let o = oq.one(conn).await?.ok_or(AppError::NotFound)?;
    if o.status != ObjectionStatus::Pending {
        return Err(AppError::conflict(
            "already_decided",
            format!("the objection was already decided ({})", o.status.code()),
        ));
    }
    super::ensure_no_conflict(conn, actor, a.enterprise_id).await?;
    let mut om: objection::ActiveModel = o.into();
    om.status = Set(if input.upheld {
        ObjectionStatus::Upheld
    } else {
        ObjectionStatus::Dismissed
    });
    om.decided_by = Set(Some(actor.id));
    om.decided_at = Set(Some(now));
    om.decision_note = Set((!note.is_empty()).then(|| note.clone()));
    let o = om.update(conn).await?;
    let mut status = a.status;
    if input.upheld && a.status == FundStatus::InNotice {
        let p = super::program(conn, a.program_id).await?;
        budget::release(conn, a.program_id, a.reserved_fen, now).await?;
        let mut am: fund_application::ActiveModel = a.clone().into();
        am.status = Set(FundStatus::Rejected);
        am.reserved_fen = Set(0);
        am.updated_at = Set(now);
        let saved = am.update(conn).await?;
        status = saved.status;
        timeline::record(
            conn,
            vec![entry(
                &saved,
                Some(actor.id),
                actor.organization_id,
                now,
                FundAction::ObjectionUpheld,
                Some(FundStatus::InNotice),
                Some(note.clone()),
            )],
        )
        .await?;
        tell_enterprise(
            conn,
            now,
            &saved,
            &p,
            Tell::new(Kind::FundReviewResult, "公示异议成立，不予批准", Some(note)),
        )
        .await?;
    } else {
        let mut line = entry(
            &a,
            Some(actor.id),
            actor.organization_id,
            now,
            FundAction::FinalApprove,
            Some(a.status),
            (!note.is_empty()).then_some(note),
        );
        line.action = if input.upheld {
            "objection_upheld"
        } else {
            "objection_dismissed"
        }
        .into();
        line.visibility = EventVisibility::Event;
        timeline::record(conn, vec![line]).await?;
        if !input.upheld && approve_if_ended(conn, now, a.id).await? {
            status = FundStatus::Approved;
        }
    }
    // The objector learns the outcome (in the app).
    notify(
        conn,
        now,
        Audience::User(o.raised_by),
        Notice::new(
            Kind::FundObjection,
            Some(Object::fund_application(a.id)),
            format!("公示异议处理结果：{} {}", a.number, a.project_title),
            if input.upheld {
                "您提出的公示异议经核查成立，该申报不予批准。".to_string()
            } else {
                "您提出的公示异议经核查不成立。".to_string()
            },
        ),
        None,
    )
    .await?;
    Ok(ObjectionView::of(o, status, true, true))
}
