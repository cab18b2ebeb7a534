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
        // The demo adds members as the admin: active at once, no invitation left open.
        assert!(members.iter().all(|m| m["status"] == "active"), "{id}");
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

#[tokio::test]
async fn demo_appeals_cover_every_stage_with_clocks_from_the_engine() {
    use entity::{appeal, enums::AppealStatus, sla_clock, supervision};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use std::collections::HashMap;

    let app = spawn_app().await;
    let summary = api::demo::load_into(&app.state)
        .await
        .expect("demo loads")
        .expect("an empty database gets the demo");
    assert!(
        (280..=300).contains(&summary.appeals),
        "{} appeals",
        summary.appeals
    );
    let all = appeal::Entity::find().all(&app.db).await.expect("appeals");
    let mut by_status: HashMap<AppealStatus, usize> = HashMap::new();
    for a in &all {
        *by_status.entry(a.status).or_default() += 1;
    }
    eprintln!("demo statuses: {by_status:?}");
    for s in [
        AppealStatus::Closed,
        AppealStatus::Resolved,
        AppealStatus::Withdrawn,
        AppealStatus::Replied,
    ] {
        assert!(
            by_status.get(&s).copied().unwrap_or(0) > 0,
            "no {s:?} appeal"
        );
    }
    assert!(all.iter().any(|a| a.reopen_count > 0), "none reopened");
    let clocks = sla_clock::Entity::find()
        .all(&app.db)
        .await
        .expect("clocks");
    let late = clocks
        .iter()
        .filter(|c| c.met_at.is_some_and(|m| m > c.due_at))
        .count();
    let on_time = clocks
        .iter()
        .filter(|c| c.met_at.is_some_and(|m| m <= c.due_at))
        .count();
    eprintln!("demo clocks: {} on time, {late} late", on_time);
    assert!(on_time > late && late > 0);
    let breached = clocks.iter().filter(|c| c.breached_at.is_some()).count();
    let escalated = clocks.iter().filter(|c| c.escalated_at.is_some()).count();
    assert!(breached > 0 && escalated > 0, "{breached} / {escalated}");
    let supervised = supervision::Entity::find()
        .filter(supervision::Column::Level.eq(2))
        .count(&app.db)
        .await
        .expect("supervisions");
    assert!(supervised > 0);
    // The replayed history queued no mail.
    let mails = entity::mail_outbox::Entity::find()
        .count(&app.db)
        .await
        .expect("outbox");
    assert_eq!(mails, 0);
    // The demo service-centre login sees them all.
    let center = app.login("demo-center", &summary.password).await;
    let page = app.get("/appeals?limit=200", &center).await.expect(200);
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(200));
}

