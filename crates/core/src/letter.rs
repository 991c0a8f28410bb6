//! Official letters (公函): a national need — one whose solution lies in another province — gets a
//! letter from its owner to the counterpart department of the solution's province, and to the
//! department of the solution's city where there is one (a municipality is both, so it is written
//! to once).
//!
//! The letter is drafted from the need's facts in the usual form of a Chinese official letter:
//! title (关于……的函), number (晋工信函〔2020〕3号), salutation (称谓), the cause (事由), the request
//! (请求事项) with its deadline, the contact, the closing "妥否，请函复。", and the signature (落款)
//! with the date. An English rendering stands beside it. Nothing is invented: every sentence comes
//! from a fact given in [`LetterFacts`] or from the kind of need.
//!
//! A letter's status goes draft → sent → acknowledged and no other way.

use crate::model::{Bilingual, LetterStatus, NeedKind, Scope};
use crate::region::{RegionCode, RegionTree};
use crate::routing::{RouteError, is_departmental_hall, scope_between};
use crate::china_time;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::fmt;

/// The one-character abbreviation of each of the 34 province-level units, used in document
/// numbers (晋工信函〔2020〕3号).
pub const PROVINCE_ABBREVIATIONS: [(u32, &str); 34] = [
    (110000, "京"),
    (120000, "津"),
    (130000, "冀"),
    (140000, "晋"),
    (150000, "蒙"),
    (210000, "辽"),
    (220000, "吉"),
    (230000, "黑"),
    (310000, "沪"),
    (320000, "苏"),
    (330000, "浙"),
    (340000, "皖"),
    (350000, "闽"),
    (360000, "赣"),
    (370000, "鲁"),
    (410000, "豫"),
    (420000, "鄂"),
    (430000, "湘"),
    (440000, "粤"),
    (450000, "桂"),
    (460000, "琼"),
    (500000, "渝"),
    (510000, "川"),
    (520000, "黔"),
    (530000, "云"),
    (540000, "藏"),
    (610000, "陕"),
    (620000, "甘"),
    (630000, "青"),
    (640000, "宁"),
    (650000, "新"),
    (710000, "台"),
    (810000, "港"),
    (820000, "澳"),
];

/// The abbreviation of a province-level unit (晋 for 140000); none for any other code.
pub fn province_abbreviation(province: RegionCode) -> Option<&'static str> {
    PROVINCE_ABBREVIATIONS.iter().find(|(code, _)| *code == province.as_u32()).map(|(_, a)| *a)
}

/// How the date of a letter is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DateStyle {
    /// 2020年1月26日, as GB/T 9704-2012 asks.
    #[default]
    Arabic,
    /// 二〇二〇年一月二十六日, the older style still common on letters.
    Chinese,
}

/// "2020年1月26日" or "二〇二〇年一月二十六日".
pub fn chinese_date(date: NaiveDate, style: DateStyle) -> String {
    match style {
        DateStyle::Arabic => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
        DateStyle::Chinese => {
            const DIGITS: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
            let year: String = date.year().to_string().chars().filter_map(|c| c.to_digit(10)).map(|d| DIGITS[d as usize]).collect();
            format!("{year}年{}月{}日", chinese_number(date.month()), chinese_number(date.day()))
        }
    }
}

/// 1..=99 in Chinese numerals: 一, 十, 十一, 二十, 二十六.
fn chinese_number(n: u32) -> String {
    const DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (tens, ones) = ((n / 10) as usize, (n % 10) as usize);
    let mut out = String::new();
    match tens {
        0 => {}
        1 => out.push('十'),
        t => {
            out.push_str(DIGITS[t]);
            out.push('十');
        }
    }
    if ones != 0 || tens == 0 {
        out.push_str(DIGITS[ones]);
    }
    out
}

/// "26 January 2020".
fn english_date(date: NaiveDate) -> String {
    const MONTHS: [&str; 12] =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    format!("{} {} {}", date.day(), MONTHS[date.month0() as usize], date.year())
}

