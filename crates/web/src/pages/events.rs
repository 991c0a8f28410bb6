//! Audit events in words: each line of a case's log as a sentence in the page's language, with
//! the explanation the app recorded (why a need went to its owner, what a switch saves). Only
//! wording — the events and their payloads are the app's.

use super::ui::{Lang, time, trim};
use bangfu_core::region::RegionTree;
use bangfu_store::EventRow;
use serde_json::Value;
use std::collections::BTreeMap;

/// One line of a timeline.
#[derive(Clone, Debug)]
pub struct EventView {
    /// At UTC+8, to the minute.
    pub at: String,
    /// The day at UTC+8 (timelines group by it).
    pub day: String,
    /// The time of day at UTC+8: 08:30.
    pub hm: String,
    pub actor: String,
    pub case_id: Option<i64>,
    pub need_id: Option<i64>,
    /// The need's title, when the event is about a need.
    pub need_title: String,
    pub text: String,
    /// The recorded explanation or note, if any.
    pub detail: String,
    /// A CSS class by what happened: need, select, resolve, approval, shipment, alert, other.
    pub class: &'static str,
}

fn text<'a>(payload: &'a Value, key: &str) -> &'a str {
    payload.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn number(payload: &Value, key: &str) -> Option<f64> {
    payload.get(key).and_then(Value::as_f64)
}

