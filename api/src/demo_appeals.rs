//! The demo city's appeals: about 300 appeals over the past 8 weeks, replayed in time order
//! through the same services as the API (each action its own transaction at its own instant)
//! with the SLA monitor run between them, so clocks, breaches, supervisions and escalations
//! come from the real engine. The replayed history queues no mail: the outbox rows it made are
//! removed at the end, and its in-app notifications are marked read.

use crate::{
    auth::AuthUser,
    services::{
        appeals::{
            self, Act, AssignInput, ExtensionDecisionInput, ExtensionInput, MessageInput,
            NewAppeal, OptionalReasonInput, RateInput, ReasonInput, Rules, SuperviseInput,
            TransferInput,
        },
        appeals_admin::{self, RuleInput},
        users::{self, NewUser},
    },
    state::AppState,
};
use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    calendar::Calendar,
    chain, chain_member,
    enums::{AppealCategory, OrgKind, Role},
    organization, user,
    working_days::WorkingDays,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use std::collections::HashMap;
use uuid::Uuid;

/// Appeals replayed.
const APPEALS: usize = 300;
/// How far back the first appeal goes.
const WEEKS: i64 = 8;

/// Category → department (by name) of the demo routing rules.
const ROUTES: &[(AppealCategory, &str)] = &[
    (AppealCategory::Financing, "南通市财政局"),
    (AppealCategory::Land, "南通市自然资源和规划局"),
    (AppealCategory::Energy, "国网南通供电公司"),
    (AppealCategory::Permits, "南通市市场监督管理局"),
    (AppealCategory::Logistics, "南通市交通运输局"),
    (AppealCategory::Talent, "南通市人力资源和社会保障局"),
    (AppealCategory::Technology, "南通市科学技术局"),
    (AppealCategory::Market, "南通市商务局"),
    (AppealCategory::Policy, "南通市发展和改革委员会"),
    (AppealCategory::Other, "南通市工业和信息化局"),
];

/// Relative weights of the categories, in [`ROUTES`] order.
const WEIGHTS: &[u64] = &[22, 12, 14, 10, 6, 8, 9, 7, 8, 4];

/// A title and content per category.
fn text_of(c: AppealCategory, n: usize) -> (String, String) {
    let (title, content) = match c {
        AppealCategory::Financing => (
            "流动资金贷款续贷",
            "订单增长，现有授信将到期，希望协调续贷并争取贴息支持。",
        ),
        AppealCategory::Land => (
            "新厂房用地指标",
            "扩产项目需新增工业用地约 30 亩，请协调用地指标和供地时序。",
        ),
        AppealCategory::Energy => (
            "用电增容申请",
            "新产线投产需增容 2000kVA，请协调供电方案和施工时间。",
        ),
        AppealCategory::Permits => (
            "环评与施工许可并联审批",
            "技改项目环评和施工许可办理周期长，申请并联审批。",
        ),
        AppealCategory::Logistics => (
            "大件运输通行证",
            "海工模块需经市区道路运输，请协助办理超限运输许可。",
        ),
        AppealCategory::Talent => (
            "高层次人才子女入学",
            "引进的两名博士子女需就近入学，请协调学位。",
        ),
        AppealCategory::Technology => (
            "研发费用加计扣除咨询",
            "希望了解研发费用加计扣除的口径和申报流程。",
        ),
        AppealCategory::Market => (
            "参加境外展会补贴",
            "计划参加汉诺威工业博览会，咨询展位费补贴政策。",
        ),
        AppealCategory::Policy => (
            "专精特新奖励兑现",
            "去年认定的专精特新奖励尚未到账，请协助查询进度。",
        ),
        AppealCategory::Other => ("园区道路积水", "厂区门前道路雨后积水严重，影响货车进出。"),
    };
    (format!("{title}（{n}）"), content.to_string())
}

/// A tiny deterministic generator (xorshift64*), so every demo city is the same.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }
}

/// Who acts in a step.
#[derive(Clone, Copy, Debug)]
enum Who {
    Enterprise,
    Center,
    /// The department holding the appeal at that moment.
    Holder,
}

/// One planned action of one appeal.
struct Step {
    at: DateTime<Utc>,
    appeal: usize,
    who: Who,
    act: Planned,
}

/// An action with what it needs; turned into an [`Act`] when replayed.
enum Planned {
    Submit,
    Assign(Uuid),
    Transfer(Uuid),
    Return,
    Reply,
    Opinion,
    Resolve,
    RequestInfo,
    Supplement,
    Extension,
    ApproveExtension,
    Rate(i32),
    Reopen,
    Withdraw,
    Supervise,
}

fn wh(hours: i64) -> TimeDelta {
    TimeDelta::hours(hours)
}

/// What was loaded.
pub struct AppealsSummary {
    pub appeals: usize,
    pub actions: usize,
}