/// A department as a letter names it: 广东省工业和信息化厅 / the Department of Industry and
/// Information Technology of 广东省.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Department {
    pub region: RegionCode,
    pub name: Bilingual,
}

/// The formal name of the department of `region`, on the pattern of
/// [`crate::routing::department_name`]: a province's is a 厅, every other one's a 局.
pub fn formal_department(tree: &RegionTree, region: RegionCode) -> Result<Department, RouteError> {
    let region = tree.department_region(region);
    let r = tree.get(region).ok_or(RouteError::UnknownRegion(region))?;
    let name = if is_departmental_hall(tree, r) {
        Bilingual::new(
            format!("{}工业和信息化厅", r.name),
            format!("the Department of Industry and Information Technology of {}", r.name),
        )
    } else {
        Bilingual::new(
            format!("{}工业和信息化局", r.name),
            format!("the Bureau of Industry and Information Technology of {}", r.name),
        )
    };
    Ok(Department { region, name })
}

/// A document number: department prefix, year, sequence — 晋工信函〔2020〕3号.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterNumber {
    /// The sender's abbreviation and the kind of document: 晋工信函.
    pub prefix: String,
    pub year: i32,
    /// The sender's count of letters in the year, from 1.
    pub sequence: u32,
}

impl fmt::Display for LetterNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}〔{}〕{}号", self.prefix, self.year, self.sequence)
    }
}

/// The prefix of letters from the department of `sender`: the province's abbreviation for a
/// province or municipality (晋工信函, 京工信函); for a city or county, the first character of its
/// name (临工信函 for 临汾市, 曲工信函 for 曲沃县).
pub fn number_prefix(tree: &RegionTree, sender: RegionCode) -> Result<String, RouteError> {
    let sender = tree.department_region(sender);
    let region = tree.get(sender).ok_or(RouteError::UnknownRegion(sender))?;
    let short = match province_abbreviation(sender) {
        Some(a) => a.to_string(),
        None => region.name.chars().next().map_or_else(String::new, |c| c.to_string()),
    };
    Ok(format!("{short}工信函"))
}

/// Someone to call about the letter, at the sending department.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub person: String,
    pub phone: String,
}

/// The facts of a national need that a letter is drafted from. Texts given in Chinese only may
/// leave `en` empty: the English rendering then quotes the Chinese.
#[derive(Clone, Debug, PartialEq)]
pub struct LetterFacts {
    /// 山西健康动力科技有限公司
    pub enterprise_name: String,
    pub enterprise_region: RegionCode,
    pub kind: NeedKind,
    /// What is needed: 口罩生产线 / mask production lines.
    pub item: Bilingual,
    /// How much: 5 条 / 5 lines.
    pub quantity: Option<Bilingual>,
    /// Where the solution lies.
    pub solution_region: RegionCode,
    /// Who supplies it there, when known.
    pub provider_name: Option<String>,
    /// Why it is urgent, as a clause: 所产口罩为疫情防控急需物资 / its masks are needed for epidemic control.
    pub urgency: Bilingual,
    /// By when the need must be met.
    pub deadline: DateTime<Utc>,
    /// The owner of the need, who sends the letter.
    pub owner: RegionCode,
    pub contact: Option<Contact>,
}

/// One language's text of a letter, in its parts, for a printable page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterText {
    /// 关于……的函
    pub subject: String,
    /// 广东省工业和信息化厅、东莞市工业和信息化局：
    pub salutation: String,
    /// 事由, 请求事项, contact.
    pub paragraphs: Vec<String>,
    /// 妥否，请函复。
    pub closing: String,
    /// The sender's name (落款).
    pub signature: String,
    pub date: String,
}

impl LetterText {
    /// The whole letter as plain text: subject, number, salutation, indented paragraphs, closing,
    /// signature and date.
    pub fn render(&self, number: &LetterNumber) -> String {
        let mut out = format!("{}\n\n{number}\n\n{}\n", self.subject, self.salutation);
        for paragraph in self.paragraphs.iter().chain(std::iter::once(&self.closing)) {
            out.push_str("\u{3000}\u{3000}");
            out.push_str(paragraph);
            out.push('\n');
        }
        out.push_str(&format!("\n{}\n{}\n", self.signature, self.date));
        out
    }
}

