//! The Alibaba Cloud annotation catalog as the "Alibaba Cloud Annotation" rows offer it: each
//! key of `service_plan::annotations::catalog` with a short label and a value hint.

use std::sync::LazyLock;

use service_plan::annotations::{self, Allowed};

/// One annotation of the catalog, with the hint shown next to its value.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub name: String,
    /// The short name after the last `/` and the `alibaba-cloud-loadbalancer-` prefix.
    pub label: String,
    pub hint: String,
}

static CATALOG: LazyLock<Vec<CatalogEntry>> =
    LazyLock::new(|| annotations::catalog().iter().map(entry).collect());

static NAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| CATALOG.iter().map(|e| e.name.as_str()).collect());

fn entry(raw: &annotations::CatalogEntry) -> CatalogEntry {
    let allowed = match &raw.allowed {
        Some(Allowed::Values(values)) => values.join(" | "),
        Some(Allowed::Text(text)) => text.clone(),
        None => String::new(),
    };
    let mut hint = format!("{}: {allowed}", raw.value_type);
    if let Some(default) = &raw.default {
        hint.push_str(&format!(" (default {default})"));
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
        name: raw.name.clone(),
        label,
        hint,
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
