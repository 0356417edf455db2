//! Manifest files and YAML bodies: one or many documents, as kubectl reads them.

use serde_json::Value;

/// Parses YAML or JSON text into its documents; empty documents are skipped and `List`
/// objects are expanded into their items, as `kubectl apply -f` does.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    let docs: Vec<Value> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let mut out = Vec::new();
        for doc in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            out.push(doc.map_err(|e| format!("error parsing JSON: {e}"))?);
        }
        out
    } else {
        let mut out = Vec::new();
        for doc in split_yaml_documents(text) {
            out.push(
                serde_saphyr::from_str::<Value>(doc)
                    .map_err(|e| format!("error converting YAML to JSON: {e}"))?,
            );
        }
        out
    };
    let mut out = Vec::new();
    for doc in docs {
        expand(doc, &mut out);
    }
    Ok(out)
}

/// Splits a YAML stream at `---` separator lines, as kubectl's document decoder does, so
/// that each document is parsed on its own (and a stream may hold any number of them).
fn split_yaml_documents(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" {
            docs.push(&text[start..offset]);
            start = offset + line.len();
        } else if bare.starts_with("--- ") || bare.starts_with("---\t") {
            // `--- {a: 1}`: what follows the marker belongs to the new document.
            docs.push(&text[start..offset]);
            start = offset + 3;
        }
        offset += line.len();
    }
    docs.push(&text[start..]);
    docs.into_iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect()
}

fn expand(doc: Value, out: &mut Vec<Value>) {
    if doc.is_null() {
        return;
    }
    let is_list = doc
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List"))
        && doc.get("items").is_some_and(Value::is_array);
    if is_list {
        if let Some(Value::Array(items)) = doc.get("items") {
            for item in items.clone() {
                expand(item, out);
            }
        }
        return;
    }
    out.push(doc);
}

/// Parses one YAML or JSON request body into a single object.
pub fn parse_yaml_body(text: &str) -> Result<Value, String> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| format!("error converting YAML to JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_yaml_documents_and_lists() {
        let docs = parse_documents(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n---\nkind: List\nitems:\n- kind: Service\n  metadata: {name: b}\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["metadata"]["name"], "b");
        assert_eq!(docs[0]["metadata"]["name"], "a");
    }

    #[test]
    fn more_documents_than_the_yaml_parsers_default_budget() {
        let text = "kind: Service\n---\n".repeat(3000);
        assert_eq!(parse_documents(&text).unwrap().len(), 3000);
    }

    #[test]
    fn content_after_a_document_marker_is_kept() {
        let docs = parse_documents("kind: Service\n--- {kind: Pod}\n").unwrap();
        assert_eq!(docs[1]["kind"], "Pod");
    }

    #[test]
    fn json_stream() {
        let docs = parse_documents("{\"kind\":\"Service\"} {\"kind\":\"Service\"}").unwrap();
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn yaml_numbers_stay_numbers() {
        let docs =
            parse_documents("spec:\n  ports:\n  - port: 80\n    targetPort: \"8080\"\n").unwrap();
        assert_eq!(docs[0]["spec"]["ports"][0]["port"], 80);
        assert_eq!(docs[0]["spec"]["ports"][0]["targetPort"], "8080");
    }
}
