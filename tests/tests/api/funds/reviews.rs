//! The two reviews: a chain office reviews only what came through its chain, review clocks
//! breach to whoever holds the stage, and a repeated project in another program of the year is
//! flagged, not refused.

use super::*;

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
