//! Capabilities (能力): what a provider can do, typed by kind, with attributes checked on input;
//! and the matching requirements (`requires`) of a need.
//!
//! Input arrives as a list of named [`AttrValue`]s (the CLI and the store map their JSON or rows
//! to it); [`CapabilityAttrs::from_attrs`] and [`Requirement::from_attrs`] turn it into a typed
//! value or say what is wrong: an unknown or missing attribute, a wrong type, a negative number,
//! an unknown sterilisation method. The typed values can also be built directly and checked with
//! `validate`.

use crate::model::NeedKind;
use crate::region::RegionCode;
use crate::travel::LonLat;
use std::fmt;

/// How a sterilisation provider sterilises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SterilisationMethod {
    /// Cobalt-60 gamma irradiation (钴-60辐照).
    Co60,
    /// Electron beam (电子束).
    Ebeam,
    /// Ethylene oxide (环氧乙烷), which needs days of degassing.
    Eo,
    /// Steam (湿热).
    Steam,
}

impl SterilisationMethod {
    pub const ALL: &'static [SterilisationMethod] =
        &[SterilisationMethod::Co60, SterilisationMethod::Ebeam, SterilisationMethod::Eo, SterilisationMethod::Steam];

    pub fn as_str(self) -> &'static str {
        match self {
            SterilisationMethod::Co60 => "co60",
            SterilisationMethod::Ebeam => "ebeam",
            SterilisationMethod::Eo => "eo",
            SterilisationMethod::Steam => "steam",
        }
    }

    pub fn parse(text: &str) -> Result<SterilisationMethod, AttrError> {
        match text.trim() {
            "co60" => Ok(SterilisationMethod::Co60),
            "ebeam" => Ok(SterilisationMethod::Ebeam),
            "eo" => Ok(SterilisationMethod::Eo),
            "steam" => Ok(SterilisationMethod::Steam),
            other => Err(AttrError::UnknownMethod { value: other.to_string() }),
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            SterilisationMethod::Co60 => "cobalt-60 irradiation",
            SterilisationMethod::Ebeam => "electron-beam irradiation",
            SterilisationMethod::Eo => "ethylene oxide",
            SterilisationMethod::Steam => "steam",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SterilisationMethod::Co60 => "钴-60辐照",
            SterilisationMethod::Ebeam => "电子束辐照",
            SterilisationMethod::Eo => "环氧乙烷",
            SterilisationMethod::Steam => "湿热",
        }
    }
}

impl fmt::Display for SterilisationMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The typed attributes of a capability; the variant is its kind.
#[derive(Clone, Debug, PartialEq)]
pub enum CapabilityAttrs {
    Sterilisation { method: SterilisationMethod, turnaround_h: f64, capacity_per_day: f64 },
    Slitting { max_input_width_m: f64, min_output_width_m: f64, turnaround_h: f64 },
    Testing { standards: Vec<String>, turnaround_h: f64 },
    RawMaterial { material: String, stock: f64, lead_time_h: f64 },
    Equipment { item: String, stock: f64, lead_time_h: f64 },
    Labour { skill: String, headcount: f64, lead_time_h: f64 },
}

/// What a need requires of a capability of its kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Requirement {
    /// `methods`: the methods allowed; none given means any.
    Sterilisation { methods: Option<Vec<SterilisationMethod>> },
    Slitting { input_width_m: f64, output_width_m: f64 },
    Testing { standard: String },
    RawMaterial { material: String },
    Equipment { item: String },
    Labour { skill: String },
}

/// One capability in the registry: a provider, where it is, whether it takes work now, and what
/// it can do. `P` identifies the provider (or provider and capability) for the caller: a
/// `ProviderId` from the store, the text id of a JSONL line; rankings break ties by it.
#[derive(Clone, Debug, PartialEq)]
pub struct Capability<P> {
    pub provider: P,
    pub name: String,
    pub region: RegionCode,
    pub at: LonLat,
    pub available: bool,
    pub attrs: CapabilityAttrs,
}

