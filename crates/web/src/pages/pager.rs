//! The pager under a list page: how many rows the filtered list has, how many are shown, and
//! links to the first page and the next. Lists page by keyset (the next page starts after the
//! last id shown, see `bangfu_store::lists`), so there is a "next" and a "first", not numbered
//! pages. The links keep the page's other query parameters; a page with two lists gives each its
//! own cursor parameter.

use super::ui::{Lang, encode};
use bangfu_store::Page;

#[derive(Clone, Debug)]
pub struct Pager {
    /// "共 123 条，本页 1–50" / "123 in all, 50 on this page".
    pub summary: String,
    /// The first page, when this is not it.
    pub first: Option<String>,
    pub first_label: &'static str,
    /// The next page, when there is one.
    pub next: Option<String>,
    pub next_label: &'static str,
    pub label: &'static str,
}

impl Pager {
    /// The pager of `page` (asked for after `after`) of a list of `total` rows at `path`, whose
    /// other query parameters are `params` (empty ones left out); `cursor` names the parameter
    /// that carries the page's start.
    pub fn new<T>(lang: Lang, path: &str, params: &[(&str, &str)], cursor: &str, after: Option<i64>, page: &Page<T>, total: i64) -> Pager {
        let href = |start: Option<i64>| {
            let mut query: Vec<String> = params.iter().filter(|(_, v)| !v.trim().is_empty()).map(|(k, v)| format!("{k}={}", encode(v.trim()))).collect();
            if let Some(start) = start {
                query.push(format!("{cursor}={start}"));
            }
            if query.is_empty() { path.to_string() } else { format!("{path}?{}", query.join("&")) }
        };
        let shown = page.items.len();
        let summary = match lang {
            Lang::Zh => format!("共 {total} 条，本页 {shown} 条"),
            Lang::En => format!("{total} in all, {shown} on this page"),
        };
        Pager {
            summary,
            first: after.map(|_| href(None)),
            first_label: lang.pick("« 第一页", "« First page"),
            next: page.next.map(|next| href(Some(next))),
            next_label: lang.pick("下一页 »", "Next page »"),
            label: lang.pick("分页", "Pages"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_links_keep_the_filters_and_set_the_cursor() {
        let page = Page { items: vec![1, 2], next: Some(7) };
        let pager = Pager::new(Lang::Zh, "/registry", &[("kind", "slitting"), ("q", "翼城"), ("place", " ")], "after", Some(3), &page, 9);
        assert_eq!(pager.next.as_deref(), Some("/registry?kind=slitting&q=%E7%BF%BC%E5%9F%8E&after=7"));
        assert_eq!(pager.first.as_deref(), Some("/registry?kind=slitting&q=%E7%BF%BC%E5%9F%8E"));
        assert_eq!(pager.summary, "共 9 条，本页 2 条");
        let last = Pager::new(Lang::En, "/", &[], "cases_after", None, &Page { items: vec![1], next: None }, 1);
        assert_eq!((last.first, last.next, last.summary.as_str()), (None, None, "1 in all, 1 on this page"));
    }
}
