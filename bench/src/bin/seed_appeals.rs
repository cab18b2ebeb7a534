//! Seeds a database with a city's appeals for the benchmarks: a service centre, 30 departments,
//! 12 chains with their offices, about 2,000 enterprises with their users, routing rules, then
//! N appeals (default 1,000,000) submitted over the two years before `--now`, each with its three
//! SLA clocks (due and warning times from the real engine, `entity::sla::ClockSpec::times`), its
//! timeline, its assignments and the supervisions of its breaches.
//!
//! The history is what a regularly running monitor would have left, except that exactly `--due`
//! (default 1,000) clocks are due at `--now` and not handled yet (unmet, not breached, not paused,
//! not cancelled, `due_at <= now`): the work of the next monitor pass. Warnings and escalations
//! are up to date at `--now`.
//!
//! ```sh
//! cargo run --release -p bench --bin seed_appeals -- \
//!     --database-url postgres://postgres:postgres@127.0.0.1:5432/lt_bench_pg --appeals 1000000
//! cargo run --release -p bench --bin seed_appeals -- \
//!     --database-url 'sqlite:///tmp/lt_bench.db?mode=rwc' --appeals 1000000 --now 2026-11-23T10:00:00+08:00
//! ```
//!
//! Every user it creates (`admin`, `service`, `dept01`.., `chain01`.., `ent00001`..) has the
//! password `--password` (default `bench-password-123`), hashed once with the api's argon2
//! settings. Reference data goes through the entities; the bulk rows go through `COPY` on
//! PostgreSQL and multi-row `INSERT`s on SQLite, in the formats the entities write (checked
//! against a row written through an `ActiveModel`). The secondary indexes of the bulk tables are
//! dropped during the load and re-created from their stored definitions.

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, NaiveDate, Offset, SecondsFormat, TimeDelta, TimeZone, Utc};
use entity::{
    appeal::AppealAction,
    calendar::Calendar,
    chain, chain_member,
    enums::{AppealCategory, AppealStatus, ClockKind, MemberRole, MembershipStatus, OrgKind, Role},
    organization, routing_rule,
    sla::{ClockSpec, escalate_at},
    sla_policy,
    uscc::Uscc,
    user,
    working_days::WorkingDays,
};
use migration::{Migrator, MigratorTrait};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement, TransactionTrait,
};
use std::{sync::Arc, time::Instant};
use tokio::sync::mpsc;
use uuid::Uuid;

const USAGE: &str = "usage: seed_appeals --database-url <url> [--appeals 1000000] \
[--now 2026-11-23T10:00:00+08:00] [--due 1000] [--enterprises 2000] [--seed 20261123] \
[--password bench-password-123] [--years 2]";

struct Args {
    url: String,
    appeals: usize,
    now: DateTime<Utc>,
    due: usize,
    enterprises: usize,
    seed: u64,
    password: String,
    years: f64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        url: std::env::var("DATABASE_URL").unwrap_or_default(),
        appeals: 1_000_000,
        now: DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00")?.with_timezone(&Utc),
        due: 1000,
        enterprises: 2000,
        seed: 20261123,
        password: "bench-password-123".into(),
        years: 2.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| v.replace('_', "").parse::<usize>();
        match flag.as_str() {
            "--database-url" => a.url = value,
            "--appeals" => a.appeals = num(&value)?,
            "--now" => a.now = DateTime::parse_from_rfc3339(&value)?.with_timezone(&Utc),
            "--due" => a.due = num(&value)?,
            "--enterprises" => a.enterprises = num(&value)?,
            "--seed" => a.seed = value.parse()?,
            "--password" => a.password = value,
            "--years" => a.years = value.parse()?,
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    ensure!(!a.url.is_empty(), "--database-url is required\n{USAGE}");
    ensure!(
        (1..=60_000).contains(&a.enterprises),
        "--enterprises must be 1..=60000"
    );
    ensure!(
        a.years > 0.0 && a.years <= 2.9,
        "--years must be in (0, 2.9]"
    );
    Ok(a)
}

// ------------------------------------------------------------------------------------------
// Reference data

const DEPARTMENTS: [&str; 30] = [
    "市发展和改革委员会",
    "市工业和信息化局",
    "市科学技术局",
    "市商务局",
    "市财政局",
    "市人力资源和社会保障局",
    "市自然资源和规划局",
    "市生态环境局",
    "市住房和城乡建设局",
    "市交通运输局",
    "市水利局",
    "市农业农村局",
    "市市场监督管理局",
    "市行政审批局",
    "市地方金融管理局",
    "市税务局",
    "市应急管理局",
    "市司法局",
    "市公安局",
    "市教育局",
    "市卫生健康委员会",
    "市文化广电和旅游局",
    "市数据局",
    "市城市管理局",
    "市统计局",
    "市投资促进局",
    "市医疗保障局",
    "市住房公积金管理中心",
    "南通海关",
    "市口岸办公室",
];

/// Category (in `AppealCategory::all()` order) → department index; `other` is routed by hand.
const ROUTES: [Option<u8>; 10] = [
    Some(14), // financing → 地方金融管理局
    Some(6),  // land → 自然资源和规划局
    Some(0),  // energy → 发展和改革委员会
    Some(13), // permits → 行政审批局
    Some(9),  // logistics → 交通运输局
    Some(5),  // talent → 人力资源和社会保障局
    Some(2),  // technology → 科学技术局
    Some(3),  // market → 商务局
    Some(1),  // policy → 工业和信息化局
    None,     // other
];

/// Relative frequency of each category (`AppealCategory::all()` order).
const CATEGORY_WEIGHTS: [u32; 10] = [22, 11, 10, 14, 5, 9, 9, 8, 8, 4];

const CHAINS: [(&str, &str); 12] = [
    ("shipbuilding", "船舶海工"),
    ("textile", "高端纺织"),
    ("ict", "新一代信息技术"),
    ("materials", "新材料"),
    ("new-energy", "新能源"),
    ("equipment", "高端装备"),
    ("biomedicine", "生物医药"),
    ("auto-parts", "汽车及零部件"),
    ("ic", "集成电路"),
    ("home-textile", "现代家纺"),
    ("smart-grid", "智能电网"),
    ("eco", "节能环保"),
];

const PLACES: [&str; 8] = [
    "南通", "海门", "如皋", "启东", "海安", "如东", "通州", "崇川",
];
const NAME_CHARS: [&str; 24] = [
    "华", "瑞", "恒", "泰", "鑫", "盛", "达", "远", "通", "海", "宏", "创", "科", "新", "力", "丰",
    "源", "德", "安", "联", "润", "峰", "嘉", "宇",
];
const TRADES: [&str; 12] = [
    "船舶配件",
    "纺织",
    "电子科技",
    "新材料",
    "新能源科技",
    "智能装备",
    "生物医药",
    "汽车部件",
    "半导体",
    "家纺",
    "电气",
    "环保科技",
];

/// Titles and a detail sentence per category (`AppealCategory::all()` order).
const TITLES: [[&str; 3]; 10] = [
    [
        "申请技改项目中长期贷款",
        "流动资金贷款续贷遇到困难",
        "希望对接供应链金融产品",
    ],
    [
        "扩建厂房用地指标申请",
        "工业用地容积率调整咨询",
        "厂区土地证办理进度缓慢",
    ],
    [
        "新增生产线用电增容申请",
        "天然气供应价格与保障问题",
        "光伏项目并网手续咨询",
    ],
    [
        "环评审批进度咨询",
        "施工许可证办理材料问题",
        "排污许可证延续办理",
    ],
    [
        "物流园区通行证办理",
        "集装箱运输成本过高",
        "危化品运输资质咨询",
    ],
    [
        "高层次人才引进补贴申请",
        "技术工人招聘困难",
        "人才公寓申请流程咨询",
    ],
    [
        "研发费用加计扣除政策咨询",
        "高新技术企业认定辅导",
        "产学研合作项目对接",
    ],
    [
        "出口订单下降希望拓展渠道",
        "参加展会补贴申请",
        "希望对接链主企业采购需求",
    ],
    [
        "专精特新奖补政策咨询",
        "技改补贴申报条件咨询",
        "首台套政策适用问题",
    ],
    [
        "厂区周边道路维修",
        "员工子女入学问题",
        "企业名称变更后续事项",
    ],
];
const DETAILS: [&str; 4] = [
    "目前项目进度受到影响，恳请相关部门协调解决，并告知所需材料和办理时限。",
    "我司已多次电话咨询未果，希望明确办理流程、责任部门和预计完成时间。",
    "该事项关系到本季度生产计划和订单交付，请尽快安排专人对接。",
    "附件已提供营业执照和相关证明材料，如需补充请及时通知。",
];
const REPLY_NOTES: [&str; 3] = [
    "已收到诉求，正在核实相关情况。",
    "已安排专人对接，将尽快联系企业。",
    "已受理，正在会同相关科室研究。",
];
const OPINION_NOTES: [&str; 3] = [
    "经研究，符合政策条件，将按程序办理。",
    "已明确办理路径，请企业按清单准备材料。",
    "已协调相关单位，拟于近期现场办公解决。",
];
const RESOLVE_NOTES: [&str; 3] = [
    "已办结，相关手续已完成。",
    "问题已协调解决，企业已确认。",
    "已按政策落实到位。",
];
const RATE_COMMENTS: [&str; 4] = [
    "办理及时，非常满意。",
    "对接人员很负责。",
    "问题基本解决，希望流程再简化。",
    "办理时间偏长。",
];

struct OrgRef {
    id: Uuid,
    user: Uuid,
}

struct Ent {
    id: Uuid,
    user: Uuid,
    chain: Option<u8>,
}

struct Policy {
    reply: WorkingDays,
    opinion: WorkingDays,
    close: WorkingDays,
    warn: WorkingDays,
    reply_secs: i64,
    opinion_secs: i64,
    close_secs: i64,
}

struct Ctx {
    cal: Arc<Calendar>,
    now: i64,
    /// Seconds east of UTC of the calendar's zone at `now` (dates of appeal numbers).
    offset: i64,
    day_secs: i64,
    seed: u64,
    service: OrgRef,
    depts: Vec<OrgRef>,
    chains: Vec<Uuid>,
    ents: Vec<Ent>,
    policies: Vec<Policy>,
}

fn dt(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).expect("instant in range")
}

