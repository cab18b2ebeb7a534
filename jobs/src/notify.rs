//! Notifications to people: one call, made inside the transaction of the event that causes it,
//! resolves an audience to users and writes each of them an in-app notification and, unless the
//! user turned that kind off, an outbox mail to the user's e-mail. The rows commit (or not) with
//! the event; the dispatcher job sends the mail, the api's streams push the notification.
//!
//! Who is mailed: the resolved users' own addresses first. Only when none of the users of an
//! organization in the audience has an e-mail does the mail go to the organization's
//! `contact_email` (an outbox row without `user_id`), so nobody is left unmailed. Users who
//! have an address but turned the kind off are not mailed, and their organization's contact is
//! not mailed in their stead.
//!
//! ```ignore
//! // The SLA monitor, in its transaction: a breach to the holding department, held to office
//! // hours, and to every service centre.
//! notify_many(&txn, now, &[
//!     Notification::new(Audience::organization(department), notice.clone())
//!         .mail(Mail::office_hours(template.clone(), &calendar)),
//!     Notification::new(Audience::OrganizationsOfKind(OrgKind::ServiceCenter), notice)
//!         .mail(Mail::office_hours(template, &calendar)),
//! ]).await?;
//! ```

use crate::bulk::Batch;
use crate::mail::{
    Template,
    outbox::{Addressee, Prepared, prepared_row},
};
use chrono::{DateTime, Utc};
use entity::{
    calendar::Calendar,
    enums::{NotificationKind, OrgKind, Role},
    notification, organization, user, user_preference,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryResult, QuerySelect,
    sea_query::{SelectStatement, SimpleExpr},
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Ids per `IN (...)` list: far below SQLite's and PostgreSQL's bound-parameter limits.
const IN_CHUNK: usize = 500;

/// Turned-off mail preferences read at once for a call with many users, at most.
const ALL_OFF_LIMIT: u64 = 20_000;

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The active users of an organization; with `roles`, only those with one of these roles.
    Organization { id: Uuid, roles: Vec<Role> },
    /// The active users of every organization of a kind (every service centre, say); the
    /// contact fallback applies to each organization on its own.
    OrganizationsOfKind(OrgKind),
    /// The active users of each of these organizations (with `roles`, only those with one of
    /// them): one notice to many organizations, such as a policy push to every eligible
    /// enterprise; the contact fallback applies to each on its own.
    Organizations { ids: Vec<Uuid>, roles: Vec<Role> },
    /// One user. A user who is no longer active is represented by the active users of their
    /// organization, so the event still reaches someone.
    User(Uuid),
    /// Every active user with this role, whatever their organization (administrators).
    Role(Role),
    /// The active users of an organization as the caller read them with a statement of its own
    /// ([`Known`]): nothing more is read to notify them.
    Known(Known),
}

impl Audience {
    /// The active users of organization `id`.
    pub fn organization(id: Uuid) -> Self {
        Self::Organization { id, roles: vec![] }
    }

    /// The active users of organization `id` who have one of `roles`.
    pub fn organization_roles(id: Uuid, roles: &[Role]) -> Self {
        Self::Organization {
            id,
            roles: roles.to_vec(),
        }
    }
}

/// The active users of one organization, their mail preference for one kind and the
/// organization's contact address, read by the caller in a statement it makes anyway:
/// [`Known::select`] adds the joins and columns to it, [`Known::from_rows`] reads them back, and
/// [`Audience::Known`] then notifies the same people [`Audience::organization`] would, with one
/// round trip fewer (a submission reads its department's users with its context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    organization: Uuid,
    kind: NotificationKind,
    users: Vec<Person>,
    /// Users among `users` who turned `kind`'s mail off.
    off: HashSet<Uuid>,
    contact: Option<String>,
}

/// Alias of the users [`Known::select`] joins.
const KNOWN_USER: &str = "known_user";
/// Alias of their preferences.
const KNOWN_PREFERENCE: &str = "known_preference";

impl Known {
    /// Columns [`Known::select`] adds.
    pub const COLUMNS: usize = 5;