impl<P> Capability<P> {
    pub fn kind(&self) -> NeedKind {
        self.attrs.kind()
    }
}

/// An attribute value as parsed from the input, before it is typed.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    Number(f64),
    Text(String),
    TextList(Vec<String>),
    /// Anything else; the text names what it was ("true", "an object", …).
    Other(String),
}

/// Why attributes or a requirement were refused. Messages name the attribute and the fix.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrError {
    /// The kind has no capabilities in the registry (permit, logistics, …).
    NotACapabilityKind { kind: NeedKind },
    Unknown { kind: NeedKind, name: String, expected: &'static [&'static str] },
    Missing { kind: NeedKind, name: &'static str, expected: &'static [&'static str] },
    WrongType { name: String, expected: &'static str, found: String },
    Negative { name: String, value: f64 },
    NotPositive { name: String, value: f64 },
    NotFinite { name: String },
    Empty { name: String },
    UnknownMethod { value: String },
    /// The values contradict each other.
    Inconsistent { message: String },
}

impl fmt::Display for AttrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrError::NotACapabilityKind { kind } => write!(
                f,
                "kind {kind} has no capabilities in the registry — expected one of: {}",
                capability_kinds().join(", ")
            ),
            AttrError::Unknown { kind, name, expected } => {
                write!(f, "unknown attribute {name:?} for {kind} — expected: {}", expected.join(", "))
            }
            AttrError::Missing { kind, name, expected } => {
                write!(f, "missing attribute {name:?} for {kind} (attributes: {})", expected.join(", "))
            }
            AttrError::WrongType { name, expected, found } => write!(f, "attribute {name:?} must be {expected}, found {found}"),
            AttrError::Negative { name, value } => write!(f, "{name} is {value}, must not be negative"),
            AttrError::NotPositive { name, value } => write!(f, "{name} is {value}, must be greater than 0"),
            AttrError::NotFinite { name } => write!(f, "{name} must be a finite number"),
            AttrError::Empty { name } => write!(f, "{name} must not be empty"),
            AttrError::UnknownMethod { value } => write!(
                f,
                "unknown sterilisation method {value:?} — expected one of: {}",
                SterilisationMethod::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
            ),
            AttrError::Inconsistent { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for AttrError {}

fn capability_kinds() -> Vec<&'static str> {
    NeedKind::ALL.iter().filter(|k| k.has_capabilities()).map(|k| k.as_str()).collect()
}

/// Checks a number: finite, and not negative (`positive`: greater than 0).
pub fn check_number(name: &str, value: f64, positive: bool) -> Result<f64, AttrError> {
    if !value.is_finite() {
        return Err(AttrError::NotFinite { name: name.to_string() });
    }
    if value < 0.0 {
        return Err(AttrError::Negative { name: name.to_string(), value });
    }
    if positive && value == 0.0 {
        return Err(AttrError::NotPositive { name: name.to_string(), value });
    }
    Ok(value)
}

fn check_text(name: &str, value: &str) -> Result<(), AttrError> {
    if value.trim().is_empty() { Err(AttrError::Empty { name: name.to_string() }) } else { Ok(()) }
}

/// Named attributes being typed: each is taken once; what is left over is unknown.
struct Reader<'a> {
    kind: NeedKind,
    expected: &'static [&'static str],
    attrs: &'a [(String, AttrValue)],
}