/// A drafted letter and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    pub number: LetterNumber,
    pub sender: Department,
    /// The counterpart department of the solution's province, then its city's where there is one.
    pub recipients: Vec<Department>,
    pub date: NaiveDate,
    pub zh: LetterText,
    pub en: LetterText,
    pub status: LetterStatus,
    pub sent_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl Letter {
    pub fn subject(&self) -> Bilingual {
        Bilingual::new(self.zh.subject.clone(), self.en.subject.clone())
    }

    /// The full text in both languages.
    pub fn body(&self) -> Bilingual {
        Bilingual::new(self.zh.render(&self.number), self.en.render(&self.number))
    }

    /// draft → sent.
    pub fn mark_sent(&mut self, at: DateTime<Utc>) -> Result<(), LetterError> {
        self.transition(LetterStatus::Sent, at)
    }

    /// sent → acknowledged.
    pub fn mark_acknowledged(&mut self, at: DateTime<Utc>) -> Result<(), LetterError> {
        self.transition(LetterStatus::Acknowledged, at)
    }

    /// Moves to `to` if the lifecycle allows it, recording when.
    pub fn transition(&mut self, to: LetterStatus, at: DateTime<Utc>) -> Result<(), LetterError> {
        check_transition(&self.number, self.status, to)?;
        self.status = to;
        match to {
            LetterStatus::Sent => self.sent_at = Some(at),
            LetterStatus::Acknowledged => self.acknowledged_at = Some(at),
            LetterStatus::Draft => {}
        }
        Ok(())
    }
}

/// Whether a letter may go from `from` to `to`: only draft → sent and sent → acknowledged.
pub fn check_transition(number: &LetterNumber, from: LetterStatus, to: LetterStatus) -> Result<(), LetterError> {
    match (from, to) {
        (LetterStatus::Draft, LetterStatus::Sent) | (LetterStatus::Sent, LetterStatus::Acknowledged) => Ok(()),
        _ => Err(LetterError::Transition { number: number.to_string(), from, to }),
    }
}

/// Why a letter could not be drafted or moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LetterError {
    /// A region of the facts is not in the tree.
    UnknownRegion(RegionCode),
    /// The need is not national: no letter goes to a department of the enterprise's own province.
    NotNational { enterprise: String, solution: String, scope: Scope },
    /// Sequences count from 1.
    ZeroSequence,
    /// A status change the lifecycle does not allow.
    Transition { number: String, from: LetterStatus, to: LetterStatus },
}

impl From<RouteError> for LetterError {
    fn from(error: RouteError) -> Self {
        match error {
            RouteError::UnknownRegion(code) => LetterError::UnknownRegion(code),
        }
    }
}

impl fmt::Display for LetterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LetterError::UnknownRegion(code) => write!(f, "region {code} not found"),
            LetterError::NotNational { enterprise, solution, scope } => write!(
                f,
                "no letter for a need of {scope} scope ({enterprise} → {solution}) — letters go to another province's department, for national needs only"
            ),
            LetterError::ZeroSequence => write!(f, "a letter's sequence number starts at 1"),
            LetterError::Transition { number, from, to } => {
                let why = match (from, to) {
                    _ if from == to => "it is already so",
                    (LetterStatus::Draft, LetterStatus::Acknowledged) => "send it before marking it acknowledged",
                    (LetterStatus::Acknowledged, _) => "an acknowledged letter is final",
                    _ => "a sent letter cannot go back to draft",
                };
                write!(f, "letter {number} is {from} and cannot become {to} — {why}")
            }
        }
    }
}

impl std::error::Error for LetterError {}

