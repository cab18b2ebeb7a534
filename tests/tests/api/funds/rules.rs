//! Who may do what: programs only from the fund office with valid amounts, every 403/409/422 of
//! an application, an application without a chain, each caller seeing only what is theirs, and
//! a declared conflict of interest barring the reviewer.

use super::*;

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
