//! Authentication (the `AuthUser` extractor) and authorization (roles, scopes).

pub mod jwt;
pub mod password;
pub mod scope;
pub mod session;

use crate::error::AppError;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use entity::{clock::Clock, enums::Role};
use futures::future::LocalBoxFuture;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use uuid::Uuid;

/// What the [`AuthUser`] extractor needs to accept a token, registered as its own app data (so
/// authentication does not depend on the application state that holds it).
#[derive(Clone)]
pub struct Authenticator {
    pub jwt: jwt::JwtKeys,
    pub sessions: session::Sessions,
    /// Where a session's liveness is read.
    pub read_db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
}

/// The authenticated caller: who, in which role, for which organization.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    /// The login (refresh-token family) the access token belongs to.
    pub session_id: Uuid,
}

impl AuthUser {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "role {} may not do this",
                self.role.code()
            )))
        }
    }

    /// Whether the caller is an administrator.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// 403 for an enterprise user whose enterprise is not verified yet: unverified enterprises
    /// may log in and read, but create nothing. Every creating use-case of an enterprise calls it.
    pub async fn ensure_may_create(
        &self,
        conn: &impl sea_orm::ConnectionTrait,
    ) -> Result<(), AppError> {
        use sea_orm::EntityTrait;
        if self.role != Role::Enterprise {
            return Ok(());
        }
        let verified = match self.organization_id {
            Some(org) => entity::organization::Entity::find_by_id(org)
                .one(conn)
                .await?
                .is_some_and(|o| o.verified),
            None => false,
        };
        if verified {
            Ok(())
        } else {
            Err(Self::not_verified())
        }
    }

    /// The refusal of a create by an enterprise that is not verified yet.
    pub fn not_verified() -> AppError {
        AppError::forbidden("the enterprise is not verified yet; it may read but not create")
    }

    /// Whether the caller belongs to organization `org`.
    pub fn belongs_to(&self, org: Uuid) -> bool {
        self.organization_id == Some(org)
    }
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await.map(|s| s.user) })
    }
}

/// The caller and the claims of their access token, for answers that outlive the request
/// (an event stream ends when the token expires or the session ends).
#[derive(Debug, Clone)]
pub struct AuthSession {
    pub user: AuthUser,
    pub claims: jwt::Claims,
}

impl FromRequest for AuthSession {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

async fn authenticate(req: &HttpRequest) -> Result<AuthSession, AppError> {
    let state = req
        .app_data::<web::Data<Authenticator>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("authenticator missing")))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| AppError::Unauthorized("missing bearer token".into()))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| AppError::Unauthorized("malformed Authorization header".into()))?;
    let claims = state
        .jwt
        .verify(token, state.clock.now())
        .map_err(|m| AppError::Unauthorized(m.into()))?;
    if !state.sessions.alive(&state.read_db, &claims).await? {
        return Err(AppError::Unauthorized(
            "this session has ended; log in again".into(),
        ));
    }
    Ok(AuthSession {
        user: AuthUser {
            id: claims.sub,
            role: claims.role,
            organization_id: claims.org,
            session_id: claims.sid,
        },
        claims,
    })
}
