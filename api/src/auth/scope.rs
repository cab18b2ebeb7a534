//! Who sees what: the one place where visibility of each resource is decided. Every list and
//! every single-object read goes through these conditions, so a new endpoint cannot forget them.
//! An object outside the caller's scope answers 404, exactly like one that does not exist.

use super::AuthUser;
use entity::{
    appeal, appeal_assignment, bank_report, chain, chain_bank, chain_member, conflict, credit_line,
    credit_program,
    enums::{MembershipStatus, OrgKind, Role},
    financing_request, fund_application, organization, qualification_proposal, risk_claim,
};
use sea_orm::{
    ColumnTrait, Condition,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};
use uuid::Uuid;

/// Chains run by the caller's organization (as chain office).
fn chains_of_office(org: Uuid) -> SelectStatement {
    Query::select()
        .column(chain::Column::Id)
        .from(chain::Entity)
        .and_where(chain::Column::OfficeOrganizationId.eq(org))
        .to_owned()
}

/// Chains the caller's organization serves as lead or partner bank.
fn chains_of_bank(org: Uuid) -> SelectStatement {
    Query::select()
        .column(chain_bank::Column::ChainId)
        .from(chain_bank::Entity)
        .and_where(chain_bank::Column::OrganizationId.eq(org))
        .to_owned()
}

/// Memberships that count: accepted (or added by an admin). An invitation grants nothing, so
/// every visibility derived from membership goes through this condition.
fn active_membership() -> Expr {
    chain_member::Column::Status.eq(MembershipStatus::Active)
}

/// Enterprises that are active members of any chain in `chains`.
fn members_of(chains: SelectStatement) -> SelectStatement {
    Query::select()
        .column(chain_member::Column::OrganizationId)
        .from(chain_member::Entity)
        .and_where(chain_member::Column::ChainId.in_subquery(chains))
        .and_where(active_membership())
        .to_owned()
}

fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

/// Organizations the caller may see. Public bodies (banks, departments, offices) are visible to
/// every signed-in user; an enterprise's record only to itself, to the offices and banks of the
/// chains it is an active member of, and to the platform-wide roles. A chain office that has only
/// invited an enterprise sees its public name and USCC in the chain's member list, nothing more.
pub fn organizations(user: &AuthUser) -> Condition {
    match user.role {
        Role::Admin | Role::ServiceCenter | Role::FundOffice => Condition::all(),
        _ => {
            let mut any = Condition::any().add(organization::Column::Kind.ne(OrgKind::Enterprise));
            if let Some(org) = user.organization_id {
                any = any.add(organization::Column::Id.eq(org));
                match user.role {
                    Role::ChainOffice => {
                        any = any.add(
                            organization::Column::Id.in_subquery(members_of(chains_of_office(org))),
                        )
                    }
                    Role::Bank => {
                        any = any.add(
                            organization::Column::Id.in_subquery(members_of(chains_of_bank(org))),
                        )
                    }
                    _ => {}
                }
            }
            any
        }
    }
}

/// Chains the caller may see: a chain office only its own chains, everyone else all of them
/// (the chain roster is the platform's public directory).
pub fn chains(user: &AuthUser) -> Condition {
    match (user.role, user.organization_id) {
        (Role::ChainOffice, Some(org)) => {
            Condition::all().add(chain::Column::OfficeOrganizationId.eq(org))
        }
        (Role::ChainOffice, None) => nothing(),
        _ => Condition::all(),
    }
}

/// Whether the caller may change the membership of a chain (admin, or that chain's office).
pub fn may_manage_chain_members(user: &AuthUser, chain: &chain::Model) -> bool {
    user.is_admin()
        || (user.role == Role::ChainOffice && user.belongs_to(chain.office_organization_id))
}

/// Whether enterprise `org` is an active member of one of the chains the calling chain office
/// runs.
pub async fn chain_office_has_member(
    conn: &impl sea_orm::ConnectionTrait,
    user: &AuthUser,
    org: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
    let Some(office) = user.organization_id else {
        return Ok(false);
    };
    let n = chain_member::Entity::find()
        .filter(chain_member::Column::OrganizationId.eq(org))
        .filter(chain_member::Column::ChainId.in_subquery(chains_of_office(office)))
        .filter(active_membership())
        .count(conn)
        .await?;
    Ok(n > 0)
}

