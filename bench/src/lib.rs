//! Shared pieces of the benchmark tools: starting the release `api` binary and waiting for it,
//! signing its access tokens, database URLs, quantiles, and the HTTP load (wrk when installed,
//! else this process's own client).

use anyhow::{Context, bail, ensure};
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

/// The `JWT_SECRET` the tools start the api with, so they can sign its access tokens.
pub const JWT_SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";

/// The bootstrap administrator's password the tools start the api with (and the password of
/// the users they create through the api).
pub const PASSWORD: &str = "bench-password-123";

/// Starts the `api` binary at `api_bin` on `database_url`, listening on 127.0.0.1:`port`, with
/// [`JWT_SECRET`], the bootstrap admin password [`PASSWORD`], the jobs off and `RUST_LOG=warn`;
/// its data directory is `data_dir`. Killed when the handle drops.
pub fn start_api(
    api_bin: &str,
    database_url: &str,
    port: u16,
    data_dir: &Path,
) -> anyhow::Result<tokio::process::Child> {
    tokio::process::Command::new(api_bin)
        .env("DATABASE_URL", database_url)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("DATA_DIR", data_dir)
        .env("JWT_SECRET", JWT_SECRET)
        .env("BOOTSTRAP_ADMIN_PASSWORD", PASSWORD)
        .env("JOBS_EMBEDDED", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting the api")
}

/// Waits (up to a minute) until `GET {base}/health/ready` answers 200.
pub async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/health/ready")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the api did not become ready")
}

/// The api's token keys for [`JWT_SECRET`] (its default issuer and audience, 24-hour tokens):
/// the tools sign access tokens with them, so no password is hashed.
pub fn jwt_keys() -> api::auth::jwt::JwtKeys {
    api::auth::jwt::JwtKeys::new(JWT_SECRET.as_bytes(), "liantong", "liantong-api", 24 * 3600)
}

/// `url` with its database replaced by `name` (a query string is kept).
pub fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (head, tail) = url
        .rsplit_once('/')
        .context("the URL has no database name")?;
    let query = tail.split_once('?').map(|(_, q)| format!("?{q}"));
    Ok(format!("{head}/{name}{}", query.unwrap_or_default()))
}

/// The resident memory of process `pid` in MiB (`VmRSS`), NaN when unknown.
pub fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The `q`-quantile of sorted values (the nearest rank).
pub fn quantile<T: Copy>(sorted: &[T], q: f64) -> T {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The median of `v` (the upper one of an even count).
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

/// `min–max` of `v` with `decimals` decimals.
pub fn spread(v: &[f64], decimals: usize) -> String {
    let (lo, hi) = v
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
    format!("{lo:.decimals$}–{hi:.decimals$}")
}

/// `connections` clients of this process sending `GET url`, each request with a random one of
/// `tokens`, as fast as answers come, until `length` has passed; every answer must be 2xx.
/// Returns the latencies in microseconds, sorted. `seed` seeds the clients' choices.
pub async fn client_load(
    client: &reqwest::Client,
    url: &str,
    tokens: &Arc<Vec<String>>,
    connections: usize,
    length: Duration,
    seed: u64,
) -> anyhow::Result<Vec<u64>> {
    use rand::{Rng, SeedableRng, rngs::SmallRng};
    let url = Arc::new(url.to_string());
    let end = Instant::now() + length;
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (client, url, tokens) = (client.clone(), url.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = SmallRng::seed_from_u64(c as u64 + seed);
            let mut lat = Vec::new();
            while Instant::now() < end {
                let token = &tokens[rng.gen_range(0..tokens.len())];
                let t = Instant::now();
                let res = client.get(url.as_str()).bearer_auth(token).send().await?;
                ensure!(res.status().is_success(), "{url} answered {}", res.status());
                res.bytes().await?;
                lat.push(t.elapsed().as_micros() as u64);
            }
            anyhow::Ok(lat)
        }));
    }
    latencies(tasks).await
}

/// Awaits load tasks that each return their latencies; returns them all, sorted.
pub async fn latencies(
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<Vec<u64>>>>,
) -> anyhow::Result<Vec<u64>> {
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort_unstable();
    Ok(all)
}

/// The load through wrk: a client that takes far less of two cores than this process would.
pub mod wrk {
    use super::*;

    /// Whether wrk is on the `PATH`.
    pub fn installed() -> bool {
        std::process::Command::new("wrk")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    }

    /// Parses a wrk duration (`850.00us`, `1.23ms`, `1.02s`) into milliseconds.
    pub fn ms(v: &str) -> Option<f64> {
        let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
        let n: f64 = num.parse().ok()?;
        match unit {
            "us" => Some(n / 1000.0),
            "ms" => Some(n),
            "s" => Some(n * 1000.0),
            "m" => Some(n * 60_000.0),
            _ => None,
        }
    }

    /// What one wrk run measured.
    #[derive(Clone, Copy, Debug)]
    pub struct Run {
        pub rate: f64,
        /// Milliseconds.
        pub p50: f64,
        pub p99: f64,
    }

    /// Requests per second, p50 and p99 from wrk's `--latency` output.
    pub fn parse(text: &str) -> anyhow::Result<Run> {
        let field = |label: &str| {
            text.lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix(label))
                .and_then(|rest| rest.split_whitespace().next().map(str::to_string))
        };
        Ok(Run {
            rate: field("Requests/sec:")
                .and_then(|v| v.parse().ok())
                .context("no Requests/sec in wrk output")?,
            p50: field("50%").and_then(|v| ms(&v)).context("no p50")?,
            p99: field("99%").and_then(|v| ms(&v)).context("no p99")?,
        })
    }

    /// wrk's threads for `connections`: `BENCH_WRK_THREADS` (default 2), at most one per
    /// connection. On a machine whose cores the api, PostgreSQL and wrk share, each wrk thread
    /// takes CPU the server would otherwise have.
    pub fn threads(connections: usize) -> usize {
        std::env::var("BENCH_WRK_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2usize)
            .clamp(1, connections.max(1))
    }

    /// A token file for `bench/scripts/random_token.lua`, which gives each request the token
    /// of a random line; removed on drop.
    pub struct Tokens {
        _dir: tempfile::TempDir,
        file: PathBuf,
    }

    impl Tokens {
        pub fn new(tokens: &[String]) -> anyhow::Result<Self> {
            let dir = tempfile::tempdir()?;
            let file = dir.path().join("tokens.txt");
            std::fs::write(&file, tokens.join("\n") + "\n")?;
            Ok(Self { _dir: dir, file })
        }

        /// `wrk -t<threads> -c<connections> -d<secs>s --latency` on `GET url` with these tokens
        /// ([`threads`]); every answer must be 2xx.
        pub async fn run(&self, url: &str, connections: usize, secs: u64) -> anyhow::Result<Run> {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/random_token.lua");
            let out = tokio::process::Command::new("wrk")
                .args([
                    &format!("-t{}", threads(connections)),
                    &format!("-c{connections}"),
                    &format!("-d{secs}s"),
                    "--latency",
                    "-s",
                    script,
                    url,
                    "--",
                ])
                .arg(&self.file)
                .output()
                .await
                .context("running wrk")?;
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            if std::env::var_os("BENCH_WRK_OUTPUT").is_some() {
                println!("{text}");
            }
            ensure!(out.status.success(), "wrk failed: {text}");
            ensure!(
                !text.contains("Non-2xx"),
                "some answers were not 2xx: {text}"
            );
            parse(&text)
        }
    }
}
