//! The JSON API under `/api/v1`. Each handler turns the request into one call of `bangfu-app`
//! and its answer into the wire format of [`crate::json`]. Every route but healthz, regions,
//! auth and the OpenAPI document needs credentials. The routes are listed in [`crate::openapi`],
//! which generates the OpenAPI document from the same table.

use crate::answers::CaseAnswer;
use crate::auth::{Authenticated, client_address};
use crate::{AppState, Problem, clock, json};
use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bangfu_app::cases::{NewEnterprise, NewTeamMember};
use bangfu_app::channel::{NewApproval, NewShipment};
use bangfu_app::needs::NewNeed;
use bangfu_app::plans::{NewMilestone, NewPlanStep};
use bangfu_app::AppError;
use bangfu_app::registry::NewProvider;
use bangfu_app::letters::{LetterEdit, LetterReply};
use bangfu_app::returns::{NewDailyReturn, ReturnFilter};
use bangfu_app::returns_sheet::{SheetFormat, XLSX_TYPE};
use bangfu_app::registry_search::ProviderSearch;
use bangfu_app::views::{CaseDetail, CaseFilter, LetterFilter, NeedFilter};
use crate::exports::{self, ExportFormat};
use crate::lists::{envelope, page_request, query_problem};
use bangfu_core::model::{ApprovalStatus, LetterStatus, NeedStatus, Scope, ShipmentStatus};
use bangfu_core::region::Region;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::net::SocketAddr;

/// The API's routes, with its JSON-only rule for bodies.
pub fn routes() -> Router<AppState> {
    table_routes().route_layer(axum::middleware::from_fn(crate::edges::json_bodies_only))
}

crate::route_table::route_table!(table_routes, ROUTES:
    "/healthz" => get(healthz),
    "/api/v1/openapi.json" => get(openapi),
    "/api/v1/regions" => get(find_regions),
    "/api/v1/regions/{code}" => get(region),
    "/api/v1/auth/token" => post(token),
    "/api/v1/auth/logout" => post(logout),
    "/api/v1/me" => get(me),
    "/api/v1/enterprises" => get(enterprises).post(add_enterprise),
    "/api/v1/providers" => get(providers).post(add_provider),
    "/api/v1/providers/{id}" => get(provider),
    "/api/v1/providers/{id}/capabilities/{kind}" => put(set_capability),
    "/api/v1/cases" => get(cases).post(open_case),
    "/api/v1/cases/{id}" => get(case),
    "/api/v1/cases/{id}/team" => post(add_team_member),
    "/api/v1/cases/{id}/team/{member}/release" => post(release_team_member),
    "/api/v1/cases/{id}/needs" => get(case_needs).post(report_need),
    "/api/v1/cases/{id}/events" => get(case_events),
    "/api/v1/cases/{id}/approvals" => post(open_approval),
    "/api/v1/cases/{id}/shipments" => post(add_shipment),
    "/api/v1/cases/{id}/shipments/{shipment}/move" => post(move_shipment),
    "/api/v1/cases/{id}/returns" => get(daily_returns).post(submit_daily_return),
    "/api/v1/cases/{id}/returns/upload" => post(upload_daily_returns),
    "/api/v1/returns" => get(returns_list),
    "/api/v1/figures" => get(figures),
    "/api/v1/briefing" => get(briefing),
    "/api/v1/briefings/generate" => post(generate_briefings),
    "/api/v1/cases/{id}/plan" => get(case_plan).put(set_plan),
    "/api/v1/cases/{id}/plan/milestones" => post(add_milestone),
    "/api/v1/cases/{id}/plan/milestones/{key}" => delete(remove_milestone),
    "/api/v1/cases/{id}/plan/milestones/{key}/blockers" => post(attach_blocker),
    "/api/v1/cases/{id}/plan/milestones/{key}/blockers/{need}" => delete(detach_blocker),
    "/api/v1/approvals/{id}/decision" => post(decide_approval),
    "/api/v1/needs" => get(needs),
    "/api/v1/needs/{id}" => get(need).put(edit_need),
    "/api/v1/inbox" => get(inbox),
    "/api/v1/needs/{id}/responses" => post(respond_to_need),
    "/api/v1/needs/{id}/comments" => post(comment_on_need),
    "/api/v1/needs/{id}/attachments" => post(attach_to_need),
    "/api/v1/attachments/{id}" => get(attachment),
    "/api/v1/needs/{id}/confirm" => post(confirm_need),
    "/api/v1/needs/{id}/reopen" => post(reopen_need),
    "/api/v1/needs/{id}/withdraw" => post(withdraw_need),
    "/api/v1/needs/{id}/route" => post(route_need),
    "/api/v1/needs/{id}/broadcast" => post(broadcast_need),
    "/api/v1/needs/{id}/candidates" => post(propose_candidate),
    "/api/v1/needs/{id}/select" => post(select_candidate),
    "/api/v1/needs/{id}/switch" => post(switch_candidate),
    "/api/v1/needs/{id}/start" => post(start_need),
    "/api/v1/needs/{id}/resolve" => post(resolve_need),
    "/api/v1/needs/{id}/cancel" => post(cancel_need),
    "/api/v1/needs/{id}/escalate" => post(escalate_need),
    "/api/v1/needs/{id}/what-if" => post(need_what_if),
    "/api/v1/needs/{id}/accept-allocation" => post(accept_allocation),
    "/api/v1/needs/{id}/reject-allocation" => post(reject_allocation),
    "/api/v1/allocations" => get(allocation),
    "/api/v1/escalations/run" => post(run_escalations),
    "/api/v1/search" => get(search),
    "/api/v1/letters" => get(letters),
    "/api/v1/letters/{id}" => get(letter).put(edit_letter),
    "/api/v1/letters/{id}/pdf" => get(letter_pdf),
    "/api/v1/letters/{id}/send" => post(send_letter),
    "/api/v1/letters/{id}/acknowledge" => post(acknowledge_letter),
    "/api/v1/notifications" => get(notifications),
    "/api/v1/channels" => get(channels).post(add_channel),
    "/api/v1/channels/{id}" => delete(remove_channel),
    "/api/v1/outbox" => get(outbox),
    "/api/v1/outbox/{id}/retry" => post(retry_message),
    "/api/v1/needs/{id}/deliveries" => get(need_deliveries),
);

