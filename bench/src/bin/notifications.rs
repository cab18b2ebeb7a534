//! Notifications at scale, through the real `api` binary on PostgreSQL:
//!
//! 1. `GET /api/v1/notifications/unread-count` at 32 connections with 1,000,000 notifications
//!    over 10,000 users in the table, each request as a random one of the users: p50 / p99,
//!    after a cold pass (each user once: what the database path costs), optionally while
//!    notifications are written for random users (`--churn`).
//! 2. 1,000 event streams (`GET /api/v1/notifications/stream`) of 1,000 users of one
//!    organization open on one api process; this tool then writes one notification to the
//!    organization with `jobs::notify` (as the jobs process or another api would) and times
//!    its arrival on every stream; the api's resident memory before and with the streams open.
//!
//! ```sh
//! cargo build --release -p api --bin api -p bench --bin notifications
//! target/release/notifications --api-bin target/release/api
//! # --pg-url postgres://postgres:postgres@127.0.0.1:5432/postgres (the server; default)
//! # --database lt_bench_notify --users 10000 --notifications 1000000 --streams 1000
//! # --connections 32 --duration 10 --runs 3 --rounds 5 --port 18082 --reseed --drop
//! # --no-count / --no-streams (one half only), --load-users N (requests from the first N users
//! # only), --churn N (notifications written per second during the load), --me (the same
//! # load on GET /api/v1/me, a yardstick), --no-wrk (load with this process's own client
//! # even when wrk is installed); BENCH_WRK_THREADS (2), BENCH_WRK_OUTPUT=1 (wrk's report)
//! ```
//!
//! The database is seeded once and kept (`--reseed` seeds it again, `--drop` drops it at the
//! end). Tokens are signed with the api's JWT secret (this tool starts the api with it), so no
//! password is hashed. The api runs with `JOBS_EMBEDDED=false` and `RUST_LOG=warn`.

use anyhow::{Context, bail, ensure};
use bench::{median, quantile, rss_mib, spread};
use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    enums::{NotificationKind, OrgKind, Role},
    notification, organization,
    uscc::Uscc,
    user,
};
use jobs::notify::{Audience, Notice, Object, notify};
use migration::{Migrator, MigratorTrait};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::mpsc;
use uuid::{NoContext, Timestamp, Uuid};

const USAGE: &str = "usage: notifications --api-bin <path to the release api> \
[--pg-url postgres://postgres:postgres@127.0.0.1:5432/postgres] [--database lt_bench_notify] \
[--users 10000] [--notifications 1000000] [--streams 1000] [--connections 32] [--duration 10] \
[--runs 3] [--rounds 5] [--port 18082] [--reseed] [--drop] [--no-count] [--no-streams] [--load-users N] [--churn 0] [--me] [--no-wrk]";

/// The title prefix of the broadcast rounds' notifications.
const BROADCAST: &str = "基准广播";

