//! Login with throttling, refresh-token rotation with reuse detection, logout, and `/me`.

use crate::{
    error::{AppError, AppResult},
    state::AppState,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use entity::{enums::Role, login_attempt, login_throttle, refresh_token, user};
use rand::RngCore;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    pub email: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<user::Model> for UserView {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            organization_id: u.organization_id,
            email: u.email,
            active: u.active,
            created_at: u.created_at,
        }
    }
}

/// The answer of login and refresh.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
    pub user: UserView,
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn invalid_credentials() -> AppError {
    AppError::Unauthorized("invalid username or password".into())
}

/// The client address a login is throttled by.
pub fn client_address(req: &actix_web::HttpRequest, trust_forwarded_for: bool) -> String {
    let info = req.connection_info();
    let addr = if trust_forwarded_for {
        info.realip_remote_addr().map(str::to_owned)
    } else {
        info.peer_addr().map(str::to_owned)
    };
    let mut addr = addr.unwrap_or_default();
    // A peer address is ip:port; the port changes with every connection.
    if let Ok(sock) = addr.parse::<std::net::SocketAddr>() {
        addr = sock.ip().to_string();
    }
    addr.chars().take(64).collect()
}

/// Issues an access token and a new refresh token in `family`.
async fn issue(
    state: &AppState,
    conn: &impl ConnectionTrait,
    u: user::Model,
    family: Uuid,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let refresh = URL_SAFE_NO_PAD.encode(raw);
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(u.id),
        family_id: Set(family),
        token_hash: Set(hash_token(&refresh)),
        expires_at: Set(now + TimeDelta::seconds(state.settings.refresh_token_ttl_secs)),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    let access = state.jwt.issue(
        u.id,
        u.role,
        u.organization_id,
        family,
        u.session_version,
        now,
    )?;
    Ok(TokenPair {
        access_token: access,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_secs(),
        refresh_token: refresh,
        user: u.into(),
    })
}

