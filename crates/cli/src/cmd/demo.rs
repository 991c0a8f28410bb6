//! `bangfu demo`: load the reference case (Quwo, 2020).

use super::db::{DbArgs, app_error, operator, runtime};
use crate::outcome::{CliResult, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
}

pub fn run(args: Args) -> CliResult {
    runtime()?.block_on(async {
        let app = args.db.open().await?;
        let report = bangfu_app::demo::load(&app, &operator()).await.map_err(app_error)?;
        println!("{report}");
        let accounts = bangfu_app::demo_accounts::load_accounts(&app, &operator(), super::db::now()).await.map_err(app_error)?;
        print!("{accounts}");
        app.close().await;
        Ok(Outcome::Ok)
    })
}
