//! Routing: which tier answers for a need, from where its solution lies relative to the enterprise.
//!
//! scope = where the lowest common ancestor of the two regions sits: the same region → local;
//! the same city → city; the same province → province; otherwise national. Permits and traffic
//! passes are always local. The owner follows from the scope by [`RoutingPolicy`], which is data
//! a deployment may change; a national need also names the province a letter goes to.

use crate::model::{Bilingual, NeedKind, Scope, Tier};
use crate::region::{RegionCode, RegionTree};

/// Which tier owns a need of each scope. The default: local → the enterprise's own region,
/// city → its city, province and national → its province.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingPolicy {
    pub local: Tier,
    pub city: Tier,
    pub province: Tier,
    pub national: Tier,
}

impl Default for RoutingPolicy {
    fn default() -> Self {
        RoutingPolicy { local: Tier::County, city: Tier::City, province: Tier::Province, national: Tier::Province }
    }
}

impl RoutingPolicy {
    pub fn owner_tier(&self, scope: Scope) -> Tier {
        match scope {
            Scope::Local => self.local,
            Scope::City => self.city,
            Scope::Province => self.province,
            Scope::National => self.national,
        }
    }

    fn owner_tier_mut(&mut self, scope: Scope) -> &mut Tier {
        match scope {
            Scope::Local => &mut self.local,
            Scope::City => &mut self.city,
            Scope::Province => &mut self.province,
            Scope::National => &mut self.national,
        }
    }

    /// Parses a policy written as `scope=tier` pairs, such as
    /// `local=county,city=city,province=province,national=province` (the default, which is also
    /// what [`Display`](std::fmt::Display) writes). Pairs are separated by commas, semicolons or
    /// line breaks; spaces around names are ignored. A scope left out keeps its default, so
    /// `national=city` is a complete policy. Each scope may appear once.
    pub fn parse(text: &str) -> Result<RoutingPolicy, PolicyError> {
        RoutingPolicy::default().with_overrides(text)
    }

    /// This policy with the `scope=tier` pairs of `text` written over it (see [`RoutingPolicy::parse`]).
    pub fn with_overrides(&self, text: &str) -> Result<RoutingPolicy, PolicyError> {
        let mut policy = self.clone();
        let mut seen: Vec<Scope> = Vec::new();
        for item in text.split([',', ';', '\n']).map(str::trim).filter(|item| !item.is_empty()) {
            let Some((key, value)) = item.split_once('=') else {
                return Err(PolicyError::MissingEquals { item: item.to_string() });
            };
            let (key, value) = (key.trim(), value.trim());
            let scope = Scope::parse(key).map_err(|_| PolicyError::UnknownScope { scope: key.to_string() })?;
            let tier = Tier::parse(value).map_err(|_| PolicyError::UnknownTier { scope, tier: value.to_string() })?;
            if seen.contains(&scope) {
                return Err(PolicyError::Repeated { scope });
            }
            seen.push(scope);
            *policy.owner_tier_mut(scope) = tier;
        }
        Ok(policy)
    }
}

/// The canonical text of a policy, every scope in order: what [`RoutingPolicy::parse`] reads back.
impl std::fmt::Display for RoutingPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "local={},city={},province={},national={}", self.local, self.city, self.province, self.national)
    }
}

/// Why a routing policy text did not parse; the message shows the accepted form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// An item without `=`, such as `national`.
    MissingEquals { item: String },
    /// A name before `=` that is not a scope.
    UnknownScope { scope: String },
    /// A name after `=` that is not a tier.
    UnknownTier { scope: Scope, tier: String },
    /// The same scope twice.
    Repeated { scope: Scope },
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const FORM: &str = "write scope=tier pairs such as national=city or local=county,city=city,province=province,national=province";
        match self {
            PolicyError::MissingEquals { item } => write!(f, "routing policy item {item:?} has no `=` — {FORM}"),
            PolicyError::UnknownScope { scope } => write!(
                f,
                "routing policy: unknown scope {scope:?} — expected one of: {}",
                Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
            PolicyError::UnknownTier { scope, tier } => write!(
                f,
                "routing policy: {scope}={tier} names an unknown tier — expected one of: {}",
                Tier::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
            ),
            PolicyError::Repeated { scope } => write!(f, "routing policy: scope {scope} is given twice — give each scope once"),
        }
    }
}

impl std::error::Error for PolicyError {}

/// A routing decision, with its explanation in Chinese and English.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub scope: Scope,
    /// The region whose department owns the need.
    pub owner: RegionCode,
    /// For a national need: the province of the solution, whose department receives a letter.
    pub letter_to: Option<RegionCode>,
    pub explanation: Bilingual,
}

/// Why a route could not be decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    UnknownRegion(RegionCode),
}

impl std::fmt::Display for RouteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouteError::UnknownRegion(code) => write!(f, "region {code} not found"),
        }
    }
}

impl std::error::Error for RouteError {}

