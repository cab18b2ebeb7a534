//! The SLA monitor: warnings, breaches and escalations fire once per clock, record supervisions
//! and timeline events, mail the right people (held to office hours), and stay single when two
//! monitors run at once.

use chrono::{DateTime, Utc};
use entity::{
    appeal_event,
    clock::Clock,
    enums::{ClockKind, SupervisionSource},
    mail_outbox, sla_clock, supervision,
};
use jobs::{
    mail::dispatch,
    sla_monitor::{self, PassReport},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::collections::HashSet;
use tests::TestApp;
use uuid::Uuid;

const DEPT_MAIL: &str = "gongxin@example.cn";
const CENTRE_MAIL: &str = "fuwu@example.cn";
const OFFICE_MAIL: &str = "lianzhang@example.cn";
const ENTERPRISE_MAIL: &str = "qiye@example.cn";

use tests::shanghai as sh;

/// A department, a service centre, an enterprise with a user and optionally a chain with its
/// office, each organization with its own contact address.
struct City {
    app: TestApp,
    admin: String,
    dept: Uuid,
    dept_token: String,
    ent_token: String,
    chain: Option<String>,
}

async fn city(with_chain: bool) -> City {
    let mut b = tests::fixtures::CityBuilder::new()
        // Tokens outlive the days the mock clock travels.
        .long_lived_tokens()
        .centre("市企业服务中心")
        .contact(CENTRE_MAIL)
        .without_user()
        .department("市工信局")
        .contact(DEPT_MAIL)
        .user_email(DEPT_MAIL)
        .enterprise("南通某电子公司")
        .contact(ENTERPRISE_MAIL)
        .route("energy", 0);
    if with_chain {
        // Appeals go only into chains the enterprise is an active member of.
        b = b
            .chain("EI", "电子信息产业链", "电子信息链长办", true)
            .contact(OFFICE_MAIL)
            .without_user();
    }
    let city = b.build().await;
    City {
        admin: city.admin,
        dept: city.departments[0].id.parse().expect("uuid"),
        dept_token: city.departments[0].token.clone(),
        ent_token: city.enterprises[0].token.clone(),
        chain: city.chain.map(|c| c.id),
        app: city.app,
    }
}

impl City {
    /// Submits an energy appeal (routed to the department at once); returns the answer body.
    async fn submit(&self, title: &str) -> Value {
        let mut body =
            json!({"title": title, "content": "新厂房需增容 2000kVA", "category": "energy"});
        if let Some(chain) = &self.chain {
            body["chain_id"] = json!(chain);
        }
        let a = self
            .app
            .post("/appeals", &self.ent_token, body)
            .await
            .expect(201)
            .body;
        assert_eq!(a["status"], "assigned", "{a}");
        a
    }

    /// Moves the mock clock to `t`.
    fn at(&self, t: DateTime<Utc>) {
        self.app.clock.set(t);
    }

    /// One monitor pass at the clock's time.
    async fn pass(&self) -> PassReport {
        let cal = self
            .app
            .jobs
            .context()
            .calendar
            .current(&self.app.db)
            .await
            .expect("calendar");
        sla_monitor::run_pass(&self.app.db, &cal, self.app.clock.now())
            .await
            .expect("monitor pass")
    }

    /// Sends what the outbox has due.
    async fn dispatch(&self) -> u64 {
        dispatch::run_once(self.app.jobs.context(), self.app.clock.now())
            .await
            .expect("dispatch step")
    }

    async fn outbox(&self, template: &str) -> Vec<mail_outbox::Model> {
        mail_outbox::Entity::find()
            .filter(mail_outbox::Column::Template.eq(template))
            .order_by_asc(mail_outbox::Column::Recipient)
            .all(&self.app.db)
            .await
            .expect("outbox")
    }

    async fn clock(&self, appeal: &Value, kind: ClockKind) -> sla_clock::Model {
        let id: Uuid = appeal["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("id");
        sla_clock::Entity::find()
            .filter(sla_clock::Column::AppealId.eq(id))
            .filter(sla_clock::Column::Kind.eq(kind))
            .one(&self.app.db)
            .await
            .expect("query")
            .expect("clock")
    }

    /// The reply clock of `appeal` as `GET /appeals/{id}` shows it, after checking that the list
    /// shows the appeal exactly the same: the monitor writes only clocks, and the list's cache
    /// of rendered items must notice.
    async fn listed_reply(&self, appeal: &Value) -> Value {
        let id = appeal["id"].as_str().expect("id");
        let admin = self.app.admin().await;
        let one = self
            .app
            .get(&format!("/appeals/{id}"), &admin)
            .await
            .expect(200)
            .body;
        let item = self.app.listed("/appeals?limit=200", &admin, id).await;
        assert_eq!(item, one, "the list item and GET /appeals/{id}");
        one["clocks"]
            .as_array()
            .expect("clocks")
            .iter()
            .find(|c| c["kind"] == "reply")
            .expect("reply clock")
            .clone()
    }

    async fn supervisions(&self) -> Vec<supervision::Model> {
        supervision::Entity::find()
            .order_by_asc(supervision::Column::Id)
            .all(&self.app.db)
            .await
            .expect("supervisions")
    }

    async fn events(&self, action: &str) -> Vec<appeal_event::Model> {
        appeal_event::Entity::find()
            .filter(appeal_event::Column::Action.eq(action))
            .order_by_asc(appeal_event::Column::Id)
            .all(&self.app.db)
            .await
            .expect("events")
    }
}

fn report(warnings: u64, breaches: u64, escalations: u64) -> PassReport {
    PassReport {
        warnings,
        breaches,
        escalations,
        failed: 0,
    }
}

/// Equal but for blanks (the harness's decoder does not keep those between encoded words).
fn same_text(a: &str, b: &str) -> bool {
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    squeeze(a) == squeeze(b)
}

fn recipients(rows: &[mail_outbox::Model]) -> Vec<&str> {
    rows.iter().map(|m| m.recipient.as_str()).collect()
}

#[tokio::test]
async fn warning_breach_and_escalation_fire_once_each_with_supervisions_and_mail() {
    let c = city(true).await;
    let a = c.submit("用电增容").await;
    let number = a["number"].as_str().expect("number").to_string();
    let reply = c.clock(&a, ClockKind::Reply).await;
    assert_eq!(reply.due_at, sh(2026, 3, 2, 17, 0));
    assert_eq!(reply.warn_at, sh(2026, 3, 2, 15, 0));
    assert!(c.listed_reply(&a).await["warned_at"].is_null());

    assert_eq!(c.pass().await, report(0, 0, 0));
    c.at(sh(2026, 3, 2, 14, 59));
    assert_eq!(c.pass().await, report(0, 0, 0));

    // Two working hours before the reply is due: one warning to the department.
    c.at(sh(2026, 3, 2, 15, 0));
    assert_eq!(c.pass().await, report(1, 0, 0));
    assert_eq!(c.pass().await, report(0, 0, 0));
    assert!(c.listed_reply(&a).await["warned_at"].is_string());
    let warnings = c.outbox("sla_warning").await;
    assert_eq!(recipients(&warnings), vec![DEPT_MAIL]);
    assert_eq!(
        warnings[0].subject,
        format!("【临期提醒】诉求 {number} 响应时限将至")
    );
    assert!(warnings[0].data.contains("2 小时"), "{}", warnings[0].data);
    assert!(warnings[0].data.contains("2026-03-02 17:00"));
    assert_eq!(
        warnings[0].next_attempt_at,
        c.app.clock.now(),
        "sent at once in office hours"
    );
    assert_eq!(c.dispatch().await, 2, "the assignment mail and the warning");
    let sent = c.app.mail.messages();
    let warning = sent
        .iter()
        .find(|m| m.subject().starts_with("【临期提醒】"))
        .expect("warning delivered");
    assert_eq!(warning.rcpt_to, vec![DEPT_MAIL.to_string()]);

    // Due: a level-1 supervision, a timeline line and mail to the department and the centre.
    c.at(sh(2026, 3, 2, 17, 0));
    assert_eq!(c.pass().await, report(0, 1, 0));
    assert_eq!(c.pass().await, report(0, 0, 0));
    let reply = c.clock(&a, ClockKind::Reply).await;
    assert_eq!(reply.breached_at, Some(sh(2026, 3, 2, 17, 0)));
    assert_eq!(reply.escalate_at, Some(sh(2026, 3, 3, 17, 0)));
    let listed = c.listed_reply(&a).await;
    assert!(listed["breached_at"].is_string() && listed["late"] == true);
    let sups = c.supervisions().await;
    assert_eq!(sups.len(), 1);
    assert_eq!(
        (
            sups[0].level,
            sups[0].source,
            sups[0].clock_id,
            sups[0].department_id
        ),
        (1, SupervisionSource::Breach, Some(reply.id), Some(c.dept))
    );
    assert_eq!(sups[0].note.as_deref(), Some("响应时限已超时"));
    let breach_events = c.events("breach").await;
    assert_eq!(breach_events.len(), 1);
    assert_eq!(breach_events[0].actor_id, None);
    assert_eq!(breach_events[0].department_id, Some(c.dept));
    assert_eq!(
        breach_events[0].to_status,
        entity::enums::AppealStatus::Assigned.code()
    );
    assert!(
        breach_events[0]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("响应")
    );
    let breaches = c.outbox("sla_breach").await;
    assert_eq!(recipients(&breaches), vec![CENTRE_MAIL, DEPT_MAIL]);
    for m in &breaches {
        assert_eq!(m.subject, format!("【超时督办】诉求 {number} 响应超时"));
        assert_eq!(
            m.next_attempt_at,
            sh(2026, 3, 3, 9, 0),
            "17:00 is closing time"
        );
    }
    // The timeline shows the breach too.
    let id = a["id"].as_str().expect("id");
    let timeline = c
        .app
        .get(&format!("/appeals/{id}/events"), &c.app.admin().await)
        .await
        .expect(200)
        .body;
    let text = timeline.to_string();
    assert!(text.contains("\"breach\""), "{text}");

    c.at(sh(2026, 3, 3, 9, 0));
    assert_eq!(c.dispatch().await, 2);
    let sent = c.app.mail.messages();
    let mut breach_rcpts: Vec<String> = sent
        .iter()
        .filter(|m| same_text(&m.subject(), &format!("【超时督办】诉求 {number} 响应超时")))
        .flat_map(|m| m.rcpt_to.clone())
        .collect();
    breach_rcpts.sort();
    assert_eq!(breach_rcpts, vec![CENTRE_MAIL, DEPT_MAIL]);

    // Still unmet one working day later: level 2, to the chain's office.
    c.at(sh(2026, 3, 3, 16, 59));
    assert_eq!(c.pass().await, report(0, 0, 0));
    c.at(sh(2026, 3, 3, 17, 0));
    assert_eq!(c.pass().await, report(0, 0, 1));
    assert_eq!(c.pass().await, report(0, 0, 0));
    assert!(c.listed_reply(&a).await["escalated_at"].is_string());
    let sups = c.supervisions().await;
    assert_eq!(sups.len(), 2);
    assert_eq!(
        (sups[1].level, sups[1].source, sups[1].clock_id),
        (2, SupervisionSource::Escalation, Some(reply.id))
    );
    assert_eq!(c.events("escalation").await.len(), 1);
    let escalations = c.outbox("sla_escalation").await;
    assert_eq!(recipients(&escalations), vec![OFFICE_MAIL]);
    assert_eq!(
        escalations[0].subject,
        format!("【升级督办】诉求 {number} 响应超时未办")
    );
    c.at(sh(2026, 3, 4, 9, 0));
    assert_eq!(c.dispatch().await, 1);
    let sent = c.app.mail.messages();
    let esc = sent
        .iter()
        .find(|m| m.subject().starts_with("【升级督办】"))
        .expect("escalation delivered");
    assert_eq!(esc.rcpt_to, vec![OFFICE_MAIL.to_string()]);

    // Long after: the opinion and close clocks breach and escalate in one pass (their warnings
    // are overdue and go silently), and nothing fires twice.
    c.at(sh(2026, 3, 16, 10, 0));
    assert_eq!(c.pass().await, report(0, 2, 2));
    assert_eq!(c.pass().await, report(0, 0, 0));
    let sups = c.supervisions().await;
    assert_eq!(sups.len(), 6);
    let keys: HashSet<(Option<Uuid>, i32)> = sups.iter().map(|s| (s.clock_id, s.level)).collect();
    assert_eq!(keys.len(), 6);
    assert_eq!(c.outbox("sla_warning").await.len(), 1);
    let opinion = c.clock(&a, ClockKind::Opinion).await;
    assert!(opinion.warned_at.is_some() && opinion.escalated_at.is_some());
}

#[tokio::test]
async fn mail_from_a_night_pass_waits_for_the_next_working_opening() {
    let c = city(true).await;
    let a = c.submit("夜间超时").await;
    assert_eq!(c.dispatch().await, 1, "the assignment mail");

    // The monitor was down all evening; at 22:30 the reply clock is overdue.
    c.at(sh(2026, 3, 2, 22, 30));
    assert_eq!(c.pass().await, report(0, 1, 0));
    let reply = c.clock(&a, ClockKind::Reply).await;
    assert_eq!(
        reply.warned_at,
        Some(sh(2026, 3, 2, 22, 30)),
        "warned silently"
    );
    assert!(c.outbox("sla_warning").await.is_empty());
    let breaches = c.outbox("sla_breach").await;
    assert_eq!(breaches.len(), 2);
    for m in &breaches {
        assert_eq!(m.next_attempt_at, sh(2026, 3, 3, 9, 0));
        assert_eq!(m.created_at, sh(2026, 3, 2, 22, 30));
    }
    assert_eq!(c.dispatch().await, 0, "nothing at night");
    c.at(sh(2026, 3, 3, 8, 59));
    assert_eq!(c.dispatch().await, 0);
    c.at(sh(2026, 3, 3, 9, 0));
    assert_eq!(c.dispatch().await, 2);
    assert_eq!(
        c.app
            .mail
            .messages()
            .iter()
            .filter(|m| m.subject().starts_with("【超时督办】"))
            .count(),
        2
    );

    // Saturday: the reply escalates, the opinion breaches and escalates, the close clock
    // breaches; the mail waits for Monday.
    c.at(sh(2026, 3, 7, 11, 0));
    assert_eq!(c.pass().await, report(0, 2, 2));
    for m in c.outbox("sla_escalation").await {
        assert_eq!(m.next_attempt_at, sh(2026, 3, 9, 9, 0));
    }
}

#[tokio::test]
async fn met_and_paused_clocks_are_neither_warned_nor_breached() {
    let c = city(false).await;
    let a = c.submit("按时应答").await;
    let id = a["id"].as_str().expect("id");
    c.app
        .post(
            &format!("/appeals/{id}/reply"),
            &c.dept_token,
            json!({"message": "已收到，正在协调供电公司"}),
        )
        .await
        .expect(200);
    c.app
        .post(
            &format!("/appeals/{id}/request_info"),
            &c.dept_token,
            json!({"message": "请补充用电负荷测算"}),
        )
        .await
        .expect(200);

    // Met (reply) and paused (opinion, close): nothing is due, however late it gets.
    c.at(sh(2026, 3, 20, 10, 0));
    assert_eq!(c.pass().await, report(0, 0, 0));
    assert!(c.supervisions().await.is_empty());
    assert!(c.outbox("sla_breach").await.is_empty());
    let reply = c.clock(&a, ClockKind::Reply).await;
    assert_eq!((reply.warned_at, reply.breached_at), (None, None));
}

#[tokio::test]
async fn without_a_chain_the_escalation_goes_to_the_service_centre_and_the_job_runs_every_minute() {
    let c = city(false).await;
    let a = c.submit("无产业链").await;
    let number = a["number"].as_str().expect("number").to_string();

    let list = c.app.get("/jobs", &c.admin).await.expect(200);
    let job = list.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|j| j["name"] == "sla_monitor").cloned())
        .expect("sla_monitor listed");
    assert_eq!(job["schedule"], "every 1m");

    // Breach and escalation of the reply clock in one run of the job.
    c.at(sh(2026, 3, 3, 17, 0));
    let admin = c.app.admin().await;
    let run = c
        .app
        .post("/jobs/sla_monitor/run", &admin, json!({}))
        .await
        .expect(200);
    assert_eq!(run.body["status"], "succeeded", "{}", run.text);
    assert_eq!(run.body["items"], 2, "the reply's breach and escalation");
    let escalations = c.outbox("sla_escalation").await;
    assert_eq!(recipients(&escalations), vec![CENTRE_MAIL]);
    assert_eq!(
        escalations[0].subject,
        format!("【升级督办】诉求 {number} 响应超时未办")
    );
    let again = c
        .app
        .post("/jobs/sla_monitor/run", &admin, json!({}))
        .await
        .expect(200);
    assert_eq!(again.body["items"], 0);
}

