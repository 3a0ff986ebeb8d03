//! UI translations: every string the web UI shows goes through [`Tr`], which looks keys
//! up in the static table in `catalog.rs` (English, Simplified and Traditional Chinese).
//!
//! Placeholders are written `{name}` and filled by [`Tr::f`]. A missing key renders as
//! the key itself (and a unit test makes sure no template or handler uses one).

use super::catalog::CATALOG;
use kefu_domain::{Lang, Priority, Role, Segment, Status, TicketType};
use std::{
    collections::{HashMap, HashSet},
    sync::{LazyLock, Mutex},
};

static INDEX: LazyLock<HashMap<&'static str, [&'static str; 3]>> =
    LazyLock::new(|| CATALOG.iter().map(|(k, v)| (*k, *v)).collect());

/// The key itself as a `'static` string. Each distinct missing key is leaked once (they
/// come from code, e.g. a new event field, so there are few of them).
fn missing(key: &str) -> &'static str {
    static SEEN: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    match seen.get(key) {
        Some(k) => k,
        None => {
            let k: &'static str = Box::leak(key.to_string().into_boxed_str());
            seen.insert(k);
            k
        }
    }
}

/// A translator for one language. Cheap to copy; templates call `tr.t("key")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr(pub Lang);

impl Tr {
    fn column(self) -> usize {
        match self.0 {
            Lang::En => 0,
            Lang::ZhCn => 1,
            Lang::ZhTw => 2,
        }
    }

    /// The translation of `key`, or the key itself if the catalog lacks it.
    pub fn t(&self, key: &str) -> &'static str {
        match INDEX.get(key) {
            Some(v) => v[self.column()],
            None => {
                tracing::warn!(key, "missing UI translation");
                missing(key)
            }
        }
    }

    /// The translation of `key` with `{name}` placeholders filled in.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.t(key).to_string();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    pub fn status(&self, s: Status) -> &'static str {
        self.t(&format!("status.{s}"))
    }

    /// Status as the customer sees it in the portal (simpler words than agents use).
    pub fn customer_status(&self, s: Status) -> &'static str {
        self.t(&format!("cstatus.{s}"))
    }

    pub fn priority(&self, p: Priority) -> &'static str {
        self.t(&format!("priority.{p}"))
    }

    pub fn ticket_type(&self, t: TicketType) -> &'static str {
        self.t(&format!("type.{t}"))
    }

    pub fn role(&self, r: Role) -> &'static str {
        self.t(&format!("role.{r}"))
    }

    pub fn segment(&self, s: Segment) -> &'static str {
        self.t(&format!("segment.{s}"))
    }

    /// The language's own name ("English", "简体中文", "繁體中文"), for the switcher.
    pub fn lang_name(l: Lang) -> &'static str {
        match l {
            Lang::En => "English",
            Lang::ZhCn => "简体中文",
            Lang::ZhTw => "繁體中文",
        }
    }

    /// Value of the HTML `lang` attribute.
    pub fn html_lang(&self) -> &'static str {
        match self.0 {
            Lang::En => "en",
            Lang::ZhCn => "zh-Hans",
            Lang::ZhTw => "zh-Hant",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_three_non_empty_translations_and_keys_are_unique() {
        let mut seen = HashSet::new();
        for (key, v) in CATALOG {
            assert!(seen.insert(*key), "duplicate key {key}");
            for (i, s) in v.iter().enumerate() {
                assert!(
                    !s.trim().is_empty(),
                    "{key} has an empty translation in column {i}"
                );
            }
            let holes = |s: &str| {
                let mut h: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}'))
                    .map(|(n, _)| n.into())
                    .collect();
                h.sort();
                h
            };
            assert_eq!(
                holes(v[0]),
                holes(v[1]),
                "{key}: placeholders differ (zh-CN)"
            );
            assert_eq!(
                holes(v[0]),
                holes(v[2]),
                "{key}: placeholders differ (zh-TW)"
            );
        }
    }

    #[test]
    fn every_enum_value_has_a_name() {
        for l in Lang::ALL {
            let tr = Tr(*l);
            for s in Status::ALL {
                assert!(INDEX.contains_key(format!("status.{s}").as_str()));
                assert!(INDEX.contains_key(format!("cstatus.{s}").as_str()));
                let _ = tr.status(*s);
            }
            for p in Priority::ALL {
                assert!(INDEX.contains_key(format!("priority.{p}").as_str()));
            }
            for t in TicketType::ALL {
                assert!(INDEX.contains_key(format!("type.{t}").as_str()));
            }
            for r in Role::ALL {
                assert!(INDEX.contains_key(format!("role.{r}").as_str()));
            }
            for s in Segment::ALL {
                assert!(INDEX.contains_key(format!("segment.{s}").as_str()));
            }
        }
    }

    /// Every literal key used as `t("…")` or `f("…"` in templates and web sources exists.
    #[test]
    fn every_key_used_in_templates_and_handlers_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("templates"), root.join("src/web")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        let mut used = 0;
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for pat in ["t(\"", "f(\"", "link(\""] {
                for piece in text.split(pat).skip(1) {
                    let key = piece.split('"').next().unwrap();
                    if key.contains('.') && !key.contains(' ') && !key.contains('{') {
                        used += 1;
                        assert!(
                            INDEX.contains_key(key),
                            "{}: unknown key {key}",
                            f.display()
                        );
                    }
                }
            }
        }
        assert!(used > 100, "expected many keys in use, found {used}");
    }

    #[test]
    fn placeholders_are_filled() {
        let tr = Tr(Lang::ZhCn);
        assert_eq!(tr.f("time.minutes_ago", &[("n", "3")]), "3 分钟前");
        assert_eq!(Tr(Lang::ZhTw).status(Status::Pending), "待回覆");
        let key = "field.not_yet_translated";
        let unknown = tr.t(key);
        assert_eq!(unknown, key);
        assert!(std::ptr::eq(unknown, tr.t(key)), "leaked once");
    }
}
