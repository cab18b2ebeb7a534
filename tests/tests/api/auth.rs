//! Login, refresh rotation with reuse detection, logout, `/me`, token validation, throttling.

use crate::support::{anonymous, registration};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use entity::clock::Clock;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use tests::*;

async fn refresh(app: &TestApp, token: &str) -> Answer {
    anonymous(
        app,
        Method::POST,
        "/auth/refresh",
        Some(&json!({"refresh_token": token})),
    )
    .await
}

/// A token with the admin's real claims, re-signed as the test wishes.
async fn admin_claims(app: &TestApp) -> Value {
    let token = app.admin().await;
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json claims")
}

fn sign(alg: Algorithm, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

#[tokio::test]
async fn login_returns_a_bearer_pair_and_the_user() {
    let app = spawn_app().await;
    let res = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    assert_eq!(res.str("token_type"), "Bearer");
    assert_eq!(res.body["expires_in"], 900);
    assert!(!res.str("access_token").is_empty());
    assert!(!res.str("refresh_token").is_empty());
    let user = &res.body["user"];
    assert_eq!(user["username"], "admin");
    assert_eq!(user["role"], "admin");
    assert!(user["id"].is_string());
    assert!(user["display_name"].is_string());
    assert!(user.get("organization_id").is_some());
}

#[tokio::test]
async fn me_returns_the_signed_in_user_with_organization() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (org, token) = app.org_with_user(&admin, "department", "工信局").await;
    let me = app.get("/me", &token).await.expect(200);
    assert_eq!(me.str("role"), "department");
    assert_eq!(me.str("organization_id"), org);
    assert!(
        me.body.get("password_hash").is_none(),
        "never expose the hash: {}",
        me.text
    );
}

#[tokio::test]
async fn me_without_token_is_401_problem() {
    let app = spawn_app().await;
    let res = anonymous(&app, Method::GET, "/me", None)
        .await
        .expect_problem(401);
    assert_eq!(res.str("code"), "unauthorized");
}

#[tokio::test]
async fn wrong_username_and_wrong_password_give_the_identical_401() {
    let app = spawn_app().await;
    let bad_password = app
        .login_answer("admin", "not-the-password")
        .await
        .expect_problem(401);
    let bad_user = app
        .login_answer("nobody-here", "not-the-password")
        .await
        .expect_problem(401);
    assert_eq!(bad_password.text, bad_user.text);
}

#[tokio::test]
async fn refresh_returns_a_new_pair_that_works() {
    let app = spawn_app().await;
    let first = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    let second = refresh(&app, &first.str("refresh_token")).await.expect(200);
    assert_ne!(second.str("refresh_token"), first.str("refresh_token"));
    assert_eq!(second.str("token_type"), "Bearer");
    app.get("/me", &second.str("access_token"))
        .await
        .expect(200);
    // The new refresh token rotates again.
    refresh(&app, &second.str("refresh_token"))
        .await
        .expect(200);
}

#[tokio::test]
async fn refresh_token_reuse_revokes_the_whole_login() {
    let app = spawn_app().await;
    let first = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    let old = first.str("refresh_token");
    let second = refresh(&app, &old).await.expect(200);
    let newest = second.str("refresh_token");

    refresh(&app, &old).await.expect_problem(401);
    // The reuse revoked the family: the newest token of that login fails too.
    refresh(&app, &newest).await.expect_problem(401);
}

#[tokio::test]
async fn refresh_token_reuse_leaves_other_logins_alone() {
    let app = spawn_app().await;
    let stolen = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    let other = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    refresh(&app, &stolen.str("refresh_token"))
        .await
        .expect(200);
    refresh(&app, &stolen.str("refresh_token"))
        .await
        .expect_problem(401);
    refresh(&app, &other.str("refresh_token")).await.expect(200);
}