impl Ctx {
    fn add_wt(&self, start: i64, secs: i64) -> i64 {
        self.cal
            .add_working_time(dt(start), TimeDelta::seconds(secs))
            .timestamp()
    }

    /// (due_at, warn_at) of a clock, from the engine.
    fn times(
        &self,
        start: i64,
        target: WorkingDays,
        ext: u8,
        paused: i64,
        warn: WorkingDays,
    ) -> (i64, i64) {
        let t = ClockSpec {
            start: dt(start),
            target,
            extension: WorkingDays::from_int(u32::from(ext)),
            paused: TimeDelta::seconds(paused),
            warn_before_hours: warn,
        }
        .times(&self.cal);
        (t.due_at.timestamp(), t.warn_at.timestamp())
    }

    /// When an action meeting a clock happens: on time with probability `P_ON_TIME` (somewhere
    /// in the allowed working time), else late by an exponential amount of working time.
    fn sample_met(&self, rng: &mut SmallRng, start: i64, allowed: i64, due: i64) -> i64 {
        if rng.gen_bool(P_ON_TIME) {
            let frac = rng.gen_range(0.04f64..1.0).powf(0.8);
            self.add_wt(start, ((allowed as f64) * frac) as i64 + 60)
        } else {
            // Most late actions come within a day or two; a tail lingers for weeks.
            let mean = if rng.gen_bool(0.7) { 0.6 } else { 4.0 };
            let late = exp(rng, mean * self.day_secs as f64).min(30.0 * self.day_secs as f64);
            self.add_wt(due, late as i64 + 120)
        }
    }
}

const P_ON_TIME: f64 = 0.85;

