//! Funds and subsidies over HTTP: the city these tests run in and the helpers they share; the
//! tests themselves are in `funds/`, one module per area: `lifecycle` (an application through
//! every status, objections, withdrawal, the notice across a holiday), `rules` (who may do what:
//! every 403/409/422, scoping, conflicts of interest), `eligibility` and `eligibility_answers`
//! (explained eligibility and the list's caches), `reviews` (chain and fund office reviews, their
//! clocks, the duplicate-funding flag), `concurrency` (the budget under concurrent approvals, and
//! payments, withdrawals and reversals counted once), `window` (the policy push with mail over
//! SMTP, apply-free awards) and `risk_claims` (risk compensation on a defaulted credit line).

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

mod concurrency;
mod eligibility;
mod eligibility_answers;
mod lifecycle;
mod reviews;
mod risk_claims;
mod rules;
mod window;

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

async fn own_application(c: &City, i: usize) -> String {
    let own = c
        .app
        .get("/fund-applications", ent(c, i))
        .await
        .expect(200)
        .body;
    id(&own["items"][0])
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
