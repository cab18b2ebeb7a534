//! The credit line an approval grants, within the program's quota and the enterprise's maximum.

#[allow(unused_imports)]
use super::*;

fn quota_exceeded(p: &credit_program::Model, limit: Money) -> AppError {
    AppError::conflict(
        "quota_exceeded",
        format!(
            "a limit of {limit} exceeds the program's remaining quota of {}",
            Money::from_fen(p.quota_fen - p.granted_fen)
        ),
    )
}

fn enterprise_limit_exceeded(p: &credit_program::Model, held: i64, limit: Money) -> AppError {
    AppError::conflict(
        "enterprise_limit_exceeded",
        format!(
            "a limit of {limit} on top of the enterprise's {} exceeds the program's maximum of {} per enterprise",
            Money::from_fen(held),
            Money::from_fen(p.max_per_enterprise_fen)
        ),
    )
}

/// The limits the enterprise of `r` holds under program `p` (active and frozen lines).
async fn held_by_enterprise(
    conn: &impl ConnectionTrait,
    program: Uuid,
    enterprise: Uuid,
) -> AppResult<i64> {
    use credit_line::Column as L;
    let held: Option<i64> = credit_line::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(limit_fen), 0) AS BIGINT)"),
            "held",
        )
        .filter(L::ProgramId.eq(program))
        .filter(L::EnterpriseId.eq(enterprise))
        .filter(
            L::Status.is_in(
                [CreditLineStatus::Active, CreditLineStatus::Frozen]
                    .into_iter()
                    .filter(|s| s.holds_exposure()),
            ),
        )
        .into_tuple()
        .one(conn)
        .await?;
    Ok(held.unwrap_or(0))
}

/// A proposal's early check of the quotas (no booking: the grant at confirmation is the guard).
pub(super) async fn precheck(
    conn: &impl ConnectionTrait,
    r: &financing_request::Model,
    terms: &Terms,
) -> AppResult<()> {
    let Some(pid) = r.program_id else {
        return Ok(());
    };
    let Some(p) = credit_program::Entity::find_by_id(pid).one(conn).await? else {
        return Ok(());
    };
    if p.granted_fen + terms.limit.fen() > p.quota_fen {
        return Err(quota_exceeded(&p, terms.limit));
    }
    let held = held_by_enterprise(conn, pid, r.enterprise_id).await?;
    if held + terms.limit.fen() > p.max_per_enterprise_fen {
        return Err(enterprise_limit_exceeded(&p, held, terms.limit));
    }
    Ok(())
}

/// Grants the credit line of an approval: under a program, first one guarded `UPDATE` raises
/// the program's granted amount only if it stays within the quota (and locks the program row,
/// so grants on one program run one at a time), then the enterprise's limits under the program
/// are read under that lock and checked against the per-enterprise maximum; then the line.
pub(super) async fn grant(
    conn: &impl ConnectionTrait,
    r: &financing_request::Model,
    terms: &Terms,
    approved_by: Uuid,
    confirmed_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<credit_line::Model> {
    let limit = terms.limit.fen();
    if let Some(pid) = r.program_id {
        use credit_program::Column as P;
        let booked = credit_program::Entity::update_many()
            .col_expr(P::GrantedFen, Expr::col(P::GrantedFen).add(limit))
            .filter(P::Id.eq(pid))
            .filter(
                Expr::col(P::GrantedFen)
                    .add(limit)
                    .lte(Expr::col(P::QuotaFen)),
            )
            .exec(conn)
            .await?
            .rows_affected;
        let p = credit_program::Entity::find_by_id(pid)
            .one(conn)
            .await?
            .ok_or(AppError::NotFound)?;
        if booked == 0 {
            return Err(quota_exceeded(&p, terms.limit));
        }
        let held = held_by_enterprise(conn, pid, r.enterprise_id).await?;
        if held + limit > p.max_per_enterprise_fen {
            // The transaction rolls back, the program's raise with it.
            return Err(enterprise_limit_exceeded(&p, held, terms.limit));
        }
    }
    Ok(credit_line::ActiveModel {
        id: Set(Uuid::now_v7()),
        request_id: Set(r.id),
        enterprise_id: Set(r.enterprise_id),
        bank_id: Set(r.bank_id),
        chain_id: Set(r.chain_id),
        program_id: Set(r.program_id),
        limit_fen: Set(limit),
        outstanding_fen: Set(0),
        used_fen: Set(0),
        rate_e4: Set(terms.rate.e4()),
        term_months: Set(terms.term_months),
        revolving: Set(terms.revolving),
        status: Set(CreditLineStatus::Active),
        expires_on: Set(terms.expires_on),
        approved_by: Set(approved_by),
        confirmed_by: Set(confirmed_by),
        approved_at: Set(now),
        first_drawdown_at: Set(None),
        closed_at: Set(None),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?)
}
