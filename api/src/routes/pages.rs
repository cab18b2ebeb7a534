//! The page shapes of the paged lists, as the API description names them.

use crate::services;
use utoipa::ToSchema;

/// A page of organizations.
#[derive(ToSchema)]
pub struct OrganizationPage {
    pub items: Vec<services::organizations::OrganizationView>,
    pub next_cursor: Option<String>,
}

/// A page of appeals.
#[derive(ToSchema)]
pub struct AppealPage {
    pub items: Vec<services::appeals::AppealView>,
    pub next_cursor: Option<String>,
}

/// A page of chains.
#[derive(ToSchema)]
pub struct ChainPage {
    pub items: Vec<services::chains::ChainView>,
    pub next_cursor: Option<String>,
}

/// A page of credit programs.
#[derive(ToSchema)]
pub struct ProgramPage {
    pub items: Vec<services::finance::programs::ProgramView>,
    pub next_cursor: Option<String>,
}

/// A page of financing requests.
#[derive(ToSchema)]
pub struct FinancingRequestPage {
    pub items: Vec<services::finance::requests::FinancingRequestView>,
    pub next_cursor: Option<String>,
}
