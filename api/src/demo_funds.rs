//! The demo city's funds and subsidies: a program of every kind (one apply-free award, one
//! opening next week), the window-opening job run at each opening (policy push and awards),
//! applications replayed through the same services as the API so every status occurs — returned
//! and resubmitted, in notice with a pending and an upheld objection, approved, partly and fully
//! paid, withdrawn — and two risk-compensation claims on defaulted lines, one paid with a
//! recovery.

use crate::{
    auth::AuthUser,
    services::funds::{
        applications::{
            self as apps, Act, FinalDecision, FinalReviewInput, InitialDecision,
            InitialReviewInput, NewFundApplication, ResubmitInput,
        },
        disbursements::{self, NewPayment},
        notices::{self, NewObjection, ObjectionDecision},
        programs::{self, NewFundProgram},
        risk_claims::{self, ClaimDecision, NewRecovery, NewRiskClaim},
    },
    state::AppState,
};
use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    calendar::Calendar,
    chain, chain_member, credit_line,
    eligibility::Rules,
    enums::{CreditLineStatus, FundKind, MembershipStatus, QualificationKind, Role},
    fund_program, user,
};
use jobs::funds::{eligibility, notices::approve_ended, windows};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// What the funds demo made.
#[derive(Debug, Default)]
pub struct FundsSummary {
    pub programs: usize,
    pub applications: usize,
    pub claims: usize,
}

fn actor(u: &user::Model) -> AuthUser {
    AuthUser {
        id: u.id,
        role: u.role,
        organization_id: u.organization_id,
        session_id: Uuid::nil(),
    }
}

fn money(yuan: i64) -> serde_json::Value {
    json!(format!("{yuan}.00"))
}

