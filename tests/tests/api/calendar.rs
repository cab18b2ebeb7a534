//! The working calendar over HTTP: days, exceptions, settings and the deadline engine.
//! Times are UTC; Shanghai is UTC+8, so 09:00 there is 01:00Z and 17:00 is 09:00Z.

use serde_json::{Value, json};
use tests::*;

async fn due(app: &TestApp, token: &str, start: &str, working_days: Value) -> String {
    app.post(
        "/calendar/deadline",
        token,
        json!({"start": start, "working_days": working_days}),
    )
    .await
    .expect(200)
    .str("due_at")
}

/// Asserts that the RFC 3339 answer `got` is the instant `want`.
#[track_caller]
fn same_instant(got: &str, want: &str) {
    let g: chrono::DateTime<chrono::Utc> = got.parse().unwrap_or_else(|e| panic!("{got}: {e}"));
    let w: chrono::DateTime<chrono::Utc> = want.parse().unwrap();
    assert_eq!(g, w, "due_at {got}, expected {want}");
}

const LUNCH_BREAK: &str = r#"{"time_zone":"Asia/Shanghai","working_hours":[{"start":"09:00","end":"12:00"},{"start":"13:30","end":"17:30"}]}"#;

#[tokio::test]
async fn deadline_one_day_from_tuesday_afternoon_is_wednesday_same_time() {
    let app = spawn_app().await;
    let t = app.admin().await;
    // Tue 2026-03-03 15:00 +08 → Wed 15:00 +08.
    same_instant(
        &due(&app, &t, "2026-03-03T07:00:00Z", json!(1)).await,
        "2026-03-04T07:00:00Z",
    );
    // The same start written with its offset.
    same_instant(
        &due(&app, &t, "2026-03-03T15:00:00+08:00", json!(1)).await,
        "2026-03-04T07:00:00Z",
    );
}

#[tokio::test]
async fn deadline_from_friday_evening_counts_from_monday_opening() {
    let app = spawn_app().await;
    let t = app.admin().await;
    let friday_evening = "2026-03-06T12:00:00Z"; // Fri 20:00 +08
    same_instant(
        &due(&app, &t, friday_evening, json!(1)).await,
        "2026-03-09T09:00:00Z",
    ); // Mon 17:00
    same_instant(
        &due(&app, &t, friday_evening, json!(3)).await,
        "2026-03-11T09:00:00Z",
    ); // Wed 17:00
    same_instant(
        &due(&app, &t, friday_evening, json!(5)).await,
        "2026-03-13T09:00:00Z",
    ); // Fri 17:00
}

#[tokio::test]
async fn deadline_across_the_2026_spring_festival() {
    let app = spawn_app().await;
    let t = app.admin().await;
    // Fri 02-13 10:00 + 5: Sat 02-14 (make-up), Tue 02-24, 25, 26, Fri 02-27 10:00.
    same_instant(
        &due(&app, &t, "2026-02-13T02:00:00Z", json!(5)).await,
        "2026-02-27T02:00:00Z",
    );
    // + 1: the make-up Saturday 02-14 10:00.
    same_instant(
        &due(&app, &t, "2026-02-13T02:00:00Z", json!(1)).await,
        "2026-02-14T02:00:00Z",
    );
    // + 2: the first day after the holidays, Tue 02-24 10:00.
    same_instant(
        &due(&app, &t, "2026-02-13T02:00:00Z", json!(2)).await,
        "2026-02-24T02:00:00Z",
    );
    // Fri 02-13 18:00 (after closing) + 1 → Sat 02-14 17:00.
    same_instant(
        &due(&app, &t, "2026-02-13T10:00:00Z", json!(1)).await,
        "2026-02-14T09:00:00Z",
    );
    // Started during the holiday: counts from Tue 02-24 09:00.
    same_instant(
        &due(&app, &t, "2026-02-17T03:00:00Z", json!(1)).await,
        "2026-02-24T09:00:00Z",
    );
    // Sat 02-28 is a make-up workday too: Fri 02-27 17:00 + 1 → Sat 02-28 17:00.
    same_instant(
        &due(&app, &t, "2026-02-27T09:00:00Z", json!(1)).await,
        "2026-02-28T09:00:00Z",
    );
}

