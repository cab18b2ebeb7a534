//! Funds and subsidies over HTTP: fund programs and explained eligibility, applications through
//! every status (two reviews on the engine, the public notice across a holiday, objections,
//! disbursements and their reversal), the budget under concurrent approvals, conflicts of
//! interest, who sees what, the window-opening job (policy push with mail over SMTP, apply-free
//! awards), and risk-compensation claims on a defaulted credit line.

use crate::{
    credit_lines::{book, line},
    support::{anonymous, chain_with_office, registration},
};
use chrono::TimeDelta;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tests::{
    Answer,
    fixtures::{City, CityBuilder},
    shanghai as sh,
};

mod eligibility_answers;
mod risk_claims;

const CHAIN_NAME: &str = "电子信息产业链";

/// Two member enterprises and one outside the chain (each user with a known address), the
/// chain with its office, and the fund office.
async fn city() -> City {
    CityBuilder::new()
        .long_lived_tokens()
        .enterprise("南通某电子公司")
        .user_email("dianzi@example.cn")
        .enterprise("南通某材料公司")
        .user_email("cailiao@example.cn")
        .enterprise("南通链外企业")
        .user_email("lianwai@example.cn")
        .outside_chain()
        .chain("EI", CHAIN_NAME, "电子信息链长办", true)
        .user_email("office@example.cn")
        .fund_office("市产业基金办")
        .user_email("fund@example.cn")
        .build()
        .await
}

fn chain(c: &City) -> String {
    c.chain.as_ref().expect("a chain").id.clone()
}

fn office(c: &City) -> &str {
    &c.chain.as_ref().expect("a chain").office.token
}

fn fund(c: &City) -> &str {
    &c.fund_office.as_ref().expect("a fund office").token
}

fn ent(c: &City, i: usize) -> &str {
    &c.enterprises[i].token
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// A chain-special program of the chain: budget 1,000,000, at most 300,000 per application,
/// open through 2026, 5 notice and 5 review working days; `extra` replaces fields.
fn program_body(c: &City, extra: Value) -> Value {
    let mut b = json!({
        "name": "电子信息产业链专项资金", "kind": "chain_special",
        "budget": "1000000.00", "max_per_application": "300000.00",
        "opens_at": "2026-03-01T00:00:00+08:00", "closes_at": "2027-01-01T00:00:00+08:00",
        "eligibility": {"chain_ids": [chain(c)], "qualifications_any": [],
                        "qualifications_all": [], "member_roles": []},
        "notice_working_days": 5, "review_working_days": 5,
    });
    for (k, v) in extra.as_object().expect("an object") {
        b[k] = v.clone();
    }
    b
}

async fn program(c: &City, extra: Value) -> Value {
    c.app
        .post("/fund-programs", fund(c), program_body(c, extra))
        .await
        .expect(201)
        .body
}

/// The program as it is now.
async fn program_now(c: &City, p: &Value) -> Value {
    c.app
        .get(&format!("/fund-programs/{}", id(p)), fund(c))
        .await
        .expect(200)
        .body
}

async fn apply(c: &City, token: &str, p: &Value, amount: &str) -> Answer {
    c.app
        .post(
            "/fund-applications",
            token,
            json!({"program_id": p["id"], "amount": amount, "project_title": "智能产线改造",
                   "description": "新建两条智能产线，提升良率与产能。"}),
        )
        .await
}

async fn act(c: &City, token: &str, app_id: &str, action: &str, body: Value) -> Answer {
    c.app
        .post(
            &format!("/fund-applications/{app_id}/{action}"),
            token,
            body,
        )
        .await
}

/// The chain office passes the initial review.
async fn pass(c: &City, app_id: &str) -> Value {
    act(
        c,
        office(c),
        app_id,
        "initial_review",
        json!({"decision": "pass", "comment": "材料齐全"}),
    )
    .await
    .expect(200)
    .body
}

/// The fund office approves at the recommended (else requested) amount.
async fn approve(c: &City, app_id: &str) -> Answer {
    act(
        c,
        fund(c),
        app_id,
        "final_review",
        json!({"decision": "approve", "comment": "同意"}),
    )
    .await
}

async fn application(c: &City, token: &str, app_id: &str) -> Value {
    c.app
        .get(&format!("/fund-applications/{app_id}"), token)
        .await
        .expect(200)
        .body
}

fn actions(v: &Value) -> Vec<String> {
    v["timeline"]
        .as_array()
        .expect("a timeline")
        .iter()
        .map(|e| e["action"].as_str().expect("an action").to_string())
        .collect()
}

fn clock<'a>(v: &'a Value, kind: &str, round: i64) -> &'a Value {
    v["clocks"]
        .as_array()
        .expect("clocks")
        .iter()
        .find(|c| c["kind"] == kind && c["round"] == round)
        .unwrap_or_else(|| panic!("no {kind} clock of round {round} in {v}"))
}

/// The caller's notifications, newest first.
async fn notifications(c: &City, token: &str) -> Vec<Value> {
    c.app
        .get("/notifications?limit=200", token)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .expect("items")
        .clone()
}

/// How many notifications of `kind` the caller has.
async fn count(c: &City, token: &str, kind: &str) -> usize {
    notifications(c, token)
        .await
        .iter()
        .filter(|n| n["kind"] == kind)
        .count()
}

/// Runs job `name` now (admin) and returns how many items it handled.
async fn run_job(c: &City, name: &str) -> u64 {
    let run = c
        .app
        .post(&format!("/jobs/{name}/run"), &c.admin, json!({}))
        .await
        .expect(200);
    assert_eq!(run.body["status"], "succeeded", "{}", run.text);
    run.body["items"].as_u64().expect("items")
}

/// The fund office records qualification `kind` of `org` from 2025-01-01 until `until`.
async fn qualify(c: &City, org: &str, kind: &str, until: &str) {
    c.app
        .put(
            &format!("/organizations/{org}/qualifications/{kind}"),
            fund(c),
            json!({"valid_from": "2025-01-01", "valid_until": until,
                   "certificate_no": "ZJTX-2025-0101", "issued_by": "江苏省工业和信息化厅"}),
        )
        .await
        .expect(200);
}

/// A self-registered enterprise that is not verified: (organization id, token, user e-mail).
async fn unverified(c: &City) -> (String, String, String) {
    let body = registration();
    let res = anonymous(&c.app, Method::POST, "/enterprises/register", Some(&body))
        .await
        .expect(201);
    let org = res.body["organization"]["id"]
        .as_str()
        .expect("org id")
        .to_string();
    let token = c
        .app
        .login(
            body["username"].as_str().expect("username"),
            "register-password-1",
        )
        .await;
    (
        org,
        token,
        body["contact_email"].as_str().unwrap_or_default().into(),
    )
}

async fn disburse(c: &City, app_id: &str, amount: &str, paid_on: &str) -> Answer {
    c.app
        .post(
            &format!("/fund-applications/{app_id}/disbursements"),
            fund(c),
            json!({"amount": amount, "paid_on": paid_on, "reference": "GK-2026-001"}),
        )
        .await
}

