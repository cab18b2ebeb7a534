//! The demo city's supply-chain finance: each chain's lead bank (and some partners) sets up a
//! credit program, lead banks approve above 10,000,000 yuan with four eyes, and about 200
//! financing requests over the past 8 weeks are replayed in time order through the same services
//! as the API, with the SLA monitor run between them — so every status occurs, some requests are
//! late (breached, escalated), some wait for a second approver, some were referred.

use crate::{
    auth::AuthUser,
    demo_appeals::Rng,
    services::{
        credit_lines::{self, NewMovement, ReverseInput},
        finance::{
            programs::{self, NewProgram},
            requests::{
                self, Act, ApproveInput, FinancingMessage, FinancingReason, NewFinancingRequest,
                ReferInput,
            },
            settings::{self, BankSettingsInput},
            today,
        },
        users::{self, NewUser},
    },
    state::AppState,
};
use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    calendar::Calendar,
    chain, chain_bank, chain_member, credit_line,
    enums::{BankRole, FinancingProduct, MembershipStatus, MovementKind, Role},
    money::Money,
    user,
    working_days::WorkingDays,
};
use jobs::bank_reports::Period;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// Requests replayed.
const REQUESTS: usize = 200;
/// How far back the first request goes.
const WEEKS: i64 = 8;
/// Lead banks approve above this with four eyes (yuan).
const FOUR_EYES_YUAN: i64 = 10_000_000;

/// Who acts in a step.
#[derive(Clone, Copy, Debug)]
enum Who {
    Enterprise,
    /// The first user of the bank holding the request at that moment.
    Bank,
    /// Its second user (the four-eyes confirmation).
    SecondBanker,
}

/// An action of a planned request.
#[derive(Clone, Copy, Debug)]
enum Planned {
    Submit,
    Accept,
    RequestInfo,
    Supplement,
    Approve,
    Reject,
    Withdraw,
    Refer,
}

struct Step {
    at: DateTime<Utc>,
    request: usize,
    who: Who,
    act: Planned,
}

/// One request's fixed facts.
struct Plan {
    chain: usize,
    enterprise: Uuid,
    program: Option<Uuid>,
    amount_fen: i64,
    product: FinancingProduct,
}

/// What was loaded.
pub struct FinanceSummary {
    pub programs: usize,
    pub requests: usize,
    pub actions: usize,
    /// Ledger rows booked (drawdowns, repayments, reversals) and reports generated.
    pub movements: usize,
    pub reports: usize,
}

struct ChainBanks {
    id: Uuid,
    lead: Uuid,
    partners: Vec<Uuid>,
    members: Vec<Uuid>,
}