#[tokio::test]
async fn two_monitors_at_once_record_every_event_once() {
    let c = city(true).await;
    let appeals = 6;
    for i in 0..appeals {
        c.submit(&format!("并发诉求 {i}")).await;
    }
    let cal = c
        .app
        .jobs
        .context()
        .calendar
        .current(&c.app.db)
        .await
        .expect("calendar");
    let mut total = PassReport::default();
    for t in [
        sh(2026, 3, 2, 15, 0),
        sh(2026, 3, 2, 17, 0),
        sh(2026, 3, 3, 17, 0),
        sh(2026, 3, 4, 15, 0),
        sh(2026, 3, 4, 17, 0),
        sh(2026, 3, 5, 17, 0),
        sh(2026, 3, 6, 15, 0),
        sh(2026, 3, 6, 17, 0),
        sh(2026, 3, 9, 17, 0),
    ] {
        c.at(t);
        for _ in 0..2 {
            let (x, y) = tokio::join!(
                sla_monitor::run_pass(&c.app.db, &cal, t),
                sla_monitor::run_pass(&c.app.db, &cal, t),
            );
            for r in [x.expect("monitor a"), y.expect("monitor b")] {
                assert_eq!(r.failed, 0);
                total.warnings += r.warnings;
                total.breaches += r.breaches;
                total.escalations += r.escalations;
            }
        }
    }
    let clocks = appeals * 3;
    assert_eq!(total, report(clocks, clocks, clocks));
    let sups = c.supervisions().await;
    assert_eq!(sups.len() as u64, 2 * clocks);
    let keys: HashSet<(Option<Uuid>, i32)> = sups.iter().map(|s| (s.clock_id, s.level)).collect();
    assert_eq!(keys.len() as u64, 2 * clocks, "no clock supervised twice");
    assert_eq!(c.events("breach").await.len() as u64, clocks);
    assert_eq!(c.events("escalation").await.len() as u64, clocks);
    assert_eq!(c.outbox("sla_warning").await.len() as u64, clocks);
    assert_eq!(c.outbox("sla_breach").await.len() as u64, 2 * clocks);
    assert_eq!(c.outbox("sla_escalation").await.len() as u64, clocks);
}

