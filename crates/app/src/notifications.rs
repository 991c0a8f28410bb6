//! Notifications as a user reads them (issue 13): its department's notifications, newest first,
//! each read or unread for this user, the count of unread ones (the header shows it), and
//! marking one or all of them read. A user's read state is a mark ("everything up to id N is
//! read", set by mark all read) and the ones read one by one after it, so marking thousands
//! read is one row. Read marks are the user's own operational state, like login limits: they
//! are written without audit events.
//!
//! New notifications wake listeners on every server (`bangfu_store::NOTIFICATIONS_CHANNEL`,
//! PostgreSQL `LISTEN`/`NOTIFY`), which the pages turn into live updates.

use crate::{Actor, App, AppError, AppResult, to_millis};
use bangfu_store::{NotificationRow, Page, PageRequest};
use chrono::{DateTime, Utc};

/// A notification and whether this user has read it.
#[derive(Clone, Debug)]
pub struct NotificationLine {
    pub row: NotificationRow,
    pub read: bool,
}

impl App {
    /// The department whose notifications `actor` reads (an officer's or viewer's), as a code.
    pub fn notification_department(&self, actor: &Actor) -> Option<String> {
        actor.department.map(|d| self.tree.department_region(d).to_string())
    }

    /// A listener woken, on any server of this database, whenever a department gets a
    /// notification (the payload is the department's code). On PostgreSQL it holds a connection
    /// of its own: a server keeps one and shares what it hears.
    pub async fn listen_notifications(&self) -> AppResult<bangfu_store::Listener> {
        Ok(self.store.listen(&[bangfu_store::NOTIFICATIONS_CHANNEL]).await?)
    }

    /// How many of its department's notifications `actor` has not read (0 without a department
    /// or an account).
    pub async fn unread_notifications(&self, actor: &Actor) -> AppResult<i64> {
        match (self.notification_department(actor), actor.user_id) {
            (Some(department), Some(user)) => Ok(self.store.count_unread_notifications(&department, user).await?),
            _ => Ok(0),
        }
    }

    /// A page of `actor`'s notifications, newest first (before `page.after`), each with its read
    /// state, and how many there are.
    pub async fn notification_lines(&self, actor: &Actor, page: PageRequest) -> AppResult<(Page<NotificationLine>, i64)> {
        let Some(department) = self.notification_department(actor) else { return Ok((Page { items: Vec::new(), next: None }, 0)) };
        let mut read = self.store.reading().await?;
        let rows = read.notifications_newest_page(&department, page).await?;
        let total = read.count_notifications(&department).await?;
        let (through, one_by_one) = match (actor.user_id, rows.items.first(), rows.items.last()) {
            (Some(user), Some(newest), Some(oldest)) => {
                (read.notifications_read_through(user).await?, read.notifications_read_between(user, oldest.id, newest.id).await?)
            }
            _ => (i64::MAX, Vec::new()),
        };
        let lines = rows.map(|row| {
            let read = row.id <= through || one_by_one.iter().any(|r| r.notification_id == row.id);
            NotificationLine { row, read }
        });
        Ok((lines, total))
    }

    /// Marks one of `actor`'s notifications read; another department's is not found.
    pub async fn mark_notification_read(&self, actor: &Actor, now: DateTime<Utc>, id: i64) -> AppResult<()> {
        let not_found = || AppError::NotFound(format!("notification {id}"));
        let (Some(department), Some(user)) = (self.notification_department(actor), actor.user_id) else { return Err(not_found()) };
        self.write(move |_, tx| {
            let not_found = || AppError::NotFound(format!("notification {id}"));
            let row = tx.notification(id)?.ok_or_else(not_found)?;
            if row.department.map(|d| d.to_string()).as_deref() != Some(department.as_str()) {
                return Err(not_found());
            }
            if tx.notifications_read_through(user)? < id {
                tx.set_notification_read(user, id, to_millis(now))?;
            }
            Ok(())
        })
        .await
    }

    /// Marks every notification of `actor`'s department there is now read; returns how many were unread.
    pub async fn mark_all_notifications_read(&self, actor: &Actor, now: DateTime<Utc>) -> AppResult<i64> {
        let (Some(department), Some(user)) = (self.notification_department(actor), actor.user_id) else { return Ok(0) };
        self.write(move |_, tx| {
            let unread = tx.count_unread_notifications(&department, user)?;
            let last = tx.last_notification_of_department(&department)?;
            if last > tx.notifications_read_through(user)? {
                tx.mark_notifications_read_through(user, last, to_millis(now))?;
            }
            Ok(unread)
        })
        .await
    }
}
