//! The demo city: a Nantong-like municipality with its service centre, departments, six
//! industrial chains, their offices, banks and about sixty enterprises, plus one login per role.
//!
//! Everything goes through the same service functions (validation, audit) as the API, in one
//! transaction, as the `admin` user. Later features append their own demo data here.

use crate::{
    auth::AuthUser,
    services::{
        bootstrap::random_token,
        chains::{self, BankInput, NewChain},
        memberships::{self, MemberInput},
        organizations::{self, NewOrganization},
        qualifications::{self, QualificationInput},
        users::{self, NewUser},
    },
    state::AppState,
};
use anyhow::Context;
use chrono::NaiveDate;
use entity::{
    chain,
    enums::{BankRole, MemberRole, OrgKind, QualificationKind, Role},
    organization,
    uscc::Uscc,
    user,
};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

/// What the loader made: the demo logins (username, role code), their shared password and counts.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// `(username, role code)` of every demo login.
    pub logins: Vec<(String, String)>,
    /// The password shared by the demo logins, generated at load time.
    pub password: String,
    /// Organizations created.
    pub organizations: usize,
    /// Chains created.
    pub chains: usize,
    /// Appeals replayed, and the actions taken on them.
    pub appeals: usize,
    pub appeal_actions: usize,
    /// Credit programs, financing requests replayed, and the actions taken on them.
    pub credit_programs: usize,
    pub financing_requests: usize,
    pub financing_actions: usize,
    /// Ledger rows of the demo lines, and last month's lead-bank reports.
    pub credit_movements: usize,
    pub bank_reports: usize,
    /// Fund programs, applications (including apply-free awards) and risk claims.
    pub fund_programs: usize,
    pub fund_applications: usize,
    pub risk_claims: usize,
}

/// Loads the demo city into an empty database and prints the logins; skips a non-empty one.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    match load_into(state).await? {
        Some(summary) => print_summary(&summary),
        None => {
            println!("demo data already present (or the database is not empty); nothing loaded");
            tracing::info!(
                "demo data already present (or the database is not empty); nothing loaded"
            );
        }
    }
    Ok(())
}

/// Loads the demo city in one transaction; `None` when the database already has a chain or an
/// organization (so the demo is loaded at most once).
pub async fn load_into(state: &AppState) -> anyhow::Result<Option<DemoSummary>> {
    let txn = state.db.begin().await?;
    if chain::Entity::find().count(&txn).await? > 0
        || organization::Entity::find().count(&txn).await? > 0
    {
        return Ok(None);
    }
    let admin = user::Entity::find()
        .filter(user::Column::Username.eq("admin"))
        .one(&txn)
        .await?
        .context("user admin is missing; start the application once to create it")?;
    let mut loader = Loader {
        state,
        txn: &txn,
        actor: AuthUser {
            id: admin.id,
            role: Role::Admin,
            organization_id: None,
            session_id: uuid::Uuid::nil(),
        },
        serial: 0,
        organizations: 0,
    };
    let mut summary = loader.run().await?;
    txn.commit().await?;
    let appeals = crate::demo_appeals::load(state, &summary.password).await?;
    summary.appeals = appeals.appeals;
    summary.appeal_actions = appeals.actions;
    let finance = crate::demo_finance::load(state, &summary.password).await?;
    summary.credit_programs = finance.programs;
    summary.financing_requests = finance.requests;
    summary.financing_actions = finance.actions;
    summary.credit_movements = finance.movements;
    summary.bank_reports = finance.reports;
    let funds = crate::demo_funds::load(state, &summary.password).await?;
    summary.fund_programs = funds.programs;
    summary.fund_applications = funds.applications;
    summary.risk_claims = funds.claims;
    quiet_history(state).await?;
    Ok(Some(summary))
}

