//! The exercise's world, drawn from the seed before anything is written: the registry (as the
//! lines of `bangfu import`, one file per province), the enterprises with their teams and
//! green-channel approvals, the needs with what will become of them (their *fate*: how long the
//! owner takes to act, which candidate is chosen, whether the need is cancelled), and the daily
//! returns. Pure: no store, no clock; the same seed and size give the same world.
//!
//! Everything drawn here is synthetic and says so: names of enterprises, providers and needs
//! start with [`MARK`], notes say 演练数据（合成）/ synthetic exercise data. Places are real
//! (GB/T 2260 counties, coordinates within a few kilometres of the county seat); the attributes
//! of capabilities are realistic in kind (sterilisation methods and their cycles, melt-blown
//! fabric and its stock, mask machines made in Guangdong and Zhejiang), not in detail.

use super::rng::{Rng, Weighted};
use super::{END_MS, HOUR_MS, MARK, NOTE, START_MS, Size};
use crate::needs::NewNeed;
use bangfu_core::credit_code::check_character;
use bangfu_core::model::NeedKind;
use bangfu_core::region::{Level, Region, RegionCode, RegionTree, name_stem};
use serde_json::{Value, json};

const SHANXI: u32 = 140000;
/// Shanxi's neighbours: 河北, 内蒙古, 河南, 陕西.
const NEIGHBOURS: [u32; 4] = [130000, 150000, 410000, 610000];
/// Where mask machines and production lines are made (广东, 江苏, 浙江, 福建, 山东).
const MACHINE_MAKERS: [(u32, f64); 5] = [(440000, 0.40), (330000, 0.22), (320000, 0.20), (350000, 0.10), (370000, 0.08)];

/// One province's registry file: JSONL lines as `bangfu import` reads them.
#[derive(Clone, Debug)]
pub struct RegistryFile {
    pub province: RegionCode,
    pub jsonl: String,
    pub capabilities: usize,
}

/// A member of a stationed team, joining `after_h` hours after the case opens.
#[derive(Clone, Debug)]
pub struct TeamPlan {
    pub title: String,
    pub department: RegionCode,
    pub role: &'static str,
    pub after_h: f64,
}

/// A green-channel approval: opened, taken up, decided (hours after the case opens).
#[derive(Clone, Debug)]
pub struct ApprovalPlan {
    pub agency: &'static str,
    pub item: &'static str,
    pub opened_h: f64,
    pub in_progress_h: f64,
    pub approved_h: f64,
}

#[derive(Clone, Debug)]
pub struct EnterprisePlan {
    pub name: String,
    pub credit_code: String,
    pub county: RegionCode,
    pub lon: f64,
    pub lat: f64,
    pub product: &'static str,
    /// When the county registers it and opens its case.
    pub opens_at: i64,
    /// Daily capacity once running (units of its product).
    pub capacity_per_day: f64,
    /// Days after opening until the first output.
    pub first_output_after_d: i64,
    pub team: Vec<TeamPlan>,
    pub approvals: Vec<ApprovalPlan>,
    /// How many needs it has, relatively.
    pub weight: f64,
}

/// Who reports a need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reporter {
    /// The county officer, through the need form: reported and sourced at once.
    Officer,
    /// The enterprise itself: its owner's officers source it later.
    Enterprise,
}

/// What becomes of a need, in hours after the step before. A step whose time falls after the
/// end of the exercise does not happen, and the need stays where it is.
#[derive(Clone, Debug)]
pub struct Fate {
    /// Until the owner first acts (sources an enterprise's report, selects, starts).
    pub first_action_h: f64,
    /// Until a sourced need's candidate is chosen.
    pub select_h: f64,
    /// Which feasible candidate is chosen (0 = the best; fewer feasible: the last).
    pub rank: usize,
    pub start_h: f64,
    pub resolve_h: f64,
    /// Cancelled instead of this step: 1 = before the first action, 2 = before starting,
    /// 3 = before resolving.
    pub cancel_at_step: Option<u8>,
    /// An officer pushes it up a tier by hand this many hours after it is reported.
    pub manual_escalation_h: Option<f64>,
    /// Without a feasible candidate: broadcast to the ring around (else waits and is solved by hand).
    pub broadcast: bool,
    /// A shipment is recorded when it is resolved (goods that travel).
    pub shipment: bool,
    /// A national need's letter: sent after, then acknowledged after.
    pub letter_sent_h: f64,
    pub letter_ack_h: f64,
}

#[derive(Clone, Debug)]
pub struct NeedPlan {
    pub enterprise: usize,
    pub at: i64,
    pub reporter: Reporter,
    pub input: NewNeed,
    pub fate: Fate,
}

