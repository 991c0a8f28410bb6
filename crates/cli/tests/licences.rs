//! The licence check: every package of the workspace's dependency graph (all platforms, build and
//! dev dependencies included, as `cargo metadata` lists them) is under a licence of the allow-list
//! in `licences.txt` at the repository's root. A licence is an SPDX expression: `A OR B` passes
//! when one side does, `A AND B` when both do, `A WITH exception` as `A`; the old `A/B` reads as
//! `A OR B`. A package without an expression (only a licence file) fails, and so does an
//! expression that does not parse. `.ci/run` runs this test first.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The allow-list: one SPDX identifier per line, `#` starts a comment.
fn allowed() -> BTreeSet<String> {
    let path = repository_root().join("licences.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, PartialEq)]
enum Token {
    Id(String),
    And,
    Or,
    With,
    Open,
    Close,
}

fn tokens(expr: &str) -> Vec<Token> {
    let spaced = expr.replace('(', " ( ").replace(')', " ) ").replace('/', " OR ");
    spaced
        .split_whitespace()
        .map(|w| match w {
            "AND" => Token::And,
            "OR" => Token::Or,
            "WITH" => Token::With,
            "(" => Token::Open,
            ")" => Token::Close,
            id => Token::Id(id.to_string()),
        })
        .collect()
}

/// Recursive descent over `or := and (OR and)*`, `and := atom (AND atom)*`,
/// `atom := ID [WITH ID] | ( or )`; each function answers whether its part is allowed.
struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    allowed: &'a BTreeSet<String>,
}

impl Parser<'_> {
    fn or(&mut self) -> Result<bool, String> {
        let mut ok = self.and()?;
        while self.tokens.get(self.at) == Some(&Token::Or) {
            self.at += 1;
            ok |= self.and()?;
        }
        Ok(ok)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut ok = self.atom()?;
        while self.tokens.get(self.at) == Some(&Token::And) {
            self.at += 1;
            ok &= self.atom()?;
        }
        Ok(ok)
    }

    fn atom(&mut self) -> Result<bool, String> {
        match self.tokens.get(self.at) {
            Some(Token::Open) => {
                self.at += 1;
                let ok = self.or()?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err("a ( without its )".into());
                }
                self.at += 1;
                Ok(ok)
            }
            Some(Token::Id(id)) => {
                let ok = self.allowed.contains(id.as_str());
                self.at += 1;
                if self.tokens.get(self.at) == Some(&Token::With) {
                    match self.tokens.get(self.at + 1) {
                        Some(Token::Id(_)) => self.at += 2,
                        _ => return Err("WITH without an exception".into()),
                    }
                }
                Ok(ok)
            }
            other => Err(format!("expected a licence, found {other:?}")),
        }
    }
}

/// Whether `expr` is satisfied by the allow-list; `Err` when it does not parse.
fn passes(expr: &str, allowed: &BTreeSet<String>) -> Result<bool, String> {
    let mut parser = Parser { tokens: tokens(expr), at: 0, allowed };
    let ok = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err(format!("unexpected {:?}", parser.tokens[parser.at]));
    }
    Ok(ok)
}

#[test]
fn every_dependency_is_under_an_allowed_licence() {
    let allowed = allowed();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(repository_root())
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata writes JSON");
    let packages = metadata["packages"].as_array().expect("a list of packages");
    assert!(packages.len() > 100, "the graph has its dependencies: {}", packages.len());
    let mut refused = Vec::new();
    for p in packages {
        let who = format!("{} {}", p["name"].as_str().unwrap_or("?"), p["version"].as_str().unwrap_or("?"));
        match p["license"].as_str() {
            None => refused.push(format!("{who}: no licence expression (licence file {})", p["license_file"])),
            Some(expr) => match passes(expr, &allowed) {
                Ok(true) => {}
                Ok(false) => refused.push(format!("{who}: {expr}")),
                Err(e) => refused.push(format!("{who}: {expr} does not parse ({e})")),
            },
        }
    }
    assert!(
        refused.is_empty(),
        "dependencies under a licence outside licences.txt — replace them (or ask before adding a licence):\n{}",
        refused.join("\n")
    );
}

fn policy() -> BTreeSet<String> {
    ["MIT", "Apache-2.0", "BSD-3-Clause", "Unicode-3.0"].map(String::from).into()
}

#[test]
fn a_compound_expression_passes_when_one_alternative_is_allowed() {
    let p = policy();
    assert_eq!(passes("MIT OR Apache-2.0", &p), Ok(true));
    assert_eq!(passes("Unlicense OR MIT", &p), Ok(true));
    assert_eq!(passes("Apache-2.0 OR BSL-1.0", &p), Ok(true));
    assert_eq!(passes("MIT/Apache-2.0", &p), Ok(true));
    assert_eq!(passes("Apache-2.0 / MIT", &p), Ok(true));
    assert_eq!(passes("Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT", &p), Ok(true));
    assert_eq!(passes("(MIT OR Apache-2.0) AND Unicode-3.0", &p), Ok(true));
}

#[test]
fn a_licence_outside_the_list_fails_alone_or_joined_by_and() {
    let p = policy();
    assert_eq!(passes("GPL-2.0-or-later", &p), Ok(false));
    assert_eq!(passes("MIT AND GPL-3.0-only", &p), Ok(false));
    assert_eq!(passes("(MIT OR Apache-2.0) AND LGPL-2.1-or-later", &p), Ok(false));
    assert_eq!(passes("BSL-1.0 OR Unlicense", &p), Ok(false));
}

#[test]
fn an_expression_that_does_not_parse_is_an_error() {
    let p = policy();
    assert!(passes("", &p).is_err());
    assert!(passes("(MIT OR Apache-2.0", &p).is_err());
    assert!(passes("MIT OR", &p).is_err());
    assert!(passes("MIT Apache-2.0", &p).is_err());
    assert!(passes("MIT WITH", &p).is_err());
}

#[test]
fn the_allow_list_is_the_projects_policy() {
    let list = allowed();
    for id in ["MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Zlib", "Unicode-3.0", "CC0-1.0", "MPL-2.0"] {
        assert!(list.contains(id), "{id} is missing from licences.txt");
    }
    for id in ["GPL-2.0-or-later", "GPL-3.0-only", "LGPL-2.1-or-later", "AGPL-3.0-only"] {
        assert!(!list.contains(id), "{id} is copyleft and may not be in licences.txt");
    }
}
