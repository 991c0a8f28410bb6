//! The OpenAPI 3 document of `/api/v1`, generated from the table of routes below and the JSON
//! schemas of the wire format. A test checks that every route of the table is served and every
//! served API route is in the table, so the document cannot drift from the router.

use serde_json::{Value, json};

/// One operation of the API.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub auth: bool,
    /// Query parameters: (name, JSON type, description).
    pub query: &'static [(&'static str, &'static str, &'static str)],
    /// The request body schema, if the operation takes one.
    pub body: Option<fn() -> Value>,
    /// The success status and the schema of its body.
    pub ok: (u16, fn() -> Value),
}

/// The paging parameters every list takes (see `lists.rs`); each list's constant below repeats
/// them after its filters.
macro_rules! paged {
    ($($filter:expr),* $(,)?) => {
        &[
            $($filter,)*
            ("limit", "integer", "page size: 1 to 500, default 50 (above 500 is a 400 problem)"),
            ("after", "integer", "start after this id: the `next` of the previous page (omit for the first page)"),
        ]
    };
}

const PAGE_ONLY: &[(&str, &str, &str)] = paged![];

const SEARCH_QUERY: &[(&str, &str, &str)] = &[
    ("q", "string", "what to find (required, at most 100 characters): 萬榮 or 万荣, wanrong, wr, a credit code, a region such as 临汾; several words narrow"),
    ("kind", "string", "only enterprise, provider, need, letter or department"),
    ("limit", "integer", "results: 1 to 100, default 20"),
];

fn search_hit() -> Value {
    json!({"type": "object", "required": ["kind", "id", "title", "region", "snippet", "score"], "properties": {
        "kind": {"type": "string", "enum": ["enterprise", "provider", "need", "letter", "department"]},
        "id": {"type": "integer"}, "title": {"type": "string"}, "region": {"type": "string"},
        "snippet": {"type": "string"}, "score": {"type": "number"}}})
}

const NEED_FILTERS: &[(&str, &str, &str)] = paged![
    ("region", "string", "needs of enterprises inside this region (code or name)"),
    ("kind", "string", "need kind"),
    ("status", "string", "need status"),
    ("owner", "string", "owning department's region code"),
    ("case_id", "integer", "needs of this case"),
    ("format", "string", "csv or xlsx: export the whole filtered set as CSV or XLSX, streamed (no paging)"),
];

const PROVIDER_FILTERS: &[(&str, &str, &str)] = paged![
    ("kind", "string", "providers with a capability of this kind (only those capabilities are listed)"),
    ("place", "string", "providers inside this region's jurisdiction (code or name)"),
    ("q", "string", "name, key or note contains this text (ignoring case)"),
    ("format", "string", "csv or xlsx: export the whole filtered set, one row per capability, streamed"),
];

const CASE_FILTERS: &[(&str, &str, &str)] = paged![
    ("region", "string", "cases of enterprises inside this region (code or name)"),
    ("status", "string", "case status"),
    ("format", "string", "csv or xlsx: export the whole filtered set, streamed"),
];

const RETURN_FILTERS: &[(&str, &str, &str)] = paged![
    ("region", "string", "returns of enterprises inside this region (code or name)"),
    ("from", "string", "first day, YYYY-MM-DD (UTC+8)"),
    ("to", "string", "last day, YYYY-MM-DD (UTC+8)"),
    ("product", "string", "returns of this product"),
    ("case_id", "integer", "returns of this case"),
    ("format", "string", "csv or xlsx: export the whole filtered set, streamed"),
];

const FIGURES_QUERY: &[(&str, &str, &str)] = &[
    ("region", "string", "a region inside the caller's jurisdiction (drill-down); default its own"),
    ("to", "string", "last day, YYYY-MM-DD (UTC+8); default the last day whose returns are due"),
    ("days", "integer", "how many days, 1 to 92; default 14"),
];

const BRIEFING_QUERY: &[(&str, &str, &str)] = &[
    ("region", "string", "a department inside the caller's jurisdiction; default its own (an admin names one)"),
    ("day", "string", "the day reported, YYYY-MM-DD (UTC+8); default the last day whose returns are due"),
];

const LETTER_FILTERS: &[(&str, &str, &str)] = paged![
    ("status", "string", "draft, sent or acknowledged"),
    ("need_id", "integer", "the letters of this need"),
    ("format", "string", "csv or xlsx: export the whole filtered set, streamed"),
];

const EVENT_QUERY: &[(&str, &str, &str)] = paged![("format", "string", "csv or xlsx: export the case's whole timeline, streamed")];

