//! Organizations, self-registration, verification, users and qualifications.

use crate::support::{anonymous, chain_with_office, registration, username};
use reqwest::Method;
use serde_json::{Value, json};
use tests::*;

/// Field names of a 422 answer.
fn error_fields(res: &Answer) -> Vec<String> {
    res.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn new_user(role: &str, org: Option<&str>) -> Value {
    let name = username();
    json!({"username": name, "password": USER_PASSWORD, "display_name": "李四",
           "email": format!("{name}@example.cn"), "role": role, "organization_id": org})
}

#[tokio::test]
async fn admin_creates_an_organization_and_reads_it_back() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let uscc = random_uscc();
    let created = app
        .post(
            "/organizations",
            &admin,
            json!({"kind": "enterprise", "name": "常州精工", "uscc": uscc, "region": "江苏常州",
                   "contact_email": "jg@example.cn"}),
        )
        .await
        .expect(201);
    assert_eq!(created.str("kind"), "enterprise");
    assert_eq!(created.str("uscc"), uscc);
    assert_eq!(
        created.body["verified"], true,
        "admin-created organizations are verified"
    );
    let got = app
        .get(&format!("/organizations/{}", created.id()), &admin)
        .await
        .expect(200);
    assert_eq!(got.str("name"), "常州精工");
    assert_eq!(got.str("region"), "江苏常州");
    assert_eq!(got.body["qualifications"], json!([]));
}

#[tokio::test]
async fn organizations_list_filters_by_kind() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let bank = app.create_org(&admin, "bank", "江南银行").await;
    let dept = app.create_org(&admin, "department", "工信局").await;
    let banks = app
        .get("/organizations?kind=bank", &admin)
        .await
        .expect(200);
    let ids: Vec<&str> = banks.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![bank.as_str()]);
    assert!(banks.body["next_cursor"].is_null());
    let all = app.get("/organizations", &admin).await.expect(200);
    let all_ids: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(all_ids.contains(&bank.as_str()) && all_ids.contains(&dept.as_str()));
}

#[tokio::test]
async fn organizations_list_pages_with_limit_and_cursor() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut made = vec![];
    for i in 0..5 {
        made.push(
            app.create_org(&admin, "department", &format!("部门{i}"))
                .await,
        );
    }
    let mut seen = vec![];
    let mut path = "/organizations?kind=department&limit=2".to_string();
    let mut pages = 0;
    loop {
        let page = app.get(&path, &admin).await.expect(200);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|o| o["id"].as_str().unwrap().to_string()));
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/organizations?kind=department&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, made, "every organization once, in creation order");
}

#[tokio::test]
async fn organizations_list_rejects_bad_limit_and_cursor() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.get("/organizations?limit=0", &admin)
        .await
        .expect_problem(400);
    app.get("/organizations?limit=201", &admin)
        .await
        .expect_problem(400);
    app.get("/organizations?cursor=garbage!", &admin)
        .await
        .expect_problem(400);
}

#[tokio::test]
async fn duplicate_uscc_is_409() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let uscc = random_uscc();
    let body = json!({"kind": "enterprise", "name": "甲公司", "uscc": uscc});
    app.post("/organizations", &admin, body).await.expect(201);
    let res = app
        .post(
            "/organizations",
            &admin,
            json!({"kind": "bank", "name": "乙银行", "uscc": uscc.to_lowercase()}),
        )
        .await
        .expect_problem(409);
    assert_eq!(res.str("code"), "duplicate_uscc");
    // Registration with a taken USCC is refused too.
    let mut reg = registration();
    reg["uscc"] = json!(uscc);
    anonymous(&app, Method::POST, "/enterprises/register", Some(&reg))
        .await
        .expect_problem(409);
}

