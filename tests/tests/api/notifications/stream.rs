//! `GET /notifications/stream` (server-sent events): delivery across api instances, `Last-Event-ID`
//! replay, heartbeats, the end of a session, and a notification committed after a newer one.

use super::*;

/// One frame of an event stream.
#[derive(Debug, Default, Clone)]
struct Frame {
    id: Option<String>,
    data: Option<String>,
    comment: Option<String>,
}

/// A client of `GET /notifications/stream`.
struct Sse {
    res: reqwest::Response,
    buf: String,
}

impl Sse {
    /// Opens a stream at `base` (an instance's address); panics unless 200 `text/event-stream`.
    async fn open(app: &TestApp, base: &str, token: &str, last_event_id: Option<&str>) -> Self {
        let mut req = app
            .client
            .get(format!("{base}/api/v1/notifications/stream"))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let res = req.send().await.expect("stream opened");
        assert_eq!(res.status().as_u16(), 200);
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Self {
            res,
            buf: String::new(),
        }
    }

    /// The next frame within `within`, or `None`.
    async fn next(&mut self, within: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let mut f = Frame::default();
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        f.id = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        f.data = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix(": ") {
                        f.comment = Some(v.to_string());
                    }
                }
                return Some(f);
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk())
                .await
                .ok()?
                .expect("stream readable")?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next frame that is an event (heartbeats skipped), within `within`.
    async fn next_event(&mut self, within: Duration) -> Option<(String, Value)> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let f = self.next(left).await?;
            if let (Some(id), Some(data)) = (f.id, f.data) {
                return Some((id, serde_json::from_str(&data).expect("JSON data")));
            }
        }
    }
}