pub const OPERATIONS: &[Operation] = &[
    Operation { method: "get", path: "/healthz", summary: "Liveness", tag: "system", auth: false, query: &[], body: None, ok: (200, status_schema) },
    Operation { method: "get", path: "/api/v1/openapi.json", summary: "This document", tag: "system", auth: false, query: &[], body: None, ok: (200, any_object) },
    Operation { method: "get", path: "/api/v1/regions", summary: "Find regions by name (simplified or traditional)", tag: "regions", auth: false, query: &[("q", "string", "a name such as 曲沃 or 臨汾市")], body: None, ok: (200, || items(region())) },
    Operation { method: "get", path: "/api/v1/regions/{code}", summary: "A region by its GB/T 2260 code", tag: "regions", auth: false, query: &[], body: None, ok: (200, region) },
    Operation { method: "post", path: "/api/v1/auth/token", summary: "Log in: a bearer token for a username and password", tag: "auth", auth: false, query: &[], body: Some(credentials), ok: (200, token_schema) },
    Operation { method: "post", path: "/api/v1/auth/logout", summary: "End the session of this token", tag: "auth", auth: true, query: &[], body: None, ok: (200, status_schema) },
    Operation { method: "get", path: "/api/v1/me", summary: "The caller's account", tag: "auth", auth: true, query: &[], body: None, ok: (200, any_object) },
    Operation { method: "get", path: "/api/v1/enterprises", summary: "Enterprises in the caller's jurisdiction", tag: "enterprises", auth: true, query: PAGE_ONLY, body: None, ok: (200, || page(enterprise())) },
    Operation { method: "post", path: "/api/v1/enterprises", summary: "Register an enterprise (credit code checked)", tag: "enterprises", auth: true, query: &[], body: Some(enterprise_input), ok: (201, enterprise) },
    Operation { method: "get", path: "/api/v1/search", summary: "Search enterprises, providers, needs, letters and departments the caller sees: by name (simplified or traditional), code, pinyin, initials or region; best first", tag: "search", auth: true, query: SEARCH_QUERY, body: None, ok: (200, || json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": search_hit()}}})) },
    Operation { method: "get", path: "/api/v1/providers", summary: "The registry searched by kind, place and text: providers and their capabilities, paged", tag: "registry", auth: true, query: PROVIDER_FILTERS, body: None, ok: (200, || page(any_object())) },
    Operation { method: "post", path: "/api/v1/providers", summary: "Register a provider", tag: "registry", auth: true, query: &[], body: Some(provider_input), ok: (201, any_object) },
    Operation { method: "get", path: "/api/v1/providers/{id}", summary: "A provider with its capabilities", tag: "registry", auth: true, query: &[], body: None, ok: (200, any_object) },
    Operation { method: "put", path: "/api/v1/providers/{id}/capabilities/{kind}", summary: "Add or replace a provider's capability of a kind", tag: "registry", auth: true, query: &[], body: Some(capability_input), ok: (200, any_object) },
    Operation { method: "get", path: "/api/v1/cases", summary: "Cases the caller may see, filtered and paged", tag: "cases", auth: true, query: CASE_FILTERS, body: None, ok: (200, || page(any_object())) },
    Operation { method: "post", path: "/api/v1/cases", summary: "Open the case of an enterprise", tag: "cases", auth: true, query: &[], body: Some(case_input), ok: (201, any_object) },
    Operation { method: "get", path: "/api/v1/cases/{id}", summary: "A case with team, needs, approvals, shipments, letters, and its newest 50 events with events_total and events_url (the whole timeline pages through /events)", tag: "cases", auth: true, query: &[], body: None, ok: (200, any_object) },
    Operation { method: "post", path: "/api/v1/cases/{id}/team", summary: "Station a member on the case", tag: "cases", auth: true, query: &[], body: Some(team_input), ok: (201, any_object) },
    Operation { method: "post", path: "/api/v1/cases/{id}/team/{member}/release", summary: "Release a member from the case's team, with a reason (the officers whose jurisdiction holds the case); answers the team left", tag: "cases", auth: true, query: &[], body: Some(reason_input), ok: (200, any_object) },
    Operation { method: "get", path: "/api/v1/cases/{id}/needs", summary: "The needs of a case, paged", tag: "needs", auth: true, query: PAGE_ONLY, body: None, ok: (200, || page(need())) },
    Operation { method: "post", path: "/api/v1/cases/{id}/needs", summary: "Report a need: routed (and sourced from the registry) at once", tag: "needs", auth: true, query: &[], body: Some(need_input), ok: (201, need) },
    Operation { method: "get", path: "/api/v1/cases/{id}/events", summary: "The case's audit events by sequence number, paged", tag: "cases", auth: true, query: EVENT_QUERY, body: None, ok: (200, || page(event())) },
    Operation { method: "post", path: "/api/v1/cases/{id}/approvals", summary: "Open a green-channel approval", tag: "green channel", auth: true, query: &[], body: Some(approval_input), ok: (201, any_object) },
    Operation { method: "post", path: "/api/v1/cases/{id}/shipments", summary: "Record a shipment and its traffic pass", tag: "shipments", auth: true, query: &[], body: Some(shipment_input), ok: (201, any_object) },
    Operation { method: "post", path: "/api/v1/cases/{id}/shipments/{shipment}/move", summary: "Move a shipment along its states: planned → in_transit → delivered, or held (and back to planned or in_transit), with a traffic pass if given", tag: "shipments", auth: true, query: &[], body: Some(move_input), ok: (200, any_object) },
    Operation { method: "get", path: "/api/v1/cases/{id}/returns", summary: "The enterprise's daily returns", tag: "returns", auth: true, query: &[], body: None, ok: (200, || items(any_object())) },
    Operation { method: "post", path: "/api/v1/cases/{id}/returns", summary: "Submit (or correct) a daily return of a day and product", tag: "returns", auth: true, query: &[], body: Some(return_input), ok: (201, any_object) },
    Operation { method: "post", path: "/api/v1/cases/{id}/returns/upload", summary: "Upload a spreadsheet of returns (body: text/csv or XLSX; all rows or none, bad rows named)", tag: "returns", auth: true, query: &[], body: None, ok: (201, any_object) },
    Operation { method: "get", path: "/api/v1/returns", summary: "Daily returns the caller may see, filtered and paged", tag: "returns", auth: true, query: RETURN_FILTERS, body: None, ok: (200, || page(any_object())) },
    Operation { method: "get", path: "/api/v1/figures", summary: "Output, capacity and needs per day of a jurisdiction, by part, tier and kind", tag: "figures", auth: true, query: FIGURES_QUERY, body: None, ok: (200, any_object) },
    Operation { method: "get", path: "/api/v1/briefing", summary: "The daily briefing (每日专报) of a department for a day, as kept", tag: "figures", auth: true, query: BRIEFING_QUERY, body: None, ok: (200, any_object) },
    Operation { method: "post", path: "/api/v1/briefings/generate", summary: "Generate and keep every department's daily briefing of a day (admins; the server does it at 08:00 UTC+8; kept ones stay as they were)", tag: "figures", auth: true, query: &[], body: Some(generate_briefings_input), ok: (200, briefings_generated) },
    Operation { method: "get", path: "/api/v1/cases/{id}/plan", summary: "The case's plan projected from now: critical path, first output and the delay open needs cause", tag: "plans", auth: true, query: &[], body: None, ok: (200, plan) },
    Operation { method: "put", path: "/api/v1/cases/{id}/plan", summary: "Replace the case's plan (milestones, dependencies, actuals, blocking needs); a cycle is refused naming its milestones", tag: "plans", auth: true, query: &[], body: Some(plan_input), ok: (200, plan) },
    Operation { method: "post", path: "/api/v1/cases/{id}/plan/milestones", summary: "Add a milestone to the end of the case's plan: name in Chinese (and English), hours, the milestones it waits for (the officers whose jurisdiction holds the case); answers the plan", tag: "plans", auth: true, query: &[], body: Some(step_input), ok: (201, plan) },
    Operation { method: "delete", path: "/api/v1/cases/{id}/plan/milestones/{key}", summary: "Remove a milestone and its blocking needs from the plan; the milestones that waited for it wait for what it waited for; answers the plan", tag: "plans", auth: true, query: &[], body: None, ok: (200, plan) },
    Operation { method: "post", path: "/api/v1/cases/{id}/plan/milestones/{key}/blockers", summary: "Attach a need of the case to a milestone: it cannot finish before the need is resolved; answers the plan", tag: "plans", auth: true, query: &[], body: Some(blocker_input), ok: (200, plan) },
    Operation { method: "delete", path: "/api/v1/cases/{id}/plan/milestones/{key}/blockers/{need}", summary: "Detach a need from a milestone; answers the plan", tag: "plans", auth: true, query: &[], body: None, ok: (200, plan) },
    Operation { method: "post", path: "/api/v1/approvals/{id}/decision", summary: "Move an approval to in_progress, approved or rejected", tag: "green channel", auth: true, query: &[], body: Some(decision_input), ok: (200, any_object) },
    Operation { method: "get", path: "/api/v1/needs", summary: "Needs the caller may see, filtered and paged", tag: "needs", auth: true, query: NEED_FILTERS, body: None, ok: (200, || page(need())) },
    Operation { method: "get", path: "/api/v1/needs/{id}", summary: "A need with its candidates and letters", tag: "needs", auth: true, query: &[], body: None, ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/route", summary: "Source the need from the registry, ring by ring, and route it", tag: "needs", auth: true, query: &[], body: None, ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/broadcast", summary: "Broadcast the need to the departments of a ring", tag: "needs", auth: true, query: &[], body: Some(broadcast_input), ok: (200, any_object) },
    Operation { method: "post", path: "/api/v1/needs/{id}/candidates", summary: "Put forward a provider as a candidate (screened with reasons)", tag: "needs", auth: true, query: &[], body: Some(propose_input), ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/select", summary: "Select a candidate; scope and owner follow", tag: "needs", auth: true, query: &[], body: Some(select_input), ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/switch", summary: "Switch the selected provider to another candidate before work starts, with the reason (recorded beside what it saves)", tag: "needs", auth: true, query: &[], body: Some(switch_input), ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/start", summary: "Work on the need has started", tag: "needs", auth: true, query: &[], body: Some(note_input), ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/resolve", summary: "The need is resolved", tag: "needs", auth: true, query: &[], body: Some(note_input), ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/cancel", summary: "The need is cancelled", tag: "needs", auth: true, query: &[], body: Some(note_input), ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/escalate", summary: "Push the need up one tier at once (上报), or flag it for supervision (督办) at the top, with a reason", tag: "escalation", auth: true, query: &[], body: Some(escalate_input), ok: (200, escalated_need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/what-if", summary: "If this open need resolved at resolves_at, where would first output move?", tag: "plans", auth: true, query: &[], body: Some(what_if_input), ok: (200, what_if) },
    Operation { method: "post", path: "/api/v1/needs/{id}/accept-allocation", summary: "Accept an allocation's proposal for the need: the ordinary selection of that provider, with its audit event", tag: "allocation", auth: true, query: &[], body: Some(accept_allocation_input), ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/reject-allocation", summary: "Reject an allocation's proposal for the need: recorded with its reason; the need stays open", tag: "allocation", auth: true, query: &[], body: Some(reject_allocation_input), ok: (200, need) },
    Operation { method: "get", path: "/api/v1/allocations", summary: "Allocate a kind's capacity over a department's open needs at least cost (or first come), explained need by need, with what the optimum saves; writes nothing", tag: "allocation", auth: true, query: ALLOCATION_QUERY, body: None, ok: (200, allocation) },
    Operation { method: "post", path: "/api/v1/escalations/run", summary: "Run one escalation pass at the server's now (admins; servers run it every minute)", tag: "escalation", auth: true, query: &[], body: None, ok: (200, escalation_report) },
    Operation { method: "get", path: "/api/v1/letters", summary: "Letters of the needs the caller may see, filtered and paged", tag: "letters", auth: true, query: LETTER_FILTERS, body: None, ok: (200, || page(letter())) },
    Operation { method: "get", path: "/api/v1/letters/{id}", summary: "An official letter (公函): Chinese text and English rendering, status", tag: "letters", auth: true, query: &[], body: None, ok: (200, letter) },
    Operation { method: "put", path: "/api/v1/letters/{id}", summary: "Edit a draft letter before it is sent: title, paragraphs, contact person and telephone, copies (抄送)", tag: "letters", auth: true, query: &[], body: Some(letter_edit_input), ok: (200, any_object) },
    Operation { method: "get", path: "/api/v1/letters/{id}/pdf", summary: "The letter as a PDF, A4, laid out per GB/T 9704-2012 (信函格式)", tag: "letters", auth: true, query: &[], body: None, ok: (200, any_object) },
    Operation { method: "post", path: "/api/v1/letters/{id}/send", summary: "The letter was sent (draft → sent)", tag: "letters", auth: true, query: &[], body: Some(note_input), ok: (200, letter) },
    Operation { method: "post", path: "/api/v1/letters/{id}/acknowledge", summary: "The letter was answered (sent → acknowledged), with the reply's number, date and text", tag: "letters", auth: true, query: &[], body: Some(acknowledge_input), ok: (200, letter) },
    Operation { method: "put", path: "/api/v1/needs/{id}", summary: "Edit an open need (description, quantity, requirements, limits), checked as at reporting", tag: "needs", auth: true, query: &[], body: Some(need_edit_input), ok: (200, need) },
    Operation { method: "get", path: "/api/v1/inbox", summary: "The needs addressed to the caller's provider (candidate or selected) or enterprise, newest first, with unread marks", tag: "participation", auth: true, query: &[("limit", "integer", "page size: 1 to 500, default 50"), ("before", "integer", "needs older than this need id: the `next` of the previous page")], body: None, ok: (200, || page(any_object())) },
    Operation { method: "post", path: "/api/v1/needs/{id}/responses", summary: "A candidate provider answers: accept, decline (with a reason) or quote (quantity, price, earliest delivery)", tag: "participation", auth: true, query: &[], body: Some(response_input), ok: (201, any_object) },
    Operation { method: "post", path: "/api/v1/needs/{id}/comments", summary: "Comment on a need (its officers and its enterprise)", tag: "participation", auth: true, query: &[], body: Some(comment_input), ok: (201, any_object) },
    Operation { method: "post", path: "/api/v1/needs/{id}/attachments", summary: "Attach a document (PDF, PNG, JPEG, docx, xlsx; at most 2 MiB) to a need", tag: "participation", auth: true, query: &[], body: Some(attachment_input), ok: (201, any_object) },
    Operation { method: "get", path: "/api/v1/attachments/{id}", summary: "An attachment's file, for whoever reads the need's discussion", tag: "participation", auth: true, query: &[], body: None, ok: (200, any_object) },
    Operation { method: "post", path: "/api/v1/needs/{id}/confirm", summary: "The enterprise confirms that a resolved need is solved", tag: "participation", auth: true, query: &[], body: None, ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/reopen", summary: "Reopen a resolved or cancelled need, with a reason", tag: "participation", auth: true, query: &[], body: Some(reason_input), ok: (200, need) },
    Operation { method: "post", path: "/api/v1/needs/{id}/withdraw", summary: "The enterprise withdraws a need it reported, before work starts, with a reason", tag: "participation", auth: true, query: &[], body: Some(reason_input), ok: (200, need) },
    Operation { method: "get", path: "/api/v1/notifications", summary: "Notifications of the caller's department, oldest first, paged (ask after the last seen for what is new)", tag: "notifications", auth: true, query: PAGE_ONLY, body: None, ok: (200, || page(any_object())) },
    Operation { method: "get", path: "/api/v1/channels", summary: "The channels the caller keeps (企业微信, 钉钉, e-mail, webhooks): URLs without their keys, secrets as \"set\"", tag: "outbox", auth: true, query: &[], body: None, ok: (200, || items(channel())) },
    Operation { method: "post", path: "/api/v1/channels", summary: "Add a channel to a department (an administrator or the department's own officer), a provider or an enterprise", tag: "outbox", auth: true, query: &[], body: Some(channel_input), ok: (201, channel) },
    Operation { method: "delete", path: "/api/v1/channels/{id}", summary: "Remove a channel the caller keeps: nothing more is sent to it (what was sent stays in the outbox's log); answers the channels kept now", tag: "outbox", auth: true, query: &[], body: None, ok: (200, || items(channel())) },
    Operation { method: "get", path: "/api/v1/outbox", summary: "Messages to the outside world and their attempts, by id (administrators)", tag: "outbox", auth: true, query: OUTBOX_QUERY, body: None, ok: (200, || items(delivery())) },
    Operation { method: "post", path: "/api/v1/outbox/{id}/retry", summary: "Put a dead or waiting message back in line (administrators, the department's officers)", tag: "outbox", auth: true, query: &[], body: None, ok: (200, any_object) },
    Operation { method: "get", path: "/api/v1/needs/{id}/deliveries", summary: "The messages sent out about a need: sent, failed with reason, retried, dead", tag: "outbox", auth: true, query: &[], body: None, ok: (200, || items(delivery())) },
];

const OUTBOX_QUERY: &[(&str, &str, &str)] = &[
    ("status", "string", "pending, sent or dead"),
    ("after", "integer", "messages after this id"),
    ("limit", "integer", "1 to 500, default 50"),
];

fn channel() -> Value {
    object(&["id", "kind", "target", "secret", "events", "active"], json!({
        "id": {"type": "integer"}, "department": nullable("string"), "department_name": nullable("string"),
        "provider_id": nullable("integer"), "enterprise_id": nullable("integer"),
        "kind": {"type": "string", "enum": ["wecom", "dingtalk", "email", "webhook"]}, "label": {"type": "string"},
        "target": {"type": "string", "description": "the URL without its query's values or user name"},
        "secret": {"type": "string", "enum": ["set", "none"]}, "events": {"type": "array", "items": {"type": "string"}},
        "mentions": {"type": "string"}, "quiet_hours": nullable("string"), "format": {"type": "string", "enum": ["text", "markdown"]},
        "active": {"type": "boolean"}, "created_at": {"type": "string"}}))
}

fn channel_input() -> Value {
    object(&["kind", "url"], json!({
        "department": {"type": "string", "description": "region code of the department (or give provider_id or enterprise_id)"},
        "provider_id": {"type": "integer"}, "enterprise_id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["wecom", "dingtalk", "email", "webhook"]},
        "url": {"type": "string", "description": "the robot's or webhook's URL, or smtp://[user@]host[:port]?from=ADDR&to=ADDR,ADDR[&tls=starttls|none] (smtps:// for TLS from the start)"},
        "secret": {"type": "string", "description": "钉钉 signing secret, webhook whsec_… secret or mail password; never shown back"},
        "events": {"type": "array", "items": {"type": "string"}}, "mentions": {"type": "array", "items": {"type": "string"}},
        "quiet_hours": {"type": "string", "description": "HH:MM-HH:MM at UTC+8; escalations are sent all the same"},
        "format": {"type": "string", "enum": ["text", "markdown"], "description": "企业微信, 钉钉: text (the default; mentions by mobile number) or markdown"},
        "label": {"type": "string"}}))
}

fn delivery() -> Value {
    object(&["id", "idempotency_key", "status", "attempts", "log"], json!({
        "id": {"type": "integer"}, "idempotency_key": {"type": "string"}, "group_id": nullable("integer"), "channel_id": {"type": "integer"}, "channel": {"type": ["object", "null"]},
        "department": nullable("string"), "event": {"type": "string"}, "need_id": nullable("integer"), "title": {"type": "string"},
        "body": {"type": "string"}, "link": {"type": "string"}, "status": {"type": "string", "enum": ["pending", "sent", "dead"]},
        "attempts": {"type": "integer"}, "created_at": {"type": "string"}, "next_attempt_at": {"type": "string"},
        "last_error": nullable("string"), "sent_at": nullable("string"), "log": {"type": "array", "items": any_object()}}))
}

fn any_object() -> Value {
    json!({"type": "object"})
}

fn status_schema() -> Value {
    json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}})
}

fn items(item: Value) -> Value {
    json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": item}}})
}

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

fn region() -> Value {
    json!({"type": "object", "required": ["code", "name", "level"], "properties": {
        "code": {"type": "string", "pattern": "^[0-9]{6}$"}, "name": {"type": "string"},
        "level": {"type": "string", "enum": ["province", "city", "county"]},
        "parent": nullable("string"), "lon": nullable("number"), "lat": nullable("number")}})
}

fn token_schema() -> Value {
    json!({"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}, "expires_at": {"type": "string"}, "role": {"type": "string"}}})
}

fn enterprise() -> Value {
    json!({"type": "object", "required": ["id", "name", "credit_code", "region"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "credit_code": {"type": "string"}, "region": {"type": "string"},
        "lon": nullable("number"), "lat": nullable("number"), "note": {"type": "string"}}})
}

fn need() -> Value {
    json!({"type": "object", "required": ["id", "case_id", "kind", "title", "quantity", "scope", "owner", "status", "explanation"], "properties": {
        "id": {"type": "integer"}, "case_id": {"type": "integer"}, "kind": {"type": "string"}, "title": {"type": "string"},
        "quantity": {"type": "number"}, "scope": {"type": "string", "enum": ["local", "city", "province", "national"]},
        "owner": {"type": "string"}, "letter_to": nullable("string"), "status": {"type": "string"},
        "explanation": {"type": "object", "required": ["zh", "en"], "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}},
        "candidates": {"type": "array", "items": {"type": "object"}},
        "screening": {"type": ["object", "null"], "required": ["screened", "feasible", "rejected"], "properties": {
            "screened": {"type": "integer"}, "feasible": {"type": "integer"},
            "rejected": {"type": "object", "additionalProperties": {"type": "integer"}},
            "registry_version": {"type": "integer"}, "screened_at": {"type": "string"}}}}})
}

/// One page of a list (see `lists.rs`).
fn page(item: Value) -> Value {
    json!({"type": "object", "required": ["items", "total", "limit", "next"], "properties": {
        "items": {"type": "array", "items": item}, "total": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 1, "maximum": 500}, "next": nullable("integer")}})
}

fn event() -> Value {
    json!({"type": "object", "required": ["seq", "at", "actor", "action", "entity", "hash", "prev_hash"], "properties": {
        "seq": {"type": "integer"}, "at": {"type": "string"}, "actor": {"type": "string"}, "action": {"type": "string"},
        "entity": {"type": "string"}, "case_id": nullable("integer"), "hash": {"type": "string"}, "prev_hash": {"type": "string"}}})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

fn credentials() -> Value {
    object(&["username", "password"], json!({"username": {"type": "string"}, "password": {"type": "string"}}))
}

fn enterprise_input() -> Value {
    object(&["name", "credit_code", "region"], json!({"name": {"type": "string"}, "credit_code": {"type": "string"}, "region": {"type": "string"}, "lon": {"type": "number"}, "lat": {"type": "number"}, "note": {"type": "string"}}))
}

fn provider_input() -> Value {
    object(&["key", "name", "region"], json!({"key": {"type": "string"}, "name": {"type": "string"}, "region": {"type": "string"}, "lon": {"type": "number"}, "lat": {"type": "number"}, "note": {"type": "string"}}))
}

fn capability_input() -> Value {
    object(&["attrs"], json!({"available": {"type": "boolean"}, "attrs": {"type": "object"}}))
}

fn case_input() -> Value {
    object(&["enterprise_id"], json!({"enterprise_id": {"type": "integer"}, "title": {"type": "string"}}))
}

fn team_input() -> Value {
    object(&["title", "department", "role"], json!({"title": {"type": "string"}, "department": {"type": "string"}, "role": {"type": "string", "enum": ["commissioner", "stationed_cadre", "task_force"]}, "user_id": {"type": "integer"}}))
}

fn need_input() -> Value {
    object(&["kind", "title", "quantity"], json!({
        "kind": {"type": "string", "enum": ["sterilisation", "slitting", "testing", "raw_material", "equipment", "labour", "logistics", "permit", "traffic_pass", "other"]},
        "title": {"type": "string"}, "quantity": {"type": "number"}, "requires": {"type": "object"}, "specification": {"type": "string"},
        "unit": {"type": "string"}, "deadline": {"type": "string", "format": "date-time"}, "max_distance_km": {"type": "number"},
        "max_lead_time_h": {"type": "number"}, "solution_region": {"type": "string"}, "source": {"type": "boolean"}}))
}

fn approval_input() -> Value {
    object(&["department", "agency", "item"], json!({"department": {"type": "string"}, "agency": {"type": "string"}, "item": {"type": "string"}, "due_at": {"type": "string", "format": "date-time"}}))
}

fn decision_input() -> Value {
    object(&["status"], json!({"status": {"type": "string", "enum": ["in_progress", "approved", "rejected"]}}))
}

fn shipment_input() -> Value {
    object(&["goods", "origin", "destination"], json!({
        "need_id": {"type": "integer"}, "goods": {"type": "string"}, "origin": {"type": "string"}, "destination": {"type": "string"},
        "status": {"type": "string", "enum": ["planned", "in_transit", "delivered", "held"]}, "traffic_pass": {"type": "string"},
        "departs_at": {"type": "string", "format": "date-time"}, "arrives_at": {"type": "string", "format": "date-time"}}))
}

fn return_input() -> Value {
    object(
        &["day", "product", "capacity_per_day", "output", "stock"],
        json!({"day": {"type": "string", "format": "date"}, "product": {"type": "string"}, "capacity_per_day": {"type": "number"}, "output": {"type": "number"}, "stock": {"type": "number"}, "shipped": {"type": "number"}, "note": {"type": "string"}}),
    )
}

fn letter_edit_input() -> Value {
    object(
        &["subject", "paragraphs"],
        json!({"subject": {"type": "string"}, "paragraphs": {"type": "array", "items": {"type": "string"}}, "contact_name": {"type": "string"}, "contact_phone": {"type": "string"}, "cc": {"type": "array", "items": {"type": "string"}}}),
    )
}

fn broadcast_input() -> Value {
    object(&["ring"], json!({"ring": {"type": "string", "enum": ["local", "city", "province", "national"]}}))
}

fn propose_input() -> Value {
    object(&["provider_id"], json!({"provider_id": {"type": "integer"}}))
}

fn select_input() -> Value {
    object(&["candidate_id"], json!({"candidate_id": {"type": "integer"}}))
}

fn need_edit_input() -> Value {
    object(&["title", "quantity"], json!({
        "title": {"type": "string"}, "quantity": {"type": "number"}, "requires": {"type": "object"}, "specification": {"type": "string"},
        "unit": {"type": "string"}, "deadline": {"type": "string", "format": "date-time"}, "max_distance_km": {"type": "number"},
        "max_lead_time_h": {"type": "number"}}))
}

fn response_input() -> Value {
    object(&["answer"], json!({
        "answer": {"type": "string", "enum": ["accept", "decline", "quote"]}, "note": {"type": "string"},
        "quantity": {"type": "number", "minimum": 0}, "price": {"type": "number", "minimum": 0}, "deliver_by": {"type": "string", "format": "date-time"}}))
}

fn comment_input() -> Value {
    object(&["text"], json!({"text": {"type": "string", "minLength": 1}}))
}

fn attachment_input() -> Value {
    object(&["filename", "content_base64"], json!({"filename": {"type": "string"}, "content_base64": {"type": "string", "contentEncoding": "base64"}}))
}

fn generate_briefings_input() -> Value {
    object(&["day"], json!({"day": {"type": "string", "format": "date"}}))
}

fn briefings_generated() -> Value {
    let department = object(&["department", "new"], json!({"department": {"type": "string"}, "new": {"type": "boolean"}}));
    object(
        &["day", "generated", "kept_already", "departments"],
        json!({"day": {"type": "string", "format": "date"}, "generated": {"type": "integer"}, "kept_already": {"type": "integer"}, "departments": {"type": "array", "items": department}}),
    )
}

fn switch_input() -> Value {
    object(&["candidate_id", "reason"], json!({"candidate_id": {"type": "integer"}, "reason": {"type": "string", "minLength": 1}}))
}

fn move_input() -> Value {
    object(&["status"], json!({"status": {"type": "string", "enum": ["planned", "in_transit", "delivered", "held"]}, "traffic_pass": {"type": "string"}}))
}

fn step_input() -> Value {
    object(&["name_zh", "duration_h"], json!({
        "key": {"type": "string", "description": "unique in the plan; m1, m2, … when absent"}, "name_zh": {"type": "string", "minLength": 1},
        "name_en": {"type": "string"}, "duration_h": {"type": "number", "minimum": 0}, "after": {"type": "array", "items": {"type": "string"}}}))
}

fn blocker_input() -> Value {
    object(&["need_id"], json!({"need_id": {"type": "integer"}}))
}

fn reason_input() -> Value {
    object(&["reason"], json!({"reason": {"type": "string", "minLength": 1}}))
}

fn note_input() -> Value {
    object(&[], json!({"note": {"type": "string"}}))
}

fn escalate_input() -> Value {
    object(&["reason"], json!({"reason": {"type": "string", "minLength": 1}}))
}

fn bilingual() -> Value {
    json!({"type": "object", "required": ["zh", "en"], "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}})
}

fn escalated_need() -> Value {
    object(&["need_id", "case_id", "action", "step", "from", "from_tier", "reason", "manual", "need"], json!({
        "need_id": {"type": "integer"}, "case_id": {"type": "integer"}, "title": {"type": "string"},
        "action": {"type": "string", "enum": ["need.escalated", "need.supervised"]},
        "step": {"type": "string", "enum": ["escalate", "supervise"]},
        "from": {"type": "string"}, "from_tier": {"type": "string"}, "to": nullable("string"), "to_tier": nullable("string"),
        "deadline": nullable("string"), "expired_at": nullable("string"), "reason": bilingual(), "manual": {"type": "boolean"}, "need": need()}))
}

fn escalation_report() -> Value {
    object(&["now", "windows", "checked", "moved"], json!({
        "now": {"type": "string", "format": "date-time"}, "windows": {"type": "string"}, "checked": {"type": "integer"},
        "moved": {"type": "array", "items": escalated_need()}}))
}

fn letter() -> Value {
    object(&["id", "need_id", "number", "sender", "recipients", "subject", "body", "status"], json!({
        "id": {"type": "integer"}, "need_id": {"type": "integer"}, "number": {"type": "string"}, "sender": {"type": "string"},
        "recipients": {"type": "array", "items": {"type": "object", "properties": {"region": {"type": "string"}, "name": {"type": "string"}, "name_en": {"type": "string"}}}},
        "subject": {"type": "string"}, "body": bilingual(),
        "status": {"type": "string", "enum": ["draft", "sent", "acknowledged"]},
        "created_at": {"type": "string"}, "sent_at": nullable("string"), "acknowledged_at": nullable("string"),
        "contact": {"type": "object", "properties": {"name": {"type": "string"}, "phone": {"type": "string"}}},
        "cc": {"type": "array", "items": {"type": "string"}},
        "reply": {"type": ["object", "null"], "properties": {"number": {"type": "string"}, "date": nullable("string"), "text": nullable("string")}}}))
}

fn acknowledge_input() -> Value {
    object(&[], json!({"note": {"type": "string"}, "reply_number": {"type": "string"}, "reply_date": {"type": "string", "format": "date"}, "reply_text": {"type": "string"}}))
}

fn plan() -> Value {
    let time = || json!({"type": "string", "format": "date-time"});
    let nullable_time = || json!({"type": ["string", "null"], "format": "date-time"});
    let milestone = object(&["id", "es", "ef", "ls", "lf", "slack_h"], json!({
        "id": {"type": "string"}, "es": time(), "ef": time(), "ls": time(), "lf": time(), "slack_h": {"type": "number"},
        "name": {"type": "string"}, "duration_h": {"type": "number"}, "after": {"type": "array", "items": {"type": "string"}},
        "not_before": nullable_time(), "actual_start": nullable_time(), "actual_finish": nullable_time(),
        "blockers": {"type": "array", "items": {"type": "integer"}}, "critical": {"type": "boolean"}, "driving": {"type": "boolean"},
        "done": {"type": "boolean"}, "held_by": nullable("integer")}));
    let blocker = object(&["need_id", "milestone", "open", "expected"], json!({
        "need_id": {"type": "integer"}, "title": {"type": "string"}, "kind": {"type": "string"}, "status": {"type": "string"},
        "milestone": {"type": "string"}, "open": {"type": "boolean"}, "resolves_at": nullable_time(),
        "expected": object(&["basis"], json!({"basis": {"type": "string", "enum": ["closed", "candidate", "deadline", "response_window"]}}))}));
    object(&["finish", "critical_path", "milestones"], json!({
        "finish": nullable_time(), "critical_path": {"type": "array", "items": {"type": "string"}},
        "milestones": {"type": "array", "items": milestone}, "case_id": {"type": "integer"}, "now": time(), "start": nullable_time(),
        "planned_at": nullable_time(), "days_from_plan_to_production": nullable("number"), "finish_without_open_needs": nullable_time(),
        "delay_h": {"type": "number"}, "driving_path": {"type": "array", "items": {"type": "string"}}, "blockers": {"type": "array", "items": blocker}}))
}

fn plan_input() -> Value {
    let time = || json!({"type": "string", "format": "date-time"});
    object(&["milestones"], json!({"milestones": {"type": "array", "items": object(&["id", "duration_h"], json!({
        "id": {"type": "string", "minLength": 1}, "name": {"type": "string"}, "duration_h": {"type": "number", "minimum": 0},
        "after": {"type": "array", "items": {"type": "string"}}, "not_before": time(), "actual_start": time(), "actual_finish": time(),
        "blockers": {"type": "array", "items": {"type": "integer"}}}))}}))
}

const ALLOCATION_QUERY: &[(&str, &str, &str)] = &[
    ("kind", "string", "required: sterilisation, slitting, testing, raw_material, equipment or labour"),
    ("department", "string", "required: the department (region code or name) whose jurisdiction's open needs and registry are allocated"),
    ("horizon_days", "integer", "the planning horizon, 1 to 366 days (default 7): sterilisation capacity is capacity_per_day × days"),
    ("method", "string", "optimum (default) or greedy (first come, first served)"),
];

fn accept_allocation_input() -> Value {
    object(&["provider_id"], json!({"provider_id": {"type": "integer"}}))
}

fn reject_allocation_input() -> Value {
    object(&[], json!({"provider_id": {"type": ["integer", "null"]}, "reason": {"type": "string"}}))
}

fn allocation_totals() -> Value {
    object(&["cost", "first_output_h", "km", "served_units", "unmet_units"], json!({
        "cost": {"type": "integer"}, "first_output_h": {"type": "number"}, "km": {"type": "number"},
        "served_units": {"type": "integer"}, "unmet_units": {"type": "integer"}}))
}

fn allocation() -> Value {
    object(&["cost", "assignments", "unmet", "kind", "department", "optimum", "greedy", "savings", "providers", "needs"], json!({
        "cost": {"type": "integer", "description": "the method's total, in millionths of an hour of first output"},
        "assignments": {"type": "array", "items": object(&["need", "provider", "quantity"], json!({"need": {"type": "integer"}, "provider": {"type": "integer"}, "quantity": {"type": "integer"}}))},
        "unmet": {"type": "array", "items": object(&["need", "quantity"], json!({"need": {"type": "integer"}, "quantity": {"type": "integer"}}))},
        "kind": {"type": "string"}, "department": {"type": "string"}, "department_name": {"type": "string"},
        "horizon_days": {"type": "integer"}, "method": {"type": "string"}, "now": {"type": "string", "format": "date-time"},
        "optimum": allocation_totals(), "greedy": allocation_totals(),
        "savings": {"type": "object", "description": "what the optimum saves over first come: hours of first output, km, units unmet"},
        "providers": {"type": "array", "items": {"type": "object"}},
        "needs": {"type": "array", "items": {"type": "object"}},
        "skipped": {"type": "array", "items": {"type": "object"}}}))
}

fn what_if_input() -> Value {
    object(&["resolves_at"], json!({"resolves_at": {"type": "string", "format": "date-time"}}))
}

fn what_if() -> Value {
    object(&["first_output_before", "first_output_after", "moved_h"], json!({
        "first_output_before": {"type": "string", "format": "date-time"}, "first_output_after": {"type": "string", "format": "date-time"},
        "moved_h": {"type": "number"}}))
}

fn problem() -> Value {
    json!({"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
        "request_id": {"type": "string", "description": "the request's id in the server's log (also the x-request-id header)"}}})
}

/// The whole OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for op in OPERATIONS {
        let mut parameters: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let schema = if matches!(name, "id" | "member" | "shipment" | "need") { json!({"type": "integer", "minimum": 1}) } else { json!({"type": "string"}) };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        parameters.extend(op.query.iter().map(|(name, t, description)| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": t}})));
        let problem_response = json!({"description": "a problem (RFC 9457)", "content": {"application/problem+json": {"schema": problem()}}});
        let mut responses = serde_json::Map::new();
        responses.insert(op.ok.0.to_string(), json!({"description": "success", "content": {"application/json": {"schema": (op.ok.1)()}}}));
        responses.insert("default".into(), problem_response);
        let mut operation = json!({
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": format!("{}_{}", op.method, op.path.trim_start_matches("/api/v1/").replace(['/', '{', '}', '.'], "_")),
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(body) = op.body {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": body()}}});
        }
        if op.auth {
            operation["security"] = json!([{"bearer": []}]);
        }
        let entry = paths.entry(op.path.to_string()).or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "bangfu API", "version": env!("CARGO_PKG_VERSION"), "description": "帮扶: coordination desk for emergency production. Errors are application/problem+json."},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })
}
