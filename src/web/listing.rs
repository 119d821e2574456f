//! What every list page shares (UX.md: filters in the URL, sortable columns, pagination): the
//! query it was asked with, links that keep the filters and change one thing (a column's sort or
//! the page), and the pager.

use crate::web::lang::Lang;

/// A list page's query: its filters (name, value; empty ones are left out of links), the sort
/// column and direction, and the page (1-based).
#[derive(Debug, Clone)]
pub struct Listing {
    path: String,
    filters: Vec<(&'static str, String)>,
    pub sort: String,
    pub desc: bool,
    pub page: i64,
}

/// A column header that sorts: its label, the link, and `asc`/`desc` when it is the current sort
/// (for `aria-sort`).
pub struct SortLink {
    pub key: &'static str,
    pub label: String,
    pub href: String,
    pub current: Option<&'static str>,
    pub numeric: bool,
    /// The direction the link sorts in.
    pub desc: bool,
}

/// Previous and next links and "page 2 of 5 · 112 in all".
pub struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
    pub info: String,
    pub pages: i64,
}

impl Listing {
    /// `sort` is taken only when it is one of `sorts`; otherwise the default (first) column, in
    /// its default direction. A page below 1 or unreadable is 1.
    pub fn new(
        path: String,
        filters: Vec<(&'static str, String)>,
        query: &[(String, String)],
        sorts: &[(&'static str, bool)],
    ) -> Listing {
        let get = |k: &str| {
            query
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.as_str())
        };
        let (sort, default_desc) = get("sort")
            .and_then(|s| sorts.iter().find(|(key, _)| *key == s))
            .or(sorts.first())
            .map_or(("", false), |(k, d)| (*k, *d));
        let desc = match get("dir") {
            Some("asc") => false,
            Some("desc") => true,
            _ => default_desc,
        };
        let page = get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| *p >= 1 && *p <= 100_000)
            .unwrap_or(1);
        Listing {
            path,
            filters,
            sort: sort.to_string(),
            desc,
            page,
        }
    }

    /// The value of a filter ("" when not set).
    pub fn filter(&self, name: &str) -> &str {
        self.filters
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// This list with the filters kept, sorted by `sort`, on `page`.
    pub fn href(&self, sort: &str, desc: bool, page: i64) -> String {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.filters {
            if !v.is_empty() {
                pairs.append_pair(k, v);
            }
        }
        pairs.append_pair("sort", sort);
        pairs.append_pair("dir", if desc { "desc" } else { "asc" });
        if page > 1 {
            pairs.append_pair("page", &page.to_string());
        }
        format!("{}?{}", self.path, pairs.finish())
    }

    /// A header link: the current column flips its direction; another starts at its default
    /// direction. Sorting goes back to page 1.
    pub fn sort_link(
        &self,
        key: &'static str,
        label: String,
        default_desc: bool,
        numeric: bool,
    ) -> SortLink {
        let current = self.sort == key;
        let desc = if current { !self.desc } else { default_desc };
        SortLink {
            key,
            label,
            href: self.href(key, desc, 1),
            current: current.then_some(if self.desc { "descending" } else { "ascending" }),
            numeric,
            desc,
        }
    }

    /// The page's slice of `total` rows, `size` to a page: (offset, pager). A page past the end
    /// shows the last one.
    pub fn pager(&self, lang: Lang, total: usize, size: usize) -> (usize, Pager) {
        let pages = total.div_ceil(size).max(1) as i64;
        let page = self.page.min(pages);
        let link = |p: i64| self.href(&self.sort, self.desc, p);
        let info = lang.t_with(
            "listing.page_info",
            &[
                ("page", &page.to_string()),
                ("pages", &pages.to_string()),
                ("total", &crate::web::fmt::number(total as i64)),
            ],
        );
        (
            ((page - 1) as usize) * size,
            Pager {
                prev: (page > 1).then(|| link(page - 1)),
                next: (page < pages).then(|| link(page + 1)),
                info,
                pages,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const SORTS: &[(&str, bool)] = &[("created", true), ("title", false), ("gmv", true)];

    #[test]
    fn links_keep_the_filters_and_change_one_thing() {
        let l = Listing::new(
            "/t/lumi/campaigns".into(),
            vec![("status", "running".into()), ("market", String::new())],
            &query(&[("sort", "gmv"), ("dir", "asc"), ("page", "2")]),
            SORTS,
        );
        assert_eq!((l.sort.as_str(), l.desc, l.page), ("gmv", false, 2));
        assert_eq!(l.filter("status"), "running");
        let gmv = l.sort_link("gmv", "GMV".into(), true, true);
        assert_eq!(gmv.current, Some("ascending"));
        assert_eq!(
            gmv.href,
            "/t/lumi/campaigns?status=running&sort=gmv&dir=desc"
        );
        let title = l.sort_link("title", "Title".into(), false, false);
        assert_eq!(title.current, None);
        assert_eq!(
            title.href,
            "/t/lumi/campaigns?status=running&sort=title&dir=asc"
        );
        let (offset, pager) = l.pager(Lang::En, 60, 25);
        assert_eq!(offset, 25);
        assert_eq!(
            pager.prev.as_deref(),
            Some("/t/lumi/campaigns?status=running&sort=gmv&dir=asc")
        );
        assert_eq!(
            pager.next.as_deref(),
            Some("/t/lumi/campaigns?status=running&sort=gmv&dir=asc&page=3")
        );
        assert_eq!(pager.pages, 3);
    }

    #[test]
    fn garbage_in_the_query_falls_back_to_the_defaults() {
        for bad in [
            query(&[
                ("sort", "'; drop table"),
                ("dir", "sideways"),
                ("page", "-3"),
            ]),
            query(&[("page", "x"), ("sort", "")]),
            query(&[("page", "99999999999999999999")]),
        ] {
            let l = Listing::new("/x".into(), vec![], &bad, SORTS);
            assert_eq!(
                (l.sort.as_str(), l.desc, l.page),
                ("created", true, 1),
                "{bad:?}"
            );
        }
        // A page past the end shows the last one.
        let l = Listing::new("/x".into(), vec![], &query(&[("page", "9")]), SORTS);
        let (offset, pager) = l.pager(Lang::ZhCn, 30, 25);
        assert_eq!((offset, pager.next), (25, None));
        assert_eq!(
            Listing::new("/x".into(), vec![], &[], SORTS)
                .pager(Lang::En, 0, 25)
                .0,
            0
        );
    }
}