// ---- extractors whose rejections are problem+json ----

/// A JSON body; a malformed one is a 400 problem saying what was wrong.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(Problem { status: StatusCode::UNSUPPORTED_MEDIA_TYPE, kind: "bad-input", title: "Bad input", detail: "send the body as JSON with Content-Type: application/json".into() })
            }
            Err(e) => Err(Problem::bad_request(format!("the JSON body is not right: {}", e.body_text()))),
        }
    }
}

/// A JSON body that may be absent (empty); a malformed one is a 400 problem.
pub struct OptionalBody<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| Problem::bad_request(e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(None));
        }
        serde_json::from_slice(&bytes).map(|v| OptionalBody(Some(v))).map_err(|e| Problem::bad_request(format!("the JSON body is not right: {e}")))
    }
}

/// A path parameter; a malformed one is a 400 problem.
pub struct PathParam<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParam<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParam(value)),
            Err(e @ PathRejection::FailedToDeserializePathParams(_)) => Err(Problem::bad_request(format!("the path is not right: {}", e.body_text()))),
            Err(e) => Err(Problem::bad_request(e.body_text())),
        }
    }
}

/// Query parameters; malformed ones are a 400 problem.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(QueryParams(value)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => Err(Problem::bad_request(format!("the query is not right: {}", e.body_text()))),
            Err(e) => Err(Problem::bad_request(e.body_text())),
        }
    }
}

type ApiResult = Result<Response, Problem>;

/// An RFC 3339 time from the body, such as 2020-02-13T08:30:00+08:00.
fn parse_time(field: &str, text: Option<String>) -> Result<Option<DateTime<Utc>>, Problem> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(t.trim())
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| Problem::bad_request(format!("{field}: {t:?} is not an RFC 3339 time — write it as 2020-02-13T08:30:00+08:00")))
    })
    .transpose()
}

fn ok(value: Value) -> ApiResult {
    Ok(axum::Json(value).into_response())
}

fn created(value: Value) -> ApiResult {
    Ok((StatusCode::CREATED, axum::Json(value)).into_response())
}

/// How a list answers: JSON, or `?format=csv` / `?format=xlsx` (an export); any other format
/// is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListFormat {
    Json,
    Csv,
    Xlsx,
}

impl ListFormat {
    pub(crate) fn of(format: Option<&str>) -> Result<ListFormat, Problem> {
        match format.map(str::trim) {
            None | Some("" | "json") => Ok(ListFormat::Json),
            Some("csv") => Ok(ListFormat::Csv),
            Some("xlsx") => Ok(ListFormat::Xlsx),
            Some(other) => Err(Problem::bad_request(format!("format: {other:?} is not a format this list has — use csv, xlsx, or json (the default)"))),
        }
    }

    /// The export asked for, if any.
    pub(crate) fn export(self) -> Option<ExportFormat> {
        match self {
            ListFormat::Json => None,
            ListFormat::Csv => Some(ExportFormat::Csv),
            ListFormat::Xlsx => Some(ExportFormat::Xlsx),
        }
    }
}

// ---- public ----

async fn healthz() -> ApiResult {
    ok(json!({"status": "ok"}))
}

async fn openapi() -> ApiResult {
    ok(crate::openapi::document())
}

fn region_json(r: &Region) -> Value {
    json!({"code": r.code.to_string(), "name": r.name, "level": r.level.as_str(), "parent": r.parent.map(|p| p.to_string()), "lon": r.lon, "lat": r.lat})
}

async fn region(State(state): State<AppState>, PathParam(code): PathParam<String>) -> ApiResult {
    let tree = state.app.tree();
    let code = tree.parse_code(&code).map_err(|e| match e {
        bangfu_core::region::RegionError::UnknownCode { .. } => Problem::not_found(e.to_string()),
        _ => Problem::bad_request(e.to_string()),
    })?;
    let region = tree.get(code).ok_or_else(|| Problem::not_found(format!("region {code} not found")))?;
    ok(region_json(region))
}

#[derive(Debug, Deserialize)]
struct RegionQuery {
    q: Option<String>,
}

async fn find_regions(State(state): State<AppState>, QueryParams(query): QueryParams<RegionQuery>) -> ApiResult {
    let q = query.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Err(Problem::bad_request("give a name to look for: /api/v1/regions?q=曲沃"));
    }
    let found: Vec<Value> = state.app.tree().find_by_name(&q).into_iter().take(50).map(region_json).collect();
    ok(json!({"items": found}))
}

#[derive(Debug, Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn token(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap, Body(credentials): Body<Credentials>) -> ApiResult {
    let client = client_address(peer.ip(), &headers, &state.settings.trusted_proxies);
    match state.app.login(clock::now(), &client, &credentials.username, &credentials.password).await {
        Ok(session) => ok(json!({"token": session.token, "expires_at": session.expires_at.to_rfc3339(), "role": session.actor.role.as_str()})),
        Err(bangfu_app::AppError::TooManyAttempts(seconds)) => {
            let mut answer = Problem::from(bangfu_app::AppError::TooManyAttempts(seconds)).into_response();
            answer.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
            Ok(answer)
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(State(state): State<AppState>, auth: Authenticated) -> ApiResult {
    state.app.logout(clock::now(), &auth.token).await?;
    ok(json!({"status": "logged out"}))
}

async fn me(auth: Authenticated) -> ApiResult {
    let a = &auth.actor;
    ok(json!({"username": a.name, "role": a.role.as_str(), "department": a.department.map(|d| d.to_string()), "enterprise_id": a.enterprise_id, "provider_id": a.provider_id}))
}

// ---- enterprises and registry ----

/// Only the paging parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<usize>,
    after: Option<i64>,
}

/// The paging parameters and the export format.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportablePageQuery {
    limit: Option<usize>,
    after: Option<i64>,
    format: Option<String>,
}

async fn enterprises(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<PageQuery>) -> ApiResult {
    let page = page_request(query.after, query.limit)?;
    let list = state.app.list_enterprises(&auth.actor, page).await?;
    let total = state.app.count_enterprises(&auth.actor).await?;
    ok(envelope(&list, total, page, json::enterprise))
}

