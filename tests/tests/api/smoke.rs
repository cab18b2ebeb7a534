use tests::*;

#[tokio::test]
async fn health_and_admin_login_work() {
    let app = spawn_app().await;
    app.send(reqwest::Method::GET, "/health/live", None, None, &[])
        .await
        .expect(200);
    app.send(reqwest::Method::GET, "/health/ready", None, None, &[])
        .await
        .expect(200);
    let token = app.admin().await;
    let me = app.get("/me", &token).await.expect(200);
    assert_eq!(me.str("username"), "admin");
    assert_eq!(me.str("role"), "admin");
}
