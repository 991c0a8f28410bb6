//! Everyone takes part in a need (issue 16): a provider answers the needs it is a candidate
//! for (accept, decline with a reason, quote) from its inbox; officers and the enterprise comment
//! and attach documents; the enterprise confirms or reopens what the owner resolved and withdraws
//! what it reported; a need is edited while open, and a closed one reopened with a reason.
//! Each is one use case with its audit event; who may is decided in `access.rs`.

use bangfu_core::outbox::EventKind;
use crate::error::{bad, text};
use crate::needs::{NewNeed, checked_need};
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::model::{NeedStatus, ResponseAnswer, Role};
use bangfu_core::routing::department_name;
use bangfu_core::text::LONG_CHARS;
use bangfu_store::{AttachmentRow, CommentRow, ConfirmationRow, InboxRow, NeedRow, ResponseRow, WriteTx};
use chrono::{DateTime, Utc};
use serde_json::json;

/// The largest attachment taken, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 2 * 1024 * 1024;

/// The kinds of document taken, recognised by their first bytes (not by what the sender claims):
/// (content type, file extensions, magic bytes).
const ATTACHMENT_TYPES: &[(&str, &[&str], &[u8])] = &[
    ("application/pdf", &["pdf"], b"%PDF-"),
    ("image/png", &["png"], b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", &["jpg", "jpeg"], b"\xff\xd8\xff"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", &["docx"], b"PK\x03\x04"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &["xlsx"], b"PK\x03\x04"),
];

/// A provider's answer as sent.
#[derive(Clone, Debug, Default)]
pub struct NewResponse {
    /// accept, decline or quote.
    pub answer: String,
    pub note: String,
    pub quantity: Option<f64>,
    pub price: Option<f64>,
    pub deliver_by: Option<DateTime<Utc>>,
}

/// One line of an inbox.
#[derive(Clone, Debug)]
pub struct InboxItem {
    pub row: InboxRow,
    /// Changed since the reader last opened it (or never opened).
    pub unread: bool,
    /// The reader's provider's last answer on it.
    pub answer: Option<ResponseRow>,
}

/// A page of an inbox, newest need first.
#[derive(Clone, Debug)]
pub struct Inbox {
    pub items: Vec<InboxItem>,
    pub total: i64,
    /// The need id to ask `before` for the next page.
    pub next: Option<i64>,
}

/// What participants added to a need, as `actor` reads it.
#[derive(Clone, Debug, Default)]
pub struct Participation {
    /// The answers of the providers whose candidacy `actor` sees, oldest first.
    pub responses: Vec<ResponseRow>,
    pub comments: Vec<CommentRow>,
    pub attachments: Vec<AttachmentRow>,
    pub confirmation: Option<ConfirmationRow>,
    /// The enterprise that reported the need itself, if it did.
    pub reported_by_enterprise: Option<i64>,
    /// What the reader may do here (for the buttons of the need's page).
    pub rights: ParticipationRights,
}

/// What the reader of a need may do on it beside deciding (see [`access::NeedRights`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParticipationRights {
    /// Answer it as a candidate provider (accept, decline, quote).
    pub answer: bool,
    /// Comment and attach documents.
    pub discuss: bool,
    /// Edit it (while open).
    pub edit: bool,
    /// Confirm it solved or reopen it as its enterprise (once resolved).
    pub as_enterprise: bool,
    /// Withdraw it: its enterprise reported it itself.
    pub withdraw: bool,
    /// Reopen it once closed.
    pub reopen: bool,
}

/// What was said on a need by its participants, as stored.
#[derive(Clone, Debug, Default)]
pub(crate) struct Said {
    pub responses: Vec<ResponseRow>,
    pub comments: Vec<CommentRow>,
    pub attachments: Vec<AttachmentRow>,
    pub confirmation: Option<ConfirmationRow>,
    /// The enterprise that reported the need itself (0: an officer did).
    pub reporter: i64,
}

