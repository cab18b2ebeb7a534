//! The SLA dashboard and the at-risk list, over a small data set computed by hand.
//!
//! The mock clock starts Monday 2026-03-02 09:00 in Shanghai; with the default policy (1/3/5
//! working days, warning 2 working hours before) an appeal submitted then is due for reply Mon
//! 17:00, opinion Wed 03-04 17:00 and close Fri 03-06 17:00.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tests::*;

/// A Shanghai wall-clock time, `"2026-03-02 10:00"` (UTC+8 all year).
fn sh(local: &str) -> DateTime<Utc> {
    DateTime::parse_from_str(&format!("{local} +0800"), "%Y-%m-%d %H:%M %z")
        .expect("local time")
        .with_timezone(&Utc)
}

/// The organizations, chains and tokens of a dashboard scenario.
struct World {
    app: TestApp,
    admin: String,
    center: String,
    enterprise: String,
    d1: String,
    d1_token: String,
    d2: String,
    d2_token: String,
    chain: String,
    office_token: String,
}

const D1_NAME: &str = "工信局";
/// A comma in the name: the CSV must quote it.
const D2_NAME: &str = "自然资源局（规划,用地）";
const CHAIN_CODE: &str = "NEV";

/// Two departments, a chain with its office, a service centre, a verified enterprise, and the
/// routing rules financing → D1, land → D2 (permits has none: it waits for the centre).
async fn world() -> World {
    let tests::fixtures::City {
        app,
        admin,
        centre,
        departments,
        enterprises,
        chain,
        ..
    } = tests::fixtures::CityBuilder::new()
        .long_lived_tokens()
        .department(D1_NAME)
        .department(D2_NAME)
        .centre("企业服务中心")
        .enterprise("常州新能源有限公司")
        // Appeals go only into chains the enterprise is an active member of.
        .chain(
            CHAIN_CODE,
            &format!("{CHAIN_CODE} 产业链"),
            &format!("{CHAIN_CODE} 链长办"),
            true,
        )
        .route("financing", 0)
        .route("land", 1)
        .build()
        .await;
    let [d1, d2] = <[_; 2]>::try_from(departments).expect("two departments");
    let chain = chain.expect("a chain");
    World {
        app,
        admin,
        center: centre.expect("a centre").token,
        enterprise: enterprises[0].token.clone(),
        d1: d1.id,
        d1_token: d1.token,
        d2: d2.id,
        d2_token: d2.token,
        chain: chain.id,
        office_token: chain.office.token,
    }
}

impl World {
    /// Submits an appeal at the clock's current time; returns its id.
    async fn submit(&self, title: &str, category: &str, chain: Option<&str>) -> String {
        let mut body = json!({"title": title, "content": "详见附件", "category": category});
        if let Some(c) = chain {
            body["chain_id"] = json!(c);
        }
        self.app
            .post("/appeals", &self.enterprise, body)
            .await
            .expect(201)
            .id()
    }

    /// Runs an action at `local` (Shanghai) time.
    async fn act(&self, local: &str, token: &str, id: &str, action: &str, body: Value) {
        self.app.clock.set(sh(local));
        self.app
            .post(&format!("/appeals/{id}/{action}"), token, body)
            .await
            .expect(200);
    }

    async fn dashboard(&self, token: &str, query: &str) -> Value {
        self.app
            .get(&format!("/dashboard/sla?{query}"), token)
            .await
            .expect(200)
            .body
    }
}

fn msg() -> Value {
    json!({"message": "已研究处理"})
}

