//! Documents: uploads typed by their content, attachments on appeals, financing requests and
//! fund applications, downloads only for those who may see the object, orphans and quotas.

use chrono::TimeDelta;
use entity::file;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tests::{
    files::{self, docx, download, files_under, pdf, pdf_of_size, png, upload, xlsx, zip_of},
    fixtures::{City, CityBuilder},
};

const PDF: &str = "application/pdf";

async fn city() -> City {
    city_with(|_| {}).await
}

async fn city_with(tweak: impl FnOnce(&mut jobs::settings::Settings) + Send + 'static) -> City {
    CityBuilder::new()
        .long_lived_tokens()
        .settings(tweak)
        .centre("市企业服务中心")
        .department("市发改委")
        .department("市工信局")
        .route("policy", 0)
        .enterprise("南通某电子公司")
        .enterprise("南通某材料公司")
        .chain("EI", "电子信息产业链", "电子信息链长办", true)
        .bank("南通主办银行", "lead")
        .bank("南通合作银行", "partner")
        .fund_office("市产业基金办")
        .build()
        .await
}

fn ent(c: &City, i: usize) -> &str {
    &c.enterprises[i].token
}

fn chain(c: &City) -> String {
    c.chain.as_ref().expect("a chain").id.clone()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn ids(v: &Value) -> Vec<String> {
    v["attachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .map(|a| a["id"].as_str().expect("an id").to_string())
        .collect()
}

async fn uploaded(c: &City, token: &str, name: &str, bytes: Vec<u8>, declared: &str) -> Value {
    upload(&c.app, token, name, bytes, declared)
        .await
        .expect(201)
        .body
}

async fn appeal(c: &City, token: &str, attachments: Value) -> tests::Answer {
    c.app
        .post(
            "/appeals",
            token,
            json!({"title": "用电增容", "content": "新厂房需增容 2000kVA，附营业执照与报表。",
                   "category": "policy", "attachment_ids": attachments}),
        )
        .await
}

async fn file_rows(c: &City) -> u64 {
    file::Entity::find().count(&c.app.db).await.expect("count")
}

/// How many appeals enterprise `i` has.
async fn appeals_of(c: &City, i: usize) -> usize {
    c.app.get("/appeals", ent(c, i)).await.expect(200).body["items"]
        .as_array()
        .expect("items")
        .len()
}

/// Whether `token` may download `id`: 200 or 404, nothing else.
async fn reads(c: &City, token: &str, id: &str) -> bool {
    let (status, _, _) = download(&c.app, token, id, &[]).await;
    assert!(status == 200 || status == 404, "{status}");
    status == 200
}

#[tokio::test]
async fn an_appeal_document_is_read_by_its_department_and_by_nobody_else() {
    let c = city().await;
    let bytes = pdf_of_size(100_000);
    let f = uploaded(&c, ent(&c, 0), "../../报表.pdf", bytes.clone(), PDF).await;
    assert_eq!(f["name"], "报表.pdf");
    assert_eq!(f["size"], 100_000);
    assert_eq!(f["sha256"], sha(&bytes));
    assert_eq!(f["content_type"], PDF);
    let fid = f["id"].as_str().expect("id").to_string();
    // Before it is attached only the uploader reads it.
    assert!(reads(&c, ent(&c, 0), &fid).await);
    assert!(!reads(&c, &c.departments[0].token, &fid).await);

    let a = appeal(&c, ent(&c, 0), json!([fid])).await.expect(201).body;
    assert_eq!(ids(&a), vec![fid.clone()]);
    assert_eq!(a["attachments"][0]["name"], "报表.pdf");
    let aid = a["id"].as_str().expect("id").to_string();

    let (status, headers, body) = download(&c.app, &c.departments[0].token, &fid, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body, bytes);
    assert_eq!(headers["content-type"], PDF);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["accept-ranges"], "bytes");
    let disposition = headers["content-disposition"].to_str().expect("ascii");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E6%8A%A5%E8%A1%A8.pdf"),
        "{disposition}"
    );
    // The service centre sees every appeal; the other enterprise, the other department, a bank
    // and the fund office see none of it.
    assert!(reads(&c, &c.centre.as_ref().expect("centre").token, &fid).await);
    assert!(!reads(&c, ent(&c, 1), &fid).await);
    assert!(!reads(&c, &c.departments[1].token, &fid).await);
    assert!(!reads(&c, &c.banks[0].token, &fid).await);
    assert!(!reads(&c, &c.fund_office.as_ref().expect("fund").token, &fid).await);

    // Ranges: the first bytes, the last bytes, and one past the end.
    let (status, headers, body) = download(
        &c.app,
        &c.departments[0].token,
        &fid,
        &[("Range", "bytes=0-3")],
    )
    .await;
    assert_eq!((status, body.as_slice()), (206, &b"%PDF"[..]));
    assert_eq!(headers["content-range"], "bytes 0-3/100000");
    let (status, _, body) = download(
        &c.app,
        &c.departments[0].token,
        &fid,
        &[("Range", "bytes=-10")],
    )
    .await;
    assert_eq!((status, body.as_slice()), (206, &bytes[99_990..]));
    let (status, headers, _) = download(
        &c.app,
        &c.departments[0].token,
        &fid,
        &[("Range", "bytes=100000-")],
    )
    .await;
    assert_eq!(status, 416);
    assert_eq!(headers["content-range"], "bytes */100000");

    // The list item shows the attachment; a supplement with a photo changes it (the cached item
    // is not served stale).
    let listed = c
        .app
        .listed("/appeals", &c.departments[0].token, &aid)
        .await;
    assert_eq!(ids(&listed), vec![fid.clone()]);
    c.app
        .post(
            &format!("/appeals/{aid}/request_info"),
            &c.departments[0].token,
            json!({"message": "请补充现场照片"}),
        )
        .await
        .expect(200);
    let photo = uploaded(&c, ent(&c, 0), "现场照片.png", png(), "image/png").await;
    let supplemented = c
        .app
        .post(
            &format!("/appeals/{aid}/supplement"),
            ent(&c, 0),
            json!({"message": "已上传现场照片", "attachment_ids": [photo["id"]]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&supplemented).len(), 2);
    let listed = c
        .app
        .listed("/appeals", &c.departments[0].token, &aid)
        .await;
    assert_eq!(ids(&listed).len(), 2);
    let got = c
        .app
        .get(&format!("/appeals/{aid}"), ent(&c, 0))
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&got).len(), 2);
    assert!(
        reads(
            &c,
            &c.departments[0].token,
            photo["id"].as_str().expect("id")
        )
        .await
    );
}

