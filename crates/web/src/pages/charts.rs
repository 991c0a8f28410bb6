//! Charts drawn on the server as SVG (`templates/chart.svg`): bars per category — stacked by
//! series (output by city, needs by tier) or grouped side by side (hours by tier) — with an
//! optional dashed line (capacity). Every chart has a title (the SVG's `<title>`, and the
//! figure's caption) and is shown beside a table of the same numbers ([`Chart::table`]), so a
//! screen reader, a printer and a phone get the figures without the drawing.

use super::ui::trim;
use askama::Template;

/// One series of a chart: a label, a value per category, and where its label leads (drill-down).
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    pub values: Vec<f64>,
    pub href: Option<String>,
}

/// A bar chart and its table.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Unique on the page (the SVG title's id).
    pub id: String,
    pub title: String,
    /// The categories' heading in the table (日期 / Day, 类别 / Kind).
    pub category: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// Stacked (one bar per category) or grouped (a bar per series).
    pub stacked: bool,
    /// Drawn as a dashed line over the bars (capacity).
    pub line: Option<Series>,
}

/// Colours of the series, distinguishable in print and for the common colour deficiencies.
const PALETTE: [&str; 10] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT_PAD: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM_PAD: f64 = 64.0;

struct Tick {
    y: String,
    text_y: String,
    label: String,
}

struct XLabel {
    x: String,
    label: String,
}

struct Bar {
    x: String,
    y: String,
    w: String,
    h: String,
    fill: &'static str,
    tip: String,
}

struct Legend {
    x: String,
    tx: String,
    fill: &'static str,
    text: String,
}

#[derive(Template)]
#[template(path = "chart.svg")]
struct ChartSvg {
    id: String,
    title: String,
    width: f64,
    height: f64,
    left: f64,
    left_text: f64,
    right: f64,
    bottom: f64,
    x_label_y: f64,
    legend_y: f64,
    ticks: Vec<Tick>,
    xs: Vec<XLabel>,
    bars: Vec<Bar>,
    line: String,
    legend: Vec<Legend>,
}

fn n(v: f64) -> String {
    format!("{:.1}", v)
}

/// A round top for an axis: 1, 2 or 5 times a power of ten, at least `max`.
fn nice(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|v| *v >= max).unwrap_or(10.0 * power)
}

/// A number for an axis: 12000 → 1.2万.
fn short(v: f64) -> String {
    if v.abs() >= 10_000.0 { format!("{}万", trim(v / 10_000.0)) } else { trim(v) }
}