/// The content type of a document: recognised from its first bytes and its name's extension.
pub fn attachment_type(filename: &str, content: &[u8]) -> Option<&'static str> {
    let extension = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    ATTACHMENT_TYPES.iter().find(|(_, extensions, magic)| extensions.contains(&extension.as_str()) && content.starts_with(magic)).map(|(t, ..)| *t)
}

impl App {
    /// The needs addressed to `actor`'s provider (those it is a feasible candidate of or selected
    /// on) or enterprise (those of its case), newest first, before the need `before`.
    pub async fn inbox(&self, actor: &Actor, before: Option<i64>, limit: i64) -> AppResult<Inbox> {
        if !(1..=bangfu_store::lists::MAX_PAGE as i64).contains(&limit) {
            return Err(bad(format!("limit: {limit} is out of range — give 1 to {}", bangfu_store::lists::MAX_PAGE)));
        }
        let user = actor.user_id.unwrap_or(0);
        let before = before.unwrap_or(i64::MAX);
        let mut read = self.store.reading().await?;
        let (rows, total) = match (actor.role, actor.provider_id, actor.enterprise_id) {
            (Role::Provider, Some(provider), _) => {
                (read.inbox_of_provider(provider, user, before, limit).await?, read.count_inbox_of_provider(provider).await?)
            }
            (Role::Enterprise, _, Some(enterprise)) => {
                (read.inbox_of_enterprise(enterprise, user, before, limit).await?, read.count_inbox_of_enterprise(enterprise).await?)
            }
            // Nothing is addressed to an officer, a viewer or an admin here: they have the needs queue.
            _ => (Vec::new(), 0),
        };
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let answer = match actor.provider_id {
                Some(provider) => read.responses_of_need(row.id).await?.into_iter().rfind(|r| r.provider_id == provider),
                None => None,
            };
            let changed = row.updated_at.max(row.candidate_at.unwrap_or(0));
            let unread = row.read_at.is_none_or(|at| at < changed);
            items.push(InboxItem { row, unread, answer });
        }
        let next = (items.len() as i64 == limit).then(|| items.last().map(|i| i.row.id)).flatten();
        Ok(Inbox { items, total, next })
    }

    /// Marks a need of `actor`'s inbox read at `now` (operational state, no event); nothing for
    /// a user without an inbox or a need it may not see.
    pub async fn mark_inbox_read(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64) -> AppResult<()> {
        let Some(user) = actor.user_id.filter(|_| matches!(actor.role, Role::Provider | Role::Enterprise)) else {
            return Ok(());
        };
        self.write_as(actor, move |app, actor, tx| {
            let (need, case, team) = app.need_in(tx, need_id)?;
            if !app.sees_need_in(tx, actor, &case, &team, &need)? {
                return Err(AppError::NotFound(format!("need {need_id}")));
            }
            tx.put_inbox_read(user, need_id, to_millis(now))?;
            Ok(())
        })
        .await
    }

    /// What participants added to a need — answers, comments, attachments, the enterprise's
    /// confirmation — as `actor`, who sees the need, may read it: a provider user its own
    /// answers only and no discussion.
    pub(crate) async fn participation_in(
        &self,
        read: &mut bangfu_store::ReadConn,
        actor: &Actor,
        case: &bangfu_store::CaseRow,
        team: &[bangfu_store::TeamMemberRow],
        need_id: i64,
    ) -> AppResult<Participation> {
        let responses = read.responses_of_need(need_id).await?;
        let discussion = access::sees_need_discussion(self.tree, actor, case, team);
        let reporter = read.reporter_of_need(need_id).await?;
        let need = read.need(need_id).await?.ok_or_else(|| AppError::NotFound(format!("need {need_id}")))?;
        let candidacies = read.candidates_of_need(need_id).await?;
        let said = Said {
            responses,
            comments: if discussion { read.comments_of_need(need_id).await? } else { Vec::new() },
            attachments: if discussion { read.attachments_of_need(need_id).await? } else { Vec::new() },
            confirmation: read.confirmation_of_need(need_id).await?,
            reporter,
        };
        Ok(self.participation_of(actor, case, team, &need, &candidacies, said))
    }

    /// What `actor` sees of the participation in `need` and may do there, from what was said on
    /// it (the answers, comments, attachments and confirmation stored) and its candidacies.
    pub(crate) fn participation_of(
        &self,
        actor: &Actor,
        case: &bangfu_store::CaseRow,
        team: &[bangfu_store::TeamMemberRow],
        need: &bangfu_store::NeedRow,
        candidacies: &[bangfu_store::CandidateRow],
        said: Said,
    ) -> Participation {
        let Said { mut responses, comments, attachments, confirmation, reporter } = said;
        let discussion = access::sees_need_discussion(self.tree, actor, case, team);
        if let access::CandidatesSeen::OnlyProvider(own) = access::candidates_seen(self.tree, actor, case, team) {
            responses.retain(|r| r.provider_id == own);
        }
        let as_enterprise = access::may_act_as_enterprise(actor, case);
        let rights = ParticipationRights {
            answer: candidacies.iter().any(|c| access::may_answer_candidacy(actor, c)),
            discuss: access::may_discuss_need(self.tree, actor, case, team),
            edit: access::may_edit_need(self.tree, actor, case, team, need),
            as_enterprise,
            withdraw: as_enterprise && reporter == case.enterprise_id,
            reopen: access::may_reopen_need(self.tree, actor, case, need),
        };
        Participation {
            rights,
            responses,
            comments: if discussion { comments } else { Vec::new() },
            attachments: if discussion { attachments } else { Vec::new() },
            confirmation,
            reported_by_enterprise: (reporter > 0).then_some(reporter),
        }
    }

    /// A provider answers a need it is a candidate for: accept, decline with a reason, or quote
    /// a quantity, a price and the earliest delivery. The owner department is notified.
    pub async fn respond_to_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, input: NewResponse) -> AppResult<ResponseRow> {
        let note = text("note", &input.note, LONG_CHARS)?;
        for (name, value) in [("quantity", input.quantity), ("price", input.price)] {
            if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
                return Err(bad(format!("{name}: 须为不小于 0 的数 — must be a number of 0 or more when given")));
            }
        }
        let Ok(answer) = ResponseAnswer::parse(&input.answer) else {
            let other = input.answer.trim();
            return Err(bad(format!("answer: {other:?} — 应为 accept（承接）、decline（不能承接）或 quote（报价） — expected accept, decline or quote")));
        };
        match answer {
            ResponseAnswer::Accept => {}
            ResponseAnswer::Decline if note.is_empty() => return Err(bad("note: 请说明不能承接的原因 — say why you decline (the officers look for another provider with it)")),
            ResponseAnswer::Decline => {}
            ResponseAnswer::Quote if input.quantity.is_none() && input.price.is_none() && input.deliver_by.is_none() => {
                return Err(bad("quantity, price, deliver_by: 报价请至少填写数量、价格或最早交付时间之一 — a quote gives at least a quantity, a price or the earliest delivery"));
            }
            ResponseAnswer::Quote => {}
        }
        self.write_as(actor, move |app, actor, tx| {
            let (need, case, team) = app.need_in(tx, need_id)?;
            if !app.sees_need_in(tx, actor, &case, &team, &need)? {
                return Err(AppError::NotFound(format!("need {need_id}")));
            }
            let candidacies = tx.candidates_of_need(need_id)?;
            let own = actor.provider_id.and_then(|p| candidacies.into_iter().find(|c| c.provider_id == p));
            let Some(candidate) = own.filter(|c| access::may_answer_candidacy(actor, c)) else {
                return Err(AppError::Forbidden(format!(
                    "{} may not answer need {need_id}: only the users of a provider it is a candidate of answer it",
                    actor.name
                )));
            };
            if need.status.is_closed() {
                return Err(AppError::Conflict(format!("need {need_id} is {}: it takes no more answers", need.status)));
            }
            let row = ResponseRow {
                id: 0,
                need_id,
                provider_id: candidate.provider_id,
                answer,
                note,
                quantity: input.quantity,
                price: input.price,
                deliver_by: input.deliver_by.map(to_millis),
                user_id: actor.user_id,
                created_at: to_millis(now),
            };
            let id = tx.insert_response(&row)?;
            tx.touch_need(need_id, to_millis(now))?;
            let provider = tx.provider(candidate.provider_id)?.map(|p| p.name).unwrap_or_default();
            Audit {
                actor,
                now,
                action: "need.answered",
                entity: format!("need:{need_id}"),
                case_id: Some(case.id),
                payload: json!({
                    "title": need.title, "provider_id": candidate.provider_id, "provider": provider, "answer": row.answer,
                    "note": row.note, "quantity": row.quantity, "price": row.price, "deliver_by": row.deliver_by,
                }),
            }
            .append(tx)?;
            let (zh, en) = match answer {
                ResponseAnswer::Accept => ("提供方承接", "Provider accepts"),
                ResponseAnswer::Decline => ("提供方不能承接", "Provider declines"),
                ResponseAnswer::Quote => ("提供方报价", "Provider quotes"),
            };
            app.notify_department(tx, now, EventKind::ProviderAnswered, &need, need.owner, &format!("{zh}（{provider}）"), &format!("{en} ({provider})"))?;
            Ok(ResponseRow { id, ..row })
        })
        .await
    }

    /// A comment on a need by an officer who sees it or by its enterprise, signed with the
    /// department's or enterprise's name.
    pub async fn comment_on_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, text_in: &str) -> AppResult<CommentRow> {
        let body = text("text", text_in, LONG_CHARS)?;
        if body.is_empty() {
            return Err(bad("text: 请写下意见 — write the comment"));
        }
        self.write_as(actor, move |app, actor, tx| {
            let (need, case) = app.need_to_discuss(tx, actor, need_id)?;
            let author = app.author_name(tx, actor)?;
            let row = CommentRow { id: 0, need_id, user_id: actor.user_id, author, text: body, created_at: to_millis(now) };
            let id = tx.insert_comment(&row)?;
            tx.touch_need(need_id, to_millis(now))?;
            Audit {
                actor,
                now,
                action: "need.commented",
                entity: format!("need:{need_id}"),
                case_id: Some(case.id),
                payload: json!({"title": need.title, "author": row.author, "text": row.text}),
            }
            .append(tx)?;
            if actor.role == Role::Enterprise {
                app.notify_department(tx, now, EventKind::NeedChanged, &need, need.owner, &format!("企业留言：{}", need.title), &format!("The enterprise commented: {}", need.title))?;
            }
            Ok(CommentRow { id, ..row })
        })
        .await
    }

    /// Attaches a document to a need (a contract, a test report, a photo): at most
    /// [`MAX_ATTACHMENT_BYTES`], of a type recognised from its first bytes.
    pub async fn attach_to_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, filename: &str, content: &[u8]) -> AppResult<AttachmentRow> {
        let filename = text("filename", filename, bangfu_core::text::NAME_CHARS)?;
        let filename = filename.rsplit(['/', '\\']).next().unwrap_or_default().to_string();
        if filename.is_empty() {
            return Err(bad("filename: 请给出文件名 — give the file's name, such as 检测报告.pdf"));
        }
        if content.is_empty() {
            return Err(bad("file: 文件为空 — the file is empty"));
        }
        if content.len() > MAX_ATTACHMENT_BYTES {
            return Err(bad(format!(
                "file: 文件 {} 字节，超过上限 {} MB — the file is {} bytes; at most {} MB are taken",
                content.len(),
                MAX_ATTACHMENT_BYTES / 1024 / 1024,
                content.len(),
                MAX_ATTACHMENT_BYTES / 1024 / 1024
            )));
        }
        let Some(content_type) = attachment_type(&filename, content) else {
            return Err(bad(format!(
                "file: 只接受 PDF、PNG、JPEG、Word（docx）或 Excel（xlsx）文件，{filename} 不是其中之一 — only PDF, PNG, JPEG, Word (docx) or Excel (xlsx) files are taken, and {filename} is none of them"
            )));
        };
        let filename = filename.to_owned();
        let content = content.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let (need, case) = app.need_to_discuss(tx, actor, need_id)?;
            let author = app.author_name(tx, actor)?;
            use sha2::Digest;
            let row = AttachmentRow {
                id: 0,
                need_id,
                user_id: actor.user_id,
                author,
                filename: filename.clone(),
                content_type: content_type.to_string(),
                size_bytes: content.len() as i64,
                sha256: hex::encode(sha2::Sha256::digest(&content)),
                created_at: to_millis(now),
            };
            let id = tx.insert_attachment(&row, &base64_encode(&content))?;
            tx.touch_need(need_id, to_millis(now))?;
            Audit {
                actor,
                now,
                action: "need.attached",
                entity: format!("need:{need_id}"),
                case_id: Some(case.id),
                payload: json!({"title": need.title, "attachment_id": id, "filename": row.filename, "size_bytes": row.size_bytes, "sha256": row.sha256, "author": row.author}),
            }
            .append(tx)?;
            Ok(AttachmentRow { id, ..row })
        })
        .await
    }

    /// An attachment and its content, for whoever reads the need's discussion; not found
    /// otherwise.
    pub async fn attachment(&self, actor: &Actor, attachment_id: i64) -> AppResult<(AttachmentRow, Vec<u8>)> {
        let not_found = || AppError::NotFound(format!("attachment {attachment_id}"));
        let row = self.store.attachment(attachment_id).await?.ok_or_else(not_found)?;
        let (need, case, _) = self.store.need_with_case(row.need_id).await?.ok_or_else(not_found)?;
        let team = self.store.team(case.id).await?;
        if !self.can_see_need(actor, &case, &need).await? || !access::sees_need_discussion(self.tree, actor, &case, &team) {
            return Err(not_found());
        }
        let stored = self.store.attachment_content(attachment_id).await?.ok_or_else(not_found)?;
        let content = base64_decode(&stored).ok_or_else(|| AppError::Internal(format!("attachment {attachment_id} is not valid base64")))?;
        Ok((row, content))
    }

    /// The enterprise confirms that a resolved need is solved.
    pub async fn confirm_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64) -> AppResult<NeedRow> {
        self.write_as(actor, move |app, actor, tx| {
            let (need, case) = app.need_of_own_enterprise(tx, actor, need_id, "confirm")?;
            if need.status != NeedStatus::Resolved {
                return Err(AppError::Conflict(format!("need {need_id} is {}: only a resolved need is confirmed solved", need.status)));
            }
            tx.put_confirmation(&ConfirmationRow { need_id, confirmed_at: to_millis(now), user_id: actor.user_id })?;
            tx.touch_need(need_id, to_millis(now))?;
            Audit { actor, now, action: "need.confirmed", entity: format!("need:{need_id}"), case_id: Some(case.id), payload: json!({"title": need.title}) }
                .append(tx)?;
            Ok(need)
        })
        .await
    }

    /// Reopens a closed need with a reason: the enterprise a resolved one (it is not solved),
    /// the deciders ([`access::may_decide_need`]) a resolved or cancelled one. It is open again
    /// and reaches its owner now, whose response window starts again.
    pub async fn reopen_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, reason: &str) -> AppResult<NeedRow> {
        let reason = text("reason", reason, LONG_CHARS)?;
        if reason.is_empty() {
            return Err(bad("reason: 请说明重新打开的原因 — say why the need is reopened"));
        }
        let reason = reason.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let (mut need, case, team) = app.need_in(tx, need_id)?;
            let status = need.status;
            if !app.sees_need_in(tx, actor, &case, &team, &need)? && !access::may_decide_need(app.tree, actor, &need) {
                return Err(AppError::NotFound(format!("need {need_id}")));
            }
            if !access::may_reopen_need(app.tree, actor, &case, &need) {
                return Err(AppError::Forbidden(format!(
                    "{} may not reopen need {need_id}: its owner department and the tiers above reopen it, and its enterprise a resolved one",
                    actor.name
                )));
            }
            if !status.is_closed() {
                return Err(AppError::Conflict(format!("need {need_id} is {status}: only a resolved or cancelled need is reopened")));
            }
            need.status = NeedStatus::Open;
            need.reached_owner_at = to_millis(now);
            need.updated_at = to_millis(now);
            tx.update_need(&need)?;
            tx.set_need_resolved_at(need_id, None)?;
            tx.delete_confirmation(need_id)?;
            Audit {
                actor,
                now,
                action: "need.reopened",
                entity: format!("need:{need_id}"),
                case_id: Some(case.id),
                payload: json!({"title": need.title, "was": status.as_str(), "reason": reason}),
            }
            .append(tx)?;
            app.notify_owner(tx, now, EventKind::NeedChanged, &need, "诉求重新打开", "Need reopened")?;
            Ok(need)
        })
        .await
    }

    /// The enterprise withdraws a need it reported itself, before work on it started.
    pub async fn withdraw_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, reason: &str) -> AppResult<NeedRow> {
        let reason = text("reason", reason, LONG_CHARS)?;
        if reason.is_empty() {
            return Err(bad("reason: 请说明撤回的原因 — say why the need is withdrawn"));
        }
        let reason = reason.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let (mut need, case) = app.need_of_own_enterprise(tx, actor, need_id, "withdraw")?;
            if actor.role == Role::Enterprise && tx.reporter_of_need(need_id)? != case.enterprise_id {
                return Err(AppError::Forbidden(format!("{} may not withdraw need {need_id}: an enterprise withdraws only the needs it reported itself", actor.name)));
            }
            let status = need.status;
            if !matches!(status, NeedStatus::Open | NeedStatus::Selected) {
                return Err(AppError::Conflict(format!("need {need_id} is {status}: only a need on which work has not started is withdrawn")));
            }
            need.status = NeedStatus::Cancelled;
            need.updated_at = to_millis(now);
            tx.update_need(&need)?;
            Audit {
                actor,
                now,
                action: "need.withdrawn",
                entity: format!("need:{need_id}"),
                case_id: Some(case.id),
                payload: json!({"title": need.title, "reason": reason}),
            }
            .append(tx)?;
            app.notify_owner(tx, now, EventKind::NeedChanged, &need, "企业撤回诉求", "The enterprise withdrew a need")?;
            Ok(need)
        })
        .await
    }

    /// Edits an open need (not started, not closed): its description, quantity, requirements
    /// and limits, checked as at reporting; by its deciders, and by whoever may report on its
    /// case. The event records the fields before and after.
    ///
    /// When what screening reads changes — quantity, requirements, the limits of distance and
    /// lead time — or the deadline, the need is screened again as a report is
    /// ([`App::report_and_source`]): on the registry index before the write transaction, the
    /// bounded record replacing the last one with its `need.sourced` event. That happens when the
    /// need was screened before, or when the editor is one whose reports are sourced at once
    /// ([`access::sources_when_reporting`]).
    pub async fn edit_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, input: NewNeed) -> AppResult<NeedRow> {
        let early = self.screen_edited(need_id, &input).await?;
        if early.is_none() {
            // The write may screen on the index as held: it is brought up to date first.
            self.warm_registry().await?;
        }
        self.write_as(actor, move |app, actor, tx| {
            let (mut need, case, team) = app.need_in(tx, need_id)?;
            let checked = checked_need(&NewNeed { kind: need.kind.as_str().into(), ..input.clone() })?;
            if !access::may_decide_need(app.tree, actor, &need) && !app.sees_need_in(tx, actor, &case, &team, &need)? {
                return Err(AppError::NotFound(format!("need {need_id}")));
            }
            if !access::may_edit_need(app.tree, actor, &case, &team, &need) {
                return Err(AppError::Forbidden(format!("{} may read need {need_id} but not edit it", actor.name)));
            }
            let status = need.status;
            if !matches!(status, NeedStatus::Open | NeedStatus::Selected) {
                return Err(AppError::Conflict(format!("need {need_id} is {status}: a need is edited only while it is open")));
            }
            let before = json!({
                "title": need.title, "specification": need.specification, "quantity": need.quantity, "unit": need.unit,
                "requires": need.requires, "deadline": need.deadline,
                "max_distance_km": need.max_distance_km, "max_lead_time_h": need.max_lead_time_h,
            });
            let was = need.clone();
            need.title = checked.title;
            need.specification = checked.specification;
            need.quantity = input.quantity;
            need.unit = checked.unit;
            need.requires = checked.requires;
            need.deadline = input.deadline.map(to_millis);
            need.max_distance_km = input.max_distance_km;
            need.max_lead_time_h = input.max_lead_time_h;
            need.updated_at = to_millis(now);
            tx.update_need_fields(&need)?;
            let after = json!({
                "title": need.title, "specification": need.specification, "quantity": need.quantity, "unit": need.unit,
                "requires": need.requires, "deadline": need.deadline, "max_distance_km": need.max_distance_km, "max_lead_time_h": need.max_lead_time_h,
            });
            Audit { actor, now, action: "need.edited", entity: format!("need:{need_id}"), case_id: Some(case.id), payload: json!({"title": need.title, "before": before, "after": after}) }
                .append(tx)?;
            let screened_before = tx.screening_of_need(need_id)?.is_some();
            let need = if screening_inputs_changed(&was, &need) && (screened_before || access::sources_when_reporting(actor)) {
                app.screen_again(tx, actor, now, need, &case, early)?
            } else {
                need
            };
            Ok(need)
        })
        .await
    }

    /// Screens a need as `input` would make it, before the write transaction of its edit;
    /// none when the need is not of a registry kind or anything is amiss (the edit then
    /// refuses it with its own message, or screens inside).
    async fn screen_edited(&self, need_id: i64, input: &NewNeed) -> AppResult<Option<crate::registry::Screened>> {
        let Some((need, _, enterprise)) = self.store.need_with_case(need_id).await? else { return Ok(None) };
        let Ok(checked) = checked_need(&NewNeed { kind: need.kind.as_str().into(), ..input.clone() }) else { return Ok(None) };
        let draft = NeedRow {
            quantity: input.quantity,
            requires: checked.requires,
            max_distance_km: input.max_distance_km,
            max_lead_time_h: input.max_lead_time_h,
            ..need
        };
        match self.spec_of(&draft, &enterprise) {
            Ok(Some(spec)) => Ok(Some(self.screen(&spec).await?)),
            _ => Ok(None),
        }
    }

    /// The sourcing of an edited need, inside its edit's transaction: the early screening if it
    /// saw the need as stored now, else a new one. A need whose kind the registry does not hold
    /// is left as it is.
    fn screen_again(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        now: DateTime<Utc>,
        need: NeedRow,
        case: &bangfu_store::CaseRow,
        early: Option<crate::registry::Screened>,
    ) -> AppResult<NeedRow> {
        let enterprise = tx.enterprise(case.enterprise_id)?.ok_or_else(|| AppError::Internal("case without enterprise".into()))?;
        let Some(spec) = self.spec_of(&need, &enterprise)? else { return Ok(need) };
        let screened = match early {
            Some(early) if early.spec == spec => early,
            _ => self.screen_held(&spec)?,
        };
        Ok(self.record_sourcing(tx, actor, now, need, case, screened, true)?.need)
    }

    /// The need, with its case, if `actor` may comment on it and attach to it
    /// ([`access::may_discuss_need`]); not found when it may not see it.
    fn need_to_discuss(&self, tx: &mut WriteTx, actor: &Actor, need_id: i64) -> AppResult<(NeedRow, bangfu_store::CaseRow)> {
        let (need, case, team) = self.need_in(tx, need_id)?;
        if !self.sees_need_in(tx, actor, &case, &team, &need)? {
            return Err(AppError::NotFound(format!("need {need_id}")));
        }
        if !access::may_discuss_need(self.tree, actor, &case, &team) {
            return Err(AppError::Forbidden(format!("{} may read need {need_id} but not comment on it: its officers and its enterprise do", actor.name)));
        }
        Ok((need, case))
    }

    /// The need, with its case, if it is of `actor`'s own enterprise (or `actor` is an admin).
    fn need_of_own_enterprise(&self, tx: &mut WriteTx, actor: &Actor, need_id: i64, verb: &str) -> AppResult<(NeedRow, bangfu_store::CaseRow)> {
        let (need, case, team) = self.need_in(tx, need_id)?;
        if !self.sees_need_in(tx, actor, &case, &team, &need)? {
            return Err(AppError::NotFound(format!("need {need_id}")));
        }
        if !access::is_enterprise_of_case(actor, &case) {
            return Err(AppError::Forbidden(format!("{} may not {verb} need {need_id}: its enterprise does", actor.name)));
        }
        Ok((need, case))
    }

    /// How a comment or an attachment is signed: the department's, enterprise's or provider's
    /// name; an admin as 管理员.
    fn author_name(&self, tx: &mut WriteTx, actor: &Actor) -> AppResult<String> {
        Ok(match actor.role {
            Role::Officer | Role::Viewer => actor.department.map(|d| department_name(self.tree, self.tree.department_region(d))).unwrap_or_default(),
            Role::Enterprise => match actor.enterprise_id {
                Some(id) => tx.enterprise(id)?.map(|e| e.name).unwrap_or_default(),
                None => String::new(),
            },
            Role::Provider => match actor.provider_id {
                Some(id) => tx.provider(id)?.map(|p| p.name).unwrap_or_default(),
                None => String::new(),
            },
            Role::Admin => "管理员".into(),
        })
    }

    /// A notification to one department about a need (and its channels' messages, issue 15).
    #[allow(clippy::too_many_arguments)]
    fn notify_department(&self, tx: &mut WriteTx, now: DateTime<Utc>, event: EventKind, need: &NeedRow, department: bangfu_core::region::RegionCode, zh: &str, en: &str) -> AppResult<()> {
        let notice = crate::outbox::Notice {
            event,
            department,
            need: Some(need),
            text_zh: format!("{zh}：{}（{}）", need.title, department_name(self.tree, need.owner)),
            text_en: format!("{en}: {}", need.title),
            why_zh: None,
            link: None,
            approval: None,
        };
        self.notify(tx, now, notice)
    }
}

