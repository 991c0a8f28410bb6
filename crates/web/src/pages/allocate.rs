//! The allocation page (`/allocate`): a department's officer allocates a kind's capacity over
//! its jurisdiction's open needs (`App::allocation`, the path of GET /api/v1/allocations), sees
//! what the optimum saves over first come, each provider's capacity and whom it serves first
//! and why, and each need's proposal with its reason, weight and next best — and accepts or
//! rejects it need by need (the need's actions `accept-allocation`, `reject-allocation`, which
//! come back here). A bad request is said beside the form, not as an error page.

use super::session::{PageUser, render};
use super::ui::Ui;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use bangfu_app::AppError;
use bangfu_app::allocation::{AllocationRequest, AllocationView, DEFAULT_HORIZON_DAYS, WeightSource};
use bangfu_core::model::NeedKind;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct AllocateParams {
    kind: Option<String>,
    department: Option<String>,
    horizon_days: Option<u32>,
    method: Option<String>,
}

pub struct KindChoice {
    pub value: String,
    pub label: String,
}

pub struct PartRow {
    pub name: String,
    pub units: i64,
    pub lead_h: String,
    pub km: String,
}

pub struct NeedCard {
    pub id: i64,
    pub title: String,
    pub enterprise: String,
    pub quantity: String,
    pub weight: String,
    pub parts: Vec<PartRow>,
    pub unmet: i64,
    pub reason: String,
    pub next_best: String,
    /// The provider accepting selects (the largest part), if any.
    pub main: Option<i64>,
}

pub struct ProviderRow {
    pub name: String,
    pub capacity: String,
    pub committed: i64,
    pub used: i64,
    pub full: bool,
    /// "#12 (30.0 h), #15 (4.2 h)": whom it serves, first first, with what each would lose elsewhere.
    pub order: String,
}

#[derive(Template)]
#[template(path = "allocate.html")]
struct AllocatePage {
    ui: Ui,
    kind: String,
    kinds: Vec<KindChoice>,
    department: String,
    horizon_days: u32,
    method: String,
    back: String,
    error: String,
    shown: bool,
    summary: Vec<(String, String, String)>,
    savings: String,
    providers: Vec<ProviderRow>,
    needs: Vec<NeedCard>,
}

fn one(x: f64) -> String {
    format!("{x:.1}")
}

pub async fn show(State(state): State<AppState>, user: PageUser, Query(params): Query<AllocateParams>) -> Response {
    if !bangfu_app::access::may_run_allocations(&user.actor) {
        return user.fail(&state, AppError::Forbidden(user.t("只有工信部门干部和管理员可以进行能力分配", "only officers and admins allocate capacity").into()));
    }
    let lang = user.lang;
    let kind = params.kind.unwrap_or_else(|| "sterilisation".into());
    let department = params.department.or_else(|| user.actor.department.map(|d| d.to_string())).unwrap_or_default();
    let horizon_days = params.horizon_days.unwrap_or(DEFAULT_HORIZON_DAYS);
    let method_text = params.method.unwrap_or_else(|| "optimum".into());
    let back = format!("/allocate?kind={kind}&department={department}&horizon_days={horizon_days}&method={method_text}");
    let kinds = NeedKind::ALL
        .iter()
        .filter(|k| k.has_capabilities())
        .map(|k| KindChoice { value: k.as_str().into(), label: lang.kind(k.as_str()) })
        .collect();
    let mut page = AllocatePage {
        ui: user.ui(&state, "allocate", lang.pick("能力分配", "Allocate capacity")),
        kind: kind.clone(),
        kinds,
        department: department.clone(),
        horizon_days,
        method: method_text.clone(),
        back,
        error: String::new(),
        shown: false,
        summary: Vec::new(),
        savings: String::new(),
        providers: Vec::new(),
        needs: Vec::new(),
    };
    if department.is_empty() {
        return render(&page);
    }
    let method = match crate::api::allocation_method(Some(&method_text)) {
        Ok(m) => m,
        Err(e) => {
            page.error = e.to_string();
            return render(&page);
        }
    };
    let request = AllocationRequest { kind, department, horizon_days, method };
    match state.app.allocation(&user.actor, crate::clock::now(), &request).await {
        Ok(view) => fill(&mut page, &view, &user),
        Err(AppError::BadInput(message)) => page.error = message,
        Err(e) => return user.fail(&state, e),
    }
    render(&page)
}