/// Replays the demo finance history; the organizations and logins of the demo city exist.
pub async fn load(state: &AppState, password: &str) -> anyhow::Result<FinanceSummary> {
    let now = state.clock.now();
    let cal = state.calendar.current(&state.db).await?;
    let start = now - TimeDelta::weeks(WEEKS);
    let mut chains = Vec::new();
    for c in chain::Entity::find()
        .order_by_asc(chain::Column::Code)
        .all(&state.db)
        .await?
    {
        let banks = chain_bank::Entity::find()
            .filter(chain_bank::Column::ChainId.eq(c.id))
            .order_by_asc(chain_bank::Column::CreatedAt)
            .all(&state.db)
            .await?;
        let Some(lead) = banks.iter().find(|b| b.role == BankRole::Lead) else {
            continue;
        };
        let members = chain_member::Entity::find()
            .filter(chain_member::Column::ChainId.eq(c.id))
            .filter(chain_member::Column::Status.eq(MembershipStatus::Active))
            .order_by_asc(chain_member::Column::CreatedAt)
            .all(&state.db)
            .await?;
        chains.push(ChainBanks {
            id: c.id,
            lead: lead.organization_id,
            partners: banks
                .iter()
                .filter(|b| b.role == BankRole::Partner)
                .map(|b| b.organization_id)
                .collect(),
            members: members.iter().take(6).map(|m| m.organization_id).collect(),
        });
    }
    anyhow::ensure!(
        !chains.is_empty(),
        "the demo city has no chain with a lead bank"
    );

    // Two users per bank (four eyes) and one per requesting enterprise.
    let admin = user::Entity::find()
        .filter(user::Column::Username.eq("admin"))
        .one(&state.db)
        .await?
        .context("user admin is missing")?;
    let admin = AuthUser {
        id: admin.id,
        role: Role::Admin,
        organization_id: None,
        session_id: Uuid::nil(),
    };
    let mut bankers: HashMap<Uuid, Vec<AuthUser>> = HashMap::new();
    let mut enterprises: HashMap<Uuid, AuthUser> = HashMap::new();
    for u in user::Entity::find()
        .filter(user::Column::OrganizationId.is_not_null())
        .order_by_asc(user::Column::Id)
        .all(&state.db)
        .await?
    {
        let (Some(org), true) = (u.organization_id, u.active) else {
            continue;
        };
        let who = AuthUser {
            id: u.id,
            role: u.role,
            organization_id: Some(org),
            session_id: Uuid::nil(),
        };
        match u.role {
            Role::Bank => bankers.entry(org).or_default().push(who),
            Role::Enterprise => {
                enterprises.entry(org).or_insert(who);
            }
            _ => {}
        }
    }
    let txn = state.db.begin().await?;
    let mut serial = 0;
    let banks: Vec<Uuid> = chains
        .iter()
        .flat_map(|c| std::iter::once(c.lead).chain(c.partners.iter().copied()))
        .collect();
    for bank in banks {
        while bankers.get(&bank).map_or(0, Vec::len) < 2 {
            serial += 1;
            let username = format!("demo-banker-{serial:02}");
            let v = new_user(
                state,
                &txn,
                &admin,
                now,
                password,
                &username,
                Role::Bank,
                bank,
            )
            .await?;
            bankers.entry(bank).or_default().push(v);
        }
    }
    for e in chains.iter().flat_map(|c| c.members.iter().copied()) {
        if let std::collections::hash_map::Entry::Vacant(slot) = enterprises.entry(e) {
            serial += 1;
            let username = format!("demo-fin-ent-{serial:02}");
            let v = new_user(
                state,
                &txn,
                &admin,
                now,
                password,
                &username,
                Role::Enterprise,
                e,
            )
            .await?;
            slot.insert(v);
        }
    }
    // Lead banks approve above 10,000,000 with four eyes; each lead bank has a program, and
    // every other chain's first partner one too.
    let mut lead_programs: Vec<Uuid> = Vec::new();
    let mut made = 0;
    for (i, c) in chains.iter().enumerate() {
        let lead = bankers[&c.lead][0];
        settings::put(
            &txn,
            &lead,
            start,
            c.lead,
            BankSettingsInput {
                four_eyes_threshold: json!(Money::from_fen(FOUR_EYES_YUAN * 100).to_string()),
                accept_working_days: WorkingDays::from_int(1),
                decide_working_days: WorkingDays::from_int(5),
                unused_line_expiry_days: 90,
            },
        )
        .await?;
        let mut sponsors = vec![(c.lead, "主办行专项授信", "300000000.00")];
        if i % 2 == 0
            && let Some(p) = c.partners.first()
        {
            sponsors.push((*p, "合作行供应链授信", "80000000.00"));
        }
        for (k, (bank, name, quota)) in sponsors.into_iter().enumerate() {
            let p = programs::create(
                &txn,
                &bankers[&bank][0],
                start,
                NewProgram {
                    chain_id: c.id,
                    name: name.into(),
                    quota: json!(quota),
                    max_per_enterprise: json!("30000000.00"),
                    rate_floor: json!("3.2"),
                    rate_ceiling: json!("4.35"),
                    max_term_months: 36,
                    valid_from: start.date_naive(),
                    valid_until: (start + TimeDelta::days(365)).date_naive(),
                },
            )
            .await?;
            made += 1;
            if k == 0 {
                lead_programs.push(p.id);
            }
        }
    }
    txn.commit().await?;

    // Plan every request, then replay all steps in time order.
    let mut rng = Rng(0x5EED_2026_1202);
    let mut plans = Vec::new();
    let mut steps = Vec::new();
    for i in 0..REQUESTS {
        let ci = i % chains.len();
        let c = &chains[ci];
        let Some(&enterprise) = c.members.get((i / chains.len()) % c.members.len().max(1)) else {
            continue;
        };
        let under_program = rng.below(10) < 6;
        let amount_yuan = rng.between(50, 2_000) * 10_000;
        plans.push(Plan {
            chain: ci,
            enterprise,
            program: under_program.then(|| lead_programs[ci]),
            amount_fen: amount_yuan * 100,
            product: [
                FinancingProduct::WorkingCapital,
                FinancingProduct::Receivable,
                FinancingProduct::Order,
                FinancingProduct::Inventory,
                FinancingProduct::Equipment,
                FinancingProduct::Other,
            ][i % 6],
        });
        let slot = (i as i64 * WEEKS * 7 * 24 * 60) / REQUESTS as i64;
        let mut at = start + TimeDelta::minutes(slot) + TimeDelta::minutes(rng.between(0, 600));
        if rng.below(10) < 8 {
            at = cal.next_opening(at);
        }
        if at >= now - TimeDelta::hours(1) {
            at = now - TimeDelta::hours(1) - TimeDelta::minutes(rng.between(0, 120));
        }
        let p = plans.len() - 1;
        plan(
            &mut rng,
            &cal,
            p,
            at,
            !under_program && !c.partners.is_empty(),
            &mut steps,
        );
    }
    steps.sort_by_key(|s| (s.at, s.request));

    let mut ids: Vec<Option<Uuid>> = vec![None; plans.len()];
    let mut holder: Vec<Option<Uuid>> = vec![None; plans.len()];
    let mut dead = vec![false; plans.len()];
    let mut last_pass = start;
    let mut actions = 0;
    for step in steps.into_iter().filter(|s| s.at <= now) {
        if dead[step.request] {
            continue;
        }
        if step.at - last_pass >= TimeDelta::minutes(60) {
            jobs::sla_monitor::run_pass(&state.db, &cal, step.at).await?;
            last_pass = step.at;
        }
        let plan = &plans[step.request];
        let chain = &chains[plan.chain];
        let bank = holder[step.request].unwrap_or(chain.lead);
        let actor = match step.who {
            Who::Enterprise => enterprises.get(&plan.enterprise).copied(),
            Who::Bank => bankers.get(&bank).and_then(|b| b.first()).copied(),
            Who::SecondBanker => bankers.get(&bank).and_then(|b| b.get(1)).copied(),
        };
        let (Some(actor), id) = (actor, ids[step.request]) else {
            dead[step.request] = true;
            continue;
        };
        let txn = state.db.begin().await?;
        let result = match (step.act, id) {
            (Planned::Submit, _) => {
                requests::submit(
                    &txn,
                    &cal,
                    &actor,
                    step.at,
                    NewFinancingRequest {
                        chain_id: chain.id,
                        program_id: plan.program,
                        amount: json!(Money::from_fen(plan.amount_fen).to_string()),
                        term_months: 12,
                        purpose: purpose(plan.product).into(),
                        product: plan.product,
                        attachment_ids: Vec::new(),
                    },
                )
                .await
            }
            (planned, Some(id)) => {
                let act = to_act(planned, plan, chain, step.at);
                requests::act(&txn, &cal, &actor, step.at, id, act).await
            }
            (_, None) => {
                dead[step.request] = true;
                txn.rollback().await?;
                continue;
            }
        };
        match result {
            Ok(v) => {
                txn.commit().await?;
                ids[step.request] = Some(v.id);
                holder[step.request] = Some(v.bank_id);
                actions += 1;
            }
            Err(e) => {
                tracing::debug!(request = step.request, error = %e, "demo finance step skipped");
                txn.rollback().await?;
                dead[step.request] = true;
            }
        }
    }
    jobs::sla_monitor::run_pass(&state.db, &cal, now).await?;
    let movements = ledgers(state, &cal, &bankers, &mut rng).await?;
    // Last month's reports, as the monthly job makes them.
    let tz = cal.settings().time_zone;
    let reports =
        jobs::bank_reports::generate(&state.db, Period::previous(now, tz), tz, now, None, None)
            .await?
            .len();
    Ok(FinanceSummary {
        programs: made,
        requests: ids.iter().flatten().count(),
        actions,
        movements,
        reports,
    })
}