#[derive(Debug, Deserialize)]
struct EnterpriseInput {
    name: String,
    credit_code: String,
    region: String,
    lon: Option<f64>,
    lat: Option<f64>,
    #[serde(default)]
    note: String,
}

async fn add_enterprise(State(state): State<AppState>, auth: Authenticated, Body(input): Body<EnterpriseInput>) -> ApiResult {
    let input = NewEnterprise { name: input.name, credit_code: input.credit_code, region: input.region, lon: input.lon, lat: input.lat, note: input.note };
    let row = state.app.add_enterprise(&auth.actor, clock::now(), input).await?;
    created(json::enterprise(&row))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderListQuery {
    kind: Option<String>,
    place: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
    after: Option<i64>,
    format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    q: Option<String>,
    kind: Option<String>,
    limit: Option<usize>,
}

/// Search across enterprises, providers, needs, letters and departments (`App::search`): what
/// the caller sees, best first.
async fn search(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<SearchParams>) -> ApiResult {
    let hits = state.app.search(&auth.actor, query.q.as_deref().unwrap_or(""), query.kind.as_deref(), query.limit).await.map_err(query_problem)?;
    ok(json!({"items": hits.iter().map(json::search_hit).collect::<Vec<_>>()}))
}

/// The registry, searched and paged like the registry page (`App::search_providers`); the CSV
/// export has one row per capability.
async fn providers(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<ProviderListQuery>) -> ApiResult {
    let format = ListFormat::of(query.format.as_deref())?;
    let search = ProviderSearch { kind: query.kind, place: query.place, text: query.q };
    if let Some(format) = format.export() {
        return exports::respond(format, exports::providers(state.app.clone(), auth.actor.clone(), search)).await;
    }
    let page = page_request(query.after, query.limit)?;
    let list = state.app.search_providers(&auth.actor, &search, page).await.map_err(query_problem)?;
    let total = state.app.count_providers(&auth.actor, &search).await.map_err(query_problem)?;
    ok(envelope(&list, total, page, |(p, caps)| json::provider_with_capabilities(p, caps)))
}

async fn provider(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    let (p, caps) = state.app.provider_detail(&auth.actor, id).await?;
    ok(json::provider_with_capabilities(&p, &caps))
}

#[derive(Debug, Deserialize)]
struct ProviderInput {
    key: String,
    name: String,
    region: String,
    lon: Option<f64>,
    lat: Option<f64>,
    #[serde(default)]
    note: String,
}

async fn add_provider(State(state): State<AppState>, auth: Authenticated, Body(input): Body<ProviderInput>) -> ApiResult {
    let input = NewProvider { key: input.key, name: input.name, region: input.region, lon: input.lon, lat: input.lat, note: input.note };
    let row = state.app.add_provider(&auth.actor, clock::now(), input).await?;
    created(json::provider(&row))
}

#[derive(Debug, Deserialize)]
struct CapabilityInput {
    #[serde(default = "yes")]
    available: bool,
    attrs: Value,
}

fn yes() -> bool {
    true
}

async fn set_capability(State(state): State<AppState>, auth: Authenticated, PathParam((id, kind)): PathParam<(i64, String)>, Body(input): Body<CapabilityInput>) -> ApiResult {
    let row = state.app.set_capability(&auth.actor, clock::now(), id, &kind, input.available, &input.attrs).await?;
    ok(json::capability(&row))
}

// ---- cases ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseListQuery {
    region: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
    after: Option<i64>,
    format: Option<String>,
}

async fn cases(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<CaseListQuery>) -> ApiResult {
    let format = ListFormat::of(query.format.as_deref())?;
    let region = query.region.as_deref().map(|r| state.app.region(r, "region")).transpose().map_err(query_problem)?;
    let filter = CaseFilter { region, status: query.status };
    if let Some(format) = format.export() {
        return exports::respond(format, exports::cases(state.app.clone(), auth.actor.clone(), filter)).await;
    }
    let page = page_request(query.after, query.limit)?;
    let list = state.app.list_cases(&auth.actor, &filter, page).await.map_err(query_problem)?;
    let total = state.app.count_cases(&auth.actor, &filter).await.map_err(query_problem)?;
    ok(envelope(&list, total, page, json::case_summary))
}

#[derive(Debug, Deserialize)]
struct CaseInput {
    enterprise_id: i64,
    #[serde(default)]
    title: String,
}

async fn open_case(State(state): State<AppState>, auth: Authenticated, Body(input): Body<CaseInput>) -> ApiResult {
    let row = state.app.open_case(&auth.actor, clock::now(), input.enterprise_id, &input.title).await?;
    created(json::case(&row))
}

