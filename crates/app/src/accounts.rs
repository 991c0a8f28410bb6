//! Accounts and sessions: users with a role (and a department, enterprise or provider), passwords
//! hashed with argon2id, and session tokens of which only the SHA-256 is stored, so that any
//! server on the same database accepts a token another issued.

use crate::error::bad;
use crate::{Actor, App, AppError, AppResult, Audit, Seen, to_millis};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use bangfu_core::model::Role;
use bangfu_core::region::RegionCode;
use bangfu_store::{SessionRow, UserRow};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;

/// The longest password an account takes.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// An account to create.
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// Officers and viewers: their department (a code or unique name).
    pub department: Option<String>,
    /// Enterprise users: their enterprise's id.
    pub enterprise_id: Option<i64>,
    /// Provider users: their provider's id.
    pub provider_id: Option<i64>,
    pub password: String,
}

/// A session just opened: the token is shown once, to the client.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub actor: Actor,
    pub expires_at: DateTime<Utc>,
}

fn random_hex(bytes: usize) -> AppResult<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

/// A hash of the default parameters that no password matches in practice, verified in place of
/// a user's when there is no such user, so that both refusals cost the same. Made once, the
/// first time it is needed (on a blocking thread).
fn stand_in_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let mut secret = [0u8; 32];
        // Without randomness the stand-in is still a valid hash, of a fixed phrase.
        let phrase = if getrandom::fill(&mut secret).is_ok() { hex::encode(secret) } else { "bangfu: no such user".to_string() };
        Argon2::default().hash_password(phrase.as_bytes()).map(|h| h.to_string()).unwrap_or_default()
    })
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn actor_of(user: &UserRow) -> AppResult<Actor> {
    Ok(Actor {
        name: user.username.clone(),
        user_id: Some(user.id),
        role: Role::parse(&user.role).map_err(AppError::Internal)?,
        department: user.department.as_deref().and_then(|d| d.parse().ok()).map(RegionCode::new_unchecked),
        enterprise_id: user.enterprise_id,
        provider_id: user.provider_id,
    })
}

