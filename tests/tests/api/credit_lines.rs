//! Credit lines over HTTP: the ledger (drawdowns, repayments, reversals) on revolving and
//! non-revolving lines, required idempotency, the status actions with the program's exposure
//! coming back, the expiry job, and (PostgreSQL) concurrent drawdowns against one limit.
//! Lines are made through the contract's flow: program → request → accept → approve.

use chrono::TimeDelta;
use serde_json::{Value, json};
use tests::{
    Answer,
    fixtures::{City, CityBuilder},
};

/// A chain with two member enterprises, a lead bank and a partner bank.
pub(crate) async fn city() -> City {
    CityBuilder::new()
        .long_lived_tokens()
        .centre("市企业服务中心")
        .enterprise("南通某电子公司")
        .enterprise("南通某材料公司")
        .chain("EI", "电子信息产业链", "电子信息链长办", true)
        .user_email("office@example.cn")
        .bank("南通主办银行", "lead")
        .user_email("lead-bank@example.cn")
        .bank("南通合作银行", "partner")
        .build()
        .await
}

pub(crate) fn chain(c: &City) -> String {
    c.chain.as_ref().expect("chain").id.clone()
}

/// A program of the lead bank: quota 10,000,000.00.
pub(crate) async fn program(c: &City) -> Value {
    c.app
        .post(
            "/credit-programs",
            &c.banks[0].token,
            json!({"chain_id": chain(c), "name": "电子信息链专项授信", "quota": "10000000.00",
                   "max_per_enterprise": "6000000.00", "rate_floor": "3.2", "rate_ceiling": "4.35",
                   "max_term_months": 36, "valid_from": "2026-01-01", "valid_until": "2026-12-31"}),
        )
        .await
        .expect(201)
        .body
}

/// Submits a request of `enterprise` under `program`; returns its id.
pub(crate) async fn submit(c: &City, enterprise: usize, program: &Value) -> String {
    c.app
        .post(
            "/financing-requests",
            &c.enterprises[enterprise].token,
            json!({"chain_id": chain(c), "program_id": program["id"], "amount": "5000.00",
                   "term_months": 12, "purpose": "采购原材料", "product": "working_capital"}),
        )
        .await
        .expect(201)
        .id()
}

/// Accepts and approves request `id` with `limit` and `rate`; returns the line.
pub(crate) async fn approve(c: &City, id: &str, limit: &str, rate: &str, revolving: bool) -> Value {
    let bank = &c.banks[0].token;
    c.app
        .post(&format!("/financing-requests/{id}/accept"), bank, json!({}))
        .await
        .expect(200);
    let r = c
        .app
        .post(
            &format!("/financing-requests/{id}/approve"),
            bank,
            json!({"limit": limit, "rate": rate, "term_months": 12, "revolving": revolving,
                   "expires_on": "2027-03-01"}),
        )
        .await
        .expect(200)
        .body;
    let line = r["credit_line_id"].as_str().expect("a line").to_string();
    c.app
        .listed(
            &format!(
                "/credit-lines?enterprise_id={}",
                r["enterprise_id"].as_str().unwrap()
            ),
            bank,
            &line,
        )
        .await
}

/// A line of enterprise 0 made through the whole flow.
pub(crate) async fn line(c: &City, limit: &str, revolving: bool) -> (Value, Value) {
    let p = program(c).await;
    let r = submit(c, 0, &p).await;
    (p.clone(), approve(c, &r, limit, "3.85", revolving).await)
}

/// Posts with an `Idempotency-Key`.
pub(crate) async fn post_key(c: &City, token: &str, path: &str, body: Value, key: &str) -> Answer {
    c.app
        .send(
            reqwest::Method::POST,
            path,
            Some(token),
            Some(&body),
            &[("Idempotency-Key", key)],
        )
        .await
}

pub(crate) async fn book(c: &City, line: &str, kind: &str, amount: &str, date: &str) -> Answer {
    post_key(
        c,
        &c.banks[0].token,
        &format!("/credit-lines/{line}/{kind}"),
        json!({"amount": amount, "value_date": date}),
        &uuid::Uuid::new_v4().to_string(),
    )
    .await
}

