//! Appeals: the whole workflow, disallowed transitions, clock arithmetic at calendar edges,
//! scoping and notifications.

use chrono::{DateTime, TimeDelta, Utc};
use entity::clock::Clock;
use entity::{mail_outbox, supervision};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{TestApp, spawn_app};

use tests::shanghai as sh;

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 field.
pub(super) fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// The clock of `kind` (latest round) in an appeal answer.
pub(super) fn clock<'a>(appeal: &'a Value, kind: &str) -> &'a Value {
    appeal["clocks"]
        .as_array()
        .expect("clocks")
        .iter()
        .filter(|c| c["kind"] == kind)
        .max_by_key(|c| c["round"].as_i64())
        .unwrap_or_else(|| panic!("no {kind} clock in {appeal}"))
}

/// Everyone an appeal meets.
pub(super) struct City {
    pub(super) app: TestApp,
    pub(super) admin: String,
    pub(super) center: String,
    pub(super) dept_a: String,
    pub(super) dept_a_token: String,
    pub(super) dept_b: String,
    pub(super) dept_b_token: String,
    pub(super) ent: String,
    pub(super) ent_token: String,
}

pub(super) async fn city() -> City {
    let tests::fixtures::City {
        app,
        admin,
        centre,
        departments,
        enterprises,
        ..
    } = tests::fixtures::CityBuilder::new()
        .long_lived_tokens()
        .centre("市企业服务中心")
        .department("市工信局")
        .department("市自然资源局")
        .enterprise("南通某电子公司")
        .build()
        .await;
    let [a, b] = <[_; 2]>::try_from(departments).expect("two departments");
    let ent = enterprises.into_iter().next().expect("an enterprise");
    City {
        app,
        admin,
        center: centre.expect("a centre").token,
        dept_a: a.id,
        dept_a_token: a.token,
        dept_b: b.id,
        dept_b_token: b.token,
        ent: ent.id,
        ent_token: ent.token,
    }
}

impl City {
    async fn route(&self, category: &str, department: &str) {
        self.app
            .put(
                &format!("/routing-rules/{category}"),
                &self.admin,
                json!({"department_id": department}),
            )
            .await
            .expect(200);
    }

    async fn submit(&self, category: &str) -> Value {
        self.app
            .post(
                "/appeals",
                &self.ent_token,
                json!({"title": "用电增容", "content": "新厂房需增容 2000kVA", "category": category}),
            )
            .await
            .expect(201)
            .body
    }

    async fn act(&self, token: &str, id: &str, action: &str, body: Value) -> tests::Answer {
        self.app
            .post(&format!("/appeals/{id}/{action}"), token, body)
            .await
    }

    async fn ok(&self, token: &str, id: &str, action: &str, body: Value) -> Value {
        self.act(token, id, action, body).await.expect(200).body
    }
}

