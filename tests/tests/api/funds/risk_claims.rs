//! Risk-compensation claims (风险补偿) on a defaulted credit line: who may claim what, the
//! payable reserved and paid, recoveries returning the covered share once, and the bank's
//! documents.

use super::*;

/// A chain with a lead bank (which grants the lines) and a partner bank, and the fund office.
async fn bank_city() -> City {
    CityBuilder::new()
        .long_lived_tokens()
        .enterprise("南通某电子公司")
        .enterprise("南通某材料公司")
        .chain("EI", CHAIN_NAME, "电子信息链长办", true)
        .bank("南通主办银行", "lead")
        .bank("南通合作银行", "partner")
        .fund_office("市产业基金办")
        .build()
        .await
}

async fn claim(c: &City, token: &str, p: &Value, line: &str, loss: Value) -> Answer {
    c.app
        .post(
            "/risk-claims",
            token,
            json!({"program_id": p["id"], "credit_line_id": line, "loss_amount": loss,
                   "note": "企业经营困难，贷款逾期90天以上"}),
        )
        .await
}

#[tokio::test]
async fn a_risk_claim_reserves_the_payable_is_paid_and_a_recovery_returns_the_covered_share_once() {
    let c = bank_city().await;
    let app = &c.app;
    let (lead, partner) = (&c.banks[0], &c.banks[1]);
    let (credit, l) = line(&c, "1000000.00", true).await;
    let lid = id(&l);
    let granted = |c: &City| {
        let http = c.app.http();
        let (path, token) = (
            format!("/credit-programs/{}", id(&credit)),
            c.banks[0].token.clone(),
        );
        async move { http.get(&path, &token).await.expect(200).body["granted"].clone() }
    };
    assert_eq!(granted(&c).await, "1000000.00");
    book(&c, &lid, "drawdowns", "800000.00", "2026-03-02")
        .await
        .expect(201);
    let p = program(
        &c,
        json!({"name": "产业链风险补偿资金池", "kind": "risk_compensation", "budget": "2000000.00",
               "max_per_application": "2000000.00", "coverage_percent": "80",
               "max_per_claim": "500000.00", "notice_working_days": 0}),
    )
    .await;
    let guidance = program(&c, json!({"kind": "guidance"})).await;

    // Who may claim, on what, for how much.
    claim(&c, ent(&c, 0), &p, &lid, json!("1000.00"))
        .await
        .expect_problem(403);
    let a = claim(&c, &partner.token, &p, &lid, json!("1000.00"))
        .await
        .expect_problem(422);
    assert_eq!(a.body["errors"][0]["field"], "credit_line_id");
    let a = claim(&c, &lead.token, &guidance, &lid, json!("1000.00"))
        .await
        .expect_problem(422);
    assert_eq!(a.body["errors"][0]["field"], "program_id");
    let a = claim(&c, &lead.token, &p, &lid, json!(500000))
        .await
        .expect_problem(422);
    assert_eq!(a.body["errors"][0]["field"], "loss_amount");
    let a = claim(&c, &lead.token, &p, &lid, json!("800000.01"))
        .await
        .expect_problem(409);
    assert_eq!(a.body["code"], "loss_exceeds_outstanding");
    assert_eq!(program_now(&c, &p).await["committed"], "0.00");

    // A loss of 700,000 at 80 % is capped at 500,000 per claim; rejected, it is released.
    let first = claim(&c, &lead.token, &p, &lid, json!("700000.00"))
        .await
        .expect(201)
        .body;
    assert_eq!(first["status"], "submitted");
    assert_eq!(first["loss_amount"], "700000.00");
    assert_eq!(first["payable"], "500000.00");
    assert_eq!(program_now(&c, &p).await["committed"], "500000.00");
    // The line defaulted: no more drawdowns, and no second live claim.
    let l = app
        .get(&format!("/credit-lines/{lid}"), &lead.token)
        .await
        .expect(200)
        .body;
    assert_eq!(l["status"], "defaulted");
    assert_eq!(
        granted(&c).await,
        "0.00",
        "a defaulted line no longer holds its credit program's quota"
    );
    let refused = book(&c, &lid, "drawdowns", "1.00", "2026-03-02")
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "line_not_active");
    let dup = claim(&c, &lead.token, &p, &lid, json!("1000.00"))
        .await
        .expect_problem(409);
    assert_eq!(dup.body["code"], "duplicate_claim");
    let decide = format!("/risk-claims/{}/decision", id(&first));
    app.post(&decide, &lead.token, json!({"approve": true, "note": ""}))
        .await
        .expect_problem(403);
    let bad = app
        .post(&decide, fund(&c), json!({"approve": false, "note": ""}))
        .await
        .expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "note");
    let r = app
        .post(
            &decide,
            fund(&c),
            json!({"approve": false, "note": "损失认定材料不全"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(r["status"], "rejected");
    assert_eq!(program_now(&c, &p).await["committed"], "0.00");

    // Claimed again at 500,000: 400,000 payable and reserved.
    let cl = claim(&c, &lead.token, &p, &lid, json!("500000.00"))
        .await
        .expect(201)
        .body;
    let cid = id(&cl);
    assert_eq!(cl["payable"], "400000.00");
    let pr = program_now(&c, &p).await;
    assert_eq!(pr["committed"], "400000.00");
    assert_eq!(pr["remaining"], "1600000.00");
    assert_eq!(count(&c, fund(&c), "risk_claim_received").await, 2);

    // Nothing is paid before the decision; then at most the payable.
    let pay = |amount: &str| {
        let http = app.http();
        let (path, token, amount) = (
            format!("/risk-claims/{cid}/payments"),
            fund(&c).to_string(),
            amount.to_string(),
        );
        async move {
            http.post(
                &path,
                &token,
                json!({"amount": amount, "paid_on": "2026-03-02", "reference": "FX-001"}),
            )
            .await
        }
    };
    let early = pay("1.00").await.expect_problem(409);
    assert_eq!(early.body["code"], "invalid_transition");
    let r = app
        .post(
            &format!("/risk-claims/{cid}/decision"),
            fund(&c),
            json!({"approve": true, "note": "同意补偿"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(r["status"], "approved");
    let again = app
        .post(
            &format!("/risk-claims/{cid}/decision"),
            fund(&c),
            json!({"approve": true, "note": ""}),
        )
        .await
        .expect_problem(409);
    assert_eq!(again.body["code"], "invalid_transition");
    app.post(
        &format!("/risk-claims/{cid}/payments"),
        &lead.token,
        json!({"amount": "1.00", "paid_on": "2026-03-02"}),
    )
    .await
    .expect_problem(403);
    let over = pay("400000.01").await.expect_problem(409);
    assert_eq!(over.body["code"], "exceeds_approved");
    pay("150000.00").await.expect(201);
    let recover = |amount: &str, key: &str| {
        let http = app.http();
        let (path, token, amount, key) = (
            format!("/risk-claims/{cid}/recoveries"),
            lead.token.clone(),
            amount.to_string(),
            key.to_string(),
        );
        async move {
            http.post_with_key(
                &path,
                &token,
                json!({"amount": amount, "recovered_on": "2026-03-02"}),
                &key,
            )
            .await
        }
    };
    let early = recover("1.00", "rec-0").await.expect_problem(409);
    assert_eq!(early.body["code"], "not_paid");
    pay("250000.00").await.expect(201);
    let r = app
        .get(&format!("/risk-claims/{cid}"), &lead.token)
        .await
        .expect(200)
        .body;
    assert_eq!(r["status"], "paid");
    assert_eq!(r["paid"], "400000.00");
    let pr = program_now(&c, &p).await;
    assert_eq!(pr["committed"], "400000.00");
    assert_eq!(pr["disbursed"], "400000.00");
    pay("0.01").await.expect_problem(409);

    // A recovery of 100,000 gives back its covered 80 % once, even when sent twice.
    app.post(
        &format!("/risk-claims/{cid}/recoveries"),
        fund(&c),
        json!({"amount": "1.00", "recovered_on": "2026-03-02"}),
    )
    .await
    .expect_problem(403);
    let rec = recover("100000.00", "rec-1").await.expect(201).body;
    assert_eq!(rec["amount"], "100000.00");
    assert_eq!(rec["returned"], "80000.00");
    assert_eq!(rec["claim"]["recovered"], "100000.00");
    assert_eq!(rec["claim"]["returned"], "80000.00");
    let replay = recover("100000.00", "rec-1").await.expect(201).body;
    assert_eq!(replay["id"], rec["id"]);
    let pr = program_now(&c, &p).await;
    assert_eq!(pr["committed"], "320000.00");
    assert_eq!(pr["disbursed"], "320000.00");
    assert_eq!(pr["recovered"], "80000.00");
    assert_eq!(pr["remaining"], "1680000.00");
    let l = app
        .get(&format!("/credit-lines/{lid}"), &lead.token)
        .await
        .expect(200)
        .body;
    assert_eq!(l["outstanding"], "700000.00");
    let rec = recover("50000.00", "rec-2").await.expect(201).body;
    assert_eq!(rec["returned"], "40000.00");
    let pr = program_now(&c, &p).await;
    assert_eq!(pr["committed"], "280000.00");
    assert_eq!(pr["disbursed"], "280000.00");
    assert_eq!(pr["recovered"], "120000.00");
    let over = recover("350000.01", "rec-3").await.expect_problem(409);
    assert_eq!(over.body["code"], "exceeds_loss");
    let l = app
        .get(&format!("/credit-lines/{lid}"), &lead.token)
        .await
        .expect(200)
        .body;
    assert_eq!(l["outstanding"], "650000.00");

    // The claim's record and who sees it.
    let r = app
        .get(&format!("/risk-claims/{cid}"), fund(&c))
        .await
        .expect(200)
        .body;
    assert_eq!(r["recoveries"].as_array().unwrap().len(), 2);
    assert_eq!(r["payments"].as_array().unwrap().len(), 2);
    assert_eq!(
        actions(&r),
        ["submit", "approve", "pay", "pay", "recovery", "recovery"]
    );
    assert_eq!(count(&c, &lead.token, "risk_claim_decided").await, 2);
    assert_eq!(count(&c, &lead.token, "risk_claim_paid").await, 2);
    app.get(&format!("/risk-claims/{cid}"), &partner.token)
        .await
        .expect_problem(404);
    let theirs = app
        .get("/risk-claims", &partner.token)
        .await
        .expect(200)
        .body;
    assert_eq!(theirs["items"], json!([]));
    let mine = app.get("/risk-claims", &lead.token).await.expect(200).body;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    app.get("/risk-claims", ent(&c, 0))
        .await
        .expect_problem(403);
    app.get(&format!("/risk-claims/{cid}"), office(&c))
        .await
        .expect(200);
}

#[tokio::test]
async fn payable_is_rounded_half_even_and_held_to_the_pools_budget_and_chains() {
    let c = bank_city().await;
    let lead = &c.banks[0].token;
    let (_, a) = line(&c, "1000.00", true).await;
    let (_, b) = line(&c, "1000.00", true).await;
    for l in [&a, &b] {
        book(&c, &id(l), "drawdowns", "500.00", "2026-03-02")
            .await
            .expect(201);
    }
    let pool = program(
        &c,
        json!({"kind": "risk_compensation", "budget": "100.00", "max_per_application": "100.00",
               "coverage_percent": "50", "max_per_claim": "100.00"}),
    )
    .await;
    let reject = |claim: Value| {
        let http = c.app.http();
        let (path, token) = (
            format!("/risk-claims/{}/decision", id(&claim)),
            fund(&c).to_string(),
        );
        async move {
            http.post(&path, &token, json!({"approve": false, "note": "测试"}))
                .await
                .expect(200);
        }
    };
    // Half a fen goes to the even fen: 0.025 → 0.02, 0.015 → 0.02; 0.005 → nothing to pay.
    for (loss, payable) in [("0.05", "0.02"), ("0.03", "0.02"), ("0.07", "0.04")] {
        let cl = claim(&c, lead, &pool, &id(&a), json!(loss))
            .await
            .expect(201)
            .body;
        assert_eq!(cl["payable"], payable, "loss {loss}");
        reject(cl).await;
    }
    let small = claim(&c, lead, &pool, &id(&a), json!("0.01"))
        .await
        .expect_problem(422);
    assert_eq!(small.body["errors"][0]["field"], "loss_amount");
    assert_eq!(program_now(&c, &pool).await["committed"], "0.00");

    // 80 of 100 reserved on line a; line b's 80 does not fit and changes nothing.
    claim(&c, lead, &pool, &id(&a), json!("160.00"))
        .await
        .expect(201);
    let over = claim(&c, lead, &pool, &id(&b), json!("160.00"))
        .await
        .expect_problem(409);
    assert_eq!(over.body["code"], "budget_exceeded");
    assert_eq!(program_now(&c, &pool).await["committed"], "80.00");
    let lb = c
        .app
        .get(&format!("/credit-lines/{}", id(&b)), lead)
        .await
        .expect(200)
        .body;
    assert_eq!(lb["status"], "active");
    book(&c, &id(&b), "drawdowns", "1.00", "2026-03-02")
        .await
        .expect(201);

    // A pool of another chain takes no claim on this chain's lines.
    let (other, _, _) = chain_with_office(&c.app, &c.admin, "NM").await;
    let elsewhere = program(
        &c,
        json!({"kind": "risk_compensation", "coverage_percent": "50", "max_per_claim": "100.00",
               "eligibility": {"chain_ids": [other]}}),
    )
    .await;
    let refused = claim(&c, lead, &elsewhere, &id(&b), json!("10.00"))
        .await
        .expect_problem(409);
    assert_eq!(refused.body["code"], "not_eligible");
}

/// A bank's claim carries its documents; the fund office reads them, the partner bank and the
/// enterprise do not.
#[tokio::test]
async fn a_risk_claim_carries_the_banks_documents_for_the_fund_office_only() {
    use tests::files::{download, pdf, upload};
    let c = bank_city().await;
    let (lead, partner) = (&c.banks[0], &c.banks[1]);
    let (_, l) = line(&c, "1000000.00", true).await;
    book(&c, &id(&l), "drawdowns", "500000.00", "2026-03-02")
        .await
        .expect(201);
    let p = program(
        &c,
        json!({"name": "产业链风险补偿资金池", "kind": "risk_compensation", "budget": "2000000.00",
               "max_per_application": "2000000.00", "coverage_percent": "80",
               "max_per_claim": "500000.00", "notice_working_days": 0}),
    )
    .await;
    let evidence = upload(
        &c.app,
        &lead.token,
        "逾期催收记录.pdf",
        pdf(),
        "application/pdf",
    )
    .await
    .expect(201)
    .body;
    let made = c
        .app
        .post(
            "/risk-claims",
            &lead.token,
            json!({"program_id": p["id"], "credit_line_id": id(&l), "loss_amount": "300000.00",
                   "note": "企业经营困难，贷款逾期90天以上", "attachment_ids": [evidence["id"]]}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(made["attachments"][0]["id"], evidence["id"]);
    let listed = c.app.listed("/risk-claims", fund(&c), &id(&made)).await;
    assert_eq!(listed["attachments"][0]["name"], "逾期催收记录.pdf");
    let fid = id(&evidence);
    assert_eq!(download(&c.app, fund(&c), &fid, &[]).await.0, 200);
    assert_eq!(download(&c.app, &partner.token, &fid, &[]).await.0, 404);
    assert_eq!(download(&c.app, ent(&c, 0), &fid, &[]).await.0, 404);
}
