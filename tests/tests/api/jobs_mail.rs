//! Jobs and mail: the outbox and its dispatcher against a real SMTP listener, the file
//! transport, the runner's leases and history, and the admin endpoints.

use crate::support::{anonymous, registration};
use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    clock::Clock,
    job_lease, job_run,
    job_run::RunStatus,
    mail_outbox::{self, MailStatus},
};
use jobs::{
    Job, Runner, Schedule,
    mail::{Template, dispatch},
    runner::Outcome,
};
use reqwest::Method;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};
use tests::{TestApp, spawn_app, spawn_app_with};

async fn dispatch_now(app: &TestApp) -> u64 {
    dispatch::run_once(app.jobs.context(), app.clock.now())
        .await
        .expect("dispatch step")
}

async fn outbox(app: &TestApp) -> Vec<mail_outbox::Model> {
    mail_outbox::Entity::find()
        .order_by_asc(mail_outbox::Column::Id)
        .all(&app.db)
        .await
        .expect("outbox rows")
}

async fn runs(app: &TestApp) -> Vec<job_run::Model> {
    job_run::Entity::find()
        .order_by_asc(job_run::Column::Slot)
        .all(&app.db)
        .await
        .expect("job runs")
}

fn welcome(name: &str) -> Template {
    Template::Welcome {
        organization_name: name.into(),
        contact_name: Some("李经理".into()),
    }
}

/// A job counting its runs.
fn counting(name: &str, schedule: Schedule) -> (Job, Arc<AtomicU64>) {
    let n = Arc::new(AtomicU64::new(0));
    let c = n.clone();
    let job = Job::new(name, schedule, move |_, _| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(1)
        }
    });
    (job, n)
}

/// Registers an enterprise and verifies it as admin; returns its id.
async fn registered_and_verified(app: &TestApp, admin: &str) -> String {
    let res = anonymous(
        app,
        Method::POST,
        "/enterprises/register",
        Some(&registration()),
    )
    .await
    .expect(201);
    let org = res.body["organization"]["id"]
        .as_str()
        .expect("org id")
        .to_string();
    app.post(&format!("/organizations/{org}/verify"), admin, json!({}))
        .await
        .expect(200);
    org
}

#[tokio::test]
async fn verifying_an_enterprise_mails_its_contact_once_over_smtp() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let org = registered_and_verified(&app, &admin).await;
    // Verifying again changes nothing and queues nothing.
    app.post(&format!("/organizations/{org}/verify"), &admin, json!({}))
        .await
        .expect(200);
    let queued = outbox(&app).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].status, MailStatus::Pending);
    assert!(
        app.mail.messages().is_empty(),
        "nothing is sent inside a request"
    );

    let pending = app.get("/outbox?status=pending", &admin).await.expect(200);
    assert_eq!(pending.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(pending.body["items"][0]["recipient"], "zhangsan@example.cn");
    assert_eq!(
        pending.body["items"][0]["subject"],
        "【链通】常州新材料有限公司，您的企业认证已通过"
    );
    assert_eq!(pending.body["next_cursor"], json!(null));

    assert_eq!(dispatch_now(&app).await, 1);
    let got = app.mail.messages();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.rcpt_to, vec!["zhangsan@example.cn".to_string()]);
    assert_eq!(m.mail_from, "noreply@liantong.local");
    assert_eq!(
        m.subject(),
        "【链通】常州新材料有限公司，您的企业认证已通过"
    );
    assert_eq!(m.message_id(), queued[0].message_id);
    assert!(m.data.contains("张三，您好："), "{}", m.data);
    assert!(
        m.data
            .contains("贵单位“常州新材料有限公司”已通过链通产业链服务平台的企业认证"),
        "{}",
        m.data
    );
    assert!(
        m.data.contains("text/plain") && m.data.contains("text/html"),
        "{}",
        m.data
    );

    let sent = app.get("/outbox?status=sent", &admin).await.expect(200);
    assert_eq!(sent.body["items"][0]["attempts"], 1);
    assert!(sent.body["items"][0]["sent_at"].is_string());
    assert_eq!(dispatch_now(&app).await, 0, "a sent mail is not sent again");
    assert_eq!(app.mail.messages().len(), 1);
}