struct Args {
    pg_url: String,
    database: String,
    api_bin: String,
    users: usize,
    notifications: usize,
    streams: usize,
    connections: usize,
    duration: Duration,
    runs: usize,
    rounds: usize,
    port: u16,
    reseed: bool,
    drop: bool,
    count: bool,
    streams_bench: bool,
    /// The load's requests come from this many users (all by default).
    load_users: usize,
    /// Notifications written per second (with SQL, as another process would) while the count
    /// is loaded, each for a random user: the change feed then drops those users' counts.
    churn: u64,
    /// Also load `GET /api/v1/me` the same way, as a yardstick of the stack's own cost.
    me: bool,
    /// Load through wrk (when installed) rather than this process's own client.
    wrk: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        pg_url: "postgres://postgres:postgres@127.0.0.1:5432/postgres".into(),
        database: "lt_bench_notify".into(),
        api_bin: String::new(),
        users: 10_000,
        notifications: 1_000_000,
        streams: 1_000,
        connections: 32,
        duration: Duration::from_secs(10),
        runs: 3,
        rounds: 5,
        port: 18082,
        reseed: false,
        drop: false,
        count: true,
        streams_bench: true,
        load_users: 0,
        churn: 0,
        me: false,
        wrk: bench::wrk::installed(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--reseed" => a.reseed = true,
            "--drop" => a.drop = true,
            "--no-count" => a.count = false,
            "--no-streams" => a.streams_bench = false,
            "--me" => a.me = true,
            "--no-wrk" => a.wrk = false,
            _ => {
                let v = it
                    .next()
                    .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
                match flag.as_str() {
                    "--pg-url" => a.pg_url = v,
                    "--database" => a.database = v,
                    "--api-bin" => a.api_bin = v,
                    "--users" => a.users = v.parse()?,
                    "--notifications" => a.notifications = v.parse()?,
                    "--streams" => a.streams = v.parse()?,
                    "--connections" => a.connections = v.parse()?,
                    "--duration" => a.duration = Duration::from_secs(v.parse()?),
                    "--runs" => a.runs = v.parse()?,
                    "--rounds" => a.rounds = v.parse()?,
                    "--port" => a.port = v.parse()?,
                    "--load-users" => a.load_users = v.parse()?,
                    "--churn" => a.churn = v.parse()?,
                    other => bail!("unknown argument {other}\n{USAGE}"),
                }
            }
        }
    }
    ensure!(!a.api_bin.is_empty(), "--api-bin is required\n{USAGE}");
    ensure!(
        a.streams <= a.users,
        "--streams cannot exceed --users (one stream per user)"
    );
    Ok(a)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let maintenance = Database::connect(args.pg_url.as_str()).await?;
    let exists = maintenance
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
        maintenance
            .execute_unprepared(&format!("DROP DATABASE \"{}\" WITH (FORCE)", args.database))
            .await?;
    }
    if !exists || args.reseed {
        maintenance
            .execute_unprepared(&format!("CREATE DATABASE \"{}\"", args.database))
            .await?;
    }
    let url = bench::with_database(&args.pg_url, &args.database)?;
    let db = Database::connect(url.as_str()).await?;
    Migrator::up(&db, None).await?;
    // Broadcasts of an earlier run that stopped before removing them.
    remove_broadcasts(&db).await?;
    let have = notification::Entity::find().count(&db).await?;
    if have != args.notifications as u64 {
        ensure!(
            have == 0,
            "{} holds {have} notifications, not {}: run with --reseed",
            args.database,
            args.notifications
        );
        seed(&db, &args).await?;
    } else {
        println!("seed: reusing {} ({have} notifications)", args.database);
    }
    describe(&db).await?;

    let dir = tempfile::tempdir()?;
    let mut api = bench::start_api(&args.api_bin, &url, args.port, dir.path())?;
    let pid = api.id().context("the api has no pid")?;
    let base = format!("http://127.0.0.1:{}", args.port);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.streams + args.connections)
        .build()?;
    bench::wait_ready(&client, &base).await?;
    println!("api: pid {pid}, ready; idle RSS {:.1} MiB", rss_mib(pid));

    let keys = bench::jwt_keys();
    let users: Vec<(Uuid, Option<Uuid>)> = user::Entity::find()
        .select_only()
        .columns([user::Column::Id, user::Column::OrganizationId])
        .order_by_asc(user::Column::Username)
        .into_tuple()
        .all(&db)
        .await?;
    let now = Utc::now();
    let tokens: Vec<String> = users
        .iter()
        .map(|(id, org)| keys.issue(*id, Role::Enterprise, *org, Uuid::new_v4(), 0, now))
        .collect::<Result<_, _>>()?;

    let outcome = async {
        let n = match args.load_users {
            0 => tokens.len(),
            n => n.min(tokens.len()),
        };
        if args.count {
            statement_load(&url, &users[..n], &args).await?;
            let path = "/api/v1/notifications/unread-count";
            cold_pass(&client, &base, path, &tokens[..n], &args).await?;
            let churn = Churn::start(&db, &users[..n], args.churn);
            let load = http_load(&client, &base, path, &tokens[..n], &args, pid).await;
            churn.stop().await?;
            remove_churn(&db).await?;
            load?;
        }
        if args.me {
            http_load(&client, &base, "/api/v1/me", &tokens[..n], &args, pid).await?;
        }
        if args.streams_bench {
            streams(&client, &base, &db, &users, &tokens, &args, pid).await?;
            remove_broadcasts(&db).await?;
        }
        anyhow::Ok(())
    }
    .await;
    api.kill().await.ok();
    if args.drop {
        db.close().await.ok();
        maintenance
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                args.database
            ))
            .await?;
    }
    outcome
}

/// Removes the notifications the broadcast rounds wrote, so the table is as seeded.
async fn remove_broadcasts(db: &DatabaseConnection) -> anyhow::Result<()> {
    db.execute_unprepared(&format!(
        "DELETE FROM notifications WHERE title LIKE '{BROADCAST}%'"
    ))
    .await?;
    Ok(())
}

