//! `bangfu import capabilities FILE` and `bangfu export capabilities`: the registry in CSV or
//! JSONL, all or nothing per file, with a progress bar on large files.

use super::db::{DbArgs, app_error, now, operator, runtime};
use crate::outcome::{CliResult, Outcome, bad_input};
use bangfu_app::import::RegistryFormat;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    what: ImportWhat,
}

#[derive(Debug, clap::Subcommand)]
enum ImportWhat {
    /// Import providers and capabilities from FILE.csv (header id,name,region,lon,lat,kind,available,attrs)
    /// or FILE.jsonl (one {"id","name","region","lon","lat","kind","available","attrs"} per line);
    /// every line is checked first and any error imports nothing
    Capabilities {
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    what: ExportWhat,
}

#[derive(Debug, clap::Subcommand)]
enum ExportWhat {
    /// Export the registry in the import format (to standard output, or --out FILE)
    Capabilities {
        /// csv or jsonl (default: from --out's extension, else jsonl)
        #[arg(long)]
        format: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn run_import(args: ImportArgs) -> CliResult {
    let ImportWhat::Capabilities { file, db } = args.what;
    let path = file.display().to_string();
    let format = RegistryFormat::of_path(&path).map_err(app_error)?;
    let text = std::fs::read_to_string(&file).map_err(|e| bad_input(format!("cannot read {path}: {e}")))?;
    runtime()?.block_on(async {
        let app = db.open().await?;
        let lines = app.parse_registry(&text, format).map_err(|e| bad_input(format!("{path}: {e}")))?;
        let bar = indicatif::ProgressBar::new(lines.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} lines {per_sec} eta {eta}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        if lines.len() < 1000 {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let progress_bar = bar.clone();
        let report = app
            .import_registry(&operator(), now(), lines, move |done, _| {
                if done % 256 == 0 {
                    progress_bar.set_position(done as u64);
                }
            })
            .await
            .map_err(app_error)?;
        bar.finish_and_clear();
        println!("imported {}: {} lines, {} new providers, {} capabilities written", path, report.lines, report.providers_added, report.capabilities_written);
        app.close().await;
        Ok(Outcome::Ok)
    })
}

pub fn run_export(args: ExportArgs) -> CliResult {
    let ExportWhat::Capabilities { format, out, db } = args.what;
    let format = match (format.as_deref(), &out) {
        (Some("csv"), _) => RegistryFormat::Csv,
        (Some("jsonl"), _) => RegistryFormat::Jsonl,
        (Some(other), _) => return Err(bad_input(format!("--format {other:?}: expected csv or jsonl"))),
        (None, Some(path)) => RegistryFormat::of_path(&path.display().to_string()).map_err(app_error)?,
        (None, None) => RegistryFormat::Jsonl,
    };
    runtime()?.block_on(async {
        let app = db.open().await?;
        match out {
            Some(path) => {
                let file = std::fs::File::create(&path).map_err(|e| bad_input(format!("cannot write {}: {e}", path.display())))?;
                let mut file = std::io::BufWriter::new(file);
                app.export_registry(&operator(), format, &mut file).await.map_err(app_error)?;
                std::io::Write::flush(&mut file).map_err(|e| bad_input(format!("cannot write {}: {e}", path.display())))?;
            }
            None => app.export_registry(&operator(), format, &mut std::io::stdout().lock()).await.map_err(app_error)?,
        }
        app.close().await;
        Ok(Outcome::Ok)
    })
}
