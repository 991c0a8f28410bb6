//! `bangfu-bench search [--docs N] [--queries Q] [--limit L] [--seed S]`: search over N synthetic
//! documents (default 1,000,000) with bangfu's own index (`bangfu_core::search_index`) and with
//! SQLite FTS5 (trigram tokenizer, in memory), the same documents and the same queries in the
//! same run. Prints one JSON line: build times, the index's resident memory, and p50/p99/max of
//! each engine's query times.
//!
//! The documents are the province exercise's, drawn again and again with other seeds
//! (`bangfu_app::exercise::world::draw`: real GB/T 2260 places, the exercise's trade names, its
//! need titles, its credit codes), until there are N: enterprises, providers (one per registry
//! provider), needs (with their enterprise, owner and stationed departments), a letter for one
//! need in twelve, and every department. The queries are drawn from the documents: parts of
//! names (simplified, and traditional through OpenCC's s2t), their pinyin from a syllable, their
//! initials, credit codes whole or in part, region names, the need words everyone types (口罩,
//! 熔喷布), and two words at once; each asked by an administrator, the province's officer, a
//! city's or a county's — the reader's visibility filtered inside each engine's query.
//!
//! FTS5 is given the same folded text and pinyin; a word of three characters or more is a
//! trigram MATCH, a shorter one a LIKE (which the trigram index cannot serve), ranked by the
//! same tiers in SQL (`ORDER BY tier, kind, id LIMIT`), a region named by the word looked up
//! after, as the index does.

use bangfu_app::exercise::Size;
use bangfu_app::exercise::rng::Rng;
use bangfu_app::exercise::world::draw;
use bangfu_core::region::{Level, RegionCode, RegionTree, name_stem};
use bangfu_core::search_index::{Audience, NeedAudience, Reader, SearchDoc, SearchIndex, SearchKind, SearchQuery, fold};
use clap::Parser;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(name = "bangfu-bench search", about = "Search 1,000,000 documents: bangfu's index against SQLite FTS5 (trigram)")]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    docs: usize,
    #[arg(long, default_value_t = 1_000)]
    queries: usize,
    /// Results per query
    #[arg(long, default_value_t = 20)]
    limit: usize,
    #[arg(long, default_value_t = 13)]
    seed: u64,
    /// Leave FTS5 out (the index alone)
    #[arg(long)]
    no_fts: bool,
}

pub fn run(args: &[String]) -> ExitCode {
    let args: Args = match crate::parse(args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let tree = RegionTree::embedded();
    let started = Instant::now();
    let docs = documents(tree, args.docs);
    let drawn_s = started.elapsed().as_secs_f64();
    eprintln!("{} documents drawn in {drawn_s:.1} s", docs.len());
    let queries = queries(tree, &docs, args.queries, args.seed);

    let rss_before = rss_kib();
    let started = Instant::now();
    // The build takes its documents (the copy is counted in the growth below, unless the
    // allocator gave its memory back: an upper bound).
    let index = SearchIndex::build(tree, docs.clone());
    let index_build_s = started.elapsed().as_secs_f64();
    let index_rss_mib = rss_kib().saturating_sub(rss_before) as f64 / 1024.0;
    eprintln!("index built in {index_build_s:.1} s, {index_rss_mib:.0} MiB resident");
    // Warm up, then time.
    for q in queries.iter().take(50) {
        index.search(tree, &q.reader, &SearchQuery { text: &q.text, kinds: &SearchKind::ALL, limit: args.limit });
    }
    let mut index_ms = Vec::with_capacity(queries.len());
    let mut index_hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        let hits = index.search(tree, &q.reader, &SearchQuery { text: &q.text, kinds: &SearchKind::ALL, limit: args.limit });
        index_ms.push(t.elapsed().as_secs_f64() * 1e3);
        index_hits += hits.len();
    }
    let mut slowest: Vec<(f64, &BenchQuery)> = index_ms.iter().copied().zip(&queries).collect();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, q) in slowest.iter().take(8) {
        eprintln!("  slow: {ms:.2} ms {:?} as {}", q.text, reader_name(&q.reader));
    }
    let index_stats = stats(&mut index_ms);
    eprintln!("index: {index_stats}");

    let mut out = json!({
        "bench": "search", "docs": docs.len(), "queries": queries.len(), "limit": args.limit, "seed": args.seed,
        "draw_s": round(drawn_s), "index": {"build_s": round(index_build_s), "rss_mib": round(index_rss_mib), "hits": index_hits, "ms": index_stats},
    });
    drop(index);
    if !args.no_fts {
        match fts(tree, &docs, &queries, args.limit) {
            Ok(fts) => {
                eprintln!("fts5: {}", fts["ms"]);
                let ratio = |p: &str| fts["ms"][p].as_f64().unwrap_or(0.0) / out["index"]["ms"][p].as_f64().unwrap_or(1.0).max(1e-6);
                out["speedup"] = json!({"p50": round(ratio("p50")), "p99": round(ratio("p99"))});
                out["fts5"] = fts;
            }
            Err(e) => {
                eprintln!("error: FTS5: {e}");
                return ExitCode::from(1);
            }
        }
    }
    println!("{out}");
    ExitCode::SUCCESS
}

