#!/usr/bin/env python3
# usage: python3 scripts/openapi-extensions.py swagger.json > src/api/openapi/extensions.tsv
#        python3 scripts/openapi-extensions.py swagger.json --compare served-openapi-v2.json
"""Extracts the x-kubernetes-* extensions kube-apiserver publishes on the definitions our
kinds reach (and on their properties) from upstream's api/openapi-spec/swagger.json, e.g. the
release-1.32 copy kubernetes-client/python ships as kubernetes/swagger.json.unprocessed (tag
v32.0.1). One line per marked definition or property: definition, property ("" for the
definition itself), the extensions as one JSON object. x-kubernetes-group-version-kind is
left out: the generator writes it for the kinds it serves. Each object definition's row also
carries upstream's `required` list (empty when upstream has none): the k8s-openapi schemas
mark fields required that upstream does not (every kind's metadata, LocalObjectReference.name),
and kubectl explain prints what `required` says."""
import json, sys

# The kinds src/api/openapi/mod.rs `schema_of` generates.
ROOTS = [f"io.k8s.api.core.v1.{k}" for k in
         "Service Endpoints Pod Node Namespace Event ServiceAccount".split()] + [
    "io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.ReplicaSet",
    "io.k8s.api.discovery.v1.EndpointSlice", "io.k8s.api.coordination.v1.Lease",
    "io.k8s.api.events.v1.Event",
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler"] + [
    f"io.k8s.api.rbac.v1.{k}" for k in "Role ClusterRole RoleBinding ClusterRoleBinding".split()] + [
    f"io.k8s.api.flowcontrol.v1.{k}" for k in "FlowSchema PriorityLevelConfiguration".split()]
SKIP = {"x-kubernetes-group-version-kind"}

definitions = json.load(open(sys.argv[1]))["definitions"]

def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value.rsplit("/", 1)[-1]
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)

def extensions(schema):
    return {k: v for k, v in sorted(schema.items()) if k.startswith("x-kubernetes-") and k not in SKIP}

reached, stack = set(), list(ROOTS)
while stack:
    name = stack.pop()
    if name not in reached:
        reached.add(name)
        stack.extend(refs(definitions[name]))

if sys.argv[2:3] == ["--compare"]:
    # Every definition /openapi/v2 serves (curl -H 'Accept: application/json') against
    # upstream's, key by key and property by property; exits 1 on any difference.
    ours = json.load(open(sys.argv[3]))["definitions"]
    differences = 0
    for name, schema in sorted(ours.items()):
        theirs = definitions.get(name)
        if theirs is None:
            print(f"{name}: not an upstream definition"); differences += 1; continue
        for key in sorted(set(schema) | set(theirs)):
            if key == "properties":
                for prop in sorted(set(schema[key]) | set(theirs.get(key, {}))):
                    if schema[key].get(prop) != theirs.get(key, {}).get(prop):
                        print(f"{name}.{prop} differs"); differences += 1
            elif schema.get(key) != theirs.get(key):
                print(f"{name} {key}: {schema.get(key)!r} != {theirs.get(key)!r}"); differences += 1
    print(f"{len(ours)} definitions, {differences} differences")
    sys.exit(1 if differences else 0)

for name in sorted(reached):
    schema = definitions[name]
    own = extensions(schema)
    if "properties" in schema:
        own["required"] = schema.get("required", [])
    rows = [("", own)]
    rows += [(prop, extensions(s)) for prop, s in sorted(schema.get("properties", {}).items())]
    for prop, ext in rows:
        if ext:
            print(f"{name}\t{prop}\t{json.dumps(ext, separators=(',', ':'))}")
