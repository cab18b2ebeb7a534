//! What the engine needs to know about a subject, one small resolver per subject type: its
//! number and title, its status (for the monitor's timeline lines), who holds it now, who is
//! told on a breach besides the holder, and who an escalation goes to.
//!
//! The monitor calls [`resolve`] inside the transaction that claims the clocks, before the
//! claim, with the subjects' rows locked for share on PostgreSQL (a concurrent transfer either
//! commits first and is seen, or waits): a breach is told to whoever holds the subject when it
//! is recorded. Locking the subject before its clocks is the order every action takes too, so
//! the monitor and an action cannot deadlock.

use entity::{
    appeal, chain,
    enums::{FundStatus, OrgKind, SubjectType},
    financing_request, fund_application, fund_program, organization, risk_claim,
    subject::Subject,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// An organization the engine tells something.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub id: Uuid,
    pub name: String,
}

/// A subject as the engine sees it.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub subject: Subject,
    /// Its readable number (`SQ20261123-000123`, ...).
    pub number: String,
    pub title: String,
    /// Its status code now (the monitor's lines keep it).
    pub status: String,
    /// Who holds it now (`None`: nobody yet, e.g. an unrouted appeal).
    pub holder: Option<Party>,
    /// Told of a breach besides the holder.
    pub breach_watchers: Vec<Party>,
    /// Told of an escalation.
    pub escalate_to: Vec<Party>,
}

