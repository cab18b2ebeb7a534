//! Fund programs (资金项目): created by the fund office with a budget, a window and eligibility
//! rules; shown to every signed-in user with what is committed, disbursed and remaining; and the
//! enterprise's explained eligibility for every open program.

use crate::{
    auth::AuthUser,
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
    services::validate::{Checks, instant_in_range},
};
use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use entity::{
    calendar_setting, chain,
    eligibility::Rules,
    enums::{FundKind, FundStatus, Role},
    fund_application,
    fund_program::{self, Column as P},
    money::{Money, Rate},
};
use jobs::{
    calendar::CalendarLoader,
    funds::eligibility::{branch, context_branches, facts_from, names_from, read_tagged},
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, Func, Query},
};
use serde::{Deserialize, Serialize};
use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    sync::Arc,
};
use uuid::Uuid;

/// A fund program as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundProgramView {
    pub id: Uuid,
    pub name: String,
    pub kind: FundKind,
    pub kind_label: &'static str,
    #[schema(value_type = String, example = "50000000.00")]
    pub budget: Money,
    #[schema(value_type = String, example = "500000.00")]
    pub max_per_application: Money,
    /// Reserved by approvals (and claims) and not released.
    #[schema(value_type = String, example = "1500000.00")]
    pub committed: Money,
    #[schema(value_type = String, example = "1000000.00")]
    pub disbursed: Money,
    /// `budget - committed`.
    #[schema(value_type = String, example = "48500000.00")]
    pub remaining: Money,
    /// Covered shares of recoveries that came back (risk compensation).
    #[schema(value_type = String, example = "0.00")]
    pub recovered: Money,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub opens_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub closes_at: DateTime<Utc>,
    /// Applications are accepted now (`opens_at <= now < closes_at`).
    pub open: bool,
    pub eligibility: Rules,
    pub notice_working_days: i32,
    pub review_working_days: i32,
    pub apply_free: bool,
    #[schema(value_type = Option<String>, example = "200000.00")]
    pub fixed_amount: Option<Money>,
    #[schema(value_type = Option<String>, example = "80")]
    pub coverage_percent: Option<Rate>,
    #[schema(value_type = Option<String>, example = "2000000.00")]
    pub max_per_claim: Option<Money>,
    /// When the window-opening job told the eligible enterprises (or made the awards).
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub opened_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
}

impl FundProgramView {
    pub fn of(p: fund_program::Model, now: DateTime<Utc>) -> Self {
        Self {
            open: p.is_open(now),
            eligibility: p.rules(),
            id: p.id,
            name: p.name,
            kind: p.kind,
            kind_label: p.kind.label_zh(),
            budget: Money::from_fen(p.budget_fen),
            max_per_application: Money::from_fen(p.max_per_application_fen),
            committed: Money::from_fen(p.committed_fen),
            disbursed: Money::from_fen(p.disbursed_fen),
            remaining: Money::from_fen(p.budget_fen - p.committed_fen),
            recovered: Money::from_fen(p.recovered_fen),
            opens_at: p.opens_at,
            closes_at: p.closes_at,
            notice_working_days: p.notice_working_days,
            review_working_days: p.review_working_days,
            apply_free: p.apply_free,
            fixed_amount: p.fixed_amount_fen.map(Money::from_fen),
            coverage_percent: p.coverage_e4.map(Rate::from_e4),
            max_per_claim: p.max_per_claim_fen.map(Money::from_fen),
            opened_at: p.opened_at,
            created_at: p.created_at,
        }
    }
}

/// `POST /fund-programs`. Amounts are decimal strings.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFundProgram {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: FundKind,
    #[serde(default)]
    #[schema(value_type = String, example = "50000000.00")]
    pub budget: serde_json::Value,
    #[serde(default)]
    #[schema(value_type = String, example = "500000.00")]
    pub max_per_application: serde_json::Value,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    #[serde(default)]
    pub eligibility: Rules,
    #[schema(minimum = 0, maximum = 60)]
    pub notice_working_days: i32,
    #[schema(minimum = 1, maximum = 60)]
    pub review_working_days: i32,
    /// Award programs only: applications are created for every eligible enterprise at the
    /// opening (免申即享), at `fixed_amount`.
    #[serde(default)]
    pub apply_free: bool,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "200000.00")]
    pub fixed_amount: serde_json::Value,
    /// Risk compensation only: the covered share of a loss, percent.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "80")]
    pub coverage_percent: serde_json::Value,
    /// Risk compensation only: the most one claim pays.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2000000.00")]
    pub max_per_claim: serde_json::Value,
}