/// Whether enterprise `org` is an active member of chain `chain` (an invitation is not).
pub async fn is_active_member(
    conn: &impl sea_orm::ConnectionTrait,
    chain: Uuid,
    org: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
    let n = chain_member::Entity::find()
        .filter(chain_member::Column::ChainId.eq(chain))
        .filter(chain_member::Column::OrganizationId.eq(org))
        .filter(active_membership())
        .count(conn)
        .await?;
    Ok(n > 0)
}

/// Memberships of `chain` the caller may see in its member list: the admin and the chain's
/// office every invitation too, an enterprise its own membership whatever its status, everyone
/// else only active members.
pub fn chain_members(user: &AuthUser, chain: &chain::Model) -> Condition {
    let of_chain = Condition::all().add(chain_member::Column::ChainId.eq(chain.id));
    if may_manage_chain_members(user, chain) {
        return of_chain;
    }
    let mut shown = Condition::any().add(active_membership());
    if let (Role::Enterprise, Some(org)) = (user.role, user.organization_id) {
        shown = shown.add(chain_member::Column::OrganizationId.eq(org));
    }
    of_chain.add(shown)
}

/// Qualification proposals the caller may see: the fund office and admins all of them, a chain
/// office those its organization made, nobody else any.
pub fn qualification_proposals(user: &AuthUser) -> Condition {
    match (user.role, user.organization_id) {
        (Role::Admin | Role::FundOffice, _) => Condition::all(),
        (Role::ChainOffice, Some(org)) => {
            Condition::all().add(qualification_proposal::Column::ProposedByOrg.eq(org))
        }
        _ => nothing(),
    }
}

/// Appeals the caller may see: an enterprise its own, a department those assigned to it now or
/// before, a chain office those of its chains, the service centre and admins all; banks and fund
/// offices none.
pub fn appeals(user: &AuthUser) -> Condition {
    let Some(org) = user.organization_id else {
        return match user.role {
            Role::Admin => Condition::all(),
            _ => nothing(),
        };
    };
    match user.role {
        Role::Admin | Role::ServiceCenter => Condition::all(),
        Role::Enterprise => Condition::all().add(appeal::Column::EnterpriseId.eq(org)),
        Role::Department => Condition::any()
            .add(appeal::Column::DepartmentId.eq(org))
            .add(
                appeal::Column::Id.in_subquery(
                    Query::select()
                        .column(appeal_assignment::Column::AppealId)
                        .from(appeal_assignment::Entity)
                        .and_where(appeal_assignment::Column::DepartmentId.eq(org))
                        .to_owned(),
                ),
            ),
        Role::ChainOffice => {
            Condition::all().add(appeal::Column::ChainId.in_subquery(chains_of_office(org)))
        }
        Role::Bank | Role::FundOffice => nothing(),
    }
}

/// Credit programs the caller may see: the chain's published credit policy, visible to every
/// signed-in user except that a chain office sees only its own chains' programs.
pub fn credit_programs(user: &AuthUser) -> Condition {
    match (user.role, user.organization_id) {
        (Role::ChainOffice, Some(org)) => {
            Condition::all().add(credit_program::Column::ChainId.in_subquery(chains_of_office(org)))
        }
        (Role::ChainOffice, None) => nothing(),
        _ => Condition::all(),
    }
}

/// Financing requests the caller may see: an enterprise its own, a bank those routed to it now,
/// a chain office those of its chains, the service centre and admins all; departments and fund
/// offices none.
pub fn financing_requests(user: &AuthUser) -> Condition {
    use financing_request::Column as F;
    finance_scope(user, F::EnterpriseId, F::BankId, F::ChainId)
}

/// Credit lines the caller may see: an enterprise its own, a bank those it granted, a chain
/// office those of its chains, the service centre and admins all.
pub fn credit_lines(user: &AuthUser) -> Condition {
    use credit_line::Column as L;
    finance_scope(user, L::EnterpriseId, L::BankId, L::ChainId)
}

/// Lead-bank reports the caller may see: a bank its own, a chain office its chains', the service
/// centre and admins all.
pub fn bank_reports(user: &AuthUser) -> Condition {
    let Some(org) = user.organization_id else {
        return if user.role == Role::Admin {
            Condition::all()
        } else {
            nothing()
        };
    };
    match user.role {
        Role::Admin | Role::ServiceCenter => Condition::all(),
        Role::Bank => Condition::all().add(bank_report::Column::BankId.eq(org)),
        Role::ChainOffice => {
            Condition::all().add(bank_report::Column::ChainId.in_subquery(chains_of_office(org)))
        }
        _ => nothing(),
    }
}