    /// Adds to `q` the active users of the organization whose id is `organization` (an
    /// expression of `q`'s row, such as a joined column), with whether each turned `kind`'s mail
    /// off, and `contact`, the organization's contact address: [`Known::COLUMNS`] columns
    /// after those `q` has, one row per user (one with no user when it has none).
    pub fn select(
        q: &mut SelectStatement,
        organization: SimpleExpr,
        contact: SimpleExpr,
        kind: NotificationKind,
    ) {
        use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType};
        use user::Column as U;
        use user_preference::Column as P;
        let (u, p) = (Alias::new(KNOWN_USER), Alias::new(KNOWN_PREFERENCE));
        q.column((u.clone(), U::Id))
            .column((u.clone(), U::Role))
            .column((u.clone(), U::Email))
            .column((p.clone(), P::Kind))
            .expr(contact)
            .join_as(
                JoinType::LeftJoin,
                user::Entity,
                u.clone(),
                Expr::col((u.clone(), U::OrganizationId))
                    .eq(organization)
                    .and(Expr::col((u.clone(), U::Active)).eq(true)),
            )
            .join_as(
                JoinType::LeftJoin,
                user_preference::Entity,
                p.clone(),
                Expr::col((p.clone(), P::UserId))
                    .equals((u, U::Id))
                    .and(Expr::col((p.clone(), P::Kind)).eq(kind))
                    .and(Expr::col((p, P::Email)).eq(false)),
            );
    }

    /// The audience of organization `organization` from `rows` of a statement that
    /// [`Known::select`] extended, its columns starting at `at`.
    pub fn from_rows(
        rows: &[QueryResult],
        at: usize,
        organization: Uuid,
        kind: NotificationKind,
    ) -> Result<Self, DbErr> {
        let mut known = Self {
            organization,
            kind,
            users: Vec::new(),
            off: HashSet::new(),
            contact: None,
        };
        for row in rows {
            known.contact = row.try_get_by_index(at + 4)?;
            let Some(id) = row.try_get_by_index::<Option<Uuid>>(at)? else {
                continue;
            };
            if row
                .try_get_by_index::<Option<NotificationKind>>(at + 3)?
                .is_some()
            {
                known.off.insert(id);
            }
            known.users.push(person((
                id,
                Some(organization),
                row.try_get_by_index(at + 1)?,
                row.try_get_by_index(at + 2)?,
                true,
            )));
        }
        known.users.sort_by_key(|p| p.id);
        known.users.dedup_by_key(|p| p.id);
        Ok(known)
    }
}

/// What a notification is about: `object_type` (`appeal`, `organization`, `job_run`) and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object {
    pub object_type: &'static str,
    pub id: Uuid,
}

impl Object {
    /// An appeal.
    pub fn appeal(id: Uuid) -> Self {
        Self {
            object_type: "appeal",
            id,
        }
    }

    /// A financing request.
    pub fn financing_request(id: Uuid) -> Self {
        Self {
            object_type: "financing_request",
            id,
        }
    }

    /// A credit line.
    pub fn credit_line(id: Uuid) -> Self {
        Self {
            object_type: "credit_line",
            id,
        }
    }

    /// A lead-bank report.
    pub fn bank_report(id: Uuid) -> Self {
        Self {
            object_type: "bank_report",
            id,
        }
    }

    /// A fund application.
    pub fn fund_application(id: Uuid) -> Self {
        Self {
            object_type: "fund_application",
            id,
        }
    }

    /// A risk-compensation claim.
    pub fn risk_claim(id: Uuid) -> Self {
        Self {
            object_type: "risk_claim",
            id,
        }
    }

    /// A fund program.
    pub fn fund_program(id: Uuid) -> Self {
        Self {
            object_type: "fund_program",
            id,
        }
    }

    /// An organization.
    pub fn organization(id: Uuid) -> Self {
        Self {
            object_type: "organization",
            id,
        }
    }