#[tokio::test]
async fn an_appeal_lives_through_every_action() {
    let c = city().await;
    let app = &c.app;
    let a = c.submit("energy").await;
    let id = a["id"].as_str().expect("id").to_string();
    assert_eq!(a["status"], "submitted");
    assert!(a["department_id"].is_null());
    let number = a["number"].as_str().expect("number");
    assert!(
        number.starts_with("SQ20260302-") && number.len() == "SQ20260302-000001".len(),
        "{number}"
    );
    assert_eq!(a["clocks"].as_array().map(Vec::len), Some(3));
    assert_eq!(at(&clock(&a, "reply")["due_at"]), sh(2026, 3, 2, 17, 0));
    assert_eq!(at(&clock(&a, "opinion")["due_at"]), sh(2026, 3, 4, 17, 0));
    assert_eq!(at(&clock(&a, "close")["due_at"]), sh(2026, 3, 6, 17, 0));
    assert_eq!(clock(&a, "reply")["paused"], false);
    assert_eq!(a["extension_working_days"], "0");

    let a = c
        .ok(
            &c.center,
            &id,
            "assign",
            json!({"department_id": c.dept_a, "note": "请尽快办理"}),
        )
        .await;
    assert_eq!(a["status"], "assigned");
    assert_eq!(a["department_id"], c.dept_a.as_str());

    let a = c
        .ok(
            &c.dept_a_token,
            &id,
            "transfer",
            json!({"department_id": c.dept_b, "reason": "属自然资源局职责"}),
        )
        .await;
    assert_eq!(a["department_id"], c.dept_b.as_str());
    assert_eq!(a["status"], "assigned");

    let a = c
        .ok(
            &c.dept_b_token,
            &id,
            "return",
            json!({"reason": "非本部门职责"}),
        )
        .await;
    assert_eq!(a["status"], "submitted");
    assert!(a["department_id"].is_null());

    c.ok(&c.center, &id, "assign", json!({"department_id": c.dept_b}))
        .await;
    app.advance(TimeDelta::hours(2));
    let a = c
        .ok(
            &c.dept_b_token,
            &id,
            "reply",
            json!({"message": "已收到，正在核实"}),
        )
        .await;
    assert_eq!(a["status"], "replied");
    assert_eq!(at(&clock(&a, "reply")["met_at"]), sh(2026, 3, 2, 11, 0));
    assert!(clock(&a, "opinion")["met_at"].is_null());

    let a = c
        .ok(
            &c.dept_b_token,
            &id,
            "extension",
            json!({"working_days": 2, "reason": "需现场踏勘"}),
        )
        .await;
    assert_eq!(a["pending_extension"]["working_days"], "2");
    let a = c
        .ok(
            &c.center,
            &id,
            "extension_decision",
            json!({"approve": true}),
        )
        .await;
    assert!(a["pending_extension"].is_null());
    assert_eq!(a["extension_working_days"], "2");
    assert_eq!(at(&clock(&a, "close")["due_at"]), sh(2026, 3, 10, 17, 0));

    // Paused from Mon 11:00 to Tue 11:00: 8 working hours.
    let a = c
        .ok(
            &c.dept_b_token,
            &id,
            "request_info",
            json!({"message": "请补充用电负荷表"}),
        )
        .await;
    assert_eq!(a["status"], "awaiting_enterprise");
    assert_eq!(clock(&a, "opinion")["paused"], true);
    assert_eq!(clock(&a, "reply")["paused"], false);
    app.advance(TimeDelta::days(1));
    let a = c
        .ok(
            &c.ent_token,
            &id,
            "supplement",
            json!({"message": "已上传负荷表"}),
        )
        .await;
    assert_eq!(a["status"], "replied");
    assert_eq!(clock(&a, "opinion")["paused"], false);
    assert_eq!(at(&clock(&a, "opinion")["due_at"]), sh(2026, 3, 5, 17, 0));
    assert_eq!(at(&clock(&a, "close")["due_at"]), sh(2026, 3, 11, 17, 0));

    let a = c
        .ok(
            &c.dept_b_token,
            &id,
            "opinion",
            json!({"message": "同意增容，由供电公司实施"}),
        )
        .await;
    assert_eq!(a["status"], "opinion_given");
    c.ok(&c.center, &id, "supervise", json!({"note": "请加快办理"}))
        .await;
    let a = c
        .ok(
            &c.dept_b_token,
            &id,
            "resolve",
            json!({"message": "已完成增容"}),
        )
        .await;
    assert_eq!(a["status"], "resolved");
    assert!(
        a["clocks"]
            .as_array()
            .expect("clocks")
            .iter()
            .all(|k| !k["met_at"].is_null())
    );

    let a = c
        .ok(
            &c.ent_token,
            &id,
            "rate",
            json!({"score": 2, "comment": "进度偏慢"}),
        )
        .await;
    assert_eq!(a["status"], "closed");
    assert_eq!(a["satisfaction"], 2);

    // A rating of 2 or less allows a reopen: a fresh close clock of 5 working days.
    let now = app.clock.now();
    let a = c
        .ok(
            &c.ent_token,
            &id,
            "reopen",
            json!({"reason": "增容后仍跳闸"}),
        )
        .await;
    assert_eq!(a["status"], "reopened");
    assert_eq!(a["department_id"], c.dept_b.as_str());
    assert_eq!(a["reopen_count"], 1);
    let fresh = clock(&a, "close");
    assert_eq!(fresh["round"], 1);
    assert!(fresh["met_at"].is_null());
    assert_eq!(at(&fresh["started_at"]), now);
    assert_eq!(at(&fresh["due_at"]), sh(2026, 3, 10, 11, 0));
    let a = c
        .ok(
            &c.dept_b_token,
            &id,
            "resolve",
            json!({"message": "已更换开关"}),
        )
        .await;
    assert_eq!(a["status"], "resolved");

    // The whole timeline as officials read it (the enterprise's view is in `hardening`).
    let events = app
        .get(&format!("/appeals/{id}/events"), &c.center)
        .await
        .expect(200)
        .body;
    let actions: Vec<&str> = events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        [
            "submit",
            "assign",
            "transfer",
            "return",
            "assign",
            "reply",
            "extension",
            "extension_decision",
            "request_info",
            "supplement",
            "opinion",
            "supervise",
            "resolve",
            "rate",
            "reopen",
            "resolve"
        ]
    );
    let first = &events[0];
    assert_eq!(first["to_status"], "submitted");
    assert!(first["from_status"].is_null());
    assert_eq!(events[3]["from_status"], "assigned");
    assert_eq!(events[3]["to_status"], "submitted");
    assert_eq!(events[3]["note"], "非本部门职责");

    let manual = supervision::Entity::find()
        .filter(supervision::Column::AppealId.eq(uuid::Uuid::parse_str(&id).expect("uuid")))
        .all(&app.db)
        .await
        .expect("supervisions");
    assert_eq!(manual.len(), 1);
    assert_eq!(manual[0].level, 1);

    // A second appeal: withdrawn before resolution cancels its clocks.
    let b = c.submit("land").await;
    let bid = b["id"].as_str().expect("id");
    let b = c.ok(&c.ent_token, bid, "withdraw", json!({})).await;
    assert_eq!(b["status"], "withdrawn");
    assert!(
        b["clocks"]
            .as_array()
            .expect("clocks")
            .iter()
            .all(|k| k["cancelled"] == true)
    );
}