#[tokio::test]
async fn bad_uscc_is_422_on_the_uscc_field() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let good = random_uscc();
    let mut wrong_check = good.clone();
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '0' { '1' } else { '0' });
    let mut forbidden = vec![];
    for letter in ['I', 'O', 'Z', 'S', 'V'] {
        let mut s = good.clone();
        s.replace_range(10..11, &letter.to_string());
        forbidden.push(s);
    }
    let mut cases = vec![
        wrong_check,
        good[..17].to_string(),
        format!("{good}0"),
        "12345".to_string(),
    ];
    cases.extend(forbidden);
    for uscc in cases {
        let res = app
            .post(
                "/organizations",
                &admin,
                json!({"kind": "enterprise", "name": "坏码公司", "uscc": uscc}),
            )
            .await
            .expect_problem(422);
        assert_eq!(error_fields(&res), vec!["uscc"], "{uscc}: {}", res.text);
        let mut reg = registration();
        reg["uscc"] = json!(uscc);
        let res = anonymous(&app, Method::POST, "/enterprises/register", Some(&reg))
            .await
            .expect_problem(422);
        assert_eq!(error_fields(&res), vec!["uscc"], "{uscc}: {}", res.text);
    }
}

#[tokio::test]
async fn enterprise_or_bank_without_uscc_is_422() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for kind in ["enterprise", "bank"] {
        let res = app
            .post(
                "/organizations",
                &admin,
                json!({"kind": kind, "name": "无码"}),
            )
            .await
            .expect_problem(422);
        assert_eq!(error_fields(&res), vec!["uscc"]);
    }
    app.post(
        "/organizations",
        &admin,
        json!({"kind": "department", "name": "无码部门"}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn enterprise_reading_another_enterprise_is_404() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (own, token) = app.org_with_user(&admin, "enterprise", "甲").await;
    let other = app.create_org(&admin, "enterprise", "乙").await;
    let bank = app.create_org(&admin, "bank", "银行").await;
    app.get(&format!("/organizations/{other}"), &token)
        .await
        .expect_problem(404);
    app.get(&format!("/organizations/{own}"), &token)
        .await
        .expect(200);
    app.get(&format!("/organizations/{bank}"), &token)
        .await
        .expect(200);
    let list = app
        .get("/organizations?kind=enterprise", &token)
        .await
        .expect(200);
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![own.as_str()]);
}

#[tokio::test]
async fn department_reading_an_enterprise_is_404() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dept, token) = app.org_with_user(&admin, "department", "工信局").await;
    let ent = app.create_org(&admin, "enterprise", "甲").await;
    app.get(&format!("/organizations/{ent}"), &token)
        .await
        .expect_problem(404);
    app.get(&format!("/organizations/{dept}"), &token)
        .await
        .expect(200);
}

#[tokio::test]
async fn missing_organization_is_404() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.get(&format!("/organizations/{}", uuid::Uuid::now_v7()), &admin)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn self_registration_creates_an_unverified_enterprise_and_its_user() {
    let app = spawn_app().await;
    let body = registration();
    let res = anonymous(&app, Method::POST, "/enterprises/register", Some(&body))
        .await
        .expect(201);
    let org = &res.body["organization"];
    assert_eq!(org["verified"], false);
    assert_eq!(org["kind"], "enterprise");
    assert_eq!(org["uscc"], body["uscc"]);
    assert_eq!(res.body["user"]["role"], "enterprise");
    assert_eq!(res.body["user"]["organization_id"], org["id"]);
    assert_eq!(res.body["user"]["username"], body["username"]);

    let token = app
        .login(
            body["username"].as_str().unwrap(),
            body["password"].as_str().unwrap(),
        )
        .await;
    let own = app
        .get(
            &format!("/organizations/{}", org["id"].as_str().unwrap()),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(own.body["verified"], false);
}

#[tokio::test]
async fn self_registration_with_a_taken_username_is_409() {
    let app = spawn_app().await;
    let mut body = registration();
    body["username"] = json!("admin");
    anonymous(&app, Method::POST, "/enterprises/register", Some(&body))
        .await
        .expect_problem(409);
}

#[tokio::test]
async fn short_password_is_422_on_register_and_on_create_user() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut reg = registration();
    reg["password"] = json!("short-pw1");
    let res = anonymous(&app, Method::POST, "/enterprises/register", Some(&reg))
        .await
        .expect_problem(422);
    assert_eq!(error_fields(&res), vec!["password"]);

    let mut user = new_user("admin", None);
    user["password"] = json!("123456789");
    let res = app.post("/users", &admin, user).await.expect_problem(422);
    assert_eq!(error_fields(&res), vec!["password"]);
    // Exactly ten characters is enough.
    let mut user = new_user("admin", None);
    user["password"] = json!("1234567890");
    app.post("/users", &admin, user).await.expect(201);
}

