//! The Alibaba Cloud annotation catalog offered by the "Alibaba Cloud Annotation" rows,
//! embedded from a copy of `shared/data/ack-annotations.json` so the binary is self-contained.

use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

const CATALOG_JSON: &str = include_str!("ack-annotations.json");

/// One annotation of the catalog, with the hint shown next to its value.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub name: String,
    /// The short name after the last `/` and the `alibaba-cloud-loadbalancer-` prefix.
    pub label: String,
    pub hint: String,
}

#[derive(Deserialize)]
struct RawEntry {
    name: String,
    value_type: String,
    #[serde(default)]
    allowed: Value,
    #[serde(default)]
    default: Value,
    #[serde(default)]
    summary: String,
}

static CATALOG: LazyLock<Vec<CatalogEntry>> = LazyLock::new(|| {
    let raw: Vec<RawEntry> = serde_json::from_str(CATALOG_JSON).unwrap_or_default();
    raw.into_iter().map(entry).collect()
});

static NAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| CATALOG.iter().map(|e| e.name.as_str()).collect());

fn entry(raw: RawEntry) -> CatalogEntry {
    let allowed = match &raw.allowed {
        Value::Array(values) => values
            .iter()
            .map(value_text)
            .collect::<Vec<_>>()
            .join(" | "),
        Value::Null => String::new(),
        other => value_text(other),
    };
    let mut hint = format!("{}: {allowed}", raw.value_type);
    if !raw.default.is_null() {
        hint.push_str(&format!(" (default {})", value_text(&raw.default)));
    }
    if !raw.summary.is_empty() {
        hint.push_str(". ");
        hint.push_str(&raw.summary);
    }
    let short = raw.name.rsplit('/').next().unwrap_or(&raw.name);
    let label = short
        .strip_prefix("alibaba-cloud-loadbalancer-")
        .unwrap_or(short)
        .to_string();
    CatalogEntry {
        name: raw.name,
        label,
        hint,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every catalog entry, in the file's order.
pub fn entries() -> &'static [CatalogEntry] {
    &CATALOG
}

/// Every catalog annotation name.
pub fn names() -> &'static [&'static str] {
    &NAMES
}

/// The value hint of an annotation, empty when it is not in the catalog.
pub fn hint(name: &str) -> &'static str {
    CATALOG
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.hint.as_str())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalog_loads_every_entry() {
        assert_eq!(super::entries().len(), 70);
        assert!(super::hint(super::super::forms::ANN_ADDRESS_TYPE).contains("internet | intranet"));
    }
}