/// The recorded bilingual text under `key` ({"zh", "en"}), or the payload's own zh/en.
fn bilingual(payload: &Value, key: &str, lang: Lang) -> String {
    let holder = if key.is_empty() { Some(payload) } else { payload.get(key) };
    holder.and_then(|h| h.get(lang.code())).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Describes `event`; `needs` names the needs of its case by id.
pub fn describe(event: &EventRow, lang: Lang, tree: &RegionTree, needs: &BTreeMap<i64, String>) -> EventView {
    let payload: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
    let need_id = event.entity.strip_prefix("need:").and_then(|n| n.parse().ok());
    let need_title = need_id.and_then(|id| needs.get(&id).cloned()).unwrap_or_else(|| text(&payload, "title").to_string());
    let dept = |key: &str| lang.department(tree, text(&payload, key));
    let place = |key: &str| {
        let code = text(&payload, key);
        code.parse::<u32>().ok().and_then(|c| tree.get(bangfu_core::region::RegionCode::new_unchecked(c))).map_or(code.to_string(), |r| r.name.clone())
    };
    let zh = lang == Lang::Zh;
    let (text_line, detail, class): (String, String, &'static str) = match event.action.as_str() {
        "enterprise.added" => (if zh { format!("登记企业：{}", text(&payload, "name")) } else { format!("Enterprise registered: {}", text(&payload, "name")) }, String::new(), "ev-other"),
        "case.opened" => (if zh { format!("建立帮扶档案：{}", text(&payload, "title")) } else { format!("Case opened: {}", text(&payload, "title")) }, String::new(), "ev-other"),
        "team.member_added" => {
            let role = lang.station_role(text(&payload, "role"));
            (if zh { format!("{}进驻企业（{}）", text(&payload, "title"), role) } else { format!("{} joined the stationed team ({role})", text(&payload, "title")) }, String::new(), "ev-other")
        }
        "need.reported" => {
            let kind = lang.kind(text(&payload, "kind"));
            let owner = dept("owner");
            (
                if zh { format!("报告诉求（{kind}），责任部门 {owner}") } else { format!("Reported ({kind}); owner: {owner}") },
                bilingual(&payload, "explanation", lang),
                "ev-need",
            )
        }
        "need.sourced" => {
            let feasible = number(&payload, "candidates").unwrap_or(0.0);
            let rejected = number(&payload, "rejected").unwrap_or(0.0);
            let best = payload.get("best").filter(|b| !b.is_null());
            let best_text = best.map(|b| {
                let lead = lang.hours(number(b, "lead_time_h").unwrap_or(0.0));
                let km = lang.km(number(b, "road_km").unwrap_or(0.0));
                if zh { format!("；最优：{}（{lead}，{km}）", text(b, "provider")) } else { format!("; best: {} ({lead}, {km})", text(b, "provider")) }
            });
            (
                if zh { format!("检索能力登记库：{} 个可行候选，{} 个被排除{}", feasible, rejected, best_text.unwrap_or_default()) } else { format!("Registry searched: {feasible} feasible, {rejected} rejected{}", best_text.unwrap_or_default()) },
                String::new(),
                "ev-need",
            )
        }
        "need.widened" => (bilingual(&payload, "", lang), String::new(), "ev-need"),
        "need.selected" | "need.switched" => {
            let provider = text(&payload, "provider");
            let lead = lang.hours(number(&payload, "lead_time_h").unwrap_or(0.0));
            let km = lang.km(number(&payload, "road_km").unwrap_or(0.0));
            let scope = lang.scope(text(&payload, "scope"));
            let line = if event.action == "need.switched" {
                let saves_h = number(&payload, "saves_h").unwrap_or(0.0);
                let saves_km = number(&payload, "saves_km").unwrap_or(0.0);
                if zh {
                    format!("改选提供方：{provider}（{lead}，{km}，{scope}），比原选节省 {} 小时、{:.0} 公里", trim(saves_h), saves_km)
                } else {
                    format!("Switched to {provider} ({lead}, {km}, {scope}) — saves {} h and {saves_km:.0} km", trim(saves_h))
                }
            } else if zh {
                format!("选定提供方：{provider}（{lead}，{km}，{scope}）")
            } else {
                format!("Provider selected: {provider} ({lead}, {km}, {scope})")
            };
            let reason = text(&payload, "reason");
            let why = bilingual(&payload, "explanation", lang);
            (line, if reason.is_empty() { why } else { format!("{}{reason}　{why}", lang.pick("改选理由：", "Why: ")) }, "ev-select")
        }
        "need.switch_proposed" => (bilingual(&payload, "", lang), String::new(), "ev-alert"),
        "need.started" | "need.resolved" | "need.cancelled" => {
            let (zh_verb, en_verb, class) = match event.action.as_str() {
                "need.started" => ("开始办理", "Work started", "ev-need"),
                "need.resolved" => ("已解决", "Resolved", "ev-resolve"),
                _ => ("已撤销", "Cancelled", "ev-other"),
            };
            (lang.pick(zh_verb, en_verb).to_string(), text(&payload, "note").to_string(), class)
        }
        "need.broadcast" => {
            let count = payload.get("departments").and_then(Value::as_array).map_or(0, Vec::len);
            let ring = lang.scope(text(&payload, "ring"));
            (if zh { format!("发出协查请求：范围 {ring}，{count} 个部门") } else { format!("Request for help broadcast ({ring}) to {count} departments") }, String::new(), "ev-need")
        }
        "need.candidate_proposed" => {
            let feasible = payload.get("feasible").and_then(Value::as_bool).unwrap_or(false);
            (
                if zh { format!("干部推荐候选：{}", if feasible { "可行" } else { "被排除" }) } else { format!("Candidate put forward by an officer: {}", if feasible { "feasible" } else { "rejected" }) },
                bilingual(&payload, "explanation", lang),
                "ev-need",
            )
        }
        "approval.opened" => (
            if zh { format!("绿色通道受理：{} · {}", text(&payload, "agency"), text(&payload, "item")) } else { format!("Green channel: {} takes up {}", text(&payload, "agency"), text(&payload, "item")) },
            String::new(),
            "ev-approval",
        ),
        "approval.decided" => {
            let status = lang.approval_status(text(&payload, "status"));
            (format!("{} · {}：{status}", text(&payload, "agency"), text(&payload, "item")), String::new(), "ev-approval")
        }
        "shipment.recorded" => {
            let pass = text(&payload, "traffic_pass");
            let status = lang.shipment_status(text(&payload, "status"));
            (
                if zh { format!("运输：{}，{} → {}（{status}）", text(&payload, "goods"), place("origin"), place("destination")) } else { format!("Shipment: {}, {} → {} ({status})", text(&payload, "goods"), place("origin"), place("destination")) },
                if pass.is_empty() { String::new() } else { format!("{}{pass}", lang.pick("通行证：", "Traffic pass: ")) },
                "ev-shipment",
            )
        }
        "return.submitted" => {
            let (cap, out, stock) = (number(&payload, "capacity_per_day").unwrap_or(0.0), number(&payload, "output").unwrap_or(0.0), number(&payload, "stock").unwrap_or(0.0));
            (
                if zh { format!("企业日报 {}：日产能 {}，产量 {}，库存 {}", text(&payload, "day"), trim(cap), trim(out), trim(stock)) } else { format!("Daily return {}: capacity {}/day, output {}, stock {}", text(&payload, "day"), trim(cap), trim(out), trim(stock)) },
                String::new(),
                "ev-resolve",
            )
        }
        "need.answered" => {
            let provider = text(&payload, "provider");
            let answer = match text(&payload, "answer") {
                "accept" => lang.pick("承接", "accepts"),
                "decline" => lang.pick("不能承接", "declines"),
                _ => lang.pick("报价", "quotes"),
            };
            let mut parts = Vec::new();
            if let Some(q) = number(&payload, "quantity") {
                parts.push(trim(q));
            }
            if let Some(p) = number(&payload, "price") {
                parts.push(format!("¥{}", super::ui::money(p)));
            }
            if let Some(at) = payload.get("deliver_by").and_then(Value::as_i64) {
                parts.push(format!("{} {}", lang.pick("最早交付", "earliest delivery"), time(at)));
            }
            let more = if parts.is_empty() { String::new() } else { format!("（{}）", parts.join(" · ")) };
            (if zh { format!("提供方答复：{provider}{answer}{more}") } else { format!("{provider} {answer}{more}") }, text(&payload, "note").to_string(), "ev-select")
        }
        "need.commented" => (if zh { format!("{}留言", text(&payload, "author")) } else { format!("{} commented", text(&payload, "author")) }, text(&payload, "text").to_string(), "ev-other"),
        "need.attached" => (if zh { format!("上传材料：{}", text(&payload, "filename")) } else { format!("Document attached: {}", text(&payload, "filename")) }, String::new(), "ev-other"),
        "need.confirmed" => (lang.pick("企业确认诉求已解决", "The enterprise confirmed it solved").to_string(), String::new(), "ev-resolve"),
        "need.reopened" => (lang.pick("诉求重新打开", "Need reopened").to_string(), text(&payload, "reason").to_string(), "ev-alert"),
        "need.withdrawn" => (lang.pick("企业撤回诉求", "The enterprise withdrew the need").to_string(), text(&payload, "reason").to_string(), "ev-other"),
        "need.edited" => (lang.pick("诉求已修改", "Need edited").to_string(), String::new(), "ev-need"),
        "team.member_released" => {
            (if zh { format!("{}撤离", text(&payload, "title")) } else { format!("{} left the stationed team", text(&payload, "title")) }, text(&payload, "reason").to_string(), "ev-other")
        }
        "shipment.moved" => {
            let to = lang.shipment_status(text(&payload, "to"));
            (if zh { format!("运输 {}：{}", text(&payload, "goods"), to) } else { format!("Shipment {}: {to}", text(&payload, "goods")) }, text(&payload, "traffic_pass").to_string(), "ev-shipment")
        }
        action if action.starts_with("need.escalat") || action == "need.supervised" => {
            let reason = bilingual(&payload, "reason", lang);
            let reason = if reason.is_empty() { bilingual(&payload, "", lang) } else { reason };
            (lang.pick("诉求逐级上报", "Need escalated").to_string(), reason, "ev-alert")
        }
        action if action.starts_with("letter.") => {
            let number = text(&payload, "number");
            let subject = payload.get("subject").map(|s| if s.is_string() { s.as_str().unwrap_or_default().to_string() } else { bilingual(&payload, "subject", lang) }).unwrap_or_default();
            let verb = match action {
                "letter.drafted" | "letter.created" => lang.pick("起草公函", "Letter drafted:"),
                "letter.sent" => lang.pick("公函已发出", "Letter sent:"),
                "letter.acknowledged" => lang.pick("公函已获回复", "Letter acknowledged:"),
                _ => lang.pick("公函", "Letter:"),
            };
            let need_id = payload.get("need_id").and_then(Value::as_i64);
            let about = need_id.and_then(|id| needs.get(&id)).map(|t| format!("（{t}）")).unwrap_or_default();
            (format!("{verb} {number} {subject}{}", if zh { about } else { String::new() }).trim().to_string(), text(&payload, "note").to_string(), "ev-approval")
        }
        other => {
            let said = bilingual(&payload, "", lang);
            (if said.is_empty() { other.to_string() } else { said }, String::new(), "ev-other")
        }
    };
    EventView {
        text: one_language(&text_line, lang),
        detail: one_language(&detail, lang),
        at: time(event.at),
        day: super::ui::day(event.at),
        hm: time(event.at).get(11..).unwrap_or_default().to_string(),
        actor: event.actor.clone(),
        case_id: event.case_id,
        need_id,
        need_title,
        class,
    }
}

/// A text recorded in both languages as `中文 / English` (a note, a milestone's name), in the
/// page's language only; any other text as it is. A line is taken whole when it is Chinese
/// before the slash and not after (`报道：…。/ Report: …`); a name quoted in a line —
/// 「中文 / English」 or “中文 / English” — is replaced by its part.
pub fn one_language(text: &str, lang: Lang) -> String {
    text.split('\n').map(|line| line_in(line, lang)).collect::<Vec<_>>().join("\n")
}

fn is_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// `zh / en` or `zh。/ en`: the two halves.
fn halves(text: &str) -> Option<(&str, &str)> {
    text.split_once(" / ").or_else(|| text.split_once("。/ "))
}

fn line_in(line: &str, lang: Lang) -> String {
    if let Some((zh, en)) = halves(line).filter(|(zh, en)| is_chinese(zh) && !is_chinese(en)) {
        let zh = if line.contains("。/ ") && !zh.ends_with('。') { format!("{zh}。") } else { zh.trim().to_string() };
        return lang.pick(&zh, en.trim()).to_string();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some((at, open, close)) = ['「', '“'].iter().filter_map(|&o| rest.find(o).map(|i| (i, o, if o == '「' { '」' } else { '”' }))).min_by_key(|(i, ..)| *i) {
        let inner_start = at + open.len_utf8();
        let Some(length) = rest[inner_start..].find(close) else { break };
        let inner = &rest[inner_start..inner_start + length];
        out.push_str(&rest[..inner_start]);
        match halves(inner).filter(|(zh, _)| is_chinese(zh)) {
            Some((zh, en)) => out.push_str(lang.pick(zh.trim(), en.trim())),
            None => out.push_str(inner),
        }
        out.push(close);
        rest = &rest[inner_start + length + close.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// Names each event's actor as its department, enterprise or provider (`App::actors_of`).
pub async fn name_actors(app: &bangfu_app::App, views: &mut [EventView], events: &[&EventRow], lang: Lang) {
    let names: Vec<&str> = events.iter().map(|e| e.actor.as_str()).collect();
    let Ok(actors) = app.actors_of(&names).await else { return };
    for view in views.iter_mut() {
        match actors.get(&view.actor) {
            Some(bangfu_app::views::ActorOf::Department(code)) => view.actor = lang.department(app.tree(), code),
            Some(bangfu_app::views::ActorOf::Named(name)) => view.actor = name.clone(),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_in_both_languages_is_shown_in_the_pages_language_whole_or_by_its_quoted_names() {
        let note = "报道：钴-60辐照灭菌，36小时。/ Report: cobalt-60 irradiation, 36 h.";
        assert_eq!(one_language(note, Lang::Zh), "报道：钴-60辐照灭菌，36小时。");
        assert_eq!(one_language(note, Lang::En), "Report: cobalt-60 irradiation, 36 h.");
        let zh = "计划节点「落实万荣钴-60辐照灭菌（36小时） / sterilisation at 万荣 arranged (Co-60, 36 h)」：实际开始 2020-02-08 09:00";
        assert_eq!(one_language(zh, Lang::Zh), "计划节点「落实万荣钴-60辐照灭菌（36小时）」：实际开始 2020-02-08 09:00");
        let en = "Milestone “安装调试（假定） / installation and commissioning (assumed)” added, then “试生产 / trial”";
        assert_eq!(one_language(en, Lang::En), "Milestone “installation and commissioning (assumed)” added, then “trial”");
        assert_eq!(one_language("灭菌 36 小时", Lang::En), "灭菌 36 小时", "a text in one language stays as it is");
        assert_eq!(one_language("临汾市 / 曲沃县", Lang::En), "临汾市 / 曲沃县", "two Chinese halves are not two languages");
    }
}