#[tokio::test]
async fn admin_and_service_center_verify_an_enterprise() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, center) = app
        .org_with_user(&admin, "service_center", "服务中心")
        .await;
    for verifier in [&admin, &center] {
        let reg = anonymous(
            &app,
            Method::POST,
            "/enterprises/register",
            Some(&registration()),
        )
        .await
        .expect(201);
        let id = reg.body["organization"]["id"].as_str().unwrap().to_string();
        let res = app
            .post(&format!("/organizations/{id}/verify"), verifier, json!({}))
            .await
            .expect(200);
        assert_eq!(res.body["verified"], true);
        assert_eq!(res.id(), id);
        let got = app
            .get(&format!("/organizations/{id}"), &admin)
            .await
            .expect(200);
        assert_eq!(got.body["verified"], true);
        // Verifying again is harmless.
        app.post(&format!("/organizations/{id}/verify"), verifier, json!({}))
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn other_roles_may_not_verify() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = anonymous(
        &app,
        Method::POST,
        "/enterprises/register",
        Some(&registration()),
    )
    .await
    .expect(201);
    let id = reg.body["organization"]["id"].as_str().unwrap().to_string();
    for kind in [
        "department",
        "chain_office",
        "bank",
        "enterprise",
        "fund_office",
    ] {
        let (_, token) = app
            .org_with_user(&admin, kind, &format!("{kind} org"))
            .await;
        app.post(&format!("/organizations/{id}/verify"), &token, json!({}))
            .await
            .expect_problem(403);
    }
    // The registered enterprise may not verify itself either.
    let own = app
        .login(
            reg.body["user"]["username"].as_str().unwrap(),
            "register-password-1",
        )
        .await;
    app.post(&format!("/organizations/{id}/verify"), &own, json!({}))
        .await
        .expect_problem(403);
    let got = app
        .get(&format!("/organizations/{id}"), &admin)
        .await
        .expect(200);
    assert_eq!(got.body["verified"], false);
}

#[tokio::test]
async fn admin_creates_users_whose_role_fits_the_organization() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let bank = app.create_org(&admin, "bank", "银行").await;
    let body = new_user("bank", Some(&bank));
    let res = app.post("/users", &admin, body.clone()).await.expect(201);
    assert_eq!(res.str("role"), "bank");
    assert_eq!(res.str("organization_id"), bank);
    assert_eq!(res.str("username"), body["username"].as_str().unwrap());
    assert!(res.body.get("password").is_none() && res.body.get("password_hash").is_none());
    let token = app
        .login(body["username"].as_str().unwrap(), USER_PASSWORD)
        .await;
    assert_eq!(app.get("/me", &token).await.expect(200).str("role"), "bank");
    // An admin may be attached to no organization.
    app.post("/users", &admin, new_user("admin", None))
        .await
        .expect(201);
}

#[tokio::test]
async fn user_role_that_does_not_fit_the_organization_is_422() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let dept = app.create_org(&admin, "department", "工信局").await;
    let res = app
        .post("/users", &admin, new_user("enterprise", Some(&dept)))
        .await
        .expect_problem(422);
    assert_eq!(error_fields(&res), vec!["role"]);
    let res = app
        .post("/users", &admin, new_user("department", None))
        .await
        .expect_problem(422);
    assert_eq!(error_fields(&res), vec!["role"]);
    let res = app
        .post(
            "/users",
            &admin,
            new_user("department", Some(&uuid::Uuid::now_v7().to_string())),
        )
        .await
        .expect_problem(422);
    assert_eq!(error_fields(&res), vec!["organization_id"]);
}

#[tokio::test]
async fn duplicate_username_is_409() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = new_user("admin", None);
    app.post("/users", &admin, body.clone()).await.expect(201);
    app.post("/users", &admin, body).await.expect_problem(409);
}

/// A qualification body with its certificate.
fn certified(valid_from: &str, valid_until: Option<&str>) -> Value {
    json!({"valid_from": valid_from, "valid_until": valid_until,
           "certificate_no": "GR202632001234", "issued_by": "江苏省科学技术厅"})
}