#[tokio::test]
async fn financing_and_fund_documents_are_read_by_the_bank_and_by_the_reviewers() {
    let c = city().await;
    let contract = uploaded(
        &c,
        ent(&c, 0),
        "订单合同.docx",
        docx(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    .await;
    let r = c
        .app
        .post(
            "/financing-requests",
            ent(&c, 0),
            json!({"chain_id": chain(&c), "amount": "3000000.00", "term_months": 12,
                   "purpose": "采购芯片原材料", "product": "order",
                   "attachment_ids": [contract["id"]]}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(
        r["attachments"][0]["content_type"],
        contract["content_type"]
    );
    let rid = r["id"].as_str().expect("id").to_string();
    let cid = contract["id"].as_str().expect("id").to_string();
    assert!(reads(&c, &c.banks[0].token, &cid).await);
    assert!(!reads(&c, &c.banks[1].token, &cid).await);
    assert!(!reads(&c, ent(&c, 1), &cid).await);
    assert!(!reads(&c, &c.departments[0].token, &cid).await);
    // A supplement adds a statement; the bank's list shows both.
    c.app
        .post(
            &format!("/financing-requests/{rid}/accept"),
            &c.banks[0].token,
            json!({}),
        )
        .await
        .expect(200);
    c.app
        .post(
            &format!("/financing-requests/{rid}/request_info"),
            &c.banks[0].token,
            json!({"message": "请补充财务报表"}),
        )
        .await
        .expect(200);
    let sheet = uploaded(
        &c,
        ent(&c, 0),
        "2025年财务报表.xlsx",
        xlsx(),
        "application/octet-stream",
    )
    .await;
    assert_eq!(
        sheet["content_type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let after = c
        .app
        .post(
            &format!("/financing-requests/{rid}/supplement"),
            ent(&c, 0),
            json!({"message": "已补充", "attachment_ids": [sheet["id"]]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&after).len(), 2);
    let listed = c
        .app
        .listed("/financing-requests", &c.banks[0].token, &rid)
        .await;
    assert_eq!(ids(&listed).len(), 2);

    // A fund application: the chain office (first review) and the fund office (second) read it.
    let fund = c.fund_office.as_ref().expect("fund").token.clone();
    let program = c
        .app
        .post(
            "/fund-programs",
            &fund,
            json!({"name": "电子信息产业链专项资金", "kind": "chain_special",
                   "budget": "1000000.00", "max_per_application": "300000.00",
                   "opens_at": "2026-03-01T00:00:00+08:00", "closes_at": "2027-01-01T00:00:00+08:00",
                   "eligibility": {"chain_ids": [chain(&c)], "qualifications_any": [],
                                   "qualifications_all": [], "member_roles": []},
                   "notice_working_days": 5, "review_working_days": 5}),
        )
        .await
        .expect(201)
        .body;
    let plan = uploaded(&c, ent(&c, 0), "可行性研究报告.pdf", pdf(), PDF).await;
    let app = c
        .app
        .post(
            "/fund-applications",
            ent(&c, 0),
            json!({"program_id": program["id"], "amount": "200000.00",
                   "project_title": "智能产线改造", "description": "新建两条智能产线。",
                   "attachment_ids": [plan["id"]]}),
        )
        .await
        .expect(201)
        .body;
    let pid = plan["id"].as_str().expect("id").to_string();
    assert_eq!(ids(&app), vec![pid.clone()]);
    let office = c.chain.as_ref().expect("chain").office.token.clone();
    assert!(reads(&c, &office, &pid).await);
    assert!(reads(&c, &fund, &pid).await);
    assert!(!reads(&c, ent(&c, 1), &pid).await);
    assert!(!reads(&c, &c.banks[0].token, &pid).await);
    // Returned, then resubmitted with one more document.
    let aid = app["id"].as_str().expect("id").to_string();
    c.app
        .post(
            &format!("/fund-applications/{aid}/initial_review"),
            &office,
            json!({"decision": "return", "comment": "请补充项目预算表"}),
        )
        .await
        .expect(200);
    let budget = uploaded(&c, ent(&c, 0), "项目预算.xlsx", xlsx(), "application/zip").await;
    let again = c
        .app
        .post(
            &format!("/fund-applications/{aid}/resubmit"),
            ent(&c, 0),
            json!({"comment": "已补充预算表", "attachment_ids": [budget["id"]]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&again).len(), 2);
    assert!(reads(&c, &fund, budget["id"].as_str().expect("id")).await);
}

#[tokio::test]
async fn the_type_comes_from_the_bytes_and_a_disguise_or_an_oversize_is_refused_leaving_nothing() {
    let c = city_with(|s| s.files_max_bytes = 20 * 1024 * 1024).await;
    let e = ent(&c, 0);
    // A PNG renamed .pdf and declared as a PDF.
    upload(&c.app, e, "报表.pdf", png(), PDF)
        .await
        .expect_problem(415);
    // A ZIP renamed .docx that holds no Word document.
    upload(
        &c.app,
        e,
        "合同.docx",
        zip_of(&["readme.txt"]),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    .await
    .expect_problem(415);
    // Text, an executable, nothing at all.
    upload(&c.app, e, "说明.txt", b"hello".to_vec(), "text/plain")
        .await
        .expect_problem(415);
    upload(&c.app, e, "setup.pdf", b"MZ\x90\0\x03".to_vec(), PDF)
        .await
        .expect_problem(415);
    upload(&c.app, e, "空.pdf", Vec::new(), PDF)
        .await
        .expect_problem(415);
    // The right type under any declared generic type, and a name without an extension.
    let f = uploaded(&c, e, "营业执照", png(), "application/octet-stream").await;
    assert_eq!(f["name"], "营业执照.png");
    assert_eq!(f["content_type"], "image/png");
    let stored = files_under(&c.app.data_dir.join("files"));
    assert_eq!(stored.len(), 1, "{stored:?}");
    // 21 MiB: 413, and neither a row nor a byte stays.
    let rows = file_rows(&c).await;
    upload(&c.app, e, "大文件.pdf", pdf_of_size(21 * 1024 * 1024), PDF)
        .await
        .expect_problem(413);
    assert_eq!(file_rows(&c).await, rows);
    assert_eq!(files_under(&c.app.data_dir.join("files")), stored);
    // No field named `file`.
    let form = reqwest::multipart::Form::new().text("name", "x");
    let res = c
        .app
        .client
        .post(c.app.url("/files"))
        .bearer_auth(e)
        .multipart(form)
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 422);
    // Not multipart at all.
    c.app
        .post("/files", e, json!({"file": "x"}))
        .await
        .expect_problem(415);
    // Signed in only.
    let res = c
        .app
        .client
        .get(
            c.app
                .url(&format!("/files/{}", f["id"].as_str().expect("id"))),
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn only_an_unattached_upload_of_ones_own_can_be_attached_and_a_refusal_creates_nothing() {
    let c = city().await;
    let mine = uploaded(&c, ent(&c, 0), "报表.pdf", pdf(), PDF).await;
    let theirs = uploaded(&c, ent(&c, 1), "他人的报表.pdf", pdf(), PDF).await;
    let before = appeals_of(&c, 0).await;
    let refused = appeal(&c, ent(&c, 0), json!([mine["id"], theirs["id"]]))
        .await
        .expect_problem(422);
    assert_eq!(refused.body["errors"][0]["field"], "attachment_ids");
    appeal(&c, ent(&c, 0), json!([mine["id"], mine["id"]]))
        .await
        .expect_problem(422);
    appeal(&c, ent(&c, 0), json!([uuid::Uuid::now_v7()]))
        .await
        .expect_problem(422);
    assert_eq!(appeals_of(&c, 0).await, before);
    // Nothing was attached by the refusals: the file is still free to attach, once.
    appeal(&c, ent(&c, 0), json!([mine["id"]]))
        .await
        .expect(201);
    appeal(&c, ent(&c, 0), json!([mine["id"]]))
        .await
        .expect_problem(422);
    assert_eq!(appeals_of(&c, 0).await, before + 1);
    // The other enterprise still cannot read it, and its own upload is still unattached.
    assert!(!reads(&c, ent(&c, 1), mine["id"].as_str().expect("id")).await);
    assert!(reads(&c, ent(&c, 1), theirs["id"].as_str().expect("id")).await);
}

#[tokio::test]
async fn the_orphan_job_removes_old_unattached_uploads_and_their_bytes_only() {
    let c = city().await;
    let e = ent(&c, 0);
    let shared = pdf_of_size(5_000);
    let old_alone = uploaded(&c, e, "旧.pdf", pdf_of_size(6_000), PDF).await;
    let old_shared = uploaded(&c, e, "旧副本.pdf", shared.clone(), PDF).await;
    let attached = uploaded(&c, e, "已附.pdf", shared.clone(), PDF).await;
    appeal(&c, e, json!([attached["id"]])).await.expect(201);
    c.app.advance(TimeDelta::hours(25));
    let young = uploaded(&c, e, "新.png", png(), "image/png").await;
    let store = &c.app.state.jobs.context().files;
    let sha_of = |v: &Value| v["sha256"].as_str().expect("sha").to_string();
    assert!(store.has_blob(&sha_of(&old_alone)).await.expect("head"));

    let run = c
        .app
        .post("/jobs/file_orphans/run", &c.admin, json!({}))
        .await
        .expect(200);
    assert_eq!(run.body["status"], "succeeded", "{}", run.text);
    assert_eq!(run.body["items"], 2);
    // The old unattached ones are gone (rows), the bytes of the lone one too; the bytes shared
    // with an attached file stay, as do the attached and the young upload.
    assert!(!reads(&c, e, old_alone["id"].as_str().expect("id")).await);
    assert!(!reads(&c, e, old_shared["id"].as_str().expect("id")).await);
    assert!(!store.has_blob(&sha_of(&old_alone)).await.expect("head"));
    assert!(store.has_blob(&sha_of(&attached)).await.expect("head"));
    assert!(reads(&c, e, attached["id"].as_str().expect("id")).await);
    assert!(reads(&c, e, young["id"].as_str().expect("id")).await);
    assert_eq!(file_rows(&c).await, 2);
    // A second pass finds nothing.
    let again = c
        .app
        .post("/jobs/file_orphans/run", &c.admin, json!({}))
        .await
        .expect(200);
    assert_eq!(again.body["items"], 0);
}

#[tokio::test]
async fn an_organizations_uploads_stay_within_its_quota_and_a_replayed_upload_is_stored_once() {
    let c = city_with(|s| s.files_quota_bytes = 10_000).await;
    let e = ent(&c, 0);
    uploaded(&c, e, "一.pdf", pdf_of_size(6_000), PDF).await;
    let over = upload(&c.app, e, "二.pdf", pdf_of_size(6_000), PDF)
        .await
        .expect_problem(409);
    assert_eq!(over.body["code"], "storage_quota_exceeded");
    // Another organization has its own quota.
    uploaded(&c, ent(&c, 1), "三.pdf", pdf_of_size(6_000), PDF).await;
    // The same key and the same file: the first answer again, one row.
    let rows = file_rows(&c).await;
    let first = files::upload_with_key(&c.app, ent(&c, 1), "四.pdf", pdf(), PDF, Some("k-1"))
        .await
        .expect(201);
    let again = files::upload_with_key(&c.app, ent(&c, 1), "四.pdf", pdf(), PDF, Some("k-1"))
        .await
        .expect(201);
    assert_eq!(first.body["id"], again.body["id"]);
    assert_eq!(file_rows(&c).await, rows + 1);
    files::upload_with_key(&c.app, ent(&c, 1), "五.pdf", pdf(), PDF, Some("k-1"))
        .await
        .expect_problem(422);
}

#[tokio::test]
async fn concurrent_uploads_cannot_pass_the_quota_together() {
    let c = city_with(|s| s.files_quota_bytes = 50_000).await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let app = c.app.http();
        let token = ent(&c, 0).to_string();
        tasks.push(tokio::spawn(async move {
            let part = reqwest::multipart::Part::bytes(pdf_of_size(10_000 + i))
                .file_name(format!("{i}.pdf"));
            let form = reqwest::multipart::Form::new().part("file", part);
            app.client
                .post(app.url("/files"))
                .bearer_auth(token)
                .multipart(form)
                .send()
                .await
                .expect("answered")
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        4,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        6,
        "{statuses:?}"
    );
}

/// The S3 path, against the S3-compatible server the test command starts (`TEST_S3_URL`,
/// moto in server mode): upload, attach, download with a range, the orphan job.
#[tokio::test]
async fn the_s3_store_keeps_serves_and_removes_documents() {
    let Ok(endpoint) = std::env::var("TEST_S3_URL") else {
        eprintln!("skipped: TEST_S3_URL is not set (tests/run-all.sh starts an S3 server)");
        return;
    };
    let bucket = format!("lt-{}", uuid::Uuid::now_v7().simple());
    let made = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the S3 server answers");
    assert!(made.status().is_success(), "{}", made.status());
    let c = city_with(move |s| {
        s.files_store = "s3".into();
        s.s3_endpoint = Some(endpoint);
        s.s3_bucket = Some(bucket);
        s.s3_access_key_id = Some("testing".into());
        s.s3_secret_access_key = Some(secrecy::SecretString::from("testing".to_string()));
        s.s3_path_style = true;
    })
    .await;
    let bytes = pdf_of_size(7 * 1024 * 1024);
    let f = uploaded(&c, ent(&c, 0), "审计报告.pdf", bytes.clone(), PDF).await;
    assert_eq!(f["sha256"], sha(&bytes));
    let docx_up = uploaded(&c, ent(&c, 0), "合同.docx", docx(), "application/zip").await;
    let a = appeal(&c, ent(&c, 0), json!([f["id"], docx_up["id"]]))
        .await
        .expect(201)
        .body;
    assert_eq!(ids(&a).len(), 2);
    let fid = f["id"].as_str().expect("id");
    let (status, _, body) = download(&c.app, &c.departments[0].token, fid, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(sha(&body), sha(&bytes));
    let (status, _, body) = download(
        &c.app,
        &c.departments[0].token,
        fid,
        &[("Range", "bytes=1048576-1048585")],
    )
    .await;
    assert_eq!(
        (status, body.as_slice()),
        (206, &bytes[1_048_576..1_048_586])
    );
    assert!(!reads(&c, ent(&c, 1), fid).await);
    // Too large and disguised uploads leave nothing in the bucket either.
    upload(&c.app, ent(&c, 0), "图.pdf", png(), PDF)
        .await
        .expect_problem(415);
    let orphan = uploaded(&c, ent(&c, 0), "草稿.png", png(), "image/png").await;
    c.app.advance(TimeDelta::hours(25));
    let run = c
        .app
        .post("/jobs/file_orphans/run", &c.admin, json!({}))
        .await
        .expect(200);
    assert_eq!(run.body["items"], 1, "{}", run.text);
    let store = &c.app.state.jobs.context().files;
    assert!(
        !store
            .has_blob(orphan["sha256"].as_str().expect("sha"))
            .await
            .expect("head")
    );
    assert!(
        store
            .has_blob(f["sha256"].as_str().expect("sha"))
            .await
            .expect("head")
    );
}
