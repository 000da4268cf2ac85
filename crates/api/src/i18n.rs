//! The page's translation catalogues, one JSON file per language in
//! `web/i18n/`, compiled into the binary and served at `/i18n/{code}.json`;
//! `/i18n/languages.json` lists them (code → the language's own name, its
//! `language.name` key).
//!
//! A catalogue maps a key to a template (`"Talk ratio rose from {previous} to
//! {current}"`) or, for a count, to plural forms by `Intl.PluralRules`
//! category (`{"one": "{count} call", "other": "{count} calls"}`). The page
//! fills the placeholders; the sentences the API sends as data
//! ([`crate::insights::Message`]) are keys here too. The tests below keep the
//! catalogues in step: the same keys and placeholders in every language, every
//! kind the API sends, every KPI, and every key the page names.
//!
//! Adding a language: a new `web/i18n/{code}.json` with every key, and a line in
//! [`CATALOGUES`].

/// Every catalogue, by ISO 639-1 code; English first (the fallback).
pub const CATALOGUES: &[(&str, &str)] =
    &[("en", include_str!("../web/i18n/en.json")), ("fi", include_str!("../web/i18n/fi.json"))];

/// A language's catalogue, as JSON.
pub fn catalogue(code: &str) -> Option<&'static str> {
    CATALOGUES.iter().find(|(c, _)| *c == code).map(|(_, json)| *json)
}