/// The replayed history is not news: nobody gets its mail (every row was queued at a replayed
/// instant, the last monitor pass's at `now`), and the in-app inboxes keep it already read (no
/// badge of hundreds at first login).
async fn quiet_history(state: &AppState) -> anyhow::Result<()> {
    use entity::{mail_outbox, notification};
    use sea_orm::sea_query::Expr;
    let now = state.clock.now();
    mail_outbox::Entity::delete_many()
        .filter(mail_outbox::Column::CreatedAt.lte(now))
        .exec(&state.db)
        .await?;
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::val(now))
        .filter(notification::Column::ReadAt.is_null())
        .filter(notification::Column::CreatedAt.lte(now))
        .exec(&state.db)
        .await?;
    Ok(())
}

fn print_summary(s: &DemoSummary) {
    let orgs: HashMap<&str, &str> = LOGINS.iter().map(|l| (l.username, l.org_name)).collect();
    println!();
    println!(
        "Demo city loaded: {} organizations, {} chains, {} appeals ({} actions over 8 weeks), \
         {} credit programs, {} financing requests ({} actions), {} ledger movements, {} \
         lead-bank reports, {} fund programs, {} fund applications, {} risk claims.",
        s.organizations,
        s.chains,
        s.appeals,
        s.appeal_actions,
        s.credit_programs,
        s.financing_requests,
        s.financing_actions,
        s.credit_movements,
        s.bank_reports,
        s.fund_programs,
        s.fund_applications,
        s.risk_claims
    );
    println!("Every demo login below uses the password: {}", s.password);
    println!();
    println!("  {:<16} {:<14} organization", "username", "role");
    println!("  {:-<16} {:-<14} {:-<30}", "", "", "");
    for (username, role) in &s.logins {
        let org = orgs.get(username.as_str()).copied().unwrap_or_default();
        println!("  {username:<16} {role:<14} {org}");
    }
    println!();
    println!(
        "The administrator is `admin`: its password is BOOTSTRAP_ADMIN_PASSWORD, or the one logged \
         once at the first start."
    );
    println!();
    for (username, role) in &s.logins {
        let org = orgs.get(username.as_str()).copied().unwrap_or_default();
        tracing::info!(username = %username, role = %role, organization = org, "demo login");
    }
    tracing::info!(
        password = %s.password,
        organizations = s.organizations,
        chains = s.chains,
        "demo city loaded; every demo login uses this password"
    );
}

/// Carries the transaction, the acting admin and the running counters while loading.
struct Loader<'a> {
    state: &'a AppState,
    txn: &'a DatabaseTransaction,
    actor: AuthUser,
    /// Feeds the organization codes of generated USCCs; distinct per organization.
    serial: u64,
    organizations: usize,
}