async fn put_qualification(app: &TestApp, token: &str, org: &str, kind: &str) -> Answer {
    app.put(
        &format!("/organizations/{org}/qualifications/{kind}"),
        token,
        certified("2026-01-01", Some("2028-12-31")),
    )
    .await
}

#[tokio::test]
async fn admin_sets_and_removes_a_qualification() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ent = app.create_org(&admin, "enterprise", "专精特新公司").await;
    let res = put_qualification(&app, &admin, &ent, "specialized_sme")
        .await
        .expect(200);
    assert_eq!(res.str("kind"), "specialized_sme");
    assert_eq!(res.str("valid_from"), "2026-01-01");
    assert_eq!(res.str("valid_until"), "2028-12-31");
    assert_eq!(res.str("certificate_no"), "GR202632001234");
    assert_eq!(res.str("issued_by"), "江苏省科学技术厅");
    let got = app
        .get(&format!("/organizations/{ent}"), &admin)
        .await
        .expect(200);
    let quals = got.body["qualifications"].as_array().unwrap();
    assert_eq!(quals.len(), 1);
    assert_eq!(quals[0]["kind"], "specialized_sme");
    assert_eq!(quals[0]["certificate_no"], "GR202632001234");

    // Putting again replaces.
    app.put(
        &format!("/organizations/{ent}/qualifications/specialized_sme"),
        &admin,
        json!({"valid_from": "2025-06-01", "certificate_no": "ZJTX-2025-77", "issued_by": "江苏省工业和信息化厅"}),
    )
    .await
    .expect(200);
    let got = app
        .get(&format!("/organizations/{ent}"), &admin)
        .await
        .expect(200);
    assert_eq!(got.body["qualifications"][0]["valid_from"], "2025-06-01");
    assert!(got.body["qualifications"][0]["valid_until"].is_null());
    assert_eq!(
        got.body["qualifications"][0]["certificate_no"],
        "ZJTX-2025-77"
    );
    assert_eq!(
        got.body["qualifications"][0]["issued_by"],
        "江苏省工业和信息化厅"
    );

    app.delete(
        &format!("/organizations/{ent}/qualifications/specialized_sme"),
        &admin,
    )
    .await
    .expect(204);
    let got = app
        .get(&format!("/organizations/{ent}"), &admin)
        .await
        .expect(200);
    assert_eq!(got.body["qualifications"], json!([]));
    app.delete(
        &format!("/organizations/{ent}/qualifications/specialized_sme"),
        &admin,
    )
    .await
    .expect_problem(404);
}

#[tokio::test]
async fn qualification_with_end_before_start_or_on_a_bank_is_422() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ent = app.create_org(&admin, "enterprise", "甲").await;
    let bank = app.create_org(&admin, "bank", "银行").await;
    let res = app
        .put(
            &format!("/organizations/{ent}/qualifications/high_tech"),
            &admin,
            certified("2026-01-01", Some("2025-01-01")),
        )
        .await
        .expect_problem(422);
    assert_eq!(error_fields(&res), vec!["valid_until"]);
    put_qualification(&app, &admin, &bank, "high_tech")
        .await
        .expect_problem(422);
    // An unknown kind is not a route target.
    put_qualification(&app, &admin, &ent, "famous_brand")
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn qualification_needs_a_certificate_number_and_an_issuing_body_on_one_line() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ent = app.create_org(&admin, "enterprise", "甲").await;
    let path = format!("/organizations/{ent}/qualifications/high_tech");
    for (certificate_no, issued_by, fields) in [
        ("", "江苏省科学技术厅", vec!["certificate_no"]),
        ("GR2026", "   ", vec!["issued_by"]),
        (
            "GR\n2026",
            "江苏省\t科学技术厅",
            vec!["certificate_no", "issued_by"],
        ),
        (
            &"9".repeat(65),
            &"局".repeat(201),
            vec!["certificate_no", "issued_by"],
        ),
    ] {
        let res = app
            .put(
                &path,
                &admin,
                json!({"valid_from": "2026-01-01", "certificate_no": certificate_no, "issued_by": issued_by}),
            )
            .await
            .expect_problem(422);
        assert_eq!(error_fields(&res), fields, "{}", res.text);
    }
    // Both are required fields of the body.
    let res = app
        .put(&path, &admin, json!({"valid_from": "2026-01-01"}))
        .await;
    assert!(matches!(res.status.as_u16(), 400 | 422), "{}", res.text);
    let got = app
        .get(&format!("/organizations/{ent}"), &admin)
        .await
        .expect(200);
    assert_eq!(got.body["qualifications"], json!([]));
}

