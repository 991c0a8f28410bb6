//! Everyone takes part (issue 16), on SQLite and — when BANGFU_TEST_PG names a server —
//! PostgreSQL: a provider answers from its inbox and sees only its own candidacy; officers and
//! the enterprise comment and attach documents, signed with their department's or enterprise's
//! name; the enterprise confirms, reopens and withdraws; requirements are checked at reporting
//! naming the field; an open need is edited and a cancelled one reopened. Each use case leaves
//! its audit event; each access rule is tried from the side that may and the side that may not.

#![allow(clippy::unwrap_used)]

use crate::support::{admin};
use bangfu_app::accounts::NewUser;
use bangfu_app::needs::NewNeed;
use bangfu_app::participation::NewResponse;
use bangfu_app::{Actor, App, AppError};
use bangfu_core::model::NeedStatus;
use bangfu_store::NeedRow;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::json;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

/// The reference case with its demo accounts; `log_in` gives each account's actor.
async fn world(db: &bangfu_store::testing::TestDb) -> App {
    let app = App::open(db.url()).await.unwrap();
    bangfu_app::demo::load(&app, &admin()).await.unwrap();
    bangfu_app::demo_accounts::load_accounts(&app, &admin(), t0()).await.unwrap();
    app
}

async fn log_in(app: &App, username: &str) -> Actor {
    app.login(t0(), "127.0.0.1", username, bangfu_app::demo_accounts::DEMO_PASSWORD).await.unwrap().actor
}

/// A user of provider `provider_id`, logged in.
async fn provider_user(app: &App, username: &str, provider_id: i64) -> Actor {
    let user = NewUser { username: username.into(), role: "provider".into(), provider_id: Some(provider_id), password: "a long test password".into(), ..NewUser::default() };
    app.add_user(&admin(), t0(), user).await.unwrap();
    app.login(t0(), "127.0.0.1", username, "a long test password").await.unwrap().actor
}

/// A sterilisation need of the reference case, sourced: the province owns it and 万荣
/// (provider 1) is a feasible candidate.
async fn sterilisation_need(app: &App, title: &str) -> NeedRow {
    let input = NewNeed { kind: "sterilisation".into(), title: title.into(), quantity: 150_000.0, unit: "个".into(), ..NewNeed::default() };
    let need = app.report_and_source(&admin(), t0(), 1, input).await.unwrap();
    let detail = app.need_detail(&admin(), need.id).await.unwrap();
    assert!(detail.candidates.iter().any(|(c, _)| c.provider_id == 1 && c.feasible), "万荣 is a feasible candidate");
    need
}

/// The actions of the audit events about `need`, in order.
async fn actions(app: &App, need: i64) -> Vec<String> {
    let request = bangfu_store::PageRequest { after: None, limit: 500 };
    app.need_history(&admin(), need, request).await.unwrap().0.items.into_iter().map(|e| e.action).collect()
}

fn accept() -> NewResponse {
    NewResponse { answer: "accept".into(), note: "可于两日内完成".into(), ..NewResponse::default() }
}

