//! Notifications to people: who each appeal action tells (in the app and by mail), the inbox
//! (list, unread count, read, read-all, scoping), mail preferences, the mail recipient rule
//! (users first, the contact only when none has an address), and the unread count across api
//! instances. The server-sent event stream is in `notifications/stream.rs`.

mod stream;

use chrono::TimeDelta;
use entity::{
    clock::Clock,
    enums::NotificationKind,
    mail_outbox::{self, MailStatus},
    notification,
};
use jobs::{Job, Runner, Schedule, mail::dispatch};
use reqwest::Method;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tests::{
    TestApp,
    fixtures::{City, CityBuilder},
};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Helpers

/// The caller's notifications, newest first (one page of 200).
async fn inbox(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/notifications?limit=200", token)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .expect("items")
        .clone()
}

/// The kinds of the caller's notifications, oldest first.
async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    let mut k: Vec<String> = inbox(app, token)
        .await
        .iter()
        .map(|n| n["kind"].as_str().expect("kind").to_string())
        .collect();
    k.reverse();
    k
}

async fn unread(app: &TestApp, token: &str) -> u64 {
    app.get("/notifications/unread-count", token)
        .await
        .expect(200)
        .body["count"]
        .as_u64()
        .expect("count")
}

/// `GET /me` of a token: (user id, e-mail).
async fn me(app: &TestApp, token: &str) -> (String, Option<String>) {
    let me = app.get("/me", token).await.expect(200);
    (me.id(), me.body["email"].as_str().map(str::to_string))
}

/// A user with `role` in `org` and no e-mail address; returns its token.
async fn user_without_email(app: &TestApp, admin: &str, role: &str, org: &str) -> String {
    let username = format!("n{}", &Uuid::new_v4().simple().to_string()[..12]);
    app.post(
        "/users",
        admin,
        json!({"username": username, "password": tests::USER_PASSWORD, "display_name": "无邮箱用户",
               "role": role, "organization_id": org}),
    )
    .await
    .expect(201);
    app.login(&username, tests::USER_PASSWORD).await
}

async fn submit(app: &TestApp, token: &str, category: &str) -> Value {
    app.post(
        "/appeals",
        token,
        json!({"title": "厂房用电增容", "content": "新厂房需增容 2000kVA", "category": category}),
    )
    .await
    .expect(201)
    .body
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str, body: Value) -> Value {
    app.post(&format!("/appeals/{id}/{action}"), token, body)
        .await
        .expect(200)
        .body
}

/// Every outbox row, oldest first.
async fn outbox(app: &TestApp) -> Vec<mail_outbox::Model> {
    mail_outbox::Entity::find()
        .order_by_asc(mail_outbox::Column::Id)
        .all(&app.db)
        .await
        .expect("outbox")
}

async fn dispatch_now(app: &TestApp) -> u64 {
    dispatch::run_once(app.jobs.context(), app.clock.now())
        .await
        .expect("dispatch step")
}

/// The recipients of the delivered mails whose subject contains `needle`, sorted.
fn delivered_to(app: &TestApp, needle: &str) -> Vec<String> {
    let mut to: Vec<String> = app
        .mail
        .messages()
        .iter()
        .filter(|m| m.subject().contains(needle))
        .flat_map(|m| m.rcpt_to.clone())
        .collect();
    to.sort();
    to
}

/// One department and one enterprise, each with one user; `energy` is routed to the department.
async fn routed_city() -> City {
    CityBuilder::new()
        .long_lived_tokens()
        .department("市工信局")
        .enterprise("南通某电子公司")
        .route("energy", 0)
        .build()
        .await
}

/// A centre, two departments and two enterprises, each with one user.
async fn city() -> City {
    CityBuilder::new()
        .long_lived_tokens()
        .centre("市企业服务中心")
        .department("市工信局")
        .department("市自然资源局")
        .enterprise("南通某电子公司")
        .enterprise("南通某机械公司")
        .build()
        .await
}

// ---------------------------------------------------------------------------------------------
// Who is told

