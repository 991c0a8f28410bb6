//! The server-rendered pages: login, dashboard, case, needs list, need, registry and the enterprise view.
//!
//! Each handler turns the request into calls of `bangfu-app` and renders what comes back through
//! an askama template (auto-escaped); the pages decide nothing of their own — who sees what,
//! routing, screening and every status change are the app's. Forms post back with the session's
//! CSRF token and answer with a redirect (post/redirect/get) or the same page with the message
//! beside the field that was wrong. Chinese by default; `?lang=en` or the language cookie
//! switches to English. Every asset is compiled into the binary.

mod allocate;
mod assets;
mod briefing;
mod case;
mod charts;
mod cases;
mod dashboard;
mod downloads;
mod enterprise;
mod figures;
mod events;
mod form;
mod gantt;
mod inbox;
mod map;
mod need;
mod needs;
mod notifications;
mod outbox;
mod pager;
mod registry;
mod search;
mod session;
mod ui;
pub(crate) mod letter_sheet;
mod what_if;

use crate::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;

/// The error page for a path no page serves (404, in the request's language).
pub fn no_such_page(state: &AppState, parts: &Parts) -> Response {
    let lang = session::language(parts);
    let message = lang.pick("没有这个页面", "There is no such page").to_string();
    session::error_response(&state.app, None, lang, StatusCode::NOT_FOUND, message)
}

/// The pages' routes.
pub fn routes() -> Router<AppState> {
    table_routes()
}

crate::route_table::route_table!(table_routes, ROUTES:
    "/" => get(dashboard::show),
    "/login" => get(session::login_form).post(session::login),
    "/logout" => post(session::logout),
    "/lang/{code}" => get(session::switch_language),
    "/assets/{file}" => get(assets::serve),
    "/cases" => get(cases::show),
    "/cases/{id}" => get(case::show),
    "/cases/{id}/enterprise" => get(enterprise::show),
    "/cases/{id}/needs" => post(enterprise::report_need),
    "/cases/{id}/returns" => post(enterprise::submit_return),
    "/cases/{id}/returns/upload" => post(enterprise::upload_returns),
    "/cases/{id}/approvals" => post(case::open_approval),
    "/cases/{id}/approvals/{approval}" => post(case::decide_approval),
    "/cases/{id}/shipments" => post(case::add_shipment),
    "/cases/{id}/shipments/{shipment}" => post(case::move_shipment),
    "/cases/{id}/team" => post(case::station),
    "/cases/{id}/team/{member}/release" => post(case::release),
    "/cases/{id}/plan/blockers" => post(case::plan_blocker),
    "/cases/{id}/plan/milestones" => post(case::plan_milestone),
    "/enterprises" => post(cases::register),
    "/needs" => get(needs::show),
    "/needs/bulk" => post(needs::bulk),
    "/needs/views" => post(needs::save_view),
    "/needs/views/{id}/delete" => post(needs::delete_view),
    "/search" => get(search::show),
    "/allocate" => get(allocate::show),
    "/needs/{id}" => get(need::show),
    "/inbox" => get(inbox::show),
    "/needs/{id}/attachments" => post(need::attach),
    "/attachments/{id}" => get(need::attachment),
    "/needs/{id}/letters/{letter}" => get(need::letter).post(need::letter_act),
    "/needs/{id}/letters/{letter}/pdf" => get(need::letter_pdf),
    "/needs/{id}/{action}" => post(need::act),
    "/notifications" => get(notifications::show),
    "/notifications/read-all" => post(notifications::read_all),
    "/notifications/{id}/read" => post(notifications::read_one),
    "/notifications/stream" => get(notifications::stream),
    "/registry" => get(registry::search),
    "/registry/providers" => post(registry::add_provider),
    "/registry/providers/{id}" => get(registry::provider),
    "/registry/providers/{id}/capabilities" => post(registry::set_capability),
    "/registry/import" => get(registry::import_form).post(registry::import),
    "/export/{list}" => get(downloads::download),
    "/figures" => get(figures::show),
    "/briefing" => get(briefing::show),
    "/briefing/download" => get(briefing::download),
    "/channels" => get(outbox::channels).post(outbox::add_channel),
    "/channels/{id}/remove" => post(outbox::remove_channel),
    "/outbox" => get(outbox::outbox),
    "/outbox/{id}/retry" => post(outbox::retry),
);
