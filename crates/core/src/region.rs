//! The GB/T 2260 region tree: province, city (prefecture level) and county (county level),
//! embedded from `data/regions.csv` (sources and licences in `data/regions.SOURCE.md`).
//!
//! Besides lookups by code and by name (simplified or traditional Chinese), this module knows the
//! special cases that decide jurisdiction:
//! - the four municipalities (北京, 天津, 上海, 重庆) are one city each: their statistical
//!   `x100`/`x200` rows are not separate cities, and the municipality's own code stands for both
//!   its city and its province tier;
//! - a city without counties (东莞, 中山, 儋州, 嘉峪关) is a city with no children;
//! - a county-level unit administered directly by a province (济源, 仙桃, …) has no city.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use crate::hanzi;

/// A six-digit GB/T 2260 code, such as 141021 (曲沃县).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode(u32);

impl RegionCode {
    /// Wraps a number without checking it against the tree; use [`RegionTree::parse_code`] for input.
    pub const fn new_unchecked(code: u32) -> RegionCode {
        RegionCode(code)
    }

    pub fn as_u32(self) -> u32 {
        self.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

/// In JSON, the six digits as text (`"141021"`), as stored.
impl serde::Serialize for RegionCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The level of a region in the tree, as the data gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Province,
    City,
    County,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
        }
    }
}

/// One administrative unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub level: Level,
    pub parent: Option<RegionCode>,
    /// Seat of government, GCJ-02 degrees; absent for 26 recent units (see regions.SOURCE.md).
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

/// Why a code or name did not resolve, with suggestions a person can act on.
#[derive(Clone, Debug, PartialEq)]
pub enum RegionError {
    /// The text is not six digits.
    Malformed { input: String },
    /// Six digits, but no such region; `suggestions` are the nearest existing codes.
    UnknownCode { code: String, suggestions: Vec<(RegionCode, String)> },
    /// No region has this name.
    UnknownName { name: String, suggestions: Vec<(RegionCode, String)> },
}

impl fmt::Display for RegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(s: &[(RegionCode, String)]) -> String {
            s.iter().map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join(", ")
        }
        match self {
            RegionError::Malformed { input } => write!(
                f,
                "region code {input:?} is not six digits — give a GB/T 2260 code such as 141021 (曲沃县)"
            ),
            RegionError::UnknownCode { code, suggestions } if suggestions.is_empty() => {
                write!(f, "region {code} not found — look codes up with `bangfu region find NAME`")
            }
            RegionError::UnknownCode { code, suggestions } => {
                write!(f, "region {code} not found — did you mean {}?", list(suggestions))
            }
            RegionError::UnknownName { name, suggestions } if suggestions.is_empty() => {
                write!(f, "no region is named {name:?} — give a code or a name such as 曲沃县 or 临汾")
            }
            RegionError::UnknownName { name, suggestions } => {
                write!(f, "no region is named {name:?} — did you mean {}?", list(suggestions))
            }
        }
    }
}

impl std::error::Error for RegionError {}

/// The four municipalities directly under the central government.
const MUNICIPALITIES: [u32; 4] = [110000, 120000, 310000, 500000];

/// Suffixes stripped to find a name's stem, longest first, so that `临汾` finds `临汾市`.
const NAME_SUFFIXES: [&str; 16] = [
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "省",
    "市",
    "县",
    "区",
    "盟",
    "旗",
];

/// The whole tree, sorted by code.
#[derive(Debug)]
pub struct RegionTree {
    regions: Vec<Region>,
    /// Simplified name and name stem → indexes into `regions`.
    by_name: BTreeMap<String, Vec<usize>>,
    /// Index of a region → indexes of its children.
    children_of: Vec<Vec<usize>>,
}

static EMBEDDED: OnceLock<RegionTree> = OnceLock::new();

