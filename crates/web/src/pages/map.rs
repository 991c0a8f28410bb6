//! A schematic map as SVG, drawn on the server: province outlines from `assets/provinces.geojson`
//! (simplified, GCJ-02 — see `assets/regions.SOURCE.md` for sources and the CC BY 4.0
//! attribution printed on the map) and markers at the coordinates the app stored for an
//! enterprise and its providers, with lines from the enterprise to each of them.
//!
//! The projection is equirectangular, with longitudes shrunk by the cosine of the middle
//! latitude; the view is the markers' bounding box, padded, at a fixed aspect ratio. Outline
//! points closer than a pixel to the previous one are dropped, so a page carries only the detail
//! the view can show. Schematic, as the data is: no roads, no routes.

use super::ui::Lang;
use bangfu_core::region::{Level, RegionTree};
use askama::Template;
use serde_json::Value;
use std::sync::OnceLock;

const GEOJSON: &str = include_str!("../../assets/provinces.geojson");

/// The width of the map in SVG units; the height follows from the aspect ratio.
const WIDTH: f64 = 720.0;
const ASPECT: f64 = 1.45;
const FONT: f64 = 14.0;
/// The smallest height of a view, in degrees of latitude (about 270 km).
const MIN_SPAN_DEG: f64 = 2.4;
/// Cities are named on views no taller than this, in degrees (on larger ones they would crowd).
const CITY_NAMES_UP_TO_DEG: f64 = 9.0;

#[derive(Debug)]
struct Ring {
    points: Vec<(f64, f64)>,
    /// lon_min, lon_max, lat_min, lat_max
    bbox: (f64, f64, f64, f64),
}

#[derive(Debug)]
struct Outline {
    name: String,
    rings: Vec<Ring>,
}

fn ring(points: &Value) -> Option<Ring> {
    let points: Vec<(f64, f64)> = points.as_array()?.iter().filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?))).collect();
    let bbox = points.iter().fold((f64::MAX, f64::MIN, f64::MAX, f64::MIN), |b, &(x, y)| (b.0.min(x), b.1.max(x), b.2.min(y), b.3.max(y)));
    (points.len() >= 3).then_some(Ring { points, bbox })
}

/// The province outlines, parsed once. Only outer rings are drawn (holes do not matter here).
fn outlines() -> &'static [Outline] {
    static OUTLINES: OnceLock<Vec<Outline>> = OnceLock::new();
    OUTLINES.get_or_init(|| {
        let Ok(document) = serde_json::from_str::<Value>(GEOJSON) else { return Vec::new() };
        let features = document.get("features").and_then(Value::as_array).cloned().unwrap_or_default();
        features
            .iter()
            .map(|f| {
                let name = f.pointer("/properties/name").and_then(Value::as_str).unwrap_or_default().to_string();
                let geometry = f.get("geometry").cloned().unwrap_or(Value::Null);
                let coordinates = geometry.get("coordinates").cloned().unwrap_or(Value::Null);
                let polygons: Vec<Value> = match geometry.get("type").and_then(Value::as_str) {
                    Some("Polygon") => vec![coordinates],
                    Some("MultiPolygon") => coordinates.as_array().cloned().unwrap_or_default(),
                    _ => Vec::new(),
                };
                let rings = polygons.iter().filter_map(|p| p.get(0).and_then(ring)).collect();
                Outline { name, rings }
            })
            .collect()
    })
}

/// What a marker stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Enterprise,
    Selected,
    Candidate,
    Rejected,
}