#[tokio::test]
async fn deadline_across_national_day_2026() {
    let app = spawn_app().await;
    let t = app.admin().await;
    // Wed 09-30 16:00 + 1: one hour on 09-30, then 10-01..07 off, Thu 10-08 16:00.
    same_instant(
        &due(&app, &t, "2026-09-30T08:00:00Z", json!(1)).await,
        "2026-10-08T08:00:00Z",
    );
    // Fri 10-09 20:00 + 1 → the make-up Saturday 10-10 17:00.
    same_instant(
        &due(&app, &t, "2026-10-09T12:00:00Z", json!(1)).await,
        "2026-10-10T09:00:00Z",
    );
    // Thu 09-24 10:00 + 1 skips the Mid-autumn Friday 09-25 and the weekend → Mon 09-28 10:00.
    same_instant(
        &due(&app, &t, "2026-09-24T02:00:00Z", json!(1)).await,
        "2026-09-28T02:00:00Z",
    );
    // Fri 09-18 17:00 + 1 → the make-up Sunday 09-20 17:00.
    same_instant(
        &due(&app, &t, "2026-09-18T09:00:00Z", json!(1)).await,
        "2026-09-20T09:00:00Z",
    );
}

#[tokio::test]
async fn fractional_working_days_count_working_hours() {
    let app = spawn_app().await;
    let t = app.admin().await;
    let res = app
        .post(
            "/calendar/deadline",
            &t,
            json!({"start": "2026-03-02T01:00:00Z", "working_days": "0.5"}),
        )
        .await
        .expect(200);
    // Mon 09:00 + 4 h → Mon 13:00.
    same_instant(&res.str("due_at"), "2026-03-02T05:00:00Z");
    assert_eq!(res.body["working_minutes"], 240);
    // 1.5 days from Mon 09:00: Mon 8 h, Tue 4 h → Tue 13:00; as a string and as a number.
    same_instant(
        &due(&app, &t, "2026-03-02T01:00:00Z", json!("1.5")).await,
        "2026-03-03T05:00:00Z",
    );
    same_instant(
        &due(&app, &t, "2026-03-02T01:00:00Z", json!(1.5)).await,
        "2026-03-03T05:00:00Z",
    );
    // Three decimals are allowed: 0.125 day = 1 h.
    same_instant(
        &due(&app, &t, "2026-03-02T01:00:00Z", json!("0.125")).await,
        "2026-03-02T02:00:00Z",
    );
    // Zero from inside working hours is the start itself.
    same_instant(
        &due(&app, &t, "2026-03-02T03:00:00Z", json!(0)).await,
        "2026-03-02T03:00:00Z",
    );
}

#[tokio::test]
async fn negative_or_too_precise_working_days_are_422() {
    let app = spawn_app().await;
    let t = app.admin().await;
    for wd in [
        json!(-1),
        json!("-0.5"),
        json!("0.1234"),
        json!(0.1234),
        json!("abc"),
        json!(366),
    ] {
        app.post(
            "/calendar/deadline",
            &t,
            json!({"start": "2026-03-02T01:00:00Z", "working_days": wd}),
        )
        .await
        .expect_problem(422);
    }
    app.post(
        "/calendar/deadline",
        &t,
        json!({"start": "not a time", "working_days": 1}),
    )
    .await
    .expect_problem(422);
    app.post("/calendar/deadline", &t, json!({"working_days": 1}))
        .await
        .expect_problem(422);
}

#[tokio::test]
async fn settings_default_to_nine_to_five_in_shanghai() {
    let app = spawn_app().await;
    let t = app.admin().await;
    let s = app.get("/calendar/settings", &t).await.expect(200);
    assert_eq!(
        s.body,
        json!({"time_zone": "Asia/Shanghai", "working_hours": [{"start": "09:00", "end": "17:00"}]})
    );
}

