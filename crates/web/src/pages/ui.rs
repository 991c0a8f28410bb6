//! What every page's frame needs (language, user, CSRF token, where the page is), and the words
//! and number formats the pages print: labels of the vocabulary in both languages, times at
//! UTC+8, hours and kilometres. Formatting only — nothing here decides anything.

use crate::json;
use bangfu_app::Actor;
use bangfu_core::model::{ApprovalStatus, CandidateStatus, Label, LetterStatus, NeedKind, NeedStatus, Role, Scope, ShipmentStatus, StationRole, Tier};
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_core::routing::department_name;

/// A value of the vocabulary as a page has it: typed (from a row of the store), or a wire name
/// (from a query string or a search hit), which is the text itself when it names nothing.
pub trait Wire<T> {
    fn wire(&self) -> Result<T, String>;
}

macro_rules! wire {
    ($($ty:ty),*) => {$(
        impl Wire<$ty> for $ty {
            fn wire(&self) -> Result<$ty, String> {
                Ok(*self)
            }
        }
        impl Wire<$ty> for str {
            fn wire(&self) -> Result<$ty, String> {
                <$ty>::parse(self).map_err(|_| self.to_string())
            }
        }
        impl Wire<$ty> for String {
            fn wire(&self) -> Result<$ty, String> {
                self.as_str().wire()
            }
        }
    )*};
}
wire!(NeedKind, NeedStatus, Tier, Scope, StationRole, ApprovalStatus, ShipmentStatus, LetterStatus);

