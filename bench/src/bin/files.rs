//! Documents against the local store: upload and download throughput of a 10 MiB file (MiB/s,
//! median and spread over the runs), next to the floor of the same work done in this process
//! (hash the bytes and write them to a file in the same directory, read them back), and the
//! api's resident memory while 8 clients upload 20 MiB each at once.
//!
//! ```text
//! cargo build --release -p api -p bench
//! target/release/files --api-bin target/release/api [--runs 15] [--database-url URL]
//! ```
//!
//! The api runs as its own process on SQLite (or `--database-url`), with its data directory in
//! a temporary directory, so its memory is measured alone.

use anyhow::{Context, ensure};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::{
    io::Write,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

const MIB: usize = 1024 * 1024;

struct Args {
    api_bin: String,
    database_url: Option<String>,
    runs: usize,
    port: u16,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        api_bin: "target/release/api".into(),
        database_url: None,
        runs: 15,
        port: 18_431,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--api-bin" => a.api_bin = value()?,
            "--database-url" => a.database_url = Some(value()?),
            "--runs" => a.runs = value()?.parse()?,
            "--port" => a.port = value()?.parse()?,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

/// A PDF of `size` bytes whose filler depends on `seed` (every run stores new bytes).
fn document(size: usize, seed: u64) -> Vec<u8> {
    use rand::{RngCore, SeedableRng, rngs::SmallRng};
    let mut b = vec![0u8; size];
    SmallRng::seed_from_u64(seed).fill_bytes(&mut b);
    b[..9].copy_from_slice(b"%PDF-1.7\n");
    b
}

async fn upload(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<Value> {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name("年度审计报告.pdf")
        .mime_str("application/pdf")?;
    let res = client
        .post(format!("{base}/api/v1/files"))
        .bearer_auth(token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await?;
    let status = res.status();
    let body: Value = res.json().await?;
    ensure!(status.as_u16() == 201, "upload answered {status}: {body}");
    Ok(body)
}

/// An enterprise user of the running api, signed in.
async fn enterprise_token(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let login = |username: &'static str| {
        let client = client.clone();
        let base = base.to_string();
        async move {
            let res: Value = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": username, "password": bench::PASSWORD}))
                .send()
                .await?
                .json()
                .await?;
            res["access_token"]
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("login failed: {res}"))
        }
    };
    let admin = login("admin").await?;
    let org: Value = client
        .post(format!("{base}/api/v1/organizations"))
        .bearer_auth(&admin)
        .json(
            &json!({"kind": "enterprise", "name": "南通某材料公司", "uscc": tests::random_uscc()}),
        )
        .send()
        .await?
        .json()
        .await?;
    let org = org["id"].as_str().context("no organization")?.to_string();
    client
        .post(format!("{base}/api/v1/organizations/{org}/verify"))
        .bearer_auth(&admin)
        .send()
        .await?;
    let user = client
        .post(format!("{base}/api/v1/users"))
        .bearer_auth(&admin)
        .json(&json!({"username": "uploader", "password": bench::PASSWORD,
                      "display_name": "上传者", "email": "uploader@example.cn",
                      "role": "enterprise", "organization_id": org}))
        .send()
        .await?;
    ensure!(
        user.status().is_success(),
        "creating the user: {}",
        user.status()
    );
    login("uploader").await
}

/// The floor of an upload: hash the bytes and write them to a new file in `dir`.
fn floor_write(dir: &std::path::Path, bytes: &[u8], n: usize) -> anyhow::Result<f64> {
    let t = Instant::now();
    let digest = Sha256::digest(bytes);
    let path = dir.join(format!("floor-{n}-{}", hex::encode(&digest[..4])));
    let mut f = std::fs::File::create(&path)?;
    f.write_all(bytes)?;
    drop(f);
    let secs = t.elapsed().as_secs_f64();
    std::fs::remove_file(path)?;
    Ok(secs)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let dir = tempfile::tempdir()?;
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/liantong.db?mode=rwc", dir.path().display()));
    let mut api = bench::start_api(&args.api_bin, &url, args.port, dir.path())?;
    let pid = api.id().context("the api's pid")?;
    let base = format!("http://127.0.0.1:{}", args.port);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(16)
        .build()?;
    bench::wait_ready(&client, &base).await?;
    let token = enterprise_token(&client, &base).await?;
    let ten = 10 * MIB;

    // Upload and download of 10 MiB, one at a time.
    let (mut up, mut down, mut floor_up, mut floor_down) = (vec![], vec![], vec![], vec![]);
    let mut last = None;
    for run in 0..args.runs {
        let bytes = document(ten, run as u64);
        floor_up.push(ten as f64 / MIB as f64 / floor_write(dir.path(), &bytes, run)?);
        let t = Instant::now();
        let f = upload(&client, &base, &token, bytes.clone()).await?;
        up.push(ten as f64 / MIB as f64 / t.elapsed().as_secs_f64());
        let id = f["id"].as_str().context("no id")?.to_string();
        let t = Instant::now();
        let res = client
            .get(format!("{base}/api/v1/files/{id}"))
            .bearer_auth(&token)
            .send()
            .await?;
        ensure!(
            res.status().is_success(),
            "download answered {}",
            res.status()
        );
        let got = res.bytes().await?;
        down.push(ten as f64 / MIB as f64 / t.elapsed().as_secs_f64());
        ensure!(
            got.len() == ten && got[..] == bytes[..],
            "the download differs"
        );
        last = Some(bytes);
    }
    // The floor of a download: read the stored bytes back from the file system.
    let stored = dir.path().join("floor-read");
    std::fs::write(&stored, last.as_deref().unwrap_or_default())?;
    for _ in 0..args.runs {
        let t = Instant::now();
        let b = std::fs::read(&stored)?;
        floor_down.push(b.len() as f64 / MIB as f64 / t.elapsed().as_secs_f64());
    }
    println!(
        "10 MiB upload, local store: {:.0} MiB/s median (spread {}) over {} runs; floor (hash + write a file in-process) {:.0} MiB/s (spread {})",
        bench::median(&up),
        bench::spread(&up, 0),
        args.runs,
        bench::median(&floor_up),
        bench::spread(&floor_up, 0)
    );
    println!(
        "10 MiB download, local store: {:.0} MiB/s median (spread {}); floor (read the file in-process) {:.0} MiB/s (spread {})",
        bench::median(&down),
        bench::spread(&down, 0),
        bench::median(&floor_down),
        bench::spread(&floor_down, 0)
    );

    // Memory: 8 uploads of 20 MiB at once, sampled every 5 ms.
    let before = bench::rss_mib(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut peak = 0f64;
            while !stop.load(Ordering::Relaxed) {
                peak = peak.max(bench::rss_mib(pid));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            peak
        })
    };
    let size = 20 * MIB - 4096;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..8u64 {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let bytes = document(size, 1000 + i);
        tasks.push(tokio::spawn(async move {
            upload(&client, &base, &token, bytes).await
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.await?;
    println!(
        "8 concurrent 20 MiB uploads: {elapsed:.2} s ({:.0} MiB/s in all); api RSS {before:.1} MiB before, peak {peak:.1} MiB (+{:.1} MiB; the files total {} MiB)",
        8.0 * size as f64 / MIB as f64 / elapsed,
        peak - before,
        8 * size / MIB
    );
    api.kill().await.ok();
    Ok(())
}
