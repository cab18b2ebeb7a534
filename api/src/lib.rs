//! Liantong's HTTP API: actix-web routes over the use-cases in `services`.

pub mod auth;
pub mod config;
pub mod csv;
pub mod db;
pub mod demo;
pub mod demo_appeals;
pub mod demo_finance;
pub mod demo_funds;
pub mod docs;
pub mod edge;
pub mod error;
pub mod idempotency;
pub mod item_cache;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod rfc3339;
pub mod routes;
pub(crate) mod rows;
pub mod schemas;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