#[tokio::test]
async fn each_appeal_action_notifies_exactly_the_people_concerned() {
    let c = city().await;
    let app = &c.app;
    let centre = c.centre.clone().expect("centre").token;
    let (dept_a, dept_b) = (c.departments[0].clone(), c.departments[1].clone());
    let (ent, other_ent) = (c.enterprises[0].clone(), c.enterprises[1].clone());
    // A second user of department A, and a user of the enterprise who did not submit.
    let dept_a2 = app
        .user_token(&c.admin, "department", Some(&dept_a.id))
        .await;
    let ent_colleague = app.user_token(&c.admin, "enterprise", Some(&ent.id)).await;

    let a = submit(app, &ent.token, "energy").await;
    let id = a["id"].as_str().expect("id").to_string();
    let number = a["number"].as_str().expect("number").to_string();
    let everyone = |extra: &[&str]| {
        let mut all: Vec<String> = [
            &centre,
            &dept_a.token,
            &dept_a2,
            &dept_b.token,
            &ent.token,
            &ent_colleague,
            &other_ent.token,
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        all.extend(extra.iter().map(|s| s.to_string()));
        all
    };
    // Nobody is told of an unrouted submission.
    for t in everyone(&[]) {
        assert!(kinds(app, &t).await.is_empty());
    }

    // Assignment: both users of department A, nobody else.
    act(
        app,
        &centre,
        &id,
        "assign",
        json!({"department_id": dept_a.id, "note": "请尽快办理"}),
    )
    .await;
    for t in [&dept_a.token, &dept_a2] {
        assert_eq!(kinds(app, t).await, ["appeal_assigned"]);
    }
    let n = &inbox(app, &dept_a.token).await[0];
    assert_eq!(n["object_type"], "appeal");
    assert_eq!(n["object_id"], id.as_str());
    assert!(n["read_at"].is_null());
    assert!(n["title"].as_str().expect("title").contains(&number), "{n}");
    assert!(
        n["body"].as_str().expect("body").contains("请尽快办理"),
        "{n}"
    );
    for t in [&centre, &dept_b.token, &ent.token, &other_ent.token] {
        assert!(kinds(app, t).await.is_empty());
    }

    // Transfer: department B only.
    act(
        app,
        &dept_a.token,
        &id,
        "transfer",
        json!({"department_id": dept_b.id, "reason": "属自然资源局职责"}),
    )
    .await;
    assert_eq!(kinds(app, &dept_b.token).await, ["appeal_transferred"]);
    assert_eq!(kinds(app, &dept_a.token).await, ["appeal_assigned"]);

    // The department's answers: the submitting user only.
    for (action, kind) in [
        ("reply", "appeal_replied"),
        ("opinion", "appeal_opinion"),
        ("request_info", "appeal_info_requested"),
    ] {
        act(
            app,
            &dept_b.token,
            &id,
            action,
            json!({"message": format!("{action} 的说明")}),
        )
        .await;
        assert_eq!(
            kinds(app, &ent.token).await.last().map(String::as_str),
            Some(kind)
        );
    }
    // The enterprise supplements: department B is told.
    act(
        app,
        &ent.token,
        &id,
        "supplement",
        json!({"message": "已补充用电负荷测算"}),
    )
    .await;
    // Supervision by hand: department B.
    act(
        app,
        &centre,
        &id,
        "supervise",
        json!({"note": "请加快办理"}),
    )
    .await;
    act(
        app,
        &dept_b.token,
        &id,
        "resolve",
        json!({"message": "已完成增容"}),
    )
    .await;

    assert_eq!(
        kinds(app, &ent.token).await,
        [
            "appeal_replied",
            "appeal_opinion",
            "appeal_info_requested",
            "appeal_resolved"
        ]
    );
    assert_eq!(
        kinds(app, &dept_b.token).await,
        [
            "appeal_transferred",
            "appeal_supplemented",
            "appeal_supervised"
        ]
    );
    for t in [&dept_a.token, &dept_a2] {
        assert_eq!(kinds(app, t).await, ["appeal_assigned"]);
    }
    for t in [&centre, &ent_colleague, &other_ent.token] {
        assert!(
            kinds(app, t).await.is_empty(),
            "{}",
            kinds(app, t).await.join(",")
        );
    }

    // Each notification's mail names its user and kind; office mail waits for working hours
    // (it is Monday 09:00 here, so it leaves at once).
    let rows = outbox(app).await;
    let (ent_user, ent_mail) = me(app, &ent.token).await;
    let replied: Vec<_> = rows
        .iter()
        .filter(|m| m.kind == Some(NotificationKind::AppealReplied))
        .collect();
    assert_eq!(replied.len(), 1);
    assert_eq!(Some(replied[0].recipient.clone()), ent_mail);
    assert_eq!(replied[0].user_id.map(|u| u.to_string()), Some(ent_user));
    let assigned: Vec<_> = rows
        .iter()
        .filter(|m| m.kind == Some(NotificationKind::AppealAssigned))
        .collect();
    assert_eq!(assigned.len(), 2, "one per user of department A");
}

#[tokio::test]
async fn a_submitter_who_left_is_replaced_by_the_enterprise_s_active_users() {
    let c = routed_city().await;
    let app = &c.app;
    let ent = &c.enterprises[0];
    let colleague = app.user_token(&c.admin, "enterprise", Some(&ent.id)).await;
    let a = submit(app, &ent.token, "energy").await;
    let id = a["id"].as_str().expect("id");
    let (submitter, _) = me(app, &ent.token).await;
    app.post(
        &format!("/users/{submitter}/deactivate"),
        &c.admin,
        json!({}),
    )
    .await
    .expect(200);
    act(
        app,
        &c.departments[0].token,
        id,
        "reply",
        json!({"message": "已受理"}),
    )
    .await;
    assert_eq!(kinds(app, &colleague).await, ["appeal_replied"]);
    let (_, colleague_mail) = me(app, &colleague).await;
    let replied = outbox(app)
        .await
        .into_iter()
        .find(|m| m.kind == Some(NotificationKind::AppealReplied))
        .expect("a reply mail");
    assert_eq!(Some(replied.recipient), colleague_mail);
}

#[tokio::test]
async fn mail_goes_to_the_users_and_to_the_contact_only_when_none_of_them_has_an_address() {
    let c = CityBuilder::new()
        .long_lived_tokens()
        .centre("市企业服务中心")
        .department("有用户的部门")
        .contact("dept-a@example.cn")
        .department("无用户的部门")
        .contact("dept-b@example.cn")
        .without_user()
        .department("用户无邮箱的部门")
        .contact("dept-c@example.cn")
        .without_user()
        .enterprise("南通某电子公司")
        .build()
        .await;
    let app = &c.app;
    let centre = c.centre.clone().expect("centre").token;
    let dept_c = c.departments[2].id.clone();
    let no_mail_user = user_without_email(app, &c.admin, "department", &dept_c).await;
    let (_, dept_a_mail) = me(app, &c.departments[0].token).await;
    let dept_a_mail = dept_a_mail.expect("the fixture's users have an address");

    for dep in &c.departments {
        let a = submit(app, &c.enterprises[0].token, "energy").await;
        act(
            app,
            &centre,
            a["id"].as_str().expect("id"),
            "assign",
            json!({"department_id": dep.id}),
        )
        .await;
    }
    // The user without an address is still told in the app.
    assert_eq!(kinds(app, &no_mail_user).await, ["appeal_assigned"]);

    let rows = outbox(app).await;
    let mut recipients: Vec<(String, bool)> = rows
        .iter()
        .map(|m| (m.recipient.clone(), m.user_id.is_some()))
        .collect();
    recipients.sort();
    let mut expected = vec![
        (dept_a_mail.clone(), true),
        ("dept-b@example.cn".to_string(), false),
        ("dept-c@example.cn".to_string(), false),
    ];
    expected.sort();
    assert_eq!(recipients, expected);
    assert_eq!(dispatch_now(app).await, 3);
    let delivered = delivered_to(app, "分派");
    let mut want: Vec<String> = expected.into_iter().map(|(to, _)| to).collect();
    want.sort();
    assert_eq!(delivered, want);
}

#[tokio::test]
async fn a_routed_submission_tells_the_department_s_active_users_as_an_assignment_does() {
    // A submission reads its department's users with its context (one statement); who is told
    // must not change: every active user in the app, the users' own addresses unless they
    // turned the kind off, the contact when the department has no user.
    let c = CityBuilder::new()
        .long_lived_tokens()
        .department("市工信局")
        .department("无用户的部门")
        .contact("dept-b@example.cn")
        .without_user()
        .enterprise("南通某电子公司")
        .route("energy", 0)
        .route("land", 1)
        .build()
        .await;
    let app = &c.app;
    let dept = &c.departments[0].token;
    let quiet = app
        .user_token(&c.admin, "department", Some(&c.departments[0].id))
        .await;
    app.put(
        "/me/preferences",
        &quiet,
        json!({"email": {"appeal_assigned": false, "appeal_transferred": false}}),
    )
    .await
    .expect(200);
    let gone = app
        .user_token(&c.admin, "department", Some(&c.departments[0].id))
        .await;
    let (gone_id, _) = me(app, &gone).await;
    app.post(&format!("/users/{gone_id}/deactivate"), &c.admin, json!({}))
        .await
        .expect(200);

    let ent = &c.enterprises[0].token;
    let first = submit(app, ent, "energy").await;
    let second = submit(app, ent, "energy").await;
    for t in [dept, &quiet] {
        assert_eq!(kinds(app, t).await, ["appeal_assigned", "appeal_assigned"]);
    }
    let gone_id = Uuid::parse_str(&gone_id).expect("uuid");
    let told_gone = notification::Entity::find()
        .all(&app.db)
        .await
        .expect("notifications")
        .into_iter()
        .filter(|n| n.user_id == gone_id)
        .count();
    assert_eq!(told_gone, 0);
    let (dept_id, dept_mail) = me(app, dept).await;
    let mailed: Vec<(String, Option<String>)> = outbox(app)
        .await
        .into_iter()
        .map(|m| (m.recipient, m.user_id.map(|u| u.to_string())))
        .collect();
    let to_dept = (dept_mail.expect("address"), Some(dept_id));
    assert_eq!(mailed, [to_dept.clone(), to_dept.clone()]);

    // A department without users: its contact address.
    submit(app, ent, "land").await;
    let last = outbox(app).await.pop().expect("a mail");
    assert_eq!(
        (last.recipient.as_str(), last.user_id, last.kind),
        (
            "dept-b@example.cn",
            None,
            Some(NotificationKind::AppealAssigned)
        )
    );

    // One number per submission, however many users the department has.
    let serial = |a: &Value| -> u64 {
        let number = a["number"].as_str().expect("number");
        number
            .rsplit('-')
            .next()
            .expect("serial")
            .parse()
            .expect("digits")
    };
    assert_eq!(serial(&second), serial(&first) + 1);
}

/// Registers an enterprise whose contact (and first user) is `contact`; returns (org, user).
async fn register(app: &TestApp, contact: &str) -> (String, String) {
    let mut body = crate::support::registration();
    body["contact_email"] = json!(contact);
    let res = app
        .send(
            Method::POST,
            "/enterprises/register",
            None,
            Some(&body),
            &[],
        )
        .await
        .expect(201);
    (
        res.body["organization"]["id"]
            .as_str()
            .expect("org")
            .to_string(),
        res.body["user"]["id"].as_str().expect("user").to_string(),
    )
}

#[tokio::test]
async fn verification_welcomes_the_enterprise_s_users_or_else_its_contact() {
    let app = tests::spawn_app().await;
    let admin = app.admin().await;
    // Two users: both are welcomed, each as a user.
    let (org, first) = register(&app, "first@example.cn").await;
    let second = app.user_token(&admin, "enterprise", Some(&org)).await;
    let (second_id, second_mail) = me(&app, &second).await;
    app.post(&format!("/organizations/{org}/verify"), &admin, json!({}))
        .await
        .expect(200);
    // Its only user left before verification: the contact address is welcomed.
    let (gone_org, gone_user) = register(&app, "boss@example.cn").await;
    app.post(&format!("/users/{gone_user}/deactivate"), &admin, json!({}))
        .await
        .expect(200);
    app.post(
        &format!("/organizations/{gone_org}/verify"),
        &admin,
        json!({}),
    )
    .await
    .expect(200);

    let rows = outbox(&app).await;
    let mut got: Vec<(String, Option<String>)> = rows
        .iter()
        .map(|m| (m.recipient.clone(), m.user_id.map(|u| u.to_string())))
        .collect();
    got.sort();
    let mut want = vec![
        ("first@example.cn".to_string(), Some(first)),
        (second_mail.expect("address"), Some(second_id)),
        ("boss@example.cn".to_string(), None),
    ];
    want.sort();
    assert_eq!(got, want);
    assert!(
        rows.iter()
            .all(|m| m.kind == Some(NotificationKind::OrganizationVerified)
                && m.template == "welcome")
    );
    let n = &inbox(&app, &second).await[0];
    assert_eq!(n["kind"], "organization_verified");
    assert_eq!(n["object_type"], "organization");
    assert_eq!(n["object_id"], org.as_str());
}

#[tokio::test]
async fn a_failed_job_tells_every_admin_in_the_app_and_mails_their_addresses() {
    let app = tests::spawn_app().await;
    let admin = app.admin().await;
    let second_admin = app.user_token(&admin, "admin", None).await;
    let (_, second_mail) = me(&app, &second_admin).await;
    let err = Job::new(
        "report",
        Schedule::Every(TimeDelta::seconds(10)),
        |_, _| async move { Err(anyhow::anyhow!("数据库不可用")) },
    );
    Runner::new(app.jobs.context().clone(), vec![err])
        .tick()
        .await
        .expect("tick");
    for t in [&admin, &second_admin] {
        let items = inbox(&app, t).await;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["kind"], "job_failed");
        assert_eq!(items[0]["object_type"], "job_run");
        assert!(
            items[0]["body"]
                .as_str()
                .expect("body")
                .contains("数据库不可用")
        );
    }
    // The first admin has no address; the second one is mailed.
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(Some(rows[0].recipient.clone()), second_mail);
    assert_eq!(rows[0].kind, Some(NotificationKind::JobFailed));
}