impl<'a> Reader<'a> {
    fn new(kind: NeedKind, expected: &'static [&'static str], attrs: &'a [(String, AttrValue)]) -> Result<Self, AttrError> {
        if let Some((name, _)) = attrs.iter().find(|(name, _)| !expected.contains(&name.as_str())) {
            return Err(AttrError::Unknown { kind, name: name.clone(), expected });
        }
        Ok(Reader { kind, expected, attrs })
    }

    fn get(&self, name: &'static str) -> Option<&'a AttrValue> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn required(&self, name: &'static str) -> Result<&'a AttrValue, AttrError> {
        self.get(name).ok_or(AttrError::Missing { kind: self.kind, name, expected: self.expected })
    }

    fn number(&self, name: &'static str) -> Result<f64, AttrError> {
        match self.required(name)? {
            AttrValue::Number(n) => Ok(*n),
            other => Err(wrong_type(name, "a number", other)),
        }
    }

    fn text(&self, name: &'static str) -> Result<String, AttrError> {
        match self.required(name)? {
            AttrValue::Text(t) => Ok(t.trim().to_string()),
            other => Err(wrong_type(name, "text", other)),
        }
    }

    fn text_list(&self, name: &'static str) -> Result<Option<Vec<String>>, AttrError> {
        match self.get(name) {
            None => Ok(None),
            Some(AttrValue::TextList(list)) => Ok(Some(list.iter().map(|t| t.trim().to_string()).collect())),
            // A single text is a list of one.
            Some(AttrValue::Text(t)) => Ok(Some(vec![t.trim().to_string()])),
            Some(other) => Err(wrong_type(name, "a list of text", other)),
        }
    }
}

fn wrong_type(name: &str, expected: &'static str, found: &AttrValue) -> AttrError {
    let found = match found {
        AttrValue::Number(n) => format!("the number {n}"),
        AttrValue::Text(t) => format!("the text {t:?}"),
        AttrValue::TextList(_) => "a list".to_string(),
        AttrValue::Other(what) => what.clone(),
    };
    AttrError::WrongType { name: name.to_string(), expected, found }
}

impl CapabilityAttrs {
    /// The attribute names of each kind, in the order of the issue.
    pub fn attribute_names(kind: NeedKind) -> Option<&'static [&'static str]> {
        Some(match kind {
            NeedKind::Sterilisation => &["method", "turnaround_h", "capacity_per_day"],
            NeedKind::Slitting => &["max_input_width_m", "min_output_width_m", "turnaround_h"],
            NeedKind::Testing => &["standards", "turnaround_h"],
            NeedKind::RawMaterial => &["material", "stock", "lead_time_h"],
            NeedKind::Equipment => &["item", "stock", "lead_time_h"],
            NeedKind::Labour => &["skill", "headcount", "lead_time_h"],
            _ => return None,
        })
    }

    /// Types and checks the attributes of a capability of `kind`.
    pub fn from_attrs(kind: NeedKind, attrs: &[(String, AttrValue)]) -> Result<CapabilityAttrs, AttrError> {
        let expected = Self::attribute_names(kind).ok_or(AttrError::NotACapabilityKind { kind })?;
        let r = Reader::new(kind, expected, attrs)?;
        let typed = match kind {
            NeedKind::Sterilisation => CapabilityAttrs::Sterilisation {
                method: SterilisationMethod::parse(&r.text("method")?)?,
                turnaround_h: r.number("turnaround_h")?,
                capacity_per_day: r.number("capacity_per_day")?,
            },
            NeedKind::Slitting => CapabilityAttrs::Slitting {
                max_input_width_m: r.number("max_input_width_m")?,
                min_output_width_m: r.number("min_output_width_m")?,
                turnaround_h: r.number("turnaround_h")?,
            },
            NeedKind::Testing => CapabilityAttrs::Testing {
                standards: r.text_list("standards")?.ok_or(AttrError::Missing { kind, name: "standards", expected })?,
                turnaround_h: r.number("turnaround_h")?,
            },
            NeedKind::RawMaterial => CapabilityAttrs::RawMaterial {
                material: r.text("material")?,
                stock: r.number("stock")?,
                lead_time_h: r.number("lead_time_h")?,
            },
            NeedKind::Equipment => CapabilityAttrs::Equipment {
                item: r.text("item")?,
                stock: r.number("stock")?,
                lead_time_h: r.number("lead_time_h")?,
            },
            NeedKind::Labour => CapabilityAttrs::Labour {
                skill: r.text("skill")?,
                headcount: r.number("headcount")?,
                lead_time_h: r.number("lead_time_h")?,
            },
            _ => return Err(AttrError::NotACapabilityKind { kind }),
        };
        typed.validate()?;
        Ok(typed)
    }

    /// Checks the numbers and texts: no negative or non-finite number, a capacity above 0, no
    /// empty text, widths that make sense.
    pub fn validate(&self) -> Result<(), AttrError> {
        match self {
            CapabilityAttrs::Sterilisation { method: _, turnaround_h, capacity_per_day } => {
                check_number("turnaround_h", *turnaround_h, false)?;
                check_number("capacity_per_day", *capacity_per_day, true)?;
            }
            CapabilityAttrs::Slitting { max_input_width_m, min_output_width_m, turnaround_h } => {
                check_number("max_input_width_m", *max_input_width_m, true)?;
                check_number("min_output_width_m", *min_output_width_m, false)?;
                check_number("turnaround_h", *turnaround_h, false)?;
                if min_output_width_m > max_input_width_m {
                    return Err(AttrError::Inconsistent {
                        message: format!(
                            "min_output_width_m {min_output_width_m} exceeds max_input_width_m {max_input_width_m} — no roll can be slit"
                        ),
                    });
                }
            }
            CapabilityAttrs::Testing { standards, turnaround_h } => {
                if standards.is_empty() {
                    return Err(AttrError::Empty { name: "standards".to_string() });
                }
                for standard in standards {
                    check_text("a standard in standards", standard)?;
                }
                check_number("turnaround_h", *turnaround_h, false)?;
            }
            CapabilityAttrs::RawMaterial { material: text, stock: amount, lead_time_h }
            | CapabilityAttrs::Equipment { item: text, stock: amount, lead_time_h }
            | CapabilityAttrs::Labour { skill: text, headcount: amount, lead_time_h } => {
                let (text_name, amount_name) = self.text_and_amount_names();
                check_text(text_name, text)?;
                check_number(amount_name, *amount, false)?;
                check_number("lead_time_h", *lead_time_h, false)?;
            }
        }
        Ok(())
    }

    pub fn kind(&self) -> NeedKind {
        match self {
            CapabilityAttrs::Sterilisation { .. } => NeedKind::Sterilisation,
            CapabilityAttrs::Slitting { .. } => NeedKind::Slitting,
            CapabilityAttrs::Testing { .. } => NeedKind::Testing,
            CapabilityAttrs::RawMaterial { .. } => NeedKind::RawMaterial,
            CapabilityAttrs::Equipment { .. } => NeedKind::Equipment,
            CapabilityAttrs::Labour { .. } => NeedKind::Labour,
        }
    }

    fn text_and_amount_names(&self) -> (&'static str, &'static str) {
        match self {
            CapabilityAttrs::Labour { .. } => ("skill", "headcount"),
            CapabilityAttrs::Equipment { .. } => ("item", "stock"),
            _ => ("material", "stock"),
        }
    }
}

