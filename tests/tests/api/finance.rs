//! Supply-chain finance over HTTP: credit programs, financing requests on the engine (routing,
//! clocks, every action, four-eyes approval, referral), the quota invariants under
//! concurrency, and who sees what.

use entity::clock::Clock;
use jobs::{mail::dispatch, sla_monitor};
use serde_json::{Value, json};
use tests::{
    fixtures::{City, CityBuilder},
    shanghai as sh,
};

const BANK_MAIL: &str = "lead-bank@example.cn";
const OFFICE_MAIL: &str = "office@example.cn";

/// A chain with two member enterprises, a lead bank (with a mail address) and a partner bank,
/// and a service centre.
async fn city() -> City {
    CityBuilder::new()
        .long_lived_tokens()
        .centre("市企业服务中心")
        .enterprise("南通某电子公司")
        .enterprise("南通某材料公司")
        .chain("EI", "电子信息产业链", "电子信息链长办", true)
        .contact(OFFICE_MAIL)
        .user_email(OFFICE_MAIL)
        .bank("南通主办银行", "lead")
        .user_email(BANK_MAIL)
        .bank("南通合作银行", "partner")
        .build()
        .await
}

fn chain(c: &City) -> String {
    c.chain.as_ref().expect("chain").id.clone()
}

/// A program of the lead bank: quota 10,000,000, 6,000,000 per enterprise, 3.2–4.35 %, 36
/// months, valid through 2026.
async fn program(c: &City, quota: &str, per_enterprise: &str) -> Value {
    c.app
        .post(
            "/credit-programs",
            &c.banks[0].token,
            json!({"chain_id": chain(c), "name": "电子信息链专项授信", "quota": quota,
                   "max_per_enterprise": per_enterprise, "rate_floor": "3.2", "rate_ceiling": "4.35",
                   "max_term_months": 36, "valid_from": "2026-01-01", "valid_until": "2026-12-31"}),
        )
        .await
        .expect(201)
        .body
}

async fn submit(c: &City, enterprise: usize, program: Option<&str>, amount: &str) -> Value {
    c.app
        .post(
            "/financing-requests",
            &c.enterprises[enterprise].token,
            json!({"chain_id": chain(c), "program_id": program, "amount": amount, "term_months": 12,
                   "purpose": "采购芯片原材料", "product": "order"}),
        )
        .await
        .expect(201)
        .body
}

async fn act(c: &City, token: &str, id: &str, action: &str, body: Value) -> tests::Answer {
    c.app
        .post(&format!("/financing-requests/{id}/{action}"), token, body)
        .await
}

fn terms(limit: &str) -> Value {
    json!({"limit": limit, "rate": "3.85", "term_months": 12, "revolving": true, "expires_on": "2027-03-01"})
}

fn clock<'a>(r: &'a Value, kind: &str, round: i64) -> &'a Value {
    r["clocks"]
        .as_array()
        .expect("clocks")
        .iter()
        .find(|c| c["kind"] == kind && c["round"] == round)
        .unwrap_or_else(|| panic!("no {kind} clock of round {round} in {r}"))
}

