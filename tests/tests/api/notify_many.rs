//! A notification to a wide audience, as the window-opening push sends: more rows than one
//! multi-row statement may carry on either database (`jobs::bulk`), and the turned-off mails read
//! at once for many users (the partial index `ix_user_preferences_mail_off`) rather than by
//! user.

use entity::{
    clock::Clock,
    enums::{NotificationKind as Kind, OrgKind, Role},
    mail_outbox, notification, organization, user, user_preference,
};
use jobs::{
    mail::Template,
    notify::{Audience, Mail, Notice, notify},
};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::HashSet;
use tests::fixtures::CityBuilder;
use uuid::Uuid;

/// Users written straight into the table (creating 4,000 over HTTP would only slow the test).
const USERS: usize = 4_000;

#[tokio::test]
async fn four_thousand_users_are_told_and_mailed_except_where_they_turned_the_kind_off() {
    told_and_mailed_except_turned_off(1).await;
}

/// Past 500 organizations and users in a call the turned-off mails are read on their own
/// (through `ix_user_preferences_mail_off`), not with the users: the same outcome.
#[tokio::test]
async fn a_push_to_six_hundred_organizations_mails_all_but_who_turned_it_off() {
    told_and_mailed_except_turned_off(600).await;
}

/// [`USERS`] users spread over `orgs` enterprises (the fixture's and `orgs - 1` more), told of a
/// policy match in one call.
async fn told_and_mailed_except_turned_off(orgs: usize) {
    let c = CityBuilder::new()
        .enterprise("南通某电子公司")
        .build()
        .await;
    let app = &c.app;
    let org: Uuid = c.enterprises[0].id.parse().expect("uuid");
    let now = app.clock.now();
    let mut all_orgs = vec![org];
    let more = (1..orgs).map(|n| {
        let id = Uuid::now_v7();
        all_orgs.push(id);
        organization::ActiveModel {
            id: Set(id),
            kind: Set(OrgKind::Enterprise),
            name: Set(format!("企业{n}")),
            uscc: Set(None),
            region: Set(None),
            contact_name: Set(None),
            contact_email: Set(None),
            verified: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        }
    });
    let more: Vec<_> = more.collect();
    if !more.is_empty() {
        jobs::bulk::insert_all(&app.db, more)
            .await
            .expect("organizations");
    }
    let ids: Vec<Uuid> = (0..USERS).map(|_| Uuid::now_v7()).collect();
    let rows = ids.iter().enumerate().map(|(n, id)| user::ActiveModel {
        id: Set(*id),
        username: Set(format!("bulk-{n}")),
        password_hash: Set("!".into()),
        display_name: Set(format!("用户{n}")),
        email: Set(Some(format!("bulk-{n}@example.cn"))),
        role: Set(Role::Enterprise),
        organization_id: Set(Some(all_orgs[n % orgs])),
        active: Set(true),
        session_version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    });
    jobs::bulk::insert_all(&app.db, rows.collect())
        .await
        .expect("users");

    // Three turned the push's mails off; one turned off another kind only; one turned the
    // push's mails explicitly on.
    let off: HashSet<Uuid> = ids[..3].iter().copied().collect();
    let pref = |user: Uuid, kind: Kind, email: bool| user_preference::ActiveModel {
        user_id: Set(user),
        kind: Set(kind),
        email: Set(email),
        updated_at: Set(now),
    };
    let mut prefs: Vec<_> = off
        .iter()
        .map(|u| pref(*u, Kind::PolicyMatch, false))
        .collect();
    prefs.push(pref(ids[3], Kind::AppealReplied, false));
    prefs.push(pref(ids[4], Kind::PolicyMatch, true));
    jobs::bulk::insert_all(&app.db, prefs)
        .await
        .expect("preferences");

    let audience = if orgs == 1 {
        Audience::organization_roles(org, &[Role::Enterprise])
    } else {
        Audience::Organizations {
            ids: all_orgs.clone(),
            roles: vec![Role::Enterprise],
        }
    };
    let delivered = notify(
        &app.db,
        now,
        audience,
        Notice::new(
            Kind::PolicyMatch,
            None,
            "政策直达：测试",
            "您的企业符合申报条件。",
        ),
        Some(Mail::now(Template::PolicyMatch {
            enterprise_name: "南通某电子公司".into(),
            program_name: "测试专项".into(),
            kind_label: "产业发展引导资金".into(),
            max_amount: "100000.00".into(),
            closes_at: "2027-01-31 17:00".into(),
            basis: vec!["具备高新技术企业资格".into()],
            award_number: None,
        })),
    )
    .await
    .expect("notify");

    // The fixture's own enterprise user (with an address) is in the audience too.
    let audience = USERS + 1;
    assert_eq!(delivered.notifications, audience as u64);
    assert_eq!(delivered.mails, (audience - off.len()) as u64);
    let told = notification::Entity::find()
        .filter(notification::Column::Kind.eq(Kind::PolicyMatch))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(told, audience as u64, "every user has the notification");
    let mailed: HashSet<Uuid> = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Kind.eq(Kind::PolicyMatch))
        .all(&app.db)
        .await
        .expect("outbox")
        .into_iter()
        .filter_map(|m| m.user_id)
        .collect();
    assert_eq!(
        mailed.len(),
        audience - off.len(),
        "one mail per other user"
    );
    assert!(mailed.is_disjoint(&off), "no mail to who turned it off");
    assert!(mailed.contains(&ids[3]) && mailed.contains(&ids[4]));
}
