//! The error contract: problem+json for every failure, with the right status; request ids.

use crate::support::raw;
use reqwest::Method;
use serde_json::json;
use tests::*;

/// Asserts the whole RFC 9457 shape and returns the answer.
#[track_caller]
fn full_problem(res: Answer, status: u16) -> Answer {
    let res = res.expect_problem(status);
    for field in ["type", "title", "detail", "code"] {
        assert!(res.body[field].is_string(), "{field} missing: {}", res.text);
    }
    assert_eq!(res.body["status"], status);
    res
}

#[tokio::test]
async fn malformed_json_is_400_problem() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let res = raw(
        &app,
        Method::POST,
        "/organizations",
        Some(&admin),
        "application/json",
        b"{\"kind\": ".to_vec(),
    )
    .await;
    let res = full_problem(res, 400);
    assert_eq!(res.str("code"), "bad_request");
    let res = raw(
        &app,
        Method::POST,
        "/auth/login",
        None,
        "application/json",
        b"not json at all".to_vec(),
    )
    .await;
    full_problem(res, 400);
}

#[tokio::test]
async fn wrong_field_type_or_missing_field_is_422_problem() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let res = app
        .post(
            "/organizations",
            &admin,
            json!({"kind": "department", "name": 123}),
        )
        .await;
    let res = full_problem(res, 422);
    assert_eq!(res.str("code"), "validation_failed");
    assert!(
        res.body["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{}",
        res.text
    );

    let res = full_problem(
        app.post("/organizations", &admin, json!({"kind": "department"}))
            .await,
        422,
    );
    assert_eq!(res.body["errors"][0]["field"], "name", "{}", res.text);

    full_problem(
        app.post(
            "/organizations",
            &admin,
            json!({"kind": "castle", "name": "城堡"}),
        )
        .await,
        422,
    );
    full_problem(
        app.post(
            "/organizations",
            &admin,
            json!({"kind": "department", "name": "x", "extra": 1}),
        )
        .await,
        422,
    );
    full_problem(
        app.send(
            Method::POST,
            "/auth/login",
            None,
            Some(&json!({"username": "admin"})),
            &[],
        )
        .await,
        422,
    );
}

#[tokio::test]
async fn bad_query_is_400_problem() {
    let app = spawn_app().await;
    let t = app.admin().await;
    full_problem(
        app.get("/calendar/days?from=notadate&to=2026-03-01", &t)
            .await,
        400,
    );
    full_problem(app.get("/calendar/days?from=2026-03-01", &t).await, 400);
    full_problem(app.get("/organizations?kind=castle", &t).await, 400);
    full_problem(app.get("/organizations?limit=many", &t).await, 400);
}

#[tokio::test]
async fn unknown_route_is_404_problem() {
    let app = spawn_app().await;
    let t = app.admin().await;
    let res = full_problem(app.get("/no-such-thing", &t).await, 404);
    assert_eq!(res.str("code"), "not_found");
    full_problem(
        app.send(Method::GET, "/api/v2/me", None, None, &[]).await,
        404,
    );
    full_problem(
        app.send(Method::GET, "/nowhere", None, None, &[]).await,
        404,
    );
}

#[tokio::test]
async fn wrong_method_is_405_problem() {
    let app = spawn_app().await;
    let t = app.admin().await;
    let res = full_problem(app.delete("/me", &t).await, 405);
    assert_eq!(res.str("code"), "method_not_allowed");
    assert_eq!(allow(&res), "GET");
    let res = full_problem(
        app.send(
            Method::PATCH,
            "/organizations",
            Some(&t),
            Some(&json!({})),
            &[],
        )
        .await,
        405,
    );
    assert_eq!(allow(&res), "GET, POST");
    let res = full_problem(
        app.send(Method::GET, "/auth/login", None, None, &[]).await,
        405,
    );
    assert_eq!(allow(&res), "POST");
    let res = full_problem(
        app.send(
            Method::POST,
            &format!("/chains/{}", uuid::Uuid::nil()),
            Some(&t),
            None,
            &[],
        )
        .await,
        405,
    );
    assert_eq!(allow(&res), "GET", "a path parameter matches any segment");
    // Another operation's literal path under a method it does not have: 405, not the 404 of a
    // report id that does not parse.
    let res = full_problem(app.get("/bank-reports/generate", &t).await, 405);
    assert_eq!(allow(&res), "POST");
    // A report id that does not parse is still 404.
    full_problem(app.get("/bank-reports/not-an-id", &t).await, 404);
}

#[tokio::test]
async fn sign_in_bodies_refuse_unknown_fields_and_periods_start_in_1900() {
    let app = spawn_app().await;
    let t = app.admin().await;
    let res = app
        .send(
            Method::POST,
            "/auth/login",
            None,
            Some(
                &json!({"username": "admin", "password": tests::ADMIN_PASSWORD, "remember": true}),
            ),
            &[],
        )
        .await;
    full_problem(res, 422);
    let res = app
        .put("/me/preferences", &t, json!({"email": {}, "push": {}}))
        .await;
    full_problem(res, 422);
    full_problem(app.get("/bank-reports?period=0000-01", &t).await, 400);
    let spec = app.get("/api/v1/openapi.json", &t).await.expect(200).body;
    let pattern = spec["components"]["schemas"]["GenerateInput"]["properties"]["period"]["pattern"]
        .as_str()
        .expect("a pattern")
        .to_string();
    assert!(
        pattern.starts_with("^(?:19[0-9]{2}|[2-9][0-9]{3})-"),
        "{pattern}"
    );
}