pub(crate) async fn reverse(c: &City, line: &str, movement: &str) -> Answer {
    post_key(
        c,
        &c.banks[0].token,
        &format!("/credit-lines/{line}/movements/{movement}/reverse"),
        json!({"reason": "录入错误"}),
        &uuid::Uuid::new_v4().to_string(),
    )
    .await
}

/// The program's remaining quota.
async fn remaining(c: &City, p: &Value) -> Value {
    let path = format!("/credit-programs/{}", p["id"].as_str().unwrap());
    c.app.get(&path, &c.banks[0].token).await.expect(200).body["remaining"].clone()
}

fn fen(v: &Value) -> i64 {
    let s = v.as_str().expect("a money string");
    let (y, f) = s.split_once('.').expect("two places");
    y.parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap()
}

/// The line and its ledger agree: outstanding = Σ drawdowns − Σ repayments ± reversals, and
/// available = limit − (outstanding, or net drawn on a non-revolving line).
async fn assert_ledger_matches(c: &City, line: &str) -> Value {
    let l = c
        .app
        .get(&format!("/credit-lines/{line}"), &c.banks[0].token)
        .await
        .expect(200)
        .body;
    let ms = c
        .app
        .get(
            &format!("/credit-lines/{line}/movements?limit=200"),
            &c.enterprises[0].token,
        )
        .await
        .expect(200)
        .body;
    let items = ms["items"].as_array().unwrap();
    let kind_of = |id: &Value| {
        items
            .iter()
            .find(|m| m["id"] == *id)
            .map(|m| m["kind"].as_str().unwrap().to_string())
    };
    let (mut outstanding, mut drawn) = (0, 0);
    for m in items {
        let a = fen(&m["amount"]);
        match (
            m["kind"].as_str().unwrap(),
            kind_of(&m["reverses_id"]).as_deref(),
        ) {
            ("drawdown", _) => {
                outstanding += a;
                drawn += a;
            }
            ("repayment", _) => outstanding -= a,
            ("reversal", Some("drawdown")) => {
                outstanding -= a;
                drawn -= a;
            }
            ("reversal", Some("repayment")) => outstanding += a,
            other => panic!("unexpected movement {other:?}"),
        }
    }
    assert_eq!(fen(&l["outstanding"]), outstanding, "{l}");
    let used = if l["revolving"] == true {
        outstanding
    } else {
        drawn
    };
    assert_eq!(fen(&l["available"]), fen(&l["limit"]) - used, "{l}");
    l
}

#[tokio::test]
async fn a_revolving_line_draws_repays_and_reverses_once() {
    let c = city().await;
    let (_, l) = line(&c, "1000.00", true).await;
    let id = l["id"].as_str().unwrap();
    assert_eq!(l["status"], "active");
    assert_eq!(l["available"], "1000.00");
    assert_eq!(l["outstanding"], "0.00");
    assert_eq!(l["rate"], "3.85");
    assert!(l["first_drawdown_at"].is_null());

    let d = book(&c, id, "drawdowns", "600.00", "2026-03-02")
        .await
        .expect(201)
        .body;
    assert_eq!(d["kind"], "drawdown");
    assert_eq!(d["amount"], "600.00");
    assert_eq!(d["line"]["available"], "400.00");
    assert!(d["line"]["first_drawdown_at"].is_string());
    let refused = book(&c, id, "drawdowns", "400.01", "2026-03-02")
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "exceeds_available");
    let r = book(&c, id, "repayments", "200.00", "2026-03-02")
        .await
        .expect(201)
        .body;
    assert_eq!(r["line"]["outstanding"], "400.00");
    assert_eq!(
        r["line"]["available"], "600.00",
        "a revolving line's room comes back"
    );
    let refused = book(&c, id, "repayments", "400.01", "2026-03-02")
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "exceeds_outstanding");

    // Reversing the repayment restores the balance; twice is refused, and so is reversing a
    // reversal.
    let rev = reverse(&c, id, r["id"].as_str().unwrap())
        .await
        .expect(201)
        .body;
    assert_eq!(rev["kind"], "reversal");
    assert_eq!(rev["reverses_id"], r["id"]);
    assert_eq!(rev["line"]["outstanding"], "600.00");
    let again = reverse(&c, id, r["id"].as_str().unwrap())
        .await
        .expect_problem(409);
    assert_eq!(again.body["code"], "already_reversed");
    let rr = reverse(&c, id, rev["id"].as_str().unwrap())
        .await
        .expect_problem(409);
    assert_eq!(rr.body["code"], "cannot_reverse_reversal");
    // Reversing the drawdown of 600 with 600 outstanding takes it to zero.
    let rd = reverse(&c, id, d["id"].as_str().unwrap())
        .await
        .expect(201)
        .body;
    assert_eq!(rd["line"]["outstanding"], "0.00");
    assert_eq!(rd["line"]["available"], "1000.00");

    let l = assert_ledger_matches(&c, id).await;
    assert_eq!(l["outstanding"], "0.00");
    let ms = c
        .app
        .get(&format!("/credit-lines/{id}/movements"), &c.banks[0].token)
        .await
        .expect(200)
        .body;
    let kinds: Vec<&str> = ms["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["drawdown", "repayment", "reversal", "reversal"],
        "oldest first"
    );
}

