//! Reading the audit trail (SPEC §12): the filters a person can ask with (actor, object, action,
//! period and, for admins, tenant), checked before any query; and what changed in an entry, key by
//! key, from its before/after.

use std::collections::BTreeSet;

use serde_json::Value;
use time::Date;
use time::macros::format_description;

use crate::kernel::FieldErrors;

/// Which tenant's entries an admin asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TenantFilter {
    #[default]
    All,
    /// Platform events only (no tenant: staff accounts, approvals, scopes).
    Platform,
    /// One tenant, by slug.
    Slug(String),
}

/// A request's filters, checked. Empty strings mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Part of the actor's label (email or name), any case.
    pub actor: String,
    /// An entity type exactly (`campaign`, `collaboration`, …).
    pub entity: String,
    /// An entity's id exactly (links from an object's page).
    pub entity_id: String,
    /// An action exactly (`campaign.submit`) or an area (`campaign`: every `campaign.…`).
    pub action: String,
    /// From this day (inclusive) to that day (inclusive), in the viewer's time zone.
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub tenant: TenantFilter,
}

const MAX_TEXT: usize = 200;

impl Filter {
    /// The filters as the page's query string gave them (unknown keys ignored), or the message for
    /// each field that cannot be read (shown next to it). `admin`: the tenant filter is taken.
    pub fn parse(query: &[(String, String)], admin: bool) -> Result<Filter, FieldErrors> {
        let get = |k: &str| {
            query
                .iter()
                .find(|(name, _)| name == k)
                .map_or("", |(_, v)| v.trim())
        };
        let mut errors = FieldErrors::new();
        let mut text = |k: &str| -> String {
            let v = get(k);
            if v.chars().count() > MAX_TEXT || v.chars().any(char::is_control) {
                errors.insert(k.to_string(), "audit.filter.too_long");
                String::new()
            } else {
                v.to_string()
            }
        };
        let actor = text("actor");
        let entity = text("entity");
        let entity_id = text("entity_id");
        let action = text("action");
        let mut date = |k: &str| -> Option<Date> {
            let v = get(k);
            if v.is_empty() {
                return None;
            }
            match Date::parse(v, format_description!("[year]-[month]-[day]")) {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.insert(k.to_string(), "audit.filter.bad_date");
                    None
                }
            }
        };
        let from = date("from");
        let to = date("to");
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            errors.insert("to".into(), "audit.filter.to_before_from");
        }
        let tenant = match get("tenant") {
            _ if !admin => TenantFilter::All,
            "" => TenantFilter::All,
            "platform" => TenantFilter::Platform,
            slug if slug.len() <= 63
                && slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') =>
            {
                TenantFilter::Slug(slug.to_string())
            }
            _ => {
                errors.insert("tenant".into(), "audit.filter.no_tenant");
                TenantFilter::All
            }
        };
        if errors.is_empty() {
            Ok(Filter {
                actor,
                entity,
                entity_id,
                action,
                from,
                to,
                tenant,
            })
        } else {
            Err(errors)
        }
    }

    /// The filters to keep in the pager's links (empty ones are left out there).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let day = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
        vec![
            ("actor", self.actor.clone()),
            ("entity", self.entity.clone()),
            ("entity_id", self.entity_id.clone()),
            ("action", self.action.clone()),
            ("from", day(self.from)),
            ("to", day(self.to)),
            (
                "tenant",
                match &self.tenant {
                    TenantFilter::All => String::new(),
                    TenantFilter::Platform => "platform".into(),
                    TenantFilter::Slug(s) => s.clone(),
                },
            ),
        ]
    }

    /// Whether anything narrows the list.
    pub fn is_filtered(&self) -> bool {
        self != &Filter::default()
    }
}