#[tokio::test]
async fn the_full_life_of_a_request_with_four_eyes_approval() {
    let c = city().await;
    let app = &c.app;
    let lead = &c.banks[0];
    let p = program(&c, "10000000.00", "6000000.00").await;
    assert_eq!(p["granted"], "0.00");
    assert_eq!(p["remaining"], "10000000.00");
    assert_eq!(p["rate_ceiling"], "4.35");
    // Above 2,000,000 an approval takes two users of the bank.
    app.put(
        &format!("/banks/{}/settings", lead.id),
        &lead.token,
        json!({"four_eyes_threshold": "2000000.00", "accept_working_days": 1, "decide_working_days": 5,
               "unused_line_expiry_days": 90}),
    )
    .await
    .expect(200);

    let r = submit(&c, 0, Some(p["id"].as_str().unwrap()), "3000000.00").await;
    let id = r["id"].as_str().unwrap();
    assert_eq!(r["status"], "submitted");
    assert_eq!(r["bank_id"], lead.id.as_str());
    assert_eq!(r["amount"], "3000000.00");
    assert!(r["number"].as_str().unwrap().starts_with("RZ20260302-"));
    // Mon 09:00: accept within 1 working day, decide within 5.
    assert_eq!(clock(&r, "accept", 0)["due_at"], "2026-03-02T09:00:00Z");
    assert_eq!(clock(&r, "decide", 0)["due_at"], "2026-03-06T09:00:00Z");

    // Who sees it: the enterprise, its bank, the chain office, the centre; not the partner
    // bank nor the other enterprise.
    for token in [
        &c.enterprises[0].token,
        &lead.token,
        &c.chain.as_ref().unwrap().office.token,
        &c.centre.as_ref().unwrap().token,
    ] {
        app.get(&format!("/financing-requests/{id}"), token)
            .await
            .expect(200);
    }
    for token in [&c.banks[1].token, &c.enterprises[1].token] {
        app.get(&format!("/financing-requests/{id}"), token)
            .await
            .expect_problem(404);
    }
    let listed = app
        .get("/financing-requests", &c.banks[1].token)
        .await
        .expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 0);

    // The enterprise cannot accept; the bank can, once.
    act(&c, &c.enterprises[0].token, id, "accept", json!({}))
        .await
        .expect_problem(403);
    let r = act(&c, &lead.token, id, "accept", json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(r["status"], "accepted");
    assert!(clock(&r, "accept", 0)["met_at"].is_string());
    act(&c, &lead.token, id, "accept", json!({}))
        .await
        .expect_problem(409);

    // request_info pauses; supplement three working hours later resumes: the decide clock
    // moves from Fri 17:00 to Mon 12:00.
    let r = act(
        &c,
        &lead.token,
        id,
        "request_info",
        json!({"message": "请补充近三个月的订单合同"}),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(r["status"], "awaiting_enterprise");
    assert_eq!(clock(&r, "decide", 0)["paused"], true);
    app.advance(chrono::TimeDelta::hours(3));
    let r = act(
        &c,
        &c.enterprises[0].token,
        id,
        "supplement",
        json!({"message": "已上传"}),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(r["status"], "accepted");
    assert_eq!(clock(&r, "decide", 0)["due_at"], "2026-03-09T04:00:00Z");

    // Terms outside the program: rate band, term; money as a JSON number.
    let bad = act(&c, &lead.token, id, "approve", json!({"limit": "3000000.00", "rate": "5.00", "term_months": 12, "revolving": true, "expires_on": "2027-03-01"})).await.expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "rate");
    let bad = act(&c, &lead.token, id, "approve", json!({"limit": "3000000.00", "rate": "3.85", "term_months": 48, "revolving": true, "expires_on": "2027-03-01"})).await.expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "term_months");
    let bad = act(&c, &lead.token, id, "approve", json!({"limit": 3000000, "rate": "3.85", "term_months": 12, "revolving": true, "expires_on": "2027-03-01"})).await.expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "limit");

    // Four eyes: the first approval is a proposal.
    let r = act(&c, &lead.token, id, "approve", terms("3000000.00"))
        .await
        .expect(200)
        .body;
    assert_eq!(r["status"], "pending_confirmation");
    assert_eq!(r["proposal"]["terms"]["limit"], "3000000.00");
    assert_eq!(r["proposal"]["terms"]["rate"], "3.85");
    assert!(r["proposal"]["proposed_by"].is_string());
    assert!(r["credit_line_id"].is_null());
    // The proposer may not confirm; another user with other terms is a mismatch.
    act(&c, &lead.token, id, "approve", terms("3000000.00"))
        .await
        .expect_problem(403);
    let second = app.user_token(&c.admin, "bank", Some(&lead.id)).await;
    let m = act(&c, &second, id, "approve", terms("2900000.00"))
        .await
        .expect_problem(409);
    assert_eq!(m.body["code"], "proposal_mismatch");
    let r = act(&c, &second, id, "approve", terms("3000000.00"))
        .await
        .expect(200)
        .body;
    assert_eq!(r["status"], "approved");
    assert!(r["proposal"].is_null());
    assert!(r["decided_at"].is_string());
    let line = r["credit_line_id"].as_str().expect("a line").to_string();
    assert!(clock(&r, "decide", 0)["met_at"].is_string());

    // The program and the chain show the grant.
    let p = app
        .get(
            &format!("/credit-programs/{}", p["id"].as_str().unwrap()),
            &lead.token,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(p["granted"], "3000000.00");
    assert_eq!(p["remaining"], "7000000.00");
    let ch = app
        .get(&format!("/chains/{}", chain(&c)), &c.admin)
        .await
        .expect(200)
        .body;
    assert_eq!(ch["credit"]["quota"], "10000000.00");
    assert_eq!(ch["credit"]["granted"], "3000000.00");
    assert_eq!(ch["credit"]["outstanding"], "0.00");

    // Nothing more happens to a decided request.
    act(&c, &c.enterprises[0].token, id, "withdraw", json!({}))
        .await
        .expect_problem(409);

    // The enterprise's timeline has no proposal step; the bank's has every step.
    let mine = app
        .get(
            &format!("/financing-requests/{id}/events"),
            &c.enterprises[0].token,
        )
        .await
        .expect(200)
        .body;
    let actions: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["submit", "accept", "request_info", "supplement", "approve"]
    );
    let theirs = app
        .get(&format!("/financing-requests/{id}/events"), &lead.token)
        .await
        .expect(200)
        .body;
    assert_eq!(theirs.as_array().unwrap().len(), 6);
    let _ = line;

    // Notifications: the bank heard of the new request and the proposal, the enterprise of
    // each step.
    let kinds = |token: &str| {
        let app = app.http();
        let token = token.to_string();
        async move {
            let n = app.get("/notifications", &token).await.expect(200).body;
            n["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["kind"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let bank_kinds = kinds(&lead.token).await;
    assert!(
        bank_kinds.contains(&"financing_received".to_string()),
        "{bank_kinds:?}"
    );
    assert!(
        bank_kinds.contains(&"financing_proposed".to_string()),
        "{bank_kinds:?}"
    );
    assert!(
        bank_kinds.contains(&"financing_supplemented".to_string()),
        "{bank_kinds:?}"
    );
    let ent_kinds = kinds(&c.enterprises[0].token).await;
    for k in [
        "financing_accepted",
        "financing_info_requested",
        "financing_approved",
    ] {
        assert!(ent_kinds.contains(&k.to_string()), "{k} in {ent_kinds:?}");
    }
    assert!(kinds(&c.enterprises[1].token).await.is_empty());
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_and_routing_rules_hold() {
    let c = city().await;
    let app = &c.app;
    let ent = &c.enterprises[0].token;
    for (amount, why) in [
        (json!(1500.5), "a JSON number"),
        (json!("1.234"), "three places"),
        (json!(""), "empty"),
        (json!("-5.00"), "negative"),
        (json!("abc"), "not a number"),
        (json!("0.00"), "zero"),
    ] {
        let a = app
            .post("/financing-requests", ent, json!({"chain_id": chain(&c), "amount": amount, "term_months": 12, "purpose": "流动资金", "product": "working_capital"}))
            .await
            .expect_problem(422);
        assert_eq!(a.body["errors"][0]["field"], "amount", "{why}: {}", a.text);
    }
    // Programs: only a bank of the chain; quota strings; a bad band.
    let outsider = app.org_with_user(&c.admin, "bank", "外地银行").await.1;
    app.post("/credit-programs", &outsider, json!({"chain_id": chain(&c), "name": "x", "quota": "1.00", "max_per_enterprise": "1.00", "rate_floor": "3", "rate_ceiling": "4", "max_term_months": 12, "valid_from": "2026-01-01", "valid_until": "2026-12-31"})).await.expect_problem(403);
    app.post("/credit-programs", ent, json!({"chain_id": chain(&c), "name": "x", "quota": "1.00", "max_per_enterprise": "1.00", "rate_floor": "3", "rate_ceiling": "4", "max_term_months": 12, "valid_from": "2026-01-01", "valid_until": "2026-12-31"})).await.expect_problem(403);
    let bad = app.post("/credit-programs", &c.banks[0].token, json!({"chain_id": chain(&c), "name": "x", "quota": "100.00", "max_per_enterprise": "200.00", "rate_floor": "4", "rate_ceiling": "3", "max_term_months": 12, "valid_from": "2026-01-01", "valid_until": "2026-12-31"})).await.expect_problem(422);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"max_per_enterprise") && fields.contains(&"rate_ceiling"),
        "{fields:?}"
    );
    // A program outside its validity accepts no requests.
    let future = app.post("/credit-programs", &c.banks[1].token, json!({"chain_id": chain(&c), "name": "明年的专项", "quota": "100.00", "max_per_enterprise": "100.00", "rate_floor": "3", "rate_ceiling": "4", "max_term_months": 12, "valid_from": "2027-01-01", "valid_until": "2027-12-31"})).await.expect(201).body;
    let refused = app.post("/financing-requests", ent, json!({"chain_id": chain(&c), "program_id": future["id"], "amount": "50.00", "term_months": 12, "purpose": "x", "product": "other"})).await.expect_problem(409);
    assert_eq!(refused.body["code"], "program_not_valid");
    // A request under the partner's program goes to the partner.
    let partner_program = app.post("/credit-programs", &c.banks[1].token, json!({"chain_id": chain(&c), "name": "合作行专项", "quota": "100.00", "max_per_enterprise": "100.00", "rate_floor": "3", "rate_ceiling": "4", "max_term_months": 12, "valid_from": "2026-01-01", "valid_until": "2026-12-31"})).await.expect(201).body;
    let r = submit(&c, 0, partner_program["id"].as_str(), "50.00").await;
    assert_eq!(r["bank_id"], c.banks[1].id.as_str());
    // Not a member: 422 on chain_id; a chain without a lead bank: 409.
    let loner = app
        .org_with_user(&c.admin, "enterprise", "非成员企业")
        .await;
    app.post(
        &format!("/organizations/{}/verify", loner.0),
        &c.admin,
        json!({}),
    )
    .await;
    let a = app.post("/financing-requests", &loner.1, json!({"chain_id": chain(&c), "amount": "50.00", "term_months": 12, "purpose": "x", "product": "other"})).await.expect_problem(422);
    assert_eq!(a.body["errors"][0]["field"], "chain_id");
    let office = app
        .create_org(&c.admin, "chain_office", "新材料链长办")
        .await;
    let bare = app
        .post(
            "/chains",
            &c.admin,
            json!({"code": "NM", "name": "新材料产业链", "office_organization_id": office}),
        )
        .await
        .expect(201)
        .id();
    app.put(
        &format!("/chains/{bare}/members/{}", c.enterprises[0].id),
        &c.admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    let a = app.post("/financing-requests", ent, json!({"chain_id": bare, "amount": "50.00", "term_months": 12, "purpose": "x", "product": "other"})).await.expect_problem(409);
    assert_eq!(a.body["code"], "no_lead_bank");
    // Bank settings: another bank's are 403, bad values 422.
    app.get(
        &format!("/banks/{}/settings", c.banks[0].id),
        &c.banks[1].token,
    )
    .await
    .expect_problem(403);
    let s = app
        .get(
            &format!("/banks/{}/settings", c.banks[0].id),
            &c.banks[0].token,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(s["four_eyes_threshold"], Value::Null);
    assert_eq!(s["decide_working_days"], "5");
    assert_eq!(s["unused_line_expiry_days"], 90);
    let bad = app.put(&format!("/banks/{}/settings", c.banks[0].id), &c.banks[0].token, json!({"four_eyes_threshold": 100, "accept_working_days": 0, "decide_working_days": 5, "unused_line_expiry_days": 0})).await.expect_problem(422);
    assert_eq!(
        bad.body["errors"].as_array().unwrap().len(),
        3,
        "{}",
        bad.text
    );
}

#[tokio::test]
async fn quotas_hold_per_program_and_per_enterprise_and_come_back_on_withdrawal_paths() {
    let c = city().await;
    let lead = &c.banks[0].token;
    let p = program(&c, "1000000.00", "600000.00").await;
    let pid = p["id"].as_str().unwrap();
    let approve = |id: String, limit: &'static str| {
        let app = c.app.http();
        let lead = lead.clone();
        async move {
            app.post(
                &format!("/financing-requests/{id}/accept"),
                &lead,
                json!({}),
            )
            .await;
            app.post(
                &format!("/financing-requests/{id}/approve"),
                &lead,
                terms(limit),
            )
            .await
        }
    };
    let a = submit(&c, 0, Some(pid), "600000.00").await;
    approve(a["id"].as_str().unwrap().into(), "600000.00")
        .await
        .expect(200);
    // The same enterprise again: past its maximum.
    let b = submit(&c, 0, Some(pid), "100.00").await;
    let refused = approve(b["id"].as_str().unwrap().into(), "100.00")
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "enterprise_limit_exceeded");
    // Another enterprise: past the remaining quota.
    let d = submit(&c, 1, Some(pid), "500000.00").await;
    let refused = approve(d["id"].as_str().unwrap().into(), "500000.00")
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "quota_exceeded");
    // Nothing was booked by the refusals.
    let p = c
        .app
        .get(&format!("/credit-programs/{pid}"), lead)
        .await
        .expect(200)
        .body;
    assert_eq!(p["granted"], "600000.00");
    approve(d["id"].as_str().unwrap().into(), "400000.00")
        .await
        .expect(200);
    let p = c
        .app
        .get(&format!("/credit-programs/{pid}"), lead)
        .await
        .expect(200)
        .body;
    assert_eq!(p["remaining"], "0.00");
    // A rejection with a reason; reject needs one.
    act(
        &c,
        lead,
        b["id"].as_str().unwrap(),
        "reject",
        json!({"reason": ""}),
    )
    .await
    .expect_problem(422);
    let r = act(
        &c,
        lead,
        b["id"].as_str().unwrap(),
        "reject",
        json!({"reason": "额度已满"}),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["reject_reason"], "额度已满");
}

