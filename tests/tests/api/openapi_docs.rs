//! Health, the OpenAPI document, the docs page and metrics.

use reqwest::Method;
use tests::*;

#[tokio::test]
async fn health_live_and_ready_answer_200() {
    let app = spawn_app().await;
    let live = app
        .send(Method::GET, "/health/live", None, None, &[])
        .await
        .expect(200);
    assert_eq!(live.body["status"], "ok");
    let ready = app
        .send(Method::GET, "/health/ready", None, None, &[])
        .await
        .expect(200);
    assert_eq!(ready.body["status"], "ok");
}

#[tokio::test]
async fn openapi_document_is_3_1_and_lists_the_endpoints() {
    let app = spawn_app().await;
    let res = app
        .send(Method::GET, "/api/v1/openapi.json", None, None, &[])
        .await
        .expect(200);
    let version = res.str("openapi");
    assert!(version.starts_with("3.1."), "openapi version {version}");
    let paths = res.body["paths"].as_object().expect("paths");
    let expect = [
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/organizations", "post"),
        ("/api/v1/organizations", "get"),
        ("/api/v1/organizations/{id}", "get"),
        ("/api/v1/enterprises/register", "post"),
        ("/api/v1/organizations/{id}/verify", "post"),
        ("/api/v1/organizations/{id}/qualifications/{kind}", "put"),
        ("/api/v1/organizations/{id}/qualifications/{kind}", "delete"),
        ("/api/v1/users", "post"),
        ("/api/v1/chains", "post"),
        ("/api/v1/chains", "get"),
        ("/api/v1/chains/{id}", "get"),
        ("/api/v1/chains/{id}/members/{organization_id}", "put"),
        ("/api/v1/chains/{id}/members/{organization_id}", "delete"),
        (
            "/api/v1/chains/{id}/members/{organization_id}/accept",
            "post",
        ),
        (
            "/api/v1/chains/{id}/members/{organization_id}/decline",
            "post",
        ),
        (
            "/api/v1/organizations/{id}/qualifications/{kind}/proposals",
            "post",
        ),
        ("/api/v1/qualification-proposals", "get"),
        ("/api/v1/qualification-proposals/{id}", "get"),
        ("/api/v1/qualification-proposals/{id}/confirm", "post"),
        ("/api/v1/qualification-proposals/{id}/decline", "post"),
        ("/api/v1/chains/{id}/banks/{organization_id}", "put"),
        ("/api/v1/chains/{id}/banks/{organization_id}", "delete"),
        ("/api/v1/calendar/days", "get"),
        ("/api/v1/calendar/days/{date}", "put"),
        ("/api/v1/calendar/days/{date}", "delete"),
        ("/api/v1/calendar/settings", "get"),
        ("/api/v1/calendar/settings", "put"),
        ("/api/v1/calendar/deadline", "post"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
    ];
    for (path, method) in expect {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from openapi.json"
        );
    }
    assert!(res.body["components"]["securitySchemes"]["bearer"].is_object());
    assert!(res.body["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn every_operation_declares_the_errors_its_shape_allows_as_problems() {
    let app = spawn_app().await;
    let doc = app
        .send(Method::GET, "/api/v1/openapi.json", None, None, &[])
        .await
        .expect(200)
        .body;
    let no_dependency = ["/health/live", "/api/v1/openapi.json", "/docs", "/metrics"];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let responses = op["responses"].as_object().expect("responses");
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has_param = |place: &str| params.iter().any(|p| p["in"] == place);
            let json_body = op["requestBody"]["content"]
                .as_object()
                .is_some_and(|c| c.keys().any(|k| k.contains("json")));
            let authenticated = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let mut expected = vec![];
            if authenticated {
                expected.push("401");
            }
            if json_body || has_param("query") {
                expected.push("400");
            }
            if has_param("path") {
                expected.push("404");
            }
            if json_body {
                expected.extend(["408", "413", "415", "422"]);
            }
            if !no_dependency.contains(&path.as_str()) {
                expected.push("503");
            }
            for status in expected {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not declare {status}"
                );
            }
            for (status, response) in responses {
                if status.as_str() >= "400" {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status} is not a problem"
                    );
                }
            }
            for p in &params {
                let types = &p["schema"]["type"];
                assert!(
                    !types.as_array().is_some_and(|t| t.contains(&"null".into())),
                    "{method} {path} parameter {} admits null",
                    p["name"]
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} operations");
    assert!(
        doc["paths"]["/api/v1/auth/login"]["post"]["responses"]
            .get("429")
            .is_some()
    );
}

#[tokio::test]
async fn request_schemas_state_the_limits_the_server_checks() {
    let app = spawn_app().await;
    let doc = app
        .send(Method::GET, "/api/v1/openapi.json", None, None, &[])
        .await
        .expect(200)
        .body;
    let schemas = &doc["components"]["schemas"];
    let appeal = &schemas["NewAppeal"];
    assert_eq!(appeal["additionalProperties"], false);
    assert_eq!(appeal["properties"]["title"]["maxLength"], 200);
    assert_eq!(appeal["properties"]["title"]["minLength"], 1);
    assert!(appeal["properties"]["title"]["pattern"].is_string());
    let rate = &schemas["RateInput"]["properties"]["score"];
    assert_eq!(
        (rate["minimum"].as_i64(), rate["maximum"].as_i64()),
        (Some(1), Some(5))
    );
    let org = &schemas["NewOrganization"];
    assert_eq!(org["then"]["required"], serde_json::json!(["uscc"]));
    let list = doc["paths"]["/api/v1/appeals"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let limit = list.iter().find(|p| p["name"] == "limit").expect("limit");
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], 200);
    let key = doc["paths"]["/api/v1/appeals"]["post"]["parameters"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "Idempotency-Key"))
        .expect("Idempotency-Key");
    assert_eq!(key["schema"]["maxLength"], 128);
    let date = &schemas["QualificationInput"]["properties"]["valid_from"];
    assert_eq!(date["format"], "date");
    assert!(date["pattern"].as_str().is_some_and(|p| p.contains("19")));
}

#[tokio::test]
async fn docs_page_is_html() {
    let app = spawn_app().await;
    let res = app
        .send(Method::GET, "/docs", None, None, &[])
        .await
        .expect(200);
    let ct = res
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(ct.starts_with("text/html"), "content type {ct}");
    assert!(
        res.text.to_lowercase().contains("<html"),
        "{}",
        &res.text[..res.text.len().min(200)]
    );
    assert!(
        res.text.contains("openapi.json"),
        "the page loads the API description"
    );
}

#[tokio::test]
async fn metrics_count_http_requests() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.get("/me", &admin).await.expect(200);
    let res = app
        .send(Method::GET, "/metrics", None, None, &[])
        .await
        .expect(200);
    let ct = res
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(ct.starts_with("text/plain"), "content type {ct}");
    assert!(res.text.contains("http_requests_total"), "{}", res.text);
    assert!(res.text.contains(r#"route="/api/v1/me""#), "{}", res.text);
}
