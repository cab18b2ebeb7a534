//! The platform's layered settings. They live in `jobs` (below `api`), so the api and the
//! `jobs` binary read exactly the same file and `LIANTONG__*` variables.

pub use jobs::settings::{Environment, Settings, SettingsError};
