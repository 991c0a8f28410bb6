//! Text written into HTML, SVG or XML by hand: the maps' captions and the font configuration of
//! a print (the askama templates escape their own).

/// `text` with `&`, `<`, `>`, `"` and `'` escaped: safe as element content and in a quoted
/// attribute, in HTML and XML alike.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(super::escape(r#"<a href="x">'曲沃' & 侯马</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;曲沃&#39; &amp; 侯马&lt;/a&gt;");
    }
}