/// Seven appeals worked through Mon 03-02 .. Wed 03-04, then the clock at Thu 03-05 10:00:
///
/// | appeal | category  | chain | department | what happened                                   |
/// |--------|-----------|-------|------------|-------------------------------------------------|
/// | A1     | financing | NEV   | D1         | reply Mon 10:00, opinion Tue 10:00 (on time)     |
/// | A2     | financing | –     | D1         | reply Tue 10:00 (late), opinion overdue          |
/// | A3     | land      | NEV   | D2         | resolved Tue 10:00 (reply late), rated 5         |
/// | A4     | permits   | –     | –          | never routed: reply and opinion overdue          |
/// | A5     | land      | –     | D2         | withdrawn Mon 10:00: clocks cancelled, not counted |
/// | A6     | permits   | NEV   | D2         | D2 returns, D1 transfers to D2, reply Mon 14:00  |
/// | A7     | financing | –     | D1         | submitted Wed 11:00: reply due Thu 11:00, at risk |
async fn scenario() -> World {
    let w = world().await;
    let chain = w.chain.clone();
    let a1 = w.submit("A1 融资贴息", "financing", Some(&chain)).await;
    let a2 = w.submit("A2 贷款展期", "financing", None).await;
    let a3 = w.submit("A3 用地指标", "land", Some(&chain)).await;
    let _a4 = w.submit("A4 施工许可", "permits", None).await;
    let a5 = w.submit("A5 用地调整", "land", None).await;
    let a6 = w.submit("A6 环评审批", "permits", Some(&chain)).await;

    let (d1, d2) = (w.d1_token.clone(), w.d2_token.clone());
    w.act("2026-03-02 10:00", &d1, &a1, "reply", msg()).await;
    w.act(
        "2026-03-02 10:00",
        &w.enterprise,
        &a5,
        "withdraw",
        json!({}),
    )
    .await;
    w.act(
        "2026-03-02 10:00",
        &w.center,
        &a6,
        "assign",
        json!({"department_id": w.d2}),
    )
    .await;
    w.act(
        "2026-03-02 11:00",
        &d2,
        &a6,
        "return",
        json!({"reason": "不属本局职责"}),
    )
    .await;
    w.act(
        "2026-03-02 12:00",
        &w.center,
        &a6,
        "assign",
        json!({"department_id": w.d1}),
    )
    .await;
    w.act(
        "2026-03-02 13:00",
        &d1,
        &a6,
        "transfer",
        json!({"department_id": w.d2, "reason": "环评由资规局牵头"}),
    )
    .await;
    w.act("2026-03-02 14:00", &d2, &a6, "reply", msg()).await;
    w.act("2026-03-03 10:00", &d1, &a2, "reply", msg()).await;
    w.act("2026-03-03 10:00", &d1, &a1, "opinion", msg()).await;
    w.act("2026-03-03 10:00", &d2, &a3, "resolve", msg()).await;
    w.act(
        "2026-03-03 11:00",
        &w.enterprise,
        &a3,
        "rate",
        json!({"score": 5}),
    )
    .await;
    w.app.clock.set(sh("2026-03-04 11:00"));
    w.submit("A7 技改补贴", "financing", None).await;
    w.app.clock.set(sh("2026-03-05 10:00"));
    w
}

/// A row as the API writes it, from the hand-computed figures.
#[allow(clippy::too_many_arguments)]
fn row(
    key: Option<&str>,
    name: &str,
    total: i64,
    open: i64,
    clocks: [i64; 6],
    on_time_rate: &str,
    breached_open: i64,
    at_risk: i64,
    averages: (Option<&str>, Option<&str>),
    returns: i64,
    transfers: i64,
) -> Value {
    json!({
        "key": key, "name": name, "total": total, "open": open,
        "reply_on_time": clocks[0], "reply_late": clocks[1],
        "opinion_on_time": clocks[2], "opinion_late": clocks[3],
        "close_on_time": clocks[4], "close_late": clocks[5],
        "on_time_rate": on_time_rate, "breached_open": breached_open, "at_risk": at_risk,
        "avg_close_working_hours": averages.0, "satisfaction_avg": averages.1,
        "returns": returns, "transfers": transfers,
    })
}

fn rows(body: &Value) -> Vec<Value> {
    body["rows"].as_array().expect("rows").clone()
}

const MARCH: &str = "from=2026-03-01&to=2026-03-31";

#[tokio::test]
async fn department_rows_count_clocks_on_time_late_and_open_breaches() {
    let w = scenario().await;
    let body = w
        .dashboard(&w.admin, &format!("{MARCH}&group_by=department"))
        .await;
    assert_eq!(body["from"], "2026-03-01");
    assert_eq!(body["to"], "2026-03-31");
    assert_eq!(body["group_by"], "department");
    // D1: A1, A2, A7 (A6 moved on to D2); D2: A3, A5, A6; no department: A4. By name.
    let expected = vec![
        row(
            Some(&w.d1),
            D1_NAME,
            3,
            3,
            [1, 1, 1, 1, 0, 0],
            "0.5000",
            1,
            1,
            (None, None),
            0,
            1,
        ),
        row(
            None,
            "未分派",
            1,
            1,
            [0, 1, 0, 1, 0, 0],
            "0.0000",
            1,
            0,
            (None, None),
            0,
            0,
        ),
        row(
            Some(&w.d2),
            D2_NAME,
            3,
            1,
            [1, 1, 1, 1, 1, 0],
            "0.6000",
            1,
            0,
            (Some("9.00"), Some("5.00")),
            1,
            0,
        ),
    ];
    assert_eq!(rows(&body), expected);
}

