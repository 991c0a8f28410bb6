//! The outbox's writes (issue 15): channels, messages written in the change's transaction, the
//! claim of due messages by one worker of one server, and what each attempt did.
//!
//! A claim is a write: the database-wide write lock (SQLite's one writer, PostgreSQL's advisory
//! lock) makes each claim one server's, and the claim marks the rows with a lease instead of
//! holding a row lock while the message travels — a server killed while sending leaves rows
//! whose lease runs out, and any server claims them again. Delivery state is operational, like
//! login limits: written without audit events.

use crate::db::query;
use crate::rows::*;
use crate::{StoreResult, WriteTx};
use bangfu_core::outbox::MessageStatus;

impl WriteTx {
    pub fn insert_channel(&mut self, c: &ChannelRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO channels (department, provider_id, enterprise_id, kind, label, url, secret, events, mentions, quiet_from, quiet_to, active, created_at, format) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(c.department)
        .bind(c.provider_id)
        .bind(c.enterprise_id)
        .bind(c.kind)
        .bind(&c.label)
        .bind(&c.url)
        .bind(&c.secret)
        .bind(&c.events)
        .bind(&c.mentions)
        .bind(c.quiet_from)
        .bind(c.quiet_to)
        .bind(c.active)
        .bind(c.created_at)
        .bind(c.format);
        self.insert_returning_id(q, "channel")
    }

    /// Turns a channel off (its pending messages are still delivered) or on again.
    pub fn set_channel_active(&mut self, id: i64, active: bool) -> StoreResult<u64> {
        self.exec_stmt(query("UPDATE channels SET active = $2 WHERE id = $1").bind(id).bind(i64::from(active)), "channel")
    }