/// Where a region sits, as jurisdictions: its own department's region, its city (none for a
/// province or a county under its province), its province. The municipalities' statistical rows
/// resolve to the municipality; a municipality is its own city and province.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    department: RegionCode,
    city: Option<RegionCode>,
    province: RegionCode,
}

impl Place {
    pub(crate) fn of(tree: &RegionTree, code: RegionCode) -> Result<Place, RouteError> {
        let province = tree.province_of(code).ok_or(RouteError::UnknownRegion(code))?.code;
        Ok(Place { department: tree.department_region(code), city: tree.city_of(code).map(|c| c.code), province })
    }

    /// The scope of a solution at `solution` for an enterprise here: where the lowest common
    /// ancestor of the two sits.
    pub(crate) fn scope_to(&self, solution: &Place) -> Scope {
        if self.department == solution.department {
            Scope::Local
        } else if self.city.is_some() && self.city == solution.city {
            Scope::City
        } else if self.province == solution.province {
            Scope::Province
        } else {
            Scope::National
        }
    }

    /// The department of `tier` for an enterprise here; the province when there is no city.
    fn department_of(&self, tier: Tier) -> RegionCode {
        match tier {
            Tier::County => self.department,
            Tier::City => self.city.unwrap_or(self.province),
            Tier::Province => self.province,
        }
    }
}

/// The scope of a solution in `solution` for an enterprise in `enterprise`, ignoring the kind.
pub fn scope_between(tree: &RegionTree, enterprise: RegionCode, solution: RegionCode) -> Result<Scope, RouteError> {
    Ok(Place::of(tree, enterprise)?.scope_to(&Place::of(tree, solution)?))
}

/// The department that owns a need of `scope` for an enterprise in `enterprise`.
pub fn owner_for(tree: &RegionTree, policy: &RoutingPolicy, enterprise: RegionCode, scope: Scope) -> Result<RegionCode, RouteError> {
    Ok(Place::of(tree, enterprise)?.department_of(policy.owner_tier(scope)))
}

/// The decision without its explanation: scope, owner and letter.
fn decide(policy: &RoutingPolicy, enterprise: &Place, solution: &Place, kind: Option<NeedKind>) -> (Scope, RegionCode, Option<RegionCode>) {
    let scope = if kind.is_some_and(NeedKind::is_always_local) { Scope::Local } else { enterprise.scope_to(solution) };
    let owner = enterprise.department_of(policy.owner_tier(scope));
    let letter_to = (scope == Scope::National).then_some(solution.province);
    (scope, owner, letter_to)
}

/// Decides scope, owner and letter for a need of `kind` raised in `enterprise` whose solution lies in `solution`.
///
/// For many decisions over one tree and policy, [`Router`] gives the same answers faster.
pub fn route(
    tree: &RegionTree,
    policy: &RoutingPolicy,
    enterprise: RegionCode,
    solution: RegionCode,
    kind: Option<NeedKind>,
) -> Result<Route, RouteError> {
    let (e, s) = (Place::of(tree, enterprise)?, Place::of(tree, solution)?);
    let (scope, owner, letter_to) = decide(policy, &e, &s, kind);
    let name = |code: RegionCode| tree.get(code).map_or("", |r| r.name.as_str());
    let (e_full, s_full) = (tree.full_name(enterprise), tree.full_name(solution));
    let owner_department = department_name(tree, owner);
    let letter_department = letter_to.map(|p| department_name(tree, p));
    let explanation = explain(&Facts {
        kind,
        scope,
        enterprise: &e_full,
        solution: &s_full,
        owner_department: &owner_department,
        city: e.city.map_or("", name),
        province: name(e.province),
        letter_to: letter_to.zip(letter_department.as_deref()).map(|(p, d)| (p, d, name(p))),
    });
    Ok(Route { scope, owner, letter_to, explanation })
}

/// The routing rule over one tree and policy, with every region's place and names worked out
/// once: for deciding many pairs (`bangfu route --pairs`). Gives exactly what [`route`] gives.
#[derive(Debug)]
pub struct Router<'t> {
    tree: &'t RegionTree,
    policy: RoutingPolicy,
    /// One entry per region, in the tree's order (by code).
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    code: RegionCode,
    place: Place,
    name: String,
    full_name: String,
    department_name: String,
}

impl<'t> Router<'t> {
    pub fn new(tree: &'t RegionTree, policy: RoutingPolicy) -> Router<'t> {
        let entries = tree
            .iter()
            .filter_map(|r| {
                Some(Entry {
                    code: r.code,
                    place: Place::of(tree, r.code).ok()?,
                    name: r.name.clone(),
                    full_name: tree.full_name(r.code),
                    department_name: department_name(tree, r.code),
                })
            })
            .collect();
        Router { tree, policy, entries }
    }

    pub fn tree(&self) -> &'t RegionTree {
        self.tree
    }