    /// A subject of the engine (an appeal, ...), by its type's code.
    pub fn subject(s: entity::subject::Subject) -> Self {
        match s.kind {
            entity::enums::SubjectType::Appeal => Self::appeal(s.id),
            entity::enums::SubjectType::FinancingRequest => Self::financing_request(s.id),
            entity::enums::SubjectType::FundApplication => Self::fund_application(s.id),
            entity::enums::SubjectType::RiskClaim => Self::risk_claim(s.id),
        }
    }

    /// A run of a background job.
    pub fn job_run(id: Uuid) -> Self {
        Self {
            object_type: "job_run",
            id,
        }
    }
}

/// What the in-app notification says (Simplified Chinese) and of which kind it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NotificationKind,
    pub object: Option<Object>,
    pub title: String,
    pub body: String,
}

impl Notice {
    /// A notice of `kind` about `object`.
    pub fn new(
        kind: NotificationKind,
        object: Option<Object>,
        title: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            object,
            title: title.into(),
            body: body.into(),
        }
    }
}

/// When a mail may leave.
#[derive(Debug, Clone, Copy)]
pub enum SendAt<'a> {
    /// At once (enterprises, administrators).
    Now,
    /// From the calendar's next working-hours opening (officials: no 2 a.m. or Sunday mail);
    /// at once inside working hours.
    OfficeHours(&'a Calendar),
}

/// The mail that goes with a notification.
#[derive(Debug, Clone)]
pub struct Mail<'a> {
    pub template: Template,
    pub send: SendAt<'a>,
    /// One configured mailbox (such as `ADMIN_EMAIL`) instead of the users' addresses; users'
    /// preferences do not apply to it.
    pub to: Option<String>,
}

impl<'a> Mail<'a> {
    /// A mail sent at once.
    pub fn now(template: Template) -> Self {
        Self {
            template,
            send: SendAt::Now,
            to: None,
        }
    }

    /// A mail to officials, held to `calendar`'s working hours.
    pub fn office_hours(template: Template, calendar: &'a Calendar) -> Self {
        Self {
            template,
            send: SendAt::OfficeHours(calendar),
            to: None,
        }
    }

    /// Sent to `address` (when set) instead of the audience's addresses.
    pub fn to(mut self, address: Option<String>) -> Self {
        self.to = address
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty());
        self
    }

    fn send_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.send {
            SendAt::Now => now,
            SendAt::OfficeHours(cal) => cal.next_opening(now),
        }
    }
}

/// One notification to write: who, what, and the mail with it (if any).
#[derive(Debug, Clone)]
pub struct Notification<'a> {
    pub audience: Audience,
    pub notice: Notice,
    pub mail: Option<Mail<'a>>,
}

impl<'a> Notification<'a> {
    /// In-app only, until [`Notification::mail`] adds a mail.
    pub fn new(audience: Audience, notice: Notice) -> Self {
        Self {
            audience,
            notice,
            mail: None,
        }
    }

    /// With this mail.
    pub fn mail(mut self, mail: Mail<'a>) -> Self {
        self.mail = Some(mail);
        self
    }
}

/// What a call wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    /// In-app notifications (one per resolved user).
    pub notifications: u64,
    /// Outbox rows.
    pub mails: u64,
}

/// Notifies `audience` of `notice`, with `mail` unless a user turned the kind off; call it with
/// the connection or transaction of the event.
pub async fn notify(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    audience: Audience,
    notice: Notice,
    mail: Option<Mail<'_>>,
) -> Result<Delivered, DbErr> {
    let item = Notification {
        audience,
        notice,
        mail,
    };
    notify_many(conn, now, &[item]).await
}

/// As [`notify`], with the rows added to `batch`, which the event writes with its own rows.
pub async fn notify_into(
    conn: &impl ConnectionTrait,
    batch: &mut Batch,
    now: DateTime<Utc>,
    audience: Audience,
    notice: Notice,
    mail: Option<Mail<'_>>,
) -> Result<Delivered, DbErr> {
    let item = Notification {
        audience,
        notice,
        mail,
    };
    notify_many_into(conn, batch, now, &[item]).await
}