/// The granted lines' ledgers, through the same service as the API: a first drawdown a few
/// working days after approval, sometimes a second, mostly a repayment later, and one reversal
/// in twenty lines (a booking mistake corrected).
async fn ledgers(
    state: &AppState,
    cal: &Calendar,
    bankers: &HashMap<Uuid, Vec<AuthUser>>,
    rng: &mut Rng,
) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let lines = credit_line::Entity::find()
        .order_by_asc(credit_line::Column::Id)
        .all(&state.db)
        .await?;
    let mut booked = 0;
    for (n, l) in lines.iter().enumerate() {
        let Some(banker) = bankers.get(&l.bank_id).and_then(|b| b.first()).copied() else {
            continue;
        };
        let share = |rng: &mut Rng, lo: i64, hi: i64| {
            let fen = l.limit_fen / 100 * rng.between(lo, hi);
            fen - fen % 100
        };
        let mut plan = vec![(MovementKind::Drawdown, share(rng, 30, 70))];
        if rng.below(2) == 0 {
            plan.push((MovementKind::Drawdown, share(rng, 5, 20)));
        }
        if rng.below(3) != 0 {
            plan.push((MovementKind::Repayment, share(rng, 10, 25)));
        }
        let mut at = cal.add_working_time(l.approved_at, TimeDelta::hours(rng.between(4, 40)));
        let mut last = None;
        for (kind, fen) in plan {
            if at >= now || fen <= 0 {
                break;
            }
            let txn = state.db.begin().await?;
            let input = NewMovement {
                amount: json!(Money::from_fen(fen).to_string()),
                value_date: today(cal, at),
            };
            match credit_lines::book(&txn, cal, &banker, at, l.id, kind, input).await {
                Ok(b) => {
                    txn.commit().await?;
                    booked += 1;
                    last = Some((b.movement.id, at));
                }
                Err(e) => {
                    tracing::debug!(line = %l.id, error = %e, "demo movement skipped");
                    txn.rollback().await?;
                }
            }
            at += TimeDelta::days(rng.between(3, 12));
        }
        if n % 20 == 0
            && let Some((movement, when)) = last
            && when + TimeDelta::hours(2) < now
        {
            let txn = state.db.begin().await?;
            let input = ReverseInput {
                reason: "经办人录入金额有误，冲正后重新入账。".into(),
                value_date: None,
            };
            let at = when + TimeDelta::hours(2);
            match credit_lines::reverse(&txn, cal, &banker, at, l.id, movement, input).await {
                Ok(_) => {
                    txn.commit().await?;
                    booked += 1;
                }
                Err(e) => {
                    tracing::debug!(line = %l.id, error = %e, "demo reversal skipped");
                    txn.rollback().await?;
                }
            }
        }
    }
    Ok(booked)
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn new_user(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    admin: &AuthUser,
    now: DateTime<Utc>,
    password: &str,
    username: &str,
    role: Role,
    org: Uuid,
) -> anyhow::Result<AuthUser> {
    let v = users::create(
        state,
        txn,
        admin,
        now,
        NewUser {
            username: username.to_string(),
            password: password.to_string(),
            display_name: format!("演示·{}", role.label_zh()),
            email: Some(format!("{username}@demo.example.cn")),
            role,
            organization_id: Some(org),
        },
    )
    .await?;
    Ok(AuthUser {
        id: v.id,
        role,
        organization_id: Some(org),
        session_id: Uuid::nil(),
    })
}