    pub fn policy(&self) -> &RoutingPolicy {
        &self.policy
    }

    /// Keeps the worked-out places and names, and decides by `policy` from now on.
    pub fn set_policy(&mut self, policy: RoutingPolicy) {
        self.policy = policy;
    }

    fn entry(&self, code: RegionCode) -> Result<&Entry, RouteError> {
        self.entries.binary_search_by_key(&code, |e| e.code).map(|i| &self.entries[i]).map_err(|_| RouteError::UnknownRegion(code))
    }

    /// Scope, owner and letter without the explanation.
    pub fn decide(&self, enterprise: RegionCode, solution: RegionCode, kind: Option<NeedKind>) -> Result<(Scope, RegionCode, Option<RegionCode>), RouteError> {
        Ok(decide(&self.policy, &self.entry(enterprise)?.place, &self.entry(solution)?.place, kind))
    }

    /// The same decision as [`route`].
    pub fn route(&self, enterprise: RegionCode, solution: RegionCode, kind: Option<NeedKind>) -> Result<Route, RouteError> {
        let (e, s) = (self.entry(enterprise)?, self.entry(solution)?);
        let (scope, owner, letter_to) = decide(&self.policy, &e.place, &s.place, kind);
        let name = |code: RegionCode| self.entry(code).map_or("", |e| e.name.as_str());
        let owner_entry = self.entry(owner)?;
        let letter = letter_to.map(|p| self.entry(p)).transpose()?;
        let explanation = explain(&Facts {
            kind,
            scope,
            enterprise: &e.full_name,
            solution: &s.full_name,
            owner_department: &owner_entry.department_name,
            city: e.place.city.map_or("", name),
            province: name(e.place.province),
            letter_to: letter.map(|l| (l.code, l.department_name.as_str(), l.name.as_str())),
        });
        Ok(Route { scope, owner, letter_to, explanation })
    }
}

/// The name of a department: 曲沃县工信局, 临汾市工信局, 山西省工信厅. A province's department
/// is a 厅; everyone else's, the four municipalities' included (北京市工信局), is a 局.
///
/// A county-level unit whose name another shares (城区, 鼓楼区…) or that a common word names
/// (矿区, 郊区) is named with its city:
/// 临汾市城区工信局 is never taken for another city's.
pub fn department_name(tree: &RegionTree, region: RegionCode) -> String {
    let region = tree.department_region(region);
    match tree.get(region) {
        Some(r) if is_departmental_hall(tree, r) => format!("{}工信厅", r.name),
        Some(r) if r.level == crate::region::Level::County && (tree.name_is_shared(r.code) || is_generic_district(&r.name)) => {
            let city = r.parent.and_then(|p| tree.get(p)).filter(|p| p.level == crate::region::Level::City).map_or("", |p| p.name.as_str());
            format!("{city}{}工信局", r.name)
        }
        Some(r) => format!("{}工信局", r.name),
        None => region.to_string(),
    }
}

/// A district named by a common word alone (城区, 矿区, 郊区): meaningless without its city.
fn is_generic_district(name: &str) -> bool {
    name.chars().count() <= 2 && name.ends_with('区')
}

/// Whether the department of `region` is a 厅 (a province's) rather than a 局.
pub(crate) fn is_departmental_hall(tree: &RegionTree, region: &crate::region::Region) -> bool {
    region.level == crate::region::Level::Province && !tree.is_municipality(region.code)
}

/// What an explanation says, already named.
struct Facts<'a> {
    kind: Option<NeedKind>,
    scope: Scope,
    /// Full names of the two regions: 山西省临汾市曲沃县.
    enterprise: &'a str,
    solution: &'a str,
    owner_department: &'a str,
    /// The names of the enterprise's city (empty when none) and province.
    city: &'a str,
    province: &'a str,
    /// The province written to: code, department name, name.
    letter_to: Option<(RegionCode, &'a str, &'a str)>,
}

