//! The reference case as data: Linfen's first mask factory, 曲沃县, January–March 2020
//! (Linfen News, 2020-03-07; see case-quwo-2020.md in the shared docs).
//!
//! The case is replayed through the same use cases an officer would call, each at its real
//! date (UTC+8), so its timeline is the audit log. Facts the report gives are used as given;
//! values it does not give (attributes of providers, hours of the day, dates marked "during
//! commissioning") are marked `【假定】/ assumed` in the data. Loading twice changes nothing:
//! the load is keyed by the enterprise's credit code.

use crate::cases::{NewEnterprise, NewTeamMember};
use crate::channel::{NewApproval, NewShipment};
use crate::needs::NewNeed;
use crate::registry::NewProvider;
use crate::{Actor, App, AppError, AppResult};
use bangfu_core::model::{ApprovalStatus, LetterStatus, NeedStatus};
use bangfu_core::region::RegionCode;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};

/// The enterprise's credit code. The report does not give it: this one is assumed, with a
/// valid GB 32100-2015 check character and 曲沃县's region code.
pub const CREDIT_CODE: &str = "91141021MA0KQ20203";
pub const ENTERPRISE: &str = "山西健康动力科技有限公司";
const QUWO: &str = "141021";
const LINFEN: &str = "141000";
const SHANXI: &str = "140000";

/// A time given in UTC+8 as "YYYY-MM-DD HH:MM".
fn at(local: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap_or_else(|e| panic!("demo time {local:?}: {e}"));
    bangfu_core::china_time::from_local(naive).unwrap_or_else(|| unreachable!("the demo's times are on the calendar"))
}

struct DemoProvider {
    key: &'static str,
    name: &'static str,
    region: &'static str,
    note: &'static str,
    kind: &'static str,
    attrs: fn() -> Value,
}

