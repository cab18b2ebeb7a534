//! Drawdowns on one credit line under contention, through the real `api` binary on PostgreSQL,
//! next to the floor of the work in the same run:
//!
//! - **api**: `--attempts` (1,000) `POST /api/v1/credit-lines/{id}/drawdowns` of 100.00 yuan,
//!   each with its own `Idempotency-Key`, from `--connections` (32) concurrent clients, on a fresh
//!   line whose limit fits `--fits` (600) of them. Checked after each run: exactly `fits` booked,
//!   every other attempt 409, the outstanding balance equal to the ledger and within the limit.
//! - **floor**: `pgbench` with the same clients running the same guarded `UPDATE` plus the
//!   ledger `INSERT` (one statement, `bench/scripts/drawdown_floor.sql`) on a table of lines and
//!   a table of movements with only their primary keys and the ledger's `(line_id, id)` index
//!   (`bench/scripts/drawdown_floor_schema.sql`), the same number of transactions and the same
//!   share of refusals.
//!
//! Attempts per second of both, run after run, alternating; the ratio api ÷ floor is the figure.
//!
//! ```sh
//! cargo build --release -p api --bin api -p bench --bin drawdowns
//! target/release/drawdowns --api-bin target/release/api
//! # --pg-url postgres://postgres:postgres@127.0.0.1:5432/postgres --database lt_bench_drawdowns
//! # --attempts 1000 --fits 600 --connections 32 --runs 5 --port 18083
//! ```

use anyhow::{Context, bail, ensure};
use bench::{PASSWORD, median, spread};
use entity::uscc::Uscc;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

const USAGE: &str = "usage: drawdowns --api-bin <release api> [--pg-url URL] [--database NAME] \
[--attempts 1000] [--fits 600] [--connections 32] [--runs 5] [--port 18083]";
/// Each drawdown, in yuan and in fen.
const AMOUNT: &str = "100.00";
const AMOUNT_FEN: i64 = 10_000;

struct Args {
    api_bin: String,
    pg_url: String,
    database: String,
    attempts: usize,
    fits: usize,
    connections: usize,
    runs: usize,
    port: u16,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        api_bin: String::new(),
        pg_url: "postgres://postgres:postgres@127.0.0.1:5432/postgres".into(),
        database: "lt_bench_drawdowns".into(),
        attempts: 1000,
        fits: 600,
        connections: 32,
        runs: 5,
        port: 18083,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--api-bin" => a.api_bin = value()?,
            "--pg-url" => a.pg_url = value()?,
            "--database" => a.database = value()?,
            "--attempts" => a.attempts = value()?.parse()?,
            "--fits" => a.fits = value()?.parse()?,
            "--connections" => a.connections = value()?.parse()?,
            "--runs" => a.runs = value()?.parse()?,
            "--port" => a.port = value()?.parse()?,
            _ => bail!("unknown flag {flag}\n{USAGE}"),
        }
    }
    ensure!(!a.api_bin.is_empty(), "{USAGE}");
    ensure!(a.fits < a.attempts, "--fits must be below --attempts");
    Ok(a)
}

/// A minimal client of the api under test.
struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        key: Option<&str>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = self
            .client
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// A call that must answer `want`; returns the body.
    async fn must(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Value,
        want: u16,
    ) -> anyhow::Result<Value> {
        let (status, v) = self
            .call(method.clone(), path, Some(token), Some(body), None)
            .await?;
        ensure!(status == want, "{method} {path}: {status} {v}");
        Ok(v)
    }

    async fn post(&self, path: &str, token: &str, body: Value, want: u16) -> anyhow::Result<Value> {
        self.must(reqwest::Method::POST, path, token, body, want)
            .await
    }

    async fn login(&self, username: &str) -> anyhow::Result<String> {
        let (status, v) = self
            .call(
                reqwest::Method::POST,
                "/auth/login",
                None,
                Some(json!({"username": username, "password": PASSWORD})),
                None,
            )
            .await?;
        ensure!(status == 200, "login {username}: {status} {v}");
        Ok(v["access_token"].as_str().context("no token")?.to_string())
    }
}

/// The parties: a chain with a lead bank and a member enterprise, and a program.
struct Parties {
    bank: String,
    enterprise: String,
    chain: String,
    program: String,
}