#[tokio::test]
async fn category_rows_use_codes_and_chinese_labels() {
    let w = scenario().await;
    let body = w
        .dashboard(&w.center, &format!("{MARCH}&group_by=category"))
        .await;
    let expected = vec![
        row(
            Some("permits"),
            "审批许可",
            2,
            2,
            [1, 1, 0, 2, 0, 0],
            "0.2500",
            2,
            0,
            (None, None),
            1,
            1,
        ),
        row(
            Some("land"),
            "用地",
            2,
            0,
            [0, 1, 1, 0, 1, 0],
            "0.6667",
            0,
            0,
            (Some("9.00"), Some("5.00")),
            0,
            0,
        ),
        row(
            Some("financing"),
            "融资",
            3,
            3,
            [1, 1, 1, 1, 0, 0],
            "0.5000",
            1,
            1,
            (None, None),
            0,
            0,
        ),
    ];
    assert_eq!(rows(&body), expected);
}

#[tokio::test]
async fn chain_rows_put_appeals_outside_chains_under_no_chain() {
    let w = scenario().await;
    let body = w
        .dashboard(&w.admin, &format!("{MARCH}&group_by=chain"))
        .await;
    let expected = vec![
        row(
            Some(&w.chain),
            &format!("{CHAIN_CODE} 产业链"),
            3,
            2,
            [2, 1, 2, 1, 1, 0],
            "0.7143",
            1,
            0,
            (Some("9.00"), Some("5.00")),
            1,
            1,
        ),
        row(
            None,
            "无产业链",
            4,
            3,
            [0, 2, 0, 2, 0, 0],
            "0.0000",
            2,
            1,
            (None, None),
            0,
            0,
        ),
    ];
    assert_eq!(rows(&body), expected);
}

#[tokio::test]
async fn default_period_is_the_last_thirty_days_grouped_by_department() {
    let w = scenario().await;
    let body = w.dashboard(&w.admin, "").await;
    assert_eq!(body["from"], "2026-02-04");
    assert_eq!(body["to"], "2026-03-05");
    assert_eq!(body["group_by"], "department");
    let same = w
        .dashboard(
            &w.admin,
            "from=2026-02-04&to=2026-03-05&group_by=department",
        )
        .await;
    assert_eq!(body["rows"], same["rows"]);
    // A3's close clock, met on Tuesday, is due Friday: after the period, so not counted.
    let d2 = &rows(&body)[2];
    assert_eq!(d2["key"], json!(w.d2));
    assert_eq!(d2["close_on_time"], 0);
    assert_eq!(d2["on_time_rate"], "0.5000");
}

#[tokio::test]
async fn a_period_before_the_appeals_has_no_rows() {
    let w = scenario().await;
    let body = w.dashboard(&w.admin, "from=2026-02-01&to=2026-02-28").await;
    assert_eq!(body["rows"], json!([]));
}

