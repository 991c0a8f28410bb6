//! Notifications between servers: a change made on one `bangfu serve` wakes listeners on all of
//! them. PostgreSQL carries them with `NOTIFY`/`LISTEN`; SQLite has one server process, so they
//! travel through an in-process channel shared by the clones of one [`Store`](crate::Store).
//!
//! A notification is a wake-up call, not the record: the data lives in its table (for example
//! `notifications`), and a listener that missed some (a dropped connection, a lagging
//! receiver) reads the table again. Payloads are short text (PostgreSQL refuses 8000 bytes
//! and more); channel names are short identifiers such as `notifications`.

use crate::{StoreError, StoreResult};
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

/// The channel on which a new row of `notifications` wakes its department's listeners; the
/// payload is the department's region code.
pub const NOTIFICATIONS_CHANNEL: &str = "notifications";

/// One notification as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub channel: String,
    pub payload: String,
}

/// Largest payload accepted (PostgreSQL's limit is 8000 bytes, exclusive).
pub const MAX_PAYLOAD_BYTES: usize = 7999;

/// The in-process side, used on SQLite.
pub(crate) type LocalHub = broadcast::Sender<Notification>;

pub(crate) fn local_hub() -> LocalHub {
    broadcast::channel(1024).0
}

pub(crate) fn check(channel: &str, payload: &str) -> StoreResult<()> {
    if channel.is_empty() || channel.len() > 63 {
        return Err(StoreError::Conflict(format!("notification channel {channel:?} must be 1 to 63 bytes")));
    }
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(StoreError::Conflict(format!(
            "notification payload is {} bytes; at most {MAX_PAYLOAD_BYTES} — send an id and let listeners read the row",
            payload.len()
        )));
    }
    Ok(())
}

/// Receives the notifications of the channels it listens to, from every server on the database.
/// Made by [`Store::listen`](crate::Store::listen).
pub struct Listener {
    inner: Inner,
}

enum Inner {
    // DIALECT: PostgreSQL delivers through a dedicated LISTEN connection (reconnected by sqlx).
    Postgres(Box<PgListener>),
    Local { receiver: broadcast::Receiver<Notification>, channels: Vec<String> },
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Postgres(_) => f.write_str("Listener(postgres)"),
            Inner::Local { channels, .. } => write!(f, "Listener(local {channels:?})"),
        }
    }
}

impl Listener {
    pub(crate) async fn postgres(url: &str, channels: &[&str]) -> StoreResult<Listener> {
        let mut listener = PgListener::connect(url).await?;
        listener.listen_all(channels.iter().copied()).await?;
        Ok(Listener { inner: Inner::Postgres(Box::new(listener)) })
    }

    pub(crate) fn local(hub: &LocalHub, channels: &[&str]) -> Listener {
        Listener { inner: Inner::Local { receiver: hub.subscribe(), channels: channels.iter().map(|c| c.to_string()).collect() } }
    }

    /// Waits for the next notification on one of the channels.
    pub async fn recv(&mut self) -> StoreResult<Notification> {
        match &mut self.inner {
            Inner::Postgres(listener) => {
                let n = listener.recv().await?;
                Ok(Notification { channel: n.channel().to_string(), payload: n.payload().to_string() })
            }
            Inner::Local { receiver, channels } => loop {
                match receiver.recv().await {
                    Ok(n) if channels.contains(&n.channel) => return Ok(n),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Err(StoreError::Database(sqlx::Error::PoolClosed)),
                }
            },
        }
    }
}