/// The title of the notifications the churn writes.
const CHURN: &str = "基准变动";

/// Removes the churn's notifications, so the table is as seeded.
async fn remove_churn(db: &DatabaseConnection) -> anyhow::Result<()> {
    db.execute_unprepared(&format!(
        "DELETE FROM notifications WHERE title = '{CHURN}'"
    ))
    .await?;
    Ok(())
}

/// Every user's first request after the api started, `connections` at a time: each is a
/// session check and a count read from the database (the api's caches are empty).
async fn cold_pass(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    tokens: &[String],
    args: &Args,
) -> anyhow::Result<()> {
    let url = format!("{base}{path}");
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tokens = Arc::new(tokens.to_vec());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (client, url, next, tokens) =
            (client.clone(), url.clone(), next.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(token) = tokens.get(i) else {
                    break;
                };
                let t = Instant::now();
                let res = client.get(&url).bearer_auth(token).send().await?;
                ensure!(res.status() == 200, "{url}: {}", res.status());
                res.bytes().await?;
                lat.push(t.elapsed().as_micros() as u64);
            }
            anyhow::Ok(lat)
        }));
    }
    let all = bench::latencies(tasks).await?;
    println!(
        "{path} cold pass (each of the {} users once, c{}, this tool's client): {:.1} s, p50 {:.2} ms, p99 {:.2} ms",
        all.len(),
        args.connections,
        started.elapsed().as_secs_f64(),
        quantile(&all, 0.5) as f64 / 1000.0,
        quantile(&all, 0.99) as f64 / 1000.0,
    );
    Ok(())
}

/// A writer of `per_second` notifications for random users (plain inserts, as another process
/// would write them) while it runs.
struct Churn {
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<u64>>>,
}

impl Churn {
    fn start(db: &DatabaseConnection, users: &[(Uuid, Option<Uuid>)], per_second: u64) -> Self {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        if per_second == 0 || users.is_empty() {
            return Self { stop, task: None };
        }
        let (db, ids) = (
            db.clone(),
            users.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        );
        let task = tokio::spawn(async move {
            let mut rng = SmallRng::seed_from_u64(99);
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / per_second));
            let mut written = 0u64;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                let user = ids[rng.gen_range(0..ids.len())];
                notification::Entity::insert(notification::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    user_id: Set(user),
                    kind: Set(NotificationKind::AppealSupervised),
                    title: Set(CHURN.into()),
                    body: Set("压测期间写入".into()),
                    object_type: Set(None),
                    object_id: Set(None),
                    created_at: Set(Utc::now()),
                    read_at: Set(None),
                })
                .exec_without_returning(&db)
                .await?;
                written += 1;
            }
            anyhow::Ok(written)
        });
        Self {
            stop,
            task: Some(task),
        }
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        self.stop.send(true).ok();
        if let Some(task) = self.task.take() {
            let written = task.await??;
            println!("churn: {written} notifications written during the load");
        }
        Ok(())
    }
}