impl RegionTree {
    /// The tree compiled into the binary from `data/regions.csv`.
    pub fn embedded() -> &'static RegionTree {
        EMBEDDED.get_or_init(|| {
            RegionTree::from_csv(include_str!("../data/regions.csv"))
                .unwrap_or_else(|e| panic!("embedded regions.csv is invalid: {e}"))
        })
    }

    /// Parses `code,name,level,parent_code,lon,lat` with one header row.
    pub fn from_csv(text: &str) -> Result<RegionTree, String> {
        let mut regions = Vec::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let row = i + 1;
            let cols: Vec<&str> = line.split(',').collect();
            if cols.len() != 6 {
                return Err(format!("row {row}: expected 6 columns, found {}", cols.len()));
            }
            let code = cols[0].parse::<u32>().map_err(|_| format!("row {row}: bad code {:?}", cols[0]))?;
            let level = match cols[2] {
                "province" => Level::Province,
                "city" => Level::City,
                "county" => Level::County,
                other => return Err(format!("row {row}: bad level {other:?}")),
            };
            let parent = match cols[3] {
                "" => None,
                p => Some(RegionCode(p.parse().map_err(|_| format!("row {row}: bad parent {p:?}"))?)),
            };
            let coord = |s: &str| -> Result<Option<f64>, String> {
                if s.is_empty() { Ok(None) } else { s.parse().map(Some).map_err(|_| format!("row {row}: bad coordinate {s:?}")) }
            };
            regions.push(Region {
                code: RegionCode(code),
                name: cols[1].to_string(),
                level,
                parent,
                lon: coord(cols[4])?,
                lat: coord(cols[5])?,
            });
        }
        regions.sort_by_key(|r| r.code);
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in regions.iter().enumerate() {
            // Under its own name and under that name as `to_simplified` reads it (乾县 as 干县),
            // since a query is looked up converted: both sides then meet.
            let converted = hanzi::to_simplified(&r.name);
            for name in [r.name.as_str(), converted.as_str()] {
                for key in [name, name_stem(name)] {
                    if key.is_empty() {
                        continue;
                    }
                    let ix = by_name.entry(key.to_string()).or_default();
                    if ix.last() != Some(&i) {
                        ix.push(i);
                    }
                }
            }
        }
        let mut tree = RegionTree { regions, by_name, children_of: Vec::new() };
        let mut children_of = vec![Vec::new(); tree.regions.len()];
        for (i, r) in tree.regions.iter().enumerate() {
            if let Some(p) = r.parent {
                let Some(parent) = tree.index_of(p) else {
                    return Err(format!("region {} has unknown parent {p}", r.code));
                };
                children_of[parent].push(i);
            }
        }
        tree.children_of = children_of;
        Ok(tree)
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Region> {
        self.regions.iter()
    }

    pub fn get(&self, code: RegionCode) -> Option<&Region> {
        self.index_of(code).map(|i| &self.regions[i])
    }

    fn index_of(&self, code: RegionCode) -> Option<usize> {
        self.regions.binary_search_by_key(&code, |r| r.code).ok()
    }

    /// The region with this code; only for codes already known to exist.
    fn at(&self, code: RegionCode) -> &Region {
        match self.get(code) {
            Some(r) => r,
            None => panic!("region {code} is not in the tree"),
        }
    }

    /// Parses user input as a code of an existing region, suggesting near codes when it is not.
    pub fn parse_code(&self, input: &str) -> Result<RegionCode, RegionError> {
        let trimmed = input.trim();
        if trimmed.len() != 6 || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionError::Malformed { input: input.to_string() });
        }
        let code = RegionCode(trimmed.parse().map_err(|_| RegionError::Malformed { input: input.to_string() })?);
        if self.get(code).is_some() {
            return Ok(code);
        }
        Err(RegionError::UnknownCode { code: trimmed.to_string(), suggestions: self.nearest_codes(trimmed) })
    }

    /// Up to three existing codes nearest to `code`: fewest differing digits, then numerically.
    fn nearest_codes(&self, code: &str) -> Vec<(RegionCode, String)> {
        let target: u32 = code.parse().unwrap_or(0);
        let mut scored: Vec<(usize, u32, &Region)> = self
            .regions
            .iter()
            .map(|r| {
                let other = r.code.to_string();
                let differing = other.bytes().zip(code.bytes()).filter(|(a, b)| a != b).count();
                (differing, r.code.0.abs_diff(target), r)
            })
            .filter(|(d, _, _)| *d <= 2)
            .collect();
        scored.sort_by_key(|(d, diff, r)| (*d, *diff, r.code));
        scored.into_iter().take(3).map(|(_, _, r)| (r.code, r.name.clone())).collect()
    }

    /// Resolves a code or a name; a name must be unique (else the error lists the choices).
    pub fn resolve(&self, input: &str) -> Result<RegionCode, RegionError> {
        let trimmed = input.trim();
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return self.parse_code(trimmed);
        }
        let found = self.find_by_name(trimmed);
        match found.as_slice() {
            [one] => Ok(one.code),
            [] => Err(RegionError::UnknownName { name: trimmed.to_string(), suggestions: self.similar_names(trimmed) }),
            many => Err(RegionError::UnknownName {
                name: format!("{trimmed} (ambiguous: give the code)"),
                suggestions: many.iter().map(|r| (r.code, self.full_name(r.code))).collect(),
            }),
        }
    }

    /// Whether another region has exactly the name of `code` (城区 of 长治市, 阳泉市 and 晋城市;
    /// 鼓楼区 of several cities), so that a name alone does not tell which it is.
    pub fn name_is_shared(&self, code: RegionCode) -> bool {
        let Some(region) = self.get(code) else { return false };
        self.by_name.get(&region.name).is_some_and(|ix| ix.iter().filter(|&&i| self.regions[i].name == region.name).nth(1).is_some())
    }

    /// Regions whose name or name stem equals `query` (simplified or traditional), by level then code.
    /// When nothing matches exactly, regions whose name starts with the query.
    pub fn find_by_name(&self, query: &str) -> Vec<&Region> {
        let query = query.trim();
        let simplified = hanzi::to_simplified(query);
        if simplified.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<usize> = Vec::new();
        for key in [query, name_stem(query), simplified.as_str(), name_stem(&simplified)] {
            if let Some(ix) = self.by_name.get(key) {
                hits.extend(ix);
            }
        }
        if hits.is_empty() {
            hits = self
                .by_name
                .range(simplified.clone()..)
                .take_while(|(k, _)| k.starts_with(simplified.as_str()))
                .flat_map(|(_, ix)| ix.iter().copied())
                .collect();
        }
        hits.sort_unstable();
        hits.dedup();
        let mut found: Vec<&Region> = hits.into_iter().map(|i| &self.regions[i]).collect();
        found.sort_by_key(|r| (r.level, r.code));
        found
    }

    /// Names sharing a character with the query, for "did you mean" (at most three).
    fn similar_names(&self, query: &str) -> Vec<(RegionCode, String)> {
        let simplified = hanzi::to_simplified(query);
        let stem = name_stem(&simplified);
        let chars: Vec<char> = stem.chars().collect();
        if chars.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(usize, &Region)> = self
            .regions
            .iter()
            .map(|r| (chars.iter().filter(|c| r.name.contains(**c)).count(), r))
            .filter(|(n, _)| *n * 2 >= chars.len() && *n > 0)
            .collect();
        scored.sort_by_key(|(n, r)| (std::cmp::Reverse(*n), r.level, r.code));
        scored.into_iter().take(3).map(|(_, r)| (r.code, self.full_name(r.code))).collect()
    }

    /// Parent, grandparent, … up to the province.
    pub fn ancestors(&self, code: RegionCode) -> Vec<&Region> {
        let mut out = Vec::new();
        let mut next = self.get(code).and_then(|r| r.parent);
        while let Some(p) = next {
            let region = self.at(p);
            out.push(region);
            next = region.parent;
        }
        out
    }

    /// The province-level unit that holds `code` (itself for a province).
    pub fn province_of(&self, code: RegionCode) -> Option<&Region> {
        let region = self.get(code)?;
        if region.level == Level::Province {
            return Some(region);
        }
        self.ancestors(code).into_iter().find(|r| r.level == Level::Province)
    }

    pub fn is_municipality(&self, code: RegionCode) -> bool {
        MUNICIPALITIES.contains(&code.0)
    }

    /// The prefecture-level city that holds `code`, as a jurisdiction:
    /// - a county under a city → that city; a city → itself;
    /// - anything in a municipality (its districts, its statistical x100 rows, itself) → the municipality;
    /// - a county administered directly by a province, or a province → none.
    pub fn city_of(&self, code: RegionCode) -> Option<&Region> {
        let province = self.province_of(code)?;
        if self.is_municipality(province.code) {
            return Some(province);
        }
        let region = self.get(code)?;
        match region.level {
            Level::Province => None,
            Level::City => Some(region),
            Level::County => region.parent.map(|p| self.at(p)).filter(|p| p.level == Level::City),
        }
    }

    /// The region whose department stands for `code`: the municipality for its statistical x100
    /// rows, else the region itself.
    pub fn department_region(&self, code: RegionCode) -> RegionCode {
        match self.get(code) {
            Some(r) if r.level == Level::City => match self.province_of(code) {
                Some(p) if self.is_municipality(p.code) => p.code,
                _ => code,
            },
            _ => code,
        }
    }

    /// Whether the department of `department` has `code` inside its jurisdiction.
    pub fn jurisdiction_contains(&self, department: RegionCode, code: RegionCode) -> bool {
        let department = self.department_region(department);
        code == department || self.get(code).is_some_and(|region| self.has_ancestor(region, department))
    }

    /// The codes inside the jurisdiction of `department` (as [`RegionTree::jurisdiction_contains`]
    /// decides it), as runs of consecutive codes of the tree, each given by its first and last
    /// code: a code of the tree is inside the jurisdiction exactly when it lies in one of the
    /// runs. GB/T 2260 numbers a region's units under its own prefix, so this is one run in
    /// practice (141000–141082 for 临汾市); a database compares a region column against it with
    /// `BETWEEN`, which an index on the column answers. Empty for a code not in the tree.
    pub fn jurisdiction_runs(&self, department: RegionCode) -> Vec<(RegionCode, RegionCode)> {
        let Some(top) = self.index_of(self.department_region(department)) else { return Vec::new() };
        // The region and its descendants, as positions in the sorted tree.
        let mut inside = vec![top];
        let mut next = 0;
        while let Some(&i) = inside.get(next) {
            inside.extend_from_slice(&self.children_of[i]);
            next += 1;
        }
        inside.sort_unstable();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for i in inside {
            match runs.last_mut() {
                Some(run) if run.1 + 1 == i => run.1 = i,
                _ => runs.push((i, i)),
            }
        }
        runs.into_iter().map(|(first, last)| (self.regions[first].code, self.regions[last].code)).collect()
    }

    /// Whether `ancestor` is above `region` in the tree (without allocating, unlike `ancestors`).
    fn has_ancestor(&self, region: &Region, ancestor: RegionCode) -> bool {
        let mut next = region.parent;
        while let Some(code) = next {
            if code == ancestor {
                return true;
            }
            next = self.get(code).and_then(|r| r.parent);
        }
        false
    }

    /// "山西省临汾市曲沃县": the region's name prefixed with its ancestors' (the municipalities'
    /// statistical rows left out).
    pub fn full_name(&self, code: RegionCode) -> String {
        let Some(region) = self.get(code) else { return code.to_string() };
        let mut parts: Vec<&str> = self.ancestors(code).iter().rev().map(|r| r.name.as_str()).collect();
        parts.dedup();
        parts.push(region.name.as_str());
        parts.dedup();
        parts.concat()
    }

    /// Children of a region, by code.
    pub fn children(&self, code: RegionCode) -> impl Iterator<Item = &Region> {
        self.regions.iter().filter(move |r| r.parent == Some(code))
    }
}