#[tokio::test]
async fn a_routing_rule_assigns_at_submission_and_mails_the_department() {
    let c = city().await;
    c.route("financing", &c.dept_a).await;
    // Sunday night: the department's mail waits for Monday 09:00.
    c.app.clock.set(sh(2026, 3, 8, 23, 0));
    let a = c.submit("financing").await;
    assert_eq!(a["status"], "assigned");
    assert_eq!(a["department_id"], c.dept_a.as_str());
    assert_eq!(at(&clock(&a, "reply")["due_at"]), sh(2026, 3, 9, 17, 0));
    let mails = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Template.eq("appeal_assigned"))
        .all(&c.app.db)
        .await
        .expect("outbox");
    assert_eq!(mails.len(), 1, "{mails:?}");
    // Mail goes to the department's users first (issue 11); its contact address
    // (contact@example.cn) only when none of them has an address.
    let dept_a_user_mail = c
        .app
        .get("/me", &c.dept_a_token)
        .await
        .expect(200)
        .str("email");
    assert_eq!(mails[0].recipient, dept_a_user_mail);
    assert!(
        mails[0]
            .subject
            .contains(a["number"].as_str().expect("number")),
        "{}",
        mails[0].subject
    );
    assert_eq!(mails[0].next_attempt_at, sh(2026, 3, 9, 9, 0));

    // The enterprise hears of the reply at once, at its user's address.
    c.app.clock.set(sh(2026, 3, 9, 10, 0));
    let id = a["id"].as_str().expect("id");
    c.ok(&c.dept_a_token, id, "reply", json!({"message": "已受理"}))
        .await;
    let update = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Template.eq("appeal_update"))
        .one(&c.app.db)
        .await
        .expect("outbox")
        .expect("an update mail");
    assert!(update.recipient.ends_with("@example.cn"));
    assert_eq!(update.next_attempt_at, sh(2026, 3, 9, 10, 0));
}

#[tokio::test]
async fn disallowed_transitions_are_409_and_change_nothing() {
    let c = city().await;
    let a = c.submit("permits").await;
    let id = a["id"].as_str().expect("id").to_string();
    // From submitted (no department yet).
    for (token, action, body) in [
        (&c.ent_token, "rate", json!({"score": 5})),
        (&c.ent_token, "reopen", json!({"reason": "x"})),
        (&c.ent_token, "supplement", json!({"message": "x"})),
        (&c.center, "supervise", json!({"note": "x"})),
        (&c.center, "extension_decision", json!({"approve": true})),
    ] {
        let ans = c.act(token, &id, action, body).await;
        assert_eq!(ans.status.as_u16(), 409, "{action}: {}", ans.text);
        ans.expect_problem(409);
    }
    c.ok(&c.center, &id, "assign", json!({"department_id": c.dept_a}))
        .await;
    let replied = c
        .ok(&c.dept_a_token, &id, "reply", json!({"message": "ok"}))
        .await;
    let before_events = c
        .app
        .get(&format!("/appeals/{id}/events"), &c.ent_token)
        .await
        .body;
    for (token, action, body) in [
        (&c.dept_a_token, "reply", json!({"message": "again"})),
        (
            &c.dept_a_token,
            "return",
            json!({"reason": "too late to return"}),
        ),
        (&c.ent_token, "rate", json!({"score": 4})),
        (&c.ent_token, "supplement", json!({"message": "x"})),
        (&c.center, "extension_decision", json!({"approve": true})),
    ] {
        c.act(token, &id, action, body).await.expect_problem(409);
    }
    c.ok(&c.dept_a_token, &id, "resolve", json!({"message": "done"}))
        .await;
    for (token, action, body) in [
        (&c.dept_a_token, "reply", json!({"message": "x"})),
        (&c.dept_a_token, "opinion", json!({"message": "x"})),
        (&c.dept_a_token, "resolve", json!({"message": "x"})),
        (&c.dept_a_token, "request_info", json!({"message": "x"})),
        (
            &c.dept_a_token,
            "extension",
            json!({"working_days": 1, "reason": "x"}),
        ),
        (&c.ent_token, "withdraw", json!({})),
        (&c.center, "assign", json!({"department_id": c.dept_b})),
        (&c.center, "supervise", json!({"note": "x"})),
    ] {
        c.act(token, &id, action, body).await.expect_problem(409);
    }
    c.ok(&c.ent_token, &id, "rate", json!({"score": 5})).await;
    // Closed with a good rating: no reopen, no second rating.
    c.act(&c.ent_token, &id, "reopen", json!({"reason": "x"}))
        .await
        .expect_problem(409);
    c.act(&c.ent_token, &id, "rate", json!({"score": 1}))
        .await
        .expect_problem(409);
    let after = c
        .app
        .get(&format!("/appeals/{id}"), &c.ent_token)
        .await
        .expect(200)
        .body;
    assert_eq!(after["status"], "closed");
    assert_eq!(after["satisfaction"], 5);
    let events = c
        .app
        .get(&format!("/appeals/{id}/events"), &c.ent_token)
        .await
        .body;
    assert_eq!(
        events.as_array().map(Vec::len),
        before_events.as_array().map(|e| e.len() + 2),
        "only resolve and rate were recorded"
    );
    assert_eq!(replied["status"], "replied");
}

