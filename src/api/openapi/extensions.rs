//! The `x-kubernetes-*` extensions kube-apiserver v1.32 publishes on the definitions our kinds
//! reach: list types and map keys, map types, patch strategies and merge keys, unions. They
//! come from `extensions.tsv`, extracted from upstream's `api/openapi-spec/swagger.json` by
//! `scripts/openapi-extensions.py`, so the documents say exactly what upstream's say rather than
//! what we remember of it. kubectl's client-side apply and edit build their strategic merge
//! patches from the patch extensions once `/openapi/v2` is served, and server-side apply tools
//! read the list types, so a wrong entry here is a wrong merge there. Each object definition's
//! row also carries upstream's `required` list, which replaces k8s-openapi's (it makes every
//! kind's `metadata` required, upstream does not).

use std::sync::LazyLock;

use serde_json::{Map, Value};

/// The extracted table: definition, property (empty: the definition itself), extensions.
const TABLE: &str = include_str!("extensions.tsv");

/// One marked definition or property.
pub struct Marker {
    pub definition: &'static str,
    /// `None`: the extensions belong to the definition itself.
    pub property: Option<&'static str>,
    pub extensions: Map<String, Value>,
}

/// The table, parsed once. A malformed line is a build-time mistake in a file we ship, so it is
/// reported loudly by the unit tests (`every_line_parses`) and skipped here.
pub static MARKERS: LazyLock<Vec<Marker>> = LazyLock::new(|| {
    TABLE
        .lines()
        .filter_map(|line| {
            let mut cells = line.splitn(3, '\t');
            let definition = cells.next()?;
            let property = cells.next()?;
            let Ok(Value::Object(extensions)) = serde_json::from_str(cells.next()?) else {
                return None;
            };
            Some(Marker {
                definition,
                property: (!property.is_empty()).then_some(property),
                extensions,
            })
        })
        .collect()
});

