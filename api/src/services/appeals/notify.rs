//! The mails an appeal's submission and actions cause.

#[allow(unused_imports)]
use super::*;

/// Local "YYYY-MM-DD HH:MM" of an instant, for mails.
pub(super) fn local(cal: &Calendar, t: DateTime<Utc>) -> String {
    t.with_timezone(&cal.settings().time_zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Mails a department (held until working hours).
pub(super) async fn mail_department(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    department: Uuid,
    template: impl FnOnce(String) -> Template,
) -> AppResult<()> {
    let Some(org) = organization::Entity::find_by_id(department)
        .one(conn)
        .await?
    else {
        return Ok(());
    };
    let to = recipients::addresses(conn, &org).await?;
    let t = template(org.name);
    for addr in to {
        mail::enqueue_for_office(conn, cal, now, &addr, &t).await?;
    }
    Ok(())
}

/// Tells the enterprise what happened (sent at once): to the submitting user's e-mail, or the
/// enterprise's contacts.
pub(super) async fn mail_enterprise(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    a: &appeal::Model,
    action_label: &str,
    message: &str,
) -> AppResult<()> {
    let enterprise = organization::Entity::find_by_id(a.enterprise_id)
        .one(conn)
        .await?;
    let submitter = user::Entity::find_by_id(a.submitted_by).one(conn).await?;
    let to = match submitter
        .and_then(|u| u.email)
        .filter(|e| !e.trim().is_empty())
    {
        Some(e) => vec![e],
        None => recipients::of_organization(conn, a.enterprise_id).await?,
    };
    let t = Template::AppealUpdate {
        enterprise_name: enterprise.map(|o| o.name).unwrap_or_default(),
        number: a.number.clone(),
        title: a.title.clone(),
        action_label: action_label.to_string(),
        message: message.to_string(),
    };
    for addr in to {
        mail::enqueue(conn, now, &addr, &t).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn mail_assigned(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    a: &appeal::Model,
    clocks: &[sla_clock::Model],
    department: Uuid,
    action_label: &str,
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
    let (number, title) = (a.number.clone(), a.title.clone());
    let category_label = a.category.label_zh().to_string();
    let action_label = action_label.to_string();
    mail_department(conn, cal, now, department, move |department_name| {
        Template::AppealAssigned {
            department_name,
            number,
            title,
            category_label,
            action_label,
            reply_due,
            close_due,
            note,
        }
    })
    .await
}

/// A mail an action causes.
pub(super) enum Followup {
    /// To a department: assigned / transferred / reopened / supplemented.
    Assigned(Uuid, &'static str, Option<String>),
    /// To the enterprise.
    Enterprise(&'static str, String),
    /// To a department: supervised by hand.
    Supervised(Uuid, String),
}