#[tokio::test]
async fn the_wrong_role_or_department_is_403_and_bad_bodies_are_422() {
    let c = city().await;
    let a = c.submit("talent").await;
    let id = a["id"].as_str().expect("id").to_string();
    c.act(
        &c.ent_token,
        &id,
        "assign",
        json!({"department_id": c.dept_a}),
    )
    .await
    .expect_problem(403);
    c.act(
        &c.dept_a_token,
        &id,
        "assign",
        json!({"department_id": c.dept_a}),
    )
    .await
    .expect_problem(403);
    c.ok(&c.center, &id, "assign", json!({"department_id": c.dept_a}))
        .await;
    c.act(&c.ent_token, &id, "reply", json!({"message": "x"}))
        .await
        .expect_problem(403);
    c.act(&c.center, &id, "reply", json!({"message": "x"}))
        .await
        .expect_problem(403);
    // Department B never held it: it cannot even see it.
    c.act(&c.dept_b_token, &id, "reply", json!({"message": "x"}))
        .await
        .expect_problem(404);
    // Transfer to B; A held it before, so A still sees it but may not act.
    c.ok(
        &c.dept_a_token,
        &id,
        "transfer",
        json!({"department_id": c.dept_b, "reason": "职责调整"}),
    )
    .await;
    c.app
        .get(&format!("/appeals/{id}"), &c.dept_a_token)
        .await
        .expect(200);
    c.act(&c.dept_a_token, &id, "reply", json!({"message": "x"}))
        .await
        .expect_problem(403);

    c.act(&c.dept_b_token, &id, "reply", json!({"message": "  "}))
        .await
        .expect_problem(422);
    c.act(&c.center, &id, "assign", json!({"department_id": c.ent}))
        .await
        .expect_problem(422);
    c.act(
        &c.dept_b_token,
        &id,
        "extension",
        json!({"working_days": -1, "reason": "x"}),
    )
    .await
    .expect_problem(422);
    c.act(
        &c.dept_b_token,
        &id,
        "extension",
        json!({"working_days": 0, "reason": "x"}),
    )
    .await
    .expect_problem(422);
    c.app
        .post(
            "/appeals",
            &c.ent_token,
            json!({"title": "x", "content": "y", "category": "weather"}),
        )
        .await
        .expect_problem(422);
    c.app
        .post(
            "/appeals",
            &c.ent_token,
            json!({"title": "", "content": "y", "category": "land"}),
        )
        .await
        .expect_problem(422);
    c.app
        .post(
            "/appeals",
            &c.center,
            json!({"title": "x", "content": "y", "category": "land"}),
        )
        .await
        .expect_problem(403);
    let rated = c.act(&c.ent_token, &id, "rate", json!({"score": 9})).await;
    assert!(matches!(rated.status.as_u16(), 409 | 422), "{}", rated.text);
    // Nothing above changed the appeal.
    let now = c
        .app
        .get(&format!("/appeals/{id}"), &c.ent_token)
        .await
        .expect(200)
        .body;
    assert_eq!(now["status"], "assigned");
    assert!(clock(&now, "reply")["met_at"].is_null());
}

#[tokio::test]
async fn an_unverified_enterprise_cannot_submit() {
    let app = spawn_app().await;
    let reg = app
        .send(
            reqwest::Method::POST,
            "/enterprises/register",
            None,
            Some(&json!({"name": "新注册企业", "uscc": tests::random_uscc(), "contact_name": "张三",
                "contact_email": "zs@example.cn", "username": "newco", "password": "newco-password-1"})),
            &[],
        )
        .await
        .expect(201);
    assert_eq!(reg.body["organization"]["verified"], false);
    let token = app.login("newco", "newco-password-1").await;
    app.post(
        "/appeals",
        &token,
        json!({"title": "x", "content": "y", "category": "land"}),
    )
    .await
    .expect_problem(403);
}

#[tokio::test]
async fn a_department_may_return_only_within_two_working_days() {
    let c = city().await;
    c.route("logistics", &c.dept_a).await;
    let a = c.submit("logistics").await;
    let id = a["id"].as_str().expect("id");
    // Mon 09:00 + 2 working days = Wed 09:00... plus one more hour is too late.
    c.app.clock.set(sh(2026, 3, 4, 10, 0));
    c.act(&c.dept_a_token, id, "return", json!({"reason": "非本部门"}))
        .await
        .expect_problem(409);
    let b = c.submit("logistics").await;
    c.app.clock.set(sh(2026, 3, 6, 9, 30));
    c.ok(
        &c.dept_a_token,
        b["id"].as_str().expect("id"),
        "return",
        json!({"reason": "非本部门"}),
    )
    .await;
    c.act(&c.dept_a_token, id, "return", json!({}))
        .await
        .expect_problem(422);
}

#[tokio::test]
async fn submitted_friday_evening_before_the_national_day_week() {
    let c = city().await;
    // Fri 2026-09-25 is Mid-autumn; counting starts Mon 09-28; 10-01..07 are off.
    c.app.clock.set(sh(2026, 9, 25, 20, 0));
    let a = c.submit("market").await;
    assert_eq!(at(&clock(&a, "reply")["due_at"]), sh(2026, 9, 28, 17, 0));
    assert_eq!(at(&clock(&a, "opinion")["due_at"]), sh(2026, 9, 30, 17, 0));
    assert_eq!(at(&clock(&a, "close")["due_at"]), sh(2026, 10, 9, 17, 0));
}

#[tokio::test]
async fn submitted_on_a_make_up_saturday() {
    let c = city().await;
    // Sat 2026-10-10 is a make-up workday: it counts.
    c.app.clock.set(sh(2026, 10, 10, 10, 0));
    let a = c.submit("market").await;
    assert_eq!(at(&clock(&a, "reply")["due_at"]), sh(2026, 10, 12, 10, 0));
    assert_eq!(at(&clock(&a, "close")["due_at"]), sh(2026, 10, 16, 10, 0));
}

