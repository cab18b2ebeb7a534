//! Helpers shared by the test modules of this binary.

use reqwest::Method;
use serde_json::{Value, json};
use tests::{Answer, TestApp};

/// Sends a request with no token.
pub async fn anonymous(app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> Answer {
    app.send(method, path, None, body, &[]).await
}

/// POST with a token and an `Idempotency-Key`.
pub async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Answer {
    app.send(
        Method::POST,
        path,
        Some(token),
        Some(body),
        &[("Idempotency-Key", key)],
    )
    .await
}

/// A unique, valid username.
pub fn username() -> String {
    format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// The body of a self-registration with a fresh USCC and username.
pub fn registration() -> Value {
    json!({
        "name": "常州新材料有限公司",
        "uscc": tests::random_uscc(),
        "contact_name": "张三",
        "contact_email": "zhangsan@example.cn",
        "username": username(),
        "password": "register-password-1",
    })
}

/// A chain run by a new chain office; returns (chain id, office org id, office token).
pub async fn chain_with_office(app: &TestApp, admin: &str, code: &str) -> (String, String, String) {
    let (office, office_token) = app
        .org_with_user(admin, "chain_office", &format!("{code} 链长办"))
        .await;
    let chain = app
        .post("/chains", admin, json!({"code": code, "name": format!("{code} 产业链"), "office_organization_id": office}))
        .await
        .expect(201)
        .id();
    (chain, office, office_token)
}

/// Sends a raw body with a content type (for malformed or oversized bodies).
pub async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> Answer {
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Answer::from_response(req.send().await.expect("request sent")).await
}
