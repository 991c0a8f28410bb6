//! The case's plan as an SVG Gantt chart, drawn on the server from `App::case_plan`: one row per
//! milestone in order of start, a bar from its earliest start to its earliest finish on a day
//! axis at UTC+8, the driving path (the critical path and the finished steps that led to it) in
//! red, finished steps pale, the wait for an open need striped amber and linked to the need, and
//! lines at now, at the day the plan was first drawn up and at first output. Each bar carries a
//! tooltip with its times and slack.
//!
//! Drawing only — the times, the path and the blockers are the app's. A milestone name written
//! as `中文 / English` shows the part in the page's language. Colours are attributes of the
//! SVG, so the chart looks the same wherever it is embedded.

use super::ui::{Lang, time, trim};
use askama::Template;
use bangfu_app::plans::PlanView;
use bangfu_core::china_time;
use chrono::{DateTime, Duration, Utc};

const WIDTH: f64 = 960.0;
/// The column of milestone names.
const LABEL_W: f64 = 290.0;
const RIGHT_PAD: f64 = 20.0;
/// Above the rows: the lines' labels and the day axis.
const TOP: f64 = 52.0;
const ROW_H: f64 = 24.0;
const BAR_H: f64 = 14.0;
/// Below the rows: the legend.
const BOTTOM: f64 = 44.0;
const FONT: f64 = 12.0;

const RED: &str = "#b3261e";
const BLUE: &str = "#1f5fae";
const GREEN: &str = "#1e7b45";
const GREY: &str = "#8a939c";
const MUTED: &str = "#5f6b78";

struct Tick {
    x: String,
    label: String,
}

struct Row {
    /// Baseline of the name.
    ty: String,
    /// Top of the bar.
    by: String,
    name: String,
    tooltip: String,
    fill: &'static str,
    opacity: &'static str,
    driving: bool,
    /// A zero-length milestone is a diamond: its path, or "" for a bar.
    diamond: String,
    x: String,
    w: String,
    /// The wait for an open need, striped.
    wait: Option<Wait>,
}

struct Wait {
    x: String,
    w: String,
    need: i64,
}

struct Mark {
    x: String,
    label: String,
    /// Baseline of the label.
    ly: String,
    anchor: &'static str,
    colour: &'static str,
    dash: &'static str,
}

struct LegendItem {
    x: String,
    tx: String,
    fill: &'static str,
    opacity: &'static str,
    striped: bool,
    text: String,
}

#[derive(Template)]
#[template(path = "gantt.svg")]
struct GanttSvg {
    width: String,
    height: String,
    title: String,
    label_w: String,
    chart_right: String,
    axis_y: String,
    rows_top: String,
    rows_bottom: String,
    ticks: Vec<Tick>,
    rows: Vec<Row>,
    marks: Vec<Mark>,
    legend_y: String,
    legend: Vec<LegendItem>,
    bar_h: String,
}

fn n(value: f64) -> String {
    format!("{value:.1}")
}


/// Midnight at UTC+8 on or before `t`.
fn day_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    let local = china_time::day(t).and_hms_opt(0, 0, 0).unwrap_or_default();
    china_time::from_local(local).unwrap_or(t)
}

/// Midnight at UTC+8 on or after `t`.
fn day_ceil(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = day_floor(t);
    if floor == t { t } else { floor + Duration::days(1) }
}

/// The part of `name` in the page's language when it is written `中文 / English`.
pub fn name_in(name: &str, lang: Lang) -> &str {
    match name.split_once(" / ") {
        Some((zh, en)) => lang.pick(zh.trim(), en.trim()),
        None => name,
    }
}

/// `text` cut to fit `width` at the chart's font (CJK characters square, others about half).
fn fit(text: &str, width: f64) -> String {
    let mut used = 0.0;
    let mut out = String::new();
    for c in text.chars() {
        // Wide enough for bold names, with a margin before the bars.
        let w = if c.is_ascii() { 0.64 } else { 1.05 } * FONT;
        if used + w > width - 2.5 * FONT {
            out.push('…');
            return out;
        }
        used += w;
        out.push(c);
    }
    out
}