fn purpose(p: FinancingProduct) -> &'static str {
    match p {
        FinancingProduct::WorkingCapital => "补充日常经营流动资金，支付原材料采购款",
        FinancingProduct::Receivable => "以链主企业应收账款质押融资，加快资金回笼",
        FinancingProduct::Order => "承接链主企业年度订单，备料生产资金需求",
        FinancingProduct::Inventory => "以库存原材料质押，缓解季节性备货资金压力",
        FinancingProduct::Equipment => "购置智能化生产线设备，技改扩产",
        FinancingProduct::Other => "研发投入及市场拓展资金需求",
    }
}

/// The action of a planned step (not the submission).
fn to_act(p: Planned, plan: &Plan, chain: &ChainBanks, at: DateTime<Utc>) -> Act {
    match p {
        Planned::Submit | Planned::Accept => Act::Accept,
        Planned::RequestInfo => Act::RequestInfo(FinancingMessage {
            message: "请补充近一年的财务报表及主要客户订单合同。".into(),
        }),
        Planned::Supplement => Act::Supplement(requests::FinancingSupplement {
            message: "已补充上传财务报表和订单合同。".into(),
            attachment_ids: Vec::new(),
        }),
        Planned::Approve => Act::Approve(ApproveInput {
            limit: json!(Money::from_fen(plan.amount_fen).to_string()),
            rate: json!(if plan.amount_fen > 500_000_000 {
                "3.65"
            } else {
                "3.95"
            }),
            term_months: 12,
            revolving: plan.amount_fen % 3 != 0,
            expires_on: (at + TimeDelta::days(365)).date_naive(),
        }),
        Planned::Reject => Act::Reject(FinancingReason {
            reason: "企业资产负债率偏高，暂不符合授信条件。".into(),
        }),
        Planned::Withdraw => Act::Withdraw,
        Planned::Refer => Act::Refer(ReferInput {
            bank_id: chain.partners.first().copied().unwrap_or_default(),
            reason: "该企业为合作行存量客户，由合作行对接更高效。".into(),
        }),
    }
}