/// One day's return of one enterprise.
#[derive(Clone, Debug)]
pub struct ReturnPlan {
    pub enterprise: usize,
    pub at: i64,
    /// YYYY-MM-DD (UTC+8).
    pub day: String,
    /// The enterprise's product (医用外科口罩, KN95口罩, …).
    pub product: &'static str,
    pub capacity_per_day: f64,
    pub output: f64,
    pub stock: f64,
    /// What left the warehouse: the day's output and the stock before, less the stock after.
    pub shipped: f64,
}

#[derive(Clone, Debug)]
pub struct World {
    pub registry: Vec<RegistryFile>,
    pub enterprises: Vec<EnterprisePlan>,
    pub needs: Vec<NeedPlan>,
    pub returns: Vec<ReturnPlan>,
}

impl World {
    pub fn capabilities(&self) -> usize {
        self.registry.iter().map(|f| f.capabilities).sum()
    }
}

/// Draws the world of `seed` at `size`.
pub fn draw(tree: &RegionTree, seed: u64, size: Size) -> World {
    let places = Places::new(tree);
    let registry = draw_registry(tree, &places, &mut Rng::stream(seed, "registry"), size.capabilities());
    let enterprises = draw_enterprises(tree, &places, &mut Rng::stream(seed, "enterprises"), size.enterprises());
    let needs = draw_needs(tree, &places, &enterprises, &mut Rng::stream(seed, "needs"), size.needs());
    let returns = draw_returns(&enterprises, &mut Rng::stream(seed, "returns"));
    World { registry, enterprises, needs, returns }
}

/// The counties (and county-less province seats) where things can be, by province.
struct Places<'t> {
    /// Province-level units, by code, with the places inside them that have a seat.
    provinces: Vec<(&'t Region, Vec<&'t Region>)>,
    /// Shanxi's counties and the weight of each (districts of a city seat weigh more).
    shanxi: Vec<&'t Region>,
    shanxi_weights: Weighted,
}

impl<'t> Places<'t> {
    fn new(tree: &'t RegionTree) -> Places<'t> {
        let mut provinces: Vec<(&Region, Vec<&Region>)> = tree.iter().filter(|r| r.level == Level::Province && r.parent.is_none()).map(|p| (p, Vec::new())).collect();
        for region in tree.iter().filter(|r| r.level == Level::County && r.lon.is_some() && r.lat.is_some()) {
            if let Some(province) = tree.province_of(region.code)
                && let Some((_, places)) = provinces.iter_mut().find(|(p, _)| p.code == province.code)
            {
                places.push(region);
            }
        }
        // A province without counties in the tree (香港, 澳门, 台湾) has its own seat.
        for (province, places) in &mut provinces {
            if places.is_empty() && province.lon.is_some() {
                places.push(province);
            }
        }
        provinces.retain(|(_, places)| !places.is_empty());
        let shanxi = provinces.iter().find(|(p, _)| p.code.as_u32() == SHANXI).map(|(_, places)| places.clone()).unwrap_or_default();
        let shanxi_weights = Weighted::new(shanxi.iter().map(|r| if r.name.ends_with('区') { 1.6 } else { 1.0 }));
        Places { provinces, shanxi, shanxi_weights }
    }

    /// A place in a province drawn by the registry's weights: Shanxi most, then its neighbours,
    /// then the rest of the country (every province some).
    fn registry_province(&self, rng: &mut Rng) -> usize {
        let weights: Vec<(usize, f64)> = self
            .provinces
            .iter()
            .enumerate()
            .map(|(i, (p, places))| {
                let code = p.code.as_u32();
                let weight = if code == SHANXI {
                    30.0
                } else if NEIGHBOURS.contains(&code) {
                    6.0
                } else {
                    // The rest by how many counties they have, and at least a little.
                    (places.len() as f64 / 40.0).max(0.3)
                };
                (i, weight)
            })
            .collect();
        *rng.weighted(&weights)
    }

    fn province_index(&self, code: u32) -> Option<usize> {
        self.provinces.iter().position(|(p, _)| p.code.as_u32() == code)
    }

    fn place_in(&self, province: usize, rng: &mut Rng) -> &'t Region {
        let places = &self.provinces[province].1;
        places[rng.below(places.len())]
    }

    fn shanxi_county(&self, rng: &mut Rng) -> &'t Region {
        self.shanxi[self.shanxi_weights.draw(rng)]
    }
}

