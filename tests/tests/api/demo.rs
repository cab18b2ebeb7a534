//! The demo city loader behind `cargo run -p api -- --demo`.

use serde_json::Value;
use std::collections::HashSet;
use tests::*;

#[tokio::test]
async fn demo_city_loads_once_and_every_role_can_log_in() {
    let app = spawn_app().await;

    let summary = api::demo::load_into(&app.state)
        .await
        .expect("demo loads")
        .expect("an empty database gets the demo");

    assert_eq!(summary.chains, 6);
    assert!(
        summary.organizations >= 80,
        "{} organizations",
        summary.organizations
    );
    assert!(summary.password.chars().count() >= 10);
    let roles: HashSet<&str> = summary.logins.iter().map(|(_, r)| r.as_str()).collect();
    for role in [
        "service_center",
        "department",
        "chain_office",
        "bank",
        "enterprise",
        "fund_office",
    ] {
        assert!(roles.contains(role), "no demo login for {role}");
    }

    let admin = app.admin().await;
    let chains = app.get("/chains?limit=200", &admin).await.expect(200);
    let chains = chains.body["items"].as_array().cloned().unwrap_or_default();
    let codes: HashSet<&str> = chains.iter().filter_map(|c| c["code"].as_str()).collect();
    let want = [
        "shipbuilding",
        "textile",
        "ict",
        "new-materials",
        "high-end-equipment",
        "new-energy",
    ];
    assert_eq!(codes, want.into_iter().collect());
    for c in &chains {
        let id = c["id"].as_str().unwrap_or_default();
        let one = app.get(&format!("/chains/{id}"), &admin).await.expect(200);
        let members = one.body["members"].as_array().cloned().unwrap_or_default();
        let banks = one.body["banks"].as_array().cloned().unwrap_or_default();
        let count = |list: &[Value], role: &str| list.iter().filter(|m| m["role"] == role).count();
        assert!(members.len() >= 10, "{id}: {} members", members.len());
        assert_eq!(count(&members, "chain_leader_enterprise"), 1, "{id}");
        assert!((2..=3).contains(&count(&members, "core")), "{id}");
        assert_eq!(count(&banks, "lead"), 1, "{id}");
        assert!((1..=2).contains(&count(&banks, "partner")), "{id}");
    }

    let enterprises = app
        .get("/organizations?kind=enterprise&limit=200", &admin)
        .await
        .expect(200);
    let enterprises = enterprises.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(enterprises.len(), 60);
    for e in &enterprises {
        let uscc = e["uscc"].as_str().unwrap_or_default();
        assert!(
            entity::uscc::Uscc::parse(uscc).is_ok(),
            "invalid USCC {uscc}"
        );
    }

    for (username, role) in &summary.logins {
        let token = app.login(username, &summary.password).await;
        let me = app.get("/me", &token).await.expect(200);
        assert_eq!(me.str("role"), *role);
        let visible = app.get("/chains", &token).await.expect(200);
        let first = visible.body["items"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(!first.is_empty(), "{username} sees no chain");
        app.get(&format!("/chains/{first}"), &token)
            .await
            .expect(200);
    }

    let again = api::demo::load_into(&app.state)
        .await
        .expect("second load runs");
    assert!(
        again.is_none(),
        "the demo loads only into an empty database"
    );
    let after = app
        .get("/organizations?kind=enterprise&limit=200", &admin)
        .await
        .expect(200);
    assert_eq!(after.body["items"].as_array().map(Vec::len), Some(60));
}
