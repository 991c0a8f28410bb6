//! Official letters (issue 3, item 5), on SQLite and — when BANGFU_TEST_PG names a server —
//! PostgreSQL: drafted when a need becomes national, numbered per sender and year, moved draft →
//! sent → acknowledged and no other way, read by whoever may see the need; the reference case's
//! letters to 广东省 and 东莞市, and to 北京市.

// A failed unwrap is a failed test; backend_tests! bodies are not #[test] functions, which
// clippy.toml's allow-unwrap-in-tests covers.
#![allow(clippy::unwrap_used)]

use crate::support::{admin, code};
use bangfu_app::cases::NewEnterprise;
use bangfu_app::needs::NewNeed;
use bangfu_app::registry::NewProvider;
use bangfu_app::{Actor, App, AppError};
use bangfu_core::model::LetterStatus;
use bangfu_store::{LetterRow, NeedRow};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::json;

fn province() -> Actor {
    Actor::officer("山西省工信厅", code(140000))
}

/// 2020-01-26 10:00 in 曲沃.
/// An officer of the department the letters to 东莞 are addressed to.
fn guangdong() -> Actor {
    Actor::officer("广东省工信厅", code(440000))
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 1, 26, 2, 0, 0).unwrap()
}

fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}

/// An enterprise in `region` and its case; returns the case id.
async fn with_case(app: &App, region: &str, credit_code: &str) -> i64 {
    let input = NewEnterprise { name: "山西健康动力科技有限公司".into(), credit_code: credit_code.into(), region: region.into(), ..Default::default() };
    let enterprise = app.add_enterprise(&admin(), t0(), input).await.unwrap();
    app.open_case(&admin(), t0(), enterprise.id, "临汾首家口罩生产企业帮扶").await.unwrap().id
}

async fn quwo_case(app: &App) -> i64 {
    with_case(app, "141021", "91141021MA0KQ20203").await
}

fn lines(solution: Option<&str>) -> NewNeed {
    NewNeed {
        kind: "equipment".into(),
        title: "东莞订购的口罩生产线无法发运".into(),
        specification: "生产线已在东莞订购，受疫情交通管控无法发运，需跨省协调放行。".into(),
        quantity: 5.0,
        unit: "条".into(),
        requires: json!({"item": "口罩生产线"}),
        deadline: Some(Utc.with_ymd_and_hms(2020, 1, 31, 10, 0, 0).unwrap()),
        solution_region: solution.map(str::to_string),
        ..NewNeed::default()
    }
}

/// A provider of production lines in `region`; returns its id.
async fn line_maker(app: &App, key: &str, region: &str) -> i64 {
    let input = NewProvider { key: key.into(), name: format!("{key}生产线企业"), region: region.into(), ..NewProvider::default() };
    let id = app.add_provider(&admin(), t0(), input).await.unwrap().id;
    app.set_capability(&admin(), t0(), id, "equipment", true, &json!({"item": "口罩生产线", "stock": 5, "lead_time_h": 24})).await.unwrap();
    id
}

async fn letters(app: &App, need_id: i64) -> Vec<LetterRow> {
    app.need_detail(&admin(), need_id).await.unwrap().letters
}

/// (number, recipients' regions, status) of each letter.
fn summary(letters: &[LetterRow]) -> Vec<(String, Vec<String>, String)> {
    letters
        .iter()
        .map(|l| (l.number.clone(), l.recipients.iter().map(|r| r.region.to_string()).collect(), l.status.as_str().to_string()))
        .collect()
}

fn s(text: &str) -> String {
    text.to_string()
}

async fn select(app: &App, need: &NeedRow, provider_id: i64, at: DateTime<Utc>) -> NeedRow {
    let candidate = app.need_detail(&admin(), need.id).await.unwrap().candidates.into_iter().find(|(c, _)| c.provider_id == provider_id).unwrap().0;
    app.select_candidate(&admin(), at, need.id, candidate.id).await.unwrap()
}