/// The `Allow` header of a 405 (RFC 9110 requires it).
#[track_caller]
fn allow(res: &Answer) -> String {
    res.headers
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("405 without Allow: {}", res.text))
        .to_string()
}

#[tokio::test]
async fn body_over_one_mebibyte_is_413_problem() {
    let app = spawn_app().await;
    let t = app.admin().await;
    let big = json!({"kind": "department", "name": "x".repeat(1024 * 1024 + 10)});
    let res = full_problem(app.post("/organizations", &t, big.clone()).await, 413);
    assert_eq!(res.str("code"), "payload_too_large");
    full_problem(
        app.send(Method::POST, "/enterprises/register", None, Some(&big), &[])
            .await,
        413,
    );
    // Just under the limit is read (and then judged on its content).
    let near = json!({"kind": "department", "name": "x".repeat(1000 * 1000)});
    full_problem(app.post("/organizations", &t, near).await, 422);
}

#[tokio::test]
async fn bad_uuid_in_path_is_404_problem() {
    let app = spawn_app().await;
    let t = app.admin().await;
    full_problem(app.get("/organizations/not-a-uuid", &t).await, 404);
    full_problem(app.get("/chains/12345", &t).await, 404);
    full_problem(
        app.put("/chains/x/members/y", &t, json!({"role": "core"}))
            .await,
        404,
    );
}

#[tokio::test]
async fn unauthorized_is_problem_with_www_authenticate() {
    let app = spawn_app().await;
    let res = full_problem(
        app.send(Method::GET, "/organizations", None, None, &[])
            .await,
        401,
    );
    assert_eq!(
        res.headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
}

#[tokio::test]
async fn forbidden_and_conflict_are_problems_too() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, dept) = app.org_with_user(&admin, "department", "工信局").await;
    full_problem(
        app.post(
            "/organizations",
            &dept,
            json!({"kind": "department", "name": "x"}),
        )
        .await,
        403,
    );
    let uscc = random_uscc();
    app.post(
        "/organizations",
        &admin,
        json!({"kind": "bank", "name": "甲", "uscc": uscc}),
    )
    .await
    .expect(201);
    full_problem(
        app.post(
            "/organizations",
            &admin,
            json!({"kind": "bank", "name": "乙", "uscc": uscc}),
        )
        .await,
        409,
    );
}

#[tokio::test]
async fn request_id_is_echoed_when_sent() {
    let app = spawn_app().await;
    let res = app
        .send(
            Method::GET,
            "/health/live",
            None,
            None,
            &[("x-request-id", "req-abc-123")],
        )
        .await
        .expect(200);
    assert_eq!(res.headers.get("x-request-id").unwrap(), "req-abc-123");
    // Also on errors.
    let res = app
        .send(
            Method::GET,
            "/me",
            None,
            None,
            &[("x-request-id", "req-err-456")],
        )
        .await
        .expect_problem(401);
    assert_eq!(res.headers.get("x-request-id").unwrap(), "req-err-456");
    let res = app
        .send(
            Method::GET,
            "/nowhere",
            None,
            None,
            &[("x-request-id", "req-404")],
        )
        .await
        .expect_problem(404);
    assert_eq!(res.headers.get("x-request-id").unwrap(), "req-404");
}

#[tokio::test]
async fn request_id_is_generated_when_not_sent() {
    let app = spawn_app().await;
    let a = app
        .send(Method::GET, "/health/live", None, None, &[])
        .await
        .expect(200);
    let b = app
        .send(Method::GET, "/health/live", None, None, &[])
        .await
        .expect(200);
    let id_a = a
        .headers
        .get("x-request-id")
        .expect("generated id")
        .to_str()
        .unwrap()
        .to_string();
    let id_b = b
        .headers
        .get("x-request-id")
        .expect("generated id")
        .to_str()
        .unwrap()
        .to_string();
    assert!(!id_a.is_empty());
    assert_ne!(id_a, id_b);
    let res = app
        .send(Method::GET, "/me", None, None, &[])
        .await
        .expect_problem(401);
    assert!(res.headers.get("x-request-id").is_some());
}

#[tokio::test]
async fn oversized_request_id_is_replaced() {
    let app = spawn_app().await;
    let long = "r".repeat(200);
    let res = app
        .send(
            Method::GET,
            "/health/live",
            None,
            None,
            &[("x-request-id", &long)],
        )
        .await
        .expect(200);
    let id = res.headers.get("x-request-id").unwrap().to_str().unwrap();
    assert!(!id.is_empty() && id != long);
}
