//! Funds and subsidies (issue 13) on PostgreSQL, three measurements:
//!
//! 1. **Eligible list**: `GET /api/v1/fund-programs/eligible?limit=200` through the release
//!    `api` binary for one enterprise facing 200 open programs with varied rules (chains,
//!    qualifications any/all, member roles), the enterprise holding every one of the 5
//!    qualification kinds (one lapsed) and 5 chain memberships: p50 / p99 at `--connections`
//!    (32), run after run. References in the same session: `GET /api/v1/fund-programs
//!    ?open=true&limit=200` (the same page of programs, no eligibility) and `GET /api/v1/me`
//!    (the stack itself).
//! 2. **Window-opening push**: `jobs::funds::windows::open` (the jobs' code path, called
//!    directly) for one program against `--enterprises` (100,000) verified enterprises with one
//!    enterprise user each, most of them eligible: one notification per user and one outbox
//!    mail each. Reset between runs (the rows deleted, `opened_at` / `push_cursor` back to
//!    NULL, `VACUUM`, `CHECKPOINT`). References, the floors of the writes, each run: the same
//!    rows written again by this tool as multi-row `INSERT … VALUES` of 2,000 (as the job
//!    batches them) and as `INSERT … SELECT FROM UNNEST(<one array per column>)` of 5,000, and
//!    copied by the server alone (`INSERT … SELECT`).
//! 3. **Concurrent final approvals**: `--approvals` (20) `POST /api/v1/fund-applications/{id}
//!    /final_review {"decision":"approve"}` at once, as a fund-office user, on a fresh program
//!    whose budget fits `--fits` (12) of them; checked: that many 200s, the rest 409
//!    `budget_exceeded`, `committed <= budget` and `committed` equal to the approved amounts.
//!    Reference: the same approvals one after another on another fresh program.
//!
//! ```sh
//! cargo build --release -p api --bin api -p bench --bin funds
//! target/release/funds --api-bin target/release/api
//! # --pg-url postgres://postgres:postgres@127.0.0.1:5432/postgres --database lt_bench_funds
//! # --enterprises 100000 --connections 32 --duration 10 --runs 5 --push-runs 5
//! # --approval-runs 5 --approvals 20 --fits 12 --port 18084 --reseed --drop --no-wrk
//! # --no-references --only eligible|push|approvals (repeatable)
//! ```
//!
//! The database is seeded once and kept (`--reseed` seeds it again, `--drop` drops it at the
//! end). Tokens are signed with the api's JWT secret, so no password is hashed. The api runs with
//! `JOBS_EMBEDDED=false` and `RUST_LOG=warn`.

use anyhow::{Context, bail, ensure};
use bench::{median, quantile, rss_mib, spread};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use entity::{
    chain, chain_member,
    eligibility::Rules,
    enums::{
        ClockKind, FundKind, FundStatus, MemberRole, MembershipStatus, OrgKind,
        QualificationKind as Q, Role,
    },
    fund_application, fund_program, mail_outbox, notification, organization, qualification,
    subject::Subject,
    user,
};
use jobs::{
    engine::clocks,
    funds::{
        applications::{NewApplication, insert, review_clock},
        eligibility::{chain_names, facts},
        windows,
    },
};
use migration::{Migrator, MigratorTrait};
use rand::{SeedableRng, rngs::SmallRng, seq::SliceRandom};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectOptions, ConnectionTrait,
    Database, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionTrait, sea_query::Expr,
};
use serde_json::{Value, json};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use uuid::Uuid;

const USAGE: &str = "usage: funds --api-bin <release api> \
[--pg-url postgres://postgres:postgres@127.0.0.1:5432/postgres] [--database lt_bench_funds] \
[--enterprises 100000] [--connections 32] [--duration 10] [--runs 5] [--push-runs 5] \
[--approval-runs 5] [--approvals 20] [--fits 12] [--port 18084] [--reseed] [--drop] [--no-wrk] \
[--no-references] [--only eligible|push|approvals]...";

/// Open programs the focus enterprise sees, and the others in the table.
const OPEN: usize = 200;
const CLOSED: usize = 50;
const FUTURE: usize = 20;
const RISK: usize = 10;
/// Live applications of the focus enterprise among the open programs.
const LIVE: usize = 20;
/// The focus enterprise and its user.
const FOCUS_NAME: &str = "基准企业000001";
const FOCUS_USER: &str = "fe000001";
const FUND_USER: &str = "bench-fund";
const PUSH_NAME: &str = "基准政策直达";
/// The name prefix of the approval runs' programs (removed at the end).
const APPROVAL_PREFIX: &str = "基准终审";
/// The push program's budget (a push spends none of it).
const PUSH_BUDGET_FEN: i64 = 50_000_000_000;
/// Each approval's amount: 100,000.00 yuan.
const APPROVAL_FEN: i64 = 10_000_000;
/// The chains (the focus enterprise is a member of the first five).
const CHAINS: [(&str, &str); 8] = [
    ("BF-SHIP", "船舶海工"),
    ("BF-NEV", "新能源汽车"),
    ("BF-IC", "集成电路"),
    ("BF-BIO", "生物医药"),
    ("BF-EQP", "高端装备"),
    ("BF-MAT", "新材料"),
    ("BF-PV", "光伏"),
    ("BF-SW", "软件信息"),
];
const KINDS: [Q; 5] = [
    Q::SpecializedSme,
    Q::LittleGiant,
    Q::SingleChampion,
    Q::HighTech,
    Q::AboveScale,
];

