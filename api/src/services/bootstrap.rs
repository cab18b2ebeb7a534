//! First start: the admin account and the JWT secret of the embedded default.

use crate::{config::Settings, error::AppResult, state::AppState};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::{enums::Role, user};
use rand::RngCore;
use sea_orm::{EntityTrait, PaginatorTrait};
use secrecy::ExposeSecret;

/// Creates user `admin` when no user exists; returns the generated password if one was made.
pub async fn ensure_admin(state: &AppState) -> AppResult<Option<String>> {
    if user::Entity::find().count(&state.db).await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match &state.settings.bootstrap_admin_password {
        Some(p) => (p.expose_secret().to_string(), false),
        None => (random_token(18), true),
    };
    let hash = state.passwords.hash(password.clone()).await?;
    let now = state.clock.now();
    let created = super::users::insert(
        &state.db,
        now,
        "admin".into(),
        hash,
        "系统管理员".into(),
        None,
        Role::Admin,
        None,
    )
    .await;
    match created {
        Ok(_) => Ok(generated.then_some(password)),
        // Another instance created it first.
        Err(crate::error::AppError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A URL-safe random string of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// The JWT secret: `JWT_SECRET`, or one generated once and kept in `DATA_DIR/jwt_secret`.
pub fn jwt_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = &settings.jwt_secret {
        return Ok(s.expose_secret().as_bytes().to_vec());
    }
    let path = settings.data_dir.join("jwt_secret");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => Ok(s.trim().as_bytes().to_vec()),
        _ => {
            std::fs::create_dir_all(&settings.data_dir)?;
            let secret = random_token(48);
            write_private(&path, &secret)?;
            tracing::info!(path = %path.display(), "generated a JWT secret");
            Ok(secret.into_bytes())
        }
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}