impl Wire<RegionCode> for RegionCode {
    fn wire(&self) -> Result<RegionCode, String> {
        Ok(*self)
    }
}
impl Wire<RegionCode> for str {
    fn wire(&self) -> Result<RegionCode, String> {
        self.parse::<u32>().map(RegionCode::new_unchecked).map_err(|_| self.to_string())
    }
}
impl Wire<RegionCode> for String {
    fn wire(&self) -> Result<RegionCode, String> {
        self.as_str().wire()
    }
}

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "bangfu_lang";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim() {
            "zh" | "zh-CN" | "zh-cn" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn label(self, label: Label) -> &'static str {
        self.pick(label.zh, label.en)
    }

    /// The label of a value of the vocabulary (typed, as rows hold it; or a wire name from a
    /// query or a search hit, shown as it is when it is no name).
    pub fn kind(self, kind: &(impl Wire<NeedKind> + ?Sized)) -> String {
        kind.wire().map_or_else(|text| text, |k| self.label(k.label()).to_string())
    }

    pub fn need_status(self, status: &(impl Wire<NeedStatus> + ?Sized)) -> String {
        status.wire().map_or_else(|text| text, |s| self.label(s.label()).to_string())
    }

    pub fn tier(self, tier: &(impl Wire<Tier> + ?Sized)) -> String {
        tier.wire().map_or_else(|text| text, |t| self.label(t.label()).to_string())
    }

    pub fn scope(self, scope: &(impl Wire<Scope> + ?Sized)) -> String {
        scope.wire().map_or_else(|text| text, |s| self.label(s.label()).to_string())
    }

    pub fn station_role(self, role: &(impl Wire<StationRole> + ?Sized)) -> String {
        role.wire().map_or_else(|text| text, |r| self.label(r.label()).to_string())
    }

    pub fn approval_status(self, status: &(impl Wire<ApprovalStatus> + ?Sized)) -> String {
        let label = match status.wire() {
            Ok(ApprovalStatus::Pending) => Label { zh: "待受理", en: "pending" },
            Ok(ApprovalStatus::InProgress) => Label { zh: "办理中", en: "in progress" },
            Ok(ApprovalStatus::Approved) => Label { zh: "已批准", en: "approved" },
            Ok(ApprovalStatus::Rejected) => Label { zh: "未批准", en: "rejected" },
            Err(text) => return text,
        };
        self.label(label).to_string()
    }

    pub fn shipment_status(self, status: &(impl Wire<ShipmentStatus> + ?Sized)) -> String {
        let label = match status.wire() {
            Ok(ShipmentStatus::Planned) => Label { zh: "计划中", en: "planned" },
            Ok(ShipmentStatus::InTransit) => Label { zh: "运输中", en: "in transit" },
            Ok(ShipmentStatus::Delivered) => Label { zh: "已送达", en: "delivered" },
            Ok(ShipmentStatus::Held) => Label { zh: "受阻", en: "held" },
            Err(text) => return text,
        };
        self.label(label).to_string()
    }

    pub fn letter_status(self, status: &(impl Wire<LetterStatus> + ?Sized)) -> String {
        match status.wire() {
            Ok(LetterStatus::Draft) => self.pick("草稿", "draft").into(),
            Ok(LetterStatus::Sent) => self.pick("已发出", "sent").into(),
            Ok(LetterStatus::Acknowledged) => self.pick("已回复", "acknowledged").into(),
            Err(text) => text,
        }
    }

    pub fn candidate_status(self, status: CandidateStatus) -> String {
        match status {
            CandidateStatus::Proposed => self.pick("候选", "candidate").into(),
            CandidateStatus::ProposedSwitch => self.pick("建议改选", "switch proposed").into(),
            CandidateStatus::Selected => self.pick("已选定", "selected").into(),
            CandidateStatus::Replaced => self.pick("已被替换", "replaced").into(),
            CandidateStatus::Rejected => self.pick("已排除", "rejected").into(),
        }
    }

    pub fn role(self, role: Role) -> &'static str {
        match role {
            Role::Admin => self.pick("管理员", "admin"),
            Role::Officer => self.pick("干部", "officer"),
            Role::Enterprise => self.pick("企业用户", "enterprise"),
            Role::Provider => self.pick("提供方", "provider"),
            Role::Viewer => self.pick("领导查看", "viewer"),
        }
    }

    /// A department by its region code: 曲沃县工信局 / "曲沃县 industry bureau" (a text that is
    /// no code is shown as it is).
    pub fn department(self, tree: &RegionTree, code: &(impl Wire<RegionCode> + ?Sized)) -> String {
        let region = match code.wire() {
            Ok(region) => region,
            Err(text) => return text,
        };
        match self {
            Lang::Zh => department_name(tree, region),
            Lang::En => {
                let own = tree.department_region(region);
                tree.get(own).map_or_else(|| region.to_string(), |r| format!("{} industry dept.", r.name))
            }
        }
    }

    /// Hours as people say them: "36 小时" / "36 h", "1.5 h"; a week and more in days.
    pub fn hours(self, hours: f64) -> String {
        if hours >= 168.0 {
            let days = hours / 24.0;
            return match self {
                Lang::Zh => format!("{} 天", trim(days)),
                Lang::En => format!("{} d", trim(days)),
            };
        }
        match self {
            Lang::Zh => format!("{} 小时", trim(hours)),
            Lang::En => format!("{} h", trim(hours)),
        }
    }

    /// A span of time in days, hours and minutes: "1 天 8 小时" / "1 d 8 h".
    pub fn duration(self, ms: i64) -> String {
        let minutes = ms.abs() / 60_000;
        let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
        let parts: Vec<String> = match self {
            Lang::Zh => [(d, "天"), (h, "小时"), (m, "分钟")].iter().filter(|(n, _)| *n > 0).map(|(n, u)| format!("{n} {u}")).collect(),
            Lang::En => [(d, "d"), (h, "h"), (m, "min")].iter().filter(|(n, _)| *n > 0).map(|(n, u)| format!("{n} {u}")).collect(),
        };
        // Days and hours are enough once there are days.
        let shown: Vec<String> = if d > 0 { parts.into_iter().take(2).collect() } else { parts };
        if shown.is_empty() { self.pick("不到 1 分钟", "under a minute").to_string() } else { shown.join(" ") }
    }

    /// A quantity with its unit: "150,000 个" / "150,000 pcs".
    pub fn amount(self, quantity: f64, unit: &str) -> String {
        let unit = match self {
            Lang::Zh => unit.to_string(),
            Lang::En => unit_in_english(unit),
        };
        if unit.is_empty() { trim(quantity) } else { format!("{} {unit}", trim(quantity)) }
    }

    pub fn km(self, km: f64) -> String {
        match self {
            Lang::Zh => format!("{} 公里", trim(km.round())),
            Lang::En => format!("{} km", trim(km.round())),
        }
    }
}