impl Loader<'_> {
    async fn run(&mut self) -> anyhow::Result<DemoSummary> {
        let mut ids: HashMap<&'static str, Uuid> = HashMap::new();

        let center = self
            .org(OrgKind::ServiceCenter, SERVICE_CENTER, Some(("12", CITY)))
            .await?;
        ids.insert(SERVICE_CENTER.name, center);
        for d in DEPARTMENTS {
            let id = self.org(OrgKind::Department, d, Some(("11", CITY))).await?;
            ids.insert(d.name, id);
        }
        let fund = self.org(OrgKind::FundOffice, FUND_OFFICE, None).await?;
        ids.insert(FUND_OFFICE.name, fund);
        for b in BANKS {
            let id = self.org(OrgKind::Bank, b, Some(("91", CITY))).await?;
            ids.insert(b.name, id);
        }

        let mut chain_ids = Vec::new();
        for (ci, c) in CHAINS.iter().enumerate() {
            let office = self.org(OrgKind::ChainOffice, &c.office, None).await?;
            ids.insert(c.office.name, office);
            let chain = chains::create(
                self.txn,
                &self.actor,
                self.state.clock.now(),
                NewChain {
                    code: c.code.into(),
                    name: c.name.into(),
                    description: Some(c.description.into()),
                    office_organization_id: office,
                },
            )
            .await?;
            chain_ids.push(chain.id);
            for (rank, e) in c.enterprises.iter().enumerate() {
                let id = self
                    .org(OrgKind::Enterprise, &e.org(), Some(("91", e.division)))
                    .await?;
                ids.insert(e.name, id);
                let role = match rank {
                    0 => MemberRole::ChainLeaderEnterprise,
                    r if r <= c.core => MemberRole::Core,
                    _ => MemberRole::Supporting,
                };
                // As the admin: the membership is active at once, no invitation.
                memberships::put(
                    self.txn,
                    &self.actor,
                    self.state.clock.now(),
                    chain.id,
                    id,
                    MemberInput { role },
                )
                .await?;
                let g = ci * 10 + rank;
                for (kind, valid_from, valid_until) in qualifications(g, role)? {
                    let (certificate_no, issued_by) = certificate(g, kind, valid_from);
                    qualifications::put(
                        self.txn,
                        &self.actor,
                        self.state.clock.now(),
                        id,
                        kind,
                        QualificationInput {
                            valid_from,
                            valid_until,
                            certificate_no,
                            issued_by: issued_by.into(),
                        },
                    )
                    .await?;
                }
            }
            for (i, bank) in c.banks.iter().enumerate() {
                let role = if i == 0 {
                    BankRole::Lead
                } else {
                    BankRole::Partner
                };
                let bank = *ids
                    .get(bank)
                    .with_context(|| format!("demo bank {bank} is not defined"))?;
                chains::put_bank(
                    self.txn,
                    &self.actor,
                    self.state.clock.now(),
                    chain.id,
                    bank,
                    BankInput { role },
                )
                .await?;
            }
        }
        for (enterprise, code, role) in SECOND_CHAINS {
            let org = *ids
                .get(enterprise)
                .with_context(|| format!("demo enterprise {enterprise} is not defined"))?;
            let ci = CHAINS
                .iter()
                .position(|c| c.code == *code)
                .with_context(|| format!("demo chain {code} is not defined"))?;
            memberships::put(
                self.txn,
                &self.actor,
                self.state.clock.now(),
                chain_ids[ci],
                org,
                MemberInput { role: *role },
            )
            .await?;
        }

        let password = random_token(12);
        let mut logins = Vec::new();
        for l in LOGINS {
            let org = *ids
                .get(l.org_name)
                .with_context(|| format!("demo organization {} is not defined", l.org_name))?;
            users::create(
                self.state,
                self.txn,
                &self.actor,
                self.state.clock.now(),
                NewUser {
                    username: l.username.into(),
                    password: password.clone(),
                    display_name: l.display_name.into(),
                    email: Some(format!("{}@demo.example.cn", l.username)),
                    role: l.role,
                    organization_id: Some(org),
                },
            )
            .await?;
            logins.push((l.username.to_string(), l.role.code()));
        }
        Ok(DemoSummary {
            logins,
            password,
            organizations: self.organizations,
            chains: chain_ids.len(),
            appeals: 0,
            appeal_actions: 0,
            credit_programs: 0,
            financing_requests: 0,
            financing_actions: 0,
            credit_movements: 0,
            bank_reports: 0,
            fund_programs: 0,
            fund_applications: 0,
            risk_claims: 0,
        })
    }

    /// Creates one organization; `uscc` is `(registration authority + type, division code)`.
    async fn org(
        &mut self,
        kind: OrgKind,
        o: &Org,
        uscc: Option<(&str, &str)>,
    ) -> anyhow::Result<Uuid> {
        let uscc = match uscc {
            Some((head, division)) => {
                self.serial += 1;
                Some(demo_uscc(
                    head,
                    division,
                    self.serial,
                    kind == OrgKind::Enterprise,
                )?)
            }
            None => None,
        };
        let view = organizations::create(
            self.txn,
            &self.actor,
            self.state.clock.now(),
            NewOrganization {
                kind,
                name: o.name.into(),
                uscc,
                region: Some(region(o.division).into()),
                contact_name: Some(o.contact.into()),
                contact_email: Some(format!("contact@{}.example.cn", o.slug)),
            },
        )
        .await?;
        self.organizations += 1;
        Ok(view.id)
    }
}

