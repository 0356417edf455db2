//! Decoding a stored object without `metadata.managedFields`: no controller reads them, nor
//! does a Table row (its `PartialObjectMetadata` leaves them out), and they are often the
//! largest part of an object, so the parser skips them instead of building a tree only to drop
//! it (client-go's informers strip them with a transform after decoding).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

/// Decodes a JSON object, leaving out `metadata.managedFields`.
pub fn decode<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    deserializer.deserialize_map(Object { in_metadata: false })
}

/// One JSON object: the top-level one, or its `metadata`, where `managedFields` is skipped.
struct Object {
    in_metadata: bool,
}

impl<'de> DeserializeSeed<'de> for Object {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Object {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match (self.in_metadata, key.as_str()) {
                (true, "managedFields") => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                (false, "metadata") => map.next_value_seed(Object { in_metadata: true })?,
                _ => map.next_value::<Value>()?,
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn leaves_out_only_the_managed_fields() {
        let text = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "a", "managedFields": [{"manager": "kubectl"}], "labels": {"managedFields": "x"}},
            "spec": {"managedFields": [1]},
        })
        .to_string();
        let decoded = super::decode(&mut serde_json::Deserializer::from_str(&text)).unwrap();
        assert_eq!(
            decoded,
            json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "a", "labels": {"managedFields": "x"}},
                "spec": {"managedFields": [1]},
            })
        );
    }

    #[test]
    fn refuses_what_is_not_an_object() {
        assert!(super::decode(&mut serde_json::Deserializer::from_str("[1]")).is_err());
        assert!(
            super::decode(&mut serde_json::Deserializer::from_str(
                r#"{"metadata": 1}"#
            ))
            .is_err()
        );
    }
}
