//! Official letters (公函) as use cases. When a need becomes national — reported with its solution
//! in another province, a provider chosen or switched to there, or sourcing that routes it there —
//! its owner drafts a letter to the counterpart department of that province (and of the solution's
//! city, where there is one), in the same transaction, unless the need already has a letter to that
//! province. The text is core's ([`bangfu_core::letter::draft_letter`]), drafted from the need's
//! facts; the number counts the sender's letters of the year (晋工信函〔2020〕3号).
//!
//! A letter goes draft → sent → acknowledged, each change an event; whoever may see the need may
//! read its letters, and whoever may change the need may move them.
//!
//! Stored form: `sender` is the sending department's region code; `recipients` a JSON array of
//! `{"region", "name", "name_en"}`, the province's department first; `body_zh` and `body_en` the
//! letter as rendered text ([`LetterParts::parse`] splits it back into its parts for a page).

use crate::outbox::Notice;
use bangfu_core::outbox::EventKind;
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::routing::department_name;
use bangfu_core::letter::{Contact, DateStyle, LetterFacts, LetterNumber, check_transition, draft_letter, formal_department, number_prefix};
use bangfu_core::model::{Bilingual, LetterStatus, Scope};
use bangfu_core::region::RegionCode;
use bangfu_store::{CaseRow, LetterRow, NeedRow, WriteTx};
use chrono::{DateTime, Datelike, Utc};
use serde_json::{Value, json};

/// A department on a letter: its region and its formal name.
pub type LetterParty = bangfu_core::letter::Department;

/// One language's letter split into its parts, for a printable page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterParts {
    /// 关于……的函
    pub subject: String,
    /// 晋工信函〔2020〕3号
    pub number: String,
    /// 广东省工业和信息化厅、东莞市工业和信息化局：
    pub salutation: String,
    /// The body paragraphs, the closing (妥否，请函复。) last, without their indent.
    pub paragraphs: Vec<String>,
    /// The sender's name (落款).
    pub signature: String,
    pub date: String,
}

impl LetterParts {
    /// Splits a letter rendered by [`bangfu_core::letter::LetterText::render`] back into its
    /// parts; none when the text is not in that form.
    pub fn parse(text: &str) -> Option<LetterParts> {
        let lines: Vec<&str> = text.lines().collect();
        let [subject, "", number, "", salutation, rest @ ..] = lines.as_slice() else { return None };
        let paragraphs: Vec<String> = rest.iter().map_while(|l| l.strip_prefix("\u{3000}\u{3000}")).map(str::to_string).collect();
        let ["", signature, date] = rest.get(paragraphs.len()..)? else { return None };
        Some(LetterParts {
            subject: subject.to_string(),
            number: number.to_string(),
            salutation: salutation.to_string(),
            paragraphs,
            signature: signature.to_string(),
            date: date.to_string(),
        })
    }
}

/// The reply that acknowledged a letter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LetterReply {
    /// Its document number: 粤工信函〔2020〕12号.
    pub number: String,
    /// Its date, YYYY-MM-DD.
    pub date: String,
    pub text: String,
}

/// A draft as edited before it is sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LetterEdit {
    /// 关于……的函
    pub subject: String,
    /// The body's paragraphs (Chinese), without the closing 妥否，请函复。 and the contact line.
    pub paragraphs: Vec<String>,
    pub contact_name: String,
    pub contact_phone: String,
    /// Departments the letter is copied to (抄送).
    pub cc: Vec<String>,
}

/// A letter with what it belongs to, for its page and `bangfu letter show`.
#[derive(Clone, Debug)]
pub struct LetterDetail {
    pub letter: LetterRow,
    pub need: NeedRow,
    pub case: CaseRow,
    pub sender: LetterParty,
    pub recipients: Vec<LetterParty>,
    /// The Chinese letter in its parts (none if the stored text is not in the drafted form).
    pub zh: Option<LetterParts>,
    /// The English rendering in its parts.
    pub en: Option<LetterParts>,
}