#[tokio::test]
async fn smtp_down_then_up_keeps_mails_pending_backs_off_and_delivers_each_once() {
    let app = spawn_app().await;
    let t0 = app.clock.now();
    for i in 0..3 {
        jobs::mail::enqueue(
            &app.db,
            t0,
            &format!("c{i}@example.cn"),
            &welcome(&format!("企业{i}")),
        )
        .await
        .expect("enqueue");
    }
    let ids: Vec<String> = outbox(&app)
        .await
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    app.mail.down();

    // First attempt: refused; base 30 s, so the retry comes 15–30 s later.
    assert_eq!(dispatch_now(&app).await, 0);
    let rows = outbox(&app).await;
    for r in &rows {
        assert_eq!(r.status, MailStatus::Pending);
        assert_eq!(r.attempts, 1);
        assert!(
            r.last_error.as_deref().is_some_and(|e| e.contains("smtp")),
            "{:?}",
            r.last_error
        );
        let wait = r.next_attempt_at - t0;
        assert!(
            wait >= TimeDelta::seconds(15) && wait <= TimeDelta::seconds(30),
            "{wait}"
        );
    }
    let refused = app.mail.refused();
    assert!(refused >= 3);
    // Not due yet: nothing is tried.
    app.clock.advance(TimeDelta::seconds(14));
    assert_eq!(dispatch_now(&app).await, 0);
    assert_eq!(app.mail.refused(), refused);

    // Second attempt, still down: the delay doubles (30–60 s).
    app.clock.advance(TimeDelta::seconds(17));
    let t1 = app.clock.now();
    assert_eq!(dispatch_now(&app).await, 0);
    for r in outbox(&app).await {
        assert_eq!(r.attempts, 2);
        let wait = r.next_attempt_at - t1;
        assert!(
            wait >= TimeDelta::seconds(30) && wait <= TimeDelta::seconds(60),
            "{wait}"
        );
    }

    app.mail.up();
    app.clock.advance(TimeDelta::seconds(61));
    assert_eq!(dispatch_now(&app).await, 3);
    let got = app.mail.messages();
    assert_eq!(got.len(), 3, "every mail arrives, once");
    let mut got_ids: Vec<String> = got.iter().map(|m| m.message_id()).collect();
    got_ids.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got_ids, want, "Message-IDs are the ones fixed at enqueue");
    for r in outbox(&app).await {
        assert_eq!(r.status, MailStatus::Sent);
        assert_eq!(r.attempts, 3);
    }
    app.clock.advance(TimeDelta::hours(1));
    assert_eq!(dispatch_now(&app).await, 0);
    assert_eq!(app.mail.messages().len(), 3);
}

#[tokio::test]
async fn a_claim_left_by_a_dead_dispatcher_is_sent_later_with_the_same_message_id() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let row = jobs::mail::enqueue(&app.db, now, "a@example.cn", &welcome("甲公司"))
        .await
        .expect("enqueue");
    // A dispatcher claims the mail and dies before sending.
    let claimed = dispatch::claim(&app.db, now, 10, TimeDelta::minutes(5))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        dispatch_now(&app).await,
        0,
        "a claimed mail is not taken twice"
    );
    app.clock.advance(TimeDelta::minutes(5));
    assert_eq!(dispatch_now(&app).await, 1);
    let got = app.mail.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id(), row.message_id);
}

#[tokio::test]
async fn a_mail_failing_every_attempt_is_failed_with_its_error_and_can_be_retried() {
    let app = spawn_app_with(|s| s.mail_max_attempts = 2).await;
    let admin = app.admin().await;
    let row = jobs::mail::enqueue(&app.db, app.clock.now(), "b@example.cn", &welcome("乙公司"))
        .await
        .expect("enqueue");
    app.mail.down();
    dispatch_now(&app).await;
    app.clock.advance(TimeDelta::minutes(1));
    dispatch_now(&app).await;
    let failed = app.get("/outbox?status=failed", &admin).await.expect(200);
    let items = failed.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{}", failed.text);
    assert_eq!(items[0]["id"], row.id.to_string());
    assert_eq!(items[0]["attempts"], 2);
    assert!(
        items[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("421") || e.contains("smtp")),
        "{}",
        failed.text
    );
    app.clock.advance(TimeDelta::hours(10));
    assert_eq!(
        dispatch_now(&app).await,
        0,
        "a failed mail is not retried by itself"
    );
    let admin = app.admin().await;

    let retried = app
        .post(&format!("/outbox/{}/retry", row.id), &admin, json!({}))
        .await
        .expect(200);
    assert_eq!(retried.body["status"], "pending");
    assert_eq!(retried.body["attempts"], 0);
    assert!(
        retried.body["last_error"].is_string(),
        "the last error stays visible"
    );
    app.mail.up();
    assert_eq!(dispatch_now(&app).await, 1);
    assert_eq!(app.mail.messages()[0].message_id(), row.message_id);

    let again = app
        .post(&format!("/outbox/{}/retry", row.id), &admin, json!({}))
        .await
        .expect_problem(409);
    assert_eq!(again.str("code"), "mail_not_failed");
    app.post(
        &format!("/outbox/{}/retry", uuid::Uuid::now_v7()),
        &admin,
        json!({}),
    )
    .await
    .expect_problem(404);
    app.get("/outbox?status=bogus", &admin)
        .await
        .expect_problem(400);
}