bangfu_store::backend_tests! {
    async fn a_candidate_provider_answers_and_the_owner_sees_the_answer_beside_the_screening(db) {
        let app = world(&db).await;
        let need = sterilisation_need(&app, "口罩灭菌（答复）").await;
        let wanrong = log_in(&app, "wanrong").await;
        let shanxi = log_in(&app, "shanxi").await;

        // A decline needs a reason, a quote something to quote, an answer one of three words.
        let declined = app.respond_to_need(&wanrong, t0(), need.id, NewResponse { answer: "decline".into(), ..NewResponse::default() }).await;
        assert!(matches!(&declined, Err(AppError::BadInput(m)) if m.starts_with("note:")), "{declined:?}");
        let quoted = app.respond_to_need(&wanrong, t0(), need.id, NewResponse { answer: "quote".into(), ..NewResponse::default() }).await;
        assert!(matches!(quoted, Err(AppError::BadInput(_))), "{quoted:?}");
        let other = app.respond_to_need(&wanrong, t0(), need.id, NewResponse { answer: "maybe".into(), ..NewResponse::default() }).await;
        assert!(matches!(other, Err(AppError::BadInput(_))), "{other:?}");

        let deliver_by = Utc.with_ymd_and_hms(2025, 6, 3, 0, 0, 0).unwrap();
        let quote = NewResponse { answer: "quote".into(), note: "含运费".into(), quantity: Some(150_000.0), price: Some(0.12), deliver_by: Some(deliver_by) };
        let answered = app.respond_to_need(&wanrong, t0() + TimeDelta::minutes(5), need.id, quote).await.unwrap();
        assert_eq!((answered.answer.as_str(), answered.provider_id, answered.price), ("quote", 1, Some(0.12)));

        // The owner department reads it on the need, beside the candidates, and was notified.
        let seen = app.need_detail(&shanxi, need.id).await.unwrap();
        assert_eq!(seen.participation.responses.len(), 1);
        assert_eq!(seen.participation.responses[0].deliver_by, Some(deliver_by.timestamp_millis()));
        let notes = app.latest_notifications(&shanxi, 5).await.unwrap();
        assert!(notes.iter().any(|n| n.need_id == Some(need.id) && n.text_zh.starts_with("提供方报价")), "{notes:?}");
        assert!(actions(&app, need.id).await.contains(&"need.answered".to_string()));

        // Officers do not answer for a provider; a provider that is not a candidate does not see it.
        let refused = app.respond_to_need(&shanxi, t0(), need.id, accept()).await;
        assert!(matches!(refused, Err(AppError::Forbidden(_))), "{refused:?}");
        let stranger = provider_user(&app, "stranger", 5).await;
        let hidden = app.respond_to_need(&stranger, t0(), need.id, accept()).await;
        assert!(matches!(hidden, Err(AppError::NotFound(_))), "{hidden:?}");

        // A closed need takes no more answers.
        app.set_need_status(&shanxi, t0() + TimeDelta::hours(1), need.id, NeedStatus::Cancelled, "测试：撤销").await.unwrap();
        let late = app.respond_to_need(&wanrong, t0() + TimeDelta::hours(2), need.id, accept()).await;
        assert!(matches!(late, Err(AppError::Conflict(_))), "{late:?}");
        assert_eq!(app.verify_audit().await.unwrap().broken, None);
    }

    async fn a_provider_sees_its_own_candidacy_and_answers_only(db) {
        let app = world(&db).await;
        let need = sterilisation_need(&app, "口罩灭菌（两家答复）").await;
        let detail = app.need_detail(&admin(), need.id).await.unwrap();
        let second = detail.candidates.iter().find(|(c, _)| c.provider_id != 1 && c.feasible).map(|(c, _)| c.provider_id).expect("a second feasible candidate");
        let wanrong = log_in(&app, "wanrong").await;
        let rival = provider_user(&app, "rival", second).await;
        app.respond_to_need(&wanrong, t0(), need.id, accept()).await.unwrap();
        app.respond_to_need(&rival, t0(), need.id, NewResponse { answer: "decline".into(), note: "设备检修".into(), ..NewResponse::default() }).await.unwrap();

        let own = app.need_detail(&wanrong, need.id).await.unwrap();
        assert_eq!(own.participation.responses.iter().map(|r| r.provider_id).collect::<Vec<_>>(), [1]);
        assert_eq!(own.candidates.iter().map(|(c, _)| c.provider_id).collect::<Vec<_>>(), [1]);
        assert!(own.participation.comments.is_empty() && own.letters.is_empty() && own.screening.is_none());
        let quwo = log_in(&app, "quwo").await;
        let all = app.need_detail(&quwo, need.id).await.unwrap();
        assert_eq!(all.participation.responses.len(), 2, "the officers read every answer");
    }

    async fn the_inbox_lists_candidacies_newest_first_and_marks_what_changed_unread(db) {
        let app = world(&db).await;
        let wanrong = log_in(&app, "wanrong").await;
        let before = app.inbox(&wanrong, None, 50).await.unwrap();
        let first = sterilisation_need(&app, "口罩灭菌（收件箱一）").await;
        let second = sterilisation_need(&app, "口罩灭菌（收件箱二）").await;
        let inbox = app.inbox(&wanrong, None, 50).await.unwrap();
        assert_eq!(inbox.total, before.total + 2);
        assert_eq!(inbox.items.iter().take(2).map(|i| i.row.id).collect::<Vec<_>>(), [second.id, first.id], "newest first");
        assert!(inbox.items[0].unread && inbox.items[0].row.candidate_id.is_some());
        let paged = app.inbox(&wanrong, None, 1).await.unwrap();
        assert_eq!((paged.items.len(), paged.next), (1, Some(second.id)));
        assert_eq!(app.inbox(&wanrong, paged.next, 1).await.unwrap().items[0].row.id, first.id);

        app.mark_inbox_read(&wanrong, t0() + TimeDelta::minutes(1), second.id).await.unwrap();
        assert!(!app.inbox(&wanrong, None, 1).await.unwrap().items[0].unread, "read once opened");
        let quwo = log_in(&app, "quwo").await;
        app.comment_on_need(&quwo, t0() + TimeDelta::minutes(2), second.id, "请尽快答复").await.unwrap();
        assert!(app.inbox(&wanrong, None, 1).await.unwrap().items[0].unread, "unread again after a change");

        // The enterprise's inbox holds its case's needs; an officer's is empty (it has the queue).
        let enterprise = log_in(&app, "enterprise").await;
        assert_eq!(app.inbox(&enterprise, None, 1).await.unwrap().items[0].row.id, second.id);
        assert_eq!(app.inbox(&quwo, None, 50).await.unwrap().total, 0);
        assert!(matches!(app.inbox(&wanrong, None, 0).await, Err(AppError::BadInput(_))));
    }

    async fn comments_are_signed_with_the_department_or_enterprise_and_listed_on_the_need(db) {
        let app = world(&db).await;
        let need = sterilisation_need(&app, "口罩灭菌（留言）").await;
        let quwo = log_in(&app, "quwo").await;
        let enterprise = log_in(&app, "enterprise").await;
        app.comment_on_need(&quwo, t0(), need.id, "已联系万荣").await.unwrap();
        app.comment_on_need(&enterprise, t0() + TimeDelta::minutes(1), need.id, "请于周五前完成").await.unwrap();
        let listed = app.need_detail(&quwo, need.id).await.unwrap().participation.comments;
        assert_eq!(
            listed.iter().map(|c| (c.author.as_str(), c.text.as_str())).collect::<Vec<_>>(),
            [("曲沃县工信局", "已联系万荣"), ("山西健康动力科技有限公司", "请于周五前完成")]
        );
        assert_eq!(actions(&app, need.id).await.iter().filter(|a| *a == "need.commented").count(), 2);

        let empty = app.comment_on_need(&quwo, t0(), need.id, "  ").await;
        assert!(matches!(empty, Err(AppError::BadInput(_))), "{empty:?}");
        let leader = log_in(&app, "leader").await;
        assert!(matches!(app.comment_on_need(&leader, t0(), need.id, "阅").await, Err(AppError::Forbidden(_))), "viewers read only");
        let wanrong = log_in(&app, "wanrong").await;
        assert!(matches!(app.comment_on_need(&wanrong, t0(), need.id, "好").await, Err(AppError::Forbidden(_))), "providers answer, they do not comment");
        assert!(app.need_detail(&wanrong, need.id).await.unwrap().participation.comments.is_empty(), "nor read the officers' comments");
        let houma = log_in(&app, "houma").await;
        assert!(matches!(app.comment_on_need(&houma, t0(), need.id, "?").await, Err(AppError::NotFound(_))));
    }

    async fn attachments_are_limited_and_served_only_to_those_who_read_the_need(db) {
        let app = world(&db).await;
        let need = sterilisation_need(&app, "口罩灭菌（附件）").await;
        let enterprise = log_in(&app, "enterprise").await;
        let pdf = b"%PDF-1.7\n% a test report\n".to_vec();
        let row = app.attach_to_need(&enterprise, t0(), need.id, "C:\\docs\\检测报告.pdf", &pdf).await.unwrap();
        assert_eq!((row.filename.as_str(), row.content_type.as_str(), row.size_bytes), ("检测报告.pdf", "application/pdf", pdf.len() as i64));
        assert_eq!(row.author, "山西健康动力科技有限公司");

        let too_big = vec![b'%'; bangfu_app::participation::MAX_ATTACHMENT_BYTES + 1];
        let refused = app.attach_to_need(&enterprise, t0(), need.id, "big.pdf", &too_big).await;
        assert!(matches!(&refused, Err(AppError::BadInput(m)) if m.contains("MB")), "{refused:?}");
        let page = app.attach_to_need(&enterprise, t0(), need.id, "report.pdf", b"<html><script>").await;
        assert!(matches!(page, Err(AppError::BadInput(_))), "a page claiming to be a PDF is refused: {page:?}");
        let exe = app.attach_to_need(&enterprise, t0(), need.id, "setup.exe", b"MZ\x90\x00").await;
        assert!(matches!(exe, Err(AppError::BadInput(_))), "{exe:?}");

        let quwo = log_in(&app, "quwo").await;
        let (seen, content) = app.attachment(&quwo, row.id).await.unwrap();
        assert_eq!((seen.id, content), (row.id, pdf));
        let leader = log_in(&app, "leader").await;
        assert!(app.attachment(&leader, row.id).await.is_ok(), "a viewer of the case reads it");
        for outsider in ["houma", "wanrong"] {
            let actor = log_in(&app, outsider).await;
            assert!(matches!(app.attachment(&actor, row.id).await, Err(AppError::NotFound(_))), "{outsider} does not get it");
        }
        assert!(actions(&app, need.id).await.contains(&"need.attached".to_string()));
        assert_eq!(app.need_detail(&quwo, need.id).await.unwrap().participation.attachments.len(), 1);
    }

    async fn the_enterprise_confirms_or_reopens_what_the_owner_resolved(db) {
        let app = world(&db).await;
        let need = sterilisation_need(&app, "口罩灭菌（确认）").await;
        let enterprise = log_in(&app, "enterprise").await;
        let shanxi = log_in(&app, "shanxi").await;
        let early = app.confirm_need(&enterprise, t0(), need.id).await;
        assert!(matches!(early, Err(AppError::Conflict(_))), "only a resolved need is confirmed: {early:?}");
        app.set_need_status(&shanxi, t0(), need.id, NeedStatus::Resolved, "灭菌完成").await.unwrap();
        assert!(matches!(app.confirm_need(&shanxi, t0(), need.id).await, Err(AppError::Forbidden(_))), "the enterprise confirms, not the owner");
        app.confirm_need(&enterprise, t0() + TimeDelta::hours(1), need.id).await.unwrap();
        assert!(app.need_detail(&shanxi, need.id).await.unwrap().participation.confirmation.is_some());

        // Not solved after all: reopened with a reason, open again, a new response window.
        let bare = app.reopen_need(&enterprise, t0(), need.id, "").await;
        assert!(matches!(bare, Err(AppError::BadInput(_))), "{bare:?}");
        let later = t0() + TimeDelta::hours(3);
        let reopened = app.reopen_need(&enterprise, later, need.id, "抽检不合格，需重新灭菌").await.unwrap();
        assert_eq!((reopened.status.as_str(), reopened.reached_owner_at), ("open", later.timestamp_millis()));
        let detail = app.need_detail(&shanxi, need.id).await.unwrap();
        assert!(detail.participation.confirmation.is_none(), "the confirmation is gone");
        let history = actions(&app, need.id).await;
        assert!(history.ends_with(&["need.resolved".into(), "need.confirmed".into(), "need.reopened".into()]), "{history:?}");
    }

    async fn the_enterprise_withdraws_only_what_it_reported_and_the_owner_reopens_a_cancelled_need(db) {
        let app = world(&db).await;
        let enterprise = log_in(&app, "enterprise").await;
        let own = NewNeed { kind: "labour".into(), title: "包装工 5 名".into(), quantity: 5.0, unit: "人".into(), requires: json!({"skill": "包装"}), ..NewNeed::default() };
        let own = app.report_need(&enterprise, t0(), 1, own).await.unwrap();
        let officers = sterilisation_need(&app, "口罩灭菌（撤回）").await;
        let refused = app.withdraw_need(&enterprise, t0(), officers.id, "不需要了").await;
        assert!(matches!(refused, Err(AppError::Forbidden(_))), "a need the officers reported: {refused:?}");
        assert!(matches!(app.withdraw_need(&enterprise, t0(), own.id, "").await, Err(AppError::BadInput(_))), "a reason is needed");
        let quwo = log_in(&app, "quwo").await;
        assert!(matches!(app.withdraw_need(&quwo, t0(), own.id, "x").await, Err(AppError::Forbidden(_))), "officers cancel, they do not withdraw");
        let withdrawn = app.withdraw_need(&enterprise, t0() + TimeDelta::minutes(5), own.id, "已自行招到").await.unwrap();
        assert_eq!(withdrawn.status.as_str(), "cancelled");
        assert!(matches!(app.withdraw_need(&enterprise, t0(), own.id, "again").await, Err(AppError::Conflict(_))));

        // The enterprise does not reopen a cancelled need; its owner does, with a reason.
        assert!(matches!(app.reopen_need(&enterprise, t0(), own.id, "又缺人了").await, Err(AppError::Forbidden(_))));
        let reopened = app.reopen_need(&quwo, t0() + TimeDelta::hours(1), own.id, "企业再次缺工").await.unwrap();
        assert_eq!(reopened.status.as_str(), "open");
        let history = actions(&app, own.id).await;
        assert!(history.ends_with(&["need.withdrawn".into(), "need.reopened".into()]), "{history:?}");
        let houma = log_in(&app, "houma").await;
        assert!(matches!(app.reopen_need(&houma, t0(), own.id, "x").await, Err(AppError::NotFound(_))));
    }

    async fn requirements_are_checked_at_reporting_naming_the_field_in_both_languages(db) {
        let app = world(&db).await;
        let quwo = log_in(&app, "quwo").await;
        let slitting = NewNeed { kind: "slitting".into(), title: "熔喷布分切".into(), quantity: 10.0, unit: "卷".into(), ..NewNeed::default() };
        let refused = app.report_need(&quwo, t0(), 1, slitting.clone()).await;
        let Err(AppError::BadInput(message)) = refused else { panic!("{refused:?}") };
        assert!(message.starts_with("requires.input_width_m: 请填写来料幅宽（米）"), "{message}");
        assert!(message.contains("missing attribute \"input_width_m\""), "{message}");
        let narrower = NewNeed { requires: json!({"input_width_m": 1.4, "output_width_m": 1.6}), ..slitting.clone() };
        let Err(AppError::BadInput(message)) = app.report_need(&quwo, t0(), 1, narrower).await else { panic!() };
        assert!(message.contains("所需幅宽不能大于来料幅宽"), "{message}");
        let method = NewNeed { kind: "sterilisation".into(), requires: json!({"methods": ["gamma"]}), ..slitting.clone() };
        let Err(AppError::BadInput(message)) = app.report_need(&quwo, t0(), 1, method).await else { panic!() };
        assert!(message.starts_with("requires.methods: 不认识的灭菌方式「gamma」"), "{message}");
        let good = NewNeed { requires: json!({"input_width_m": 1.6, "output_width_m": 1.4}), ..slitting };
        app.report_need(&quwo, t0(), 1, good).await.unwrap();
    }

    async fn an_open_need_is_edited_with_its_requirements_checked_and_the_event_keeps_both_versions(db) {
        let app = world(&db).await;
        let quwo = log_in(&app, "quwo").await;
        let input = NewNeed { kind: "slitting".into(), title: "熔喷布分切".into(), quantity: 10.0, unit: "卷".into(), requires: json!({"input_width_m": 1.6, "output_width_m": 1.4}), ..NewNeed::default() };
        let need = app.report_need(&quwo, t0(), 1, input.clone()).await.unwrap();
        let wrong = NewNeed { requires: json!({"input_width_m": 1.6}), ..input.clone() };
        assert!(matches!(app.edit_need(&quwo, t0(), need.id, wrong).await, Err(AppError::BadInput(m)) if m.starts_with("requires.output_width_m")));
        let edited = app.edit_need(&quwo, t0() + TimeDelta::minutes(3), need.id, NewNeed { quantity: 12.0, requires: json!({"input_width_m": 1.8, "output_width_m": 1.2}), ..input.clone() }).await.unwrap();
        assert_eq!((edited.quantity, edited.kind.as_str()), (12.0, "slitting"));
        let stored = app.need_detail(&quwo, need.id).await.unwrap().need;
        assert_eq!(serde_json::Value::Object(stored.requires.clone()), json!({"input_width_m": 1.8, "output_width_m": 1.2}));
        let request = bangfu_store::PageRequest { after: None, limit: 500 };
        let events = app.need_history(&admin(), need.id, request).await.unwrap().0.items;
        let event = events.iter().find(|e| e.action == "need.edited").unwrap();
        let payload: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!((payload["before"]["quantity"].as_f64(), payload["after"]["quantity"].as_f64()), (Some(10.0), Some(12.0)));

        let leader = log_in(&app, "leader").await;
        assert!(matches!(app.edit_need(&leader, t0(), need.id, input.clone()).await, Err(AppError::Forbidden(_))));
        let houma = log_in(&app, "houma").await;
        assert!(matches!(app.edit_need(&houma, t0(), need.id, input.clone()).await, Err(AppError::NotFound(_))));
        app.set_need_status(&quwo, t0(), need.id, NeedStatus::Resolved, "分切完成").await.unwrap();
        assert!(matches!(app.edit_need(&quwo, t0(), need.id, input).await, Err(AppError::Conflict(_))), "a closed need is not edited");
    }
    async fn an_edit_that_changes_what_screening_reads_screens_the_need_again(db) {
        let app = world(&db).await;
        let need = sterilisation_need(&app, "口罩灭菌（修改后重新检索）").await;
        let shanxi = log_in(&app, "shanxi").await;
        let input = NewNeed { kind: "sterilisation".into(), title: need.title.clone(), quantity: 150_000.0, unit: "个".into(), ..NewNeed::default() };
        let sourced = |actions: &[String]| actions.iter().filter(|a| a.as_str() == "need.sourced").count();
        let before = sourced(&actions(&app, need.id).await);
        let first = app.need_detail(&shanxi, need.id).await.unwrap().screening.unwrap();
        assert!(first.feasible > 0, "{first:?}");

        // Two hours is faster than any plant can sterilise and deliver: every candidate is too slow now.
        let hurried = NewNeed { max_lead_time_h: Some(2.0), ..input.clone() };
        app.edit_need(&shanxi, t0() + TimeDelta::minutes(5), need.id, hurried).await.unwrap();
        let detail = app.need_detail(&shanxi, need.id).await.unwrap();
        let screening = detail.screening.unwrap();
        assert_eq!(screening.feasible, 0, "{screening:?}");
        assert_eq!(screening.too_slow, screening.screened - screening.unavailable - screening.spec_mismatch - screening.insufficient_capacity - screening.too_far);
        assert_eq!(screening.screened_at, (t0() + TimeDelta::minutes(5)).timestamp_millis());
        let wanrong = detail.candidates.iter().find(|(c, _)| c.provider_id == 1).map(|(c, _)| c.clone()).unwrap();
        assert!(!wanrong.feasible, "万荣 is rejected now: {}", wanrong.explanation_zh);
        assert!(wanrong.reasons.iter().any(|r| r.code == "too_slow"), "{:?}", wanrong.reasons);
        let after = actions(&app, need.id).await;
        assert_eq!(sourced(&after), before + 1, "{after:?}");
        let edited = after.iter().rposition(|a| a == "need.edited").unwrap();
        assert_eq!(after.last().map(String::as_str), Some("need.sourced"), "the edit's event, then the screening's (with the rings it widened through): {after:?}");
        assert!(after[edited + 1..].iter().all(|a| a == "need.widened" || a == "need.sourced"), "{after:?}");

        // Given time again, the need has its candidates back.
        app.edit_need(&shanxi, t0() + TimeDelta::minutes(9), need.id, NewNeed { max_lead_time_h: Some(240.0), ..input.clone() }).await.unwrap();
        let detail = app.need_detail(&shanxi, need.id).await.unwrap();
        assert_eq!(detail.screening.unwrap().feasible, first.feasible);
        assert!(detail.candidates.iter().any(|(c, _)| c.provider_id == 1 && c.feasible));
        assert_eq!(sourced(&actions(&app, need.id).await), before + 2);

        // A new title alone leaves the screening as it was.
        app.edit_need(&shanxi, t0() + TimeDelta::minutes(12), need.id, NewNeed { title: "口罩灭菌（改名）".into(), max_lead_time_h: Some(240.0), ..input }).await.unwrap();
        let after = actions(&app, need.id).await;
        assert_eq!((sourced(&after), after.last().map(String::as_str)), (before + 2, Some("need.edited")));
        assert_eq!(app.need_detail(&shanxi, need.id).await.unwrap().screening.unwrap().screened_at, (t0() + TimeDelta::minutes(9)).timestamp_millis());
    }

    async fn the_enterprise_editing_a_screened_need_has_it_screened_again_but_not_an_unscreened_one(db) {
        let app = world(&db).await;
        let enterprise = log_in(&app, "enterprise").await;
        let input = NewNeed { kind: "sterilisation".into(), title: "企业报告的灭菌".into(), quantity: 1000.0, unit: "个".into(), ..NewNeed::default() };
        let own = app.report_and_source(&enterprise, t0(), 1, input.clone()).await.unwrap();
        app.edit_need(&enterprise, t0(), own.id, NewNeed { quantity: 2000.0, ..input.clone() }).await.unwrap();
        assert!(!actions(&app, own.id).await.contains(&"need.sourced".to_string()), "an enterprise's need waits for its officers to source it");
        assert!(app.need_detail(&admin(), own.id).await.unwrap().screening.is_none());

        let quwo = log_in(&app, "quwo").await;
        app.source_need(&quwo, t0(), own.id).await.unwrap();
        app.edit_need(&enterprise, t0() + TimeDelta::minutes(1), own.id, NewNeed { quantity: 3000.0, max_lead_time_h: Some(1.0), ..input }).await.unwrap();
        let screening = app.need_detail(&admin(), own.id).await.unwrap().screening.unwrap();
        assert_eq!((screening.feasible, screening.screened_at), (0, (t0() + TimeDelta::minutes(1)).timestamp_millis()));
    }
}