impl MarkerKind {
    fn class(self) -> &'static str {
        match self {
            MarkerKind::Enterprise => "enterprise",
            MarkerKind::Selected => "selected",
            MarkerKind::Candidate => "candidate",
            MarkerKind::Rejected => "rejected",
        }
    }

    fn legend(self, lang: Lang) -> &'static str {
        match self {
            MarkerKind::Enterprise => lang.pick("企业", "enterprise"),
            MarkerKind::Selected => lang.pick("已选定的提供方", "selected provider"),
            MarkerKind::Candidate => lang.pick("可行候选", "feasible candidate"),
            MarkerKind::Rejected => lang.pick("被排除的候选", "rejected candidate"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Marker {
    pub lon: f64,
    pub lat: f64,
    pub label: String,
    pub kind: MarkerKind,
}

/// A line from marker `from` to marker `to` (indexes into the markers).
#[derive(Clone, Copy, Debug)]
pub struct Link {
    pub from: usize,
    pub to: usize,
}

struct View {
    lon_min: f64,
    lat_max: f64,
    /// Pixels per degree of latitude.
    scale: f64,
    /// cos(middle latitude): degrees of longitude are this much shorter.
    shrink: f64,
    height: f64,
    bbox: (f64, f64, f64, f64),
}

impl View {
    fn around(points: &[(f64, f64)]) -> View {
        let (mut lon_min, mut lon_max, mut lat_min, mut lat_max) = if points.is_empty() {
            (73.5, 135.0, 18.0, 53.5)
        } else {
            points.iter().fold((f64::MAX, f64::MIN, f64::MAX, f64::MIN), |b, &(x, y)| (b.0.min(x), b.1.max(x), b.2.min(y), b.3.max(y)))
        };
        // Pad by a quarter of the span, at least 0.6°, so markers and labels are not at the edge.
        let pad_lat = ((lat_max - lat_min) * 0.25).max(0.6);
        let pad_lon = ((lon_max - lon_min) * 0.25).max(0.6);
        lon_min -= pad_lon;
        lon_max += pad_lon * 2.5; // labels run to the right of their markers
        lat_min -= pad_lat;
        lat_max += pad_lat;
        // At least a couple of degrees, so that a local need still shows its cities around it.
        if lat_max - lat_min < MIN_SPAN_DEG {
            let extra = (MIN_SPAN_DEG - (lat_max - lat_min)) / 2.0;
            lat_min -= extra;
            lat_max += extra;
        }
        let shrink = ((lat_min + lat_max) / 2.0).to_radians().cos();
        let (width_deg, height_deg) = ((lon_max - lon_min) * shrink, lat_max - lat_min);
        if width_deg / height_deg < ASPECT {
            let extra = (ASPECT * height_deg / shrink - (lon_max - lon_min)) / 2.0;
            lon_min -= extra;
            lon_max += extra;
        } else {
            let extra = (width_deg / ASPECT - height_deg) / 2.0;
            lat_min -= extra;
            lat_max += extra;
        }
        let scale = WIDTH / ((lon_max - lon_min) * shrink);
        View { lon_min, lat_max, scale, shrink, height: WIDTH / ASPECT, bbox: (lon_min, lon_max, lat_min, lat_max) }
    }

    fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        ((lon - self.lon_min) * self.shrink * self.scale, (self.lat_max - lat) * self.scale)
    }

    fn overlaps(&self, b: (f64, f64, f64, f64)) -> bool {
        b.0 <= self.bbox.1 && b.1 >= self.bbox.0 && b.2 <= self.bbox.3 && b.3 >= self.bbox.2
    }
}

#[derive(Clone)]
struct ProvincePath {
    d: String,
}

#[derive(Clone)]
struct PlaceName {
    x: String,
    y: String,
    text: String,
}

struct Line {
    x1: String,
    y1: String,
    x2: String,
    y2: String,
    class: &'static str,
}

struct Dot {
    x: String,
    y: String,
    class: &'static str,
    label: String,
    lx: String,
    ly: String,
    anchor: &'static str,
    /// A thin line from the marker to its label when the label had to move away ("" if not).
    leader: String,
}

struct LegendItem {
    y: String,
    ty: String,
    class: &'static str,
    text: &'static str,
}

#[derive(Template)]
#[template(path = "map.svg")]
struct MapSvg {
    width: String,
    height: String,
    title: String,
    provinces: Vec<ProvincePath>,
    places: Vec<PlaceName>,
    cities: Vec<PlaceName>,
    lines: Vec<Line>,
    dots: Vec<Dot>,
    legend: Vec<LegendItem>,
    legend_height: String,
    scale_x: String,
    scale_y: String,
    scale_x2: String,
    scale_label: String,
    attribution: String,
    /// The outline of the framed area as path data, or "" for none.
    frame: String,
}

fn n(value: f64) -> String {
    format!("{value:.1}")
}

/// The width of `text` at `size`, roughly: CJK characters are square, others about half.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(|c| if c.is_ascii() { 0.58 } else { 1.0 }).sum::<f64>() * size
}

/// How far around the enterprise (the first marker) the close-up reaches, in km.
const CLOSE_UP_KM: f64 = 350.0;
/// A close-up is drawn only when some marker lies this far from the enterprise, in km.
const SPREAD_KM: f64 = 800.0;