impl City {
    /// An action on `appeal` that must succeed.
    async fn act(&self, token: &str, appeal: &Value, action: &str, body: Value) -> Value {
        let id = appeal["id"].as_str().expect("id");
        self.app
            .post(&format!("/appeals/{id}/{action}"), token, body)
            .await
            .expect(200)
            .body
    }

    /// A service-centre user's token.
    async fn centre_token(&self) -> String {
        let centres = self
            .app
            .get("/organizations?kind=service_center", &self.admin)
            .await
            .expect(200)
            .body;
        let centre = centres["items"][0]["id"].as_str().expect("a centre");
        self.app
            .user_token(&self.admin, "service_center", Some(centre))
            .await
    }

    /// The number of escalations a pass at `t` records.
    async fn escalations_at(&self, t: DateTime<Utc>) -> u64 {
        self.at(t);
        self.pass().await.escalations
    }
}

#[tokio::test]
async fn a_breached_clock_paused_for_the_enterprise_escalates_one_working_day_after_its_new_due_time()
 {
    let c = city(false).await;
    // Mon 03-02 09:00: the reply clock is due Mon 17:00.
    let a = c.submit("暂停后的督办").await;
    c.at(sh(2026, 3, 2, 17, 0));
    assert_eq!(c.pass().await.breaches, 1);
    assert_eq!(
        c.clock(&a, ClockKind::Reply).await.escalate_at,
        Some(sh(2026, 3, 3, 17, 0))
    );
    // Tue 10:00 the department asks for material; the enterprise answers Fri 10:00, three
    // working days later. One unpaused working hour had passed since the due time.
    c.at(sh(2026, 3, 3, 10, 0));
    c.act(
        &c.dept_token,
        &a,
        "request_info",
        json!({"message": "请补充用电负荷表"}),
    )
    .await;
    assert_eq!(c.escalations_at(sh(2026, 3, 3, 17, 0)).await, 0, "paused");
    c.at(sh(2026, 3, 6, 10, 0));
    c.act(&c.ent_token, &a, "supplement", json!({"message": "已上传"}))
        .await;
    let reply = c.clock(&a, ClockKind::Reply).await;
    assert_eq!(reply.due_at, sh(2026, 3, 5, 17, 0));
    assert!(reply.breached_at.is_some(), "a breach stays a fact");
    assert_eq!(reply.escalate_at, Some(sh(2026, 3, 6, 17, 0)));
    // Seven more unpaused working hours are needed.
    assert_eq!(c.escalations_at(sh(2026, 3, 6, 10, 0)).await, 0);
    assert_eq!(c.escalations_at(sh(2026, 3, 6, 16, 59)).await, 0);
    assert_eq!(c.escalations_at(sh(2026, 3, 6, 17, 0)).await, 1);
}