#[tokio::test]
async fn long_paused_and_reopened_clocks_count_in_the_period_they_fall_due() {
    let w = world().await;
    let (d1, d2) = (w.d1_token.clone(), w.d2_token.clone());
    // A: resolved Tuesday, reopened Thu 03-12: a fresh close clock due Wed 03-18 17:00, met
    // on Monday 03-16.
    let a = w.submit("A 重办", "financing", None).await;
    // B: paused an hour after submission for four weeks: its reply clock, 7 working hours
    // short when paused, is now due Mon 03-30 17:00, and still unmet.
    let b = w.submit("B 补充材料", "land", None).await;
    w.act("2026-03-02 10:00", &d2, &b, "request_info", msg())
        .await;
    w.act("2026-03-03 10:00", &d1, &a, "resolve", msg()).await;
    w.act(
        "2026-03-12 09:00",
        &w.enterprise,
        &a,
        "reopen",
        json!({"reason": "问题未解决"}),
    )
    .await;
    w.act("2026-03-16 10:00", &d1, &a, "resolve", msg()).await;
    w.act(
        "2026-03-30 10:00",
        &w.enterprise,
        &b,
        "supplement",
        json!({"message": "已补充材料"}),
    )
    .await;
    w.app.clock.set(sh("2026-03-31 10:00"));

    let body = w.dashboard(&w.admin, "from=2026-03-18&to=2026-03-31").await;
    assert_eq!(
        rows(&body),
        vec![
            row(
                Some(&w.d1),
                D1_NAME,
                0,
                0,
                [0, 0, 0, 0, 1, 0],
                "1.0000",
                0,
                0,
                (None, None),
                0,
                0,
            ),
            row(
                Some(&w.d2),
                D2_NAME,
                0,
                0,
                [0, 1, 0, 0, 0, 0],
                "0.0000",
                0,
                0,
                (None, None),
                0,
                0,
            ),
        ]
    );
    // A department sees only its own long-running clocks.
    let own = w.dashboard(&d2, "from=2026-03-18&to=2026-03-31").await;
    assert_eq!(rows(&own), vec![rows(&body)[1].clone()]);
}

#[tokio::test]
async fn clocks_of_appeals_submitted_long_before_the_period_still_count() {
    let w = world().await;
    // Submitted Mon 03-02 09:00, paused at 10:00 for seven weeks: the reply clock, 7 working
    // hours short, is due Mon 04-20 17:00, more than a month after the submission.
    let c = w.submit("C 长期补充", "financing", None).await;
    w.act("2026-03-02 10:00", &w.d1_token, &c, "request_info", msg())
        .await;
    w.act(
        "2026-04-20 10:00",
        &w.enterprise,
        &c,
        "supplement",
        json!({"message": "已补充材料"}),
    )
    .await;
    w.app.clock.set(sh("2026-04-21 10:00"));
    let expected = vec![row(
        Some(&w.d1),
        D1_NAME,
        0,
        0,
        [0, 1, 0, 0, 0, 0],
        "0.0000",
        0,
        0,
        (None, None),
        0,
        0,
    )];
    for token in [&w.admin, &w.d1_token] {
        let body = w.dashboard(token, "from=2026-04-20&to=2026-04-20").await;
        assert_eq!(rows(&body), expected);
    }
    let other = w
        .dashboard(&w.d2_token, "from=2026-04-20&to=2026-04-20")
        .await;
    assert_eq!(other["rows"], json!([]));
    let office = w
        .dashboard(&w.office_token, "from=2026-04-20&to=2026-04-20")
        .await;
    assert_eq!(office["rows"], json!([]));
}