/// A case answer's JSON, made once per case version (see `answers.rs`).
async fn case_answer(state: &AppState, auth: &Authenticated, id: i64, answer: CaseAnswer, make: impl FnOnce(&CaseDetail) -> Value) -> ApiResult {
    let detail = state.app.case_detail_seen(auth.seen, &auth.actor, id).await?;
    let bytes = state.answers.get_or_make(&detail, answer, make);
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

async fn case(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    case_answer(&state, &auth, id, CaseAnswer::Detail, json::case_detail).await
}

/// The case's timeline, paged by sequence number.
async fn case_events(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, QueryParams(query): QueryParams<ExportablePageQuery>) -> ApiResult {
    if let Some(format) = ListFormat::of(query.format.as_deref())?.export() {
        return exports::respond(format, exports::case_events(state.app.clone(), auth.actor.clone(), id)).await;
    }
    let page = page_request(query.after, query.limit)?;
    let (events, total) = state.app.case_events(&auth.actor, id, page).await?;
    ok(envelope(&events, total, page, json::event))
}

#[derive(Debug, Deserialize)]
struct TeamInput {
    title: String,
    department: String,
    role: String,
    user_id: Option<i64>,
}

/// Releases a member from the case's team with a reason; answers the team left.
async fn release_team_member(State(state): State<AppState>, auth: Authenticated, PathParam((id, member)): PathParam<(i64, i64)>, Body(input): Body<ReasonInput>) -> ApiResult {
    state.app.release_team_member(&auth.actor, clock::now(), id, member, &input.reason).await?;
    let detail = state.app.case_detail(&auth.actor, id).await?;
    ok(json!({"released": member, "team": detail.team.iter().map(json::team_member).collect::<Vec<_>>()}))
}

async fn add_team_member(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<TeamInput>) -> ApiResult {
    let input = NewTeamMember { title: input.title, department: input.department, role: input.role, user_id: input.user_id };
    let row = state.app.add_team_member(&auth.actor, clock::now(), id, input).await?;
    created(json::team_member(&row))
}

// ---- needs ----

#[derive(Debug, Deserialize)]
struct NeedInput {
    kind: String,
    title: String,
    quantity: f64,
    #[serde(default)]
    requires: Value,
    #[serde(default)]
    specification: String,
    #[serde(default)]
    unit: String,
    deadline: Option<String>,
    max_distance_km: Option<f64>,
    max_lead_time_h: Option<f64>,
    solution_region: Option<String>,
    /// Source the need from the registry at once (default true).
    #[serde(default = "yes")]
    source: bool,
}

async fn report_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<NeedInput>) -> ApiResult {
    let now = clock::now();
    let source = input.source;
    let need = NewNeed {
        kind: input.kind,
        title: input.title,
        specification: input.specification,
        quantity: input.quantity,
        unit: input.unit,
        requires: input.requires,
        deadline: parse_time("deadline", input.deadline)?,
        max_distance_km: input.max_distance_km,
        max_lead_time_h: input.max_lead_time_h,
        solution_region: input.solution_region,
    };
    let detail = if source {
        state.app.report_and_source_detail(&auth.actor, now, id, need).await?
    } else {
        let row = state.app.report_need(&auth.actor, now, id, need).await?;
        state.app.need_detail(&auth.actor, row.id).await?
    };
    created(json::need_detail(&detail))
}

async fn case_needs(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, QueryParams(query): QueryParams<PageQuery>) -> ApiResult {
    let page = page_request(query.after, query.limit)?;
    let (needs, total) = state.app.case_needs(&auth.actor, id, page).await?;
    ok(envelope(&needs, total, page, json::need))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NeedListQuery {
    region: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    owner: Option<String>,
    case_id: Option<i64>,
    limit: Option<usize>,
    after: Option<i64>,
    format: Option<String>,
}

async fn needs(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<NeedListQuery>) -> ApiResult {
    let format = ListFormat::of(query.format.as_deref())?;
    let filter = NeedFilter {
        region: query.region.as_deref().map(|r| state.app.region(r, "region")).transpose().map_err(query_problem)?,
        kind: query.kind,
        status: query.status,
        owner: query.owner,
        case_id: query.case_id,
    };
    if let Some(format) = format.export() {
        return exports::respond(format, exports::needs(state.app.clone(), auth.actor.clone(), filter)).await;
    }
    let page = page_request(query.after, query.limit)?;
    let list = state.app.list_needs(&auth.actor, &filter, page).await.map_err(query_problem)?;
    let total = state.app.count_needs(&auth.actor, &filter).await.map_err(query_problem)?;
    ok(envelope(&list, total, page, json::need))
}

async fn need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    let detail = state.app.need_detail(&auth.actor, id).await?;
    ok(json::need_detail(&detail))
}

async fn need_answer(state: &AppState, auth: &Authenticated, id: i64) -> ApiResult {
    let detail = state.app.need_detail(&auth.actor, id).await?;
    ok(json::need_detail(&detail))
}

async fn route_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    state.app.source_need(&auth.actor, clock::now(), id).await?;
    need_answer(&state, &auth, id).await
}

#[derive(Debug, Deserialize)]
struct BroadcastInput {
    ring: String,
}

async fn broadcast_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<BroadcastInput>) -> ApiResult {
    let ring = Scope::parse(&input.ring).map_err(|e| Problem::bad_request(format!("ring: {e}")))?;
    let departments = state.app.broadcast_need(&auth.actor, clock::now(), id, ring).await?;
    ok(json!({"need_id": id, "ring": ring.as_str(), "departments": departments}))
}

#[derive(Debug, Deserialize)]
struct ProposeInput {
    provider_id: i64,
}

async fn propose_candidate(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<ProposeInput>) -> ApiResult {
    state.app.propose_candidate(&auth.actor, clock::now(), id, input.provider_id).await?;
    need_answer(&state, &auth, id).await
}

#[derive(Debug, Deserialize)]
struct SelectInput {
    candidate_id: i64,
}

