//! Issue 10's hardening, each point shown over HTTP: hostile text, CSV formulas, password-hash
//! exhaustion, case-insensitive usernames, trickled bodies, out-of-range instants, sessions an
//! administrator ends, the enterprise's view of its timeline, and HTTP hygiene.

use crate::support::{anonymous, raw, registration, username};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tests::{ADMIN_PASSWORD, TestApp, spawn_app, spawn_app_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An enterprise with a user, a department with a user, and a routing rule for `energy`.
struct Case {
    app: TestApp,
    admin: String,
    ent_token: String,
    dept: String,
    dept_token: String,
}

async fn case() -> Case {
    let city = tests::fixtures::CityBuilder::new()
        .enterprise("南通某电子公司")
        .department("市工信局")
        .route("energy", 0)
        .build()
        .await;
    Case {
        ent_token: city.enterprises[0].token.clone(),
        dept: city.departments[0].id.clone(),
        dept_token: city.departments[0].token.clone(),
        app: city.app,
        admin: city.admin,
    }
}

fn field_of(answer: &tests::Answer) -> String {
    answer.body["errors"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn control_characters_are_422_with_the_field_and_change_nothing() {
    let c = case().await;
    let app = &c.app;
    let before = app.get("/appeals", &c.ent_token).await.expect(200);
    assert_eq!(before.body["items"].as_array().map(Vec::len), Some(0));

    for (title, content, field) in [
        ("标题\u{0}", "内容", "title"),
        ("标题", "内容\u{0}在这里", "content"),
        ("标题", "颜色\u{1b}[31m", "content"),
        ("标题", "孤立的回车\r", "content"),
        ("标题", "C1 控制字符\u{85}", "content"),
    ] {
        let a = app
            .post(
                "/appeals",
                &c.ent_token,
                json!({"title": title, "content": content, "category": "energy"}),
            )
            .await
            .expect_problem(422);
        assert_eq!(field_of(&a), field, "{}", a.text);
    }
    // Line breaks and tabs are fine in free text.
    let ok = app
        .post(
            "/appeals",
            &c.ent_token,
            json!({"title": "用电增容", "content": "第一行\r\n第二行\t制表", "category": "energy"}),
        )
        .await
        .expect(201);
    let id = ok.id();
    // Only that one appeal exists.
    let after = app.get("/appeals", &c.ent_token).await.expect(200);
    assert_eq!(after.body["items"].as_array().map(Vec::len), Some(1));

    // Notes of actions too.
    let a = app
        .post(
            &format!("/appeals/{id}/reply"),
            &c.dept_token,
            json!({"message": "收到\u{0}"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(field_of(&a), "message");
    let still = app.get(&format!("/appeals/{id}"), &c.dept_token).await;
    assert_eq!(still.body["status"], "assigned");

    // Names refuse every control character, line breaks included; so does registration.
    let a = app
        .post(
            "/organizations",
            &c.admin,
            json!({"kind": "department", "name": "市\n工信局"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(field_of(&a), "name");
    let mut reg = registration();
    reg["name"] = json!("常州\u{0}新材料");
    let a = anonymous(app, Method::POST, "/enterprises/register", Some(&reg))
        .await
        .expect_problem(422);
    assert_eq!(field_of(&a), "name");
    let mut reg = registration();
    reg["contact_name"] = json!("张\t三");
    let a = anonymous(app, Method::POST, "/enterprises/register", Some(&reg))
        .await
        .expect_problem(422);
    assert_eq!(field_of(&a), "contact_name");
    // A NUL in a login is refused at the edge, before the database.
    let a = anonymous(
        app,
        Method::POST,
        "/auth/login",
        Some(&json!({"username": "ad\u{0}min", "password": "x"})),
    )
    .await
    .expect_problem(422);
    assert_eq!(field_of(&a), "username");
}

#[tokio::test]
async fn over_long_values_are_refused_before_the_database() {
    let c = case().await;
    let app = &c.app;
    // An impossible username is the same 401 as any wrong login.
    for name in ["a".repeat(65), "用户".repeat(40), "x".repeat(10_000)] {
        let a = anonymous(
            app,
            Method::POST,
            "/auth/login",
            Some(&json!({"username": name, "password": "whatever-password"})),
        )
        .await
        .expect_problem(401);
        assert_eq!(a.body["detail"], "invalid username or password");
    }
    let mut reg = registration();
    reg["username"] = json!("u".repeat(65));
    let a = anonymous(app, Method::POST, "/enterprises/register", Some(&reg))
        .await
        .expect_problem(422);
    assert_eq!(field_of(&a), "username");
    let a = app
        .post(
            "/appeals",
            &c.ent_token,
            json!({"title": "长".repeat(201), "content": "内容", "category": "energy"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(field_of(&a), "title");
    let a = app
        .put(
            "/calendar/days/2026-10-09",
            &c.admin,
            json!({"kind": "holiday", "name": "假".repeat(101)}),
        )
        .await
        .expect_problem(422);
    assert_eq!(field_of(&a), "name");
}

#[tokio::test]
async fn csv_cells_that_could_run_as_formulas_are_neutralized() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, ent) = app
        .org_with_user(&admin, "enterprise", "南通某电子公司")
        .await;
    let names = [
        "=HYPERLINK(\"http://evil.example\",\"点击\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
    ];
    for (name, category) in names.iter().zip(["energy", "land", "permits", "talent"]) {
        let dept = app.create_org(&admin, "department", name).await;
        app.put(
            &format!("/routing-rules/{category}"),
            &admin,
            json!({"department_id": dept}),
        )
        .await
        .expect(200);
        app.post(
            "/appeals",
            &ent,
            json!({"title": "诉求", "content": "内容", "category": category}),
        )
        .await
        .expect(201);
    }
    let csv = app
        .get(
            "/dashboard/sla.csv?from=2026-03-01&to=2026-03-31&group_by=department",
            &admin,
        )
        .await
        .expect(200)
        .text;
    for name in names {
        let neutral = format!("'{name}");
        let quoted = format!("\"{}\"", neutral.replace('"', "\"\""));
        assert!(
            csv.contains(&format!(",{neutral},")) || csv.contains(&format!(",{quoted},")),
            "{name} not neutralized in\n{csv}"
        );
    }
    for line in csv.lines().skip(1) {
        let name_cell = line.split(',').nth(1).unwrap_or_default();
        assert!(
            !name_cell
                .trim_start_matches('"')
                .starts_with(['=', '+', '-', '@']),
            "{line}"
        );
    }
}

#[tokio::test]
async fn failed_logins_lock_a_username_only_from_where_they_came() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.login_answer("admin", "wrong-password-1")
            .await
            .expect_problem(401);
    }
    app.login_answer("admin", ADMIN_PASSWORD)
        .await
        .expect_problem(429);
    // The same administrator from another address is not locked out.
    let other = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().expect("ip")))
        .build()
        .expect("client");
    let res = other
        .post(app.url("/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn one_address_spraying_usernames_is_throttled() {
    let app = spawn_app_with(|s| s.login_max_failures_per_address = 8).await;
    for _ in 0..8 {
        anonymous(
            &app,
            Method::POST,
            "/auth/login",
            Some(&json!({"username": username(), "password": "guess-password-1"})),
        )
        .await
        .expect_problem(401);
    }
    let a = anonymous(
        &app,
        Method::POST,
        "/auth/login",
        Some(&json!({"username": username(), "password": "guess-password-1"})),
    )
    .await
    .expect_problem(429);
    assert!(a.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn usernames_are_case_insensitive() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut reg = registration();
    let name = format!("MiXeD_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    reg["username"] = json!(name);
    let r = anonymous(&app, Method::POST, "/enterprises/register", Some(&reg))
        .await
        .expect(201);
    assert_eq!(r.body["user"]["username"], name.to_lowercase());
    app.login(&name.to_uppercase(), "register-password-1").await;
    app.login(&name.to_lowercase(), "register-password-1").await;
    // `ADMIN` is `admin`: taken.
    let a = app
        .post(
            "/users",
            &admin,
            json!({"username": "ADMIN", "password": "another-password-1", "display_name": "冒充",
                   "role": "admin"}),
        )
        .await
        .expect_problem(409);
    assert_eq!(a.body["code"], "duplicate_username");
    let mut reg = registration();
    reg["username"] = json!("Admin");
    anonymous(&app, Method::POST, "/enterprises/register", Some(&reg))
        .await
        .expect_problem(409);
    app.login("ADMIN", ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn a_trickled_body_is_closed_with_408() {
    let app = spawn_app_with(|s| s.request_body_timeout_ms = 300).await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    tcp.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
    )
    .await
    .expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    // The server answers and closes: read until EOF (bounded, in case it never does).
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection stayed open");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn instants_and_dates_out_of_range_are_422() {
    let c = case().await;
    let app = &c.app;
    for start in ["9999-12-31T23:59:59Z", "1899-12-31T23:59:59Z"] {
        let a = app
            .post(
                "/calendar/deadline",
                &c.ent_token,
                json!({"start": start, "working_days": "1"}),
            )
            .await
            .expect_problem(422);
        assert!(!a.text.contains("+10000"), "{}", a.text);
    }
    let a = app
        .post(
            "/calendar/deadline",
            &c.ent_token,
            json!({"start": "9999-12-20T00:00:00Z", "working_days": "30"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(field_of(&a), "working_days");
    // The last supported instant still computes when the deadline stays in range.
    app.post(
        "/calendar/deadline",
        &c.ent_token,
        json!({"start": "9999-12-01T00:00:00Z", "working_days": "1"}),
    )
    .await
    .expect(200);
    for q in [
        "from=-0001-01-01&to=0001-01-10",
        "from=1899-12-25&to=1900-01-02",
        "from=9999-12-25&to=+10000-01-02",
    ] {
        let a = app.get(&format!("/calendar/days?{q}"), &c.ent_token).await;
        assert!(
            [400, 422].contains(&a.status.as_u16()),
            "{q}: {} {}",
            a.status,
            a.text
        );
        assert!(!a.text.contains("+10000") && !a.text.contains("\"-0001"));
    }
    app.get("/calendar/days?from=1899-12-25&to=1900-01-02", &c.ent_token)
        .await
        .expect_problem(422);
    app.get("/dashboard/sla?from=1899-01-01&to=1899-01-31", &c.admin)
        .await
        .expect_problem(422);
    app.get("/appeals?due_before=1800-01-01", &c.admin)
        .await
        .expect_problem(422);
    // The first day in range, though its midnight in Shanghai is still 1899 in UTC.
    app.get("/appeals?due_before=1900-01-01", &c.admin)
        .await
        .expect(200);
    let ent = app
        .create_org(&c.admin, "enterprise", "常州新材料有限公司")
        .await;
    let a = app
        .put(
            &format!("/organizations/{ent}/qualifications/high_tech"),
            &c.admin,
            json!({"valid_from": "2026-01-01", "valid_until": "+10000-01-01",
                   "certificate_no": "GR2026", "issued_by": "江苏省科学技术厅"}),
        )
        .await;
    assert!([400, 422].contains(&a.status.as_u16()), "{}", a.text);
    let a = app
        .put(
            &format!("/organizations/{ent}/qualifications/high_tech"),
            &c.admin,
            json!({"valid_from": "1800-01-01", "certificate_no": "GR2026", "issued_by": "江苏省科学技术厅"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(field_of(&a), "valid_from");
    app.put(
        "/calendar/days/1899-10-01",
        &c.admin,
        json!({"kind": "holiday", "name": "旧假日"}),
    )
    .await
    .expect_problem(422);
}

/// Polls `path` on `base` with `token` until it answers 401, for at most `within`.
async fn refused_within(app: &TestApp, base: &str, token: &str, within: Duration) -> bool {
    let started = Instant::now();
    loop {
        let status = app
            .client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("sent")
            .status();
        if status == 401 {
            return true;
        }
        assert_eq!(status, 200);
        if started.elapsed() > within {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_deactivated_users_sessions_end_on_every_instance() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let second = app.second_instance().await;
    let name = username();
    let user = app
        .post(
            "/users",
            &admin,
            json!({"username": name, "password": "user-password-1", "display_name": "张三",
                   "role": "admin"}),
        )
        .await
        .expect(201)
        .id();
    let pair = app.login_answer(&name, "user-password-1").await.expect(200);
    let token = pair.str("access_token");
    // The token works on the second instance, which now trusts it for a moment.
    let me = app
        .client
        .get(format!("{second}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(me.status(), 200);

    // Only an admin deactivates, and not themself.
    let me_id = app.get("/me", &admin).await.expect(200).id();
    app.post(&format!("/users/{me_id}/deactivate"), &admin, json!({}))
        .await
        .expect_problem(409);
    let d = app
        .post(&format!("/users/{user}/deactivate"), &admin, json!({}))
        .await
        .expect(200);
    assert_eq!(d.body["active"], false);
    // Refused at once on this instance, and on the other within a second: the change feed
    // tells it (it keeps its answer for minutes otherwise).
    app.get("/me", &token).await.expect_problem(401);
    assert!(refused_within(&app, &second, &token, Duration::from_secs(1)).await);
    // No refresh, no login.
    app.post(
        "/auth/refresh",
        "",
        json!({"refresh_token": pair.str("refresh_token")}),
    )
    .await
    .expect_problem(401);
    app.login_answer(&name, "user-password-1")
        .await
        .expect_problem(401);
    // Activated again, the user logs in anew; the old token stays dead.
    app.post(&format!("/users/{user}/activate"), &admin, json!({}))
        .await
        .expect(200);
    let fresh = app.login(&name, "user-password-1").await;
    app.get("/me", &fresh).await.expect(200);
    app.get("/me", &token).await.expect_problem(401);
    // Both changes are audited.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let actions: Vec<String> = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::ObjectId.eq(user.as_str()))
        .all(&app.db)
        .await
        .expect("audit rows")
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(
        actions.contains(&"user.deactivate".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"user.activate".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn logout_and_refresh_reuse_end_that_logins_access_tokens() {
    let app = spawn_app().await;
    let second = app.second_instance().await;
    // Logout.
    let pair = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    let other_login = app.admin().await;
    let token = pair.str("access_token");
    app.get("/me", &token).await.expect(200);
    // The second instance has checked, and keeps, the login.
    assert!(!refused_within(&app, &second, &token, Duration::ZERO).await);
    app.post(
        "/auth/logout",
        &token,
        json!({"refresh_token": pair.str("refresh_token")}),
    )
    .await
    .expect(204);
    app.get("/me", &token).await.expect_problem(401);
    assert!(refused_within(&app, &second, &token, Duration::from_secs(1)).await);
    // Another login of the same user goes on.
    app.get("/me", &other_login).await.expect(200);

    // Reuse of a refresh token.
    let pair = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    let old = pair.str("refresh_token");
    let next = app
        .post("/auth/refresh", "", json!({"refresh_token": old}))
        .await
        .expect(200);
    let access = next.str("access_token");
    app.get("/me", &access).await.expect(200);
    app.post("/auth/refresh", "", json!({"refresh_token": old}))
        .await
        .expect_problem(401);
    app.get("/me", &access).await.expect_problem(401);
    app.get("/me", &other_login).await.expect(200);
}

#[tokio::test]
async fn the_enterprise_reads_its_timeline_without_internal_notes() {
    let c = case().await;
    let app = &c.app;
    let (_, center) = app
        .org_with_user(&c.admin, "service_center", "市企业服务中心")
        .await;
    let (dept_b, _) = app.org_with_user(&c.admin, "department", "市发改委").await;
    let a = app
        .post(
            "/appeals",
            &c.ent_token,
            json!({"title": "用电增容", "content": "新厂房需增容", "category": "energy"}),
        )
        .await
        .expect(201);
    let id = a.id();
    let act = |token: String, action: &'static str, body: Value| {
        let id = id.clone();
        async move {
            app.post(&format!("/appeals/{id}/{action}"), &token, body)
                .await
                .expect(200)
        }
    };
    act(
        center.clone(),
        "supervise",
        json!({"note": "内部督办：请加快"}),
    )
    .await;
    act(
        c.dept_token.clone(),
        "extension",
        json!({"working_days": "2", "reason": "内部：人手不足"}),
    )
    .await;
    act(
        center.clone(),
        "extension_decision",
        json!({"approve": true, "note": "内部：同意"}),
    )
    .await;
    act(
        c.dept_token.clone(),
        "reply",
        json!({"message": "已受理，正在协调供电公司"}),
    )
    .await;
    act(
        c.dept_token.clone(),
        "transfer",
        json!({"department_id": dept_b, "reason": "内部：职责不符"}),
    )
    .await;

    let official = app
        .get(&format!("/appeals/{id}/events"), &center)
        .await
        .expect(200)
        .body;
    let official = official.as_array().expect("events");
    assert!(official.iter().any(|e| e["action"] == "supervise"));
    assert!(official.iter().any(|e| e["note"] == "内部：职责不符"));

    let mine = app
        .get(&format!("/appeals/{id}/events"), &c.ent_token)
        .await
        .expect(200)
        .body;
    let mine = mine.as_array().expect("events");
    let actions: Vec<&str> = mine.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            "submit",
            "assign",
            "extension_decision",
            "reply",
            "transfer"
        ],
        "{mine:?}"
    );
    let text = serde_json::to_string(mine).unwrap_or_default();
    assert!(!text.contains("内部"), "{text}");
    let by_action = |a: &str| mine.iter().find(|e| e["action"] == a).expect(a);
    assert_eq!(by_action("reply")["note"], "已受理，正在协调供电公司");
    assert_eq!(by_action("assign")["to_department_id"], c.dept.as_str());
    assert_eq!(by_action("assign")["to_department_name"], "市工信局");
    assert_eq!(by_action("transfer")["to_department_name"], "市发改委");
    assert!(by_action("transfer")["note"].is_null());
    // Officials' user ids are not shown; the enterprise's own are.
    assert!(by_action("reply")["actor_id"].is_null());
    assert!(by_action("submit")["actor_id"].is_string());
}

#[tokio::test]
async fn http_hygiene_headers_media_types_and_bad_queries() {
    let app = spawn_app_with(|s| s.cors_allowed_origins = "https://app.example.cn".into()).await;
    let admin = app.admin().await;

    // CORS: an allowed origin's preflight is answered; any other gets no allowance.
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/appeals"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("https://app.example.cn").await.expect("sent");
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.cn"
    );
    let evil = preflight("https://evil.example").await.expect("sent");
    assert!(!evil.headers().contains_key("access-control-allow-origin"));
    assert!(!evil.status().is_success());
    // A same-origin or server-side caller sending an Origin is not broken by CORS.
    let res = app
        .client
        .get(app.url("/me"))
        .bearer_auth(&admin)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    assert!(!res.headers().contains_key("access-control-allow-origin"));

    // Tokens are never cached; every answer says nosniff.
    let login = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    assert_eq!(login.headers["cache-control"], "no-store");
    assert_eq!(login.headers["x-content-type-options"], "nosniff");
    let docs = app.client.get(app.url("/docs")).send().await.expect("sent");
    assert_eq!(docs.headers()["x-content-type-options"], "nosniff");
    let csp = docs.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );

    // Request ids: short and plain are kept, anything else replaced.
    let id_of = |sent: &'static str| {
        let app = &app;
        async move {
            let res = app
                .client
                .get(app.url("/health/live"))
                .header("x-request-id", sent)
                .send()
                .await
                .expect("sent");
            res.headers()["x-request-id"]
                .to_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    assert_eq!(id_of("req-123_abc.9").await, "req-123_abc.9");
    assert_ne!(
        id_of("<script>alert(1)</script>").await,
        "<script>alert(1)</script>"
    );
    let long: &'static str = "a".repeat(65).leak();
    assert_ne!(id_of(long).await, long);

    // A body declared as anything but JSON on a JSON endpoint is 415.
    raw(
        &app,
        Method::POST,
        "/organizations",
        Some(&admin),
        "text/plain",
        br#"{"kind":"department","name":"x"}"#.to_vec(),
    )
    .await
    .expect_problem(415);
    raw(
        &app,
        Method::POST,
        "/auth/login",
        None,
        "application/x-www-form-urlencoded",
        b"username=admin&password=x".to_vec(),
    )
    .await
    .expect_problem(415);

    // HEAD answers like GET without a body.
    let head = app
        .client
        .head(app.url("/appeals"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("sent");
    assert_eq!(head.status(), 200);
    assert!(head.bytes().await.unwrap_or_default().is_empty());
    let head = app
        .client
        .head(app.url("/appeals"))
        .send()
        .await
        .expect("sent");
    assert_eq!(head.status(), 401);

    // Bad paging is a bad query: 400.
    for q in ["limit=0", "limit=201", "cursor=not-a-cursor", "limit=-1"] {
        app.get(&format!("/appeals?{q}"), &admin)
            .await
            .expect_problem(400);
        app.get(&format!("/organizations?{q}"), &admin)
            .await
            .expect_problem(400);
    }
    app.get("/dashboard/at-risk?limit=0", &admin)
        .await
        .expect_problem(400);

    // Working-hour intervals that touch are one stretch; overlap names the field and unit.
    let s = app
        .put(
            "/calendar/settings",
            &admin,
            json!({"time_zone": "Asia/Shanghai",
                   "working_hours": [{"start": "09:00", "end": "12:00"}, {"start": "12:00", "end": "17:00"}]}),
        )
        .await
        .expect(200);
    assert_eq!(s.body["working_hours"][1]["start"], "12:00");
    let a = app
        .put(
            "/calendar/settings",
            &admin,
            json!({"time_zone": "Asia/Shanghai",
                   "working_hours": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "17:00"}]}),
        )
        .await
        .expect_problem(422);
    assert_eq!(field_of(&a), "working_hours[1].start");
    assert!(
        a.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("HH:MM")
    );
}