#[tokio::test]
async fn a_pause_across_a_holiday_moves_unmet_clocks_by_the_working_time_paused() {
    let c = city().await;
    c.route("policy", &c.dept_a).await;
    // Tue 09-29 10:00: close due = Sep 29 (7h), Sep 30, Oct 8, Oct 9, Sat Oct 10 (make-up),
    // then 1h on Mon Oct 12.
    c.app.clock.set(sh(2026, 9, 29, 10, 0));
    let a = c.submit("policy").await;
    let id = a["id"].as_str().expect("id");
    assert_eq!(at(&clock(&a, "close")["due_at"]), sh(2026, 10, 12, 10, 0));
    c.app.clock.set(sh(2026, 9, 29, 11, 0));
    c.ok(&c.dept_a_token, id, "reply", json!({"message": "收到"}))
        .await;
    // Paused Wed 09-30 16:00 → Thu 10-08 10:00: 1h + 1h of working time across the holiday.
    c.app.clock.set(sh(2026, 9, 30, 16, 0));
    let p = c
        .ok(
            &c.dept_a_token,
            id,
            "request_info",
            json!({"message": "请补充"}),
        )
        .await;
    assert_eq!(clock(&p, "close")["paused"], true);
    c.app.clock.set(sh(2026, 10, 8, 10, 0));
    let r = c
        .ok(&c.ent_token, id, "supplement", json!({"message": "已补充"}))
        .await;
    assert_eq!(r["status"], "replied");
    assert_eq!(at(&clock(&r, "close")["due_at"]), sh(2026, 10, 12, 12, 0));
    // Opinion: 3 days from 09-29 10:00 = 10-09 10:00, + 2h.
    assert_eq!(at(&clock(&r, "opinion")["due_at"]), sh(2026, 10, 9, 12, 0));
    // The met reply clock did not move.
    assert_eq!(at(&clock(&r, "reply")["due_at"]), sh(2026, 9, 30, 10, 0));
}

#[tokio::test]
async fn an_approved_extension_of_two_working_days_moves_the_close_clock() {
    let c = city().await;
    c.route("technology", &c.dept_a).await;
    c.app.clock.set(sh(2026, 3, 3, 10, 0));
    let a = c.submit("technology").await;
    let id = a["id"].as_str().expect("id");
    assert_eq!(at(&clock(&a, "close")["due_at"]), sh(2026, 3, 10, 10, 0));
    c.ok(
        &c.dept_a_token,
        id,
        "extension",
        json!({"working_days": "2", "reason": "需会商"}),
    )
    .await;
    c.act(
        &c.dept_a_token,
        id,
        "extension",
        json!({"working_days": 1, "reason": "再延"}),
    )
    .await
    .expect_problem(409);
    // A refusal changes no clock.
    let r = c
        .ok(
            &c.center,
            id,
            "extension_decision",
            json!({"approve": false, "note": "不予延期"}),
        )
        .await;
    assert_eq!(at(&clock(&r, "close")["due_at"]), sh(2026, 3, 10, 10, 0));
    c.ok(
        &c.dept_a_token,
        id,
        "extension",
        json!({"working_days": "2", "reason": "需会商"}),
    )
    .await;
    let e = c
        .ok(
            &c.center,
            id,
            "extension_decision",
            json!({"approve": true}),
        )
        .await;
    assert_eq!(at(&clock(&e, "close")["due_at"]), sh(2026, 3, 12, 10, 0));
    assert_eq!(at(&clock(&e, "opinion")["due_at"]), sh(2026, 3, 6, 10, 0));
    assert_eq!(e["extension_working_days"], "2");
}

#[tokio::test]
async fn a_reopen_within_ten_working_days_gets_a_fresh_close_clock() {
    let c = city().await;
    c.route("other", &c.dept_a).await;
    let a = c.submit("other").await;
    let id = a["id"].as_str().expect("id");
    c.app.clock.set(sh(2026, 3, 3, 10, 0));
    c.ok(&c.dept_a_token, id, "resolve", json!({"message": "已办结"}))
        .await;
    // Ten working days later (Tue 03-17 10:00) is still in time; a minute more is not.
    c.app.clock.set(sh(2026, 3, 17, 10, 1));
    c.act(&c.ent_token, id, "reopen", json!({"reason": "问题复现"}))
        .await
        .expect_problem(409);
    c.app.clock.set(sh(2026, 3, 17, 10, 0));
    let r = c
        .ok(&c.ent_token, id, "reopen", json!({"reason": "问题复现"}))
        .await;
    assert_eq!(r["status"], "reopened");
    let closes: Vec<&Value> = r["clocks"]
        .as_array()
        .expect("clocks")
        .iter()
        .filter(|k| k["kind"] == "close")
        .collect();
    assert_eq!(closes.len(), 2);
    assert!(!closes[0]["met_at"].is_null());
    assert!(closes[1]["met_at"].is_null());
    assert_eq!(at(&closes[1]["due_at"]), sh(2026, 3, 24, 10, 0));
}