/// Writes many notifications with a few statements whatever their number: audiences resolved
/// together, preferences read once, rows inserted in multi-row statements.
pub async fn notify_many(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    items: &[Notification<'_>],
) -> Result<Delivered, DbErr> {
    let mut batch = Batch::default();
    let delivered = notify_many_into(conn, &mut batch, now, items).await?;
    batch.run(conn).await?;
    Ok(delivered)
}

/// As [`notify_many`], with the rows added to `batch`: what it reads is read at once, what it
/// writes is written when the batch runs, in the caller's transaction.
#[tracing::instrument(skip_all, fields(items = items.len()))]
pub async fn notify_many_into(
    conn: &impl ConnectionTrait,
    batch: &mut Batch,
    now: DateTime<Utc>,
    items: &[Notification<'_>],
) -> Result<Delivered, DbErr> {
    if items.is_empty() {
        return Ok(Delivered::default());
    }
    // The kinds whose mail goes to the resolved users, for whom preferences matter.
    let kinds: HashSet<NotificationKind> = items
        .iter()
        .filter(|n| n.mail.as_ref().is_some_and(|m| m.to.is_none()))
        .map(|n| n.notice.kind)
        .collect();
    let people = People::load(conn, items, &kinds).await?;
    let groups: Vec<Vec<Group>> = items.iter().map(|n| people.groups(&n.audience)).collect();

    let known: Vec<&Known> = items
        .iter()
        .filter_map(|n| match &n.audience {
            Audience::Known(k) => Some(k),
            _ => None,
        })
        .collect();
    if let Some((k, n)) = items.iter().find_map(|n| match &n.audience {
        Audience::Known(k) if k.kind != n.notice.kind => Some((k, n)),
        _ => None,
    }) {
        return Err(DbErr::Custom(format!(
            "an audience read for {:?} notified of {:?}",
            k.kind, n.notice.kind
        )));
    }
    // Read with the users for a small call; otherwise only for the users who would be mailed.
    let mut off = match people.off {
        Some(off) => off,
        None => {
            let mailed_users: HashSet<Uuid> = items
                .iter()
                .zip(&groups)
                .filter(|(n, _)| n.mail.as_ref().is_some_and(|m| m.to.is_none()))
                .flat_map(|(_, gs)| gs.iter().flat_map(|g| &g.users))
                .filter(|p| p.address().is_some())
                .map(|p| p.id)
                .collect();
            mail_turned_off(conn, &mailed_users, &kinds).await?
        }
    };
    // Contacts are read only for organizations none of whose users in the audience has an
    // address.
    let fallback_orgs: HashSet<Uuid> = items
        .iter()
        .zip(&groups)
        .filter(|(n, _)| n.mail.as_ref().is_some_and(|m| m.to.is_none()))
        .flat_map(|(_, gs)| gs.iter())
        .filter(|g| g.users.iter().all(|p| p.address().is_none()))
        .filter_map(|g| g.organization)
        .filter(|org| !known.iter().any(|k| k.organization == *org))
        .collect();
    let mut contacts = contacts(conn, &fallback_orgs).await?;
    for k in &known {
        off.extend(k.off.iter().map(|user| (*user, k.kind)));
        if let Some(contact) = k
            .contact
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            contacts.insert(k.organization, contact.to_string());
        }
    }

    let mut notifications = Vec::new();
    let mut mails = Vec::new();
    for (item, groups) in items.iter().zip(&groups) {
        let kind = item.notice.kind;
        for person in groups.iter().flat_map(|g| &g.users) {
            notifications.push(notification::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(person.id),
                kind: Set(kind),
                title: Set(item.notice.title.clone()),
                body: Set(item.notice.body.clone()),
                object_type: Set(item.notice.object.map(|o| o.object_type.to_string())),
                object_id: Set(item.notice.object.map(|o| o.id)),
                created_at: Set(now),
                read_at: Set(None),
            });
        }
        let Some(mail) = &item.mail else {
            continue;
        };
        let prepared = Prepared::of(&mail.template)?;
        let send_after = mail.send_after(now);
        let mut row = |to: &str, user_id: Option<Uuid>| {
            mails.push(prepared_row(
                now,
                send_after,
                to,
                &prepared,
                Addressee {
                    user_id,
                    kind: Some(kind),
                },
            ));
        };
        if let Some(to) = &mail.to {
            row(to, None);
            continue;
        }
        // One mail per address, even when users share one.
        let mut addresses = HashSet::new();
        for group in groups {
            let with_address: Vec<(&Person, &str)> = group
                .users
                .iter()
                .filter_map(|p| p.address().map(|a| (p, a)))
                .collect();
            if with_address.is_empty() {
                if let Some(to) = group.organization.and_then(|o| contacts.get(&o))
                    && addresses.insert(to.to_lowercase())
                {
                    row(to, None);
                }
                continue;
            }
            for (person, to) in with_address {
                if !off.contains(&(person.id, kind)) && addresses.insert(to.to_lowercase()) {
                    row(to, Some(person.id));
                }
            }
        }
    }

    let delivered = Delivered {
        notifications: notifications.len() as u64,
        mails: mails.len() as u64,
    };
    let told: HashSet<Uuid> = groups
        .iter()
        .flatten()
        .flat_map(|g| g.users.iter().map(|p| p.id))
        .collect();
    let backend = conn.get_database_backend();
    batch.insert_all(backend, notifications);
    batch.insert_all(backend, mails);
    // This process's unread counts (the change feed tells the others once this commits).
    crate::feed::touched(crate::feed::Topic::Unread, told);
    if delivered != Delivered::default() {
        tracing::info!(
            notifications = delivered.notifications,
            mails = delivered.mails,
            "notified"
        );
    }
    Ok(delivered)
}

