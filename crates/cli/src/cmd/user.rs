//! `bangfu user`: accounts.

use super::db::{DbArgs, app_error, now, operator, runtime};
use crate::outcome::{CliResult, Outcome, bad_input};
use bangfu_app::accounts::NewUser;
use std::io::Read;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create an account; the password is read from standard input
    ///
    /// Example: echo 's3cret-pass' | bangfu user add --username quwo --role officer --department 141021 --password-stdin
    Add(AddArgs),
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long)]
    username: String,
    /// admin, officer, enterprise, provider or viewer
    #[arg(long)]
    role: String,
    /// The department of an officer or viewer: a region code such as 141021
    #[arg(long)]
    department: Option<String>,
    /// The enterprise of an enterprise user (its id)
    #[arg(long)]
    enterprise: Option<i64>,
    /// The provider of a provider user (its id)
    #[arg(long)]
    provider: Option<i64>,
    /// The name shown in the pages (default: the username)
    #[arg(long, default_value = "")]
    display_name: String,
    /// Read the password from standard input (required: passwords are never given as arguments)
    #[arg(long, required = true)]
    password_stdin: bool,
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        Command::Add(add) => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password).map_err(|e| bad_input(format!("cannot read the password from standard input: {e}")))?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            runtime()?.block_on(async {
                let app = add.db.open().await?;
                let input = NewUser {
                    username: add.username,
                    display_name: add.display_name,
                    role: add.role,
                    department: add.department,
                    enterprise_id: add.enterprise,
                    provider_id: add.provider,
                    password,
                };
                let user = app.add_user(&operator(), now(), input).await.map_err(app_error)?;
                println!("user {} added: {} ({}{})", user.id, user.username, user.role, user.department.map(|d| format!(", department {d}")).unwrap_or_default());
                app.close().await;
                Ok(Outcome::Ok)
            })
        }
    }
}