#[tokio::test]
async fn without_smtp_url_mail_is_written_as_readable_eml_files() {
    let app = spawn_app_with(|s| s.smtp_url = None).await;
    let admin = app.admin().await;
    registered_and_verified(&app, &admin).await;
    assert_eq!(dispatch_now(&app).await, 1);
    let dir = app.data_dir.join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("mail dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].path()).expect("utf-8 .eml");
    let row = &outbox(&app).await[0];
    assert!(
        text.contains(&format!("Message-ID: {}", row.message_id)),
        "{text}"
    );
    assert!(text.contains("To: zhangsan@example.cn"), "{text}");
    assert!(text.contains("贵单位“常州新材料有限公司”已通过"), "{text}");
    assert_eq!(row.status, MailStatus::Sent);
}

#[tokio::test]
async fn two_runners_on_one_database_run_every_slot_once() {
    let app = spawn_app().await;
    let (job, count) = counting("probe", Schedule::Every(TimeDelta::seconds(10)));
    let a = Runner::new(app.jobs.context().clone(), vec![job.clone()]).with_owner("runner-a");
    let b = Runner::new(app.jobs.context().clone(), vec![job]).with_owner("runner-b");
    for _ in 0..24 {
        let (ra, rb) = tokio::join!(a.tick(), b.tick());
        ra.expect("tick a");
        rb.expect("tick b");
        app.clock.advance(TimeDelta::seconds(5));
    }
    let rows = runs(&app).await;
    // 24 looks, 5 s apart, from a 10 s boundary: 12 slots.
    assert_eq!(rows.len(), 12);
    assert_eq!(count.load(Ordering::SeqCst), 12);
    let mut slots: Vec<DateTime<Utc>> = rows.iter().map(|r| r.slot).collect();
    slots.dedup();
    assert_eq!(slots.len(), 12);
    assert!(
        rows.iter()
            .all(|r| r.status == RunStatus::Succeeded && r.attempts == 1)
    );
    let lease = job_lease::Entity::find_by_id("probe".to_string())
        .one(&app.db)
        .await
        .expect("lease")
        .expect("row");
    assert_eq!(lease.owner, None, "released after each run");
}

#[tokio::test]
async fn slots_missed_while_down_run_once_not_one_per_slot() {
    let app = spawn_app().await;
    let (job, count) = counting("probe", Schedule::Every(TimeDelta::seconds(10)));
    let r = Runner::new(app.jobs.context().clone(), vec![job]);
    r.tick().await.expect("tick");
    app.clock.advance(TimeDelta::minutes(30));
    r.tick().await.expect("tick");
    r.tick().await.expect("tick");
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert_eq!(runs(&app).await.len(), 2);
}

#[tokio::test]
async fn a_lease_holder_that_stops_renewing_is_replaced_after_expiry() {
    let app = spawn_app().await;
    let started = Arc::new(tokio::sync::Notify::new());
    let s = started.clone();
    let hanging = Job::new(
        "probe",
        Schedule::Every(TimeDelta::hours(1)),
        move |_, _| {
            let s = s.clone();
            async move {
                s.notify_one();
                std::future::pending::<()>().await;
                Ok(0)
            }
        },
    );
    let a = Runner::new(app.jobs.context().clone(), vec![hanging]).with_owner("runner-a");
    let task = tokio::spawn(async move { a.tick().await });
    started.notified().await;
    // The process dies: no renewal, no release, the run row stays `running`.
    task.abort();
    let _ = task.await;

    let (job, count) = counting("probe", Schedule::Every(TimeDelta::hours(1)));
    let b = Runner::new(app.jobs.context().clone(), vec![job]).with_owner("runner-b");
    let out = b.tick().await.expect("tick");
    assert_eq!(out[0].1, Outcome::Busy, "the lease has not expired yet");
    assert_eq!(count.load(Ordering::SeqCst), 0);

    app.clock.advance(TimeDelta::seconds(61));
    let out = b.tick().await.expect("tick");
    let Outcome::Ran(run) = &out[0].1 else {
        panic!("expected a run: {out:?}")
    };
    assert_eq!(run.owner, "runner-b");
    assert_eq!(run.attempts, 2);
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(runs(&app).await.len(), 1, "the slot still has one row");
}

#[tokio::test]
async fn failing_and_panicking_steps_are_recorded_and_do_not_stop_other_jobs() {
    let app = spawn_app_with(|s| s.admin_email = Some("ops@example.cn".into())).await;
    let every = Schedule::Every(TimeDelta::seconds(10));
    let boom = Job::new("boom", every, |_, _| async move {
        if true {
            panic!("计算失败");
        }
        Ok(0)
    });
    let err = Job::new("err", every, |_, _| async move {
        Err(anyhow::anyhow!("数据库不可用"))
    });
    let (ok, count) = counting("ok", every);
    let r = Runner::new(app.jobs.context().clone(), vec![boom, err, ok]);
    for _ in 0..2 {
        let out = r.tick().await.expect("tick");
        for (name, o) in out {
            let Outcome::Ran(run) = o else {
                panic!("{name} did not run")
            };
            match name.as_str() {
                "boom" => {
                    assert_eq!(run.status, RunStatus::Failed);
                    assert_eq!(run.error.as_deref(), Some("panicked: 计算失败"));
                }
                "err" => {
                    assert_eq!(run.status, RunStatus::Failed);
                    assert_eq!(run.error.as_deref(), Some("数据库不可用"));
                }
                _ => assert_eq!(run.status, RunStatus::Succeeded),
            }
        }
        app.clock.advance(TimeDelta::seconds(10));
    }
    assert_eq!(count.load(Ordering::SeqCst), 2);
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 4, "one admin mail per failed run");
    assert!(
        mails
            .iter()
            .all(|m| m.recipient == "ops@example.cn" && m.template == "job_failed")
    );
    assert_eq!(dispatch_now(&app).await, 4);
    let got = app.mail.messages();
    let boom_mail = got
        .iter()
        .find(|m| m.subject() == "【链通】后台任务失败：boom")
        .expect("boom mail");
    assert!(
        boom_mail.data.contains("panicked: 计算失败"),
        "{}",
        boom_mail.data
    );
}