#[tokio::test]
async fn the_lead_bank_refers_a_request_and_the_accept_clock_starts_again() {
    let c = city().await;
    let app = &c.app;
    let (lead, partner) = (&c.banks[0], &c.banks[1]);
    let r = submit(&c, 0, None, "800000.00").await;
    let id = r["id"].as_str().unwrap();
    assert_eq!(r["bank_id"], lead.id.as_str());
    // Two hours later the lead bank refers it.
    app.advance(chrono::TimeDelta::hours(2));
    let bad = act(
        &c,
        &lead.token,
        id,
        "refer",
        json!({"bank_id": lead.id, "reason": "x"}),
    )
    .await
    .expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "bank_id");
    act(
        &c,
        &partner.token,
        id,
        "refer",
        json!({"bank_id": partner.id, "reason": "x"}),
    )
    .await
    .expect_problem(404);
    let r = act(
        &c,
        &lead.token,
        id,
        "refer",
        json!({"bank_id": partner.id, "reason": "合作行更熟悉该企业"}),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(r["status"], "submitted");
    assert_eq!(r["bank_id"], partner.id.as_str());
    assert_eq!(r["refer_count"], 1);
    assert_eq!(clock(&r, "accept", 0)["cancelled"], true);
    // Referred Mon 11:00: a new day to accept from now.
    assert_eq!(clock(&r, "accept", 1)["due_at"], "2026-03-03T03:00:00Z");
    // The partner now holds it; the lead bank no longer sees it.
    app.get(&format!("/financing-requests/{id}"), &lead.token)
        .await
        .expect_problem(404);
    let events = app
        .get(&format!("/financing-requests/{id}/events"), &partner.token)
        .await
        .expect(200)
        .body;
    let refer = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "refer")
        .expect("refer event");
    assert_eq!(refer["bank_id"], lead.id.as_str());
    assert_eq!(refer["to_bank_id"], partner.id.as_str());
    act(&c, &partner.token, id, "accept", json!({}))
        .await
        .expect(200);
    // A request under a program is not referred.
    let p = program(&c, "1000.00", "1000.00").await;
    let q = submit(&c, 1, p["id"].as_str(), "10.00").await;
    let no = act(
        &c,
        &lead.token,
        q["id"].as_str().unwrap(),
        "refer",
        json!({"bank_id": partner.id, "reason": "x"}),
    )
    .await
    .expect_problem(409);
    assert_eq!(no.body["code"], "has_program");
    // The enterprise withdraws: its clocks are cancelled.
    let w = act(
        &c,
        &c.enterprises[1].token,
        q["id"].as_str().unwrap(),
        "withdraw",
        json!({}),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(w["status"], "withdrawn");
    assert_eq!(clock(&w, "decide", 0)["cancelled"], true);
}