impl App {
    /// Drafts the letter of a national need inside `tx`, unless it already has one to the
    /// province its solution lies in. Called wherever a need's route is (re)decided.
    pub(crate) fn draft_letter_if_national(&self, tx: &mut WriteTx, actor: &Actor, now: DateTime<Utc>, need: &NeedRow) -> AppResult<Option<LetterRow>> {
        let Some(letter_to) = need.letter_to.filter(|_| need.scope == Scope::National) else { return Ok(None) };
        for existing in tx.letters_of_need(need.id)? {
            if existing.recipients.iter().any(|r| r.region == letter_to) {
                return Ok(None);
            }
        }
        let case = tx.case(need.case_id)?.ok_or_else(|| AppError::Internal(format!("need {} without case", need.id)))?;
        let enterprise = tx.enterprise(case.enterprise_id)?.ok_or_else(|| AppError::Internal(format!("case {} without enterprise", case.id)))?;
        let (solution_region, provider_name) = self.letter_solution(tx, need, letter_to)?;

        let sender = need.owner;
        let prefix = number_prefix(self.tree, sender).map_err(|e| AppError::Internal(e.to_string()))?;
        let year = bangfu_core::china_time::day(now).year();
        let sequence = tx.count_letters_numbered_like(&format!("{prefix}〔{year}〕%"))? + 1;
        let sequence = u32::try_from(sequence).map_err(|_| AppError::Internal(format!("{prefix}〔{year}〕: too many letters")))?;

        let facts = LetterFacts {
            enterprise_name: enterprise.name.clone(),
            enterprise_region: enterprise.region,
            kind: need.kind,
            item: Bilingual::new(item_of(need), ""),
            quantity: Some(Bilingual::new(quantity_of(need), "")),
            solution_region,
            provider_name,
            urgency: urgency_of(tx.daily_returns_of_case(case.id)?.iter().rev().map(|r| r.product.as_str()).find(|p| !p.is_empty())),
            // A need without a deadline asks for an answer inside the province tier's window.
            deadline: need.deadline.map_or_else(|| now + self.windows.province, crate::from_millis),
            owner: sender,
            contact: None::<Contact>,
        };
        let letter = draft_letter(self.tree, &facts, sequence, now, DateStyle::Arabic).map_err(|e| AppError::Internal(e.to_string()))?;
        let recipients: Vec<Value> =
            letter.recipients.iter().map(|r| json!({"region": r.region.to_string(), "name": r.name.zh, "name_en": r.name.en})).collect();
        let parties = letter.recipients.clone();
        let body = letter.body();
        let mut row = LetterRow {
            id: 0,
            need_id: need.id,
            number: letter.number.to_string(),
            sender: letter.sender.region,
            recipients: parties,
            subject: letter.zh.subject.clone(),
            body_zh: body.zh,
            body_en: body.en,
            status: LetterStatus::Draft,
            created_at: to_millis(now),
            sent_at: None,
            acknowledged_at: None,
            cc: Vec::new(),
            contact_name: String::new(),
            contact_phone: String::new(),
            reply_number: None,
            reply_date: None,
            reply_text: None,
        };
        row.id = tx.insert_letter(&row)?;
        Audit {
            actor,
            now,
            action: "letter.drafted",
            entity: format!("letter:{}", row.id),
            case_id: Some(need.case_id),
            payload: json!({
                "need_id": need.id, "number": row.number, "sender": row.sender, "recipients": recipients,
                "subject": {"zh": letter.zh.subject, "en": letter.en.subject},
            }),
        }
        .append(tx)?;
        let notice = Notice {
            event: EventKind::LetterDrafted,
            department: row.sender,
            need: Some(need),
            text_zh: format!("公函草稿待发出：{}《{}》", row.number, row.subject),
            text_en: format!("Letter drafted, to be sent: {} — {}", row.number, letter.en.subject),
            why_zh: Some(need.route_zh.clone()),
            link: Some(format!("/needs/{}/letters/{}", need.id, row.id)),
            approval: None,
        };
        self.notify(tx, now, notice)?;
        Ok(Some(row))
    }

    /// Where the solution of a national need lies, and who supplies it: the chosen provider; else
    /// the region the need was reported with; else the best feasible candidate in the province
    /// written to (without naming it: it is not chosen yet); else that province.
    fn letter_solution(&self, tx: &mut WriteTx, need: &NeedRow, province: RegionCode) -> AppResult<(RegionCode, Option<String>)> {
        if let Some(candidate) = need.selected_candidate
            && let Some(candidate) = tx.candidate(candidate)?
            && let Some(provider) = tx.provider(candidate.provider_id)?
        {
            return Ok((provider.region, Some(provider.name)));
        }
        if let Some(region) = &need.solution_region {
            return Ok((*region, None));
        }
        for candidate in tx.candidates_of_need(need.id)? {
            if !candidate.feasible {
                continue;
            }
            if let Some(provider) = tx.provider(candidate.provider_id)? {
                let region = provider.region;
                if self.tree.province_of(region).is_some_and(|p| p.code == province) {
                    return Ok((region, None));
                }
            }
        }
        Ok((province, None))
    }

