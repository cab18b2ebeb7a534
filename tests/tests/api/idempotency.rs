//! `Idempotency-Key` on creating POSTs.

use crate::support::{post_with_key, registration, username};
use reqwest::Method;
use serde_json::json;
use tests::*;

async fn count(app: &TestApp, token: &str, path: &str) -> usize {
    app.get(path, token).await.expect(200).body["items"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn same_key_and_body_returns_the_first_answer_and_creates_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = json!({"kind": "department", "name": "工信局", "region": "常州"});
    let first = post_with_key(&app, "/organizations", &admin, "key-1", &body)
        .await
        .expect(201);
    let second = post_with_key(&app, "/organizations", &admin, "key-1", &body)
        .await
        .expect(201);
    assert_eq!(first.id(), second.id());
    assert_eq!(first.body, second.body);
    assert_eq!(
        second
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(
        count(&app, &admin, "/organizations?kind=department").await,
        1
    );
}

#[tokio::test]
async fn same_key_and_body_in_another_key_order_is_a_replay() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let a = json!({"kind": "department", "name": "工信局"});
    let first = post_with_key(&app, "/organizations", &admin, "k", &a)
        .await
        .expect(201);
    let reordered: serde_json::Value =
        serde_json::from_str(r#"{"name": "工信局", "kind": "department"}"#).unwrap();
    let second = post_with_key(&app, "/organizations", &admin, "k", &reordered)
        .await
        .expect(201);
    assert_eq!(first.id(), second.id());
}

#[tokio::test]
async fn same_key_with_a_different_body_is_422() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    post_with_key(
        &app,
        "/organizations",
        &admin,
        "key-2",
        &json!({"kind": "department", "name": "甲"}),
    )
    .await
    .expect(201);
    let res = post_with_key(
        &app,
        "/organizations",
        &admin,
        "key-2",
        &json!({"kind": "department", "name": "乙"}),
    )
    .await
    .expect_problem(422);
    assert_eq!(res.body["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(
        count(&app, &admin, "/organizations?kind=department").await,
        1
    );
}

#[tokio::test]
async fn key_longer_than_128_characters_is_422() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = json!({"kind": "department", "name": "甲"});
    post_with_key(&app, "/organizations", &admin, &"k".repeat(129), &body)
        .await
        .expect_problem(422);
    assert_eq!(
        count(&app, &admin, "/organizations?kind=department").await,
        0
    );
    post_with_key(&app, "/organizations", &admin, &"k".repeat(128), &body)
        .await
        .expect(201);
}

#[tokio::test]
async fn different_users_with_the_same_key_are_independent() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let other = app.user_token(&admin, "admin", None).await;
    let body = json!({"kind": "department", "name": "同名部门"});
    let a = post_with_key(&app, "/organizations", &admin, "shared-key", &body)
        .await
        .expect(201);
    let b = post_with_key(&app, "/organizations", &other, "shared-key", &body)
        .await
        .expect(201);
    assert_ne!(a.id(), b.id());
    assert!(b.headers.get("idempotent-replayed").is_none());
    assert_eq!(
        count(&app, &admin, "/organizations?kind=department").await,
        2
    );
}

#[tokio::test]
async fn a_failed_request_does_not_use_up_its_key() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let bad = json!({"kind": "enterprise", "name": "无码企业"});
    post_with_key(&app, "/organizations", &admin, "retry-me", &bad)
        .await
        .expect_problem(422);
    let good = json!({"kind": "enterprise", "name": "有码企业", "uscc": random_uscc()});
    post_with_key(&app, "/organizations", &admin, "retry-me", &good)
        .await
        .expect(201);
}

#[tokio::test]
async fn idempotency_key_works_on_users_and_chains() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = json!({"username": username(), "password": USER_PASSWORD, "display_name": "王五",
                      "email": "ww@example.cn", "role": "admin", "organization_id": null});
    let a = post_with_key(&app, "/users", &admin, "u-1", &user)
        .await
        .expect(201);
    let b = post_with_key(&app, "/users", &admin, "u-1", &user)
        .await
        .expect(201);
    assert_eq!(a.id(), b.id());

    let office = app.create_org(&admin, "chain_office", "链长办").await;
    let chain = json!({"code": "NEV", "name": "新能源", "office_organization_id": office});
    let a = post_with_key(&app, "/chains", &admin, "c-1", &chain)
        .await
        .expect(201);
    let b = post_with_key(&app, "/chains", &admin, "c-1", &chain)
        .await
        .expect(201);
    assert_eq!(a.id(), b.id());
    assert_eq!(count(&app, &admin, "/chains").await, 1);
}

#[tokio::test]
async fn registration_with_the_same_key_registers_once() {
    let app = spawn_app().await;
    let body = registration();
    let headers = [("Idempotency-Key", "register-1")];
    let first = app
        .send(
            Method::POST,
            "/enterprises/register",
            None,
            Some(&body),
            &headers,
        )
        .await
        .expect(201);
    let second = app
        .send(
            Method::POST,
            "/enterprises/register",
            None,
            Some(&body),
            &headers,
        )
        .await
        .expect(201);
    assert_eq!(
        first.body["organization"]["id"],
        second.body["organization"]["id"]
    );
    assert_eq!(first.body, second.body);

    let mut other = registration();
    other["name"] = json!("另一家公司");
    app.send(
        Method::POST,
        "/enterprises/register",
        None,
        Some(&other),
        &headers,
    )
    .await
    .expect_problem(422);

    let admin = app.admin().await;
    assert_eq!(
        count(&app, &admin, "/organizations?kind=enterprise").await,
        1
    );
    app.login(
        body["username"].as_str().unwrap(),
        body["password"].as_str().unwrap(),
    )
    .await;
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = json!({"kind": "department", "name": "并发部门"});
    let answers = futures::future::join_all(
        (0..8).map(|_| post_with_key(&app, "/organizations", &admin, "race", &body)),
    )
    .await;
    let created: Vec<String> = answers
        .iter()
        .filter(|a| a.status.as_u16() == 201)
        .map(Answer::id)
        .collect();
    for a in &answers {
        assert!(
            matches!(a.status.as_u16(), 201 | 409),
            "{} {}",
            a.status,
            a.text
        );
    }
    assert!(!created.is_empty());
    assert!(created.iter().all(|id| *id == created[0]), "{created:?}");
    assert_eq!(
        count(&app, &admin, "/organizations?kind=department").await,
        1
    );
}

#[tokio::test]
async fn key_expires_after_its_lifetime() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = json!({"kind": "department", "name": "过期部门"});
    let first = post_with_key(&app, "/organizations", &admin, "old-key", &body)
        .await
        .expect(201);
    app.advance(chrono::TimeDelta::hours(25));
    let admin = app.admin().await;
    let second = post_with_key(&app, "/organizations", &admin, "old-key", &body)
        .await
        .expect(201);
    assert_ne!(first.id(), second.id());
}