/// The steps of request `i` submitted at `t0`: an outcome drawn by weight, with bank time in
/// working hours (some late enough to breach).
fn plan(
    rng: &mut Rng,
    cal: &Calendar,
    i: usize,
    t0: DateTime<Utc>,
    may_refer: bool,
    out: &mut Vec<Step>,
) {
    let later = |t: DateTime<Utc>, hours: i64| cal.add_working_time(t, TimeDelta::hours(hours));
    let mut push = |at: DateTime<Utc>, who: Who, act: Planned| {
        out.push(Step {
            at,
            request: i,
            who,
            act,
        })
    };
    push(t0, Who::Enterprise, Planned::Submit);
    let roll = rng.below(100);
    // One in five banks is slow to accept (past the 1-day clock).
    let accept_after = if rng.below(5) == 0 {
        rng.between(10, 16)
    } else {
        rng.between(1, 6)
    };
    let t1 = later(t0, accept_after);
    match roll {
        0..=49 => {
            push(t1, Who::Bank, Planned::Accept);
            let t2 = later(t1, rng.between(6, 36));
            push(t2, Who::Bank, Planned::Approve);
            // Above the lead bank's threshold the first approval is a proposal.
            push(
                later(t2, rng.between(1, 4)),
                Who::SecondBanker,
                Planned::Approve,
            );
        }
        50..=59 => {
            push(t1, Who::Bank, Planned::Accept);
            let t2 = later(t1, rng.between(2, 8));
            push(t2, Who::Bank, Planned::RequestInfo);
            let t3 = t2 + TimeDelta::hours(rng.between(18, 60));
            push(t3, Who::Enterprise, Planned::Supplement);
            let t4 = later(t3, rng.between(4, 16));
            push(t4, Who::Bank, Planned::Approve);
            push(later(t4, 2), Who::SecondBanker, Planned::Approve);
        }
        60..=69 => {
            push(t1, Who::Bank, Planned::Accept);
            push(later(t1, rng.between(8, 30)), Who::Bank, Planned::Reject);
        }
        70..=74 => push(
            t0 + TimeDelta::hours(rng.between(2, 30)),
            Who::Enterprise,
            Planned::Withdraw,
        ),
        75..=84 if may_refer => {
            let t2 = later(t0, rng.between(1, 4));
            push(t2, Who::Bank, Planned::Refer);
            let t3 = later(t2, rng.between(1, 8));
            push(t3, Who::Bank, Planned::Accept);
            if rng.below(2) == 0 {
                push(later(t3, rng.between(6, 20)), Who::Bank, Planned::Approve);
            }
        }
        85..=91 => push(t1, Who::Bank, Planned::Accept),
        92..=95 => {
            // Proposed above the threshold, still waiting for the second user.
            push(t1, Who::Bank, Planned::Accept);
            push(later(t1, rng.between(4, 12)), Who::Bank, Planned::Approve);
        }
        // Left as submitted (the recent ones on time, the older ones late).
        _ => {}
    }
}