#[tokio::test]
async fn demo_finance_has_programs_and_requests_in_every_status() {
    use entity::{enums::FinancingStatus, financing_request, sla_clock};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use std::collections::HashMap;

    let app = spawn_app().await;
    let summary = api::demo::load_into(&app.state)
        .await
        .expect("demo loads")
        .expect("an empty database gets the demo");
    assert!(
        summary.credit_programs >= 6,
        "{} programs",
        summary.credit_programs
    );
    assert!(
        (180..=200).contains(&summary.financing_requests),
        "{} requests",
        summary.financing_requests
    );
    let all = financing_request::Entity::find()
        .all(&app.db)
        .await
        .expect("requests");
    let mut by_status: HashMap<FinancingStatus, usize> = HashMap::new();
    for r in &all {
        *by_status.entry(r.status).or_default() += 1;
    }
    eprintln!("demo financing statuses: {by_status:?}");
    for s in FinancingStatus::all() {
        if *s == FinancingStatus::AwaitingEnterprise {
            // Every planned request_info is answered; the status passes.
            continue;
        }
        assert!(
            by_status.get(s).copied().unwrap_or(0) > 0,
            "no {s:?} request"
        );
    }
    assert!(all.iter().any(|r| r.refer_count > 0), "none referred");
    let late = sla_clock::Entity::find()
        .filter(sla_clock::Column::FinancingRequestId.is_not_null())
        .filter(sla_clock::Column::BreachedAt.is_not_null())
        .all(&app.db)
        .await
        .expect("clocks");
    assert!(!late.is_empty(), "no late financing request");
    assert!(
        summary.credit_movements > 100,
        "{} movements",
        summary.credit_movements
    );
    assert!(
        summary.bank_reports >= 6,
        "{} reports",
        summary.bank_reports
    );
    // The demo bank login sees its chains' requests; the credit shows on the chain.
    let bank = app.login("demo-bank", &summary.password).await;
    let page = app
        .get("/financing-requests?limit=200", &bank)
        .await
        .expect(200);
    assert!(!page.body["items"].as_array().unwrap().is_empty());
    let center = app.login("demo-center", &summary.password).await;
    let chains = app.get("/chains", &center).await.expect(200);
    let id = chains.body["items"][0]["id"].as_str().unwrap().to_string();
    let chain = app.get(&format!("/chains/{id}"), &center).await.expect(200);
    assert_ne!(chain.body["credit"]["granted"], "0.00", "{}", chain.text);
}

#[tokio::test]
async fn demo_funds_have_every_kind_every_status_a_notice_with_objections_and_claims() {
    use entity::{
        enums::{ClaimStatus, FundKind, FundStatus, ObjectionStatus},
        fund_application, fund_program, objection, risk_claim,
    };
    use sea_orm::EntityTrait;
    use std::collections::HashSet;

    let app = spawn_app().await;
    let summary = api::demo::load_into(&app.state)
        .await
        .expect("demo loads")
        .expect("an empty database gets the demo");
    let programs = fund_program::Entity::find().all(&app.db).await.unwrap();
    let kinds: HashSet<FundKind> = programs.iter().map(|p| p.kind).collect();
    assert_eq!(kinds.len(), FundKind::all().len(), "{kinds:?}");
    assert!(programs.iter().any(|p| p.apply_free), "no apply-free award");
    for p in &programs {
        assert!(p.committed_fen <= p.budget_fen && p.disbursed_fen <= p.committed_fen);
    }
    let apps = fund_application::Entity::find().all(&app.db).await.unwrap();
    let statuses: HashSet<FundStatus> = apps.iter().map(|a| a.status).collect();
    for s in FundStatus::all() {
        assert!(statuses.contains(s), "no {s:?} application: {statuses:?}");
    }
    assert!(apps.iter().any(|a| a.apply_free), "no award application");
    assert_eq!(summary.fund_applications, apps.len());
    let objections: HashSet<ObjectionStatus> = objection::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|o| o.status)
        .collect();
    assert!(
        objections.contains(&ObjectionStatus::Pending)
            && objections.contains(&ObjectionStatus::Upheld)
    );
    let claims: HashSet<ClaimStatus> = risk_claim::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|c| c.status)
        .collect();
    assert!(
        claims.contains(&ClaimStatus::Paid) && claims.contains(&ClaimStatus::Submitted),
        "{claims:?}"
    );
    // The public notice shows without signing in; the demo fund office sees every application.
    let notices = app
        .send(reqwest::Method::GET, "/public-notices", None, None, &[])
        .await
        .expect(200);
    assert!(!notices.body["items"].as_array().unwrap().is_empty());
    let fund = app.login("demo-fund", &summary.password).await;
    let page = app
        .get("/fund-applications?limit=200", &fund)
        .await
        .expect(200);
    assert_eq!(
        page.body["items"].as_array().map(Vec::len),
        Some(apps.len())
    );
    let ent = app.login("demo-enterprise", &summary.password).await;
    let eligible = app.get("/fund-programs/eligible", &ent).await.expect(200);
    assert!(!eligible.body["items"].as_array().unwrap().is_empty());
}