#[tokio::test]
async fn a_holiday_added_after_submission_moves_unmet_due_times_and_leaves_met_ones() {
    let c = city().await;
    c.route("land", &c.dept_a).await;
    let a = c.submit("land").await;
    let id = a["id"].as_str().expect("id").to_string();
    c.app.clock.set(sh(2026, 3, 2, 10, 0));
    let replied = c
        .ok(&c.dept_a_token, &id, "reply", json!({"message": "收到"}))
        .await;
    // Listed (and so rendered into the list's cache) before the calendar changes.
    assert_readers_agree(&c, &replied).await;
    c.app
        .put(
            "/calendar/days/2026-03-04",
            &c.admin,
            json!({"kind": "holiday", "name": "临时停工"}),
        )
        .await
        .expect(200);
    let moved = c
        .app
        .get(&format!("/appeals/{id}"), &c.ent_token)
        .await
        .expect(200)
        .body;
    assert_eq!(at(&clock(&moved, "reply")["due_at"]), sh(2026, 3, 2, 17, 0));
    assert_eq!(at(&clock(&moved, "reply")["met_at"]), sh(2026, 3, 2, 10, 0));
    assert_eq!(
        at(&clock(&moved, "opinion")["due_at"]),
        sh(2026, 3, 5, 17, 0)
    );
    assert_eq!(at(&clock(&moved, "close")["due_at"]), sh(2026, 3, 9, 17, 0));
    // The recompute wrote only clocks: the list shows them moved all the same.
    assert_readers_agree(&c, &moved).await;
    c.app
        .delete("/calendar/days/2026-03-04", &c.admin)
        .await
        .expect(204);
    let back = c
        .app
        .get(&format!("/appeals/{id}"), &c.ent_token)
        .await
        .expect(200)
        .body;
    assert_eq!(at(&clock(&back, "close")["due_at"]), sh(2026, 3, 6, 17, 0));
    assert_readers_agree(&c, &back).await;
    // Working hours 09:00–12:00 and 13:30–17:30 (7 h a day): the opinion clock, 3 days from
    // Mon 09:00, ends Wed at closing.
    c.app
        .put(
            "/calendar/settings",
            &c.admin,
            json!({"time_zone": "Asia/Shanghai", "working_hours": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "17:30"}]}),
        )
        .await
        .expect(200);
    let hours = c
        .app
        .get(&format!("/appeals/{id}"), &c.ent_token)
        .await
        .expect(200)
        .body;
    assert_eq!(
        at(&clock(&hours, "opinion")["due_at"]),
        sh(2026, 3, 4, 17, 30)
    );
}

#[tokio::test]
async fn enterprises_see_only_their_own_appeals_and_offices_only_their_chains() {
    let c = city().await;
    let app = &c.app;
    let (_, other_ent) = app
        .org_with_user(&c.admin, "enterprise", "另一家企业")
        .await;
    let (office, office_token) = app
        .org_with_user(&c.admin, "chain_office", "集成电路产业链办")
        .await;
    let (_, other_office_token) = app
        .org_with_user(&c.admin, "chain_office", "新能源产业链办")
        .await;
    let chain = app
        .post(
            "/chains",
            &c.admin,
            json!({"code": "ic", "name": "集成电路", "office_organization_id": office}),
        )
        .await
        .expect(201)
        .id();
    app.put(
        &format!("/chains/{chain}/members/{}", c.ent),
        &c.admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    let mine = app
        .post(
            "/appeals",
            &c.ent_token,
            json!({"title": "芯片流片补贴", "content": "咨询", "category": "policy", "chain_id": chain}),
        )
        .await
        .expect(201)
        .body;
    let id = mine["id"].as_str().expect("id");
    assert_eq!(mine["chain_id"], chain.as_str());
    app.get(&format!("/appeals/{id}"), &other_ent)
        .await
        .expect_problem(404);
    app.get(&format!("/appeals/{id}/events"), &other_ent)
        .await
        .expect_problem(404);
    app.post(&format!("/appeals/{id}/withdraw"), &other_ent, json!({}))
        .await
        .expect_problem(404);
    let list = app.get("/appeals", &other_ent).await.expect(200).body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
    // Filtering by someone else's enterprise id shows nothing either.
    let list = app
        .get(&format!("/appeals?enterprise_id={}", c.ent), &other_ent)
        .await
        .expect(200)
        .body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));

    app.get(&format!("/appeals/{id}"), &office_token)
        .await
        .expect(200);
    app.get(&format!("/appeals/{id}"), &other_office_token)
        .await
        .expect_problem(404);
    let list = app.get("/appeals", &office_token).await.expect(200).body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    app.get(&format!("/appeals/{id}"), &c.dept_a_token)
        .await
        .expect_problem(404);
    let (_, bank) = app.org_with_user(&c.admin, "bank", "某银行").await;
    app.get("/appeals", &bank).await.expect_problem(403);
    app.post(
        "/appeals",
        &c.ent_token,
        json!({"title": "x", "content": "y", "category": "land", "chain_id": uuid::Uuid::now_v7()}),
    )
    .await
    .expect_problem(422);
}