/// The subjects `ids` of type `kind`, by id (locked for share on PostgreSQL).
pub async fn resolve(
    conn: &impl ConnectionTrait,
    kind: SubjectType,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Resolved>, DbErr> {
    match kind {
        SubjectType::Appeal => appeals(conn, ids).await,
        SubjectType::FinancingRequest => financing_requests(conn, ids).await,
        SubjectType::FundApplication => fund_applications(conn, ids).await,
        SubjectType::RiskClaim => risk_claims(conn, ids).await,
    }
}

/// Appeals: held by their department; a breach is also told to the service centres; an
/// escalation goes to the chain's office, or the service centres for an appeal of no chain.
async fn appeals(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Resolved>, DbErr> {
    let mut q = appeal::Entity::find().filter(appeal::Column::Id.is_in(ids.iter().copied()));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_shared();
    }
    let rows = q.all(conn).await?;
    let chains: HashMap<Uuid, Uuid> = chain::Entity::find()
        .filter(chain::Column::Id.is_in(rows.iter().filter_map(|a| a.chain_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.office_organization_id))
        .collect();
    let mut wanted: Vec<Uuid> = rows.iter().filter_map(|a| a.department_id).collect();
    wanted.extend(chains.values().copied());
    let orgs = parties(conn, wanted).await?;
    let centres = service_centres(conn).await?;
    Ok(rows
        .into_iter()
        .map(|a| {
            let office = a
                .chain_id
                .and_then(|c| chains.get(&c))
                .and_then(|o| orgs.get(o))
                .cloned();
            let resolved = Resolved {
                subject: Subject::appeal(a.id),
                number: a.number,
                title: a.title,
                status: a.status.code(),
                holder: a.department_id.and_then(|d| orgs.get(&d).cloned()),
                breach_watchers: centres.clone(),
                escalate_to: match office {
                    Some(o) => vec![o],
                    None => centres.clone(),
                },
            };
            (a.id, resolved)
        })
        .collect())
}

/// Financing requests: held by the bank they are routed to; a breach is also told to the
/// service centres; an escalation goes to the chain's office.
async fn financing_requests(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Resolved>, DbErr> {
    let mut q = financing_request::Entity::find()
        .filter(financing_request::Column::Id.is_in(ids.iter().copied()));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_shared();
    }
    let rows = q.all(conn).await?;
    let chains: HashMap<Uuid, Uuid> = chain::Entity::find()
        .filter(chain::Column::Id.is_in(rows.iter().map(|r| r.chain_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.office_organization_id))
        .collect();
    let mut wanted: Vec<Uuid> = rows.iter().map(|r| r.bank_id).collect();
    wanted.extend(chains.values().copied());
    let orgs = parties(conn, wanted).await?;
    let centres = service_centres(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let office = chains.get(&r.chain_id).and_then(|o| orgs.get(o)).cloned();
            let resolved = Resolved {
                subject: Subject::financing_request(r.id),
                title: format!(
                    "{} {} 元",
                    r.product.label_zh(),
                    entity::money::Money::from_fen(r.amount_fen)
                ),
                number: r.number,
                status: r.status.code(),
                holder: orgs.get(&r.bank_id).cloned(),
                breach_watchers: centres.clone(),
                escalate_to: match office {
                    Some(o) => vec![o],
                    None => centres.clone(),
                },
            };
            (r.id, resolved)
        })
        .collect())
}

/// Fund applications: in initial review held by the office of the chain the enterprise applied
/// through, escalated to the fund office; in final review (or in initial review when it came
/// through no chain, which the fund office reviews first) held by the fund office, escalated to
/// the service centres. A breach is also told to the service centres.
async fn fund_applications(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Resolved>, DbErr> {
    let mut q = fund_application::Entity::find()
        .filter(fund_application::Column::Id.is_in(ids.iter().copied()));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_shared();
    }
    let rows = q.all(conn).await?;
    let chains: HashMap<Uuid, Uuid> = chain::Entity::find()
        .filter(chain::Column::Id.is_in(rows.iter().filter_map(|a| a.chain_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.office_organization_id))
        .collect();
    let orgs = parties(conn, chains.values().copied().collect()).await?;
    let centres = of_kind(conn, OrgKind::ServiceCenter).await?;
    let funds = of_kind(conn, OrgKind::FundOffice).await?;
    Ok(rows
        .into_iter()
        .map(|a| {
            let office = a
                .chain_id
                .and_then(|c| chains.get(&c))
                .and_then(|o| orgs.get(o))
                .cloned();
            let initial = matches!(a.status, FundStatus::Submitted | FundStatus::Returned);
            let (holder, escalate_to) = if initial && office.is_some() {
                (office, funds.clone())
            } else {
                (funds.first().cloned(), centres.clone())
            };
            let resolved = Resolved {
                subject: Subject::fund_application(a.id),
                number: a.number,
                title: a.project_title,
                status: a.status.code(),
                holder,
                breach_watchers: centres.clone(),
                escalate_to,
            };
            (a.id, resolved)
        })
        .collect())
}

/// Risk claims: held by the fund office; a breach is also told to the service centres, an
/// escalation goes to them.
async fn risk_claims(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Resolved>, DbErr> {
    let mut q =
        risk_claim::Entity::find().filter(risk_claim::Column::Id.is_in(ids.iter().copied()));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_shared();
    }
    let rows = q.all(conn).await?;
    let programs: HashMap<Uuid, String> = fund_program::Entity::find()
        .filter(fund_program::Column::Id.is_in(rows.iter().map(|c| c.program_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let centres = of_kind(conn, OrgKind::ServiceCenter).await?;
    let funds = of_kind(conn, OrgKind::FundOffice).await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let resolved = Resolved {
                subject: Subject::risk_claim(c.id),
                title: format!(
                    "{} 损失 {} 元",
                    programs
                        .get(&c.program_id)
                        .map(String::as_str)
                        .unwrap_or(""),
                    entity::money::Money::from_fen(c.loss_amount_fen)
                ),
                number: c.number,
                status: c.status.code(),
                holder: funds.first().cloned(),
                breach_watchers: centres.clone(),
                escalate_to: centres.clone(),
            };
            (c.id, resolved)
        })
        .collect())
}

/// Names of organizations `ids`, by id.
async fn parties(
    conn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Party>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| {
            (
                o.id,
                Party {
                    id: o.id,
                    name: o.name,
                },
            )
        })
        .collect())
}

/// Every service centre.
async fn service_centres(conn: &impl ConnectionTrait) -> Result<Vec<Party>, DbErr> {
    of_kind(conn, OrgKind::ServiceCenter).await
}

/// Every organization of `kind`, oldest first.
async fn of_kind(conn: &impl ConnectionTrait, kind: OrgKind) -> Result<Vec<Party>, DbErr> {
    use sea_orm::QueryOrder;
    Ok(organization::Entity::find()
        .filter(organization::Column::Kind.eq(kind))
        .order_by_asc(organization::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|o| Party {
            id: o.id,
            name: o.name,
        })
        .collect())
}