/// A valid, deterministic USCC. Enterprises get the `MA…` organization codes of post-2015
/// registrations; others nine digits. `serial` maps one-to-one onto the organization code.
fn demo_uscc(head: &str, division: &str, serial: u64, enterprise: bool) -> anyhow::Result<String> {
    const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    // Multiplying by a number coprime with the modulus is a bijection, so codes never collide.
    const MIX: u64 = 2_654_435_761;
    let mut body = format!("{head}{division}");
    if enterprise {
        let modulus = 31u64.pow(7);
        let mut x = (serial.wrapping_mul(MIX) + 12_345) % modulus;
        let mut tail = Vec::with_capacity(7);
        for _ in 0..7 {
            tail.push(ALPHABET[(x % 31) as usize] as char);
            x /= 31;
        }
        body.push_str("MA");
        body.extend(tail.into_iter().rev());
    } else {
        body.push_str(&format!(
            "{:09}",
            (serial.wrapping_mul(MIX) + 4_600_000) % 1_000_000_000
        ));
    }
    Ok(Uscc::with_check_char(&body)?.as_str().to_string())
}

/// A qualification: kind, valid from, valid until.
type Dated = (QualificationKind, NaiveDate, Option<NaiveDate>);

fn date(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).with_context(|| format!("invalid demo date {y}-{m}-{d}"))
}

/// A qualification dated by `g` (the enterprise's index): from 2023 to early 2026, and, like the
/// real certificates, valid three years except 规上 (re-checked yearly, no end date here).
fn dated(g: usize, kind: QualificationKind, shift: usize) -> anyhow::Result<Dated> {
    let k = g + shift;
    let year = 2023 + (k % 4) as i32;
    let month = if year == 2026 {
        1 + (k % 2) as u32
    } else {
        1 + ((k * 5) % 12) as u32
    };
    let day = 1 + ((k * 7) % 28) as u32;
    let from = date(year, month, day)?;
    let until = match kind {
        QualificationKind::AboveScale => None,
        _ => Some(
            date(year + 3, month, day)?
                .pred_opt()
                .context("date underflow")?,
        ),
    };
    Ok((kind, from, until))
}

/// The qualifications of enterprise `g` given its role in its first chain.
fn qualifications(g: usize, role: MemberRole) -> anyhow::Result<Vec<Dated>> {
    use QualificationKind::*;
    let kinds: Vec<QualificationKind> = match role {
        MemberRole::ChainLeaderEnterprise if g.is_multiple_of(20) => {
            vec![AboveScale, HighTech, SingleChampion]
        }
        MemberRole::ChainLeaderEnterprise => vec![AboveScale, HighTech, LittleGiant],
        MemberRole::Core if g.is_multiple_of(2) => vec![AboveScale, HighTech, LittleGiant],
        MemberRole::Core => vec![AboveScale, SpecializedSme],
        MemberRole::Supporting => match g % 4 {
            0 => vec![SpecializedSme, HighTech],
            1 => vec![AboveScale],
            2 => vec![SpecializedSme],
            _ => vec![],
        },
    };
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, k)| dated(g, k, i))
        .collect()
}

/// The certificate number and issuing body of a demo qualification of enterprise `g`, in the
/// shape the real certificates have.
fn certificate(g: usize, kind: QualificationKind, from: NaiveDate) -> (String, &'static str) {
    use QualificationKind::*;
    let (prefix, issued_by) = match kind {
        SpecializedSme => ("JSZJTX", "江苏省工业和信息化厅"),
        LittleGiant => ("XJR", "工业和信息化部"),
        SingleChampion => ("DXGJ", "工业和信息化部、中国工业经济联合会"),
        HighTech => (
            "GR",
            "江苏省科学技术厅、江苏省财政厅、国家税务总局江苏省税务局",
        ),
        AboveScale => ("GS", "南通市统计局"),
    };
    (
        format!("{prefix}{}3206{:04}", from.format("%Y"), 100 + g),
        issued_by,
    )
}

const CITY: &str = "320600";

fn region(division: &str) -> &'static str {
    match division {
        "320602" => "江苏省南通市崇川区",
        "320612" => "江苏省南通市通州区",
        "320614" => "江苏省南通市海门区",
        "320623" => "江苏省南通市如东县",
        "320681" => "江苏省南通市启东市",
        "320682" => "江苏省南通市如皋市",
        "320685" => "江苏省南通市海安市",
        _ => "江苏省南通市",
    }
}

