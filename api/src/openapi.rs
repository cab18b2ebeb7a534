//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`.

use crate::{
    error, routes,
    routes::pages::{AppealPage, ChainPage, OrganizationPage},
    schemas::uscc,
    services,
};
use actix_web::{HttpResponse, get};
use std::sync::LazyLock;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        Content, Ref, RefOr, Response, Schema,
        path::{Operation, ParameterIn},
        schema::{ObjectBuilder, SchemaType, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};

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

/// Declares on every operation the error statuses that follow from its shape, so no annotation
/// can forget one and a new route gets them too: 401 when it needs a token; 400 (malformed JSON
/// or query string) when it takes query parameters or a JSON body; 404 when it has path
/// parameters; 408, 413, 415 and 422 when it takes a JSON body; 409 and 422 when it takes an
/// `Idempotency-Key`; 503 unless it is one of the few that never touch the database. Statuses
/// an annotation declares itself (403, 409, 422, 429, ...) keep their description. Every error
/// answer is `application/problem+json` with the `Problem` schema.
struct ErrorStatuses;

/// Operations answered without the database (or any other dependency that can be saturated).
const NO_DEPENDENCY: &[&str] = &["/health/live", "/api/v1/openapi.json", "/docs", "/metrics"];

impl Modify for ErrorStatuses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let independent = NO_DEPENDENCY.contains(&path.as_str());
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
            {
                declare_statuses(op, independent);
                no_null_parameters(op);
                idempotency_key_schema(op);
            }
        }
    }
}

fn declare_statuses(op: &mut Operation, independent: bool) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_in = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
    let (query, path) = (has_in(ParameterIn::Query), has_in(ParameterIn::Path));
    let idempotent = params
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Header && p.name == "Idempotency-Key");
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.keys().any(|c| c.contains("json")));
    let authenticated = op
        .security
        .as_ref()
        .is_some_and(|s| !s.is_empty() && !s.contains(&SecurityRequirement::default()));
    let mut add = |applies: bool, status: &str, description: &str| {
        if applies {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| Response::new(description).into());
        }
    };
    add(
        query || json_body,
        "400",
        "Malformed JSON body or query string.",
    );
    add(authenticated, "401", "No token, or a bad or expired one.");
    add(path, "404", "Not found, or not visible to the caller.");
    add(
        json_body,
        "408",
        "The body did not arrive within the deadline.",
    );
    add(
        idempotent,
        "409",
        "A request with this `Idempotency-Key` is still in progress.",
    );
    add(json_body, "413", "The body is larger than the limit.");
    add(
        json_body,
        "415",
        "The body is declared as something other than JSON.",
    );
    add(
        json_body || idempotent,
        "422",
        "Validation failed; `errors` names each field.",
    );
    add(
        !independent,
        "503",
        "A dependency is unavailable or saturated (the database; password hashing where a password is checked or set); retry later.",
    );
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && status.as_str() >= "400"
            && response.content.is_empty()
        {
            response.content.insert(
                "application/problem+json".into(),
                Content::new(Some(Ref::from_schema_name("Problem"))),
            );
        }
    }
}

/// Parameters travel as text, where JSON `null` has no spelling: an optional parameter is one
/// that may be left out, so its schema admits no `null` (utoipa adds one for `Option`).
fn no_null_parameters(op: &mut Operation) {
    for p in op.parameters.iter_mut().flatten() {
        let Some(RefOr::T(schema)) = &mut p.schema else {
            continue;
        };
        match schema {
            Schema::Object(o) => {
                if let SchemaType::Array(types) = &o.schema_type {
                    let kept: Vec<Type> = types
                        .iter()
                        .filter(|t| **t != Type::Null)
                        .cloned()
                        .collect();
                    if let [only] = kept.as_slice() {
                        o.schema_type = SchemaType::Type(only.clone());
                    } else {
                        o.schema_type = SchemaType::Array(kept);
                    }
                }
            }
            Schema::OneOf(one) => {
                one.items.retain(|item| {
                    !matches!(item, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
                });
                if one.items.len() == 1 {
                    let only = one.items.remove(0);
                    p.schema = Some(only);
                }
            }
            _ => {}
        }
    }
}

/// `Idempotency-Key`: 1 to 128 visible ASCII characters (a header value has no surrounding
/// whitespace).
fn idempotency_key_schema(op: &mut Operation) {
    for p in op.parameters.iter_mut().flatten() {
        if p.parameter_in == ParameterIn::Header && p.name == "Idempotency-Key" {
            p.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(crate::idempotency::MAX_KEY_LEN))
                    .pattern(Some(r"^[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?$"))
                    .into(),
            );
        }
    }
}

/// Rules between fields of one body, as JSON Schema `if`/`then` (utoipa has no attribute for
/// them): a fuzzer then knows the body `{"kind": "bank"}` is incomplete, and a client does too.
struct FieldConditions;

