//! An application's life: through every status with a timeline line and a notice each, what the
//! enterprise reads of an objection, a withdrawal giving the reservation back until money is
//! paid, and the public notice across National Day.

use super::*;

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