fn km_between(a: &Marker, b: &Marker) -> f64 {
    let shrink = ((a.lat + b.lat) / 2.0).to_radians().cos();
    (((a.lon - b.lon) * shrink).powi(2) + (a.lat - b.lat).powi(2)).sqrt() * 111.32
}

/// The map of `markers` with `links` (the first marker is the enterprise); `title` is its
/// accessible name. When the markers spread over the country and several lie near the
/// enterprise, two maps: the country, with far markers named and the near ones framed, and a
/// close-up of the enterprise's surroundings with every name.
pub fn render(tree: &RegionTree, markers: &[Marker], links: &[Link], title: &str, lang: Lang) -> String {
    let Some(home) = markers.first() else { return draw(tree, markers, links, title, lang, None) };
    let near: Vec<usize> = (0..markers.len()).filter(|&i| km_between(home, &markers[i]) <= CLOSE_UP_KM).collect();
    let farthest = markers.iter().map(|m| km_between(home, m)).fold(0.0, f64::max);
    if farthest < SPREAD_KM || near.len() < 3 {
        return draw(tree, markers, links, title, lang, None);
    }
    let close: Vec<Marker> = near.iter().map(|&i| markers[i].clone()).collect();
    let close_links: Vec<Link> = links
        .iter()
        .filter_map(|l| Some(Link { from: near.iter().position(|&i| i == l.from)?, to: near.iter().position(|&i| i == l.to)? }))
        .collect();
    let frame = View::around(&close.iter().map(|m| (m.lon, m.lat)).collect::<Vec<_>>()).bbox;
    let overview: Vec<Marker> = markers
        .iter()
        .enumerate()
        .map(|(i, m)| if i != 0 && near.contains(&i) { Marker { label: String::new(), ..m.clone() } } else { m.clone() })
        .collect();
    let (country, around) = match lang {
        Lang::Zh => ("全部位置（虚线框为右图范围）".to_string(), format!("企业周边约 {CLOSE_UP_KM:.0} 公里")),
        Lang::En => ("Everything (the dashed frame is the close-up)".to_string(), format!("Within about {CLOSE_UP_KM:.0} km of the enterprise")),
    };
    format!(
        "<div class=\"maps\"><figure>{}<figcaption>{}</figcaption></figure><figure>{}<figcaption>{}</figcaption></figure></div>",
        draw(tree, &overview, links, title, lang, Some(frame)),
        crate::markup::escape(&country),
        draw(tree, &close, &close_links, title, lang, None),
        crate::markup::escape(&around)
    )
}


/// The province outlines in `view` as path data, and the names of the provinces large enough
/// to label — the same for every map of the same view, so kept for the last views drawn (the
/// dashboard draws the same view for every reader until its cases change).
fn outlines_in(view: &View) -> std::sync::Arc<(Vec<ProvincePath>, Vec<PlaceName>)> {
    type Drawn = std::sync::Arc<(Vec<ProvincePath>, Vec<PlaceName>)>;
    /// Views kept; when full, the memory starts over.
    const VIEWS_KEPT: usize = 64;
    static DRAWN: OnceLock<std::sync::Mutex<std::collections::HashMap<[u64; 5], Drawn>>> = OnceLock::new();
    let key = [view.bbox.0.to_bits(), view.bbox.1.to_bits(), view.bbox.2.to_bits(), view.bbox.3.to_bits(), view.height.to_bits()];
    let memory = DRAWN.get_or_init(Default::default);
    if let Some(drawn) = memory.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return drawn.clone();
    }
    let mut provinces = Vec::new();
    let mut places = Vec::new();
    for outline in outlines() {
        let mut d = String::new();
        let mut largest: Option<(f64, (f64, f64))> = None;
        for ring in outline.rings.iter().filter(|r| view.overlaps(r.bbox)) {
            // Whole pixels, each point relative to the one before (`l dx dy`): a point on the
            // same pixel as the one before is dropped, and rounding never accumulates.
            let mut last: Option<(i64, i64)> = None;
            for &(lon, lat) in &ring.points {
                let (x, y) = view.project(lon, lat);
                let (x, y) = (x.round() as i64, y.round() as i64);
                match last {
                    None => push_point(&mut d, 'M', x, y),
                    Some((lx, ly)) if (lx, ly) == (x, y) => continue,
                    Some((lx, ly)) => push_point(&mut d, 'l', x - lx, y - ly),
                }
                last = Some((x, y));
            }
            d.push('Z');
            let (x0, y0) = view.project(ring.bbox.0, ring.bbox.3);
            let (x1, y1) = view.project(ring.bbox.1, ring.bbox.2);
            let area = (x1 - x0) * (y1 - y0);
            if largest.is_none_or(|(a, _)| area > a) {
                largest = Some((area, ((x0 + x1) / 2.0, (y0 + y1) / 2.0)));
            }
        }
        if d.is_empty() {
            continue;
        }
        provinces.push(ProvincePath { d });
        // Name the province in the middle of its largest part, if that is in view and large.
        if let Some((area, (x, y))) = largest
            && area > 9000.0
            && (40.0..WIDTH - 40.0).contains(&x)
            && (20.0..view.height - 20.0).contains(&y)
        {
            places.push(PlaceName { x: n(x), y: n(y), text: outline.name.clone() });
        }
    }
    let drawn: Drawn = std::sync::Arc::new((provinces, places));
    let mut memory = memory.lock().unwrap_or_else(|e| e.into_inner());
    if memory.len() >= VIEWS_KEPT {
        memory.clear();
    }
    memory.insert(key, drawn.clone());
    drawn
}