// ---------------------------------------------------------------------------------------------
// The inbox

#[tokio::test]
async fn read_read_all_and_the_unread_count_touch_only_the_caller_s_notifications() {
    let c = CityBuilder::new()
        .long_lived_tokens()
        .department("市工信局")
        .department("市自然资源局")
        .enterprise("南通某电子公司")
        .route("energy", 0)
        .route("land", 1)
        .build()
        .await;
    let app = &c.app;
    let (a, b) = (&c.departments[0].token, &c.departments[1].token);
    for _ in 0..3 {
        submit(app, &c.enterprises[0].token, "energy").await;
    }
    submit(app, &c.enterprises[0].token, "land").await;
    assert_eq!((unread(app, a).await, unread(app, b).await), (3, 1));

    // Newest first, paged.
    let first = app.get("/notifications?limit=2", a).await.expect(200);
    let items = first.body["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2);
    assert!(items[0]["id"].as_str() > items[1]["id"].as_str());
    let cursor = first.str("next_cursor");
    let second = app
        .get(&format!("/notifications?limit=2&cursor={cursor}"), a)
        .await
        .expect(200);
    assert_eq!(second.body["items"].as_array().map(Vec::len), Some(1));
    assert!(second.body["next_cursor"].is_null());
    assert!(second.body["items"][0]["id"].as_str() < items[1]["id"].as_str());

    // Read one: 200 with the whole notification; reading it again keeps the first time.
    let id = items[0]["id"].as_str().expect("id");
    let read = app
        .post(&format!("/notifications/{id}/read"), a, json!({}))
        .await
        .expect(200);
    assert_eq!(read.id(), id);
    let read_at = read.str("read_at");
    assert!(!read_at.is_empty());
    app.advance(TimeDelta::minutes(5));
    let again = app
        .post(&format!("/notifications/{id}/read"), a, json!({}))
        .await
        .expect(200);
    assert_eq!(again.str("read_at"), read_at);
    assert_eq!(unread(app, a).await, 2);
    let unread_items = app.get("/notifications?unread=true", a).await.expect(200);
    assert_eq!(unread_items.body["items"].as_array().map(Vec::len), Some(2));
    assert!(
        unread_items.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|n| n["read_at"].is_null() && n["id"] != id)
    );
    let read_items = app.get("/notifications?unread=false", a).await.expect(200);
    assert_eq!(read_items.body["items"][0]["id"], id);

    // Another user's notification, and one that does not exist: 404, and nothing changes.
    let b_id = inbox(app, b).await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    app.post(&format!("/notifications/{b_id}/read"), a, json!({}))
        .await
        .expect_problem(404);
    app.post(
        &format!("/notifications/{}/read", Uuid::now_v7()),
        a,
        json!({}),
    )
    .await
    .expect_problem(404);
    assert_eq!(unread(app, b).await, 1);

    // Read-all: the caller's only.
    let all = app
        .post("/notifications/read-all", a, json!({}))
        .await
        .expect(200);
    assert_eq!(all.body["marked"], 2);
    assert_eq!((unread(app, a).await, unread(app, b).await), (0, 1));
    let again = app
        .post("/notifications/read-all", a, json!({}))
        .await
        .expect(200);
    assert_eq!(again.body["marked"], 0);

    // No token: 401.
    app.send(Method::GET, "/notifications/unread-count", None, None, &[])
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn a_kind_turned_off_sends_no_mail_but_still_notifies() {
    let c = routed_city().await;
    let app = &c.app;
    let ent = &c.enterprises[0].token;
    let dept = &c.departments[0].token;
    let (_, ent_mail) = me(app, ent).await;
    let ent_mail = ent_mail.expect("address");

    // Every kind is on until turned off.
    let prefs = app.get("/me/preferences", ent).await.expect(200);
    let email = prefs.body["email"].as_object().expect("email").clone();
    assert_eq!(email.len(), NotificationKind::all().len());
    assert!(email.values().all(|v| v == true));
    let put = app
        .put(
            "/me/preferences",
            ent,
            json!({"email": {"appeal_replied": false}}),
        )
        .await
        .expect(200);
    assert_eq!(put.body["email"]["appeal_replied"], false);
    assert_eq!(put.body["email"]["appeal_opinion"], true);
    // Kinds left out keep their setting.
    app.put(
        "/me/preferences",
        ent,
        json!({"email": {"appeal_resolved": true}}),
    )
    .await
    .expect(200);
    let prefs = app.get("/me/preferences", ent).await.expect(200);
    assert_eq!(prefs.body["email"]["appeal_replied"], false);
    // Someone else's preferences are their own.
    let other = app.get("/me/preferences", dept).await.expect(200);
    assert_eq!(other.body["email"]["appeal_replied"], true);

    // Unknown kinds and non-booleans: 422 naming the field; nothing changes.
    let bad = app
        .put(
            "/me/preferences",
            ent,
            json!({"email": {"appeal_replied": true, "bogus_kind": false}}),
        )
        .await
        .expect_problem(422);
    assert_eq!(bad.body["errors"][0]["field"], "email.bogus_kind");
    app.put(
        "/me/preferences",
        ent,
        json!({"email": {"appeal_replied": "no"}}),
    )
    .await
    .expect_problem(422);
    assert_eq!(
        app.get("/me/preferences", ent).await.expect(200).body["email"]["appeal_replied"],
        false
    );

    let a = submit(app, ent, "energy").await;
    let id = a["id"].as_str().expect("id");
    let number = a["number"].as_str().expect("number");
    act(app, dept, id, "reply", json!({"message": "已受理"})).await;
    act(app, dept, id, "opinion", json!({"message": "可以增容"})).await;
    assert_eq!(kinds(app, ent).await, ["appeal_replied", "appeal_opinion"]);
    dispatch_now(app).await;
    let to_enterprise: Vec<String> = app
        .mail
        .messages()
        .iter()
        .filter(|m| m.rcpt_to.contains(&ent_mail))
        .map(|m| m.subject())
        .collect();
    assert_eq!(to_enterprise.len(), 1, "{to_enterprise:?}");
    assert!(to_enterprise[0].contains(number), "{to_enterprise:?}");
    let kinds_mailed: Vec<Option<NotificationKind>> = outbox(app)
        .await
        .iter()
        .filter(|m| m.recipient == ent_mail)
        .map(|m| m.kind)
        .collect();
    assert_eq!(kinds_mailed, [Some(NotificationKind::AppealOpinion)]);
    assert!(
        outbox(app)
            .await
            .iter()
            .all(|m| m.status == MailStatus::Sent)
    );
}

/// The unread count `base` answers for `token`.
async fn unread_on(app: &TestApp, base: &str, token: &str) -> u64 {
    let res = app
        .client
        .get(format!("{base}/api/v1/notifications/unread-count"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    body["count"].as_u64().expect("count")
}

/// Whether `base` answers `count` for `token` within `within` (polled every 50 ms).
async fn counts_within(
    app: &TestApp,
    base: &str,
    token: &str,
    count: u64,
    within: Duration,
) -> bool {
    let started = Instant::now();
    loop {
        if unread_on(app, base, token).await == count {
            return true;
        }
        if started.elapsed() > within {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A notification `id` for `user` inserted with plain SQL, as another process would write it
/// (no cache of this process is told).
async fn supervised_by_sql(app: &TestApp, id: Uuid, user: Uuid, title: &str, body: &str) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    notification::ActiveModel {
        id: Set(id),
        user_id: Set(user),
        kind: Set(NotificationKind::AppealSupervised),
        title: Set(title.into()),
        body: Set(body.into()),
        object_type: Set(None),
        object_id: Set(None),
        created_at: Set(app.clock.now()),
        read_at: Set(None),
    }
    .insert(&app.db)
    .await
    .expect("insert");
}

#[tokio::test]
async fn the_unread_count_follows_every_change_from_any_process_within_a_second() {
    let c = routed_city().await;
    let app = &c.app;
    let here = app.address.clone();
    let dept = &c.departments[0];
    let (dept_user, _) = me(app, &dept.token).await;
    let dept_user: Uuid = dept_user.parse().expect("uuid");
    let other = app.second_instance().await;
    // Both instances answer, and keep, 0 (each answer twice, so both are cached).
    for _ in 0..2 {
        assert_eq!(unread_on(app, &here, &dept.token).await, 0);
        assert_eq!(unread_on(app, &other, &dept.token).await, 0);
    }
    let second = Duration::from_secs(1);

    // A submission here notifies the department: this instance knows at once, the other
    // within a second.
    submit(app, &c.enterprises[0].token, "energy").await;
    assert_eq!(unread_on(app, &here, &dept.token).await, 1);
    assert!(counts_within(app, &other, &dept.token, 1, second).await);

    // A row written with SQL, as another process would (no cache of this process is told):
    // both instances learn it from the change feed.
    supervised_by_sql(app, Uuid::now_v7(), dept_user, "督办", "请尽快办理").await;
    assert!(counts_within(app, &here, &dept.token, 2, second).await);
    assert!(counts_within(app, &other, &dept.token, 2, second).await);

    // Everything read on the other instance: at once there, within a second here.
    let res = app
        .client
        .post(format!("{other}/api/v1/notifications/read-all"))
        .bearer_auth(&dept.token)
        .json(&json!({}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    assert_eq!(unread_on(app, &other, &dept.token).await, 0);
    assert!(counts_within(app, &here, &dept.token, 0, second).await);

    // A deletion (retention, an operator) is a change too.
    supervised_by_sql(app, Uuid::now_v7(), dept_user, "督办", "再次督办").await;
    assert!(counts_within(app, &here, &dept.token, 1, second).await);
    notification::Entity::delete_many()
        .exec(&app.db)
        .await
        .expect("delete");
    assert!(counts_within(app, &here, &dept.token, 0, second).await);
    assert!(counts_within(app, &other, &dept.token, 0, second).await);
}
