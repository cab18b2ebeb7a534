//! Chains, their members and their banks.

use crate::support::chain_with_office;
use entity::audit_log;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::*;

fn ids(list: &serde_json::Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| o[key].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn admin_creates_a_chain_and_lists_and_reads_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let office = app.create_org(&admin, "chain_office", "新能源链长办").await;
    let created = app
        .post(
            "/chains",
            &admin,
            json!({"code": "NEV-01", "name": "新能源汽车产业链", "description": "整车与零部件", "office_organization_id": office}),
        )
        .await
        .expect(201);
    assert_eq!(created.str("code"), "NEV-01");
    assert_eq!(created.str("office_organization_id"), office);
    assert_eq!(created.body["members"], json!([]));
    assert_eq!(created.body["banks"], json!([]));

    let list = app.get("/chains", &admin).await.expect(200);
    assert_eq!(ids(&list.body["items"], "id"), vec![created.id()]);
    assert!(list.body["next_cursor"].is_null());

    let one = app
        .get(&format!("/chains/{}", created.id()), &admin)
        .await
        .expect(200);
    assert_eq!(one.str("name"), "新能源汽车产业链");
    assert_eq!(one.str("description"), "整车与零部件");
    assert_eq!(one.body["members"], json!([]));
    assert_eq!(one.body["banks"], json!([]));
}

#[tokio::test]
async fn chain_list_pages_with_limit_and_cursor() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let office = app.create_org(&admin, "chain_office", "链长办").await;
    let mut made = vec![];
    for i in 0..3 {
        let body = json!({"code": format!("C{i}"), "name": format!("链{i}"), "office_organization_id": office});
        made.push(app.post("/chains", &admin, body).await.expect(201).id());
    }
    let first = app.get("/chains?limit=2", &admin).await.expect(200);
    assert_eq!(ids(&first.body["items"], "id"), made[..2].to_vec());
    let cursor = first.str("next_cursor");
    assert!(!cursor.is_empty());
    let second = app
        .get(&format!("/chains?limit=2&cursor={cursor}"), &admin)
        .await
        .expect(200);
    assert_eq!(ids(&second.body["items"], "id"), made[2..].to_vec());
    assert!(second.body["next_cursor"].is_null());
}

#[tokio::test]
async fn chain_with_a_duplicate_code_is_409_and_a_bad_office_is_422() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let office = app.create_org(&admin, "chain_office", "链长办").await;
    let dept = app.create_org(&admin, "department", "工信局").await;
    app.post(
        "/chains",
        &admin,
        json!({"code": "IC", "name": "集成电路", "office_organization_id": office}),
    )
    .await
    .expect(201);
    app.post(
        "/chains",
        &admin,
        json!({"code": "IC", "name": "另一个", "office_organization_id": office}),
    )
    .await
    .expect_problem(409);
    let res = app
        .post(
            "/chains",
            &admin,
            json!({"code": "X1", "name": "部门链", "office_organization_id": dept}),
        )
        .await
        .expect_problem(422);
    assert_eq!(res.body["errors"][0]["field"], "office_organization_id");
    app.post(
        "/chains",
        &admin,
        json!({"code": "bad code!", "name": "坏码", "office_organization_id": office}),
    )
    .await
    .expect_problem(422);
}

#[tokio::test]
async fn chain_read_includes_members_and_banks() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, _) = chain_with_office(&app, &admin, "NEV").await;
    let leader = app.create_org(&admin, "enterprise", "龙头企业").await;
    let supplier = app.create_org(&admin, "enterprise", "配套企业").await;
    let bank = app.create_org(&admin, "bank", "牵头银行").await;
    let res = app
        .put(
            &format!("/chains/{chain}/members/{leader}"),
            &admin,
            json!({"role": "chain_leader_enterprise"}),
        )
        .await
        .expect(200);
    assert_eq!(res.str("role"), "chain_leader_enterprise");
    assert_eq!(res.str("organization_name"), "龙头企业");
    app.put(
        &format!("/chains/{chain}/members/{supplier}"),
        &admin,
        json!({"role": "supporting"}),
    )
    .await
    .expect(200);
    let res = app
        .put(
            &format!("/chains/{chain}/banks/{bank}"),
            &admin,
            json!({"role": "lead"}),
        )
        .await
        .expect(200);
    assert_eq!(res.str("role"), "lead");

    let one = app
        .get(&format!("/chains/{chain}"), &admin)
        .await
        .expect(200);
    assert_eq!(
        ids(&one.body["members"], "organization_id"),
        vec![leader.clone(), supplier.clone()]
    );
    assert_eq!(one.body["members"][0]["role"], "chain_leader_enterprise");
    assert_eq!(one.body["members"][1]["role"], "supporting");
    assert_eq!(
        ids(&one.body["banks"], "organization_id"),
        vec![bank.clone()]
    );
    assert_eq!(one.body["banks"][0]["organization_name"], "牵头银行");

    // Changing a role keeps one membership.
    app.put(
        &format!("/chains/{chain}/members/{supplier}"),
        &admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    let one = app
        .get(&format!("/chains/{chain}"), &admin)
        .await
        .expect(200);
    assert_eq!(one.body["members"].as_array().unwrap().len(), 2);
    assert_eq!(one.body["members"][1]["role"], "core");
}

