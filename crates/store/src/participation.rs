//! What the participants add to a need (issue 16): providers' answers, comments, attachments,
//! the enterprise's confirmation, who reported a need, and the inbox of a provider or an
//! enterprise with its unread marks. Reads are declared like `read.rs`'s, on [`Store`],
//! [`ReadConn`] and [`WriteTx`]; writes are on [`WriteTx`].

use crate::db::query;
use crate::read::reads;
use crate::rows::*;
use crate::{ReadConn, Store, StoreError, StoreResult, WriteTx};

reads! {
    /// Every answer of every provider on a need, oldest first.
    fn responses_of_need(need_id: i64) -> Vec<ResponseRow> = "SELECT * FROM responses WHERE need_id = $1 ORDER BY id";
    fn comments_of_need(need_id: i64) -> Vec<CommentRow> = "SELECT * FROM comments WHERE need_id = $1 ORDER BY id";
    fn attachments_of_need(need_id: i64) -> Vec<AttachmentRow> =
        "SELECT id, need_id, user_id, author, filename, content_type, size_bytes, sha256, created_at FROM attachments WHERE need_id = $1 ORDER BY id";
    fn attachment(id: i64) -> Option<AttachmentRow> =
        "SELECT id, need_id, user_id, author, filename, content_type, size_bytes, sha256, created_at FROM attachments WHERE id = $1";
    fn confirmation_of_need(need_id: i64) -> Option<ConfirmationRow> = "SELECT * FROM need_confirmations WHERE need_id = $1";
    /// The enterprise that reported a need itself (none: an officer reported it).
    fn reporter_of_need(need_id: i64) -> Count<i64> = "SELECT enterprise_id AS n FROM need_reporters WHERE need_id = $1";
    /// A page of a provider's inbox, newest need first, before the need `before`: the needs it
    /// is a feasible candidate of or selected on.
    fn inbox_of_provider(provider_id: i64, user_id: i64, before: i64, limit: i64) -> Vec<InboxRow> =
        "SELECT n.id, n.case_id, n.kind, n.title, n.quantity, n.unit, n.status, n.owner, n.deadline, n.created_at, n.updated_at, e.name AS enterprise, r.read_at, k.id AS candidate_id, k.status AS candidate_status, k.feasible, k.lead_time_h, k.created_at AS candidate_at \
         FROM candidates k JOIN needs n ON n.id = k.need_id JOIN cases c ON c.id = n.case_id JOIN enterprises e ON e.id = c.enterprise_id \
         LEFT JOIN inbox_reads r ON r.need_id = n.id AND r.user_id = $2 \
         WHERE k.provider_id = $1 AND (k.feasible = 1 OR k.status = 'selected') AND n.id < $3 ORDER BY n.id DESC LIMIT $4";
    fn count_inbox_of_provider(provider_id: i64) -> Count<i64> =
        "SELECT COUNT(*) AS n FROM candidates k WHERE k.provider_id = $1 AND (k.feasible = 1 OR k.status = 'selected')";
    /// A page of an enterprise's inbox, newest need first, before the need `before`: the needs of
    /// its cases.
    fn inbox_of_enterprise(enterprise_id: i64, user_id: i64, before: i64, limit: i64) -> Vec<InboxRow> =
        "SELECT n.id, n.case_id, n.kind, n.title, n.quantity, n.unit, n.status, n.owner, n.deadline, n.created_at, n.updated_at, e.name AS enterprise, r.read_at, CAST(NULL AS BIGINT) AS candidate_id, CAST(NULL AS TEXT) AS candidate_status, CAST(NULL AS BIGINT) AS feasible, CAST(NULL AS DOUBLE PRECISION) AS lead_time_h, CAST(NULL AS BIGINT) AS candidate_at \
         FROM needs n JOIN cases c ON c.id = n.case_id JOIN enterprises e ON e.id = c.enterprise_id \
         LEFT JOIN inbox_reads r ON r.need_id = n.id AND r.user_id = $2 \
         WHERE c.enterprise_id = $1 AND n.id < $3 ORDER BY n.id DESC LIMIT $4";
    fn count_inbox_of_enterprise(enterprise_id: i64) -> Count<i64> =
        "SELECT COUNT(*) AS n FROM needs n JOIN cases c ON c.id = n.case_id WHERE c.enterprise_id = $1";
}

impl Store {
    /// The content of an attachment, as stored (base64).
    pub async fn attachment_content(&self, id: i64) -> StoreResult<Option<String>> {
        let mut reader = self.reader().await?;
        reader.exec().optional(query("SELECT content FROM attachments WHERE id = $1").bind(id), |r| r.try_get::<String>("content")).await
    }
}