#[tokio::test]
async fn a_non_revolving_line_does_not_give_room_back_on_repayment() {
    let c = city().await;
    let (_, l) = line(&c, "1000.00", false).await;
    let id = l["id"].as_str().unwrap();
    book(&c, id, "drawdowns", "600.00", "2026-03-02")
        .await
        .expect(201);
    let r = book(&c, id, "repayments", "600.00", "2026-03-02")
        .await
        .expect(201)
        .body;
    assert_eq!(r["line"]["outstanding"], "0.00");
    assert_eq!(r["line"]["available"], "400.00");
    let refused = book(&c, id, "drawdowns", "500.00", "2026-03-02")
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "exceeds_available");
    book(&c, id, "drawdowns", "400.00", "2026-03-02")
        .await
        .expect(201);
    // Outstanding 400: the first drawdown (600) cannot be reversed until the repayment is.
    let ms = c
        .app
        .get(&format!("/credit-lines/{id}/movements"), &c.banks[0].token)
        .await
        .expect(200)
        .body;
    let first = ms["items"][0]["id"].as_str().unwrap().to_string();
    let repay = ms["items"][1]["id"].as_str().unwrap().to_string();
    let refused = reverse(&c, id, &first).await.expect_problem(409);
    assert_eq!(refused.body["code"], "reversal_below_zero");
    let back = reverse(&c, id, &repay).await.expect(201).body;
    assert_eq!(back["line"]["outstanding"], "1000.00");
    assert_eq!(back["line"]["available"], "0.00");
    let rd = reverse(&c, id, &first).await.expect(201).body;
    assert_eq!(rd["line"]["outstanding"], "400.00");
    assert_eq!(
        rd["line"]["available"], "600.00",
        "a reversed drawdown was never drawn"
    );
    assert_ledger_matches(&c, id).await;
}

