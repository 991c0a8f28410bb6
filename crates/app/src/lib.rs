//! bangfu's use cases. Every change goes `authorise → validate → write → append audit event`
//! in one transaction ([`App`] methods taking an [`Actor`] and `now`); every read is filtered by
//! [`access`], the one place that decides who sees what. Web and CLI both call this crate and
//! hold no rules of their own.
//!
//! Invariants: no HTTP, no SQL (that is `bangfu-store`), and no clock — `now` is a parameter.

pub mod access;
pub mod allocation;
pub mod accounts;
pub mod audit;
mod actor;
mod cache;
pub mod briefing;
pub mod cases;
pub mod channel;
pub mod dashboard;
pub mod demo;
pub mod demo_accounts;
pub mod escalation;
pub mod exercise;
pub mod figures;
pub mod import;
mod error;
pub mod intake;
pub mod letters;
pub mod morning;
pub mod needs;
pub mod notifications;
pub mod participation;
pub mod outbox;
pub mod plans;
pub mod queue;
pub mod registry;
mod registry_cache;
pub mod registry_search;
pub mod reminders;
pub mod returns;
pub mod returns_sheet;
pub mod search;
pub mod setup;
mod time;
pub mod views;

pub use actor::Actor;
pub use cache::Seen;
pub use error::{AppError, AppResult, chain as error_chain};
pub use time::{from_millis, to_millis};

use bangfu_core::bounded_screening::Bounds;
use bangfu_core::escalation::ResponseWindows;
use bangfu_core::region::RegionTree;
use bangfu_core::routing::RoutingPolicy;
use bangfu_store::{NewEvent, Store, WriteTx};
use chrono::{DateTime, Utc};

/// The application: a store, the region tree and the policies of this deployment.
#[derive(Clone, Debug)]
pub struct App {
    pub(crate) store: Store,
    pub(crate) tree: &'static RegionTree,
    pub(crate) policy: RoutingPolicy,
    /// How long each tier has to act on a need before it escalates.
    pub(crate) windows: ResponseWindows,
    /// Case pages read at the database's current version (see `cache.rs`).
    pub(crate) caches: std::sync::Arc<cache::Caches>,
    /// The registry index of this server (see `registry_cache.rs`).
    pub(crate) registry: std::sync::Arc<registry_cache::RegistryCache>,
    /// The search index of this server (see `search.rs`).
    pub(crate) search: std::sync::Arc<search::SearchCache>,
    /// How much of each screening a need keeps.
    pub(crate) bounds: Bounds,
    /// How long before an approval's deadline its department is reminded (see `reminders.rs`).
    pub(crate) reminders: bangfu_core::reminders::ReminderThresholds,
    /// How many passwords this application (and its clones) has verified with argon2, a wrong
    /// username included (see [`App::login`]).
    pub(crate) password_verifications: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl App {
    /// Runs `job` as one write of the store (see [`Store::write`]) with a clone of this
    /// application: `self.write(move |app, tx| …)`. The job is synchronous — it cannot wait
    /// for another request while it holds the writer. Returning an error from the job rolls back
    /// everything it wrote; the answer comes after the COMMIT.
    pub(crate) async fn write<T: Send + 'static>(&self, job: impl FnOnce(App, &mut WriteTx) -> AppResult<T> + Send + 'static) -> AppResult<T> {
        let app = self.clone();
        self.store.write(move |tx| job(app, tx)).await
    }

    /// [`App::write`] on behalf of `actor`: the job is given the actor as well (a clone kept
    /// for the job's run), `self.write_as(actor, move |app, actor, tx| …)`.
    pub(crate) async fn write_as<T: Send + 'static>(
        &self,
        actor: &Actor,
        job: impl FnOnce(App, &Actor, &mut WriteTx) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let actor = actor.clone();
        self.write(move |app, tx| job(app, &actor, tx)).await
    }

    /// Opens the database at `url` (see `bangfu_store::DatabaseUrl`) with the default policies.
    pub async fn open(url: &str) -> AppResult<App> {
        let store = Store::open(url).await?;
        Ok(App {
            store,
            tree: RegionTree::embedded(),
            policy: RoutingPolicy::default(),
            windows: ResponseWindows::default(),
            caches: Default::default(),
            registry: Default::default(),
            search: Default::default(),
            bounds: Bounds::default(),
            reminders: Default::default(),
            password_verifications: Default::default(),
        })
    }

    /// Keeps `bounds` of each screening: the best `candidates` and `per_reason` nearest
    /// rejections for each reason (10 and 3 by default).
    pub fn with_screening_bounds(mut self, bounds: Bounds) -> App {
        self.bounds = bounds;
        self
    }

    /// How many argon2 password verifications logins have cost so far: one per attempt, whether
    /// the username exists or not.
    pub fn password_verifications(&self) -> u64 {
        self.password_verifications.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn tree(&self) -> &'static RegionTree {
        self.tree
    }

    pub fn policy(&self) -> &RoutingPolicy {
        &self.policy
    }

    pub async fn close(&self) {
        self.store.close().await;
    }
}

/// What one change records in the audit log.
pub(crate) struct Audit<'a> {
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
    pub action: &'a str,
    pub entity: String,
    pub case_id: Option<i64>,
    pub payload: serde_json::Value,
}

impl Audit<'_> {
    pub(crate) fn append(self, tx: &mut WriteTx) -> AppResult<i64> {
        Ok(tx
            .append_event(&NewEvent {
                at: to_millis(self.now),
                actor: self.actor.name.clone(),
                action: self.action.to_string(),
                entity: self.entity,
                case_id: self.case_id,
                payload: self.payload.to_string(),
            })?)
    }
}