#[tokio::test]
async fn chain_office_manages_members_of_its_own_chain() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, office) = chain_with_office(&app, &admin, "NEV").await;
    let ent = app.create_org(&admin, "enterprise", "成员").await;
    let res = app
        .put(
            &format!("/chains/{chain}/members/{ent}"),
            &office,
            json!({"role": "core"}),
        )
        .await
        .expect(200);
    assert_eq!(res.str("status"), "invited");
    let one = app
        .get(&format!("/chains/{chain}"), &office)
        .await
        .expect(200);
    assert_eq!(
        ids(&one.body["members"], "organization_id"),
        vec![ent.clone()]
    );
    assert_eq!(one.body["members"][0]["status"], "invited");
    app.delete(&format!("/chains/{chain}/members/{ent}"), &office)
        .await
        .expect(204);
    let one = app
        .get(&format!("/chains/{chain}"), &office)
        .await
        .expect(200);
    assert_eq!(one.body["members"], json!([]));
    app.delete(&format!("/chains/{chain}/members/{ent}"), &office)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn admin_removes_a_member() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, _) = chain_with_office(&app, &admin, "NEV").await;
    let ent = app.create_org(&admin, "enterprise", "成员").await;
    app.put(
        &format!("/chains/{chain}/members/{ent}"),
        &admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    app.delete(&format!("/chains/{chain}/members/{ent}"), &admin)
        .await
        .expect(204);
    let one = app
        .get(&format!("/chains/{chain}"), &admin)
        .await
        .expect(200);
    assert_eq!(one.body["members"], json!([]));
}

#[tokio::test]
async fn another_chain_office_cannot_touch_the_members() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, _) = chain_with_office(&app, &admin, "NEV").await;
    let (_, _, other) = chain_with_office(&app, &admin, "IC").await;
    let ent = app.create_org(&admin, "enterprise", "成员").await;
    app.put(
        &format!("/chains/{chain}/members/{ent}"),
        &admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);

    let put = app
        .put(
            &format!("/chains/{chain}/members/{ent}"),
            &other,
            json!({"role": "supporting"}),
        )
        .await;
    let delete = app
        .delete(&format!("/chains/{chain}/members/{ent}"), &other)
        .await;
    for res in [put, delete] {
        let status = res.status.as_u16();
        assert!(matches!(status, 403 | 404), "{}", res.text);
        res.expect_problem(status);
    }
    // It does not even see the chain.
    app.get(&format!("/chains/{chain}"), &other)
        .await
        .expect_problem(404);
    let list = app.get("/chains", &other).await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    let one = app
        .get(&format!("/chains/{chain}"), &admin)
        .await
        .expect(200);
    assert_eq!(one.body["members"][0]["role"], "core");
}

#[tokio::test]
async fn other_roles_may_not_manage_members() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, _) = chain_with_office(&app, &admin, "NEV").await;
    let ent = app.create_org(&admin, "enterprise", "成员").await;
    app.put(
        &format!("/chains/{chain}/members/{ent}"),
        &admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    for kind in [
        "service_center",
        "department",
        "bank",
        "enterprise",
        "fund_office",
    ] {
        let (_, token) = app
            .org_with_user(&admin, kind, &format!("{kind} org"))
            .await;
        app.put(
            &format!("/chains/{chain}/members/{ent}"),
            &token,
            json!({"role": "supporting"}),
        )
        .await
        .expect_problem(403);
        app.delete(&format!("/chains/{chain}/members/{ent}"), &token)
            .await
            .expect_problem(403);
    }
}