/// `GET /fund-programs` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct FundProgramFilter {
    pub kind: Option<FundKind>,
    /// Only programs accepting applications now (`true`) or not (`false`).
    pub open: Option<bool>,
}

/// Creates a program (the fund office).
pub async fn create(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewFundProgram,
) -> AppResult<FundProgramView> {
    actor.require(&[Role::FundOffice])?;
    let opens_at = instant_in_range("opens_at", input.opens_at)?;
    let closes_at = instant_in_range("closes_at", input.closes_at)?;
    let mut c = Checks::new();
    let name = c.line("name", &input.name, 200);
    let budget = c.money("budget", &input.budget, true);
    let max = c.money("max_per_application", &input.max_per_application, true);
    if let (Some(b), Some(m)) = (budget, max)
        && m.fen() > b.fen()
    {
        c.add("max_per_application", "must not exceed the budget");
    }
    if input.closes_at <= input.opens_at {
        c.add("closes_at", "must be after opens_at");
    }
    if !(0..=60).contains(&input.notice_working_days) {
        c.add("notice_working_days", "must be between 0 and 60");
    }
    if !(1..=60).contains(&input.review_working_days) {
        c.add("review_working_days", "must be between 1 and 60");
    }
    let mut rules = input.eligibility;
    dedup(&mut rules.chain_ids);
    dedup(&mut rules.qualifications_any);
    dedup(&mut rules.qualifications_all);
    dedup(&mut rules.member_roles);
    if !rules.chain_ids.is_empty() {
        let found = chain::Entity::find()
            .filter(chain::Column::Id.is_in(rules.chain_ids.clone()))
            .count(conn)
            .await?;
        if found != rules.chain_ids.len() as u64 {
            c.add("eligibility.chain_ids", "names a chain that does not exist");
        }
    }
    let award = input.kind == FundKind::Award;
    let risk = input.kind == FundKind::RiskCompensation;
    if input.apply_free && !award {
        c.add("apply_free", "only an award program may be apply-free");
    }
    let fixed = c.opt_money("fixed_amount", &input.fixed_amount).flatten();
    match (input.apply_free, fixed) {
        (true, None) => c.add("fixed_amount", "is required for an apply-free award"),
        (false, Some(_)) => c.add("fixed_amount", "applies to apply-free awards only"),
        (true, Some(f)) if max.is_some_and(|m| f.fen() > m.fen()) => {
            c.add("fixed_amount", "must not exceed max_per_application")
        }
        _ => {}
    }
    let coverage = if input.coverage_percent.is_null() {
        None
    } else {
        c.rate("coverage_percent", &input.coverage_percent)
    };
    let per_claim = c.opt_money("max_per_claim", &input.max_per_claim).flatten();
    if risk {
        if input.coverage_percent.is_null() {
            c.add(
                "coverage_percent",
                "is required for a risk-compensation program",
            );
        }
        match (per_claim, budget) {
            (None, _) if input.max_per_claim.is_null() => c.add(
                "max_per_claim",
                "is required for a risk-compensation program",
            ),
            (Some(p), Some(b)) if p.fen() > b.fen() => {
                c.add("max_per_claim", "must not exceed the budget")
            }
            _ => {}
        }
    } else {
        if !input.coverage_percent.is_null() {
            c.add(
                "coverage_percent",
                "applies to risk-compensation programs only",
            );
        }
        if !input.max_per_claim.is_null() {
            c.add(
                "max_per_claim",
                "applies to risk-compensation programs only",
            );
        }
    }
    c.finish()?;
    let (Some(budget), Some(max)) = (budget, max) else {
        return Err(AppError::invalid("budget", "is required"));
    };
    let eligibility = serde_json::to_string(&rules)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("eligibility: {e}")))?;
    let p = fund_program::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        kind: Set(input.kind),
        budget_fen: Set(budget.fen()),
        max_per_application_fen: Set(max.fen()),
        committed_fen: Set(0),
        disbursed_fen: Set(0),
        recovered_fen: Set(0),
        opens_at: Set(opens_at),
        closes_at: Set(closes_at),
        eligibility: Set(eligibility),
        notice_working_days: Set(input.notice_working_days),
        review_working_days: Set(input.review_working_days),
        apply_free: Set(input.apply_free),
        fixed_amount_fen: Set(fixed.map(Money::fen)),
        coverage_e4: Set(if risk { coverage.map(Rate::e4) } else { None }),
        max_per_claim_fen: Set(if risk {
            per_claim.map(Money::fen)
        } else {
            None
        }),
        opened_at: Set(None),
        push_cursor: Set(None),
        created_by: Set(actor.id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(FundProgramView::of(p, now))
}