/// The SVG of the plan; empty for an empty plan.
pub fn render(view: &PlanView, lang: Lang) -> String {
    if view.is_empty() {
        return String::new();
    }
    let count = view.plan.milestones.len();
    let times: Vec<_> = (0..count).map(|i| view.schedule.times(i)).collect();
    let t0 = day_floor(view.start());
    let last = times.iter().map(|t| t.ef).max().unwrap_or(t0).max(view.finish());
    let t1 = day_ceil(last).max(t0 + Duration::days(1));
    let chart_w = WIDTH - LABEL_W - RIGHT_PAD;
    let span_ms = (t1 - t0).num_milliseconds().max(1) as f64;
    let x = |t: DateTime<Utc>| LABEL_W + ((t - t0).num_milliseconds() as f64 / span_ms).clamp(0.0, 1.0) * chart_w;
    let within = |t: DateTime<Utc>| t >= t0 && t <= t1;

    // Days on the axis: every day, or every few days on a long plan.
    let days = (t1 - t0).num_days().max(1);
    let step = [1, 2, 7, 14, 30, 91, 365].into_iter().find(|s| days / s <= 12).unwrap_or(365);
    // The first day, and the first of a new year, carry the year: 2020-02-01, 02-03, …
    let mut year_shown = None;
    let ticks = (0..=days)
        .step_by(step as usize)
        .map(|d| {
            let local = china_time::at(t0 + Duration::days(d));
            let year = local.format("%Y").to_string();
            let format = if year_shown.as_ref() == Some(&year) { "%m-%d" } else { "%Y-%m-%d" };
            year_shown = Some(year);
            Tick { x: n(x(t0 + Duration::days(d))), label: local.format(format).to_string() }
        })
        .collect();

    // Rows in order of start, then as the plan lists them.
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|&i| (times[i].es, i));
    let rows = order
        .iter()
        .enumerate()
        .map(|(row, &i)| {
            let (m, t) = (&view.plan.milestones[i], times[i]);
            let top = TOP + row as f64 * ROW_H;
            let done = view.is_done(i);
            let driving = view.driving[i];
            let (x0, x1) = (x(t.es), x(t.ef));
            let diamond = t.ef == t.es;
            let worked = t.es + Duration::milliseconds((m.duration_h * 3_600_000.0).round() as i64);
            let wait = t.held_by.filter(|_| !done && worked < t.ef).map(|need| Wait { x: n(x(worked)), w: n((x1 - x(worked)).max(1.0)), need: need.0 });
            let name = name_in(&m.name, lang);
            let mut tooltip = format!("{name}\n{} → {}", time(t.es.timestamp_millis()), time(t.ef.timestamp_millis()));
            match lang {
                Lang::Zh => {
                    tooltip.push_str(&format!("\n时差 {} 小时", trim(t.slack_h)));
                    if done {
                        tooltip.push_str("（已完成）");
                    }
                    if driving {
                        tooltip.push_str("\n在决定首批产出的路径上");
                    }
                    if let Some(need) = t.held_by {
                        tooltip.push_str(&format!("\n等待诉求 #{need} 解决"));
                    }
                }
                Lang::En => {
                    tooltip.push_str(&format!("\nslack {} h", trim(t.slack_h)));
                    if done {
                        tooltip.push_str(" (done)");
                    }
                    if driving {
                        tooltip.push_str("\non the path that decides first output");
                    }
                    if let Some(need) = t.held_by {
                        tooltip.push_str(&format!("\nwaiting for need #{need}"));
                    }
                }
            }
            let work_end = if wait.is_some() { x(worked) } else { x1 };
            Row {
                ty: n(top + ROW_H / 2.0 + FONT * 0.35),
                by: n(top + (ROW_H - BAR_H) / 2.0),
                name: fit(name, LABEL_W),
                tooltip,
                fill: if driving { RED } else { BLUE },
                opacity: if done { "0.45" } else { "1" },
                driving,
                diamond: if diamond {
                    let (cy, r) = (top + ROW_H / 2.0, BAR_H / 2.0 + 1.0);
                    format!("M{x0:.1} {:.1}L{:.1} {cy:.1}L{x0:.1} {:.1}L{:.1} {cy:.1}Z", cy - r, x0 + r, cy + r, x0 - r)
                } else {
                    String::new()
                },
                x: n(x0),
                w: n((work_end - x0).max(2.0)),
                wait,
            }
        })
        .collect::<Vec<Row>>();
    let rows_bottom = TOP + count as f64 * ROW_H;

    // Lines at now, when the plan was drawn up and at first output, their labels staggered.
    let mut marks = Vec::new();
    let mut mark = |at: DateTime<Utc>, label: String, colour: &'static str, dash: &'static str| {
        let px = x(at);
        let ly = if marks.len() % 2 == 0 { 12.0 } else { 25.0 };
        let anchor = if px > LABEL_W + chart_w * 0.75 { "end" } else { "start" };
        marks.push(Mark { x: n(px), label, ly: n(ly), anchor, colour, dash });
    };
    let finished = (0..count).all(|i| view.is_done(i));
    let first = time(view.finish().timestamp_millis());
    mark(view.finish(), if finished { format!("{}{first}", lang.pick("首批产出 ", "first output ")) } else { format!("{}{first}", lang.pick("预计首批产出 ", "first output expected ")) }, RED, "");
    if let Some(planned) = view.planned_at.filter(|t| within(*t)) {
        mark(planned, format!("{}{}", lang.pick("制定计划 ", "plan drawn up "), time(planned.timestamp_millis())), MUTED, "2 3");
    }
    if within(view.now) {
        mark(view.now, lang.pick("现在", "now").to_string(), GREEN, "5 3");
    }

    let legend_y = rows_bottom + 24.0;
    let items: [(&'static str, &'static str, bool, &str); 4] = [
        (RED, "1", false, lang.pick("决定首批产出的路径", "path that decides first output")),
        (BLUE, "1", false, lang.pick("其他节点", "other step")),
        (GREY, "0.45", false, lang.pick("已完成（浅色）", "done (pale)")),
        ("#9a6200", "1", true, lang.pick("等待诉求解决", "waiting for a need")),
    ];
    let mut lx = LABEL_W;
    let legend = items
        .into_iter()
        .map(|(fill, opacity, striped, text)| {
            let item = LegendItem { x: n(lx), tx: n(lx + 18.0), fill, opacity, striped, text: text.to_string() };
            lx += 30.0 + text.chars().map(|c| if c.is_ascii() { 0.58 } else { 1.0 }).sum::<f64>() * FONT;
            item
        })
        .collect();

    let year = china_time::at(t0).format("%Y").to_string();
    GanttSvg {
        width: n(WIDTH),
        height: n(rows_bottom + BOTTOM),
        title: match lang {
            Lang::Zh => format!("投产计划甘特图（{year}年，北京时间）"),
            Lang::En => format!("Plan to production, {year} (China time, UTC+8)"),
        },
        label_w: n(LABEL_W),
        chart_right: n(WIDTH - RIGHT_PAD),
        axis_y: n(TOP - 8.0),
        rows_top: n(TOP),
        rows_bottom: n(rows_bottom),
        ticks,
        rows,
        marks,
        legend_y: n(legend_y),
        legend,
        bar_h: n(BAR_H),
    }
    .render()
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bilingual_name_shows_the_part_of_the_page_language() {
        assert_eq!(name_in("安装调试 / installation", Lang::Zh), "安装调试");
        assert_eq!(name_in("安装调试 / installation", Lang::En), "installation");
        assert_eq!(name_in("trial", Lang::Zh), "trial");
    }

    #[test]
    fn long_names_are_cut_to_the_column() {
        let cut = fit(&"熔".repeat(40), LABEL_W);
        assert!(cut.ends_with('…') && cut.chars().count() < 25, "{cut}");
        assert_eq!(fit("short", LABEL_W), "short");
    }

    #[test]
    fn days_start_at_midnight_in_china() {
        let t = DateTime::parse_from_rfc3339("2020-02-13T08:30:00+08:00").unwrap().with_timezone(&Utc);
        assert_eq!(day_floor(t).to_rfc3339(), "2020-02-12T16:00:00+00:00");
        assert_eq!(day_ceil(t).to_rfc3339(), "2020-02-13T16:00:00+00:00");
        assert_eq!(day_ceil(day_floor(t)), day_floor(t));
    }
}
