//! The unified social credit code (统一社会信用代码) of GB 32100-2015: 18 characters from a
//! 31-character alphabet (digits and capitals without I, O, S, V, Z); the last is a check
//! character computed from the first 17 with weights 3^i mod 31.

use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A credit code whose length, alphabet and check character are valid.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CreditCode(String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreditCodeError {
    Length { found: usize },
    Character { position: usize, found: char },
    Check { found: char, expected: char },
}

impl fmt::Display for CreditCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreditCodeError::Length { found } => write!(f, "credit code has {found} characters, expected 18"),
            CreditCodeError::Character { position, found } => write!(
                f,
                "credit code character {position} is {found:?}, which GB 32100-2015 does not use — only digits and capitals except I, O, S, V, Z"
            ),
            CreditCodeError::Check { found, expected } => {
                write!(f, "credit code check character is {found}, expected {expected} — check the first 17 characters for a typo")
            }
        }
    }
}

impl std::error::Error for CreditCodeError {}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters (which must be in the alphabet).
pub fn check_character(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (b, w) in bytes.iter().zip(WEIGHTS) {
        sum += value(*b)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(ALPHABET[check as usize] as char)
}

impl CreditCode {
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        let code = input.trim().to_ascii_uppercase();
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != 18 {
            return Err(CreditCodeError::Length { found: chars.len() });
        }
        for (i, c) in chars.iter().enumerate() {
            if !c.is_ascii() || value(*c as u8).is_none() {
                return Err(CreditCodeError::Character { position: i + 1, found: *c });
            }
        }
        let expected = check_character(&code[..17]).ok_or(CreditCodeError::Length { found: chars.len() })?;
        if chars[17] != expected {
            return Err(CreditCodeError::Check { found: chars[17], expected });
        }
        Ok(CreditCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_pass_the_check() {
        // The standard's example and codes published in public validator test suites.
        for code in ["91350100M000100Y43", "91110105771583283D", "91440300708461136T", "91110108551385082Q", "91110000802100433B"] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn lower_case_and_spaces_are_accepted() {
        assert_eq!(CreditCode::parse(" 91350100m000100y43 ").unwrap().as_str(), "91350100M000100Y43");
    }

    #[test]
    fn a_wrong_check_character_names_the_expected_one() {
        let err = CreditCode::parse("91350100M000100Y47").unwrap_err();
        assert_eq!(err, CreditCodeError::Check { found: '7', expected: '3' });
        assert_eq!(err.to_string(), "credit code check character is 7, expected 3 — check the first 17 characters for a typo");
    }

    #[test]
    fn a_letter_outside_the_alphabet_is_refused_with_its_position() {
        assert_eq!(
            CreditCode::parse("91350100I000100Y43").unwrap_err(),
            CreditCodeError::Character { position: 9, found: 'I' }
        );
    }

    #[test]
    fn a_short_code_is_refused() {
        assert_eq!(CreditCode::parse("9135").unwrap_err(), CreditCodeError::Length { found: 4 });
    }
}
