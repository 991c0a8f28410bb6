//! `bangfu-bench`: benchmarks of bangfu's engines. Each subcommand prints one JSON line.
//! Results and the commands that produced them are in BENCHMARKS.md.

mod allocate;
mod matching;
mod plan;
mod registry_file;
mod screen;
mod search;

/// A subcommand's arguments, or how it ends: its help printed (exit 0), or what was wrong with
/// them (exit 2).
fn parse<A: clap::Parser>(args: &[String]) -> Result<A, std::process::ExitCode> {
    A::try_parse_from(args).map_err(|error| {
        let _ = error.print();
        std::process::ExitCode::from(if error.use_stderr() { 2 } else { 0 })
    })
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        // Subcommands are added here, one module each.
        Some("allocate") => allocate::run(&args),
        Some("match") => matching::run(&args),
        Some("plan") => plan::run(&args),
        Some("registry-file") => registry_file::run(&args),
        Some("screen") => screen::run(&args),
        Some("search") => search::run(&args),
        _ => {
            eprintln!("usage: bangfu-bench <allocate|match|plan|registry-file|screen|search> [options]");
            std::process::ExitCode::from(2)
        }
    }
}
