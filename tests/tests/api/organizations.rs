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

async fn put_qualification(app: &TestApp, token: &str, org: &str, kind: &str) -> Answer {
    app.put(
        &format!("/organizations/{org}/qualifications/{kind}"),
        token,
        json!({"valid_from": "2026-01-01", "valid_until": "2028-12-31"}),
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
    let got = app
        .get(&format!("/organizations/{ent}"), &admin)
        .await
        .expect(200);
    let quals = got.body["qualifications"].as_array().unwrap();
    assert_eq!(quals.len(), 1);
    assert_eq!(quals[0]["kind"], "specialized_sme");

    // Putting again replaces.
    app.put(
        &format!("/organizations/{ent}/qualifications/specialized_sme"),
        &admin,
        json!({"valid_from": "2025-06-01"}),
    )
    .await
    .expect(200);
    let got = app
        .get(&format!("/organizations/{ent}"), &admin)
        .await
        .expect(200);
    assert_eq!(got.body["qualifications"][0]["valid_from"], "2025-06-01");
    assert!(got.body["qualifications"][0]["valid_until"].is_null());

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
    app.put(
        &format!("/organizations/{ent}/qualifications/high_tech"),
        &admin,
        json!({"valid_from": "2026-01-01", "valid_until": "2025-01-01"}),
    )
    .await
    .expect_problem(422);
    put_qualification(&app, &admin, &bank, "high_tech")
        .await
        .expect_problem(422);
    // An unknown kind is not a route target.
    put_qualification(&app, &admin, &ent, "famous_brand")
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn chain_office_manages_qualifications_of_its_chain_members_only() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, office) = chain_with_office(&app, &admin, "NEV").await;
    let member = app.create_org(&admin, "enterprise", "成员企业").await;
    let outsider = app.create_org(&admin, "enterprise", "外部企业").await;
    app.put(
        &format!("/chains/{chain}/members/{member}"),
        &admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);

    put_qualification(&app, &office, &member, "little_giant")
        .await
        .expect(200);
    let got = app
        .get(&format!("/organizations/{member}"), &office)
        .await
        .expect(200);
    assert_eq!(got.body["qualifications"][0]["kind"], "little_giant");
    app.delete(
        &format!("/organizations/{member}/qualifications/little_giant"),
        &office,
    )
    .await
    .expect(204);

    put_qualification(&app, &office, &outsider, "little_giant")
        .await
        .expect_problem(404);
    put_qualification(&app, &admin, &outsider, "little_giant")
        .await
        .expect(200);
    app.delete(
        &format!("/organizations/{outsider}/qualifications/little_giant"),
        &office,
    )
    .await
    .expect_problem(404);

    // Another chain's office cannot touch the member either.
    let (_, _, other_office) = chain_with_office(&app, &admin, "IC").await;
    put_qualification(&app, &other_office, &member, "high_tech")
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn other_roles_may_not_manage_qualifications() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (ent, ent_token) = app.org_with_user(&admin, "enterprise", "甲").await;
    put_qualification(&app, &admin, &ent, "above_scale")
        .await
        .expect(200);
    for kind in ["service_center", "department", "bank", "fund_office"] {
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