/// Replays the demo appeals; the organizations and logins of the demo city exist already.
pub async fn load(state: &AppState, password: &str) -> anyhow::Result<AppealsSummary> {
    let now = state.clock.now();
    let cal = state.calendar.current(&state.db).await?;
    let orgs: HashMap<String, Uuid> = organization::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| (o.name, o.id))
        .collect();
    let admin = user::Entity::find()
        .filter(user::Column::Username.eq("admin"))
        .one(&state.db)
        .await?
        .context("user admin is missing")?;
    let admin = AuthUser {
        id: admin.id,
        role: Role::Admin,
        organization_id: None,
        session_id: uuid::Uuid::nil(),
    };

    // Routing rules, one login per department and per submitting enterprise.
    let txn = state.db.begin().await?;
    let mut departments = Vec::new();
    for (category, name) in ROUTES {
        let dep = *orgs
            .get(*name)
            .with_context(|| format!("demo department {name} is missing"))?;
        appeals_admin::put_rule(
            &txn,
            &admin,
            now,
            *category,
            RuleInput { department_id: dep },
        )
        .await?;
        departments.push(dep);
    }
    let mut actors: HashMap<Uuid, AuthUser> = HashMap::new();
    for u in user::Entity::find()
        .filter(user::Column::OrganizationId.is_not_null())
        .all(&txn)
        .await?
    {
        if let Some(org) = u.organization_id {
            actors.entry(org).or_insert(AuthUser {
                id: u.id,
                role: u.role,
                organization_id: Some(org),
                session_id: uuid::Uuid::nil(),
            });
        }
    }
    let all_departments: Vec<organization::Model> = organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrgKind::Department))
        .order_by_asc(organization::Column::Name)
        .all(&txn)
        .await?;
    // Four enterprises per chain submit appeals, each in its chain.
    let mut submitters: Vec<(Uuid, Uuid)> = Vec::new();
    for c in chain::Entity::find()
        .order_by_asc(chain::Column::Code)
        .all(&txn)
        .await?
    {
        let members = chain_member::Entity::find()
            .filter(chain_member::Column::ChainId.eq(c.id))
            .order_by_asc(chain_member::Column::CreatedAt)
            .all(&txn)
            .await?;
        for m in members.into_iter().take(4) {
            submitters.push((m.organization_id, c.id));
        }
    }
    let mut serial = 0;
    let needs_login = all_departments
        .iter()
        .map(|d| (d.id, Role::Department))
        .chain(submitters.iter().map(|(e, _)| (*e, Role::Enterprise)))
        .collect::<Vec<_>>();
    for (org, role) in needs_login {
        if actors.contains_key(&org) {
            continue;
        }
        serial += 1;
        let username = match role {
            Role::Department => format!("demo-dept-{serial:02}"),
            _ => format!("demo-ent-{serial:02}"),
        };
        let v = users::create(
            state,
            &txn,
            &admin,
            now,
            NewUser {
                username: username.clone(),
                password: password.to_string(),
                display_name: format!("演示·经办人 {serial:02}"),
                email: Some(format!("{username}@demo.example.cn")),
                role,
                organization_id: Some(org),
            },
        )
        .await?;
        actors.insert(
            org,
            AuthUser {
                id: v.id,
                role,
                organization_id: Some(org),
                session_id: uuid::Uuid::nil(),
            },
        );
    }
    let center_org = org_named(&orgs, "南通市企业服务中心")?;
    let center = *actors
        .get(&center_org)
        .context("the demo service centre has no login")?;
    txn.commit().await?;

    // Plan every appeal, then replay all steps in time order.
    let mut rng = Rng(0x5EED_2026_1123);
    let mut steps = Vec::new();
    let start = now - TimeDelta::weeks(WEEKS);
    for i in 0..APPEALS {
        let day = (i as i64 * WEEKS * 7 * 24 * 60) / APPEALS as i64;
        let mut at = start + TimeDelta::minutes(day) + TimeDelta::minutes(rng.between(0, 600));
        // Mostly office hours, some evenings and weekends.
        if rng.below(10) < 8 {
            at = cal.next_opening(at);
        }
        if at >= now - TimeDelta::hours(1) {
            at = now - TimeDelta::hours(1) - TimeDelta::minutes(rng.between(0, 120));
        }
        plan(&mut rng, &cal, &all_departments, i, at, &mut steps);
    }
    steps.sort_by_key(|s| (s.at, s.appeal));

    let rules = Rules {
        return_window: state.settings.appeal_return_window_working_days,
        reopen_window: state.settings.appeal_reopen_window_working_days,
    };
    let mut ids: Vec<Option<Uuid>> = vec![None; APPEALS];
    let mut holder: Vec<Option<Uuid>> = vec![None; APPEALS];
    let mut dead = vec![false; APPEALS];
    let mut last_pass = start;
    let mut actions = 0;
    for step in steps.into_iter().filter(|s| s.at <= now) {
        if dead[step.appeal] {
            continue;
        }
        if step.at - last_pass >= TimeDelta::minutes(30) {
            jobs::sla_monitor::run_pass(&state.db, &cal, step.at).await?;
            last_pass = step.at;
        }
        let (enterprise, chain_id) = submitters[step.appeal % submitters.len()];
        let actor = match step.who {
            Who::Enterprise => actors.get(&enterprise).copied(),
            Who::Center => Some(center),
            Who::Holder => holder[step.appeal].and_then(|d| actors.get(&d).copied()),
        };
        let Some(actor) = actor else {
            dead[step.appeal] = true;
            continue;
        };
        let act = match (&step.act, ids[step.appeal]) {
            (Planned::Submit, _) => None,
            (planned, Some(id)) => to_act(planned).map(|a| (id, a)),
            (_, None) => {
                dead[step.appeal] = true;
                continue;
            }
        };
        let txn = state.db.begin().await?;
        let result = match act {
            None => {
                let category = pick_category(&mut rng);
                let (title, content) = text_of(category, step.appeal + 1);
                appeals::submit(
                    &txn,
                    &state.calendar,
                    None,
                    &actor,
                    step.at,
                    NewAppeal {
                        title,
                        content,
                        category,
                        chain_id: Some(chain_id),
                        attachment_ids: Vec::new(),
                    },
                )
                .await
            }
            Some((id, act)) => appeals::act(&txn, &cal, &rules, &actor, step.at, id, act).await,
        };
        match result {
            Ok(v) => {
                txn.commit().await?;
                ids[step.appeal] = Some(v.id);
                holder[step.appeal] = v.department_id;
                actions += 1;
            }
            Err(e) => {
                // A plan that no longer fits (e.g. the return window passed): stop that appeal.
                tracing::debug!(appeal = step.appeal, error = %e, "demo step skipped");
                txn.rollback().await?;
                dead[step.appeal] = true;
            }
        }
    }
    jobs::sla_monitor::run_pass(&state.db, &cal, now).await?;
    Ok(AppealsSummary {
        appeals: ids.iter().flatten().count(),
        actions,
    })
}