async fn parties(api: &Api) -> anyhow::Result<Parties> {
    let admin = api.login("admin").await?;
    let org = |kind: &str, name: &str, n: u32| {
        let mut b = json!({"kind": kind, "name": name, "contact_email": "bench@example.cn"});
        if kind == "bank" || kind == "enterprise" {
            let uscc =
                Uscc::with_check_char(&format!("91320600{:09}", 500_000_000 + n)).expect("uscc");
            b["uscc"] = json!(uscc.as_str());
        }
        b
    };
    let bank = api
        .post("/organizations", &admin, org("bank", "基准银行", 1), 201)
        .await?["id"]
        .clone();
    let ent = api
        .post(
            "/organizations",
            &admin,
            org("enterprise", "基准企业", 2),
            201,
        )
        .await?["id"]
        .clone();
    let office = api
        .post(
            "/organizations",
            &admin,
            org("chain_office", "基准链办", 3),
            201,
        )
        .await?["id"]
        .clone();
    api.post(
        &format!("/organizations/{}/verify", ent.as_str().unwrap_or_default()),
        &admin,
        json!({}),
        200,
    )
    .await?;
    let chain = api
        .post(
            "/chains",
            &admin,
            json!({"code": "BENCH", "name": "基准产业链", "office_organization_id": office}),
            201,
        )
        .await?["id"]
        .clone();
    let chain = chain.as_str().unwrap_or_default().to_string();
    api.must(
        reqwest::Method::PUT,
        &format!(
            "/chains/{chain}/banks/{}",
            bank.as_str().unwrap_or_default()
        ),
        &admin,
        json!({"role": "lead"}),
        200,
    )
    .await?;
    api.must(
        reqwest::Method::PUT,
        &format!(
            "/chains/{chain}/members/{}",
            ent.as_str().unwrap_or_default()
        ),
        &admin,
        json!({"role": "core"}),
        200,
    )
    .await?;
    for (username, role, org) in [
        ("bench-bank", "bank", &bank),
        ("bench-ent", "enterprise", &ent),
    ] {
        api.post("/users", &admin, json!({"username": username, "password": PASSWORD, "display_name": "基准", "email": format!("{username}@example.cn"), "role": role, "organization_id": org}), 201).await?;
    }
    let bank = api.login("bench-bank").await?;
    let enterprise = api.login("bench-ent").await?;
    let program = api
        .post("/credit-programs", &bank, json!({"chain_id": chain, "name": "基准专项", "quota": "10000000000.00", "max_per_enterprise": "10000000000.00", "rate_floor": "3", "rate_ceiling": "5", "max_term_months": 36, "valid_from": "2020-01-01", "valid_until": "2099-12-31"}), 201)
        .await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(Parties {
        bank,
        enterprise,
        chain,
        program,
    })
}

/// A fresh active line whose limit fits `fits` drawdowns.
async fn fresh_line(api: &Api, p: &Parties, fits: usize) -> anyhow::Result<String> {
    let limit = format!("{}.00", fits * 100);
    let r = api
        .post("/financing-requests", &p.enterprise, json!({"chain_id": p.chain, "program_id": p.program, "amount": limit, "term_months": 12, "purpose": "基准", "product": "working_capital"}), 201)
        .await?;
    let id = r["id"].as_str().unwrap_or_default().to_string();
    api.post(
        &format!("/financing-requests/{id}/accept"),
        &p.bank,
        json!({}),
        200,
    )
    .await?;
    let expires = (chrono::Utc::now() + chrono::TimeDelta::days(365)).date_naive();
    let r = api
        .post(&format!("/financing-requests/{id}/approve"), &p.bank, json!({"limit": limit, "rate": "4", "term_months": 12, "revolving": true, "expires_on": expires}), 200)
        .await?;
    Ok(r["credit_line_id"].as_str().context("no line")?.to_string())
}

