//! Explained eligibility: the window's end at local midnight, every unmet rule in Chinese, a
//! qualification lapsing between application and disbursement, and the eligibility list
//! showing a program's changes at once.

use super::*;

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