fn org_named(orgs: &HashMap<String, Uuid>, name: &str) -> anyhow::Result<Uuid> {
    orgs.get(name)
        .copied()
        .with_context(|| format!("demo organization {name} is missing"))
}

fn pick_category(rng: &mut Rng) -> AppealCategory {
    let total: u64 = WEIGHTS.iter().sum();
    let mut roll = rng.below(total);
    for ((c, _), w) in ROUTES.iter().zip(WEIGHTS) {
        if roll < *w {
            return *c;
        }
        roll -= w;
    }
    AppealCategory::Other
}

/// The action of a planned step (`None` for the submission, which is not an action).
fn to_act(p: &Planned) -> Option<Act> {
    let msg = |m: &str| MessageInput {
        message: m.to_string(),
    };
    Some(match p {
        Planned::Submit => return None,
        Planned::Assign(d) => Act::Assign(AssignInput {
            department_id: *d,
            note: Some("请按职责办理".into()),
        }),
        Planned::Transfer(d) => Act::Transfer(TransferInput {
            department_id: *d,
            reason: "涉及其他部门职责，转办".into(),
        }),
        Planned::Return => Act::Return(ReasonInput {
            reason: "不属本部门职责，退回服务中心".into(),
        }),
        Planned::Reply => Act::Reply(msg("已受理，正在核实情况。")),
        Planned::Opinion => Act::Opinion(msg("经研究，原则同意，正在协调具体方案。")),
        Planned::Resolve => Act::Resolve(msg("已协调解决，请企业确认。")),
        Planned::RequestInfo => Act::RequestInfo(msg("请补充项目备案证明和近三个月用电数据。")),
        Planned::Supplement => Act::Supplement(appeals::SupplementInput {
            message: "已上传补充材料。".into(),
            attachment_ids: Vec::new(),
        }),
        Planned::Extension => Act::Extension(ExtensionInput {
            working_days: WorkingDays::from_int(2),
            reason: "需现场踏勘并会商相关单位".into(),
        }),
        Planned::ApproveExtension => Act::ExtensionDecision(ExtensionDecisionInput {
            approve: true,
            note: Some("同意延期".into()),
        }),
        Planned::Rate(score) => Act::Rate(RateInput {
            score: *score,
            comment: Some(
                if *score >= 4 {
                    "办理及时，满意"
                } else {
                    "办理偏慢"
                }
                .into(),
            ),
        }),
        Planned::Reopen => Act::Reopen(ReasonInput {
            reason: "问题仍未解决，申请重办".into(),
        }),
        Planned::Withdraw => Act::Withdraw(OptionalReasonInput {
            reason: Some("问题已自行解决".into()),
        }),
        Planned::Supervise => Act::Supervise(SuperviseInput {
            note: "请加快办理并反馈进度".into(),
        }),
    })
}

