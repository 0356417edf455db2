//! The Kubernetes API through its front door: requests as kubectl v1.32 sends them
//! (kubernetes-api.md), answered in-process by `service_console::app` over a real SQLite
//! registry. Every test checks the status code and the exact body or message.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use service_console::front::Front;
use tower::ServiceExt;

use crate::support::TestCluster;

const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const DISCOVERY_ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
const SERVICES: &str = "/api/v1/namespaces/default/services";

/// The test server: a cluster and the application router over it.
struct Api {
    cluster: TestCluster,
    app: Front,
}

/// A response, read whole.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("test fixture"))
            .unwrap_or("")
    }

    /// The lines of a watch stream, as JSON.
    fn events(&self) -> Vec<Value> {
        String::from_utf8_lossy(&self.body)
            .lines()
            .map(|l| serde_json::from_str(l).expect("test fixture"))
            .collect()
    }
}

impl Api {
    async fn new() -> Api {
        let cluster = TestCluster::new().await;
        let app = service_console::app(cluster.state.clone());
        Api { cluster, app }
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("test fixture");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("test fixture")
            .to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn request(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(body.into()).expect("test fixture"))
            .await
    }

    async fn get(&self, uri: &str) -> Reply {
        self.request("GET", uri, &[("accept", "application/json")], Body::empty())
            .await
    }

    async fn get_table(&self, uri: &str) -> Reply {
        self.request("GET", uri, &[("accept", TABLE_ACCEPT)], Body::empty())
            .await
    }

    async fn post(&self, uri: &str, body: &Value) -> Reply {
        self.request(
            "POST",
            uri,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    async fn put(&self, uri: &str, body: &Value) -> Reply {
        self.request(
            "PUT",
            uri,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    async fn patch(&self, uri: &str, content_type: &str, body: &str) -> Reply {
        self.request(
            "PATCH",
            uri,
            &[("content-type", content_type)],
            body.to_owned(),
        )
        .await
    }

    async fn delete(&self, uri: &str) -> Reply {
        self.request(
            "DELETE",
            uri,
            &[("content-type", "application/json")],
            r#"{"propagationPolicy":"Background"}"#,
        )
        .await
    }

    /// Creates a Service and returns it as stored.
    async fn create(&self, service: &Value) -> Value {
        let reply = self.post(SERVICES, service).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    }

    /// The store's current revision, as a list reports it.
    async fn revision(&self) -> String {
        self.get(SERVICES).await.json()["metadata"]["resourceVersion"]
            .as_str()
            .expect("test fixture")
            .to_owned()
    }
}

/// The manifest of the ACK help page, as `kubectl apply` would first create it.
fn nginx() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "my-nginx-svc", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {"type": "LoadBalancer", "selector": {"app": "nginx"}, "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}]}
    })
}

fn cluster_ip(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}
    })
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("test fixture")
        .iter()
        .map(|i| {
            i["metadata"]["name"]
                .as_str()
                .expect("test fixture")
                .to_owned()
        })
        .collect()
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code})
}

// ---- version, discovery, OpenAPI -------------------------------------------------------------

#[tokio::test]
async fn version_reports_minor_32() {
    let api = Api::new().await;
    let reply = api.get("/version?timeout=5s").await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(
        (body["major"].as_str(), body["minor"].as_str()),
        (Some("1"), Some("32"))
    );
    assert!(body["gitVersion"].as_str().unwrap().starts_with("v1.32."));
}