    pub fn insert_outbox(&mut self, o: &OutboxRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO outbox (channel_id, department, event, need_id, title, body, link, status, attempts, created_at, next_attempt_at, lease_until, claimed_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, 0, '') RETURNING id",
        )
        .bind(o.channel_id)
        .bind(o.department)
        .bind(o.event)
        .bind(o.need_id)
        .bind(&o.title)
        .bind(&o.body)
        .bind(&o.link)
        .bind(o.created_at)
        .bind(o.next_attempt_at);
        self.insert_returning_id(q, "outbox message")
    }

    /// Claims the next message of a channel due at `now` and not under another lease, for
    /// `server` until `lease_until`; returns its rows by id. A message is one row, or a group
    /// of rows sent together to a robot: a group formed before (by a failed attempt, or a claim
    /// whose lease ran out) is claimed whole and alone, so it goes again as the same message;
    /// otherwise up to `limit` rows of no group are claimed, and when there are several they are
    /// made a group named by the first's id.
    pub fn claim_outbox(&mut self, channel_id: i64, now: i64, lease_until: i64, server: &str, limit: i64) -> StoreResult<Vec<OutboxRow>> {
        let first = query(
            "SELECT * FROM outbox WHERE channel_id = $1 AND status = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2 ORDER BY id LIMIT 1",
        )
        .bind(channel_id)
        .bind(now);
        let Some(first) = self.exec().optional(first, OutboxRow::from_row)? else { return Ok(Vec::new()) };
        let q = match first.group_id {
            Some(group) => query(
                "UPDATE outbox SET lease_until = $3, claimed_by = $4 WHERE channel_id = $1 AND group_id = $5 AND status = 'pending' AND lease_until <= $2 \
                 RETURNING *",
            )
            .bind(channel_id)
            .bind(now)
            .bind(lease_until)
            .bind(server)
            .bind(group),
            None => query(
                "UPDATE outbox SET lease_until = $3, claimed_by = $4 WHERE id IN \
                 (SELECT id FROM outbox WHERE channel_id = $1 AND status = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2 AND group_id IS NULL \
                 ORDER BY id LIMIT $5) \
                 RETURNING *",
            )
            .bind(channel_id)
            .bind(now)
            .bind(lease_until)
            .bind(server)
            .bind(limit),
        };
        let mut rows = self.exec().rows(q, OutboxRow::from_row)?;
        rows.sort_by_key(|r| r.id);
        if first.group_id.is_none()
            && let [head, .., last] = rows.as_slice()
        {
            let (group, last) = (head.id, last.id);
            let q = query("UPDATE outbox SET group_id = $1 WHERE id >= $1 AND id <= $2 AND channel_id = $3 AND claimed_by = $4 AND lease_until = $5 AND group_id IS NULL")
                .bind(group)
                .bind(last)
                .bind(channel_id)
                .bind(server)
                .bind(lease_until);
            self.exec_stmt(q, "outbox message")?;
            for row in &mut rows {
                row.group_id = Some(group);
            }
        }
        Ok(rows)
    }

    /// Moves a channel's messages due at `now` to `until` (a robot's rate limit): no attempt is
    /// counted.
    pub fn defer_outbox(&mut self, channel_id: i64, now: i64, until: i64) -> StoreResult<u64> {
        let q = query("UPDATE outbox SET next_attempt_at = $3 WHERE channel_id = $1 AND status = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2")
            .bind(channel_id)
            .bind(now)
            .bind(until);
        self.exec_stmt(q, "outbox message")
    }

    /// Records the outcome of an attempt on a message claimed by `server` until `lease_until`:
    /// its new status, attempt count, next attempt, error and the moment it was sent. Returns
    /// false (and changes nothing) when the claim is no longer this server's.
    #[allow(clippy::too_many_arguments)]
    pub fn finish_outbox_attempt(
        &mut self,
        id: i64,
        server: &str,
        lease_until: i64,
        status: MessageStatus,
        next_attempt_at: i64,
        last_error: Option<&str>,
        sent_at: Option<i64>,
    ) -> StoreResult<bool> {
        let q = query(
            "UPDATE outbox SET status = $4, attempts = attempts + 1, next_attempt_at = $5, last_error = $6, sent_at = $7, lease_until = 0, claimed_by = '' \
             WHERE id = $1 AND claimed_by = $2 AND lease_until = $3",
        )
        .bind(id)
        .bind(server)
        .bind(lease_until)
        .bind(status)
        .bind(next_attempt_at)
        .bind(last_error.map(str::to_string))
        .bind(sent_at);
        Ok(self.exec_stmt(q, "outbox message")? == 1)
    }

    pub fn insert_outbox_attempt(&mut self, a: &OutboxAttemptRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO outbox_attempts (outbox_id, channel_id, at, outcome, error, message_key, grouped) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(a.outbox_id)
        .bind(a.channel_id)
        .bind(a.at)
        .bind(a.outcome)
        .bind(a.error.clone())
        .bind(&a.message_key)
        .bind(a.grouped);
        self.insert_returning_id(q, "outbox attempt")
    }

    /// Puts a message (dead, or waiting for its next attempt) back in line for `now` — with the
    /// rest of its group, so that it goes again as the same message; a sent one is left alone.
    /// Returns how many rows changed.
    pub fn retry_outbox(&mut self, id: i64, now: i64) -> StoreResult<u64> {
        let q = query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $2, lease_until = 0, claimed_by = '' \
             WHERE (id = $1 OR group_id = (SELECT group_id FROM outbox WHERE id = $1)) AND status <> 'sent'",
        )
        .bind(id)
        .bind(now);
        self.exec_stmt(q, "outbox message")
    }

    /// Records that the reminder of an approval at a threshold (minutes before its deadline) was
    /// sent; false when it had been (by another server's pass), and then nothing is written.
    pub fn insert_approval_reminder(&mut self, r: &ApprovalReminderRow) -> StoreResult<bool> {
        let q = query(
            "INSERT INTO approval_reminders (approval_id, threshold_minutes, sent_at) VALUES ($1, $2, $3) ON CONFLICT (approval_id, threshold_minutes) DO NOTHING",
        )
        .bind(r.approval_id)
        .bind(r.threshold_minutes)
        .bind(r.sent_at);
        Ok(self.exec_stmt(q, "approval reminder")? == 1)
    }
}