#[tokio::test]
async fn an_approved_extension_moves_a_pending_escalation() {
    let c = city(false).await;
    let centre = c.centre_token().await;
    let a = c.submit("延期后的督办").await;
    // The opinion meets the reply and opinion clocks; the close clock is due Fri 03-06 17:00.
    c.at(sh(2026, 3, 2, 10, 0));
    c.act(&c.dept_token, &a, "opinion", json!({"message": "同意增容"}))
        .await;
    c.at(sh(2026, 3, 6, 17, 0));
    assert_eq!(c.pass().await.breaches, 1);
    assert_eq!(
        c.clock(&a, ClockKind::Close).await.escalate_at,
        Some(sh(2026, 3, 9, 17, 0))
    );
    // Mon 10:00 two more working days are granted: due Tue 03-10 17:00.
    c.at(sh(2026, 3, 9, 10, 0));
    c.act(
        &c.dept_token,
        &a,
        "extension",
        json!({"working_days": "2", "reason": "需供电公司施工"}),
    )
    .await;
    c.act(&centre, &a, "extension_decision", json!({"approve": true}))
        .await;
    let close = c.clock(&a, ClockKind::Close).await;
    assert_eq!(close.due_at, sh(2026, 3, 10, 17, 0));
    assert_eq!(close.escalate_at, Some(sh(2026, 3, 11, 17, 0)));
    assert_eq!(c.escalations_at(sh(2026, 3, 9, 17, 0)).await, 0);
    assert_eq!(c.escalations_at(sh(2026, 3, 11, 16, 59)).await, 0);
    assert_eq!(c.escalations_at(sh(2026, 3, 11, 17, 0)).await, 1);
}