/// An organization of the demo: name, pinyin slug (for the e-mail), contact, division code.
struct Org {
    name: &'static str,
    slug: &'static str,
    contact: &'static str,
    division: &'static str,
}

const fn org(name: &'static str, slug: &'static str, contact: &'static str) -> Org {
    Org {
        name,
        slug,
        contact,
        division: CITY,
    }
}

/// A member enterprise: name, slug, contact, division code.
struct Ent {
    name: &'static str,
    slug: &'static str,
    contact: &'static str,
    division: &'static str,
}

impl Ent {
    fn org(&self) -> Org {
        Org {
            name: self.name,
            slug: self.slug,
            contact: self.contact,
            division: self.division,
        }
    }
}

const fn ent(
    name: &'static str,
    slug: &'static str,
    contact: &'static str,
    division: &'static str,
) -> Ent {
    Ent {
        name,
        slug,
        contact,
        division,
    }
}

/// A chain: the first enterprise is the 链主, the next `core` are core, the rest supporting; the
/// first bank leads, the others are partners.
struct ChainSpec {
    code: &'static str,
    name: &'static str,
    description: &'static str,
    office: Org,
    core: usize,
    banks: &'static [&'static str],
    enterprises: [Ent; 10],
}

const SERVICE_CENTER: &Org = &org("南通市企业服务中心", "qyfwzx-nantong", "陈静");
const FUND_OFFICE: &Org = &org("南通市产业投资基金办公室", "cytzjj-nantong", "周明远");

const DEPARTMENTS: &[Org] = &[
    org("南通市发展和改革委员会", "fgw-nantong", "王建国"),
    org("南通市工业和信息化局", "gxj-nantong", "李志强"),
    org("南通市自然资源和规划局", "zrzy-nantong", "张晓燕"),
    org("南通市商务局", "swj-nantong", "刘海波"),
    org("南通市人力资源和社会保障局", "rsj-nantong", "孙丽华"),
    org("南通市财政局", "czj-nantong", "吴国平"),
    org("南通市科学技术局", "kjj-nantong", "郑文博"),
    org("南通市生态环境局", "sthjj-nantong", "冯晓东"),
    org("南通市市场监督管理局", "scjgj-nantong", "朱红梅"),
    org("南通市住房和城乡建设局", "zjj-nantong", "何永刚"),
    org("南通市交通运输局", "jtj-nantong", "许振华"),
    org("国网南通供电公司", "gdgs-nantong", "沈立新"),
];

const ICBC: &str = "中国工商银行南通分行";
const BOC: &str = "中国银行南通分行";
const CCB: &str = "中国建设银行南通分行";
const ABC: &str = "中国农业银行南通分行";
const JSB: &str = "江苏银行南通分行";
const NTRCB: &str = "南通农村商业银行";

const BANKS: &[Org] = &[
    org(ICBC, "icbc-nantong", "钱伟"),
    org(BOC, "boc-nantong", "杨帆"),
    org(CCB, "ccb-nantong", "黄磊"),
    org(ABC, "abchina-nantong", "徐慧"),
    org(JSB, "jsbank-nantong", "马骏"),
    org(NTRCB, "ntrcb", "顾春燕"),
];

