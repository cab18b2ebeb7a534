//! Lead-bank reports over HTTP: a month computed by hand and compared field by field, the CSV,
//! a regeneration's version, who may generate and see, and the monthly job run by two runners
//! at once mailing the CSV as an attachment.

use crate::credit_lines::{approve, book, city, program, reverse, submit};
use chrono::TimeDelta;
use entity::{bank_report, clock::Clock};
use jobs::{Runner, mail::dispatch};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::shanghai as sh;

/// The fields compared, and what March 2026 must give for the lead bank's chain.
fn expected_march() -> Value {
    json!({
        "period": "2026-03",
        "requests_received": 3,
        "accepted_on_time": 3,
        "decided_on_time": 3,
        "approved_count": 2,
        "approved_amount": "4000.00",
        "rejected_count": 1,
        "drawn_amount": "1500.00",
        "repaid_amount": "200.00",
        "outstanding_end": "1300.00",
        "avg_rate": "3.55",
        "enterprises_served": 2,
        "avg_decision_working_hours": "1.33",
    })
}

fn assert_figures(report: &Value, expected: &Value) {
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&report[k], v, "{k} in {report}");
    }
}

#[tokio::test]
async fn a_month_by_hand_the_csv_versions_and_the_job_with_two_runners() {
    let c = city().await;
    let app = &c.app;
    let lead = &c.banks[0];
    let chain = c.chain.as_ref().unwrap();
    let p = program(&c).await;

    // Mon 2026-03-02 09:00: A (enterprise 0) accepted and approved at once (0 s to decide).
    let a = submit(&c, 0, &p).await;
    let b = submit(&c, 1, &p).await;
    let cc = submit(&c, 0, &p).await;
    let line_a = approve(&c, &a, "1000.00", "3.85", true).await;
    for id in [&b] {
        app.post(
            &format!("/financing-requests/{id}/accept"),
            &lead.token,
            json!({}),
        )
        .await
        .expect(200);
    }
    // 11:00: B rejected, C accepted and approved (2 working hours each).
    app.advance(TimeDelta::hours(2));
    app.post(
        &format!("/financing-requests/{b}/reject"),
        &lead.token,
        json!({"reason": "经营数据不足"}),
    )
    .await
    .expect(200);
    let line_c = approve(&c, &cc, "3000.00", "3.45", true).await;
    let (la, lc) = (
        line_a["id"].as_str().unwrap(),
        line_c["id"].as_str().unwrap(),
    );
    book(&c, la, "drawdowns", "500.00", "2026-03-02")
        .await
        .expect(201);
    book(&c, la, "repayments", "200.00", "2026-03-02")
        .await
        .expect(201);
    let d = book(&c, la, "drawdowns", "100.00", "2026-03-02")
        .await
        .expect(201)
        .body;
    reverse(&c, la, d["id"].as_str().unwrap()).await.expect(201);
    book(&c, lc, "drawdowns", "1000.00", "2026-03-02")
        .await
        .expect(201);

    // March has not ended; bad periods and roles are refused.
    let generate = |token: &str, period: &str| {
        let token = token.to_string();
        let period = period.to_string();
        async move {
            app.post("/bank-reports/generate", &token, json!({"period": period}))
                .await
        }
    };
    assert_eq!(
        generate(&c.admin, "2026-03").await.expect_problem(422).body["errors"][0]["field"],
        "period"
    );
    generate(&c.admin, "2026-3").await.expect_problem(422);
    generate(&c.enterprises[0].token, "2026-02")
        .await
        .expect_problem(403);
    generate(&chain.office.token, "2026-02")
        .await
        .expect_problem(403);

    // Wed 2026-04-01 08:00, the first working day of April: an April drawdown that March must
    // not count, then the monthly job run by two runners at once.
    app.advance(sh(2026, 4, 1, 8, 0) - app.clock.now());
    book(&c, lc, "drawdowns", "50.00", "2026-04-01")
        .await
        .expect(201);
    let job: Vec<_> = app
        .jobs
        .jobs()
        .iter()
        .filter(|j| j.name == "bank_reports")
        .cloned()
        .collect();
    let r1 = Runner::new(app.jobs.context().clone(), job.clone()).with_owner("runner-a");
    let r2 = Runner::new(app.jobs.context().clone(), job).with_owner("runner-b");
    let (t1, t2) = tokio::join!(r1.tick(), r2.tick());
    t1.expect("tick a");
    t2.expect("tick b");
    r1.tick().await.expect("tick again");
    // One report per (bank, chain) pair, once.
    assert_eq!(bank_report::Entity::find().count(&app.db).await.unwrap(), 2);

    let listed = app
        .get(
            &format!("/bank-reports?bank_id={}&period=2026-03", lead.id),
            &lead.token,
        )
        .await
        .expect(200)
        .body;
    let v1 = listed["items"][0].clone();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["chain_id"], chain.id.as_str());
    assert!(v1["generated_by"].is_null());
    assert_figures(&v1, &expected_march());
    // The partner bank's report is all zeros, with no rate.
    let partner = app
        .get("/bank-reports", &c.banks[1].token)
        .await
        .expect(200)
        .body;
    assert_eq!(
        partner["items"].as_array().unwrap().len(),
        1,
        "a bank sees only its own"
    );
    assert_eq!(partner["items"][0]["requests_received"], 0);
    assert!(partner["items"][0]["avg_rate"].is_null());
    app.get(
        &format!("/bank-reports/{}", v1["id"].as_str().unwrap()),
        &c.banks[1].token,
    )
    .await
    .expect_problem(404);
    app.get(
        &format!("/bank-reports/{}", v1["id"].as_str().unwrap()),
        &chain.office.token,
    )
    .await
    .expect(200);

    // A regeneration by the bank is version 2 with the same figures.
    let again = generate(&lead.token, "2026-03").await.expect(201).body;
    assert_eq!(
        again["items"].as_array().unwrap().len(),
        1,
        "a bank generates its own pairs"
    );
    let v2 = &again["items"][0];
    assert_eq!(v2["version"], 2);
    assert!(v2["generated_by"].is_string());
    assert_figures(v2, &expected_march());

    // The CSV.
    let csv = app
        .get(
            &format!("/bank-reports/{}.csv", v2["id"].as_str().unwrap()),
            &lead.token,
        )
        .await
        .expect(200);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = csv.text.split("\r\n").collect();
    assert!(
        lines[0].starts_with("id,bank_id,chain_id,period,version,requests_received"),
        "{}",
        csv.text
    );
    assert!(
        lines[1].contains(",2026-03,2,3,3,3,2,4000.00,1,1500.00,200.00,1300.00,3.55,2,1.33,"),
        "{}",
        csv.text
    );

    // The job's mail, once office hours open: to the office and the bank, the CSV attached.
    app.advance(TimeDelta::hours(1));
    dispatch::run_once(app.jobs.context(), app.clock.now())
        .await
        .expect("dispatch");
    let reports: Vec<_> = app
        .mail
        .messages()
        .into_iter()
        .filter(|m| m.subject().contains("主办行月度报告") && m.subject().contains("南通主办银行"))
        .collect();
    let to: Vec<String> = reports.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    assert!(to.iter().any(|t| t.contains("office@example.cn")), "{to:?}");
    assert!(
        to.iter().any(|t| t.contains("lead-bank@example.cn")),
        "{to:?}"
    );
    assert_eq!(reports.len(), 2, "one mail each, sent once");
    for m in &reports {
        assert!(m.data.contains("multipart/mixed"), "{}", m.data);
        assert!(
            m.data.contains(
                "Content-Disposition: attachment; filename=\"bank-report-2026-03-v1.csv\""
            ),
            "{}",
            m.data
        );
        // The attachment is quoted-printable: join its soft line breaks.
        let row = ",2026-03,1,3,3,3,2,4000.00,1,1500.00,200.00,1300.00,3.55,2,1.33,";
        let plain = m.data.replace("=\r\n", "").contains(row);
        assert!(plain, "{}", m.data);
    }
}