#[tokio::test]
async fn lunch_break_settings_change_the_length_of_a_day() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body: Value = serde_json::from_str(LUNCH_BREAK).unwrap();
    let res = app
        .put("/calendar/settings", &admin, body.clone())
        .await
        .expect(200);
    assert_eq!(res.body, body);
    assert_eq!(
        app.get("/calendar/settings", &admin).await.expect(200).body,
        body
    );

    // A day is now 7 h. Mon 11:00 + 0.5 day (3.5 h): 11:00–12:00 (1 h), 13:30–16:00 (2.5 h).
    let res = app
        .post(
            "/calendar/deadline",
            &admin,
            json!({"start": "2026-03-02T03:00:00Z", "working_days": "0.5"}),
        )
        .await
        .expect(200);
    same_instant(&res.str("due_at"), "2026-03-02T08:00:00Z");
    assert_eq!(res.body["working_minutes"], 210);
    // Starting in the lunch break counts from 13:30: + 0.5 day → 17:00.
    same_instant(
        &due(&app, &admin, "2026-03-02T04:30:00Z", json!("0.5")).await,
        "2026-03-02T09:00:00Z",
    );
    // A whole day from Mon 11:00 is Tue 11:00.
    same_instant(
        &due(&app, &admin, "2026-03-02T03:00:00Z", json!(1)).await,
        "2026-03-03T03:00:00Z",
    );
    // 0.429 day = 3 h 0 min 10.8 s: past the 12:00 closing, so 10.8 s into the afternoon.
    same_instant(
        &due(&app, &admin, "2026-03-02T01:00:00Z", json!("0.429")).await,
        "2026-03-02T05:30:10.800Z",
    );
}

#[tokio::test]
async fn invalid_settings_are_422() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let tz = |tz: &str, hours: Value| json!({"time_zone": tz, "working_hours": hours});
    for body in [
        tz(
            "Asia/Shanghai",
            json!([{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "17:00"}]),
        ),
        tz(
            "Asia/Shanghai",
            json!([{"start": "13:00", "end": "17:00"}, {"start": "09:00", "end": "12:00"}]),
        ),
        tz("Asia/Shanghai", json!([{"start": "17:00", "end": "09:00"}])),
        tz("Asia/Shanghai", json!([{"start": "09:00", "end": "25:00"}])),
        tz("Asia/Shanghai", json!([{"start": "9:00", "end": "17:00"}])),
        tz("Asia/Shanghai", json!([])),
        tz(
            "Mars/Olympus_Mons",
            json!([{"start": "09:00", "end": "17:00"}]),
        ),
    ] {
        let res = app.put("/calendar/settings", &admin, body.clone()).await;
        assert_eq!(res.status.as_u16(), 422, "{body}: {}", res.text);
        res.expect_problem(422);
    }
    // Nothing changed.
    let s = app.get("/calendar/settings", &admin).await.expect(200);
    assert_eq!(
        s.body["working_hours"],
        json!([{"start": "09:00", "end": "17:00"}])
    );
}

#[tokio::test]
async fn working_hours_may_end_at_midnight() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = json!({"time_zone": "Asia/Shanghai", "working_hours": [{"start": "00:00", "end": "24:00"}]});
    app.put("/calendar/settings", &admin, body.clone())
        .await
        .expect(200);
    assert_eq!(app.get("/calendar/settings", &admin).await.body, body);
    // A working day is now 24 h: Mon 09:00 + 1 → Tue 09:00.
    same_instant(
        &due(&app, &admin, "2026-03-02T01:00:00Z", json!(1)).await,
        "2026-03-03T01:00:00Z",
    );
}

#[tokio::test]
async fn days_show_kind_working_and_name() {
    let app = spawn_app().await;
    let t = app.admin().await;
    let res = app
        .get("/calendar/days?from=2026-02-13&to=2026-03-07", &t)
        .await
        .expect(200);
    let days = res.body.as_array().unwrap();
    assert_eq!(days.len(), 23);
    let day = |d: &str| {
        days.iter()
            .find(|x| x["date"] == d)
            .unwrap_or_else(|| panic!("{d} missing"))
            .clone()
    };
    let holiday = day("2026-02-16");
    assert_eq!(holiday["kind"], "holiday");
    assert_eq!(holiday["working"], false);
    assert!(!holiday["name"].as_str().unwrap_or_default().is_empty());
    let makeup = day("2026-02-14");
    assert_eq!(makeup["kind"], "workday");
    assert_eq!(makeup["working"], true);
    let saturday = day("2026-03-07");
    assert_eq!(saturday["kind"], "normal");
    assert_eq!(saturday["working"], false);
    let monday = day("2026-03-02");
    assert_eq!(monday["kind"], "normal");
    assert_eq!(monday["working"], true);
    assert!(monday.get("name").is_none_or(Value::is_null));
}