/// What the letter asks for, by kind of need: (request zh, done-by zh, request en, done-by en).
fn request_for(kind: NeedKind) -> (&'static str, &'static str, &'static str, &'static str) {
    match kind {
        NeedKind::Equipment | NeedKind::RawMaterial => (
            "协调供货企业尽快组织发货，并为运输车辆提供通行便利",
            "运抵企业",
            "have the supplier ship without delay and give its vehicles free passage",
            "delivered to the enterprise",
        ),
        NeedKind::Sterilisation | NeedKind::Slitting | NeedKind::Testing => (
            "协调相关单位尽快安排加工",
            "完成",
            "have the provider schedule the work without delay",
            "done",
        ),
        NeedKind::Labour => ("协调组织熟练工人支援", "到岗", "arrange for skilled workers to come and help", "at work"),
        NeedKind::Logistics => ("协调保障运输车辆通行", "运抵企业", "keep the transport moving", "delivered to the enterprise"),
        NeedKind::Permit | NeedKind::TrafficPass | NeedKind::Other => ("给予协调支持", "办结", "give your support", "settled"),
    }
}

/// What a letter's title says the matter is, by kind of need — in the words of a letter, not the
/// system's category: 供应 (supply), 加工 (processing), 用工 (workers), 运输 (transport).
fn topic_of(kind: NeedKind) -> (&'static str, &'static str) {
    match kind {
        NeedKind::Equipment | NeedKind::RawMaterial => ("供应", "supply of "),
        NeedKind::Sterilisation | NeedKind::Slitting | NeedKind::Testing => ("加工", "processing: "),
        NeedKind::Labour => ("用工", "workers: "),
        NeedKind::Logistics | NeedKind::TrafficPass => ("运输", "transport of "),
        NeedKind::Permit | NeedKind::Other => ("", ""),
    }
}

/// The English of a fact, or its Chinese when no English was given.
fn en_or_zh(text: &Bilingual) -> &str {
    if text.en.trim().is_empty() { &text.zh } else { &text.en }
}

