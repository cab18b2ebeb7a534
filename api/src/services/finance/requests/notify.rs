//! Who a request's submission and actions tell, and what: every one through `jobs::notify` in
//! the action's transaction; banks as organizations (mail held to working hours), the
//! enterprise through the user who submitted (mail at once).

#[allow(unused_imports)]
use super::*;

/// What the mail says happened (`action_label`).
fn action_label(kind: Kind) -> &'static str {
    match kind {
        Kind::FinancingReceived => "收到新需求",
        Kind::FinancingAccepted => "已受理",
        Kind::FinancingInfoRequested => "需补充材料",
        Kind::FinancingSupplemented => "企业已补充材料",
        Kind::FinancingProposed => "授信方案待复核",
        Kind::FinancingApproved => "已批准",
        Kind::FinancingRejected => "未获批准",
        Kind::FinancingWithdrawn => "企业已撤回",
        Kind::FinancingReferred => "已由主办行转介至合作银行",
        other => other.label_zh(),
    }
}

fn title(kind: Kind, r: &financing_request::Model) -> String {
    format!(
        "{}：{} {} {} 元",
        kind.label_zh(),
        r.number,
        r.product.label_zh(),
        Money::from_fen(r.amount_fen)
    )
}

/// Tells a bank (all its active users; mail held to working hours), with its next deadline.
#[allow(clippy::too_many_arguments)]
pub(super) async fn tell_bank(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    r: &financing_request::Model,
    clocks: &[sla_clock::Model],
    bank: Uuid,
    kind: Kind,
    message: Option<String>,
) -> AppResult<()> {
    let due = clocks
        .iter()
        .filter(|c| is_open(c))
        .min_by_key(|c| c.due_at)
        .map(|c| format!("{}前{}", local_minute(cal, c.due_at), c.kind.label_zh()));
    let label = action_label(kind);
    let mut body = format!("{label}。");
    if let Some(d) = &due {
        body.push_str(&format!("办理时限：{d}。"));
    }
    if let Some(m) = &message {
        body.push_str(&format!("\n说明：{m}"));
    }
    let template = Template::FinancingUpdate {
        recipient_name: name_of(conn, bank).await?,
        number: r.number.clone(),
        enterprise_name: name_of(conn, r.enterprise_id).await?,
        product_label: r.product.label_zh().into(),
        amount: Money::from_fen(r.amount_fen).to_string(),
        action_label: label.into(),
        due,
        message,
    };
    notify(
        conn,
        now,
        Audience::organization_roles(bank, &[Role::Bank]),
        Notice::new(
            kind,
            Some(Object::financing_request(r.id)),
            title(kind, r),
            body,
        ),
        Some(Mail::office_hours(template, cal)),
    )
    .await?;
    Ok(())
}

/// Tells the enterprise (the user who submitted, or its users once that user is gone; mail at
/// once).
pub(super) async fn tell_enterprise(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    r: &financing_request::Model,
    kind: Kind,
    message: Option<String>,
) -> AppResult<()> {
    let label = action_label(kind);
    let enterprise_name = name_of(conn, r.enterprise_id).await?;
    let body = match &message {
        Some(m) => format!("{label}：{m}"),
        None => format!("{label}。"),
    };
    let template = Template::FinancingUpdate {
        recipient_name: enterprise_name.clone(),
        number: r.number.clone(),
        enterprise_name,
        product_label: r.product.label_zh().into(),
        amount: Money::from_fen(r.amount_fen).to_string(),
        action_label: label.into(),
        due: None,
        message,
    };
    notify(
        conn,
        now,
        Audience::User(r.submitted_by),
        Notice::new(
            kind,
            Some(Object::financing_request(r.id)),
            title(kind, r),
            body,
        ),
        Some(Mail::now(template)),
    )
    .await?;
    Ok(())
}