/// Every provider the report mentions. Attributes the report does not give are assumed.
const PROVIDERS: &[DemoProvider] = &[
    DemoProvider {
        key: "demo:wanrong-huakang",
        name: "万荣华康药业公司",
        region: "140822",
        note: "报道：钴-60辐照灭菌，36小时。日处理能力为假定值。/ Report: cobalt-60 irradiation, 36 h. Daily capacity assumed.",
        kind: "sterilisation",
        attrs: || json!({"method": "co60", "turnaround_h": 36, "capacity_per_day": 100000}),
    },
    DemoProvider {
        key: "demo:north-shanxi-sterilisation",
        name: "晋北某灭菌企业【假定名称】",
        region: "140213",
        note: "报道：晋北一家，\"太远\"。所在地（大同市平城区）与属性均为假定。/ Report: one in northern Shanxi, \"too far\". Place (Datong) and attributes assumed.",
        kind: "sterilisation",
        attrs: || json!({"method": "ebeam", "turnaround_h": 24, "capacity_per_day": 100000}),
    },
    DemoProvider {
        key: "demo:taiyuan-eo",
        name: "太原某环氧乙烷灭菌企业【假定名称】",
        region: "140105",
        note: "报道：太原一家，\"灭菌时间太长\"。环氧乙烷及7天周期（含解析）为假定。/ Report: one in Taiyuan, \"takes too long\". Ethylene oxide with a 7-day cycle (with aeration) assumed.",
        kind: "sterilisation",
        attrs: || json!({"method": "eo", "turnaround_h": 168, "capacity_per_day": 50000}),
    },
    DemoProvider {
        key: "demo:houma-garment",
        name: "侯马市某服装企业【假定名称】",
        region: "141081",
        note: "报道：侯马一家有裁剪设备的服装企业，最先找到。属性为假定。/ Report: a garment maker in Houma with cutting equipment, found first. Attributes assumed.",
        kind: "slitting",
        attrs: || json!({"max_input_width_m": 1.8, "min_output_width_m": 0.2, "turnaround_h": 12}),
    },
    DemoProvider {
        key: "demo:quwo-slitting",
        name: "曲沃县某分切企业【假定名称】",
        region: "141021",
        note: "报道：曲沃本地一家更近的企业，装车前改用。属性为假定。/ Report: a nearer local firm in Quwo, switched to before loading. Attributes assumed.",
        kind: "slitting",
        attrs: || json!({"max_input_width_m": 1.8, "min_output_width_m": 0.2, "turnaround_h": 8}),
    },
    DemoProvider {
        key: "demo:dongguan-lines",
        name: "东莞市某口罩生产线制造企业【假定名称】",
        region: "441900",
        note: "报道：生产线在东莞订购，无法发运。台数与周期为假定（报道称规划5条线）。/ Report: lines ordered in Dongguan could not ship. Stock and lead time assumed (5 lines planned).",
        kind: "equipment",
        attrs: || json!({"item": "口罩生产线", "stock": 5, "lead_time_h": 24}),
    },
    DemoProvider {
        key: "demo:fengtai-cabinet",
        name: "北京市丰台区某消毒柜企业【假定名称】",
        region: "110106",
        note: "报道：合同已签、货款已付、现货，但不准发货。属性为假定。/ Report: contract signed, paid, in stock, not allowed to ship. Attributes assumed.",
        kind: "equipment",
        attrs: || json!({"item": "消毒柜", "stock": 2, "lead_time_h": 12}),
    },
    DemoProvider {
        key: "demo:shanxi-device-inspection",
        name: "山西省医疗器械检验中心",
        region: "140105",
        note: "报道：位于省城。所在区与检验周期为假定。/ Report: in the provincial capital. District and turnaround assumed.",
        kind: "testing",
        attrs: || json!({"standards": ["GB 19083-2010", "YY 0469-2011", "GB/T 32610-2016"], "turnaround_h": 12}),
    },
    DemoProvider {
        key: "demo:meltblown-supplier",
        name: "熔喷布供应企业【假定】",
        region: "141002",
        note: "报道：熔喷布、无纺布、热风棉来自多地。此供应方及属性为假定。/ Report: fabrics came from several places. This supplier and its attributes are assumed.",
        kind: "raw_material",
        attrs: || json!({"material": "熔喷布", "stock": 20, "lead_time_h": 24}),
    },
    DemoProvider {
        key: "demo:neighbour-workers",
        name: "邻县技术工人【假定】",
        region: "141022",
        note: "报道：在邻县找到3名技术工人。邻县为翼城县系假定。/ Report: 3 skilled workers found in a neighbouring county; 翼城县 is assumed.",
        kind: "labour",
        attrs: || json!({"skill": "口罩机调试", "headcount": 3, "lead_time_h": 12}),
    },
];