struct Args {
    api_bin: String,
    pg_url: String,
    database: String,
    enterprises: usize,
    connections: usize,
    duration: Duration,
    runs: usize,
    push_runs: usize,
    approval_runs: usize,
    approvals: usize,
    fits: usize,
    port: u16,
    reseed: bool,
    drop: bool,
    wrk: bool,
    references: bool,
    eligible: bool,
    push: bool,
    approve: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        api_bin: String::new(),
        pg_url: "postgres://postgres:postgres@127.0.0.1:5432/postgres".into(),
        database: "lt_bench_funds".into(),
        enterprises: 100_000,
        connections: 32,
        duration: Duration::from_secs(10),
        runs: 5,
        push_runs: 5,
        approval_runs: 5,
        approvals: 20,
        fits: 12,
        port: 18084,
        reseed: false,
        drop: false,
        wrk: bench::wrk::installed(),
        references: true,
        eligible: true,
        push: true,
        approve: true,
    };
    let mut only = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--reseed" => a.reseed = true,
            "--drop" => a.drop = true,
            "--no-wrk" => a.wrk = false,
            "--no-references" => a.references = false,
            _ => {
                let v = it
                    .next()
                    .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
                match flag.as_str() {
                    "--api-bin" => a.api_bin = v,
                    "--pg-url" => a.pg_url = v,
                    "--database" => a.database = v,
                    "--enterprises" => a.enterprises = v.parse()?,
                    "--connections" => a.connections = v.parse()?,
                    "--duration" => a.duration = Duration::from_secs(v.parse()?),
                    "--runs" => a.runs = v.parse()?,
                    "--push-runs" => a.push_runs = v.parse()?,
                    "--approval-runs" => a.approval_runs = v.parse()?,
                    "--approvals" => a.approvals = v.parse()?,
                    "--fits" => a.fits = v.parse()?,
                    "--port" => a.port = v.parse()?,
                    "--only" => only.push(v),
                    other => bail!("unknown argument {other}\n{USAGE}"),
                }
            }
        }
    }
    if !only.is_empty() {
        for o in &only {
            ensure!(
                ["eligible", "push", "approvals"].contains(&o.as_str()),
                "--only takes eligible, push or approvals\n{USAGE}"
            );
        }
        a.eligible = only.iter().any(|o| o == "eligible");
        a.push = only.iter().any(|o| o == "push");
        a.approve = only.iter().any(|o| o == "approvals");
    }
    ensure!(
        !a.api_bin.is_empty() || !(a.eligible || a.approve),
        "--api-bin is required\n{USAGE}"
    );
    ensure!(a.enterprises >= 1000, "--enterprises must be at least 1000");
    ensure!(
        a.fits < a.approvals,
        "--fits must be below --approvals (the budget must be short)"
    );
    ensure!(a.runs > 0 && a.push_runs > 0 && a.approval_runs > 0);
    Ok(a)
}

/// The stored code of an enum value (`'enterprise'`, `'high_tech'`).
fn code<E: ActiveEnum<Value = String>>(e: E) -> String {
    e.to_value()
}

/// One `i64` from a statement's first row.
async fn scalar(db: &impl ConnectionTrait, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .context("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// What the measurements need of the seeded data.
struct Seeded {
    focus: Uuid,
    focus_user: Uuid,
    fund_office: Uuid,
    fund_user: Uuid,
    push_program: Uuid,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let server = Database::connect(args.pg_url.as_str()).await?;
    let exists = server
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT 1 AS x FROM pg_database WHERE datname = '{}'",
                args.database
            ),
        ))
        .await?
        .is_some();
    if exists && args.reseed {
        server
            .execute_unprepared(&format!("DROP DATABASE \"{}\" WITH (FORCE)", args.database))
            .await?;
    }
    if !exists || args.reseed {
        server
            .execute_unprepared(&format!("CREATE DATABASE \"{}\"", args.database))
            .await?;
    }
    let url = bench::with_database(&args.pg_url, &args.database)?;
    // As the jobs process connects: a small pool, no statement logging.
    let mut opts = ConnectOptions::new(url.clone());
    opts.sqlx_logging(false)
        .max_connections(5)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30));
    let db = Database::connect(opts).await?;
    Migrator::up(&db, None).await?;
    let have = organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrgKind::Enterprise))
        .count(&db)
        .await?;
    if have == 0 {
        seed(&db, &args).await?;
    } else {
        ensure!(
            have == args.enterprises as u64,
            "{} holds {have} enterprises, not {}: run with --reseed",
            args.database,
            args.enterprises
        );
        println!("seed: reusing {} ({have} enterprises)", args.database);
    }
    let seeded = load_seeded(&db).await?;
    // Leftovers of a run that stopped half-way.
    reset_push(&db, seeded.push_program).await?;
    remove_approval_programs(&db).await?;
    describe(&db, &seeded).await?;

    let outcome = async {
        if args.push {
            push_bench(&db, &seeded, &args).await?;
        }
        if args.eligible || args.approve {
            let dir = tempfile::tempdir()?;
            let mut api = bench::start_api(&args.api_bin, &url, args.port, dir.path())?;
            let pid = api.id().context("the api has no pid")?;
            let base = format!("http://127.0.0.1:{}", args.port);
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(args.connections.max(args.approvals))
                .timeout(Duration::from_secs(60))
                .build()?;
            bench::wait_ready(&client, &base).await?;
            println!("api: pid {pid}, ready; idle RSS {:.1} MiB", rss_mib(pid));
            let outcome = async {
                if args.eligible {
                    eligible_bench(&client, &base, &seeded, &args, pid).await?;
                }
                if args.approve {
                    approvals_bench(&client, &base, &db, &seeded, &args).await?;
                }
                anyhow::Ok(())
            }
            .await;
            api.kill().await.ok();
            outcome?;
        }
        anyhow::Ok(())
    }
    .await;
    remove_approval_programs(&db).await.ok();
    if args.drop {
        db.close().await.ok();
        server
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                args.database
            ))
            .await?;
    }
    outcome
}

/// The rules of the open programs, in turn; the focus enterprise (a member of chains 0–4:
/// leader, core, supporting, core, supporting; every qualification kind, the single-champion
/// one lapsed) meets six of the ten.
fn templates(c: &[Uuid]) -> Vec<Rules> {
    use MemberRole as M;
    vec![
        Rules::default(),
        Rules {
            chain_ids: vec![c[0]],
            ..Rules::default()
        },
        Rules {
            chain_ids: vec![c[6], c[7]],
            ..Rules::default()
        },
        Rules {
            qualifications_any: vec![Q::HighTech, Q::LittleGiant],
            ..Rules::default()
        },
        Rules {
            qualifications_all: vec![Q::SpecializedSme, Q::SingleChampion],
            ..Rules::default()
        },
        Rules {
            member_roles: vec![M::ChainLeaderEnterprise],
            ..Rules::default()
        },
        Rules {
            chain_ids: vec![c[2]],
            member_roles: vec![M::Core, M::ChainLeaderEnterprise],
            ..Rules::default()
        },
        Rules {
            chain_ids: vec![c[1], c[3]],
            qualifications_all: vec![Q::AboveScale],
            member_roles: vec![M::Core],
            ..Rules::default()
        },
        Rules {
            qualifications_any: vec![Q::SingleChampion],
            ..Rules::default()
        },
        Rules {
            chain_ids: vec![c[4], c[5], c[6]],
            qualifications_any: vec![Q::SpecializedSme, Q::HighTech],
            qualifications_all: vec![Q::LittleGiant],
            ..Rules::default()
        },
    ]
}

/// The push program's rules: any of the recognised qualifications, valid on the day.
fn push_rules() -> Rules {
    Rules {
        qualifications_any: KINDS.to_vec(),
        ..Rules::default()
    }
}