#[tokio::test]
async fn bad_postings_are_refused_and_change_nothing() {
    let c = city().await;
    let (_, l) = line(&c, "1000.00", true).await;
    let id = l["id"].as_str().unwrap();
    let path = format!("/credit-lines/{id}/drawdowns");
    let body = json!({"amount": "100.00", "value_date": "2026-03-02"});
    // No key: 400.
    let no_key = c
        .app
        .post(&path, &c.banks[0].token, body.clone())
        .await
        .expect_problem(400);
    assert!(no_key.text.contains("Idempotency-Key"));
    // The enterprise and the centre may not book (403); the partner bank cannot see the line.
    for token in [&c.enterprises[0].token, &c.centre.as_ref().unwrap().token] {
        post_key(&c, token, &path, body.clone(), "k-role")
            .await
            .expect_problem(403);
    }
    post_key(&c, &c.banks[1].token, &path, body.clone(), "k-other")
        .await
        .expect_problem(404);
    c.app
        .get(&format!("/credit-lines/{id}"), &c.banks[1].token)
        .await
        .expect_problem(404);
    c.app
        .get(&format!("/credit-lines/{id}"), &c.enterprises[1].token)
        .await
        .expect_problem(404);
    c.app
        .get(
            &format!("/credit-lines/{id}"),
            &c.chain.as_ref().unwrap().office.token,
        )
        .await
        .expect(200);
    // Validation: a JSON number, three places, zero, a future or pre-approval value date.
    for (bad, field) in [
        (json!({"amount": 100, "value_date": "2026-03-02"}), "amount"),
        (
            json!({"amount": "1.234", "value_date": "2026-03-02"}),
            "amount",
        ),
        (
            json!({"amount": "0.00", "value_date": "2026-03-02"}),
            "amount",
        ),
        (
            json!({"amount": "1.00", "value_date": "2026-03-03"}),
            "value_date",
        ),
        (
            json!({"amount": "1.00", "value_date": "2026-03-01"}),
            "value_date",
        ),
    ] {
        let a = post_key(
            &c,
            &c.banks[0].token,
            &path,
            bad.clone(),
            &uuid::Uuid::new_v4().to_string(),
        )
        .await
        .expect_problem(422);
        assert_eq!(a.body["errors"][0]["field"], field, "{bad}");
    }
    // The same key and body books once and replays the answer; another body is 422.
    let first = post_key(&c, &c.banks[0].token, &path, body.clone(), "k-1")
        .await
        .expect(201);
    let replay = post_key(&c, &c.banks[0].token, &path, body.clone(), "k-1")
        .await
        .expect(201);
    assert_eq!(first.body["id"], replay.body["id"]);
    assert_eq!(replay.headers.get("Idempotent-Replayed").unwrap(), "true");
    post_key(
        &c,
        &c.banks[0].token,
        &path,
        json!({"amount": "200.00", "value_date": "2026-03-02"}),
        "k-1",
    )
    .await
    .expect_problem(422);
    let l = assert_ledger_matches(&c, id).await;
    assert_eq!(l["outstanding"], "100.00", "booked once");
}

#[tokio::test]
async fn freeze_unfreeze_close_and_the_program_gets_its_quota_back() {
    let c = city().await;
    let (p, l) = line(&c, "1000.00", true).await;
    let id = l["id"].as_str().unwrap();
    assert_eq!(remaining(&c, &p).await, "9999000.00");
    let bank = &c.banks[0].token;
    let act = |a: &'static str, token: String| {
        let path = format!("/credit-lines/{id}/{a}");
        let c = &c;
        async move { c.app.post(&path, &token, json!({})).await }
    };
    book(&c, id, "drawdowns", "100.00", "2026-03-02")
        .await
        .expect(201);
    act("freeze", c.enterprises[0].token.clone())
        .await
        .expect_problem(403);
    act("freeze", c.banks[1].token.clone())
        .await
        .expect_problem(404);
    let f = act("freeze", bank.clone()).await.expect(200);
    assert_eq!(f.body["status"], "frozen");
    assert_eq!(
        act("freeze", bank.clone()).await.expect_problem(409).body["code"],
        "line_not_active"
    );
    let refused = book(&c, id, "drawdowns", "1.00", "2026-03-02")
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "line_not_active");
    assert_eq!(
        remaining(&c, &p).await,
        "9999000.00",
        "a frozen line still holds exposure"
    );
    assert_eq!(
        act("close", bank.clone()).await.expect_problem(409).body["code"],
        "outstanding_not_zero"
    );
    book(&c, id, "repayments", "100.00", "2026-03-02")
        .await
        .expect(201);
    assert_eq!(
        act("unfreeze", bank.clone()).await.expect(200).body["status"],
        "active"
    );
    let closed = act("close", bank.clone()).await.expect(200).body;
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    assert_eq!(remaining(&c, &p).await, "10000000.00");
    assert_eq!(
        act("close", bank.clone()).await.expect_problem(409).body["code"],
        "line_not_open"
    );
    assert_eq!(remaining(&c, &p).await, "10000000.00", "given back once");
    // The enterprise was told of each change.
    let n = c
        .app
        .get("/notifications", &c.enterprises[0].token)
        .await
        .expect(200)
        .body;
    let changes = n["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "credit_line_changed")
        .count();
    assert_eq!(changes, 3, "{n}");
}