fn explain(f: &Facts<'_>) -> Bilingual {
    let (e, s) = (f.enterprise, f.solution);
    let owner_zh = f.owner_department;
    // The department by its place, without codes: the place of 临汾市城区工信局 is 临汾市城区.
    let place_of = |department: &str| department.trim_end_matches("工信厅").trim_end_matches("工信局").to_string();
    let owner_en = format!("the industry department of {}", place_of(owner_zh));
    if let Some(kind) = f.kind.filter(|k| k.is_always_local()) {
        return Bilingual::new(
            format!("{}属属地事项，无论办理地在何处（{s}），均由企业所在地{e}的{owner_zh}负责。", kind.label().zh),
            format!(
                "{} is always a local matter, wherever it is obtained ({s}): the enterprise's own region {e} answers, so {owner_en} owns it.",
                kind.label().en
            ),
        );
    }
    match f.scope {
        Scope::Local => Bilingual::new(
            format!("解决方在{s}，与企业同在{e}，属本地协调，由{owner_zh}负责。"),
            format!("The solution in {s} is in the enterprise's own region {e}: local scope, owned by {owner_en}."),
        ),
        Scope::City => {
            let city = f.city;
            Bilingual::new(
                format!("解决方在{s}，企业在{e}，同属{city}、不在同一县区，属市内跨县协调，由{owner_zh}负责。"),
                format!(
                    "The solution in {s} and the enterprise in {e} share the city {city} but not the county: city scope, owned by {owner_en}."
                ),
            )
        }
        Scope::Province => {
            let province = f.province;
            Bilingual::new(
                format!("解决方在{s}，企业在{e}，同属{province}、不在同一市，属省内跨市协调，由{owner_zh}负责。"),
                format!(
                    "The solution in {s} and the enterprise in {e} share the province {province} but not the city: province scope, owned by {owner_en}."
                ),
            )
        }
        Scope::National => {
            let (to, to_en) = f.letter_to.map_or((String::new(), String::new()), |(_, department, _)| {
                (department.to_string(), format!("the industry department of {}", place_of(department)))
            });
            Bilingual::new(
                format!("解决方在{s}，企业在{e}，跨省协调，由{owner_zh}负责，并向{to}发函。"),
                format!(
                    "The solution in {s} is in another province than the enterprise in {e}: national scope, owned by {owner_en}, with an official letter to {to_en}."
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::{Level, Region};

    fn code(c: u32) -> RegionCode {
        RegionCode::new_unchecked(c)
    }

    fn check(from: u32, to: u32, kind: Option<NeedKind>, scope: Scope, owner: u32, letter_to: Option<u32>) {
        check_with(&RoutingPolicy::default(), from, to, kind, scope, owner, letter_to);
    }

    fn check_with(policy: &RoutingPolicy, from: u32, to: u32, kind: Option<NeedKind>, scope: Scope, owner: u32, letter_to: Option<u32>) {
        let tree = RegionTree::embedded();
        let r = route(tree, policy, code(from), code(to), kind).unwrap();
        assert_eq!(
            (r.scope, r.owner.as_u32(), r.letter_to.map(|c| c.as_u32())),
            (scope, owner, letter_to),
            "{from} → {to}: {}",
            r.explanation.en
        );
    }

    #[test]
    fn the_reference_case_routes_as_the_report_tells() {
        check(141021, 140822, Some(NeedKind::Sterilisation), Scope::Province, 140000, None); // 曲沃 → 万荣
        check(141021, 141081, Some(NeedKind::Slitting), Scope::City, 141000, None); // 曲沃 → 侯马
        check(141021, 141021, Some(NeedKind::Slitting), Scope::Local, 141021, None); // 曲沃 → 曲沃
        check(141021, 441900, Some(NeedKind::Equipment), Scope::National, 140000, Some(440000)); // 东莞
        check(141021, 110106, Some(NeedKind::Equipment), Scope::National, 140000, Some(110000)); // 丰台
        check(141021, 140100, Some(NeedKind::Permit), Scope::Local, 141021, None); // permits stay local
    }

    /// One row per special case of the tree: (from, to, kind, scope, owner, letter_to, what it shows).
    type Row = (u32, u32, Option<NeedKind>, Scope, u32, Option<u32>, &'static str);

    const SPECIAL_CASES: &[Row] = &[
        // 北京: one city; its department is 110000, never the statistical row 110100
        (110106, 110108, None, Scope::City, 110000, None, "丰台 → 海淀: two districts of one municipality"),
        (110106, 110106, None, Scope::Local, 110106, None, "丰台 → 丰台: a district against itself"),
        (110106, 110000, None, Scope::City, 110000, None, "丰台 → 北京市: a district against its municipality"),
        (110106, 110100, None, Scope::City, 110000, None, "丰台 → 110100: the statistical row is the municipality"),
        (110000, 110106, None, Scope::City, 110000, None, "an enterprise registered at 北京市 itself"),
        (110100, 110000, None, Scope::Local, 110000, None, "110100 and 110000 are one department"),
        (110000, 110000, None, Scope::Local, 110000, None, "北京市 against itself"),
        (110106, 120101, None, Scope::National, 110000, Some(120000), "北京 → 天津: two municipalities"),
        (110106, 130100, None, Scope::National, 110000, Some(130000), "北京 → 石家庄"),
        // 重庆: 城区 (500100) and 郊县 (500200) are one city
        (500101, 500229, None, Scope::City, 500000, None, "万州区 → 城口县: across the two statistical rows"),
        (500229, 500101, None, Scope::City, 500000, None, "城口县 → 万州区"),
        (500101, 500156, None, Scope::City, 500000, None, "万州区 → 武隆区"),
        (500103, 500103, None, Scope::Local, 500103, None, "渝中区 against itself"),
        (500229, 500000, None, Scope::City, 500000, None, "城口县 → 重庆市"),
        (500229, 500200, None, Scope::City, 500000, None, "城口县 → 重庆郊县 (statistical row)"),
        (500200, 500100, None, Scope::Local, 500000, None, "the two statistical rows are one department"),
        (500101, 510100, None, Scope::National, 500000, Some(510000), "重庆 → 成都"),
        // 东莞 and 中山: cities without counties
        (441900, 441900, None, Scope::Local, 441900, None, "东莞 against itself"),
        (441900, 442000, None, Scope::Province, 440000, None, "东莞 → 中山"),
        (442000, 441900, None, Scope::Province, 440000, None, "中山 → 东莞"),
        (442000, 442000, None, Scope::Local, 442000, None, "中山 against itself"),
        (441900, 440106, None, Scope::Province, 440000, None, "东莞 → 广州天河区"),
        (440106, 441900, None, Scope::Province, 440000, None, "广州天河区 → 东莞"),
        (441900, 440000, None, Scope::Province, 440000, None, "东莞 → 广东省"),
        (441900, 141021, None, Scope::National, 440000, Some(140000), "东莞 → 曲沃"),
        // 济源 and 仙桃: county-level units under their province, no city tier
        (419001, 419001, None, Scope::Local, 419001, None, "济源 against itself"),
        (419001, 410100, None, Scope::Province, 410000, None, "济源 → 郑州"),
        (410102, 419001, None, Scope::Province, 410000, None, "郑州中原区 → 济源"),
        (419001, 410000, None, Scope::Province, 410000, None, "济源 → 河南省"),
        (419001, 141021, None, Scope::National, 410000, Some(140000), "济源 → 曲沃"),
        (141021, 419001, None, Scope::National, 140000, Some(410000), "曲沃 → 济源"),
        (429004, 429004, None, Scope::Local, 429004, None, "仙桃 against itself"),
        (429004, 429005, None, Scope::Province, 420000, None, "仙桃 → 潜江: both directly under 湖北"),
        (429004, 420100, None, Scope::Province, 420000, None, "仙桃 → 武汉"),
        (420102, 429004, None, Scope::Province, 420000, None, "武汉江岸区 → 仙桃"),
        (659001, 650100, None, Scope::Province, 650000, None, "石河子 → 乌鲁木齐"),
        (469002, 460100, None, Scope::Province, 460000, None, "琼海 → 海口"),
        // a county against its own city and province; a region against itself
        (141021, 141000, None, Scope::City, 141000, None, "曲沃 → 临汾市: a county against its own city"),
        (141000, 141021, None, Scope::City, 141000, None, "an enterprise registered at the city code 临汾市"),
        (141000, 141000, None, Scope::Local, 141000, None, "临汾市 against itself"),
        (141000, 140800, None, Scope::Province, 140000, None, "临汾市 → 运城市"),
        (141021, 140000, None, Scope::Province, 140000, None, "曲沃 → 山西省: a county against its own province"),
        (140000, 141021, None, Scope::Province, 140000, None, "an enterprise registered at the province code"),
        (140000, 140000, None, Scope::Local, 140000, None, "山西省 against itself"),
        (141021, 141021, None, Scope::Local, 141021, None, "曲沃 against itself"),
        (141081, 141021, None, Scope::City, 141000, None, "侯马市 (county-level city) → 曲沃"),
        // provinces without cities in the data
        (810000, 441900, None, Scope::National, 810000, Some(440000), "香港 → 东莞"),
        (141021, 710000, None, Scope::National, 140000, Some(710000), "曲沃 → 台湾"),
        // permits and traffic passes are always local, wherever obtained
        (141021, 441900, Some(NeedKind::Permit), Scope::Local, 141021, None, "a permit from another province"),
        (141021, 110106, Some(NeedKind::TrafficPass), Scope::Local, 141021, None, "a traffic pass for a Beijing route"),
        (110106, 110108, Some(NeedKind::Permit), Scope::Local, 110106, None, "a Beijing permit stays with the district"),
        (419001, 410100, Some(NeedKind::TrafficPass), Scope::Local, 419001, None, "济源's traffic pass"),
        (141000, 141021, Some(NeedKind::Permit), Scope::Local, 141000, None, "at a city code: the city's own department"),
    ];

    #[test]
    fn special_cases_of_the_tree() {
        for &(from, to, kind, scope, owner, letter_to, what) in SPECIAL_CASES {
            let tree = RegionTree::embedded();
            let r = route(tree, &RoutingPolicy::default(), code(from), code(to), kind).unwrap();
            assert_eq!(
                (r.scope, r.owner.as_u32(), r.letter_to.map(|c| c.as_u32())),
                (scope, owner, letter_to),
                "{what} ({from} → {to}): {}",
                r.explanation.en
            );
        }
    }

    #[test]
    fn an_unknown_region_is_an_error_naming_the_code() {
        let tree = RegionTree::embedded();
        let err = route(tree, &RoutingPolicy::default(), code(141099), code(141021), None).unwrap_err();
        assert_eq!(err, RouteError::UnknownRegion(code(141099)));
        assert_eq!(err.to_string(), "region 141099 not found");
        let err = route(tree, &RoutingPolicy::default(), code(141021), code(999999), None).unwrap_err();
        assert_eq!(err, RouteError::UnknownRegion(code(999999)));
    }

    #[test]
    fn a_deployment_may_route_national_needs_to_the_city() {
        let policy = RoutingPolicy { national: Tier::City, ..RoutingPolicy::default() };
        check_with(&policy, 141021, 441900, None, Scope::National, 141000, Some(440000));
        // without a city tier the province answers
        check_with(&policy, 419001, 141021, None, Scope::National, 410000, Some(140000));
        // a municipality is its own city
        check_with(&policy, 110106, 441900, None, Scope::National, 110000, Some(440000));
    }

    #[test]
    fn a_policy_that_owns_everything_at_the_province_still_keeps_permits_local_in_scope() {
        let policy = RoutingPolicy::parse("local=province,city=province").unwrap();
        check_with(&policy, 141021, 141021, None, Scope::Local, 140000, None);
        check_with(&policy, 141021, 141081, None, Scope::City, 140000, None);
        check_with(&policy, 141021, 441900, Some(NeedKind::Permit), Scope::Local, 140000, None);
    }

    #[test]
    fn explanations_name_both_regions_in_both_languages() {
        let tree = RegionTree::embedded();
        let r = route(tree, &RoutingPolicy::default(), code(141021), code(140822), None).unwrap();
        for text in [&r.explanation.zh, &r.explanation.en] {
            assert!(text.contains("曲沃县") && text.contains("万荣县"), "{text}");
        }
        assert!(r.explanation.zh.contains("山西省工信厅"), "{}", r.explanation.zh);
    }

    #[test]
    fn every_special_case_explains_itself_in_both_languages() {
        let tree = RegionTree::embedded();
        for &(from, to, kind, ..) in SPECIAL_CASES {
            let r = route(tree, &RoutingPolicy::default(), code(from), code(to), kind).unwrap();
            let (e, s) = (tree.get(code(from)).unwrap(), tree.get(code(to)).unwrap());
            for text in [&r.explanation.zh, &r.explanation.en] {
                assert!(text.contains(&e.name) && text.contains(&s.name), "{from} → {to}: {text}");
            }
            assert!(r.explanation.zh.contains(&department_name(tree, r.owner)), "{}", r.explanation.zh);
            if let Some(to) = r.letter_to {
                assert!(r.explanation.zh.contains(&department_name(tree, to)), "{}", r.explanation.zh);
                assert!(!r.explanation.en.contains(&to.to_string()), "no region code in a sentence: {}", r.explanation.en);
            }
        }
    }

    #[test]
    fn department_names_follow_the_tier() {
        let tree = RegionTree::embedded();
        assert_eq!(department_name(tree, code(141021)), "曲沃县工信局");
        assert_eq!(department_name(tree, code(141000)), "临汾市工信局");
        assert_eq!(department_name(tree, code(140000)), "山西省工信厅");
        assert_eq!(department_name(tree, code(110000)), "北京市工信局");
        assert_eq!(department_name(tree, code(110100)), "北京市工信局");
        assert_eq!(department_name(tree, code(500200)), "重庆市工信局");
        assert_eq!(department_name(tree, code(441900)), "东莞市工信局");
    }

    #[test]
    fn a_district_whose_name_others_share_is_named_with_its_city() {
        let tree = RegionTree::embedded();
        assert_eq!(department_name(tree, code(140302)), "阳泉市城区工信局");
        assert_eq!(department_name(tree, code(140303)), "阳泉市矿区工信局");
        assert_eq!(department_name(tree, code(140502)), "晋城市城区工信局");
        assert_eq!(department_name(tree, code(141002)), "尧都区工信局", "a name of its own needs no city");
    }

    // ---- the policy as text ----

    #[test]
    fn the_default_policy_reads_back_from_its_text() {
        let text = RoutingPolicy::default().to_string();
        assert_eq!(text, "local=county,city=city,province=province,national=province");
        assert_eq!(RoutingPolicy::parse(&text), Ok(RoutingPolicy::default()));
    }

    #[test]
    fn a_partial_policy_overrides_only_what_it_names() {
        assert_eq!(
            RoutingPolicy::parse("national=city"),
            Ok(RoutingPolicy { national: Tier::City, ..RoutingPolicy::default() })
        );
        assert_eq!(RoutingPolicy::parse(""), Ok(RoutingPolicy::default()));
        assert_eq!(
            RoutingPolicy::parse(" city = province ;\nnational=city, "),
            Ok(RoutingPolicy { city: Tier::Province, national: Tier::City, ..RoutingPolicy::default() })
        );
        let base = RoutingPolicy { local: Tier::City, ..RoutingPolicy::default() };
        assert_eq!(base.with_overrides("national=county").unwrap(), RoutingPolicy { national: Tier::County, ..base.clone() });
    }

    #[test]
    fn every_policy_round_trips_through_its_text() {
        for &local in Tier::ALL {
            for &national in Tier::ALL {
                let policy = RoutingPolicy { local, national, ..RoutingPolicy::default() };
                assert_eq!(RoutingPolicy::parse(&policy.to_string()), Ok(policy));
            }
        }
    }

    #[test]
    fn a_bad_policy_says_what_is_accepted() {
        let cases: [(&str, PolicyError, &str); 4] = [
            (
                "national",
                PolicyError::MissingEquals { item: "national".into() },
                "routing policy item \"national\" has no `=` — write scope=tier pairs such as national=city",
            ),
            (
                "nation=city",
                PolicyError::UnknownScope { scope: "nation".into() },
                "routing policy: unknown scope \"nation\" — expected one of: local, city, province, national",
            ),
            (
                "national=ministry",
                PolicyError::UnknownTier { scope: Scope::National, tier: "ministry".into() },
                "routing policy: national=ministry names an unknown tier — expected one of: county, city, province",
            ),
            ("city=city,city=province", PolicyError::Repeated { scope: Scope::City }, "routing policy: scope city is given twice"),
        ];
        for (text, error, message) in cases {
            let got = RoutingPolicy::parse(text).unwrap_err();
            assert_eq!(got, error, "{text}");
            assert!(got.to_string().starts_with(message), "{text}: {got}");
            assert!(!got.to_string().ends_with('.'), "{got}");
        }
    }

    // ---- properties over random pairs of real regions ----

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::sync::OnceLock;

        /// Each region's jurisdictional chain from the province down, in departments: 丰台 is
        /// [110000, 110106], 曲沃 [140000, 141000, 141021], 济源 [410000, 419001], 110100 [110000].
        /// Built from the parent links alone, as an oracle independent of `city_of`.
        fn chain(tree: &RegionTree, region: &Region) -> Vec<RegionCode> {
            let mut up: Vec<&Region> = vec![region];
            up.extend(tree.ancestors(region.code));
            let mut out: Vec<RegionCode> = Vec::new();
            for r in up.into_iter().rev() {
                let municipal_row = r.level == Level::City && r.parent.is_some_and(|p| tree.is_municipality(p));
                if !municipal_row {
                    out.push(r.code);
                }
            }
            out
        }

        struct Fixture {
            tree: &'static RegionTree,
            regions: Vec<&'static Region>,
            chains: Vec<Vec<RegionCode>>,
            router: std::sync::Mutex<Router<'static>>,
        }

        fn fixture() -> &'static Fixture {
            static F: OnceLock<Fixture> = OnceLock::new();
            F.get_or_init(|| {
                let tree = RegionTree::embedded();
                let regions: Vec<&Region> = tree.iter().collect();
                let chains = regions.iter().map(|r| chain(tree, r)).collect();
                Fixture { tree, regions, chains, router: std::sync::Mutex::new(Router::new(tree, RoutingPolicy::default())) }
            })
        }

        /// How a solution relates to an enterprise: whether both are one department, and their
        /// lowest common ancestor in the department chains (none across provinces).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        struct Relation {
            same_department: bool,
            lca: Option<RegionCode>,
        }

        fn relation(f: &Fixture, e: usize, s: usize) -> Relation {
            let (ce, cs) = (&f.chains[e], &f.chains[s]);
            let lca = ce.iter().zip(cs).take_while(|(a, b)| a == b).last().map(|(a, _)| *a);
            Relation { same_department: ce.last() == cs.last(), lca }
        }

        /// The scope the design's rule gives from the relation alone.
        fn oracle_scope(f: &Fixture, rel: Relation) -> Scope {
            match rel.lca {
                _ if rel.same_department => Scope::Local,
                None => Scope::National,
                Some(lca) if f.tree.is_municipality(lca) => Scope::City,
                Some(lca) => match f.tree.get(lca).map(|r| r.level) {
                    Some(Level::Province) => Scope::Province,
                    _ => Scope::City,
                },
            }
        }

        fn any_kind() -> impl Strategy<Value = Option<NeedKind>> {
            proptest::option::of(proptest::sample::select(NeedKind::ALL))
        }

        fn any_policy() -> impl Strategy<Value = RoutingPolicy> {
            let tier = || proptest::sample::select(Tier::ALL);
            (tier(), tier(), tier(), tier()).prop_map(|(local, city, province, national)| RoutingPolicy { local, city, province, national })
        }

        fn region_index() -> impl Strategy<Value = usize> {
            0..fixture().regions.len()
        }

        /// An enterprise and a solution: half the time anywhere, half the time in the
        /// enterprise's own province, so that local, city and province pairs come up often.
        fn pair() -> impl Strategy<Value = (usize, usize)> {
            region_index().prop_flat_map(|e| {
                let f = fixture();
                let province = f.chains[e][0];
                let near: Vec<usize> = (0..f.regions.len()).filter(|&t| f.chains[t][0] == province).collect();
                (Just(e), prop_oneof![region_index(), proptest::sample::select(near)])
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            #[test]
            fn the_scope_is_the_one_the_lowest_common_ancestor_gives((e, s) in pair()) {
                let f = fixture();
                let r = route(f.tree, &RoutingPolicy::default(), f.regions[e].code, f.regions[s].code, None).unwrap();
                let rel = relation(f, e, s);
                prop_assert_eq!(r.scope, oracle_scope(f, rel), "{:?}", rel);
                let expected_owner = match r.scope {
                    Scope::Local => *f.chains[e].last().unwrap(),
                    Scope::City => rel.lca.unwrap(),
                    Scope::Province | Scope::National => f.chains[e][0],
                };
                prop_assert_eq!(r.owner, expected_owner);
            }

            #[test]
            fn another_solution_with_the_same_relation_routes_the_same(
                (e, s) in pair(),
                pick in any::<proptest::sample::Index>(),
                kind in any_kind(),
                policy in any_policy(),
            ) {
                let f = fixture();
                let rel = relation(f, e, s);
                let same: Vec<usize> = (0..f.regions.len()).filter(|&t| relation(f, e, t) == rel).collect();
                let t = same[pick.index(same.len())];
                let a = route(f.tree, &policy, f.regions[e].code, f.regions[s].code, kind).unwrap();
                let b = route(f.tree, &policy, f.regions[e].code, f.regions[t].code, kind).unwrap();
                prop_assert_eq!((a.scope, a.owner), (b.scope, b.owner), "{} and {} relate to {} alike", f.regions[s].code, f.regions[t].code, f.regions[e].code);
                prop_assert_eq!(a.letter_to.is_some(), b.letter_to.is_some());
                if let Some(to) = b.letter_to {
                    prop_assert_eq!(to, f.chains[t][0]);
                }
            }

            #[test]
            fn permits_and_traffic_passes_are_always_local(
                (e, s) in pair(),
                kind in proptest::sample::select(vec![NeedKind::Permit, NeedKind::TrafficPass]),
            ) {
                let f = fixture();
                let r = route(f.tree, &RoutingPolicy::default(), f.regions[e].code, f.regions[s].code, Some(kind)).unwrap();
                prop_assert_eq!(r.scope, Scope::Local);
                prop_assert_eq!(r.owner, f.tree.department_region(f.regions[e].code));
                prop_assert_eq!(r.letter_to, None);
            }

            #[test]
            fn the_owner_is_always_the_enterprise_s_own_department_or_above_it(
                (e, s) in pair(),
                kind in any_kind(),
                policy in any_policy(),
            ) {
                let f = fixture();
                let enterprise = f.regions[e].code;
                let r = route(f.tree, &policy, enterprise, f.regions[s].code, kind).unwrap();
                prop_assert!(f.tree.jurisdiction_contains(r.owner, enterprise), "owner {} of {}", r.owner, enterprise);
                prop_assert!(f.chains[e].contains(&r.owner), "owner {} not in {:?}", r.owner, f.chains[e]);
            }

            #[test]
            fn a_letter_goes_out_exactly_for_national_needs(
                (e, s) in pair(),
                kind in any_kind(),
                policy in any_policy(),
            ) {
                let f = fixture();
                let r = route(f.tree, &policy, f.regions[e].code, f.regions[s].code, kind).unwrap();
                prop_assert_eq!(r.letter_to.is_some(), r.scope == Scope::National);
                if let Some(to) = r.letter_to {
                    prop_assert_eq!(to, f.chains[s][0]);
                    prop_assert_ne!(to, f.chains[e][0]);
                }
            }

            #[test]
            fn the_router_decides_exactly_as_route_does(
                (e, s) in pair(),
                kind in any_kind(),
                policy in any_policy(),
            ) {
                let f = fixture();
                let mut router = f.router.lock().unwrap();
                router.set_policy(policy.clone());
                let (a, b) = (f.regions[e].code, f.regions[s].code);
                let slow = route(f.tree, &policy, a, b, kind).unwrap();
                prop_assert_eq!(&router.route(a, b, kind).unwrap(), &slow);
                prop_assert_eq!(router.decide(a, b, kind).unwrap(), (slow.scope, slow.owner, slow.letter_to));
            }

            #[test]
            fn routing_is_symmetric_in_scope((e, s) in pair()) {
                let f = fixture();
                let (a, b) = (f.regions[e].code, f.regions[s].code);
                let there = route(f.tree, &RoutingPolicy::default(), a, b, None).unwrap();
                let back = route(f.tree, &RoutingPolicy::default(), b, a, None).unwrap();
                prop_assert_eq!(there.scope, back.scope);
            }
        }
    }
}
