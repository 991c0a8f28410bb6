//! PDF documents — a letter (公函) laid out per GB/T 9704-2012, the daily briefing — printed from
//! their own printable HTML by headless Chromium (`--print-to-pdf`), the Chromium the browser
//! tests already need. Why Chromium and not a Rust PDF library: the pages already lay out the
//! documents for print (A4, `@page` margins, the letter's line grid, the briefing's SVG charts and
//! tables); printing them gives the same document on paper and in the PDF, with the fonts
//! embedded and subset and the text extractable, at ~1.7 s per document on this machine and no
//! new crate. typst as a library would render in milliseconds but adds ~300 crates (~21 min clean
//! build on 2 cores); printpdf or krilla would mean laying out text, tables and charts a second
//! time by hand (BENCHMARKS.md, ARCHITECTURE.md).
//!
//! Fonts: Chromium finds fonts through fontconfig. The deployment's font directory
//! (`bangfu serve --font-dir`, `BANGFU_FONT_DIR`) is added to the system's for each print, so an
//! office that installs its licensed 方正小标宋 and 仿宋_GB2312 there gets them by name; without
//! them the documents fall back to Debian's free `fonts-noto-cjk` (Noto Serif CJK SC, Noto Sans
//! CJK SC), which the printable pages' font lists name after the office fonts.
//!
//! At most two prints run at once; each uses a fresh profile directory, removed after.

use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// How documents are printed.
#[derive(Clone, Debug)]
pub struct Printer {
    /// The Chromium binary (`chromium` on the PATH by default).
    pub chromium: PathBuf,
    /// Fonts to add to the system's (an office's licensed 仿宋 / 小标宋).
    pub font_dir: Option<PathBuf>,
    slots: Arc<Semaphore>,
}

impl Default for Printer {
    fn default() -> Printer {
        Printer::new(PathBuf::from("chromium"), None)
    }
}

/// Why a document could not be printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("could not print the document: {0}")]
    Failed(String),
}

impl Printer {
    pub fn new(chromium: PathBuf, font_dir: Option<PathBuf>) -> Printer {
        Printer { chromium, font_dir, slots: Arc::new(Semaphore::new(2)) }
    }

    /// The PDF of a self-contained HTML document (styles inline, no outside resources).
    pub async fn pdf(&self, html: &str) -> Result<Vec<u8>, PrintError> {
        let failed = |what: &str, e: &dyn std::fmt::Display| PrintError::Failed(format!("{what}: {e}"));
        let _slot = self.slots.acquire().await.map_err(|e| failed("waiting for a print slot", &e))?;
        let dir = tempfile::tempdir().map_err(|e| failed("a temporary directory", &e))?;
        let page = dir.path().join("document.html");
        let out = dir.path().join("document.pdf");
        tokio::fs::write(&page, html).await.map_err(|e| failed("writing the page", &e))?;
        let mut command = tokio::process::Command::new(&self.chromium);
        command
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pdf-header-footer"])
            .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
            .arg(format!("--print-to-pdf={}", out.display()))
            .arg(format!("file://{}", page.display()))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        if let Some(fonts) = &self.font_dir {
            let conf = dir.path().join("fonts.conf");
            let text = format!(
                "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig><include ignore_missing=\"yes\">/etc/fonts/fonts.conf</include><dir>{}</dir><cachedir>{}</cachedir></fontconfig>\n",
                crate::markup::escape(&fonts.display().to_string()),
                crate::markup::escape(&dir.path().join("fc-cache").display().to_string())
            );
            tokio::fs::write(&conf, text).await.map_err(|e| failed("writing the font configuration", &e))?;
            command.env("FONTCONFIG_FILE", &conf);
        }
        let run = command.output();
        let output = tokio::time::timeout(std::time::Duration::from_secs(25), run)
            .await
            .map_err(|_| PrintError::Failed("Chromium took longer than 25 s".into()))?
            .map_err(|e| failed(&format!("starting {} (install Debian's chromium, or give --chromium)", self.chromium.display()), &e))?;
        match tokio::fs::read(&out).await {
            Ok(pdf) if pdf.starts_with(b"%PDF") => Ok(pdf),
            _ => Err(PrintError::Failed(format!("Chromium wrote no PDF (exit {:?}): {}", output.status.code(), String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or_default()))),
        }
    }
}

