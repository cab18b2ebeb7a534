//! `GET /appeals`: filters, scoping, keyset pages and the rendered-item cache.

#[allow(unused_imports)]
use super::*;

pub(super) fn parse_due_before(s: &str, cal: &Calendar) -> AppResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return crate::services::validate::instant_in_range("due_before", t.with_timezone(&Utc));
    }
    let bad = || AppError::BadRequest("due_before must be an RFC 3339 instant or a date".into());
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
    // The date is in range, not its midnight in UTC: 1900-01-01 in Shanghai is 1899 in UTC.
    crate::services::validate::date_in_range("due_before", d)?
        .and_hms_opt(0, 0, 0)
        .and_then(|t| {
            t.and_local_timezone(cal.settings().time_zone)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        })
        .ok_or_else(bad)
}

/// The appeals the caller may see, filtered.
pub(super) async fn filtered(
    conn: &impl ConnectionTrait,
    calendar: &CalendarCache,
    now: DateTime<Utc>,
    actor: &AuthUser,
    f: &AppealFilter,
) -> AppResult<Select<appeal::Entity>> {
    actor.require(&[
        Role::Admin,
        Role::ServiceCenter,
        Role::Department,
        Role::ChainOffice,
        Role::Enterprise,
    ])?;
    let mut q = appeal::Entity::find().filter(scope::appeals(actor));
    if let Some(s) = f.status {
        q = q.filter(appeal::Column::Status.eq(s));
    }
    if let Some(c) = f.category {
        q = q.filter(appeal::Column::Category.eq(c));
    }
    if let Some(c) = f.chain_id {
        q = q.filter(appeal::Column::ChainId.eq(c));
    }
    if let Some(d) = f.department_id {
        q = q.filter(appeal::Column::DepartmentId.eq(d));
    }
    if let Some(e) = f.enterprise_id {
        q = q.filter(appeal::Column::EnterpriseId.eq(e));
    }
    if let Some(b) = f.breached {
        // Late even before the monitor's next pass records the breach: met after the due
        // time, or still running past it.
        use sea_orm::sea_query::ExprTrait;
        let running_late = Condition::all()
            .add(sla_clock::Column::MetAt.is_null())
            .add(sla_clock::Column::CancelledAt.is_null())
            .add(sla_clock::Column::PausedAt.is_null())
            .add(sla_clock::Column::DueAt.lt(now));
        let breached = Query::select()
            .column(sla_clock::Column::AppealId)
            .from(sla_clock::Entity)
            .cond_where(
                Condition::any()
                    .add(sla_clock::Column::BreachedAt.is_not_null())
                    .add(
                        Expr::col(sla_clock::Column::MetAt).gt(Expr::col(sla_clock::Column::DueAt)),
                    )
                    .add(running_late),
            )
            .to_owned();
        q = if b {
            q.filter(appeal::Column::Id.in_subquery(breached))
        } else {
            q.filter(appeal::Column::Id.not_in_subquery(breached))
        };
    }
    if let Some(s) = f.due_before.as_deref() {
        // The calendar (one more query) only matters for a date in its time zone.
        let cal = calendar.current(conn).await?;
        let before = parse_due_before(s, &cal)?;
        q = q.filter(
            appeal::Column::Id.in_subquery(
                Query::select()
                    .column(sla_clock::Column::AppealId)
                    .from(sla_clock::Entity)
                    .and_where(sla_clock::Column::MetAt.is_null())
                    .and_where(sla_clock::Column::CancelledAt.is_null())
                    .and_where(sla_clock::Column::DueAt.lt(before))
                    .to_owned(),
            ),
        );
    }
    Ok(q)
}

/// An appeal's validator (see [`crate::item_cache`]): its row version plus its clocks', plus
/// its number of attachments, for the appeal `p.id` of the page. Each term only grows (versions
/// rise on every update, clocks are never deleted, attachments never detached), so the sum
/// changes whenever what an item shows does.
pub(super) const VALIDATOR: &str = "CAST(p.version + COALESCE((SELECT SUM(c.version) FROM sla_clocks c \
     WHERE c.appeal_id = p.id), 0) + (SELECT COUNT(*) FROM files f WHERE f.appeal_id = p.id) \
     AS BIGINT)";

