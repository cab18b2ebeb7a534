//! Test harness: `spawn_app()` starts the real application on port 0 against a fresh database
//! (SQLite temp file by default, PostgreSQL when `TEST_DATABASE_URL=postgres://...`), with a
//! mock clock the test moves, and helpers to drive it over HTTP.

use api::{config::Settings, startup::Application};
use chrono::{DateTime, TimeDelta, Utc};
use entity::clock::MockClock;
use rand::Rng;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::{path::PathBuf, sync::Arc, time::Duration};

pub mod files;
pub mod fixtures;
pub mod smtp;
pub mod template;

/// The admin password every test app starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// The JWT secret of test apps (tests forge tokens with it).
pub const JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
/// The password given to users made by the fixtures.
pub const USER_PASSWORD: &str = "user-password-1";

/// A running application and what a test needs to drive it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    /// The application's shared state (database, clock, settings), for direct service calls.
    pub state: api::state::AppState,
    pub clock: MockClock,
    pub data_dir: PathBuf,
    pub is_postgres: bool,
    /// The SMTP server the app's mail goes to (unless a test chose the file transport).
    pub mail: smtp::SmtpSink,
    /// The app's job runner (its loop is off in tests: call `tick`, `run_now` or a step).
    pub jobs: jobs::Runner,
    /// The settings the app was built with (a second instance reuses them).
    pub settings: Settings,
    _guard: DbGuard,
    _dir: tempfile::TempDir,
}

/// Drops the per-test PostgreSQL database when the test ends.
struct DbGuard(Option<(String, String)>);

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let Some((maintenance, name)) = self.0.take() {
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(db) = Database::connect(maintenance.as_str()).await {
                        let _ = db
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        let _ = db.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// The default start of the mock clock: Monday 2026-03-02 09:00 in Shanghai.
pub fn default_start() -> DateTime<Utc> {
    "2026-03-02T01:00:00Z".parse().expect("valid instant")
}

/// An instant given as a wall-clock time in Shanghai (the default calendar's zone).
pub fn shanghai(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid Shanghai time")
        .with_timezone(&Utc)
}

/// Starts the app with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `tweak` adjusts the settings.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    let (url, guard, is_postgres) = if base.starts_with("postgres") {
        let name = format!("lt_test_{}", uuid::Uuid::new_v4().simple());
        let maintenance = base.clone();
        let template = template::postgres(&maintenance).await;
        let admin = Database::connect(maintenance.as_str())
            .await
            .expect("connect to PostgreSQL");
        admin
            .execute_unprepared(&format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
            ))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = template::database_url(&maintenance, &name);
        (url, DbGuard(Some((maintenance, name))), true)
    } else {
        let file = dir.path().join("test.db");
        std::fs::copy(template::sqlite().await, &file).expect("copy the SQLite template");
        (
            format!("sqlite://{}?mode=rwc", file.display()),
            DbGuard(None),
            false,
        )
    };

    let mut settings = Settings::defaults().expect("default settings");
    settings.port = 0;
    settings.host = "127.0.0.1".into();
    settings.data_dir = dir.path().to_path_buf();
    settings.database_url = Some(SecretString::from(url.clone()));
    settings.db_max_connections = 5;
    settings.db_combined_writers = 2;
    settings.jwt_secret = Some(SecretString::from(JWT_SECRET.to_string()));
    settings.bootstrap_admin_password = Some(SecretString::from(ADMIN_PASSWORD.to_string()));
    settings.argon2_m_cost_kib = 256;
    settings.argon2_t_cost = 1;
    settings.jobs_embedded = false;
    let mail = smtp::SmtpSink::start().await;
    settings.smtp_url = Some(SecretString::from(mail.url()));
    tweak(&mut settings);

    let clock = MockClock::new(default_start());
    let app = Application::build(settings.clone(), Arc::new(clock.clone()))
        .await
        .expect("build app");
    // Requests then use the caches the change feed keeps right, as in production.
    assert!(app.state().feed.wait_live(Duration::from_secs(5)).await);
    let port = app.port();
    let db = app.state().db.clone();
    let state = app.state().clone();
    let jobs = app.state().jobs.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        db,
        state,
        clock,
        data_dir: dir.path().to_path_buf(),
        is_postgres,
        mail,
        jobs,
        settings,
        _guard: guard,
        _dir: dir,
    }
}

/// An answer: status, headers and the JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// Reads a response whole.
    pub async fn from_response(res: reqwest::Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    /// The body field `key` as a string.
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_string()
    }

    /// The `id` field.
    pub fn id(&self) -> String {
        self.str("id")
    }

    /// Asserts the status and returns self.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a problem+json error with `status`.
    #[track_caller]
    pub fn expect_problem(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            ct.starts_with("application/problem+json"),
            "content type {ct}; body {}",
            self.text
        );
        assert_eq!(
            self.body["status"].as_u64(),
            Some(status as u64),
            "{}",
            self.text
        );
        assert!(
            self.body["code"].is_string()
                && self.body["title"].is_string()
                && self.body["type"].is_string()
        );
        self
    }
}