/// Splits one CSV line, honouring double quotes.
fn csv_fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut chars) =
        (vec![], String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[tokio::test]
async fn csv_has_the_json_field_names_and_the_same_figures() {
    let w = scenario().await;
    let query = format!("{MARCH}&group_by=department");
    let json_rows = rows(&w.dashboard(&w.admin, &query).await);
    let csv = w
        .app
        .get(&format!("/dashboard/sla.csv?{query}"), &w.admin)
        .await
        .expect(200);
    let ct = csv.headers["content-type"].to_str().unwrap_or_default();
    assert_eq!(ct, "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.text.lines().collect();
    let header = csv_fields(lines[0]);
    let names: Vec<&str> = json_rows[0]
        .as_object()
        .expect("row object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(header.len(), names.len());
    for n in &names {
        assert!(header.iter().any(|h| h == n), "{n} missing from the header");
    }
    assert_eq!(lines.len(), json_rows.len() + 1);
    assert!(
        lines.iter().any(|l| l.contains(&format!("\"{D2_NAME}\""))),
        "the name with a comma is quoted"
    );
    for (line, row) in lines[1..].iter().zip(&json_rows) {
        let fields = csv_fields(line);
        for (h, f) in header.iter().zip(&fields) {
            let expected = match &row[h] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            assert_eq!(f, &expected, "field {h}");
        }
    }
}

#[tokio::test]
async fn chain_office_sees_only_its_chains() {
    let w = scenario().await;
    let by_chain = w
        .dashboard(&w.office_token, &format!("{MARCH}&group_by=chain"))
        .await;
    let keys: Vec<Value> = rows(&by_chain).iter().map(|r| r["key"].clone()).collect();
    assert_eq!(keys, vec![json!(w.chain)]);
    assert_eq!(rows(&by_chain)[0]["total"], 3);

    // By department: only the chain's appeals (A1 at D1; A3 and A6 at D2).
    let by_dept = w
        .dashboard(&w.office_token, &format!("{MARCH}&group_by=department"))
        .await;
    let seen: Vec<(Value, Value, Value, Value)> = rows(&by_dept)
        .iter()
        .map(|r| {
            (
                r["key"].clone(),
                r["total"].clone(),
                r["returns"].clone(),
                r["transfers"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (json!(w.d1), json!(1), json!(0), json!(1)),
            (json!(w.d2), json!(2), json!(1), json!(0)),
        ]
    );
}

#[tokio::test]
async fn department_sees_only_its_own_row() {
    let w = scenario().await;
    let admin_rows = rows(
        &w.dashboard(&w.admin, &format!("{MARCH}&group_by=department"))
            .await,
    );
    let own = rows(
        &w.dashboard(&w.d1_token, &format!("{MARCH}&group_by=department"))
            .await,
    );
    assert_eq!(own, vec![admin_rows[0].clone()]);
    let own = rows(
        &w.dashboard(&w.d2_token, &format!("{MARCH}&group_by=department"))
            .await,
    );
    assert_eq!(own, vec![admin_rows[2].clone()]);
    // By chain, D1 counts only what it holds now: A1 in the chain, A2 and A7 outside.
    let by_chain = rows(
        &w.dashboard(&w.d1_token, &format!("{MARCH}&group_by=chain"))
            .await,
    );
    let totals: Vec<Value> = by_chain.iter().map(|r| r["total"].clone()).collect();
    assert_eq!(totals, vec![json!(1), json!(2)]);
}

#[tokio::test]
async fn enterprise_bank_and_fund_office_are_forbidden() {
    let w = world().await;
    let (_, bank) = w.app.org_with_user(&w.admin, "bank", "常州银行").await;
    let (_, fund) = w.app.org_with_user(&w.admin, "fund_office", "基金办").await;
    for token in [&w.enterprise, &bank, &fund] {
        for path in ["/dashboard/sla", "/dashboard/sla.csv", "/dashboard/at-risk"] {
            w.app.get(path, token).await.expect_problem(403);
        }
    }
    w.app
        .send(reqwest::Method::GET, "/dashboard/sla", None, None, &[])
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn bad_periods_and_parameters_are_problems() {
    let w = world().await;
    for (query, status) in [
        ("from=2026-03-10&to=2026-03-01", 422),
        ("from=2025-01-01&to=2026-01-02", 422),
        ("group_by=enterprise", 400),
        ("from=2026-13-01", 400),
        ("to=yesterday", 400),
    ] {
        let a = w
            .app
            .get(&format!("/dashboard/sla?{query}"), &w.admin)
            .await
            .expect_problem(status);
        if status == 422 {
            assert!(a.body["errors"].is_array(), "{query}: {}", a.text);
        }
        w.app
            .get(&format!("/dashboard/sla.csv?{query}"), &w.admin)
            .await
            .expect_problem(status);
    }
    // Exactly 366 days is allowed.
    w.app
        .get("/dashboard/sla?from=2025-03-01&to=2026-03-01", &w.admin)
        .await
        .expect(200);
    for limit in ["0", "201"] {
        w.app
            .get(&format!("/dashboard/at-risk?limit={limit}"), &w.admin)
            .await
            .expect_problem(400);
    }
    w.app
        .get("/dashboard/at-risk?department_id=nope", &w.admin)
        .await
        .expect_problem(400);
}

/// `(number-free) title, clock kind, remaining minutes, breached` of each at-risk item.
fn at_risk_view(body: &Value) -> Vec<(String, String, i64, bool)> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["title"].as_str().unwrap_or_default().to_string(),
                i["clock_kind"].as_str().unwrap_or_default().to_string(),
                i["remaining_working_minutes"].as_i64().unwrap_or(i64::MIN),
                i["breached"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

fn item(title: &str, kind: &str, minutes: i64, breached: bool) -> (String, String, i64, bool) {
    (title.into(), kind.into(), minutes, breached)
}

#[tokio::test]
async fn at_risk_lists_nearest_due_first_with_working_minutes_left() {
    let w = world().await;
    let chain = w.chain.clone();
    let a = w.submit("A", "financing", None).await;
    w.app.clock.set(sh("2026-03-02 10:00"));
    let b = w.submit("B", "land", None).await;
    w.app.clock.set(sh("2026-03-02 11:00"));
    w.submit("C", "financing", Some(&chain)).await;
    let d = w.submit("D", "land", None).await;
    w.act("2026-03-02 11:30", &w.enterprise, &d, "withdraw", json!({}))
        .await;

    w.app.clock.set(sh("2026-03-02 16:00"));
    let list = w.app.get("/dashboard/at-risk", &w.admin).await.expect(200);
    assert!(list.body["next_cursor"].is_null());
    // A's reply is due Mon 17:00, B's Tue 10:00, C's Tue 11:00; the withdrawn D is gone.
    assert_eq!(
        at_risk_view(&list.body),
        vec![
            item("A", "reply", 60, false),
            item("B", "reply", 120, false),
            item("C", "reply", 180, false),
        ]
    );
    let first = &list.body["items"][0];
    assert_eq!(first["appeal_id"], json!(a));
    assert_eq!(first["department_id"], json!(w.d1));
    assert_eq!(first["category"], "financing");
    assert_eq!(first["status"], "assigned");
    assert_eq!(first["due_at"], "2026-03-02T09:00:00Z");
    assert!(first["number"].as_str().is_some_and(|n| !n.is_empty()));

    // Filters, the limit and the scopes.
    let only_d2 = w
        .app
        .get(
            &format!("/dashboard/at-risk?department_id={}", w.d2),
            &w.admin,
        )
        .await
        .expect(200);
    assert_eq!(only_d2.body["items"][0]["appeal_id"], json!(b));
    assert_eq!(only_d2.body["items"].as_array().map(Vec::len), Some(1));
    let one = w
        .app
        .get("/dashboard/at-risk?limit=1", &w.center)
        .await
        .expect(200);
    assert_eq!(at_risk_view(&one.body), vec![item("A", "reply", 60, false)]);
    let of_d1 = w
        .app
        .get("/dashboard/at-risk", &w.d1_token)
        .await
        .expect(200);
    let titles: Vec<String> = at_risk_view(&of_d1.body).into_iter().map(|i| i.0).collect();
    assert_eq!(titles, vec!["A", "C"]);
    let of_office = w
        .app
        .get("/dashboard/at-risk", &w.office_token)
        .await
        .expect(200);
    let titles: Vec<String> = at_risk_view(&of_office.body)
        .into_iter()
        .map(|i| i.0)
        .collect();
    assert_eq!(titles, vec!["C"]);
    let by_chain = w
        .app
        .get(&format!("/dashboard/at-risk?chain_id={chain}"), &w.admin)
        .await
        .expect(200);
    assert_eq!(at_risk_view(&by_chain.body).len(), 1);

    // Tuesday 09:30: A's reply is 30 working minutes overdue and stays first.
    w.app.clock.set(sh("2026-03-03 09:30"));
    let list = w.app.get("/dashboard/at-risk", &w.admin).await.expect(200);
    assert_eq!(
        at_risk_view(&list.body),
        vec![
            item("A", "reply", -30, true),
            item("B", "reply", 30, false),
            item("C", "reply", 90, false),
        ]
    );

    // Once A is answered its nearest unmet clock is the opinion, due Wed 17:00.
    w.act("2026-03-03 09:30", &w.d1_token, &a, "reply", msg())
        .await;
    let list = w.app.get("/dashboard/at-risk", &w.admin).await.expect(200);
    assert_eq!(
        at_risk_view(&list.body),
        vec![
            item("B", "reply", 30, false),
            item("C", "reply", 90, false),
            item("A", "opinion", 8 * 60 + 7 * 60 + 30, false),
        ]
    );
}

#[tokio::test]
async fn openapi_documents_the_dashboard() {
    let app = spawn_app().await;
    let doc = app
        .send(reqwest::Method::GET, "/openapi.json", None, None, &[])
        .await
        .expect(200);
    for path in [
        "/api/v1/dashboard/sla",
        "/api/v1/dashboard/sla.csv",
        "/api/v1/dashboard/at-risk",
    ] {
        assert!(doc.body["paths"][path]["get"].is_object(), "{path}");
    }
    for schema in ["SlaDashboard", "SlaRow", "AtRiskPage", "AtRiskItem"] {
        assert!(
            doc.body["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
}