/// The page of appeals the caller may see, filtered, oldest first, as the JSON of a
/// `Page<AppealView>`. One statement reads the page's ids and validators; the items still
/// current in `cache` are reused as they are, the others rendered from their rows and kept.
pub async fn list_json(
    conn: &impl ConnectionTrait,
    calendar: &CalendarCache,
    cache: &AppealCache,
    now: DateTime<Utc>,
    actor: &AuthUser,
    f: &AppealFilter,
    page: &PageQuery,
) -> AppResult<Vec<u8>> {
    let q = filtered(conn, calendar, now, actor, f).await?;
    let (page_select, limit) = pagination::page_of(q, appeal::Column::Id, page)?;
    // The validators are computed over the page only, outside the filtered and limited select,
    // so no plan can compute them for rows the page does not keep.
    let ids = page_select
        .select_only()
        .column(appeal::Column::Id)
        .expr(Expr::col((appeal::Entity, Alias::new("version"))))
        .into_query();
    let p = Alias::new("p");
    let keyed = Query::select()
        .column((p.clone(), Alias::new("id")))
        .expr(Expr::cust(VALIDATOR))
        .from_subquery(ids, p.clone())
        .order_by((p, Alias::new("id")), Order::Asc)
        .to_owned();
    let mut keys = Vec::new();
    for row in conn.query_all(&keyed).await? {
        keys.push((rows::get::<Uuid>(&row, 0)?, rows::get::<i64>(&row, 1)?));
    }
    let page = pagination::finish(keys, limit, |k| k.0);
    let items = cache
        .page(&page.items, |ids| render(conn, cache, ids))
        .await?;
    let mut body = Vec::with_capacity(64 + items.iter().map(|i| i.len() + 1).sum::<usize>());
    body.extend_from_slice(br#"{"items":["#);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item);
    }
    body.extend_from_slice(br#"],"next_cursor":"#);
    serde_json::to_writer(&mut body, &page.next_cursor).map_err(anyhow::Error::from)?;
    body.push(b'}');
    Ok(body)
}

/// Renders the list items of appeals `ids` and keeps each in `cache` under the validator of
/// the rows it was rendered from. The appeals and the clocks are two statements, so a change
/// committed between them can mix two states, as any two-statement read can; the validator is
/// summed from exactly the rows read, so once those writes are committed a reader sees a
/// larger validator than the mix's and renders again.
pub(super) async fn render(
    conn: &impl ConnectionTrait,
    cache: &AppealCache,
    ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, Arc<[u8]>>> {
    let appeals = rows::all_versioned::<appeal::Model>(
        conn,
        appeal::Entity::find().filter(appeal::Column::Id.is_in(ids.iter().copied())),
    )
    .await?;
    let mut clocks: HashMap<Uuid, (Vec<ClockView>, i64)> = HashMap::with_capacity(ids.len());
    for (c, version) in rows::all_versioned::<ListedClock>(
        conn,
        sla_clock::Entity::find().filter(sla_clock::Column::AppealId.is_in(ids)),
    )
    .await?
    {
        let entry = clocks.entry(c.appeal_id).or_default();
        entry.0.push(c.view);
        entry.1 += version;
    }
    let mut attachments = crate::services::files::of_subjects(
        conn,
        entity::enums::SubjectType::Appeal,
        appeals.iter().map(|(a, _)| a.id),
    )
    .await?;
    let mut out = HashMap::with_capacity(appeals.len());
    for (a, version) in appeals {
        let (views, clock_versions) = clocks.remove(&a.id).unwrap_or_default();
        let id = a.id;
        let files = attachments.remove(&id).unwrap_or_default();
        let validator = version + clock_versions + files.len() as i64;
        let json: Arc<[u8]> = serde_json::to_vec(&view_of(a, views, files))
            .map_err(anyhow::Error::from)?
            .into();
        cache.put(id, validator, json.clone());
        out.insert(id, json);
    }
    Ok(out)
}