impl WriteTx {
    pub fn insert_response(&mut self, r: &ResponseRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO responses (need_id, provider_id, answer, note, quantity, price, deliver_by, user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(r.need_id)
        .bind(r.provider_id)
        .bind(r.answer.as_str())
        .bind(r.note.as_str())
        .bind(r.quantity)
        .bind(r.price)
        .bind(r.deliver_by)
        .bind(r.user_id)
        .bind(r.created_at);
        self.insert_returning_id(q, "response")
    }

    pub fn insert_comment(&mut self, c: &CommentRow) -> StoreResult<i64> {
        let q = query("INSERT INTO comments (need_id, user_id, author, text, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(c.need_id)
            .bind(c.user_id)
            .bind(c.author.as_str())
            .bind(c.text.as_str())
            .bind(c.created_at);
        self.insert_returning_id(q, "comment")
    }

    /// Stores an attachment with its content (base64).
    pub fn insert_attachment(&mut self, a: &AttachmentRow, content_base64: &str) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO attachments (need_id, user_id, author, filename, content_type, size_bytes, sha256, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(a.need_id)
        .bind(a.user_id)
        .bind(a.author.as_str())
        .bind(a.filename.as_str())
        .bind(a.content_type.as_str())
        .bind(a.size_bytes)
        .bind(a.sha256.as_str())
        .bind(content_base64)
        .bind(a.created_at);
        self.insert_returning_id(q, "attachment")
    }

    pub fn insert_need_reporter(&mut self, need_id: i64, enterprise_id: i64) -> StoreResult<()> {
        let q = query("INSERT INTO need_reporters (need_id, enterprise_id) VALUES ($1, $2)").bind(need_id).bind(enterprise_id);
        self.exec_stmt(q, "need reporter").map(drop)
    }

    pub fn put_confirmation(&mut self, c: &ConfirmationRow) -> StoreResult<()> {
        let q = query(
            "INSERT INTO need_confirmations (need_id, confirmed_at, user_id) VALUES ($1, $2, $3) \
             ON CONFLICT (need_id) DO UPDATE SET confirmed_at = excluded.confirmed_at, user_id = excluded.user_id",
        )
        .bind(c.need_id)
        .bind(c.confirmed_at)
        .bind(c.user_id);
        self.exec_stmt(q, "confirmation").map(drop)
    }

    pub fn delete_confirmation(&mut self, need_id: i64) -> StoreResult<()> {
        self.exec_stmt(query("DELETE FROM need_confirmations WHERE need_id = $1").bind(need_id), "confirmation").map(drop)
    }

    /// Records that a user opened a need of its inbox at `at`.
    pub fn put_inbox_read(&mut self, user_id: i64, need_id: i64, at: i64) -> StoreResult<()> {
        let q = query(
            "INSERT INTO inbox_reads (user_id, need_id, read_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, need_id) DO UPDATE SET read_at = excluded.read_at",
        )
        .bind(user_id)
        .bind(need_id)
        .bind(at);
        self.exec_stmt(q, "inbox read").map(drop)
    }

    /// Stamps a need changed at `at` (a comment, an answer, an attachment: the inbox marks it
    /// unread for the others).
    pub fn touch_need(&mut self, need_id: i64, at: i64) -> StoreResult<()> {
        match self.exec_stmt(query("UPDATE needs SET updated_at = $2 WHERE id = $1").bind(need_id).bind(at), "need")? {
            0 => Err(StoreError::NotFound(format!("need {need_id}"))),
            _ => Ok(()),
        }
    }

    /// Writes back what a user may edit of an open need: its description and requirements.
    pub fn update_need_fields(&mut self, n: &NeedRow) -> StoreResult<()> {
        let q = query(
            "UPDATE needs SET title = $2, specification = $3, quantity = $4, unit = $5, requires = $6, deadline = $7, \
             max_distance_km = $8, max_lead_time_h = $9, updated_at = $10 WHERE id = $1",
        )
        .bind(n.id)
        .bind(n.title.as_str())
        .bind(n.specification.as_str())
        .bind(n.quantity)
        .bind(n.unit.as_str())
        .bind(&n.requires)
        .bind(n.deadline)
        .bind(n.max_distance_km)
        .bind(n.max_lead_time_h)
        .bind(n.updated_at);
        match self.exec_stmt(q, "need")? {
            0 => Err(StoreError::NotFound(format!("need {}", n.id))),
            _ => Ok(()),
        }
    }
}

reads! {
    fn shipment(id: i64) -> Option<ShipmentRow> = "SELECT * FROM shipments WHERE id = $1";
}

impl WriteTx {
    /// Moves a shipment on: its status, traffic pass and times.
    pub fn update_shipment(&mut self, s: &ShipmentRow) -> StoreResult<()> {
        let q = query("UPDATE shipments SET status = $2, traffic_pass = $3, departs_at = $4, arrives_at = $5 WHERE id = $1")
            .bind(s.id)
            .bind(s.status.as_str())
            .bind(&s.traffic_pass)
            .bind(s.departs_at)
            .bind(s.arrives_at);
        match self.exec_stmt(q, "shipment")? {
            0 => Err(StoreError::NotFound(format!("shipment {}", s.id))),
            _ => Ok(()),
        }
    }

    /// Takes a member off a case's team; the needs assigned to it are assigned to nobody.
    pub fn delete_team_member(&mut self, id: i64, at: i64) -> StoreResult<()> {
        self.exec_stmt(query("UPDATE needs SET assignee = NULL, updated_at = $2 WHERE assignee = $1").bind(id).bind(at), "needs")?;
        match self.exec_stmt(query("DELETE FROM team_members WHERE id = $1").bind(id), "team member")? {
            0 => Err(StoreError::NotFound(format!("team member {id}"))),
            _ => Ok(()),
        }
    }
}