fn reader_name(reader: &Reader) -> String {
    match reader {
        Reader::All => "admin".into(),
        Reader::Department { department, .. } => format!("officer of {department}"),
        other => format!("{other:?}"),
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn stats(ms: &mut [f64]) -> Value {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    json!({"p50": round(at(0.5)), "p90": round(at(0.9)), "p99": round(at(0.99)), "max": round(at(1.0)), "mean": round(mean)})
}

// ---------------------------------------------------------------- documents

fn code(text: &str) -> u32 {
    text.parse().unwrap_or(0)
}

fn documents(tree: &RegionTree, target: usize) -> Vec<SearchDoc> {
    let mut docs: Vec<SearchDoc> = Vec::with_capacity(target + 4000);
    // Every department: one per region.
    for r in tree.iter() {
        docs.push(SearchDoc {
            kind: SearchKind::Department,
            id: i64::from(r.code.as_u32()),
            title: format!("{}工业和信息化局", r.name),
            codes: vec![r.code.to_string()],
            region: r.code.as_u32(),
            snippet: String::new(),
            parent: 0,
            audience: Audience::Department,
        });
    }
    let (mut enterprise_id, mut provider_id, mut need_id, mut letter_id) = (0i64, 0i64, 0i64, 0i64);
    let mut round = 0u64;
    while docs.len() < target {
        round += 1;
        let world = draw(tree, 1000 + round, Size::PROVINCE);
        let first_enterprise = enterprise_id + 1;
        let mut teams: Vec<Vec<u32>> = Vec::new();
        for e in &world.enterprises {
            enterprise_id += 1;
            teams.push(e.team.iter().map(|t| t.department.as_u32()).collect());
            docs.push(SearchDoc {
                kind: SearchKind::Enterprise,
                id: enterprise_id,
                title: e.name.clone(),
                codes: vec![e.credit_code.clone()],
                region: e.county.as_u32(),
                snippet: String::new(),
                parent: enterprise_id,
                audience: Audience::Enterprise,
            });
        }
        let first_provider = provider_id + 1;
        let mut keys = std::collections::HashSet::new();
        for file in &world.registry {
            for line in file.jsonl.lines() {
                let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
                let key = v["id"].as_str().unwrap_or_default().to_string();
                if !keys.insert(key.clone()) {
                    continue;
                }
                provider_id += 1;
                docs.push(SearchDoc {
                    kind: SearchKind::Provider,
                    id: provider_id,
                    title: v["name"].as_str().unwrap_or_default().to_string(),
                    codes: vec![format!("{key}:{round}")],
                    region: code(v["region"].as_str().unwrap_or_default()),
                    snippet: String::new(),
                    parent: 0,
                    audience: Audience::Provider,
                });
            }
        }
        let providers_drawn = (provider_id - first_provider + 1).max(1) as usize;
        for (i, n) in world.needs.iter().enumerate() {
            need_id += 1;
            let e = &world.enterprises[n.enterprise];
            let county = e.county.as_u32();
            let owner = if i % 5 == 0 { tree.city_of(e.county).map_or(county, |c| c.code.as_u32()) } else { county };
            let audience = NeedAudience {
                enterprise_id: first_enterprise + n.enterprise as i64,
                owner,
                departments: teams[n.enterprise].clone(),
                providers: vec![first_provider + ((i * 7919) % providers_drawn) as i64],
            };
            docs.push(SearchDoc {
                kind: SearchKind::Need,
                id: need_id,
                title: n.input.title.clone(),
                codes: Vec::new(),
                region: county,
                snippet: String::new(),
                parent: first_enterprise + n.enterprise as i64,
                audience: Audience::Need(audience.clone()),
            });
            if i % 12 == 0 {
                letter_id += 1;
                docs.push(SearchDoc {
                    kind: SearchKind::Letter,
                    id: letter_id,
                    title: format!("关于商请协调{}的函", n.input.title.trim_start_matches("【演练】")),
                    codes: vec![format!("晋工信函〔2020〕{letter_id}号")],
                    region: county,
                    snippet: String::new(),
                    parent: need_id,
                    audience: Audience::Need(audience),
                });
            }
        }
        eprintln!("round {round}: {} documents", docs.len());
    }
    docs.truncate(target);
    docs
}

// ---------------------------------------------------------------- queries

struct BenchQuery {
    text: String,
    reader: Reader,
    /// The reader's region runs (None: everything), for FTS5's filter.
    runs: Option<Vec<(u32, u32)>>,
}

const NEED_WORDS: [&str; 10] = ["口罩", "熔喷布", "灭菌", "消毒液", "防护服", "无纺布", "检测", "设备", "劳务", "通行证"];

fn pinyin_of(text: &str) -> (String, String) {
    use pinyin::ToPinyin;
    let mut full = String::new();
    let mut initials = String::new();
    for p in text.chars().filter_map(|c| c.to_pinyin()) {
        full.push_str(p.plain());
        initials.push_str(p.first_letter());
    }
    (full, initials)
}

/// The name without the exercise's mark.
fn unmarked(title: &str) -> Vec<char> {
    title.trim_start_matches("【演练】").chars().collect()
}

fn queries(tree: &RegionTree, docs: &[SearchDoc], n: usize, seed: u64) -> Vec<BenchQuery> {
    use ferrous_opencc::{OpenCC, config::BuiltinConfig};
    let s2t = OpenCC::from_config(BuiltinConfig::S2t).ok();
    let mut rng = Rng::stream(seed, "search queries");
    let named: Vec<&SearchDoc> = docs.iter().filter(|d| matches!(d.kind, SearchKind::Enterprise | SearchKind::Provider)).collect();
    let enterprises: Vec<&SearchDoc> = docs.iter().filter(|d| d.kind == SearchKind::Enterprise).collect();
    let shanxi_counties: Vec<RegionCode> = tree.iter().filter(|r| r.level == Level::County && r.code.as_u32() / 10000 == 14).map(|r| r.code).collect();
    let shanxi_cities: Vec<RegionCode> = tree.iter().filter(|r| r.level == Level::City && r.code.as_u32() / 10000 == 14).map(|r| r.code).collect();
    let runs = |d: RegionCode| tree.jurisdiction_runs(d).into_iter().map(|(a, b)| (a.as_u32(), b.as_u32())).collect::<Vec<_>>();
    (0..n)
        .map(|i| {
            let doc = named[rng.below(named.len())];
            let name = unmarked(&doc.title);
            let fragment = |rng: &mut Rng, len: usize| -> String {
                let len = len.min(name.len());
                let start = rng.below(name.len() - len + 1);
                name[start..start + len].iter().collect()
            };
            let text = match i % 20 {
                0..=4 => {
                    let len = 2 + rng.below(3);
                    fragment(&mut rng, len)
                }
                5 | 6 => {
                    let len = 2 + rng.below(3);
                    let simplified = fragment(&mut rng, len);
                    s2t.as_ref().map_or(simplified.clone(), |c| c.convert(&simplified))
                }
                7..=9 => pinyin_of(&fragment(&mut rng, 2)).0,
                10..=12 => {
                    let len = 2 + rng.below(3);
                    pinyin_of(&fragment(&mut rng, len)).1
                }
                13 | 14 => {
                    let e = enterprises[rng.below(enterprises.len())];
                    let code = &e.codes[0];
                    if rng.below(2) == 0 { code.clone() } else { code[..10].to_string() }
                }
                15 | 16 => tree.get(RegionCode::new_unchecked(doc.region)).map_or("临汾".to_string(), |r| name_stem(&r.name).to_string()),
                17 | 18 => NEED_WORDS[rng.below(NEED_WORDS.len())].to_string(),
                _ => format!("{} {}", tree.city_of(RegionCode::new_unchecked(doc.region)).map_or("临汾".into(), |c| name_stem(&c.name).to_string()), NEED_WORDS[rng.below(NEED_WORDS.len())]),
            };
            let (reader, runs) = match rng.below(4) {
                0 => (Reader::All, None),
                1 => {
                    let d = RegionCode::new_unchecked(140000);
                    (Reader::Department { department: 140000, runs: runs(d) }, Some(runs(d)))
                }
                2 => {
                    let d = shanxi_cities[rng.below(shanxi_cities.len())];
                    (Reader::Department { department: d.as_u32(), runs: runs(d) }, Some(runs(d)))
                }
                _ => {
                    let d = shanxi_counties[rng.below(shanxi_counties.len())];
                    (Reader::Department { department: d.as_u32(), runs: runs(d) }, Some(runs(d)))
                }
            };
            BenchQuery { text, reader, runs }
        })
        .collect()
}

// ---------------------------------------------------------------- FTS5

fn fts(tree: &RegionTree, docs: &[SearchDoc], queries: &[BenchQuery], limit: usize) -> Result<Value, rusqlite::Error> {
    let db = rusqlite::Connection::open_in_memory()?;
    db.execute_batch(
        "PRAGMA cache_size = -1000000; \
         CREATE VIRTUAL TABLE docs USING fts5(title, codes, pinyin, initials, kind UNINDEXED, id UNINDEXED, region UNINDEXED, tokenize = 'trigram');",
    )?;
    let started = Instant::now();
    {
        let tx = db.unchecked_transaction()?;
        {
            let mut insert = tx.prepare("INSERT INTO docs (title, codes, pinyin, initials, kind, id, region) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
            for d in docs {
                let folded = fold(&d.title);
                let (full, initials) = pinyin_of(&folded);
                let codes: Vec<String> = d.codes.iter().map(|c| fold(c)).collect();
                insert.execute(rusqlite::params![folded, codes.join(" "), full, initials, d.kind as i64, d.id, d.region])?;
            }
        }
        tx.commit()?;
    }
    let build_s = started.elapsed().as_secs_f64();
    eprintln!("fts5 built in {build_s:.1} s");
    let tier = "CASE WHEN title = ?1 OR codes = ?1 THEN 100 WHEN title LIKE ?1 || '%' THEN 90 WHEN instr(title, ?1) > 0 THEN 80 \
                WHEN instr(codes, ?1) > 0 THEN 70 WHEN instr(pinyin, ?1) > 0 THEN 60 WHEN instr(initials, ?1) > 0 THEN 50 ELSE 30 END";
    let mut ms = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for (n, q) in queries.iter().enumerate() {
        let mut words: Vec<String> = q.text.split_whitespace().map(fold).collect();
        // The same word ranks as in the index: the longest that names no region.
        let main_at = (0..words.len())
            .max_by_key(|i| (region_condition(tree, &words[*i]).is_none(), words[*i].chars().count(), std::cmp::Reverse(*i)))
            .unwrap_or(0);
        let main = words.remove(main_at);
        let t = Instant::now();
        // What the reader sees, inside the query: providers and departments, or its regions.
        let visible = match &q.runs {
            None => "1".to_string(),
            Some(runs) => {
                let ranges: Vec<String> = runs.iter().map(|(a, b)| format!("region BETWEEN {a} AND {b}")).collect();
                format!("(kind IN (1, 4) OR {})", ranges.join(" OR "))
            }
        };
        let others: String = words
            .iter()
            .map(|w| format!(" AND (instr(title, '{w}') > 0 OR instr(codes, '{w}') > 0 OR instr(pinyin, '{w}') > 0 OR instr(initials, '{w}') > 0 OR {})", region_condition(tree, w).unwrap_or_else(|| "0".into())))
            .collect();
        let matching = if main.chars().count() >= 3 {
            "docs MATCH '\"' || ?1 || '\"'".to_string()
        } else {
            "(title LIKE '%' || ?1 || '%' OR codes LIKE '%' || ?1 || '%' OR pinyin LIKE '%' || ?1 || '%' OR initials LIKE '%' || ?1 || '%')".to_string()
        };
        let sql = format!("SELECT kind, id, {tier} AS tier FROM docs WHERE {matching} AND {visible}{others} ORDER BY tier DESC, kind, id LIMIT {limit}");
        let mut found: Vec<(i64, i64)> = Vec::new();
        let mut stmt = db.prepare_cached(&sql)?;
        let rows = stmt.query_map([&main], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            found.push(row?);
        }
        if found.len() < limit
            && let Some(region) = region_condition(tree, &main)
        {
            {
                let sql = format!("SELECT kind, id FROM docs WHERE {region} AND {visible}{others} ORDER BY kind, id LIMIT {}", limit * 2);
                let mut stmt = db.prepare_cached(&sql)?;
                for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
                    let row = row?;
                    if found.len() < limit && !found.contains(&row) {
                        found.push(row);
                    }
                }
            }
        }
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        hits += found.len();
        if n % 200 == 0 {
            eprintln!("fts5: {n} queries");
        }
    }
    Ok(json!({"build_s": round(build_s), "hits": hits, "ms": stats(&mut ms)}))
}

/// The SQL condition "in a region named by `word`", if it names one.
fn region_condition(tree: &RegionTree, word: &str) -> Option<String> {
    let mut runs = Vec::new();
    for r in tree.find_by_name(word) {
        if fold(&r.name) == word || fold(name_stem(&r.name)) == word {
            runs.extend(tree.jurisdiction_runs(r.code));
        }
    }
    (!runs.is_empty()).then(|| format!("({})", runs.iter().map(|(a, b)| format!("region BETWEEN {} AND {}", a.as_u32(), b.as_u32())).collect::<Vec<_>>().join(" OR ")))
}