#[tokio::test]
async fn a_holiday_declared_after_a_breach_moves_the_pending_escalation() {
    let c = city(false).await;
    let a = c.submit("节假日后的督办").await;
    c.at(sh(2026, 3, 2, 17, 0));
    assert_eq!(c.pass().await.breaches, 1);
    // Mon 18:00 Tuesday is declared a holiday: the reply clock escalates Wed 17:00.
    c.at(sh(2026, 3, 2, 18, 0));
    c.app
        .put(
            "/calendar/days/2026-03-03",
            &c.admin,
            json!({"kind": "holiday", "name": "临时调整"}),
        )
        .await
        .expect(200);
    let reply = c.clock(&a, ClockKind::Reply).await;
    assert_eq!(reply.due_at, sh(2026, 3, 2, 17, 0));
    assert_eq!(reply.escalate_at, Some(sh(2026, 3, 4, 17, 0)));
    assert_eq!(c.escalations_at(sh(2026, 3, 3, 17, 0)).await, 0);
    assert_eq!(c.escalations_at(sh(2026, 3, 4, 16, 59)).await, 0);
    assert_eq!(c.escalations_at(sh(2026, 3, 4, 17, 0)).await, 1);
}

#[tokio::test]
async fn a_clock_keeps_the_warning_lead_it_started_with() {
    let c = city(false).await;
    // Mon 03-02 09:00 with the default lead of 2 working hours: the reply warning is Mon 15:00.
    let a = c.submit("预警提前量").await;
    assert_eq!(
        c.clock(&a, ClockKind::Reply).await.warn_at,
        sh(2026, 3, 2, 15, 0)
    );
    // The policy's lead changes to 4 hours; then a calendar change recomputes the clocks.
    c.app
        .put(
            "/sla-policies/energy",
            &c.admin,
            json!({"reply_working_days": "1", "opinion_working_days": "3",
                   "close_working_days": "5", "warn_before_working_hours": "4"}),
        )
        .await
        .expect(200);
    c.app
        .put(
            "/calendar/days/2026-03-03",
            &c.admin,
            json!({"kind": "holiday", "name": "临时调整"}),
        )
        .await
        .expect(200);
    let opinion = c.clock(&a, ClockKind::Opinion).await;
    // Opinion: due Thu 03-05 17:00 after the holiday, warned 2 hours before, not 4.
    assert_eq!(opinion.due_at, sh(2026, 3, 5, 17, 0));
    assert_eq!(opinion.warn_at, sh(2026, 3, 5, 15, 0));
    assert_eq!(opinion.warn_before_working_hours, "2");
    // A new appeal takes the new lead.
    let b = c.submit("新的提前量").await;
    assert_eq!(
        c.clock(&b, ClockKind::Reply)
            .await
            .warn_before_working_hours,
        "4"
    );
}

