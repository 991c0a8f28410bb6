//! What this server hears of new notifications, from every server of its database: one
//! listener per server (on PostgreSQL a `LISTEN` connection of its own; on SQLite the store's
//! in-process channel), started by the first page that asks, and shared by every open page
//! through a broadcast channel of department codes. The server-sent events of
//! `/notifications/stream` wait on it (see `pages/notifications.rs`).

use bangfu_app::App;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OnceCell, broadcast};

/// The departments that got a notification, as they are heard.
#[derive(Debug)]
pub struct NoticeHub {
    sender: broadcast::Sender<String>,
    started: OnceCell<()>,
}

impl Default for NoticeHub {
    fn default() -> Self {
        NoticeHub { sender: broadcast::channel(256).0, started: OnceCell::new() }
    }
}

impl NoticeHub {
    /// A receiver of what the server hears from now on; the first call starts listening (and
    /// returns once the listener is in place, so nothing sent after it returns is missed).
    pub async fn subscribe(&self, app: &Arc<App>) -> broadcast::Receiver<String> {
        let receiver = self.sender.subscribe();
        self.started
            .get_or_init(|| async {
                let first = app.listen_notifications().await;
                let (app, sender) = (Arc::clone(app), self.sender.clone());
                tokio::spawn(async move {
                    let mut listener = first.ok();
                    loop {
                        if let Some(heard) = listener.as_mut() {
                            match heard.recv().await {
                                Ok(notification) => {
                                    let _ = sender.send(notification.payload);
                                    continue;
                                }
                                Err(e) => tracing::warn!("notifications: the listener stopped ({}); listening again", bangfu_app::error_chain(&e)),
                            }
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        listener = app.listen_notifications().await.ok();
                    }
                });
            })
            .await;
        receiver
    }
}