/// Loads the reference case; a second load changes nothing and says so.
pub async fn load(app: &App, operator: &Actor) -> AppResult<String> {
    if app.store.enterprise_by_credit_code(CREDIT_CODE).await?.is_some() {
        return Ok(format!("the reference case ({ENTERPRISE}) is already loaded — nothing changed"));
    }
    let county = Actor::officer("曲沃县工信局专班", RegionCode::new_unchecked(141021));
    let city = Actor::officer("临汾市工信局", RegionCode::new_unchecked(141000));
    let province = Actor::officer("山西省工信厅特派员", RegionCode::new_unchecked(140000));
    // The departments the two cross-province letters went to, who record the answers.
    let guangdong = Actor::officer("广东省工业和信息化厅", RegionCode::new_unchecked(440000));
    let beijing = Actor::officer("北京市经济和信息化局", RegionCode::new_unchecked(110000));
    // Decisions on a need are its owner's (or a tier above's): the province decides the national
    // needs and those it came to own when sourcing found their provider elsewhere in Shanxi, the
    // city those solved inside Linfen; whoever sees the case sources and reports.

    // The registry, as the officers came to know it.
    let mut provider_ids = std::collections::BTreeMap::new();
    for p in PROVIDERS {
        let id = match app.store.provider_by_key(p.key).await? {
            Some(existing) => existing.id,
            None => {
                let input = NewProvider { key: p.key.into(), name: p.name.into(), region: p.region.into(), lon: None, lat: None, note: p.note.into() };
                app.add_provider(operator, at("2020-01-25 09:00"), input).await?.id
            }
        };
        app.set_capability(operator, at("2020-01-25 09:00"), id, p.kind, true, &(p.attrs)()).await?;
        provider_ids.insert(p.key, id);
    }

    let enterprise = app
        .add_enterprise(
            &county,
            at("2020-01-25 10:00"),
            NewEnterprise {
                name: ENTERPRISE.into(),
                credit_code: CREDIT_CODE.into(),
                region: QUWO.into(),
                lon: None,
                lat: None,
                note: "口罩生产企业，规划5条生产线；临汾首家、山西首家可生产N95口罩的企业。统一社会信用代码为假定值。/ Mask maker planning 5 lines; first in Linfen, first in Shanxi able to make N95. Credit code assumed.".into(),
            },
        )
        .await?;
    let case = app.open_case(&county, at("2020-01-25 10:00"), enterprise.id, "临汾首家口罩生产企业帮扶").await?;
    let c = case.id;

    // The stationed team, by role.
    for (actor, when, title, department, role) in [
        (&county, "2020-01-25 10:00", "曲沃县工信局局长（专班组长）", QUWO, "task_force"),
        (&county, "2020-01-25 10:00", "曲沃县工信局专班成员（一）", QUWO, "task_force"),
        (&county, "2020-01-25 10:00", "曲沃县工信局专班成员（二）", QUWO, "task_force"),
        (&city, "2020-01-26 09:00", "临汾市工信局驻企干部（一）", LINFEN, "stationed_cadre"),
        (&city, "2020-01-26 09:00", "临汾市工信局驻企干部（二）", LINFEN, "stationed_cadre"),
        (&province, "2020-02-07 09:00", "山西省工信厅特派员（一）", SHANXI, "commissioner"),
        (&province, "2020-02-07 09:00", "山西省工信厅特派员（二）", SHANXI, "commissioner"),
    ] {
        let member = NewTeamMember { title: title.into(), department: department.into(), role: role.into(), user_id: None };
        app.add_team_member(actor, at(when), c, member).await?;
    }

    // 2020-01-26, the second day of the lunar new year: the lines ordered in 东莞 cannot ship.
    let lines = app
        .report_need(
            &city,
            at("2020-01-26 10:00"),
            c,
            NewNeed {
                kind: "equipment".into(),
                title: "东莞订购的口罩生产线无法发运".into(),
                specification: "生产线已在东莞订购，受疫情交通管控无法发运，需跨省协调放行。".into(),
                quantity: 5.0,
                unit: "条".into(),
                requires: json!({"item": "口罩生产线"}),
                deadline: Some(at("2020-01-31 18:00")),
                solution_region: Some("441900".into()),
                ..NewNeed::default()
            },
        )
        .await?;
    app.source_need(&city, at("2020-01-26 10:30"), lines.id).await?;
    select_provider(app, &province, at("2020-01-26 11:00"), lines.id, provider_ids["demo:dongguan-lines"]).await?;
    app.set_need_status(&province, at("2020-01-26 12:00"), lines.id, NeedStatus::Started, "市工信局局长向市委、市政府、省工信厅汇报，并联系广东省工信厅、东莞市政府及工信局、疫情防控领导小组和山西驻粤联络处。").await?;
    // The letter drafted when the need was routed across provinces goes to 广东省 and 东莞市.
    let lines_letter = letter_of(app, lines.id).await?;
    app.set_letter_status(&province, at("2020-01-26 14:00"), lines_letter, LetterStatus::Sent, "报道：市工信局局长向省工信厅汇报后联系广东省工信厅、东莞市政府及工信局。公函发出时间为假定。/ Report: after the city bureau head reported to the province, Guangdong's department and Dongguan were contacted. Time of sending assumed.").await?;
    app.set_letter_status(&guangdong, at("2020-01-27 10:00"), lines_letter, LetterStatus::Acknowledged, "广东省工信厅回复（时间为假定；报道称生产线于1月31日运抵）。/ Guangdong's department answered (time assumed; the report says the lines arrived on 31 January).").await?;
    app.set_need_status(&province, at("2020-01-31 16:00"), lines.id, NeedStatus::Resolved, "生产线运抵。/ The lines arrived.").await?;

    // The green channel: 发改, 生态环境, 市场监管 side by side (dates of decisions assumed).
    for (agency, item, decided) in [
        ("发改", "项目备案（假定事项）", "2020-01-28 17:00"),
        ("生态环境", "环评手续（假定事项）", "2020-01-29 17:00"),
        ("市场监管", "医疗器械生产许可（假定事项）", "2020-02-06 17:00"),
    ] {
        let approval = app
            .open_approval(&county, at("2020-01-27 09:00"), c, NewApproval { department: QUWO.into(), agency: agency.into(), item: item.into(), due_at: Some(at("2020-02-07 18:00")) })
            .await?;
        app.decide_approval(&county, at("2020-01-27 10:00"), approval.id, ApprovalStatus::InProgress).await?;
        app.decide_approval(&county, at(decided), approval.id, ApprovalStatus::Approved).await?;
    }

    // Raw materials from several places, transport coordinated by the county (dates assumed).
    let fabric = app
        .report_need(
            &county,
            at("2020-01-28 09:00"),
            c,
            NewNeed {
                kind: "raw_material".into(),
                title: "熔喷布、无纺布、热风棉等原料采购及运输".into(),
                specification: "原料来自多地，需协调运输。".into(),
                quantity: 10.0,
                unit: "吨（假定）".into(),
                requires: json!({"material": "熔喷布"}),
                ..NewNeed::default()
            },
        )
        .await?;
    app.source_need(&county, at("2020-01-28 09:30"), fabric.id).await?;
    select_provider(app, &city, at("2020-01-28 11:00"), fabric.id, provider_ids["demo:meltblown-supplier"]).await?;
    app.set_need_status(&city, at("2020-02-05 12:00"), fabric.id, NeedStatus::Resolved, "原料到厂（日期为假定）。").await?;

    // Skilled workers from a neighbouring county (dates assumed).
    let workers = app
        .report_need(
            &county,
            at("2020-01-29 09:00"),
            c,
            NewNeed { kind: "labour".into(), title: "缺少口罩机调试技术工人".into(), quantity: 3.0, unit: "人".into(), requires: json!({"skill": "口罩机调试"}), ..NewNeed::default() },
        )
        .await?;
    app.source_need(&county, at("2020-01-29 10:00"), workers.id).await?;
    select_provider(app, &city, at("2020-01-29 15:00"), workers.id, provider_ids["demo:neighbour-workers"]).await?;
    app.set_need_status(&city, at("2020-02-01 09:00"), workers.id, NeedStatus::Resolved, "3名技术工人到岗（日期为假定）。").await?;

    // During commissioning: the melt-blown rolls are 1.6 m wide; the machines take < 1.4 m.
    let slitting = app
        .report_need(
            &city,
            at("2020-02-02 09:00"),
            c,
            NewNeed {
                kind: "slitting".into(),
                title: "熔喷布卷宽1.6米，需分切至1.4米以下".into(),
                specification: "设备只能使用宽度小于1.4米的熔喷布。".into(),
                quantity: 20.0,
                unit: "卷（假定）".into(),
                requires: json!({"input_width_m": 1.6, "output_width_m": 1.4}),
                ..NewNeed::default()
            },
        )
        .await?;
    // Houma was found first: the local firm was not yet in the registry.
    hide_capability(app, operator, at("2020-02-02 09:05"), provider_ids["demo:quwo-slitting"], "slitting").await?;
    app.source_need(&city, at("2020-02-02 09:10"), slitting.id).await?;
    select_provider(app, &city, at("2020-02-02 11:00"), slitting.id, provider_ids["demo:houma-garment"]).await?;
    // Then a nearer Quwo firm was found, and chosen before loading: the need moves to the county.
    let quwo_slitting = PROVIDERS.iter().find(|p| p.key == "demo:quwo-slitting").map(|p| (p.attrs)()).unwrap_or_default();
    app.set_capability(&county, at("2020-02-02 15:00"), provider_ids["demo:quwo-slitting"], "slitting", true, &quwo_slitting).await?;
    app.source_need(&county, at("2020-02-02 15:10"), slitting.id).await?;
    select_provider(app, &city, at("2020-02-02 16:00"), slitting.id, provider_ids["demo:quwo-slitting"]).await?;
    app.set_need_status(&county, at("2020-02-02 17:00"), slitting.id, NeedStatus::Started, "装车前改用曲沃本地企业。").await?;
    app.set_need_status(&county, at("2020-02-03 12:00"), slitting.id, NeedStatus::Resolved, "分切完成（日期为假定）。").await?;

    // The disinfection cabinet held in 丰台: an official letter from the city government office.
    let cabinet = app
        .report_need(
            &city,
            at("2020-02-03 09:00"),
            c,
            NewNeed {
                kind: "equipment".into(),
                title: "北京丰台消毒柜已付款有现货但不准发货".into(),
                specification: "合同已签、货款已付、有现货，因疫情管控不准发货。".into(),
                quantity: 1.0,
                unit: "台".into(),
                requires: json!({"item": "消毒柜"}),
                solution_region: Some("110106".into()),
                ..NewNeed::default()
            },
        )
        .await?;
    app.source_need(&city, at("2020-02-03 09:30"), cabinet.id).await?;
    select_provider(app, &province, at("2020-02-03 10:00"), cabinet.id, provider_ids["demo:fengtai-cabinet"]).await?;
    app.set_need_status(&province, at("2020-02-03 11:00"), cabinet.id, NeedStatus::Started, "市政府办公室向丰台区疫情防控领导小组发公函。").await?;
    let cabinet_letter = letter_of(app, cabinet.id).await?;
    app.set_letter_status(&province, at("2020-02-03 11:00"), cabinet_letter, LetterStatus::Sent, "报道：临汾市政府办公室向丰台区疫情防控领导小组发公函；本函为工信部门对北京市工信局的对应公函，发出时间为假定。/ Report: the city government office wrote to Fengtai's epidemic-control leading group; this is the industry departments' counterpart letter to Beijing's bureau, time of sending assumed.").await?;
    app.set_letter_status(&beijing, at("2020-02-05 10:00"), cabinet_letter, LetterStatus::Acknowledged, "北京市工信局回复（时间为假定）。/ Beijing's bureau answered (time assumed).").await?;
    app.set_need_status(&province, at("2020-02-06 18:00"), cabinet.id, NeedStatus::Resolved, "消毒柜放行（日期为假定）。").await?;

    // 2020-02-07: first masks; two county cadres drive samples to the provincial inspection centre.
    let testing = app
        .report_need(
            &county,
            at("2020-02-07 10:00"),
            c,
            NewNeed { kind: "testing".into(), title: "首批样品送省医疗器械检验中心检验".into(), quantity: 1.0, unit: "批".into(), requires: json!({"standard": "GB 19083-2010"}), ..NewNeed::default() },
        )
        .await?;
    app.source_need(&county, at("2020-02-07 10:10"), testing.id).await?;
    select_provider(app, &province, at("2020-02-07 10:30"), testing.id, provider_ids["demo:shanxi-device-inspection"]).await?;
    app.set_need_status(&province, at("2020-02-07 11:00"), testing.id, NeedStatus::Started, "两名县工信局干部驾车送样，连夜往返。").await?;
    app.set_need_status(&province, at("2020-02-08 06:00"), testing.id, NeedStatus::Resolved, "送检返回（检验结论日期为假定）。").await?;

    // Trial production: masks cannot be used unsterilised; no sterilisation firm in Linfen.
    let sterilisation = app
        .report_need(
            &province,
            at("2020-02-08 09:00"),
            c,
            NewNeed {
                kind: "sterilisation".into(),
                title: "试产口罩需灭菌，临汾市内无灭菌企业".into(),
                specification: "成品口罩未经灭菌不能使用。".into(),
                quantity: 90000.0,
                unit: "只".into(),
                requires: json!({}),
                max_distance_km: Some(400.0),
                max_lead_time_h: Some(96.0),
                deadline: Some(at("2020-02-15 18:00")),
                ..NewNeed::default()
            },
        )
        .await?;
    app.source_need(&province, at("2020-02-08 10:00"), sterilisation.id).await?;
    select_provider(app, &province, at("2020-02-09 10:00"), sterilisation.id, provider_ids["demo:wanrong-huakang"]).await?;

    // 2020-02-13: a dedicated vehicle carries the first 90,000+ masks out through the Quwo exit.
    let pass = app
        .report_need(
            &county,
            at("2020-02-12 15:00"),
            c,
            NewNeed { kind: "traffic_pass".into(), title: "专车经曲沃高速口运送口罩至万荣".into(), quantity: 1.0, unit: "车".into(), solution_region: Some(QUWO.into()), ..NewNeed::default() },
        )
        .await?;
    app.set_need_status(&county, at("2020-02-13 08:00"), pass.id, NeedStatus::Resolved, "通行证已办理（时间为假定）。").await?;
    app.set_need_status(&province, at("2020-02-13 08:30"), sterilisation.id, NeedStatus::Started, "首批9万余只口罩专车发往万荣。").await?;
    app.add_shipment(
        &county,
        at("2020-02-13 08:30"),
        c,
        NewShipment {
            need_id: Some(sterilisation.id),
            goods: "首批口罩 90,000 余只".into(),
            origin: QUWO.into(),
            destination: "140822".into(),
            status: "delivered".into(),
            traffic_pass: Some("曲沃县疫情防控通行证（编号为假定：曲防通〔2020〕13号）".into()),
            departs_at: Some(at("2020-02-13 08:30")),
            arrives_at: Some(at("2020-02-13 11:30")),
        },
    )
    .await?;
    app.set_need_status(&province, at("2020-02-15 00:00"), sterilisation.id, NeedStatus::Resolved, "钴-60辐照灭菌36小时完成（日期为假定）。").await?;

    let needs = PlanNeeds { lines: lines.id, fabric: fabric.id, workers: workers.id, slitting: slitting.id, cabinet: cabinet.id, testing: testing.id, sterilisation: sterilisation.id, pass: pass.id };
    plan_to_production(app, &county, &province, c, &needs).await?;

    Ok(format!("loaded the reference case: {ENTERPRISE}, case {c} (曲沃县, 2020-01-25 … 2020-02-15)"))
}