/// One key of an entry's before/after: the value before, after (compact JSON; "" when absent),
/// and whether it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub before: String,
    pub after: String,
    pub changed: bool,
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// What an entry changed, key by key (objects: every top-level key of either side, in order;
/// anything else: one row named "value").
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Vec<Change> {
    let object = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => Some(m.clone()),
        None | Some(Value::Null) => Some(serde_json::Map::new()),
        _ => None,
    };
    match (object(before), object(after)) {
        (Some(b), Some(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            keys.into_iter()
                .map(|k| {
                    let (x, y) = (show(b.get(k)), show(a.get(k)));
                    Change {
                        key: k.clone(),
                        changed: b.get(k) != a.get(k),
                        before: x,
                        after: y,
                    }
                })
                .collect()
        }
        _ => vec![Change {
            key: "value".into(),
            before: show(before),
            after: show(after),
            changed: before != after,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_are_read_and_kept_for_the_pager() {
        let f = Filter::parse(
            &q(&[
                ("actor", " owner@lumi "),
                ("action", "campaign"),
                ("from", "2026-11-01"),
                ("to", "2026-11-30"),
                ("tenant", "lumi"),
                ("sort", "at"),
            ]),
            true,
        )
        .unwrap();
        assert_eq!(f.actor, "owner@lumi");
        assert_eq!(f.action, "campaign");
        assert_eq!(
            (f.from, f.to),
            (Some(date!(2026 - 11 - 01)), Some(date!(2026 - 11 - 30)))
        );
        assert_eq!(f.tenant, TenantFilter::Slug("lumi".into()));
        assert!(f.is_filtered());
        assert!(f.pairs().contains(&("from", "2026-11-01".into())));
        assert!(!Filter::parse(&q(&[]), true).unwrap().is_filtered());
    }

    #[test]
    fn a_seller_cannot_ask_for_another_tenant() {
        let f = Filter::parse(&q(&[("tenant", "nordpeak")]), false).unwrap();
        assert_eq!(f.tenant, TenantFilter::All);
        let f = Filter::parse(&q(&[("tenant", "platform")]), true).unwrap();
        assert_eq!(f.tenant, TenantFilter::Platform);
    }

    #[test]
    fn bad_filters_are_named_by_field() {
        let e = Filter::parse(
            &q(&[
                ("from", "2026-13-01"),
                ("to", "yesterday"),
                ("actor", &"x".repeat(201)),
                ("tenant", "Robert'); DROP"),
            ]),
            true,
        )
        .unwrap_err();
        assert_eq!(e.get("from"), Some(&"audit.filter.bad_date"));
        assert_eq!(e.get("to"), Some(&"audit.filter.bad_date"));
        assert_eq!(e.get("actor"), Some(&"audit.filter.too_long"));
        assert_eq!(e.get("tenant"), Some(&"audit.filter.no_tenant"));
        let e =
            Filter::parse(&q(&[("from", "2026-11-30"), ("to", "2026-11-01")]), false).unwrap_err();
        assert_eq!(e.get("to"), Some(&"audit.filter.to_before_from"));
        assert!(Filter::parse(&q(&[("entity", "a\u{0}b")]), false).is_err());
    }

    #[test]
    fn changes_list_every_key_and_mark_what_changed() {
        let c = changes(
            Some(&json!({"state": "draft", "title": "Spring", "budget": 100})),
            Some(&json!({"state": "submitted", "title": "Spring", "code": "LUMI-1"})),
        );
        let row = |k: &str| c.iter().find(|x| x.key == k).unwrap().clone();
        assert_eq!(
            row("state"),
            Change {
                key: "state".into(),
                before: "draft".into(),
                after: "submitted".into(),
                changed: true
            }
        );
        assert!(!row("title").changed);
        assert_eq!(
            (row("budget").before.as_str(), row("budget").after.as_str()),
            ("100", "")
        );
        assert_eq!(row("code").after, "LUMI-1");
        // Only an after (a creation): every key is new.
        let c = changes(None, Some(&json!({"reason": "late"})));
        assert_eq!(
            (c.len(), c[0].changed, c[0].after.as_str()),
            (1, true, "late")
        );
        // Neither side an object.
        let c = changes(Some(&json!("a")), Some(&json!(["b"])));
        assert_eq!(
            (c[0].key.as_str(), c[0].after.as_str()),
            ("value", "[\"b\"]")
        );
        assert!(changes(None, None).is_empty());
    }
}