#[tokio::test]
async fn fund_office_records_qualifications() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, fund) = app
        .org_with_user(&admin, "fund_office", "市产业基金办")
        .await;
    let ent = app.create_org(&admin, "enterprise", "甲").await;
    put_qualification(&app, &fund, &ent, "little_giant")
        .await
        .expect(200);
    app.delete(
        &format!("/organizations/{ent}/qualifications/little_giant"),
        &fund,
    )
    .await
    .expect(204);
}

/// A chain with its office and an enterprise the admin made an active member of it; returns
/// (office token, member id).
async fn office_and_member(app: &TestApp, admin: &str, code: &str) -> (String, String) {
    let (chain, _, office) = chain_with_office(app, admin, code).await;
    let member = app
        .create_org(admin, "enterprise", &format!("{code} 成员企业"))
        .await;
    app.put(
        &format!("/chains/{chain}/members/{member}"),
        admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    (office, member)
}

async fn propose(app: &TestApp, token: &str, org: &str, kind: &str) -> Answer {
    app.post(
        &format!("/organizations/{org}/qualifications/{kind}/proposals"),
        token,
        certified("2026-01-01", Some("2028-12-31")),
    )
    .await
}

#[tokio::test]
async fn chain_office_proposes_and_the_fund_office_confirms() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, fund) = app
        .org_with_user(&admin, "fund_office", "市产业基金办")
        .await;
    let (office, member) = office_and_member(&app, &admin, "NEV").await;

    // The office may no longer record a qualification, even for its member.
    put_qualification(&app, &office, &member, "little_giant")
        .await
        .expect_problem(403);
    put_qualification(&app, &admin, &member, "above_scale")
        .await
        .expect(200);
    app.delete(
        &format!("/organizations/{member}/qualifications/above_scale"),
        &office,
    )
    .await
    .expect_problem(403);

    let proposal = propose(&app, &office, &member, "little_giant")
        .await
        .expect(201);
    assert_eq!(proposal.str("status"), "pending");
    assert_eq!(proposal.str("organization_id"), member);
    assert_eq!(proposal.str("kind"), "little_giant");
    assert_eq!(proposal.str("certificate_no"), "GR202632001234");
    assert_eq!(proposal.str("issued_by"), "江苏省科学技术厅");
    assert_eq!(proposal.str("valid_from"), "2026-01-01");
    assert_eq!(proposal.str("valid_until"), "2028-12-31");
    assert!(proposal.body["proposed_by"].is_string());
    assert!(proposal.body["proposed_at"].is_string());
    assert!(proposal.body["decided_by"].is_null() && proposal.body["decided_at"].is_null());
    // Proposing records nothing yet.
    let got = app
        .get(&format!("/organizations/{member}"), &admin)
        .await
        .expect(200);
    assert_eq!(got.body["qualifications"].as_array().map(Vec::len), Some(1));

    // The office cannot confirm its own proposal.
    let id = proposal.id();
    app.post(
        &format!("/qualification-proposals/{id}/confirm"),
        &office,
        json!({}),
    )
    .await
    .expect_problem(403);
    let confirmed = app
        .post(
            &format!("/qualification-proposals/{id}/confirm"),
            &fund,
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(confirmed.str("status"), "confirmed");
    assert!(confirmed.body["decided_by"].is_string());
    assert!(confirmed.body["decided_at"].is_string());
    let got = app
        .get(&format!("/organizations/{member}"), &office)
        .await
        .expect(200);
    let giant = got.body["qualifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["kind"] == "little_giant")
        .cloned()
        .expect("the confirmed qualification");
    assert_eq!(giant["certificate_no"], "GR202632001234");
    assert_eq!(giant["issued_by"], "江苏省科学技术厅");
    assert_eq!(giant["valid_until"], "2028-12-31");

    // Deciding twice is a conflict, either way.
    for action in ["confirm", "decline"] {
        let res = app
            .post(
                &format!("/qualification-proposals/{id}/{action}"),
                &fund,
                json!({}),
            )
            .await
            .expect_problem(409);
        assert_eq!(res.str("code"), "proposal_decided");
    }
}

#[tokio::test]
async fn fund_office_declines_a_proposal_with_a_note() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, fund) = app
        .org_with_user(&admin, "fund_office", "市产业基金办")
        .await;
    let (office, member) = office_and_member(&app, &admin, "NEV").await;
    let id = propose(&app, &office, &member, "single_champion")
        .await
        .expect(201)
        .id();
    app.post(
        &format!("/qualification-proposals/{id}/decline"),
        &fund,
        json!({"note": "a\u{0}b"}),
    )
    .await
    .expect_problem(422);
    let declined = app
        .post(
            &format!("/qualification-proposals/{id}/decline"),
            &fund,
            json!({"note": "证书编号与工信部公示名单不符"}),
        )
        .await
        .expect(200);
    assert_eq!(declined.str("status"), "declined");
    assert_eq!(
        declined.str("decision_note"),
        "证书编号与工信部公示名单不符"
    );
    let got = app
        .get(&format!("/organizations/{member}"), &admin)
        .await
        .expect(200);
    assert_eq!(got.body["qualifications"], json!([]));
    app.post(
        &format!("/qualification-proposals/{id}/decline"),
        &fund,
        json!({}),
    )
    .await
    .expect_problem(409);
    app.post(
        &format!("/qualification-proposals/{id}/confirm"),
        &admin,
        json!({}),
    )
    .await
    .expect_problem(409);
}

