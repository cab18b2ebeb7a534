//! Funds under concurrency: twenty final approvals against one budget never over-commit it and
//! an upheld objection frees its amount once; concurrent submissions, payments, withdrawals
//! and reversals each count once.

use super::*;

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