/// 10,000 users (the first `streams` of them in one organization, the rest 100 per
/// organization) and 1,000,000 notifications over the past 180 days, each for a random user,
/// 30 % unread.
async fn seed(db: &DatabaseConnection, args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = Utc::now();
    let mut rng = SmallRng::seed_from_u64(11);
    let mut orgs = Vec::new();
    let mut users = Vec::new();
    let mut org_of_big = None;
    let mut current: Option<Uuid> = None;
    let mut in_current = 0;
    for i in 0..args.users {
        let new_org = match current {
            None => true,
            Some(_) if i == args.streams => true,
            Some(_) if i > args.streams => in_current == 100,
            Some(_) => false,
        };
        if new_org {
            let id = Uuid::now_v7();
            let uscc = Uscc::with_check_char(&format!("91320600{:09}", 400_000_000 + orgs.len()))?;
            orgs.push(organization::ActiveModel {
                id: Set(id),
                kind: Set(OrgKind::Enterprise),
                name: Set(format!("基准企业{:04}", orgs.len())),
                uscc: Set(Some(uscc.as_str().into())),
                region: Set(None),
                contact_name: Set(None),
                contact_email: Set(Some(format!("org{}@example.cn", orgs.len()))),
                verified: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
            });
            if org_of_big.is_none() {
                org_of_big = Some(id);
            }
            current = Some(id);
            in_current = 0;
        }
        in_current += 1;
        users.push(user::ActiveModel {
            id: Set(Uuid::now_v7()),
            username: Set(format!("nb{i:05}")),
            // Not a hash: nobody logs in; the tool signs tokens.
            password_hash: Set("!".into()),
            display_name: Set(format!("用户{i}")),
            email: Set(Some(format!("nb{i:05}@example.cn"))),
            role: Set(Role::Enterprise),
            organization_id: Set(current),
            active: Set(true),
            session_version: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        });
    }
    let user_ids: Vec<Uuid> = users
        .iter()
        .map(|u| match &u.id {
            Set(id) => *id,
            _ => Uuid::nil(),
        })
        .collect();
    for chunk in orgs.chunks(1000) {
        organization::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    for chunk in users.chunks(1000) {
        user::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    println!(
        "seed: {} organizations, {} users in {:.1} s",
        orgs.len(),
        users.len(),
        started.elapsed().as_secs_f64()
    );

    let kinds = [
        NotificationKind::AppealAssigned,
        NotificationKind::AppealReplied,
        NotificationKind::AppealResolved,
        NotificationKind::SlaWarning,
        NotificationKind::SlaBreach,
    ];
    let span_ms = TimeDelta::days(180).num_milliseconds();
    // Ids in time order, so the table is laid out as the api writes it.
    let mut times: Vec<i64> = (0..args.notifications)
        .map(|_| rng.gen_range(0..span_ms))
        .collect();
    times.sort_unstable();
    let start = now - TimeDelta::days(180);
    let mut batch = Vec::with_capacity(1000);
    let mut written = 0;
    for offset in times {
        let at: DateTime<Utc> = start + TimeDelta::milliseconds(offset);
        let ts = Timestamp::from_unix(
            NoContext,
            u64::try_from(at.timestamp()).unwrap_or(0),
            at.timestamp_subsec_nanos(),
        );
        let kind = kinds[rng.gen_range(0..kinds.len())];
        let unread = rng.gen_bool(0.3);
        batch.push(notification::ActiveModel {
            id: Set(Uuid::new_v7(ts)),
            user_id: Set(user_ids[rng.gen_range(0..user_ids.len())]),
            kind: Set(kind),
            title: Set(format!(
                "{}：SQ20260101-{:06} 厂房用电增容",
                kind.label_zh(),
                written % 1_000_000
            )),
            body: Set(
                "已分派。类别：能源要素；应答时限：2026-03-03 09:00；办结时限：2026-03-09 09:00。"
                    .into(),
            ),
            object_type: Set(Some("appeal".into())),
            object_id: Set(Some(Uuid::new_v7(ts))),
            created_at: Set(at),
            read_at: Set((!unread).then(|| at + TimeDelta::hours(2))),
        });
        if batch.len() == 1000 {
            notification::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(db)
                .await?;
            written += 1000;
            if written % 100_000 == 0 {
                println!(
                    "seed: {written} notifications ({:.0} s)",
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    if !batch.is_empty() {
        notification::Entity::insert_many(batch)
            .exec_without_returning(db)
            .await?;
    }
    db.execute_unprepared("VACUUM (ANALYZE) notifications")
        .await?;
    db.execute_unprepared("VACUUM (ANALYZE) users").await?;
    println!("seed: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Unread counts per user and the plan of the count for a typical user.
async fn describe(db: &DatabaseConnection) -> anyhow::Result<()> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM notifications WHERE read_at IS NULL GROUP BY user_id ORDER BY n",
        ))
        .await?;
    let counts: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "n"))
        .collect::<Result<_, _>>()?;
    ensure!(!counts.is_empty(), "no unread notifications");
    let total: i64 = counts.iter().sum();
    println!(
        "data: {total} unread over {} users; per user p50 {}, p99 {}, max {}",
        counts.len(),
        quantile(&counts, 0.5),
        quantile(&counts, 0.99),
        quantile(&counts, 1.0)
    );
    let plan = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM notifications \
             WHERE user_id = (SELECT id FROM users ORDER BY username OFFSET 5000 LIMIT 1) \
             AND read_at IS NULL",
        ))
        .await?;
    println!("plan of the count for one user:");
    for r in plan {
        println!("  {}", r.try_get::<String>("", "QUERY PLAN")?);
    }
    Ok(())
}

/// `connections` clients sending `GET path` as random ones of the users (their tokens) as
/// fast as answers come, for `duration` after a 2 s warm-up, `runs` times.
async fn http_load(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    tokens: &[String],
    args: &Args,
    pid: u32,
) -> anyhow::Result<()> {
    if args.wrk {
        return wrk_load(base, path, tokens, args, pid).await;
    }
    let url = format!("{base}{path}");
    let tokens = Arc::new(tokens.to_vec());
    let (mut p50s, mut p99s, mut rates) = (vec![], vec![], vec![]);
    for run in 0..=args.runs {
        let warm_up = run == 0;
        let length = if warm_up {
            Duration::from_secs(2)
        } else {
            args.duration
        };
        let all = bench::client_load(
            client,
            &url,
            &tokens,
            args.connections,
            length,
            1000 * run as u64,
        )
        .await?;
        if warm_up {
            continue;
        }
        let (p50, p99, p999) = (
            quantile(&all, 0.5) as f64 / 1000.0,
            quantile(&all, 0.99) as f64 / 1000.0,
            quantile(&all, 0.999) as f64 / 1000.0,
        );
        let rate = all.len() as f64 / length.as_secs_f64();
        println!(
            "{path} run {run}: {rate:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms, p99.9 {p999:.2} ms ({} requests, c{}, {} users); api RSS {:.1} MiB",
            all.len(),
            args.connections,
            tokens.len(),
            rss_mib(pid)
        );
        p50s.push(p50);
        p99s.push(p99);
        rates.push(rate);
    }
    println!(
        "{path} medians of {} runs: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        args.runs,
        median(&rates),
        median(&p50s),
        median(&p99s)
    );
    Ok(())
}

/// The count's statement alone, as the api sends it (sea-orm, one pool), from `connections`
/// tasks at once for random users: what the database side of the endpoint costs.
async fn statement_load(
    url: &str,
    users: &[(Uuid, Option<Uuid>)],
    args: &Args,
) -> anyhow::Result<()> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut opts = sea_orm::ConnectOptions::new(url.to_string());
    opts.max_connections(args.connections as u32)
        .min_connections(args.connections as u32)
        .sqlx_logging(false);
    let pool = Database::connect(opts).await?;
    let ids: Arc<Vec<Uuid>> = Arc::new(users.iter().map(|(id, _)| *id).collect());
    let end = Instant::now() + args.duration;
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let (pool, ids) = (pool.clone(), ids.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = SmallRng::seed_from_u64(c as u64);
            let mut lat = Vec::new();
            while Instant::now() < end {
                let user = ids[rng.gen_range(0..ids.len())];
                let t = Instant::now();
                notification::Entity::find()
                    .filter(notification::Column::UserId.eq(user))
                    .filter(notification::Column::ReadAt.is_null())
                    .count(&pool)
                    .await?;
                lat.push(t.elapsed().as_micros() as u64);
            }
            anyhow::Ok(lat)
        }));
    }
    let all = bench::latencies(tasks).await?;
    println!(
        "the count statement alone (sea-orm pool of {c}, {c} tasks, random users): {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
        all.len() as f64 / args.duration.as_secs_f64(),
        quantile(&all, 0.5) as f64 / 1000.0,
        quantile(&all, 0.99) as f64 / 1000.0,
        c = args.connections,
    );
    pool.close().await?;
    Ok(())
}