/// Drafts the letter for a national need; `sequence` is the sender's next number for the year of
/// `drafted_at` (dated in China time).
pub fn draft_letter(
    tree: &RegionTree,
    facts: &LetterFacts,
    sequence: u32,
    drafted_at: DateTime<Utc>,
    date_style: DateStyle,
) -> Result<Letter, LetterError> {
    if sequence == 0 {
        return Err(LetterError::ZeroSequence);
    }
    let scope = scope_between(tree, facts.enterprise_region, facts.solution_region)?;
    if scope != Scope::National {
        return Err(LetterError::NotNational {
            enterprise: tree.full_name(facts.enterprise_region),
            solution: tree.full_name(facts.solution_region),
            scope,
        });
    }
    let sender = formal_department(tree, facts.owner)?;
    let solution_province = tree.province_of(facts.solution_region).ok_or(LetterError::UnknownRegion(facts.solution_region))?.code;
    let mut recipients = vec![formal_department(tree, solution_province)?];
    if let Some(city) = tree.city_of(facts.solution_region).filter(|c| c.code != solution_province) {
        recipients.push(formal_department(tree, city.code)?);
    }
    let date = china_time::day(drafted_at);
    let number = LetterNumber { prefix: number_prefix(tree, sender.region)?, year: date.year(), sequence };

    let enterprise_at = tree.full_name(facts.enterprise_region);
    let solution_at = tree.full_name(facts.solution_region);
    let deadline = china_time::day(facts.deadline);
    let (request_zh, done_zh, request_en, done_en) = request_for(facts.kind);
    let you_zh = match recipients.iter().map(|r| r.name.zh.ends_with('厅')).collect::<Vec<_>>().as_slice() {
        [true] => "贵厅",
        [false] => "贵局",
        _ => "贵厅（局）",
    };
    // The quantity follows the item as an official letter writes it: 口罩生产线5条.
    let quantity_zh = facts.quantity.as_ref().map_or(String::new(), |q| q.zh.replace(' ', ""));
    let quantity_en = facts.quantity.as_ref().map_or(String::new(), |q| format!(" ({})", en_or_zh(q)));
    let source_zh = match &facts.provider_name {
        Some(p) => format!("由位于{solution_at}的{p}提供"),
        None => format!("货源在{solution_at}"),
    };
    let source_en = match &facts.provider_name {
        Some(p) => format!("supplied by {p} in {solution_at}"),
        None => format!("to be obtained in {solution_at}"),
    };
    let (topic_zh, topic_en) = topic_of(facts.kind);
    let mut paragraphs_zh = vec![
        format!(
            "{}位于{enterprise_at}，{}。为尽快投产，该企业急需{}{quantity_zh}，{source_zh}。",
            facts.enterprise_name,
            facts.urgency.zh.trim_end_matches('。'),
            facts.item.zh
        ),
        format!("为保障企业尽快投产，现商请{you_zh}给予协调支持：{request_zh}，确保于{}前{done_zh}。", chinese_date(deadline, date_style)),
    ];
    let mut paragraphs_en = vec![
        format!(
            "{}, in {enterprise_at}, {}. To start production it urgently needs {}{quantity_en}, {source_en}.",
            facts.enterprise_name,
            en_or_zh(&facts.urgency).trim_end_matches('.'),
            en_or_zh(&facts.item)
        ),
        format!(
            "So that the enterprise can start production, we ask for your support: please {request_en}, so that it is {done_en} by {}.",
            english_date(deadline)
        ),
    ];
    if let Some(c) = &facts.contact {
        paragraphs_zh.push(format!("（联系人：{}；联系电话：{}）", c.person, c.phone));
        paragraphs_en.push(format!("(Contact: {}, telephone {}.)", c.person, c.phone));
    }

    let zh = LetterText {
        subject: format!("关于商请协调解决{}{}{topic_zh}问题的函", facts.enterprise_name, facts.item.zh),
        salutation: format!("{}：", recipients.iter().map(|r| r.name.zh.as_str()).collect::<Vec<_>>().join("、")),
        paragraphs: paragraphs_zh,
        closing: "妥否，请函复。".to_string(),
        signature: sender.name.zh.clone(),
        date: chinese_date(date, date_style),
    };
    let en = LetterText {
        subject: format!("Request for help with the {topic_en}{} for {}", en_or_zh(&facts.item), facts.enterprise_name),
        salutation: format!("To {}:", recipients.iter().map(|r| r.name.en.as_str()).collect::<Vec<_>>().join("; ")),
        paragraphs: paragraphs_en,
        closing: "We would be grateful for your reply.".to_string(),
        signature: capitalise(&sender.name.en),
        date: english_date(date),
    };
    Ok(Letter { number, sender, recipients, date, zh, en, status: LetterStatus::Draft, sent_at: None, acknowledged_at: None })
}

