//! Baseline for the HTTP benchmark: a bare actix-web server answering `GET /api/v1/me` with a
//! constant body shaped like the real one (no database, no auth, no middleware), so that
//! `bench/scripts/me.sh` can report the real API's throughput as a ratio of this one.
//!
//! `PORT` (default 8090) on 127.0.0.1.

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// Same fields, order and types as the real `GET /api/v1/me` answer.
#[derive(Serialize)]
struct Me {
    id: Uuid,
    username: &'static str,
    display_name: &'static str,
    role: &'static str,
    organization_id: Option<Uuid>,
    email: Option<&'static str>,
    active: bool,
    created_at: DateTime<Utc>,
}

/// Per-process constants of the answer.
struct Admin {
    id: Uuid,
    created_at: DateTime<Utc>,
}

/// Serialises on every request, as the real handler does, rather than returning cached bytes.
async fn me(admin: web::Data<Admin>) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        id: admin.id,
        username: "admin",
        display_name: "系统管理员",
        role: "admin",
        organization_id: None,
        email: None,
        active: true,
        created_at: admin.created_at,
    })
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = match std::env::var("PORT") {
        Ok(port) => port
            .parse::<u16>()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        Err(_) => 8090,
    };
    let admin = web::Data::new(Admin {
        id: Uuid::now_v7(),
        created_at: Utc::now(),
    });
    HttpServer::new(move || {
        App::new()
            .app_data(admin.clone())
            .route("/api/v1/me", web::get().to(me))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