/// Whether an edit changed what screening reads of a need (quantity, requirements, the limits
/// of distance and lead time) or its deadline.
fn screening_inputs_changed(before: &NeedRow, after: &NeedRow) -> bool {
    let requires = |n: &NeedRow| n.requires.clone();
    before.quantity != after.quantity
        || requires(before) != requires(after)
        || before.max_distance_km != after.max_distance_km
        || before.max_lead_time_h != after.max_lead_time_h
        || before.deadline != after.deadline
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (how attachments are kept in a TEXT column on both backends).
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes of [`base64_encode`]'s text; none if it is not such a text.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| BASE64.iter().position(|&b| b == c).map(|p| p as u32);
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for quad in text.chunks(4) {
        let padding = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - padding] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * padding as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_goes_there_and_back_for_every_length() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&bytes)).as_deref(), Some(&bytes[..]), "length {len}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm8"), None);
    }

    #[test]
    fn a_document_is_recognised_by_its_first_bytes_and_its_name() {
        assert_eq!(attachment_type("检测报告.PDF", b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(attachment_type("photo.jpg", b"\xff\xd8\xff\xe0...."), Some("image/jpeg"));
        assert_eq!(attachment_type("report.pdf", b"<html>"), None, "a page claiming to be a PDF is refused");
        assert_eq!(attachment_type("run.exe", b"MZ\x90\x00"), None);
        assert_eq!(attachment_type("合同.docx", b"PK\x03\x04..."), Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document"));
    }
}