/// Loads the funds demo (after the finance demo: claims need its credit lines).
pub async fn load(state: &AppState, password: &str) -> anyhow::Result<FundsSummary> {
    let now = state.clock.now();
    let cal = state.calendar.current(&state.db).await?;
    let t0 = now - TimeDelta::weeks(6);
    let users = user::Entity::find()
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .all(&state.db)
        .await?;
    let fund = users
        .iter()
        .find(|u| u.role == Role::FundOffice)
        .map(actor)
        .context("the demo city has no fund office user")?;
    let mut by_org: HashMap<Uuid, AuthUser> = HashMap::new();
    for u in &users {
        if let Some(org) = u.organization_id {
            by_org.entry(org).or_insert_with(|| actor(u));
        }
    }
    let chains = chain::Entity::find()
        .order_by_asc(chain::Column::Code)
        .all(&state.db)
        .await?;
    anyhow::ensure!(chains.len() >= 2, "the demo city has fewer than two chains");
    let txn = state.db.begin().await?;
    let admin = users
        .iter()
        .find(|u| u.role == Role::Admin)
        .map(actor)
        .context("no admin")?;
    // Every chain office reviews: one user per office.
    for (i, c) in chains.iter().enumerate() {
        if let std::collections::hash_map::Entry::Vacant(slot) =
            by_org.entry(c.office_organization_id)
        {
            let u = crate::demo_finance::new_user(
                state,
                &txn,
                &admin,
                t0,
                password,
                &format!("demo-chain-{:02}", i + 1),
                Role::ChainOffice,
                c.office_organization_id,
            )
            .await?;
            slot.insert(u);
        }
    }
    let mut summary = FundsSummary::default();
    let program = |name: &str, kind: FundKind, budget: i64, max: i64| NewFundProgram {
        name: name.into(),
        kind,
        budget: money(budget),
        max_per_application: money(max),
        opens_at: t0,
        closes_at: now + TimeDelta::weeks(8),
        eligibility: Rules::default(),
        notice_working_days: 5,
        review_working_days: 5,
        apply_free: false,
        fixed_amount: serde_json::Value::Null,
        coverage_percent: serde_json::Value::Null,
        max_per_claim: serde_json::Value::Null,
    };
    let special = NewFundProgram {
        opens_at: t0 + TimeDelta::hours(1),
        eligibility: Rules {
            chain_ids: vec![chains[0].id, chains[1].id],
            ..Rules::default()
        },
        ..program(
            "2026年度产业链专项扶持基金",
            FundKind::ChainSpecial,
            50_000_000,
            2_000_000,
        )
    };
    let guidance = NewFundProgram {
        opens_at: t0 + TimeDelta::days(1),
        eligibility: Rules {
            qualifications_any: vec![
                QualificationKind::SpecializedSme,
                QualificationKind::HighTech,
                QualificationKind::LittleGiant,
            ],
            ..Rules::default()
        },
        ..program(
            "产业发展引导资金（智能化改造）",
            FundKind::Guidance,
            30_000_000,
            3_000_000,
        )
    };
    let award = NewFundProgram {
        opens_at: now - TimeDelta::weeks(3),
        eligibility: Rules {
            qualifications_all: vec![QualificationKind::SpecializedSme],
            ..Rules::default()
        },
        apply_free: true,
        fixed_amount: money(200_000),
        ..program(
            "专精特新企业奖励（免申即享）",
            FundKind::Award,
            10_000_000,
            200_000,
        )
    };
    let risk = NewFundProgram {
        eligibility: Rules {
            chain_ids: chains.iter().map(|c| c.id).collect(),
            ..Rules::default()
        },
        notice_working_days: 0,
        review_working_days: 3,
        closes_at: now + TimeDelta::weeks(52),
        coverage_percent: json!("80"),
        max_per_claim: money(2_000_000),
        ..program(
            "产业链贷款风险补偿资金池",
            FundKind::RiskCompensation,
            20_000_000,
            2_000_000,
        )
    };
    let future = NewFundProgram {
        opens_at: now + TimeDelta::days(7),
        closes_at: now + TimeDelta::weeks(10),
        ..program(
            "2027年度技术改造专项资金",
            FundKind::Guidance,
            20_000_000,
            1_000_000,
        )
    };
    let mut made = Vec::new();
    for p in [special, guidance, award, risk, future] {
        made.push(programs::create(&txn, &fund, t0, p).await?);
        summary.programs += 1;
    }
    // Each window opens when it opens: the push, and the apply-free awards.
    for v in &made[..3] {
        let p = fund_program::Entity::find_by_id(v.id)
            .one(&txn)
            .await?
            .context("program")?;
        windows::open(&txn, &cal, p.opens_at, &p).await?;
    }

    let members: Vec<(Uuid, Uuid)> = chain_member::Entity::find()
        .filter(chain_member::Column::Status.eq(MembershipStatus::Active))
        .order_by_asc(chain_member::Column::CreatedAt)
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| (m.chain_id, m.organization_id))
        .collect();
    let names = eligibility::chain_names(&txn).await?;
    // Applicants: enterprises with a user, eligible for the program, at most `n` of them.
    let applicants = |program: &fund_program::Model,
                      facts: &HashMap<Uuid, eligibility::EnterpriseFacts>,
                      n: usize| {
        let mut seen = Vec::new();
        for (_, org) in &members {
            if seen.len() == n {
                break;
            }
            if seen.contains(org) || !by_org.contains_key(org) {
                continue;
            }
            let ok = facts.get(org).is_some_and(|f| {
                f.decide(&program.rules(), cal.local_date(program.opens_at), &names)
                    .eligible
            });
            if ok {
                seen.push(*org);
            }
        }
        seen
    };
    let orgs: Vec<Uuid> = members.iter().map(|(_, o)| *o).collect();
    let facts = eligibility::facts(&txn, &orgs).await?;
    let titles = [
        "智能产线改造项目",
        "关键零部件国产化攻关",
        "数字化车间建设",
        "绿色低碳技术改造",
        "研发中心能力提升",
        "首台套装备推广应用",
        "供应链协同平台建设",
        "检验检测能力建设",
        "工业互联网标识应用",
    ];
    let mut objected = 0;
    for (k, v) in made[..2].iter().enumerate() {
        let p = fund_program::Entity::find_by_id(v.id)
            .one(&txn)
            .await?
            .context("program")?;
        let who = applicants(&p, &facts, if k == 0 { 12 } else { 9 });
        for (i, org) in who.iter().enumerate() {
            let ent = by_org[org];
            let at = p.opens_at + TimeDelta::days(1 + (i as i64 % 10)) + TimeDelta::hours(2);
            let a = apps::submit(
                &txn,
                &cal,
                &ent,
                at,
                NewFundApplication {
                    program_id: p.id,
                    amount: money(if k == 0 { 800_000 } else { 1_500_000 } + 100_000 * i as i64),
                    project_title: titles[i % titles.len()].into(),
                    description: format!(
                        "{}：项目总投资约 {} 万元，申请财政资金支持。",
                        titles[i % titles.len()],
                        500 + 120 * i
                    ),
                    attachment_ids: Vec::new(),
                },
            )
            .await?;
            summary.applications += 1;
            // The office of the chain it applied through reviews first.
            let office = chains
                .iter()
                .find(|c| Some(c.id) == a.chain_id)
                .and_then(|c| by_org.get(&c.office_organization_id))
                .copied();
            replay(
                &txn,
                &cal,
                &fund,
                &ent,
                office.as_ref(),
                &by_org,
                a.id,
                i % 9,
                at,
                now,
                &mut objected,
                k == 0,
            )
            .await?;
        }
    }
    // Awards: two approved after their notice, one declined, the rest waiting for the final review.
    let awards = apps::list(
        &txn,
        &fund,
        &apps::FundApplicationFilter {
            program_id: Some(made[2].id),
            ..Default::default()
        },
        &crate::pagination::PageQuery {
            limit: Some(200),
            cursor: None,
        },
    )
    .await?;
    let opened = made[2].opens_at;
    for (i, a) in awards.items.iter().enumerate() {
        summary.applications += 1;
        match i {
            0 | 1 => {
                let at = opened + TimeDelta::days(2 + i as i64);
                apps::act(
                    &txn,
                    &cal,
                    &fund,
                    at,
                    a.id,
                    Act::FinalReview(FinalReviewInput {
                        decision: FinalDecision::Approve,
                        approved_amount: serde_json::Value::Null,
                        comment: "符合免申即享条件".into(),
                    }),
                )
                .await?;
            }
            2 => {
                if let Some(ent) = by_org.get(&a.enterprise_id) {
                    apps::act(
                        &txn,
                        &cal,
                        ent,
                        opened + TimeDelta::days(1),
                        a.id,
                        Act::Withdraw,
                    )
                    .await?;
                }
            }
            _ => {}
        }
    }

    // Risk compensation: two defaulted lines of the demo banks.
    let lines = credit_line::Entity::find()
        .filter(credit_line::Column::Status.eq(CreditLineStatus::Active))
        .filter(credit_line::Column::OutstandingFen.gt(0))
        .order_by_asc(credit_line::Column::Id)
        .all(&txn)
        .await?;
    for (i, line) in lines.iter().take(2).enumerate() {
        let Some(bank) = by_org.get(&line.bank_id).cloned() else {
            continue;
        };
        let loss = line.outstanding_fen / 100;
        let at = now - TimeDelta::days(if i == 0 { 12 } else { 1 });
        let c = risk_claims::submit(
            &txn,
            &cal,
            &bank,
            at,
            NewRiskClaim {
                program_id: made[3].id,
                credit_line_id: line.id,
                loss_amount: money(loss),
                note: "借款企业经营困难，贷款逾期超过90天，已进入不良，申请风险补偿".into(),
                attachment_ids: Vec::new(),
            },
        )
        .await?;
        summary.claims += 1;
        if i == 0 {
            risk_claims::decide(
                &txn,
                &cal,
                &fund,
                at + TimeDelta::days(2),
                c.id,
                ClaimDecision {
                    approve: true,
                    note: "材料齐全，同意补偿".into(),
                },
            )
            .await?;
            let paid = at + TimeDelta::days(3);
            risk_claims::pay(
                &txn,
                &cal,
                &fund,
                paid,
                c.id,
                NewPayment {
                    amount: json!(c.payable.to_string()),
                    paid_on: cal.local_date(paid),
                    reference: Some(format!("FB-{}", c.number)),
                },
            )
            .await?;
            let back = now - TimeDelta::days(2);
            risk_claims::recover(
                &txn,
                &cal,
                &bank,
                back,
                c.id,
                NewRecovery {
                    amount: money((loss / 10).max(1)),
                    recovered_on: cal.local_date(back),
                },
            )
            .await?;
        }
    }
    approve_ended(&txn, now).await?;
    txn.commit().await?;
    Ok(summary)
}