#[tokio::test]
async fn a_transfer_between_the_monitors_read_and_its_claim_tells_the_new_holder() {
    const OTHER_MAIL: &str = "fagai@example.cn";
    let city = tests::fixtures::CityBuilder::new()
        .long_lived_tokens()
        .centre("市企业服务中心")
        .contact(CENTRE_MAIL)
        .without_user()
        .department("市工信局")
        .contact(DEPT_MAIL)
        .department("市发改委")
        .contact(OTHER_MAIL)
        .user_email(OTHER_MAIL)
        .enterprise("南通某电子公司")
        .contact(ENTERPRISE_MAIL)
        .route("energy", 0)
        .build()
        .await;
    // The department holding the appeal hands it on.
    let (app, holder) = (&city.app, city.departments[0].token.clone());
    let other: Uuid = city.departments[1].id.parse().expect("uuid");
    let a = app
        .post(
            "/appeals",
            &city.enterprises[0].token,
            json!({"title": "转办竞争", "content": "新厂房需增容", "category": "energy"}),
        )
        .await
        .expect(201)
        .body;
    let id = a["id"].as_str().expect("id").to_string();
    // The warning has gone to the first department; at the due time the monitor reads the
    // breach candidate, then the department transfers the appeal before the claim.
    app.clock.set(sh(2026, 3, 2, 15, 0));
    let cal = app
        .jobs
        .context()
        .calendar
        .current(&app.db)
        .await
        .expect("calendar");
    sla_monitor::run_pass(&app.db, &cal, app.clock.now())
        .await
        .expect("warning pass");
    app.clock.set(sh(2026, 3, 2, 17, 0));
    let transferred = std::sync::atomic::AtomicBool::new(false);
    let report = sla_monitor::run_pass_observed(&app.db, &cal, app.clock.now(), || {
        let (first, id, holder) = (
            !transferred.swap(true, std::sync::atomic::Ordering::SeqCst),
            id.clone(),
            holder.clone(),
        );
        async move {
            if first {
                app.post(
                    &format!("/appeals/{id}/transfer"),
                    &holder,
                    json!({"department_id": other, "reason": "职责调整"}),
                )
                .await
                .expect(200);
            }
        }
    })
    .await
    .expect("breach pass");
    assert!(transferred.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(report.breaches, 1);
    let breach = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Template.eq("sla_breach"))
        .order_by_asc(mail_outbox::Column::Recipient)
        .all(&app.db)
        .await
        .expect("outbox");
    assert_eq!(recipients(&breach), vec![OTHER_MAIL, CENTRE_MAIL]);
    assert!(breach[0].data.contains("市发改委"), "{}", breach[0].data);
    let sups = supervision::Entity::find()
        .all(&app.db)
        .await
        .expect("supervisions");
    assert_eq!(sups.len(), 1);
    assert_eq!(sups[0].department_id, Some(other));
    let line = appeal_event::Entity::find()
        .filter(appeal_event::Column::Action.eq("breach"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("breach line");
    assert_eq!(line.department_id, Some(other));
}

#[tokio::test]
async fn an_engine_row_must_carry_exactly_the_key_of_its_subject_type() {
    let c = city(false).await;
    let a = c.submit("约束").await;
    let clock = c.clock(&a, ClockKind::Reply).await;
    let mut am: sla_clock::ActiveModel = clock.into();
    am.appeal_id = sea_orm::ActiveValue::Set(None);
    let err = sea_orm::ActiveModelTrait::update(am, &c.app.db)
        .await
        .expect_err("a clock of an appeal without its appeal is refused");
    assert!(
        err.to_string().to_lowercase().contains("check"),
        "the CHECK refuses it: {err}"
    );
}

#[tokio::test]
async fn a_clock_behind_a_calendar_change_is_neither_breached_on_its_old_time_nor_left_behind() {
    use entity::{calendar_day, calendar_setting, enums::ExceptionKind};
    use sea_orm::{ActiveValue::Set, ExprTrait, sea_query::Expr};
    let c = city(false).await;
    // Mon 03-02 09:00: the reply clock is due Mon 17:00.
    let a = c.submit("日历变更中途").await;
    // A change commits (Monday declared a holiday) but its recompute never ran, as if the api
    // stopped right after the commit.
    calendar_day::Entity::insert(calendar_day::ActiveModel {
        date: Set(chrono::NaiveDate::from_ymd_opt(2026, 3, 2).expect("date")),
        kind: Set(ExceptionKind::Holiday),
        name: Set(Some("临时休假".into())),
        name_en: Set(None),
        updated_at: Set(c.app.clock.now()),
    })
    .exec_without_returning(&c.app.db)
    .await
    .expect("holiday");
    calendar_setting::Entity::update_many()
        .col_expr(
            calendar_setting::Column::Revision,
            Expr::col(calendar_setting::Column::Revision).add(1),
        )
        .exec(&c.app.db)
        .await
        .expect("revision");
    assert_eq!(
        c.clock(&a, ClockKind::Reply).await.due_at,
        sh(2026, 3, 2, 17, 0),
        "stale"
    );
    // At the old due time the monitor checks the clock against the calendar it loaded.
    c.at(sh(2026, 3, 2, 17, 0));
    assert_eq!(c.pass().await, report(0, 0, 0));
    // The job's step finishes the interrupted recompute first.
    sla_monitor::run_once(c.app.jobs.context(), c.app.clock.now())
        .await
        .expect("monitor step");
    assert_eq!(
        c.clock(&a, ClockKind::Reply).await.due_at,
        sh(2026, 3, 3, 17, 0)
    );
    let settings = calendar_setting::Entity::find_by_id(1)
        .one(&c.app.db)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(settings.clocks_revision, settings.revision);
}

#[tokio::test]
async fn warnings_breaches_and_escalations_notify_exactly_the_right_people() {
    let city = tests::fixtures::CityBuilder::new()
        .long_lived_tokens()
        .centre("市企业服务中心")
        .department("市工信局")
        .department("市发改委")
        .enterprise("南通某电子公司")
        .enterprise("无锡某材料公司")
        .route("energy", 0)
        .chain("EI", "电子信息产业链", "电子信息链长办", true)
        .build()
        .await;
    let app = &city.app;
    let chain = city.chain.as_ref().expect("chain");
    let a = app
        .post(
            "/appeals",
            &city.enterprises[0].token,
            json!({"title": "通知对象", "content": "新厂房需增容", "category": "energy",
                   "chain_id": chain.id}),
        )
        .await
        .expect(201)
        .body;
    let id = a["id"].as_str().expect("id").to_string();
    let pass = |t: DateTime<Utc>| async move {
        app.clock.set(t);
        let cal = app
            .jobs
            .context()
            .calendar
            .current(&app.db)
            .await
            .expect("calendar");
        sla_monitor::run_pass(&app.db, &cal, t).await.expect("pass")
    };
    // Which sla_* notifications about this appeal a user has.
    let sla_kinds = |token: String| {
        let id = id.clone();
        async move {
            let list = app
                .get("/notifications?limit=100", &token)
                .await
                .expect(200)
                .body;
            let mut kinds: Vec<String> = list["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter(|n| n["object_id"] == json!(id) && n["object_type"] == "appeal")
                .filter_map(|n| n["kind"].as_str())
                .filter(|k| k.starts_with("sla_"))
                .map(str::to_string)
                .collect();
            kinds.sort();
            kinds
        }
    };
    let centre = city.centre.as_ref().expect("centre").token.clone();
    let (holder, other) = (
        city.departments[0].token.clone(),
        city.departments[1].token.clone(),
    );
    let (office, ent, other_ent) = (
        chain.office.token.clone(),
        city.enterprises[0].token.clone(),
        city.enterprises[1].token.clone(),
    );
    assert_eq!(pass(sh(2026, 3, 2, 15, 0)).await.warnings, 1);
    assert_eq!(sla_kinds(holder.clone()).await, vec!["sla_warning"]);
    assert!(sla_kinds(centre.clone()).await.is_empty());
    assert_eq!(pass(sh(2026, 3, 2, 17, 0)).await.breaches, 1);
    assert_eq!(
        sla_kinds(holder.clone()).await,
        vec!["sla_breach", "sla_warning"]
    );
    assert_eq!(sla_kinds(centre.clone()).await, vec!["sla_breach"]);
    assert!(sla_kinds(office.clone()).await.is_empty());
    assert_eq!(pass(sh(2026, 3, 3, 17, 0)).await.escalations, 1);
    assert_eq!(sla_kinds(office.clone()).await, vec!["sla_escalation"]);
    assert_eq!(sla_kinds(centre.clone()).await, vec!["sla_breach"]);
    // Nobody else: not another department, not the enterprises.
    for token in [other, ent, other_ent] {
        assert!(sla_kinds(token).await.is_empty());
    }
    // The in-app title names the subject's type, as the mail's subject does.
    let list = app.get("/notifications", &office).await.expect(200).body;
    let title = list["items"][0]["title"].as_str().expect("title");
    assert!(title.starts_with("【升级督办】诉求 SQ"), "{title}");
}
