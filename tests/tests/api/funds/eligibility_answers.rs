//! The eligibility list keeps each enterprise's latest answer and sends it again while nothing
//! it was computed from changed (one statement reads all of that). Every input that changes
//! the answer shows on the next request: a qualification, an application and its withdrawal,
//! the date passing a qualification's end, a membership ended, a window closing as another opens (a program's
//! own changes: `the_eligibility_list_shows_every_change_of_a_program_at_once`); and one
//! enterprise's answer is never another's.

use super::{act, apply, chain, city, ent, id, office, program, qualify};
use serde_json::{Value, json};
use tests::{fixtures::City, shanghai as sh};

/// The item of program `p` in the enterprise's list, if listed.
async fn listed(c: &City, i: usize, p: &Value) -> Option<Value> {
    c.app
        .get("/fund-programs/eligible", ent(c, i))
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["id"] == p["id"])
        .cloned()
}

async fn item(c: &City, i: usize, p: &Value) -> Value {
    listed(c, i, p).await.expect("the program is listed")
}

#[tokio::test]
async fn every_input_of_an_answer_changes_the_next_answer() {
    let c = city().await;
    let rules = json!({"chain_ids": [chain(&c)], "qualifications_all": ["specialized_sme"]});
    let p = program(
        &c,
        json!({"name": "专精特新专项", "eligibility": rules,
               "closes_at": "2026-04-10T12:00:00+08:00"}),
    )
    .await;
    // Its second phase opens as it closes: the same number of programs and versions.
    let phase2 = program(
        &c,
        json!({"name": "专精特新专项（第二批）", "eligibility": rules,
               "opens_at": "2026-04-10T12:00:00+08:00"}),
    )
    .await;
    let org0 = c.enterprises[0].id.clone();

    let first = item(&c, 0, &p).await;
    assert_eq!(first["eligible"], false);
    assert_eq!(first["reasons"], json!(["无专精特新资格"]));
    assert_eq!(item(&c, 0, &p).await, first, "the same answer again");

    // A qualification: eligible at once.
    qualify(&c, &org0, "specialized_sme", "2026-03-31").await;
    let now = item(&c, 0, &p).await;
    assert_eq!(now["eligible"], true, "{now}");
    assert_eq!(now["application_id"], Value::Null);
    // Another enterprise of the chain reads its own verdict, not enterprise 0's answer.
    assert_eq!(item(&c, 1, &p).await["eligible"], false);

    // An application, then its withdrawal.
    let a = apply(&c, ent(&c, 0), &p, "1000.00").await.expect(201).body;
    assert_eq!(item(&c, 0, &p).await["application_id"], id(&a).as_str());
    act(&c, ent(&c, 0), &id(&a), "withdraw", json!({}))
        .await
        .expect(200);
    assert_eq!(item(&c, 0, &p).await["application_id"], Value::Null);

    // The date passes the qualification's last day: the same rows, another day.
    c.app.clock.set(sh(2026, 4, 1, 9, 0));
    let lapsed = item(&c, 0, &p).await;
    assert_eq!(lapsed["eligible"], false);
    assert_eq!(lapsed["reasons"], json!(["专精特新资格已于2026-03-31到期"]));
    qualify(&c, &org0, "specialized_sme", "2026-12-31").await;
    assert_eq!(item(&c, 0, &p).await["eligible"], true);

    // The membership ends: the chain rule fails, naming the chain.
    c.app
        .delete(&format!("/chains/{}/members/{org0}", chain(&c)), office(&c))
        .await
        .expect(204);
    let outside = item(&c, 0, &p).await;
    assert_eq!(outside["eligible"], false);
    assert_eq!(outside["reasons"], json!(["非电子信息产业链成员"]));

    // The window closes at noon as the second phase opens: on the same day, with the same rows.
    c.app.clock.set(sh(2026, 4, 10, 11, 59));
    assert!(listed(&c, 0, &p).await.is_some());
    assert!(listed(&c, 0, &phase2).await.is_none());
    c.app.clock.set(sh(2026, 4, 10, 12, 0));
    assert!(listed(&c, 0, &p).await.is_none());
    assert!(listed(&c, 0, &phase2).await.is_some());
}