#[tokio::test]
async fn member_must_be_an_enterprise_and_the_role_valid() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, _) = chain_with_office(&app, &admin, "NEV").await;
    let bank = app.create_org(&admin, "bank", "银行").await;
    let ent = app.create_org(&admin, "enterprise", "企业").await;
    app.put(
        &format!("/chains/{chain}/members/{bank}"),
        &admin,
        json!({"role": "core"}),
    )
    .await
    .expect_problem(422);
    app.put(
        &format!("/chains/{chain}/members/{ent}"),
        &admin,
        json!({"role": "boss"}),
    )
    .await
    .expect_problem(422);
    app.put(
        &format!("/chains/{}/members/{ent}", uuid::Uuid::now_v7()),
        &admin,
        json!({"role": "core"}),
    )
    .await
    .expect_problem(404);
}

#[tokio::test]
async fn second_lead_bank_is_409_until_the_first_is_removed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, _) = chain_with_office(&app, &admin, "NEV").await;
    let first = app.create_org(&admin, "bank", "甲银行").await;
    let second = app.create_org(&admin, "bank", "乙银行").await;
    app.put(
        &format!("/chains/{chain}/banks/{first}"),
        &admin,
        json!({"role": "lead"}),
    )
    .await
    .expect(200);
    // Setting the same lead again is fine.
    app.put(
        &format!("/chains/{chain}/banks/{first}"),
        &admin,
        json!({"role": "lead"}),
    )
    .await
    .expect(200);
    let res = app
        .put(
            &format!("/chains/{chain}/banks/{second}"),
            &admin,
            json!({"role": "lead"}),
        )
        .await
        .expect_problem(409);
    assert_eq!(res.str("code"), "lead_bank_exists");
    app.put(
        &format!("/chains/{chain}/banks/{second}"),
        &admin,
        json!({"role": "partner"}),
    )
    .await
    .expect(200);
    app.put(
        &format!("/chains/{chain}/banks/{second}"),
        &admin,
        json!({"role": "lead"}),
    )
    .await
    .expect_problem(409);

    app.delete(&format!("/chains/{chain}/banks/{first}"), &admin)
        .await
        .expect(204);
    app.put(
        &format!("/chains/{chain}/banks/{second}"),
        &admin,
        json!({"role": "lead"}),
    )
    .await
    .expect(200);
    let one = app
        .get(&format!("/chains/{chain}"), &admin)
        .await
        .expect(200);
    assert_eq!(ids(&one.body["banks"], "organization_id"), vec![second]);
    assert_eq!(one.body["banks"][0]["role"], "lead");
    app.delete(&format!("/chains/{chain}/banks/{first}"), &admin)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn lead_banks_of_different_chains_are_independent() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (a, _, _) = chain_with_office(&app, &admin, "A").await;
    let (b, _, _) = chain_with_office(&app, &admin, "B").await;
    let bank1 = app.create_org(&admin, "bank", "一行").await;
    let bank2 = app.create_org(&admin, "bank", "二行").await;
    app.put(
        &format!("/chains/{a}/banks/{bank1}"),
        &admin,
        json!({"role": "lead"}),
    )
    .await
    .expect(200);
    app.put(
        &format!("/chains/{b}/banks/{bank2}"),
        &admin,
        json!({"role": "lead"}),
    )
    .await
    .expect(200);
    app.put(
        &format!("/chains/{b}/banks/{bank1}"),
        &admin,
        json!({"role": "partner"}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn chain_bank_must_be_a_bank() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, _) = chain_with_office(&app, &admin, "NEV").await;
    let ent = app.create_org(&admin, "enterprise", "企业").await;
    app.put(
        &format!("/chains/{chain}/banks/{ent}"),
        &admin,
        json!({"role": "partner"}),
    )
    .await
    .expect_problem(422);
}

#[tokio::test]
async fn chain_office_may_not_set_banks() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, office) = chain_with_office(&app, &admin, "NEV").await;
    let bank = app.create_org(&admin, "bank", "银行").await;
    app.put(
        &format!("/chains/{chain}/banks/{bank}"),
        &office,
        json!({"role": "lead"}),
    )
    .await
    .expect_problem(403);
    app.put(
        &format!("/chains/{chain}/banks/{bank}"),
        &admin,
        json!({"role": "lead"}),
    )
    .await
    .expect(200);
    app.delete(&format!("/chains/{chain}/banks/{bank}"), &office)
        .await
        .expect_problem(403);
}