fn exp(rng: &mut SmallRng, mean: f64) -> f64 {
    -mean * (1.0 - rng.r#gen::<f64>()).ln()
}

fn pick_weighted(rng: &mut SmallRng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.gen_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// SplitMix64: deterministic bits for ids and small choices.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A UUID v7 for an instant, with random bits derived from (seed, appeal, slot): the same
/// input gives the same id, and ids sort by time like the application's `Uuid::now_v7()`.
fn uid(seed: u64, secs: i64, appeal: usize, slot: u64) -> Uuid {
    let a = mix(seed
        ^ (appeal as u64).wrapping_mul(0x100_0000_01B3)
        ^ slot.wrapping_mul(0x5851_F42D_4C95_7F2D));
    let b = mix(a ^ slot);
    let mut bytes = [0u8; 10];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes()[..2]);
    // The slot as the millisecond keeps an appeal's events of one second in timeline order.
    let millis = u64::try_from(secs).unwrap_or(0) * 1000 + slot % 1000;
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

// ------------------------------------------------------------------------------------------
// The generated appeals

const NONE8: u8 = u8::MAX;

// Status indexes, `AppealStatus::all()` order.
const SUBMITTED: u8 = 0;
const ASSIGNED: u8 = 1;
const REPLIED: u8 = 2;
const OPINION_GIVEN: u8 = 3;
const RESOLVED: u8 = 4;
const CLOSED: u8 = 5;
const AWAITING: u8 = 6;
const WITHDRAWN: u8 = 7;

/// One clock as stored; instants are Unix seconds, 0 for NULL.
#[derive(Clone, Copy, Default)]
struct Ck {
    due: i64,
    warn: i64,
    met: i64,
    paused_at: i64,
    paused_secs: i64,
    cancelled: i64,
    warned: i64,
    breached: i64,
    /// When the monitor recorded the breach (supervision and event).
    breach_pass: i64,
    escalate: i64,
    escalated: i64,
    ext: u8,
}

impl Ck {
    /// Whether the clock was counting (not met, cancelled or paused) at `t`.
    fn running_at(&self, t: i64) -> bool {
        (self.met == 0 || self.met > t)
            && (self.cancelled == 0 || self.cancelled > t)
            && (self.paused_at == 0 || self.paused_at > t)
    }
}

/// One appeal. Action instants are those that happened by `now` (0: not, or not yet).
#[derive(Clone, Default)]
struct Ap {
    sub: i64,
    num: u32,
    ent: u16,
    chain: u8,
    cat: u8,
    title: u8,
    /// First department and the one it was transferred to (`NONE8`: none).
    dept0: u8,
    dept1: u8,
    /// 0 until routed; equal to `sub` when a routing rule assigned it at submission.
    assigned: i64,
    transfer: i64,
    reply: i64,
    pause: i64,
    resume: i64,
    opinion: i64,
    ext_days: u8,
    ext_req: i64,
    ext_ok: i64,
    resolve: i64,
    rated: i64,
    sat: u8,
    withdrawn: i64,
    /// The opinion (or the resolution) also met the earlier clocks: no separate event.
    merged_reply: bool,
    merged_opinion: bool,
    paused_secs: i64,
    clocks: [Ck; 3],
    status: u8,
    paused_from: u8,
    updated: i64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Actor {
    Ent,
    /// The routing rule at submission: no user.
    System,
    Dept(u8),
    Service,
    Monitor,
}

#[derive(Clone, Copy)]
struct Ev {
    at: i64,
    action: AppealAction,
    from: u8,
    to: u8,
    actor: Actor,
    dept: u8,
    /// Clock kind for monitor events.
    clock: u8,
}

impl Ap {
    fn current_dept(&self) -> u8 {
        if self.transfer != 0 {
            self.dept1
        } else if self.assigned != 0 {
            self.dept0
        } else {
            NONE8
        }
    }

    /// The timeline of the actions that happened, in time order (monitor events excluded).
    fn timeline(&self) -> Vec<Ev> {
        let mut evs = Vec::with_capacity(8);
        let push = |evs: &mut Vec<Ev>, at, action, from, to, actor, dept| {
            evs.push(Ev {
                at,
                action,
                from,
                to,
                actor,
                dept,
                clock: NONE8,
            })
        };
        // As `api::services::appeals::submit` writes it: the submission without a department,
        // then the assignment (by the routing rule at once, else by the service centre), each
        // event carrying the department that held the appeal before the action.
        push(
            &mut evs,
            self.sub,
            AppealAction::Submit,
            NONE8,
            SUBMITTED,
            Actor::Ent,
            NONE8,
        );
        let mut st = SUBMITTED;
        if self.assigned != 0 {
            let by = if self.assigned == self.sub {
                Actor::System
            } else {
                Actor::Service
            };
            push(
                &mut evs,
                self.assigned,
                AppealAction::Assign,
                st,
                ASSIGNED,
                by,
                NONE8,
            );
            st = ASSIGNED;
        }
        let mut holder = self.dept0;
        if self.transfer != 0 {
            push(
                &mut evs,
                self.transfer,
                AppealAction::Transfer,
                st,
                st,
                Actor::Dept(holder),
                holder,
            );
            holder = self.dept1;
        }
        if self.reply != 0 && !self.merged_reply {
            push(
                &mut evs,
                self.reply,
                AppealAction::Reply,
                st,
                REPLIED,
                Actor::Dept(holder),
                holder,
            );
            st = REPLIED;
        }
        let before_pause = st;
        if self.pause != 0 {
            push(
                &mut evs,
                self.pause,
                AppealAction::RequestInfo,
                st,
                AWAITING,
                Actor::Dept(holder),
                holder,
            );
            st = AWAITING;
        }
        if self.resume != 0 {
            push(
                &mut evs,
                self.resume,
                AppealAction::Supplement,
                st,
                before_pause,
                Actor::Ent,
                holder,
            );
            st = before_pause;
        }
        if self.opinion != 0 && !self.merged_opinion {
            push(
                &mut evs,
                self.opinion,
                AppealAction::Opinion,
                st,
                OPINION_GIVEN,
                Actor::Dept(holder),
                holder,
            );
            st = OPINION_GIVEN;
        }
        if self.ext_req != 0 {
            push(
                &mut evs,
                self.ext_req,
                AppealAction::Extension,
                st,
                st,
                Actor::Dept(holder),
                holder,
            );
        }
        if self.ext_ok != 0 {
            push(
                &mut evs,
                self.ext_ok,
                AppealAction::ExtensionDecision,
                st,
                st,
                Actor::Service,
                holder,
            );
        }
        if self.resolve != 0 {
            push(
                &mut evs,
                self.resolve,
                AppealAction::Resolve,
                st,
                RESOLVED,
                Actor::Dept(holder),
                holder,
            );
            st = RESOLVED;
        }
        if self.rated != 0 {
            push(
                &mut evs,
                self.rated,
                AppealAction::Rate,
                st,
                CLOSED,
                Actor::Ent,
                holder,
            );
            st = CLOSED;
        }
        if self.withdrawn != 0 {
            push(
                &mut evs,
                self.withdrawn,
                AppealAction::Withdraw,
                st,
                WITHDRAWN,
                Actor::Ent,
                holder,
            );
        }
        evs
    }
}

/// Status and holding department at `t`, from a timeline.
fn state_at(evs: &[Ev], t: i64, ap: &Ap) -> (u8, u8) {
    let mut st = SUBMITTED;
    let mut dept = NONE8;
    for e in evs {
        if e.at > t {
            break;
        }
        st = e.to;
        match e.action {
            AppealAction::Assign => dept = ap.dept0,
            AppealAction::Transfer => dept = ap.dept1,
            _ => {}
        }
    }
    (st, dept)
}

/// Submission instants: denser towards `now` (density falls linearly to a third over the span),
/// mostly in office hours on working days.
fn submissions(ctx: &Ctx, n: usize, span_secs: i64, rng: &mut SmallRng) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let u: f64 = rng.r#gen();
        let x = (3.0 - (9.0 - 8.0 * u).sqrt()) / 2.0;
        let t = ctx.now - (x * span_secs as f64) as i64;
        let day = (t + ctx.offset).div_euclid(86400);
        let date =
            NaiveDate::from_num_days_from_ce_opt((day + 719_163) as i32).expect("date in range");
        if !ctx.cal.is_working_day(date) && rng.gen_bool(0.75) {
            continue;
        }
        let tod = if rng.gen_bool(0.8) {
            rng.gen_range(8 * 3600 + 1800..18 * 3600)
        } else {
            rng.gen_range(0..86400)
        };
        let s = day * 86400 + tod - ctx.offset;
        if s < ctx.now {
            out.push(s);
        }
    }
    out.sort_unstable();
    out
}

fn generate(ctx: &Ctx, i: usize, sub: i64) -> Ap {
    let mut rng = SmallRng::seed_from_u64(mix(
        ctx.seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)
    ));
    let now = ctx.now;
    let nd = ctx.depts.len() as u8;
    let cat = pick_weighted(&mut rng, &CATEGORY_WEIGHTS);
    // A few enterprises raise most appeals.
    let ent = ((ctx.ents.len() as f64) * rng.r#gen::<f64>().powi(2)) as usize;
    let ent = ent.min(ctx.ents.len() - 1);
    let chain = match ctx.ents[ent].chain {
        Some(c) if rng.gen_bool(0.93) => c,
        _ => NONE8,
    };
    let pol = &ctx.policies[cat];
    let s = sub;
    let (dept0, assigned) = match ROUTES[cat] {
        Some(d) if (d as usize) < ctx.depts.len() => (d, s),
        _ => (
            rng.gen_range(0..nd),
            ctx.add_wt(s, exp(&mut rng, 1.5 * 3600.0) as i64 + 300),
        ),
    };

    // Planned actions, in this order: assign ≤ transfer < reply < pause < resume < opinion <
    // extension < decision < resolve < rate. Then cut at `now` and at a withdrawal.
    let (due_r, _) = ctx.times(s, pol.reply, 0, 0, pol.warn);
    let mut reply = ctx
        .sample_met(&mut rng, s, pol.reply_secs, due_r)
        .max(assigned + 600);
    let (mut transfer, mut dept1) = (0, NONE8);
    if rng.gen_bool(0.10) {
        let t = assigned + ((reply - assigned) as f64 * rng.gen_range(0.1..0.7)) as i64 + 60;
        if t < reply {
            transfer = t;
            dept1 = (dept0 + rng.gen_range(1..nd)) % nd;
        }
    }
    let (mut pause, mut resume, mut w) = (0, 0, 0);
    if rng.gen_bool(0.07) {
        pause = reply + rng.gen_range(1800..129_600);
        resume = pause + rng.gen_range(86_400..8 * 86_400);
        w = ctx
            .cal
            .working_time_between(dt(pause), dt(resume))
            .num_seconds();
    }
    let merged_reply = pause == 0 && rng.gen_bool(0.15);
    let mut opinion = if merged_reply {
        reply
    } else {
        let (due_o, _) = ctx.times(s, pol.opinion, 0, w, pol.warn);
        let mut t = ctx
            .sample_met(&mut rng, s, pol.opinion_secs + w, due_o)
            .max(reply + 300);
        if pause != 0 {
            t = t.max(resume + 1800);
        }
        t
    };
    let merged_opinion = rng.gen_bool(0.35);
    let (mut ext_days, mut ext_req, mut ext_ok) = (0u8, 0, 0);
    if !merged_opinion && rng.gen_bool(0.03) {
        ext_days = rng.gen_range(2..=5);
        ext_req = opinion + rng.gen_range(600..14_400);
        ext_ok = ctx.add_wt(ext_req, rng.gen_range(1800..4 * 3600));
    }
    let mut resolve = if merged_opinion {
        opinion
    } else {
        let ext_secs = i64::from(ext_days) * ctx.day_secs;
        let (due_c, _) = ctx.times(s, pol.close, ext_days, w, pol.warn);
        let mut t = ctx
            .sample_met(&mut rng, s, pol.close_secs + ext_secs + w, due_c)
            .max(opinion + 300);
        if ext_ok != 0 {
            t = t.max(ext_ok + 600);
        }
        t
    };
    if merged_reply && merged_opinion {
        // One resolution meets all three clocks.
        opinion = reply;
        resolve = reply;
    }
    let mut withdrawn = 0;
    if rng.gen_bool(0.015) {
        withdrawn = s + ((resolve - s) as f64 * rng.gen_range(0.05..0.9)) as i64 + 60;
    }
    let (mut rated, sat) = if rng.gen_bool(0.88) {
        let score = [5u8, 4, 3, 2, 1][pick_weighted(&mut rng, &[56, 27, 10, 4, 3])];
        (resolve + rng.gen_range(3600..6 * 86_400), score)
    } else {
        (0, 0)
    };

    // Cut: what happened by now (and before a withdrawal).
    if withdrawn > now {
        withdrawn = 0;
    }
    let limit = if withdrawn != 0 { withdrawn - 1 } else { now };
    let cut = |t: i64| if t != 0 && t <= limit { t } else { 0 };
    let assigned = cut(assigned);
    transfer = cut(transfer);
    if transfer == 0 {
        dept1 = NONE8;
    }
    reply = cut(reply);
    pause = cut(pause);
    resume = cut(resume);
    opinion = cut(opinion);
    ext_req = cut(ext_req);
    ext_ok = cut(ext_ok);
    resolve = cut(resolve);
    rated = cut(rated);
    if ext_req == 0 {
        ext_days = 0;
    }
    let paused_secs = if resume != 0 { w } else { 0 };
    let current_pause = pause != 0 && resume == 0;
    let applied_ext = if ext_ok != 0 { ext_days } else { 0 };

    let mut ap = Ap {
        sub: s,
        ent: ent as u16,
        chain,
        cat: cat as u8,
        title: rng.gen_range(0..3),
        dept0,
        dept1,
        assigned,
        transfer,
        reply,
        pause,
        resume,
        opinion,
        ext_days,
        ext_req,
        ext_ok,
        resolve,
        rated,
        sat: if rated != 0 { sat } else { 0 },
        withdrawn,
        merged_reply,
        merged_opinion,
        paused_secs,
        ..Default::default()
    };
    let targets = [
        (pol.reply, 0u8, 0i64, reply),
        (pol.opinion, 0, paused_secs, opinion),
        (pol.close, applied_ext, paused_secs, resolve),
    ];
    for (k, (target, ext, paused, met)) in targets.into_iter().enumerate() {
        let (due, warn) = ctx.times(s, target, ext, paused, pol.warn);
        let mut c = Ck {
            due,
            warn,
            met,
            paused_secs: paused,
            ext,
            ..Default::default()
        };
        if met == 0 {
            if current_pause && k > 0 {
                c.paused_at = pause;
            }
            if withdrawn != 0 {
                c.cancelled = withdrawn;
            }
        }
        ap.clocks[k] = c;
    }
    let evs = ap.timeline();
    let last = evs.last().map(|e| (e.at, e.to)).unwrap_or((s, SUBMITTED));
    ap.updated = last.0;
    ap.status = last.1;
    if ap.status == AWAITING {
        ap.paused_from = evs
            .iter()
            .rev()
            .find(|e| e.action == AppealAction::RequestInfo)
            .map(|e| e.from)
            .unwrap_or(ASSIGNED);
    } else {
        ap.paused_from = NONE8;
    }
    ap
}

/// Monitor history as `jobs::sla_monitor` leaves it, for a monitor passing every minute:
/// `warned_at` at the pass after `warn_at`, `breached_at = due_at` and
/// `escalate_at = escalate_at(due_at)` (supervision and event at the pass after `due_at`),
/// `escalated_at` at the pass after `escalate_at`. Up to date at `now`, except the breaches of
/// the clocks in `unhandled`.
fn apply_monitor(ctx: &Ctx, ap: &mut Ap, i: usize, unhandled: &[bool; 3]) {
    for (k, c) in ap.clocks.iter_mut().enumerate() {
        let d = |slot: u64| (mix(ctx.seed ^ ((i as u64) << 4) ^ slot) % 55 + 3) as i64;
        if c.warn <= ctx.now && c.running_at(c.warn) {
            c.warned = (c.warn + d(k as u64)).min(ctx.now);
        }
        if !unhandled[k] && c.due <= ctx.now && c.running_at(c.due) {
            c.breached = c.due;
            c.breach_pass = (c.due + d(4 + k as u64)).min(ctx.now);
            c.escalate = escalate_at(&ctx.cal, dt(c.due)).timestamp();
            if c.escalate <= ctx.now && c.running_at(c.escalate) {
                c.escalated = (c.escalate + d(8 + k as u64)).min(ctx.now);
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Row formatting: PostgreSQL COPY text, or SQLite multi-row INSERT literals in the formats
// sqlx uses for the entities' types (TEXT RFC 3339 instants, BLOB UUIDs).

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pg,
    Sqlite,
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn push_num(buf: &mut Vec<u8>, v: i64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut n = v.unsigned_abs();
    let mut i = tmp.len();
    while n > 0 {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let start = i.min(tmp.len() - width.max(1));
    if v < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(&tmp[start..]);
}

/// `2026-11-23 02:00:00+00` (PostgreSQL) or `2026-11-23T02:00:00+00:00` (sqlx on SQLite).
fn push_ts(buf: &mut Vec<u8>, secs: i64, kind: Kind) {
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    push_num(buf, y, 4);
    buf.push(b'-');
    push_num(buf, i64::from(m), 2);
    buf.push(b'-');
    push_num(buf, i64::from(d), 2);
    buf.push(if kind == Kind::Pg { b' ' } else { b'T' });
    push_num(buf, sod / 3600, 2);
    buf.push(b':');
    push_num(buf, sod / 60 % 60, 2);
    buf.push(b':');
    push_num(buf, sod % 60, 2);
    buf.extend_from_slice(if kind == Kind::Pg { b"+00" } else { b"+00:00" });
}

/// Rows of one table, sent in chunks to the loader.
struct Table {
    name: &'static str,
    cols: &'static [&'static str],
    kind: Kind,
    buf: Vec<u8>,
    rows_in_buf: usize,
    rows: u64,
    field: usize,
}

const PG_CHUNK_BYTES: usize = 1 << 20;
const SQLITE_CHUNK_ROWS: usize = 1000;

impl Table {
    fn new(name: &'static str, cols: &'static [&'static str], kind: Kind) -> Self {
        Table {
            name,
            cols,
            kind,
            buf: Vec::with_capacity(PG_CHUNK_BYTES + 4096),
            rows_in_buf: 0,
            rows: 0,
            field: 0,
        }
    }

    fn sep(&mut self) {
        if self.field == 0 {
            if self.kind == Kind::Sqlite {
                if self.rows_in_buf == 0 {
                    self.buf.extend_from_slice(
                        format!(
                            "INSERT INTO {} ({}) VALUES ",
                            self.name,
                            self.cols.join(",")
                        )
                        .as_bytes(),
                    );
                } else {
                    self.buf.push(b',');
                }
                self.buf.push(b'(');
            }
        } else {
            self.buf
                .push(if self.kind == Kind::Pg { b'\t' } else { b',' });
        }
        self.field += 1;
    }

    fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(if self.kind == Kind::Pg {
            b"\\N"
        } else {
            b"NULL"
        });
        self
    }

    fn uuid(&mut self, u: Uuid) -> &mut Self {
        self.sep();
        if self.kind == Kind::Pg {
            let mut tmp = [0u8; 36];
            self.buf
                .extend_from_slice(u.hyphenated().encode_lower(&mut tmp).as_bytes());
        } else {
            let mut tmp = [0u8; 32];
            self.buf.extend_from_slice(b"X'");
            self.buf
                .extend_from_slice(u.simple().encode_upper(&mut tmp).as_bytes());
            self.buf.push(b'\'');
        }
        self
    }

    fn opt_uuid(&mut self, u: Option<Uuid>) -> &mut Self {
        match u {
            Some(u) => self.uuid(u),
            None => self.null(),
        }
    }

    fn ts(&mut self, secs: i64) -> &mut Self {
        self.sep();
        if self.kind == Kind::Sqlite {
            self.buf.push(b'\'');
        }
        push_ts(&mut self.buf, secs, self.kind);
        if self.kind == Kind::Sqlite {
            self.buf.push(b'\'');
        }
        self
    }

    /// An instant, NULL when 0.
    fn ts0(&mut self, secs: i64) -> &mut Self {
        if secs == 0 {
            self.null()
        } else {
            self.ts(secs)
        }
    }

    fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        push_num(&mut self.buf, v, 1);
        self
    }

    fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        match self.kind {
            Kind::Pg => {
                for &b in s.as_bytes() {
                    match b {
                        b'\\' => self.buf.extend_from_slice(b"\\\\"),
                        b'\t' => self.buf.extend_from_slice(b"\\t"),
                        b'\n' => self.buf.extend_from_slice(b"\\n"),
                        b'\r' => self.buf.extend_from_slice(b"\\r"),
                        _ => self.buf.push(b),
                    }
                }
            }
            Kind::Sqlite => {
                self.buf.push(b'\'');
                for &b in s.as_bytes() {
                    if b == b'\'' {
                        self.buf.push(b'\'');
                    }
                    self.buf.push(b);
                }
                self.buf.push(b'\'');
            }
        }
        self
    }

    fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    /// Ends a row; returns a full chunk to send, if any.
    fn end(&mut self) -> Option<Vec<u8>> {
        debug_assert_eq!(self.field, self.cols.len(), "{}", self.name);
        self.buf
            .push(if self.kind == Kind::Pg { b'\n' } else { b')' });
        self.field = 0;
        self.rows_in_buf += 1;
        self.rows += 1;
        let full = match self.kind {
            Kind::Pg => self.buf.len() >= PG_CHUNK_BYTES,
            Kind::Sqlite => self.rows_in_buf >= SQLITE_CHUNK_ROWS,
        };
        full.then(|| self.take())
    }

    fn take(&mut self) -> Vec<u8> {
        self.rows_in_buf = 0;
        std::mem::replace(&mut self.buf, Vec::with_capacity(PG_CHUNK_BYTES + 4096))
    }
}

const APPEAL_COLS: &[&str] = &[
    "id",
    "number",
    "enterprise_id",
    "submitted_by",
    "chain_id",
    "category",
    "title",
    "content",
    "status",
    "department_id",
    "assigned_at",
    "paused_from_status",
    "paused_at",
    "extension_working_days",
    "pending_extension_days",
    "pending_extension_reason",
    "satisfaction",
    "satisfaction_comment",
    "reopen_count",
    "submitted_at",
    "resolved_at",
    "closed_at",
    "withdrawn_at",
    "close_working_seconds",
    "updated_at",
];
/// The engine's subject type of every seeded clock, supervision and timeline line.
const SUBJECT: &str = "appeal";
const ASSIGNMENT_COLS: &[&str] = &["appeal_id", "department_id", "assigned_at"];
const CLOCK_COLS: &[&str] = &[
    "id",
    "appeal_id",
    "kind",
    "round",
    "start_at",
    "target_working_days",
    "extension_working_days",
    "paused_working_seconds",
    "paused_at",
    "due_at",
    "warn_at",
    "met_at",
    "warned_at",
    "breached_at",
    "escalate_at",
    "escalated_at",
    "cancelled_at",
    "updated_at",
    "subject_type",
];
const EVENT_COLS: &[&str] = &[
    "id",
    "appeal_id",
    "at",
    "actor_id",
    "actor_organization_id",
    "department_id",
    "action",
    "from_status",
    "to_status",
    "note",
    "subject_type",
];
const SUPERVISION_COLS: &[&str] = &[
    "id",
    "appeal_id",
    "clock_id",
    "level",
    "source",
    "department_id",
    "note",
    "created_by",
    "created_at",
    "subject_type",
];
/// The bulk tables, in load order.
const BULK_TABLES: [&str; 5] = [
    "appeals",
    "appeal_assignments",
    "sla_clocks",
    "appeal_events",
    "supervisions",
];

/// Codes of statuses, categories and clock kinds as the entities store them.
struct Codes {
    status: Vec<String>,
    category: Vec<String>,
    clock: Vec<String>,
    clock_label: Vec<&'static str>,
}

/// A chunk for table `.0`.
type Chunk = (usize, Vec<u8>);

/// Formats every row of every appeal and hands chunks to `send` (runs on a blocking thread).
fn produce(
    ctx: &Ctx,
    aps: &[Ap],
    kind: Kind,
    codes: &Codes,
    send: &dyn Fn(Chunk) -> anyhow::Result<()>,
) -> anyhow::Result<[u64; 5]> {
    let mut t = [
        Table::new("appeals", APPEAL_COLS, kind),
        Table::new("appeal_assignments", ASSIGNMENT_COLS, kind),
        Table::new("sla_clocks", CLOCK_COLS, kind),
        Table::new("appeal_events", EVENT_COLS, kind),
        Table::new("supervisions", SUPERVISION_COLS, kind),
    ];
    let seed = ctx.seed;
    let mut number = String::with_capacity(32);
    let mut content = String::with_capacity(512);
    let kinds_days = |ap: &Ap| {
        let p = &ctx.policies[ap.cat as usize];
        [p.reply, p.opinion, p.close]
    };
    for (i, ap) in aps.iter().enumerate() {
        let id = uid(seed, ap.sub, i, 0);
        let ent = &ctx.ents[ap.ent as usize];
        let (y, m, d) = civil((ap.sub + ctx.offset).div_euclid(86_400));
        number.clear();
        use std::fmt::Write;
        let _ = write!(number, "SQ{y:04}{m:02}{d:02}-{:06}", ap.num);
        let cat = ap.cat as usize;
        let title = TITLES[cat][ap.title as usize];
        content.clear();
        let _ = write!(
            content,
            "{title}。{}{}",
            DETAILS[(i + ap.title as usize) % DETAILS.len()],
            DETAILS[(i / 7 + 1) % DETAILS.len()]
        );
        let dept = ap.current_dept();
        let dept_id = |d: u8| (d != NONE8).then(|| ctx.depts[d as usize].id);
        let ext_total = ap.clocks[2].ext;
        let pending_ext = ap.ext_req != 0 && ap.ext_ok == 0;
        let close_ws = if ap.resolve != 0 {
            ctx.cal
                .working_time_between(dt(ap.sub), dt(ap.resolve))
                .num_seconds()
                - ap.paused_secs
        } else {
            0
        };
        let row = &mut t[0];
        row.uuid(id)
            .text(&number)
            .uuid(ent.id)
            .uuid(ent.user)
            .opt_uuid((ap.chain != NONE8).then(|| ctx.chains[ap.chain as usize]))
            .text(&codes.category[cat])
            .text(title)
            .text(&content)
            .text(&codes.status[ap.status as usize])
            .opt_uuid(dept_id(dept))
            .ts0(if ap.transfer != 0 {
                ap.transfer
            } else {
                ap.assigned
            })
            .opt_text(
                (ap.paused_from != NONE8).then(|| codes.status[ap.paused_from as usize].as_str()),
            )
            .ts0(if ap.status == AWAITING { ap.pause } else { 0 })
            .text(&ext_total.to_string())
            .opt_text(pending_ext.then(|| ext_str(ap.ext_days)))
            .opt_text(pending_ext.then_some("现场核查需要协调多个部门，申请延期办理。"));
        if ap.sat != 0 {
            row.int(i64::from(ap.sat));
        } else {
            row.null();
        }
        row.opt_text(
            (ap.sat != 0 && i % 3 == 0).then(|| RATE_COMMENTS[(5 - ap.sat as usize).min(3)]),
        )
        .int(0)
        .ts(ap.sub)
        .ts0(ap.resolve)
        .ts0(ap.rated)
        .ts0(ap.withdrawn);
        if ap.resolve != 0 {
            row.int(close_ws);
        } else {
            row.null();
        }
        row.ts(ap.updated);
        if let Some(c) = row.end() {
            send((0, c))?;
        }

        // Assignments: every department it was ever assigned to.
        if ap.assigned != 0 {
            let row = &mut t[1];
            row.uuid(id)
                .uuid(ctx.depts[ap.dept0 as usize].id)
                .ts(ap.assigned);
            if let Some(c) = row.end() {
                send((1, c))?;
            }
            if ap.transfer != 0 {
                row.uuid(id)
                    .uuid(ctx.depts[ap.dept1 as usize].id)
                    .ts(ap.transfer);
                if let Some(c) = row.end() {
                    send((1, c))?;
                }
            }
        }

        // Clocks.
        let days = kinds_days(ap);
        let mut clock_ids = [Uuid::nil(); 3];
        for (k, c) in ap.clocks.iter().enumerate() {
            let cid = uid(seed, ap.sub, i, 1 + k as u64);
            clock_ids[k] = cid;
            let updated = [
                ap.sub,
                c.met,
                c.warned,
                c.breached,
                c.escalated,
                c.cancelled,
                c.paused_at,
            ]
            .into_iter()
            .max()
            .unwrap_or(ap.sub);
            let row = &mut t[2];
            row.uuid(cid)
                .uuid(id)
                .text(&codes.clock[k])
                .int(0)
                .ts(ap.sub)
                .text(&days[k].to_string())
                .text(&c.ext.to_string())
                .int(c.paused_secs)
                .ts0(c.paused_at)
                .ts(c.due)
                .ts(c.warn)
                .ts0(c.met)
                .ts0(c.warned)
                .ts0(c.breached)
                .ts0(c.escalate)
                .ts0(c.escalated)
                .ts0(c.cancelled)
                .ts(updated)
                .text(SUBJECT);
            if let Some(ch) = row.end() {
                send((2, ch))?;
            }
        }

        // Timeline, then the monitor's events and supervisions.
        let evs = ap.timeline();
        let mut monitor = Vec::new();
        for (k, c) in ap.clocks.iter().enumerate() {
            for (level, at) in [(1u8, c.breach_pass), (2, c.escalated)] {
                if at == 0 {
                    continue;
                }
                let (st, holder) = state_at(&evs, at, ap);
                monitor.push(Ev {
                    at,
                    action: if level == 1 {
                        AppealAction::Breach
                    } else {
                        AppealAction::Escalation
                    },
                    from: st,
                    to: st,
                    actor: Actor::Monitor,
                    dept: holder,
                    clock: k as u8,
                });
            }
        }
        for (j, e) in evs.iter().chain(monitor.iter()).enumerate() {
            let (actor, actor_org) = match e.actor {
                Actor::Ent => (Some(ent.user), Some(ent.id)),
                Actor::Dept(d) => (
                    Some(ctx.depts[d as usize].user),
                    Some(ctx.depts[d as usize].id),
                ),
                Actor::Service => (Some(ctx.service.user), Some(ctx.service.id)),
                Actor::Monitor | Actor::System => (None, None),
            };
            let pick = (i + j) % 3;
            let note: Option<String> = match e.action {
                AppealAction::Transfer => {
                    Some("该事项不属于本部门职责范围，转相关部门办理。".into())
                }
                AppealAction::Reply => Some(REPLY_NOTES[pick].into()),
                AppealAction::RequestInfo => Some("请补充近三年财务报表及项目可行性报告。".into()),
                AppealAction::Supplement => Some("已上传补充材料。".into()),
                AppealAction::Opinion => Some(OPINION_NOTES[pick].into()),
                AppealAction::Extension => Some(format!("申请延期{}个工作日", ap.ext_days)),
                AppealAction::ExtensionDecision => Some("同意延期".into()),
                AppealAction::Resolve => Some(RESOLVE_NOTES[pick].into()),
                AppealAction::Rate => Some(format!("评分 {}", ap.sat)),
                AppealAction::Withdraw => Some("问题已自行解决，撤回诉求。".into()),
                AppealAction::Breach => Some(format!(
                    "{}时限 {} 已超时，自动督办",
                    codes.clock_label[e.clock as usize],
                    local_minute(ctx, ap.clocks[e.clock as usize].due)
                )),
                AppealAction::Escalation => Some(format!(
                    "{}时限 {} 超时后一个工作日仍未办理，升级督办",
                    codes.clock_label[e.clock as usize],
                    local_minute(ctx, ap.clocks[e.clock as usize].due)
                )),
                _ => None,
            };
            let row = &mut t[3];
            row.uuid(uid(seed, e.at, i, 16 + j as u64))
                .uuid(id)
                .ts(e.at)
                .opt_uuid(actor)
                .opt_uuid(actor_org)
                .opt_uuid(dept_id(e.dept))
                .text(e.action.code())
                .opt_text((e.from != NONE8).then(|| codes.status[e.from as usize].as_str()))
                .text(&codes.status[e.to as usize])
                .opt_text(note.as_deref())
                .text(SUBJECT);
            if let Some(c) = row.end() {
                send((3, c))?;
            }
        }
        for e in &monitor {
            let level = if e.action == AppealAction::Breach {
                1
            } else {
                2
            };
            let row = &mut t[4];
            row.uuid(uid(seed, e.at, i, 64 + u64::from(e.clock) * 2 + level))
                .uuid(id)
                .uuid(clock_ids[e.clock as usize])
                .int(level as i64)
                .text(if level == 1 { "breach" } else { "escalation" })
                .opt_uuid(dept_id(e.dept))
                .text(&format!(
                    "{}{}",
                    codes.clock_label[e.clock as usize],
                    if level == 1 {
                        "时限已超时"
                    } else {
                        "超时一个工作日仍未办理，升级督办"
                    }
                ))
                .null()
                .ts(e.at)
                .text(SUBJECT);
            if let Some(c) = row.end() {
                send((4, c))?;
            }
        }
    }
    let mut rows = [0u64; 5];
    for (k, table) in t.iter_mut().enumerate() {
        if table.rows_in_buf > 0 {
            send((k, table.take()))?;
        }
        rows[k] = table.rows;
    }
    Ok(rows)
}

/// `YYYY-MM-DD HH:MM` in the calendar's zone, as the monitor writes due times in notes.
fn local_minute(ctx: &Ctx, secs: i64) -> String {
    let (y, m, d) = civil((secs + ctx.offset).div_euclid(86_400));
    let sod = (secs + ctx.offset).rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        sod / 3600,
        sod / 60 % 60
    )
}

fn ext_str(days: u8) -> &'static str {
    ["0", "1", "2", "3", "4", "5"][(days as usize).min(5)]
}

// ------------------------------------------------------------------------------------------
// Database work

async fn connect(url: &str, replica: bool) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false);
    if url.starts_with("postgres") {
        opts.max_connections(8).min_connections(1);
        if replica {
            // Foreign keys are enforced by triggers; this session role skips them during the
            // load (the rows are consistent by construction and checked afterwards).
            opts.map_sqlx_postgres_opts(|o| o.options([("session_replication_role", "replica")]));
        }
    } else {
        opts.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .map_sqlx_sqlite_opts(|o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Off)
                    .foreign_keys(false)
                    .pragma("cache_size", "-262144")
                    .pragma("temp_store", "memory")
                    .busy_timeout(std::time::Duration::from_secs(30))
            });
    }
    Ok(Database::connect(opts).await?)
}