fn fill(page: &mut AllocatePage, v: &AllocationView, user: &PageUser) {
    let t = |zh: &'static str, en: &'static str| user.t(zh, en).to_string();
    page.shown = true;
    let totals = |x: &bangfu_app::allocation::Totals| (one(x.first_output_h), one(x.km), x.unmet_units.to_string());
    let (oh, ok, ou) = totals(&v.optimum);
    let (gh, gk, gu) = totals(&v.greedy);
    page.summary = vec![
        (t("首批产出推迟（小时，加权）", "first output put back (hours, weighted)"), oh, gh),
        (t("运输距离（公里）", "road distance (km)"), ok, gk),
        (t("未满足数量", "units unmet"), ou, gu),
    ];
    let s = v.savings();
    let (km_zh, km_en) = if s.km >= 0.0 {
        (format!("少走 {} 公里", one(s.km)), format!("travels {} km less", one(s.km)))
    } else {
        (format!("多走 {} 公里", one(-s.km)), format!("travels {} km more", one(-s.km)))
    };
    page.savings = user
        .t(
            &format!("最优分配比先到先得少推迟首批产出 {} 小时，{km_zh}。", one(s.first_output_h)),
            &format!("The optimum puts first output back {} h less than first come, and {km_en}.", one(s.first_output_h)),
        )
        .to_string();
    page.providers = v
        .providers
        .iter()
        .filter(|p| !p.served.is_empty() || p.committed > 0)
        .map(|p| ProviderRow {
            name: p.name.clone(),
            capacity: p.capacity.map_or_else(|| t("不限", "unlimited"), |c| c.to_string()),
            committed: p.committed,
            used: p.used(),
            full: p.full(),
            order: p.served.iter().map(|s| format!("#{} ({} h)", s.0, one(s.2))).collect::<Vec<_>>().join(", "),
        })
        .collect();
    page.needs = v
        .proposals
        .iter()
        .map(|p| {
            let n = &p.need;
            let weight = match &n.weight_source {
                WeightSource::Plan { shift_h, critical: true } => format!("{} h · {}", one(n.weight_h), user.t(&format!("关键路径，多等24小时推迟 {} h", one(*shift_h)), &format!("critical path, 24 h more wait: {} h later", one(*shift_h)))),
                WeightSource::Plan { shift_h, critical: false } => format!("{} h · {}", one(n.weight_h), user.t(&format!("多等24小时推迟 {} h", one(*shift_h)), &format!("24 h more wait: {} h later", one(*shift_h)))),
                WeightSource::Default => format!("{} h · {}", one(n.weight_h), t("未列入计划，默认值", "in no plan: the default")),
            };
            NeedCard {
                id: n.need.id,
                title: n.need.title.clone(),
                enterprise: n.enterprise.name.clone(),
                quantity: format!("{} {}", n.need.quantity, n.need.unit),
                weight,
                parts: p.parts.iter().map(|x| PartRow { name: x.name.clone(), units: x.units, lead_h: one(x.lead_time_h), km: one(x.road_km) }).collect(),
                unmet: p.unmet_units,
                reason: user.t(&p.reason.zh, &p.reason.en).to_string(),
                next_best: p.next_best.as_ref().map_or_else(String::new, |(o, extra)| {
                    user.t(&format!("次优：{}，约 {} h（多 {} h）", o.name, one(o.lead_time_h), one(*extra)), &format!("next best: {}, about {} h ({} h more)", o.name, one(o.lead_time_h), one(*extra)))
                        .to_string()
                }),
                main: p.main().map(|m| m.provider_id),
            }
        })
        .collect();
}
