//! The facts fund eligibility looks at, loaded for one enterprise or many at once; the rules
//! themselves are pure, in `entity::eligibility`.

use chrono::NaiveDate;
use entity::{
    chain, chain_member,
    eligibility::{self, Facts, Held, Membership, Rules, Verdict},
    enums::{MemberRole, MembershipStatus, QualificationKind},
    organization, qualification,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// Ids per `IN (...)` list.
const CHUNK: usize = 2_000;

/// One enterprise's facts.
#[derive(Clone, Debug, Default)]
pub struct EnterpriseFacts {
    pub verified: bool,
    pub memberships: Vec<Membership>,
    pub qualifications: Vec<Held>,
}

impl EnterpriseFacts {
    /// Decides `rules` for this enterprise on `today`.
    pub fn decide(
        &self,
        rules: &Rules,
        today: NaiveDate,
        chain_names: &HashMap<Uuid, String>,
    ) -> Verdict {
        eligibility::decide(
            rules,
            &Facts {
                verified: self.verified,
                memberships: &self.memberships,
                qualifications: &self.qualifications,
                today,
                chain_names,
            },
        )
    }
}

/// Every chain's name, by id (the reasons name chains).
pub async fn chain_names(conn: &impl ConnectionTrait) -> Result<HashMap<Uuid, String>, DbErr> {
    let rows: Vec<(Uuid, String)> = chain::Entity::find()
        .select_only()
        .columns([chain::Column::Id, chain::Column::Name])
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The facts of enterprises `ids` (an id that is no organization gets none: unverified, no
/// memberships, no qualifications).
pub async fn facts(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, EnterpriseFacts>, DbErr> {
    let mut out: HashMap<Uuid, EnterpriseFacts> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        load(
            conn,
            organization::Column::Id.is_in(chunk.iter().copied()),
            chain_member::Column::OrganizationId.is_in(chunk.iter().copied()),
            qualification::Column::OrganizationId.is_in(chunk.iter().copied()),
            &mut out,
        )
        .await?;
    }
    Ok(sorted(out))
}

/// The facts of the organizations whose ids are in `(after, last]`: the window-opening job's
/// batch, read with three range scans (no id lists: the cost follows the batch, not the table).
pub async fn facts_in_range(
    conn: &impl ConnectionTrait,
    after: Option<Uuid>,
    last: Uuid,
) -> Result<HashMap<Uuid, EnterpriseFacts>, DbErr> {
    let mut out = HashMap::new();
    load(
        conn,
        range(organization::Column::Id, after, last),
        range(chain_member::Column::OrganizationId, after, last),
        range(qualification::Column::OrganizationId, after, last),
        &mut out,
    )
    .await?;
    Ok(sorted(out))
}

/// `col` in `(after, last]`.
fn range(col: impl ColumnTrait, after: Option<Uuid>, last: Uuid) -> sea_orm::Condition {
    let mut c = sea_orm::Condition::all().add(col.lte(last));
    if let Some(a) = after {
        c = c.add(col.gt(a));
    }
    c
}

/// Adds the facts of the organizations, memberships and qualifications the conditions select.
async fn load(
    conn: &impl ConnectionTrait,
    orgs: impl sea_orm::sea_query::IntoCondition,
    members: impl sea_orm::sea_query::IntoCondition,
    quals: impl sea_orm::sea_query::IntoCondition,
    out: &mut HashMap<Uuid, EnterpriseFacts>,
) -> Result<(), DbErr> {
    let rows: Vec<(Uuid, bool)> = organization::Entity::find()
        .select_only()
        .columns([organization::Column::Id, organization::Column::Verified])
        .filter(orgs)
        .into_tuple()
        .all(conn)
        .await?;
    for (id, verified) in rows {
        out.entry(id).or_default().verified = verified;
    }
    let rows: Vec<(Uuid, Uuid, MemberRole)> = chain_member::Entity::find()
        .select_only()
        .columns([
            chain_member::Column::OrganizationId,
            chain_member::Column::ChainId,
            chain_member::Column::Role,
        ])
        .filter(members)
        .filter(chain_member::Column::Status.eq(MembershipStatus::Active))
        .into_tuple()
        .all(conn)
        .await?;
    for (org, chain_id, role) in rows {
        out.entry(org)
            .or_default()
            .memberships
            .push(Membership { chain_id, role });
    }
    let rows: Vec<(Uuid, QualificationKind, NaiveDate, Option<NaiveDate>)> =
        qualification::Entity::find()
            .select_only()
            .columns([
                qualification::Column::OrganizationId,
                qualification::Column::Kind,
                qualification::Column::ValidFrom,
                qualification::Column::ValidUntil,
            ])
            .filter(quals)
            .into_tuple()
            .all(conn)
            .await?;
    for (org, kind, valid_from, valid_until) in rows {
        out.entry(org).or_default().qualifications.push(Held {
            kind,
            valid_from,
            valid_until,
        });
    }
    Ok(())
}

/// Memberships in chain-id order, so the chain an enterprise qualifies through is stable.
fn sorted(mut out: HashMap<Uuid, EnterpriseFacts>) -> HashMap<Uuid, EnterpriseFacts> {
    for f in out.values_mut() {
        f.memberships.sort_by_key(|m| m.chain_id);
    }
    out
}

/// The facts of one enterprise.
pub async fn facts_of(conn: &impl ConnectionTrait, id: Uuid) -> Result<EnterpriseFacts, DbErr> {
    Ok(facts(conn, &[id]).await?.remove(&id).unwrap_or_default())
}