    /// Marks a letter sent or acknowledged (draft → sent → acknowledged, no other way), with a
    /// note for the log.
    pub async fn set_letter_status(&self, actor: &Actor, now: DateTime<Utc>, letter_id: i64, status: LetterStatus, note: &str) -> AppResult<LetterRow> {
        self.move_letter(actor, now, letter_id, status, note, None).await
    }

    /// Marks a sent letter acknowledged and records the reply that acknowledged it — its number
    /// (粤工信函〔2020〕12号), date and text — in the same change.
    pub async fn acknowledge_letter(&self, actor: &Actor, now: DateTime<Utc>, letter_id: i64, reply: LetterReply, note: &str) -> AppResult<LetterRow> {
        let number = crate::error::text("reply_number", &reply.number, bangfu_core::text::SHORT_CHARS)?;
        if number.is_empty() {
            return Err(crate::error::bad("reply_number: give the reply's document number, such as 粤工信函〔2020〕12号"));
        }
        let date = bangfu_core::returns::parse_day(&reply.date).map_err(|e| crate::error::bad(format!("reply_date: {e}")))?;
        let text = crate::error::text("reply_text", &reply.text, bangfu_core::text::LONG_CHARS)?;
        self.move_letter(actor, now, letter_id, LetterStatus::Acknowledged, note, Some(LetterReply { number, date: date.to_string(), text })).await
    }

    /// Edits a draft before it is sent: its title, the paragraphs of its body (Chinese), the
    /// contact person and telephone written at its end, and its copies (抄送). Only the sender's
    /// department (who sends it), and only while it is a draft; the event keeps the earlier text.
    pub async fn edit_letter(&self, actor: &Actor, now: DateTime<Utc>, letter_id: i64, edit: LetterEdit) -> AppResult<LetterRow> {
        let subject = crate::error::text("subject", &edit.subject, bangfu_core::text::NAME_CHARS)?;
        if subject.is_empty() {
            return Err(crate::error::bad("subject: a letter has a title (关于……的函)"));
        }
        let mut paragraphs = Vec::new();
        for (i, p) in edit.paragraphs.iter().enumerate() {
            let p = crate::error::text(&format!("paragraphs[{i}]"), p, bangfu_core::text::LONG_CHARS)?;
            if !p.is_empty() {
                paragraphs.push(p.replace('\n', ""));
            }
        }
        if paragraphs.is_empty() {
            return Err(crate::error::bad("paragraphs: the body needs at least one paragraph"));
        }
        let contact_name = crate::error::text("contact_name", &edit.contact_name, bangfu_core::text::SHORT_CHARS)?;
        let contact_phone = crate::error::text("contact_phone", &edit.contact_phone, bangfu_core::text::SHORT_CHARS)?;
        let cc: Vec<String> = edit.cc.iter().enumerate().map(|(i, c)| crate::error::text(&format!("cc[{i}]"), c, bangfu_core::text::NAME_CHARS)).collect::<AppResult<Vec<_>>>()?.into_iter().filter(|c| !c.is_empty()).collect();
        self.write_as(actor, move |app, actor, tx| {
            let not_found = || AppError::NotFound(format!("letter {letter_id}"));
            let mut letter = tx.letter(letter_id)?.ok_or_else(not_found)?;
            let (need, case, team) = app.need_in(tx, letter.need_id).map_err(|_| not_found())?;
            if !(app.sees_need_in(tx, actor, &case, &team, &need)? && access::sees_need_internals(app.tree, actor, &case, &team)) {
                return Err(not_found());
            }
            if !access::may_send_letter(app.tree, actor, &letter) {
                return Err(AppError::Forbidden(format!("{} may not edit letter {}: that is for its sender, {}", actor.name, letter.number, department_name(app.tree, letter.sender))));
            }
            if letter.status != LetterStatus::Draft {
                return Err(AppError::Conflict(format!("letter {} is {} — only a draft can be edited", letter.number, letter.status)));
            }
            let before = json!({"subject": letter.subject, "body_zh": letter.body_zh, "contact_name": letter.contact_name, "contact_phone": letter.contact_phone, "cc": Value::from(letter.cc.clone()).to_string()});
            let old = LetterParts::parse(&letter.body_zh);
            let mut body = paragraphs.clone();
            if !contact_name.is_empty() || !contact_phone.is_empty() {
                body.push(format!("（联系人：{contact_name}；联系电话：{contact_phone}）"));
            }
            let (salutation, signature, date) = match &old {
                Some(p) => (p.salutation.clone(), p.signature.clone(), p.date.clone()),
                None => (String::new(), String::new(), String::new()),
            };
            let mut text = format!("{subject}\n\n{}\n\n{salutation}\n", letter.number);
            for p in body.iter().chain(std::iter::once(&"妥否，请函复。".to_string())) {
                text.push_str("\u{3000}\u{3000}");
                text.push_str(p);
                text.push('\n');
            }
            text.push_str(&format!("\n{signature}\n{date}\n"));
            letter.subject = subject;
            letter.body_zh = text;
            letter.contact_name = contact_name;
            letter.contact_phone = contact_phone;
            letter.cc = cc;
            tx.update_letter_draft(&letter)?;
            Audit {
                actor,
                now,
                action: "letter.edited",
                entity: format!("letter:{letter_id}"),
                case_id: Some(case.id),
                payload: json!({"need_id": letter.need_id, "number": letter.number, "before": before, "after": {"subject": letter.subject, "body_zh": letter.body_zh, "contact_name": letter.contact_name, "contact_phone": letter.contact_phone, "cc": Value::from(letter.cc.clone()).to_string()}}),
            }
            .append(tx)?;
            Ok(letter)
        })
        .await
    }