impl App {
    /// Creates an account (admins only; the command line acts as admin).
    pub async fn add_user(&self, actor: &Actor, now: DateTime<Utc>, input: NewUser) -> AppResult<UserRow> {
        if !crate::access::may_keep_accounts(actor) {
            return Err(AppError::Forbidden("only admins create accounts".into()));
        }
        let username = input.username.trim();
        if username.is_empty() || username.len() > 64 || username.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("username: 1 to 64 characters without spaces"));
        }
        let display_name = crate::error::text("display_name", &input.display_name, bangfu_core::text::NAME_CHARS)?;
        let role = Role::parse(&input.role).map_err(|e| bad(format!("role: {e}")))?;
        if input.password.chars().count() < 8 {
            return Err(bad("password: use at least 8 characters"));
        }
        if input.password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(bad(format!("password: use at most {MAX_PASSWORD_CHARS} characters")));
        }
        let department = match (role, input.department.as_deref().filter(|d| !d.trim().is_empty())) {
            (Role::Officer | Role::Viewer, Some(d)) => Some(self.tree.department_region(self.region(d, "department")?).to_string()),
            (Role::Officer | Role::Viewer, None) => return Err(bad(format!("department: a {role} needs --department REGION_CODE, for example 141021"))),
            (_, Some(_)) => return Err(bad(format!("department: only officers and viewers belong to a department, not a {role}"))),
            (_, None) => None,
        };
        if (role == Role::Enterprise) != input.enterprise_id.is_some() {
            return Err(bad("enterprise: an enterprise user needs --enterprise ID, and only an enterprise user has one"));
        }
        if (role == Role::Provider) != input.provider_id.is_some() {
            return Err(bad("provider: a provider user needs --provider ID, and only a provider user has one"));
        }
        let password = input.password.clone();
        let hash = tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))?;
        let mut tx = self.store.begin_write().await?;
        if tx.user_by_username(username).await?.is_some() {
            return Err(AppError::Conflict(format!("user {username} already exists")));
        }
        if let Some(id) = input.enterprise_id {
            tx.enterprise(id).await?.ok_or_else(|| bad(format!("enterprise: no enterprise has id {id}")))?;
        }
        if let Some(id) = input.provider_id {
            tx.provider(id).await?.ok_or_else(|| bad(format!("provider: no provider has id {id}")))?;
        }
        let mut user = UserRow {
            id: 0,
            username: username.into(),
            display_name: if display_name.is_empty() { username.into() } else { display_name },
            role: role.as_str().into(),
            department,
            enterprise_id: input.enterprise_id,
            provider_id: input.provider_id,
            password_hash: Some(hash),
            created_at: to_millis(now),
        };
        user.id = tx.insert_user(&user).await?;
        Audit {
            actor,
            now,
            action: "user.added",
            entity: format!("user:{}", user.id),
            case_id: None,
            payload: json!({"username": user.username, "role": user.role, "department": user.department, "enterprise_id": user.enterprise_id, "provider_id": user.provider_id}),
        }
        .append(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Checks a password and opens a session. A wrong username or password is `Unauthorized`
    /// with the same message, so usernames do not leak — nor does the time it takes: an unknown
    /// user (or one without a password) costs the same argon2 verification as a wrong password,
    /// against a hash made with the same parameters.
    pub async fn login(&self, now: DateTime<Utc>, username: &str, password: &str) -> AppResult<NewSession> {
        let refused = || AppError::Unauthorized("wrong username or password".into());
        let user = self.store.user_by_username(username.trim()).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let password = password.to_string();
        let verifications = std::sync::Arc::clone(&self.password_verifications);
        let ok = tokio::task::spawn_blocking(move || {
            verifications.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let hash = match &stored {
                Some(hash) => hash.as_str(),
                None => stand_in_hash(),
            };
            let verified = PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok());
            verified && stored.is_some()
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
        let Some(user) = user.filter(|_| ok) else { return Err(refused()) };
        let actor = actor_of(&user)?;
        let token = random_hex(32)?;
        let csrf = random_hex(16)?;
        let expires_at = now + TimeDelta::hours(SESSION_HOURS);
        let mut tx = self.store.begin_write().await?;
        tx.insert_session(&SessionRow { token_hash: token_hash(&token), user_id: user.id, csrf: csrf.clone(), created_at: to_millis(now), expires_at: to_millis(expires_at) })
            .await?;
        Audit { actor: &actor, now, action: "user.login", entity: format!("user:{}", user.id), case_id: None, payload: json!({}) }.append(&mut tx).await?;
        tx.commit().await?;
        Ok(NewSession { token, csrf, actor, expires_at })
    }

    /// The actor and CSRF token of a live session, or none for an unknown or expired token.
    /// Read from the database on every call (so a logout on any server ends it everywhere at
    /// once), in one statement.
    pub async fn session(&self, now: DateTime<Utc>, token: &str) -> AppResult<Option<(Actor, String)>> {
        Ok(self.session_seen(now, token).await?.0)
    }

    /// [`App::session`], with the database version it was checked at, for the reads of the same
    /// request (see [`App::case_detail_seen`]).
    /// The session is read in the same statement as the version.
    pub async fn session_seen(&self, now: DateTime<Utc>, token: &str) -> AppResult<(Option<(Actor, String)>, Seen)> {
        let Some((session, user, version)) = self.store.session_with_user(&token_hash(token)).await? else {
            // Nothing to read at a version: the caller answers 401.
            return Ok((None, Seen(0)));
        };
        if session.expires_at <= to_millis(now) {
            return Ok((None, Seen(version)));
        }
        Ok((Some((actor_of(&user)?, session.csrf)), Seen(version)))
    }

    pub async fn logout(&self, now: DateTime<Utc>, token: &str) -> AppResult<()> {
        let Some((actor, _)) = self.session(now, token).await? else { return Ok(()) };
        let mut tx = self.store.begin_write().await?;
        tx.delete_session(&token_hash(token)).await?;
        Audit { actor: &actor, now, action: "user.logout", entity: format!("user:{}", actor.user_id.unwrap_or(0)), case_id: None, payload: json!({}) }
            .append(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `$argon2id$v=19$m=19456,t=2,p=1$` — everything before the salt.
    fn parameters(hash: &str) -> String {
        hash.split('$').take(4).collect::<Vec<_>>().join("$")
    }

    #[test]
    fn the_stand_in_hash_costs_what_a_user_hash_costs() {
        let user = Argon2::default().hash_password(b"a user's password").unwrap().to_string();
        assert_eq!(parameters(stand_in_hash()), parameters(&user));
        assert!(parameters(&user).starts_with("$argon2id$v=19$m="), "{user}");
    }
}