impl Requirement {
    /// The attribute names of the requirement of each kind.
    pub fn attribute_names(kind: NeedKind) -> Option<&'static [&'static str]> {
        Some(match kind {
            NeedKind::Sterilisation => &["methods"],
            NeedKind::Slitting => &["input_width_m", "output_width_m"],
            NeedKind::Testing => &["standard"],
            NeedKind::RawMaterial => &["material"],
            NeedKind::Equipment => &["item"],
            NeedKind::Labour => &["skill"],
            _ => return None,
        })
    }

    /// Types and checks the requirement of a need of `kind`; a sterilisation need may leave
    /// `methods` out (any method).
    pub fn from_attrs(kind: NeedKind, attrs: &[(String, AttrValue)]) -> Result<Requirement, AttrError> {
        let expected = Self::attribute_names(kind).ok_or(AttrError::NotACapabilityKind { kind })?;
        let r = Reader::new(kind, expected, attrs)?;
        let typed = match kind {
            NeedKind::Sterilisation => Requirement::Sterilisation {
                methods: r
                    .text_list("methods")?
                    .map(|list| list.iter().map(|m| SterilisationMethod::parse(m)).collect::<Result<Vec<_>, _>>())
                    .transpose()?,
            },
            NeedKind::Slitting => {
                Requirement::Slitting { input_width_m: r.number("input_width_m")?, output_width_m: r.number("output_width_m")? }
            }
            NeedKind::Testing => Requirement::Testing { standard: r.text("standard")? },
            NeedKind::RawMaterial => Requirement::RawMaterial { material: r.text("material")? },
            NeedKind::Equipment => Requirement::Equipment { item: r.text("item")? },
            NeedKind::Labour => Requirement::Labour { skill: r.text("skill")? },
            _ => return Err(AttrError::NotACapabilityKind { kind }),
        };
        typed.validate()?;
        Ok(typed)
    }

    pub fn validate(&self) -> Result<(), AttrError> {
        match self {
            Requirement::Sterilisation { methods: Some(methods) } if methods.is_empty() => Err(AttrError::Empty {
                name: "methods (leave it out to allow any method)".to_string(),
            }),
            Requirement::Sterilisation { .. } => Ok(()),
            Requirement::Slitting { input_width_m, output_width_m } => {
                check_number("input_width_m", *input_width_m, true)?;
                check_number("output_width_m", *output_width_m, true)?;
                if output_width_m > input_width_m {
                    return Err(AttrError::Inconsistent {
                        message: format!("output_width_m {output_width_m} exceeds input_width_m {input_width_m} — slitting only narrows a roll"),
                    });
                }
                Ok(())
            }
            Requirement::Testing { standard } => check_text("standard", standard),
            Requirement::RawMaterial { material } => check_text("material", material),
            Requirement::Equipment { item } => check_text("item", item),
            Requirement::Labour { skill } => check_text("skill", skill),
        }
    }

    pub fn kind(&self) -> NeedKind {
        match self {
            Requirement::Sterilisation { .. } => NeedKind::Sterilisation,
            Requirement::Slitting { .. } => NeedKind::Slitting,
            Requirement::Testing { .. } => NeedKind::Testing,
            Requirement::RawMaterial { .. } => NeedKind::RawMaterial,
            Requirement::Equipment { .. } => NeedKind::Equipment,
            Requirement::Labour { .. } => NeedKind::Labour,
        }
    }
}