#[tokio::test]
async fn bank_of_a_chain_sees_its_member_enterprises() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (chain, _, _) = chain_with_office(&app, &admin, "NEV").await;
    let (bank, bank_token) = app.org_with_user(&admin, "bank", "银行").await;
    let member = app.create_org(&admin, "enterprise", "成员").await;
    let outsider = app.create_org(&admin, "enterprise", "外部").await;
    app.put(
        &format!("/chains/{chain}/members/{member}"),
        &admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    app.get(&format!("/organizations/{member}"), &bank_token)
        .await
        .expect_problem(404);
    app.put(
        &format!("/chains/{chain}/banks/{bank}"),
        &admin,
        json!({"role": "partner"}),
    )
    .await
    .expect(200);
    app.get(&format!("/organizations/{member}"), &bank_token)
        .await
        .expect(200);
    app.get(&format!("/organizations/{outsider}"), &bank_token)
        .await
        .expect_problem(404);
}

/// A chain with its office, and an enterprise with a user: the cast of the invitation tests.
struct Invitation {
    app: TestApp,
    admin: String,
    chain: String,
    office: String,
    ent: String,
    ent_token: String,
}

impl Invitation {
    async fn new() -> Self {
        let app = spawn_app().await;
        let admin = app.admin().await;
        let (chain, _, office) = chain_with_office(&app, &admin, "NEV").await;
        let (ent, ent_token) = app
            .org_with_user(&admin, "enterprise", "南通海工装备有限公司")
            .await;
        Self {
            app,
            admin,
            chain,
            office,
            ent,
            ent_token,
        }
    }

    fn member_path(&self) -> String {
        format!("/chains/{}/members/{}", self.chain, self.ent)
    }

    /// The chain office invites the enterprise.
    async fn invite(&self) -> Answer {
        self.app
            .put(&self.member_path(), &self.office, json!({"role": "core"}))
            .await
            .expect(200)
    }

    async fn answer(&self, token: &str, action: &str) -> Answer {
        self.app
            .post(
                &format!("{}/{action}", self.member_path()),
                token,
                json!({}),
            )
            .await
    }