/// The one rule of the finance records: by enterprise, bank or chain office.
fn finance_scope<C: ColumnTrait>(user: &AuthUser, enterprise: C, bank: C, chain: C) -> Condition {
    let Some(org) = user.organization_id else {
        return if user.role == Role::Admin {
            Condition::all()
        } else {
            nothing()
        };
    };
    match user.role {
        Role::Admin | Role::ServiceCenter => Condition::all(),
        Role::Enterprise => Condition::all().add(enterprise.eq(org)),
        Role::Bank => Condition::all().add(bank.eq(org)),
        Role::ChainOffice => Condition::all().add(chain.in_subquery(chains_of_office(org))),
        Role::Department | Role::FundOffice => nothing(),
    }
}

/// Fund applications the caller may see: an enterprise its own, a chain office those it reviews
/// (applied through one of its chains) and those of its chains' member enterprises, the fund
/// office and admins all; nobody else any.
pub fn fund_applications(user: &AuthUser) -> Condition {
    use fund_application::Column as F;
    let Some(org) = user.organization_id else {
        return if user.role == Role::Admin {
            Condition::all()
        } else {
            nothing()
        };
    };
    match user.role {
        Role::Admin | Role::FundOffice => Condition::all(),
        Role::Enterprise => Condition::all().add(F::EnterpriseId.eq(org)),
        Role::ChainOffice => Condition::any()
            .add(F::ChainId.in_subquery(chains_of_office(org)))
            .add(F::EnterpriseId.in_subquery(members_of(chains_of_office(org)))),
        _ => nothing(),
    }
}

/// Risk-compensation claims the caller may see: a bank its own, a chain office its chains', the
/// fund office and admins all.
pub fn risk_claims(user: &AuthUser) -> Condition {
    use risk_claim::Column as C;
    let Some(org) = user.organization_id else {
        return if user.role == Role::Admin {
            Condition::all()
        } else {
            nothing()
        };
    };
    match user.role {
        Role::Admin | Role::FundOffice => Condition::all(),
        Role::Bank => Condition::all().add(C::BankId.eq(org)),
        Role::ChainOffice => Condition::all().add(C::ChainId.in_subquery(chains_of_office(org))),
        _ => nothing(),
    }
}

/// Declared conflicts of interest the caller may see: the fund office and admins all, a
/// reviewer their own.
pub fn conflicts(user: &AuthUser) -> Condition {
    match user.role {
        Role::Admin | Role::FundOffice => Condition::all(),
        _ => Condition::all().add(conflict::Column::ReviewerId.eq(user.id)),
    }
}

/// The role of bank `org` in chain `chain` (`None`: it does not serve the chain).
pub async fn bank_role(
    conn: &impl sea_orm::ConnectionTrait,
    chain: Uuid,
    org: Uuid,
) -> Result<Option<entity::enums::BankRole>, sea_orm::DbErr> {
    use sea_orm::EntityTrait;
    Ok(chain_bank::Entity::find_by_id((chain, org))
        .one(conn)
        .await?
        .map(|b| b.role))
}

/// Whether the caller may see `subject` — the very conditions of that subject type's own reads
/// above, so what decides a file attached to an object is what decides the object.
pub async fn may_see(
    conn: &impl sea_orm::ConnectionTrait,
    user: &AuthUser,
    subject: entity::subject::Subject,
) -> Result<bool, sea_orm::DbErr> {
    use entity::enums::SubjectType as T;
    use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
    let id = subject.id;
    let n = match subject.kind {
        T::Appeal => {
            appeal::Entity::find_by_id(id)
                .filter(appeals(user))
                .count(conn)
                .await?
        }
        T::FinancingRequest => {
            financing_request::Entity::find_by_id(id)
                .filter(financing_requests(user))
                .count(conn)
                .await?
        }
        T::FundApplication => {
            fund_application::Entity::find_by_id(id)
                .filter(fund_applications(user))
                .count(conn)
                .await?
        }
        T::RiskClaim => {
            risk_claim::Entity::find_by_id(id)
                .filter(risk_claims(user))
                .count(conn)
                .await?
        }
    };
    Ok(n > 0)
}