#[tokio::test]
async fn admins_list_jobs_and_run_one_now() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let list = app.get("/jobs", &admin).await.expect(200);
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    let dispatch_job = items
        .iter()
        .find(|j| j["name"] == "mail_dispatch")
        .expect("mail_dispatch listed");
    assert_eq!(dispatch_job["schedule"], "every 10s");
    assert_eq!(dispatch_job["last_status"], json!(null));
    assert_eq!(
        dispatch_job["next_run_at"], "2026-03-02T01:00:00Z",
        "the current slot has not run"
    );
    let prune = items
        .iter()
        .find(|j| j["name"] == "prune_job_runs")
        .expect("prune listed");
    assert_eq!(prune["schedule"], "daily 03:30 Asia/Shanghai");
    assert_eq!(list.body["next_cursor"], json!(null));

    jobs::mail::enqueue(&app.db, app.clock.now(), "c@example.cn", &welcome("丙公司"))
        .await
        .expect("enqueue");
    let run = app
        .post("/jobs/mail_dispatch/run", &admin, json!({}))
        .await
        .expect(200);
    assert_eq!(run.body["status"], "succeeded");
    assert_eq!(run.body["trigger"], "manual");
    assert_eq!(run.body["items"], 1);
    assert_eq!(app.mail.messages().len(), 1);

    let list = app.get("/jobs", &admin).await.expect(200);
    let dispatch_job = list.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|j| j["name"] == "mail_dispatch").cloned())
        .expect("listed");
    assert_eq!(dispatch_job["last_status"], "succeeded");
    assert!(
        dispatch_job["last_started_at"].is_string() && dispatch_job["last_finished_at"].is_string()
    );

    app.post("/jobs/no_such_job/run", &admin, json!({}))
        .await
        .expect_problem(404);
    let (_, enterprise) = app.org_with_user(&admin, "enterprise", "某企业").await;
    app.get("/jobs", &enterprise).await.expect_problem(403);
    app.post("/jobs/mail_dispatch/run", &enterprise, json!({}))
        .await
        .expect_problem(403);
    app.get("/outbox", &enterprise).await.expect_problem(403);
    app.post(
        &format!("/outbox/{}/retry", uuid::Uuid::now_v7()),
        &enterprise,
        json!({}),
    )
    .await
    .expect_problem(403);
    anonymous(&app, Method::GET, "/jobs", None)
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn the_outbox_list_pages_with_a_cursor() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for i in 0..5 {
        jobs::mail::enqueue(
            &app.db,
            app.clock.now(),
            &format!("p{i}@example.cn"),
            &welcome("丁公司"),
        )
        .await
        .expect("enqueue");
    }
    let first = app.get("/outbox?limit=3", &admin).await.expect(200);
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(3));
    let cursor = first.str("next_cursor");
    let second = app
        .get(&format!("/outbox?limit=3&cursor={cursor}"), &admin)
        .await
        .expect(200);
    assert_eq!(second.body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(second.body["items"][1]["recipient"], "p4@example.cn");
    assert_eq!(second.body["next_cursor"], json!(null));
}

