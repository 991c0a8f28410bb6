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
}

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

/// The scope of a solution in `solution` for an enterprise in `enterprise`, ignoring the kind.
pub fn scope_between(tree: &RegionTree, enterprise: RegionCode, solution: RegionCode) -> Result<Scope, RouteError> {
    let e_province = tree.province_of(enterprise).ok_or(RouteError::UnknownRegion(enterprise))?.code;
    let s_province = tree.province_of(solution).ok_or(RouteError::UnknownRegion(solution))?.code;
    if tree.department_region(enterprise) == tree.department_region(solution) {
        return Ok(Scope::Local);
    }
    let e_city = tree.city_of(enterprise).map(|r| r.code);
    if e_city.is_some() && e_city == tree.city_of(solution).map(|r| r.code) {
        return Ok(Scope::City);
    }
    if e_province == s_province {
        return Ok(Scope::Province);
    }
    Ok(Scope::National)
}

/// The department that owns a need of `scope` for an enterprise in `enterprise`.
pub fn owner_for(tree: &RegionTree, policy: &RoutingPolicy, enterprise: RegionCode, scope: Scope) -> Result<RegionCode, RouteError> {
    let province = tree.province_of(enterprise).ok_or(RouteError::UnknownRegion(enterprise))?.code;
    Ok(match policy.owner_tier(scope) {
        Tier::County => tree.department_region(enterprise),
        // A county administered directly by its province has no city: its province answers.
        Tier::City => tree.city_of(enterprise).map_or(province, |c| c.code),
        Tier::Province => province,
    })
}

/// Decides scope, owner and letter for a need of `kind` raised in `enterprise` whose solution lies in `solution`.
pub fn route(
    tree: &RegionTree,
    policy: &RoutingPolicy,
    enterprise: RegionCode,
    solution: RegionCode,
    kind: Option<NeedKind>,
) -> Result<Route, RouteError> {
    let geographic = scope_between(tree, enterprise, solution)?;
    let always_local = kind.is_some_and(NeedKind::is_always_local);
    let scope = if always_local { Scope::Local } else { geographic };
    let owner = owner_for(tree, policy, enterprise, scope)?;
    let letter_to = (scope == Scope::National).then(|| tree.province_of(solution).map(|p| p.code)).flatten();
    let explanation = explain(tree, enterprise, solution, kind, scope, owner, letter_to);
    Ok(Route { scope, owner, letter_to, explanation })
}

/// The name of a department: 曲沃县工信局, 临汾市工信局, 山西省工信厅.
pub fn department_name(tree: &RegionTree, region: RegionCode) -> String {
    let region = tree.department_region(region);
    match tree.get(region) {
        Some(r) if r.level == crate::region::Level::Province => format!("{}工信厅", r.name),
        Some(r) => format!("{}工信局", r.name),
        None => region.to_string(),
    }
}

fn explain(
    tree: &RegionTree,
    enterprise: RegionCode,
    solution: RegionCode,
    kind: Option<NeedKind>,
    scope: Scope,
    owner: RegionCode,
    letter_to: Option<RegionCode>,
) -> Bilingual {
    let e = tree.full_name(enterprise);
    let s = tree.full_name(solution);
    let owner_zh = department_name(tree, owner);
    let owner_en = format!("the department of {} ({owner})", tree.get(owner).map_or("", |r| r.name.as_str()));
    if let Some(kind) = kind.filter(|k| k.is_always_local()) {
        return Bilingual::new(
            format!("{}属属地事项，无论办理地在何处（{s}），均由企业所在地{e}的{owner_zh}负责。", kind.label().zh),
            format!(
                "{} is always a local matter, wherever it is obtained ({s}): the enterprise's own region {e} answers, so {owner_en} owns it.",
                kind.label().en
            ),
        );
    }
    match scope {
        Scope::Local => Bilingual::new(
            format!("解决方在{s}，与企业同在{e}，属本地协调，由{owner_zh}负责。"),
            format!("The solution in {s} is in the enterprise's own region {e}: local scope, owned by {owner_en}."),
        ),
        Scope::City => {
            let city = tree.city_of(enterprise).map_or(String::new(), |c| c.name.clone());
            Bilingual::new(
                format!("解决方在{s}，企业在{e}，同属{city}、不在同一县区，属市内跨县协调，由{owner_zh}负责。"),
                format!(
                    "The solution in {s} and the enterprise in {e} share the city {city} but not the county: city scope, owned by {owner_en}."
                ),
            )
        }
        Scope::Province => {
            let province = tree.province_of(enterprise).map_or(String::new(), |p| p.name.clone());
            Bilingual::new(
                format!("解决方在{s}，企业在{e}，同属{province}、不在同一市，属省内跨市协调，由{owner_zh}负责。"),
                format!(
                    "The solution in {s} and the enterprise in {e} share the province {province} but not the city: province scope, owned by {owner_en}."
                ),
            )
        }
        Scope::National => {
            let to = letter_to.map_or(String::new(), |p| department_name(tree, p));
            let to_en = letter_to.map_or(String::new(), |p| format!("the department of {} ({p})", tree.get(p).map_or("", |r| r.name.as_str())));
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

    fn check(from: u32, to: u32, kind: Option<NeedKind>, scope: Scope, owner: u32, letter_to: Option<u32>) {
        let tree = RegionTree::embedded();
        let r = route(
            tree,
            &RoutingPolicy::default(),
            RegionCode::new_unchecked(from),
            RegionCode::new_unchecked(to),
            kind,
        )
        .unwrap();
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

    #[test]
    fn special_cases_of_the_tree() {
        check(110106, 110108, None, Scope::City, 110000, None); // 丰台 and 海淀: one city, Beijing's own department
        check(500101, 500229, None, Scope::City, 500000, None); // 重庆城区 and 重庆郊县 are one city
        check(441900, 442000, None, Scope::Province, 440000, None); // 东莞 → 中山
        check(441900, 441900, None, Scope::Local, 441900, None);
        check(419001, 410100, None, Scope::Province, 410000, None); // 济源 has no city
        check(429004, 429005, None, Scope::Province, 420000, None); // 仙桃 → 潜江
        check(141021, 141000, None, Scope::City, 141000, None); // a county against its own city
        check(141000, 141021, None, Scope::City, 141000, None); // an enterprise registered at a city code
        check(110106, 120101, None, Scope::National, 110000, Some(120000));
    }

    #[test]
    fn a_deployment_may_route_national_needs_to_the_city() {
        let tree = RegionTree::embedded();
        let policy = RoutingPolicy { national: Tier::City, ..RoutingPolicy::default() };
        let r = route(tree, &policy, RegionCode::new_unchecked(141021), RegionCode::new_unchecked(441900), None).unwrap();
        assert_eq!((r.scope, r.owner.as_u32(), r.letter_to.map(|c| c.as_u32())), (Scope::National, 141000, Some(440000)));
    }

    #[test]
    fn explanations_name_both_regions_in_both_languages() {
        let tree = RegionTree::embedded();
        let r = route(tree, &RoutingPolicy::default(), RegionCode::new_unchecked(141021), RegionCode::new_unchecked(140822), None).unwrap();
        for text in [&r.explanation.zh, &r.explanation.en] {
            assert!(text.contains("曲沃县") && text.contains("万荣县"), "{text}");
        }
        assert!(r.explanation.zh.contains("山西省工信厅"), "{}", r.explanation.zh);
    }
}