/// The name of organization `id` (empty if it is gone): what mails and notifications call it.
pub async fn name_of(conn: &impl ConnectionTrait, id: Uuid) -> Result<String, DbErr> {
    Ok(organization::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|o| o.name)
        .unwrap_or_default())
}

/// A user as the audience rules need them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Person {
    id: Uuid,
    organization: Option<Uuid>,
    role: Role,
    email: Option<String>,
    active: bool,
}

impl Person {
    fn address(&self) -> Option<&str> {
        self.email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
    }
}

/// The users of one organization (or of none) an audience resolved to; the contact fallback
/// applies per group.
struct Group {
    organization: Option<Uuid>,
    users: Vec<Person>,
}

/// Every user the audiences of one call may name, loaded with one query per kind of audience.
#[derive(Default)]
struct People {
    /// The (user, kind) pairs of the loaded users whose mail is turned off, when they were read
    /// with the users (a call naming few organizations and users: one statement fewer); `None`
    /// when they are to be read on their own.
    off: Option<HashSet<(Uuid, NotificationKind)>>,
    /// Users named one by one, active or not.
    by_id: HashMap<Uuid, Person>,
    /// Active users per organization.
    by_org: HashMap<Uuid, Vec<Person>>,
    /// Active users per role.
    by_role: HashMap<Role, Vec<Person>>,
    /// Organizations per kind.
    orgs_of_kind: HashMap<OrgKind, Vec<Uuid>>,
}

fn person(
    (id, organization, role, email, active): (Uuid, Option<Uuid>, Role, Option<String>, bool),
) -> Person {
    Person {
        id,
        organization,
        role,
        email,
        active,
    }
}

/// The users matching `condition`; with `off_kinds`, each user's turned-off mail kinds among
/// them come in the same statement (a left join on the preferences), added to `off`.
async fn users_where(
    conn: &impl ConnectionTrait,
    condition: sea_orm::Condition,
    off_kinds: &HashSet<NotificationKind>,
    off: &mut HashSet<(Uuid, NotificationKind)>,
) -> Result<Vec<Person>, DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query};
    use user::Column as U;
    use user_preference::Column as P;
    let mut q = Query::select();
    q.columns([U::Id, U::OrganizationId, U::Role, U::Email, U::Active].map(|c| (user::Entity, c)))
        .from(user::Entity)
        .cond_where(condition);
    if !off_kinds.is_empty() {
        q.column((user_preference::Entity, P::Kind)).join(
            JoinType::LeftJoin,
            user_preference::Entity,
            Expr::col((user_preference::Entity, P::UserId))
                .equals((user::Entity, U::Id))
                .and(Expr::col((user_preference::Entity, P::Kind)).is_in(off_kinds.iter().copied()))
                .and(Expr::col((user_preference::Entity, P::Email)).eq(false)),
        );
    }
    let mut people: Vec<Person> = Vec::new();
    // A user with several turned-off kinds comes once per kind.
    let mut seen = HashSet::new();
    for row in conn.query_all(&q).await? {
        let id: Uuid = row.try_get_by_index(0)?;
        if !off_kinds.is_empty()
            && let Some(kind) = row.try_get_by_index::<Option<NotificationKind>>(5)?
        {
            off.insert((id, kind));
        }
        if seen.insert(id) {
            people.push(person((
                id,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
                row.try_get_by_index(3)?,
                row.try_get_by_index(4)?,
            )));
        }
    }
    Ok(people)
}