/// Takes application `id` (submitted at `at`) to the status of `scenario` (a paid one in full
/// when `full`, else half).
#[allow(clippy::too_many_arguments)]
async fn replay(
    txn: &DatabaseTransaction,
    cal: &Calendar,
    fund: &AuthUser,
    ent: &AuthUser,
    office: Option<&AuthUser>,
    by_org: &HashMap<Uuid, AuthUser>,
    id: Uuid,
    scenario: usize,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    objected: &mut usize,
    full: bool,
) -> anyhow::Result<()> {
    let Some(office) = office else {
        return Ok(());
    };
    let day = |n: i64| at + TimeDelta::days(n);
    let initial = |decision, comment: &str| {
        Act::InitialReview(InitialReviewInput {
            decision,
            comment: comment.into(),
            recommended_amount: serde_json::Value::Null,
        })
    };
    let approve = || {
        Act::FinalReview(FinalReviewInput {
            decision: FinalDecision::Approve,
            approved_amount: serde_json::Value::Null,
            comment: "经评审，同意支持".into(),
        })
    };
    match scenario {
        0 => {}
        1 | 2 => {
            apps::act(
                txn,
                cal,
                office,
                day(1),
                id,
                initial(
                    InitialDecision::Return,
                    "请补充项目可行性研究报告及投资明细",
                ),
            )
            .await?;
            if scenario == 2 {
                apps::act(
                    txn,
                    cal,
                    ent,
                    day(3),
                    id,
                    Act::Resubmit(ResubmitInput {
                        comment: Some("已补充可行性研究报告".into()),
                        ..Default::default()
                    }),
                )
                .await?;
            }
        }
        3 => {
            apps::act(
                txn,
                cal,
                office,
                day(2),
                id,
                initial(InitialDecision::Pass, ""),
            )
            .await?;
        }
        4 => {
            apps::act(
                txn,
                cal,
                office,
                day(2),
                id,
                initial(InitialDecision::Reject, "项目不属于本专项支持范围"),
            )
            .await?;
        }
        5 => {
            // In notice now: approved yesterday.
            apps::act(
                txn,
                cal,
                office,
                day(1),
                id,
                initial(InitialDecision::Pass, ""),
            )
            .await?;
            let a = apps::act(txn, cal, fund, now - TimeDelta::days(1), id, approve()).await?;
            *objected += 1;
            if *objected <= 2 {
                // Another enterprise objects: the first stays pending, the second is upheld.
                let objector = by_org
                    .values()
                    .find(|u| {
                        u.role == Role::Enterprise && Some(a.enterprise_id) != u.organization_id
                    })
                    .cloned()
                    .unwrap_or(*fund);
                let o = notices::object(
                    txn,
                    cal,
                    &objector,
                    now - TimeDelta::hours(20),
                    id,
                    NewObjection {
                        content: "该项目已获得其他财政资金支持，存在重复申报嫌疑".into(),
                    },
                )
                .await?;
                if *objected == 2 {
                    notices::decide(
                        txn,
                        fund,
                        now - TimeDelta::hours(2),
                        o.id,
                        ObjectionDecision {
                            upheld: true,
                            note: "经核查，该项目已获省级专项资金支持，异议成立".into(),
                        },
                    )
                    .await?;
                }
            }
        }
        6 | 7 => {
            apps::act(
                txn,
                cal,
                office,
                day(1),
                id,
                initial(InitialDecision::Pass, ""),
            )
            .await?;
            let a = apps::act(txn, cal, fund, day(3), id, approve()).await?;
            let ends = a.notice_ends_at.unwrap_or(day(10));
            approve_ended(txn, ends).await?;
            if scenario == 7 {
                let paid = ends + TimeDelta::days(3);
                let total = a.approved_amount.map(|m| m.fen()).unwrap_or(0);
                let first = total / 2 / 100;
                disbursements::pay_application(
                    txn,
                    cal,
                    fund,
                    paid,
                    id,
                    NewPayment {
                        amount: money(first),
                        paid_on: cal.local_date(paid),
                        reference: Some(format!("ZF-{}-1", a.number)),
                    },
                )
                .await?;
                if full {
                    let rest = paid + TimeDelta::days(5);
                    disbursements::pay_application(
                        txn,
                        cal,
                        fund,
                        rest,
                        id,
                        NewPayment {
                            amount: json!(
                                entity::money::Money::from_fen(total - first * 100).to_string()
                            ),
                            paid_on: cal.local_date(rest),
                            reference: Some(format!("ZF-{}-2", a.number)),
                        },
                    )
                    .await?;
                }
            }
        }
        _ => {
            apps::act(txn, cal, ent, day(1), id, Act::Withdraw).await?;
        }
    }
    Ok(())
}