#[tokio::test]
async fn days_range_must_be_ordered_and_bounded() {
    let app = spawn_app().await;
    let t = app.admin().await;
    app.get("/calendar/days?from=2026-03-07&to=2026-03-01", &t)
        .await
        .expect_problem(422);
    app.get("/calendar/days?from=2020-01-01&to=2026-01-01", &t)
        .await
        .expect_problem(422);
    let one = app
        .get("/calendar/days?from=2026-03-02&to=2026-03-02", &t)
        .await
        .expect(200);
    assert_eq!(one.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_holiday_put_by_the_admin_moves_later_deadlines_and_delete_reverts() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let tue_15 = "2026-03-03T07:00:00Z";
    same_instant(
        &due(&app, &admin, tue_15, json!(1)).await,
        "2026-03-04T07:00:00Z",
    );

    let res = app
        .put(
            "/calendar/days/2026-03-04",
            &admin,
            json!({"kind": "holiday", "name": "临时停工"}),
        )
        .await
        .expect(200);
    assert_eq!(res.body["date"], "2026-03-04");
    assert_eq!(res.body["kind"], "holiday");
    assert_eq!(res.body["working"], false);
    assert_eq!(res.body["name"], "临时停工");
    let days = app
        .get("/calendar/days?from=2026-03-04&to=2026-03-04", &admin)
        .await
        .expect(200);
    assert_eq!(days.body[0]["kind"], "holiday");
    assert_eq!(days.body[0]["working"], false);
    same_instant(
        &due(&app, &admin, tue_15, json!(1)).await,
        "2026-03-05T07:00:00Z",
    );

    app.delete("/calendar/days/2026-03-04", &admin)
        .await
        .expect(204);
    let days = app
        .get("/calendar/days?from=2026-03-04&to=2026-03-04", &admin)
        .await
        .expect(200);
    assert_eq!(days.body[0]["kind"], "normal");
    assert_eq!(days.body[0]["working"], true);
    same_instant(
        &due(&app, &admin, tue_15, json!(1)).await,
        "2026-03-04T07:00:00Z",
    );
    // Deleting a normal day again is harmless.
    app.delete("/calendar/days/2026-03-04", &admin)
        .await
        .expect(204);
}

#[tokio::test]
async fn a_workday_put_on_a_saturday_makes_it_count() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let friday_evening = "2026-03-06T12:00:00Z";
    let res = app
        .put(
            "/calendar/days/2026-03-07",
            &admin,
            json!({"kind": "workday", "name": "调休"}),
        )
        .await
        .expect(200);
    assert_eq!(res.body["working"], true);
    same_instant(
        &due(&app, &admin, friday_evening, json!(1)).await,
        "2026-03-07T09:00:00Z",
    );
    // Turning the seeded Spring Festival holiday back into a normal Monday makes it count.
    app.delete("/calendar/days/2026-02-16", &admin)
        .await
        .expect(204);
    let d = app
        .get("/calendar/days?from=2026-02-16&to=2026-02-16", &admin)
        .await
        .expect(200);
    assert_eq!(d.body[0]["kind"], "normal");
    assert_eq!(d.body[0]["working"], true);
    same_instant(
        &due(&app, &admin, "2026-02-14T09:00:00Z", json!(1)).await,
        "2026-02-16T09:00:00Z",
    );
}

#[tokio::test]
async fn bad_day_input_is_rejected() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.put(
        "/calendar/days/2026-03-04",
        &admin,
        json!({"kind": "normal", "name": "x"}),
    )
    .await
    .expect_problem(422);
    app.put(
        "/calendar/days/2026-03-04",
        &admin,
        json!({"kind": "holiday", "name": "长".repeat(101)}),
    )
    .await
    .expect_problem(422);
    let res = app
        .put(
            "/calendar/days/2026-13-40",
            &admin,
            json!({"kind": "holiday", "name": "x"}),
        )
        .await;
    assert!(matches!(res.status.as_u16(), 400 | 404), "{}", res.text);
}
