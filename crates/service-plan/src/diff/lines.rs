//! Compact line diffs of two renderings of an object (its YAML before and after an update):
//! only the lines that change, each group of changes with a few unchanged lines around it,
//! and the unchanged stretches between groups folded into one "N unchanged lines" marker —
//! what `diff -U3` shows, for a person reviewing a change before saving it.

use std::time::Duration;

use serde_json::{Map, Value};
use similar::{ChangeTag, TextDiff};

/// Unchanged lines shown before and after each change, as `diff -u` does.
pub const CONTEXT_LINES: usize = 3;

/// How long the diff may search for the smallest difference before it settles for a larger
/// one: a review of a huge object never costs more than this.
const DEADLINE: Duration = Duration::from_millis(500);

/// One line of a compact diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// An unchanged line shown as context.
    Same(String),
    /// A line only the old text has.
    Removed(String),
    /// A line only the new text has.
    Added(String),
    /// This many unchanged lines left out.
    Folded(usize),
}

/// The lines that change from `before` to `after`, each group with `context` unchanged lines
/// on either side; unchanged lines outside every group are folded into [`Line::Folded`]
/// markers. Empty when the texts are equal.
pub fn compact(before: &str, after: &str, context: usize) -> Vec<Line> {
    let diff = TextDiff::configure()
        .timeout(DEADLINE)
        .diff_lines(before, after);
    let mut out = Vec::new();
    // Where in the old text the last group ended: what lies between is folded.
    let mut shown_to = 0;
    for group in diff.grouped_ops(context) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let start = first.old_range().start;
        fold(&mut out, diff.old_slices(), shown_to, start);
        shown_to = last.old_range().end;
        for op in &group {
            for change in diff.iter_changes(op) {
                let text = change.value().trim_end_matches(['\n', '\r']).to_string();
                out.push(match change.tag() {
                    ChangeTag::Equal => Line::Same(text),
                    ChangeTag::Delete => Line::Removed(text),
                    ChangeTag::Insert => Line::Added(text),
                });
            }
        }
    }
    if !out.is_empty() {
        fold(
            &mut out,
            diff.old_slices(),
            shown_to,
            diff.old_slices().len(),
        );
    }
    out
}

/// The unchanged old lines `from..to` as one [`Line::Folded`]; a single line is shown
/// instead, as a marker would take its place without saving any.
fn fold(out: &mut Vec<Line>, old: &[&str], from: usize, to: usize) {
    match (to.saturating_sub(from), old.get(from)) {
        (0, _) => {}
        (1, Some(line)) => out.push(Line::Same(line.trim_end_matches(['\n', '\r']).to_string())),
        (n, _) => out.push(Line::Folded(n)),
    }
}

/// `value` with the fields of each object in the order `reference` has them (fields only
/// `value` has follow, in their own order), so a line diff of their renderings shows what
/// changed and not where a writer happened to put a field. Depth is bounded by the values'.
pub fn in_order_of(reference: &Value, value: &Value) -> Value {
    match (reference, value) {
        (Value::Object(old), Value::Object(new)) => {
            let mut out = Map::with_capacity(new.len());
            for (key, old_field) in old {
                if let Some(new_field) = new.get(key) {
                    out.insert(key.clone(), in_order_of(old_field, new_field));
                }
            }
            for (key, new_field) in new {
                if !old.contains_key(key) {
                    out.insert(key.clone(), new_field.clone());
                }
            }
            Value::Object(out)
        }
        (Value::Array(old), Value::Array(new)) => Value::Array(
            new.iter()
                .enumerate()
                .map(|(i, item)| match old.get(i) {
                    Some(reference) => in_order_of(reference, item),
                    None => item.clone(),
                })
                .collect(),
        ),
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_follow_the_reference_order_and_new_ones_come_last() {
        let old = json!({"metadata": {"name": "a", "uid": "u"}, "spec": {"ports": [{"port": 80, "name": "x"}]}});
        let new = json!({"spec": {"ports": [{"name": "x", "port": 81}], "type": "NodePort"}, "metadata": {"uid": "u", "name": "a"}});
        let ordered = in_order_of(&old, &new);
        assert_eq!(
            ordered.to_string(),
            r#"{"metadata":{"name":"a","uid":"u"},"spec":{"ports":[{"port":81,"name":"x"}],"type":"NodePort"}}"#
        );
    }

    fn numbered(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("line {i}")).collect()
    }

    #[test]
    fn equal_texts_have_no_lines() {
        assert!(compact("a\nb\n", "a\nb\n", CONTEXT_LINES).is_empty());
    }

    #[test]
    fn one_change_shows_three_lines_around_it_and_folds_the_rest() {
        let old = numbered(20);
        let mut new = old.clone();
        new[9] = "line ten".into();
        let diff = compact(
            &(old.join("\n") + "\n"),
            &(new.join("\n") + "\n"),
            CONTEXT_LINES,
        );
        let same = |i: usize| Line::Same(format!("line {i}"));
        assert_eq!(
            diff,
            vec![
                Line::Folded(6),
                same(7),
                same(8),
                same(9),
                Line::Removed("line 10".into()),
                Line::Added("line ten".into()),
                same(11),
                same(12),
                same(13),
                Line::Folded(7),
            ]
        );
    }

    #[test]
    fn changes_far_apart_are_two_groups_with_the_middle_folded() {
        let old = numbered(30);
        let mut new = old.clone();
        new[1] = "second".into();
        new[27] = "twenty-eighth".into();
        let diff = compact(&old.join("\n"), &new.join("\n"), CONTEXT_LINES);
        let folded: Vec<usize> = diff
            .iter()
            .filter_map(|l| match l {
                Line::Folded(n) => Some(*n),
                _ => None,
            })
            .collect();
        // Lines 6..=24 lie between the groups (line 2 ± 3, line 28 ± 3); nothing before
        // line 1 or after line 30 is left to fold.
        assert_eq!(folded, vec![19]);
        assert_eq!(diff.first(), Some(&Line::Same("line 1".into())));
        assert_eq!(diff.last(), Some(&Line::Same("line 30".into())));
    }

    #[test]
    fn changes_close_together_share_one_group() {
        let old = numbered(12);
        let mut new = old.clone();
        new[3] = "four".into();
        new[7] = "eight".into();
        let diff = compact(&old.join("\n"), &new.join("\n"), CONTEXT_LINES);
        assert_eq!(
            diff.iter().filter(|l| matches!(l, Line::Folded(_))).count(),
            0,
            "{diff:?}"
        );
    }
}