/// Writes every marker whose definition is among `schemas` onto it (or onto its property).
/// A property schema that wraps a `$ref` (v3's `allOf`, v2's sibling keys) carries the
/// extensions beside the reference, as upstream's documents do.
pub fn mark(schemas: &mut Map<String, Value>) {
    for marker in MARKERS.iter() {
        let Some(definition) = schemas.get_mut(marker.definition) else {
            continue;
        };
        let target = match marker.property {
            None => Some(definition),
            Some(property) => definition.pointer_mut(&format!("/properties/{property}")),
        };
        if let Some(Value::Object(target)) = target {
            for (name, value) in &marker.extensions {
                if name == "required" && value.as_array().is_some_and(Vec::is_empty) {
                    target.remove(name);
                } else {
                    target.insert(name.clone(), value.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_line_parses() {
        assert_eq!(MARKERS.len(), TABLE.lines().count());
        assert!(MARKERS.iter().all(|m| {
            m.extensions.keys().all(|k| {
                k.starts_with("x-kubernetes-") || (k == "required" && m.property.is_none())
            })
        }));
    }

    fn marker(definition: &str, property: Option<&str>) -> &'static Map<String, Value> {
        &MARKERS
            .iter()
            .find(|m| m.definition == definition && m.property == property)
            .unwrap_or_else(|| panic!("{definition} {property:?} is not in the table"))
            .extensions
    }

    /// A few entries checked by hand against upstream's v1.32 swagger.json.
    #[test]
    fn upstream_entries() {
        assert_eq!(
            Value::Object(marker("io.k8s.api.core.v1.ServiceSpec", Some("ports")).clone()),
            json!({
                "x-kubernetes-list-map-keys": ["port", "protocol"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "port",
                "x-kubernetes-patch-strategy": "merge",
            })
        );
        for atomic in ["ipFamilies", "clusterIPs", "externalIPs"] {
            assert_eq!(
                Value::Object(marker("io.k8s.api.core.v1.ServiceSpec", Some(atomic)).clone()),
                json!({"x-kubernetes-list-type": "atomic"}),
                "{atomic}"
            );
        }
        assert_eq!(
            Value::Object(marker("io.k8s.api.core.v1.PodSpec", Some("containers")).clone()),
            json!({
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge",
            })
        );
        assert_eq!(
            Value::Object(marker("io.k8s.api.core.v1.Container", Some("ports")).clone()),
            json!({
                "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "containerPort",
                "x-kubernetes-patch-strategy": "merge",
            })
        );
        assert_eq!(
            marker("io.k8s.api.core.v1.ServiceSpec", Some("selector"))["x-kubernetes-map-type"],
            "atomic"
        );
        assert_eq!(
            marker("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", None)["x-kubernetes-map-type"],
            "atomic"
        );
        assert_eq!(
            marker("io.k8s.api.apps.v1.DeploymentSpec", Some("strategy"))["x-kubernetes-patch-strategy"],
            "retainKeys"
        );
        assert_eq!(
            marker(
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                Some("finalizers")
            )["x-kubernetes-patch-strategy"],
            "merge"
        );

        // flowcontrol.apiserver.k8s.io/v1: rules are replaced whole, a priority level's spec
        // is a union on `type`, status conditions merge by `type`.
        let flowcontrol = "io.k8s.api.flowcontrol.v1";
        assert_eq!(
            Value::Object(marker(&format!("{flowcontrol}.FlowSchemaSpec"), Some("rules")).clone()),
            json!({"x-kubernetes-list-type": "atomic"})
        );
        assert_eq!(
            marker(&format!("{flowcontrol}.FlowSchemaSpec"), None)["required"],
            json!(["priorityLevelConfiguration"])
        );
        assert_eq!(
            Value::Object(
                marker(
                    &format!("{flowcontrol}.PriorityLevelConfigurationSpec"),
                    None
                )
                .clone()
            ),
            json!({
                "required": ["type"],
                "x-kubernetes-unions": [{
                    "discriminator": "type",
                    "fields-to-discriminateBy": {"exempt": "Exempt", "limited": "Limited"},
                }],
            })
        );
        assert_eq!(
            Value::Object(
                marker(
                    &format!("{flowcontrol}.PriorityLevelConfigurationStatus"),
                    Some("conditions")
                )
                .clone()
            ),
            json!({
                "x-kubernetes-list-map-keys": ["type"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "type",
                "x-kubernetes-patch-strategy": "merge",
            })
        );
        assert_eq!(
            marker(&format!("{flowcontrol}.ResourcePolicyRule"), Some("verbs"))["x-kubernetes-list-type"],
            "set"
        );
        // events.k8s.io/v1: only eventTime is required (k8s-openapi also requires metadata).
        assert_eq!(
            Value::Object(marker("io.k8s.api.events.v1.Event", None).clone()),
            json!({"required": ["eventTime"]})
        );
        assert_eq!(
            marker("io.k8s.api.events.v1.EventSeries", None)["required"],
            json!(["count", "lastObservedTime"])
        );
    }

    #[test]
    fn marks_properties_beside_their_reference_and_definitions() {
        let mut schemas = json!({
            "io.k8s.api.core.v1.ServiceSpec": {"properties": {
                "ports": {"type": "array"},
                "sessionAffinityConfig": {"allOf": [{"$ref": "#/x"}]},
            }},
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector": {"type": "object"},
            "io.k8s.api.core.v1.Service": {"required": ["metadata"], "properties": {}},
            "io.k8s.api.core.v1.PodCondition": {"required": ["status", "type"], "properties": {}},
        });
        mark(schemas.as_object_mut().unwrap());
        let ports = &schemas["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"];
        assert_eq!(ports["x-kubernetes-list-type"], "map");
        assert_eq!(
            ports["x-kubernetes-list-map-keys"],
            json!(["port", "protocol"])
        );
        assert_eq!(ports["type"], "array");
        assert_eq!(
            schemas["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"],
            json!({"type": "object", "x-kubernetes-map-type": "atomic"})
        );
        assert_eq!(
            schemas["io.k8s.api.core.v1.Service"],
            json!({"properties": {}})
        );
        assert_eq!(
            schemas["io.k8s.api.core.v1.PodCondition"]["required"],
            json!(["type", "status"])
        );
    }
}