/// A point within a few kilometres of the region's seat.
fn near_seat(region: &Region, rng: &mut Rng, spread_deg: f64) -> (f64, f64) {
    let (lon, lat) = (region.lon.unwrap_or(112.55), region.lat.unwrap_or(37.87));
    (round6(lon + rng.range(-spread_deg, spread_deg)), round6(lat + rng.range(-spread_deg, spread_deg) * 0.8))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// "临汾曲沃" — the short place name used in synthetic company names.
fn short_place(tree: &RegionTree, region: &Region) -> String {
    let county = name_stem(&region.name);
    match tree.city_of(region.code).filter(|c| c.code != region.code) {
        Some(city) => format!("{}{}", name_stem(&city.name), county),
        None => county.to_string(),
    }
}

const TRADE_NAMES: &[&str] = &[
    "恒安", "康达", "华泰", "金盾", "瑞丰", "鑫源", "宏达", "永安", "博泰", "众诚", "天佑", "安泰", "嘉禾", "晋丰", "汇通", "同心", "德润", "海川",
    "景明", "润泽", "兴业", "立信", "惠民", "长青", "卓越", "泰和", "远航", "弘毅", "中正", "安康", "晨光", "佳禾", "聚力", "创新", "新元", "国泰",
];

// ---------------------------------------------------------------- the registry

const STANDARDS: &[(&str, f64)] = &[
    ("GB 19083-2010", 0.8),
    ("YY 0469-2011", 0.8),
    ("GB/T 32610-2016", 0.5),
    ("YY/T 0969-2013", 0.7),
    ("GB 2626-2019", 0.4),
    ("GB 19082-2009", 0.4),
    ("GB 15979-2002", 0.3),
];

const MATERIALS: &[(&str, f64)] = &[
    ("熔喷布", 0.24),
    ("无纺布", 0.20),
    ("热风棉", 0.08),
    ("鼻梁条", 0.12),
    ("耳带", 0.12),
    ("聚丙烯熔喷专用料", 0.08),
    ("医用包装材料", 0.08),
    ("次氯酸钠", 0.05),
    ("医用酒精", 0.03),
];

/// Equipment: the item, its weight, and whether machine makers elsewhere make it.
const ITEMS: &[(&str, f64, bool)] = &[
    ("口罩生产线", 0.10, true),
    ("平面口罩机", 0.14, true),
    ("N95口罩机", 0.06, true),
    ("耳带焊接机", 0.12, true),
    ("熔喷布生产线", 0.04, true),
    ("超声波焊接机", 0.12, true),
    ("消毒柜", 0.14, false),
    ("包装机", 0.14, false),
    ("防护服压条机", 0.06, true),
    ("红外测温仪", 0.08, false),
];

const SKILLS: &[(&str, f64)] = &[
    ("口罩机调试", 0.18),
    ("设备维修电工", 0.22),
    ("熔喷工艺技师", 0.08),
    ("洁净车间操作工", 0.30),
    ("质检员", 0.12),
    ("叉车司机", 0.10),
];

const CAPABILITY_KINDS: &[(NeedKind, f64)] = &[
    (NeedKind::RawMaterial, 0.30),
    (NeedKind::Equipment, 0.18),
    (NeedKind::Labour, 0.17),
    (NeedKind::Slitting, 0.12),
    (NeedKind::Sterilisation, 0.10),
    (NeedKind::Testing, 0.13),
];

fn draw_registry(tree: &RegionTree, places: &Places, rng: &mut Rng, target: usize) -> Vec<RegistryFile> {
    // (province index, line) in the order drawn; grouped by province at the end.
    let mut lines: Vec<(usize, String)> = Vec::with_capacity(target);
    let mut provider = 0usize;
    while lines.len() < target {
        provider += 1;
        let count = (*rng.weighted(&[(1usize, 0.55), (2, 0.30), (3, 0.15)])).min(target - lines.len());
        let mut kinds: Vec<NeedKind> = Vec::new();
        while kinds.len() < count {
            let kind = *rng.weighted(CAPABILITY_KINDS);
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        let attrs: Vec<Value> = kinds.iter().map(|k| capability_attrs(*k, rng)).collect();
        // Machine makers sit where machines are made; everyone else by the registry's weights.
        let machine = kinds[0] == NeedKind::Equipment && ITEMS.iter().any(|(item, _, made_away)| *made_away && attrs[0]["item"] == *item);
        let province = match machine && rng.chance(0.85) {
            true => places.province_index(*rng.weighted(&MACHINE_MAKERS)).unwrap_or_else(|| places.registry_province(rng)),
            false => places.registry_province(rng),
        };
        let place = places.place_in(province, rng);
        let (lon, lat) = near_seat(place, rng, 0.03);
        let name = format!("{MARK}{}{}{}", short_place(tree, place), rng.pick(TRADE_NAMES), company_noun(kinds[0], rng));
        for (kind, attrs) in kinds.iter().zip(attrs) {
            let available = rng.chance(0.95);
            let line = json!({
                "id": format!("exercise:p{provider:06}"), "name": name, "region": place.code.to_string(), "lon": lon, "lat": lat,
                "kind": kind.as_str(), "available": available, "attrs": attrs,
            });
            lines.push((province, line.to_string()));
        }
    }
    let mut files: Vec<RegistryFile> = Vec::new();
    for (i, (province, _)) in places.provinces.iter().enumerate() {
        let mine: Vec<&String> = lines.iter().filter(|(p, _)| *p == i).map(|(_, l)| l).collect();
        if mine.is_empty() {
            continue;
        }
        let mut jsonl = String::new();
        for line in &mine {
            jsonl.push_str(line);
            jsonl.push('\n');
        }
        files.push(RegistryFile { province: province.code, jsonl, capabilities: mine.len() });
    }
    files
}

fn company_noun(kind: NeedKind, rng: &mut Rng) -> &'static str {
    let nouns: &[&str] = match kind {
        NeedKind::RawMaterial => &["新材料有限公司", "无纺布制品有限公司", "塑化有限公司"],
        NeedKind::Equipment => &["机械设备有限公司", "智能装备有限公司", "自动化设备有限公司"],
        NeedKind::Labour => &["劳务派遣有限公司", "人力资源服务有限公司"],
        NeedKind::Slitting => &["纺织制品有限公司", "分切加工厂"],
        NeedKind::Sterilisation => &["灭菌技术服务有限公司", "辐照技术有限公司", "消毒服务中心"],
        _ => &["检测技术服务有限公司", "质量检验中心"],
    };
    nouns[rng.below(nouns.len())]
}

/// Realistic attributes of one capability of `kind`.
fn capability_attrs(kind: NeedKind, rng: &mut Rng) -> Value {
    match kind {
        NeedKind::Sterilisation => {
            // Ethylene oxide is the common method (a week or more with aeration); cobalt-60 and
            // electron beam are few and fast; steam suits only what bears heat.
            let method = *rng.weighted(&[("eo", 0.62), ("co60", 0.10), ("ebeam", 0.13), ("steam", 0.15)]);
            let turnaround_h = match method {
                "eo" => rng.int(168, 240) as f64,
                "co60" => rng.int(24, 48) as f64,
                "ebeam" => rng.int(8, 24) as f64,
                _ => rng.int(2, 8) as f64,
            };
            let capacity = (rng.int(2, 50) * 10_000) as f64;
            json!({"method": method, "turnaround_h": turnaround_h, "capacity_per_day": capacity})
        }
        NeedKind::Slitting => {
            let max_input = *rng.weighted(&[(1.6, 0.3), (1.8, 0.3), (2.4, 0.25), (3.2, 0.15)]);
            let min_output = *rng.weighted(&[(0.1, 0.3), (0.15, 0.25), (0.175, 0.2), (0.2, 0.15), (0.5, 0.1)]);
            json!({"max_input_width_m": max_input, "min_output_width_m": min_output, "turnaround_h": rng.int(4, 48) as f64})
        }
        NeedKind::Testing => {
            let mut standards: Vec<&str> = Vec::new();
            let wanted = rng.int(1, 5) as usize;
            for _ in 0..wanted * 2 {
                let s = *rng.weighted(STANDARDS);
                if !standards.contains(&s) && standards.len() < wanted {
                    standards.push(s);
                }
            }
            standards.sort_unstable();
            json!({"standards": standards, "turnaround_h": rng.int(12, 96) as f64})
        }
        NeedKind::RawMaterial => {
            let material = *rng.weighted(MATERIALS);
            // Tonnes in stock; melt-blown fabric is scarce.
            let mean = if material == "熔喷布" { 3.0 } else { 12.0 };
            json!({"material": material, "stock": round1(rng.exponential(mean) + 0.5), "lead_time_h": rng.int(12, 96) as f64})
        }
        NeedKind::Equipment => {
            let items: Vec<(&str, f64)> = ITEMS.iter().map(|(item, w, _)| (*item, *w)).collect();
            json!({"item": *rng.weighted(&items), "stock": rng.int(1, 12) as f64, "lead_time_h": rng.int(24, 240) as f64})
        }
        _ => {
            json!({"skill": *rng.weighted(SKILLS), "headcount": rng.int(2, 60) as f64, "lead_time_h": rng.int(8, 72) as f64})
        }
    }
}

// ---------------------------------------------------------------- enterprises

const PRODUCTS: &[(&str, f64)] = &[("医用外科口罩", 0.35), ("KN95口罩", 0.20), ("医用防护服", 0.15), ("消毒液", 0.15), ("熔喷布", 0.15)];

const APPROVALS: &[(&str, &str)] = &[
    ("发改", "项目备案"),
    ("生态环境", "环评手续"),
    ("市场监管", "医疗器械生产许可"),
    ("市场监管", "工业产品生产许可"),
    ("药监", "第二类医疗器械备案"),
    ("应急管理", "安全生产条件审查"),
];

const PRODUCT_NOUN: &[(&str, &str)] = &[
    ("医用外科口罩", "医疗用品有限公司"),
    ("KN95口罩", "防护用品有限公司"),
    ("医用防护服", "卫生材料有限公司"),
    ("消毒液", "消毒用品有限公司"),
    ("熔喷布", "非织造材料有限公司"),
];

fn draw_enterprises(tree: &RegionTree, places: &Places, rng: &mut Rng, count: usize) -> Vec<EnterprisePlan> {
    let mut names = std::collections::BTreeSet::new();
    (0..count)
        .map(|i| {
            let county = places.shanxi_county(rng);
            let (lon, lat) = near_seat(county, rng, 0.05);
            let product = *rng.weighted(PRODUCTS);
            let noun = PRODUCT_NOUN.iter().find(|(p, _)| *p == product).map_or("有限公司", |(_, n)| *n);
            let mut name = format!("{MARK}{}{}{noun}", short_place(tree, county), rng.pick(TRADE_NAMES));
            let mut branch = 1;
            while names.contains(&name) {
                branch += 1;
                name = format!("{MARK}{}{}{noun}（{}）", short_place(tree, county), rng.pick(TRADE_NAMES), branch);
            }
            names.insert(name.clone());
            // Cases open over the first week, most in the first days.
            let opens_at = START_MS + whole_minutes(rng.unit().powf(1.8) * 7.0 * 24.0 * HOUR_MS as f64) + 8 * HOUR_MS;
            let county_name = &county.name;
            let mut team = Vec::new();
            let ordinals = ["一", "二", "三"];
            for ordinal in ordinals.iter().take(rng.int(1, 3) as usize) {
                team.push(TeamPlan { title: format!("{MARK}{county_name}工信局专班成员（{ordinal}）"), department: county.code, role: "task_force", after_h: 0.0 });
            }
            if let Some(city) = tree.city_of(county.code).filter(|_| rng.chance(0.4)) {
                team.push(TeamPlan { title: format!("{MARK}{}工信局驻企干部", city.name), department: city.code, role: "stationed_cadre", after_h: rng.range(12.0, 48.0) });
            }
            if rng.chance(0.1) {
                team.push(TeamPlan { title: format!("{MARK}山西省工信厅特派员"), department: RegionCode::new_unchecked(SHANXI), role: "commissioner", after_h: rng.range(24.0, 120.0) });
            }
            let mut approvals = Vec::new();
            if rng.chance(0.3) {
                let mut taken = Vec::new();
                for _ in 0..rng.int(1, 3) {
                    let (agency, item) = *rng.pick(APPROVALS);
                    if taken.contains(&item) {
                        continue;
                    }
                    taken.push(item);
                    let opened_h = rng.range(2.0, 30.0);
                    let in_progress_h = opened_h + rng.range(0.5, 6.0);
                    approvals.push(ApprovalPlan { agency, item, opened_h, in_progress_h, approved_h: in_progress_h + rng.range(12.0, 200.0) });
                }
            }
            let capacity_per_day = match product {
                "消毒液" => (rng.int(5, 60) * 1_000) as f64,
                "熔喷布" => rng.int(1, 12) as f64,
                "医用防护服" => (rng.int(2, 30) * 1_000) as f64,
                _ => (rng.int(5, 100) * 10_000) as f64,
            };
            EnterprisePlan {
                name,
                credit_code: credit_code(county.code, i),
                county: county.code,
                lon,
                lat,
                product,
                opens_at,
                capacity_per_day,
                first_output_after_d: rng.int(3, 20),
                team,
                approvals,
                weight: 0.3 + rng.exponential(1.0),
            }
        })
        .collect()
}

/// A valid GB 32100-2015 code: 9 (工商) 1 (企业), the county, `MAEX` and the enterprise's number in
/// base 31, and the check character. `MAEX` keeps them apart from the reference case's code.
fn credit_code(county: RegionCode, index: usize) -> String {
    const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut number = String::new();
    let mut n = index;
    for _ in 0..5 {
        number.insert(0, ALPHABET[n % 31] as char);
        n /= 31;
    }
    let first17 = format!("91{county}MAEX{number}");
    let check = check_character(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

fn whole_minutes(ms: f64) -> i64 {
    ((ms / 60_000.0).floor() as i64) * 60_000
}

// ---------------------------------------------------------------- needs

/// Kinds of need of an enterprise making `product`, by weight.
fn need_kinds(product: &str) -> Vec<(NeedKind, f64)> {
    let sterilises = matches!(product, "医用外科口罩" | "KN95口罩" | "医用防护服");
    let slits = matches!(product, "医用外科口罩" | "KN95口罩");
    vec![
        (NeedKind::RawMaterial, 0.24),
        (NeedKind::Sterilisation, if sterilises { 0.13 } else { 0.0 }),
        (NeedKind::Slitting, if slits { 0.08 } else { 0.0 }),
        (NeedKind::Testing, 0.09),
        (NeedKind::Equipment, 0.12),
        (NeedKind::Labour, 0.08),
        (NeedKind::Logistics, 0.11),
        (NeedKind::Permit, 0.05),
        (NeedKind::TrafficPass, 0.07),
        (NeedKind::Other, 0.03),
    ]
}

fn materials_of(product: &str) -> Vec<(&'static str, f64)> {
    match product {
        "消毒液" => vec![("次氯酸钠", 0.5), ("医用酒精", 0.3), ("医用包装材料", 0.2)],
        "熔喷布" => vec![("聚丙烯熔喷专用料", 0.7), ("医用包装材料", 0.3)],
        "医用防护服" => vec![("无纺布", 0.5), ("热风棉", 0.2), ("医用包装材料", 0.3)],
        _ => vec![("熔喷布", 0.35), ("无纺布", 0.25), ("鼻梁条", 0.12), ("耳带", 0.12), ("热风棉", 0.08), ("医用包装材料", 0.08)],
    }
}

fn items_of(product: &str) -> Vec<(&'static str, f64)> {
    match product {
        "消毒液" => vec![("包装机", 0.6), ("消毒柜", 0.2), ("红外测温仪", 0.2)],
        "熔喷布" => vec![("熔喷布生产线", 0.6), ("包装机", 0.2), ("红外测温仪", 0.2)],
        "医用防护服" => vec![("防护服压条机", 0.5), ("超声波焊接机", 0.2), ("消毒柜", 0.2), ("包装机", 0.1)],
        "KN95口罩" => vec![("N95口罩机", 0.35), ("口罩生产线", 0.2), ("耳带焊接机", 0.15), ("超声波焊接机", 0.1), ("消毒柜", 0.1), ("包装机", 0.1)],
        _ => vec![("平面口罩机", 0.3), ("口罩生产线", 0.2), ("耳带焊接机", 0.2), ("超声波焊接机", 0.1), ("消毒柜", 0.1), ("包装机", 0.1)],
    }
}

const GOODS: &[&str] = &["熔喷布", "成品口罩", "生产线设备", "防护服面料", "消毒液原料", "包装材料"];
const PERMITS: &[&str] = &["医疗器械生产许可证变更", "排污许可", "营业执照经营范围变更", "消防验收", "特种设备使用登记"];
const OTHER: &[&str] = &["员工返岗隔离期间食宿", "厂房临时租赁", "流动资金贷款贴息", "员工防疫物资"];

fn draw_needs(tree: &RegionTree, places: &Places, enterprises: &[EnterprisePlan], rng: &mut Rng, count: usize) -> Vec<NeedPlan> {
    let by_weight = Weighted::new(enterprises.iter().map(|e| e.weight));
    let mut needs: Vec<NeedPlan> = (0..count)
        .map(|_| {
            let e = by_weight.draw(rng);
            let enterprise = &enterprises[e];
            // Between two hours after the case opens and six before the end, more as the month goes on.
            let from = enterprise.opens_at + 2 * HOUR_MS;
            let span = (END_MS - 6 * HOUR_MS - from).max(HOUR_MS) as f64;
            let at = from + whole_minutes(rng.unit().powf(0.85) * span);
            let kind = *rng.weighted(&need_kinds(enterprise.product));
            let input = need_input(tree, places, enterprise, kind, at, rng);
            let reporter = if rng.chance(0.65) { Reporter::Officer } else { Reporter::Enterprise };
            NeedPlan { enterprise: e, at, reporter, input, fate: draw_fate(kind, rng) }
        })
        .collect();
    needs.sort_by_key(|n| n.at);
    needs
}

fn need_input(tree: &RegionTree, places: &Places, enterprise: &EnterprisePlan, kind: NeedKind, at: i64, rng: &mut Rng) -> NewNeed {
    let product = enterprise.product;
    let deadline = rng.chance(0.75).then(|| crate::from_millis(at + whole_minutes(rng.range(24.0, 240.0) * HOUR_MS as f64)));
    let mut need = NewNeed { kind: kind.as_str().into(), deadline, requires: json!({}), specification: NOTE.into(), ..NewNeed::default() };
    match kind {
        NeedKind::Sterilisation => {
            let quantity = (rng.int(2, 30) * 10_000) as f64;
            need.title = format!("{MARK}{product}成品灭菌（{}万件）", quantity / 10_000.0);
            need.quantity = quantity;
            need.unit = "件".into();
            need.requires = match rng.unit() {
                x if x < 0.45 => json!({}),
                x if x < 0.80 => json!({"methods": ["co60", "ebeam"]}),
                _ => json!({"methods": ["eo"]}),
            };
            if rng.chance(0.5) {
                need.max_lead_time_h = Some(rng.int(48, 240) as f64);
            }
            if rng.chance(0.3) {
                need.max_distance_km = Some(rng.int(150, 600) as f64);
            }
        }
        NeedKind::Slitting => {
            let input = *rng.weighted(&[(1.6, 0.35), (1.75, 0.25), (2.4, 0.25), (3.2, 0.15)]);
            let output = *rng.weighted(&[(0.175, 0.45), (0.195, 0.25), (0.25, 0.15), (1.4, 0.15)]);
            need.title = format!("{MARK}熔喷布分切（{input} m 分切至 {output} m）");
            need.quantity = rng.int(5, 100) as f64;
            need.unit = "卷".into();
            need.requires = json!({"input_width_m": input, "output_width_m": output});
            if rng.chance(0.3) {
                need.max_distance_km = Some(rng.int(50, 300) as f64);
            }
        }
        NeedKind::Testing => {
            let standard = *rng.weighted(STANDARDS);
            need.title = format!("{MARK}样品送检（{standard}）");
            need.quantity = 1.0;
            need.unit = "批".into();
            need.requires = json!({"standard": standard});
            if rng.chance(0.4) {
                need.max_lead_time_h = Some(rng.int(24, 120) as f64);
            }
        }
        NeedKind::RawMaterial => {
            let material = *rng.weighted(&materials_of(product));
            let tonnes = round1(rng.exponential(4.0) + 0.5);
            need.title = format!("{MARK}{material}采购（{tonnes} 吨）");
            need.quantity = tonnes;
            need.unit = "吨".into();
            need.requires = json!({"material": material});
        }
        NeedKind::Equipment => {
            let item = *rng.weighted(&items_of(product));
            let quantity = rng.int(1, 5) as f64;
            need.title = format!("{MARK}{item}采购（{quantity} 台）");
            need.quantity = quantity;
            need.unit = "台".into();
            need.requires = json!({"item": item});
        }
        NeedKind::Labour => {
            let skill = *rng.weighted(SKILLS);
            let quantity = rng.int(2, 20) as f64;
            need.title = format!("{MARK}招用{skill}（{quantity} 人）");
            need.quantity = quantity;
            need.unit = "人".into();
            need.requires = json!({"skill": skill});
        }
        NeedKind::Logistics => {
            let goods = *rng.pick(GOODS);
            need.quantity = rng.int(1, 10) as f64;
            need.unit = "车".into();
            // From another county of Shanxi, or from another province (then a letter).
            let from = match rng.unit() {
                x if x < 0.35 => None,
                x if x < 0.70 => Some(places.shanxi_county(rng)),
                _ => {
                    let province = places.province_index(*rng.weighted(&MACHINE_MAKERS)).unwrap_or(0);
                    Some(places.place_in(province, rng))
                }
            };
            need.title = match from {
                Some(place) => format!("{MARK}{goods}自{}运抵受阻", tree.full_name(place.code)),
                None => format!("{MARK}{goods}运输车辆不足"),
            };
            need.solution_region = from.map(|p| p.code.to_string());
        }
        NeedKind::Permit => {
            need.title = format!("{MARK}{}", rng.pick(PERMITS));
            need.quantity = 1.0;
            need.unit = "项".into();
        }
        NeedKind::TrafficPass => {
            need.title = format!("{MARK}运输车辆通行证");
            need.quantity = rng.int(1, 6) as f64;
            need.unit = "车".into();
            need.solution_region = Some(enterprise.county.to_string());
        }
        NeedKind::Other => {
            need.title = format!("{MARK}{}", rng.pick(OTHER));
            need.quantity = 1.0;
            need.unit = "项".into();
        }
    }
    need
}

fn draw_fate(kind: NeedKind, rng: &mut Rng) -> Fate {
    // Most owners act within hours; some needs stall for days (and escalate meanwhile).
    let first_action_h = match rng.unit() {
        x if x < 0.05 => rng.range(160.0, 400.0),
        x if x < 0.20 => rng.range(26.0, 160.0),
        _ => 0.25 + rng.exponential(4.0).min(20.0),
    };
    let cancel_at_step = match rng.unit() {
        x if x < 0.02 => Some(1),
        x if x < 0.04 => Some(2),
        x if x < 0.05 => Some(3),
        _ => None,
    };
    Fate {
        first_action_h,
        select_h: 0.1 + rng.exponential(2.0).min(12.0),
        rank: *rng.weighted(&[(0usize, 0.75), (1, 0.15), (2, 0.10)]),
        start_h: 1.0 + rng.exponential(16.0).min(96.0),
        // Most are done in days; a fifth are hard and take weeks.
        resolve_h: if rng.chance(0.2) { rng.range(150.0, 600.0) } else { 6.0 + rng.exponential(72.0).min(300.0) },
        cancel_at_step,
        manual_escalation_h: rng.chance(0.03).then(|| rng.range(2.0, 20.0)),
        broadcast: rng.chance(0.6),
        shipment: matches!(kind, NeedKind::RawMaterial | NeedKind::Equipment | NeedKind::Logistics) && rng.chance(0.35),
        letter_sent_h: rng.range(1.0, 8.0),
        letter_ack_h: rng.range(12.0, 72.0),
    }
}

// ---------------------------------------------------------------- daily returns

fn draw_returns(enterprises: &[EnterprisePlan], rng: &mut Rng) -> Vec<ReturnPlan> {
    let mut out = Vec::new();
    for (e, enterprise) in enterprises.iter().enumerate() {
        let opened_day = china_day_index(enterprise.opens_at);
        let mut stock = 0.0;
        for day in (opened_day + 1)..super::DAYS {
            let running = day - opened_day - enterprise.first_output_after_d;
            let ramp = if running < 0 { 0.0 } else { ((running + 1) as f64 / 5.0).min(1.0) };
            let capacity = enterprise.capacity_per_day * if running < 0 { 0.0 } else { 1.0 };
            let output = (capacity * ramp * rng.range(0.75, 1.0)).round();
            let stock_before = stock;
            stock = (stock * 0.4 + output * 0.3).round();
            let shipped = stock_before + output - stock;
            // Filed in the evening, between 18:00 and 22:00 UTC+8.
            let at = START_MS + day * 24 * HOUR_MS + 18 * HOUR_MS + whole_minutes(rng.range(0.0, 4.0) * HOUR_MS as f64);
            out.push(ReturnPlan { enterprise: e, at, day: china_date(day), product: enterprise.product, capacity_per_day: capacity, output, stock, shipped });
        }
    }
    out
}

/// Whole days since the start of the exercise (UTC+8) of a moment.
fn china_day_index(at: i64) -> i64 {
    (at - START_MS).div_euclid(24 * HOUR_MS)
}

/// The date (UTC+8) of the exercise's day `day`.
fn china_date(day: i64) -> String {
    let start = crate::from_millis(START_MS + bangfu_core::china_time::OFFSET_MS).date_naive();
    (start + chrono::Days::new(u64::try_from(day).unwrap_or(0))).format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bangfu_core::credit_code::CreditCode;

    fn small() -> World {
        draw(RegionTree::embedded(), super::super::SEED, Size::fraction(0.01).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn the_same_seed_draws_the_same_world() {
        let (a, b) = (small(), small());
        assert_eq!(format!("{:?}", a.needs), format!("{:?}", b.needs));
        assert_eq!(a.registry.iter().map(|f| &f.jsonl).collect::<Vec<_>>(), b.registry.iter().map(|f| &f.jsonl).collect::<Vec<_>>());
    }

    #[test]
    fn credit_codes_are_valid_and_distinct() {
        let world = small();
        let mut codes: Vec<&str> = world.enterprises.iter().map(|e| e.credit_code.as_str()).collect();
        for code in &codes {
            CreditCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), world.enterprises.len());
    }

    #[test]
    fn every_enterprise_is_in_shanxi_and_every_name_is_marked() {
        let tree = RegionTree::embedded();
        let world = small();
        for e in &world.enterprises {
            assert_eq!(tree.province_of(e.county).map(|p| p.code.as_u32()), Some(SHANXI));
            assert!(e.name.starts_with(MARK), "{}", e.name);
        }
        assert!(world.needs.iter().all(|n| n.input.title.starts_with(MARK)));
        assert!(world.registry.iter().all(|f| f.jsonl.lines().all(|l| l.contains(&format!("\"name\":\"{MARK}")))));
    }

    #[test]
    fn the_registry_has_the_asked_size_and_every_kind() {
        let world = small();
        assert_eq!(world.capabilities(), 1_000);
        for (kind, _) in CAPABILITY_KINDS {
            assert!(world.registry.iter().any(|f| f.jsonl.contains(&format!("\"kind\":\"{}\"", kind.as_str()))), "{kind}");
        }
    }

    #[test]
    fn dates_of_returns_follow_the_days_of_the_exercise() {
        assert_eq!(china_date(0), "2020-02-01");
        assert_eq!(china_date(29), "2020-03-01");
    }
}