/// Texts compare ignoring case and surrounding space: "Melt-blown fabric" is "melt-blown fabric".
pub fn same_text(a: &str, b: &str) -> bool {
    a == b || text_chars(a).eq(text_chars(b))
}

/// The form under which [`same_text`] compares: two texts are the same iff their keys are equal.
pub fn text_key(text: &str) -> String {
    text_chars(text).collect()
}

fn text_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.trim().chars().flat_map(char::to_lowercase)
}

/// Standards compare ignoring case and spaces: "GB19083-2010" is "GB 19083-2010".
pub fn same_standard(a: &str, b: &str) -> bool {
    a == b || standard_chars(a).eq(standard_chars(b))
}

/// The form under which [`same_standard`] compares.
pub fn standard_key(standard: &str) -> String {
    standard_chars(standard).collect()
}

fn standard_chars(standard: &str) -> impl Iterator<Item = char> + '_ {
    standard.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase)
}

/// The words for an attribute of a requirement or a capability, (中文, English), so that a
/// refusal names the field as the page does; an unknown name is returned as it is.
pub fn attribute_label(name: &str) -> (&str, &str) {
    match name {
        "input_width_m" => ("来料幅宽（米）", "input width (m)"),
        "output_width_m" => ("所需幅宽（米，以下）", "output width (m, at most)"),
        "max_input_width_m" => ("最大来料幅宽（米）", "maximum input width (m)"),
        "min_output_width_m" => ("最小分切幅宽（米）", "minimum output width (m)"),
        "methods" => ("可接受的灭菌方式", "sterilisation methods allowed"),
        "method" => ("灭菌方式", "sterilisation method"),
        "standard" => ("检验标准", "standard"),
        "standards" => ("检验标准", "standards"),
        "material" => ("材料", "material"),
        "item" => ("设备", "equipment item"),
        "skill" => ("工种", "skill"),
        "turnaround_h" => ("加工周期（小时）", "turnaround (hours)"),
        "capacity_per_day" => ("日处理能力", "capacity per day"),
        "stock" => ("库存", "stock"),
        "headcount" => ("人数", "headcount"),
        "lead_time_h" => ("备货周期（小时）", "lead time (hours)"),
        other => (other, other),
    }
}