#[tokio::test]
async fn a_notification_written_through_another_instance_reaches_an_open_stream_within_a_second() {
    let c = CityBuilder::new()
        .long_lived_tokens()
        // Heartbeats often enough to show that the other department's stream got nothing.
        .settings(|s| s.sse_heartbeat_ms = 1_500)
        .centre("市企业服务中心")
        .department("市工信局")
        .department("市自然资源局")
        .enterprise("南通某电子公司")
        .build()
        .await;
    let app = &c.app;
    let centre = c.centre.clone().expect("centre").token;
    let (a, b) = (&c.departments[0], &c.departments[1]);
    let appeal = submit(app, &c.enterprises[0].token, "energy").await;
    let id = appeal["id"].as_str().expect("id");

    let mut stream_a = Sse::open(app, &app.address, &a.token, None).await;
    let mut stream_b = Sse::open(app, &app.address, &b.token, None).await;
    let other = app.second_instance().await;
    let res = app
        .client
        .post(format!("{other}/api/v1/appeals/{id}/assign"))
        .bearer_auth(&centre)
        .json(&json!({"department_id": a.id}))
        .send()
        .await
        .expect("assign sent");
    assert_eq!(res.status().as_u16(), 200);
    let written = Instant::now();

    let (event_id, data) = stream_a
        .next_event(Duration::from_secs(1))
        .await
        .expect("the notification within a second");
    assert!(
        written.elapsed() <= Duration::from_secs(1),
        "{:?}",
        written.elapsed()
    );
    // The event is the list item: same id, same JSON.
    let listed = inbox(app, &a.token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(event_id, listed[0]["id"].as_str().expect("id"));
    assert_eq!(data, listed[0]);
    assert_eq!(data["kind"], "appeal_assigned");
    assert_eq!(data["object_id"], id);
    // The other department's stream was handed nothing by the same look: its next frame is a
    // heartbeat.
    let f = stream_b
        .next(Duration::from_secs(3))
        .await
        .expect("a frame");
    assert_eq!(f.comment.as_deref(), Some("keep-alive"), "{f:?}");
    assert!(f.id.is_none());
}

#[tokio::test]
async fn a_stream_reopened_with_last_event_id_first_replays_what_was_missed() {
    let c = routed_city().await;
    let app = &c.app;
    let dept = &c.departments[0].token;
    for _ in 0..4 {
        submit(app, &c.enterprises[0].token, "energy").await;
    }
    let mut ids: Vec<String> = inbox(app, dept)
        .await
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_string())
        .collect();
    ids.reverse();
    assert_eq!(ids.len(), 4);

    // The client saw the first one; the three after it come first, oldest first.
    let mut s = Sse::open(app, &app.address, dept, Some(&ids[0])).await;
    for want in &ids[1..] {
        let (id, data) = s
            .next_event(Duration::from_secs(2))
            .await
            .expect("a replayed event");
        assert_eq!(&id, want);
        assert_eq!(data["id"], want.as_str());
    }
    // Then what happens now, once.
    submit(app, &c.enterprises[0].token, "energy").await;
    let (live, _) = s
        .next_event(Duration::from_secs(2))
        .await
        .expect("a live event");
    assert!(!ids.contains(&live));
    assert_eq!(inbox(app, dept).await[0]["id"], live.as_str());

    // Nothing is replayed after the newest; a malformed id is 400.
    let mut s = Sse::open(app, &app.address, dept, Some(&live)).await;
    assert!(s.next_event(Duration::from_millis(600)).await.is_none());
    app.send(
        Method::GET,
        "/notifications/stream",
        Some(dept),
        None,
        &[("Last-Event-ID", "not-an-id")],
    )
    .await
    .expect_problem(400);
    app.send(Method::GET, "/notifications/stream", None, None, &[])
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn an_idle_stream_gets_a_heartbeat_comment_every_interval() {
    let c = CityBuilder::new()
        .settings(|s| s.sse_heartbeat_ms = 200)
        .department("市工信局")
        .build()
        .await;
    let app = &c.app;
    let mut s = Sse::open(app, &app.address, &c.departments[0].token, None).await;
    let started = Instant::now();
    for _ in 0..3 {
        let f = s.next(Duration::from_secs(2)).await.expect("a heartbeat");
        assert_eq!(f.comment.as_deref(), Some("keep-alive"), "{f:?}");
        assert!(f.id.is_none() && f.data.is_none());
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(550) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_stream_ends_when_its_user_is_deactivated() {
    let c = CityBuilder::new()
        .settings(|s| {
            s.sse_heartbeat_ms = 200;
            s.session_check_ms = 0;
        })
        .department("市工信局")
        .build()
        .await;
    let app = &c.app;
    let token = &c.departments[0].token;
    let mut s = Sse::open(app, &app.address, token, None).await;
    assert!(s.next(Duration::from_secs(2)).await.is_some());
    let (user, _) = me(app, token).await;
    app.post(&format!("/users/{user}/deactivate"), &c.admin, json!({}))
        .await
        .expect(200);
    // The next heartbeat finds the session ended and closes the stream.
    let mut ended = false;
    for _ in 0..5 {
        if s.next(Duration::from_secs(2)).await.is_none() {
            ended = true;
            break;
        }
    }
    assert!(ended, "the stream is still open");
}

#[tokio::test]
async fn a_notification_committed_after_a_newer_one_is_still_streamed() {
    use sea_orm::TransactionTrait;
    let c = routed_city().await;
    let app = &c.app;
    let dept = &c.departments[0];
    let (dept_user, _) = me(app, &dept.token).await;
    let dept_user: Uuid = dept_user.parse().expect("uuid");
    let mut s = Sse::open(app, &app.address, &dept.token, None).await;

    // A slow transaction takes its notification's id first and commits last. (SQLite has one
    // writer at a time: there the late commit is a row whose id was taken earlier.)
    let slow = if app.is_postgres {
        Some(app.db.begin().await.expect("begin"))
    } else {
        None
    };
    let early = match &slow {
        Some(txn) => {
            jobs::notify::notify(
                txn,
                app.clock.now(),
                jobs::notify::Audience::User(dept_user),
                jobs::notify::Notice::new(
                    NotificationKind::AppealSupervised,
                    None,
                    "慢事务",
                    "后提交",
                ),
                None,
            )
            .await
            .expect("notify");
            inbox_ids_in(txn, dept_user).await[0]
        }
        None => Uuid::now_v7(),
    };
    submit(app, &c.enterprises[0].token, "energy").await;
    let (newer, _) = s
        .next_event(Duration::from_secs(2))
        .await
        .expect("the newer notification");
    assert!(newer.parse::<Uuid>().expect("uuid") > early);
    match slow {
        Some(txn) => txn.commit().await.expect("commit"),
        None => {
            supervised_by_sql(app, early, dept_user, "慢事务", "后提交").await;
        }
    }
    let (late, data) = s
        .next_event(Duration::from_secs(1))
        .await
        .expect("the older id, committed later, within a second");
    assert_eq!(late, early.to_string());
    assert_eq!(data["title"], "慢事务");
}

/// The ids of `user`'s notifications as `conn` sees them, newest first.
async fn inbox_ids_in(conn: &impl sea_orm::ConnectionTrait, user: Uuid) -> Vec<Uuid> {
    use sea_orm::ColumnTrait;
    use sea_orm::QueryFilter;
    entity::notification::Entity::find()
        .filter(entity::notification::Column::UserId.eq(user))
        .order_by_desc(entity::notification::Column::Id)
        .all(conn)
        .await
        .expect("notifications")
        .into_iter()
        .map(|n| n.id)
        .collect()
}
