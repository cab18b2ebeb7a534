//! Organizations, enterprise self-registration and verification.

use super::{audit::Change, qualifications, users, validate::Checks};
use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
    state::AppState,
};
use chrono::{DateTime, Utc};
use entity::{
    enums::{OrgKind, Role},
    organization,
    uscc::Uscc,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An organization as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrganizationView {
    pub id: Uuid,
    pub kind: OrgKind,
    /// Display label of `kind` in Chinese.
    pub kind_label: &'static str,
    pub name: String,
    pub uscc: Option<String>,
    pub region: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only on single-organization reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualifications: Option<Vec<qualifications::QualificationView>>,
}

impl From<organization::Model> for OrganizationView {
    fn from(o: organization::Model) -> Self {
        Self {
            id: o.id,
            kind: o.kind,
            kind_label: o.kind.label_zh(),
            name: o.name,
            uscc: o.uscc,
            region: o.region,
            contact_name: o.contact_name,
            contact_email: o.contact_email,
            verified: o.verified,
            created_at: o.created_at,
            updated_at: o.updated_at,
            qualifications: None,
        }
    }
}

/// `POST /organizations`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    pub kind: OrgKind,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub name: String,
    /// 统一社会信用代码, unique; required for enterprises and banks.
    #[schema(schema_with = crate::schemas::optional_uscc)]
    pub uscc: Option<String>,
    #[schema(
        max_length = 100,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*(?:[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*)?$"
    )]
    pub region: Option<String>,
    #[schema(
        max_length = 100,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*(?:[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*)?$"
    )]
    pub contact_name: Option<String>,
    /// An e-mail address of at most 254 bytes in UTF-8 (surrounding whitespace ignored).
    #[schema(
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*(?:[^\s\x00-\x1f\x7f-\x9f@]+@(?:[^\s\x00-\x1f\x7f-\x9f@.]+\.)+[^\s\x00-\x1f\x7f-\x9f@.]+(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*)?$"
    )]
    pub contact_email: Option<String>,
}

/// `POST /enterprises/register`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub name: String,
    /// 统一社会信用代码, unique.
    #[schema(schema_with = crate::schemas::uscc)]
    pub uscc: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub contact_name: String,
    /// An e-mail address of at most 254 bytes in UTF-8 (surrounding whitespace ignored).
    #[schema(
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[^\s\x00-\x1f\x7f-\x9f@]+@(?:[^\s\x00-\x1f\x7f-\x9f@.]+\.)+[^\s\x00-\x1f\x7f-\x9f@.]+(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub contact_email: String,
    /// 3 to 64 letters, digits, `_ - . @`; case-insensitive, unique.
    #[schema(
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[A-Za-z0-9_.@-]{3,64}(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub username: String,
    #[schema(
        min_length = 10,
        max_length = 256,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub password: String,
    #[schema(
        max_length = 100,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*(?:[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*)?$"
    )]
    pub region: Option<String>,
}

/// The answer of a registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub organization: OrganizationView,
    pub user: super::auth::UserView,
}

/// Filters of `GET /organizations`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OrganizationFilter {
    pub kind: Option<OrgKind>,
}

fn check_uscc(c: &mut Checks, kind: OrgKind, uscc: Option<&str>) -> Option<String> {
    match uscc.map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            if kind.requires_uscc() {
                c.add("uscc", "is required for enterprises and banks");
            }
            None
        }
        Some(s) => c
            .check("uscc", Uscc::parse(s))
            .map(|u| u.as_str().to_string()),
    }
}

