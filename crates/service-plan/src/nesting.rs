//! How deeply a JSON document nests, measured without recursion.
//!
//! Everything that handles a decoded object (validation, patches, encoding, even dropping a
//! `serde_json::Value`) recurses once per level, so the depth of anything the server builds is
//! bounded here, far below where a worker thread's stack would run out.

use serde_json::Value;

/// The deepest nesting of objects and arrays the server builds or stores. serde_json's
/// decoder refuses 128 levels, so anything stored within this limit can always be read back;
/// a real Service nests fewer than 15 levels, `managedFields` included.
pub const MAX_NESTING_DEPTH: usize = 100;

/// The nesting depth of `value`: 0 for a scalar, 1 for an object or array of scalars, and so
/// on. Walks with an explicit stack, so an arbitrarily deep value cannot overflow the thread's.
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, above)) = stack.pop() {
        let level = above + 1;
        match value {
            Value::Object(map) => stack.extend(map.values().map(|child| (child, level))),
            Value::Array(items) => stack.extend(items.iter().map(|child| (child, level))),
            _ => continue,
        }
        deepest = deepest.max(level);
    }
    deepest
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scalars_objects_and_arrays() {
        assert_eq!(depth(&json!("x")), 0);
        assert_eq!(depth(&json!({})), 1);
        assert_eq!(depth(&json!({"a": [1, {"b": {}}], "c": 2})), 4);
    }

    #[test]
    fn a_deep_value_is_measured_without_recursion() {
        let mut value = json!(1);
        for _ in 0..50_000 {
            value = Value::Array(vec![value]);
        }
        assert_eq!(depth(&value), 50_000);
        // Dropping it would recurse 50,000 times; take it apart level by level instead.
        while let Value::Array(mut items) = value {
            value = items.pop().unwrap_or(Value::Null);
        }
    }
}
