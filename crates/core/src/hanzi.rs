//! Simplified and traditional Chinese treated alike: [`to_simplified`] turns text written in
//! traditional characters (mainland, Taiwan or Hong Kong forms) into simplified ones, phrase by
//! phrase, with OpenCC's `hk2s` dictionaries (the `ferrous-opencc` crate, Apache-2.0); it is what
//! a region name typed by a person is looked up by. [`fold_char`] is the same conversion one
//! character at a time, for indexes that must keep every substring of a text a substring of its
//! folded form (search: 萬榮 and 万荣 fold to the same characters, and so does any part of them).
//!
//! Both sides of a comparison go through the same function: OpenCC reads a few characters that
//! are simplified already as traditional ones (乾县 becomes 干县), so a name is kept under its own
//! form and its converted form, and a query is looked up by both.

use std::collections::HashMap;
use std::sync::OnceLock;

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;

/// The converter, built once from the dictionaries compiled into the binary.
fn converter() -> &'static OpenCC {
    static CONVERTER: OnceLock<OpenCC> = OnceLock::new();
    CONVERTER.get_or_init(|| {
        OpenCC::from_config(BuiltinConfig::Hk2s)
            .unwrap_or_else(|e| panic!("the embedded OpenCC hk2s dictionaries do not load: {e}"))
    })
}

/// `text` in simplified characters: traditional characters and phrases converted, anything else
/// (simplified characters, Latin letters, digits, punctuation) kept as it is.
pub fn to_simplified(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    converter().convert(text)
}

/// The blocks of CJK ideographs whose characters have a simplified form in OpenCC's tables:
/// extension A, the unified ideographs and the compatibility ideographs.
const IDEOGRAPH_BLOCKS: [(u32, u32); 3] = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)];

/// Each character whose simplified form is one other character, from [`to_simplified`] of the
/// character alone.
fn char_table() -> &'static HashMap<char, char> {
    static TABLE: OnceLock<HashMap<char, char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::new();
        for (first, last) in IDEOGRAPH_BLOCKS {
            for c in (first..=last).filter_map(char::from_u32) {
                let mut buf = [0u8; 4];
                let converted = converter().convert(c.encode_utf8(&mut buf));
                let mut chars = converted.chars();
                if let (Some(one), None) = (chars.next(), chars.next())
                    && one != c
                {
                    table.insert(c, one);
                }
            }
        }
        table
    })
}

/// The simplified form of one character (itself when it has none, or when it is not Chinese).
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    char_table().get(&c).copied().unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_names_become_simplified() {
        assert_eq!(to_simplified("萬榮縣"), "万荣县");
        assert_eq!(to_simplified("臨汾市工業和信息化局"), "临汾市工业和信息化局");
        assert_eq!(to_simplified("山西健康動力科技有限公司"), "山西健康动力科技有限公司");
        assert_eq!(to_simplified("衞輝市"), "卫辉市", "a Hong Kong form");
        assert_eq!(to_simplified("赤峯市"), "赤峰市", "a Taiwan form");
    }

    #[test]
    fn simplified_text_and_latin_letters_are_kept() {
        assert_eq!(to_simplified("万荣华康药业公司 wanrong 91141000"), "万荣华康药业公司 wanrong 91141000");
        assert_eq!(to_simplified(""), "");
    }

    #[test]
    fn folding_one_character_at_a_time_agrees_with_the_whole_text_for_plain_names() {
        for name in ["萬榮", "臨汾", "侯馬", "曲沃縣", "萬榮華康藥業公司", "山西省工業和信息化廳"] {
            let folded: String = name.chars().map(fold_char).collect();
            assert_eq!(folded, to_simplified(name), "{name}");
        }
        assert_eq!(fold_char('a'), 'a');
        assert_eq!(fold_char('万'), '万');
    }
}