#[tokio::test]
async fn an_application_goes_through_every_status_with_a_timeline_line_and_a_notice_each() {
    let c = city().await;
    let app = &c.app;
    let p = program(&c, json!({})).await;
    assert_eq!(p["kind"], "chain_special");
    assert_eq!(p["budget"], "1000000.00");
    assert_eq!(p["committed"], "0.00");
    assert_eq!(p["disbursed"], "0.00");
    assert_eq!(p["remaining"], "1000000.00");
    assert_eq!(p["recovered"], "0.00");
    assert_eq!(p["open"], true);

    // Mon 2026-03-02 09:00: submitted, the initial review due in 5 working days (Fri 17:00).
    let a = apply(&c, ent(&c, 0), &p, "250000.00")
        .await
        .expect(201)
        .body;
    let aid = id(&a);
    assert_eq!(a["status"], "submitted");
    assert!(
        a["number"].as_str().unwrap().starts_with("ZJ20260302-"),
        "{a}"
    );
    assert_eq!(a["program_id"], p["id"]);
    assert_eq!(a["enterprise_id"], c.enterprises[0].id.as_str());
    assert_eq!(a["chain_id"], chain(&c).as_str());
    assert_eq!(a["amount"], "250000.00");
    assert_eq!(a["project_title"], "智能产线改造");
    assert!(a["recommended_amount"].is_null() && a["approved_amount"].is_null());
    assert!(a["notice_ends_at"].is_null());
    assert_eq!(a["duplicate_funding_flag"], false);
    assert_eq!(a["attachments"], json!([]));
    assert_eq!(a["submitted_at"], "2026-03-02T01:00:00Z");
    assert_eq!(
        clock(&a, "initial_review", 0)["due_at"],
        "2026-03-06T09:00:00Z"
    );
    assert_eq!(count(&c, office(&c), "fund_application_received").await, 1);

    // Return needs a comment; the enterprise reads why.
    let bad = act(
        &c,
        office(&c),
        &aid,
        "initial_review",
        json!({"decision": "return", "comment": " "}),
    )
    .await
    .expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "comment");
    let r = act(
        &c,
        office(&c),
        &aid,
        "initial_review",
        json!({"decision": "return", "comment": "请补充近三年财务报表"}),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(r["status"], "returned");
    assert!(clock(&r, "initial_review", 0)["met_at"].is_string());
    // Only the enterprise resubmits, and only a returned application; no body is needed.
    act(&c, office(&c), &aid, "resubmit", json!({}))
        .await
        .expect_problem(403);
    let r = app
        .send(
            Method::POST,
            &format!("/fund-applications/{aid}/resubmit"),
            Some(ent(&c, 0)),
            None,
            &[],
        )
        .await
        .expect(200)
        .body;
    assert_eq!(r["status"], "submitted");
    assert_eq!(r["amount"], "250000.00");
    clock(&r, "initial_review", 1);
    let wrong = act(&c, ent(&c, 0), &aid, "resubmit", json!({}))
        .await
        .expect_problem(409);
    assert_eq!(wrong.body["code"], "invalid_transition");
    let wrong = approve(&c, &aid).await.expect_problem(409);
    assert_eq!(wrong.body["code"], "invalid_transition");

    // Pass with a recommended amount, at most the requested one.
    let bad = act(
        &c,
        office(&c),
        &aid,
        "initial_review",
        json!({"decision": "pass", "comment": "", "recommended_amount": "250000.01"}),
    )
    .await
    .expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "recommended_amount");
    let r = act(
        &c,
        office(&c),
        &aid,
        "initial_review",
        json!({"decision": "pass", "comment": "符合条件", "recommended_amount": "200000.00"}),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(r["status"], "initial_passed");
    assert_eq!(r["recommended_amount"], "200000.00");
    clock(&r, "final_review", 1);
    let wrong = act(
        &c,
        office(&c),
        &aid,
        "initial_review",
        json!({"decision": "pass", "comment": ""}),
    )
    .await
    .expect_problem(409);
    assert_eq!(wrong.body["code"], "invalid_transition");

    // Wed 10:00 the fund office approves: the recommended amount is reserved and the notice
    // runs 5 working days, to Wed 2026-03-11 10:00.
    app.clock.set(sh(2026, 3, 4, 10, 0));
    act(
        &c,
        office(&c),
        &aid,
        "final_review",
        json!({"decision": "approve", "comment": ""}),
    )
    .await
    .expect_problem(403);
    let r = approve(&c, &aid).await.expect(200).body;
    assert_eq!(r["status"], "in_notice");
    assert_eq!(r["approved_amount"], "200000.00");
    assert_eq!(r["notice_ends_at"], "2026-03-11T02:00:00Z");
    assert!(clock(&r, "final_review", 1)["met_at"].is_string());
    let pr = program_now(&c, &p).await;
    assert_eq!(pr["committed"], "200000.00");
    assert_eq!(pr["remaining"], "800000.00");

    // The public notice needs no token.
    let notices = anonymous(app, Method::GET, "/public-notices", None)
        .await
        .expect(200)
        .body;
    let items = notices["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{notices}");
    assert_eq!(items[0]["application_id"], aid.as_str());
    assert_eq!(items[0]["enterprise_name"], "南通某电子公司");
    assert_eq!(items[0]["program_name"], "电子信息产业链专项资金");
    assert_eq!(items[0]["amount"], "200000.00");
    assert_eq!(items[0]["notice_ends_at"], "2026-03-11T02:00:00Z");

    // Anyone signed in objects; the fund office dismisses it, once.
    let o = app
        .post(
            &format!("/fund-applications/{aid}/objections"),
            ent(&c, 1),
            json!({"content": "该项目已获其他专项资金支持"}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(o["status"], "pending");
    let decision = format!("/objections/{}/decision", id(&o));
    app.post(
        &decision,
        office(&c),
        json!({"upheld": false, "note": "经核实不属实"}),
    )
    .await
    .expect_problem(403);
    let d = app
        .post(
            &decision,
            fund(&c),
            json!({"upheld": false, "note": "经核实不属实"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(d["status"], "dismissed");
    assert_eq!(d["application_status"], "in_notice");
    let again = app
        .post(&decision, fund(&c), json!({"upheld": true, "note": "x"}))
        .await
        .expect_problem(409);
    assert_eq!(again.body["code"], "already_decided");

    // One minute before the end the job leaves it; at the end objections are refused and the
    // job approves it.
    app.clock.set(sh(2026, 3, 11, 9, 59));
    assert_eq!(run_job(&c, "fund_notices").await, 0);
    assert_eq!(application(&c, fund(&c), &aid).await["status"], "in_notice");
    app.clock.set(sh(2026, 3, 11, 10, 0));
    let late = app
        .post(
            &format!("/fund-applications/{aid}/objections"),
            ent(&c, 1),
            json!({"content": "迟到的异议"}),
        )
        .await
        .expect_problem(409);
    assert_eq!(late.body["code"], "notice_ended");
    assert_eq!(run_job(&c, "fund_notices").await, 1);
    assert_eq!(run_job(&c, "fund_notices").await, 0);
    let r = application(&c, fund(&c), &aid).await;
    assert_eq!(r["status"], "approved");
    assert_eq!(r["approved_at"], "2026-03-11T02:00:00Z");
    let gone = anonymous(app, Method::GET, "/public-notices", None)
        .await
        .expect(200)
        .body;
    assert_eq!(gone["items"], json!([]));
    // Out of notice the application is as visible as ever: 409 to who sees it, 404 to others.
    let late = app
        .post(
            &format!("/fund-applications/{aid}/objections"),
            office(&c),
            json!({"content": "公示后的异议"}),
        )
        .await
        .expect_problem(409);
    assert_eq!(late.body["code"], "not_in_notice");
    app.post(
        &format!("/fund-applications/{aid}/objections"),
        ent(&c, 1),
        json!({"content": "公示后的异议"}),
    )
    .await
    .expect_problem(404);

    // Disbursements: the fund office only, within the approved amount; reaching it → disbursed.
    app.post(
        &format!("/fund-applications/{aid}/disbursements"),
        office(&c),
        json!({"amount": "1.00", "paid_on": "2026-03-11", "reference": "x"}),
    )
    .await
    .expect_problem(403);
    let bad = disburse(&c, &aid, "1.00", "2026-03-12")
        .await
        .expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "paid_on");
    let first = disburse(&c, &aid, "150000.00", "2026-03-11")
        .await
        .expect(201)
        .body;
    assert_eq!(first["amount"], "150000.00");
    assert_eq!(first["kind"], "payment");
    let r = application(&c, fund(&c), &aid).await;
    assert_eq!(r["status"], "approved");
    assert_eq!(r["disbursed_amount"], "150000.00");
    let over = disburse(&c, &aid, "50000.01", "2026-03-11")
        .await
        .expect_problem(409);
    assert_eq!(over.body["code"], "exceeds_approved");
    disburse(&c, &aid, "50000.00", "2026-03-11")
        .await
        .expect(201);
    let r = application(&c, fund(&c), &aid).await;
    assert_eq!(r["status"], "disbursed");
    assert_eq!(r["disbursed_amount"], "200000.00");
    assert_eq!(r["disbursements"].as_array().unwrap().len(), 2);
    let pr = program_now(&c, &p).await;
    assert_eq!(pr["committed"], "200000.00");
    assert_eq!(pr["disbursed"], "200000.00");
    disburse(&c, &aid, "0.01", "2026-03-11")
        .await
        .expect_problem(409);
    let wrong = act(&c, ent(&c, 0), &aid, "withdraw", json!({}))
        .await
        .expect_problem(409);
    assert_eq!(wrong.body["code"], "invalid_transition");

    // A reversal voids one payment, once.
    let reverse = format!("/disbursements/{}/reverse", id(&first));
    app.post(&reverse, ent(&c, 0), json!({"reason": "账户有误"}))
        .await
        .expect_problem(403);
    let rev = app
        .post(&reverse, fund(&c), json!({"reason": "收款账户有误"}))
        .await
        .expect(200)
        .body;
    assert!(rev["reversed_by"].is_string(), "{rev}");
    let again = app
        .post(&reverse, fund(&c), json!({"reason": "收款账户有误"}))
        .await
        .expect_problem(409);
    assert_eq!(again.body["code"], "already_reversed");
    let r = application(&c, fund(&c), &aid).await;
    assert_eq!(r["status"], "approved");
    assert_eq!(r["disbursed_amount"], "50000.00");
    let pr = program_now(&c, &p).await;
    assert_eq!(pr["disbursed"], "50000.00");
    assert_eq!(pr["committed"], "200000.00");

    // One timeline line per change, in order, with the statuses.
    assert_eq!(
        actions(&r),
        [
            "submit",
            "initial_return",
            "resubmit",
            "initial_pass",
            "final_approve",
            "objection",
            "objection_dismissed",
            "notice_ended",
            "disburse",
            "disburse",
            "reverse_disbursement",
        ]
    );
    let to: Vec<&str> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        to,
        [
            "submitted",
            "returned",
            "submitted",
            "initial_passed",
            "in_notice",
            "in_notice",
            "in_notice",
            "approved",
            "approved",
            "disbursed",
            "approved",
        ]
    );
    let events = app
        .get(&format!("/fund-applications/{aid}/events"), fund(&c))
        .await
        .expect(200)
        .body;
    assert_eq!(events, r["timeline"]);
    let reviews = r["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 3, "{r}");

    // The enterprise heard of every review result, the approval and each payment.
    let mine = application(&c, ent(&c, 0), &aid).await;
    assert_eq!(actions(&mine).len(), 11);
    assert_eq!(count(&c, ent(&c, 0), "fund_review_result").await, 3);
    assert_eq!(count(&c, ent(&c, 0), "fund_approved").await, 1);
    assert_eq!(count(&c, ent(&c, 0), "fund_disbursed").await, 3);
    assert!(count(&c, fund(&c), "fund_application_received").await >= 1);
    assert_eq!(count(&c, fund(&c), "fund_objection").await, 1);
    assert_eq!(count(&c, office(&c), "fund_application_received").await, 2);
    // The objector hears of the decision on its objection, and of nothing else.
    let objector = notifications(&c, ent(&c, 1)).await;
    assert_eq!(objector.len(), 1, "{objector:?}");
    assert_eq!(objector[0]["kind"], "fund_objection");
}

#[tokio::test]
async fn the_enterprise_reads_that_an_objection_came_but_not_who_raised_it_or_what_it_says() {
    let c = city().await;
    let p = program(&c, json!({})).await;
    let aid = id(&apply(&c, ent(&c, 0), &p, "100000.00")
        .await
        .expect(201)
        .body);
    pass(&c, &aid).await;
    approve(&c, &aid).await.expect(200);
    c.app
        .post(
            &format!("/fund-applications/{aid}/objections"),
            ent(&c, 1),
            json!({"content": "举报：该企业存在虚报产值问题"}),
        )
        .await
        .expect(201);
    // The objector and the fund office read it whole.
    let theirs = application(&c, fund(&c), &aid).await;
    assert_eq!(
        theirs["objections"][0]["content"],
        "举报：该企业存在虚报产值问题"
    );
    assert!(theirs["objections"][0]["raised_by"].is_string());
    let mine = application(&c, ent(&c, 0), &aid).await;
    let o = &mine["objections"][0];
    assert_eq!(o["status"], "pending");
    assert!(o["raised_by"].is_null(), "{o}");
    let line = mine["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "objection")
        .expect("an objection line")
        .clone();
    assert!(
        line["note"].is_null() && line["actor_id"].is_null(),
        "{line}"
    );
    assert!(
        !mine.to_string().contains("虚报产值"),
        "the enterprise must not read the objection's content: {mine}"
    );
}

#[tokio::test]
async fn programs_take_only_the_fund_office_and_valid_amounts() {
    let c = city().await;
    let app = &c.app;
    let bank = app.org_with_user(&c.admin, "bank", "南通某银行").await.1;
    for token in [ent(&c, 0), office(&c), bank.as_str(), c.admin.as_str()] {
        app.post("/fund-programs", token, program_body(&c, json!({})))
            .await
            .expect_problem(403);
    }
    let fields = |a: &Answer| -> Vec<String> {
        a.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_string())
            .collect()
    };
    for (extra, field) in [
        (json!({"budget": 1000000}), "budget"),
        (json!({"budget": "1000000.001"}), "budget"),
        (
            json!({"max_per_application": "1000000.01"}),
            "max_per_application",
        ),
        (
            json!({"closes_at": "2026-03-01T00:00:00+08:00"}),
            "closes_at",
        ),
        (json!({"notice_working_days": 61}), "notice_working_days"),
        (json!({"notice_working_days": -1}), "notice_working_days"),
        (json!({"review_working_days": 0}), "review_working_days"),
        (
            json!({"apply_free": true, "fixed_amount": "100.00"}),
            "apply_free",
        ),
        (json!({"kind": "award", "apply_free": true}), "fixed_amount"),
        (json!({"fixed_amount": "100.00"}), "fixed_amount"),
        (json!({"coverage_percent": "80"}), "coverage_percent"),
        (
            json!({"kind": "risk_compensation", "coverage_percent": "80"}),
            "max_per_claim",
        ),
        (
            json!({"kind": "risk_compensation", "max_per_claim": "1000.00"}),
            "coverage_percent",
        ),
        (
            json!({"eligibility": {"chain_ids": [uuid::Uuid::now_v7()]}}),
            "eligibility.chain_ids",
        ),
    ] {
        let a = app
            .post("/fund-programs", fund(&c), program_body(&c, extra.clone()))
            .await
            .expect_problem(422);
        assert!(fields(&a).iter().any(|f| f == field), "{extra}: {}", a.text);
    }
    let award = program(
        &c,
        json!({"kind": "award", "apply_free": true, "fixed_amount": "200000.00"}),
    )
    .await;
    assert_eq!(award["apply_free"], true);
    assert_eq!(award["fixed_amount"], "200000.00");
    let risk = program(
        &c,
        json!({"kind": "risk_compensation", "coverage_percent": "80", "max_per_claim": "500000.00"}),
    )
    .await;
    assert_eq!(risk["coverage_percent"], "80");
    assert_eq!(risk["max_per_claim"], "500000.00");
    let list = app.get("/fund-programs", ent(&c, 0)).await.expect(200).body;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn applications_are_refused_with_403_409_and_422_where_the_rules_say() {
    let c = city().await;
    let app = &c.app;
    let p = program(&c, json!({})).await;

    // Not an enterprise; an unverified one.
    app.post(
        "/fund-applications",
        office(&c),
        json!({"program_id": p["id"], "amount": "1.00", "project_title": "x", "description": "x"}),
    )
    .await
    .expect_problem(403);
    let (org, token, _) = unverified(&c).await;
    app.put(
        &format!("/chains/{}/members/{org}", chain(&c)),
        &c.admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    apply(&c, &token, &p, "1000.00").await.expect_problem(403);

    // Bad amounts and programs.
    for (amount, why) in [
        (json!(1000), "a JSON number"),
        (json!("300000.01"), "over the maximum per application"),
        (json!("0.00"), "zero"),
        (json!("-1.00"), "negative"),
    ] {
        let a = app
            .post(
                "/fund-applications",
                ent(&c, 0),
                json!({"program_id": p["id"], "amount": amount, "project_title": "x", "description": "x"}),
            )
            .await
            .expect_problem(422);
        assert_eq!(a.body["errors"][0]["field"], "amount", "{why}: {}", a.text);
    }
    let risk = program(
        &c,
        json!({"kind": "risk_compensation", "coverage_percent": "80", "max_per_claim": "500000.00"}),
    )
    .await;
    let a = apply(&c, ent(&c, 0), &risk, "1000.00")
        .await
        .expect_problem(422);
    assert_eq!(a.body["errors"][0]["field"], "program_id");
    let a = apply(&c, ent(&c, 0), &json!({"id": uuid::Uuid::now_v7()}), "1.00")
        .await
        .expect_problem(422);
    assert_eq!(a.body["errors"][0]["field"], "program_id");

    // Not eligible: the reasons in the detail.
    let a = apply(&c, ent(&c, 2), &p, "1000.00")
        .await
        .expect_problem(409);
    assert_eq!(a.body["code"], "not_eligible");
    assert!(
        a.str("detail").contains("非电子信息产业链成员"),
        "{}",
        a.text
    );

    // One live application per program; a withdrawn one frees the place.
    let first = apply(&c, ent(&c, 0), &p, "1000.00").await.expect(201).body;
    let dup = apply(&c, ent(&c, 0), &p, "2000.00")
        .await
        .expect_problem(409);
    assert_eq!(dup.body["code"], "duplicate_application");
    act(&c, ent(&c, 1), &id(&first), "withdraw", json!({}))
        .await
        .expect_problem(404);
    act(&c, office(&c), &id(&first), "withdraw", json!({}))
        .await
        .expect_problem(403);
    let w = act(&c, ent(&c, 0), &id(&first), "withdraw", json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(w["status"], "withdrawn");
    assert!(w["withdrawn_at"].is_string());
    assert_eq!(clock(&w, "initial_review", 0)["cancelled"], true);
    let again = act(&c, ent(&c, 0), &id(&first), "withdraw", json!({}))
        .await
        .expect_problem(409);
    assert_eq!(again.body["code"], "invalid_transition");
    let second = apply(&c, ent(&c, 0), &p, "2000.00").await.expect(201).body;

    // Reviews: the chain's office first, never the fund office nor the enterprise; the final
    // amount at most the requested one.
    let sid = id(&second);
    act(
        &c,
        fund(&c),
        &sid,
        "initial_review",
        json!({"decision": "pass", "comment": ""}),
    )
    .await
    .expect_problem(403);
    act(
        &c,
        ent(&c, 0),
        &sid,
        "initial_review",
        json!({"decision": "pass", "comment": ""}),
    )
    .await
    .expect_problem(403);
    act(
        &c,
        office(&c),
        &sid,
        "initial_review",
        json!({"decision": "maybe", "comment": ""}),
    )
    .await
    .expect_problem(422);
    pass(&c, &sid).await;
    let bad = act(
        &c,
        fund(&c),
        &sid,
        "final_review",
        json!({"decision": "approve", "approved_amount": "2000.01", "comment": ""}),
    )
    .await
    .expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "approved_amount");
    let bad = act(
        &c,
        fund(&c),
        &sid,
        "final_review",
        json!({"decision": "reject", "comment": ""}),
    )
    .await
    .expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "comment");
    let r = act(
        &c,
        fund(&c),
        &sid,
        "final_review",
        json!({"decision": "reject", "comment": "项目与专项方向不符"}),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(r["status"], "rejected");
    assert_eq!(program_now(&c, &p).await["committed"], "0.00");
    let n = notifications(&c, ent(&c, 0)).await;
    assert!(
        n.iter().any(|n| n["kind"] == "fund_review_result"
            && n["body"].as_str().unwrap().contains("项目与专项方向不符")),
        "{n:?}"
    );
    // A rejected application is no longer live.
    apply(&c, ent(&c, 0), &p, "3000.00").await.expect(201);
}

#[tokio::test]
async fn an_application_without_a_chain_is_reviewed_first_by_the_fund_office() {
    let c = city().await;
    // No rules: every verified enterprise; the one outside any chain applies through none.
    let p = program(
        &c,
        json!({"kind": "guidance", "eligibility": {}, "notice_working_days": 0}),
    )
    .await;
    let a = apply(&c, ent(&c, 2), &p, "1000.00").await.expect(201).body;
    assert!(a["chain_id"].is_null());
    // No chain office sees it.
    c.app
        .get(&format!("/fund-applications/{}", id(&a)), office(&c))
        .await
        .expect_problem(404);
    let r = act(
        &c,
        fund(&c),
        &id(&a),
        "initial_review",
        json!({"decision": "pass", "comment": ""}),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(r["status"], "initial_passed");
    // Without a notice the approval is final at once.
    let r = approve(&c, &id(&a)).await.expect(200).body;
    assert_eq!(r["status"], "approved");
    assert!(r["notice_ends_at"].is_null());
    assert!(r["approved_at"].is_string());
    assert_eq!(count(&c, ent(&c, 2), "fund_approved").await, 1);
    assert_eq!(program_now(&c, &p).await["committed"], "1000.00");
}

#[tokio::test]
async fn each_caller_sees_only_what_is_theirs() {
    let c = city().await;
    let app = &c.app;
    let p = program(&c, json!({})).await;
    let aid = id(&apply(&c, ent(&c, 0), &p, "1000.00").await.expect(201).body);
    let path = format!("/fund-applications/{aid}");
    // The enterprise, its chain's office and the fund office see it.
    for token in [ent(&c, 0), office(&c), fund(&c), c.admin.as_str()] {
        app.get(&path, token).await.expect(200);
    }
    // Another enterprise and another chain's office do not.
    let (_, _, other_office) = chain_with_office(app, &c.admin, "NM").await;
    for token in [ent(&c, 1), other_office.as_str()] {
        app.get(&path, token).await.expect_problem(404);
        let list = app.get("/fund-applications", token).await.expect(200).body;
        assert_eq!(list["items"], json!([]), "{list}");
    }
    act(
        &c,
        &other_office,
        &aid,
        "initial_review",
        json!({"decision": "pass", "comment": ""}),
    )
    .await
    .expect_problem(404);
    // Banks and departments have no business with applications.
    let bank = app.org_with_user(&c.admin, "bank", "南通某银行").await.1;
    let dept = app
        .org_with_user(&c.admin, "department", "市工信局")
        .await
        .1;
    for token in [&bank, &dept] {
        app.get("/fund-applications", token)
            .await
            .expect_problem(403);
        app.get(&path, token).await.expect_problem(404);
    }
    // The lists, filtered.
    let mine = app
        .get(
            &format!("/fund-applications?program_id={}", id(&p)),
            ent(&c, 0),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let theirs = app
        .get("/fund-applications?status=submitted", office(&c))
        .await
        .expect(200)
        .body;
    assert_eq!(theirs["items"][0]["id"], aid.as_str());
    let none = app
        .get("/fund-applications?status=approved", fund(&c))
        .await
        .expect(200)
        .body;
    assert_eq!(none["items"], json!([]));
    // Eligibility is the enterprise's question.
    for token in [fund(&c), office(&c), bank.as_str()] {
        app.get("/fund-programs/eligible", token)
            .await
            .expect_problem(403);
    }
}

#[tokio::test]
async fn a_declared_conflict_of_interest_bars_the_reviewer() {
    let c = city().await;
    let app = &c.app;
    let p = program(&c, json!({})).await;
    let a0 = id(&apply(&c, ent(&c, 0), &p, "1000.00").await.expect(201).body);
    let a1 = id(&apply(&c, ent(&c, 1), &p, "1000.00").await.expect(201).body);

    // The chain office's user declares a conflict with enterprise 0, once.
    let body = json!({"enterprise_id": c.enterprises[0].id, "reason": "本人亲属在该企业任职"});
    let conflict = app
        .post("/conflicts", office(&c), body.clone())
        .await
        .expect(201)
        .body;
    assert_eq!(conflict["enterprise_id"], c.enterprises[0].id.as_str());
    let dup = app
        .post("/conflicts", office(&c), body.clone())
        .await
        .expect_problem(409);
    assert_eq!(dup.body["code"], "duplicate_conflict");
    app.post("/conflicts", ent(&c, 1), body.clone())
        .await
        .expect_problem(403);
    let bank = app.org_with_user(&c.admin, "bank", "南通某银行").await;
    app.post(
        "/conflicts",
        office(&c),
        json!({"enterprise_id": bank.0, "reason": "x"}),
    )
    .await
    .expect_problem(422);

    act(
        &c,
        office(&c),
        &a0,
        "initial_review",
        json!({"decision": "pass", "comment": ""}),
    )
    .await
    .expect_problem(403);
    assert_eq!(
        application(&c, fund(&c), &a0).await["status"],
        "submitted",
        "nothing changed"
    );
    pass(&c, &a1).await;

    // Another user of the same office has no conflict.
    let colleague = app
        .user_token(
            &c.admin,
            "chain_office",
            Some(&c.chain.as_ref().unwrap().office.id),
        )
        .await;
    act(
        &c,
        &colleague,
        &a0,
        "initial_review",
        json!({"decision": "pass", "comment": ""}),
    )
    .await
    .expect(200);

    // A fund office user with a conflict may neither approve nor decide an objection.
    app.post(
        "/conflicts",
        fund(&c),
        json!({"enterprise_id": c.enterprises[1].id, "reason": "曾为该企业提供咨询"}),
    )
    .await
    .expect(201);
    approve(&c, &a1).await.expect_problem(403);
    let other_fund = app
        .user_token(
            &c.admin,
            "fund_office",
            Some(&c.fund_office.as_ref().unwrap().id),
        )
        .await;
    act(
        &c,
        &other_fund,
        &a1,
        "final_review",
        json!({"decision": "approve", "comment": ""}),
    )
    .await
    .expect(200);
    let o = app
        .post(
            &format!("/fund-applications/{a1}/objections"),
            ent(&c, 0),
            json!({"content": "异议"}),
        )
        .await
        .expect(201)
        .body;
    app.post(
        &format!("/objections/{}/decision", id(&o)),
        fund(&c),
        json!({"upheld": true, "note": "成立"}),
    )
    .await
    .expect_problem(403);

    // Who reads the declarations.
    let all = app.get("/conflicts", &other_fund).await.expect(200).body;
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");
    let all = app.get("/conflicts", &c.admin).await.expect(200).body;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let own = app.get("/conflicts", office(&c)).await.expect(200).body;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    assert_eq!(own["items"][0]["id"], conflict["id"]);
    let none = app.get("/conflicts", &colleague).await.expect(200).body;
    assert_eq!(none["items"], json!([]));
    for token in [ent(&c, 0), bank.1.as_str()] {
        app.get("/conflicts", token).await.expect_problem(403);
    }
}

#[tokio::test]
async fn withdrawing_gives_the_reservation_back_until_money_is_paid() {
    let c = city().await;
    let p = program(&c, json!({"notice_working_days": 0})).await;
    let a0 = id(&apply(&c, ent(&c, 0), &p, "100000.00")
        .await
        .expect(201)
        .body);
    let a1 = id(&apply(&c, ent(&c, 1), &p, "200000.00")
        .await
        .expect(201)
        .body);
    for a in [&a0, &a1] {
        pass(&c, a).await;
        approve(&c, a).await.expect(200);
    }
    assert_eq!(program_now(&c, &p).await["committed"], "300000.00");
    // An approved application not yet paid may be declined: the reservation comes back once.
    let w = act(&c, ent(&c, 0), &a0, "withdraw", json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(w["status"], "withdrawn");
    assert_eq!(program_now(&c, &p).await["committed"], "200000.00");
    act(&c, ent(&c, 0), &a0, "withdraw", json!({}))
        .await
        .expect_problem(409);
    assert_eq!(program_now(&c, &p).await["committed"], "200000.00");
    assert!(count(&c, fund(&c), "fund_withdrawn").await >= 1);
    // Once something is paid, no more.
    disburse(&c, &a1, "1.00", "2026-03-02").await.expect(201);
    let refused = act(&c, ent(&c, 1), &a1, "withdraw", json!({}))
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "already_disbursed");
    let pr = program_now(&c, &p).await;
    assert_eq!(pr["committed"], "200000.00");
    assert_eq!(pr["disbursed"], "1.00");
}

#[tokio::test]
async fn the_window_closes_at_local_midnight() {
    let c = city().await;
    let app = &c.app;
    let p = program(
        &c,
        json!({"opens_at": "2026-03-10T09:00:00+08:00", "closes_at": "2026-04-01T00:00:00+08:00"}),
    )
    .await;
    assert_eq!(p["open"], false);
    // Before the opening.
    let early = apply(&c, ent(&c, 0), &p, "1000.00")
        .await
        .expect_problem(409);
    assert_eq!(early.body["code"], "window_closed");
    // The last second of 2026-03-31 in Shanghai is inside.
    app.clock
        .set(sh(2026, 3, 31, 23, 59) + TimeDelta::seconds(59));
    assert_eq!(program_now(&c, &p).await["open"], true);
    apply(&c, ent(&c, 0), &p, "1000.00").await.expect(201);
    // Midnight is outside.
    app.clock.set(sh(2026, 4, 1, 0, 0));
    assert_eq!(program_now(&c, &p).await["open"], false);
    let late = apply(&c, ent(&c, 1), &p, "1000.00")
        .await
        .expect_problem(409);
    assert_eq!(late.body["code"], "window_closed");
    let open = app
        .get("/fund-programs/eligible", ent(&c, 1))
        .await
        .expect(200)
        .body;
    assert_eq!(open["items"], json!([]), "a closed program is not listed");
}

#[tokio::test]
async fn the_eligible_list_explains_every_unmet_rule_in_chinese() {
    let c = city().await;
    let app = &c.app;
    let rules = json!({"chain_ids": [chain(&c)], "qualifications_all": ["specialized_sme"]});
    let p = program(&c, json!({"name": "专精特新专项", "eligibility": rules})).await;
    // Closed and not yet open programs are not listed.
    program(
        &c,
        json!({"name": "已截止", "opens_at": "2026-01-01T00:00:00+08:00", "closes_at": "2026-03-01T00:00:00+08:00"}),
    )
    .await;
    program(
        &c,
        json!({"name": "未开始", "opens_at": "2026-05-01T00:00:00+08:00"}),
    )
    .await;
    // A risk-compensation pool takes banks' claims: not listed either.
    program(
        &c,
        json!({"name": "风险补偿资金池", "kind": "risk_compensation", "coverage_percent": "80",
               "max_per_claim": "100000.00"}),
    )
    .await;
    // Leaders only, with one of two qualifications.
    let leaders = program(
        &c,
        json!({"name": "链主企业培育", "eligibility": {
            "chain_ids": [chain(&c)], "member_roles": ["chain_leader_enterprise"],
            "qualifications_any": ["high_tech", "little_giant"]}}),
    )
    .await;
    qualify(&c, &c.enterprises[0].id, "specialized_sme", "2026-12-31").await;
    qualify(&c, &c.enterprises[1].id, "specialized_sme", "2026-03-31").await;
    qualify(&c, &c.enterprises[1].id, "little_giant", "2026-03-31").await;
    let (_, unverified_token, _) = unverified(&c).await;
    app.clock.set(sh(2026, 4, 1, 9, 0));

    let all = |token: String| {
        let http = app.http();
        async move {
            let items = http
                .get("/fund-programs/eligible", &token)
                .await
                .expect(200)
                .body["items"]
                .as_array()
                .expect("items")
                .clone();
            assert_eq!(items.len(), 2, "only the open programs: {items:?}");
            items
        }
    };
    let of = |items: &[Value], p: &Value| -> Value {
        items
            .iter()
            .find(|i| i["id"] == p["id"])
            .unwrap_or_else(|| panic!("{} is not listed: {items:?}", p["name"]))
            .clone()
    };
    let listed = |token: String| {
        let all = all(token);
        let p = p.clone();
        async move { of(&all.await, &p) }
    };
    let e0 = of(&all(ent(&c, 0).to_string()).await, &leaders);
    assert_eq!(e0["eligible"], false);
    assert_eq!(
        e0["reasons"],
        json!([
            "在电子信息产业链中为核心企业，须为链主企业",
            "须具备以下资格之一：高新技术企业、专精特新“小巨人”"
        ])
    );
    // A lapsed qualification says when.
    let e1 = of(&all(ent(&c, 1).to_string()).await, &leaders);
    assert_eq!(
        e1["reasons"],
        json!([
            "在电子信息产业链中为核心企业，须为链主企业",
            "须具备以下资格之一：高新技术企业、专精特新“小巨人”",
            "专精特新“小巨人”资格已于2026-03-31到期"
        ])
    );
    let e0 = listed(ent(&c, 0).to_string()).await;
    assert_eq!(e0["id"], p["id"]);
    assert_eq!(e0["name"], "专精特新专项");
    assert_eq!(e0["eligible"], true);
    assert_eq!(e0["reasons"], json!([]));
    assert_eq!(
        e0["basis"],
        json!([
            "企业已完成认证",
            "电子信息产业链核心企业",
            "具备专精特新资格"
        ])
    );
    assert!(e0["application_id"].is_null());
    let e1 = listed(ent(&c, 1).to_string()).await;
    assert_eq!(e1["eligible"], false);
    assert_eq!(e1["reasons"], json!(["专精特新资格已于2026-03-31到期"]));
    let e2 = listed(ent(&c, 2).to_string()).await;
    assert_eq!(
        e2["reasons"],
        json!(["非电子信息产业链成员", "无专精特新资格"])
    );
    let u = listed(unverified_token).await;
    assert_eq!(
        u["reasons"],
        json!(["企业尚未完成认证", "非电子信息产业链成员", "无专精特新资格"])
    );

    // Applying says the same.
    let refused = apply(&c, ent(&c, 1), &p, "1000.00")
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "not_eligible");
    assert!(
        refused
            .str("detail")
            .contains("专精特新资格已于2026-03-31到期"),
        "{}",
        refused.text
    );
    let a = apply(&c, ent(&c, 0), &p, "1000.00").await.expect(201).body;
    let e0 = listed(ent(&c, 0).to_string()).await;
    assert_eq!(e0["application_id"], a["id"]);
}

#[tokio::test]
async fn a_qualification_lapsing_after_the_application_blocks_approval_and_disbursement() {
    let c = city().await;
    let app = &c.app;
    let rules = json!({"chain_ids": [chain(&c)], "qualifications_all": ["specialized_sme"]});
    let p = program(&c, json!({"eligibility": rules, "notice_working_days": 0})).await;
    qualify(&c, &c.enterprises[0].id, "specialized_sme", "2026-03-31").await;
    qualify(&c, &c.enterprises[1].id, "specialized_sme", "2026-03-02").await;
    let a0 = id(&apply(&c, ent(&c, 0), &p, "100000.00")
        .await
        .expect(201)
        .body);
    let a1 = id(&apply(&c, ent(&c, 1), &p, "100000.00")
        .await
        .expect(201)
        .body);
    pass(&c, &a0).await;
    pass(&c, &a1).await;

    // Enterprise 1's qualification ends on 03-02: on 03-03 the final approval refuses.
    app.clock.set(sh(2026, 3, 3, 9, 0));
    let refused = approve(&c, &a1).await.expect_problem(409);
    assert_eq!(refused.body["code"], "not_eligible");
    assert!(
        refused
            .str("detail")
            .contains("专精特新资格已于2026-03-02到期"),
        "{}",
        refused.text
    );
    assert_eq!(
        application(&c, fund(&c), &a1).await["status"],
        "initial_passed"
    );
    assert_eq!(program_now(&c, &p).await["committed"], "0.00");

    // Enterprise 0 is approved (no notice: at once) and paid in part on its last valid day.
    let r = approve(&c, &a0).await.expect(200).body;
    assert_eq!(r["status"], "approved");
    app.clock.set(sh(2026, 3, 31, 16, 0));
    disburse(&c, &a0, "40000.00", "2026-03-31")
        .await
        .expect(201);
    // The next day the rest is refused, and nothing is booked.
    app.clock.set(sh(2026, 4, 1, 9, 0));
    let refused = disburse(&c, &a0, "60000.00", "2026-04-01")
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "not_eligible");
    assert!(
        refused
            .str("detail")
            .contains("专精特新资格已于2026-03-31到期"),
        "{}",
        refused.text
    );
    let r = application(&c, fund(&c), &a0).await;
    assert_eq!(r["status"], "approved");
    assert_eq!(r["disbursed_amount"], "40000.00");
    assert_eq!(program_now(&c, &p).await["disbursed"], "40000.00");
    // Renewed, it is paid.
    qualify(&c, &c.enterprises[0].id, "specialized_sme", "2029-03-31").await;
    disburse(&c, &a0, "60000.00", "2026-04-01")
        .await
        .expect(201);
    assert_eq!(application(&c, fund(&c), &a0).await["status"], "disbursed");
    assert_eq!(program_now(&c, &p).await["disbursed"], "100000.00");
}

#[tokio::test]
async fn the_notice_across_national_day_ends_on_the_right_working_day() {
    let c = city().await;
    let app = &c.app;
    app.clock.set(sh(2026, 9, 28, 10, 0));
    let p = program(&c, json!({"opens_at": "2026-09-01T00:00:00+08:00"})).await;
    let aid = id(&apply(&c, ent(&c, 0), &p, "100000.00")
        .await
        .expect(201)
        .body);
    pass(&c, &aid).await;
    // Wed 09-30 10:00 + 5 working days: 7 h that day, 10-01..07 off, 10-08, 10-09, Sat 10-10
    // (a make-up workday) and Mon 10-12 8 h each, 1 h on Tue 10-13: 10:00.
    app.clock.set(sh(2026, 9, 30, 10, 0));
    let r = approve(&c, &aid).await.expect(200).body;
    assert_eq!(r["notice_ends_at"], "2026-10-13T02:00:00Z");
    let told = notifications(&c, ent(&c, 0)).await;
    assert!(
        told.iter().any(|n| n["kind"] == "fund_review_result"
            && n["body"].as_str().unwrap().contains("2026-10-13 10:00")),
        "{told:?}"
    );

    // During the holiday and on the last minute objections are taken.
    app.clock.set(sh(2026, 10, 3, 12, 0));
    let during = app
        .post(
            &format!("/fund-applications/{aid}/objections"),
            ent(&c, 1),
            json!({"content": "国庆期间提出的异议"}),
        )
        .await
        .expect(201)
        .body;
    app.clock.set(sh(2026, 10, 13, 9, 59));
    app.post(
        &format!("/fund-applications/{aid}/objections"),
        ent(&c, 2),
        json!({"content": "最后一分钟的异议"}),
    )
    .await
    .expect(201);
    assert_eq!(run_job(&c, "fund_notices").await, 0);

    // At the end: refused; the job waits while objections are undecided.
    app.clock.set(sh(2026, 10, 13, 10, 0));
    let late = app
        .post(
            &format!("/fund-applications/{aid}/objections"),
            ent(&c, 1),
            json!({"content": "期满后的异议"}),
        )
        .await
        .expect_problem(409);
    assert_eq!(late.body["code"], "notice_ended");
    assert_eq!(run_job(&c, "fund_notices").await, 0);
    let pending = application(&c, fund(&c), &aid).await;
    assert_eq!(pending["status"], "in_notice");
    let last = pending["objections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] != during["id"])
        .expect("the second objection")
        .clone();
    app.post(
        &format!("/objections/{}/decision", id(&during)),
        fund(&c),
        json!({"upheld": false, "note": "不属实"}),
    )
    .await
    .expect(200);
    assert_eq!(application(&c, fund(&c), &aid).await["status"], "in_notice");
    // Dismissing the last one after the end approves at once.
    app.clock.set(sh(2026, 10, 13, 11, 0));
    let d = app
        .post(
            &format!("/objections/{}/decision", id(&last)),
            fund(&c),
            json!({"upheld": false, "note": "不属实"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(d["application_status"], "approved");
    let r = application(&c, fund(&c), &aid).await;
    assert_eq!(r["status"], "approved");
    assert_eq!(r["approved_at"], "2026-10-13T03:00:00Z");
    assert_eq!(run_job(&c, "fund_notices").await, 0);
    assert_eq!(count(&c, ent(&c, 0), "fund_approved").await, 1);
}

#[tokio::test]
async fn twenty_concurrent_approvals_never_exceed_the_budget_and_an_upheld_objection_frees_its_amount_once()
 {
    let mut b = CityBuilder::new().long_lived_tokens();
    for i in 0..20 {
        b = b.enterprise(&format!("南通并发企业{i:02}"));
    }
    let c = b
        .chain("EI", CHAIN_NAME, "电子信息链长办", true)
        .fund_office("市产业基金办")
        .build()
        .await;
    let p = program(&c, json!({"max_per_application": "100000.00"})).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let a = apply(&c, ent(&c, i), &p, "100000.00")
            .await
            .expect(201)
            .body;
        pass(&c, &id(&a)).await;
        ids.push(id(&a));
    }
    // 20 approvals of 100,000 at once against 1,000,000.
    let tasks = ids.iter().map(|aid| {
        let http = c.app.http();
        let (aid, token) = (aid.clone(), fund(&c).to_string());
        tokio::spawn(async move {
            let a = http
                .post(
                    &format!("/fund-applications/{aid}/final_review"),
                    &token,
                    json!({"decision": "approve", "comment": ""}),
                )
                .await;
            (aid, a)
        })
    });
    let mut approved = Vec::new();
    let mut refused = Vec::new();
    for t in futures::future::join_all(tasks).await {
        let (aid, a) = t.expect("task");
        match a.status.as_u16() {
            200 => approved.push(aid),
            409 => {
                assert_eq!(a.body["code"], "budget_exceeded", "{}", a.text);
                refused.push(aid);
            }
            s => panic!("unexpected {s}: {}", a.text),
        }
    }
    assert_eq!((approved.len(), refused.len()), (10, 10));
    let pr = program_now(&c, &p).await;
    assert_eq!(pr["committed"], "1000000.00");
    assert_eq!(pr["remaining"], "0.00");
    let in_notice = c
        .app
        .get(
            &format!(
                "/fund-applications?program_id={}&status=in_notice&limit=200",
                id(&p)
            ),
            fund(&c),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(in_notice["items"].as_array().unwrap().len(), 10);
    for aid in &refused {
        let r = application(&c, fund(&c), aid).await;
        assert_eq!(r["status"], "initial_passed");
        assert!(r["approved_amount"].is_null());
    }

    // An upheld objection rejects one and frees its 100,000, once.
    let object = |aid: &str| {
        let http = c.app.http();
        let (path, token) = (
            format!("/fund-applications/{aid}/objections"),
            ent(&c, 0).to_string(),
        );
        async move {
            id(&http
                .post(&path, &token, json!({"content": "申报材料与实际不符"}))
                .await
                .expect(201)
                .body)
        }
    };
    let o1 = object(&approved[0]).await;
    let d = c
        .app
        .post(
            &format!("/objections/{o1}/decision"),
            fund(&c),
            json!({"upheld": true, "note": "经核查异议成立"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(d["status"], "upheld");
    assert_eq!(d["application_status"], "rejected");
    assert_eq!(program_now(&c, &p).await["committed"], "900000.00");
    for upheld in [true, false] {
        let again = c
            .app
            .post(
                &format!("/objections/{o1}/decision"),
                fund(&c),
                json!({"upheld": upheld, "note": "再次处理"}),
            )
            .await
            .expect_problem(409);
        assert_eq!(again.body["code"], "already_decided");
    }
    assert_eq!(program_now(&c, &p).await["committed"], "900000.00");
    let r = application(&c, fund(&c), &approved[0]).await;
    assert_eq!(r["status"], "rejected");
    assert!(actions(&r).contains(&"objection_upheld".to_string()));
    let applicant = c
        .enterprises
        .iter()
        .position(|e| r["enterprise_id"] == e.id.as_str())
        .expect("the applicant");
    let told = notifications(&c, ent(&c, applicant)).await;
    assert!(
        told.iter().any(|n| n["kind"] == "fund_review_result"
            && n["body"].as_str().unwrap().contains("经核查异议成立")),
        "{told:?}"
    );

    // Two decisions of one objection at the same moment: one counts.
    let o2 = object(&approved[1]).await;
    let decide = || {
        let http = c.app.http();
        let (path, token) = (format!("/objections/{o2}/decision"), fund(&c).to_string());
        tokio::spawn(async move {
            http.post(&path, &token, json!({"upheld": true, "note": "异议成立"}))
                .await
        })
    };
    let (x, y) = tokio::join!(decide(), decide());
    let mut statuses = [
        x.expect("task").status.as_u16(),
        y.expect("task").status.as_u16(),
    ];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(program_now(&c, &p).await["committed"], "800000.00");

    // The freed budget serves a refused application, and no more.
    approve(&c, &refused[0]).await.expect(200);
    approve(&c, &refused[1]).await.expect(200);
    let over = approve(&c, &refused[2]).await.expect_problem(409);
    assert_eq!(over.body["code"], "budget_exceeded");
    assert_eq!(program_now(&c, &p).await["committed"], "1000000.00");
}

/// A policy-push city: enterprises 0 and 1 eligible (members with 专精特新), 2 a member
/// without it, 3 outside the chain with it.
async fn push_city() -> City {
    let c = CityBuilder::new()
        .long_lived_tokens()
        .enterprise("南通甲电子公司")
        .user_email("jia@example.cn")
        .enterprise("南通乙电子公司")
        .user_email("yi@example.cn")
        .enterprise("南通丙电子公司")
        .user_email("bing@example.cn")
        .enterprise("南通丁电子公司")
        .user_email("ding@example.cn")
        .outside_chain()
        .chain("EI", CHAIN_NAME, "电子信息链长办", true)
        .fund_office("市产业基金办")
        .build()
        .await;
    for i in [0, 1, 3] {
        qualify(&c, &c.enterprises[i].id, "specialized_sme", "2028-12-31").await;
    }
    c
}

/// The mails the SMTP listener received with `subject`, by recipient.
fn mails_by_recipient(c: &City, subject: &str) -> BTreeMap<String, usize> {
    let mut by = BTreeMap::new();
    for m in c.app.mail.messages() {
        if m.subject() == subject {
            for to in m.rcpt_to {
                *by.entry(to).or_insert(0) += 1;
            }
        }
    }
    by
}

#[tokio::test]
async fn the_opening_tells_each_eligible_enterprise_once_in_app_and_by_mail() {
    let c = push_city().await;
    let app = &c.app;
    // A second user of enterprise 0, and an unverified member with the qualification.
    let jia2 = app
        .user_token_with_email(
            &c.admin,
            "enterprise",
            Some(&c.enterprises[0].id),
            Some("jia2@example.cn"),
        )
        .await;
    let (unverified_org, unverified_token, unverified_mail) = unverified(&c).await;
    app.put(
        &format!("/chains/{}/members/{unverified_org}", chain(&c)),
        &c.admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    qualify(&c, &unverified_org, "specialized_sme", "2028-12-31").await;

    let rules = json!({"chain_ids": [chain(&c)], "qualifications_any": ["specialized_sme", "little_giant"]});
    let p = program(
        &c,
        json!({"name": "专精特新成长计划", "kind": "guidance", "eligibility": rules,
               "opens_at": "2026-03-10T09:00:00+08:00", "closes_at": "2026-04-01T00:00:00+08:00"}),
    )
    .await;
    assert!(p["opened_at"].is_null());
    // A risk-compensation pool opening at the same time is for banks: it tells no enterprise.
    let pool = program(
        &c,
        json!({"name": "风险补偿资金池", "kind": "risk_compensation", "coverage_percent": "80",
               "max_per_claim": "100000.00", "eligibility": {"chain_ids": [chain(&c)]},
               "opens_at": "2026-03-10T09:00:00+08:00"}),
    )
    .await;
    // Not yet open: nobody is told.
    assert_eq!(run_job(&c, "fund_windows").await, 0);
    // A window that opens and closes before the job looks again tells nobody.
    let missed = program(
        &c,
        json!({"name": "错过的窗口", "kind": "guidance", "eligibility": rules,
               "opens_at": "2026-03-03T09:00:00+08:00", "closes_at": "2026-03-05T00:00:00+08:00"}),
    )
    .await;

    app.clock.set(sh(2026, 3, 10, 9, 0));
    assert_eq!(run_job(&c, "fund_windows").await, 2);
    assert!(program_now(&c, &p).await["opened_at"].is_string());
    assert!(program_now(&c, &pool).await["opened_at"].is_string());
    assert!(program_now(&c, &missed).await["opened_at"].is_string());
    for token in [ent(&c, 0), jia2.as_str(), ent(&c, 1)] {
        let n: Vec<Value> = notifications(&c, token)
            .await
            .into_iter()
            .filter(|n| n["kind"] == "policy_match")
            .collect();
        assert_eq!(n.len(), 1, "{n:?}");
        assert_eq!(n[0]["object_id"], p["id"]);
    }
    for token in [
        ent(&c, 2),
        ent(&c, 3),
        unverified_token.as_str(),
        office(&c),
        fund(&c),
    ] {
        assert_eq!(count(&c, token, "policy_match").await, 0);
    }
    run_job(&c, "mail_dispatch").await;
    let subject = "【政策直达】专精特新成长计划 开始申报";
    let expected: BTreeMap<String, usize> = [
        ("jia2@example.cn".to_string(), 1),
        ("jia@example.cn".to_string(), 1),
        ("yi@example.cn".to_string(), 1),
    ]
    .into();
    assert_eq!(mails_by_recipient(&c, subject), expected);
    let ineligible = [
        "bing@example.cn",
        "ding@example.cn",
        unverified_mail.as_str(),
    ];
    for m in app
        .mail
        .messages()
        .into_iter()
        .filter(|m| m.subject().contains("专精特新成长计划"))
    {
        assert!(
            !m.rcpt_to.iter().any(|t| ineligible.contains(&t.as_str())),
            "{:?} got {}",
            m.rcpt_to,
            m.subject()
        );
    }

    // Running again (and later) tells nobody twice.
    assert_eq!(run_job(&c, "fund_windows").await, 0);
    app.advance(TimeDelta::hours(1));
    assert_eq!(run_job(&c, "fund_windows").await, 0);
    run_job(&c, "mail_dispatch").await;
    assert_eq!(mails_by_recipient(&c, subject), expected);
    assert_eq!(count(&c, ent(&c, 0), "policy_match").await, 1);
    assert!(
        !app.mail
            .messages()
            .iter()
            .any(|m| m.subject().contains("错过的窗口")),
        "a missed window mails nobody"
    );
}

#[tokio::test]
async fn an_apply_free_award_creates_exactly_the_eligible_applications() {
    let c = push_city().await;
    let app = &c.app;
    let rules = json!({"chain_ids": [chain(&c)], "qualifications_all": ["specialized_sme"]});
    let p = program(
        &c,
        json!({"name": "专精特新奖励", "kind": "award", "apply_free": true,
               "fixed_amount": "200000.00", "max_per_application": "200000.00",
               "eligibility": rules, "notice_working_days": 0,
               "opens_at": "2026-03-10T09:00:00+08:00"}),
    )
    .await;
    assert_eq!(run_job(&c, "fund_windows").await, 0);
    app.clock.set(sh(2026, 3, 10, 9, 30));
    assert_eq!(run_job(&c, "fund_windows").await, 2);
    assert_eq!(run_job(&c, "fund_windows").await, 0);

    let list = app
        .get(
            &format!("/fund-applications?program_id={}&limit=200", id(&p)),
            fund(&c),
        )
        .await
        .expect(200)
        .body;
    let items = list["items"].as_array().unwrap();
    let mut who: Vec<&str> = items
        .iter()
        .map(|a| a["enterprise_id"].as_str().unwrap())
        .collect();
    who.sort();
    let mut eligible = vec![c.enterprises[0].id.as_str(), c.enterprises[1].id.as_str()];
    eligible.sort();
    assert_eq!(who, eligible, "{list}");
    for a in items {
        assert_eq!(a["status"], "initial_passed");
        assert_eq!(a["apply_free"], true);
        assert_eq!(a["amount"], "200000.00");
        assert_eq!(a["chain_id"], chain(&c).as_str());
        clock(a, "final_review", 0);
    }
    for i in [0, 1] {
        assert_eq!(count(&c, ent(&c, i), "fund_award_granted").await, 1);
        let own = app
            .get("/fund-applications", ent(&c, i))
            .await
            .expect(200)
            .body;
        assert_eq!(own["items"].as_array().unwrap().len(), 1);
        let e = app
            .get("/fund-programs/eligible", ent(&c, i))
            .await
            .expect(200)
            .body;
        assert_eq!(e["items"][0]["application_id"], own["items"][0]["id"]);
    }
    for i in [2, 3] {
        assert_eq!(count(&c, ent(&c, i), "fund_award_granted").await, 0);
        let own = app
            .get("/fund-applications", ent(&c, i))
            .await
            .expect(200)
            .body;
        assert_eq!(own["items"], json!([]));
    }
    run_job(&c, "mail_dispatch").await;
    let expected: BTreeMap<String, usize> = [
        ("jia@example.cn".to_string(), 1),
        ("yi@example.cn".to_string(), 1),
    ]
    .into();
    assert_eq!(mails_by_recipient(&c, "【免申即享】专精特新奖励"), expected);

    // An award is one live application: applying again is a duplicate; it goes straight to
    // the final review, and its timeline starts with the award.
    let dup = apply(&c, ent(&c, 0), &p, "200000.00")
        .await
        .expect_problem(409);
    assert_eq!(dup.body["code"], "duplicate_application");
    let a0 = own_application(&c, 0).await;
    let r = application(&c, fund(&c), &a0).await;
    assert_eq!(actions(&r), ["award"]);
    let r = approve(&c, &a0).await.expect(200).body;
    assert_eq!(r["status"], "approved");
    assert_eq!(r["approved_amount"], "200000.00");
    // The other declines its award.
    let a1 = own_application(&c, 1).await;
    let w = act(&c, ent(&c, 1), &a1, "withdraw", json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(w["status"], "withdrawn");
    assert_eq!(program_now(&c, &p).await["committed"], "200000.00");
}

async fn own_application(c: &City, i: usize) -> String {
    let own = c
        .app
        .get("/fund-applications", ent(c, i))
        .await
        .expect(200)
        .body;
    id(&own["items"][0])
}

#[tokio::test]
async fn a_chain_office_reviews_only_what_came_through_its_chain() {
    let c = city().await;
    let app = &c.app;
    // Enterprise 0 is also a member of a second chain.
    let (other, _, other_office) = chain_with_office(app, &c.admin, "NM").await;
    app.put(
        &format!("/chains/{other}/members/{}", c.enterprises[0].id),
        &c.admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    let p = program(&c, json!({})).await;
    let a = apply(&c, ent(&c, 0), &p, "1000.00").await.expect(201).body;
    assert_eq!(a["chain_id"], chain(&c).as_str());
    // The other chain's office sees its member's application, but the review is not its own.
    app.get(&format!("/fund-applications/{}", id(&a)), &other_office)
        .await
        .expect(200);
    act(
        &c,
        &other_office,
        &id(&a),
        "initial_review",
        json!({"decision": "pass", "comment": "越权初审"}),
    )
    .await
    .expect_problem(403);
    assert_eq!(
        application(&c, fund(&c), &id(&a)).await["status"],
        "submitted"
    );
    pass(&c, &id(&a)).await;
}

#[tokio::test]
async fn review_clocks_breach_to_whoever_holds_the_stage() {
    let c = city().await;
    let app = &c.app;
    // No rules: enterprise 0 applies through the chain, enterprise 2 through none. One
    // working day to review: due Mon 17:00.
    let p = program(
        &c,
        json!({"kind": "guidance", "eligibility": {}, "review_working_days": 1}),
    )
    .await;
    let through_chain = id(&apply(&c, ent(&c, 0), &p, "1000.00").await.expect(201).body);
    let chainless = id(&apply(&c, ent(&c, 2), &p, "1000.00").await.expect(201).body);
    let final_stage = id(&apply(&c, ent(&c, 1), &p, "1000.00").await.expect(201).body);
    pass(&c, &final_stage).await;
    let r = application(&c, fund(&c), &chainless).await;
    assert_eq!(
        clock(&r, "initial_review", 0)["due_at"],
        "2026-03-02T09:00:00Z"
    );

    app.clock.set(sh(2026, 3, 2, 17, 1));
    run_job(&c, "sla_monitor").await;
    let breaches = |token: String| {
        let http = app.http();
        async move {
            let n = http
                .get("/notifications?limit=200", &token)
                .await
                .expect(200)
                .body;
            n["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter(|n| n["kind"] == "sla_breach")
                .map(|n| n["object_id"].as_str().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        }
    };
    let office_breaches = breaches(office(&c).to_string()).await;
    assert_eq!(office_breaches, std::slice::from_ref(&through_chain));
    // A working day later the chain office's breach escalates to the fund office.
    app.clock.set(sh(2026, 3, 3, 17, 1));
    run_job(&c, "sla_monitor").await;
    let escalated: Vec<String> = notifications(&c, fund(&c))
        .await
        .into_iter()
        .filter(|n| n["kind"] == "sla_escalation")
        .map(|n| n["object_id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(escalated.contains(&through_chain), "{escalated:?}");
    let mut fund_breaches = breaches(fund(&c).to_string()).await;
    fund_breaches.sort();
    let mut expected = vec![chainless.clone(), final_stage.clone()];
    expected.sort();
    assert_eq!(
        fund_breaches, expected,
        "the fund office holds the final review, and the initial review of an application \
         that came through no chain"
    );
    for aid in [&through_chain, &chainless, &final_stage] {
        let r = application(&c, fund(&c), aid).await;
        assert!(actions(&r).contains(&"breach".to_string()), "{r}");
    }
}

#[tokio::test]
async fn a_repeated_project_in_another_program_of_the_year_is_flagged_not_refused() {
    let c = city().await;
    let app = &c.app;
    let first = program(&c, json!({"name": "第一批专项", "notice_working_days": 0})).await;
    let second = program(&c, json!({"name": "第二批专项", "notice_working_days": 0})).await;
    let a = id(&apply(&c, ent(&c, 0), &first, "1000.00")
        .await
        .expect(201)
        .body);
    pass(&c, &a).await;
    approve(&c, &a).await.expect(200);
    // The same project, spaced and punctuated differently, in the second program.
    let again = app
        .post(
            "/fund-applications",
            ent(&c, 0),
            json!({"program_id": second["id"], "amount": "1000.00",
                   "project_title": " 智能 产线改造。", "description": "同一项目"}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(again["duplicate_funding_flag"], true);
    assert_eq!(again["duplicate_of"], a.as_str());
    // Another enterprise's project of the same name is not a duplicate.
    let other = apply(&c, ent(&c, 1), &second, "1000.00")
        .await
        .expect(201)
        .body;
    assert_eq!(other["duplicate_funding_flag"], false);
    let flagged = app
        .get("/fund-applications?duplicate_funding_flag=true", fund(&c))
        .await
        .expect(200)
        .body;
    let ids: Vec<&str> = flagged["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [again["id"].as_str().unwrap()]);
    // The reviewers see the flag; it refuses nothing.
    pass(&c, &id(&again)).await;
    let r = approve(&c, &id(&again)).await.expect(200).body;
    assert_eq!(r["status"], "approved");
    assert_eq!(r["duplicate_funding_flag"], true);
}

/// Sends `n` copies of one POST at once; returns the answers ordered by status.
async fn at_once(c: &City, n: usize, path: &str, token: &str, body: Value) -> Vec<Answer> {
    let tasks = (0..n).map(|_| {
        let http = c.app.http();
        let (path, token, body) = (path.to_string(), token.to_string(), body.clone());
        tokio::spawn(async move { http.post(&path, &token, body).await })
    });
    let mut answers: Vec<Answer> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|a| a.expect("task"))
        .collect();
    answers.sort_by_key(|a| a.status);
    answers
}

fn statuses(answers: &[Answer]) -> Vec<u16> {
    answers.iter().map(|a| a.status.as_u16()).collect()
}

#[tokio::test]
async fn concurrent_submissions_payments_withdrawals_and_reversals_each_count_once() {
    let c = city().await;
    let app = &c.app;
    let p = program(&c, json!({})).await;

    // Five submissions of one enterprise at once: one live application.
    let body = json!({"program_id": p["id"], "amount": "100.00", "project_title": "并发申报",
                      "description": "同时提交五次"});
    let answers = at_once(&c, 5, "/fund-applications", ent(&c, 0), body).await;
    assert_eq!(statuses(&answers), [201, 409, 409, 409, 409]);
    for a in &answers[1..] {
        assert_eq!(a.body["code"], "duplicate_application", "{}", a.text);
    }
    let aid = answers[0].id();

    // A withdrawal and an upheld objection at once: the reservation comes back once.
    pass(&c, &aid).await;
    approve(&c, &aid).await.expect(200);
    assert_eq!(program_now(&c, &p).await["committed"], "100.00");
    let o = app
        .post(
            &format!("/fund-applications/{aid}/objections"),
            ent(&c, 1),
            json!({"content": "异议"}),
        )
        .await
        .expect(201)
        .body;
    let (withdraw, uphold) = {
        let (h1, h2) = (app.http(), app.http());
        let (e, f) = (ent(&c, 0).to_string(), fund(&c).to_string());
        let (w, d) = (
            format!("/fund-applications/{aid}/withdraw"),
            format!("/objections/{}/decision", id(&o)),
        );
        tokio::join!(
            tokio::spawn(async move { h1.post(&w, &e, json!({})).await }),
            tokio::spawn(async move {
                h2.post(&d, &f, json!({"upheld": true, "note": "异议成立"}))
                    .await
            })
        )
    };
    let (withdraw, uphold) = (withdraw.expect("task"), uphold.expect("task"));
    assert!(
        withdraw.status.is_success() || uphold.status.is_success(),
        "{} / {}",
        withdraw.text,
        uphold.text
    );
    let status = application(&c, fund(&c), &aid).await["status"].clone();
    assert!(status == "withdrawn" || status == "rejected", "{status}");
    assert_eq!(program_now(&c, &p).await["committed"], "0.00");

    // Five payments of 30 against an approval of 100: three are booked.
    let p0 = program(&c, json!({"notice_working_days": 0})).await;
    let bid = id(&apply(&c, ent(&c, 1), &p0, "100.00").await.expect(201).body);
    pass(&c, &bid).await;
    approve(&c, &bid).await.expect(200);
    let answers = at_once(
        &c,
        5,
        &format!("/fund-applications/{bid}/disbursements"),
        fund(&c),
        json!({"amount": "30.00", "paid_on": "2026-03-02"}),
    )
    .await;
    assert_eq!(statuses(&answers), [201, 201, 201, 409, 409]);
    for a in &answers[3..] {
        assert_eq!(a.body["code"], "exceeds_approved", "{}", a.text);
    }
    let r = application(&c, fund(&c), &bid).await;
    assert_eq!(r["disbursed_amount"], "90.00");
    assert_eq!(program_now(&c, &p0).await["disbursed"], "90.00");

    // Two reversals of one payment at once: one.
    let answers = at_once(
        &c,
        2,
        &format!("/disbursements/{}/reverse", answers[0].id()),
        fund(&c),
        json!({"reason": "重复录入"}),
    )
    .await;
    assert_eq!(statuses(&answers), [200, 409]);
    assert_eq!(
        application(&c, fund(&c), &bid).await["disbursed_amount"],
        "60.00"
    );
    assert_eq!(program_now(&c, &p0).await["disbursed"], "60.00");
}

/// The eligibility list reuses each program's rendering while its row version stands: a
/// reservation, an approval and a qualification change all show at once.
#[tokio::test]
async fn the_eligibility_list_shows_every_change_of_a_program_at_once() {
    let c = city().await;
    let p = program(&c, json!({"budget": "500000.00"})).await;
    let pid = id(&p);
    let item = |v: &Value| {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["id"] == pid.as_str())
            .cloned()
            .expect("the program is listed")
    };
    let first = c
        .app
        .get("/fund-programs/eligible", ent(&c, 0))
        .await
        .expect(200)
        .body;
    assert_eq!(item(&first)["remaining"], "500000.00");
    assert_eq!(item(&first)["application_id"], Value::Null);
    assert_eq!(item(&first)["eligible"], true);
    // The same page again: the cached rendering, the same answer.
    let again = c
        .app
        .get("/fund-programs/eligible", ent(&c, 0))
        .await
        .expect(200)
        .body;
    assert_eq!(again, first);
    let a = apply(&c, ent(&c, 0), &p, "200000.00")
        .await
        .expect(201)
        .body;
    pass(&c, &id(&a)).await;
    approve(&c, &id(&a)).await.expect(200);
    let after = c
        .app
        .get("/fund-programs/eligible", ent(&c, 0))
        .await
        .expect(200)
        .body;
    assert_eq!(item(&after)["committed"], "200000.00");
    assert_eq!(item(&after)["remaining"], "300000.00");
    assert_eq!(item(&after)["application_id"], id(&a).as_str());
    // Another enterprise reads the same rendering with its own verdict: not a chain member.
    let other = c
        .app
        .get("/fund-programs/eligible", ent(&c, 2))
        .await
        .expect(200)
        .body;
    assert_eq!(item(&other)["remaining"], "300000.00");
    assert_eq!(item(&other)["eligible"], false);
    assert_eq!(item(&other)["application_id"], Value::Null);
}
