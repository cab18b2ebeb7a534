//! Issue 10's password-hash bound, measured as memory: this test runs in its own process (its
//! own test binary), so the resident set it reads is this app's alone and not that of the tests
//! running beside it in the `api` binary.

use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use tests::{ADMIN_PASSWORD, spawn_app_with};

fn username() -> String {
    format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_login_flood_keeps_memory_bounded_and_a_real_login_answers() {
    // The production cost: 19 MiB and 2 passes per hash.
    let defaults = api::config::Settings::defaults().expect("defaults");
    let app = spawn_app_with(|s| {
        s.argon2_m_cost_kib = defaults.argon2_m_cost_kib;
        s.argon2_t_cost = defaults.argon2_t_cost;
    })
    .await;
    let before = rss_kib();
    let flood = (0..64).map(|_| {
        let app = &app;
        async move {
            app.send(
                Method::POST,
                "/auth/login",
                None,
                Some(&json!({"username": username(), "password": "guess-password-1"})),
                &[],
            )
            .await
            .status
            .as_u16()
        }
    });
    let real = async {
        let started = Instant::now();
        let a = app.login_answer("admin", ADMIN_PASSWORD).await;
        (a, started.elapsed())
    };
    let (statuses, (during, took)) = tokio::join!(futures::future::join_all(flood), real);
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    // Without a bound 64 hashes of 19 MiB each run at once (over 1.2 GiB).
    assert!(grown_mib < 400, "RSS grew by {grown_mib} MiB");
    for s in &statuses {
        assert!([401, 503].contains(s), "{statuses:?}");
    }
    assert!(statuses.contains(&503), "no login was shed: {statuses:?}");
    // The real login during the flood answers within 2 s: in, or told to retry.
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(
        [200, 503].contains(&during.status.as_u16()),
        "{}",
        during.text
    );
    if during.status == 503 {
        assert!(during.headers.contains_key("retry-after"));
    }
    // Right after it, it gets in at once.
    let started = Instant::now();
    app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    assert!(started.elapsed() < Duration::from_secs(2));
}
