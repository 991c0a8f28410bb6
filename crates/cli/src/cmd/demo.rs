//! `bangfu demo`: load the reference case (Quwo, 2020), and with `--scale province` beside it the
//! province-scale exercise (synthetic, marked 【演练】).

use super::db::{DbArgs, app_error, operator, runtime};
use crate::outcome::{CliError, CliResult, Outcome};
use bangfu_app::App;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    scale: ScaleArgs,
}

/// What to load besides the reference case.
#[derive(Debug, Clone, clap::Args)]
pub struct ScaleArgs {
    /// reference: the reference case alone; province: also the province exercise — a synthetic
    /// month of 山西省 with 2,000 enterprises, 50,000 needs and 100,000 capabilities, all marked
    /// 【演练】 (a few minutes in a release build)
    #[arg(long, value_enum, default_value_t = Scale::Reference)]
    pub scale: Scale,
    /// With --scale province: load this fraction of the exercise (0 < F ≤ 1), for tests
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    pub fraction: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    Reference,
    Province,
}

pub fn run(args: Args) -> CliResult {
    runtime()?.block_on(async {
        let app = args.db.open().await?;
        load(&app, &args.scale, |line| println!("{line}")).await?;
        app.close().await;
        Ok(Outcome::Ok)
    })
}

/// Loads the reference case and its accounts, then the exercise if asked; `say` prints.
pub async fn load(app: &App, scale: &ScaleArgs, mut say: impl FnMut(&str) + Send) -> Result<(), CliError> {
    let size = match scale.scale {
        Scale::Reference if scale.fraction != 1.0 => return Err(CliError("--fraction applies to --scale province only".into())),
        Scale::Reference => None,
        Scale::Province => Some(bangfu_app::exercise::Size::fraction(scale.fraction).map_err(app_error)?),
    };
    let report = bangfu_app::demo::load(app, &operator()).await.map_err(app_error)?;
    say(&report);
    let accounts = bangfu_app::demo_accounts::load_accounts(app, &operator(), super::db::now()).await.map_err(app_error)?;
    say(accounts.trim_end());
    if let Some(size) = size {
        let started = std::time::Instant::now();
        let mut progress = |line: &str| say(&format!("[{:>6.1} s] {line}", started.elapsed().as_secs_f64()));
        let report = bangfu_app::exercise::load(app, size, &mut progress).await.map_err(app_error)?;
        progress(&report.text);
    }
    Ok(())
}