#[tokio::test]
async fn a_cancelled_runner_finishes_its_step_and_releases_its_leases() {
    let app = spawn_app().await;
    let (job, count) = counting("probe", Schedule::Every(TimeDelta::seconds(10)));
    let r = Runner::new(app.jobs.context().clone(), vec![job]).with_owner("runner-x");
    let cancel = tokio_util::sync::CancellationToken::new();
    cancel.cancel();
    r.run(cancel).await;
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "the first look ran the due slot"
    );
    let leases = job_lease::Entity::find()
        .all(&app.db)
        .await
        .expect("leases");
    assert!(leases.iter().all(|l| l.owner.is_none()), "{leases:?}");
}

#[tokio::test]
async fn housekeeping_drops_expired_idempotency_keys_and_old_login_failures_only() {
    use chrono::TimeDelta;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.send(
        reqwest::Method::POST,
        "/organizations",
        Some(&admin),
        Some(&json!({"kind": "department", "name": "某局"})),
        &[("Idempotency-Key", "k-1")],
    )
    .await
    .expect(201);
    app.login_answer("nobody", "wrong-password-1")
        .await
        .expect_problem(401);
    let count = |db: &sea_orm::DatabaseConnection| {
        let db = db.clone();
        async move {
            (
                entity::idempotency_key::Entity::find()
                    .count(&db)
                    .await
                    .expect("count"),
                entity::login_attempt::Entity::find()
                    .count(&db)
                    .await
                    .expect("count"),
            )
        }
    };
    app.post("/jobs/prune_job_runs/run", &admin, json!({}))
        .await
        .expect(200);
    assert_eq!(count(&app.db).await, (1, 1), "fresh rows stay");

    app.advance(TimeDelta::hours(25));
    let admin = app.admin().await;
    app.post("/jobs/prune_job_runs/run", &admin, json!({}))
        .await
        .expect(200);
    assert_eq!(count(&app.db).await, (0, 0), "expired rows go");

    // Change-feed rows go after an hour, by the database's clock (which the mock clock does
    // not move): one written two hours ago goes, the ones just written stay.
    use sea_orm::{ConnectionTrait, Statement};
    let pair = app
        .login_answer("admin", tests::ADMIN_PASSWORD)
        .await
        .expect(200);
    app.post(
        "/auth/logout",
        &pair.str("access_token"),
        json!({"refresh_token": pair.str("refresh_token")}),
    )
    .await
    .expect(204);
    let feed = |sql: &str| Statement::from_string(app.db.get_database_backend(), sql.to_string());
    app.db
        .execute_raw(feed(
            "INSERT INTO change_feed (topic, key, at_ms) SELECT topic, key, at_ms - 7200000 \
             FROM change_feed WHERE topic = 'login'",
        ))
        .await
        .expect("an old row");
    let rows = |old: bool| {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM change_feed WHERE topic = 'login' AND at_ms {} (SELECT MAX(at_ms) - 3600000 FROM change_feed)",
            if old { "<" } else { ">=" }
        );
        let db = app.db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("count")
                .expect("a row");
            row.try_get_by_index::<i64>(0).expect("n")
        }
    };
    let fresh = rows(false).await;
    assert!(fresh > 0 && rows(true).await == fresh, "{fresh}");
    app.post("/jobs/prune_job_runs/run", &admin, json!({}))
        .await
        .expect(200);
    assert_eq!((rows(true).await, rows(false).await), (0, fresh));
}
