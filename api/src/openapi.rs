//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`.

use crate::{error, routes, services};
use actix_web::{HttpResponse, get};
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

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

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The whole API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Liantong 链通 API", description = "Industrial-chain service platform: appeals with 1/3/5 working-day SLAs, supply-chain finance, funds."),
    paths(
        routes::health::live, routes::health::ready,
        routes::auth::login, routes::auth::refresh, routes::auth::logout, routes::auth::me,
        routes::organizations::create, routes::organizations::list, routes::organizations::get,
        routes::organizations::register, routes::organizations::verify,
        routes::organizations::put_qualification, routes::organizations::delete_qualification,
        routes::users::create, routes::users::deactivate, routes::users::activate,
        routes::chains::create, routes::chains::list, routes::chains::get,
        routes::chains::put_member, routes::chains::delete_member, routes::chains::put_bank, routes::chains::delete_bank,
        routes::chains::accept_member, routes::chains::decline_member,
        routes::qualification_proposals::propose, routes::qualification_proposals::list,
        routes::qualification_proposals::get, routes::qualification_proposals::confirm,
        routes::qualification_proposals::decline,
        routes::calendar::days, routes::calendar::put_day, routes::calendar::delete_day,
        routes::calendar::get_settings, routes::calendar::put_settings, routes::calendar::deadline,
        routes::appeals::create, routes::appeals::list, routes::appeals::get, routes::appeals::events,
        routes::appeals::assign, routes::appeals::transfer, routes::appeals::return_, routes::appeals::reply,
        routes::appeals::opinion, routes::appeals::resolve, routes::appeals::request_info, routes::appeals::supplement,
        routes::appeals::extension, routes::appeals::extension_decision, routes::appeals::rate, routes::appeals::reopen,
        routes::appeals::withdraw, routes::appeals::supervise,
        routes::sla_admin::policies, routes::sla_admin::put_policy, routes::sla_admin::rules,
        routes::sla_admin::put_rule, routes::sla_admin::delete_rule,
        routes::dashboard::sla, routes::dashboard::sla_csv, routes::dashboard::at_risk,
        routes::jobs::list, routes::jobs::run, routes::outbox::list, routes::outbox::retry,
        openapi_json, crate::metrics::handler, crate::docs::index,
    ),
    components(schemas(error::Problem, error::FieldError, OrganizationPage, ChainPage, AppealPage, routes::jobs::JobPage, routes::outbox::MailPage,
        routes::qualification_proposals::ProposalPage,
        services::dashboard::SlaDashboard, services::dashboard::SlaRow, services::dashboard::GroupBy,
        services::dashboard::AtRiskPage, services::dashboard::AtRiskItem)),
    modifiers(&BearerAuth),
    tags(
        (name = "health"), (name = "auth"), (name = "organizations"), (name = "users"),
        (name = "chains"), (name = "qualifications"), (name = "calendar"), (name = "appeals"), (name = "dashboard"), (name = "jobs"), (name = "docs"),
    )
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "docs", responses((status = 200, description = "OpenAPI 3.1 document")))]
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
