//! The province-scale exercise (演练): `bangfu demo --scale province`. A synthetic month of
//! 山西省 in an emergency, loaded beside the reference case: about 2,000 enterprises in the
//! province's 11 cities, each with a case and a stationed team; a registry of 100,000
//! capabilities across China, weighted toward Shanxi and its neighbours; about 50,000 needs over
//! 30 days (1 February – 1 March 2020, UTC+8) of every kind, reported, sourced, chosen, started,
//! resolved or cancelled, escalated and flagged for supervision, national ones with their
//! letters; the enterprises' daily returns; and the audit events all of that makes.
//!
//! How it is loaded: the world is drawn from a fixed seed first ([`world`]), then replayed
//! through the same use cases an officer, an enterprise or the server's escalation pass would
//! call, each at its moment, in time order ([`replay`]), so the audit chain's times follow the
//! month and every row is one the use cases write. The registry goes in first, one
//! `bangfu import` file per province, as the provinces' lists would arrive; the escalation pass
//! runs every hour of the month. Nothing is written in bulk around the use cases.
//!
//! Marked synthetic: every enterprise, provider and need name starts with 【演练】, the actors in
//! the log too, notes say 演练数据（合成）/ synthetic exercise data, and the dashboard shows a
//! banner while any enterprise so named exists ([`App::exercise_present`]).
//!
//! Keyed: the load begins with an `exercise.started` event and ends with `exercise.loaded`. A
//! second load finds them and writes nothing; a load that stopped part-way is refused (load into
//! a new database). Deterministic: the same seed and size give the same rows and the same chain.

mod replay;
pub mod rng;
pub mod world;

use crate::error::bad;
use crate::{Actor, App, AppResult, Audit, from_millis};
use serde_json::json;

/// The seed of the exercise.
pub const SEED: u64 = 20_200_201;
/// Marks every synthetic name.
pub const MARK: &str = "【演练】";
/// Marks every synthetic note.
pub const NOTE: &str = "演练数据（合成）/ synthetic exercise data";
/// The audit action that opens the load, and the one that closes it.
pub const STARTED: &str = "exercise.started";
pub const LOADED: &str = "exercise.loaded";

const HOUR_MS: i64 = 3_600_000;
/// 2020-02-01 00:00 UTC+8.
const START_MS: i64 = 1_580_486_400_000;
const DAYS: i64 = 30;
/// 2020-03-02 00:00 UTC+8: nothing happens from then on.
const END_MS: i64 = START_MS + DAYS * 24 * HOUR_MS;

/// How much of the province column to load: 1 is the whole (2,000 enterprises, 50,000 needs,
/// 100,000 capabilities); tests load a fraction, over the same 30 days.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Size {
    fraction: f64,
}

impl Size {
    pub const PROVINCE: Size = Size { fraction: 1.0 };

    /// A part of the province column, 0 < fraction ≤ 1.
    pub fn fraction(fraction: f64) -> AppResult<Size> {
        if !(fraction.is_finite() && fraction > 0.0 && fraction <= 1.0) {
            return Err(bad(format!("fraction: {fraction} is not in (0, 1] — give for example 0.01 for a hundredth of the province exercise")));
        }
        Ok(Size { fraction })
    }

    pub fn as_fraction(self) -> f64 {
        self.fraction
    }

    fn scaled(self, whole: f64, at_least: usize) -> usize {
        ((whole * self.fraction).round() as usize).max(at_least)
    }

    pub fn enterprises(self) -> usize {
        self.scaled(2_000.0, 1)
    }

    pub fn needs(self) -> usize {
        self.scaled(50_000.0, 1)
    }

    pub fn capabilities(self) -> usize {
        self.scaled(100_000.0, 12)
    }
}

/// What a load did, for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExerciseReport {
    /// False when an exercise was found loaded and nothing was written.
    pub loaded: bool,
    pub text: String,
}

impl App {
    /// Whether the database holds exercise data (an enterprise named 【演练】…): the pages show a
    /// banner. Cheap: the enterprises table is small and exercise rows come early in it.
    pub async fn exercise_present(&self) -> AppResult<bool> {
        Ok(self.store.first_enterprise_named_like(&format!("{MARK}%")).await?.is_some())
    }
}

/// Loads the exercise of `size` from [`SEED`]; a second load changes nothing and says so.
/// `progress` hears a line at each stage (the CLI prints them with the time taken).
pub async fn load(app: &App, size: Size, progress: &mut (dyn FnMut(&str) + Send)) -> AppResult<ExerciseReport> {
    if let Some(started) = app.store.first_event_with_action(STARTED).await? {
        return match app.store.last_event_with_action(LOADED).await? {
            Some(loaded) => Ok(ExerciseReport {
                loaded: false,
                text: format!("the province exercise is already loaded (events {} … {}) — nothing changed", started.seq, loaded.seq),
            }),
            None => Err(crate::AppError::Conflict(format!(
                "an earlier load of the province exercise began (event {}) but did not finish — nothing changed; \
                 load the exercise into a new database, for example --db sqlite://exercise.db",
                started.seq
            ))),
        };
    }
    let world = world::draw(app.tree, SEED, size);
    let operator = Actor::system(&format!("{MARK}演练导入 / exercise loader"));
    let first_seq = app.store.last_event_seq().await? + 1;
    let payload = json!({
        "seed": SEED, "fraction": size.as_fraction(), "enterprises": world.enterprises.len(), "needs": world.needs.len(),
        "capabilities": world.capabilities(), "note": NOTE,
    });
    mark(app, &operator, START_MS, STARTED, payload.clone()).await?;
    progress(&format!(
        "drawn from seed {SEED}: {} enterprises, {} needs, {} capabilities, {} daily returns",
        world.enterprises.len(),
        world.needs.len(),
        world.capabilities(),
        world.returns.len()
    ));
    let counts = replay::Replay::new(app, &world).run(progress).await?;
    mark(app, &operator, END_MS, LOADED, json!({"seed": SEED, "fraction": size.as_fraction(), "steps": counts.steps, "note": NOTE})).await?;
    let last_seq = app.store.last_event_seq().await?;
    Ok(ExerciseReport {
        loaded: true,
        text: format!(
            "loaded the province exercise (synthetic, seed {SEED}, fraction {}): {} enterprises with cases, {} capabilities, {} needs, {} daily returns; \
             {} use-case calls, audit events {first_seq} … {last_seq}",
            size.as_fraction(),
            world.enterprises.len(),
            world.capabilities(),
            world.needs.len(),
            world.returns.len(),
            counts.steps,
        ),
    })
}

/// The event that opens or closes the load: it changes no row, it records the load itself.
async fn mark(app: &App, actor: &Actor, at_ms: i64, action: &str, payload: serde_json::Value) -> AppResult<()> {
    let action = action.to_string();
    app.write_as(actor, move |_, actor, tx| {
        Audit { actor, now: from_millis(at_ms), action: &action, entity: "exercise:province".into(), case_id: None, payload }.append(tx)?;
        Ok(())
    })
    .await
}
