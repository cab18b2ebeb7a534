//! Who an appeal's submission and actions tell, and what: every one goes through
//! [`jobs::notify`] in the action's transaction. Departments are told as organizations (all
//! their active users; mail held to working hours), the enterprise through the user who
//! submitted the appeal (mail at once).

#[allow(unused_imports)]
use super::*;
use crate::services::organizations::name_of;
use entity::enums::NotificationKind;
use jobs::{
    mail::{Template, templates::local_minute as local},
    notify::{Audience, Known, Mail, Notice, Object, notify, notify_into},
};

/// A notification an action causes, sent once the appeal row is saved (so it reads the new
/// state).
pub(super) enum Followup {
    /// To a department: assigned, transferred, reopened, or the enterprise supplemented.
    Department(Uuid, NotificationKind, Option<String>),
    /// To the enterprise: replied, opinion given, information requested, resolved.
    Enterprise(NotificationKind, String),
    /// To a department: supervised by hand.
    Supervised(Uuid, String),
}

/// What the mail says happened (`action_label` of the templates).
fn action_label(kind: NotificationKind) -> &'static str {
    use NotificationKind as K;
    match kind {
        K::AppealAssigned => "分派",
        K::AppealTransferred => "转办",
        K::AppealReopened => "重办",
        K::AppealSupplemented => "企业补充材料",
        K::AppealReplied => "已响应",
        K::AppealOpinion => "已出具意见",
        K::AppealInfoRequested => "需补充材料",
        K::AppealResolved => "已办结",
        other => other.label_zh(),
    }
}

/// The in-app title: what happened, the appeal's number and title.
fn title(kind: NotificationKind, a: &appeal::Model) -> String {
    format!("{}：{} {}", kind.label_zh(), a.number, a.title)
}

/// Sends the notifications of one action.
pub(super) async fn send(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    a: &appeal::Model,
    clocks: &[sla_clock::Model],
    followups: Vec<Followup>,
) -> AppResult<()> {
    for f in followups {
        match f {
            Followup::Department(dep, kind, note) => {
                let mut batch = Batch::default();
                let to = (dep, None);
                notify_department(conn, &mut batch, cal, now, a, clocks, to, kind, note).await?;
                batch.run(conn).await?;
            }
            Followup::Enterprise(kind, msg) => notify_enterprise(conn, now, a, kind, &msg).await?,
            Followup::Supervised(dep, note) => {
                notify_supervised(conn, cal, now, a, dep, note).await?
            }
        }
    }
    Ok(())
}

/// Tells a department an appeal came to it (or back to it), with its due times; `read` is the
/// department's name and users when the caller has read them already.
#[allow(clippy::too_many_arguments)]
pub(super) async fn notify_department(
    conn: &impl ConnectionTrait,
    batch: &mut Batch,
    cal: &Calendar,
    now: DateTime<Utc>,
    a: &appeal::Model,
    clocks: &[sla_clock::Model],
    (department, read): (Uuid, Option<(String, Known)>),
    kind: NotificationKind,
    note: Option<String>,
) -> AppResult<()> {
    let due = |k: ClockKind| {
        clocks
            .iter()
            .filter(|c| c.kind == k && is_open(c))
            .max_by_key(|c| c.round)
            .map(|c| local(cal, c.due_at))
            .unwrap_or_else(|| "—".into())
    };
    let (reply_due, close_due) = (due(ClockKind::Reply), due(ClockKind::Close));
    let label = action_label(kind);
    let category_label = a.category.label_zh();
    let mut body =
        format!("{label}。类别：{category_label}；应答时限：{reply_due}；办结时限：{close_due}。");
    if let Some(n) = &note {
        body.push_str(&format!("\n说明：{n}"));
    }
    let (department_name, audience) = match read {
        Some((name, users)) => (name, Audience::Known(users)),
        None => (
            name_of(conn, department).await?,
            Audience::organization(department),
        ),
    };
    let template = Template::AppealAssigned {
        department_name,
        number: a.number.clone(),
        title: a.title.clone(),
        category_label: category_label.to_string(),
        action_label: label.to_string(),
        reply_due,
        close_due,
        note,
    };
    notify_into(
        conn,
        batch,
        now,
        audience,
        Notice::new(kind, Some(Object::appeal(a.id)), title(kind, a), body),
        Some(Mail::office_hours(template, cal)),
    )
    .await?;
    Ok(())
}

/// Tells the enterprise what happened to its appeal (mail at once): the user who submitted
/// it, or the enterprise's active users once that user is gone.
pub(super) async fn notify_enterprise(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    a: &appeal::Model,
    kind: NotificationKind,
    message: &str,
) -> AppResult<()> {
    let label = action_label(kind);
    let template = Template::AppealUpdate {
        enterprise_name: name_of(conn, a.enterprise_id).await?,
        number: a.number.clone(),
        title: a.title.clone(),
        action_label: label.to_string(),
        message: message.to_string(),
    };
    notify(
        conn,
        now,
        Audience::User(a.submitted_by),
        Notice::new(
            kind,
            Some(Object::appeal(a.id)),
            title(kind, a),
            format!("{label}：{message}"),
        ),
        Some(Mail::now(template)),
    )
    .await?;
    Ok(())
}

/// Tells a department the service centre supervised (督办) its appeal.
pub(super) async fn notify_supervised(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    a: &appeal::Model,
    department: Uuid,
    note: String,
) -> AppResult<()> {
    let kind = NotificationKind::AppealSupervised;
    let body = format!("服务中心督办（第 1 级）：{note}");
    let template = Template::AppealSupervised {
        department_name: name_of(conn, department).await?,
        number: a.number.clone(),
        title: a.title.clone(),
        level: 1,
        note: Some(note),
    };
    notify(
        conn,
        now,
        Audience::organization(department),
        Notice::new(kind, Some(Object::appeal(a.id)), title(kind, a), body),
        Some(Mail::office_hours(template, cal)),
    )
    .await?;
    Ok(())
}
