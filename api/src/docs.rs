//! `GET /docs`: Swagger UI over `/api/v1/openapi.json`, served entirely from the binary so it
//! works without internet access. The vendored files and their version are in
//! `api/assets/swagger-ui/` (see `VERSION`).

use std::{
    hash::{DefaultHasher, Hasher},
    sync::LazyLock,
};

use actix_web::{
    HttpResponse,
    http::header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
        X_FRAME_OPTIONS,
    },
    web,
};

/// A file served under `/docs/assets/{file}`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "swagger-ui-bundle.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js"),
    },
    Asset {
        name: "swagger-ui.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/swagger-ui/swagger-ui.css"),
    },
    Asset {
        name: "init.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/docs/init.js"),
    },
];

const INDEX_TEMPLATE: &str = include_str!("../assets/docs/index.html");

/// Assets are cached for a year; the page adds `?v=<content hash>` to their URLs, so a new
/// build with different assets is fetched afresh.
const ASSET_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// The page itself is small and must pick up new asset versions at once.
const PAGE_CACHE_CONTROL: &str = "no-cache";

/// Only the page's own assets run or load; Swagger UI sets inline `style` attributes and shows
/// its logo and icons as `data:` images, so those two are allowed, nothing else.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";

/// `/docs` with the cache-busting version filled in, built once.
static INDEX_HTML: LazyLock<String> = LazyLock::new(|| {
    // `DefaultHasher::new()` has fixed keys, so every process of one build computes the same token.
    let mut hasher = DefaultHasher::new();
    for asset in ASSETS {
        hasher.write(asset.body);
    }
    INDEX_TEMPLATE.replace("{{VERSION}}", &format!("{:016x}", hasher.finish()))
});

/// Registers `GET /docs` and `GET /docs/assets/{file}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/docs", web::get().to(index))
        .route("/docs/assets/{file}", web::get().to(asset));
}

/// `GET /docs`: the browsable API reference (Swagger UI served from the binary).
#[utoipa::path(get, path = "/docs", tag = "docs",
    responses((status = 200, description = "HTML page rendering /api/v1/openapi.json", content_type = "text/html")))]
pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((CACHE_CONTROL, PAGE_CACHE_CONTROL))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((CONTENT_SECURITY_POLICY, PAGE_CSP))
        .insert_header((X_FRAME_OPTIONS, "DENY"))
        .body(INDEX_HTML.as_str())
}

async fn asset(file: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|asset| asset.name == file.as_str()) {
        Some(asset) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, asset.content_type))
            .insert_header((CACHE_CONTROL, ASSET_CACHE_CONTROL))
            .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(asset.body),
        None => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{
        App,
        test::{TestRequest, call_service, init_service, read_body},
    };

    use super::*;

    macro_rules! app {
        () => {
            init_service(App::new().configure(configure)).await
        };
    }

    fn header<'a>(res: &'a actix_web::dev::ServiceResponse, name: &str) -> &'a str {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    #[actix_web::test]
    async fn docs_page_is_html_that_uses_only_local_assets() {
        let app = app!();
        let res = call_service(&app, TestRequest::get().uri("/docs").to_request()).await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert!(header(&res, "content-security-policy").contains("script-src 'self';"));
        let body = read_body(res).await;
        let html = std::str::from_utf8(&body).unwrap();
        assert!(
            html.contains(r#"src="/docs/assets/swagger-ui-bundle.js?v="#),
            "{html}"
        );
        assert!(html.contains(r#"href="/docs/assets/swagger-ui.css?v="#));
        assert!(html.contains(r#"src="/docs/assets/init.js?v="#));
        assert!(html.contains("/api/v1/openapi.json"));
        assert!(!html.contains("{{VERSION}}"));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }

    #[actix_web::test]
    async fn assets_are_served_with_type_and_long_cache() {
        let app = app!();
        for (file, content_type) in [
            ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
            ("swagger-ui.css", "text/css; charset=utf-8"),
            ("init.js", "text/javascript; charset=utf-8"),
        ] {
            let uri = format!("/docs/assets/{file}");
            let res = call_service(&app, TestRequest::get().uri(&uri).to_request()).await;
            assert_eq!(res.status(), 200, "{file}");
            assert_eq!(header(&res, "content-type"), content_type);
            assert_eq!(header(&res, "cache-control"), ASSET_CACHE_CONTROL);
            assert!(!read_body(res).await.is_empty());
        }
    }

    #[actix_web::test]
    async fn unknown_asset_is_404() {
        let app = app!();
        for uri in [
            "/docs/assets/nope.js",
            "/docs/assets/LICENSE",
            "/docs/assets/..%2Fmain.rs",
        ] {
            let res = call_service(&app, TestRequest::get().uri(uri).to_request()).await;
            assert_eq!(res.status(), 404, "{uri}");
        }
    }

    #[test]
    fn init_script_disables_the_online_validator() {
        let init = ASSETS.iter().find(|a| a.name == "init.js").unwrap();
        let text = std::str::from_utf8(init.body).unwrap();
        assert!(text.contains("validatorUrl: null"));
    }
}