/// `command` and the point `x y` in path data (a negative `y` needs no separator).
fn push_point(d: &mut String, command: char, x: i64, y: i64) {
    use std::fmt::Write;
    d.push(command);
    let _ = if y < 0 { write!(d, "{x}{y}") } else { write!(d, "{x} {y}") };
}

/// One SVG map of `markers`; `frame` outlines an area (the close-up's) on it.
fn draw(tree: &RegionTree, markers: &[Marker], links: &[Link], title: &str, lang: Lang, frame: Option<(f64, f64, f64, f64)>) -> String {
    let view = View::around(&markers.iter().map(|m| (m.lon, m.lat)).collect::<Vec<_>>());
    // The seats of the cities in view, for orientation.
    let mut cities = Vec::new();
    if view.bbox.3 - view.bbox.2 <= CITY_NAMES_UP_TO_DEG {
        for region in tree.iter().filter(|r| r.level == Level::City && !tree.is_municipality(r.code)) {
            let (Some(lon), Some(lat)) = (region.lon, region.lat) else { continue };
            let (x, y) = view.project(lon, lat);
            if (10.0..WIDTH - 10.0).contains(&x) && (10.0..view.height - 10.0).contains(&y) {
                cities.push(PlaceName { x: n(x), y: n(y), text: region.name.clone() });
            }
        }
    }
    let (provinces, places) = {
        let drawn = outlines_in(&view);
        (drawn.0.clone(), drawn.1.clone())
    };

    // Markers at the same place are set around it, so that each stays visible.
    let mut positions: Vec<(f64, f64)> = Vec::new();
    for marker in markers {
        let (x, y) = view.project(marker.lon, marker.lat);
        let crowd = positions.iter().filter(|(px, py)| (px - x).abs() < 5.0 && (py - y).abs() < 5.0).count();
        let (x, y) = if crowd == 0 {
            (x, y)
        } else {
            let angle = (crowd as f64) * 2.1;
            (x + 11.0 * angle.cos(), y + 11.0 * angle.sin())
        };
        positions.push((x, y));
    }
    let lines = links
        .iter()
        .filter(|l| l.from < positions.len() && l.to < positions.len())
        .map(|l| {
            let (a, b) = (positions[l.from], positions[l.to]);
            Line { x1: n(a.0), y1: n(a.1), x2: n(b.0), y2: n(b.1), class: markers[l.to].kind.class() }
        })
        .collect();

    // Labels beside their markers, moved down where they would overlap one already placed.
    // (A marker without a label is named on the close-up.)
    let mut placed: Vec<(f64, f64, f64, f64)> = positions.iter().map(|&(x, y)| (x - 6.0, y - 6.0, x + 6.0, y + 6.0)).collect();
    let mut dots = Vec::new();
    for (marker, &(x, y)) in markers.iter().zip(&positions) {
        if marker.label.is_empty() {
            dots.push(Dot { x: n(x), y: n(y), class: marker.kind.class(), label: String::new(), lx: n(x), ly: n(y), anchor: "start", leader: String::new() });
            continue;
        }
        let w = text_width(&marker.label, FONT);
        let right = x + 9.0 + w < WIDTH - 4.0;
        let (lx, anchor) = if right { (x + 9.0, "start") } else { (x - 9.0, "end") };
        let left_edge = if right { lx } else { lx - w };
        let home = y + FONT * 0.35;
        let mut ly = home;
        for step in 0..12 {
            let candidate = (left_edge, ly - FONT * 0.8, left_edge + w, ly + FONT * 0.25);
            let clash = placed.iter().any(|b| candidate.0 < b.2 && candidate.2 > b.0 && candidate.1 < b.3 && candidate.3 > b.1);
            if !clash || step == 11 {
                placed.push(candidate);
                break;
            }
            ly += if step % 2 == 0 { FONT * 1.15 * (step as f64 + 1.0) } else { -FONT * 1.15 * (step as f64 + 1.0) };
        }
        let leader = if (ly - home).abs() > FONT * 0.5 {
            let end_x = if right { lx - 2.0 } else { lx + 2.0 };
            format!("M{:.1} {:.1}L{:.1} {:.1}", x, y, end_x, ly - FONT * 0.35)
        } else {
            String::new()
        };
        dots.push(Dot { x: n(x), y: n(y), class: marker.kind.class(), label: marker.label.clone(), lx: n(lx), ly: n(ly), anchor, leader });
    }

    let mut kinds: Vec<MarkerKind> = Vec::new();
    for m in markers {
        if !kinds.contains(&m.kind) {
            kinds.push(m.kind);
        }
    }
    kinds.sort_by_key(|k| *k as u8);
    let legend = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let y = 22.0 + i as f64 * 20.0;
            LegendItem { y: n(y), ty: n(y + 5.0), class: k.class(), text: k.legend(lang) }
        })
        .collect::<Vec<_>>();

    // A scale bar of a round length about a sixth of the width.
    let km_per_px = 111.32 / view.scale;
    let target = km_per_px * WIDTH / 6.0;
    let round = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0].into_iter().rfind(|&v| v <= target).unwrap_or(1.0);
    let scale_w = round / km_per_px;
    MapSvg {
        width: n(WIDTH),
        height: n(view.height),
        title: title.to_string(),
        provinces,
        places,
        cities,
        lines,
        dots,
        legend_height: n(12.0 + legend.len() as f64 * 20.0),
        legend,
        scale_x: n(WIDTH - 16.0 - scale_w),
        scale_y: n(view.height - 30.0),
        scale_x2: n(WIDTH - 16.0),
        scale_label: format!("{round:.0} {}", lang.pick("公里", "km")),
        frame: frame.map_or_else(String::new, |(lon_min, lon_max, lat_min, lat_max)| {
            let (x0, y0) = view.project(lon_min, lat_max);
            let (x1, y1) = view.project(lon_max, lat_min);
            format!("M{x0:.1} {y0:.1}H{x1:.1}V{y1:.1}H{x0:.1}Z")
        }),
        attribution: lang.pick("示意图，不代表实际路线 · 底图：ADCODE by Vonng, CC BY 4.0", "Schematic, not a route · outlines: ADCODE by Vonng, CC BY 4.0").to_string(),
    }
    .render()
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_province_outline_is_read() {
        assert_eq!(outlines().len(), 34);
        assert!(outlines().iter().any(|o| o.name == "山西省"));
    }

    #[test]
    fn a_local_map_outlines_the_provinces_names_the_cities_and_escapes_the_labels() {
        let markers = vec![
            Marker { lon: 111.47, lat: 35.64, label: "曲沃县 <企业>".into(), kind: MarkerKind::Enterprise },
            Marker { lon: 110.84, lat: 35.41, label: "万荣".into(), kind: MarkerKind::Selected },
        ];
        let svg = render(RegionTree::embedded(), &markers, &[Link { from: 0, to: 1 }], "test", Lang::Zh);
        assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
        assert!(svg.matches("<path d=\"M").count() >= 3, "Shanxi and its neighbours are outlined");
        assert!(!svg.contains("<企业>") && (svg.contains("&lt;企业&gt;") || svg.contains("&#60;企业&#62;")), "labels are escaped");
        assert!(svg.contains("class=\"link selected\""));
        assert!(svg.contains("运城市"), "the cities around are named");
        assert!(svg.len() < 200_000, "{} bytes", svg.len());
    }
}