#[tokio::test]
async fn lists_filter_and_page_and_numbers_stay_unique_under_concurrency() {
    let c = city().await;
    c.route("energy", &c.dept_a).await;
    let posts = (0..12).map(|i| {
        let body = json!({"title": format!("诉求 {i}"), "content": "内容", "category": if i % 3 == 0 { "land" } else { "energy" }});
        let app = &c.app;
        let token = c.ent_token.clone();
        async move { app.post("/appeals", &token, body).await.expect(201).body }
    });
    let made = futures::future::join_all(posts).await;
    let mut numbers: Vec<String> = made
        .iter()
        .map(|a| a["number"].as_str().unwrap_or_default().to_string())
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 12);

    let energy = c
        .app
        .get("/appeals?category=energy&limit=5", &c.center)
        .await
        .expect(200)
        .body;
    assert_eq!(energy["items"].as_array().map(Vec::len), Some(5));
    let cursor = energy["next_cursor"].as_str().expect("cursor");
    let rest = c
        .app
        .get(
            &format!("/appeals?category=energy&limit=5&cursor={cursor}"),
            &c.center,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(3));
    assert!(rest["next_cursor"].is_null());
    let by_dept = c
        .app
        .get(&format!("/appeals?department_id={}", c.dept_a), &c.center)
        .await
        .expect(200)
        .body;
    assert_eq!(by_dept["items"].as_array().map(Vec::len), Some(8));
    let submitted = c
        .app
        .get("/appeals?status=submitted", &c.dept_a_token)
        .await
        .expect(200)
        .body;
    assert_eq!(submitted["items"].as_array().map(Vec::len), Some(0));
    let due = c
        .app
        .get(
            &format!("/appeals?due_before={}", rfc(sh(2026, 3, 2, 17, 1))),
            &c.center,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(due["items"].as_array().map(Vec::len), Some(12));
    let none = c
        .app
        .get("/appeals?breached=true", &c.center)
        .await
        .expect(200)
        .body;
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
    c.app
        .get("/appeals?status=lost", &c.center)
        .await
        .expect_problem(400);
    c.app
        .get("/appeals?due_before=soon", &c.center)
        .await
        .expect_problem(400);

    // Idempotent submission: the same key and body answer the same appeal.
    let key = [("Idempotency-Key", "appeal-1")];
    let body = json!({"title": "重复提交", "content": "内容", "category": "land"});
    let first = c
        .app
        .send(
            reqwest::Method::POST,
            "/appeals",
            Some(&c.ent_token),
            Some(&body),
            &key,
        )
        .await
        .expect(201);
    let again = c
        .app
        .send(
            reqwest::Method::POST,
            "/appeals",
            Some(&c.ent_token),
            Some(&body),
            &key,
        )
        .await
        .expect(201);
    assert_eq!(first.body["number"], again.body["number"]);

    // Past the reply deadline every appeal counts as breached, before any monitor pass.
    c.app.clock.set(sh(2026, 3, 2, 17, 1));
    let late = c
        .app
        .get("/appeals?breached=true&limit=200", &c.center)
        .await
        .expect(200)
        .body;
    assert_eq!(late["items"].as_array().map(Vec::len), Some(13));
    let fine = c
        .app
        .get("/appeals?breached=false", &c.center)
        .await
        .expect(200)
        .body;
    assert_eq!(fine["items"].as_array().map(Vec::len), Some(0));
}