/// A number with at most one decimal, without a trailing ".0", its thousands grouped:
/// 150,000 · 1.5 · 24.
pub fn trim(value: f64) -> String {
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").map_or(text.clone(), str::to_string);
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A price in yuan: two decimals at most, none trailing (0.12, 3.5, 1,200).
pub fn money(value: f64) -> String {
    let cents = (value * 100.0).round();
    if cents % 10.0 != 0.0 {
        let whole = trim((cents / 100.0).trunc());
        format!("{whole}.{:02}", (cents.abs() % 100.0) as i64)
    } else {
        trim(cents / 100.0)
    }
}

/// [`unit_en`], with a qualifier the demo writes after a unit — 吨（假定） — in English too:
/// "t (assumed)".
pub fn unit_in_english(unit: &str) -> String {
    let unit = unit.trim();
    match unit.split_once('（') {
        Some((head, "假定）")) => format!("{} (assumed)", unit_en(head)),
        Some((head, rest)) => format!("{} ({}", unit_en(head), rest.replace('）', ")")),
        None => unit_en(unit).to_string(),
    }
}

/// A unit of measure in English, from the Chinese a user typed (itself when not known).
pub fn unit_en(unit: &str) -> &str {
    match unit.trim() {
        "个" | "只" | "片" => "pcs",
        "吨" => "t",
        "公斤" | "千克" => "kg",
        "卷" => "rolls",
        "人" | "名" => "people",
        "条" => "lines",
        "台" => "units",
        "件" => "items",
        "箱" => "boxes",
        "套" => "sets",
        "次" => "times",
        "张" => "sheets",
        "辆" => "vehicles",
        "批" => "batches",
        "米" => "m",
        "平方米" => "m²",
        other => other,
    }
}

/// A stored time at UTC+8, to the minute: 2020-02-13 08:30.
pub fn time(ms: i64) -> String {
    let text = json::time(ms);
    // RFC 3339 at +08:00: 2020-02-13T08:30:00+08:00
    text.get(..16).map_or(text.clone(), |t| t.replace('T', " "))
}

/// The day of a stored time at UTC+8: 2020-02-13.
pub fn day(ms: i64) -> String {
    let text = json::time(ms);
    text.get(..10).map_or(text.clone(), str::to_string)
}

/// The signed-in user as the header shows them.
#[derive(Clone, Debug)]
pub struct UserBadge {
    pub name: String,
    pub role: String,
    pub department: String,
}

impl UserBadge {
    pub fn of(actor: &Actor, tree: &RegionTree, lang: Lang) -> UserBadge {
        let department = actor.department.map(|d| lang.department(tree, &d.to_string())).unwrap_or_default();
        UserBadge { name: actor.name.clone(), role: lang.role(actor.role).to_string(), department }
    }
}

/// The frame of every page.
#[derive(Clone, Debug)]
pub struct Ui {
    pub lang: Lang,
    pub csrf: String,
    pub user: Option<UserBadge>,
    /// The path (and query) of this page, for the language switch to come back to.
    pub path: String,
    /// Which part of the site the page belongs to: "dashboard", "registry", "case".
    pub section: &'static str,
    /// The title of the page, in its language.
    pub title: String,
    /// Whether the user may use the registry pages (officers, admins, providers, viewers).
    pub registry: bool,
    /// The unread notifications of a user with a department (none: it gets none).
    pub unread: Option<i64>,
    /// Whether the user reads a department's figures and briefing (officers, viewers, admins).
    pub figures: bool,
    /// Whether the user has an inbox (provider and enterprise users).
    pub inbox: bool,
    /// Whether the user may run allocations (officers, admins).
    pub allocate: bool,
}

impl Ui {
    /// The text in the page's language.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }

    pub fn html_lang(&self) -> &'static str {
        self.lang.pick("zh-CN", "en")
    }

    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    /// The link that switches to the other language and comes back here.
    pub fn switch_href(&self) -> String {
        let other = self.lang.pick("en", "zh");
        format!("/lang/{other}?back={}", encode(&self.path))
    }

    pub fn switch_label(&self) -> &'static str {
        self.lang.pick("English", "中文")
    }
}

