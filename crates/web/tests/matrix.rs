//! The role × action × object matrix of issue 17, as one table over real HTTP, on both backends
//! (`…::sqlite`, `…::postgres`).
//!
//! One row per route the server serves — every API route and every page, each naming the use
//! case it runs and the object it runs on — and one column per actor; each cell says what the
//! actor gets: Y (done: 2xx, or a page's redirect after a form), N (not found, as for a missing
//! id) or F (forbidden: it sees the object but may not do this). List rows say whether the object
//! is in the actor's list. The rows are held to the route tables the routers are built from
//! (`bangfu_web::API_ROUTES`, `PAGE_ROUTES`): a route without a row, or a row without a route,
//! fails the test — as does a cell that answers anything else (a 409 or 422 means the row's
//! object was not what the row says). Every cell that writes gets objects made for it alone.
//!
//! The objects: the reference case (case 1, 曲沃县) with the demo's registry; a need of that case
//! that the province owns (sterilisation found at 万荣, 运城市 — the provider 万荣 is among its
//! candidates); an approval of 曲沃县's green channel; a national need's letter (sender 山西省,
//! addressees 广东省 and 东莞市), as a draft or sent; provider 1 (万荣, 运城市); a fresh
//! enterprise of 曲沃县 without a case.

#![allow(clippy::unwrap_used)] // a test: a failed step should stop it where it failed

use bangfu_app::accounts::NewUser;
use bangfu_app::cases::{NewEnterprise, NewTeamMember};
use bangfu_app::channel::NewApproval;
use bangfu_app::demo_accounts::DEMO_PASSWORD;
use bangfu_app::needs::NewNeed;
use bangfu_app::plans::NewMilestone;
use bangfu_app::{Actor, App};
use bangfu_core::model::LetterStatus;
use bangfu_store::testing::TestDb;
use chrono::{DateTime, TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Done.
    Y,
    /// Not found, as a missing id.
    N,
    /// Forbidden: seen, not allowed.
    F,
}

use Outcome::{F, N, Y};

/// The columns: who acts.
const ACTORS: [&str; 12] = [
    "admin",
    "quwo",        // officer of 曲沃县, the case's county
    "linfen",      // officer of 临汾市, its city
    "shanxi",      // officer of 山西省, its province
    "houma",       // officer of 侯马市, a sibling county
    "guangdong",   // officer of 广东省, addressee of the case's letters
    "henan",       // officer of 河南省, stationed on the case (its team)
    "leader",      // viewer of 临汾市
    "enterprise",  // the case's enterprise
    "enterprise2", // another enterprise (运城市)
    "wanrong",     // provider 1, a candidate of the province's need
    "provider2",   // provider 5 (曲沃县's slitting firm), no candidate
];

//                          admin quwo linfen shanxi houma gd henan leader ent ent2 wanrong prov2
const ALL: [Outcome; 12] = [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y];
const SEES_CASE: [Outcome; 12] = [Y, Y, Y, Y, N, N, Y, Y, Y, N, N, N];
const SEES_ENTERPRISE: [Outcome; 12] = [Y, Y, Y, Y, N, N, N, Y, Y, N, N, N];
const REGISTERS_IN_QUWO: [Outcome; 12] = [Y, Y, Y, Y, F, F, F, F, F, F, F, F];
/// The registry's page is not the enterprises' to see, nor its form.
const REGISTERS_IN_QUWO_PAGE: [Outcome; 12] = [Y, Y, Y, Y, F, F, F, F, N, N, F, F];
const OPENS_CASE_IN_QUWO: [Outcome; 12] = [Y, Y, Y, Y, N, N, N, F, F, F, F, F];
const SEES_PROVIDER_1: [Outcome; 12] = [Y, Y, Y, Y, Y, Y, Y, Y, N, N, Y, N];
const EDITS_PROVIDER_1: [Outcome; 12] = [Y, F, F, Y, F, F, F, F, N, N, Y, N];
const KEEPS_TEAM: [Outcome; 12] = [Y, Y, Y, Y, N, N, F, F, F, N, N, N];
/// Add or remove milestones of case 1's plan: as for its team, the officers whose jurisdiction
/// holds the case (the stationed 河南省 attaches needs to the plan but does not reshape it).
const SHAPES_PLAN: [Outcome; 12] = KEEPS_TEAM;
const REPORTS: [Outcome; 12] = [Y, Y, Y, Y, N, N, Y, F, Y, N, N, N];
const ACTS_ON_CASE: [Outcome; 12] = [Y, Y, Y, Y, N, N, Y, F, F, N, N, N];
const DECIDES_APPROVAL: [Outcome; 12] = [Y, Y, Y, Y, N, N, F, F, F, N, N, N];
const SEES_NEED: [Outcome; 12] = [Y, Y, Y, Y, N, N, Y, Y, Y, N, Y, N];
const PROPOSES: [Outcome; 12] = [Y, Y, Y, Y, N, N, Y, F, F, N, F, N];
const DECIDES_NEED: [Outcome; 12] = [Y, F, F, Y, N, N, F, F, F, N, F, N];
const ADMIN_ONLY: [Outcome; 12] = [Y, F, F, F, F, F, F, F, F, F, F, F];
const SEES_LETTER: [Outcome; 12] = [Y, Y, Y, Y, N, Y, Y, Y, Y, N, N, N];
const SENDS_LETTER: [Outcome; 12] = [Y, F, F, Y, N, N, F, F, F, N, N, N];
const ACKNOWLEDGES_LETTER: [Outcome; 12] = [Y, F, F, F, N, Y, F, F, F, N, N, N];
const BROWSES_REGISTRY: [Outcome; 12] = [Y, Y, Y, Y, Y, Y, Y, Y, N, N, Y, Y];
const IMPORTS_FORM: [Outcome; 12] = [Y, Y, Y, Y, Y, Y, Y, N, N, N, N, N];
const IMPORTS_IN_QUWO: [Outcome; 12] = [Y, Y, Y, Y, F, F, F, N, N, N, N, N];
/// The figures and briefing of 曲沃县: its department and those above, the country's admin; a
/// stationed department reads its own jurisdiction's, not the case's; enterprises and providers
/// read no department's.
const FIGURES_OF_QUWO: [Outcome; 12] = [Y, Y, Y, Y, N, N, N, Y, F, F, F, F];
/// quwo's own saved view: no one else's to delete.
const ONLY_QUWO: [Outcome; 12] = [N, Y, N, N, N, N, N, N, N, N, N, N];
/// Edit the province's need: who may report on the case, and its deciders.
const EDITS_NEED: [Outcome; 12] = [Y, Y, Y, Y, N, N, Y, F, Y, N, F, N];
/// Answer the province's need: the users of its candidate provider only.
const ANSWERS_NEED: [Outcome; 12] = [F, F, F, F, N, N, F, F, F, N, Y, N];
/// Comment on or attach to the province's need: its officers and its enterprise.
const DISCUSSES_NEED: [Outcome; 12] = [Y, Y, Y, Y, N, N, Y, F, Y, N, F, N];
/// The needs addressed to one's provider or enterprise: need 7 is the enterprise's and 万荣's.
const INBOX_HOLDS_NEED_7: [Outcome; 12] = [N, N, N, N, N, N, N, N, Y, N, Y, N];
/// Confirm or withdraw as the enterprise (an admin may too).
const AS_ENTERPRISE: [Outcome; 12] = [Y, F, F, F, N, N, F, F, Y, N, F, N];
/// Reopen a resolved need: its deciders and its enterprise.
const REOPENS_RESOLVED: [Outcome; 12] = [Y, F, F, Y, N, N, F, F, Y, N, F, N];
/// An allocation over 曲沃县: its department and those above, and admins; any other officer,
/// viewer, enterprise or provider is refused.
const ALLOCATES_QUWO: [Outcome; 12] = [Y, Y, Y, Y, F, F, F, F, F, F, F, F];
/// A notification of 山西省's department: only its officers read it.
const ONLY_SHANXI: [Outcome; 12] = [N, N, N, Y, N, N, N, N, N, N, N, N];

/// Channels of 曲沃县's department: its officers and administrators keep them.
const KEEPS_QUWO_CHANNELS: [Outcome; 12] = [Y, Y, F, F, F, F, F, F, F, F, F, F];
/// A channel of 曲沃县 removed: its officers and administrators; to anyone else it is not there.
const REMOVES_QUWO_CHANNEL: [Outcome; 12] = [Y, Y, N, N, N, N, N, N, N, N, N, N];
/// Message 1, to 曲沃县's channel: its officers and administrators put it back in line.
const RETRIES_QUWO_MESSAGE: [Outcome; 12] = [Y, Y, N, N, N, N, N, N, N, N, N, N];