/// The API description admits any number of leading and trailing zeros in working days; more
/// digits than a decimal holds are still read for what they are worth.
#[tokio::test]
async fn working_days_padded_with_zeros_are_read_for_their_value() {
    let c = city().await;
    let zeros = "0".repeat(40);
    let p = c
        .app
        .put(
            "/sla-policies/permits",
            &c.admin,
            json!({"reply_working_days": format!("00.5{zeros}"), "opinion_working_days": format!("{zeros}2"), "close_working_days": format!("{zeros}4.5{zeros}"), "warn_before_working_hours": 1}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(p["reply_working_days"], "0.5");
    assert_eq!(p["opinion_working_days"], "2");
    assert_eq!(p["close_working_days"], "4.5");
    c.app
        .put(
            "/sla-policies/permits",
            &c.admin,
            json!({"reply_working_days": format!("0.{zeros}1"), "opinion_working_days": 2, "close_working_days": 3, "warn_before_working_hours": 1}),
        )
        .await
        .expect_problem(422);
}

#[tokio::test]
async fn admins_set_sla_policies_and_routing_rules() {
    let c = city().await;
    let app = &c.app;
    let all = app.get("/sla-policies", &c.admin).await.expect(200).body;
    assert_eq!(all.as_array().map(Vec::len), Some(10));
    assert_eq!(all[0]["reply_working_days"], "1");
    let p = app
        .put(
            "/sla-policies/permits",
            &c.admin,
            json!({"reply_working_days": "0.5", "opinion_working_days": 2, "close_working_days": "4.5", "warn_before_working_hours": 1}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(p["reply_working_days"], "0.5");
    app.put(
        "/sla-policies/permits",
        &c.center,
        json!({"reply_working_days": 1, "opinion_working_days": 2, "close_working_days": 3, "warn_before_working_hours": 1}),
    )
    .await
    .expect_problem(403);
    app.put(
        "/sla-policies/permits",
        &c.admin,
        json!({"reply_working_days": 3, "opinion_working_days": 2, "close_working_days": 1, "warn_before_working_hours": 1}),
    )
    .await
    .expect_problem(422);
    app.put(
        "/sla-policies/permits",
        &c.admin,
        json!({"reply_working_days": "0.0001", "opinion_working_days": 2, "close_working_days": 3, "warn_before_working_hours": 1}),
    )
    .await
    .expect_problem(422);
    app.put("/sla-policies/weather", &c.admin, json!({}))
        .await
        .expect_problem(404);
    // Mon 09:00 + 0.5 day = 13:00; 4.5 days = Fri 13:00.
    let a = c.submit("permits").await;
    assert_eq!(at(&clock(&a, "reply")["due_at"]), sh(2026, 3, 2, 13, 0));
    assert_eq!(at(&clock(&a, "close")["due_at"]), sh(2026, 3, 6, 13, 0));

    app.put(
        "/routing-rules/permits",
        &c.admin,
        json!({"department_id": c.ent}),
    )
    .await
    .expect_problem(422);
    app.put(
        "/routing-rules/permits",
        &c.center,
        json!({"department_id": c.dept_a}),
    )
    .await
    .expect_problem(403);
    c.route("permits", &c.dept_b).await;
    let rules = app.get("/routing-rules", &c.center).await.expect(200).body;
    assert_eq!(rules[0]["department_id"], c.dept_b.as_str());
    assert_eq!(rules[0]["department_name"], "市自然资源局");
    app.delete("/routing-rules/permits", &c.admin)
        .await
        .expect(204);
    assert_eq!(c.submit("permits").await["status"], "submitted");
}

/// `GET /appeals/{id}` and the appeal's item in `GET /appeals` (read positionally) show the
/// same appeal as the action that changed it (built from the written models), instant for
/// instant, through pauses, extensions, a resolution and a reopen, with sub-second times.
async fn assert_readers_agree(c: &City, answer: &Value) {
    let id = answer["id"].as_str().expect("id");
    let one = c
        .app
        .get(&format!("/appeals/{id}"), &c.center)
        .await
        .expect(200)
        .body;
    assert_eq!(&one, answer, "GET /appeals/{id}");
    let path = format!("/appeals?enterprise_id={}&limit=200", c.ent);
    let item = c.app.listed(&path, &c.center, id).await;
    assert_eq!(&item, answer, "GET /appeals item");
}

#[tokio::test]
async fn the_list_the_appeal_and_each_answer_agree() {
    let c = city().await;
    c.route("energy", &c.dept_a).await;
    let fraction = TimeDelta::microseconds(123_456);
    c.app.clock.set(sh(2026, 3, 2, 9, 30) + fraction);
    let a = c.submit("energy").await;
    assert!(
        a["submitted_at"]
            .as_str()
            .is_some_and(|s| s.ends_with(".123456Z")),
        "{}",
        a["submitted_at"]
    );
    assert_readers_agree(&c, &a).await;
    let id = a["id"].as_str().expect("id").to_string();
    let steps: [(&str, &str, Value); 7] = [
        (&c.dept_a_token, "reply", json!({"message": "已收到"})),
        (
            &c.dept_a_token,
            "request_info",
            json!({"message": "请补充用电负荷表"}),
        ),
        (&c.ent_token, "supplement", json!({"message": "已补充"})),
        (
            &c.dept_a_token,
            "extension",
            json!({"working_days": 1.5, "reason": "需现场踏勘"}),
        ),
        (&c.center, "extension_decision", json!({"approve": true})),
        (&c.dept_a_token, "resolve", json!({"message": "已办结"})),
        (&c.ent_token, "reopen", json!({"reason": "问题复现"})),
    ];
    for (i, (token, action, body)) in steps.into_iter().enumerate() {
        c.app
            .clock
            .set(sh(2026, 3, 2 + i as u32, 14, 5) + TimeDelta::microseconds(7 * i as i64 + 1));
        let answer = c.ok(token, &id, action, body).await;
        assert_readers_agree(&c, &answer).await;
    }
}

/// How many appeals the database holds.
async fn appeal_count(app: &TestApp) -> usize {
    entity::appeal::Entity::find()
        .all(&app.db)
        .await
        .expect("appeals")
        .len()
}

#[tokio::test]
async fn appeal_into_a_chain_the_enterprise_is_not_an_active_member_of_is_422() {
    let c = city().await;
    let app = &c.app;
    let (chain, _, office) = crate::support::chain_with_office(app, &c.admin, "IC").await;
    let body =
        json!({"title": "流片补贴", "content": "咨询", "category": "policy", "chain_id": chain});
    let chain_field = |res: &tests::Answer| {
        res.body["errors"]
            .as_array()
            .map(|e| e.iter().any(|e| e["field"] == "chain_id"))
            .unwrap_or(false)
    };

    // Not a member at all: 422 on chain_id, and nothing is created.
    let res = app
        .post("/appeals", &c.ent_token, body.clone())
        .await
        .expect_problem(422);
    assert!(chain_field(&res), "{}", res.text);
    assert_eq!(appeal_count(app).await, 0);

    // Invited but not accepted: still 422.
    app.put(
        &format!("/chains/{chain}/members/{}", c.ent),
        &office,
        json!({"role": "supporting"}),
    )
    .await
    .expect(200);
    let res = app
        .post("/appeals", &c.ent_token, body.clone())
        .await
        .expect_problem(422);
    assert!(chain_field(&res), "{}", res.text);
    assert_eq!(appeal_count(app).await, 0);
    let list = app.get("/appeals", &office).await.expect(200).body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));

    // Accepted: the appeal goes into the chain.
    app.post(
        &format!("/chains/{chain}/members/{}/accept", c.ent),
        &c.ent_token,
        json!({}),
    )
    .await
    .expect(200);
    let made = app.post("/appeals", &c.ent_token, body).await.expect(201);
    assert_eq!(made.str("chain_id"), chain);
    assert_eq!(appeal_count(app).await, 1);
}