const CHAINS: [ChainSpec; 6] = [
    ChainSpec {
        code: "shipbuilding",
        name: "船舶海工产业链",
        description: "以海工装备和高技术船舶总装为龙头，带动船用配套、舾装与设计研发协同发展。",
        office: org("南通市船舶海工产业链办公室", "cbhg-chain", "施国华"),
        core: 3,
        banks: &[BOC, ICBC, JSB],
        enterprises: [
            ent(
                "南通海晟船舶重工有限公司",
                "haisheng-ship",
                "陆振东",
                "320681",
            ),
            ent(
                "江苏通洋海洋工程装备有限公司",
                "tongyang-offshore",
                "曹建平",
                "320681",
            ),
            ent(
                "南通远帆船务工程有限公司",
                "yuanfan-marine",
                "蒋文涛",
                "320602",
            ),
            ent(
                "南通启航海工科技有限公司",
                "qihang-offshore",
                "邵明",
                "320612",
            ),
            ent(
                "南通江海船用配套设备有限公司",
                "jianghai-marine",
                "袁立群",
                "320612",
            ),
            ent(
                "如东蓝港船舶舾装有限公司",
                "langang-outfitting",
                "季海峰",
                "320623",
            ),
            ent(
                "南通华舟船用阀门有限公司",
                "huazhou-valve",
                "缪建军",
                "320612",
            ),
            ent(
                "海安汇通船用电缆有限公司",
                "huitong-cable",
                "仇晓峰",
                "320685",
            ),
            ent(
                "南通锐航船舶设计研究院有限公司",
                "ruihang-design",
                "范伟民",
                "320602",
            ),
            ent(
                "启东中舟防腐工程有限公司",
                "zhongzhou-anticorrosion",
                "黄永生",
                "320681",
            ),
        ],
    },
    ChainSpec {
        code: "textile",
        name: "高端纺织产业链",
        description: "围绕家纺、功能性面料与智能纺织，推动印染绿色改造和品牌化、数字化升级。",
        office: org("南通市高端纺织产业链办公室", "gdfz-chain", "瞿美玲"),
        core: 2,
        banks: &[ABC, NTRCB],
        enterprises: [
            ent(
                "江苏锦纶纺织科技有限公司",
                "jinlun-textile",
                "顾建华",
                "320614",
            ),
            ent(
                "南通恒丝家纺集团有限公司",
                "hengsi-hometextile",
                "倪小红",
                "320614",
            ),
            ent("海安瑞锦丝绸有限公司", "ruijin-silk", "丁文娟", "320685"),
            ent(
                "南通云织智能纺织有限公司",
                "yunzhi-textile",
                "宋凯",
                "320612",
            ),
            ent(
                "如皋昌纬印染有限公司",
                "changwei-dyeing",
                "冒志刚",
                "320682",
            ),
            ent(
                "南通叠彩家纺用品有限公司",
                "diecai-home",
                "茅丽萍",
                "320614",
            ),
            ent("南通绿纱纺织有限公司", "lvsha-yarn", "卢建新", "320612"),
            ent("南通锦程服饰有限公司", "jincheng-apparel", "葛燕", "320602"),
            ent(
                "海门织梦床上用品有限公司",
                "zhimeng-bedding",
                "严冬梅",
                "320614",
            ),
            ent(
                "如东宏纺纺机配件有限公司",
                "hongfang-parts",
                "吉永清",
                "320623",
            ),
        ],
    },
    ChainSpec {
        code: "ict",
        name: "新一代信息技术产业链",
        description: "以集成电路封装测试为核心，延伸发展电子材料、通信设备、软件和数据服务。",
        office: org("南通市新一代信息技术产业链办公室", "xxjs-chain", "陶志明"),
        core: 2,
        banks: &[CCB, JSB, BOC],
        enterprises: [
            ent(
                "南通芯源微电子股份有限公司",
                "xinyuan-micro",
                "唐晓军",
                "320602",
            ),
            ent(
                "江苏通芯封测科技有限公司",
                "tongxin-packaging",
                "韩磊",
                "320612",
            ),
            ent("南通云岭数据科技有限公司", "yunling-data", "石晶", "320602"),
            ent("南通智联通信技术有限公司", "zhilian-comm", "汤浩", "320602"),
            ent(
                "南通华辰电子材料有限公司",
                "huachen-electronic",
                "储继红",
                "320612",
            ),
            ent(
                "海安精测半导体设备有限公司",
                "jingce-semi",
                "王鹏",
                "320685",
            ),
            ent("南通数港软件有限公司", "shugang-soft", "陈思远", "320602"),
            ent(
                "如皋光链光电科技有限公司",
                "guanglian-opto",
                "李婷",
                "320682",
            ),
            ent("南通捷讯电路板有限公司", "jiexun-pcb", "张俊", "320612"),
            ent("启东星图信息技术有限公司", "xingtu-info", "黄佳", "320681"),
        ],
    },
    ChainSpec {
        code: "new-materials",
        name: "新材料产业链",
        description: "聚焦高分子、复合材料、电子化学品和特种陶瓷，打造沿江沿海化工新材料集聚区。",
        office: org("南通市新材料产业链办公室", "xcl-chain", "沈建英"),
        core: 3,
        banks: &[JSB, CCB],
        enterprises: [
            ent(
                "江苏天晟新材料集团有限公司",
                "tiansheng-materials",
                "季明华",
                "320623",
            ),
            ent(
                "南通碳纤复合材料有限公司",
                "tanxian-composite",
                "孙海涛",
                "320612",
            ),
            ent(
                "如东洋口化工新材料有限公司",
                "yangkou-chemical",
                "周立",
                "320623",
            ),
            ent(
                "南通华纶高分子材料有限公司",
                "hualun-polymer",
                "吴静",
                "320682",
            ),
            ent(
                "海安锐石新型建材有限公司",
                "ruishi-building",
                "徐刚",
                "320685",
            ),
            ent(
                "南通膜界环保科技有限公司",
                "mojie-membrane",
                "朱琳",
                "320602",
            ),
            ent(
                "南通金瓷特种陶瓷有限公司",
                "jinci-ceramics",
                "高峰",
                "320612",
            ),
            ent(
                "启东海盈涂料有限公司",
                "haiying-coatings",
                "施卫东",
                "320681",
            ),
            ent("南通合晶硅材料有限公司", "hejing-silicon", "陆燕", "320612"),
            ent(
                "如皋润泽助剂有限公司",
                "runze-additives",
                "冒春生",
                "320682",
            ),
        ],
    },
    ChainSpec {
        code: "high-end-equipment",
        name: "高端装备产业链",
        description: "发展数控机床、工业机器人、液压传动和精密铸锻件，提升整机与关键部件配套能力。",
        office: org("南通市高端装备产业链办公室", "gdzb-chain", "杨振宇"),
        core: 2,
        banks: &[ICBC, ABC, NTRCB],
        enterprises: [
            ent(
                "南通鼎力重型机床有限公司",
                "dingli-machine",
                "刘国栋",
                "320612",
            ),
            ent(
                "江苏通锻智能装备有限公司",
                "tongduan-equipment",
                "蔡志勇",
                "320685",
            ),
            ent(
                "南通精工机器人科技有限公司",
                "jinggong-robot",
                "赵敏",
                "320602",
            ),
            ent(
                "海安永泰轴承有限公司",
                "yongtai-bearing",
                "崔建林",
                "320685",
            ),
            ent(
                "如皋恒力液压机械有限公司",
                "hengli-hydraulic",
                "冒建军",
                "320682",
            ),
            ent("南通锐驰数控系统有限公司", "ruichi-cnc", "姚远", "320602"),
            ent(
                "启东华力电动工具有限公司",
                "huali-tools",
                "龚海燕",
                "320681",
            ),
            ent(
                "南通江铸精密铸造有限公司",
                "jiangzhu-casting",
                "陈立军",
                "320612",
            ),
            ent(
                "如东宏远起重机械有限公司",
                "hongyuan-crane",
                "许明",
                "320623",
            ),
            ent(
                "南通安捷传动科技有限公司",
                "anjie-drive",
                "邱文华",
                "320612",
            ),
        ],
    },
    ChainSpec {
        code: "new-energy",
        name: "新能源产业链",
        description: "依托海上风电和光伏资源，培育风电装备、储能、氢能与智能电网配套产业集群。",
        office: org("南通市新能源产业链办公室", "xny-chain", "钱晓梅"),
        core: 2,
        banks: &[ICBC, NTRCB],
        enterprises: [
            ent(
                "南通海风新能源装备有限公司",
                "haifeng-wind",
                "王海峰",
                "320623",
            ),
            ent(
                "江苏通光储能科技有限公司",
                "tongguang-storage",
                "李强",
                "320612",
            ),
            ent("南通晶阳光伏科技有限公司", "jingyang-pv", "张丽", "320682"),
            ent("如东海电风电运维有限公司", "haidian-om", "缪志刚", "320623"),
            ent(
                "南通氢途能源科技有限公司",
                "qingtu-hydrogen",
                "刘洋",
                "320602",
            ),
            ent(
                "海安锂程电池材料有限公司",
                "licheng-battery",
                "吴晓波",
                "320685",
            ),
            ent("南通塔筒钢构有限公司", "tatong-steel", "黄建明", "320681"),
            ent(
                "启东蓝能海洋能源有限公司",
                "lanneng-ocean",
                "施海燕",
                "320681",
            ),
            ent("南通智储电气有限公司", "zhichu-electric", "顾晨", "320612"),
            ent(
                "如皋绿源充电设备有限公司",
                "lvyuan-charging",
                "冒志华",
                "320682",
            ),
        ],
    },
];

