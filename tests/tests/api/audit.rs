use entity::audit_log;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use tests::*;

async fn actions_for(app: &TestApp, object_id: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::ObjectId.eq(object_id))
        .order_by_asc(audit_log::Column::At)
        .order_by_asc(audit_log::Column::Id)
        .all(&app.db)
        .await
        .expect("audit rows")
}

#[tokio::test]
async fn every_change_writes_one_audit_row_with_actor_and_summaries() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let me = app.get("/me", &admin).await.expect(200);
    let org = app.create_org(&admin, "enterprise", "审计测试企业").await;
    app.put(
        &format!("/organizations/{org}/qualifications/high_tech"),
        &admin,
        json!({"valid_from": "2025-01-01", "certificate_no": "GR202532000001", "issued_by": "江苏省科学技术厅"}),
    )
    .await
    .expect(200);
    let rows = actions_for(&app, &org).await;
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["organization.create", "qualification.put"]);
    assert_eq!(rows[0].actor_id.map(|u| u.to_string()), Some(me.id()));
    assert!(rows[0].before.is_none());
    assert!(
        rows[0]
            .after
            .as_deref()
            .unwrap_or_default()
            .contains("审计测试企业")
    );

    app.put(
        "/calendar/days/2026-03-09",
        &admin,
        json!({"kind": "holiday", "name": "测试假日"}),
    )
    .await
    .expect(200);
    app.delete("/calendar/days/2026-03-09", &admin)
        .await
        .expect(204);
    let day: Vec<String> = actions_for(&app, "2026-03-09")
        .await
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(day, ["calendar.day.put", "calendar.day.delete"]);
}

#[tokio::test]
async fn a_rejected_change_writes_no_audit_row() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = audit_log::Entity::find()
        .all(&app.db)
        .await
        .expect("rows")
        .len();
    app.post(
        "/organizations",
        &admin,
        json!({"kind": "enterprise", "name": "坏代码", "uscc": "91320600ABCDEFGH1X"}),
    )
    .await
    .expect_problem(422);
    let after = audit_log::Entity::find()
        .all(&app.db)
        .await
        .expect("rows")
        .len();
    assert_eq!(before, after);
}