async fn scalar_i64(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await?
        .context("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// (name, definition) of the secondary indexes of the bulk tables (not those behind primary
/// keys and unique constraints).
async fn secondary_indexes(db: &DatabaseConnection) -> anyhow::Result<Vec<(String, String)>> {
    let list = BULK_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => format!(
            "SELECT i.relname::text, pg_get_indexdef(i.oid) FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
             WHERE t.relname IN ({list}) AND t.relnamespace = current_schema()::regnamespace \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
             ORDER BY 1"
        ),
        _ => format!(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ({list}) ORDER BY 1"
        ),
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get_by_index::<String>(0)?,
                r.try_get_by_index::<String>(1)?,
            ))
        })
        .collect()
}

async fn create_reference_data(
    db: &DatabaseConnection,
    args: &Args,
    created: DateTime<Utc>,
    rng: &mut SmallRng,
) -> anyhow::Result<(OrgRef, Vec<OrgRef>, Vec<Uuid>, Vec<Ent>)> {
    let settings = api::config::Settings::defaults()?;
    let hash = api::auth::password::PasswordPolicy::new(
        settings.argon2_m_cost_kib,
        settings.argon2_t_cost,
        1,
        std::time::Duration::from_secs(60),
    )
    .hash(args.password.clone())
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let txn = db.begin().await?;
    let mut orgs = Vec::new();
    let mut users = Vec::new();
    let org = |id: Uuid, kind: OrgKind, name: String, uscc: Option<String>, email: String| {
        organization::ActiveModel {
            id: Set(id),
            kind: Set(kind),
            name: Set(name),
            uscc: Set(uscc),
            region: Set(Some("南通市".into())),
            contact_name: Set(None),
            contact_email: Set(Some(email)),
            verified: Set(true),
            created_at: Set(created),
            updated_at: Set(created),
        }
    };
    let usr = |id: Uuid, username: String, display: String, role: Role, org: Option<Uuid>| {
        user::ActiveModel {
            id: Set(id),
            username: Set(username.clone()),
            password_hash: Set(hash.clone()),
            display_name: Set(display),
            email: Set(Some(format!("{username}@bench.liantong.local"))),
            role: Set(role),
            organization_id: Set(org),
            active: Set(true),
            session_version: Set(0),
            created_at: Set(created),
            updated_at: Set(created),
        }
    };
    let v7 = |n: u64| uid(args.seed, created.timestamp(), 0, 0x1000_0000 + n);
    let mut n = 0u64;
    let mut next = || {
        n += 1;
        v7(n)
    };

    let admin_exists = user::Entity::find()
        .filter(user::Column::Username.eq("admin"))
        .count(&txn)
        .await?
        > 0;
    if !admin_exists {
        users.push(usr(
            next(),
            "admin".into(),
            "系统管理员".into(),
            Role::Admin,
            None,
        ));
    }
    let service = OrgRef {
        id: next(),
        user: next(),
    };
    orgs.push(org(
        service.id,
        OrgKind::ServiceCenter,
        "南通市企业服务中心".into(),
        None,
        "service@bench.liantong.local".into(),
    ));
    users.push(usr(
        service.user,
        "service".into(),
        "服务中心值班员".into(),
        Role::ServiceCenter,
        Some(service.id),
    ));
    let mut depts = Vec::new();
    for (k, name) in DEPARTMENTS.iter().enumerate() {
        let d = OrgRef {
            id: next(),
            user: next(),
        };
        let username = format!("dept{:02}", k + 1);
        orgs.push(org(
            d.id,
            OrgKind::Department,
            (*name).into(),
            None,
            format!("{username}-office@bench.liantong.local"),
        ));
        users.push(usr(
            d.user,
            username,
            format!("{name}联络员"),
            Role::Department,
            Some(d.id),
        ));
        depts.push(d);
    }
    let mut chain_rows = Vec::new();
    let mut chain_ids = Vec::new();
    for (k, (code, name)) in CHAINS.iter().enumerate() {
        let office = OrgRef {
            id: next(),
            user: next(),
        };
        let username = format!("chain{:02}", k + 1);
        orgs.push(org(
            office.id,
            OrgKind::ChainOffice,
            format!("{name}产业链专班办公室"),
            None,
            format!("{username}-office@bench.liantong.local"),
        ));
        users.push(usr(
            office.user,
            username,
            format!("{name}产业链专班"),
            Role::ChainOffice,
            Some(office.id),
        ));
        let id = next();
        chain_ids.push(id);
        chain_rows.push(chain::ActiveModel {
            id: Set(id),
            code: Set((*code).into()),
            name: Set(format!("{name}产业链")),
            description: Set(Some(format!("南通市{name}产业链，链长制重点产业链。"))),
            office_organization_id: Set(office.id),
            created_at: Set(created),
            updated_at: Set(created),
        });
    }
    let mut ents = Vec::new();
    let mut members = Vec::new();
    let mut leaders = [false; CHAINS.len()];
    for k in 0..args.enterprises {
        let chain = rng
            .gen_bool(0.75)
            .then(|| rng.gen_range(0..CHAINS.len() as u8));
        let trade = match chain {
            Some(c) => TRADES[c as usize],
            None => TRADES[rng.gen_range(0..TRADES.len())],
        };
        let name = format!(
            "{}{}{}{}{}",
            PLACES[rng.gen_range(0..PLACES.len())],
            NAME_CHARS[rng.gen_range(0..NAME_CHARS.len())],
            NAME_CHARS[rng.gen_range(0..NAME_CHARS.len())],
            trade,
            if rng.gen_bool(0.2) {
                "股份有限公司"
            } else {
                "有限公司"
            }
        );
        let uscc = Uscc::with_check_char(&format!("91320600{:09}", 310_000_000 + k * 37))?;
        let e = Ent {
            id: next(),
            user: next(),
            chain,
        };
        let username = format!("ent{:05}", k + 1);
        orgs.push(org(
            e.id,
            OrgKind::Enterprise,
            name.clone(),
            Some(uscc.as_str().into()),
            format!("{username}-contact@bench.liantong.local"),
        ));
        users.push(usr(
            e.user,
            username,
            format!("{name}经办人"),
            Role::Enterprise,
            Some(e.id),
        ));
        if let Some(c) = chain {
            let role = if !leaders[c as usize] {
                leaders[c as usize] = true;
                MemberRole::ChainLeaderEnterprise
            } else if rng.gen_bool(0.1) {
                MemberRole::Core
            } else {
                MemberRole::Supporting
            };
            members.push(chain_member::ActiveModel {
                chain_id: Set(chain_ids[c as usize]),
                organization_id: Set(e.id),
                role: Set(role),
                status: Set(MembershipStatus::Active),
                invited_by: Set(None),
                invited_at: Set(None),
                accepted_at: Set(Some(created)),
                created_at: Set(created),
            });
        }
        ents.push(e);
    }
    for chunk in orgs.chunks(500) {
        organization::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    for chunk in users.chunks(500) {
        user::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    chain::Entity::insert_many(chain_rows).exec(&txn).await?;
    for chunk in members.chunks(500) {
        chain_member::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    for (cat, route) in AppealCategory::all().iter().zip(ROUTES) {
        if let Some(d) = route {
            routing_rule::Entity::insert(routing_rule::ActiveModel {
                category: Set(*cat),
                department_id: Set(depts[d as usize].id),
                updated_at: Set(created),
            })
            .exec(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    Ok((service, depts, chain_ids, ents))
}

/// Checks that the bulk formats equal what the entities wrote for the service centre row.
async fn check_formats(db: &DatabaseConnection, id: Uuid, created: i64) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let mut hex = [0u8; 32];
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!(
                "SELECT typeof(id), typeof(created_at), created_at FROM organizations WHERE id = X'{}'",
                id.simple().encode_upper(&mut hex)
            ),
        ))
        .await?
        .context("the service centre row is not found by a BLOB id: the UUID format differs")?;
    let (tid, tts, stored): (String, String, String) = (
        row.try_get_by_index(0)?,
        row.try_get_by_index(1)?,
        row.try_get_by_index(2)?,
    );
    let mut mine = Vec::new();
    push_ts(&mut mine, created, Kind::Sqlite);
    ensure!(
        tid == "blob" && tts == "text" && stored.as_bytes() == mine.as_slice(),
        "SQLite formats differ: id {tid}, created_at {tts} {stored:?}, bulk would write {:?}",
        String::from_utf8_lossy(&mine)
    );
    println!(
        "SQLite formats checked against an ActiveModel row: BLOB ids, TEXT instants like {stored}"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    let is_pg = args.url.starts_with("postgres");
    let kind = if is_pg { Kind::Pg } else { Kind::Sqlite };
    let db = connect(&args.url, false).await?;
    Migrator::up(&db, None).await?;
    let existing = scalar_i64(&db, "SELECT count(*) FROM appeals").await?;
    ensure!(
        existing == 0,
        "the database already has {existing} appeals; seed an empty one"
    );
    let backend = db.get_database_backend();

    // Self-checks of the fast formatters against chrono.
    for s in [0i64, 951_782_400, 1_795_398_400, 1_763_856_000 + 86_399] {
        let mut a = Vec::new();
        push_ts(&mut a, s, Kind::Sqlite);
        ensure!(
            a == dt(s)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false)
                .as_bytes(),
            "timestamp formatter"
        );
    }
    let codes = Codes {
        status: AppealStatus::all().iter().map(|s| s.code()).collect(),
        category: AppealCategory::all().iter().map(|c| c.code()).collect(),
        clock: ClockKind::all().iter().map(|c| c.code()).collect(),
        clock_label: ClockKind::all().iter().map(|c| c.label_zh()).collect(),
    };
    ensure!(
        codes.status[..8]
            == [
                "submitted",
                "assigned",
                "replied",
                "opinion_given",
                "resolved",
                "closed",
                "awaiting_enterprise",
                "withdrawn"
            ],
        "status order changed: {:?}",
        codes.status
    );

    let cal = jobs::calendar::CalendarLoader::default()
        .current(&db)
        .await?;
    let now = args.now.timestamp();
    let offset = i64::from(
        cal.settings()
            .time_zone
            .offset_from_utc_datetime(&args.now.naive_utc())
            .fix()
            .local_minus_utc(),
    );
    let mut policies = Vec::new();
    let stored = sla_policy::Entity::find().all(&db).await?;
    let day = cal.day_length();
    for cat in AppealCategory::all() {
        let p = stored
            .iter()
            .find(|p| p.category == *cat)
            .with_context(|| format!("no SLA policy for {}", cat.code()))?;
        let wd = |s: &str| {
            s.parse::<WorkingDays>()
                .map_err(|e| anyhow::anyhow!("{s}: {e}"))
        };
        let (reply, opinion, close) = (
            wd(&p.reply_working_days)?,
            wd(&p.opinion_working_days)?,
            wd(&p.close_working_days)?,
        );
        policies.push(Policy {
            reply_secs: reply.to_duration(day).num_seconds(),
            opinion_secs: opinion.to_duration(day).num_seconds(),
            close_secs: close.to_duration(day).num_seconds(),
            reply,
            opinion,
            close,
            warn: wd(&p.warn_before_working_hours)?,
        });
    }

    // Reference data through the entities.
    let t0 = Instant::now();
    let mut rng = SmallRng::seed_from_u64(args.seed);
    let created = dt(now - (args.years * 365.0 * 86_400.0) as i64 - 30 * 86_400);
    let (service, depts, chains, ents) =
        create_reference_data(&db, &args, created, &mut rng).await?;
    check_formats(&db, service.id, created.timestamp()).await?;
    println!(
        "reference data: 1 service centre, {} departments, {} chains, {} enterprises, {} users in {:.1}s",
        depts.len(),
        chains.len(),
        ents.len(),
        1 + depts.len() + chains.len() + ents.len(),
        t0.elapsed().as_secs_f64()
    );
    let ctx = Arc::new(Ctx {
        cal: cal.clone(),
        now,
        offset,
        day_secs: day.num_seconds(),
        seed: args.seed,
        service,
        depts,
        chains,
        ents,
        policies,
    });

    // Appeals in memory: submissions, then each appeal's history (two threads), then the
    // monitor's state with exactly `due` clocks left due.
    let t1 = Instant::now();
    let span = (args.years * 365.0 * 86_400.0) as i64;
    let subs = submissions(&ctx, args.appeals, span, &mut rng);
    let mut aps: Vec<Ap> = vec![Ap::default(); subs.len()];
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let per = subs.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (part, (out, subs)) in aps.chunks_mut(per).zip(subs.chunks(per)).enumerate() {
            let ctx = &ctx;
            scope.spawn(move || {
                for (j, (ap, &s)) in out.iter_mut().zip(subs).enumerate() {
                    *ap = generate(ctx, part * per + j, s);
                }
            });
        }
    });
    // Numbers: SQ{local date}-{n:06}, n counting per day in submission order.
    let mut max_num = 0u32;
    let mut last_day = i64::MIN;
    let mut n = 0u32;
    for ap in aps.iter_mut() {
        let d = (ap.sub + offset).div_euclid(86_400);
        if d != last_day {
            last_day = d;
            n = 0;
        }
        n += 1;
        ap.num = n;
        max_num = max_num.max(n);
    }
    ensure!(max_num <= 999_999, "more than 999999 appeals on one day");
    let mut candidates: Vec<(i64, usize, usize)> = Vec::new();
    for (i, ap) in aps.iter().enumerate() {
        for (k, c) in ap.clocks.iter().enumerate() {
            if c.met == 0 && c.paused_at == 0 && c.cancelled == 0 && c.due <= now {
                candidates.push((c.due, i, k));
            }
        }
    }
    candidates.sort_unstable_by(|a, b| b.cmp(a));
    let unhandled_n = args.due.min(candidates.len());
    if unhandled_n < args.due {
        println!(
            "warning: only {} clocks are due and unmet at --now (asked for {})",
            candidates.len(),
            args.due
        );
    }
    let mut unhandled = vec![[false; 3]; aps.len()];
    for &(_, i, k) in &candidates[..unhandled_n] {
        unhandled[i][k] = true;
    }
    let oldest_unhandled = candidates.get(unhandled_n.saturating_sub(1)).map(|c| c.0);
    {
        let per = aps.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            for (part, (out, un)) in aps.chunks_mut(per).zip(unhandled.chunks(per)).enumerate() {
                let ctx = &ctx;
                scope.spawn(move || {
                    for (j, (ap, un)) in out.iter_mut().zip(un).enumerate() {
                        apply_monitor(ctx, ap, part * per + j, un);
                    }
                });
            }
        });
    }
    drop(unhandled);
    println!(
        "generated {} appeals in memory in {:.1}s ({} of {} overdue open clocks left unhandled, due since {})",
        aps.len(),
        t1.elapsed().as_secs_f64(),
        unhandled_n,
        candidates.len(),
        oldest_unhandled
            .map(|t| dt(t).to_rfc3339())
            .unwrap_or_default()
    );
    print_stats(&aps, &ctx);

    // Bulk load.
    let t2 = Instant::now();
    let indexes = secondary_indexes(&db).await?;
    for (name, _) in &indexes {
        db.execute_unprepared(&format!("DROP INDEX \"{name}\""))
            .await?;
    }
    let aps = Arc::new(aps);
    let codes = Arc::new(codes);
    let rows = if is_pg {
        load_pg(&args.url, ctx.clone(), aps.clone(), codes.clone()).await?
    } else {
        load_sqlite(&db, ctx.clone(), aps.clone(), codes.clone()).await?
    };
    let load_secs = t2.elapsed().as_secs_f64();
    println!(
        "loaded rows in {load_secs:.1}s: {}",
        BULK_TABLES
            .iter()
            .zip(rows)
            .map(|(t, n)| format!("{t} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let t3 = Instant::now();
    recreate_indexes(&db, &args.url, &indexes).await?;
    println!(
        "re-created {} indexes in {:.1}s",
        indexes.len(),
        t3.elapsed().as_secs_f64()
    );

    let t4 = Instant::now();
    match backend {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!("SELECT setval('appeal_number_seq', {max_num})"))
                .await?;
            for t in BULK_TABLES {
                db.execute_unprepared(&format!("VACUUM (ANALYZE) {t}"))
                    .await?;
            }
            db.execute_unprepared(
                "ANALYZE organizations; ANALYZE users; ANALYZE chains; ANALYZE chain_members",
            )
            .await?;
        }
        _ => {
            db.execute_unprepared(&format!(
                "UPDATE appeal_number_seq SET value = {max_num} WHERE id = 1"
            ))
            .await?;
            db.execute_unprepared("ANALYZE").await?;
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
    }
    println!(
        "{} in {:.1}s",
        if is_pg {
            "VACUUM (ANALYZE)"
        } else {
            "ANALYZE + WAL checkpoint"
        },
        t4.elapsed().as_secs_f64()
    );
    let total = started.elapsed().as_secs_f64();

    // Checks, outside the timed part.
    let t5 = Instant::now();
    let mut now_lit = Vec::new();
    push_ts(&mut now_lit, now, kind);
    let now_lit = String::from_utf8_lossy(&now_lit).into_owned();
    let due = scalar_i64(
        &db,
        &format!(
            "SELECT count(*) FROM sla_clocks WHERE met_at IS NULL AND breached_at IS NULL \
             AND cancelled_at IS NULL AND paused_at IS NULL AND due_at <= '{now_lit}'"
        ),
    )
    .await?;
    let orphans = scalar_i64(
        &db,
        "SELECT (SELECT count(*) FROM sla_clocks c WHERE NOT EXISTS (SELECT 1 FROM appeals a WHERE a.id = c.appeal_id)) \
         + (SELECT count(*) FROM appeal_events e WHERE NOT EXISTS (SELECT 1 FROM appeals a WHERE a.id = e.appeal_id)) \
         + (SELECT count(*) FROM supervisions s WHERE NOT EXISTS (SELECT 1 FROM sla_clocks c WHERE c.id = s.clock_id)) \
         + (SELECT count(*) FROM appeal_assignments s WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = s.department_id)) \
         + (SELECT count(*) FROM appeals a WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.submitted_by))",
    )
    .await?;
    println!(
        "checks ({:.1}s): {due} clocks due and unhandled at {} (unmet, not breached, not paused, not cancelled, due_at <= now); {orphans} rows without their parent",
        t5.elapsed().as_secs_f64(),
        args.now.to_rfc3339()
    );
    ensure!(orphans == 0, "rows without their parent row");
    let mut per_dept = vec![0usize; ctx.depts.len()];
    for ap in aps.iter() {
        let d = ap.current_dept();
        if d != NONE8 {
            per_dept[d as usize] += 1;
        }
    }
    let busiest = per_dept
        .iter()
        .enumerate()
        .max_by_key(|(_, n)| **n)
        .map(|(d, _)| d)
        .unwrap_or(0);
    println!(
        "busiest department: {} ({}, {} appeals); logins: admin, service, dept01..dept{:02}, chain01..chain{:02}, ent00001..ent{:05} with the password {:?}",
        ctx.depts[busiest].id,
        DEPARTMENTS[busiest],
        per_dept[busiest],
        ctx.depts.len(),
        CHAINS.len(),
        ctx.ents.len(),
        args.password
    );
    println!(
        "TOTAL {:.1}s for {} appeals on {} (reference data, generation, load, indexes, {})",
        total,
        aps.len(),
        if is_pg { "PostgreSQL" } else { "SQLite" },
        if is_pg { "VACUUM ANALYZE" } else { "ANALYZE" }
    );
    Ok(())
}

fn print_stats(aps: &[Ap], ctx: &Ctx) {
    let mut by_status = [0usize; 9];
    let mut on_time = [0usize; 3];
    let mut late = [0usize; 3];
    let (mut chain, mut breached, mut escalated, mut warned) = (0, 0, 0, 0);
    for ap in aps {
        by_status[ap.status as usize] += 1;
        chain += usize::from(ap.chain != NONE8);
        for (k, c) in ap.clocks.iter().enumerate() {
            if c.met != 0 {
                if c.met <= c.due {
                    on_time[k] += 1;
                } else {
                    late[k] += 1;
                }
            } else if c.cancelled == 0 && c.due <= ctx.now {
                late[k] += 1;
            }
            breached += usize::from(c.breached != 0);
            escalated += usize::from(c.escalated != 0);
            warned += usize::from(c.warned != 0);
        }
    }
    let names = [
        "submitted",
        "assigned",
        "replied",
        "opinion_given",
        "resolved",
        "closed",
        "awaiting_enterprise",
        "withdrawn",
        "reopened",
    ];
    println!(
        "statuses: {}",
        names
            .iter()
            .zip(by_status)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let pct = |a: usize, b: usize| 100.0 * a as f64 / (a + b).max(1) as f64;
    println!(
        "with a chain {:.1} %; on time among clocks due: reply {:.1} %, opinion {:.1} %, close {:.1} %; breached {breached}, escalated {escalated}, warned {warned}",
        100.0 * chain as f64 / aps.len().max(1) as f64,
        pct(on_time[0], late[0]),
        pct(on_time[1], late[1]),
        pct(on_time[2], late[2]),
    );
}

async fn load_pg(
    url: &str,
    ctx: Arc<Ctx>,
    aps: Arc<Vec<Ap>>,
    codes: Arc<Codes>,
) -> anyhow::Result<[u64; 5]> {
    use sea_orm::sqlx::postgres::PgPoolCopyExt;
    let loader = match connect(url, true).await {
        Ok(c) => c,
        Err(e) => {
            println!(
                "note: session_replication_role=replica refused ({e}); loading with foreign-key triggers on"
            );
            connect(url, false).await?
        }
    };
    let pool = loader.get_postgres_connection_pool().clone();
    let mut senders = Vec::new();
    let mut tasks = Vec::new();
    for (k, table) in BULK_TABLES.iter().enumerate() {
        let cols = [
            APPEAL_COLS,
            ASSIGNMENT_COLS,
            CLOCK_COLS,
            EVENT_COLS,
            SUPERVISION_COLS,
        ][k]
            .join(",");
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(4);
        senders.push(tx);
        let pool = pool.clone();
        let stmt = format!("COPY {table} ({cols}) FROM STDIN");
        tasks.push(tokio::spawn(async move {
            let mut copy = pool.copy_in_raw(&stmt).await?;
            while let Some(buf) = rx.recv().await {
                copy.send(buf).await?;
            }
            copy.finish().await?;
            anyhow::Ok(())
        }));
    }
    let producer = tokio::task::spawn_blocking(move || {
        let send = |(k, buf): Chunk| -> anyhow::Result<()> {
            senders[k]
                .blocking_send(buf)
                .map_err(|_| anyhow::anyhow!("the COPY of {} stopped", BULK_TABLES[k]))
        };
        produce(&ctx, &aps, Kind::Pg, &codes, &send)
    });
    let produced = producer.await?;
    for (k, t) in tasks.into_iter().enumerate() {
        t.await?
            .with_context(|| format!("COPY {}", BULK_TABLES[k]))?;
    }
    let rows = produced?;
    loader.close().await?;
    Ok(rows)
}

async fn load_sqlite(
    db: &DatabaseConnection,
    ctx: Arc<Ctx>,
    aps: Arc<Vec<Ap>>,
    codes: Arc<Codes>,
) -> anyhow::Result<[u64; 5]> {
    let (tx, mut rx) = mpsc::channel::<Chunk>(16);
    let producer = tokio::task::spawn_blocking(move || {
        let send = |c: Chunk| -> anyhow::Result<()> {
            tx.blocking_send(c)
                .map_err(|_| anyhow::anyhow!("the SQLite writer stopped"))
        };
        produce(&ctx, &aps, Kind::Sqlite, &codes, &send)
    });
    db.execute_unprepared("BEGIN").await?;
    let mut since_commit = 0;
    while let Some((_, sql)) = rx.recv().await {
        let sql = String::from_utf8(sql)?;
        db.execute_unprepared(&sql).await?;
        since_commit += 1;
        if since_commit >= 200 {
            db.execute_unprepared("COMMIT").await?;
            db.execute_unprepared("BEGIN").await?;
            since_commit = 0;
        }
    }
    db.execute_unprepared("COMMIT").await?;
    producer.await?
}

async fn recreate_indexes(
    db: &DatabaseConnection,
    url: &str,
    indexes: &[(String, String)],
) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        for (_, sql) in indexes {
            db.execute_unprepared(sql).await?;
        }
        return Ok(());
    }
    // Two sessions build indexes side by side, each with room to sort in memory.
    let queue = Arc::new(std::sync::Mutex::new(
        indexes.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
    ));
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let queue = queue.clone();
        let url = url.to_string();
        tasks.push(tokio::spawn(async move {
            let mut opts = ConnectOptions::new(url);
            opts.sqlx_logging(false)
                .max_connections(1)
                .min_connections(1);
            opts.map_sqlx_postgres_opts(|o| o.options([("maintenance_work_mem", "512MB")]));
            let conn = Database::connect(opts).await?;
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(sql) = next else { break };
                conn.execute_unprepared(&sql).await?;
            }
            conn.close().await?;
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}