/// "the Department …" → "The Department …", for a signature line.
fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn code(c: u32) -> RegionCode {
        RegionCode::new_unchecked(c)
    }

    fn tree() -> &'static RegionTree {
        RegionTree::embedded()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// The production lines stuck in 东莞, 2020-01-26 (the report's facts; the contact is made up
    /// for the test).
    fn dongguan_lines() -> LetterFacts {
        LetterFacts {
            enterprise_name: "山西健康动力科技有限公司".into(),
            enterprise_region: code(141021),
            kind: NeedKind::Equipment,
            item: Bilingual::new("口罩生产线", "mask production lines"),
            quantity: Some(Bilingual::new("5 条", "5 lines")),
            solution_region: code(441900),
            provider_name: None,
            urgency: Bilingual::new(
                "是临汾市首家口罩生产企业，所产口罩为疫情防控急需物资",
                "the first mask maker of 临汾市, whose masks are needed for epidemic control",
            ),
            deadline: Utc.with_ymd_and_hms(2020, 1, 31, 4, 0, 0).unwrap(),
            owner: code(140000),
            contact: Some(Contact { person: "张三".into(), phone: "0351-0000000".into() }),
        }
    }

    fn drafted() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 1, 26, 2, 0, 0).unwrap()
    }

    #[test]
    fn the_dongguan_letter_goes_from_shanxi_to_guangdong_and_dongguan() {
        let letter = draft_letter(tree(), &dongguan_lines(), 3, drafted(), DateStyle::Arabic).unwrap();
        assert_eq!(letter.number.to_string(), "晋工信函〔2020〕3号");
        assert_eq!(letter.sender.name.zh, "山西省工业和信息化厅");
        let to: Vec<(u32, &str)> = letter.recipients.iter().map(|r| (r.region.as_u32(), r.name.zh.as_str())).collect();
        assert_eq!(to, [(440000, "广东省工业和信息化厅"), (441900, "东莞市工业和信息化局")]);
        assert_eq!(letter.status, LetterStatus::Draft);
        assert_eq!(letter.date, date(2020, 1, 26));
        assert_eq!(
            letter.zh.render(&letter.number),
            "关于商请协调解决山西健康动力科技有限公司口罩生产线供应问题的函\n\
             \n\
             晋工信函〔2020〕3号\n\
             \n\
             广东省工业和信息化厅、东莞市工业和信息化局：\n\
             \u{3000}\u{3000}山西健康动力科技有限公司位于山西省临汾市曲沃县，是临汾市首家口罩生产企业，所产口罩为疫情防控急需物资。\
             为尽快投产，该企业急需口罩生产线5条，货源在广东省东莞市。\n\
             \u{3000}\u{3000}为保障企业尽快投产，现商请贵厅（局）给予协调支持：协调供货企业尽快组织发货，并为运输车辆提供通行便利，\
             确保于2020年1月31日前运抵企业。\n\
             \u{3000}\u{3000}（联系人：张三；联系电话：0351-0000000）\n\
             \u{3000}\u{3000}妥否，请函复。\n\
             \n\
             山西省工业和信息化厅\n\
             2020年1月26日\n"
        );
    }

    #[test]
    fn the_english_rendering_stands_beside_it() {
        let letter = draft_letter(tree(), &dongguan_lines(), 3, drafted(), DateStyle::Arabic).unwrap();
        assert_eq!(letter.en.subject, "Request for help with the supply of mask production lines for 山西健康动力科技有限公司");
        assert_eq!(
            letter.en.salutation,
            "To the Department of Industry and Information Technology of 广东省; the Bureau of Industry and Information Technology of 东莞市:"
        );
        assert_eq!(
            letter.en.paragraphs[0],
            "山西健康动力科技有限公司, in 山西省临汾市曲沃县, the first mask maker of 临汾市, whose masks are needed for epidemic control. \
             To start production it urgently needs mask production lines (5 lines), to be obtained in 广东省东莞市."
        );
        assert!(letter.en.paragraphs[1].ends_with("so that it is delivered to the enterprise by 31 January 2020."), "{}", letter.en.paragraphs[1]);
        assert_eq!(letter.en.signature, "The Department of Industry and Information Technology of 山西省");
        assert_eq!(letter.en.date, "26 January 2020");
        assert_eq!(letter.subject().zh, letter.zh.subject);
        assert!(letter.body().en.contains("晋工信函〔2020〕3号"));
    }

    #[test]
    fn the_fengtai_letter_goes_to_beijing_alone() {
        let facts = LetterFacts {
            item: Bilingual::new("消毒柜", ""),
            quantity: None,
            solution_region: code(110106),
            provider_name: Some("北京某消毒设备公司".into()),
            contact: None,
            ..dongguan_lines()
        };
        let letter = draft_letter(tree(), &facts, 1, drafted(), DateStyle::Chinese).unwrap();
        let to: Vec<&str> = letter.recipients.iter().map(|r| r.name.zh.as_str()).collect();
        assert_eq!(to, ["北京市工业和信息化局"]);
        assert_eq!(letter.zh.salutation, "北京市工业和信息化局：");
        assert!(letter.zh.paragraphs[0].contains("该企业急需消毒柜，由位于北京市丰台区的北京某消毒设备公司提供。"), "{}", letter.zh.paragraphs[0]);
        assert!(!letter.zh.subject.contains('（'), "no category label in the title: {}", letter.zh.subject);
        assert!(letter.zh.paragraphs[1].contains("现商请贵局给予协调支持"), "{}", letter.zh.paragraphs[1]);
        assert_eq!(letter.zh.paragraphs.len(), 2, "no contact given, none written (it is added when the draft is edited)");
        assert_eq!(letter.zh.date, "二〇二〇年一月二十六日");
        assert!(letter.zh.paragraphs[1].contains("确保于二〇二〇年一月三十一日前运抵企业"));
        // with no English given, the English quotes the Chinese
        assert!(letter.en.paragraphs[0].contains("it urgently needs 消毒柜, supplied by 北京某消毒设备公司 in 北京市丰台区."), "{}", letter.en.paragraphs[0]);
    }

    #[test]
    fn a_solution_in_a_county_without_a_city_is_written_to_its_province_alone() {
        let facts = LetterFacts { solution_region: code(419001), ..dongguan_lines() }; // 济源
        let letter = draft_letter(tree(), &facts, 4, drafted(), DateStyle::Arabic).unwrap();
        let to: Vec<&str> = letter.recipients.iter().map(|r| r.name.zh.as_str()).collect();
        assert_eq!(to, ["河南省工业和信息化厅"]);
        assert!(letter.zh.paragraphs[1].contains("现商请贵厅给予协调支持"));
        let facts = LetterFacts { solution_region: code(440106), ..dongguan_lines() }; // 广州天河区
        let letter = draft_letter(tree(), &facts, 5, drafted(), DateStyle::Arabic).unwrap();
        let to: Vec<&str> = letter.recipients.iter().map(|r| r.name.zh.as_str()).collect();
        assert_eq!(to, ["广东省工业和信息化厅", "广州市工业和信息化局"]);
    }

    #[test]
    fn a_city_owner_numbers_its_letters_with_its_own_prefix() {
        let facts = LetterFacts { owner: code(141000), ..dongguan_lines() };
        let letter = draft_letter(tree(), &facts, 12, drafted(), DateStyle::Arabic).unwrap();
        assert_eq!(letter.number.to_string(), "临工信函〔2020〕12号");
        assert_eq!(letter.zh.signature, "临汾市工业和信息化局");
        assert_eq!(number_prefix(tree(), code(110000)).unwrap(), "京工信函");
        assert_eq!(number_prefix(tree(), code(500200)).unwrap(), "渝工信函");
        assert_eq!(number_prefix(tree(), code(141021)).unwrap(), "曲工信函");
    }

    #[test]
    fn the_date_and_year_are_those_of_china() {
        // 2020-12-31 20:00 UTC is already 2021-01-01 in China
        let late = Utc.with_ymd_and_hms(2020, 12, 31, 20, 0, 0).unwrap();
        let letter = draft_letter(tree(), &dongguan_lines(), 1, late, DateStyle::Arabic).unwrap();
        assert_eq!(letter.number.to_string(), "晋工信函〔2021〕1号");
        assert_eq!(letter.zh.date, "2021年1月1日");
    }

    #[test]
    fn dates_are_written_in_both_chinese_styles() {
        assert_eq!(chinese_date(date(2020, 1, 26), DateStyle::Chinese), "二〇二〇年一月二十六日");
        assert_eq!(chinese_date(date(2020, 1, 26), DateStyle::Arabic), "2020年1月26日");
        assert_eq!(chinese_date(date(2021, 10, 10), DateStyle::Chinese), "二〇二一年十月十日");
        assert_eq!(chinese_date(date(2019, 12, 31), DateStyle::Chinese), "二〇一九年十二月三十一日");
        assert_eq!(chinese_date(date(2020, 11, 1), DateStyle::Chinese), "二〇二〇年十一月一日");
        assert_eq!(chinese_date(date(2020, 2, 20), DateStyle::Chinese), "二〇二〇年二月二十日");
    }

    #[test]
    fn every_province_has_its_abbreviation() {
        let provinces: Vec<RegionCode> =
            tree().iter().filter(|r| r.level == crate::region::Level::Province).map(|r| r.code).collect();
        assert_eq!(provinces.len(), 34);
        for p in &provinces {
            assert!(province_abbreviation(*p).is_some(), "{p}");
        }
        let mut all: Vec<&str> = PROVINCE_ABBREVIATIONS.iter().map(|(_, a)| *a).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 34, "abbreviations are unique");
        assert_eq!(province_abbreviation(code(440000)), Some("粤"));
        assert_eq!(province_abbreviation(code(141000)), None);
    }

    #[test]
    fn a_need_inside_the_province_gets_no_letter() {
        let facts = LetterFacts { solution_region: code(140822), ..dongguan_lines() };
        let err = draft_letter(tree(), &facts, 1, drafted(), DateStyle::Arabic).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no letter for a need of province scope (山西省临汾市曲沃县 → 山西省运城市万荣县) — letters go to another province's department, for national needs only"
        );
    }

    #[test]
    fn bad_facts_are_refused() {
        let facts = LetterFacts { solution_region: code(441999), ..dongguan_lines() };
        assert_eq!(draft_letter(tree(), &facts, 1, drafted(), DateStyle::Arabic), Err(LetterError::UnknownRegion(code(441999))));
        assert_eq!(draft_letter(tree(), &dongguan_lines(), 0, drafted(), DateStyle::Arabic), Err(LetterError::ZeroSequence));
    }

    #[test]
    fn a_letter_goes_draft_then_sent_then_acknowledged() {
        let mut letter = draft_letter(tree(), &dongguan_lines(), 3, drafted(), DateStyle::Arabic).unwrap();
        let sent = drafted() + chrono::TimeDelta::hours(1);
        let acknowledged = drafted() + chrono::TimeDelta::hours(30);
        letter.mark_sent(sent).unwrap();
        assert_eq!((letter.status, letter.sent_at), (LetterStatus::Sent, Some(sent)));
        letter.mark_acknowledged(acknowledged).unwrap();
        assert_eq!((letter.status, letter.acknowledged_at), (LetterStatus::Acknowledged, Some(acknowledged)));
    }

    #[test]
    fn every_other_status_change_is_refused_with_a_reason() {
        use LetterStatus::{Acknowledged, Draft, Sent};
        let number = LetterNumber { prefix: "晋工信函".into(), year: 2020, sequence: 3 };
        let allowed = [(Draft, Sent), (Sent, Acknowledged)];
        for &from in LetterStatus::ALL {
            for &to in LetterStatus::ALL {
                let result = check_transition(&number, from, to);
                assert_eq!(result.is_ok(), allowed.contains(&(from, to)), "{from} → {to}");
            }
        }
        let message = |from, to| check_transition(&number, from, to).unwrap_err().to_string();
        assert_eq!(
            message(Draft, Acknowledged),
            "letter 晋工信函〔2020〕3号 is draft and cannot become acknowledged — send it before marking it acknowledged"
        );
        assert_eq!(message(Acknowledged, Sent), "letter 晋工信函〔2020〕3号 is acknowledged and cannot become sent — an acknowledged letter is final");
        assert_eq!(message(Sent, Draft), "letter 晋工信函〔2020〕3号 is sent and cannot become draft — a sent letter cannot go back to draft");
        assert_eq!(message(Sent, Sent), "letter 晋工信函〔2020〕3号 is sent and cannot become sent — it is already so");

        let mut letter = draft_letter(tree(), &dongguan_lines(), 3, drafted(), DateStyle::Arabic).unwrap();
        assert!(letter.mark_acknowledged(drafted()).is_err());
        assert_eq!((letter.status, letter.acknowledged_at), (Draft, None), "a refused change changes nothing");
    }
}
