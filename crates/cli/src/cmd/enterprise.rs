//! `bangfu enterprise`: register enterprises.

use super::db::{DbArgs, app_error, now, operator, runtime};
use crate::outcome::{CliResult, Outcome};
use bangfu_app::cases::NewEnterprise;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Register an enterprise (checks its unified social credit code)
    Add(AddArgs),
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Registered name, for example 山西健康动力科技有限公司
    #[arg(long)]
    name: String,
    /// Unified social credit code (统一社会信用代码), 18 characters, GB 32100-2015
    #[arg(long)]
    credit_code: String,
    /// Region: a GB/T 2260 code such as 141021, or a unique name such as 曲沃县
    #[arg(long)]
    region: String,
    /// Longitude (GCJ-02 degrees); default: the region's seat
    #[arg(long, requires = "lat", allow_negative_numbers = true)]
    lon: Option<f64>,
    /// Latitude (GCJ-02 degrees)
    #[arg(long, requires = "lon", allow_negative_numbers = true)]
    lat: Option<f64>,
    /// Print the stored enterprise as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        Command::Add(add) => runtime()?.block_on(async {
            let app = add.db.open().await?;
            let input = NewEnterprise { name: add.name, credit_code: add.credit_code, region: add.region, lon: add.lon, lat: add.lat, note: String::new() };
            let row = app.add_enterprise(&operator(), now(), input).await.map_err(app_error)?;
            if add.json {
                println!("{}", bangfu_web::json::enterprise(&row));
            } else {
                println!("enterprise {} added: {} ({}, {})", row.id, row.name, row.credit_code, app.tree().full_name(row.region));
            }
            app.close().await;
            Ok(Outcome::Ok)
        }),
    }
}