async fn ensure_uscc_free(conn: &impl ConnectionTrait, uscc: Option<&str>) -> AppResult<()> {
    if let Some(u) = uscc
        && organization::Entity::find()
            .filter(organization::Column::Uscc.eq(u))
            .one(conn)
            .await?
            .is_some()
    {
        return Err(AppError::conflict(
            "duplicate_uscc",
            "an organization with this USCC already exists",
        ));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn new_org(
    kind: OrgKind,
    name: String,
    uscc: Option<String>,
    region: Option<String>,
    contact_name: Option<String>,
    contact_email: Option<String>,
    verified: bool,
    now: DateTime<Utc>,
) -> organization::ActiveModel {
    organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        name: Set(name),
        uscc: Set(uscc),
        region: Set(region),
        contact_name: Set(contact_name),
        contact_email: Set(contact_email),
        verified: Set(verified),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Creates an organization (admin); organizations the admin creates are verified.
pub async fn create(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewOrganization,
) -> AppResult<OrganizationView> {
    actor.require(&[Role::Admin])?;
    let mut c = Checks::new();
    let name = c.line("name", &input.name, 200);
    let uscc = check_uscc(&mut c, input.kind, input.uscc.as_deref());
    let region = c.opt_line("region", input.region.as_deref(), 100);
    let contact_name = c.opt_line("contact_name", input.contact_name.as_deref(), 100);
    let contact_email = c.opt_email("contact_email", input.contact_email.as_deref());
    c.finish()?;
    ensure_uscc_free(conn, uscc.as_deref()).await?;
    let org = new_org(
        input.kind,
        name,
        uscc,
        region,
        contact_name,
        contact_email,
        true,
        now,
    )
    .insert(conn)
    .await?;
    let view = OrganizationView::from(org);
    Change {
        at: now,
        actor: Some(actor.id),
        action: "organization.create",
        object_type: "organization",
        object_id: view.id.to_string(),
    }
    .record(conn, None::<&()>, Some(&view))
    .await?;
    Ok(view)
}

/// Registers an enterprise and its first user; the enterprise starts unverified.
pub async fn register(
    state: &AppState,
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    input: Registration,
) -> AppResult<Registered> {
    let mut c = Checks::new();
    let name = c.line("name", &input.name, 200);
    let uscc = check_uscc(&mut c, OrgKind::Enterprise, Some(&input.uscc));
    let contact_name = c.line("contact_name", &input.contact_name, 100);
    let contact_email = c.opt_email("contact_email", Some(&input.contact_email));
    if contact_email.is_none() && input.contact_email.trim().is_empty() {
        c.add("contact_email", "must not be empty");
    }
    let region = c.opt_line("region", input.region.as_deref(), 100);
    let username = users::check_username(&mut c, &input.username);
    c.check(
        "password",
        crate::auth::password::check_password_rules(&input.password),
    );
    c.finish()?;
    ensure_uscc_free(conn, uscc.as_deref()).await?;
    users::ensure_username_free(conn, &username).await?;
    let org = new_org(
        OrgKind::Enterprise,
        name,
        uscc,
        region,
        Some(contact_name.clone()),
        contact_email.clone(),
        false,
        now,
    )
    .insert(conn)
    .await?;
    let hash = state.passwords.hash(input.password).await?;
    let user = users::insert(
        conn,
        now,
        username,
        hash,
        contact_name,
        contact_email,
        Role::Enterprise,
        Some(org.id),
    )
    .await?;
    let out = Registered {
        organization: org.into(),
        user: user.into(),
    };
    Change {
        at: now,
        actor: Some(out.user.id),
        action: "enterprise.register",
        object_type: "organization",
        object_id: out.organization.id.to_string(),
    }
    .record(conn, None::<&()>, Some(&out.organization))
    .await?;
    Ok(out)
}

/// Loads an organization the caller may see, else 404.
pub async fn find_visible(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<organization::Model> {
    organization::Entity::find_by_id(id)
        .filter(scope::organizations(actor))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// One organization with its qualifications.
pub async fn get(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<OrganizationView> {
    let org = find_visible(conn, actor, id).await?;
    let mut view = OrganizationView::from(org);
    view.qualifications = Some(qualifications::of(conn, id).await?);
    Ok(view)
}

/// The organizations the caller may see.
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    filter: OrganizationFilter,
    page: &PageQuery,
) -> AppResult<Page<OrganizationView>> {
    let mut q = organization::Entity::find().filter(scope::organizations(actor));
    if let Some(kind) = filter.kind {
        q = q.filter(organization::Column::Kind.eq(kind));
    }
    let page = pagination::fetch(
        conn,
        q,
        organization::Column::Id,
        page,
        |o: &organization::Model| o.id,
    )
    .await?;
    Ok(page.map(OrganizationView::from))
}

/// Marks an organization verified (admin, service centre). Verifying twice changes nothing.
pub async fn verify(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
) -> AppResult<(OrganizationView, bool)> {
    actor.require(&[Role::Admin, Role::ServiceCenter])?;
    let org = find_visible(conn, actor, id).await?;
    if org.verified {
        return Ok((org.into(), false));
    }
    let before = OrganizationView::from(org.clone());
    let mut am: organization::ActiveModel = org.into();
    am.verified = Set(true);
    am.updated_at = Set(now);
    let view = OrganizationView::from(am.update(conn).await?);
    Change {
        at: now,
        actor: Some(actor.id),
        action: "organization.verify",
        object_type: "organization",
        object_id: id.to_string(),
    }
    .record(conn, Some(&before), Some(&view))
    .await?;
    // The welcome commits (or not) with the verification; the dispatcher job sends the mail:
    // to the enterprise's users, or its contact address when none of them has one.
    if view.kind == OrgKind::Enterprise {
        use jobs::notify::{Audience, Mail, Notice, Object, notify};
        let template = jobs::mail::Template::Welcome {
            organization_name: view.name.clone(),
            contact_name: view.contact_name.clone(),
        };
        notify(
            conn,
            now,
            Audience::organization(id),
            Notice::new(
                entity::enums::NotificationKind::OrganizationVerified,
                Some(Object::organization(id)),
                format!("{}已通过企业认证", view.name),
                "贵单位已通过链通产业链服务平台的企业认证，可以提交诉求、申请融资和资金支持。",
            ),
            Some(Mail::now(template)),
        )
        .await?;
    }
    Ok((view, true))
}

/// The name of an organization, as mails and notifications call it (the one lookup, in
/// `jobs::notify`).
pub(crate) use jobs::notify::name_of;