/// Plans one appeal's life from its submission at `t0`.
fn plan(
    rng: &mut Rng,
    cal: &Calendar,
    departments: &[organization::Model],
    i: usize,
    t0: DateTime<Utc>,
    out: &mut Vec<Step>,
) {
    let mut t = t0;
    let mut push = |at: DateTime<Utc>, who: Who, act: Planned| {
        out.push(Step {
            at,
            appeal: i,
            who,
            act,
        })
    };
    push(t, Who::Enterprise, Planned::Submit);
    // Department time: working hours after the previous step.
    let later = |t: DateTime<Utc>, hours: i64, minutes: i64| {
        cal.add_working_time(t, wh(hours) + TimeDelta::minutes(minutes))
    };
    let roll = rng.below(100);
    let m = rng.between(0, 59);
    let other = |k: usize| departments[(i + k) % departments.len().max(1)].id;
    let normal =
        |t: &mut DateTime<Utc>, push: &mut dyn FnMut(DateTime<Utc>, Who, Planned), m: i64| {
            *t = later(*t, 2, m);
            push(*t, Who::Holder, Planned::Reply);
            *t = later(*t, 8, m);
            push(*t, Who::Holder, Planned::Opinion);
            *t = later(*t, 10, m);
            push(*t, Who::Holder, Planned::Resolve);
        };
    let rate =
        |t: &mut DateTime<Utc>, push: &mut dyn FnMut(DateTime<Utc>, Who, Planned), score: i32| {
            *t += TimeDelta::hours(20 + (score as i64) * 3);
            push(*t, Who::Enterprise, Planned::Rate(score));
        };
    match roll {
        0..=59 => {
            normal(&mut t, &mut push, m);
            rate(
                &mut t,
                &mut push,
                if m % 5 == 0 { 3 } else { 5 - (m % 2) as i32 },
            );
        }
        60..=69 => {
            // Slow: every clock is missed; the monitor breaches and escalates.
            t = later(t, 12, m);
            push(t, Who::Holder, Planned::Reply);
            t = later(t, 20, m);
            push(t, Who::Center, Planned::Supervise);
            t = later(t, 4, m);
            push(t, Who::Holder, Planned::Opinion);
            t = later(t, 18, m);
            push(t, Who::Holder, Planned::Resolve);
            rate(&mut t, &mut push, 3);
        }
        70..=76 => {
            t = later(t, 1, m);
            push(t, Who::Holder, Planned::Reply);
            t = later(t, 2, m);
            push(t, Who::Holder, Planned::RequestInfo);
            t += TimeDelta::hours(30 + m);
            push(t, Who::Enterprise, Planned::Supplement);
            t = later(t, 6, m);
            push(t, Who::Holder, Planned::Opinion);
            t = later(t, 8, m);
            push(t, Who::Holder, Planned::Resolve);
            rate(&mut t, &mut push, 4);
        }
        77..=80 => {
            t = later(t, 2, m);
            push(t, Who::Holder, Planned::Transfer(other(1)));
            normal(&mut t, &mut push, m);
            rate(&mut t, &mut push, 4);
        }
        81..=84 => {
            t = later(t, 1, m);
            push(t, Who::Holder, Planned::Return);
            t = later(t, 3, m);
            push(t, Who::Center, Planned::Assign(other(2)));
            normal(&mut t, &mut push, m);
        }
        85..=88 => {
            t = later(t, 3, m);
            push(t, Who::Holder, Planned::Reply);
            t = later(t, 6, m);
            push(t, Who::Holder, Planned::Opinion);
            t = later(t, 4, m);
            push(t, Who::Holder, Planned::Extension);
            t = later(t, 2, m);
            push(t, Who::Center, Planned::ApproveExtension);
            t = later(t, 40, m);
            push(t, Who::Holder, Planned::Resolve);
            rate(&mut t, &mut push, 4);
        }
        89..=92 => {
            normal(&mut t, &mut push, m);
            rate(&mut t, &mut push, 2);
            t += TimeDelta::hours(5);
            push(t, Who::Enterprise, Planned::Reopen);
            t = later(t, 24, m);
            push(t, Who::Holder, Planned::Resolve);
            rate(&mut t, &mut push, 4);
        }
        93..=95 => {
            t += TimeDelta::hours(26 + m);
            push(t, Who::Enterprise, Planned::Withdraw);
        }
        _ => {
            // Stalled after the first answer: breached, supervised, escalated, still open.
            t = later(t, 3, m);
            push(t, Who::Holder, Planned::Reply);
        }
    }
}