fn dedup<T: PartialEq + Clone>(v: &mut Vec<T>) {
    let mut seen: Vec<T> = Vec::with_capacity(v.len());
    v.retain(|x| {
        if seen.contains(x) {
            false
        } else {
            seen.push(x.clone());
            true
        }
    });
}

/// The programs, oldest first (public to every signed-in user: they are published policy).
pub async fn list(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    filter: &FundProgramFilter,
    page: &PageQuery,
) -> AppResult<Page<FundProgramView>> {
    let mut q = fund_program::Entity::find();
    if let Some(k) = filter.kind {
        q = q.filter(P::Kind.eq(k));
    }
    match filter.open {
        Some(true) => q = q.filter(P::OpensAt.lte(now)).filter(P::ClosesAt.gt(now)),
        Some(false) => {
            q = q.filter(
                sea_orm::Condition::any()
                    .add(P::OpensAt.gt(now))
                    .add(P::ClosesAt.lte(now)),
            )
        }
        None => {}
    }
    let page = pagination::fetch(conn, q, P::Id, page, |p: &fund_program::Model| p.id).await?;
    Ok(page.map(|p| FundProgramView::of(p, now)))
}

/// One program.
pub async fn get(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    id: Uuid,
) -> AppResult<FundProgramView> {
    Ok(FundProgramView::of(super::program(conn, id).await?, now))
}

/// One open program and whether the calling enterprise may apply, explained.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EligibleProgram {
    #[serde(flatten)]
    pub program: FundProgramView,
    pub eligible: bool,
    /// Every unmet rule, in Chinese (empty when eligible).
    pub reasons: Vec<String>,
    /// Every met rule, in Chinese.
    pub basis: Vec<String>,
    /// The enterprise's live application in the program, if any.
    pub application_id: Option<Uuid>,
}

/// One program of the eligibility list, rendered once per row version: the program's JSON
/// without its closing brace, and its parsed rules. Only the verdict is computed per request.
pub struct ProgramItem {
    id: Uuid,
    head: Box<[u8]>,
    rules: Rules,
}

impl crate::item_cache::Weigh for Arc<ProgramItem> {
    fn bytes(&self) -> u64 {
        self.head.len() as u64 + 256
    }
}

/// The eligibility list's rendered programs, by id and row version.
pub type ProgramCache = crate::item_cache::ItemCache<Arc<ProgramItem>>;

/// The per-enterprise end of an eligibility-list item (after the program's fields).
#[derive(Serialize)]
struct Verdict<'a> {
    eligible: bool,
    reasons: &'a [String],
    basis: &'a [String],
    application_id: Option<Uuid>,
}

/// The eligibility list's answers, by enterprise: the body of its latest page and a hash of
/// everything that body was computed from.
pub type AnswerCache = crate::item_cache::ItemCache<Bytes>;

