//! `bangfu-bench registry-file --lines N --out FILE.jsonl [--seed S]`: writes a synthetic
//! registry in the import format of `bangfu import capabilities` (one capability per provider,
//! the same generator as `match`), for measuring the import and the server's memory with
//! registries of a province's or the nation's size. Prints `{"lines","bytes"}`.

use crate::matching::{SplitMix64, synthetic_capability};
use bangfu_core::capability::CapabilityAttrs;
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_core::travel::LonLat;
use clap::Parser;
use serde_json::{Value, json};
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "bangfu-bench registry-file", about = "Write a synthetic registry import file (JSONL)")]
struct Args {
    /// Lines (capabilities, one provider each)
    #[arg(long, default_value_t = 1_000_000)]
    lines: usize,
    /// Where to write the JSONL file
    #[arg(long)]
    out: String,
    #[arg(long, default_value_t = 12)]
    seed: u64,
}

pub fn run(args: &[String]) -> ExitCode {
    let args: Args = match crate::parse(args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let tree = RegionTree::embedded();
    // Regions whose seat lies inside the importer's box for China (Sansha's seat does not).
    let seats: Vec<(RegionCode, LonLat)> = tree
        .iter()
        .filter_map(|r| Some((r.code, LonLat { lon: r.lon?, lat: r.lat? })))
        .filter(|(_, at)| (73.5..=135.5).contains(&at.lon) && (3.5..=53.5).contains(&at.lat))
        .collect();
    let mut rng = SplitMix64(args.seed);
    let file = match std::fs::File::create(&args.out) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: cannot create {}: {e}", args.out);
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::BufWriter::new(file);
    let mut bytes = 0usize;
    for i in 0..args.lines {
        let c = synthetic_capability(&mut rng, &seats, i);
        let line = json!({
            "id": format!("bench-{i}"), "name": format!("演练提供方 {i}"), "region": c.region.to_string(),
            "lon": (c.at.lon * 1e6).round() / 1e6, "lat": (c.at.lat * 1e6).round() / 1e6,
            "kind": c.kind().as_str(), "available": c.available, "attrs": attrs_json(&c.attrs),
        })
        .to_string();
        bytes += line.len() + 1;
        if writeln!(out, "{line}").is_err() {
            eprintln!("error: cannot write {}", args.out);
            return ExitCode::from(2);
        }
    }
    if out.flush().is_err() {
        eprintln!("error: cannot write {}", args.out);
        return ExitCode::from(2);
    }
    println!("{}", json!({"lines": args.lines, "bytes": bytes}));
    ExitCode::SUCCESS
}

/// Attributes as a user types them in the import format.
fn attrs_json(attrs: &CapabilityAttrs) -> Value {
    let round = |x: f64| (x * 10.0).round() / 10.0;
    match attrs {
        CapabilityAttrs::Sterilisation { method, turnaround_h, capacity_per_day } => {
            json!({"method": method.as_str(), "turnaround_h": round(*turnaround_h), "capacity_per_day": capacity_per_day.round()})
        }
        CapabilityAttrs::Slitting { max_input_width_m, min_output_width_m, turnaround_h } => json!({
            "max_input_width_m": (max_input_width_m * 100.0).round() / 100.0,
            "min_output_width_m": (min_output_width_m * 100.0).round() / 100.0,
            "turnaround_h": round(*turnaround_h),
        }),
        CapabilityAttrs::Testing { standards, turnaround_h } => json!({"standards": standards, "turnaround_h": round(*turnaround_h)}),
        CapabilityAttrs::RawMaterial { material, stock, lead_time_h } => json!({"material": material, "stock": stock, "lead_time_h": round(*lead_time_h)}),
        CapabilityAttrs::Equipment { item, stock, lead_time_h } => json!({"item": item, "stock": stock, "lead_time_h": round(*lead_time_h)}),
        CapabilityAttrs::Labour { skill, headcount, lead_time_h } => json!({"skill": skill, "headcount": headcount, "lead_time_h": round(*lead_time_h)}),
    }
}
