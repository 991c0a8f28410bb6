//! The notifications of the user's department (`/notifications`, issue 13): newest first, a page
//! at a time, each read or unread for this user, with buttons to mark one or all of them read;
//! and `/notifications/stream`, server-sent events that carry the user's unread count whenever a
//! notification reaches its department — from any server of the database (PostgreSQL
//! `LISTEN`/`NOTIFY`, see `notices.rs`) — so the count in every page's header stays current
//! without reloading. A stream lasts a minute and the browser opens the next one itself, so a
//! server shutting down waits for no stream longer than that.

use super::form::Fields;
use super::pager::Pager;
use super::session::{PageUser, render};
use super::ui::{Ui, time};
use crate::edges::see_other;
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bangfu_app::views::DEFAULT_PAGE;
use bangfu_store::PageRequest;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// How long one event stream lasts before the browser opens the next.
const STREAM_FOR: Duration = Duration::from_secs(60);

pub struct NoteLine {
    pub id: i64,
    pub at: String,
    pub text: String,
    pub need_id: Option<i64>,
    pub read: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    ui: Ui,
    notes: Vec<NoteLine>,
    total: i64,
    unread: i64,
    department: bool,
    pager: Pager,
}

#[derive(Debug, Default, Deserialize)]
pub struct NotificationsQuery {
    /// The page starts before this id (the pager's next).
    after: Option<i64>,
}

pub async fn show(State(state): State<AppState>, user: PageUser, Query(query): Query<NotificationsQuery>) -> Response {
    let lang = user.lang;
    let request = PageRequest { after: query.after, limit: DEFAULT_PAGE };
    let (page, total) = match state.app.notification_lines(&user.actor, request).await {
        Ok(listed) => listed,
        Err(e) => return user.fail(&state, e),
    };
    let pager = Pager::new(lang, "/notifications", &[], "after", query.after, &page, total);
    let notes = page
        .items
        .iter()
        .map(|l| NoteLine { id: l.row.id, at: time(l.row.created_at), text: lang.pick(&l.row.text_zh, &l.row.text_en).to_string(), need_id: l.row.need_id, read: l.read })
        .collect();
    let department = user.actor.department.is_some();
    let unread = user.unread;
    let ui = user.ui(&state, "notifications", lang.pick("通知", "Notifications"));
    render(&NotificationsPage { ui, notes, total, unread, department, pager })
}

/// `POST /notifications/read-all`.
pub async fn read_all(State(state): State<AppState>, user: PageUser, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    match state.app.mark_all_notifications_read(&user.actor, clock::now()).await {
        Ok(_) => see_other("/notifications"),
        Err(e) => user.fail(&state, e),
    }
}

/// `POST /notifications/{id}/read`: marks one read and goes back to the list (or, with
/// `open=1`, to the need it is about).
pub async fn read_one(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    match state.app.mark_notification_read(&user.actor, clock::now(), id).await {
        Ok(()) => see_other(&super::session::local_target(fields.get("back"))),
        Err(e) => user.fail(&state, e),
    }
}

/// `GET /notifications/stream`: server-sent events named `unread` with the user's unread count,
/// one at once and one each time it changes, for a minute.
pub async fn stream(State(state): State<AppState>, user: PageUser) -> Response {
    let department = state.app.notification_department(&user.actor);
    let mut wake = state.notices.subscribe(&state.app).await;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(4);
    let (app, actor) = (state.app.clone(), user.actor.clone());
    tokio::spawn(async move {
        let end = tokio::time::Instant::now() + STREAM_FOR;
        let mut last = None;
        loop {
            let count = match app.unread_notifications(&actor).await {
                Ok(count) => count,
                Err(e) => {
                    eprintln!("notifications stream: {e}");
                    return;
                }
            };
            if last != Some(count) {
                if sender.send(Ok(Event::default().event("unread").data(count.to_string()))).await.is_err() {
                    return;
                }
                last = Some(count);
            }
            // Until the department hears of a new notification (or the stream's minute is up).
            loop {
                tokio::select! {
                    heard = wake.recv() => match heard {
                        Ok(d) if Some(&d) == department.as_ref() => break,
                        Ok(_) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    },
                    () = tokio::time::sleep_until(end) => return,
                    () = sender.closed() => return,
                }
            }
        }
    });
    Sse::new(tokio_stream::wrappers::ReceiverStream::new(receiver)).keep_alive(KeepAlive::default()).into_response()
}