/// Every open program an enterprise applies to (not the risk-compensation pools, which take
/// banks' claims) with the calling enterprise's eligibility, explained, as the JSON of a
/// `Page<EligibleProgram>`.
///
/// One statement ([`read_tagged`]) reads everything the answer depends on: the enterprise's
/// facts, every chain's name, its live applications, the calendar's revision, and one row that
/// changes whenever the list of open programs or any of them may have: the number of programs
/// and the sum of their row versions (programs are never deleted, and every update raises a
/// version, so the pair never comes back to an earlier value), and the next instant a window
/// opens or closes (the same while no window has opened or closed since). Their hash, with the
/// local date and the page asked for, validates the enterprise's previous answer, which is then
/// sent again as it is ([`AnswerCache`]). Otherwise the page's program ids and versions are
/// read, the page is assembled from the programs rendered earlier at the same version
/// ([`ProgramCache`]) and this enterprise's verdicts, and kept.
pub async fn eligible_json(
    conn: &impl ConnectionTrait,
    caches: (&ProgramCache, &AnswerCache),
    calendar: &CalendarLoader,
    actor: &AuthUser,
    now: DateTime<Utc>,
    page: &PageQuery,
) -> AppResult<Bytes> {
    use fund_application::Column as A;
    actor.require(&[Role::Enterprise])?;
    let enterprise = actor
        .organization_id
        .ok_or_else(|| AppError::forbidden("the user belongs to no enterprise"))?;
    let limit = page.limit()?;
    let next_boundary = Func::min(
        Expr::case(P::ClosesAt.lte(now), Expr::cust("NULL"))
            .case(P::OpensAt.gt(now), Expr::col(P::OpensAt))
            .finally(Expr::col(P::ClosesAt)),
    );
    let mut branches = context_branches(enterprise);
    branches.push(branch(
        "p",
        Query::select().from(fund_program::Entity).to_owned(),
        vec![
            ("n", Func::count(Expr::col(P::Id)).into()),
            ("n2", Expr::cust("CAST(SUM(version) AS bigint)")),
            ("at", next_boundary.into()),
        ],
    ));
    branches.push(branch(
        "l",
        Query::select()
            .from(fund_application::Entity)
            .and_where(A::EnterpriseId.eq(enterprise))
            .and_where(A::Status.is_not_in([FundStatus::Rejected, FundStatus::Withdrawn]))
            .to_owned(),
        vec![("a", Expr::col(A::ProgramId)), ("b", Expr::col(A::Id))],
    ));
    branches.push(branch(
        "r",
        Query::select()
            .from(calendar_setting::Entity)
            .and_where(calendar_setting::Column::Id.eq(1))
            .to_owned(),
        vec![("n", Expr::col(calendar_setting::Column::Revision))],
    ));
    let mut rows = read_tagged(conn, branches).await?;
    rows.sort();
    let revision = rows.iter().find(|r| r.tag == "r").and_then(|r| r.n);
    let cal = match revision.and_then(|r| calendar.at_revision(r)) {
        Some(cal) => cal,
        None => calendar.current(conn).await?,
    };
    let today = cal.local_date(now);
    let validator = {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&rows, today, page.cursor.as_deref(), limit).hash(&mut h);
        h.finish() as i64
    };
    let (programs, answers) = caches;
    if let Some(body) = answers.get(enterprise, validator) {
        return Ok(body);
    }

    let q = fund_program::Entity::find()
        .filter(P::OpensAt.lte(now))
        .filter(P::ClosesAt.gt(now))
        .filter(P::Kind.ne(FundKind::RiskCompensation));
    let (select, limit) = pagination::page_of(q, P::Id, page)?;
    let keys: Vec<(Uuid, i64)> = select
        .select_only()
        .column(P::Id)
        .expr(Expr::col((fund_program::Entity, Alias::new("version"))))
        .into_tuple()
        .all(conn)
        .await?;
    let page = pagination::finish(keys, limit, |k| k.0);
    let items = programs
        .page(&page.items, |ids| render(conn, programs, now, ids))
        .await?;
    let facts = facts_from(&rows)?;
    let names = names_from(&rows);
    let live: HashMap<Uuid, Uuid> = rows
        .iter()
        .filter(|r| r.tag == "l")
        .filter_map(|r| Some((r.a?, r.b?)))
        .collect();
    let heads: usize = items.iter().map(|i| i.head.len() + 256).sum();
    let mut body = Vec::with_capacity(64 + heads);
    body.extend_from_slice(br#"{"items":["#);
    for (n, item) in items.iter().enumerate() {
        let v = facts.decide(&item.rules, today, &names);
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&item.head);
        body.push(b',');
        let tail = serde_json::to_vec(&Verdict {
            eligible: v.eligible,
            reasons: &v.reasons,
            basis: &v.basis,
            application_id: live.get(&item.id).copied(),
        })
        .map_err(anyhow::Error::from)?;
        body.extend_from_slice(&tail[1..]);
    }
    body.extend_from_slice(br#"],"next_cursor":"#);
    serde_json::to_writer(&mut body, &page.next_cursor).map_err(anyhow::Error::from)?;
    body.push(b'}');
    let body = Bytes::from(body);
    answers.put(enterprise, validator, body.clone());
    Ok(body)
}

/// Renders the eligibility-list programs `ids` and keeps each in `cache` under the row version
/// read in the same statement as the row.
async fn render(
    conn: &impl ConnectionTrait,
    cache: &ProgramCache,
    now: DateTime<Utc>,
    ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, Arc<ProgramItem>>> {
    use sea_orm::{FromQueryResult, QueryTrait};
    let q = fund_program::Entity::find()
        .filter(P::Id.is_in(ids))
        .expr_as(
            Expr::col((fund_program::Entity, Alias::new("version"))),
            "row_version",
        )
        .into_query();
    let mut out = HashMap::new();
    for row in conn.query_all(&q).await? {
        let p = fund_program::Model::from_query_result(&row, "")?;
        let version: i64 = row.try_get("", "row_version")?;
        let rules = p.rules();
        let mut head = serde_json::to_vec(&FundProgramView::of(p.clone(), now))
            .map_err(anyhow::Error::from)?;
        // The view is a JSON object: its closing brace goes, the verdict's fields follow.
        head.pop();
        let item = Arc::new(ProgramItem {
            id: p.id,
            head: head.into_boxed_slice(),
            rules,
        });
        cache.put(p.id, version, item.clone());
        out.insert(p.id, item);
    }
    Ok(out)
}