fn org(id: Uuid, kind: OrgKind, name: String, now: DateTime<Utc>) -> organization::ActiveModel {
    organization::ActiveModel {
        id: Set(id),
        kind: Set(kind),
        name: Set(name),
        uscc: Set(None),
        region: Set(None),
        contact_name: Set(None),
        contact_email: Set(None),
        verified: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

fn person(
    username: &str,
    role: Role,
    organization_id: Uuid,
    now: DateTime<Utc>,
) -> user::ActiveModel {
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(username.into()),
        // Not a hash: nobody logs in; the tool signs tokens.
        password_hash: Set("!".into()),
        display_name: Set(format!("基准用户 {username}")),
        email: Set(Some(format!("{username}@example.cn"))),
        role: Set(role),
        organization_id: Set(Some(organization_id)),
        active: Set(true),
        session_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// A program row; `opened` when the window-opening job is done with it.
#[allow(clippy::too_many_arguments)]
fn program(
    name: String,
    kind: FundKind,
    rules: &Rules,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    budget_fen: i64,
    opened: bool,
    created_by: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<fund_program::ActiveModel> {
    let risk = kind == FundKind::RiskCompensation;
    Ok(fund_program::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        kind: Set(kind),
        budget_fen: Set(budget_fen),
        max_per_application_fen: Set(50_000_000),
        committed_fen: Set(0),
        disbursed_fen: Set(0),
        recovered_fen: Set(0),
        opens_at: Set(opens_at),
        closes_at: Set(closes_at),
        eligibility: Set(serde_json::to_string(rules)?),
        notice_working_days: Set(5),
        review_working_days: Set(10),
        apply_free: Set(false),
        fixed_amount_fen: Set(None),
        coverage_e4: Set(risk.then_some(800_000)),
        max_per_claim_fen: Set(risk.then_some(200_000_000)),
        opened_at: Set(opened.then_some(opens_at)),
        push_cursor: Set(None),
        created_by: Set(created_by),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

/// The fund office, 8 chains with their offices, `--enterprises` verified enterprises with one
/// enterprise user each (e-mail set), one qualification each (kind by number, 10 % lapsed) and
/// a chain membership for a third of them; the focus enterprise (the first) with every
/// qualification kind and 5 memberships; 280 programs (200 open, 50 closed, 20 future, 10 open
/// risk-compensation pools) in shuffled creation order, 20 live applications of the focus
/// enterprise, and the push program (its window opens in 30 days).
async fn seed(db: &DatabaseConnection, args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = Utc::now();
    let txn = db.begin().await?;
    let office = Uuid::now_v7();
    org(office, OrgKind::FundOffice, "基准资金主管部门".into(), now)
        .insert(&txn)
        .await?;
    let fund_user = person(FUND_USER, Role::FundOffice, office, now)
        .insert(&txn)
        .await?;
    let mut chain_ids = Vec::new();
    for (code_, name) in CHAINS {
        let office_id = Uuid::now_v7();
        org(
            office_id,
            OrgKind::ChainOffice,
            format!("{name}产业链办公室"),
            now,
        )
        .insert(&txn)
        .await?;
        let c = chain::ActiveModel {
            id: Set(Uuid::now_v7()),
            code: Set(code_.into()),
            name: Set(format!("{name}产业链")),
            description: Set(None),
            office_organization_id: Set(office_id),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        chain_ids.push(c.id);
    }

    // The enterprises, set-based. Ids are UUID v7-shaped and in number order (time part
    // `base + g`, a tag per table), as the api would have made them over time.
    let n = args.enterprises;
    let base = now.timestamp_millis() - n as i64 - 60_000;
    let id = |tag: u32| {
        format!(
            "(lpad(to_hex({base} + g), 12, '0') || '7{tag:03x}8' || lpad(to_hex(g), 15, '0'))::uuid"
        )
    };
    let kinds = KINDS
        .iter()
        .map(|k| format!("'{}'", code(*k)))
        .collect::<Vec<_>>()
        .join(", ");
    let chains = chain_ids
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let roles = [
        MemberRole::ChainLeaderEnterprise,
        MemberRole::Core,
        MemberRole::Supporting,
    ]
    .iter()
    .map(|r| format!("'{}'", code(*r)))
    .collect::<Vec<_>>()
    .join(", ");
    let (org_id, user_id) = (id(1), id(2));
    let sql = format!(
        r#"
INSERT INTO organizations (id, kind, name, uscc, region, contact_name, contact_email, verified, created_at, updated_at)
SELECT {org_id}, '{enterprise}', '基准企业' || lpad(g::text, 6, '0'), NULL, NULL, NULL,
       'org' || g || '@example.cn', true, now(), now()
  FROM generate_series(1, {n}) g;
INSERT INTO users (id, username, password_hash, display_name, email, role, organization_id, active, session_version, created_at, updated_at)
SELECT {user_id}, 'fe' || lpad(g::text, 6, '0'), '!', '企业用户' || g,
       'fe' || lpad(g::text, 6, '0') || '@example.cn', '{enterprise_role}', {org_id}, true, 0, now(), now()
  FROM generate_series(1, {n}) g;
INSERT INTO qualifications (organization_id, kind, valid_from, valid_until, certificate_no, issued_by, recorded_by, updated_at)
SELECT {org_id}, (ARRAY[{kinds}])[1 + g % 5], DATE '2024-01-01',
       CASE WHEN g % 10 = 3 THEN DATE '2025-06-30' END, 'ZS' || g, '基准认定机构', NULL, now()
  FROM generate_series(2, {n}) g;
INSERT INTO chain_members (chain_id, organization_id, role, status, invited_by, invited_at, accepted_at, created_at)
SELECT (ARRAY[{chains}]::uuid[])[1 + (g / 3) % 8], {org_id}, (ARRAY[{roles}])[1 + (g / 7) % 3],
       '{active}', NULL, NULL, now(), now()
  FROM generate_series(3, {n}, 3) g;
"#,
        enterprise = code(OrgKind::Enterprise),
        enterprise_role = code(Role::Enterprise),
        active = code(MembershipStatus::Active),
    );
    txn.execute_unprepared(&sql).await?;

    // The focus enterprise's facts: every kind (the single-champion one lapsed) and 5
    // memberships.
    let focus: Uuid = organization::Entity::find()
        .select_only()
        .column(organization::Column::Id)
        .filter(organization::Column::Name.eq(FOCUS_NAME))
        .into_tuple()
        .one(&txn)
        .await?
        .context("the focus enterprise")?;
    let focus_user: Uuid = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Username.eq(FOCUS_USER))
        .into_tuple()
        .one(&txn)
        .await?
        .context("the focus user")?;
    let date = |s: &str| s.parse::<NaiveDate>();
    let quals = KINDS
        .iter()
        .map(|k| {
            Ok(qualification::ActiveModel {
                organization_id: Set(focus),
                kind: Set(*k),
                valid_from: Set(date("2024-01-01")?),
                valid_until: Set(if *k == Q::SingleChampion {
                    Some(date("2025-12-31")?)
                } else {
                    None
                }),
                certificate_no: Set(Some(format!("ZS-FOCUS-{}", code(*k)))),
                issued_by: Set(Some("基准认定机构".into())),
                recorded_by: Set(None),
                updated_at: Set(now),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    qualification::Entity::insert_many(quals)
        .exec_without_returning(&txn)
        .await?;
    let focus_roles = [
        MemberRole::ChainLeaderEnterprise,
        MemberRole::Core,
        MemberRole::Supporting,
        MemberRole::Core,
        MemberRole::Supporting,
    ];
    let members = chain_ids
        .iter()
        .zip(focus_roles)
        .map(|(c, role)| chain_member::ActiveModel {
            chain_id: Set(*c),
            organization_id: Set(focus),
            role: Set(role),
            status: Set(MembershipStatus::Active),
            invited_by: Set(None),
            invited_at: Set(None),
            accepted_at: Set(Some(now)),
            created_at: Set(now),
        })
        .collect::<Vec<_>>();
    chain_member::Entity::insert_many(members)
        .exec_without_returning(&txn)
        .await?;

    // The programs, in shuffled creation order so the open ones are interleaved with others.
    #[derive(Clone, Copy)]
    enum Slot {
        Open(usize),
        Closed,
        Future,
        Risk,
    }
    let mut slots: Vec<Slot> = (0..OPEN).map(Slot::Open).collect();
    slots.extend(std::iter::repeat_n(Slot::Closed, CLOSED));
    slots.extend(std::iter::repeat_n(Slot::Future, FUTURE));
    slots.extend(std::iter::repeat_n(Slot::Risk, RISK));
    slots.shuffle(&mut SmallRng::seed_from_u64(13));
    let rules = templates(&chain_ids);
    let kinds = [FundKind::Guidance, FundKind::ChainSpecial, FundKind::Award];
    let day = TimeDelta::days(1);
    let mut rows = Vec::new();
    for (i, slot) in slots.into_iter().enumerate() {
        let name = format!("基准项目{i:03}");
        let b = 5_000_000_000;
        rows.push(match slot {
            Slot::Open(k) => program(
                name,
                kinds[k % 3],
                &rules[k % rules.len()],
                now - day * 30,
                now + day * 60,
                b,
                true,
                fund_user.id,
                now,
            )?,
            Slot::Closed => program(
                name,
                kinds[i % 3],
                &rules[i % rules.len()],
                now - day * 120,
                now - day * 30,
                b,
                true,
                fund_user.id,
                now,
            )?,
            Slot::Future => program(
                name,
                kinds[i % 3],
                &rules[i % rules.len()],
                now + day * 10,
                now + day * 100,
                b,
                false,
                fund_user.id,
                now,
            )?,
            Slot::Risk => program(
                name,
                FundKind::RiskCompensation,
                &Rules::default(),
                now - day * 30,
                now + day * 60,
                b,
                true,
                fund_user.id,
                now,
            )?,
        });
    }
    // The push program: its window opens in 30 days (so it is not among the open ones); the
    // push is run as at its opening.
    let opens = now + day * 30;
    let opens = opens - TimeDelta::nanoseconds(opens.timestamp_subsec_nanos() as i64);
    rows.push(program(
        PUSH_NAME.into(),
        FundKind::Guidance,
        &push_rules(),
        opens,
        opens + day * 90,
        PUSH_BUDGET_FEN,
        false,
        fund_user.id,
        now,
    )?);
    fund_program::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;

    // 20 live applications of the focus enterprise, in open programs it is eligible for.
    let cal = jobs::calendar::load(&txn).await?;
    let names = chain_names(&txn).await?;
    let facts = facts(&txn, &[focus])
        .await?
        .remove(&focus)
        .unwrap_or_default();
    let open = fund_program::Entity::find()
        .filter(fund_program::Column::OpensAt.lte(now))
        .filter(fund_program::Column::ClosesAt.gt(now))
        .filter(fund_program::Column::Kind.ne(FundKind::RiskCompensation))
        .order_by_asc(fund_program::Column::Id)
        .all(&txn)
        .await?;
    ensure!(open.len() == OPEN, "{} open programs", open.len());
    let mut made = 0;
    for p in &open {
        let v = facts.decide(&p.rules(), cal.local_date(now), &names);
        if !v.eligible || made == LIVE {
            continue;
        }
        insert(
            &txn,
            &cal,
            now,
            p,
            NewApplication {
                enterprise_id: focus,
                chain_id: v.chain_id,
                submitted_by: Some(focus_user),
                amount_fen: 20_000_000,
                project_title: format!("基准申报项目{made:02}"),
                description: "基准测试申报。".into(),
            },
            Some(focus),
        )
        .await?;
        made += 1;
    }
    txn.commit().await?;
    db.execute_unprepared("VACUUM (ANALYZE)").await?;
    println!(
        "seed: {n} enterprises with their users, qualifications and chain memberships, {} programs, {made} live applications in {:.1} s",
        OPEN + CLOSED + FUTURE + RISK + 1,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn load_seeded(db: &DatabaseConnection) -> anyhow::Result<Seeded> {
    let org_id = |name: &'static str| async move {
        organization::Entity::find()
            .select_only()
            .column(organization::Column::Id)
            .filter(organization::Column::Name.eq(name))
            .into_tuple::<Uuid>()
            .one(db)
            .await?
            .with_context(|| format!("no organization {name}: run with --reseed"))
    };
    let user_id = |name: &'static str| async move {
        user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Username.eq(name))
            .into_tuple::<Uuid>()
            .one(db)
            .await?
            .with_context(|| format!("no user {name}: run with --reseed"))
    };
    Ok(Seeded {
        focus: org_id(FOCUS_NAME).await?,
        focus_user: user_id(FOCUS_USER).await?,
        fund_office: org_id("基准资金主管部门").await?,
        fund_user: user_id(FUND_USER).await?,
        push_program: fund_program::Entity::find()
            .select_only()
            .column(fund_program::Column::Id)
            .filter(fund_program::Column::Name.eq(PUSH_NAME))
            .into_tuple()
            .one(db)
            .await?
            .context("no push program: run with --reseed")?,
    })
}

/// What the data is: the focus enterprise's facts and eligibility, the push's candidates.
async fn describe(db: &DatabaseConnection, s: &Seeded) -> anyhow::Result<()> {
    let cal = jobs::calendar::load(db).await?;
    let now = Utc::now();
    let names = chain_names(db).await?;
    let f = facts(db, &[s.focus])
        .await?
        .remove(&s.focus)
        .unwrap_or_default();
    let open = fund_program::Entity::find()
        .filter(fund_program::Column::OpensAt.lte(now))
        .filter(fund_program::Column::ClosesAt.gt(now))
        .filter(fund_program::Column::Kind.ne(FundKind::RiskCompensation))
        .all(db)
        .await?;
    let eligible = open
        .iter()
        .filter(|p| f.decide(&p.rules(), cal.local_date(now), &names).eligible)
        .count();
    println!(
        "data: the focus enterprise holds {} qualifications (every kind; {} lapsed) and {} chain memberships: {} facts (there are only 5 qualification kinds, so \"10 qualifications\" is read as 5 qualifications + 5 memberships); it is eligible for {eligible} of the {} open programs, with {} live applications",
        f.qualifications.len(),
        f.qualifications
            .iter()
            .filter(|q| q.valid_until.is_some_and(|u| u < cal.local_date(now)))
            .count(),
        f.memberships.len(),
        f.qualifications.len() + f.memberships.len(),
        open.len(),
        fund_application::Entity::find()
            .filter(fund_application::Column::EnterpriseId.eq(s.focus))
            .count(db)
            .await?,
    );
    println!(
        "data: {} programs in all; {} enterprises, {} users, {} qualifications, {} chain memberships",
        fund_program::Entity::find().count(db).await?,
        organization::Entity::find()
            .filter(organization::Column::Kind.eq(OrgKind::Enterprise))
            .count(db)
            .await?,
        user::Entity::find().count(db).await?,
        qualification::Entity::find().count(db).await?,
        chain_member::Entity::find().count(db).await?,
    );
    Ok(())
}

/// 1: the eligible list, then the references, each a warm-up and `runs` runs.
async fn eligible_bench(
    client: &reqwest::Client,
    base: &str,
    s: &Seeded,
    args: &Args,
    pid: u32,
) -> anyhow::Result<()> {
    let keys = bench::jwt_keys();
    let token = keys.issue(
        s.focus_user,
        Role::Enterprise,
        Some(s.focus),
        Uuid::new_v4(),
        0,
        Utc::now(),
    )?;
    let path = "/api/v1/fund-programs/eligible?limit=200";
    let res = client
        .get(format!("{base}{path}"))
        .bearer_auth(&token)
        .send()
        .await?;
    ensure!(res.status() == 200, "{path} answered {}", res.status());
    let body = res.bytes().await?;
    let page: Value = serde_json::from_slice(&body)?;
    let items = page["items"].as_array().context("no items")?;
    let eligible = items.iter().filter(|i| i["eligible"] == true).count();
    let live = items
        .iter()
        .filter(|i| !i["application_id"].is_null())
        .count();
    ensure!(
        items.len() == OPEN && page["next_cursor"].is_null(),
        "{path} gave {} items",
        items.len()
    );
    ensure!(live == LIVE, "{live} live applications in the answer");
    println!(
        "\n== 1. {path}: {} programs, {eligible} eligible, {live} with a live application; {} bytes; one refusal reads {}",
        items.len(),
        body.len(),
        items
            .iter()
            .find(|i| i["eligible"] == false && i["reasons"].as_array().is_some_and(|r| r.len() > 1))
            .map(|i| i["reasons"].to_string())
            .unwrap_or_default()
    );
    let mut loads = vec![path];
    if args.references {
        loads.push("/api/v1/fund-programs?open=true&limit=200");
        loads.push("/api/v1/me");
    }
    let tokens = vec![token];
    let file = bench::wrk::Tokens::new(&tokens)?;
    let tokens = Arc::new(tokens);
    for path in loads {
        let url = format!("{base}{path}");
        let (mut rates, mut p50s, mut p99s) = (vec![], vec![], vec![]);
        for run in 0..=args.runs {
            let length = if run == 0 {
                Duration::from_secs(2)
            } else {
                args.duration
            };
            let (rate, p50, p99) = if args.wrk {
                let r = file.run(&url, args.connections, length.as_secs()).await?;
                (r.rate, r.p50, r.p99)
            } else {
                let lat = bench::client_load(
                    client,
                    &url,
                    &tokens,
                    args.connections,
                    length,
                    1000 * run as u64,
                )
                .await?;
                (
                    lat.len() as f64 / length.as_secs_f64(),
                    quantile(&lat, 0.5) as f64 / 1000.0,
                    quantile(&lat, 0.99) as f64 / 1000.0,
                )
            };
            if run == 0 {
                continue;
            }
            println!(
                "{path} run {run} ({} c{}): {rate:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms; api RSS {:.1} MiB",
                if args.wrk {
                    "wrk -t2"
                } else {
                    "in-process client"
                },
                args.connections,
                rss_mib(pid)
            );
            rates.push(rate);
            p50s.push(p50);
            p99s.push(p99);
        }
        println!(
            "{path} medians of {} runs: {:.0} req/s ({}), p50 {:.2} ms ({}), p99 {:.2} ms ({})",
            args.runs,
            median(&rates),
            spread(&rates, 0),
            median(&p50s),
            spread(&p50s, 2),
            median(&p99s),
            spread(&p99s, 2)
        );
    }
    Ok(())
}

/// 2: the window-opening push, run after run, with the floors of its writes.
async fn push_bench(db: &DatabaseConnection, s: &Seeded, args: &Args) -> anyhow::Result<()> {
    let program_of = || async {
        fund_program::Entity::find_by_id(s.push_program)
            .one(db)
            .await?
            .context("the push program")
    };
    let p = program_of().await?;
    let now = p.opens_at + TimeDelta::minutes(1);
    let cal = jobs::calendar::load(db).await?;
    let candidates = scalar(
        db,
        "SELECT COUNT(*) FROM organizations WHERE kind = 'enterprise' AND verified",
    )
    .await?;
    println!(
        "\n== 2. jobs::funds::windows::open for one program (rules {}), {candidates} verified enterprises with one enterprise user (e-mail set) each, at its opening {now}",
        p.eligibility
    );
    let (mut job, mut values, mut unnest, mut server) = (vec![], vec![], vec![], vec![]);
    for run in 1..=args.push_runs {
        reset_push(db, p.id).await?;
        let p = program_of().await?;
        ensure!(p.opened_at.is_none() && p.push_cursor.is_none());
        let t = Instant::now();
        let told = windows::open(db, &cal, now, &p).await?;
        let took = t.elapsed().as_secs_f64();
        let notifications = scalar(
            db,
            &format!(
                "SELECT COUNT(*) FROM notifications WHERE object_type = 'fund_program' AND object_id = '{}'",
                p.id
            ),
        )
        .await?;
        let mails = scalar(
            db,
            "SELECT COUNT(*) FROM mail_outbox WHERE template = 'policy_match'",
        )
        .await?;
        let opened = program_of().await?;
        ensure!(
            opened.opened_at == Some(now) && opened.push_cursor.is_some(),
            "the program is not marked opened"
        );
        ensure!(
            notifications == told as i64 && mails == told as i64,
            "told {told}, {notifications} notifications, {mails} mails"
        );
        let f = push_floors(db, p.id).await?;
        println!(
            "push run {run}: {took:.2} s, {told} enterprises told: {notifications} notifications + {mails} outbox mails ({:.0} rows/s); floors, the same rows: INSERT … VALUES of 2,000 {:.2} s, INSERT … UNNEST of 5,000 {:.2} s, server-side copy {:.2} s; job ÷ VALUES floor {:.1}",
            (notifications + mails) as f64 / took,
            f.values,
            f.unnest,
            f.server,
            took / f.values
        );
        job.push(took);
        values.push(f.values);
        unnest.push(f.unnest);
        server.push(f.server);
    }
    reset_push(db, p.id).await?;
    let ratios: Vec<f64> = job.iter().zip(&values).map(|(j, f)| j / f).collect();
    println!(
        "push medians of {} runs: {:.2} s ({} s), target ≤ 5 s; floors: VALUES {:.2} s ({} s), UNNEST {:.2} s ({} s), server copy {:.2} s ({} s); job ÷ VALUES floor {:.1} ({})",
        args.push_runs,
        median(&job),
        spread(&job, 2),
        median(&values),
        spread(&values, 2),
        median(&unnest),
        spread(&unnest, 2),
        median(&server),
        spread(&server, 2),
        median(&ratios),
        spread(&ratios, 1)
    );
    Ok(())
}

/// The floors of the push's writes, each in one transaction, from the rows the job wrote
/// (read into this tool untimed, written again with fresh ids):
/// - `values`: multi-row `INSERT … VALUES` of 2,000 rows, as the job writes them;
/// - `unnest`: `INSERT … SELECT … FROM UNNEST($1::uuid[], …)` of 5,000 rows, one array per
///   column (a handful of parameters instead of 18,000–30,000);
/// - `server`: copied by the server alone (`INSERT … SELECT` from the job's rows).
///
/// The copies are removed with the job's rows by [`reset_push`].
async fn push_floors(db: &DatabaseConnection, program: Uuid) -> anyhow::Result<Floors> {
    let notes = notification::Entity::find()
        .filter(notification::Column::ObjectType.eq("fund_program"))
        .filter(notification::Column::ObjectId.eq(program))
        .all(db)
        .await?;
    let mails = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Template.eq("policy_match"))
        .all(db)
        .await?;
    // Every row the job wrote has a smaller id than this; the copies a larger one.
    let boundary = Uuid::now_v7();

    let t = Instant::now();
    let txn = db.begin().await?;
    for chunk in notes.chunks(2_000) {
        let rows = chunk.iter().map(|n| {
            let mut n: notification::ActiveModel = n.clone().into();
            n.id = Set(Uuid::now_v7());
            n.reset_all()
        });
        notification::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in mails.chunks(2_000) {
        let rows = chunk.iter().map(|m| {
            let id = Uuid::now_v7();
            let mut m: mail_outbox::ActiveModel = m.clone().into();
            m.id = Set(id);
            m.message_id = Set(format!("<{}@liantong.local>", id.simple()));
            m.reset_all()
        });
        mail_outbox::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    let values = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let txn = db.begin().await?;
    for chunk in notes.chunks(5_000) {
        let ids: Vec<Uuid> = chunk.iter().map(|_| Uuid::now_v7()).collect();
        let cols = [
            array(ids.iter().map(|id| Some(id.to_string()))),
            array(chunk.iter().map(|n| Some(n.user_id.to_string()))),
            array(chunk.iter().map(|n| Some(code(n.kind)))),
            array(chunk.iter().map(|n| Some(n.title.clone()))),
            array(chunk.iter().map(|n| Some(n.body.clone()))),
            array(chunk.iter().map(|n| n.object_type.clone())),
            array(chunk.iter().map(|n| n.object_id.map(|o| o.to_string()))),
            array(chunk.iter().map(|n| Some(n.created_at.to_rfc3339()))),
            array(chunk.iter().map(|n| n.read_at.map(|r| r.to_rfc3339()))),
        ];
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO notifications (id, user_id, kind, title, body, object_type, object_id, created_at, read_at) \
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], \
                                  $7::uuid[], $8::timestamptz[], $9::timestamptz[])",
            cols.map(sea_orm::Value::from),
        ))
        .await?;
    }
    for chunk in mails.chunks(5_000) {
        let ids: Vec<Uuid> = chunk.iter().map(|_| Uuid::now_v7()).collect();
        let cols = [
            array(ids.iter().map(|id| Some(id.to_string()))),
            array(
                ids.iter()
                    .map(|id| Some(format!("<{}@liantong.local>", id.simple()))),
            ),
            array(chunk.iter().map(|m| Some(m.template.clone()))),
            array(chunk.iter().map(|m| Some(m.data.clone()))),
            array(chunk.iter().map(|m| Some(m.recipient.clone()))),
            array(chunk.iter().map(|m| Some(m.subject.clone()))),
            array(chunk.iter().map(|m| Some(code(m.status)))),
            array(chunk.iter().map(|m| Some(m.attempts.to_string()))),
            array(chunk.iter().map(|m| Some(m.next_attempt_at.to_rfc3339()))),
            array(chunk.iter().map(|m| m.last_error.clone())),
            array(chunk.iter().map(|m| Some(m.created_at.to_rfc3339()))),
            array(chunk.iter().map(|m| Some(m.updated_at.to_rfc3339()))),
            array(chunk.iter().map(|m| m.sent_at.map(|t| t.to_rfc3339()))),
            array(chunk.iter().map(|m| m.user_id.map(|u| u.to_string()))),
            array(chunk.iter().map(|m| m.kind.map(code))),
        ];
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO mail_outbox (id, message_id, template, data, recipient, subject, status, attempts, \
                    next_attempt_at, last_error, created_at, updated_at, sent_at, user_id, kind) \
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                                  $7::text[], $8::int[], $9::timestamptz[], $10::text[], $11::timestamptz[], \
                                  $12::timestamptz[], $13::timestamptz[], $14::uuid[], $15::text[])",
            cols.map(sea_orm::Value::from),
        ))
        .await?;
    }
    txn.commit().await?;
    let unnest = t.elapsed().as_secs_f64();

    // Ids v7-shaped and increasing, as the job's.
    let id = "(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') \
              || '7abc8' || lpad(to_hex(row_number() OVER ()), 15, '0'))::uuid";
    let t = Instant::now();
    let txn = db.begin().await?;
    txn.execute_unprepared(&format!(
        "INSERT INTO notifications (id, user_id, kind, title, body, object_type, object_id, created_at, read_at) \
         SELECT {id}, user_id, kind, title, body, object_type, object_id, created_at, read_at \
           FROM notifications WHERE object_type = 'fund_program' AND object_id = '{program}' AND id < '{boundary}'"
    ))
    .await?;
    txn.execute_unprepared(&format!(
        "INSERT INTO mail_outbox (id, message_id, template, data, recipient, subject, status, attempts, \
                next_attempt_at, last_error, created_at, updated_at, sent_at, user_id, kind) \
         SELECT i, '<' || replace(i::text, '-', '') || '@liantong.local>', template, data, recipient, subject, \
                status, attempts, next_attempt_at, last_error, created_at, updated_at, sent_at, user_id, kind \
           FROM (SELECT {id} AS i, * FROM mail_outbox WHERE template = 'policy_match' AND id < '{boundary}') m"
    ))
    .await?;
    txn.commit().await?;
    let server = t.elapsed().as_secs_f64();
    Ok(Floors {
        values,
        unnest,
        server,
    })
}

/// Seconds of each floor of the push's writes (see [`push_floors`]).
struct Floors {
    values: f64,
    unnest: f64,
    server: f64,
}

/// A PostgreSQL array literal (`{"a","b",NULL}`) of text elements, cast in the statement.
fn array(items: impl Iterator<Item = Option<String>>) -> String {
    let mut out = String::from("{");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            None => out.push_str("NULL"),
            Some(v) => {
                out.push('"');
                for c in v.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
    }
    out.push('}');
    out
}

/// Undoes a push: its notifications and mails (and the floors' copies) deleted, the program
/// not opened, the tables vacuumed and a checkpoint taken, so every run starts alike.
async fn reset_push(db: &DatabaseConnection, program: Uuid) -> anyhow::Result<()> {
    db.execute_unprepared(&format!(
        "DELETE FROM notifications WHERE object_type = 'fund_program' AND object_id = '{program}'"
    ))
    .await?;
    db.execute_unprepared("DELETE FROM mail_outbox WHERE template = 'policy_match'")
        .await?;
    fund_program::Entity::update_many()
        .col_expr(
            fund_program::Column::OpenedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(fund_program::Column::PushCursor, Expr::value(None::<Uuid>))
        .filter(fund_program::Column::Id.eq(program))
        .exec(db)
        .await?;
    db.execute_unprepared("VACUUM (ANALYZE) notifications, mail_outbox, fund_programs")
        .await?;
    db.execute_unprepared("CHECKPOINT").await?;
    Ok(())
}

/// A fresh program with a closed window whose budget fits `fits` approvals, and `count`
/// applications in it in `initial_passed` with their final-review clock running, as after the
/// initial review; the applications' ids.
async fn approval_program(
    db: &DatabaseConnection,
    s: &Seeded,
    enterprises: &[(Uuid, Uuid)],
    fits: usize,
    label: &str,
) -> anyhow::Result<(Uuid, Vec<Uuid>)> {
    let now = Utc::now();
    let day = TimeDelta::days(1);
    let txn = db.begin().await?;
    let cal = jobs::calendar::load(&txn).await?;
    let p = program(
        format!("{APPROVAL_PREFIX} {label}"),
        FundKind::Guidance,
        &push_rules(),
        now - day * 60,
        now - day,
        APPROVAL_FEN * fits as i64,
        true,
        s.fund_user,
        now,
    )?
    .insert(&txn)
    .await?;
    let mut ids = Vec::new();
    for (i, (enterprise, user)) in enterprises.iter().enumerate() {
        let (a, _) = insert(
            &txn,
            &cal,
            now,
            &p,
            NewApplication {
                enterprise_id: *enterprise,
                chain_id: None,
                submitted_by: Some(*user),
                amount_fen: APPROVAL_FEN,
                project_title: format!("{label} 技改项目{i:02}"),
                description: "基准测试申报。".into(),
            },
            Some(*enterprise),
        )
        .await?;
        // The initial review passed: its clock met, the final review's started.
        let subject = Subject::fund_application(a.id);
        clocks::meet(&txn, subject, &[ClockKind::InitialReview], now).await?;
        clocks::start(
            &txn,
            &cal,
            subject,
            now,
            &[review_clock(&p, ClockKind::FinalReview, a.round)],
            now,
        )
        .await?;
        ids.push(a.id);
        let mut am: fund_application::ActiveModel = a.into();
        am.status = Set(FundStatus::InitialPassed);
        am.initial_reviewed_at = Set(Some(now));
        am.update(&txn).await?;
    }
    txn.commit().await?;
    Ok((p.id, ids))
}

/// Removes the approval runs' programs with their applications and everything hanging on them.
async fn remove_approval_programs(db: &DatabaseConnection) -> anyhow::Result<()> {
    let apps = format!(
        "SELECT a.id FROM fund_applications a JOIN fund_programs p ON p.id = a.program_id \
         WHERE p.name LIKE '{APPROVAL_PREFIX}%'"
    );
    let txn = db.begin().await?;
    for sql in [
        format!("DELETE FROM notifications WHERE object_id IN ({apps})"),
        "DELETE FROM mail_outbox WHERE template = 'fund_update'".to_string(),
        format!("DELETE FROM appeal_events WHERE fund_application_id IN ({apps})"),
        format!("DELETE FROM supervisions WHERE fund_application_id IN ({apps})"),
        format!("DELETE FROM sla_clocks WHERE fund_application_id IN ({apps})"),
        format!("DELETE FROM fund_reviews WHERE application_id IN ({apps})"),
        format!(
            "DELETE FROM fund_applications WHERE program_id IN \
             (SELECT id FROM fund_programs WHERE name LIKE '{APPROVAL_PREFIX}%')"
        ),
        format!("DELETE FROM fund_programs WHERE name LIKE '{APPROVAL_PREFIX}%'"),
    ] {
        txn.execute_unprepared(&sql).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// One approval: its status and time.
async fn approve(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    id: Uuid,
) -> anyhow::Result<(u16, String, Duration)> {
    let t = Instant::now();
    let res = client
        .post(format!("{base}/api/v1/fund-applications/{id}/final_review"))
        .bearer_auth(token)
        .json(&json!({"decision": "approve", "comment": "ok"}))
        .send()
        .await?;
    let status = res.status().as_u16();
    let body: Value = serde_json::from_slice(&res.bytes().await?).unwrap_or(Value::Null);
    let code = body["code"].as_str().unwrap_or_default().to_string();
    Ok((status, code, t.elapsed()))
}

/// The program's budget, committed amount, and the sums over its applications.
async fn budget_check(
    db: &DatabaseConnection,
    program: Uuid,
    approved: usize,
    fits: usize,
) -> anyhow::Result<String> {
    let p = fund_program::Entity::find_by_id(program)
        .one(db)
        .await?
        .context("program")?;
    let sum = scalar(
        db,
        &format!(
            "SELECT COALESCE(SUM(approved_amount_fen), 0)::bigint FROM fund_applications WHERE program_id = '{program}'"
        ),
    )
    .await?;
    let reserved = scalar(
        db,
        &format!(
            "SELECT COALESCE(SUM(reserved_fen), 0)::bigint FROM fund_applications WHERE program_id = '{program}'"
        ),
    )
    .await?;
    let in_notice = scalar(
        db,
        &format!(
            "SELECT COUNT(*) FROM fund_applications WHERE program_id = '{program}' AND status = '{}'",
            code(FundStatus::InNotice)
        ),
    )
    .await?;
    ensure!(
        p.committed_fen <= p.budget_fen,
        "committed {} over budget {}",
        p.committed_fen,
        p.budget_fen
    );
    ensure!(
        p.committed_fen == sum && sum == reserved,
        "committed {} != approved {sum} (reserved {reserved})",
        p.committed_fen
    );
    ensure!(
        approved == fits && in_notice == fits as i64,
        "{approved} approved ({in_notice} in notice), the budget fits {fits}"
    );
    Ok(format!(
        "committed {} = Σ approved {} ≤ budget {} (fen)",
        p.committed_fen, sum, p.budget_fen
    ))
}

/// 3: concurrent final approvals against a short budget, run after run; the same approvals one
/// after another as the reference.
async fn approvals_bench(
    client: &reqwest::Client,
    base: &str,
    db: &DatabaseConnection,
    s: &Seeded,
    args: &Args,
) -> anyhow::Result<()> {
    // Enterprises the program's rules admit (any valid qualification), after the focus one.
    let cal = jobs::calendar::load(db).await?;
    let rows: Vec<(Uuid, Uuid)> = user::Entity::find()
        .select_only()
        .columns([user::Column::OrganizationId, user::Column::Id])
        .filter(user::Column::Role.eq(Role::Enterprise))
        .filter(user::Column::OrganizationId.ne(s.focus))
        .order_by_asc(user::Column::Id)
        .limit(args.approvals as u64 * 2)
        .into_tuple()
        .all(db)
        .await?;
    let names = chain_names(db).await?;
    let ids: Vec<Uuid> = rows.iter().map(|(o, _)| *o).collect();
    let f = facts(db, &ids).await?;
    let today = cal.local_date(Utc::now());
    let enterprises: Vec<(Uuid, Uuid)> = rows
        .into_iter()
        .filter(|(o, _)| {
            f.get(o)
                .is_some_and(|f| f.decide(&push_rules(), today, &names).eligible)
        })
        .take(args.approvals)
        .collect();
    ensure!(
        enterprises.len() == args.approvals,
        "too few eligible enterprises"
    );
    let token = bench::jwt_keys().issue(
        s.fund_user,
        Role::FundOffice,
        Some(s.fund_office),
        Uuid::new_v4(),
        0,
        Utc::now(),
    )?;
    println!(
        "\n== 3. {} concurrent final approvals of {:.2} yuan each on one program whose budget fits {} (notice period 5 working days: an approval goes to in_notice)",
        args.approvals,
        APPROVAL_FEN as f64 / 100.0,
        args.fits
    );
    let (mut walls, mut serial_walls, mut p50s) = (vec![], vec![], vec![]);
    for run in 1..=args.approval_runs {
        // Concurrent.
        let (program, apps) =
            approval_program(db, s, &enterprises, args.fits, &format!("并发{run}")).await?;
        let start = Arc::new(tokio::sync::Barrier::new(apps.len() + 1));
        let mut tasks = Vec::new();
        for id in &apps {
            let (client, base, token, id, start) = (
                client.clone(),
                base.to_string(),
                token.clone(),
                *id,
                start.clone(),
            );
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                approve(&client, &base, &token, id).await
            }));
        }
        start.wait().await;
        let t = Instant::now();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await??);
        }
        let wall = t.elapsed().as_secs_f64() * 1000.0;
        let (ok, refused, lat) = tally(&answers)?;
        let check = budget_check(db, program, ok, args.fits).await?;
        let mut lat = lat;
        lat.sort_by(f64::total_cmp);
        println!(
            "approvals run {run}: {} at once in {wall:.0} ms: {ok} × 200, {refused} × 409 budget_exceeded; each answered in {:.0}–{:.0} ms (p50 {:.0}); {check}",
            answers.len(),
            lat[0],
            lat[lat.len() - 1],
            quantile(&lat, 0.5)
        );
        walls.push(wall);
        p50s.push(quantile(&lat, 0.5));

        // The reference: one after another.
        let (program, apps) =
            approval_program(db, s, &enterprises, args.fits, &format!("顺序{run}")).await?;
        let t = Instant::now();
        let mut answers = Vec::new();
        for id in &apps {
            answers.push(approve(client, base, &token, *id).await?);
        }
        let serial = t.elapsed().as_secs_f64() * 1000.0;
        let (ok, refused, _) = tally(&answers)?;
        budget_check(db, program, ok, args.fits).await?;
        println!(
            "  reference, the same {} one after another: {serial:.0} ms ({ok} × 200, {refused} × 409)",
            answers.len()
        );
        serial_walls.push(serial);
    }
    println!(
        "approvals medians of {} runs: {} concurrent in {:.0} ms ({} ms), each answered in p50 {:.0} ms ({}); one after another {:.0} ms ({} ms); committed ≤ budget and = Σ approved every run",
        args.approval_runs,
        args.approvals,
        median(&walls),
        spread(&walls, 0),
        median(&p50s),
        spread(&p50s, 0),
        median(&serial_walls),
        spread(&serial_walls, 0)
    );
    Ok(())
}

/// Successes, budget refusals and latencies (ms) of a batch of approvals; anything else fails.
fn tally(answers: &[(u16, String, Duration)]) -> anyhow::Result<(usize, usize, Vec<f64>)> {
    let (mut ok, mut refused) = (0, 0);
    for (status, code, _) in answers {
        match (*status, code.as_str()) {
            (200, _) => ok += 1,
            (409, "budget_exceeded") => refused += 1,
            (s, c) => bail!("an approval answered {s} {c}"),
        }
    }
    let lat = answers
        .iter()
        .map(|(_, _, d)| d.as_secs_f64() * 1000.0)
        .collect();
    Ok((ok, refused, lat))
}