impl People {
    /// Loads the users of `items`' audiences; with few of them, also their turned-off mail
    /// among `mail_kinds` (else [`mail_turned_off`] reads it for the mailed users alone).
    async fn load(
        conn: &impl ConnectionTrait,
        items: &[Notification<'_>],
        mail_kinds: &HashSet<NotificationKind>,
    ) -> Result<Self, DbErr> {
        use sea_orm::Condition;
        use user::Column as U;
        let mut people = People::default();
        let mut user_ids = HashSet::new();
        let mut orgs = HashSet::new();
        let mut roles = HashSet::new();
        let mut kinds = HashSet::new();
        for n in items {
            match &n.audience {
                Audience::Organization { id, .. } => {
                    orgs.insert(*id);
                }
                Audience::Organizations { ids, .. } => {
                    orgs.extend(ids.iter().copied());
                }
                Audience::OrganizationsOfKind(k) => {
                    kinds.insert(*k);
                }
                Audience::User(id) => {
                    user_ids.insert(*id);
                }
                Audience::Role(r) => {
                    roles.insert(*r);
                }
                Audience::Known(_) => {}
            }
        }
        for kind in kinds {
            let ids: Vec<Uuid> = organization::Entity::find()
                .select_only()
                .column(organization::Column::Id)
                .filter(organization::Column::Kind.eq(kind))
                .into_tuple()
                .all(conn)
                .await?;
            orgs.extend(ids.iter().copied());
            people.orgs_of_kind.insert(kind, ids);
        }
        // Few users: their preferences come with them. Many (a push to every eligible
        // enterprise): one read of the turned-off rows afterwards costs less than a join per
        // chunk.
        let few = user_ids.len() + orgs.len() <= IN_CHUNK;
        let no_kinds = HashSet::new();
        let off_kinds = if few { mail_kinds } else { &no_kinds };
        let mut off = HashSet::new();
        let user_ids: Vec<Uuid> = user_ids.into_iter().collect();
        for chunk in user_ids.chunks(IN_CHUNK) {
            let condition = Condition::all().add(U::Id.is_in(chunk.to_vec()));
            for p in users_where(conn, condition, off_kinds, &mut off).await? {
                // A user who left is represented by their organization.
                if !p.active
                    && let Some(org) = p.organization
                {
                    orgs.insert(org);
                }
                people.by_id.insert(p.id, p);
            }
        }
        let orgs: Vec<Uuid> = orgs.into_iter().collect();
        for chunk in orgs.chunks(IN_CHUNK) {
            let found = users_where(
                conn,
                Condition::all()
                    .add(U::OrganizationId.is_in(chunk.to_vec()))
                    .add(U::Active.eq(true)),
                off_kinds,
                &mut off,
            )
            .await?;
            for p in found {
                if let Some(org) = p.organization {
                    people.by_org.entry(org).or_default().push(p);
                }
            }
        }
        if !roles.is_empty() {
            let found = users_where(
                conn,
                Condition::all()
                    .add(U::Role.is_in(roles.iter().copied()))
                    .add(U::Active.eq(true)),
                off_kinds,
                &mut off,
            )
            .await?;
            for p in found {
                people.by_role.entry(p.role).or_default().push(p);
            }
        }
        for users in people
            .by_org
            .values_mut()
            .chain(people.by_role.values_mut())
        {
            users.sort_by_key(|p| p.id);
        }
        people.off = few.then_some(off);
        Ok(people)
    }

    /// The users `audience` names, grouped by organization.
    fn groups(&self, audience: &Audience) -> Vec<Group> {
        let of_org = |org: Uuid, roles: &[Role]| Group {
            organization: Some(org),
            users: self
                .by_org
                .get(&org)
                .into_iter()
                .flatten()
                .filter(|p| roles.is_empty() || roles.contains(&p.role))
                .cloned()
                .collect(),
        };
        match audience {
            Audience::Organization { id, roles } => vec![of_org(*id, roles)],
            Audience::Organizations { ids, roles } => {
                ids.iter().map(|org| of_org(*org, roles)).collect()
            }
            Audience::OrganizationsOfKind(kind) => self
                .orgs_of_kind
                .get(kind)
                .into_iter()
                .flatten()
                .map(|org| of_org(*org, &[]))
                .collect(),
            Audience::User(id) => match self.by_id.get(id) {
                Some(p) if p.active => vec![Group {
                    organization: p.organization,
                    users: vec![p.clone()],
                }],
                Some(Person {
                    organization: Some(org),
                    ..
                }) => vec![of_org(*org, &[])],
                _ => vec![],
            },
            Audience::Role(role) => vec![Group {
                organization: None,
                users: self.by_role.get(role).cloned().unwrap_or_default(),
            }],
            Audience::Known(known) => vec![Group {
                organization: Some(known.organization),
                users: known.users.clone(),
            }],
        }
    }
}

/// The (user, kind) pairs among `users` and `kinds` whose mail the user turned off.
async fn mail_turned_off(
    conn: &impl ConnectionTrait,
    users: &HashSet<Uuid>,
    kinds: &HashSet<NotificationKind>,
) -> Result<HashSet<(Uuid, NotificationKind)>, DbErr> {
    use user_preference::Column as P;
    // Many users (a push to every eligible enterprise): the few turned-off rows of the kinds,
    // all at once through their partial index, unless there are very many.
    if users.len() > IN_CHUNK {
        let rows: Vec<(Uuid, NotificationKind)> = user_preference::Entity::find()
            .select_only()
            .columns([P::UserId, P::Kind])
            .filter(P::Kind.is_in(kinds.iter().copied()))
            .filter(P::Email.eq(false))
            .limit(ALL_OFF_LIMIT + 1)
            .into_tuple()
            .all(conn)
            .await?;
        if rows.len() as u64 <= ALL_OFF_LIMIT {
            return Ok(rows
                .into_iter()
                .filter(|(u, _)| users.contains(u))
                .collect());
        }
    }
    let users: Vec<Uuid> = users.iter().copied().collect();
    let mut off = HashSet::new();
    for chunk in users.chunks(IN_CHUNK) {
        let rows: Vec<(Uuid, NotificationKind)> = user_preference::Entity::find()
            .select_only()
            .columns([P::UserId, P::Kind])
            .filter(P::UserId.is_in(chunk.to_vec()))
            .filter(P::Kind.is_in(kinds.iter().copied()))
            .filter(P::Email.eq(false))
            .into_tuple()
            .all(conn)
            .await?;
        off.extend(rows);
    }
    Ok(off)
}

/// The contact addresses of `orgs` that have one.
async fn contacts(
    conn: &impl ConnectionTrait,
    orgs: &HashSet<Uuid>,
) -> Result<HashMap<Uuid, String>, DbErr> {
    use organization::Column as O;
    let orgs: Vec<Uuid> = orgs.iter().copied().collect();
    let mut out = HashMap::new();
    for chunk in orgs.chunks(IN_CHUNK) {
        let rows: Vec<(Uuid, Option<String>)> = organization::Entity::find()
            .select_only()
            .columns([O::Id, O::ContactEmail])
            .filter(O::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(rows.into_iter().filter_map(|(id, mail)| {
            let mail = mail?.trim().to_string();
            (!mail.is_empty()).then_some((id, mail))
        }));
    }
    Ok(out)
}