    /// The chain's members as `token` sees them.
    async fn members(&self, token: &str) -> Vec<Value> {
        self.app
            .get(&format!("/chains/{}", self.chain), token)
            .await
            .expect(200)
            .body["members"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The audit actions recorded on the chain, oldest first.
    async fn audited(&self) -> Vec<String> {
        audit_log::Entity::find()
            .filter(audit_log::Column::ObjectType.eq("chain"))
            .filter(audit_log::Column::ObjectId.eq(self.chain.as_str()))
            .order_by_asc(audit_log::Column::At)
            .order_by_asc(audit_log::Column::Id)
            .all(&self.app.db)
            .await
            .expect("audit rows")
            .into_iter()
            .map(|r| r.action)
            .filter(|a| a.starts_with("chain.member."))
            .collect()
    }
}

fn qualification_body() -> Value {
    json!({"valid_from": "2026-01-01", "valid_until": "2028-12-31",
           "certificate_no": "GR202632000123", "issued_by": "江苏省科学技术厅"})
}

#[tokio::test]
async fn an_invited_enterprise_stays_hidden_from_the_office_until_it_accepts() {
    let t = Invitation::new().await;
    let app = &t.app;
    let invited = t.invite().await;
    assert_eq!(invited.str("status"), "invited");
    assert_eq!(invited.str("status_label"), "待企业确认");
    assert!(invited.body["accepted_at"].is_null());
    assert!(invited.body["invited_at"].is_string());

    // The office sees the public name and USCC in its member list, nothing more.
    let uscc = app
        .get(&format!("/organizations/{}", t.ent), &t.admin)
        .await
        .expect(200)
        .str("uscc");
    let members = t.members(&t.office).await;
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["status"], "invited");
    assert_eq!(members[0]["organization_name"], "南通海工装备有限公司");
    assert_eq!(members[0]["organization_uscc"], uscc.as_str());
    assert!(members[0].get("contact_email").is_none());
    app.get(&format!("/organizations/{}", t.ent), &t.office)
        .await
        .expect_problem(404);
    let listed = app
        .get("/organizations?kind=enterprise", &t.office)
        .await
        .expect(200);
    assert_eq!(listed.body["items"], json!([]));
    // Nor can it write or propose its qualifications.
    app.put(
        &format!("/organizations/{}/qualifications/high_tech", t.ent),
        &t.office,
        qualification_body(),
    )
    .await
    .expect_problem(403);
    app.post(
        &format!(
            "/organizations/{}/qualifications/high_tech/proposals",
            t.ent
        ),
        &t.office,
        qualification_body(),
    )
    .await
    .expect_problem(404);

    // The enterprise finds its invitation and accepts it.
    let waiting = app
        .get("/chains?membership=invited", &t.ent_token)
        .await
        .expect(200);
    assert_eq!(ids(&waiting.body["items"], "id"), vec![t.chain.clone()]);
    let accepted = t.answer(&t.ent_token, "accept").await.expect(200);
    assert_eq!(accepted.str("status"), "active");
    assert_eq!(accepted.str("organization_id"), t.ent);
    assert!(accepted.body["accepted_at"].is_string());
    let waiting = app
        .get("/chains?membership=invited", &t.ent_token)
        .await
        .expect(200);
    assert_eq!(waiting.body["items"], json!([]));

    // Now the office sees the enterprise, contacts included.
    let org = app
        .get(&format!("/organizations/{}", t.ent), &t.office)
        .await
        .expect(200);
    assert_eq!(org.str("contact_email"), "contact@example.cn");
    assert_eq!(t.members(&t.office).await[0]["status"], "active");
    app.post(
        &format!(
            "/organizations/{}/qualifications/high_tech/proposals",
            t.ent
        ),
        &t.office,
        qualification_body(),
    )
    .await
    .expect(201);
    // Accepting twice is a conflict.
    t.answer(&t.ent_token, "accept").await.expect_problem(409);
    assert_eq!(
        t.audited().await,
        ["chain.member.invite", "chain.member.accept"]
    );
}

#[tokio::test]
async fn a_declined_invitation_grants_nothing_and_may_be_renewed() {
    let t = Invitation::new().await;
    let app = &t.app;
    t.invite().await;
    let declined = t.answer(&t.ent_token, "decline").await.expect(200);
    assert_eq!(declined.str("status"), "declined");
    assert!(declined.body["accepted_at"].is_null());

    app.get(&format!("/organizations/{}", t.ent), &t.office)
        .await
        .expect_problem(404);
    // The answer is final until the office invites again.
    t.answer(&t.ent_token, "accept").await.expect_problem(404);
    t.answer(&t.ent_token, "decline").await.expect_problem(404);
    assert_eq!(t.members(&t.office).await[0]["status"], "declined");
    assert_eq!(t.members(&t.ent_token).await[0]["status"], "declined");

    let renewed = t.invite().await;
    assert_eq!(renewed.str("status"), "invited");
    t.answer(&t.ent_token, "accept").await.expect(200);
    assert_eq!(
        t.audited().await,
        [
            "chain.member.invite",
            "chain.member.decline",
            "chain.member.invite",
            "chain.member.accept"
        ]
    );
}

#[tokio::test]
async fn nobody_else_may_answer_an_enterprises_invitation() {
    let t = Invitation::new().await;
    let app = &t.app;
    t.invite().await;
    let (other, other_token) = app
        .org_with_user(&t.admin, "enterprise", "另一家企业")
        .await;
    // Another enterprise: not its invitation, through either path.
    t.answer(&other_token, "accept").await.expect_problem(404);
    t.answer(&other_token, "decline").await.expect_problem(404);
    app.post(
        &format!("/chains/{}/members/{other}/accept", t.chain),
        &other_token,
        json!({}),
    )
    .await
    .expect_problem(404);
    // The office and the admin cannot accept for it.
    t.answer(&t.office, "accept").await.expect_problem(403);
    t.answer(&t.admin, "accept").await.expect_problem(403);
    // An unknown chain.
    app.post(
        &format!("/chains/{}/members/{}/accept", uuid::Uuid::now_v7(), t.ent),
        &t.ent_token,
        json!({}),
    )
    .await
    .expect_problem(404);
    assert_eq!(t.members(&t.office).await[0]["status"], "invited");
    assert_eq!(t.audited().await, ["chain.member.invite"]);
}

#[tokio::test]
async fn admin_put_adds_at_once_and_office_put_on_a_member_changes_only_the_role() {
    let t = Invitation::new().await;
    let app = &t.app;
    let added = app
        .put(&t.member_path(), &t.admin, json!({"role": "supporting"}))
        .await
        .expect(200);
    assert_eq!(added.str("status"), "active");
    assert!(added.body["accepted_at"].is_string());
    app.get(&format!("/organizations/{}", t.ent), &t.office)
        .await
        .expect(200);
    t.answer(&t.ent_token, "accept").await.expect_problem(409);
    t.answer(&t.ent_token, "decline").await.expect_problem(409);

    let changed = app
        .put(&t.member_path(), &t.office, json!({"role": "core"}))
        .await
        .expect(200);
    assert_eq!(changed.str("status"), "active");
    assert_eq!(changed.str("role"), "core");

    // An admin's PUT on an open invitation makes it active too.
    let (late, late_token) = app.org_with_user(&t.admin, "enterprise", "后来者").await;
    let path = format!("/chains/{}/members/{late}", t.chain);
    app.put(&path, &t.office, json!({"role": "core"}))
        .await
        .expect(200);
    let res = app
        .put(&path, &t.admin, json!({"role": "core"}))
        .await
        .expect(200);
    assert_eq!(res.str("status"), "active");
    app.post(&format!("{path}/accept"), &late_token, json!({}))
        .await
        .expect_problem(409);
    app.delete(&t.member_path(), &t.office).await.expect(204);
    assert_eq!(
        t.audited().await,
        [
            "chain.member.put",
            "chain.member.put",
            "chain.member.invite",
            "chain.member.put",
            "chain.member.delete"
        ]
    );
}

#[tokio::test]
async fn only_the_office_the_admin_and_the_enterprise_see_an_invitation() {
    let t = Invitation::new().await;
    let app = &t.app;
    let member = app.create_org(&t.admin, "enterprise", "老成员").await;
    app.put(
        &format!("/chains/{}/members/{member}", t.chain),
        &t.admin,
        json!({"role": "core"}),
    )
    .await
    .expect(200);
    t.invite().await;
    assert_eq!(t.members(&t.admin).await.len(), 2);
    assert_eq!(t.members(&t.office).await.len(), 2);
    let own = t.members(&t.ent_token).await;
    assert_eq!(own.len(), 2, "its own invitation and the active member");
    for kind in [
        "department",
        "service_center",
        "bank",
        "fund_office",
        "enterprise",
    ] {
        let (_, token) = app
            .org_with_user(&t.admin, kind, &format!("{kind} 旁观者"))
            .await;
        let seen = t.members(&token).await;
        assert_eq!(
            seen.iter()
                .map(|m| m["organization_id"].as_str().unwrap_or_default())
                .collect::<Vec<_>>(),
            vec![member.as_str()],
            "{kind}"
        );
    }
    // Only enterprise users filter by their own membership: a role restriction.
    app.get("/chains?membership=invited", &t.office)
        .await
        .expect_problem(403);
}

#[tokio::test]
async fn a_bank_of_the_chain_does_not_see_an_invited_enterprise() {
    let t = Invitation::new().await;
    let app = &t.app;
    let (bank, bank_token) = app.org_with_user(&t.admin, "bank", "牵头银行").await;
    app.put(
        &format!("/chains/{}/banks/{bank}", t.chain),
        &t.admin,
        json!({"role": "lead"}),
    )
    .await
    .expect(200);
    t.invite().await;
    app.get(&format!("/organizations/{}", t.ent), &bank_token)
        .await
        .expect_problem(404);
    t.answer(&t.ent_token, "accept").await.expect(200);
    app.get(&format!("/organizations/{}", t.ent), &bank_token)
        .await
        .expect(200);
}

#[tokio::test]
async fn removing_a_member_hides_it_again_and_keeps_its_qualifications() {
    let t = Invitation::new().await;
    let app = &t.app;
    t.invite().await;
    t.answer(&t.ent_token, "accept").await.expect(200);
    app.put(
        &format!("/organizations/{}/qualifications/high_tech", t.ent),
        &t.admin,
        qualification_body(),
    )
    .await
    .expect(200);
    app.delete(&t.member_path(), &t.office).await.expect(204);
    app.get(&format!("/organizations/{}", t.ent), &t.office)
        .await
        .expect_problem(404);
    let org = app
        .get(&format!("/organizations/{}", t.ent), &t.admin)
        .await
        .expect(200);
    assert_eq!(org.body["qualifications"][0]["kind"], "high_tech");
    assert_eq!(
        t.audited().await,
        [
            "chain.member.invite",
            "chain.member.accept",
            "chain.member.delete"
        ]
    );
}
