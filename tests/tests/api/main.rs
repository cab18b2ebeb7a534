//! Integration tests: the real application over HTTP, on SQLite or PostgreSQL
//! (`TEST_DATABASE_URL`). One binary, one module per area.

mod smoke;