impl TestApp {
    /// Starts a second api instance on the same database and clock (as behind a load
    /// balancer); returns its base address. It stops when the test's runtime ends.
    pub async fn second_instance(&self) -> String {
        let app = Application::build(self.settings.clone(), Arc::new(self.clock.clone()))
            .await
            .expect("build second app");
        assert!(app.state().feed.wait_live(Duration::from_secs(5)).await);
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        address
    }

    /// A cloneable handle on the API, for requests from spawned tasks.
    pub fn http(&self) -> Http {
        Http {
            address: self.address.clone(),
            client: self.client.clone(),
        }
    }

    /// The absolute URL of an API path (`/api/v1` is prefixed unless the path starts elsewhere).
    pub fn url(&self, path: &str) -> String {
        self.http().url(path)
    }

    /// Sends a request with an optional bearer token, JSON body and extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        self.http().send(method, path, token, body, headers).await
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    /// The item with id `id` in the list page at `path` (200 expected, the item must be there).
    pub async fn listed(&self, path: &str, token: &str, id: &str) -> Value {
        let list = self.get(path, token).await.expect(200).body;
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed at {path}"))
            .clone()
    }

    /// POST JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), Some(&body), &[])
            .await
    }

    /// PUT JSON with a token.
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(token), Some(&body), &[])
            .await
    }

    /// DELETE with a token.
    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send(Method::DELETE, path, Some(token), None, &[])
            .await
    }

    /// Logs in and returns the whole answer.
    pub async fn login_answer(&self, username: &str, password: &str) -> Answer {
        self.send(
            Method::POST,
            "/auth/login",
            None,
            Some(&json!({"username": username, "password": password})),
            &[],
        )
        .await
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        self.login_answer(username, password)
            .await
            .expect(200)
            .str("access_token")
    }

    /// The admin's access token.
    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates an organization as admin; returns its id.
    pub async fn create_org(&self, admin: &str, kind: &str, name: &str) -> String {
        self.create_org_with_contact(admin, kind, name, None).await
    }

    /// Creates an organization with a contact address (`None`: `contact@example.cn`).
    pub async fn create_org_with_contact(
        &self,
        admin: &str,
        kind: &str,
        name: &str,
        contact: Option<&str>,
    ) -> String {
        let contact = contact.unwrap_or("contact@example.cn");
        let mut body = json!({"kind": kind, "name": name, "contact_email": contact});
        if kind == "enterprise" || kind == "bank" {
            body["uscc"] = json!(random_uscc());
        }
        self.post("/organizations", admin, body)
            .await
            .expect(201)
            .id()
    }

    /// Creates a user with `role` in `org` (as admin) and returns an access token for it.
    pub async fn user_token(&self, admin: &str, role: &str, org: Option<&str>) -> String {
        self.user_token_with_email(admin, role, org, None).await
    }

    /// [`TestApp::user_token`] with the user's e-mail (default `<username>@example.cn`).
    pub async fn user_token_with_email(
        &self,
        admin: &str,
        role: &str,
        org: Option<&str>,
        email: Option<&str>,
    ) -> String {
        let username = format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let email = email.map_or_else(|| format!("{username}@example.cn"), str::to_string);
        self.post(
            "/users",
            admin,
            json!({"username": username, "password": USER_PASSWORD, "display_name": "测试用户",
                   "email": email, "role": role, "organization_id": org}),
        )
        .await
        .expect(201);
        self.login(&username, USER_PASSWORD).await
    }

    /// An organization of `kind` with one user; returns (org id, token).
    pub async fn org_with_user(&self, admin: &str, kind: &str, name: &str) -> (String, String) {
        let org = self.create_org(admin, kind, name).await;
        let token = self.user_token(admin, kind, Some(&org)).await;
        (org, token)
    }

    /// Moves the mock clock.
    pub fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }
}

/// A random, valid 统一社会信用代码 (GB 32100-2015 check character).
pub fn random_uscc() -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut rng = rand::thread_rng();
    let mut first17 = String::from("91320600");
    for _ in 0..9 {
        first17.push(CHARS[rng.gen_range(0..CHARS.len())] as char);
    }
    entity::uscc::Uscc::with_check_char(&first17)
        .expect("valid prefix")
        .as_str()
        .to_string()
}

/// The app's HTTP API at an address: cheap to clone into spawned tasks.
#[derive(Clone)]
pub struct Http {
    address: String,
    pub client: reqwest::Client,
}

impl Http {
    /// The absolute URL of an API path (`/api/v1` is prefixed unless the path starts elsewhere).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/api/")
            || path.starts_with("/health")
            || path.starts_with("/docs")
            || path == "/metrics"
        {
            format!("{}{}", self.address, path)
        } else {
            format!("{}/api/v1{}", self.address, path)
        }
    }

    /// Sends a request with an optional bearer token, JSON body and extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Answer::from_response(req.send().await.expect("request sent")).await
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    /// POST JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), Some(&body), &[])
            .await
    }

    /// POST JSON with a token and an `Idempotency-Key`.
    pub async fn post_with_key(&self, path: &str, token: &str, body: Value, key: &str) -> Answer {
        self.send(
            Method::POST,
            path,
            Some(token),
            Some(&body),
            &[("Idempotency-Key", key)],
        )
        .await
    }
}
