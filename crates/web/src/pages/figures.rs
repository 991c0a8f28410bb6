//! The figures page (`/figures?region=…&to=…&days=…`): the charts of a jurisdiction — output and
//! capacity per day of each product stacked by the parts one level down, needs opened and
//! resolved per day by tier, median hours to resolve per tier and kind, open needs by kind and
//! tier — each beside its table. A part's name leads one level down (province → city → county
//! → the enterprise's case); the crumbs lead back up. The figures are `App::figures`'.

use super::charts::{Chart, ChartView, Series};
use super::session::{PageUser, render};
use super::ui::{Lang, Ui};
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use bangfu_app::figures::{Figures, Part, TIERS};
use bangfu_core::model::NeedKind;
use bangfu_core::region::RegionTree;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct FiguresQuery {
    region: Option<String>,
    to: Option<String>,
    days: Option<i64>,
}

pub struct Crumb {
    pub name: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "figures.html")]
struct FiguresPage {
    ui: Ui,
    crumbs: Vec<Crumb>,
    region_name: String,
    region: String,
    to: String,
    days: i64,
    charts: Vec<ChartView>,
    /// The Excel and CSV downloads of the daily returns behind the charts (the region and days shown).
    download: String,
}

/// The charts of a set of figures, in the page's language; `prefix` keeps ids unique.
pub fn charts_of(figures: &Figures, lang: Lang, prefix: &str) -> Vec<Chart> {
    // A drill-down keeps the days shown.
    let window = format!("&to={}&days={}", figures.days.last().map(|d| d.to_string()).unwrap_or_default(), figures.days.len());
    let days: Vec<String> = figures.days.iter().map(|d| d.format("%m-%d").to_string()).collect();
    let day_heading = lang.pick("日期", "Day").to_string();
    let split = match figures.products.first().and_then(|p| p.output.first()).map(|(part, _, _)| part) {
        Some(Part::Case(_)) => lang.pick("按企业", "by enterprise"),
        _ => match figures.region.map(|r| r.to_string()) {
            None => lang.pick("按省份", "by province"),
            Some(code) if code.ends_with("0000") => lang.pick("按城市", "by city"),
            Some(_) => lang.pick("按区县", "by county"),
        },
    };
    let mut charts = Vec::new();
    for (i, p) in figures.products.iter().enumerate() {
        let product = if p.product.is_empty() { lang.pick("未注明产品", "product not given").to_string() } else { p.product.clone() };
        charts.push(Chart {
            id: format!("{prefix}output-{i}"),
            title: format!("{}{}", product, lang.pick(&format!("：每日产量（{split}堆叠）与产能", ), &format!(": output per day ({split}, stacked) and capacity"))),
            category: day_heading.clone(),
            categories: days.clone(),
            series: p
                .output
                .iter()
                .map(|(part, name, values)| Series {
                    label: name.clone(),
                    values: values.clone(),
                    href: Some(match part {
                        Part::Region(code) => format!("/figures?region={code}{window}"),
                        Part::Case(id) => format!("/cases/{id}"),
                    }),
                })
                .collect(),
            stacked: true,
            line: Some(Series { label: lang.pick("产能", "capacity").to_string(), values: p.capacity.clone(), href: None }),
        });
    }
    let tier_series = |rows: &[(bangfu_core::model::Tier, Vec<i64>)]| -> Vec<Series> {
        rows.iter().map(|(tier, values)| Series { label: lang.tier(tier.as_str()), values: values.iter().map(|v| *v as f64).collect(), href: None }).collect()
    };
    charts.push(Chart {
        id: format!("{prefix}opened"),
        title: lang.pick("每日新增诉求（按责任层级）", "Needs opened per day, by owning tier").to_string(),
        category: day_heading.clone(),
        categories: days.clone(),
        series: tier_series(&figures.opened),
        stacked: true,
        line: None,
    });
    charts.push(Chart {
        id: format!("{prefix}resolved"),
        title: lang.pick("每日解决诉求（按责任层级）", "Needs resolved per day, by owning tier").to_string(),
        category: day_heading,
        categories: days,
        series: tier_series(&figures.resolved),
        stacked: true,
        line: None,
    });
    let kinds: Vec<NeedKind> = NeedKind::ALL.iter().copied().filter(|k| figures.median_hours.iter().any(|m| m.kind == *k)).collect();
    charts.push(Chart {
        id: format!("{prefix}median"),
        title: lang.pick("解决诉求用时中位数（小时，按层级与类别）", "Median hours to resolve, by tier and kind").to_string(),
        category: lang.pick("类别", "Kind").to_string(),
        categories: kinds.iter().map(|k| lang.kind(k.as_str())).collect(),
        series: TIERS
            .iter()
            .map(|tier| Series {
                label: lang.tier(tier.as_str()),
                values: kinds.iter().map(|k| figures.median_hours.iter().find(|m| m.tier == *tier && m.kind == *k).map_or(0.0, |m| (m.hours * 10.0).round() / 10.0)).collect(),
                href: None,
            })
            .collect(),
        stacked: false,
        line: None,
    });
    charts.push(Chart {
        id: format!("{prefix}open"),
        title: lang.pick("当前未决诉求（按类别与责任层级）", "Open needs now, by kind and owning tier").to_string(),
        category: lang.pick("类别", "Kind").to_string(),
        categories: figures.open_now.iter().map(|(k, _)| lang.kind(k.as_str())).collect(),
        series: TIERS.iter().enumerate().map(|(t, tier)| Series { label: lang.tier(tier.as_str()), values: figures.open_now.iter().map(|(_, c)| c[t] as f64).collect(), href: None }).collect(),
        stacked: true,
        line: None,
    });
    charts
}

