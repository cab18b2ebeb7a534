//! The facts fund eligibility looks at, loaded for one enterprise or many at once; the rules
//! themselves are pure, in `entity::eligibility`.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    chain, chain_member,
    eligibility::{self, Facts, Held, Membership, Rules, Verdict},
    enums::{MemberRole, MembershipStatus, QualificationKind},
    organization, qualification,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, QueryResult,
    sea_query::{Expr, IntoCondition, Query, SelectStatement, UnionType},
};
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
    Ok(names_from(&read_tagged(conn, vec![chain_branch()]).await?))
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
/// batch, read with one statement of three range scans (no id lists: the cost follows the
/// batch, not the table).
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

/// Adds the facts of the organizations, memberships and qualifications the conditions select,
/// read in one statement.
async fn load(
    conn: &impl ConnectionTrait,
    orgs: impl IntoCondition,
    members: impl IntoCondition,
    quals: impl IntoCondition,
    out: &mut HashMap<Uuid, EnterpriseFacts>,
) -> Result<(), DbErr> {
    for r in read_tagged(conn, fact_branches(orgs, members, quals)).await? {
        if let Some(org) = r.b {
            apply(out.entry(org).or_default(), &r)?;
        }
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

/// The facts of one enterprise and every chain's name: what deciding its eligibility needs, in
/// one statement (see [`Tagged`]).
pub async fn context_of(
    conn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<(EnterpriseFacts, HashMap<Uuid, String>), DbErr> {
    let rows = read_tagged(conn, context_branches(id)).await?;
    Ok((facts_from(&rows)?, names_from(&rows)))
}

/// The slots of a [`Tagged`] row after its tag: name and typed `NULL`.
const SLOTS: [(&str, &str); 8] = [
    ("a", "CAST(NULL AS uuid)"),
    ("b", "CAST(NULL AS uuid)"),
    ("n", "CAST(NULL AS bigint)"),
    ("n2", "CAST(NULL AS bigint)"),
    ("t", "CAST(NULL AS text)"),
    ("d1", "CAST(NULL AS date)"),
    ("d2", "CAST(NULL AS date)"),
    ("at", "CAST(NULL AS timestamptz)"),
];

/// One row of a read that gathers several kinds of rows in one statement: a `UNION ALL` whose
/// branches ([`branch`]) each select a tag naming the kind and eight typed slots (two ids, two
/// numbers, a text, two dates, an instant), NULL where the branch has nothing, so that every
/// branch has the same column types on both databases. One enterprise's eligibility context is
/// four kinds of rows (the enterprise, its memberships, its qualifications, the chain names);
/// the eligibility list adds what validates its previous answer, and so reads everything it
/// needs in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tagged {
    pub tag: String,
    pub a: Option<Uuid>,
    pub b: Option<Uuid>,
    pub n: Option<i64>,
    pub n2: Option<i64>,
    pub t: Option<String>,
    pub d1: Option<NaiveDate>,
    pub d2: Option<NaiveDate>,
    pub at: Option<DateTime<Utc>>,
}

impl Tagged {
    /// Decodes a row by position with sqlx, for which a `NULL` costs nothing (sea-orm's getters
    /// format an error message for every `NULL` they meet, and most slots are `NULL`).
    fn of(row: &QueryResult) -> Result<Self, DbErr> {
        use sea_orm::sqlx::Row;
        macro_rules! decode {
            ($r:expr) => {
                Tagged {
                    tag: $r.try_get(0)?,
                    a: $r.try_get(1)?,
                    b: $r.try_get(2)?,
                    n: $r.try_get(3)?,
                    n2: $r.try_get(4)?,
                    t: $r.try_get(5)?,
                    d1: $r.try_get(6)?,
                    d2: $r.try_get(7)?,
                    at: $r.try_get(8)?,
                }
            };
        }
        let decoded = (|| -> Result<Option<Self>, sea_orm::sqlx::Error> {
            if let Some(r) = row.try_as_pg_row() {
                return Ok(Some(decode!(r)));
            }
            if let Some(r) = row.try_as_sqlite_row() {
                return Ok(Some(decode!(r)));
            }
            Ok(None)
        })()
        .map_err(|e| DbErr::Type(format!("a tagged row: {e}")))?;
        decoded.ok_or_else(|| DbErr::Type("a tagged row from neither PostgreSQL nor SQLite".into()))
    }
}

/// A branch of a tagged read: `base` (its `FROM` and `WHERE`) selecting `tag` and the slots
/// named in `set` (the others `NULL`).
pub fn branch(
    tag: &'static str,
    mut base: SelectStatement,
    mut set: Vec<(&'static str, Expr)>,
) -> SelectStatement {
    debug_assert!(set.iter().all(|(n, _)| SLOTS.iter().any(|(s, _)| s == n)));
    base.expr_as(Expr::val(tag), "tag");
    for (name, null) in SLOTS {
        let e = match set.iter().position(|(n, _)| *n == name) {
            Some(i) => set.swap_remove(i).1,
            None => Expr::cust(null),
        };
        base.expr_as(e, name);
    }
    base
}

/// Runs the branches as one `UNION ALL` statement (rows in no particular order).
pub async fn read_tagged(
    conn: &impl ConnectionTrait,
    branches: Vec<SelectStatement>,
) -> Result<Vec<Tagged>, DbErr> {
    let mut branches = branches.into_iter();
    let Some(mut q) = branches.next() else {
        return Ok(Vec::new());
    };
    q.unions(branches.map(|b| (UnionType::All, b)));
    conn.query_all(&q).await?.iter().map(Tagged::of).collect()
}

/// The branches of one enterprise's eligibility context: its facts ([`fact_branches`], the
/// same as [`load`] reads for many) and every chain's name.
pub fn context_branches(id: Uuid) -> Vec<SelectStatement> {
    let mut branches = fact_branches(
        organization::Column::Id.eq(id),
        chain_member::Column::OrganizationId.eq(id),
        qualification::Column::OrganizationId.eq(id),
    );
    branches.push(chain_branch());
    branches
}

/// The branches of the facts of the organizations, memberships and qualifications the
/// conditions select, each row with its organization in slot `b`: `o` an organization (`n`: 1
/// if verified), `m` an active membership (`a` the chain, `t` the role), `q` a qualification
/// (`t` the kind, `d1`–`d2` its validity).
fn fact_branches(
    orgs: impl IntoCondition,
    members: impl IntoCondition,
    quals: impl IntoCondition,
) -> Vec<SelectStatement> {
    use chain_member::Column as M;
    use organization::Column as O;
    use qualification::Column as Q;
    let verified = Expr::case(O::Verified.eq(true), 1i64).finally(0i64);
    vec![
        branch(
            "o",
            Query::select()
                .from(organization::Entity)
                .cond_where(orgs)
                .to_owned(),
            vec![("b", Expr::col(O::Id)), ("n", verified.into())],
        ),
        branch(
            "m",
            Query::select()
                .from(chain_member::Entity)
                .cond_where(members)
                .and_where(M::Status.eq(MembershipStatus::Active))
                .to_owned(),
            vec![
                ("b", Expr::col(M::OrganizationId)),
                ("a", Expr::col(M::ChainId)),
                ("t", Expr::col(M::Role)),
            ],
        ),
        branch(
            "q",
            Query::select()
                .from(qualification::Entity)
                .cond_where(quals)
                .to_owned(),
            vec![
                ("b", Expr::col(Q::OrganizationId)),
                ("t", Expr::col(Q::Kind)),
                ("d1", Expr::col(Q::ValidFrom)),
                ("d2", Expr::col(Q::ValidUntil)),
            ],
        ),
    ]
}

/// The branch of every chain's name (`c`: `a` the chain, `t` its name).
fn chain_branch() -> SelectStatement {
    branch(
        "c",
        Query::select().from(chain::Entity).to_owned(),
        vec![
            ("a", Expr::col(chain::Column::Id)),
            ("t", Expr::col(chain::Column::Name)),
        ],
    )
}

/// Adds a fact row (`o`, `m` or `q`) to `f`; other rows leave it as it is.
fn apply(f: &mut EnterpriseFacts, r: &Tagged) -> Result<(), DbErr> {
    let bad =
        |what: &str| DbErr::Type(format!("eligibility facts: a {what} row without its value"));
    match r.tag.as_str() {
        "o" => f.verified = r.n.ok_or_else(|| bad("organization"))? == 1,
        "m" => f.memberships.push(Membership {
            chain_id: r.a.ok_or_else(|| bad("membership"))?,
            role: MemberRole::try_from_value(r.t.as_ref().ok_or_else(|| bad("membership"))?)?,
        }),
        "q" => f.qualifications.push(Held {
            kind: QualificationKind::try_from_value(
                r.t.as_ref().ok_or_else(|| bad("qualification"))?,
            )?,
            valid_from: r.d1.ok_or_else(|| bad("qualification"))?,
            valid_until: r.d2,
        }),
        _ => {}
    }
    Ok(())
}

/// The enterprise's facts among tagged rows (an enterprise with no `o` row gets none).
pub fn facts_from(rows: &[Tagged]) -> Result<EnterpriseFacts, DbErr> {
    let mut f = EnterpriseFacts::default();
    for r in rows {
        apply(&mut f, r)?;
    }
    f.memberships.sort_by_key(|m| m.chain_id);
    Ok(f)
}

/// The chain names among tagged rows.
pub fn names_from(rows: &[Tagged]) -> HashMap<Uuid, String> {
    rows.iter()
        .filter(|r| r.tag == "c")
        .filter_map(|r| Some((r.a?, r.t.clone()?)))
        .collect()
}