#[tokio::test]
async fn deadlines_cross_the_national_day_holiday_and_a_breach_escalates_to_the_chain_office() {
    let c = city().await;
    let app = &c.app;
    // Wed 2026-09-30 15:00: accept by Thu 10-08 15:00 (10-01..07 are holidays), decide by Tue
    // 10-13 15:00 (Sat 10-10 is a make-up workday).
    app.clock.set(sh(2026, 9, 30, 15, 0));
    let r = submit(&c, 0, None, "800000.00").await;
    let id = r["id"].as_str().unwrap();
    assert_eq!(clock(&r, "accept", 0)["due_at"], "2026-10-08T07:00:00Z");
    assert_eq!(clock(&r, "decide", 0)["due_at"], "2026-10-13T07:00:00Z");
    let cal = app
        .jobs
        .context()
        .calendar
        .current(&app.db)
        .await
        .expect("calendar");
    // Unanswered: breached on 10-08 after 15:00, escalated one working day later.
    app.clock.set(sh(2026, 10, 8, 15, 5));
    sla_monitor::run_pass(&app.db, &cal, app.clock.now())
        .await
        .expect("pass");
    let r = app
        .get(&format!("/financing-requests/{id}"), &c.banks[0].token)
        .await
        .expect(200)
        .body;
    assert!(clock(&r, "accept", 0)["breached_at"].is_string());
    assert!(clock(&r, "accept", 0)["escalated_at"].is_null());
    app.clock.set(sh(2026, 10, 9, 15, 5));
    sla_monitor::run_pass(&app.db, &cal, app.clock.now())
        .await
        .expect("pass");
    let r = app
        .get(&format!("/financing-requests/{id}"), &c.banks[0].token)
        .await
        .expect(200)
        .body;
    assert!(clock(&r, "accept", 0)["escalated_at"].is_string());
    dispatch::run_once(app.jobs.context(), app.clock.now())
        .await
        .expect("dispatch");
    let sent = app.mail.messages();
    let to = |addr: &str, word: &str| {
        sent.iter()
            .any(|m| m.rcpt_to.iter().any(|t| t == addr) && m.subject().contains(word))
    };
    assert!(
        to(BANK_MAIL, "融资需求"),
        "{:?}",
        sent.iter()
            .map(|m| (m.rcpt_to.clone(), m.subject()))
            .collect::<Vec<_>>()
    );
    assert!(
        sent.iter()
            .any(|m| m.rcpt_to.iter().any(|t| t == OFFICE_MAIL) && m.subject().contains("升级")),
        "{:?}",
        sent.iter()
            .map(|m| (m.rcpt_to.clone(), m.subject()))
            .collect::<Vec<_>>()
    );
    // The breach mail names the subject's type.
    assert!(
        sent.iter()
            .any(|m| m.rcpt_to.iter().any(|t| t == BANK_MAIL) && m.data.contains("融资需求"))
    );
    // The chain office sees the request and its timeline with the monitor's lines.
    let office = &c.chain.as_ref().unwrap().office.token;
    let events = app
        .get(&format!("/financing-requests/{id}/events"), office)
        .await
        .expect(200)
        .body;
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"breach") && actions.contains(&"escalation"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn concurrent_approvals_never_exceed_the_quota_and_a_proposal_is_confirmed_once() {
    let c = city().await;
    let lead = c.banks[0].clone();
    let p = program(&c, "1000000.00", "1000000.00").await;
    let pid = p["id"].as_str().unwrap().to_string();
    // 20 requests of 100,000 from two enterprises, all accepted; then 20 approvals at once
    // against a quota of 1,000,000.
    let mut ids = Vec::new();
    for i in 0..20 {
        let r = submit(&c, i % 2, Some(&pid), "100000.00").await;
        let id = r["id"].as_str().unwrap().to_string();
        act(&c, &lead.token, &id, "accept", json!({}))
            .await
            .expect(200);
        ids.push(id);
    }
    // Each enterprise may hold at most 600,000 here.
    let _ = ids.len();
    let tasks = ids.iter().map(|id| {
        let app = c.app.http();
        let (id, token) = (id.clone(), lead.token.clone());
        tokio::spawn(async move {
            app.post(
                &format!("/financing-requests/{id}/approve"),
                &token,
                terms("100000.00"),
            )
            .await
        })
    });
    let answers = futures::future::join_all(tasks).await;
    let mut ok = 0;
    for a in answers {
        let a = a.expect("task");
        match a.status.as_u16() {
            200 => ok += 1,
            409 => assert_eq!(a.body["code"], "quota_exceeded", "{}", a.text),
            s => panic!("unexpected {s}: {}", a.text),
        }
    }
    assert_eq!(ok, 10);
    let p = c
        .app
        .get(&format!("/credit-programs/{pid}"), &lead.token)
        .await
        .expect(200)
        .body;
    assert_eq!(p["granted"], "1000000.00");
    let lines = c
        .app
        .get(
            &format!("/financing-requests?program_id={pid}&status=approved&limit=200"),
            &lead.token,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(lines["items"].as_array().unwrap().len(), 10);

    // Two users confirm one proposal at the same moment: one line.
    c.app
        .put(&format!("/banks/{}/settings", lead.id), &lead.token, json!({"four_eyes_threshold": "10.00", "accept_working_days": 1, "decide_working_days": 5, "unused_line_expiry_days": 90}))
        .await
        .expect(200);
    let big = c.app.post("/credit-programs", &lead.token, json!({"chain_id": chain(&c), "name": "第二期", "quota": "1000.00", "max_per_enterprise": "1000.00", "rate_floor": "3.2", "rate_ceiling": "4.35", "max_term_months": 36, "valid_from": "2026-01-01", "valid_until": "2026-12-31"})).await.expect(201).body;
    let r = submit(&c, 0, big["id"].as_str(), "500.00").await;
    let id = r["id"].as_str().unwrap().to_string();
    act(&c, &lead.token, &id, "accept", json!({}))
        .await
        .expect(200);
    act(&c, &lead.token, &id, "approve", terms("500.00"))
        .await
        .expect(200);
    let u1 = c.app.user_token(&c.admin, "bank", Some(&lead.id)).await;
    let u2 = c.app.user_token(&c.admin, "bank", Some(&lead.id)).await;
    let confirm = |token: String| {
        let app = c.app.http();
        let id = id.clone();
        tokio::spawn(async move {
            app.post(
                &format!("/financing-requests/{id}/approve"),
                &token,
                terms("500.00"),
            )
            .await
        })
    };
    let (a, b) = tokio::join!(confirm(u1), confirm(u2));
    let mut statuses = [
        a.expect("task").status.as_u16(),
        b.expect("task").status.as_u16(),
    ];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let big = c
        .app
        .get(
            &format!("/credit-programs/{}", big["id"].as_str().unwrap()),
            &lead.token,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(big["granted"], "500.00");
}

#[tokio::test]
async fn a_submission_with_the_same_idempotency_key_is_booked_once() {
    let c = city().await;
    let body = json!({"chain_id": chain(&c), "amount": "100.00", "term_months": 6, "purpose": "周转", "product": "working_capital"});
    let send = |body: Value| {
        let app = c.app.http();
        let token = c.enterprises[0].token.clone();
        async move {
            app.post_with_key("/financing-requests", &token, body, "rz-1")
                .await
        }
    };
    let first = send(body.clone()).await.expect(201);
    let again = send(body.clone()).await.expect(201);
    assert_eq!(first.body["id"], again.body["id"]);
    let mut other = body.clone();
    other["amount"] = json!("200.00");
    send(other).await.expect_problem(422);
    let all = c
        .app
        .get("/financing-requests", &c.enterprises[0].token)
        .await
        .expect(200)
        .body;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_proposal_whose_proposer_was_deactivated_does_not_count() {
    let c = city().await;
    let lead = &c.banks[0];
    c.app
        .put(&format!("/banks/{}/settings", lead.id), &lead.token, json!({"four_eyes_threshold": "100.00", "accept_working_days": 1, "decide_working_days": 5, "unused_line_expiry_days": 90}))
        .await
        .expect(200);
    let r = submit(&c, 0, None, "5000.00").await;
    let id = r["id"].as_str().unwrap();
    act(&c, &lead.token, id, "accept", json!({}))
        .await
        .expect(200);
    let proposed = act(&c, &lead.token, id, "approve", terms("5000.00"))
        .await
        .expect(200)
        .body;
    let proposer = proposed["proposal"]["proposed_by"]
        .as_str()
        .unwrap()
        .to_string();
    c.app
        .post(
            &format!("/users/{proposer}/deactivate"),
            &c.admin,
            json!({}),
        )
        .await
        .expect(200);
    // The second user's approval is a fresh proposal, not a confirmation.
    let second = c.app.user_token(&c.admin, "bank", Some(&lead.id)).await;
    let again = act(&c, &second, id, "approve", terms("5000.00"))
        .await
        .expect(200)
        .body;
    assert_eq!(again["status"], "pending_confirmation");
    assert_ne!(again["proposal"]["proposed_by"].as_str().unwrap(), proposer);
    let third = c.app.user_token(&c.admin, "bank", Some(&lead.id)).await;
    let done = act(&c, &third, id, "approve", terms("5000.00"))
        .await
        .expect(200)
        .body;
    assert_eq!(done["status"], "approved");
}