impl Modify for FieldConditions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use sea_orm::Iterable;
        let needs_uscc = entity::enums::OrgKind::iter()
            .filter(|k| k.requires_uscc())
            .map(|k| k.code())
            .collect::<Vec<String>>();
        let condition = serde_json::json!({
            "if": {"properties": {"kind": {"enum": needs_uscc}}, "required": ["kind"]},
            "then": {"required": ["uscc"], "properties": {"uscc": uscc()}},
        });
        let schemas = openapi.components.as_mut().map(|c| &mut c.schemas);
        if let Some(RefOr::T(Schema::Object(o))) =
            schemas.and_then(|s| s.get_mut("NewOrganization"))
            && let serde_json::Value::Object(keywords) = condition
        {
            o.extensions
                .get_or_insert_with(Default::default)
                .extend(keywords);
        }
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
        routes::notifications::list, routes::notifications::unread_count, routes::notifications::read,
        routes::notifications::read_all, routes::notifications::stream,
        routes::notifications::get_preferences, routes::notifications::put_preferences,
        routes::finance::create_program, routes::finance::list_programs, routes::finance::get_program,
        routes::finance::create_request, routes::finance::list_requests, routes::finance::get_request,
        routes::finance::request_events, routes::finance::accept, routes::finance::request_info,
        routes::finance::supplement, routes::finance::approve, routes::finance::reject,
        routes::finance::withdraw, routes::finance::refer,
        routes::finance::get_settings, routes::finance::put_settings,
        routes::credit_lines::list, routes::credit_lines::get, routes::credit_lines::movements,
        routes::credit_lines::drawdown, routes::credit_lines::repayment, routes::credit_lines::reverse,
        routes::credit_lines::freeze, routes::credit_lines::unfreeze, routes::credit_lines::close,
        routes::bank_reports::generate, routes::bank_reports::list, routes::bank_reports::csv, routes::bank_reports::get,
        routes::funds::create_program, routes::funds::list_programs, routes::funds::eligible, routes::funds::get_program,
        routes::funds::create_application, routes::funds::list_applications, routes::funds::get_application,
        routes::funds::application_events, routes::funds::initial_review, routes::funds::resubmit,
        routes::funds::final_review, routes::funds::withdraw, routes::funds::public_notices, routes::funds::raise_objection,
        routes::funds::decide_objection, routes::funds::disburse, routes::funds::reverse_disbursement,
        routes::funds::declare_conflict, routes::funds::list_conflicts, routes::funds::create_claim,
        routes::funds::list_claims, routes::funds::get_claim, routes::funds::decide_claim, routes::funds::pay_claim,
        routes::funds::recover, routes::files::upload, routes::files::download,
        openapi_json, crate::metrics::handler, crate::docs::index,
    ),
    components(schemas(error::Problem, error::FieldError, OrganizationPage, ChainPage, AppealPage, routes::jobs::JobPage, routes::outbox::MailPage,
        routes::qualification_proposals::ProposalPage, routes::notifications::NotificationPage,
        routes::pages::ProgramPage, routes::pages::FinancingRequestPage,
        services::dashboard::SlaDashboard, services::dashboard::SlaRow, services::dashboard::GroupBy,
        services::dashboard::AtRiskPage, services::dashboard::AtRiskItem,
        routes::credit_lines::CreditLinePage, routes::credit_lines::MovementPage, routes::bank_reports::BankReportPage,
        routes::funds::FundProgramPage, routes::funds::EligiblePage, routes::funds::FundApplicationPage,
        routes::funds::PublicNoticePage, routes::funds::ConflictPage, routes::funds::RiskClaimPage)),
    modifiers(&BearerAuth, &ErrorStatuses, &FieldConditions),
    tags(
        (name = "health"), (name = "auth"), (name = "organizations"), (name = "users"),
        (name = "chains"), (name = "qualifications"), (name = "calendar"), (name = "appeals"), (name = "dashboard"), (name = "jobs"), (name = "notifications"), (name = "finance"), (name = "funds"), (name = "files"), (name = "docs"),
    )
)]
pub struct ApiDoc;

/// The methods this document declares for a concrete request path (`/api/v1/chains/…`), as an
/// `Allow` header value; `None` when no declared path matches.
pub fn allowed_methods(path: &str) -> Option<String> {
    static ROUTES: LazyLock<Vec<(Vec<String>, String)>> = LazyLock::new(|| {
        ApiDoc::openapi()
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, declared)| declared.then_some(m))
                .collect::<Vec<_>>()
                .join(", ");
                (template.split('/').map(str::to_string).collect(), methods)
            })
            .collect()
    });
    let segments: Vec<&str> = path.split('/').collect();
    // Of the templates that match, the one with the most literal segments, as the router picks
    // `/x/unread-count` over `/x/{id}`.
    ROUTES
        .iter()
        .filter_map(|(template, methods)| {
            let mut literal = 0;
            let matches = template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| {
                    let param = t.starts_with('{') && t.ends_with('}') && !s.is_empty();
                    literal += usize::from(t == s);
                    t == s || param
                });
            matches.then_some((literal, methods))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, methods)| methods.clone())
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "docs", responses((status = 200, description = "OpenAPI 3.1 document")))]
#[get("/openapi.json")]
pub async fn openapi_json() -> Result<HttpResponse, error::AppError> {
    // Built once: the document is fixed for the life of the process.
    static DOCUMENT: LazyLock<Result<String, String>> =
        LazyLock::new(|| ApiDoc::openapi().to_json().map_err(|e| e.to_string()));
    match DOCUMENT.as_ref() {
        Ok(json) => Ok(HttpResponse::Ok()
            .content_type("application/json")
            .body(json.as_str())),
        Err(e) => Err(error::AppError::Internal(anyhow::anyhow!(
            "the OpenAPI document does not serialize: {e}"
        ))),
    }
}