/// The way back up from `region` to the reader's own jurisdiction (or the country).
fn crumbs(tree: &RegionTree, figures: &Figures, top: Option<bangfu_core::region::RegionCode>, lang: Lang) -> Vec<Crumb> {
    let Some(region) = figures.region else { return Vec::new() };
    let window = format!("&to={}&days={}", figures.days.last().map(|d| d.to_string()).unwrap_or_default(), figures.days.len());
    let mut chain: Vec<Crumb> = Vec::new();
    for r in std::iter::once(region).chain(tree.ancestors(region).iter().map(|r| r.code)) {
        chain.push(Crumb { name: tree.get(r).map_or_else(|| r.to_string(), |x| x.name.clone()), href: format!("/figures?region={r}{window}") });
        if Some(tree.department_region(r)) == top {
            break;
        }
    }
    if top.is_none() {
        chain.push(Crumb { name: lang.pick("全国", "China").to_string(), href: format!("/figures?{}", &window[1..]) });
    }
    chain.reverse();
    chain
}

pub async fn show(State(state): State<AppState>, user: PageUser, Query(query): Query<FiguresQuery>) -> Response {
    let lang = user.lang;
    let app = &state.app;
    let to = match query.to.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => match bangfu_core::returns::parse_day(t) {
            Ok(d) => d,
            Err(e) => return user.fail(&state, bangfu_app::AppError::BadInput(format!("to: {e}"))),
        },
        None => bangfu_core::returns::last_due_day(clock::now()),
    };
    let days = query.days.unwrap_or(14);
    let region = query.region.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let figures = match app.figures(&user.actor, region, to, days).await {
        Ok(f) => f,
        Err(e) => return user.fail(&state, e),
    };
    let top = bangfu_app::access::figures_region(app.tree(), &user.actor, None).ok().flatten();
    let charts = charts_of(&figures, lang, "").iter().map(ChartView::from).collect();
    let title = format!("{} · {}", figures.region_name, lang.pick("统计图表", "Figures"));
    let ui = user.ui(&state, "figures", title);
    let (first, region_code) = (figures.days.first().map(|d| d.to_string()).unwrap_or_default(), figures.region.map(|r| r.to_string()).unwrap_or_default());
    let download = super::ui::download_href("returns", &[("region", &region_code), ("from", &first), ("to", &to.to_string())]);
    render(&FiguresPage {
        ui,
        download,
        crumbs: crumbs(app.tree(), &figures, top, lang),
        region_name: figures.region_name.clone(),
        region: figures.region.map(|r| r.to_string()).unwrap_or_default(),
        to: to.to_string(),
        days,
        charts,
    })
}