#[tokio::test]
async fn aggregated_discovery_of_the_core_group() {
    let api = Api::new().await;
    let reply = api
        .request(
            "GET",
            "/api?timeout=32s",
            &[("accept", DISCOVERY_ACCEPT)],
            Body::empty(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let body = reply.json();
    assert_eq!(body["kind"], "APIGroupDiscoveryList");
    assert_eq!(body["apiVersion"], "apidiscovery.k8s.io/v2");
    assert_eq!(
        body["items"][0]["metadata"],
        json!({"creationTimestamp": null})
    );
    assert_eq!(body["items"][0]["versions"][0]["version"], "v1");
    assert_eq!(body["items"][0]["versions"][0]["freshness"], "Current");
    let core_resources = body["items"][0]["versions"][0]["resources"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = core_resources
        .iter()
        .map(|r| r["resource"].as_str().unwrap_or_default())
        .collect();
    assert!(
        names.is_sorted(),
        "kube-apiserver lists resources by name: {names:?}"
    );
    assert_eq!(
        core_resources
            .iter()
            .find(|r| r["resource"] == "services")
            .cloned()
            .unwrap_or_default(),
        json!({"resource": "services", "responseKind": {"group": "", "version": "v1", "kind": "Service"},
               "scope": "Namespaced", "singularResource": "service",
               "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
               "shortNames": ["svc"], "categories": ["all"],
               "subresources": [{"subresource": "status", "responseKind": {"group": "", "version": "v1", "kind": "Service"},
                                 "verbs": ["get", "patch", "update"]}]})
    );
    let namespaces = body["items"][0]["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "namespaces")
        .cloned()
        .unwrap();
    assert_eq!(namespaces["scope"], "Cluster");
    assert_eq!(
        namespaces["verbs"],
        json!([
            "create", "delete", "get", "list", "patch", "update", "watch"
        ])
    );
}

#[tokio::test]
async fn aggregated_discovery_of_named_groups() {
    let api = Api::new().await;
    let body = api
        .request(
            "GET",
            "/apis",
            &[("accept", DISCOVERY_ACCEPT)],
            Body::empty(),
        )
        .await
        .json();
    let groups: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups,
        [
            "apps",
            "events.k8s.io",
            "autoscaling",
            "rbac.authorization.k8s.io",
            "coordination.k8s.io",
            "discovery.k8s.io",
            "flowcontrol.apiserver.k8s.io"
        ]
    );
    let deployments = &body["items"][0]["versions"][0]["resources"][0];
    assert_eq!(deployments["shortNames"], json!(["deploy"]));
    assert_eq!(
        deployments["subresources"][1],
        json!({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]})
    );
    // events.k8s.io/v1 Events, served over the core Events' storage.
    assert_eq!(
        body["items"][1]["versions"],
        json!([{"version": "v1", "freshness": "Current", "resources": [
            {"resource": "events", "responseKind": {"group": "events.k8s.io", "version": "v1", "kind": "Event"},
             "scope": "Namespaced", "singularResource": "event", "shortNames": ["ev"],
             "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]}]}])
    );
    // autoscaling: v2 first (preferred), then v1, each with the status subresource.
    let autoscaling = &body["items"][2]["versions"];
    let versions: Vec<&str> = autoscaling
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(versions, ["v2", "v1"]);
    assert_eq!(
        autoscaling[1]["resources"][0],
        json!({"resource": "horizontalpodautoscalers",
               "responseKind": {"group": "autoscaling", "version": "v1", "kind": "HorizontalPodAutoscaler"},
               "scope": "Namespaced", "singularResource": "horizontalpodautoscaler", "shortNames": ["hpa"], "categories": ["all"],
               "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
               "subresources": [{"subresource": "status",
                                 "responseKind": {"group": "autoscaling", "version": "v1", "kind": "HorizontalPodAutoscaler"},
                                 "verbs": ["get", "patch", "update"]}]})
    );
}

#[tokio::test]
async fn legacy_discovery_documents() {
    let api = Api::new().await;
    let versions = api
        .request(
            "GET",
            "/api",
            &[
                ("accept", "application/json, */*"),
                ("host", "127.0.0.1:8080"),
            ],
            Body::empty(),
        )
        .await;
    assert_eq!(versions.header("content-type"), "application/json");
    assert_eq!(
        versions.json(),
        json!({"kind": "APIVersions", "versions": ["v1"],
               "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:8080"}]})
    );
    assert_eq!(
        api.get("/apis").await.json(),
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}},
            {"name": "events.k8s.io", "versions": [{"groupVersion": "events.k8s.io/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": "events.k8s.io/v1", "version": "v1"}},
            {"name": "autoscaling", "versions": [{"groupVersion": "autoscaling/v2", "version": "v2"},
                                                 {"groupVersion": "autoscaling/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": "autoscaling/v2", "version": "v2"}},
            {"name": "rbac.authorization.k8s.io", "versions": [{"groupVersion": "rbac.authorization.k8s.io/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": "rbac.authorization.k8s.io/v1", "version": "v1"}},
            {"name": "coordination.k8s.io", "versions": [{"groupVersion": "coordination.k8s.io/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": "coordination.k8s.io/v1", "version": "v1"}},
            {"name": "discovery.k8s.io", "versions": [{"groupVersion": "discovery.k8s.io/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": "discovery.k8s.io/v1", "version": "v1"}},
            {"name": "flowcontrol.apiserver.k8s.io", "versions": [{"groupVersion": "flowcontrol.apiserver.k8s.io/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": "flowcontrol.apiserver.k8s.io/v1", "version": "v1"}}]})
    );
    let core = api.get("/api/v1").await.json();
    assert_eq!(
        (core["kind"].as_str(), core["groupVersion"].as_str()),
        (Some("APIResourceList"), Some("v1"))
    );
    let resources = core["resources"].as_array().unwrap();
    let names: Vec<&str> = resources
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default())
        .collect();
    assert!(
        names.is_sorted(),
        "kube-apiserver lists resources by name: {names:?}"
    );
    let services = names.iter().position(|n| *n == "services").unwrap();
    assert_eq!(
        resources[services],
        json!({"name": "services", "singularName": "service", "namespaced": true, "kind": "Service",
               "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
               "shortNames": ["svc"], "categories": ["all"], "storageVersionHash": "0/CO1lhkEBI="})
    );
    assert_eq!(
        resources[services + 1],
        json!({"name": "services/status", "singularName": "", "namespaced": true, "kind": "Service", "verbs": ["get", "patch", "update"]})
    );
    assert_eq!(
        api.get("/apis/apps/v1").await.json()["groupVersion"],
        "apps/v1"
    );
    assert_eq!(
        api.get("/apis/discovery.k8s.io/v1").await.json()["resources"][0]["name"],
        "endpointslices"
    );
    // As kube-apiserver v1.32 publishes it in /apis/coordination.k8s.io/v1.
    assert_eq!(
        api.get("/apis/coordination.k8s.io/v1").await.json(),
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "coordination.k8s.io/v1",
               "resources": [{"name": "leases", "singularName": "lease", "namespaced": true, "kind": "Lease",
                              "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                              "storageVersionHash": "gqkMMb/YqFM="}]})
    );
    // As kube-apiserver v1.32 publishes it: the storage version hash is the core Event's.
    assert_eq!(
        api.get("/apis/events.k8s.io/v1").await.json(),
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "events.k8s.io/v1",
               "resources": [{"name": "events", "singularName": "event", "namespaced": true, "kind": "Event",
                              "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                              "shortNames": ["ev"], "storageVersionHash": "r2yiGXH7wu8="}]})
    );
    // As kube-apiserver v1.32 publishes them: both versions name the stored autoscaling/v2
    // kind's hash.
    for version in ["v2", "v1"] {
        assert_eq!(
            api.get(&format!("/apis/autoscaling/{version}"))
                .await
                .json(),
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("autoscaling/{version}"),
                   "resources": [{"name": "horizontalpodautoscalers", "singularName": "horizontalpodautoscaler",
                                  "namespaced": true, "kind": "HorizontalPodAutoscaler",
                                  "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                                  "shortNames": ["hpa"], "categories": ["all"], "storageVersionHash": "qwQve8ut294="},
                                 {"name": "horizontalpodautoscalers/status", "singularName": "", "namespaced": true,
                                  "kind": "HorizontalPodAutoscaler", "verbs": ["get", "patch", "update"]}]})
        );
    }
    assert_eq!(
        api.get("/apis/autoscaling").await.json(),
        json!({"kind": "APIGroup", "apiVersion": "v1", "name": "autoscaling",
               "versions": [{"groupVersion": "autoscaling/v2", "version": "v2"}, {"groupVersion": "autoscaling/v1", "version": "v1"}],
               "preferredVersion": {"groupVersion": "autoscaling/v2", "version": "v2"}})
    );
    // Cluster-scoped, each with its status subresource.
    let flowcontrol = api
        .get("/apis/flowcontrol.apiserver.k8s.io/v1")
        .await
        .json();
    let served: Vec<(&str, bool, &str)> = flowcontrol["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let name = r["name"].as_str().unwrap_or_default();
            (
                name,
                r["namespaced"] == true,
                r["kind"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        served,
        [
            ("flowschemas", false, "FlowSchema"),
            ("flowschemas/status", false, "FlowSchema"),
            (
                "prioritylevelconfigurations",
                false,
                "PriorityLevelConfiguration"
            ),
            (
                "prioritylevelconfigurations/status",
                false,
                "PriorityLevelConfiguration"
            ),
        ]
    );
    assert_eq!(
        api.get("/apis/coordination.k8s.io").await.json()["preferredVersion"],
        json!({"groupVersion": "coordination.k8s.io/v1", "version": "v1"})
    );
}

/// The generated clients (the official Python client) ask with a trailing slash.
#[tokio::test]
async fn discovery_answers_with_a_trailing_slash() {
    let api = Api::new().await;
    for path in ["/version", "/api", "/apis", "/api/v1", "/apis/apps/v1"] {
        let plain = api.get(path).await;
        let slashed = api.get(&format!("{path}/")).await;
        assert_eq!(
            (slashed.status, slashed.json()),
            (StatusCode::OK, plain.json()),
            "{path}/"
        );
    }
}

#[tokio::test]
async fn openapi_v3_service_patch_accepts_field_validation() {
    let api = Api::new().await;
    let index = api.get("/openapi/v3?timeout=32s").await.json();
    let url = index["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("/openapi/v3/api/v1?hash="), "{url}");
    assert!(index["paths"]["apis/apps/v1"]["serverRelativeURL"].is_string());
    let reply = api.get(&format!("{url}&timeout=32s")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), "public, immutable");
    let patch = &reply.json()["paths"]["/api/v1/namespaces/{namespace}/services/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "", "version": "v1", "kind": "Service"})
    );
    let params: Vec<&str> = patch["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        params,
        ["dryRun", "fieldManager", "force", "fieldValidation"]
    );
}

/// kube-openapi's handler: JSON or gnostic protobuf by `Accept`, one ETag for both that
/// `If-None-Match` turns into a 304, 406 for anything else.
#[tokio::test]
async fn openapi_v2_serves_json_and_protobuf_with_an_etag() {
    use prost::Message;
    use service_console::api::protobuf::openapi_v2::Document;

    let api = Api::new().await;
    let json_reply = api
        .request(
            "GET",
            "/openapi/v2?timeout=32s",
            &[("accept", "application/json")],
            Body::empty(),
        )
        .await;
    assert_eq!(json_reply.status, StatusCode::OK);
    assert_eq!(json_reply.header("content-type"), "application/json");
    assert_eq!(json_reply.header("vary"), "Accept");
    let etag = json_reply.header("etag").to_owned();
    assert!(etag.len() == 130 && etag.starts_with('"'), "{etag}");
    let doc = json_reply.json();
    assert_eq!(doc["swagger"], "2.0");
    let ports = &doc["definitions"]["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"];
    assert_eq!(
        ports["x-kubernetes-list-map-keys"],
        json!(["port", "protocol"])
    );
    assert_eq!(ports["x-kubernetes-patch-merge-key"], "port");

    let pb_reply = api
        .request(
            "GET",
            "/openapi/v2?timeout=32s",
            &[(
                "accept",
                "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
            )],
            Body::empty(),
        )
        .await;
    assert_eq!(pb_reply.status, StatusCode::OK);
    assert_eq!(
        pb_reply.header("content-type"),
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    );
    assert_eq!(pb_reply.header("etag"), etag);
    let decoded = Document::decode(pb_reply.body.clone()).expect("gnostic Document");
    let names: Vec<String> = decoded
        .definitions
        .expect("definitions")
        .additional_properties
        .into_iter()
        .map(|d| d.name)
        .collect();
    let expected: Vec<String> = doc["definitions"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(names, expected);
    assert!(names.iter().any(|n| n == "io.k8s.api.apps.v1.Deployment"));

    let cached = api
        .request(
            "GET",
            "/openapi/v2",
            &[("accept", "application/json"), ("if-none-match", &etag)],
            Body::empty(),
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
    assert_eq!(cached.header("etag"), etag);
    let stale = api
        .request(
            "GET",
            "/openapi/v2",
            &[("accept", "application/json"), ("if-none-match", "\"0\"")],
            Body::empty(),
        )
        .await;
    assert_eq!(stale.status, StatusCode::OK);

    let refused = api
        .request(
            "GET",
            "/openapi/v2",
            &[("accept", "text/html")],
            Body::empty(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn unknown_path_is_a_not_found_status() {
    let api = Api::new().await;
    for path in [
        "/nothing",
        "/api/v1/namespaces/default/widgets",
        "/apis/apps/v1/services",
        "/api/v1/services/x",
    ] {
        let reply = api.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            reply.json()["message"],
            "the server could not find the requested resource",
            "{path}"
        );
    }
}

#[tokio::test]
async fn wrong_method_is_method_not_allowed() {
    let api = Api::new().await;
    let reply = api
        .post("/api/v1/namespaces/default/services/x", &nginx())
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.json()["reason"], "MethodNotAllowed");
    assert_eq!(
        api.request("DELETE", "/version", &[], Body::empty())
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

// ---- create, read, replace, delete -----------------------------------------------------------

#[tokio::test]
async fn create_answers_201_with_the_stored_service() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    assert_eq!(
        (created["apiVersion"].as_str(), created["kind"].as_str()),
        (Some("v1"), Some("Service"))
    );
    let meta = &created["metadata"];
    assert_eq!(meta["namespace"], "default");
    assert_eq!(meta["uid"].as_str().unwrap().len(), 36);
    assert!(
        meta["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 0
    );
    let spec = &created["spec"];
    assert_eq!(spec["clusterIPs"], json!([spec["clusterIP"].clone()]));
    assert!((30000..=32767).contains(&spec["ports"][0]["nodePort"].as_i64().unwrap()));
    assert_eq!(created["status"], json!({"loadBalancer": {}}));
    assert_eq!(
        api.get(&format!("{SERVICES}/my-nginx-svc")).await.json(),
        created
    );
}

#[tokio::test]
async fn get_of_a_missing_service_is_not_found() {
    let api = Api::new().await;
    let reply = api.get(&format!("{SERVICES}/nope")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let mut expected = status(404, "NotFound", "services \"nope\" not found");
    expected["details"] = json!({"name": "nope", "kind": "services"});
    assert_eq!(reply.json(), expected);
}

#[tokio::test]
async fn create_of_an_existing_name_is_already_exists() {
    let api = Api::new().await;
    api.create(&nginx()).await;
    let reply = api.post(SERVICES, &nginx()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let mut expected = status(
        409,
        "AlreadyExists",
        "services \"my-nginx-svc\" already exists",
    );
    expected["details"] = json!({"name": "my-nginx-svc", "kind": "services"});
    assert_eq!(reply.json(), expected);
}

#[tokio::test]
async fn list_is_a_service_list_with_typed_items() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    let list = api.get(SERVICES).await.json();
    assert_eq!(
        (list["kind"].as_str(), list["apiVersion"].as_str()),
        (Some("ServiceList"), Some("v1"))
    );
    assert_eq!(
        list["metadata"],
        json!({"resourceVersion": created["metadata"]["resourceVersion"]})
    );
    assert_eq!(names(&list), ["kubernetes", "my-nginx-svc"]);
    assert_eq!(list["items"][1], created);
    assert_eq!(list["items"][0]["kind"], "Service");
}

#[tokio::test]
async fn list_of_all_namespaces_and_of_an_unknown_namespace() {
    let api = Api::new().await;
    api.create(&nginx()).await;
    assert_eq!(
        names(&api.get("/api/v1/services").await.json()),
        ["kubernetes", "my-nginx-svc"]
    );
    let empty = api.get("/api/v1/namespaces/nons/services").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.json()["items"], json!([]));
}

#[tokio::test]
async fn replace_keeps_allocations_and_bumps_the_resource_version() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    let mut body = nginx();
    body["metadata"]["labels"]["tier"] = json!("web");
    let reply = api.put(&format!("{SERVICES}/my-nginx-svc"), &body).await;
    assert_eq!(reply.status, StatusCode::OK);
    let replaced = reply.json();
    assert_eq!(
        replaced["metadata"]["labels"],
        json!({"app": "nginx", "tier": "web"})
    );
    assert_eq!(replaced["spec"]["clusterIP"], created["spec"]["clusterIP"]);
    assert_eq!(
        replaced["spec"]["ports"][0]["nodePort"],
        created["spec"]["ports"][0]["nodePort"]
    );
    assert_ne!(
        replaced["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn replace_of_a_missing_service_creates_it() {
    // The Service strategy allows create-on-update: PUT answers 201 with the new object.
    let api = Api::new().await;
    let reply = api.put(&format!("{SERVICES}/my-nginx-svc"), &nginx()).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let created = reply.json();
    assert!(
        created["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("172.21."))
    );
    let mut deployment =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nope"}});
    deployment["spec"] = json!({"selector": {"matchLabels": {"app": "x"}}});
    let reply = api
        .put(
            "/apis/apps/v1/namespaces/default/deployments/nope",
            &deployment,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "other kinds do not create on update"
    );
}

#[tokio::test]
async fn replace_with_a_stale_resource_version_is_a_conflict() {
    let api = Api::new().await;
    api.create(&nginx()).await;
    let mut body = nginx();
    body["metadata"]["resourceVersion"] = json!("1");
    let reply = api.put(&format!("{SERVICES}/my-nginx-svc"), &body).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.json()["message"],
        "Operation cannot be fulfilled on services \"my-nginx-svc\": the object has been modified; please apply your changes to the latest version and try again"
    );
}

#[tokio::test]
async fn delete_answers_the_object_and_the_service_is_gone() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    let reply = api.delete(&format!("{SERVICES}/my-nginx-svc")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let deleted = reply.json();
    assert_eq!(deleted["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(deleted["kind"], "Service");
    assert_eq!(
        api.get(&format!("{SERVICES}/my-nginx-svc")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.delete(&format!("{SERVICES}/my-nginx-svc")).await.json()["message"],
        "services \"my-nginx-svc\" not found"
    );
}

#[tokio::test]
async fn delete_with_a_wrong_uid_precondition_is_a_conflict() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    let body = r#"{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"other"}}"#;
    let reply = api
        .request(
            "DELETE",
            &format!("{SERVICES}/my-nginx-svc"),
            &[("content-type", "application/json")],
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.json()["message"],
        format!(
            "Operation cannot be fulfilled on Service \"my-nginx-svc\": the UID in the precondition (other) does not match the UID in record ({}). The object might have been deleted and then recreated",
            created["metadata"]["uid"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn dry_run_create_stores_nothing() {
    let api = Api::new().await;
    let reply = api.post(&format!("{SERVICES}?dryRun=All"), &nginx()).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.json()["metadata"]["name"], "my-nginx-svc");
    assert_eq!(
        api.get(&format!("{SERVICES}/my-nginx-svc")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn deletecollection_deletes_the_selected_services() {
    let api = Api::new().await;
    api.create(&cluster_ip("a", json!({"tier": "web"}))).await;
    api.create(&cluster_ip("b", json!({"tier": "db"}))).await;
    let reply = api
        .request(
            "DELETE",
            &format!("{SERVICES}?labelSelector=tier%3Dweb"),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(names(&reply.json()), ["a"]);
    assert_eq!(names(&api.get(SERVICES).await.json()), ["b", "kubernetes"]);
}

// ---- kubectl's requests, verbatim --------------------------------------------------------------

#[tokio::test]
async fn kubectl_apply_create_request() {
    let api = Api::new().await;
    let missing = api.get(&format!("{SERVICES}/my-nginx-svc")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        String::from_utf8_lossy(&missing.body),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services \"my-nginx-svc\" not found","reason":"NotFound","details":{"name":"my-nginx-svc","kind":"services"},"code":404}"#
    );
    let body = r#"{"apiVersion":"v1","kind":"Service","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"annotations\":{},\"labels\":{\"app\":\"nginx\"},\"name\":\"my-nginx-svc\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":80}],\"selector\":{\"app\":\"nginx\"},\"type\":\"LoadBalancer\"}}\n"},"labels":{"app":"nginx"},"name":"my-nginx-svc","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP","targetPort":80}],"selector":{"app":"nginx"},"type":"LoadBalancer"}}"#;
    let reply = api
        .request(
            "POST",
            &format!("{SERVICES}?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"),
            &[
                ("content-type", "application/json"),
                ("accept", "application/json"),
            ],
            body,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let created = reply.json();
    let sent: Value = serde_json::from_str(body).unwrap();
    let annotation = "kubectl.kubernetes.io/last-applied-configuration";
    assert_eq!(
        created["metadata"]["annotations"][annotation],
        sent["metadata"]["annotations"][annotation]
    );
    assert_eq!(created["spec"]["type"], "LoadBalancer");
    assert_eq!(reply.header("warning"), "");
}

#[tokio::test]
async fn kubectl_apply_update_strategic_merge_patch() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    let patch = r#"{"metadata":{"labels":{"tier":"web"}},"spec":{"$setElementOrder/ports":[{"port":8080},{"port":443}],"ports":[{"name":"http","port":8080,"protocol":"TCP","targetPort":80},{"name":"https","port":443,"protocol":"TCP","targetPort":443},{"$patch":"delete","port":80}]}}"#;
    let uri = format!(
        "{SERVICES}/my-nginx-svc?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"
    );
    let reply = api
        .patch(&uri, "application/strategic-merge-patch+json", patch)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let patched = reply.json();
    assert_eq!(
        patched["metadata"]["labels"],
        json!({"app": "nginx", "tier": "web"})
    );
    let ports = patched["spec"]["ports"].as_array().unwrap();
    let summary: Vec<(&str, i64)> = ports
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["port"].as_i64().unwrap()))
        .collect();
    assert_eq!(summary, [("http", 8080), ("https", 443)]);
    assert!(ports.iter().all(|p| {
        p["nodePort"]
            .as_i64()
            .is_some_and(|n| (30000..=32767).contains(&n))
    }));
    assert_eq!(patched["spec"]["clusterIP"], created["spec"]["clusterIP"]);
}

#[tokio::test]
async fn merge_patch_adds_and_removes_a_label() {
    let api = Api::new().await;
    api.create(&nginx()).await;
    let uri = format!("{SERVICES}/my-nginx-svc?fieldManager=kubectl-label");
    let added = api
        .patch(
            &uri,
            "application/merge-patch+json",
            r#"{"metadata":{"labels":{"env":"prod"}}}"#,
        )
        .await;
    assert_eq!(added.status, StatusCode::OK);
    assert_eq!(
        added.json()["metadata"]["labels"],
        json!({"app": "nginx", "env": "prod"})
    );
    let removed = api
        .patch(
            &uri,
            "application/merge-patch+json",
            r#"{"metadata":{"labels":{"env":null}}}"#,
        )
        .await;
    assert_eq!(
        removed.json()["metadata"]["labels"],
        json!({"app": "nginx"})
    );
}

#[tokio::test]
async fn patch_that_changes_nothing_keeps_the_resource_version() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    let reply = api
        .patch(
            &format!("{SERVICES}/my-nginx-svc"),
            "application/strategic-merge-patch+json",
            r#"{"metadata":{"labels":{"app":"nginx"}}}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), created);
}

#[tokio::test]
async fn json_patch_replaces_a_target_port() {
    let api = Api::new().await;
    api.create(&nginx()).await;
    let reply = api
        .patch(
            &format!("{SERVICES}/my-nginx-svc"),
            "application/json-patch+json",
            r#"[{"op":"replace","path":"/spec/ports/0/targetPort","value":8080}]"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["spec"]["ports"][0]["targetPort"], 8080);
}

#[tokio::test]
async fn json_patch_with_a_failing_op_is_a_generic_422() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    let reply = api
        .patch(
            &format!("{SERVICES}/my-nginx-svc"),
            "application/json-patch+json",
            r#"[{"op":"remove","path":"/spec/nothere/x"}]"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "the server rejected our request due to an error in our request", "reason": "Invalid",
               "details": {"causes": [{"reason": "UnexpectedServerResponse",
                   "message": "remove operation does not apply: doc is missing path: \"/spec/nothere/x\": missing value"}]},
               "code": 422})
    );
    assert_eq!(
        api.get(&format!("{SERVICES}/my-nginx-svc")).await.json(),
        created
    );
}

#[tokio::test]
async fn json_patch_that_is_not_an_array_is_a_bad_request() {
    let api = Api::new().await;
    api.create(&nginx()).await;
    let reply = api
        .patch(
            &format!("{SERVICES}/my-nginx-svc"),
            "application/json-patch+json",
            r#"{"op":"remove"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        status(
            400,
            "BadRequest",
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        )
    );
}

#[tokio::test]
async fn patch_of_an_unknown_type_is_unsupported_media_type() {
    let api = Api::new().await;
    api.create(&nginx()).await;
    let reply = api
        .patch(&format!("{SERVICES}/my-nginx-svc"), "text/plain", "{}")
        .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        reply.json(),
        status(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"
        )
    );
}

#[tokio::test]
async fn status_subresource_patch_changes_only_status() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    let patch = r#"{"status":{"loadBalancer":{"ingress":[{"ip":"192.168.49.11","ipMode":"VIP"}]}},"spec":{"type":"ClusterIP"}}"#;
    let reply = api
        .patch(
            &format!("{SERVICES}/my-nginx-svc/status"),
            "application/merge-patch+json",
            patch,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let patched = reply.json();
    assert_eq!(
        patched["status"]["loadBalancer"]["ingress"][0]["ip"],
        "192.168.49.11"
    );
    assert_eq!(patched["spec"], created["spec"]);
}

// ---- bodies and field validation ---------------------------------------------------------------

#[tokio::test]
async fn strict_unknown_field_is_a_bad_request() {
    let api = Api::new().await;
    let mut body = nginx();
    body["spec"]["foo"] = json!("bar");
    let reply = api
        .post(&format!("{SERVICES}?fieldValidation=Strict"), &body)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        status(
            400,
            "BadRequest",
            "Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown field \"spec.foo\""
        )
    );
}

#[tokio::test]
async fn warn_unknown_field_is_a_warning_header() {
    let api = Api::new().await;
    let mut body = nginx();
    body["spec"]["foo"] = json!("bar");
    let reply = api
        .post(&format!("{SERVICES}?fieldValidation=Warn"), &body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        reply.header("warning"),
        r#"299 - "unknown field \"spec.foo\"""#
    );
    assert!(reply.json()["spec"].get("foo").is_none());
}

#[tokio::test]
async fn invalid_field_validation_value_is_a_bad_request() {
    let api = Api::new().await;
    let reply = api
        .post(&format!("{SERVICES}?fieldValidation=Loud"), &nginx())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json()["message"],
        "fieldValidation parameter unsupported: Loud. Valid values are: Ignore, Warn, Strict"
    );
}

#[tokio::test]
async fn malformed_json_body_is_a_bad_request() {
    let api = Api::new().await;
    let reply = api
        .request(
            "POST",
            SERVICES,
            &[("content-type", "application/json")],
            "{\"kind\": ]}",
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json()["message"],
        "the object provided is unrecognized (must be of type Service): couldn't get version/kind; json parse error: invalid character ']' looking for beginning of value ({\"kind\": ]})"
    );
}

#[tokio::test]
async fn yaml_body_creates_a_service() {
    let api = Api::new().await;
    let yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: from-yaml\nspec:\n  ports:\n  - port: 80\n";
    let reply = api
        .request(
            "POST",
            SERVICES,
            &[("content-type", "application/yaml")],
            yaml,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["spec"]["ports"][0]["targetPort"], 80);
}

#[tokio::test]
async fn body_over_3_mib_is_request_entity_too_large() {
    let api = Api::new().await;
    let big = vec![b' '; 3 * 1024 * 1024 + 1];
    let reply = api
        .request(
            "POST",
            SERVICES,
            &[("content-type", "application/json")],
            big,
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply.json(),
        status(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728"
        )
    );
}

#[tokio::test]
async fn text_plain_body_is_unsupported_media_type() {
    let api = Api::new().await;
    let reply = api
        .request(
            "POST",
            SERVICES,
            &[("content-type", "text/plain")],
            nginx().to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        reply.json(),
        status(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf"
        )
    );
}

#[tokio::test]
async fn protobuf_body_of_a_replica_set_is_unsupported_media_type() {
    let api = Api::new().await;
    let reply = api
        .request(
            "POST",
            "/apis/apps/v1/namespaces/default/replicasets",
            &[("content-type", "application/vnd.kubernetes.protobuf")],
            "k8s\0",
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Deployments are decoded (what `kubectl create deployment` sends): an empty one is not one.
    let reply = api
        .request(
            "POST",
            "/apis/apps/v1/namespaces/default/deployments",
            &[("content-type", "application/vnd.kubernetes.protobuf")],
            "k8s\0",
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

// ---- tables ------------------------------------------------------------------------------------

#[tokio::test]
async fn table_of_a_load_balancer_service() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    let reply = api.get_table(&format!("{SERVICES}/my-nginx-svc")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        "application/json;as=Table;v=v1;g=meta.k8s.io"
    );
    let table = reply.json();
    assert_eq!(
        (table["kind"].as_str(), table["apiVersion"].as_str()),
        (Some("Table"), Some("meta.k8s.io/v1"))
    );
    assert_eq!(
        table["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    let columns: Vec<(&str, i64)> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["priority"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        columns,
        [
            ("Name", 0),
            ("Type", 0),
            ("Cluster-IP", 0),
            ("External-IP", 0),
            ("Port(s)", 0),
            ("Age", 0),
            ("Selector", 1)
        ]
    );
    assert_eq!(table["columnDefinitions"][0]["format"], "name");
    let node_port = created["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
    let cells = &table["rows"][0]["cells"];
    assert_eq!(
        cells,
        &json!([
            "my-nginx-svc",
            "LoadBalancer",
            created["spec"]["clusterIP"],
            "<pending>",
            format!("80:{node_port}/TCP"),
            cells[5],
            "app=nginx"
        ])
    );
    assert!(cells[5].as_str().unwrap().ends_with('s'));
    let object = &table["rows"][0]["object"];
    assert_eq!(object["kind"], "PartialObjectMetadata");
    assert_eq!(object["metadata"]["namespace"], "default");
    assert_eq!(object["metadata"]["labels"], json!({"app": "nginx"}));
}

#[tokio::test]
async fn table_list_carries_the_list_resource_version() {
    let api = Api::new().await;
    let created = api.create(&nginx()).await;
    let table = api.get_table(SERVICES).await.json();
    assert_eq!(
        table["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(table["rows"].as_array().unwrap().len(), 2);
    let no_object = api
        .get_table(&format!("{SERVICES}?includeObject=None"))
        .await
        .json();
    assert!(no_object["rows"][0].get("object").is_none());
}

#[tokio::test]
async fn table_list_rows_carry_the_object_as_include_object_asks() {
    let api = Api::new().await;
    api.create(&nginx()).await;
    let stored = api.get(&format!("{SERVICES}/my-nginx-svc")).await.json();
    assert!(stored["metadata"]["managedFields"].is_array());
    let row_object = |table: Value| {
        table["rows"]
            .as_array()
            .and_then(|rows| rows.iter().find(|row| row["cells"][0] == "my-nginx-svc"))
            .map(|row| row["object"].clone())
    };
    // The default row carries the metadata without its managedFields, a whole-object row all
    // of the object.
    let mut metadata = stored["metadata"].clone();
    metadata
        .as_object_mut()
        .and_then(|m| m.shift_remove("managedFields"));
    assert_eq!(
        row_object(api.get_table(SERVICES).await.json()),
        Some(json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": metadata,
        }))
    );
    let whole = api
        .get_table(&format!("{SERVICES}?includeObject=Object"))
        .await
        .json();
    assert_eq!(row_object(whole), Some(stored));
}

// ---- selectors and paging ----------------------------------------------------------------------

#[tokio::test]
async fn list_with_a_label_selector() {
    let api = Api::new().await;
    api.create(&cluster_ip("a", json!({"tier": "web"}))).await;
    api.create(&cluster_ip("b", json!({"tier": "db"}))).await;
    assert_eq!(
        names(
            &api.get(&format!("{SERVICES}?labelSelector=tier%3Dweb"))
                .await
                .json()
        ),
        ["a"]
    );
    assert_eq!(
        names(
            &api.get(&format!("{SERVICES}?labelSelector=tier%20notin%20(web)"))
                .await
                .json()
        ),
        ["b", "kubernetes"]
    );
}

#[tokio::test]
async fn list_with_a_metadata_name_field_selector() {
    let api = Api::new().await;
    api.create(&cluster_ip("a", json!({}))).await;
    api.create(&cluster_ip("b", json!({}))).await;
    assert_eq!(
        names(
            &api.get(&format!(
                "{SERVICES}?fieldSelector=metadata.name%3Db&limit=500"
            ))
            .await
            .json()
        ),
        ["b"]
    );
}

#[tokio::test]
async fn unsupported_field_selector_is_a_bad_request() {
    let api = Api::new().await;
    let reply = api
        .get(&format!("{SERVICES}?fieldSelector=spec.foo%3Dbar"))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        status(400, "BadRequest", "field label not supported: spec.foo")
    );
}

#[tokio::test]
async fn limit_and_continue_page_through_a_list() {
    let api = Api::new().await;
    for name in ["a", "b", "c"] {
        api.create(&cluster_ip(name, json!({}))).await;
    }
    let first = api.get(&format!("{SERVICES}?limit=2")).await.json();
    assert_eq!(names(&first), ["a", "b"]);
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    let second = api
        .get(&format!("{SERVICES}?limit=2&continue={token}"))
        .await
        .json();
    assert_eq!(names(&second), ["c", "kubernetes"]);
    assert!(second["metadata"].get("continue").is_none());
    assert_eq!(
        second["metadata"]["resourceVersion"],
        first["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn later_pages_show_the_first_pages_revision() {
    let api = Api::new().await;
    for name in ["a", "c", "d"] {
        api.create(&cluster_ip(name, json!({}))).await;
    }
    let first = api.get(&format!("{SERVICES}?limit=1")).await.json();
    assert_eq!(names(&first), ["a"]);
    // kube-apiserver counts what is left only for lists without selectors.
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    // Written after the first page: "b" is new, "d" is gone.
    api.create(&cluster_ip("b", json!({}))).await;
    let reply = api.delete(&format!("{SERVICES}/d")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let rest = api
        .get(&format!("{SERVICES}?limit=10&continue={token}"))
        .await
        .json();
    assert_eq!(names(&rest), ["c", "d", "kubernetes"]);
    assert!(rest["metadata"].get("remainingItemCount").is_none());
    assert_eq!(
        rest["metadata"]["resourceVersion"],
        first["metadata"]["resourceVersion"]
    );
    // A new list sees the writes, and a selector leaves the count out.
    let now = api.get(&format!("{SERVICES}?limit=1")).await.json();
    assert_eq!(now["metadata"]["remainingItemCount"], 3);
    let selected = api
        .get(&format!("{SERVICES}?limit=1&labelSelector=x!%3Dy"))
        .await
        .json();
    assert!(selected["metadata"].get("remainingItemCount").is_none());
}

#[tokio::test]
async fn continue_token_older_than_compaction_is_expired() {
    let api = Api::new().await;
    for name in ["a", "b"] {
        api.create(&cluster_ip(name, json!({}))).await;
    }
    let first = api.get(&format!("{SERVICES}?limit=1")).await.json();
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    api.create(&cluster_ip("c", json!({}))).await;
    let store = api.cluster.registry().store();
    store.compact(store.current_revision()).await.unwrap();
    let reply = api
        .get(&format!("{SERVICES}?limit=1&continue={token}"))
        .await;
    assert_eq!(reply.status, StatusCode::GONE);
    assert_eq!(reply.json()["reason"], "Expired");
}

// ---- watch -------------------------------------------------------------------------------------

#[tokio::test]
async fn watch_from_a_resource_version_sees_changes_in_order_and_ends() {
    let api = Api::new().await;
    let from = api.revision().await;
    api.create(&nginx()).await;
    api.patch(
        &format!("{SERVICES}/my-nginx-svc"),
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"env":"prod"}}}"#,
    )
    .await;
    api.delete(&format!("{SERVICES}/my-nginx-svc")).await;
    let started = std::time::Instant::now();
    let reply = api
        .get(&format!(
            "{SERVICES}?resourceVersion={from}&watch=true&timeoutSeconds=1"
        ))
        .await;
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "application/json");
    let events = reply.events();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ADDED", "MODIFIED", "DELETED"]);
    assert_eq!(events[1]["object"]["metadata"]["labels"]["env"], "prod");
    assert_eq!(events[2]["object"]["kind"], "Service");
}

#[tokio::test]
async fn watch_without_a_resource_version_starts_with_the_current_objects() {
    let api = Api::new().await;
    api.create(&cluster_ip("a", json!({}))).await;
    let reply = api
        .get(&format!(
            "{SERVICES}?fieldSelector=metadata.name%3Da&resourceVersion=0&watch=1&timeoutSeconds=1"
        ))
        .await;
    let events = reply.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0]["type"].as_str(),
            events[0]["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("a"))
    );
}

#[tokio::test]
async fn watch_streams_live_events() {
    let api = Api::new().await;
    let from = api.revision().await;
    let request = Request::get(format!(
        "{SERVICES}?resourceVersion={from}&watch=true&timeoutSeconds=30"
    ))
    .body(Body::empty())
    .unwrap();
    let response = api.app.clone().oneshot(request).await.unwrap();
    let mut body = response.into_body();
    api.create(&cluster_ip("live", json!({}))).await;
    let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let line: Value = serde_json::from_slice(frame.data_ref().unwrap()).unwrap();
    assert_eq!(
        (
            line["type"].as_str(),
            line["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("live"))
    );
}

#[tokio::test]
async fn watch_below_compaction_is_an_expired_error_event() {
    let api = Api::new().await;
    api.create(&cluster_ip("a", json!({}))).await;
    let store = api.cluster.registry().store();
    let current = store.current_revision();
    store.compact(current).await.unwrap();
    let reply = api
        .get(&format!(
            "{SERVICES}?resourceVersion=1&watch=true&timeoutSeconds=5"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.events(),
        [
            json!({"type": "ERROR", "object": status(410, "Expired", &format!("too old resource version: 1 ({current})"))})
        ]
    );
}

#[tokio::test]
async fn watch_with_table_accept_sends_one_row_tables() {
    let api = Api::new().await;
    let from = api.revision().await;
    let created = api.create(&nginx()).await;
    api.delete(&format!("{SERVICES}/my-nginx-svc")).await;
    let reply = api
        .request(
            "GET",
            &format!("{SERVICES}?resourceVersion={from}&watch=true&timeoutSeconds=1"),
            &[("accept", TABLE_ACCEPT)],
            Body::empty(),
        )
        .await;
    assert_eq!(
        reply.header("content-type"),
        "application/json;as=Table;v=v1;g=meta.k8s.io"
    );
    let events = reply.events();
    assert_eq!(events.len(), 2);
    let added = &events[0]["object"];
    assert_eq!(
        (events[0]["type"].as_str(), added["kind"].as_str()),
        (Some("ADDED"), Some("Table"))
    );
    assert_eq!(
        added["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(added["columnDefinitions"].as_array().unwrap().len(), 7);
    assert_eq!(added["rows"][0]["cells"][0], "my-nginx-svc");
    assert_eq!(events[1]["type"], "DELETED");
    assert!(events[1]["object"].get("columnDefinitions").is_none());
    assert_eq!(events[1]["object"]["rows"][0]["cells"][0], "my-nginx-svc");
}

#[tokio::test]
async fn watch_with_a_label_selector_sees_an_object_stop_matching_as_deleted() {
    let api = Api::new().await;
    api.create(&cluster_ip("a", json!({"tier": "web"}))).await;
    let uri = format!("{SERVICES}?labelSelector=tier%3Dweb&watch=true&timeoutSeconds=1");
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = api.app.clone().oneshot(request).await.unwrap();
    api.patch(
        &format!("{SERVICES}/a"),
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"tier":"db"}}}"#,
    )
    .await;
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let types: Vec<String> = String::from_utf8_lossy(&body)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(types, ["ADDED", "DELETED"]);
}

// ---- namespaces and other kinds ----------------------------------------------------------------

#[tokio::test]
async fn namespace_delete_deletes_its_services() {
    let api = Api::new().await;
    let ns = api
        .post(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
        )
        .await;
    assert_eq!(ns.status, StatusCode::CREATED);
    assert_eq!(ns.json()["status"], json!({"phase": "Active"}));
    let svc = api
        .post(
            "/api/v1/namespaces/team/services",
            &cluster_ip("a", json!({})),
        )
        .await;
    assert_eq!(svc.status, StatusCode::CREATED);
    let deleted = api.delete("/api/v1/namespaces/team").await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        api.get("/api/v1/namespaces/team/services").await.json()["items"],
        json!([])
    );
    let missing = api
        .post(
            "/api/v1/namespaces/team/services",
            &cluster_ip("a", json!({})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["message"], "namespaces \"team\" not found");
}

#[tokio::test]
async fn namespaces_have_no_deletecollection() {
    let api = Api::new().await;
    let reply = api
        .request("DELETE", "/api/v1/namespaces", &[], Body::empty())
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn deployment_create_get_delete_round_trip() {
    let api = Api::new().await;
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    let body = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
        "spec": {"selector": {"matchLabels": {"app": "nginx"}},
                 "template": {"metadata": {"labels": {"app": "nginx"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}
    });
    let created = api
        .post(&format!("{deployments}?fieldValidation=Strict"), &body)
        .await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let created = created.json();
    assert_eq!(
        (
            created["apiVersion"].as_str(),
            created["metadata"]["generation"].as_i64()
        ),
        (Some("apps/v1"), Some(1))
    );
    assert_eq!(
        api.get(&format!("{deployments}/nginx")).await.json(),
        created
    );
    let table = api.get_table(deployments).await.json();
    assert_eq!(table["rows"][0]["cells"][0], "nginx");
    assert_eq!(
        api.delete(&format!("{deployments}/nginx")).await.status,
        StatusCode::OK
    );
    let missing = api.get(&format!("{deployments}/nginx")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json()["details"],
        json!({"name": "nginx", "group": "apps", "kind": "deployments"})
    );
    assert_eq!(
        missing.json()["message"],
        "deployments.apps \"nginx\" not found"
    );
}

#[tokio::test]
async fn kubectl_create_service_protobuf_body() {
    let api = Api::new().await;
    // The 130-byte body `kubectl create service clusterip foo --tcp=80:8080` sends (§8.11).
    let hex = concat!(
        "6b3873000a0d0a027631120753657276",
        "69636512690a1f0a03666f6f12001a00",
        "22002a003200380042005a0a0a036170",
        "701203666f6f12420a1b0a0738302d38",
        "30383012035443501850220708001090",
        "3f1a002800120a0a036170701203666f",
        "6f1a002209436c757374657249503a00",
        "420052005a00600068001a020a001a00",
        "2200",
    );
    let body: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(body.len(), 130);
    let reply = api
        .request(
            "POST",
            &format!("{SERVICES}?fieldManager=kubectl-create&fieldValidation=Strict"),
            &[
                ("content-type", "application/vnd.kubernetes.protobuf"),
                (
                    "accept",
                    "application/vnd.kubernetes.protobuf,application/json",
                ),
            ],
            body,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.header("content-type"), "application/json");
    let created = reply.json();
    assert_eq!(created["metadata"]["labels"], json!({"app": "foo"}));
    assert_eq!(created["spec"]["selector"], json!({"app": "foo"}));
    assert_eq!(created["spec"]["type"], "ClusterIP");
    assert_eq!(
        created["spec"]["ports"],
        json!([{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}])
    );
}

#[tokio::test]
async fn server_side_apply_creates_then_updates() {
    let api = Api::new().await;
    let uri =
        format!("{SERVICES}/my-nginx-svc?fieldManager=kubectl&fieldValidation=Strict&force=false");
    let body = r#"{"apiVersion":"v1","kind":"Service","metadata":{"labels":{"app":"nginx"},"name":"my-nginx-svc","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP","targetPort":80}],"selector":{"app":"nginx"},"type":"LoadBalancer"}}"#;
    let created = api.patch(&uri, "application/apply-patch+yaml", body).await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(created.json()["spec"]["type"], "LoadBalancer");
    let changed = body.replace(
        r#""app":"nginx"},"name""#,
        r#""app":"nginx","tier":"web"},"name""#,
    );
    let updated = api
        .patch(&uri, "application/apply-patch+yaml", &changed)
        .await;
    assert_eq!(
        updated.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&updated.body)
    );
    assert_eq!(
        updated.json()["metadata"]["labels"],
        json!({"app": "nginx", "tier": "web"})
    );
}

#[tokio::test]
async fn server_side_apply_without_a_field_manager_is_invalid() {
    let api = Api::new().await;
    let reply = api
        .patch(
            &format!("{SERVICES}/my-nginx-svc"),
            "application/apply-patch+yaml",
            "apiVersion: v1\nkind: Service\n",
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.json()["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
}

#[tokio::test]
async fn a_write_without_field_manager_is_recorded_under_the_user_agent() {
    let api = Api::new().await;
    let reply = api
        .request(
            "POST",
            SERVICES,
            &[
                ("content-type", "application/json"),
                (
                    "user-agent",
                    "kubectl-create/v1.32.4 (linux/amd64) kubernetes/6f15b8d",
                ),
            ],
            nginx().to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        reply.json()["metadata"]["managedFields"][0]["manager"],
        "kubectl-create"
    );
    let named = api
        .request(
            "PATCH",
            &format!("{SERVICES}/my-nginx-svc?fieldManager=team"),
            &[
                ("content-type", "application/merge-patch+json"),
                ("user-agent", "kubectl-patch/v1.32.4"),
            ],
            r#"{"metadata":{"labels":{"tier":"web"}}}"#,
        )
        .await;
    assert_eq!(named.status, StatusCode::OK);
    let managers: Vec<Value> = named.json()["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|e| e["manager"].clone())
        .collect();
    assert_eq!(managers, [json!("kubectl-create"), json!("team")]);
}

#[tokio::test]
async fn a_named_group_has_its_own_document_and_responses_are_not_cached() {
    let api = Api::new().await;
    let apps = api.get("/apis/apps").await;
    assert_eq!(apps.status, StatusCode::OK);
    assert_eq!(
        apps.json(),
        json!({"kind": "APIGroup", "apiVersion": "v1", "name": "apps",
               "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
               "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}})
    );
    assert_eq!(apps.header("cache-control"), "no-cache, private");
    assert_eq!(
        api.get("/apis/nope.example.com").await.status,
        StatusCode::NOT_FOUND
    );
    let service = api.get(&format!("{SERVICES}/kubernetes")).await;
    assert_eq!(service.header("cache-control"), "no-cache, private");
}

#[tokio::test]
async fn an_accept_of_only_unservable_types_is_406() {
    let api = Api::new().await;
    let path = format!("{SERVICES}/kubernetes");
    let xml = api
        .request(
            "GET",
            &path,
            &[("accept", "application/xml")],
            Body::empty(),
        )
        .await;
    assert_eq!(xml.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        xml.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
               "reason": "NotAcceptable", "code": 406})
    );
    for accept in [
        "*/*",
        "text/html,application/xhtml+xml,*/*;q=0.8",
        "application/json",
    ] {
        let reply = api
            .request("GET", &path, &[("accept", accept)], Body::empty())
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{accept}");
    }
}

#[tokio::test]
async fn deprecated_watch_paths_watch_the_collection_or_one_object() {
    let api = Api::new().await;
    assert_eq!(
        api.post(SERVICES, &nginx()).await.status,
        StatusCode::CREATED
    );
    let names = |reply: Reply| -> Vec<String> {
        String::from_utf8_lossy(&reply.body)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("an event per line"))
            .map(|e| {
                format!(
                    "{} {}",
                    e["type"].as_str().unwrap_or(""),
                    e["object"]["metadata"]["name"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let all = api
        .get("/api/v1/watch/namespaces/default/services?timeoutSeconds=1")
        .await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(names(all), ["ADDED kubernetes", "ADDED my-nginx-svc"]);
    let one = api
        .get("/api/v1/watch/namespaces/default/services/my-nginx-svc?timeoutSeconds=1")
        .await;
    assert_eq!(names(one), ["ADDED my-nginx-svc"]);
}
