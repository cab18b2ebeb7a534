//! Every non-admin role against every admin-only action: 403 problem+json, nothing changes.

use crate::support::{chain_with_office, username};
use reqwest::Method;
use serde_json::{Value, json};
use tests::*;

const NON_ADMIN_ROLES: &[&str] = &[
    "service_center",
    "department",
    "chain_office",
    "bank",
    "enterprise",
    "fund_office",
];

#[tokio::test]
async fn non_admin_roles_get_403_on_every_admin_only_action() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, office, _) = chain_with_office(&app, &admin, "NEV").await;
    let bank = app.create_org(&admin, "bank", "银行").await;
    let dept = app.create_org(&admin, "department", "工信局").await;
    let settings = json!({"time_zone": "Asia/Shanghai", "working_hours": [{"start": "08:00", "end": "18:00"}]});
    let actions: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/organizations".into(),
            Some(json!({"kind": "department", "name": "越权部门"})),
        ),
        (
            Method::POST,
            "/users".into(),
            Some(
                json!({"username": username(), "password": USER_PASSWORD, "display_name": "越权",
                        "email": "x@example.cn", "role": "department", "organization_id": dept}),
            ),
        ),
        (
            Method::POST,
            "/chains".into(),
            Some(json!({"code": "EVIL", "name": "越权链", "office_organization_id": office})),
        ),
        (
            Method::PUT,
            format!("/chains/{chain}/banks/{bank}"),
            Some(json!({"role": "lead"})),
        ),
        (
            Method::DELETE,
            format!("/chains/{chain}/banks/{bank}"),
            None,
        ),
        (
            Method::PUT,
            "/calendar/days/2026-03-04".into(),
            Some(json!({"kind": "holiday", "name": "越权假日"})),
        ),
        (Method::DELETE, "/calendar/days/2026-02-16".into(), None),
        (Method::PUT, "/calendar/settings".into(), Some(settings)),
    ];

    for role in NON_ADMIN_ROLES {
        let (_, token) = app
            .org_with_user(&admin, role, &format!("{role} org"))
            .await;
        for (method, path, body) in &actions {
            let res = app
                .send(method.clone(), path, Some(&token), body.as_ref(), &[])
                .await;
            assert_eq!(
                res.status.as_u16(),
                403,
                "{role} {method} {path}: {}",
                res.text
            );
            let res = res.expect_problem(403);
            assert_eq!(res.str("code"), "forbidden", "{role} {method} {path}");
            assert!(res.body["detail"].is_string());
        }
    }

    // Nothing changed.
    let orgs = app
        .get("/organizations?kind=department", &admin)
        .await
        .expect(200);
    let names: Vec<&str> = orgs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"越权部门"), "{names:?}");
    let users = app
        .get("/organizations?kind=chain_office", &admin)
        .await
        .expect(200);
    assert_eq!(
        users.body["items"].as_array().unwrap().len(),
        2,
        "the chain's office and the role's own"
    );
    let chains = app.get("/chains", &admin).await.expect(200);
    assert_eq!(chains.body["items"].as_array().unwrap().len(), 1);
    let one = app
        .get(&format!("/chains/{chain}"), &admin)
        .await
        .expect(200);
    assert_eq!(one.body["banks"], json!([]));
    let days = app
        .get("/calendar/days?from=2026-02-16&to=2026-02-16", &admin)
        .await
        .expect(200);
    assert_eq!(days.body[0]["kind"], "holiday");
    let days = app
        .get("/calendar/days?from=2026-03-04&to=2026-03-04", &admin)
        .await
        .expect(200);
    assert_eq!(days.body[0]["kind"], "normal");
    let current = app.get("/calendar/settings", &admin).await.expect(200);
    assert_eq!(
        current.body["working_hours"],
        json!([{"start": "09:00", "end": "17:00"}])
    );
}

#[tokio::test]
async fn every_role_may_read_the_calendar() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for role in NON_ADMIN_ROLES {
        let (_, token) = app
            .org_with_user(&admin, role, &format!("{role} org"))
            .await;
        app.get("/calendar/settings", &token).await.expect(200);
        app.get("/calendar/days?from=2026-03-01&to=2026-03-07", &token)
            .await
            .expect(200);
        app.post(
            "/calendar/deadline",
            &token,
            json!({"start": "2026-03-03T07:00:00Z", "working_days": 1}),
        )
        .await
        .expect(200);
    }
}

#[tokio::test]
async fn admin_only_actions_without_a_token_are_401() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::POST, "/organizations"),
        (Method::POST, "/users"),
        (Method::POST, "/chains"),
        (Method::PUT, "/calendar/settings"),
        (Method::GET, "/organizations"),
        (Method::GET, "/chains"),
        (Method::GET, "/calendar/settings"),
    ] {
        app.send(method, path, None, Some(&json!({})), &[])
            .await
            .expect_problem(401);
    }
}