    async fn move_letter(&self, actor: &Actor, now: DateTime<Utc>, letter_id: i64, status: LetterStatus, note: &str, reply: Option<LetterReply>) -> AppResult<LetterRow> {
        let note = crate::error::text("note", note, bangfu_core::text::LONG_CHARS)?;
        let note = note.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let not_found = || AppError::NotFound(format!("letter {letter_id}"));
            let mut letter = tx.letter(letter_id)?.ok_or_else(not_found)?;
            let (need, case, team) = app.need_in(tx, letter.need_id).map_err(|_| not_found())?;
            if !(app.sees_need_in(tx, actor, &case, &team, &need)? && access::sees_need_internals(app.tree, actor, &case, &team)) {
                return Err(not_found());
            }
            let allowed = match status {
                LetterStatus::Sent => access::may_send_letter(app.tree, actor, &letter),
                LetterStatus::Acknowledged => access::may_acknowledge_letter(app.tree, actor, &letter),
                LetterStatus::Draft => true,
            };
            if !allowed {
                let (verb, who) = match status {
                    LetterStatus::Sent => ("sent", format!("its sender, {}", department_name(app.tree, letter.sender))),
                    _ => ("acknowledged", format!("an addressee: {}", letter.recipients.iter().map(|r| r.name.zh.as_str()).collect::<Vec<_>>().join("、"))),
                };
                return Err(AppError::Forbidden(format!("{} may not mark letter {} {verb}: that is for {who}", actor.name, letter.number)));
            }
            let current = letter.status;
            check_transition(&parse_number(&letter.number), current, status).map_err(|e| AppError::Conflict(e.to_string()))?;
            let since = match status {
                LetterStatus::Acknowledged => letter.sent_at.unwrap_or(letter.created_at),
                _ => letter.created_at,
            };
            if to_millis(now) < since {
                return Err(AppError::Conflict(format!(
                    "letter {} cannot become {status} at {} — that is before it was {}",
                    letter.number,
                    now.to_rfc3339(),
                    if status == LetterStatus::Acknowledged { "sent" } else { "drafted" }
                )));
            }
            letter.status = status;
            match status {
                LetterStatus::Sent => letter.sent_at = Some(to_millis(now)),
                LetterStatus::Acknowledged => letter.acknowledged_at = Some(to_millis(now)),
                LetterStatus::Draft => {}
            }
            tx.update_letter_status(letter.id, letter.status.as_str(), letter.sent_at, letter.acknowledged_at)?;
            if let Some(reply) = &reply {
                tx.set_letter_reply(letter.id, &reply.number, &reply.date, &reply.text)?;
                letter.reply_number = Some(reply.number.clone());
                letter.reply_date = Some(reply.date.clone());
                letter.reply_text = Some(reply.text.clone());
            }
            Audit {
                actor,
                now,
                action: match status {
                    LetterStatus::Sent => "letter.sent",
                    _ => "letter.acknowledged",
                },
                entity: format!("letter:{letter_id}"),
                case_id: Some(case.id),
                payload: json!({
                    "need_id": letter.need_id, "number": letter.number, "from": current.as_str(), "to": status.as_str(), "note": note,
                    "reply": reply.as_ref().map(|r| json!({"number": r.number, "date": r.date, "text": r.text})),
                }),
            }
            .append(tx)?;
            // The addressees hear of a letter sent to them; the sender of its answer.
            let link = Some(format!("/needs/{}/letters/{}", need.id, letter.id));
            let notices: Vec<Notice> = match status {
                LetterStatus::Sent => letter
                    .recipients
                    .iter()
                    .map(|r| Notice {
                        event: EventKind::LetterSent,
                        department: r.region,
                        need: Some(&need),
                        text_zh: format!("来函：{}《{}》", letter.number, letter.subject),
                        text_en: format!("Letter received: {} — {}", letter.number, letter.subject),
                        why_zh: Some(format!("{}发来公函，商请协调解决。", department_name(app.tree, letter.sender))),
                        link: link.clone(),
                        approval: None,
                    })
                    .collect(),
                LetterStatus::Acknowledged => vec![Notice {
                    event: EventKind::LetterAnswered,
                    department: letter.sender,
                    need: Some(&need),
                    text_zh: format!("复函：{}已答复{}", letter.reply_number.as_deref().unwrap_or("对方"), letter.number),
                    text_en: format!("Letter answered: {}", letter.number),
                    why_zh: letter.reply_text.clone(),
                    link: link.clone(),
                    approval: None,
                }],
                LetterStatus::Draft => Vec::new(),
            };
            for notice in notices {
                app.notify(tx, now, notice)?;
            }
            Ok(letter)
        })
        .await
    }

    /// A letter with its need and case; not found unless `actor` may see the need.
    pub async fn letter(&self, actor: &Actor, letter_id: i64) -> AppResult<LetterDetail> {
        let not_found = || AppError::NotFound(format!("letter {letter_id}"));
        let letter = self.store.letter(letter_id).await?.ok_or_else(not_found)?;
        let need = self.store.need(letter.need_id).await?.ok_or_else(not_found)?;
        let case = self.store.case(need.case_id).await?.ok_or_else(not_found)?;
        if !self.sees_letters_of_need(actor, &case, &need).await? {
            return Err(not_found());
        }
        let sender_region = letter.sender;
        let sender = match formal_department(self.tree, sender_region) {
            Ok(d) => d,
            Err(_) => LetterParty { region: letter.sender, name: Bilingual::new(letter.sender.to_string(), letter.sender.to_string()) },
        };
        Ok(LetterDetail {
            recipients: letter.recipients.clone(),
            zh: LetterParts::parse(&letter.body_zh),
            en: LetterParts::parse(&letter.body_en),
            sender,
            letter,
            need,
            case,
        })
    }
}