async fn select_candidate(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<SelectInput>) -> ApiResult {
    state.app.select_candidate(&auth.actor, clock::now(), id, input.candidate_id).await?;
    need_answer(&state, &auth, id).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchInput {
    candidate_id: i64,
    reason: String,
}

/// Switches a need from its selected provider to another candidate, with the reason.
async fn switch_candidate(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<SwitchInput>) -> ApiResult {
    state.app.switch_candidate(&auth.actor, clock::now(), id, input.candidate_id, &input.reason).await?;
    need_answer(&state, &auth, id).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllocationParams {
    kind: String,
    department: String,
    horizon_days: Option<u32>,
    method: Option<String>,
}

/// Parses `optimum` (default) or `greedy`.
pub(crate) fn allocation_method(text: Option<&str>) -> Result<bangfu_app::allocation::Method, bangfu_app::AppError> {
    match text.map(str::trim) {
        None | Some("") | Some("optimum") => Ok(bangfu_app::allocation::Method::Optimum),
        Some("greedy") => Ok(bangfu_app::allocation::Method::Greedy),
        Some(other) => Err(bangfu_app::AppError::BadInput(format!("method {other:?}: give optimum or greedy"))),
    }
}

/// An allocation of a kind over a department's open needs (`App::allocation`), with both
/// methods' totals, what the optimum saves and each need's reason. Writes nothing.
async fn allocation(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<AllocationParams>) -> ApiResult {
    let request = bangfu_app::allocation::AllocationRequest {
        kind: query.kind,
        department: query.department,
        horizon_days: query.horizon_days.unwrap_or(bangfu_app::allocation::DEFAULT_HORIZON_DAYS),
        method: allocation_method(query.method.as_deref()).map_err(query_problem)?,
    };
    let view = state.app.allocation(&auth.actor, clock::now(), &request).await.map_err(query_problem)?;
    ok(json::allocation_view(&view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptInput {
    provider_id: i64,
}

/// Accepts an allocation's proposal for a need: the ordinary selection of that provider.
async fn accept_allocation(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<AcceptInput>) -> ApiResult {
    state.app.accept_allocation(&auth.actor, clock::now(), id, input.provider_id).await?;
    need_answer(&state, &auth, id).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectInput {
    provider_id: Option<i64>,
    #[serde(default)]
    reason: String,
}

/// Rejects an allocation's proposal for a need: recorded with its reason; the need stays open.
async fn reject_allocation(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<RejectInput>) -> ApiResult {
    state.app.reject_allocation(&auth.actor, clock::now(), id, input.provider_id, &input.reason).await?;
    need_answer(&state, &auth, id).await
}

#[derive(Debug, Default, Deserialize)]
struct NoteInput {
    #[serde(default)]
    note: String,
}

async fn set_status(state: AppState, auth: Authenticated, id: i64, status: NeedStatus, note: String) -> ApiResult {
    state.app.set_need_status(&auth.actor, clock::now(), id, status, &note).await?;
    need_answer(&state, &auth, id).await
}

async fn start_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, OptionalBody(body): OptionalBody<NoteInput>) -> ApiResult {
    set_status(state, auth, id, NeedStatus::Started, body.map(|b| b.note).unwrap_or_default()).await
}

async fn resolve_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, OptionalBody(body): OptionalBody<NoteInput>) -> ApiResult {
    set_status(state, auth, id, NeedStatus::Resolved, body.map(|b| b.note).unwrap_or_default()).await
}

async fn cancel_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, OptionalBody(body): OptionalBody<NoteInput>) -> ApiResult {
    set_status(state, auth, id, NeedStatus::Cancelled, body.map(|b| b.note).unwrap_or_default()).await
}

// ---- escalation and letters ----

#[derive(Debug, Deserialize)]
struct EscalateInput {
    reason: String,
}

async fn escalate_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<EscalateInput>) -> ApiResult {
    let done = state.app.escalate_need(&auth.actor, clock::now(), id, &input.reason).await?;
    ok(json::escalated_need(&done))
}

/// One escalation pass at the server's now (admins only; the server also runs it every minute).
async fn run_escalations(State(state): State<AppState>, auth: Authenticated) -> ApiResult {
    let report = state.app.escalate(&auth.actor, clock::now()).await?;
    ok(json::escalation_report(&report))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LetterListQuery {
    status: Option<String>,
    need_id: Option<i64>,
    limit: Option<usize>,
    after: Option<i64>,
    format: Option<String>,
}

/// The letters of the needs the caller may see.
async fn letters(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<LetterListQuery>) -> ApiResult {
    let format = ListFormat::of(query.format.as_deref())?;
    let filter = LetterFilter { status: query.status, need_id: query.need_id };
    if let Some(format) = format.export() {
        return exports::respond(format, exports::letters(state.app.clone(), auth.actor.clone(), filter)).await;
    }
    let page = page_request(query.after, query.limit)?;
    let list = state.app.list_letters(&auth.actor, &filter, page).await.map_err(query_problem)?;
    let total = state.app.count_letters(&auth.actor, &filter).await.map_err(query_problem)?;
    ok(envelope(&list, total, page, json::letter))
}

async fn letter(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    let detail = state.app.letter(&auth.actor, id).await?;
    ok(json::letter(&detail.letter))
}

async fn set_letter_status(state: AppState, auth: Authenticated, id: i64, status: LetterStatus, note: Option<NoteInput>) -> ApiResult {
    let note = note.map(|b| b.note).unwrap_or_default();
    let row = state.app.set_letter_status(&auth.actor, clock::now(), id, status, &note).await?;
    ok(json::letter(&row))
}

async fn send_letter(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, OptionalBody(body): OptionalBody<NoteInput>) -> ApiResult {
    set_letter_status(state, auth, id, LetterStatus::Sent, body).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcknowledgeInput {
    #[serde(default)]
    note: String,
    /// The reply's number, date (YYYY-MM-DD) and text; recorded when given (number and date
    /// together).
    reply_number: Option<String>,
    reply_date: Option<String>,
    #[serde(default)]
    reply_text: String,
}

/// Marks a sent letter acknowledged, recording the reply that acknowledged it when given.
async fn acknowledge_letter(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, OptionalBody(body): OptionalBody<AcknowledgeInput>) -> ApiResult {
    let body = body.unwrap_or(AcknowledgeInput { note: String::new(), reply_number: None, reply_date: None, reply_text: String::new() });
    let row = match (body.reply_number, body.reply_date) {
        (None, None) => state.app.set_letter_status(&auth.actor, clock::now(), id, LetterStatus::Acknowledged, &body.note).await?,
        (number, date) => {
            let reply = LetterReply { number: number.unwrap_or_default(), date: date.unwrap_or_default(), text: body.reply_text };
            state.app.acknowledge_letter(&auth.actor, clock::now(), id, reply, &body.note).await?
        }
    };
    ok(json::letter(&row))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LetterEditInput {
    subject: String,
    paragraphs: Vec<String>,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    cc: Vec<String>,
}

/// Edits a draft before it is sent (its sender's department only).
async fn edit_letter(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<LetterEditInput>) -> ApiResult {
    let edit = LetterEdit { subject: input.subject, paragraphs: input.paragraphs, contact_name: input.contact_name, contact_phone: input.contact_phone, cc: input.cc };
    let row = state.app.edit_letter(&auth.actor, clock::now(), id, edit).await?;
    ok(json::letter(&row))
}

/// The letter as a PDF laid out per GB/T 9704-2012 (信函格式), A4.
async fn letter_pdf(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    let detail = state.app.letter(&auth.actor, id).await?;
    let pdf = state.settings.printer.pdf(&crate::pages::letter_sheet::print_document(&detail)).await.map_err(|e| Problem::from(bangfu_app::AppError::internal("printing a letter", &e)))?;
    Ok(crate::pages::letter_sheet::pdf_response(&detail, pdf))
}

// ---- plans ----

/// The plan as `bangfu plan --input` reads it, without the start (the server projects from now)
/// and with each milestone's blocking needs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanInput {
    milestones: Vec<MilestoneInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MilestoneInput {
    id: String,
    #[serde(default)]
    name: String,
    duration_h: f64,
    #[serde(default)]
    after: Vec<String>,
    not_before: Option<String>,
    actual_start: Option<String>,
    actual_finish: Option<String>,
    #[serde(default)]
    blockers: Vec<i64>,
}

async fn case_plan(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    let view = state.app.case_plan(&auth.actor, id, clock::now()).await?;
    ok(json::case_plan(&view))
}

async fn set_plan(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<PlanInput>) -> ApiResult {
    let now = clock::now();
    let milestones = input
        .milestones
        .into_iter()
        .map(|m| {
            let field = |name: &str| format!("milestone {:?}: {name}", m.id);
            Ok(NewMilestone {
                not_before: parse_time(&field("not_before"), m.not_before)?,
                actual_start: parse_time(&field("actual_start"), m.actual_start)?,
                actual_finish: parse_time(&field("actual_finish"), m.actual_finish)?,
                key: m.id,
                name: m.name,
                duration_h: m.duration_h,
                after: m.after,
                blockers: m.blockers,
            })
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    state.app.set_plan(&auth.actor, now, id, milestones).await?;
    let view = state.app.case_plan(&auth.actor, id, now).await?;
    ok(json::case_plan(&view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepInput {
    /// Made up (m1, m2, …) when absent.
    #[serde(default)]
    key: String,
    name_zh: String,
    #[serde(default)]
    name_en: String,
    duration_h: f64,
    #[serde(default)]
    after: Vec<String>,
}

/// Adds a milestone to the end of the case's plan; answers the plan.
async fn add_milestone(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<StepInput>) -> ApiResult {
    let now = clock::now();
    let step = NewPlanStep { key: input.key, name_zh: input.name_zh, name_en: input.name_en, duration_h: input.duration_h, after: input.after };
    state.app.add_milestone(&auth.actor, now, id, step).await?;
    let view = state.app.case_plan(&auth.actor, id, now).await?;
    created(json::case_plan(&view))
}

/// Takes a milestone out of the case's plan; answers the plan.
async fn remove_milestone(State(state): State<AppState>, auth: Authenticated, PathParam((id, key)): PathParam<(i64, String)>) -> ApiResult {
    let now = clock::now();
    state.app.remove_milestone(&auth.actor, now, id, &key).await?;
    let view = state.app.case_plan(&auth.actor, id, now).await?;
    ok(json::case_plan(&view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockerInput {
    need_id: i64,
}

/// Attaches a need of the case to a milestone (it waits for the need); answers the plan.
async fn attach_blocker(State(state): State<AppState>, auth: Authenticated, PathParam((id, key)): PathParam<(i64, String)>, Body(input): Body<BlockerInput>) -> ApiResult {
    let now = clock::now();
    state.app.attach_blocker(&auth.actor, now, id, &key, input.need_id).await?;
    let view = state.app.case_plan(&auth.actor, id, now).await?;
    ok(json::case_plan(&view))
}

/// Detaches a need from a milestone; answers the plan.
async fn detach_blocker(State(state): State<AppState>, auth: Authenticated, PathParam((id, key, need)): PathParam<(i64, String, i64)>) -> ApiResult {
    let now = clock::now();
    state.app.detach_blocker(&auth.actor, now, id, &key, need).await?;
    let view = state.app.case_plan(&auth.actor, id, now).await?;
    ok(json::case_plan(&view))
}

#[derive(Debug, Deserialize)]
struct WhatIfInput {
    resolves_at: String,
}

async fn need_what_if(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<WhatIfInput>) -> ApiResult {
    let now = clock::now();
    let resolves_at = parse_time("resolves_at", Some(input.resolves_at))?.unwrap_or(now);
    let answer = state.app.need_what_if(&auth.actor, id, resolves_at, now).await?;
    ok(json::what_if(&answer))
}

// ---- green channel, shipments, returns, notifications ----

#[derive(Debug, Deserialize)]
struct ApprovalInput {
    department: String,
    agency: String,
    item: String,
    due_at: Option<String>,
}

async fn open_approval(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<ApprovalInput>) -> ApiResult {
    let input = NewApproval { department: input.department, agency: input.agency, item: input.item, due_at: parse_time("due_at", input.due_at)? };
    let row = state.app.open_approval(&auth.actor, clock::now(), id, input).await?;
    created(json::approval(&row))
}

#[derive(Debug, Deserialize)]
struct DecisionInput {
    status: String,
}

async fn decide_approval(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<DecisionInput>) -> ApiResult {
    let status = ApprovalStatus::parse(&input.status).map_err(|e| Problem::bad_request(format!("status: {e}")))?;
    let row = state.app.decide_approval(&auth.actor, clock::now(), id, status).await?;
    ok(json::approval(&row))
}

#[derive(Debug, Deserialize)]
struct ShipmentInput {
    need_id: Option<i64>,
    goods: String,
    origin: String,
    destination: String,
    #[serde(default = "planned")]
    status: String,
    traffic_pass: Option<String>,
    departs_at: Option<String>,
    arrives_at: Option<String>,
}

fn planned() -> String {
    "planned".into()
}

async fn add_shipment(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<ShipmentInput>) -> ApiResult {
    let input = NewShipment {
        need_id: input.need_id,
        goods: input.goods,
        origin: input.origin,
        destination: input.destination,
        status: input.status,
        traffic_pass: input.traffic_pass,
        departs_at: parse_time("departs_at", input.departs_at)?,
        arrives_at: parse_time("arrives_at", input.arrives_at)?,
    };
    let row = state.app.add_shipment(&auth.actor, clock::now(), id, input).await?;
    created(json::shipment(&row))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveInput {
    /// in_transit, delivered, held or planned.
    status: String,
    traffic_pass: Option<String>,
}

/// Moves a shipment along its states (planned → in transit → delivered, or held).
async fn move_shipment(State(state): State<AppState>, auth: Authenticated, PathParam((id, shipment)): PathParam<(i64, i64)>, Body(input): Body<MoveInput>) -> ApiResult {
    let to = ShipmentStatus::parse(input.status.trim()).map_err(|e| Problem::from(AppError::BadInput(format!("status: {e}"))))?;
    let row = state.app.move_shipment(&auth.actor, clock::now(), id, shipment, to, input.traffic_pass.as_deref()).await?;
    ok(json::shipment(&row))
}

async fn daily_returns(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    let rows = state.app.daily_returns(&auth.actor, id).await?;
    ok(json!({"items": rows.iter().map(json::daily_return).collect::<Vec<_>>()}))
}

#[derive(Debug, Deserialize)]
struct ReturnInput {
    day: String,
    product: String,
    capacity_per_day: f64,
    output: f64,
    stock: f64,
    #[serde(default)]
    shipped: f64,
    #[serde(default)]
    note: String,
}

async fn submit_daily_return(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<ReturnInput>) -> ApiResult {
    let input = NewDailyReturn {
        day: input.day,
        product: input.product,
        capacity_per_day: input.capacity_per_day,
        output: input.output,
        stock: input.stock,
        shipped: input.shipped,
        note: input.note,
    };
    let row = state.app.submit_daily_return(&auth.actor, clock::now(), id, input).await?;
    created(json::daily_return(&row))
}

/// A spreadsheet of returns as the body, `text/csv` or XLSX (the one API write whose body is
/// not JSON; see `edges::json_bodies_only`): all rows or none, each bad row named.
async fn upload_daily_returns(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, headers: HeaderMap, body: axum::body::Bytes) -> ApiResult {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let format = SheetFormat::detect("", content_type).ok_or_else(|| Problem {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        kind: "unsupported-media-type",
        title: "Unsupported Media Type",
        detail: format!("send the spreadsheet as text/csv or {XLSX_TYPE}"),
    })?;
    let report = state.app.upload_daily_returns(&auth.actor, clock::now(), id, &body, format).await?;
    created(json!({"added": report.added, "corrected": report.corrected}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnListQuery {
    region: Option<String>,
    from: Option<String>,
    to: Option<String>,
    product: Option<String>,
    case_id: Option<i64>,
    limit: Option<usize>,
    after: Option<i64>,
    format: Option<String>,
}

/// The returns the caller may see, filtered by region, days, product and case.
async fn returns_list(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<ReturnListQuery>) -> ApiResult {
    let format = ListFormat::of(query.format.as_deref())?;
    let filter = ReturnFilter {
        region: query.region.as_deref().map(|r| state.app.region(r, "region")).transpose().map_err(query_problem)?,
        from: query.from,
        to: query.to,
        product: query.product,
        case_id: query.case_id,
    };
    if let Some(format) = format.export() {
        return exports::respond(format, exports::returns(state.app.clone(), auth.actor.clone(), filter)).await;
    }
    let page = page_request(query.after, query.limit)?;
    let list = state.app.list_returns(&auth.actor, &filter, page).await.map_err(query_problem)?;
    let total = state.app.count_returns(&auth.actor, &filter).await.map_err(query_problem)?;
    ok(envelope(&list, total, page, json::return_line))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FiguresQuery {
    region: Option<String>,
    /// The last day, YYYY-MM-DD (default: yesterday at UTC+8).
    to: Option<String>,
    days: Option<i64>,
}

/// The figures of the caller's jurisdiction (or a region inside it) for the days to `to`.
async fn figures(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<FiguresQuery>) -> ApiResult {
    let last = match query.to.as_deref() {
        Some(day) => bangfu_core::returns::parse_day(day).map_err(|e| Problem::bad_request(format!("to: {e}")))?,
        None => bangfu_core::returns::last_due_day(clock::now()),
    };
    let figures = state.app.figures(&auth.actor, query.region.as_deref(), last, query.days.unwrap_or(14)).await.map_err(query_problem)?;
    ok(figures.to_json())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BriefingQuery {
    region: Option<String>,
    day: Option<String>,
}

/// The daily briefing (每日专报) of the caller's department (or a region inside it) for a day.
async fn briefing(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<BriefingQuery>) -> ApiResult {
    let day = query.day.as_deref().map(|d| bangfu_core::returns::parse_day(d).map_err(|e| Problem::bad_request(format!("day: {e}")))).transpose()?;
    let briefing = state.app.briefing(&auth.actor, clock::now(), query.region.as_deref(), day).await.map_err(query_problem)?;
    ok(briefing.to_json())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateBriefingsInput {
    day: String,
}

/// Generates and keeps every department's briefing of a day (admins; the server does it at
/// 08:00 UTC+8): those kept already stay as they were.
async fn generate_briefings(State(state): State<AppState>, auth: Authenticated, Body(input): Body<GenerateBriefingsInput>) -> ApiResult {
    let day = bangfu_core::returns::parse_day(input.day.trim()).map_err(|e| Problem::bad_request(format!("day: {e}")))?;
    let made = state.app.generate_day_briefings(&auth.actor, clock::now(), day).await?;
    ok(json::briefings_generated(day, &made))
}

/// The notifications of the caller's department, oldest first: a client keeps the last `next`
/// (or id) it saw and asks `after` it for what is new.
async fn notifications(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<PageQuery>) -> ApiResult {
    let page = page_request(query.after, query.limit)?;
    let rows = state.app.notifications(&auth.actor, page).await?;
    let total = state.app.count_notifications(&auth.actor).await?;
    ok(envelope(&rows, total, page, json::notification))
}

// ---- participation (issue 16) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InboxQuery {
    limit: Option<usize>,
    /// Needs older than this one: the `next` of the previous page.
    before: Option<i64>,
}

/// The needs addressed to the caller's provider or enterprise, newest first, each with its
/// unread mark (and the provider's candidacy and last answer).
async fn inbox(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<InboxQuery>) -> ApiResult {
    let limit = query.limit.unwrap_or(bangfu_app::views::DEFAULT_PAGE);
    let inbox = state.app.inbox(&auth.actor, query.before, limit as i64).await?;
    ok(json!({"items": inbox.items.iter().map(json::inbox_item).collect::<Vec<_>>(), "total": inbox.total, "limit": limit, "next": inbox.next}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseInput {
    answer: String,
    #[serde(default)]
    note: String,
    quantity: Option<f64>,
    price: Option<f64>,
    /// RFC 3339, such as 2020-02-10T08:00:00+08:00.
    deliver_by: Option<String>,
}

async fn respond_to_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<ResponseInput>) -> ApiResult {
    let response = bangfu_app::participation::NewResponse {
        answer: input.answer,
        note: input.note,
        quantity: input.quantity,
        price: input.price,
        deliver_by: parse_time("deliver_by", input.deliver_by)?,
    };
    let row = state.app.respond_to_need(&auth.actor, clock::now(), id, response).await?;
    created(json::response(&row))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentInput {
    text: String,
}

async fn comment_on_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<CommentInput>) -> ApiResult {
    let row = state.app.comment_on_need(&auth.actor, clock::now(), id, &input.text).await?;
    created(json::comment(&row))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentInput {
    filename: String,
    /// The file, base64 (standard alphabet, padded).
    content_base64: String,
}

async fn attach_to_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<AttachmentInput>) -> ApiResult {
    let content = bangfu_app::participation::base64_decode(input.content_base64.trim())
        .ok_or_else(|| Problem::bad_request("content_base64: not base64 — send the file's bytes in standard base64 with padding"))?;
    let row = state.app.attach_to_need(&auth.actor, clock::now(), id, &input.filename, &content).await?;
    created(json::attachment(&row))
}

/// An attachment's file, for whoever reads the need's discussion.
async fn attachment(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    let (row, content) = state.app.attachment(&auth.actor, id).await?;
    Ok(attachment_response(&row, content))
}

/// A stored document as a download: its own type, never sniffed, never shown inline as a page.
pub(crate) fn attachment_response(row: &bangfu_store::AttachmentRow, content: Vec<u8>) -> Response {
    let ascii: String = row.filename.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    let encoded: String = row.filename.bytes().map(|b| if b.is_ascii_alphanumeric() || b".-_".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    (
        [
            (header::CONTENT_TYPE, row.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        content,
    )
        .into_response()
}

async fn confirm_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    state.app.confirm_need(&auth.actor, clock::now(), id).await?;
    need_answer(&state, &auth, id).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonInput {
    reason: String,
}

async fn reopen_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<ReasonInput>) -> ApiResult {
    state.app.reopen_need(&auth.actor, clock::now(), id, &input.reason).await?;
    need_answer(&state, &auth, id).await
}

async fn withdraw_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<ReasonInput>) -> ApiResult {
    state.app.withdraw_need(&auth.actor, clock::now(), id, &input.reason).await?;
    need_answer(&state, &auth, id).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NeedEditInput {
    title: String,
    quantity: f64,
    #[serde(default)]
    requires: Value,
    #[serde(default)]
    specification: String,
    #[serde(default)]
    unit: String,
    deadline: Option<String>,
    max_distance_km: Option<f64>,
    max_lead_time_h: Option<f64>,
}

/// Edits an open need: every field of the body replaces the need's (a field left out is
/// cleared, as in a form).
async fn edit_need(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>, Body(input): Body<NeedEditInput>) -> ApiResult {
    let edit = NewNeed {
        title: input.title,
        specification: input.specification,
        quantity: input.quantity,
        unit: input.unit,
        requires: input.requires,
        deadline: parse_time("deadline", input.deadline)?,
        max_distance_km: input.max_distance_km,
        max_lead_time_h: input.max_lead_time_h,
        ..NewNeed::default()
    };
    state.app.edit_need(&auth.actor, clock::now(), id, edit).await?;
    need_answer(&state, &auth, id).await
}

// ---- notifications where officials work: channels and the outbox (issue 15) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelInput {
    department: Option<String>,
    provider_id: Option<i64>,
    enterprise_id: Option<i64>,
    kind: String,
    url: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    mentions: Vec<String>,
    #[serde(default)]
    quiet_hours: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    format: String,
}

/// Removes a channel the caller keeps: nothing more is sent to it (the messages already made
/// stay in the outbox's log). Answers the channels the caller keeps now.
async fn remove_channel(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    state.app.remove_channel(&auth.actor, clock::now(), id).await?;
    channels(State(state), auth).await
}

/// The channels the caller keeps (URLs masked, secrets as "set").
async fn channels(State(state): State<AppState>, auth: Authenticated) -> ApiResult {
    let channels = state.app.channels(&auth.actor).await?;
    ok(serde_json::json!({"items": channels.iter().map(json::channel).collect::<Vec<_>>()}))
}

/// Adds a channel to a department (or a provider, an enterprise); the secret is not shown back.
async fn add_channel(State(state): State<AppState>, auth: Authenticated, Body(input): Body<ChannelInput>) -> ApiResult {
    let input = bangfu_app::outbox::NewChannel {
        department: input.department,
        provider_id: input.provider_id,
        enterprise_id: input.enterprise_id,
        kind: input.kind,
        label: input.label,
        url: input.url,
        secret: input.secret,
        events: input.events.join(","),
        mentions: input.mentions.join(","),
        quiet_hours: input.quiet_hours,
        format: input.format,
    };
    let view = state.app.add_channel(&auth.actor, clock::now(), input).await?;
    created(json::channel(&view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    status: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

/// The outbox for administrators: messages by id with their attempts.
async fn outbox(State(state): State<AppState>, auth: Authenticated, QueryParams(query): QueryParams<OutboxQuery>) -> ApiResult {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Problem::bad_request(format!("limit {limit} — give 1 to 500")));
    }
    let lines = state.app.outbox(&auth.actor, query.status.as_deref(), query.after.unwrap_or(0), limit).await?;
    ok(serde_json::json!({"items": lines.iter().map(json::delivery).collect::<Vec<_>>()}))
}

/// Puts a dead or waiting message back in line.
async fn retry_message(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    let row = state.app.retry_message(&auth.actor, clock::now(), id).await?;
    ok(serde_json::json!({"id": row.id, "status": row.status, "attempts": row.attempts, "next_attempt_at": json::time(row.next_attempt_at)}))
}

/// The messages sent out about a need and what became of each.
async fn need_deliveries(State(state): State<AppState>, auth: Authenticated, PathParam(id): PathParam<i64>) -> ApiResult {
    let lines = state.app.need_deliveries(&auth.actor, id).await?;
    ok(serde_json::json!({"items": lines.iter().map(json::delivery).collect::<Vec<_>>()}))
}