#[tokio::test]
async fn unused_and_matured_lines_expire_and_give_their_limit_back() {
    let c = city().await;
    let p = program(&c).await;
    let unused = approve(&c, &submit(&c, 0, &p).await, "1000.00", "3.85", true).await;
    let drawn = approve(&c, &submit(&c, 1, &p).await, "2000.00", "3.85", true).await;
    book(
        &c,
        drawn["id"].as_str().unwrap(),
        "drawdowns",
        "10.00",
        "2026-03-02",
    )
    .await
    .expect(201);
    assert_eq!(remaining(&c, &p).await, "9997000.00");
    c.app.advance(TimeDelta::days(89));
    c.app
        .jobs
        .run_now("credit_line_expiry")
        .await
        .expect("runs");
    assert_eq!(
        c.app
            .get(
                &format!("/credit-lines/{}", unused["id"].as_str().unwrap()),
                &c.banks[0].token
            )
            .await
            .body["status"],
        "active"
    );
    c.app.advance(TimeDelta::days(2));
    c.app
        .jobs
        .run_now("credit_line_expiry")
        .await
        .expect("runs");
    let u = c
        .app
        .get(
            &format!("/credit-lines/{}", unused["id"].as_str().unwrap()),
            &c.banks[0].token,
        )
        .await
        .body;
    assert_eq!(u["status"], "expired");
    let d = c
        .app
        .get(
            &format!("/credit-lines/{}", drawn["id"].as_str().unwrap()),
            &c.banks[0].token,
        )
        .await
        .body;
    assert_eq!(d["status"], "active", "a drawn line lives until it matures");
    assert_eq!(remaining(&c, &p).await, "9998000.00");
    // Idempotent: another run changes nothing.
    c.app
        .jobs
        .run_now("credit_line_expiry")
        .await
        .expect("runs");
    assert_eq!(remaining(&c, &p).await, "9998000.00");
    // Past `expires_on` (2027-03-01) the drawn line expires too; it can still be repaid.
    c.app.advance(TimeDelta::days(274));
    c.app
        .jobs
        .run_now("credit_line_expiry")
        .await
        .expect("runs");
    let d = c
        .app
        .get(
            &format!("/credit-lines/{}", drawn["id"].as_str().unwrap()),
            &c.banks[0].token,
        )
        .await
        .body;
    assert_eq!(d["status"], "expired");
    assert_eq!(remaining(&c, &p).await, "10000000.00");
    let n = c
        .app
        .get("/notifications", &c.banks[0].token)
        .await
        .expect(200)
        .body;
    assert!(
        n["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "credit_line_changed"),
        "{n}"
    );
}

#[tokio::test]
async fn concurrent_drawdowns_never_pass_the_limit_on_postgres() {
    let c = city().await;
    if !c.app.is_postgres {
        return;
    }
    let (_, l) = line(&c, "1000.00", true).await;
    let id = l["id"].as_str().unwrap().to_string();
    let tasks = (0..50).map(|_| {
        let http = c.app.http();
        let token = c.banks[0].token.clone();
        let id = id.clone();
        tokio::spawn(async move {
            http.post_with_key(
                &format!("/credit-lines/{id}/drawdowns"),
                &token,
                json!({"amount": "30.00", "value_date": "2026-03-02"}),
                &uuid::Uuid::new_v4().to_string(),
            )
            .await
        })
    });
    let answers = futures::future::join_all(tasks).await;
    let mut booked = 0;
    for a in answers {
        let a = a.expect("task");
        match a.status.as_u16() {
            201 => booked += 1,
            409 => assert_eq!(a.body["code"], "exceeds_available", "{}", a.text),
            s => panic!("unexpected {s}: {}", a.text),
        }
    }
    assert_eq!(booked, 33, "30.00 × 33 = 990.00 fits, a 34th does not");
    let l = assert_ledger_matches(&c, &id).await;
    assert_eq!(l["outstanding"], "990.00");
}
