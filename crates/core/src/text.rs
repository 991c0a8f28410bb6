//! Text typed by people, on its way in and on its way out.
//!
//! In ([`clean`]): every text field has a length limit, counted in characters, and holds no
//! control character but newline and tab; a pasted CRLF becomes a newline, and the text is
//! trimmed. Out: [`csv_cell`] neutralises a CSV cell that a spreadsheet would read as a formula
//! (it begins with `=`, `+`, `-`, `@`, tab or carriage return) by putting an apostrophe before
//! it, and [`printable`] shows the control characters of stored text as escapes, so that a
//! terminal prints them instead of obeying them.

use std::borrow::Cow;
use std::fmt;

/// Names and titles: an enterprise's or provider's name, a need's title, a milestone's name.
pub const NAME_CHARS: usize = 200;
/// Keys, codes, units, kinds, places typed as names: short words.
pub const SHORT_CHARS: usize = 100;
/// Descriptions, notes and reasons.
pub const LONG_CHARS: usize = 4000;
/// A JSON object of attributes or requirements, as written out.
pub const ATTRS_BYTES: usize = 8000;

/// Why a text was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextError {
    TooLong { chars: usize, max: usize },
    /// A control character other than newline and tab, at a position counted in characters
    /// from 1.
    Control { position: usize, code: u32 },
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::TooLong { chars, max } => write!(f, "is {chars} characters long; at most {max} are allowed — shorten it"),
            TextError::Control { position, code } => write!(
                f,
                "holds the control character U+{code:04X} at character {position} — remove it (only newlines and tabs are allowed)"
            ),
        }
    }
}

impl std::error::Error for TextError {}

/// The text as it is kept: trimmed, CRLF (and a lone CR) as newline, at most `max_chars`
/// characters, no control character but newline and tab.
pub fn clean(text: &str, max_chars: usize) -> Result<String, TextError> {
    let text = text.trim();
    let text = if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n") } else { text.to_string() };
    let mut chars = 0;
    for (i, c) in text.chars().enumerate() {
        if c.is_control() && c != '\n' && c != '\t' {
            return Err(TextError::Control { position: i + 1, code: u32::from(c) });
        }
        chars += 1;
    }
    if chars > max_chars {
        return Err(TextError::TooLong { chars, max: max_chars });
    }
    Ok(text)
}

/// Characters that make a spreadsheet read a cell as a formula when they come first.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A CSV cell a spreadsheet shows as text: a cell beginning with `=`, `+`, `-`, `@`, tab or
/// carriage return gets an apostrophe in front (OWASP's advice), unless it is a plain number
/// such as `-3.5`, which a spreadsheet reads as that number. A cell that already looks
/// neutralised (an apostrophe, then one of those) gets one more, so that [`csv_uncell`] gives
/// back every cell exactly.
pub fn csv_cell(cell: &str) -> Cow<'_, str> {
    let formula = cell.chars().next().is_some_and(|first| FORMULA_STARTS.contains(&first)) && !is_plain_number(cell);
    if formula || looks_neutralised(cell) { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

/// A cell read back from a CSV file that bangfu wrote: the apostrophe [`csv_cell`] put before a
/// formula-like cell is taken off again (so that an exported registry imports unchanged).
pub fn csv_uncell(cell: &str) -> &str {
    if looks_neutralised(cell) { &cell[1..] } else { cell }
}

/// Apostrophes, then a formula character.
fn looks_neutralised(cell: &str) -> bool {
    cell.starts_with('\'') && cell.trim_start_matches('\'').chars().next().is_some_and(|c| FORMULA_STARTS.contains(&c))
}

/// `-12`, `+3.5`, `-1e-3`: digits with an optional sign, fraction and exponent, nothing else.
fn is_plain_number(cell: &str) -> bool {
    let body = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(digits)
}

/// Text for a terminal: every control character but newline and tab shown as `\u{1b}`, so that
/// stored text cannot move the cursor, change colours or ring the bell.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if c.is_control() && c != '\n' && c != '\t' { format!("\\u{{{:x}}}", u32::from(c)) } else { c.to_string() })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn clean_text_is_trimmed_and_keeps_newlines_and_tabs() {
        assert_eq!(clean("  熔喷布\r\n需分切\t1.4 m ", 100).unwrap(), "熔喷布\n需分切\t1.4 m");
    }

    #[test]
    fn escape_and_nul_are_refused_with_their_position() {
        assert_eq!(clean("ab\u{1b}[2J", 100), Err(TextError::Control { position: 3, code: 0x1b }));
        assert_eq!(clean("x\0", 100), Err(TextError::Control { position: 2, code: 0 }));
        assert!(clean("x\u{0b}y", 100).unwrap_err().to_string().contains("U+000B"));
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(clean(&"口".repeat(200), NAME_CHARS).is_ok());
        assert_eq!(clean(&"口".repeat(201), NAME_CHARS), Err(TextError::TooLong { chars: 201, max: 200 }));
    }

    #[test]
    fn formula_cells_are_neutralised_and_numbers_are_not() {
        assert_eq!(csv_cell("=HYPERLINK(\"http://x\",\"y\")"), "'=HYPERLINK(\"http://x\",\"y\")");
        for formula in ["+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "+"] {
            assert!(csv_cell(formula).starts_with('\''), "{formula:?}");
        }
        for kept in ["-3.5", "+12", "-1e-3", "141021", "熔喷布", "", "a=b"] {
            assert_eq!(csv_cell(kept), kept);
        }
    }

    #[test]
    fn a_neutralised_cell_reads_back_as_it_was() {
        assert_eq!(csv_uncell("'=1+1"), "=1+1");
        assert_eq!(csv_uncell("'quoted"), "'quoted");
        assert_eq!(csv_cell("'=typed so"), "''=typed so");
        assert_eq!(csv_uncell(&csv_cell("'=typed so")), "'=typed so");
        assert_eq!(csv_uncell("plain"), "plain");
    }

    #[test]
    fn printable_text_shows_control_characters_as_escapes() {
        assert_eq!(printable("a\u{1b}[31mb\0"), "a\\u{1b}[31mb\\u{0}");
        assert_eq!(printable("行\n一\t二"), "行\n一\t二");
    }

    proptest! {
        #[test]
        fn every_cell_survives_the_round_trip(cell in "\\PC{0,12}") {
            let written = csv_cell(&cell);
            prop_assert_eq!(csv_uncell(&written), cell.as_str());
        }

        #[test]
        fn no_neutralised_cell_begins_with_a_formula_character_unless_a_number(cell in "[=+@\\-\t\r0-9a-z.]{1,8}") {
            let out = csv_cell(&cell);
            let first = out.chars().next().unwrap();
            prop_assert!(!FORMULA_STARTS.contains(&first) || is_plain_number(&out));
        }

        #[test]
        fn clean_text_holds_no_forbidden_control_character(text in "\\PC{0,20}|[\u{0}-\u{1f}a]{0,20}") {
            if let Ok(kept) = clean(&text, 1000) {
                prop_assert!(kept.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
            }
        }
    }
}