/// Percent-encodes a query value.
/// The link to a list's download (`/export/{list}?…`) with the list's filters, empty ones left out.
pub fn download_href(list: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params.iter().filter(|(_, v)| !v.trim().is_empty()).map(|(k, v)| format!("{k}={}", encode(v.trim()))).collect();
    format!("/export/{list}?{}", query.join("&"))
}

pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// A message of the app in the page's language: the app words a refusal as
/// `field: 中文 — English`; the Chinese page shows `field: 中文`, the English `field: English`.
/// A message in one language only is shown as it is.
pub fn localise(message: &str, lang: Lang) -> String {
    let (field, text) = match message.split_once(": ") {
        Some((field, text)) if !field.contains(' ') && field.is_ascii() => (Some(field), text),
        _ => (None, message),
    };
    let is_chinese = |t: &str| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let shown = match text.split_once(" — ") {
        Some((zh, en)) if is_chinese(zh) && !is_chinese(en.split('(').next().unwrap_or(en)) => lang.pick(zh, en),
        _ => text,
    };
    match field {
        Some(field) => format!("{field}: {shown}"),
        None => shown.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands_and_prices_keep_their_cents() {
        assert_eq!(trim(150_000.0), "150,000");
        assert_eq!(trim(24.0), "24");
        assert_eq!(trim(-1234.5), "-1,234.5");
        assert_eq!(Lang::Zh.amount(150_000.0, "个"), "150,000 个");
        assert_eq!(Lang::En.amount(5.0, "吨"), "5 t");
        assert_eq!(money(0.12), "0.12");
        assert_eq!(money(3.5), "3.5");
        assert_eq!(money(1200.0), "1,200");
    }

    #[test]
    fn a_message_in_two_languages_is_shown_in_the_pages_one() {
        let message = "requires.input_width_m: 请填写来料幅宽（米） — missing attribute \"input_width_m\" for slitting";
        assert_eq!(localise(message, Lang::Zh), "requires.input_width_m: 请填写来料幅宽（米）");
        assert_eq!(localise(message, Lang::En), "requires.input_width_m: missing attribute \"input_width_m\" for slitting");
        assert_eq!(localise("need 3 not found", Lang::Zh), "need 3 not found");
    }

    #[test]
    fn hours_read_as_people_say_them() {
        assert_eq!(Lang::Zh.hours(36.0), "36 小时");
        assert_eq!(Lang::En.hours(1.46), "1.5 h");
        assert_eq!(Lang::En.hours(168.0), "7 d");
    }

    #[test]
    fn times_are_shown_at_utc_plus_8() {
        // 2020-02-13 00:30 UTC is 08:30 in China.
        assert_eq!(time(1_581_553_800_000), "2020-02-13 08:30");
        assert_eq!(day(1_581_553_800_000), "2020-02-13");
    }

    #[test]
    fn a_path_is_encoded_for_the_language_switch() {
        assert_eq!(encode("/needs/3?done=selected"), "/needs/3%3Fdone%3Dselected");
    }
}