/// What a row does.
#[derive(Clone, Copy, Debug)]
enum Act {
    /// A request that needs no object.
    Plain { path: &'static str, body: Option<fn(u32) -> Value> },
    /// A list, asked whether it holds the object.
    Lists { path: &'static str, holds: Holds },
    /// A search, asked whether it finds the object of `kind` and `id`.
    Search { q: &'static str, kind: &'static str, id: i64 },
    Login,
    Logout,
    CreateCase,
    AddTeamMember,
    /// A member stationed on case 1 for the cell, released.
    ReleaseMember,
    /// A planned shipment of case 1, moved into transit.
    MoveShipment,
    /// A milestone added to case 1's plan for the cell, removed.
    RemoveMilestone,
    /// A channel added to 曲沃县 for the cell, removed.
    RemoveChannel,
    /// The province's need attached to a milestone of case 1's plan.
    AttachBlocker,
    /// The province's need, attached to a milestone for the cell, detached.
    DetachBlocker,
    ProvinceNeed { action: &'static str, body: fn(&Fixture) -> Value },
    /// The province's need edited (PUT).
    EditProvinceNeed,
    /// An action on the province's need once resolved.
    ResolvedNeed { action: &'static str, body: fn(&Fixture) -> Value },
    /// An action on a need the enterprise reported itself (sourced: the province owns it).
    EnterpriseNeed { action: &'static str, body: fn(&Fixture) -> Value },
    /// The file of a document attached to the province's need.
    Attachment,
    WhatIf,
    DecideApproval,
    Letter { sent: bool },
    /// A CSV of returns posted to case 1's upload.
    UploadReturns,
    /// A fresh draft letter of the province edited.
    EditLetter,
    Page(PageAct),
}

/// What a list must hold.
#[derive(Clone, Copy, Debug)]
enum Holds {
    Enterprise1,
    Provider1,
    Case1,
    Need7,
    Letter1,
    /// The return seeded for case 1 (id 1).
    Return1,
}

#[derive(Clone, Copy, Debug)]
enum PageAct {
    Get(&'static str),
    Login,
    Logout,
    Form { path: &'static str, fields: fn(u32) -> Vec<(&'static str, String)> },
    DecideApproval,
    NeedAction(&'static str),
    LetterAction { sent: bool },
    Import,
    UploadReturns,
    EditLetter,
    /// Escalate the province's need from the queue's bulk form.
    BulkEscalate,
    /// Delete a view quwo saved.
    DeleteQuwoView,
    /// Mark a notification of 山西省 read.
    ReadProvinceNotification,
    /// An action on the province's need once resolved (page).
    ResolvedNeedAction(&'static str),
    /// An action on a need the enterprise reported (page).
    EnterpriseNeedAction(&'static str),
    /// Release a member stationed on case 1 for the cell.
    Release,
    /// Remove a channel added to 曲沃县 for the cell.
    RemoveChannel,
    /// Move a planned shipment of case 1 into transit.
    MoveShipment,
    /// Attach the province's need to a milestone of case 1's plan.
    AttachBlocker,
    /// Upload a document to the province's need (multipart).
    Attach,
    /// Download a document attached to the province's need.
    AttachmentFile,
    /// Open the event stream (its status only: it does not end by itself).
    Stream(&'static str),
}

/// One row: the route it covers (method and pattern as the route table has them), the use case,
/// what it does and what each actor gets.
struct Row {
    method: &'static str,
    route: &'static str,
    what: &'static str,
    act: Act,
    expect: [Outcome; 12],
}

const fn row(method: &'static str, route: &'static str, what: &'static str, act: Act, expect: [Outcome; 12]) -> Row {
    Row { method, route, what, act, expect }
}

fn plain(path: &'static str) -> Act {
    Act::Plain { path, body: None }
}

fn need_action(action: &'static str) -> Act {
    Act::ProvinceNeed { action, body: |_| json!({}) }
}

fn matrix() -> Vec<Row> {
    use Act::*;
    vec![
        // ---- the API ----
        row("get", "/healthz", "liveness", plain("/healthz"), ALL),
        row("get", "/api/v1/openapi.json", "the OpenAPI document", plain("/api/v1/openapi.json"), ALL),
        row("get", "/api/v1/regions", "find regions", plain("/api/v1/regions?q=%E6%9B%B2%E6%B2%83"), ALL),
        row("get", "/api/v1/regions/{code}", "a region", plain("/api/v1/regions/141021"), ALL),
        row("post", "/api/v1/auth/token", "log in", Login, ALL),
        row("post", "/api/v1/auth/logout", "log out", Logout, ALL),
        row("get", "/api/v1/me", "one's account", plain("/api/v1/me"), ALL),
        row("get", "/api/v1/enterprises", "list enterprises: enterprise 1", Lists { path: "/api/v1/enterprises", holds: Holds::Enterprise1 }, SEES_ENTERPRISE),
        row("post", "/api/v1/enterprises", "register an enterprise in 曲沃县", Plain { path: "/api/v1/enterprises", body: Some(|n| json!({"name": format!("矩阵企业{n}"), "credit_code": credit_code(n), "region": "141021"})) }, REGISTERS_IN_QUWO),
        row("get", "/api/v1/providers", "list the registry: provider 1", Lists { path: "/api/v1/providers", holds: Holds::Provider1 }, SEES_PROVIDER_1),
        row("post", "/api/v1/providers", "register a provider in 曲沃县", Plain { path: "/api/v1/providers", body: Some(|n| json!({"key": format!("matrix:{n}"), "name": format!("矩阵提供方{n}"), "region": "141021"})) }, REGISTERS_IN_QUWO),
        row("get", "/api/v1/providers/{id}", "provider 1", plain("/api/v1/providers/1"), SEES_PROVIDER_1),
        row("put", "/api/v1/providers/{id}/capabilities/{kind}", "set provider 1's capability", Plain { path: "/api/v1/providers/1/capabilities/sterilisation", body: Some(|_| sterilisation()) }, EDITS_PROVIDER_1),
        row("get", "/api/v1/cases", "list cases: case 1", Lists { path: "/api/v1/cases", holds: Holds::Case1 }, SEES_CASE),
        row("post", "/api/v1/cases", "open the case of an enterprise of 曲沃县", CreateCase, OPENS_CASE_IN_QUWO),
        row("get", "/api/v1/cases/{id}", "case 1", plain("/api/v1/cases/1"), SEES_CASE),
        row("post", "/api/v1/cases/{id}/team", "station a member on case 1", AddTeamMember, KEEPS_TEAM),
        row("post", "/api/v1/cases/{id}/team/{member}/release", "release a member of case 1", ReleaseMember, KEEPS_TEAM),
        row("post", "/api/v1/cases/{id}/shipments/{shipment}/move", "move a shipment of case 1 into transit", MoveShipment, ACTS_ON_CASE),
        row("post", "/api/v1/cases/{id}/plan/milestones", "add a milestone to case 1's plan", Plain { path: "/api/v1/cases/1/plan/milestones", body: Some(|n| json!({"name_zh": format!("矩阵节点{n}"), "name_en": "matrix step", "duration_h": 8})) }, SHAPES_PLAN),
        row("delete", "/api/v1/cases/{id}/plan/milestones/{key}", "remove a milestone of case 1's plan", RemoveMilestone, SHAPES_PLAN),
        row("post", "/api/v1/cases/{id}/plan/milestones/{key}/blockers", "attach the province's need to a milestone", AttachBlocker, ACTS_ON_CASE),
        row("delete", "/api/v1/cases/{id}/plan/milestones/{key}/blockers/{need}", "detach the province's need from a milestone", DetachBlocker, ACTS_ON_CASE),
        row("get", "/api/v1/cases/{id}/needs", "case 1's needs", plain("/api/v1/cases/1/needs"), SEES_CASE),
        row("post", "/api/v1/cases/{id}/needs", "report a need on case 1", Plain { path: "/api/v1/cases/1/needs", body: Some(|n| json!({"kind": "labour", "title": format!("矩阵诉求{n}"), "quantity": 1, "requires": {"skill": "包装"}, "source": false})) }, REPORTS),
        row("get", "/api/v1/cases/{id}/events", "case 1's timeline", plain("/api/v1/cases/1/events"), SEES_CASE),
        row("post", "/api/v1/cases/{id}/approvals", "open an approval on case 1", Plain { path: "/api/v1/cases/1/approvals", body: Some(|n| json!({"department": "141021", "agency": "市场监管", "item": format!("矩阵备案{n}")})) }, ACTS_ON_CASE),
        row("post", "/api/v1/cases/{id}/shipments", "record a shipment of case 1", Plain { path: "/api/v1/cases/1/shipments", body: Some(|n| json!({"goods": format!("矩阵口罩{n}"), "origin": "141021", "destination": "140822"})) }, ACTS_ON_CASE),
        row("get", "/api/v1/cases/{id}/returns", "case 1's daily returns", plain("/api/v1/cases/1/returns"), SEES_CASE),
        row("post", "/api/v1/cases/{id}/returns", "submit a daily return of case 1", Plain { path: "/api/v1/cases/1/returns", body: Some(|_| json!({"day": "2020-02-20", "product": "医用外科口罩", "capacity_per_day": 1, "output": 1, "stock": 1})) }, REPORTS),
        row("post", "/api/v1/cases/{id}/returns/upload", "upload a spreadsheet of case 1's returns", UploadReturns, REPORTS),
        row("get", "/api/v1/returns", "list returns: case 1's", Lists { path: "/api/v1/returns", holds: Holds::Return1 }, SEES_CASE),
        row("get", "/api/v1/figures", "the figures of 曲沃县", plain("/api/v1/figures?region=141021&to=2020-02-20"), FIGURES_OF_QUWO),
        row("get", "/api/v1/briefing", "the briefing of 曲沃县 for 2020-02-20", plain("/api/v1/briefing?region=141021&day=2020-02-20"), FIGURES_OF_QUWO),
        row("get", "/api/v1/cases/{id}/plan", "case 1's plan", plain("/api/v1/cases/1/plan"), SEES_CASE),
        row("put", "/api/v1/cases/{id}/plan", "replace case 1's plan", Plain { path: "/api/v1/cases/1/plan", body: Some(|_| json!({"milestones": [{"id": "first_output", "duration_h": 24}]})) }, ACTS_ON_CASE),
        row("post", "/api/v1/approvals/{id}/decision", "decide an approval of 曲沃县", DecideApproval, DECIDES_APPROVAL),
        row("get", "/api/v1/needs", "list needs: the sterilisation need", Lists { path: "/api/v1/needs", holds: Holds::Need7 }, SEES_NEED),
        row("get", "/api/v1/needs/{id}", "the province's need", ProvinceNeed { action: "", body: |_| Value::Null }, SEES_NEED),
        row("post", "/api/v1/needs/{id}/route", "screen the registry for the province's need", need_action("route"), PROPOSES),
        row("post", "/api/v1/needs/{id}/broadcast", "broadcast the province's need", ProvinceNeed { action: "broadcast", body: |_| json!({"ring": "province"}) }, DECIDES_NEED),
        row("post", "/api/v1/needs/{id}/candidates", "put provider 1 forward for the province's need", ProvinceNeed { action: "candidates", body: |_| json!({"provider_id": 1}) }, PROPOSES),
        row("post", "/api/v1/needs/{id}/select", "select the province's provider", ProvinceNeed { action: "select", body: |f| json!({"candidate_id": f.candidate}) }, DECIDES_NEED),
        row("post", "/api/v1/needs/{id}/switch", "switch the province's provider", ProvinceNeed { action: "switch", body: |f| json!({"candidate_id": f.candidate, "reason": "矩阵改选"}) }, DECIDES_NEED),
        row("post", "/api/v1/needs/{id}/start", "start the province's need", need_action("start"), DECIDES_NEED),
        row("post", "/api/v1/needs/{id}/resolve", "resolve the province's need", need_action("resolve"), DECIDES_NEED),
        row("post", "/api/v1/needs/{id}/cancel", "cancel the province's need", need_action("cancel"), DECIDES_NEED),
        row("post", "/api/v1/needs/{id}/escalate", "escalate the province's need (督办)", ProvinceNeed { action: "escalate", body: |_| json!({"reason": "矩阵"}) }, DECIDES_NEED),
        row("get", "/api/v1/allocations", "allocate sterilisation over 曲沃县", plain("/api/v1/allocations?kind=sterilisation&department=141021"), ALLOCATES_QUWO),
        row("post", "/api/v1/needs/{id}/accept-allocation", "accept 万荣 for the province's need (an allocation's proposal)", ProvinceNeed { action: "accept-allocation", body: |_| json!({"provider_id": 1}) }, DECIDES_NEED),
        row("post", "/api/v1/needs/{id}/reject-allocation", "reject an allocation's proposal for the province's need", ProvinceNeed { action: "reject-allocation", body: |_| json!({"provider_id": 1, "reason": "矩阵"}) }, DECIDES_NEED),
        row("post", "/api/v1/needs/{id}/what-if", "what if the province's need resolved later", WhatIf, SEES_CASE),
        row("put", "/api/v1/needs/{id}", "edit the province's need", EditProvinceNeed, EDITS_NEED),
        row("get", "/api/v1/inbox", "one's inbox: need 7", Lists { path: "/api/v1/inbox", holds: Holds::Need7 }, INBOX_HOLDS_NEED_7),
        row("post", "/api/v1/needs/{id}/responses", "answer the province's need (accept)", ProvinceNeed { action: "responses", body: |_| json!({"answer": "accept", "note": "矩阵承接"}) }, ANSWERS_NEED),
        row("post", "/api/v1/needs/{id}/comments", "comment on the province's need", ProvinceNeed { action: "comments", body: |_| json!({"text": "矩阵意见"}) }, DISCUSSES_NEED),
        row("post", "/api/v1/needs/{id}/attachments", "attach a PDF to the province's need", ProvinceNeed { action: "attachments", body: |_| json!({"filename": "矩阵报告.pdf", "content_base64": bangfu_app::participation::base64_encode(b"%PDF-1.4 matrix")}) }, DISCUSSES_NEED),
        row("get", "/api/v1/attachments/{id}", "a document attached to the province's need", Attachment, SEES_CASE),
        row("post", "/api/v1/needs/{id}/confirm", "confirm the resolved province's need solved", ResolvedNeed { action: "confirm", body: |_| Value::Null }, AS_ENTERPRISE),
        row("post", "/api/v1/needs/{id}/reopen", "reopen the resolved province's need", ResolvedNeed { action: "reopen", body: |_| json!({"reason": "矩阵：仍未解决"}) }, REOPENS_RESOLVED),
        row("post", "/api/v1/needs/{id}/withdraw", "withdraw a need the enterprise reported", EnterpriseNeed { action: "withdraw", body: |_| json!({"reason": "矩阵：已自行解决"}) }, AS_ENTERPRISE),
        row("post", "/api/v1/escalations/run", "run the escalation pass", plain("/api/v1/escalations/run"), ADMIN_ONLY),
        row("post", "/api/v1/briefings/generate", "generate the briefings of 2020-02-20", Plain { path: "/api/v1/briefings/generate", body: Some(|_| json!({"day": "2020-02-20"})) }, ADMIN_ONLY),
        row("get", "/api/v1/search", "search: enterprise 1 by its name in traditional characters", Search { q: "健康動力", kind: "enterprise", id: 1 }, SEES_ENTERPRISE),
        row("get", "/api/v1/search", "search: enterprise 1 by its credit code", Search { q: "91141021MA0KQ20203", kind: "enterprise", id: 1 }, SEES_ENTERPRISE),
        row("get", "/api/v1/search", "search: provider 1 by its pinyin", Search { q: "wanrong", kind: "provider", id: 1 }, SEES_PROVIDER_1),
        row("get", "/api/v1/letters", "list letters: letter 1", Lists { path: "/api/v1/letters", holds: Holds::Letter1 }, SEES_LETTER),
        row("get", "/api/v1/letters/{id}", "letter 1 (sent to 广东省)", plain("/api/v1/letters/1"), SEES_LETTER),
        row("put", "/api/v1/letters/{id}", "edit the province's draft letter", EditLetter, SENDS_LETTER),
        row("get", "/api/v1/letters/{id}/pdf", "letter 1 as a PDF", plain("/api/v1/letters/1/pdf"), SEES_LETTER),
        row("post", "/api/v1/letters/{id}/send", "send the province's draft letter", Letter { sent: false }, SENDS_LETTER),
        row("post", "/api/v1/letters/{id}/acknowledge", "acknowledge the province's sent letter", Letter { sent: true }, ACKNOWLEDGES_LETTER),
        row("get", "/api/v1/notifications", "one's notifications", plain("/api/v1/notifications"), ALL),
        row("get", "/api/v1/channels", "one's channels", plain("/api/v1/channels"), ALL),
        row("delete", "/api/v1/channels/{id}", "remove a channel of 曲沃县", RemoveChannel, REMOVES_QUWO_CHANNEL),
        row("post", "/api/v1/channels", "add a channel to 曲沃县", Plain { path: "/api/v1/channels", body: Some(|n| json!({"department": "141021", "kind": "webhook", "url": format!("https://hooks.example.gov.cn/{n}"), "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})) }, KEEPS_QUWO_CHANNELS),
        row("get", "/api/v1/outbox", "the outbox", plain("/api/v1/outbox"), ADMIN_ONLY),
        row("post", "/api/v1/outbox/{id}/retry", "put 曲沃县's message 1 back in line", plain("/api/v1/outbox/1/retry"), RETRIES_QUWO_MESSAGE),
        row("get", "/api/v1/needs/{id}/deliveries", "the sterilisation need's delivery log", plain("/api/v1/needs/7/deliveries"), SEES_NEED),
        // ---- the pages ----
        row("get", "/", "the dashboard (or one's own case or provider)", Page(PageAct::Get("/")), ALL),
        row("get", "/login", "the login form", Page(PageAct::Get("/login")), ALL),
        row("post", "/login", "log in through the form", Page(PageAct::Login), ALL),
        row("post", "/logout", "log out", Page(PageAct::Logout), ALL),
        row("get", "/lang/{code}", "switch the language", Page(PageAct::Get("/lang/en?back=/")), ALL),
        row("get", "/assets/{file}", "the style sheet", Page(PageAct::Get("/assets/style.css")), ALL),
        row("get", "/cases/{id}", "case 1's page", Page(PageAct::Get("/cases/1")), SEES_CASE),
        row("get", "/cases/{id}/enterprise", "case 1's enterprise page", Page(PageAct::Get("/cases/1/enterprise")), SEES_CASE),
        row("post", "/cases/{id}/needs", "report a need through the form", Page(PageAct::Form { path: "/cases/1/needs", fields: |n| vec![("kind", "labour".into()), ("title", format!("矩阵表单诉求{n}")), ("quantity", "1".into()), ("skill", "包装".into())] }), REPORTS),
        row("post", "/cases/{id}/returns", "submit a daily return through the form", Page(PageAct::Form { path: "/cases/1/returns", fields: |_| vec![("day", "2020-02-21".into()), ("product", "医用外科口罩".into()), ("capacity_per_day", "1".into()), ("output", "1".into()), ("stock", "1".into())] }), REPORTS),
        row("post", "/cases/{id}/returns/upload", "upload a spreadsheet of returns through the form", Page(PageAct::UploadReturns), REPORTS),
        row("post", "/cases/{id}/approvals", "open an approval through the form", Page(PageAct::Form { path: "/cases/1/approvals", fields: |n| vec![("department", "141021".into()), ("agency", "发改".into()), ("item", format!("矩阵表单备案{n}"))] }), ACTS_ON_CASE),
        row("post", "/cases/{id}/approvals/{approval}", "decide an approval through the form", Page(PageAct::DecideApproval), DECIDES_APPROVAL),
        row("post", "/cases/{id}/shipments", "record a shipment through the form", Page(PageAct::Form { path: "/cases/1/shipments", fields: |n| vec![("goods", format!("矩阵表单口罩{n}")), ("origin", "141021".into()), ("destination", "140822".into()), ("status", "planned".into())] }), ACTS_ON_CASE),
        row("get", "/needs", "the needs list", Page(PageAct::Get("/needs")), ALL),
        row("get", "/cases", "the cases list, by region", Page(PageAct::Get("/cases")), ALL),
        row("post", "/needs/bulk", "escalate the province's need from the queue (bulk)", Page(PageAct::BulkEscalate), DECIDES_NEED),
        row("post", "/needs/views", "save a view of the queue", Page(PageAct::Form { path: "/needs/views", fields: |n| vec![("name", format!("矩阵视图{n}")), ("status", "active".into()), ("overdue", "1".into()), ("sort", "due".into())] }), ALL),
        row("post", "/needs/views/{id}/delete", "delete a view quwo saved", Page(PageAct::DeleteQuwoView), ONLY_QUWO),
        row("get", "/notifications", "one's notifications (page)", Page(PageAct::Get("/notifications")), ALL),
        row("post", "/notifications/read-all", "mark all one's notifications read", Page(PageAct::Form { path: "/notifications/read-all", fields: |_| vec![] }), ALL),
        row("post", "/notifications/{id}/read", "mark a notification of 山西省 read", Page(PageAct::ReadProvinceNotification), ONLY_SHANXI),
        row("get", "/notifications/stream", "one's unread count as server-sent events", Page(PageAct::Stream("/notifications/stream")), ALL),
        row("get", "/allocate", "the allocation page for 曲沃县", Page(PageAct::Get("/allocate?kind=sterilisation&department=141021")), ALLOCATES_QUWO),
        row("post", "/needs/{id}/{action}", "accept an allocation's proposal (page)", Page(PageAct::NeedAction("accept-allocation")), DECIDES_NEED),
        row("post", "/needs/{id}/{action}", "reject an allocation's proposal (page)", Page(PageAct::NeedAction("reject-allocation")), DECIDES_NEED),
        row("get", "/search", "the search page (万荣)", Page(PageAct::Get("/search?q=%E4%B8%87%E8%8D%A3")), ALL),
        row("get", "/needs/{id}", "the sterilisation need's page", Page(PageAct::Get("/needs/7")), SEES_NEED),
        row("get", "/needs/{id}/letters/{letter}", "letter 1, printable", Page(PageAct::Get("/needs/1/letters/1")), SEES_LETTER),
        row("post", "/needs/{id}/letters/{letter}", "edit the province's draft letter (page)", Page(PageAct::EditLetter), SENDS_LETTER),
        row("get", "/needs/{id}/letters/{letter}/pdf", "letter 1 as a PDF (page)", Page(PageAct::Get("/needs/1/letters/1/pdf")), SEES_LETTER),
        row("post", "/needs/{id}/{action}", "screen the registry (page)", Page(PageAct::NeedAction("source")), PROPOSES),
        row("post", "/needs/{id}/{action}", "put a provider forward (page)", Page(PageAct::NeedAction("propose")), PROPOSES),
        row("post", "/needs/{id}/{action}", "select (page)", Page(PageAct::NeedAction("select")), DECIDES_NEED),
        row("post", "/needs/{id}/{action}", "switch (page)", Page(PageAct::NeedAction("switch")), DECIDES_NEED),
        row("post", "/needs/{id}/{action}", "broadcast (page)", Page(PageAct::NeedAction("broadcast")), DECIDES_NEED),
        row("post", "/needs/{id}/{action}", "start (page)", Page(PageAct::NeedAction("start")), DECIDES_NEED),
        row("post", "/needs/{id}/{action}", "resolve (page)", Page(PageAct::NeedAction("resolve")), DECIDES_NEED),
        row("post", "/needs/{id}/{action}", "cancel (page)", Page(PageAct::NeedAction("cancel")), DECIDES_NEED),
        row("post", "/needs/{id}/{action}", "escalate (page)", Page(PageAct::NeedAction("escalate")), DECIDES_NEED),
        row("post", "/needs/{id}/{action}", "answer as a candidate provider (page)", Page(PageAct::NeedAction("respond")), ANSWERS_NEED),
        row("post", "/needs/{id}/{action}", "comment (page)", Page(PageAct::NeedAction("comment")), DISCUSSES_NEED),
        row("post", "/needs/{id}/{action}", "edit (page)", Page(PageAct::NeedAction("edit")), EDITS_NEED),
        row("post", "/needs/{id}/{action}", "confirm solved (page)", Page(PageAct::ResolvedNeedAction("confirm")), AS_ENTERPRISE),
        row("post", "/needs/{id}/{action}", "reopen once resolved (page)", Page(PageAct::ResolvedNeedAction("reopen")), REOPENS_RESOLVED),
        row("post", "/needs/{id}/{action}", "withdraw the enterprise's need (page)", Page(PageAct::EnterpriseNeedAction("withdraw")), AS_ENTERPRISE),
        row("post", "/cases/{id}/team", "station a member through the form", Page(PageAct::Form { path: "/cases/1/team", fields: |n| vec![("title", format!("矩阵表单专班{n}")), ("department", "141021".into()), ("role", "task_force".into())] }), KEEPS_TEAM),
        row("post", "/cases/{id}/team/{member}/release", "release a member through the form", Page(PageAct::Release), KEEPS_TEAM),
        row("post", "/cases/{id}/shipments/{shipment}", "move a shipment into transit", Page(PageAct::MoveShipment), ACTS_ON_CASE),
        row("post", "/cases/{id}/plan/blockers", "attach a need to a milestone", Page(PageAct::AttachBlocker), ACTS_ON_CASE),
        row("post", "/cases/{id}/plan/milestones", "add a milestone to case 1's plan through the form", Page(PageAct::Form { path: "/cases/1/plan/milestones", fields: |n| vec![("name_zh", format!("矩阵表单节点{n}")), ("duration_h", "12".into())] }), SHAPES_PLAN),
        row("post", "/enterprises", "register an enterprise of 曲沃县 and open its case (page)", Page(PageAct::Form { path: "/enterprises", fields: |n| vec![("name", format!("矩阵表单企业{n}")), ("credit_code", credit_code(n)), ("region", "141021".into()), ("case_title", "矩阵立档".into())] }), REGISTERS_IN_QUWO),
        row("get", "/inbox", "one's inbox (page)", Page(PageAct::Get("/inbox")), ALL),
        row("post", "/needs/{id}/attachments", "attach a document (page)", Page(PageAct::Attach), DISCUSSES_NEED),
        row("get", "/attachments/{id}", "a document attached to the province's need (page)", Page(PageAct::AttachmentFile), SEES_CASE),
        row("post", "/needs/{id}/{action}", "mark a letter sent (page)", Page(PageAct::LetterAction { sent: false }), SENDS_LETTER),
        row("post", "/needs/{id}/{action}", "mark a letter acknowledged (page)", Page(PageAct::LetterAction { sent: true }), ACKNOWLEDGES_LETTER),
        row("get", "/registry", "search the registry", Page(PageAct::Get("/registry")), BROWSES_REGISTRY),
        row("post", "/registry/providers", "register a provider through the form", Page(PageAct::Form { path: "/registry/providers", fields: |n| vec![("key", format!("matrix:form:{n}")), ("name", format!("矩阵表单提供方{n}")), ("region", "141021".into())] }), REGISTERS_IN_QUWO_PAGE),
        row("get", "/registry/providers/{id}", "provider 1's page", Page(PageAct::Get("/registry/providers/1")), SEES_PROVIDER_1),
        row("post", "/registry/providers/{id}/capabilities", "set provider 1's capability through the form", Page(PageAct::Form { path: "/registry/providers/1/capabilities", fields: |_| vec![("kind", "sterilisation".into()), ("method", "co60".into()), ("turnaround_h", "36".into()), ("capacity_per_day", "100000".into()), ("available", "1".into())] }), EDITS_PROVIDER_1),
        row("get", "/registry/import", "the import form", Page(PageAct::Get("/registry/import")), IMPORTS_FORM),
        row("post", "/registry/import", "import a provider of 曲沃县", Page(PageAct::Import), IMPORTS_IN_QUWO),
        row("get", "/figures", "the figures page of 曲沃县", Page(PageAct::Get("/figures?region=141021&to=2020-02-20")), FIGURES_OF_QUWO),
        row("get", "/briefing", "the briefing page of 曲沃县", Page(PageAct::Get("/briefing?region=141021&day=2020-02-20")), FIGURES_OF_QUWO),
        row("get", "/briefing/download", "the briefing of 曲沃县 as a workbook", Page(PageAct::Get("/briefing/download?region=141021&day=2020-02-20&format=xlsx")), FIGURES_OF_QUWO),
        row("get", "/export/{list}", "download case 1's timeline", Page(PageAct::Get("/export/events?case_id=1&format=csv")), SEES_CASE),
        row("get", "/channels", "one's channels (page)", Page(PageAct::Get("/channels")), ALL),
        row("post", "/channels/{id}/remove", "remove a channel of 曲沃县 (page)", Page(PageAct::RemoveChannel), REMOVES_QUWO_CHANNEL),
        row("post", "/channels", "add a channel to 曲沃县 through the form", Page(PageAct::Form { path: "/channels", fields: |n| vec![("department", "141021".into()), ("kind", "wecom".into()), ("url", format!("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=form{n}"))] }), KEEPS_QUWO_CHANNELS),
        row("get", "/outbox", "the outbox (page)", Page(PageAct::Get("/outbox")), ADMIN_ONLY),
        row("post", "/outbox/{id}/retry", "put 曲沃县's message 1 back in line (page)", Page(PageAct::Form { path: "/outbox/1/retry", fields: |_| vec![] }), RETRIES_QUWO_MESSAGE),
    ]
}

fn sterilisation() -> Value {
    json!({"attrs": {"method": "co60", "turnaround_h": 36, "capacity_per_day": 100000}})
}

/// A valid unified social credit code of 曲沃县, different for each `n`.
fn credit_code(n: u32) -> String {
    let first17 = format!("91141021MA1{:06}", n % 1_000_000);
    format!("{first17}{}", bangfu_core::credit_code::check_character(&first17).unwrap())
}

static SERIAL: AtomicU32 = AtomicU32::new(1);

fn serial() -> u32 {
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// When objects are made for a cell (before any request, which the server stamps with its clock).
fn then() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

struct World {
    base: String,
    app: App,
    /// The server (its database dropped with it).
    #[allow(dead_code)]
    server: crate::support::TestApp,
    client: reqwest::Client,
    /// Per actor: a bearer token, and the pages' session cookie with its CSRF token.
    sessions: Vec<(String, String, String)>,
}

/// The objects a need row acts on.
struct Fixture {
    need: i64,
    candidate: i64,
}

impl World {
    async fn new(db: TestDb) -> World {
        let app = App::open(db.url()).await.unwrap();
        let admin = Actor::system("matrix");
        bangfu_app::demo::load(&app, &admin).await.unwrap();
        bangfu_app::demo_accounts::load_accounts(&app, &admin, then()).await.unwrap();
        let other = app
            .add_enterprise(&admin, then(), NewEnterprise { name: "运城某企业".into(), credit_code: credit_code(999_999), region: "140822".into(), ..Default::default() })
            .await
            .unwrap();
        let henan = NewTeamMember { title: "河南省工信厅对口支援干部".into(), department: "410000".into(), role: "stationed_cadre".into(), user_id: None };
        app.add_team_member(&admin, then(), 1, henan).await.unwrap();
        let seeded = bangfu_app::returns::NewDailyReturn { day: "2020-02-19".into(), product: "医用外科口罩".into(), capacity_per_day: 10.0, output: 5.0, stock: 1.0, ..Default::default() };
        assert_eq!(app.submit_daily_return(&admin, then(), 1, seeded).await.unwrap().id, 1, "the seeded return is return 1");
        for (username, role, department, enterprise_id, provider_id) in [
            ("guangdong", "officer", Some("440000"), None, None),
            ("henan", "officer", Some("410000"), None, None),
            ("enterprise2", "enterprise", None, Some(other.id), None),
            ("provider2", "provider", None, None, Some(5)),
        ] {
            let user = NewUser {
                username: username.into(),
                role: role.into(),
                department: department.map(str::to_string),
                enterprise_id,
                provider_id,
                password: DEMO_PASSWORD.into(),
                ..NewUser::default()
            };
            app.add_user(&admin, then(), user).await.unwrap();
        }
        // A channel of 曲沃县 and a need that makes its first message (issue 15): message 1 is
        // 曲沃县's (no worker runs here, so it stays pending).
        let channel = bangfu_app::outbox::NewChannel { department: Some("141021".into()), kind: "wecom".into(), url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=matrix".into(), ..Default::default() };
        app.add_channel(&admin, then(), channel).await.unwrap();
        let labour = NewNeed { kind: "labour".into(), title: "矩阵推送诉求".into(), quantity: 1.0, requires: json!({"skill": "包装"}), ..NewNeed::default() };
        app.report_need(&admin, then(), 1, labour).await.unwrap();
        assert_eq!(app.outbox(&admin, None, 0, 1).await.unwrap()[0].message.department.map(|d| d.to_string()).as_deref(), Some("141021"));
        let server = crate::support::serve(app, Some(db), bangfu_web::Settings::default()).await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut world = World { base: server.base.clone(), app: server.app.clone(), server, client, sessions: Vec::new() };
        for actor in ACTORS {
            let token = world.token(actor).await;
            let (cookie, csrf) = world.page_session(actor).await;
            world.sessions.push((token, cookie, csrf));
        }
        world
    }

    async fn token(&self, username: &str) -> String {
        let response = self.client.post(format!("{}/api/v1/auth/token", self.base)).json(&json!({"username": username, "password": DEMO_PASSWORD})).send().await.unwrap();
        assert_eq!(response.status(), 200, "{username} logs in");
        response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
    }

    /// Logs in through the form: the session cookie and the session's CSRF token.
    async fn page_session(&self, username: &str) -> (String, String) {
        let form = self.client.get(format!("{}/login", self.base)).send().await.unwrap();
        let login_cookie = set_cookie(&form, "bangfu_login_csrf").unwrap();
        let csrf = csrf_in(&form.text().await.unwrap());
        let fields = [("username", username), ("password", DEMO_PASSWORD), ("csrf", csrf.as_str()), ("next", "/")];
        let response = self.client.post(format!("{}/login", self.base)).header("cookie", format!("bangfu_login_csrf={login_cookie}")).form(&fields).send().await.unwrap();
        assert_eq!(response.status(), 303, "{username} logs in through the form");
        let cookie = format!("bangfu_session={}", set_cookie(&response, "bangfu_session").unwrap());
        // Every page carries the session's CSRF token: the landing page (an enterprise's or a
        // provider's is where `/` sends it).
        let mut path = "/".to_string();
        let page = loop {
            let response = self.client.get(format!("{}{path}", self.base)).header("cookie", &cookie).send().await.unwrap();
            match response.headers().get("location").and_then(|v| v.to_str().ok()) {
                Some(location) => path = location.to_string(),
                None => break response.text().await.unwrap(),
            }
        };
        (cookie, csrf_in(&page))
    }

    /// A channel of 曲沃县 added for cell `n` (by an administrator), its id.
    async fn quwo_channel(&self, n: u32) -> i64 {
        let channel = bangfu_app::outbox::NewChannel {
            department: Some("141021".into()),
            kind: "wecom".into(),
            url: format!("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=remove{n}"),
            ..Default::default()
        };
        self.app.add_channel(&Actor::system("matrix"), then(), channel).await.unwrap().id
    }

    /// A need of case 1 that the province owns, sourced, with a feasible candidate (selected
    /// first for a switch, attached to the plan for a what-if).
    async fn province_need(&self, selected: bool, planned: bool) -> Fixture {
        let admin = Actor::system("matrix");
        let input = NewNeed { kind: "sterilisation".into(), title: format!("矩阵灭菌{}", serial()), quantity: 1000.0, requires: json!({}), ..NewNeed::default() };
        let need = self.app.report_and_source(&admin, then(), 1, input).await.unwrap();
        assert_eq!(need.owner.to_string(), "140000", "the province owns it");
        let detail = self.app.need_detail(&admin, need.id).await.unwrap();
        assert!(detail.candidates.iter().any(|(c, _)| c.provider_id == 1), "万荣 is a candidate");
        let candidate = detail.candidates.iter().find(|(c, _)| c.feasible).unwrap().0.id;
        if selected {
            self.app.select_candidate(&admin, then(), need.id, candidate).await.unwrap();
        }
        if planned {
            let milestone = NewMilestone { key: "first_output".into(), name: String::new(), duration_h: 24.0, after: vec![], not_before: None, actual_start: None, actual_finish: None, blockers: vec![need.id] };
            self.app.set_plan(&admin, then(), 1, vec![milestone]).await.unwrap();
        }
        Fixture { need: need.id, candidate }
    }

    /// A national need's letter (sender 山西省; addressees 广东省, 东莞市), sent or a draft.
    async fn letter(&self, sent: bool) -> (i64, i64) {
        let admin = Actor::system("matrix");
        let input = NewNeed {
            kind: "equipment".into(),
            title: format!("矩阵生产线{}", serial()),
            quantity: 1.0,
            requires: json!({"item": "口罩生产线"}),
            solution_region: Some("441900".into()),
            ..NewNeed::default()
        };
        let need = self.app.report_need(&admin, then(), 1, input).await.unwrap();
        let letter = self.app.need_detail(&admin, need.id).await.unwrap().letters[0].id;
        if sent {
            self.app.set_letter_status(&admin, then(), letter, LetterStatus::Sent, "").await.unwrap();
        }
        (need.id, letter)
    }

    async fn approval(&self) -> i64 {
        let input = NewApproval { department: "141021".into(), agency: "生态环境".into(), item: format!("矩阵审批{}", serial()), due_at: None };
        self.app.open_approval(&Actor::system("matrix"), then(), 1, input).await.unwrap().id
    }

    async fn api(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn page(&self, method: Method, path: &str, actor: usize, form: Option<Vec<(&'static str, String)>>) -> (u16, String) {
        let (_, cookie, csrf) = &self.sessions[actor];
        let mut request = self.client.request(method, format!("{}{path}", self.base)).header("cookie", cookie);
        if let Some(mut fields) = form {
            fields.push(("csrf", csrf.clone()));
            request = request.form(&fields);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let text = response.text().await.unwrap();
        assert!(!location.starts_with("/login"), "{path}: the session was not taken");
        (status, text)
    }

    /// What `actor` gets doing what `row` does.
    async fn perform(&self, row: &Row, actor: usize) -> Result<Outcome, String> {
        let token = self.sessions[actor].0.clone();
        let n = serial();
        let (status, body) = match row.act {
            Act::Plain { path, body } => {
                let method = Method::from_bytes(row.method.to_uppercase().as_bytes()).unwrap();
                self.api(method, path, &token, body.map(|b| b(n))).await
            }
            Act::Lists { path, holds } => {
                let (status, body) = self.api(Method::GET, &format!("{path}?limit=500"), &token, None).await;
                if status != 200 {
                    return Err(format!("{status} {body}"));
                }
                let id = match holds {
                    Holds::Enterprise1 | Holds::Provider1 | Holds::Case1 | Holds::Letter1 | Holds::Return1 => 1,
                    Holds::Need7 => 7,
                };
                let held = body["items"].as_array().unwrap().iter().any(|item| item["id"] == id);
                return Ok(if held { Y } else { N });
            }
            Act::Search { q, kind, id } => {
                let path = format!("/api/v1/search?q={}&kind={kind}&limit=100", urlencode(q));
                let (status, body) = self.api(Method::GET, &path, &token, None).await;
                if status != 200 {
                    return Err(format!("{status} {body}"));
                }
                let held = body["items"].as_array().unwrap().iter().any(|item| item["kind"] == kind && item["id"] == id);
                return Ok(if held { Y } else { N });
            }
            Act::UploadReturns => {
                let csv = format!("day,product,capacity_per_day,output,stock\n2020-02-22,矩阵产品{n},1,1,1\n");
                let request = self.client.post(format!("{}/api/v1/cases/1/returns/upload", self.base)).bearer_auth(&token).header("content-type", "text/csv");
                let response = request.body(csv).send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.json().await.unwrap_or(Value::Null))
            }
            Act::Login => {
                let response = self.client.post(format!("{}/api/v1/auth/token", self.base)).json(&json!({"username": ACTORS[actor], "password": DEMO_PASSWORD})).send().await.unwrap();
                (response.status().as_u16(), Value::Null)
            }
            Act::Logout => {
                let fresh = self.token(ACTORS[actor]).await;
                self.api(Method::POST, "/api/v1/auth/logout", &fresh, None).await
            }
            Act::CreateCase => {
                let input = NewEnterprise { name: format!("矩阵立案企业{n}"), credit_code: credit_code(n), region: "141021".into(), ..Default::default() };
                let enterprise = self.app.add_enterprise(&Actor::system("matrix"), then(), input).await.unwrap();
                self.api(Method::POST, "/api/v1/cases", &token, Some(json!({"enterprise_id": enterprise.id}))).await
            }
            Act::AddTeamMember => self.api(Method::POST, "/api/v1/cases/1/team", &token, Some(json!({"title": format!("矩阵专班{n}"), "department": "141021", "role": "task_force"}))).await,
            Act::ReleaseMember => {
                let member = NewTeamMember { title: format!("矩阵撤回{n}"), department: "141021".into(), role: "task_force".into(), user_id: None };
                let member = self.app.add_team_member(&Actor::system("matrix"), then(), 1, member).await.unwrap();
                self.api(Method::POST, &format!("/api/v1/cases/1/team/{}/release", member.id), &token, Some(json!({"reason": "矩阵：任务完成"}))).await
            }
            Act::MoveShipment => {
                let input = bangfu_app::channel::NewShipment { goods: format!("矩阵运输{n}"), origin: "141021".into(), destination: "140822".into(), status: "planned".into(), ..Default::default() };
                let shipment = self.app.add_shipment(&Actor::system("matrix"), then(), 1, input).await.unwrap();
                self.api(Method::POST, &format!("/api/v1/cases/1/shipments/{}/move", shipment.id), &token, Some(json!({"status": "in_transit", "traffic_pass": format!("晋L-{n}")}))).await
            }
            Act::RemoveChannel => {
                let id = self.quwo_channel(n).await;
                self.api(Method::DELETE, &format!("/api/v1/channels/{id}"), &token, None).await
            }
            Act::RemoveMilestone => {
                let step = bangfu_app::plans::NewPlanStep { key: format!("matrix_rm{n}"), name_zh: "矩阵删除节点".into(), duration_h: 1.0, ..Default::default() };
                self.app.add_milestone(&Actor::system("matrix"), then(), 1, step).await.unwrap();
                self.api(Method::DELETE, &format!("/api/v1/cases/1/plan/milestones/matrix_rm{n}"), &token, None).await
            }
            Act::AttachBlocker | Act::DetachBlocker => {
                let fixture = self.province_need(false, false).await;
                let key = format!("matrix_b{n}");
                let step = bangfu_app::plans::NewPlanStep { key: key.clone(), name_zh: "矩阵卡点节点".into(), duration_h: 1.0, ..Default::default() };
                self.app.add_milestone(&Actor::system("matrix"), then(), 1, step).await.unwrap();
                if matches!(row.act, Act::AttachBlocker) {
                    self.api(Method::POST, &format!("/api/v1/cases/1/plan/milestones/{key}/blockers"), &token, Some(json!({"need_id": fixture.need}))).await
                } else {
                    assert!(self.app.attach_blocker(&Actor::system("matrix"), then(), 1, &key, fixture.need).await.unwrap());
                    self.api(Method::DELETE, &format!("/api/v1/cases/1/plan/milestones/{key}/blockers/{}", fixture.need), &token, None).await
                }
            }
            Act::ProvinceNeed { action, body } => {
                let fixture = self.province_need(action == "switch", false).await;
                if action.is_empty() {
                    self.api(Method::GET, &format!("/api/v1/needs/{}", fixture.need), &token, None).await
                } else {
                    self.api(Method::POST, &format!("/api/v1/needs/{}/{action}", fixture.need), &token, Some(body(&fixture))).await
                }
            }
            Act::EditProvinceNeed => {
                let fixture = self.province_need(false, false).await;
                let body = json!({"title": format!("矩阵改写{n}"), "quantity": 2000, "unit": "件", "requires": {"methods": ["co60"]}});
                self.api(Method::PUT, &format!("/api/v1/needs/{}", fixture.need), &token, Some(body)).await
            }
            Act::ResolvedNeed { action, body } => {
                let fixture = self.province_need(false, false).await;
                let admin = Actor::system("matrix");
                self.app.set_need_status(&admin, then(), fixture.need, bangfu_core::model::NeedStatus::Resolved, "矩阵").await.unwrap();
                let body = Some(body(&fixture)).filter(|b| !b.is_null());
                self.api(Method::POST, &format!("/api/v1/needs/{}/{action}", fixture.need), &token, body).await
            }
            Act::EnterpriseNeed { action, body } => {
                let enterprise = Actor { role: bangfu_core::model::Role::Enterprise, enterprise_id: Some(1), ..Actor::system("enterprise") };
                let input = NewNeed { kind: "sterilisation".into(), title: format!("矩阵企业诉求{n}"), quantity: 1000.0, ..NewNeed::default() };
                let need = self.app.report_need(&enterprise, then(), 1, input).await.unwrap();
                self.app.source_need(&Actor::system("matrix"), then(), need.id).await.unwrap();
                let fixture = Fixture { need: need.id, candidate: 0 };
                self.api(Method::POST, &format!("/api/v1/needs/{}/{action}", need.id), &token, Some(body(&fixture))).await
            }
            Act::Attachment => {
                let fixture = self.province_need(false, false).await;
                let attached = self.app.attach_to_need(&Actor::system("matrix"), then(), fixture.need, "矩阵.png", b"\x89PNG\r\n\x1a\nmatrix").await.unwrap();
                let (status, body) = self.api(Method::GET, &format!("/api/v1/attachments/{}", attached.id), &token, None).await;
                if status == 200 && body != Value::String("\u{fffd}PNG\r\n\u{1a}\nmatrix".into()) {
                    return Err(format!("the file came back changed: {body}"));
                }
                (status, body)
            }
            Act::WhatIf => {
                let fixture = self.province_need(false, true).await;
                self.api(Method::POST, &format!("/api/v1/needs/{}/what-if", fixture.need), &token, Some(json!({"resolves_at": "2030-01-01T00:00:00+08:00"}))).await
            }
            Act::DecideApproval => {
                let approval = self.approval().await;
                self.api(Method::POST, &format!("/api/v1/approvals/{approval}/decision"), &token, Some(json!({"status": "in_progress"}))).await
            }
            Act::EditLetter => {
                let (_, letter) = self.letter(false).await;
                let body = json!({"subject": "关于商请协调解决矩阵问题的函", "paragraphs": ["矩阵正文。"], "contact_name": "张三", "contact_phone": "0351-0000000", "cc": ["山西省人民政府办公厅"]});
                self.api(Method::PUT, &format!("/api/v1/letters/{letter}"), &token, Some(body)).await
            }
            Act::Letter { sent } => {
                let (_, letter) = self.letter(sent).await;
                let action = if sent { "acknowledge" } else { "send" };
                self.api(Method::POST, &format!("/api/v1/letters/{letter}/{action}"), &token, None).await
            }
            Act::Page(page) => {
                let (status, text) = self.perform_page(page, actor, n).await;
                return page_outcome(status, &text);
            }
        };
        match status {
            200..=299 => Ok(Y),
            404 => Ok(N),
            403 => Ok(F),
            other => Err(format!("{other} {body}")),
        }
    }

    async fn perform_page(&self, page: PageAct, actor: usize, n: u32) -> (u16, String) {
        match page {
            PageAct::Get(path) => self.page(Method::GET, path, actor, None).await,
            PageAct::Login => {
                let (cookie, _) = self.page_session(ACTORS[actor]).await;
                (if cookie.is_empty() { 401 } else { 303 }, String::new())
            }
            PageAct::Logout => {
                let (cookie, csrf) = self.page_session(ACTORS[actor]).await;
                let response = self.client.post(format!("{}/logout", self.base)).header("cookie", &cookie).form(&[("csrf", csrf)]).send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.text().await.unwrap())
            }
            PageAct::Form { path, fields } => self.page(Method::POST, path, actor, Some(fields(n))).await,
            PageAct::DecideApproval => {
                let approval = self.approval().await;
                self.page(Method::POST, &format!("/cases/1/approvals/{approval}"), actor, Some(vec![("status", "in_progress".into())])).await
            }
            PageAct::NeedAction(action) => {
                let fixture = self.province_need(action == "switch", false).await;
                let fields = match action {
                    "select" => vec![("candidate_id", fixture.candidate.to_string())],
                    "switch" => vec![("candidate_id", fixture.candidate.to_string()), ("reason", "矩阵改选".into())],
                    "propose" | "accept-allocation" => vec![("provider_id", "1".into())],
                    "reject-allocation" => vec![("provider_id", "1".into()), ("reason", "矩阵".into())],
                    "broadcast" => vec![("ring", "province".into())],
                    "escalate" => vec![("reason", "矩阵".into())],
                    "resolve" | "cancel" => vec![("note", "矩阵".into()), ("confirm", "1".into())],
                    "respond" => vec![("answer", "quote".into()), ("quantity", "1,000".into()), ("price", "0.1".into()), ("deliver_by", "2025-06-03T08:00".into())],
                    "comment" => vec![("text", "矩阵表单留言".into())],
                    "edit" => vec![("title", format!("矩阵表单改写{n}")), ("quantity", "2000".into()), ("unit", "件".into()), ("methods", "co60".into())],
                    _ => vec![],
                };
                self.page(Method::POST, &format!("/needs/{}/{action}", fixture.need), actor, Some(fields)).await
            }
            PageAct::ResolvedNeedAction(action) => {
                let fixture = self.province_need(false, false).await;
                self.app.set_need_status(&Actor::system("matrix"), then(), fixture.need, bangfu_core::model::NeedStatus::Resolved, "矩阵").await.unwrap();
                let fields = if action == "reopen" { vec![("reason", "矩阵：仍未解决".to_string())] } else { vec![] };
                self.page(Method::POST, &format!("/needs/{}/{action}", fixture.need), actor, Some(fields)).await
            }
            PageAct::EnterpriseNeedAction(action) => {
                let enterprise = Actor { role: bangfu_core::model::Role::Enterprise, enterprise_id: Some(1), ..Actor::system("enterprise") };
                let input = NewNeed { kind: "sterilisation".into(), title: format!("矩阵表单企业诉求{n}"), quantity: 1000.0, ..NewNeed::default() };
                let need = self.app.report_need(&enterprise, then(), 1, input).await.unwrap();
                self.app.source_need(&Actor::system("matrix"), then(), need.id).await.unwrap();
                self.page(Method::POST, &format!("/needs/{}/{action}", need.id), actor, Some(vec![("reason", "矩阵：已自行解决".to_string()), ("confirm", "1".into())])).await
            }
            PageAct::RemoveChannel => {
                let id = self.quwo_channel(n).await;
                self.page(Method::POST, &format!("/channels/{id}/remove"), actor, Some(vec![])).await
            }
            PageAct::Release => {
                let member = bangfu_app::cases::NewTeamMember { title: format!("矩阵撤回{n}"), department: "141021".into(), role: "task_force".into(), user_id: None };
                let member = self.app.add_team_member(&Actor::system("matrix"), then(), 1, member).await.unwrap();
                self.page(Method::POST, &format!("/cases/1/team/{}/release", member.id), actor, Some(vec![("reason", "矩阵：任务完成".into())])).await
            }
            PageAct::MoveShipment => {
                let input = bangfu_app::channel::NewShipment { goods: format!("矩阵运输{n}"), origin: "141021".into(), destination: "140822".into(), status: "planned".into(), ..Default::default() };
                let shipment = self.app.add_shipment(&Actor::system("matrix"), then(), 1, input).await.unwrap();
                self.page(Method::POST, &format!("/cases/1/shipments/{}", shipment.id), actor, Some(vec![("status", "in_transit".into()), ("traffic_pass", format!("晋L-{n}"))])).await
            }
            PageAct::AttachBlocker => {
                let fixture = self.province_need(false, false).await;
                let milestone = NewMilestone { key: "first_output".into(), name: String::new(), duration_h: 24.0, after: vec![], not_before: None, actual_start: None, actual_finish: None, blockers: vec![] };
                self.app.set_plan(&Actor::system("matrix"), then(), 1, vec![milestone]).await.unwrap();
                self.page(Method::POST, "/cases/1/plan/blockers", actor, Some(vec![("milestone", "first_output".into()), ("need_id", fixture.need.to_string())])).await
            }
            PageAct::Attach => {
                let fixture = self.province_need(false, false).await;
                let (_, cookie, csrf) = &self.sessions[actor];
                let boundary = "matrix-boundary";
                let body = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"矩阵报告.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 matrix {n}\r\n--{boundary}--\r\n"
                );
                let request = self.client.post(format!("{}/needs/{}/attachments", self.base, fixture.need)).header("cookie", cookie).header("content-type", format!("multipart/form-data; boundary={boundary}"));
                let response = request.body(body).send().await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            }
            PageAct::AttachmentFile => {
                let fixture = self.province_need(false, false).await;
                let attached = self.app.attach_to_need(&Actor::system("matrix"), then(), fixture.need, "矩阵.pdf", b"%PDF-1.4 page").await.unwrap();
                self.page(Method::GET, &format!("/attachments/{}", attached.id), actor, None).await
            }
            PageAct::BulkEscalate => {
                let fixture = self.province_need(false, false).await;
                let fields = vec![("action", "escalate".into()), ("reason", "矩阵批量".into()), ("id", fixture.need.to_string()), ("status", "active".into())];
                self.page(Method::POST, "/needs/bulk", actor, Some(fields)).await
            }
            PageAct::DeleteQuwoView => {
                let quwo = self.app.session(then(), &self.sessions[1].0).await.unwrap().unwrap().0;
                let view = bangfu_app::queue::QueueView { overdue: true, ..Default::default() };
                let saved = self.app.save_view(&quwo, then(), &format!("矩阵删除{n}"), &view).await.unwrap();
                self.page(Method::POST, &format!("/needs/views/{}/delete", saved.id), actor, Some(vec![])).await
            }
            PageAct::ReadProvinceNotification => {
                let shanxi = self.app.session(then(), &self.sessions[3].0).await.unwrap().unwrap().0;
                self.province_need(false, false).await;
                let latest = self.app.latest_notifications(&shanxi, 1).await.unwrap()[0].id;
                self.page(Method::POST, &format!("/notifications/{latest}/read"), actor, Some(vec![])).await
            }
            PageAct::Stream(path) => {
                let (_, cookie, _) = &self.sessions[actor];
                let response = self.client.get(format!("{}{path}", self.base)).header("cookie", cookie).send().await.unwrap();
                let status = response.status().as_u16();
                let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                if status == 200 && !kind.starts_with("text/event-stream") {
                    return (500, format!("not an event stream: {kind}"));
                }
                (status, String::new())
            }
            PageAct::LetterAction { sent } => {
                let (need, letter) = self.letter(sent).await;
                let action = if sent { "letter-acknowledged" } else { "letter-sent" };
                self.page(Method::POST, &format!("/needs/{need}/{action}"), actor, Some(vec![("letter_id", letter.to_string())])).await
            }
            PageAct::EditLetter => {
                let (need, letter) = self.letter(false).await;
                let fields = vec![("action", "edit".to_string()), ("subject", "关于商请协调解决矩阵问题的函".into()), ("paragraphs", "矩阵正文。".into()), ("contact_name", "张三".into())];
                self.page(Method::POST, &format!("/needs/{need}/letters/{letter}"), actor, Some(fields)).await
            }
            PageAct::UploadReturns => {
                let (_, cookie, csrf) = &self.sessions[actor];
                let csv = format!("日期,产品,产能,产量,库存\n2020-02-23,矩阵表单产品{n},1,1,1\n");
                let boundary = "matrix-boundary";
                let body = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"returns.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
                );
                let request = self.client.post(format!("{}/cases/1/returns/upload", self.base)).header("cookie", cookie).header("content-type", format!("multipart/form-data; boundary={boundary}"));
                let response = request.body(body).send().await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            }
            PageAct::Import => {
                let (_, cookie, csrf) = &self.sessions[actor];
                let text = format!(
                    "id,name,region,lon,lat,kind,available,attrs\nmatrix:import:{n},矩阵导入{n},141021,,,labour,true,\"{{\"\"skill\"\": \"\"包装\"\", \"\"headcount\"\": 1, \"\"lead_time_h\"\": 1}}\"\n"
                );
                let boundary = "matrix-boundary";
                let body = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{text}\r\n--{boundary}--\r\n"
                );
                let request = self.client.post(format!("{}/registry/import", self.base)).header("cookie", cookie).header("content-type", format!("multipart/form-data; boundary={boundary}"));
                let response = request.body(body).send().await.unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                // The import streams its answer: done only if its summary says so.
                if status == 200 && !text.contains("flash ok\" id=\"import-summary\"") {
                    return (500, text);
                }
                (status, text)
            }
        }
    }
}

fn page_outcome(status: u16, text: &str) -> Result<Outcome, String> {
    match status {
        200 | 303 => Ok(Y),
        404 => Ok(N),
        403 => Ok(F),
        other => Err(format!("{other}: {}", text.chars().take(600).collect::<String>())),
    }
}

fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        let (pair, _) = c.split_once(';').unwrap_or((c, ""));
        pair.strip_prefix(&format!("{name}=")).filter(|v| !v.is_empty()).map(str::to_string)
    })
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

#[test]
fn every_served_route_has_a_row_and_every_row_a_route() {
    let served: BTreeSet<(String, String)> = bangfu_web::API_ROUTES.iter().chain(bangfu_web::PAGE_ROUTES).map(|(m, p)| (m.to_string(), p.to_string())).collect();
    let rows: BTreeSet<(String, String)> = matrix().iter().map(|r| (r.method.to_string(), r.route.to_string())).collect();
    let without_row: Vec<_> = served.difference(&rows).collect();
    let without_route: Vec<_> = rows.difference(&served).collect();
    assert!(without_row.is_empty(), "routes without a row in the access matrix (add one to matrix() in tests/matrix.rs): {without_row:?}");
    assert!(without_route.is_empty(), "rows of the access matrix for routes nothing serves: {without_route:?}");
    // The OpenAPI document lists exactly the API's routes.
    let documented: BTreeSet<(String, String)> = bangfu_web::openapi::OPERATIONS.iter().map(|op| (op.method.to_string(), op.path.to_string())).collect();
    let api: BTreeSet<(String, String)> = bangfu_web::API_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, api, "the OpenAPI document and the API's routes differ");
}

bangfu_store::backend_tests! {
    /// Every row of the matrix, for every actor, over HTTP.
    async fn the_role_action_object_matrix_holds_over_http(db) {
        let world = World::new(db).await;
        let mut failures = Vec::new();
        let rows = matrix();
        for row in &rows {
            for (actor, name) in ACTORS.iter().enumerate() {
                match world.perform(row, actor).await {
                    Ok(outcome) if outcome == row.expect[actor] => {}
                    Ok(outcome) => failures.push(format!("{} {} ({}) by {name}: expected {:?}, got {outcome:?}", row.method, row.route, row.what, row.expect[actor])),
                    Err(answer) => failures.push(format!("{} {} ({}) by {name}: expected {:?}, answered {answer}", row.method, row.route, row.what, row.expect[actor])),
                }
            }
        }
        assert!(failures.is_empty(), "{} of {} cells differ:\n{}", failures.len(), rows.len() * ACTORS.len(), failures.join("\n"));
        assert_eq!(world.app.verify_audit().await.unwrap().broken, None);
    }
}

/// Percent-encodes a query parameter's value.
fn urlencode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