/// The same load through wrk (`bench/scripts/random_token.lua` picks a random token per
/// request): a client that takes far less CPU from the two cores than this process would.
async fn wrk_load(
    base: &str,
    path: &str,
    tokens: &[String],
    args: &Args,
    pid: u32,
) -> anyhow::Result<()> {
    let file = bench::wrk::Tokens::new(tokens)?;
    let url = format!("{base}{path}");
    file.run(&url, args.connections, 2).await?;
    let (mut p50s, mut p99s, mut rates) = (vec![], vec![], vec![]);
    for n in 1..=args.runs {
        let bench::wrk::Run { rate, p50, p99 } = file
            .run(&url, args.connections, args.duration.as_secs())
            .await?;
        println!(
            "{path} run {n} (wrk -t{} -c{}): {rate:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms ({} users); api RSS {:.1} MiB",
            bench::wrk::threads(args.connections),
            args.connections,
            tokens.len(),
            rss_mib(pid)
        );
        p50s.push(p50);
        p99s.push(p99);
        rates.push(rate);
    }
    println!(
        "{path} medians of {} runs (wrk): {:.0} req/s, p50 {:.2} ms ({}), p99 {:.2} ms ({})",
        args.runs,
        median(&rates),
        median(&p50s),
        spread(&p50s, 2),
        median(&p99s),
        spread(&p99s, 2)
    );
    Ok(())
}

