//! Accounts and sessions: users with a role (and a department, enterprise or provider), passwords
//! hashed with argon2id, and session tokens of which only the SHA-256 is stored, so that any
//! server on the same database accepts a token another issued.

use crate::error::bad;
use crate::{Actor, App, AppError, AppResult, Audit, Seen, to_millis};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use bangfu_core::model::Role;
use bangfu_core::throttle::{Backoff, PER_ADDRESS, PER_USERNAME, Throttle};
use bangfu_store::{LoginThrottleRow, SessionRow, UserRow};
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

/// Rows of keys that failed last this long ago (and wait no more) are removed.
const FORGET_THROTTLES_MS: i64 = 24 * 3_600_000;

/// The two keys a login attempt is counted under.
#[derive(Clone)]
struct ThrottleKeys {
    address: String,
    username: String,
}

impl ThrottleKeys {
    fn of(client: &str, username: &str) -> ThrottleKeys {
        // Usernames are at most 64 characters: a longer one names no account, and its key is
        // kept short.
        let username: String = username.trim().chars().take(80).collect();
        let client: String = client.trim().chars().take(64).collect();
        ThrottleKeys { address: format!("addr:{client}"), username: format!("user:{username}") }
    }

    fn backoff(&self, key: &str) -> &'static Backoff {
        if key.starts_with("addr:") { &PER_ADDRESS } else { &PER_USERNAME }
    }
}

fn throttle_of(row: &LoginThrottleRow) -> Throttle {
    Throttle { failures: u32::try_from(row.failures).unwrap_or(u32::MAX), last_failure_at: row.last_failure_at, blocked_until: row.blocked_until }
}

fn row_of(key: &str, throttle: &Throttle) -> LoginThrottleRow {
    LoginThrottleRow { key: key.to_string(), failures: i64::from(throttle.failures), last_failure_at: throttle.last_failure_at, blocked_until: throttle.blocked_until }
}

/// The refusal of an attempt that must wait `ms` more (whole seconds, at least one).
fn too_many(ms: i64) -> AppError {
    AppError::TooManyAttempts(u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1))
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
        role: user.role,
        department: user.department,
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
        let username = input.username.trim().to_string();
        let username = username.as_str();
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
            (Role::Officer | Role::Viewer, Some(d)) => Some(self.tree.department_region(self.region(d, "department")?)),
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
        let username = username.to_string();
        self.write_as(actor, move |_, actor, tx| {
            let username = username.as_str();
            if tx.user_by_username(username)?.is_some() {
                return Err(AppError::Conflict(format!("user {username} already exists")));
            }
            if let Some(id) = input.enterprise_id {
                tx.enterprise(id)?.ok_or_else(|| bad(format!("enterprise: no enterprise has id {id}")))?;
            }
            if let Some(id) = input.provider_id {
                tx.provider(id)?.ok_or_else(|| bad(format!("provider: no provider has id {id}")))?;
            }
            let mut user = UserRow {
                id: 0,
                username: username.into(),
                display_name: if display_name.is_empty() { username.into() } else { display_name },
                role,
                department,
                enterprise_id: input.enterprise_id,
                provider_id: input.provider_id,
                password_hash: Some(hash),
                created_at: to_millis(now),
            };
            user.id = tx.insert_user(&user)?;
            Audit {
                actor,
                now,
                action: "user.added",
                entity: format!("user:{}", user.id),
                case_id: None,
                payload: json!({"username": user.username, "role": user.role, "department": user.department, "enterprise_id": user.enterprise_id, "provider_id": user.provider_id}),
            }
            .append(tx)?;
            Ok(user)
        })
        .await
    }

    /// Checks a password and opens a session, for a client at address `client` ("" when there
    /// is none to tell). A wrong username or password is `Unauthorized` with the same message,
    /// so usernames do not leak — nor does the time it takes: an unknown user (or one without a
    /// password) costs the same argon2 verification as a wrong password, against a hash made with
    /// the same parameters.
    ///
    /// Attempts are limited per client address and per username, in the database so that every
    /// server shares the count (`login_throttles`, [`bangfu_core::throttle`]): each attempt is
    /// counted before the password is checked and taken back when it proves right; past the free
    /// tries an attempt must wait, twice as long each time, up to minutes — `TooManyAttempts`
    /// with the seconds left, before any password work.
    pub async fn login(&self, now: DateTime<Utc>, client: &str, username: &str, password: &str) -> AppResult<NewSession> {
        let refused = || AppError::Unauthorized("wrong username or password".into());
        let keys = ThrottleKeys::of(client, username);
        self.count_login_attempt(&keys, to_millis(now)).await?;
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
        self.write(move |app, tx| {
            app.take_back_login_attempt(tx, &keys, to_millis(now))?;
            tx.insert_session(&SessionRow { token_hash: token_hash(&token), user_id: user.id, csrf: csrf.clone(), created_at: to_millis(now), expires_at: to_millis(expires_at) })?;
            Audit { actor: &actor, now, action: "user.login", entity: format!("user:{}", user.id), case_id: None, payload: json!({}) }.append(tx)?;
            Ok(NewSession { token, csrf, actor, expires_at })
        })
        .await
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

    /// Counts one login attempt against both keys, or refuses it while either must wait. Read
    /// first outside the write (a refused flood writes nothing), then again under it.
    async fn count_login_attempt(&self, keys: &ThrottleKeys, now: i64) -> AppResult<()> {
        let wait = |rows: &[LoginThrottleRow]| rows.iter().filter_map(|row| keys.backoff(&row.key).wait_ms(&throttle_of(row), now)).max();
        if let Some(ms) = wait(&self.store.login_throttles(&keys.address, &keys.username).await?) {
            return Err(too_many(ms));
        }
        let keys = keys.to_owned();
        self.write(move |_, tx| {
            let wait = |rows: &[LoginThrottleRow]| rows.iter().filter_map(|row| keys.backoff(&row.key).wait_ms(&throttle_of(row), now)).max();
            let rows = tx.login_throttles(&keys.address, &keys.username)?;
            if let Some(ms) = wait(&rows) {
                return Err(too_many(ms));
            }
            for key in [&keys.address, &keys.username] {
                let last = rows.iter().find(|r| &r.key == key).map(throttle_of);
                let next = keys.backoff(key).after_attempt(last.as_ref(), now);
                tx.put_login_throttle(&row_of(key, &next))?;
            }
            tx.forget_login_throttles(now - FORGET_THROTTLES_MS)?;
            Ok(())
        })
        .await
    }

    /// A right password: the username's count is cleared, the address's takes back this attempt.
    fn take_back_login_attempt(&self, tx: &mut bangfu_store::WriteTx, keys: &ThrottleKeys, now: i64) -> AppResult<()> {
        tx.delete_login_throttle(&keys.username)?;
        if let Some(row) = tx.login_throttles(&keys.address, &keys.address)?.into_iter().next() {
            let back = PER_ADDRESS.after_success(&throttle_of(&row), now);
            tx.put_login_throttle(&row_of(&keys.address, &back))?;
        }
        Ok(())
    }

    pub async fn logout(&self, now: DateTime<Utc>, token: &str) -> AppResult<()> {
        let Some((actor, _)) = self.session(now, token).await? else { return Ok(()) };
        let token = token.to_owned();
        self.write(move |_, tx| {
            tx.delete_session(&token_hash(&token))?;
            Audit { actor: &actor, now, action: "user.logout", entity: format!("user:{}", actor.user_id.unwrap_or(0)), case_id: None, payload: json!({}) }
                .append(tx)?;
            Ok(())
        })
        .await
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