#[tokio::test]
async fn unknown_refresh_token_is_401() {
    let app = spawn_app().await;
    refresh(&app, "not-a-refresh-token")
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let pair = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    let res = app
        .post(
            "/auth/logout",
            &pair.str("access_token"),
            json!({"refresh_token": pair.str("refresh_token")}),
        )
        .await
        .expect(204);
    assert!(res.text.is_empty());
    refresh(&app, &pair.str("refresh_token"))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn logout_revokes_tokens_rotated_from_the_same_login() {
    let app = spawn_app().await;
    let pair = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    let rotated = refresh(&app, &pair.str("refresh_token")).await.expect(200);
    app.post(
        "/auth/logout",
        &rotated.str("access_token"),
        json!({"refresh_token": rotated.str("refresh_token")}),
    )
    .await
    .expect(204);
    refresh(&app, &rotated.str("refresh_token"))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn logout_needs_a_bearer_token() {
    let app = spawn_app().await;
    let pair = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    anonymous(
        &app,
        Method::POST,
        "/auth/logout",
        Some(&json!({"refresh_token": pair.str("refresh_token")})),
    )
    .await
    .expect_problem(401);
    refresh(&app, &pair.str("refresh_token")).await.expect(200);
}

#[tokio::test]
async fn expired_access_token_is_401_problem() {
    let app = spawn_app().await;
    let pair = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    app.get("/me", &pair.str("access_token")).await.expect(200);
    app.advance(TimeDelta::minutes(16));
    app.get("/me", &pair.str("access_token"))
        .await
        .expect_problem(401);
    // The refresh token outlives the access token.
    let fresh = refresh(&app, &pair.str("refresh_token")).await.expect(200);
    app.get("/me", &fresh.str("access_token")).await.expect(200);
}

#[tokio::test]
async fn access_token_still_works_just_before_expiry() {
    let app = spawn_app().await;
    let token = app.admin().await;
    app.advance(TimeDelta::minutes(14));
    app.get("/me", &token).await.expect(200);
}

#[tokio::test]
async fn tampered_token_payload_is_401() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = admin_claims(&app).await;
    claims["role"] = json!("admin");
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 3600);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let forged = format!("{}.{}.{}", parts[0], payload, parts[2]);
    app.get("/me", &forged).await.expect_problem(401);

    // One changed character in the middle of the payload.
    let mut p = parts[1].to_string().into_bytes();
    let i = p.len() / 2;
    p[i] = if p[i] == b'A' { b'B' } else { b'A' };
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        String::from_utf8(p).unwrap(),
        parts[2]
    );
    app.get("/me", &forged).await.expect_problem(401);
}

#[tokio::test]
async fn tampered_token_signature_is_401() {
    let app = spawn_app().await;
    let token = app.admin().await;
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut s = sig.to_string().into_bytes();
    s[5] = if s[5] == b'x' { b'y' } else { b'x' };
    let forged = format!("{head}.{}", String::from_utf8(s).unwrap());
    app.get("/me", &forged).await.expect_problem(401);
}

