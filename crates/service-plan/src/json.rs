//! JSON pointer lookups without the copies.

use std::borrow::Cow;

use serde_json::Value;

/// Looks up an RFC 6901 JSON pointer as [`Value::pointer`] does, but borrows each token:
/// serde_json's copies every token twice to unescape it, and the server looks up
/// `/metadata/name` and the like on every object it writes and every event it handles.
pub trait Pointer {
    /// The value at `pointer` (`""` is the whole value), if there is one.
    fn at(&self, pointer: &str) -> Option<&Value>;
}

impl Pointer for Value {
    fn at(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        pointer
            .strip_prefix('/')?
            .split('/')
            .try_fold(self, |target, token| {
                let token = if token.contains('~') {
                    Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
                } else {
                    Cow::Borrowed(token)
                };
                match target {
                    Value::Object(map) => map.get(token.as_ref()),
                    Value::Array(list) => index(&token).and_then(|i| list.get(i)),
                    _ => None,
                }
            })
    }
}

/// An array index token: decimal digits, no sign, no leading zero (as serde_json reads it).
fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn finds_what_serde_json_finds() {
        let value = json!({
            "metadata": {"name": "web", "labels": {"a/b": "1", "c~d": "2"}},
            "spec": {"ports": [{"port": 80}, {"port": 443}]},
            "": {"": 1},
        });
        for pointer in [
            "",
            "/metadata/name",
            "/metadata/labels/a~1b",
            "/metadata/labels/c~0d",
            "/spec/ports/1/port",
            "/spec/ports/01",
            "/spec/ports/+1",
            "/spec/ports/2",
            "/spec/missing",
            "/metadata/name/deeper",
            "/",
            "//",
            "metadata",
        ] {
            assert_eq!(value.at(pointer), value.pointer(pointer), "{pointer:?}");
        }
        assert_eq!(value.at("/spec/ports/1/port"), Some(&json!(443)));
    }
}