/// The needs of the case that block its plan's milestones.
struct PlanNeeds {
    lines: i64,
    fabric: i64,
    workers: i64,
    slitting: i64,
    cabinet: i64,
    testing: i64,
    sterilisation: i64,
    pass: i64,
}

/// The plan to production: order placed → lines held in 东莞 → lines arrive (31 January) →
/// installation and commissioning → melt-blown slitting → trial production (first masks on
/// 7 February) → samples to the inspection centre → sterilisation at 万荣 arranged → the first
/// 90,000 masks leave (13 February), beside raw materials, workers, the green channel, the
/// disinfection cabinet, the first batch and the traffic pass. The dates the report gives are
/// marked 报道 in the names; every other date, the hours of the day and the planned durations are
/// assumed (假定) — including the day the plan was drawn up, 4 February, which the report's
/// "under ten days from plan to production" allows. The plan is set on that day with the actuals
/// known then; later actuals are recorded on their days, and needs are attached as they arise.
async fn plan_to_production(app: &App, county: &Actor, province: &Actor, c: i64, needs: &PlanNeeds) -> AppResult<()> {
    use crate::plans::NewMilestone;
    let step = |key: &str, name: &str, duration_h: f64, after: &[&str], actual: (Option<&str>, Option<&str>), blockers: Vec<i64>| NewMilestone {
        key: key.into(),
        name: name.into(),
        duration_h,
        after: after.iter().map(|a| a.to_string()).collect(),
        not_before: None,
        actual_start: actual.0.map(at),
        actual_finish: actual.1.map(at),
        blockers,
    };
    let plan = vec![
        step("order_placed", "向东莞订购生产线（日期假定） / lines ordered from 东莞 (date assumed)", 0.0, &[], (Some("2020-01-26 09:00"), Some("2020-01-26 09:00")), vec![]),
        step("lines_held", "生产线滞留东莞，跨省协调放行（报道：1月26日） / lines held in 东莞, released across provinces (report: 26 Jan)", 72.0, &["order_placed"], (Some("2020-01-26 09:00"), Some("2020-01-29 18:00")), vec![]),
        step("lines_arrive", "生产线运抵曲沃（报道：1月31日） / lines arrive in 曲沃 (report: 31 Jan)", 48.0, &["lines_held"], (Some("2020-01-29 18:00"), Some("2020-01-31 16:00")), vec![needs.lines]),
        step("installation", "安装调试（假定） / installation and commissioning (assumed)", 48.0, &["lines_arrive"], (Some("2020-01-31 16:00"), Some("2020-02-02 09:00")), vec![]),
        step("slitting", "熔喷布分切至1.4米以下（假定） / melt-blown slit below 1.4 m (assumed)", 24.0, &["installation"], (Some("2020-02-02 09:00"), Some("2020-02-03 12:00")), vec![needs.slitting]),
        step("skilled_workers", "邻县3名技术工人到岗（假定） / 3 skilled workers arrive (assumed)", 72.0, &["order_placed"], (Some("2020-01-29 09:00"), Some("2020-02-01 09:00")), vec![needs.workers]),
        step("raw_materials", "熔喷布、无纺布、热风棉到厂（假定） / fabrics arrive (assumed)", 192.0, &["order_placed"], (Some("2020-01-28 09:00"), None), vec![needs.fabric]),
        step("green_channel", "发改、生态环境、市场监管审批（假定） / green-channel approvals (assumed)", 240.0, &["order_placed"], (Some("2020-01-27 09:00"), None), vec![]),
        step("disinfection_cabinet", "丰台消毒柜放行运抵（假定） / disinfection cabinet from 丰台 (assumed)", 72.0, &["order_placed"], (Some("2020-02-03 09:00"), None), vec![needs.cabinet]),
        step("trial_production", "试生产，首批口罩下线（报道：2月7日） / trial production, first masks (report: 7 Feb)", 72.0, &["slitting", "skilled_workers"], (Some("2020-02-03 12:00"), None), vec![]),
        step("samples_inspection", "样品送省医疗器械检验中心（报道：2月7日） / samples to the inspection centre (report: 7 Feb)", 24.0, &["trial_production"], (None, None), vec![]),
        step("sterilisation", "落实万荣钴-60辐照灭菌（36小时） / sterilisation at 万荣 arranged (Co-60, 36 h)", 48.0, &["samples_inspection"], (None, None), vec![]),
        step("first_batch", "生产并装车首批9万余只口罩（假定） / first 90,000 masks made and loaded (assumed)", 120.0, &["trial_production", "raw_materials", "disinfection_cabinet"], (None, None), vec![]),
        step("traffic_pass", "办理专车通行证（假定） / traffic pass for the dedicated vehicle (assumed)", 24.0, &["sterilisation"], (None, None), vec![]),
        step("first_output", "首批9万余只口罩出厂发往万荣（报道：2月13日） / first 90,000 masks leave for 万荣 (report: 13 Feb)", 0.0, &["first_batch", "sterilisation", "traffic_pass", "green_channel"], (None, None), vec![]),
    ];
    app.set_plan(county, at("2020-02-04 09:00"), c, plan).await?;

    // Actuals on their days, and needs attached to the plan as they arise.
    let actual = |key: &'static str, start: &'static str, finish: Option<&'static str>| (key, start, finish);
    for (when, actor, (key, start, finish)) in [
        ("2020-02-05 12:00", county, actual("raw_materials", "2020-01-28 09:00", Some("2020-02-05 12:00"))),
        ("2020-02-06 17:00", county, actual("green_channel", "2020-01-27 09:00", Some("2020-02-06 17:00"))),
        ("2020-02-06 18:00", county, actual("disinfection_cabinet", "2020-02-03 09:00", Some("2020-02-06 18:00"))),
        ("2020-02-07 09:00", county, actual("trial_production", "2020-02-03 12:00", Some("2020-02-07 09:00"))),
        ("2020-02-07 09:00", county, actual("first_batch", "2020-02-07 09:00", None)),
    ] {
        app.set_milestone_actual(actor, at(when), c, key, Some(at(start)), finish.map(at)).await?;
    }
    app.attach_blocker(county, at("2020-02-07 10:00"), c, "samples_inspection", needs.testing).await?;
    for (when, actor, (key, start, finish)) in [
        ("2020-02-07 11:00", county, actual("samples_inspection", "2020-02-07 11:00", None)),
        ("2020-02-08 06:00", county, actual("samples_inspection", "2020-02-07 11:00", Some("2020-02-08 06:00"))),
        ("2020-02-08 09:00", province, actual("sterilisation", "2020-02-08 09:00", None)),
    ] {
        app.set_milestone_actual(actor, at(when), c, key, Some(at(start)), finish.map(at)).await?;
    }
    app.attach_blocker(province, at("2020-02-08 09:00"), c, "sterilisation", needs.sterilisation).await?;
    app.set_milestone_actual(province, at("2020-02-09 10:00"), c, "sterilisation", Some(at("2020-02-08 09:00")), Some(at("2020-02-09 10:00"))).await?;
    app.attach_blocker(county, at("2020-02-12 15:00"), c, "traffic_pass", needs.pass).await?;
    for (when, (key, start, finish)) in [
        ("2020-02-12 15:00", actual("traffic_pass", "2020-02-12 15:00", None)),
        ("2020-02-13 08:00", actual("traffic_pass", "2020-02-12 15:00", Some("2020-02-13 08:00"))),
        ("2020-02-13 08:30", actual("first_batch", "2020-02-07 09:00", Some("2020-02-13 08:30"))),
        ("2020-02-13 08:30", actual("first_output", "2020-02-13 08:30", Some("2020-02-13 08:30"))),
    ] {
        app.set_milestone_actual(county, at(when), c, key, Some(at(start)), finish.map(at)).await?;
    }
    Ok(())
}

