//! Baseline for the HTTP benchmark: a bare actix-web server answering `GET /api/v1/me` with a
//! constant body shaped like the real one (no database, no auth, no middleware), so that
//! `bench/scripts/me.sh` can report the real API's throughput as a ratio of this one.
//!
//! `PORT` (default 8090) on 127.0.0.1.

use actix_web::{App, HttpResponse, HttpServer, web};
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
}

/// Serialises on every request, as the real handler does, rather than returning cached bytes.
async fn me(id: web::Data<Uuid>) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        id: **id,
        username: "admin",
        display_name: "系统管理员",
        role: "admin",
        organization_id: None,
        email: None,
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
    let id = web::Data::new(Uuid::new_v4());
    HttpServer::new(move || {
        App::new()
            .app_data(id.clone())
            .route("/api/v1/me", web::get().to(me))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