/// 晋工信函〔2020〕3号 back into its parts (for the transition's message; a number in another
/// form is kept whole as the prefix).
fn parse_number(number: &str) -> LetterNumber {
    let parsed = number.split_once('〔').and_then(|(prefix, rest)| {
        let (year, rest) = rest.split_once('〕')?;
        let sequence = rest.strip_suffix('号')?;
        Some(LetterNumber { prefix: prefix.to_string(), year: year.parse().ok()?, sequence: sequence.parse().ok()? })
    });
    parsed.unwrap_or_else(|| LetterNumber { prefix: number.to_string(), year: 0, sequence: 0 })
}

/// What is needed, as a noun: the item or material the need asks for, else its title.
fn item_of(need: &NeedRow) -> String {
    let requires = &need.requires;
    ["item", "material"]
        .iter()
        .find_map(|key| requires.get(*key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string))
        .unwrap_or_else(|| need.title.clone())
}

/// "5 条", "90000 只": the quantity without a needless decimal, with its unit.
fn quantity_of(need: &NeedRow) -> String {
    let number = if need.quantity.fract() == 0.0 && need.quantity.abs() < 1e15 { format!("{:.0}", need.quantity) } else { need.quantity.to_string() };
    let unit = need.unit.trim();
    if unit.is_empty() { number } else { format!("{number} {unit}") }
}

/// Why it is urgent, as a clause composed from what is on record — the enterprise is under the
/// departments' assistance, and the product of its latest daily return — never the need's free
/// text (a specification is not written for the counterpart department).
fn urgency_of(product: Option<&str>) -> Bilingual {
    match product {
        Some(p) => Bilingual::new(format!("系工业和信息化部门帮扶的重点企业，主要产品为{p}"), format!("an enterprise under the industry departments' assistance, making {p}")),
        None => Bilingual::new("系工业和信息化部门帮扶的重点企业", "an enterprise under the industry departments' assistance"),
    }
}