/// Selects the candidate of `provider_id` for a sourced need.
async fn select_provider(app: &App, actor: &Actor, now: DateTime<Utc>, need_id: i64, provider_id: i64) -> AppResult<()> {
    let candidate = app
        .store
        .candidates_of_need(need_id)
        .await?
        .into_iter()
        .find(|c| c.provider_id == provider_id && c.feasible)
        .ok_or_else(|| AppError::Internal(format!("demo: provider {provider_id} is not a feasible candidate of need {need_id}")))?;
    app.select_candidate(actor, now, need_id, candidate.id).await?;
    Ok(())
}

/// The letter drafted for a national need.
async fn letter_of(app: &App, need_id: i64) -> AppResult<i64> {
    let letters = app.store.letters_of_need(need_id).await?;
    letters.first().map(|l| l.id).ok_or_else(|| AppError::Internal(format!("demo: need {need_id} has no letter")))
}

/// Marks a capability unavailable (the officers did not know of it yet).
async fn hide_capability(app: &App, actor: &Actor, now: DateTime<Utc>, provider_id: i64, kind: &str) -> AppResult<()> {
    let row = app
        .store
        .capabilities_of_provider(provider_id)
        .await?
        .into_iter()
        .find(|c| c.kind.as_str() == kind)
        .ok_or_else(|| AppError::Internal(format!("demo: provider {provider_id} has no {kind} capability")))?;
    let attrs = Value::Object(row.attrs.clone());
    app.set_capability(actor, now, provider_id, kind, false, &attrs).await?;
    Ok(())
}