/// One api run: attempts per second, after checking the line against its ledger.
async fn api_run(api: &Arc<Api>, p: &Parties, args: &Args, run: usize) -> anyhow::Result<f64> {
    let line = fresh_line(api, p, args.fits).await?;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (api, next, line, token) = (api.clone(), next.clone(), line.clone(), p.bank.clone());
        let attempts = args.attempts;
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= attempts {
                    break;
                }
                let key = format!("dd-{run}-{i}");
                let (status, _) = api
                    .call(
                        reqwest::Method::POST,
                        &format!("/credit-lines/{line}/drawdowns"),
                        Some(&token),
                        Some(json!({"amount": AMOUNT, "value_date": today})),
                        Some(&key),
                    )
                    .await?;
                statuses.push(status);
            }
            anyhow::Ok(statuses)
        }));
    }
    let mut booked = 0;
    let mut refused = 0;
    for t in tasks {
        for s in t.await?? {
            match s {
                200 | 201 => booked += 1,
                409 => refused += 1,
                other => bail!("a drawdown answered {other}"),
            }
        }
    }
    let elapsed = started.elapsed();
    ensure!(
        booked == args.fits,
        "{booked} drawdowns booked on a line that fits {}",
        args.fits
    );
    ensure!(refused == args.attempts - args.fits, "{refused} refusals");
    let (_, l) = api
        .call(
            reqwest::Method::GET,
            &format!("/credit-lines/{line}"),
            Some(&p.bank),
            None,
            None,
        )
        .await?;
    let mut ledger = 0i64;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/credit-lines/{line}/movements?limit=200&cursor={c}"),
            None => format!("/credit-lines/{line}/movements?limit=200"),
        };
        let (_, page) = api
            .call(reqwest::Method::GET, &path, Some(&p.bank), None, None)
            .await?;
        for m in page["items"].as_array().context("movements")? {
            let fen = entity::money::Money::parse(m["amount"].as_str().unwrap_or_default())?.fen();
            ledger += if m["kind"] == "drawdown" { fen } else { -fen };
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let outstanding =
        entity::money::Money::parse(l["outstanding"].as_str().unwrap_or_default())?.fen();
    let limit = entity::money::Money::parse(l["limit"].as_str().unwrap_or_default())?.fen();
    ensure!(
        outstanding == ledger,
        "outstanding {outstanding} != ledger {ledger}"
    );
    ensure!(
        outstanding <= limit && outstanding == args.fits as i64 * AMOUNT_FEN,
        "outstanding {outstanding}, limit {limit}"
    );
    Ok(args.attempts as f64 / elapsed.as_secs_f64())
}

/// One floor run: pgbench's transactions per second (connection time excluded).
async fn floor_run(
    args: &Args,
    floor_url: &str,
    db: &sea_orm::DatabaseConnection,
) -> anyhow::Result<f64> {
    db.execute_unprepared(&format!(
        "TRUNCATE bench_movements; UPDATE bench_lines SET outstanding_fen = 0, used_fen = 0, limit_fen = {}",
        args.fits as i64 * AMOUNT_FEN
    ))
    .await?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/drawdown_floor.sql");
    let per_client = args.attempts.div_ceil(args.connections);
    let out = tokio::process::Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &args.connections.to_string(),
            "-j",
            "2",
            "-t",
            &per_client.to_string(),
            "-f",
            script,
            floor_url,
        ])
        .output()
        .await
        .context("running pgbench")?;
    let text = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "pgbench failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let booked: i64 = {
        use sea_orm::{DbBackend, Statement};
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT COUNT(*) AS n FROM bench_movements",
            ))
            .await?
            .context("count")?;
        row.try_get("", "n")?
    };
    ensure!(booked == args.fits as i64, "the floor booked {booked}");
    text.lines()
        .find_map(|l| {
            l.strip_prefix("tps = ")
                .and_then(|r| r.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .context("no tps in pgbench's output")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let server = Database::connect(&args.pg_url).await?;
    let floor_db = format!("{}_floor", args.database);
    for db in [&args.database, &floor_db] {
        server
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
            .await?;
        server
            .execute_unprepared(&format!("CREATE DATABASE \"{db}\""))
            .await?;
    }
    let url = bench::with_database(&args.pg_url, &args.database)?;
    let floor_url = bench::with_database(&args.pg_url, &floor_db)?;
    let floor = Database::connect(&floor_url).await?;
    floor
        .execute_unprepared(include_str!("../../scripts/drawdown_floor_schema.sql"))
        .await?;

    let dir = tempfile::tempdir()?;
    let mut child = bench::start_api(&args.api_bin, &url, args.port, dir.path())?;
    let base = format!("http://127.0.0.1:{}", args.port);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(60))
        .build()?;
    bench::wait_ready(&client, &base).await?;
    let api = Arc::new(Api { client, base });
    let outcome = async {
        let p = parties(&api).await?;
        println!(
            "{} attempts of {AMOUNT} per run on one line that fits {}, {} connections; floor: pgbench, same clients and transactions",
            args.attempts, args.fits, args.connections
        );
        let (mut a, mut f, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..args.runs {
            let x = api_run(&api, &p, &args, run).await?;
            let y = floor_run(&args, &floor_url, &floor).await?;
            println!("run {}: api {x:.0} attempts/s (0 over-limit, ledger = outstanding), floor {y:.0} tps, ratio {:.2}", run + 1, x / y);
            a.push(x);
            f.push(y);
            ratios.push(x / y);
        }
        println!(
            "median: api {:.0} attempts/s ({}), floor {:.0} tps ({}), ratio {:.2} ({})",
            median(&a),
            spread(&a, 0),
            median(&f),
            spread(&f, 0),
            median(&ratios),
            spread(&ratios, 2)
        );
        anyhow::Ok(())
    }
    .await;
    child.kill().await.ok();
    floor.close().await.ok();
    for db in [&args.database, &floor_db] {
        server
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
            .await?;
    }
    outcome
}
