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
        let orgs: Vec<(Uuid, bool)> = organization::Entity::find()
            .select_only()
            .columns([organization::Column::Id, organization::Column::Verified])
            .filter(organization::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        for (id, verified) in orgs {
            out.entry(id).or_default().verified = verified;
        }
        let members: Vec<(Uuid, Uuid, MemberRole)> = chain_member::Entity::find()
            .select_only()
            .columns([
                chain_member::Column::OrganizationId,
                chain_member::Column::ChainId,
                chain_member::Column::Role,
            ])
            .filter(chain_member::Column::OrganizationId.is_in(chunk.iter().copied()))
            .filter(chain_member::Column::Status.eq(MembershipStatus::Active))
            .into_tuple()
            .all(conn)
            .await?;
        for (org, chain_id, role) in members {
            out.entry(org)
                .or_default()
                .memberships
                .push(Membership { chain_id, role });
        }
        let quals: Vec<(Uuid, QualificationKind, NaiveDate, Option<NaiveDate>)> =
            qualification::Entity::find()
                .select_only()
                .columns([
                    qualification::Column::OrganizationId,
                    qualification::Column::Kind,
                    qualification::Column::ValidFrom,
                    qualification::Column::ValidUntil,
                ])
                .filter(qualification::Column::OrganizationId.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(conn)
                .await?;
        for (org, kind, valid_from, valid_until) in quals {
            out.entry(org).or_default().qualifications.push(Held {
                kind,
                valid_from,
                valid_until,
            });
        }
    }
    // Memberships in chain-id order, so the chain an enterprise qualifies through is stable.
    for f in out.values_mut() {
        f.memberships.sort_by_key(|m| m.chain_id);
    }
    Ok(out)
}

/// The facts of one enterprise.
pub async fn facts_of(conn: &impl ConnectionTrait, id: Uuid) -> Result<EnterpriseFacts, DbErr> {
    Ok(facts(conn, &[id]).await?.remove(&id).unwrap_or_default())
}