/// Enterprises that also supply a second chain.
const SECOND_CHAINS: &[(&str, &str, MemberRole)] = &[
    (
        "江苏通洋海洋工程装备有限公司",
        "new-energy",
        MemberRole::Supporting,
    ),
    (
        "南通江铸精密铸造有限公司",
        "shipbuilding",
        MemberRole::Supporting,
    ),
    ("南通碳纤复合材料有限公司", "new-energy", MemberRole::Core),
    (
        "南通华纶高分子材料有限公司",
        "textile",
        MemberRole::Supporting,
    ),
    (
        "南通华辰电子材料有限公司",
        "new-materials",
        MemberRole::Supporting,
    ),
    (
        "南通塔筒钢构有限公司",
        "shipbuilding",
        MemberRole::Supporting,
    ),
];

/// One demo login per role (the admin exists already).
struct Login {
    username: &'static str,
    display_name: &'static str,
    role: Role,
    org_name: &'static str,
}

const LOGINS: &[Login] = &[
    Login {
        username: "demo-center",
        display_name: "演示·服务中心专员",
        role: Role::ServiceCenter,
        org_name: "南通市企业服务中心",
    },
    Login {
        username: "demo-dept",
        display_name: "演示·工信局经办人",
        role: Role::Department,
        org_name: "南通市工业和信息化局",
    },
    Login {
        username: "demo-chain",
        display_name: "演示·船舶海工链办",
        role: Role::ChainOffice,
        org_name: "南通市船舶海工产业链办公室",
    },
    Login {
        username: "demo-bank",
        display_name: "演示·中行客户经理",
        role: Role::Bank,
        org_name: BOC,
    },
    Login {
        username: "demo-enterprise",
        display_name: "演示·海晟船舶联系人",
        role: Role::Enterprise,
        org_name: "南通海晟船舶重工有限公司",
    },
    Login {
        username: "demo-fund",
        display_name: "演示·基金办经办人",
        role: Role::FundOffice,
        org_name: "南通市产业投资基金办公室",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn demo_usccs_are_valid_and_distinct() {
        let mut seen = HashSet::new();
        for serial in 1..=500 {
            for (head, enterprise) in [("91", true), ("91", false), ("11", false)] {
                let code = demo_uscc(head, "320612", serial, enterprise).expect("valid demo code");
                assert!(Uscc::parse(&code).is_ok(), "{code}");
                assert!(seen.insert(code.clone()), "duplicate {code}");
            }
        }
    }

    #[test]
    fn demo_data_is_consistent() {
        let names: HashSet<&str> = CHAINS
            .iter()
            .flat_map(|c| c.enterprises.iter().map(|e| e.name))
            .collect();
        assert_eq!(names.len(), 60, "enterprise names must be unique");
        for c in &CHAINS {
            assert!(
                (2..=3).contains(&c.banks.len()) && (2..=3).contains(&c.core),
                "{}",
                c.code
            );
        }
        for (e, code, _) in SECOND_CHAINS {
            assert!(names.contains(e), "{e}");
            assert!(CHAINS.iter().any(|c| c.code == *code), "{code}");
        }
        for g in 0..60 {
            for role in [
                MemberRole::ChainLeaderEnterprise,
                MemberRole::Core,
                MemberRole::Supporting,
            ] {
                for (_, from, until) in qualifications(g, role).expect("dates") {
                    assert!(
                        from >= date(2023, 1, 1).expect("date")
                            && from < date(2026, 3, 1).expect("date")
                    );
                    assert!(until.is_none_or(|u| u > from));
                }
            }
        }
    }
}