/// The name without its administrative suffix: 临汾市 → 临汾, 曲沃县 → 曲沃.
pub fn name_stem(name: &str) -> &str {
    for suffix in NAME_SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix)
            && stem.chars().count() >= 2
        {
            return stem;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> &'static RegionTree {
        RegionTree::embedded()
    }

    fn code(c: u32) -> RegionCode {
        RegionCode(c)
    }

    #[test]
    fn the_embedded_tree_has_every_row_of_the_source() {
        let t = tree();
        assert_eq!(t.len(), 3218);
        assert_eq!(t.iter().filter(|r| r.level == Level::Province).count(), 34);
        assert_eq!(t.iter().filter(|r| r.level == Level::City).count(), 338);
        assert_eq!(t.iter().filter(|r| r.level == Level::County).count(), 2846);
    }

    #[test]
    fn lookup_by_code_returns_the_region() {
        let quwo = tree().get(code(141021)).unwrap();
        assert_eq!(quwo.name, "曲沃县");
        assert_eq!(quwo.level, Level::County);
        assert_eq!(quwo.parent, Some(code(141000)));
    }

    #[test]
    fn names_resolve_in_simplified_traditional_and_short_form() {
        let t = tree();
        assert_eq!(t.resolve("曲沃县").unwrap(), code(141021));
        assert_eq!(t.resolve("临汾").unwrap(), code(141000));
        assert_eq!(t.resolve("臨汾市").unwrap(), code(141000));
        assert_eq!(t.resolve("萬榮縣").unwrap(), code(140822));
        assert_eq!(t.resolve("赤峯市").unwrap(), code(150400), "峯, the Taiwan form of 峰");
        assert_eq!(t.resolve("衞輝市").unwrap(), code(410781), "衞, the Hong Kong form of 卫");
        assert_eq!(t.resolve("乾县").unwrap(), code(610424), "乾 is simplified already here");
        assert_eq!(t.resolve("乾縣").unwrap(), code(610424));
    }

    /// Places whose traditional name has a character that is a simplified character too
    /// (谿, 濬, 澂): OpenCC keeps it, so the traditional name does not find them.
    const NOT_FOUND_BY_TRADITIONAL_NAME: [&str; 7] = ["慈溪市", "兰溪市", "资溪县", "浚县", "竹溪县", "辰溪县", "澄江市"];

    #[test]
    fn every_region_is_found_by_its_name_and_by_its_traditional_forms() {
        use ferrous_opencc::{OpenCC, config::BuiltinConfig};
        let t = tree();
        let forms = [BuiltinConfig::S2t, BuiltinConfig::S2tw, BuiltinConfig::S2hk].map(|c| OpenCC::from_config(c).unwrap());
        for r in &t.regions {
            assert!(t.find_by_name(&r.name).iter().any(|f| f.code == r.code), "{} {}", r.code, r.name);
            for form in &forms {
                let traditional = form.convert(&r.name);
                let found = t.find_by_name(&traditional).iter().any(|f| f.code == r.code);
                let expected = !NOT_FOUND_BY_TRADITIONAL_NAME.contains(&r.name.as_str());
                assert_eq!(found, expected, "{} {} written {traditional} ({})", r.code, r.name, form.name());
            }
        }
    }

    #[test]
    fn an_ambiguous_name_lists_the_choices_with_full_names() {
        let err = tree().resolve("朝阳区").unwrap_err().to_string();
        assert!(err.contains("110105 北京市朝阳区"), "{err}");
        assert!(err.contains("220104 吉林省长春市朝阳区"), "{err}");
    }

    #[test]
    fn an_unknown_code_suggests_codes_one_digit_away() {
        let err = tree().parse_code("141099").unwrap_err();
        let RegionError::UnknownCode { suggestions, .. } = &err else { panic!("{err:?}") };
        assert!(suggestions.iter().any(|(c, n)| *c == code(141029) && n == "乡宁县"), "{suggestions:?}");
        assert!(err.to_string().starts_with("region 141099 not found — did you mean"));
    }

    #[test]
    fn a_code_that_is_not_six_digits_is_malformed() {
        assert!(matches!(tree().parse_code("14102"), Err(RegionError::Malformed { .. })));
        assert!(matches!(tree().parse_code("14102x"), Err(RegionError::Malformed { .. })));
    }

    #[test]
    fn ancestors_walk_up_to_the_province() {
        let names: Vec<&str> = tree().ancestors(code(141021)).iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["临汾市", "山西省"]);
    }

    #[test]
    fn an_ordinary_county_has_its_city_and_province() {
        let t = tree();
        assert_eq!(t.city_of(code(141021)).unwrap().code, code(141000));
        assert_eq!(t.province_of(code(141021)).unwrap().code, code(140000));
        assert_eq!(t.city_of(code(141081)).unwrap().name, "临汾市"); // 侯马市, a county-level city
    }

    #[test]
    fn a_municipality_is_one_city() {
        let t = tree();
        assert_eq!(t.city_of(code(110106)).unwrap().code, code(110000)); // 丰台区
        assert_eq!(t.city_of(code(110100)).unwrap().code, code(110000));
        assert_eq!(t.city_of(code(110000)).unwrap().code, code(110000));
        // 重庆's two statistical rows are one city
        let urban = t.children(code(500100)).next().unwrap().code;
        let rural = t.children(code(500200)).next().unwrap().code;
        assert_eq!(t.city_of(urban).unwrap().code, code(500000));
        assert_eq!(t.city_of(rural).unwrap().code, code(500000));
        assert_eq!(t.department_region(code(500200)), code(500000));
    }

    #[test]
    fn a_city_without_counties_is_its_own_city() {
        let t = tree();
        assert_eq!(t.children(code(441900)).count(), 0); // 东莞
        assert_eq!(t.city_of(code(441900)).unwrap().name, "东莞市");
        assert_eq!(t.province_of(code(442000)).unwrap().name, "广东省"); // 中山
    }

    #[test]
    fn a_county_administered_by_its_province_has_no_city() {
        let t = tree();
        assert!(t.city_of(code(419001)).is_none()); // 济源
        assert!(t.city_of(code(429004)).is_none()); // 仙桃
        assert_eq!(t.province_of(code(419001)).unwrap().code, code(410000));
    }

    #[test]
    fn a_province_has_no_city() {
        assert!(tree().city_of(code(140000)).is_none());
    }

    #[test]
    fn jurisdiction_follows_the_tree() {
        let t = tree();
        assert!(t.jurisdiction_contains(code(141000), code(141021)));
        assert!(t.jurisdiction_contains(code(140000), code(141021)));
        assert!(t.jurisdiction_contains(code(141021), code(141021)));
        assert!(!t.jurisdiction_contains(code(141081), code(141021)));
        assert!(t.jurisdiction_contains(code(110000), code(110106)));
    }

    #[test]
    fn the_jurisdiction_runs_hold_exactly_the_codes_inside_for_every_department_of_the_tree() {
        let t = tree();
        let codes: Vec<RegionCode> = t.iter().map(|r| r.code).collect();
        let province_of = |c: RegionCode| t.province_of(c).unwrap().code;
        let mut by_province: BTreeMap<RegionCode, Vec<RegionCode>> = BTreeMap::new();
        for c in &codes {
            by_province.entry(province_of(*c)).or_default().push(*c);
        }
        let mut several_runs = Vec::new();
        for department in t.iter() {
            let runs = t.jurisdiction_runs(department.code);
            // Provinces and cities against every code; a county against the codes of its province
            // (every run of a county must lie inside it too).
            let province = province_of(department.code);
            let against = match department.level {
                Level::County => {
                    assert!(runs.iter().all(|(first, last)| province_of(*first) == province && province_of(*last) == province));
                    &by_province[&province]
                }
                Level::Province | Level::City => &codes,
            };
            for code in against {
                let in_runs = runs.iter().any(|(first, last)| first <= code && code <= last);
                assert_eq!(in_runs, t.jurisdiction_contains(department.code, *code), "department {}, code {code}: runs {runs:?}", department.code);
            }
            if runs.len() != 1 {
                several_runs.push(department.code);
            }
        }
        assert!(several_runs.is_empty(), "one run per department expected, several for {several_runs:?}");
        assert_eq!(t.jurisdiction_runs(code(141000)), [(code(141000), code(141082))]);
        assert_eq!(t.jurisdiction_runs(code(141021)), [(code(141021), code(141021))]);
        assert_eq!(t.jurisdiction_runs(code(500200)), t.jurisdiction_runs(code(500000)), "a municipality's statistical row stands for it");
        assert!(t.jurisdiction_runs(code(999999)).is_empty());
    }

    #[test]
    fn full_names_skip_the_statistical_municipal_rows() {
        let t = tree();
        assert_eq!(t.full_name(code(141021)), "山西省临汾市曲沃县");
        assert_eq!(t.full_name(code(110106)), "北京市丰台区");
    }
}
