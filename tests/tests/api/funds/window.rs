//! The window-opening job over HTTP and SMTP: the policy push tells each eligible enterprise
//! once, in the app and by mail, and an apply-free award creates exactly the eligible
//! applications.

use super::*;

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