/// `{"en": "English", "fi": "suomi", …}`: each catalogue's `language.name`.
pub fn languages_json() -> String {
    let names: serde_json::Map<String, serde_json::Value> = CATALOGUES
        .iter()
        .map(|(code, json)| {
            let name = serde_json::from_str::<serde_json::Value>(json)
                .ok()
                .and_then(|v| v.get("language.name").cloned())
                .unwrap_or_else(|| (*code).into());
            ((*code).to_owned(), name)
        })
        .collect();
    serde_json::Value::Object(names).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;

    use super::*;
    use crate::insights::Kpi;
    use crate::insights::message::KINDS;

    /// A catalogue: key → the forms of its template (one, or one per plural category).
    fn parse(code: &str) -> BTreeMap<String, Vec<String>> {
        let v: Value = serde_json::from_str(catalogue(code).expect("catalogue")).expect("valid JSON");
        let obj = v.as_object().unwrap_or_else(|| panic!("{code}: an object"));
        obj.iter()
            .map(|(k, v)| {
                let forms = match v {
                    Value::String(s) => vec![s.clone()],
                    Value::Object(m) => {
                        assert!(m.contains_key("other"), "{code}: {k}: plural forms need \"other\"");
                        m.values()
                            .map(|f| f.as_str().unwrap_or_else(|| panic!("{code}: {k}: text")).to_owned())
                            .collect()
                    }
                    Value::Null | Value::Bool(_) | Value::Number(_) | Value::Array(_) => {
                        panic!("{code}: {k}: a text or plural forms")
                    }
                };
                assert!(forms.iter().all(|f| !f.trim().is_empty()), "{code}: {k}: empty");
                (k.clone(), forms)
            })
            .collect()
    }

    /// `{name}` placeholders of a template.
    fn placeholders(template: &str) -> BTreeSet<String> {
        template
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect()
    }

    fn all_placeholders(forms: &[String]) -> BTreeSet<String> {
        forms.iter().flat_map(|f| placeholders(f)).collect()
    }

    #[test]
    fn every_language_has_the_same_keys_and_placeholders() {
        let en = parse("en");
        assert_eq!(CATALOGUES[0].0, "en", "English first: the fallback");
        for (code, _) in CATALOGUES {
            let other = parse(code);
            let missing: Vec<&String> = en.keys().filter(|k| !other.contains_key(*k)).collect();
            let extra: Vec<&String> = other.keys().filter(|k| !en.contains_key(*k)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{code}: missing {missing:?}, not in en {extra:?}"
            );
            for (key, forms) in &other {
                // Plural forms may leave the count out ("one call"), never add names.
                let (mine, theirs) = (all_placeholders(forms), all_placeholders(&en[key]));
                assert!(mine.is_subset(&theirs), "{code}: {key}: {mine:?} not in en's {theirs:?}");
                if forms.len() == 1 && en[key].len() == 1 {
                    assert_eq!(mine, theirs, "{code}: {key}");
                }
            }
        }
    }

    #[test]
    fn every_sentence_the_api_sends_is_translated() {
        for (code, _) in CATALOGUES {
            let c = parse(code);
            for (kind, names) in KINDS {
                let forms = c.get(*kind).unwrap_or_else(|| panic!("{code}: no {kind}"));
                let expected: BTreeSet<String> = names.iter().map(|n| (*n).to_owned()).collect();
                assert_eq!(all_placeholders(forms), expected, "{code}: {kind}");
            }
            for kpi in Kpi::ALL {
                for prefix in ["kpi", "trend.kpi"] {
                    assert!(c.contains_key(&format!("{prefix}.{kpi}")), "{code}: no {prefix}.{kpi}");
                }
            }
        }
    }

    /// The page's quoted strings that look like catalogue keys (`'ns.name'`,
    /// `ns` a namespace of the catalogue): those in `t('…')` and `th('…')`
    /// calls, and those chosen in a ternary or a table before the call.
    fn keys_named_in<'a>(js: &'a str, namespaces: &BTreeSet<&str>) -> Vec<&'a str> {
        let is_key_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.';
        let bytes = js.as_bytes();
        let mut keys = Vec::new();
        let mut at = 0;
        while let Some(open) = js[at..].find('\'').map(|i| at + i) {
            let len = bytes[open + 1..].iter().take_while(|b| is_key_char(**b)).count();
            let close = open + 1 + len;
            at = open + 1;
            if bytes.get(close) != Some(&b'\'') {
                continue;
            }
            let lit = &js[open + 1..close];
            let ns = lit.split('.').next().unwrap_or_default();
            if lit.contains('.') && namespaces.contains(ns) && lit.split('.').all(|p| !p.is_empty()) {
                keys.push(lit);
                at = close + 1;
            }
        }
        keys
    }

    /// Every key the page names is in the catalogues (or, like `trend.kpi`,
    /// the prefix of keys it completes at run time: the KPIs' and the API's
    /// kinds, checked above).
    #[test]
    fn every_key_the_page_names_exists() {
        let en = parse("en");
        let namespaces: BTreeSet<&str> = en.keys().filter_map(|k| k.split('.').next()).collect();
        assert_eq!(
            keys_named_in("a('x.y'); t('call.back'); b('.w'); t('call.x y')", &namespaces),
            ["call.back"]
        );
        let named = keys_named_in(include_str!("../web/app.js"), &namespaces);
        let missing: Vec<&&str> = named
            .iter()
            .filter(|k| !en.contains_key(**k) && !en.keys().any(|e| e.starts_with(&format!("{k}."))))
            .collect();
        assert!(missing.is_empty(), "app.js names keys en.json lacks: {missing:?}");
        assert!(named.len() > 150, "the page's strings go through t(): {} keys", named.len());
    }

    #[test]
    fn the_openapi_document_lists_every_kind() {
        let spec: Value = serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json");
        let doc = spec["components"]["schemas"]["Message"]["description"].as_str().expect("Message");
        for (kind, names) in KINDS {
            assert!(doc.contains(kind), "openapi.json: Message lacks {kind}");
            assert!(names.iter().all(|n| doc.contains(n)), "openapi.json: {kind}: {names:?}");
        }
    }

    #[test]
    fn languages_are_listed_by_their_own_names() {
        let v: Value = serde_json::from_str(&languages_json()).expect("json");
        assert_eq!(v["en"], "English");
        assert_eq!(v["fi"], "suomi");
        assert_eq!(v.as_object().expect("object").len(), CATALOGUES.len());
        assert!(catalogue("sv").is_none());
    }
}