impl AttrError {
    /// The attribute the refusal is about, if it is about one.
    pub fn attribute(&self) -> Option<&str> {
        match self {
            AttrError::Unknown { name, .. } | AttrError::WrongType { name, .. } | AttrError::Negative { name, .. } => Some(name),
            AttrError::NotPositive { name, .. } | AttrError::NotFinite { name } => Some(name),
            AttrError::Empty { name } => Some(name.split(' ').next().unwrap_or(name)),
            AttrError::Missing { name, .. } => Some(name),
            AttrError::UnknownMethod { .. } => Some("methods"),
            AttrError::NotACapabilityKind { .. } | AttrError::Inconsistent { .. } => None,
        }
    }

    /// What is wrong, in Chinese (the English is [`fmt::Display`]).
    pub fn zh(&self) -> String {
        let label = |name: &str| attribute_label(name).0.to_string();
        match self {
            AttrError::NotACapabilityKind { .. } => "此类诉求不在能力登记库中".into(),
            AttrError::Unknown { name, expected, .. } => {
                format!("不认识的参数 {name}，应为：{}", expected.iter().map(|e| label(e)).collect::<Vec<_>>().join("、"))
            }
            AttrError::Missing { name, .. } => format!("请填写{}", label(name)),
            AttrError::WrongType { name, expected, .. } => format!("{}应为{}", label(name), if expected.contains("number") { "数字" } else { "文字" }),
            AttrError::Negative { name, .. } => format!("{}不能为负数", label(name)),
            AttrError::NotPositive { name, .. } => format!("{}须大于 0", label(name)),
            AttrError::NotFinite { name } => format!("{}须为有限数字", label(name)),
            AttrError::Empty { name } => format!("{}不能为空", label(name.split(' ').next().unwrap_or(name))),
            AttrError::UnknownMethod { value } => {
                format!("不认识的灭菌方式「{value}」，应为：{}", SterilisationMethod::ALL.iter().map(|m| m.label_zh()).collect::<Vec<_>>().join("、"))
            }
            AttrError::Inconsistent { message } if message.starts_with("min_output") => "最小分切幅宽不能大于最大来料幅宽".into(),
            AttrError::Inconsistent { .. } => "所需幅宽不能大于来料幅宽（分切只能把卷材裁窄）".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, AttrValue)]) -> Vec<(String, AttrValue)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.clone())).collect()
    }

    fn num(n: f64) -> AttrValue {
        AttrValue::Number(n)
    }

    fn text(t: &str) -> AttrValue {
        AttrValue::Text(t.to_string())
    }

    #[test]
    fn every_capability_kind_types_its_attributes() {
        let cases = [
            (
                NeedKind::Sterilisation,
                attrs(&[("method", text("co60")), ("turnaround_h", num(36.0)), ("capacity_per_day", num(100000.0))]),
                CapabilityAttrs::Sterilisation { method: SterilisationMethod::Co60, turnaround_h: 36.0, capacity_per_day: 100000.0 },
            ),
            (
                NeedKind::Slitting,
                attrs(&[("max_input_width_m", num(1.8)), ("min_output_width_m", num(0.2)), ("turnaround_h", num(8.0))]),
                CapabilityAttrs::Slitting { max_input_width_m: 1.8, min_output_width_m: 0.2, turnaround_h: 8.0 },
            ),
            (
                NeedKind::Testing,
                attrs(&[
                    ("standards", AttrValue::TextList(vec!["GB 19083-2010".into(), "YY 0469-2011".into()])),
                    ("turnaround_h", num(48.0)),
                ]),
                CapabilityAttrs::Testing { standards: vec!["GB 19083-2010".into(), "YY 0469-2011".into()], turnaround_h: 48.0 },
            ),
            (
                NeedKind::RawMaterial,
                attrs(&[("material", text(" 熔喷布 ")), ("stock", num(5.0)), ("lead_time_h", num(12.0))]),
                CapabilityAttrs::RawMaterial { material: "熔喷布".into(), stock: 5.0, lead_time_h: 12.0 },
            ),
            (
                NeedKind::Equipment,
                attrs(&[("item", text("消毒柜")), ("stock", num(2.0)), ("lead_time_h", num(24.0))]),
                CapabilityAttrs::Equipment { item: "消毒柜".into(), stock: 2.0, lead_time_h: 24.0 },
            ),
            (
                NeedKind::Labour,
                attrs(&[("skill", text("mask machine fitter")), ("headcount", num(3.0)), ("lead_time_h", num(6.0))]),
                CapabilityAttrs::Labour { skill: "mask machine fitter".into(), headcount: 3.0, lead_time_h: 6.0 },
            ),
        ];
        for (kind, input, expected) in cases {
            let typed = CapabilityAttrs::from_attrs(kind, &input).unwrap();
            assert_eq!(typed.kind(), kind);
            assert_eq!(typed, expected);
        }
    }

    #[test]
    fn every_requirement_kind_types_its_attributes() {
        let r = Requirement::from_attrs(NeedKind::Sterilisation, &[]).unwrap();
        assert_eq!(r, Requirement::Sterilisation { methods: None });
        let r = Requirement::from_attrs(NeedKind::Sterilisation, &attrs(&[("methods", AttrValue::TextList(vec!["co60".into(), "ebeam".into()]))]))
            .unwrap();
        assert_eq!(r, Requirement::Sterilisation { methods: Some(vec![SterilisationMethod::Co60, SterilisationMethod::Ebeam]) });
        let r = Requirement::from_attrs(NeedKind::Slitting, &attrs(&[("input_width_m", num(1.6)), ("output_width_m", num(0.8))])).unwrap();
        assert_eq!(r, Requirement::Slitting { input_width_m: 1.6, output_width_m: 0.8 });
        let r = Requirement::from_attrs(NeedKind::Testing, &attrs(&[("standard", text("GB 19083-2010"))])).unwrap();
        assert_eq!(r.kind(), NeedKind::Testing);
        for (kind, name) in [(NeedKind::RawMaterial, "material"), (NeedKind::Equipment, "item"), (NeedKind::Labour, "skill")] {
            assert_eq!(Requirement::from_attrs(kind, &attrs(&[(name, text("x"))])).unwrap().kind(), kind);
        }
    }

    #[test]
    fn a_missing_attribute_is_named_with_the_list_of_attributes() {
        let err = CapabilityAttrs::from_attrs(NeedKind::Sterilisation, &attrs(&[("method", text("co60")), ("turnaround_h", num(36.0))]))
            .unwrap_err();
        assert_eq!(err.to_string(), "missing attribute \"capacity_per_day\" for sterilisation (attributes: method, turnaround_h, capacity_per_day)");
    }

    #[test]
    fn an_unknown_attribute_is_refused_with_the_expected_ones() {
        let err = CapabilityAttrs::from_attrs(NeedKind::Labour, &attrs(&[("skil", text("fitter"))])).unwrap_err();
        assert_eq!(err.to_string(), "unknown attribute \"skil\" for labour — expected: skill, headcount, lead_time_h");
    }

    #[test]
    fn a_negative_number_is_refused() {
        let err = CapabilityAttrs::from_attrs(
            NeedKind::RawMaterial,
            &attrs(&[("material", text("无纺布")), ("stock", num(-5.0)), ("lead_time_h", num(12.0))]),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "stock is -5, must not be negative");
    }

    #[test]
    fn a_sterilisation_capacity_of_zero_is_refused() {
        let err = CapabilityAttrs::from_attrs(
            NeedKind::Sterilisation,
            &attrs(&[("method", text("eo")), ("turnaround_h", num(168.0)), ("capacity_per_day", num(0.0))]),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "capacity_per_day is 0, must be greater than 0");
    }

    #[test]
    fn an_unknown_method_lists_the_known_ones() {
        let err = CapabilityAttrs::from_attrs(
            NeedKind::Sterilisation,
            &attrs(&[("method", text("gamma")), ("turnaround_h", num(36.0)), ("capacity_per_day", num(1.0))]),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "unknown sterilisation method \"gamma\" — expected one of: co60, ebeam, eo, steam");
        let err = Requirement::from_attrs(NeedKind::Sterilisation, &attrs(&[("methods", AttrValue::TextList(vec!["uv".into()]))])).unwrap_err();
        assert!(matches!(err, AttrError::UnknownMethod { .. }));
    }

    #[test]
    fn a_number_given_as_text_is_a_wrong_type() {
        let err = Requirement::from_attrs(NeedKind::Slitting, &attrs(&[("input_width_m", text("1.6")), ("output_width_m", num(0.8))]))
            .unwrap_err();
        assert_eq!(err.to_string(), "attribute \"input_width_m\" must be a number, found the text \"1.6\"");
    }

    #[test]
    fn kinds_without_capabilities_are_refused() {
        let err = CapabilityAttrs::from_attrs(NeedKind::Permit, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "kind permit has no capabilities in the registry — expected one of: sterilisation, slitting, testing, raw_material, equipment, labour"
        );
        assert!(Requirement::from_attrs(NeedKind::Logistics, &[]).is_err());
    }

    #[test]
    fn contradictory_widths_are_refused() {
        let slitter = CapabilityAttrs::Slitting { max_input_width_m: 1.0, min_output_width_m: 1.2, turnaround_h: 1.0 };
        assert!(slitter.validate().unwrap_err().to_string().contains("no roll can be slit"));
        let need = Requirement::Slitting { input_width_m: 0.8, output_width_m: 1.6 };
        assert!(need.validate().unwrap_err().to_string().contains("slitting only narrows a roll"));
    }

    #[test]
    fn empty_texts_and_lists_are_refused() {
        assert!(Requirement::Labour { skill: "  ".into() }.validate().is_err());
        assert!(CapabilityAttrs::Testing { standards: vec![], turnaround_h: 1.0 }.validate().is_err());
        assert!(Requirement::Sterilisation { methods: Some(vec![]) }.validate().is_err());
    }

    #[test]
    fn texts_and_standards_compare_loosely() {
        assert!(same_text("Melt-blown Fabric ", "melt-blown fabric"));
        assert!(!same_text("熔喷布", "无纺布"));
        assert!(same_standard("gb19083-2010", "GB 19083-2010"));
        assert!(!same_standard("GB 19083-2010", "GB 19083-2003"));
        assert_eq!(text_key(" Melt-blown Fabric"), text_key("melt-blown fabric "));
        assert_eq!(standard_key("gb19083-2010"), "GB19083-2010");
    }
}