#[tokio::test]
async fn token_with_alg_none_is_401() {
    let app = spawn_app().await;
    let claims = admin_claims(&app).await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    app.get("/me", &format!("{header}.{payload}."))
        .await
        .expect_problem(401);
    app.get("/me", &format!("{header}.{payload}"))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn token_signed_with_hs512_is_401() {
    let app = spawn_app().await;
    let claims = admin_claims(&app).await;
    // Sanity: the same claims signed as the server does are accepted.
    app.get("/me", &sign(Algorithm::HS256, &claims, JWT_SECRET))
        .await
        .expect(200);
    app.get("/me", &sign(Algorithm::HS512, &claims, JWT_SECRET))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn token_signed_with_another_secret_is_401() {
    let app = spawn_app().await;
    let claims = admin_claims(&app).await;
    let other = "another-secret-0123456789abcdef0123456789abcdef";
    app.get("/me", &sign(Algorithm::HS256, &claims, other))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn token_with_wrong_audience_or_issuer_is_401() {
    let app = spawn_app().await;
    let claims = admin_claims(&app).await;
    assert_eq!(claims["iss"], "liantong");
    assert_eq!(claims["aud"], "liantong-api");
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("someone-else");
    app.get("/me", &sign(Algorithm::HS256, &wrong_aud, JWT_SECRET))
        .await
        .expect_problem(401);
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("evil");
    app.get("/me", &sign(Algorithm::HS256, &wrong_iss, JWT_SECRET))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn forged_token_built_from_scratch_is_checked_for_expiry() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let me = app.get("/me", &admin).await.expect(200);
    let now = app.clock.now().timestamp();
    let claims = |exp: i64| {
        json!({"iss": "liantong", "aud": "liantong-api", "sub": me.id(), "exp": exp, "iat": now,
               "role": "admin", "org": null, "sid": uuid::Uuid::new_v4(), "sv": 0})
    };
    app.get(
        "/me",
        &sign(Algorithm::HS256, &claims(now + 60), JWT_SECRET),
    )
    .await
    .expect(200);
    app.get("/me", &sign(Algorithm::HS256, &claims(now - 1), JWT_SECRET))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn malformed_authorization_header_is_401() {
    let app = spawn_app().await;
    for value in [
        "Basic YWRtaW46YWRtaW4=",
        "Bearer",
        "Bearer not.a.jwt",
        "token",
    ] {
        app.send(Method::GET, "/me", None, None, &[("Authorization", value)])
            .await
            .expect_problem(401);
    }
}

#[tokio::test]
async fn sixth_login_after_five_failures_is_429_even_with_the_right_password() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.login_answer("admin", "wrong-password-1")
            .await
            .expect_problem(401);
    }
    let res = app
        .login_answer("admin", ADMIN_PASSWORD)
        .await
        .expect_problem(429);
    let retry: u64 = res
        .headers
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is whole seconds");
    assert!(retry > 0 && retry <= 900, "Retry-After {retry}");

    assert_eq!(
        retry, 900,
        "the oldest failure leaves the window in 15 minutes"
    );

    app.advance(TimeDelta::minutes(10));
    let res = app
        .login_answer("admin", ADMIN_PASSWORD)
        .await
        .expect_problem(429);
    assert_eq!(res.headers.get("retry-after").unwrap(), "300");

    app.advance(TimeDelta::minutes(5));
    app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
}

#[tokio::test]
async fn refresh_token_expires_after_thirty_days() {
    let app = spawn_app().await;
    let pair = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    let kept = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    app.advance(TimeDelta::days(29));
    refresh(&app, &kept.str("refresh_token")).await.expect(200);
    app.advance(TimeDelta::days(2));
    refresh(&app, &pair.str("refresh_token"))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn throttling_is_per_username() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let other = app.user_token(&admin, "admin", None).await;
    let name = app.get("/me", &other).await.str("username");
    for _ in 0..5 {
        app.login_answer("admin", "wrong-password-1")
            .await
            .expect_problem(401);
    }
    app.login_answer("admin", ADMIN_PASSWORD)
        .await
        .expect_problem(429);
    app.login_answer(&name, USER_PASSWORD).await.expect(200);
}

#[tokio::test]
async fn successful_login_before_the_limit_is_not_slowed() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.login_answer("admin", "wrong-password-1")
            .await
            .expect_problem(401);
    }
    app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    // The success forgave the earlier failures: four more are still below the limit.
    for _ in 0..4 {
        app.login_answer("admin", "wrong-password-1")
            .await
            .expect_problem(401);
    }
    app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
}

#[tokio::test]
async fn registered_enterprise_user_can_log_in() {
    let app = spawn_app().await;
    let body = registration();
    anonymous(&app, Method::POST, "/enterprises/register", Some(&body))
        .await
        .expect(201);
    let token = app
        .login(
            body["username"].as_str().unwrap(),
            body["password"].as_str().unwrap(),
        )
        .await;
    let me = app.get("/me", &token).await.expect(200);
    assert_eq!(me.str("role"), "enterprise");
}

#[tokio::test]
async fn concurrent_failed_logins_cannot_exceed_the_limit() {
    let app = spawn_app().await;
    let attempts = (0..20).map(|_| app.login_answer("admin", "wrong-password-1"));
    let answers = futures::future::join_all(attempts).await;
    let unauthorized = answers.iter().filter(|a| a.status.as_u16() == 401).count();
    let throttled = answers.iter().filter(|a| a.status.as_u16() == 429).count();
    // 503: more waited for a hashing slot than the queue holds; such an attempt is not checked.
    let busy = answers.iter().filter(|a| a.status.as_u16() == 503).count();
    assert_eq!(
        unauthorized + throttled + busy,
        20,
        "only 401, 429 and 503 expected"
    );
    assert!(
        unauthorized <= 5,
        "{unauthorized} password guesses were checked; the limit is 5"
    );
    app.login_answer("admin", ADMIN_PASSWORD)
        .await
        .expect_problem(429);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_let_at_most_one_through_and_revoke_the_login() {
    let app = spawn_app().await;
    let pair = app.login_answer("admin", ADMIN_PASSWORD).await.expect(200);
    let token = pair.str("refresh_token");
    let answers = futures::future::join_all((0..5).map(|_| refresh(&app, &token))).await;
    let winners: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status.as_u16() == 200)
        .collect();
    assert!(winners.len() <= 1, "{} refreshes succeeded", winners.len());
    assert!(
        answers
            .iter()
            .all(|a| matches!(a.status.as_u16(), 200 | 401))
    );
    // The replays revoked the login, including the token the winner got.
    if let Some(w) = winners.first() {
        refresh(&app, &w.str("refresh_token"))
            .await
            .expect_problem(401);
    }
}
