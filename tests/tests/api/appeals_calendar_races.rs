//! A calendar change racing a submission (PostgreSQL; SQLite's single writer orders them):
//! whichever commits first, the submission's clocks end up computed with the new calendar.

use super::appeals::{at, city, clock};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::TestApp;
use tests::shanghai as sh;

/// A calendar change made while a submission's transaction is still open waits for it, then
/// moves that submission's clocks too: the submission read the calendar `FOR SHARE` on
/// PostgreSQL (on SQLite the single writer orders them). Without that, the change's recompute
/// ran before the submission committed and its clocks kept the old due times.
#[tokio::test]
async fn a_calendar_change_beside_an_open_submission_moves_its_clocks() {
    use api::{
        auth::AuthUser,
        services::appeals::{self as svc, NewAppeal},
    };
    use entity::enums::{AppealCategory, Role};
    use sea_orm::TransactionTrait;

    let c = city().await;
    let now = sh(2026, 3, 2, 9, 0);
    c.app.clock.set(now);
    let me = c.app.get("/me", &c.ent_token).await.expect(200).body;
    let enterprise = AuthUser {
        id: me["id"].as_str().expect("id").parse().expect("uuid"),
        role: Role::Enterprise,
        organization_id: Some(c.ent.parse().expect("uuid")),
        session_id: uuid::Uuid::nil(),
    };
    let state = &c.app.state;
    let txn = state.db.begin().await.expect("begin");
    let a = svc::submit(
        &txn,
        &state.calendar,
        None,
        &enterprise,
        now,
        NewAppeal {
            title: "用地指标".into(),
            content: "扩建用地指标申请".into(),
            category: AppealCategory::Land,
            chain_id: None,
            attachment_ids: Vec::new(),
        },
    )
    .await
    .expect("submit");
    assert_eq!(
        at(&clock(&serde_json::to_value(&a).expect("json"), "close")["due_at"]),
        sh(2026, 3, 6, 17, 0)
    );

    let (client, admin) = (c.app.client.clone(), c.admin.clone());
    let url = format!("{}/api/v1/calendar/days/2026-03-04", c.app.address);
    let change = tokio::spawn(async move {
        client
            .put(url)
            .bearer_auth(admin)
            .json(&json!({"kind": "holiday", "name": "临时停工"}))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    if c.app.is_postgres {
        // Commit only once the change is blocked on the submission's lock (or, without the
        // lock, has already finished: then its recompute missed these clocks and the checks
        // below fail).
        until_waiting_on_a_lock(&c.app, || change.is_finished(), "the change").await;
    }
    // On SQLite the single writer connection orders the two: the change runs after the commit.
    txn.commit().await.expect("commit");
    assert_eq!(change.await.expect("join").expect("request"), 200);

    let moved = c
        .app
        .get(&format!("/appeals/{}", a.id), &c.ent_token)
        .await
        .expect(200)
        .body;
    assert_eq!(
        at(&clock(&moved, "opinion")["due_at"]),
        sh(2026, 3, 5, 17, 0)
    );
    assert_eq!(at(&clock(&moved, "close")["due_at"]), sh(2026, 3, 9, 17, 0));
}

/// A combined submission (PostgreSQL: no transaction, its write sent with others') reads the
/// calendar without a lock, so a calendar change can commit between its read and its write.
/// Its write carries the calendar guard: it waits for the open change, sees the new revision
/// and the submission is computed again, so the answer already has the new calendar's due
/// times. Without the guard the submission answered at once with the old times (and its
/// clocks missed the change's recompute if that ran before them); without the retry it
/// answered 503.
#[tokio::test]
async fn a_calendar_change_between_a_combined_submissions_read_and_write_moves_its_clocks() {
    use sea_orm::TransactionTrait;
    let c = city().await;
    if !c.app.is_postgres {
        // SQLite submits in a transaction on its single writer connection.
        return;
    }
    let now = sh(2026, 3, 2, 9, 0);
    c.app.clock.set(now);
    let state = &c.app.state;
    assert!(
        state.combiner.is_some(),
        "PostgreSQL submissions are combined"
    );
    let admin = api::auth::AuthUser {
        id: c.app.get("/me", &c.admin).await.expect(200).body["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid"),
        role: entity::enums::Role::Admin,
        organization_id: None,
        session_id: uuid::Uuid::nil(),
    };
    // The process has the calendar loaded (as it has after its first request), so the
    // submission's read takes it from the cache and waits for nothing.
    state.calendar.current(&state.db).await.expect("calendar");
    // The change, open: the holiday written and the revision moved, not yet committed.
    let txn = state.db.begin().await.expect("begin");
    api::services::calendar::put_day(
        &txn,
        &admin,
        now,
        chrono::NaiveDate::from_ymd_opt(2026, 3, 4).expect("date"),
        serde_json::from_value(json!({"kind": "holiday", "name": "临时停工"})).expect("input"),
    )
    .await
    .expect("put_day");

    let (client, token) = (c.app.client.clone(), c.ent_token.clone());
    let url = format!("{}/api/v1/appeals", c.app.address);
    let submission = tokio::spawn(async move {
        let r = client
            .post(url)
            .bearer_auth(token)
            .json(&json!({"title": "用地指标", "content": "扩建用地指标申请", "category": "land"}))
            .send()
            .await
            .expect("request");
        (r.status().as_u16(), r.json::<Value>().await.expect("json"))
    });
    // Commit once the submission's write waits on the calendar row (its read, which locks
    // nothing, is then done with the old calendar); a write without the guard does not wait
    // and has answered already.
    until_waiting_on_a_lock(&c.app, || submission.is_finished(), "the submission").await;
    txn.commit().await.expect("commit");
    api::services::calendar::recompute_clocks(&state.db, &state.calendar, now)
        .await
        .expect("recompute");

    let (status, a) = submission.await.expect("join");
    assert_eq!(status, 201, "{a}");
    assert_eq!(at(&clock(&a, "opinion")["due_at"]), sh(2026, 3, 5, 17, 0));
    assert_eq!(at(&clock(&a, "close")["due_at"]), sh(2026, 3, 9, 17, 0));
    let stored = c
        .app
        .get(
            &format!("/appeals/{}", a["id"].as_str().expect("id")),
            &c.ent_token,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        at(&clock(&stored, "close")["due_at"]),
        sh(2026, 3, 9, 17, 0)
    );
}

/// PostgreSQL: returns once a session of the test's database waits on a lock, or `finished`
/// (what should have waited has not); fails after 30 s of neither.
async fn until_waiting_on_a_lock(app: &TestApp, finished: impl Fn() -> bool, what: &str) {
    let blocked = "SELECT COUNT(*) AS n FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
    let started = std::time::Instant::now();
    loop {
        let row = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                blocked,
            ))
            .await
            .expect("pg_stat_activity")
            .expect("a row");
        let n: i64 = row.try_get("", "n").expect("count");
        if n > 0 || finished() {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{what} neither waited nor finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}