/// Opens one stream per user of the first organization, then times notifications to the
/// organization reaching every stream.
async fn streams(
    client: &reqwest::Client,
    base: &str,
    db: &DatabaseConnection,
    users: &[(Uuid, Option<Uuid>)],
    tokens: &[String],
    args: &Args,
    pid: u32,
) -> anyhow::Result<()> {
    let org = users
        .first()
        .and_then(|(_, org)| *org)
        .context("no users")?;
    let members: Vec<usize> = (0..users.len())
        .filter(|&i| users[i].1 == Some(org))
        .collect();
    ensure!(
        members.len() == args.streams,
        "the first organization has {} users, not {}",
        members.len(),
        args.streams
    );
    let before = rss_mib(pid);
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Instant, String)>();
    let (opened_tx, mut opened_rx) = mpsc::unbounded_channel::<()>();
    let started = Instant::now();
    for (n, &i) in members.iter().enumerate() {
        let (client, tx, opened) = (client.clone(), tx.clone(), opened_tx.clone());
        let url = format!("{base}/api/v1/notifications/stream");
        let token = tokens[i].clone();
        tokio::spawn(async move {
            let Ok(mut res) = client.get(url).bearer_auth(token).send().await else {
                return;
            };
            if !res.status().is_success() {
                return;
            }
            let _ = opened.send(());
            let mut buf = String::new();
            while let Ok(Some(chunk)) = res.chunk().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let frame: String = buf.drain(..end + 2).collect();
                    if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                        let _ = tx.send((n, Instant::now(), data.to_string()));
                    }
                }
            }
        });
    }
    drop(opened_tx);
    let mut opened = 0;
    while opened < members.len() {
        match tokio::time::timeout(Duration::from_secs(30), opened_rx.recv()).await {
            Ok(Some(())) => opened += 1,
            _ => bail!("only {opened} of {} streams opened", members.len()),
        }
    }
    println!(
        "streams: {opened} open in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let open = rss_mib(pid);
    println!(
        "api RSS: {before:.1} MiB before the streams, {open:.1} MiB with {opened} open (+{:.1} KiB per stream)",
        (open - before) * 1024.0 / opened as f64
    );

    let (mut p50s, mut maxes) = (vec![], vec![]);
    for round in 1..=args.rounds {
        let title = format!("{BROADCAST} {round}");
        let written = Instant::now();
        // One transaction, as an event's: the 1,000 rows become visible together.
        let txn = db.begin().await?;
        let delivered = notify(
            &txn,
            Utc::now(),
            Audience::organization(org),
            Notice::new(
                NotificationKind::SlaWarning,
                Some(Object::organization(org)),
                title.clone(),
                "基准测试：一条通知送达组织的每位用户。",
            ),
            None,
        )
        .await?;
        let wrote = written.elapsed();
        txn.commit().await?;
        let committed = written.elapsed();
        ensure!(delivered.notifications == members.len() as u64);
        let mut got = vec![None; members.len()];
        let mut left = members.len();
        while left > 0 {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some((n, at, data))) => {
                    if data.contains(&title) && got[n].is_none() {
                        got[n] = Some(at.duration_since(written));
                        left -= 1;
                    }
                }
                _ => bail!("round {round}: {left} streams did not get the notification in 10 s"),
            }
        }
        // From the commit: before it nothing is visible to anyone.
        let mut lat: Vec<f64> = got
            .into_iter()
            .map(|d| {
                d.unwrap_or_default()
                    .saturating_sub(committed)
                    .as_secs_f64()
                    * 1000.0
            })
            .collect();
        lat.sort_by(f64::total_cmp);
        let (p50, p99, max) = (
            quantile(&lat, 0.5),
            quantile(&lat, 0.99),
            quantile(&lat, 1.0),
        );
        println!(
            "broadcast {round}: {} notifications written in {:.0} ms, committed at {:.0} ms; arrival after the commit: min {:.0} ms, p50 {p50:.0} ms, p99 {p99:.0} ms, max {max:.0} ms; api RSS {:.1} MiB",
            members.len(),
            wrote.as_secs_f64() * 1000.0,
            committed.as_secs_f64() * 1000.0,
            lat[0],
            rss_mib(pid)
        );
        p50s.push(p50);
        maxes.push(max);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "broadcast medians of {} rounds: p50 {:.0} ms, max {:.0} ms; api RSS with the streams open {:.1} MiB",
        args.rounds,
        median(&p50s),
        median(&maxes),
        rss_mib(pid)
    );
    Ok(())
}