impl Chart {
    pub fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.values.iter().all(|v| *v == 0.0)) && self.line.as_ref().is_none_or(|l| l.values.iter().all(|v| *v == 0.0))
    }

    /// The colour of series `i`.
    pub fn colour(i: usize) -> &'static str {
        PALETTE[i % PALETTE.len()]
    }

    /// The SVG.
    pub fn svg(&self) -> String {
        let count = self.categories.len().max(1);
        let right = WIDTH - RIGHT_PAD;
        let bottom = HEIGHT - BOTTOM_PAD;
        let per = (right - LEFT) / count as f64;
        let bar_values = |c: usize| -> f64 {
            if self.stacked { self.series.iter().map(|s| s.values.get(c).copied().unwrap_or(0.0)).sum() } else { self.series.iter().map(|s| s.values.get(c).copied().unwrap_or(0.0)).fold(0.0, f64::max) }
        };
        let mut max = (0..count).map(bar_values).fold(0.0, f64::max);
        if let Some(line) = &self.line {
            max = line.values.iter().copied().fold(max, f64::max);
        }
        // Counts get whole-number ticks (an axis of 0 to 4 at least).
        let whole = self.series.iter().chain(self.line.as_ref()).all(|s| s.values.iter().all(|v| v.fract() == 0.0));
        let top_value = if whole { nice(max).max(4.0) } else { nice(max) };
        let y = |v: f64| bottom - (v / top_value) * (bottom - TOP);
        let ticks = (0..=4)
            .map(|i| {
                let v = top_value * i as f64 / 4.0;
                Tick { y: n(y(v)), text_y: n(y(v) + 4.0), label: short(v) }
            })
            .collect();
        let step = count.div_ceil(10).max(1);
        let xs = self
            .categories
            .iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0)
            .map(|(i, label)| XLabel { x: n(LEFT + per * (i as f64 + 0.5)), label: label.chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect() })
            .collect();
        let mut bars = Vec::new();
        for c in 0..self.categories.len() {
            let category = &self.categories[c];
            if self.stacked {
                let mut base = 0.0;
                for (i, s) in self.series.iter().enumerate() {
                    let v = s.values.get(c).copied().unwrap_or(0.0);
                    if v <= 0.0 {
                        continue;
                    }
                    let (y0, y1) = (y(base), y(base + v));
                    bars.push(Bar { x: n(LEFT + per * c as f64 + per * 0.15), y: n(y1), w: n(per * 0.7), h: n((y0 - y1).max(0.5)), fill: Chart::colour(i), tip: format!("{category} · {}: {}", s.label, trim(v)) });
                    base += v;
                }
            } else {
                let width = per * 0.8 / self.series.len().max(1) as f64;
                for (i, s) in self.series.iter().enumerate() {
                    let v = s.values.get(c).copied().unwrap_or(0.0);
                    if v <= 0.0 {
                        continue;
                    }
                    bars.push(Bar { x: n(LEFT + per * c as f64 + per * 0.1 + width * i as f64), y: n(y(v)), w: n(width), h: n((bottom - y(v)).max(0.5)), fill: Chart::colour(i), tip: format!("{category} · {}: {}", s.label, trim(v)) });
                }
            }
        }
        let line = self
            .line
            .as_ref()
            .map(|l| l.values.iter().enumerate().map(|(c, v)| format!("{},{}", n(LEFT + per * (c as f64 + 0.5)), n(y(*v)))).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        // The legend: series, then the line, wrapped to the width.
        let mut legend = Vec::new();
        let (mut x, mut row) = (LEFT, 0);
        let mut items: Vec<(String, &'static str)> = self.series.iter().enumerate().map(|(i, s)| (s.label.clone(), Chart::colour(i))).collect();
        if let Some(l) = &self.line {
            items.push((l.label.clone(), "#1d232b"));
        }
        for (text, fill) in items.into_iter().take(12) {
            let w = 24.0 + text.chars().map(|c| if c.is_ascii() { 6.5 } else { 12.0 }).sum::<f64>();
            if x + w > right && x > LEFT {
                x = LEFT;
                row += 1;
            }
            if row < 2 {
                legend.push(Legend { x: n(x), tx: n(x + 16.0), fill, text });
            }
            x += w;
        }
        let _ = row;
        let svg = ChartSvg {
            id: self.id.clone(),
            title: self.title.clone(),
            width: WIDTH,
            height: HEIGHT,
            left: LEFT,
            left_text: LEFT - 6.0,
            right,
            bottom,
            x_label_y: bottom + 16.0,
            legend_y: bottom + 38.0,
            ticks,
            xs,
            bars,
            line,
            legend,
        };
        svg.render().unwrap_or_default()
    }

    /// The table beside the chart: a row per category, a column per series (then the line, then
    /// the total of a stacked chart).
    pub fn table(&self) -> ChartTable {
        let mut head: Vec<(String, Option<String>)> = self.series.iter().map(|s| (s.label.clone(), s.href.clone())).collect();
        if let Some(l) = &self.line {
            head.push((l.label.clone(), None));
        }
        let rows = self
            .categories
            .iter()
            .enumerate()
            .map(|(c, category)| {
                let mut cells: Vec<String> = self.series.iter().map(|s| trim(s.values.get(c).copied().unwrap_or(0.0))).collect();
                if let Some(l) = &self.line {
                    cells.push(trim(l.values.get(c).copied().unwrap_or(0.0)));
                }
                let total = if self.stacked { Some(trim(self.series.iter().map(|s| s.values.get(c).copied().unwrap_or(0.0)).sum())) } else { None };
                ChartRow { category: category.clone(), cells, total }
            })
            .collect();
        ChartTable { category: self.category.clone(), head, stacked: self.stacked, rows }
    }
}

/// A chart's numbers as a table.
#[derive(Clone, Debug)]
pub struct ChartTable {
    pub category: String,
    /// Column headings, each with its drill-down link.
    pub head: Vec<(String, Option<String>)>,
    pub stacked: bool,
    pub rows: Vec<ChartRow>,
}

#[derive(Clone, Debug)]
pub struct ChartRow {
    pub category: String,
    pub cells: Vec<String>,
    pub total: Option<String>,
}

/// A chart ready for a template: its SVG and its table.
#[derive(Clone, Debug)]
pub struct ChartView {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub table: ChartTable,
    pub empty: bool,
}

impl From<&Chart> for ChartView {
    fn from(chart: &Chart) -> ChartView {
        ChartView { id: chart.id.clone(), title: chart.title.clone(), svg: chart.svg(), table: chart.table(), empty: chart.is_empty() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart {
        Chart {
            id: "c".into(),
            title: "产量 <测试>".into(),
            category: "日期".into(),
            categories: vec!["2020-02-10".into(), "2020-02-11".into()],
            series: vec![Series { label: "临汾市".into(), values: vec![100.0, 200.0], href: Some("/figures?region=141000".into()) }, Series { label: "运城市".into(), values: vec![50.0, 0.0], href: None }],
            stacked: true,
            line: Some(Series { label: "产能".into(), values: vec![300.0, 300.0], href: None }),
        }
    }

    #[test]
    fn a_chart_has_its_title_and_escapes_it() {
        let svg = chart().svg();
        assert!(svg.contains("<title id=\"c-title\">产量 &#60;测试&#62;</title>") || svg.contains("产量 &lt;测试&gt;"), "{svg}");
        assert_eq!(svg.matches("<rect x=").count() - 3, 3, "three bars with a value and three legend keys: {svg}");
    }

    #[test]
    fn the_table_holds_every_number_of_the_chart_and_the_totals() {
        let table = chart().table();
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0].cells, ["100", "50", "300"]);
        assert_eq!(table.rows[0].total.as_deref(), Some("150"));
        assert_eq!(table.head[0].1.as_deref(), Some("/figures?region=141000"));
    }

    #[test]
    fn an_axis_tops_at_a_round_number() {
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(130.0), 200.0);
        assert_eq!(nice(4_900.0), 5_000.0);
    }
}