bangfu_store::backend_tests! {
    async fn a_need_reported_across_provinces_gets_a_draft_letter_at_once(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = quwo_case(&app).await;
        let need = app.report_need(&admin(), t0(), case_id, lines(Some("441900"))).await.unwrap();
        let all = letters(&app, need.id).await;
        assert_eq!(summary(&all), [(s("晋工信函〔2020〕1号"), vec![s("440000"), s("441900")], s("draft"))]);
        let letter = &all[0];
        assert_eq!(letter.sender.to_string(), "140000");
        assert_eq!(letter.subject, "关于商请协调解决山西健康动力科技有限公司口罩生产线供应问题的函", "no category label in the title");
        assert!(letter.body_zh.starts_with("关于商请协调解决山西健康动力科技有限公司口罩生产线供应问题的函\n\n晋工信函〔2020〕1号\n\n广东省工业和信息化厅、东莞市工业和信息化局：\n"), "{}", letter.body_zh);
        assert!(
            letter.body_zh.contains("山西健康动力科技有限公司位于山西省临汾市曲沃县，系工业和信息化部门帮扶的重点企业。为尽快投产，该企业急需口罩生产线5条，货源在广东省东莞市。"),
            "{}",
            letter.body_zh
        );
        assert!(!letter.body_zh.contains("受疫情交通管控"), "the need's free text is not pasted into the letter: {}", letter.body_zh);
        assert!(letter.body_zh.contains("确保于2020年1月31日前运抵企业。"), "{}", letter.body_zh);
        assert!(letter.body_zh.ends_with("妥否，请函复。\n\n山西省工业和信息化厅\n2020年1月26日\n"), "{}", letter.body_zh);
        assert!(letter.body_en.starts_with("Request for help with the supply of 口罩生产线 for 山西健康动力科技有限公司"), "{}", letter.body_en);
        assert_eq!((letter.created_at, letter.sent_at, letter.acknowledged_at), (t0().timestamp_millis(), None, None));

        // One event and a notification for the sender, in the same change as the report.
        let timeline = app.case_timeline(&admin(), case_id).await.unwrap();
        let actions: Vec<&str> = timeline.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions[actions.len() - 2..], ["need.reported", "letter.drafted"]);
        let drafted: serde_json::Value = serde_json::from_str(&timeline.last().unwrap().payload).unwrap();
        assert_eq!(drafted["number"], "晋工信函〔2020〕1号");
        assert_eq!(drafted["recipients"][1]["name"], "东莞市工业和信息化局");
        let notes = app.notifications(&province(), bangfu_store::PageRequest::first(500)).await.unwrap().items;
        assert!(notes.iter().any(|n| n.text_zh.starts_with("公函草稿待发出：晋工信函〔2020〕1号")), "{notes:?}");
    }

    async fn a_need_inside_the_province_gets_no_letter(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = quwo_case(&app).await;
        let need = app.report_need(&admin(), t0(), case_id, lines(Some("140822"))).await.unwrap();
        assert_eq!(need.scope.as_str(), "province");
        assert_eq!(letters(&app, need.id).await, []);
        let permit = NewNeed { kind: "permit".into(), title: "异地办理的许可".into(), quantity: 1.0, solution_region: Some("441900".into()), ..NewNeed::default() };
        let permit = app.report_need(&admin(), t0(), case_id, permit).await.unwrap();
        assert_eq!((permit.scope.as_str(), letters(&app, permit.id).await.len()), ("local", 0), "permits are always local");
    }

    async fn letters_are_numbered_per_sender_and_year(db) {
        let app = App::open(db.url()).await.unwrap();
        let quwo = quwo_case(&app).await;
        let beijing_enterprise = with_case(&app, "110106", "91110106MA0KQ2020Q").await;
        let a = app.report_need(&admin(), t0(), quwo, lines(Some("441900"))).await.unwrap();
        let b = app.report_need(&admin(), t0() + hours(1), quwo, lines(Some("110106"))).await.unwrap();
        let c = app.report_need(&admin(), t0() + hours(2), beijing_enterprise, lines(Some("441900"))).await.unwrap();
        let next_year = Utc.with_ymd_and_hms(2020, 12, 31, 17, 0, 0).unwrap(); // 2021-01-01 01:00 in China
        let d = app.report_need(&admin(), next_year, quwo, lines(Some("120101"))).await.unwrap();
        let e = app.report_need(&admin(), next_year, quwo, lines(Some("120101"))).await.unwrap();
        let mut got = Vec::new();
        for need in [&a, &b, &c, &d, &e] {
            got.extend(letters(&app, need.id).await.into_iter().map(|l| l.number));
        }
        assert_eq!(got, ["晋工信函〔2020〕1号", "晋工信函〔2020〕2号", "京工信函〔2020〕1号", "晋工信函〔2021〕1号", "晋工信函〔2021〕2号"]);
        let beijing = app.letter(&admin(), letters(&app, b.id).await[0].id).await.unwrap();
        assert_eq!(beijing.recipients.iter().map(|r| r.name.zh.as_str()).collect::<Vec<_>>(), ["北京市工业和信息化局"]);
        assert_eq!(beijing.sender.name.zh, "山西省工业和信息化厅");
    }

    async fn selecting_or_switching_within_the_province_written_to_drafts_no_second_letter(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = quwo_case(&app).await;
        let dongguan = line_maker(&app, "东莞", "441900").await;
        let guangzhou = line_maker(&app, "广州", "440106").await;
        let need = app.report_need(&admin(), t0(), case_id, lines(Some("441900"))).await.unwrap();
        app.source_need(&admin(), t0(), need.id).await.unwrap();
        select(&app, &need, dongguan, t0() + hours(1)).await;
        let switched = select(&app, &need, guangzhou, t0() + hours(2)).await;
        assert_eq!(switched.letter_to.map(|c| c.to_string()).as_deref(), Some("440000"));
        assert_eq!(summary(&letters(&app, need.id).await), [(s("晋工信函〔2020〕1号"), vec![s("440000"), s("441900")], s("draft"))]);
    }

    async fn switching_to_a_provider_in_another_province_drafts_a_letter_there(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = quwo_case(&app).await;
        let dongguan = line_maker(&app, "东莞", "441900").await;
        let fengtai = line_maker(&app, "丰台", "110106").await;
        let need = app.report_need(&admin(), t0(), case_id, lines(Some("441900"))).await.unwrap();
        app.source_need(&admin(), t0(), need.id).await.unwrap();
        select(&app, &need, dongguan, t0() + hours(1)).await;
        select(&app, &need, fengtai, t0() + hours(2)).await;
        let all = letters(&app, need.id).await;
        assert_eq!(
            summary(&all),
            [(s("晋工信函〔2020〕1号"), vec![s("440000"), s("441900")], s("draft")), (s("晋工信函〔2020〕2号"), vec![s("110000")], s("draft"))]
        );
        // The chosen provider is named in the second letter.
        assert!(all[1].body_zh.contains("由位于北京市丰台区的丰台生产线企业提供"), "{}", all[1].body_zh);
    }

    async fn sourcing_that_routes_a_need_across_provinces_drafts_its_letter(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = quwo_case(&app).await;
        line_maker(&app, "东莞", "441900").await;
        let need = app.report_need(&admin(), t0(), case_id, lines(None)).await.unwrap();
        assert_eq!((need.scope.as_str(), letters(&app, need.id).await.len()), ("local", 0));
        let sourced = app.source_need(&admin(), t0() + hours(1), need.id).await.unwrap();
        assert_eq!((sourced.scope.as_str(), sourced.letter_to.map(|c| c.to_string()).as_deref()), ("national", Some("440000")));
        let all = letters(&app, need.id).await;
        assert_eq!(summary(&all), [(s("晋工信函〔2020〕1号"), vec![s("440000"), s("441900")], s("draft"))]);
        assert!(all[0].body_zh.contains("货源在广东省东莞市"), "a candidate not yet chosen is not named: {}", all[0].body_zh);
        // Sourcing again changes nothing.
        app.source_need(&admin(), t0() + hours(2), need.id).await.unwrap();
        assert_eq!(letters(&app, need.id).await.len(), 1);
    }

    async fn a_letter_goes_draft_sent_acknowledged_and_no_other_way(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = quwo_case(&app).await;
        let need = app.report_need(&admin(), t0(), case_id, lines(Some("441900"))).await.unwrap();
        let id = letters(&app, need.id).await[0].id;

        let err = app.set_letter_status(&admin(), t0() + hours(1), id, LetterStatus::Acknowledged, "").await.unwrap_err();
        assert!(matches!(err, AppError::Conflict(_)), "{err}");
        assert_eq!(err.to_string(), "letter 晋工信函〔2020〕1号 is draft and cannot become acknowledged — send it before marking it acknowledged");
        let err = app.set_letter_status(&province(), t0() - hours(1), id, LetterStatus::Sent, "").await.unwrap_err();
        assert!(err.to_string().contains("before it was drafted"), "{err}");
        let err = app.set_letter_status(&province(), t0(), id, LetterStatus::Draft, "").await.unwrap_err();
        assert!(matches!(err, AppError::Conflict(_)), "{err}");

        let err = app.set_letter_status(&guangdong(), t0() + hours(4), id, LetterStatus::Sent, "").await.unwrap_err();
        assert!(matches!(err, AppError::NotFound(_)), "a draft is not the addressee's to see: {err}");
        let sent = app.set_letter_status(&province(), t0() + hours(4), id, LetterStatus::Sent, "已发出").await.unwrap();
        assert_eq!((sent.status.as_str(), sent.sent_at), ("sent", Some((t0() + hours(4)).timestamp_millis())));
        let err = app.set_letter_status(&province(), t0() + hours(5), id, LetterStatus::Sent, "").await.unwrap_err();
        assert_eq!(err.to_string(), "letter 晋工信函〔2020〕1号 is sent and cannot become sent — it is already so");
        let err = app.set_letter_status(&guangdong(), t0() + hours(3), id, LetterStatus::Acknowledged, "").await.unwrap_err();
        assert!(err.to_string().contains("before it was sent"), "{err}");

        // Issue 17 (F14): the sender does not acknowledge its own letter, nor does the addressee
        // send it; the addressee (广东省) records the answer.
        let err = app.set_letter_status(&province(), t0() + hours(24), id, LetterStatus::Acknowledged, "").await.unwrap_err();
        assert!(matches!(err, AppError::Forbidden(_)), "{err}");
        let done = app.set_letter_status(&guangdong(), t0() + hours(24), id, LetterStatus::Acknowledged, "广东省工信厅回复").await.unwrap();
        assert_eq!(done.acknowledged_at, Some((t0() + hours(24)).timestamp_millis()));
        let err = app.set_letter_status(&province(), t0() + hours(25), id, LetterStatus::Sent, "").await.unwrap_err();
        assert_eq!(err.to_string(), "letter 晋工信函〔2020〕1号 is acknowledged and cannot become sent — an acknowledged letter is final");

        let stored = app.letter(&admin(), id).await.unwrap().letter;
        assert_eq!(stored, done);
        let timeline = app.case_timeline(&admin(), case_id).await.unwrap();
        let letter_events: Vec<(&str, serde_json::Value)> = timeline
            .iter()
            .filter(|e| e.entity == format!("letter:{id}"))
            .map(|e| (e.action.as_str(), serde_json::from_str::<serde_json::Value>(&e.payload).unwrap()["note"].clone()))
            .collect();
        assert_eq!(letter_events, [("letter.drafted", serde_json::Value::Null), ("letter.sent", json!("已发出")), ("letter.acknowledged", json!("广东省工信厅回复"))]);
        assert_eq!(app.verify_audit().await.unwrap().broken, None);
    }

    async fn a_draft_is_edited_by_its_sender_and_acknowledging_records_the_reply(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = quwo_case(&app).await;
        let need = app.report_need(&admin(), t0(), case_id, lines(Some("441900"))).await.unwrap();
        let id = letters(&app, need.id).await[0].id;
        let edit = bangfu_app::letters::LetterEdit {
            subject: "关于商请协调解决口罩生产线发运问题的函".into(),
            paragraphs: vec!["山西健康动力科技有限公司急需口罩生产线5条。".into(), "现商请贵厅（局）协调放行。".into()],
            contact_name: "张三".into(),
            contact_phone: "0351-0000000".into(),
            cc: vec!["临汾市工业和信息化局".into()],
        };
        let err = app.edit_letter(&guangdong(), t0() + hours(1), id, edit.clone()).await.unwrap_err();
        assert!(matches!(err, AppError::NotFound(_) | AppError::Forbidden(_)), "{err}");
        let edited = app.edit_letter(&province(), t0() + hours(1), id, edit.clone()).await.unwrap();
        assert_eq!(edited.subject, "关于商请协调解决口罩生产线发运问题的函");
        assert!(edited.body_zh.contains("\u{3000}\u{3000}（联系人：张三；联系电话：0351-0000000）\n\u{3000}\u{3000}妥否，请函复。"), "{}", edited.body_zh);
        assert_eq!(edited.cc, ["临汾市工业和信息化局"]);
        let parts = app.letter(&province(), id).await.unwrap().zh.unwrap();
        assert_eq!(parts.paragraphs.len(), 4);
        app.set_letter_status(&province(), t0() + hours(2), id, LetterStatus::Sent, "").await.unwrap();
        let err = app.edit_letter(&province(), t0() + hours(3), id, edit).await.unwrap_err();
        assert!(matches!(err, AppError::Conflict(_)), "a sent letter is not a draft: {err}");
        let reply = bangfu_app::letters::LetterReply { number: "粤工信函〔2020〕12号".into(), date: "2020-01-27".into(), text: "已协调放行。".into() };
        let err = app.acknowledge_letter(&guangdong(), t0() + hours(20), id, bangfu_app::letters::LetterReply { number: String::new(), ..reply.clone() }, "").await.unwrap_err();
        assert!(matches!(err, AppError::BadInput(_)), "{err}");
        let done = app.acknowledge_letter(&guangdong(), t0() + hours(20), id, reply, "").await.unwrap();
        assert_eq!((done.status.as_str(), done.reply_number.as_deref(), done.reply_date.as_deref(), done.reply_text.as_deref()), ("acknowledged", Some("粤工信函〔2020〕12号"), Some("2020-01-27"), Some("已协调放行。")));
        let stored = app.letter(&province(), id).await.unwrap().letter;
        assert_eq!(stored.reply_number.as_deref(), Some("粤工信函〔2020〕12号"));
    }

    async fn whoever_may_see_the_need_reads_its_letter_and_no_one_else(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = quwo_case(&app).await;
        let need = app.report_need(&admin(), t0(), case_id, lines(Some("441900"))).await.unwrap();
        let id = letters(&app, need.id).await[0].id;
        let county = Actor::officer("曲沃县工信局", code(141021));
        let detail = app.letter(&county, id).await.unwrap();
        assert_eq!(detail.need.id, need.id);
        let zh = detail.zh.expect("the Chinese letter in its parts");
        assert_eq!(zh.number, "晋工信函〔2020〕1号");
        assert_eq!(zh.salutation, "广东省工业和信息化厅、东莞市工业和信息化局：");
        // The cause, the request and the closing: the contact is written when the draft is edited.
        assert_eq!((zh.paragraphs.len(), zh.paragraphs.last().map(String::as_str)), (3, Some("妥否，请函复。")));
        assert_eq!((zh.signature.as_str(), zh.date.as_str()), ("山西省工业和信息化厅", "2020年1月26日"));
        assert_eq!(detail.en.expect("the English rendering").date, "26 January 2020");

        for outsider in [Actor::officer("侯马市工信局", code(141081)), Actor::officer("广东省工信厅", code(440000))] {
            let err = app.letter(&outsider, id).await.unwrap_err();
            assert!(matches!(err, AppError::NotFound(_)), "{err}");
            let err = app.set_letter_status(&outsider, t0() + hours(1), id, LetterStatus::Sent, "").await.unwrap_err();
            assert!(matches!(err, AppError::NotFound(_)), "{err}");
        }
        let err = app.letter(&admin(), 999).await.unwrap_err();
        assert_eq!(err.to_string(), "letter 999 not found");
    }

    async fn the_reference_case_ends_with_its_letters_sent_and_acknowledged(db) {
        let app = App::open(db.url()).await.unwrap();
        bangfu_app::demo::load(&app, &admin()).await.unwrap();
        let detail = app.case_detail(&admin(), 1).await.unwrap();
        assert_eq!(
            summary(&detail.letters),
            [
                (s("晋工信函〔2020〕1号"), vec![s("440000"), s("441900")], s("acknowledged")),
                (s("晋工信函〔2020〕2号"), vec![s("110000")], s("acknowledged")),
            ]
        );
        let china = |y, m, d, h| chrono::FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().timestamp_millis();
        let lines = &detail.letters[0];
        assert!(detail.needs.iter().any(|n| n.id == lines.need_id && n.title.contains("东莞")));
        assert_eq!((lines.created_at, lines.sent_at, lines.acknowledged_at), (china(2020, 1, 26, 10), Some(china(2020, 1, 26, 14)), Some(china(2020, 1, 27, 10))));
        assert!(lines.body_zh.contains("广东省工业和信息化厅、东莞市工业和信息化局："), "{}", lines.body_zh);
        let cabinet = &detail.letters[1];
        assert!(detail.needs.iter().any(|n| n.id == cabinet.need_id && n.title.contains("丰台")));
        assert_eq!((cabinet.created_at, cabinet.sent_at, cabinet.acknowledged_at), (china(2020, 2, 3, 9), Some(china(2020, 2, 3, 11)), Some(china(2020, 2, 5, 10))));
        assert!(cabinet.body_zh.contains("北京市工业和信息化局：\n"), "{}", cabinet.body_zh);
        assert!(cabinet.body_zh.contains("由位于北京市丰台区的北京市丰台区某消毒柜企业【假定名称】提供") || cabinet.body_zh.contains("货源在北京市丰台区"), "{}", cabinet.body_zh);

        // Every date the report does not give is marked as assumed in the log.
        let timeline = app.case_timeline(&admin(), 1).await.unwrap();
        for e in timeline.iter().filter(|e| e.action == "letter.sent" || e.action == "letter.acknowledged") {
            let note = serde_json::from_str::<serde_json::Value>(&e.payload).unwrap()["note"].as_str().unwrap().to_string();
            assert!(note.contains("假定") && note.contains("assumed"), "{note}");
        }
        let actions: Vec<&str> = timeline.iter().filter(|e| e.action.starts_with("letter.")).map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["letter.drafted", "letter.sent", "letter.acknowledged", "letter.drafted", "letter.sent", "letter.acknowledged"]);
    }
}