#[tokio::test]
async fn chain_office_proposes_only_for_active_members_of_its_chains() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (office, member) = office_and_member(&app, &admin, "NEV").await;
    let outsider = app.create_org(&admin, "enterprise", "外部企业").await;
    propose(&app, &office, &outsider, "high_tech")
        .await
        .expect_problem(404);
    // Another chain's office cannot propose for the member either.
    let (other_office, _) = office_and_member(&app, &admin, "IC").await;
    propose(&app, &other_office, &member, "high_tech")
        .await
        .expect_problem(404);
    // Nobody but a chain office proposes.
    for kind in [
        "service_center",
        "department",
        "bank",
        "enterprise",
        "fund_office",
    ] {
        let (_, token) = app
            .org_with_user(&admin, kind, &format!("{kind} org"))
            .await;
        propose(&app, &token, &member, "high_tech")
            .await
            .expect_problem(403);
    }
    propose(&app, &admin, &member, "high_tech")
        .await
        .expect_problem(403);
    // The body is checked like a PUT's.
    let res = app
        .post(
            &format!("/organizations/{member}/qualifications/high_tech/proposals"),
            &office,
            json!({"valid_from": "2026-01-01", "certificate_no": " ", "issued_by": "科技厅"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(error_fields(&res), vec!["certificate_no"]);
}

#[tokio::test]
async fn proposals_are_listed_to_the_fund_office_and_to_their_own_office() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, fund) = app
        .org_with_user(&admin, "fund_office", "市产业基金办")
        .await;
    let (office, member) = office_and_member(&app, &admin, "NEV").await;
    let (other_office, other_member) = office_and_member(&app, &admin, "IC").await;
    let mine = propose(&app, &office, &member, "high_tech")
        .await
        .expect(201)
        .id();
    let theirs = propose(&app, &other_office, &other_member, "above_scale")
        .await
        .expect(201)
        .id();
    app.post(
        &format!("/qualification-proposals/{theirs}/confirm"),
        &fund,
        json!({}),
    )
    .await
    .expect(200);

    let list_ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    for token in [&fund, &admin] {
        let all = app.get("/qualification-proposals", token).await.expect(200);
        assert_eq!(list_ids(&all.body), vec![mine.clone(), theirs.clone()]);
        let pending = app
            .get("/qualification-proposals?status=pending", token)
            .await
            .expect(200);
        assert_eq!(list_ids(&pending.body), vec![mine.clone()]);
    }
    let own = app
        .get("/qualification-proposals", &office)
        .await
        .expect(200);
    assert_eq!(list_ids(&own.body), vec![mine.clone()]);
    assert_eq!(own.body["items"][0]["organization_name"], "NEV 成员企业");
    app.get(&format!("/qualification-proposals/{mine}"), &office)
        .await
        .expect(200);
    app.get(&format!("/qualification-proposals/{theirs}"), &office)
        .await
        .expect_problem(404);
    // The other office cannot decide, nor see, this office's proposal.
    app.post(
        &format!("/qualification-proposals/{mine}/confirm"),
        &other_office,
        json!({}),
    )
    .await
    .expect_problem(403);
    let (_, ent_token) = app.org_with_user(&admin, "enterprise", "企业").await;
    app.get("/qualification-proposals", &ent_token)
        .await
        .expect_problem(403);
}