/// Checks a password. Throttled per (username, client address) and per client address: a
/// guesser elsewhere cannot lock a user out, and one address cannot spray many usernames.
///
/// The attempt is first recorded as a failure under a per-username row lock, so concurrent
/// guesses are counted one after another and a throttled one is answered 429 without taking a
/// hashing slot; then it waits for a slot (503, and the attempt is forgotten, when the server
/// is saturated). A success forgives that (username, address) pair. Every attempt costs exactly
/// one hash: a known user's, or the dummy's for a name no user has or could have.
#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    address: &str,
    username: &str,
    password: String,
) -> AppResult<TokenPair> {
    let now = state.clock.now();
    // A name no user could have (too long, odd characters) is just a wrong login.
    let key = super::users::normalize_username(username).unwrap_or_default();
    let window = TimeDelta::seconds(state.settings.login_window_secs);

    let txn = state.db.begin().await?;
    login_throttle::Entity::insert(login_throttle::ActiveModel {
        username: Set(key.clone()),
        updated_at: Set(now),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(&txn)
    .await?;
    // SQLite has no FOR UPDATE; its single pooled connection serializes this already.
    let lock = login_throttle::Entity::find_by_id(key.clone());
    if txn.get_database_backend() == DbBackend::Postgres {
        lock.lock_exclusive().one(&txn).await?;
    }
    let recent = login_attempt::Entity::find()
        .filter(login_attempt::Column::At.gt(now - window))
        .order_by_asc(login_attempt::Column::At);
    let of_pair = recent
        .clone()
        .filter(login_attempt::Column::Username.eq(key.as_str()))
        .filter(login_attempt::Column::Address.eq(address));
    let of_address = recent.filter(login_attempt::Column::Address.eq(address));
    for (attempts, max) in [
        (of_pair, state.settings.login_max_failures),
        (of_address, state.settings.login_max_failures_per_address),
    ] {
        if attempts.clone().count(&txn).await? >= max {
            let oldest = attempts.one(&txn).await?.map(|a| a.at).unwrap_or(now);
            txn.commit().await?;
            let retry = (oldest + window - now).num_seconds().max(1);
            return Err(AppError::TooManyRequests {
                retry_after_secs: retry,
            });
        }
    }
    let attempt = Uuid::now_v7();
    login_attempt::Entity::insert(login_attempt::ActiveModel {
        id: Set(attempt),
        username: Set(key.clone()),
        address: Set(address.to_string()),
        at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    let slot = match state.passwords.slot().await {
        Ok(slot) => slot,
        Err(busy) => {
            // Not a guess that was checked: it does not count against the user.
            login_attempt::Entity::delete_by_id(attempt)
                .exec(&state.db)
                .await?;
            return Err(busy);
        }
    };

    let found = match key.is_empty() {
        true => None,
        false => {
            user::Entity::find()
                .filter(user::Column::Username.eq(key.as_str()))
                .one(&state.db)
                .await?
        }
    };
    let stored = found
        .as_ref()
        .filter(|u| u.active)
        .map(|u| u.password_hash.clone());
    let ok = state.passwords.verify(&slot, password, stored).await?;
    drop(slot);
    let Some(u) = found.filter(|_| ok) else {
        return Err(invalid_credentials());
    };
    let txn = state.db.begin().await?;
    login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::Username.eq(key.as_str()))
        .filter(login_attempt::Column::Address.eq(address))
        .exec(&txn)
        .await?;
    let pair = issue(state, &txn, u, Uuid::now_v7(), now).await?;
    txn.commit().await?;
    Ok(pair)
}

/// Rotates a refresh token. A token presented twice revokes its whole login (theft detection).
#[tracing::instrument(skip_all)]
pub async fn refresh(state: &AppState, token: &str) -> AppResult<TokenPair> {
    let now = state.clock.now();
    let unauthorized = || AppError::Unauthorized("invalid refresh token".into());
    let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_token(token)))
        .one(&state.db)
        .await?
    else {
        return Err(unauthorized());
    };
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Err(unauthorized());
    }
    let txn = state.db.begin().await?;
    // Only one presenter can flip `used_at`; a second one is a replay.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Some(now).into())
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        revoke_family(&txn, row.family_id, now).await?;
        txn.commit().await?;
        state.sessions.forget(row.family_id);
        tracing::warn!(family = %row.family_id, "refresh token reused: login revoked");
        return Err(unauthorized());
    }
    let Some(u) = user::Entity::find_by_id(row.user_id)
        .one(&txn)
        .await?
        .filter(|u| u.active)
    else {
        return Err(unauthorized());
    };
    let pair = issue(state, &txn, u, row.family_id, now).await?;
    txn.commit().await?;
    Ok(pair)
}

/// Ends every login of `user`: its refresh tokens are revoked and its session version raised,
/// so its access tokens stop working on every instance within the session-check interval.
pub async fn end_sessions(
    conn: &impl ConnectionTrait,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    user::Entity::update_many()
        .col_expr(
            user::Column::SessionVersion,
            Expr::col(user::Column::SessionVersion).add(1),
        )
        .filter(user::Column::Id.eq(user))
        .exec(conn)
        .await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Some(now).into())
        .filter(refresh_token::Column::UserId.eq(user))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

async fn revoke_family(
    conn: &impl ConnectionTrait,
    family: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Some(now).into())
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends the login that `token` belongs to, if it is the caller's.
pub async fn logout(state: &AppState, caller: Uuid, token: &str) -> AppResult<()> {
    let now = state.clock.now();
    if let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_token(token)))
        .filter(refresh_token::Column::UserId.eq(caller))
        .one(&state.db)
        .await?
    {
        revoke_family(&state.db, row.family_id, now).await?;
        state.sessions.forget(row.family_id);
    }
    Ok(())
}

/// The caller's user record.
pub async fn me(conn: &impl ConnectionTrait, caller: Uuid) -> AppResult<UserView> {
    user::Entity::find_by_id(caller)
        .one(conn)
        .await?
        .filter(|u| u.active)
        .map(UserView::from)
        .ok_or_else(|| AppError::Unauthorized("the user no longer exists".into()))
}