#[tokio::test]
async fn a_proposal_replayed_with_its_idempotency_key_is_made_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (office, member) = office_and_member(&app, &admin, "NEV").await;
    let path = format!("/organizations/{member}/qualifications/high_tech/proposals");
    let body = certified("2026-01-01", None);
    let first = crate::support::post_with_key(&app, &path, &office, "prop-1", &body)
        .await
        .expect(201);
    let again = crate::support::post_with_key(&app, &path, &office, "prop-1", &body)
        .await
        .expect(201);
    assert_eq!(first.id(), again.id());
    assert_eq!(
        again
            .headers
            .get("Idempotent-Replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let list = app
        .get("/qualification-proposals", &office)
        .await
        .expect(200);
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));
    let other = certified("2026-02-01", None);
    crate::support::post_with_key(&app, &path, &office, "prop-1", &other)
        .await
        .expect_problem(422);
}

#[tokio::test]
async fn qualification_changes_and_proposals_are_audited() {
    use entity::audit_log;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, fund) = app
        .org_with_user(&admin, "fund_office", "市产业基金办")
        .await;
    let (office, member) = office_and_member(&app, &admin, "NEV").await;
    let confirmed = propose(&app, &office, &member, "high_tech")
        .await
        .expect(201)
        .id();
    let declined = propose(&app, &office, &member, "above_scale")
        .await
        .expect(201)
        .id();
    app.post(
        &format!("/qualification-proposals/{confirmed}/confirm"),
        &fund,
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/qualification-proposals/{declined}/decline"),
        &fund,
        json!({}),
    )
    .await
    .expect(200);
    app.delete(
        &format!("/organizations/{member}/qualifications/high_tech"),
        &fund,
    )
    .await
    .expect(204);
    let actions = |object: String| {
        let db = app.db.clone();
        async move {
            audit_log::Entity::find()
                .filter(audit_log::Column::ObjectId.eq(object))
                .order_by_asc(audit_log::Column::At)
                .order_by_asc(audit_log::Column::Id)
                .all(&db)
                .await
                .expect("audit rows")
                .into_iter()
                .map(|r| r.action)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        actions(confirmed).await,
        [
            "qualification.proposal.create",
            "qualification.proposal.confirm"
        ]
    );
    assert_eq!(
        actions(declined).await,
        [
            "qualification.proposal.create",
            "qualification.proposal.decline"
        ]
    );
    let on_member: Vec<String> = actions(member)
        .await
        .into_iter()
        .filter(|a| a.starts_with("qualification."))
        .collect();
    assert_eq!(on_member, ["qualification.put", "qualification.delete"]);
}

#[tokio::test]
async fn other_roles_may_not_manage_qualifications() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (ent, ent_token) = app.org_with_user(&admin, "enterprise", "甲").await;
    put_qualification(&app, &admin, &ent, "above_scale")
        .await
        .expect(200);
    for kind in ["service_center", "department", "bank", "chain_office"] {
        let (_, token) = app
            .org_with_user(&admin, kind, &format!("{kind} org"))
            .await;
        put_qualification(&app, &token, &ent, "high_tech")
            .await
            .expect_problem(403);
        app.delete(
            &format!("/organizations/{ent}/qualifications/above_scale"),
            &token,
        )
        .await
        .expect_problem(403);
    }
    put_qualification(&app, &ent_token, &ent, "single_champion")
        .await
        .expect_problem(403);
    app.delete(
        &format!("/organizations/{ent}/qualifications/above_scale"),
        &ent_token,
    )
    .await
    .expect_problem(403);
    let got = app
        .get(&format!("/organizations/{ent}"), &admin)
        .await
        .expect(200);
    assert_eq!(got.body["qualifications"].as_array().unwrap().len(), 1);
}
