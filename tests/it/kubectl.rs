//! The real kubectl v1.32 against the real server: the ACK walkthrough and the everyday
//! commands of kubernetes-api.md §8, asserting what kubectl prints and its exit codes.

use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};

use crate::support::kubectl::{Kubectl, ages, cells, kubeconfig_for, table};

const NGINX_SVC_YAML: &str = "\
apiVersion: v1
kind: Service
metadata:
  annotations:
    service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type: intranet
  labels:
    app: nginx
  name: my-nginx-svc
  namespace: default
spec:
  ports:
  - port: 80
    protocol: TCP
    targetPort: 80
  selector:
    app: nginx
  type: LoadBalancer
";

const NGINX_DEPLOYMENT_YAML: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
";

const SERVICE_HEADER: [&str; 6] = [
    "NAME",
    "TYPE",
    "CLUSTER-IP",
    "EXTERNAL-IP",
    "PORT(S)",
    "AGE",
];

const CONFLICT_HELP: &str = "\
Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts
";

/// A ClusterIP Service `name` selecting and labelled `app: <app>`, port 80 → 8080.
fn clusterip_yaml(name: &str, app: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  labels:\n    app: {app}\nspec:\n  \
         selector:\n    app: {app}\n  ports:\n  - port: 80\n    protocol: TCP\n    targetPort: 8080\n"
    )
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

/// `kubectl apply -f <name>.yaml` of `yaml`, which must print `<prefix>/<name> created`.
async fn apply_new(k: &Kubectl, prefix: &str, name: &str, yaml: &str) {
    let file = format!("{name}.yaml");
    k.write(&file, yaml);
    k.run(&["apply", "-f", &file])
        .await
        .assert_ok(&format!("{prefix}/{name} created\n"));
}

async fn service(k: &Kubectl, namespace: &str, name: &str) -> Value {
    k.get_json(&format!("/api/v1/namespaces/{namespace}/services/{name}"))
        .await
}

fn cluster_ip(svc: &Value) -> String {
    let ip = svc["spec"]["clusterIP"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        ip.starts_with("172.21."),
        "clusterIP {ip:?} outside 172.21.0.0/20 in {svc}"
    );
    ip
}

fn node_port(svc: &Value, port: usize) -> i64 {
    let node_port = svc["spec"]["ports"][port]["nodePort"]
        .as_i64()
        .unwrap_or_default();
    assert!(
        (30000..=32767).contains(&node_port),
        "nodePort {node_port} outside 30000-32767 in {svc}"
    );
    node_port
}

/// The Service row of `get svc` for a ClusterIP Service with one TCP port 80.
fn clusterip_row(name: &str, svc: &Value, age: &str) -> Vec<String> {
    row(&[name, "ClusterIP", &cluster_ip(svc), "<none>", "80/TCP", age])
}

/// The object without what kubectl hides in `-o yaml`.
fn without_managed_fields(mut object: Value) -> Value {
    if let Some(meta) = object["metadata"].as_object_mut() {
        meta.remove("managedFields");
    }
    object
}

/// `Key:   value` lines of `kubectl describe` at the top level, in order.
fn describe_fields(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_once(':'))
        .map(|(key, value)| (key.to_owned(), value.trim().to_owned()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key}: in {fields:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_subcommand_prints_a_working_kubeconfig() {
    let expected = "\
apiVersion: v1
kind: Config
clusters:
- name: service-console
  cluster:
    server: http://10.0.0.1:9999
    insecure-skip-tls-verify: true
users:
- name: service-console
  user: {}
contexts:
- name: service-console
  context:
    cluster: service-console
    user: service-console
    namespace: default
current-context: service-console
preferences: {}
";
    assert_eq!(kubeconfig_for("http://10.0.0.1:9999"), expected);
    let binary = env!("CARGO_BIN_EXE_service-console");
    let from_env = std::process::Command::new(binary)
        .arg("kubeconfig")
        .env("SERVICE_CONSOLE_SERVER", "http://10.0.0.1:9999")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(from_env.stdout).unwrap(), expected);
    let default = std::process::Command::new(binary)
        .arg("kubeconfig")
        .env_remove("SERVICE_CONSOLE_SERVER")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(default.stdout).unwrap(),
        expected.replace("http://10.0.0.1:9999", "http://127.0.0.1:8080")
    );

    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.run(&["config", "current-context"])
        .await
        .assert_ok("service-console\n");
    let server = k
        .run(&[
            "config",
            "view",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ])
        .await;
    server.assert_ok(&k.base_url);
    k.run(&["get", "--raw", "/healthz"]).await.assert_ok("ok");
    // The dispatcher runs the kubectl matching the server's minor version (§2.2).
    let version = k.run(&["version"]).await;
    assert_eq!(
        (version.code, version.stderr.as_str()),
        (0, ""),
        "{version:#?}"
    );
    assert_eq!(
        version.stdout.lines().last(),
        Some("Server Version: v1.32.0"),
        "{version:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_walkthrough_apply_get_edit_apply_delete() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write("my-nginx-svc.yaml", NGINX_SVC_YAML);
    k.run(&["apply", "-f", "my-nginx-svc.yaml"])
        .await
        .assert_ok("service/my-nginx-svc created\n");

    let created = service(&k, "default", "my-nginx-svc").await;
    let ip = cluster_ip(&created);
    let np = node_port(&created, 0);
    let get = k.run(&["get", "svc", "my-nginx-svc"]).await;
    let age = ages(&get.stdout);
    let expected = table(&[
        row(&SERVICE_HEADER),
        row(&[
            "my-nginx-svc",
            "LoadBalancer",
            &ip,
            "<pending>",
            &format!("80:{np}/TCP"),
            &age[0],
        ]),
    ]);
    get.assert_ok(&expected);

    let editor = k.write(
        "editor.sh",
        "#!/bin/sh\nsed -i 's/^    port: 80$/    port: 8080/' \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut edit = k.command(&["edit", "service", "my-nginx-svc"]);
    edit.env("EDITOR", &editor);
    k.run_command(edit, None)
        .await
        .assert_ok("service/my-nginx-svc edited\n");
    let edited = service(&k, "default", "my-nginx-svc").await;
    assert_eq!(
        edited["spec"]["ports"],
        json!([{"nodePort": np, "port": 8080, "protocol": "TCP", "targetPort": 80}])
    );
    assert_eq!(edited["spec"]["clusterIP"], json!(ip));

    let changed = NGINX_SVC_YAML
        .replace("  - port: 80\n", "  - port: 8080\n")
        .replace(
            "    app: nginx\n  name:",
            "    app: nginx\n    tier: web\n  name:",
        );
    k.write("my-nginx-svc.yaml", &changed);
    k.run(&["apply", "-f", "my-nginx-svc.yaml"])
        .await
        .assert_ok("service/my-nginx-svc configured\n");
    let configured = service(&k, "default", "my-nginx-svc").await;
    assert_eq!(
        configured["metadata"]["labels"],
        json!({"app": "nginx", "tier": "web"})
    );
    let address_type = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type";
    assert_eq!(
        configured["metadata"]["annotations"][address_type],
        json!("intranet")
    );
    assert_eq!(
        configured["spec"]["ports"],
        json!([{"nodePort": np, "port": 8080, "protocol": "TCP", "targetPort": 80}])
    );
    k.run(&["apply", "-f", "my-nginx-svc.yaml"])
        .await
        .assert_ok("service/my-nginx-svc unchanged\n");
    let unchanged = service(&k, "default", "my-nginx-svc").await;
    assert_eq!(
        unchanged["metadata"]["resourceVersion"],
        configured["metadata"]["resourceVersion"]
    );

    k.run(&["delete", "service", "my-nginx-svc"])
        .await
        .assert_ok("service \"my-nginx-svc\" deleted\n");
    let gone = service(&k, "default", "my-nginx-svc").await;
    assert_eq!(
        (gone["reason"].as_str(), gone["code"].as_i64()),
        (Some("NotFound"), Some(404)),
        "{gone}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_all_namespaces_adds_the_namespace_column() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(
        &k,
        "namespace",
        "team-a",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n",
    )
    .await;
    apply_new(&k, "service", "web", &clusterip_yaml("web", "web")).await;
    k.write("api.yaml", &clusterip_yaml("api", "api"));
    k.run(&["apply", "-n", "team-a", "-f", "api.yaml"])
        .await
        .assert_ok("service/api created\n");

    let get = k.run(&["get", "svc", "-A"]).await;
    let age = ages(&get.stdout);
    let kubernetes = service(&k, "default", "kubernetes").await;
    let web = service(&k, "default", "web").await;
    let api = service(&k, "team-a", "api").await;
    let expected = table(&[
        row(&[
            "NAMESPACE",
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
        ]),
        row(&[
            "default",
            "kubernetes",
            "ClusterIP",
            &cluster_ip(&kubernetes),
            "<none>",
            "443/TCP",
            &age[0],
        ]),
        [
            vec!["default".to_owned()],
            clusterip_row("web", &web, &age[1]),
        ]
        .concat(),
        [
            vec!["team-a".to_owned()],
            clusterip_row("api", &api, &age[2]),
        ]
        .concat(),
    ]);
    get.assert_ok(&expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_wide_adds_the_selector_column() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "service", "web", &clusterip_yaml("web", "web")).await;
    let get = k.run(&["get", "svc", "-o", "wide"]).await;
    let age = ages(&get.stdout);
    let kubernetes = service(&k, "default", "kubernetes").await;
    let web = service(&k, "default", "web").await;
    let expected = table(&[
        row(&[
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
            "SELECTOR",
        ]),
        row(&[
            "kubernetes",
            "ClusterIP",
            &cluster_ip(&kubernetes),
            "<none>",
            "443/TCP",
            &age[0],
            "<none>",
        ]),
        [clusterip_row("web", &web, &age[1]), row(&["app=web"])].concat(),
    ]);
    get.assert_ok(&expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_with_label_selector_lists_only_matching_services() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "service", "web", &clusterip_yaml("web", "nginx")).await;
    let other = k
        .run_stdin(&["apply", "-f", "-"], &clusterip_yaml("other", "other"))
        .await;
    other.assert_ok("service/other created\n");
    let get = k.run(&["get", "svc", "-l", "app=nginx"]).await;
    let age = ages(&get.stdout);
    let web = service(&k, "default", "web").await;
    get.assert_ok(&table(&[
        row(&SERVICE_HEADER),
        clusterip_row("web", &web, &age[0]),
    ]));

    let none = k.run(&["get", "svc", "-l", "app=nothing"]).await;
    assert_eq!(
        (none.code, none.stdout.as_str(), none.stderr.as_str()),
        (0, "", "No resources found in default namespace.\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_yaml_round_trips_the_stored_object() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write("my-nginx-svc.yaml", NGINX_SVC_YAML);
    k.run(&["apply", "-f", "my-nginx-svc.yaml"])
        .await
        .assert_ok("service/my-nginx-svc created\n");
    let get = k.run(&["get", "svc", "my-nginx-svc", "-o", "yaml"]).await;
    assert_eq!((get.code, get.stderr.as_str()), (0, ""), "{get:#?}");
    let printed: Value = serde_saphyr::from_str(&get.stdout).expect("kubectl printed YAML");
    let stored = service(&k, "default", "my-nginx-svc").await;
    assert_eq!(printed, without_managed_fields(stored));
    assert_eq!(
        printed["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        json!(
            "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"annotations\":{\"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type\":\"intranet\"},\"labels\":{\"app\":\"nginx\"},\"name\":\"my-nginx-svc\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":80}],\"selector\":{\"app\":\"nginx\"},\"type\":\"LoadBalancer\"}}\n"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_prints_a_row_per_change() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    let mut watch = k.spawn(&["get", "svc", "-w"]);
    let header = watch
        .wait_for("the header", |l| l.starts_with("NAME "))
        .await;
    assert_eq!(cells(&header), row(&SERVICE_HEADER));
    watch
        .wait_for("the kubernetes row", |l| l.starts_with("kubernetes "))
        .await;

    apply_new(
        &k,
        "service",
        "watched",
        &clusterip_yaml("watched", "watched"),
    )
    .await;
    let added = watch
        .wait_for("the ADDED row", |l| l.starts_with("watched "))
        .await;
    let svc = service(&k, "default", "watched").await;
    let age = |line: &str| cells(line).get(5).cloned().unwrap_or_default();
    assert_eq!(cells(&added), clusterip_row("watched", &svc, &age(&added)));

    k.run(&["label", "svc", "watched", "env=prod"])
        .await
        .assert_ok("service/watched labeled\n");
    let modified = watch
        .wait_for("the MODIFIED row", |l| l.starts_with("watched "))
        .await;
    assert_eq!(
        cells(&modified),
        clusterip_row("watched", &svc, &age(&modified))
    );

    k.run(&["delete", "svc", "watched"])
        .await
        .assert_ok("service \"watched\" deleted\n");
    let deleted = watch
        .wait_for("the DELETED row", |l| l.starts_with("watched "))
        .await;
    assert_eq!(
        cells(&deleted),
        clusterip_row("watched", &svc, &age(&deleted))
    );
    let seen = watch.seen.clone();
    let stderr = watch.kill();
    assert_eq!(seen.len(), 5, "every row once, nothing twice: {seen:#?}");
    assert_eq!(stderr, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_one_service_watch_prints_only_that_service() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "service", "foo", &clusterip_yaml("foo", "foo")).await;
    apply_new(&k, "service", "bar", &clusterip_yaml("bar", "bar")).await;
    let foo = service(&k, "default", "foo").await;
    let mut watch = k.spawn(&["get", "svc", "foo", "-w"]);
    let header = watch
        .wait_for("the header", |l| l.starts_with("NAME "))
        .await;
    assert_eq!(cells(&header), row(&SERVICE_HEADER));
    let first = watch.wait_for("the foo row", |_| true).await;
    assert_eq!(cells(&first), clusterip_row("foo", &foo, &cells(&first)[5]));

    k.run(&["label", "svc", "bar", "env=prod"])
        .await
        .assert_ok("service/bar labeled\n");
    k.run(&["label", "svc", "foo", "env=prod"])
        .await
        .assert_ok("service/foo labeled\n");
    let modified = watch.wait_for("the MODIFIED foo row", |_| true).await;
    assert_eq!(
        cells(&modified),
        clusterip_row("foo", &foo, &cells(&modified)[5])
    );
    assert_eq!(watch.kill(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_service_prints_upstream_layout() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "service", "web", &clusterip_yaml("web", "web")).await;
    let ip = cluster_ip(&service(&k, "default", "web").await);
    let expected = format!(
        "\
Name:                     web
Namespace:                default
Labels:                   app=web
Annotations:              <none>
Selector:                 app=web
Type:                     ClusterIP
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       {ip}
IPs:                      {ip}
Port:                     <unset>  80/TCP
TargetPort:               8080/TCP
Endpoints:                <none>
Session Affinity:         None
Internal Traffic Policy:  Cluster
Events:                   <none>
"
    );
    k.run(&["describe", "svc", "web"])
        .await
        .assert_ok(&expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_nodeport_service_prints_node_port() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.run(&["create", "service", "nodeport", "np", "--tcp=81:8081"])
        .await
        .assert_ok("service/np created\n");
    let svc = service(&k, "default", "np").await;
    let (ip, np) = (cluster_ip(&svc), node_port(&svc, 0));
    let expected = format!(
        "\
Name:                     np
Namespace:                default
Labels:                   app=np
Annotations:              <none>
Selector:                 app=np
Type:                     NodePort
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       {ip}
IPs:                      {ip}
Port:                     81-8081  81/TCP
TargetPort:               8081/TCP
NodePort:                 81-8081  {np}/TCP
Endpoints:                <none>
Session Affinity:         None
External Traffic Policy:  Cluster
Internal Traffic Policy:  Cluster
Events:                   <none>
"
    );
    k.run(&["describe", "svc", "np"]).await.assert_ok(&expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_and_annotate_print_labeled_and_annotated() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "service", "x", &clusterip_yaml("x", "x")).await;
    k.run(&["label", "svc", "x", "env=prod"])
        .await
        .assert_ok("service/x labeled\n");
    k.run(&["annotate", "svc", "x", "description=my svc"])
        .await
        .assert_ok("service/x annotated\n");
    let svc = service(&k, "default", "x").await;
    assert_eq!(
        svc["metadata"]["labels"],
        json!({"app": "x", "env": "prod"})
    );
    assert_eq!(
        svc["metadata"]["annotations"]["description"],
        json!("my svc")
    );

    k.run(&["label", "svc", "x", "env=dev"])
        .await
        .assert_err("error: 'env' already has a value (prod), and --overwrite is false\n");
    k.run(&["label", "svc", "x", "env-"])
        .await
        .assert_ok("service/x unlabeled\n");
    assert_eq!(
        service(&k, "default", "x").await["metadata"]["labels"],
        json!({"app": "x"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_with_each_patch_type_and_no_change() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "service", "x", &clusterip_yaml("x", "x")).await;

    k.run(&[
        "patch",
        "svc",
        "x",
        "-p",
        r#"{"spec":{"sessionAffinity":"ClientIP"}}"#,
    ])
    .await
    .assert_ok("service/x patched\n");
    let svc = service(&k, "default", "x").await;
    assert_eq!(svc["spec"]["sessionAffinity"], json!("ClientIP"));
    assert_eq!(
        svc["spec"]["sessionAffinityConfig"],
        json!({"clientIP": {"timeoutSeconds": 10800}})
    );

    let merge = [
        "patch",
        "svc",
        "x",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"m":"1"}}}"#,
    ];
    k.run(&merge).await.assert_ok("service/x patched\n");
    assert_eq!(
        service(&k, "default", "x").await["metadata"]["labels"],
        json!({"app": "x", "m": "1"})
    );

    let json_patch = r#"[{"op":"replace","path":"/spec/ports/0/targetPort","value":9090}]"#;
    k.run(&["patch", "svc", "x", "--type", "json", "-p", json_patch])
        .await
        .assert_ok("service/x patched\n");
    let patched = service(&k, "default", "x").await;
    assert_eq!(
        patched["spec"]["ports"],
        json!([{"port": 80, "protocol": "TCP", "targetPort": 9090}])
    );

    k.run(&merge)
        .await
        .assert_ok("service/x patched (no change)\n");
    let strategic_noop = [
        "patch",
        "svc",
        "x",
        "-p",
        r#"{"spec":{"sessionAffinity":"ClientIP"}}"#,
    ];
    k.run(&strategic_noop)
        .await
        .assert_ok("service/x patched (no change)\n");
    let after = service(&k, "default", "x").await;
    assert_eq!(
        after["metadata"]["resourceVersion"],
        patched["metadata"]["resourceVersion"]
    );

    // A missing parent: evanphx/json-patch words a missing leaf key differently.
    let bad = r#"[{"op":"remove","path":"/spec/nothere/x"}]"#;
    k.run(&["patch", "svc", "x", "--type", "json", "-p", bad]).await.assert_err(
        "The request is invalid: : remove operation does not apply: doc is missing path: \"/spec/nothere/x\": missing value\n",
    );
    let rejected = service(&k, "default", "x").await;
    assert_eq!(
        rejected["metadata"]["resourceVersion"],
        patched["metadata"]["resourceVersion"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_without_changes_is_cancelled() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "service", "x", &clusterip_yaml("x", "x")).await;
    let before = service(&k, "default", "x").await;
    let mut edit = k.command(&["edit", "svc", "x"]);
    edit.env("EDITOR", "true");
    let run = k.run_command(edit, None).await;
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "Edit cancelled, no changes made.\n"),
        "{run:#?}"
    );
    assert_eq!(service(&k, "default", "x").await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_service_clusterip_sends_protobuf() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.run(&["create", "service", "clusterip", "foo", "--tcp=80:8080"])
        .await
        .assert_ok("service/foo created\n");
    let foo = service(&k, "default", "foo").await;
    assert_eq!(foo["metadata"]["labels"], json!({"app": "foo"}));
    assert_eq!(foo["spec"]["type"], json!("ClusterIP"));
    assert_eq!(foo["spec"]["selector"], json!({"app": "foo"}));
    assert_eq!(
        foo["spec"]["ports"],
        json!([{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}])
    );
    cluster_ip(&foo);

    k.run(&["create", "service", "clusterip", "foo", "--tcp=80:8080"])
        .await
        .assert_err("error: failed to create ClusterIP service: services \"foo\" already exists\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_service_nodeport_loadbalancer_and_externalname() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.run(&["create", "service", "nodeport", "np", "--tcp=81:8081"])
        .await
        .assert_ok("service/np created\n");
    let np = service(&k, "default", "np").await;
    let port = node_port(&np, 0);
    assert_eq!(np["spec"]["type"], json!("NodePort"));
    assert_eq!(
        np["spec"]["ports"],
        json!([{"name": "81-8081", "nodePort": port, "port": 81, "protocol": "TCP", "targetPort": 8081}])
    );

    k.run(&["create", "service", "loadbalancer", "lb", "--tcp=443:8443"])
        .await
        .assert_ok("service/lb created\n");
    let lb = service(&k, "default", "lb").await;
    let port = node_port(&lb, 0);
    assert_eq!(
        (&lb["spec"]["type"], &lb["spec"]["selector"]),
        (&json!("LoadBalancer"), &json!({"app": "lb"}))
    );
    assert_eq!(
        lb["spec"]["ports"],
        json!([{"name": "443-8443", "nodePort": port, "port": 443, "protocol": "TCP", "targetPort": 8443}])
    );

    let ext = [
        "create",
        "service",
        "externalname",
        "ext",
        "--external-name",
        "db.example.com",
    ];
    k.run(&ext).await.assert_ok("service/ext created\n");
    let ext = service(&k, "default", "ext").await;
    assert_eq!(
        (&ext["spec"]["type"], &ext["spec"]["externalName"]),
        (&json!("ExternalName"), &json!("db.example.com"))
    );
    assert_eq!(ext["spec"].get("clusterIP"), None, "{ext}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_server_side_creates_and_updates() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write("ssa.yaml", &clusterip_yaml("ssa", "ssa"));
    k.run(&["apply", "--server-side", "-f", "ssa.yaml"])
        .await
        .assert_ok("service/ssa serverside-applied\n");
    let created = service(&k, "default", "ssa").await;
    assert_eq!(
        created["spec"]["ports"],
        json!([{"port": 80, "protocol": "TCP", "targetPort": 8080}])
    );
    k.run(&["apply", "--server-side", "-f", "ssa.yaml"])
        .await
        .assert_ok("service/ssa serverside-applied\n");
    assert_eq!(
        service(&k, "default", "ssa").await["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );

    k.write(
        "ssa.yaml",
        &clusterip_yaml("ssa", "ssa").replace("  - port: 80\n", "  - port: 81\n"),
    );
    k.run(&["apply", "--server-side", "-f", "ssa.yaml"])
        .await
        .assert_ok("service/ssa serverside-applied\n");
    let updated = service(&k, "default", "ssa").await;
    assert_eq!(
        updated["spec"]["ports"],
        json!([{"port": 81, "protocol": "TCP", "targetPort": 8080}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_server_side_conflict_with_another_manager() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write("ssa.yaml", &clusterip_yaml("ssa", "ssa"));
    k.run(&["apply", "--server-side", "-f", "ssa.yaml"])
        .await
        .assert_ok("service/ssa serverside-applied\n");

    k.write(
        "other.yaml",
        &clusterip_yaml("ssa", "ssa").replace("targetPort: 8080", "targetPort: 9090"),
    );
    let conflict = k
        .run(&[
            "apply",
            "--server-side",
            "--field-manager=other",
            "-f",
            "other.yaml",
        ])
        .await;
    conflict.assert_err(&format!(
        "error: Apply failed with 1 conflict: conflict with \"kubectl\": .spec.ports[port=80,protocol=\"TCP\"].targetPort\n{CONFLICT_HELP}"
    ));
    assert_eq!(
        service(&k, "default", "ssa").await["spec"]["ports"][0]["targetPort"],
        json!(8080)
    );

    let force = [
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        "other.yaml",
    ];
    k.run(&force)
        .await
        .assert_ok("service/ssa serverside-applied\n");
    assert_eq!(
        service(&k, "default", "ssa").await["spec"]["ports"][0]["targetPort"],
        json!(9090)
    );
}

/// Switching from client-side to server-side apply: kubectl moves the client-side apply
/// manager's fields to its `Apply` entries (csaupgrade) through a patch of managedFields,
/// which the server must take as written, so that the switch is no conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_server_side_after_client_side_apply_migrates_ownership() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "service", "moved", &clusterip_yaml("moved", "moved")).await;
    k.run(&["apply", "--server-side", "-f", "moved.yaml"])
        .await
        .assert_ok("service/moved serverside-applied\n");
    let svc = service(&k, "default", "moved").await;
    let mut managers: Vec<(String, String)> = svc["metadata"]["managedFields"]
        .as_array()
        .unwrap_or_else(|| panic!("no managedFields in {svc}"))
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or_default().to_owned(),
                e["operation"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    managers.sort();
    assert_eq!(
        managers,
        [
            ("kubectl".to_owned(), "Apply".to_owned()),
            ("kubectl-last-applied".to_owned(), "Apply".to_owned()),
        ],
        "{svc}"
    );
}

/// `kubectl apply --server-side --subresource=status`: the status changes and nothing else
/// (the spec it sends is the status strategy's to drop), owned by an `Apply` entry for the
/// status subresource that conflicts with another applier; the status of a missing object is
/// NotFound, never a create.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_server_side_to_status_changes_only_the_status() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "service", "edge", &clusterip_yaml("edge", "edge")).await;
    let status = "apiVersion: v1\nkind: Service\nmetadata:\n  name: edge\nspec:\n  \
                  type: NodePort\nstatus:\n  conditions:\n  - type: example.com/Ready\n    \
                  status: \"True\"\n    reason: Ready\n    message: edge ready\n    \
                  lastTransitionTime: \"2026-12-05T00:00:00Z\"\n";
    k.write("status.yaml", status);
    let apply_status = |manager: &'static str| {
        [
            "apply",
            "--server-side",
            "--subresource=status",
            manager,
            "-f",
            "status.yaml",
        ]
    };
    k.run(&apply_status("--field-manager=edge-controller"))
        .await
        .assert_ok("service/edge serverside-applied\n");
    let svc = service(&k, "default", "edge").await;
    assert_eq!(
        svc["status"]["conditions"][0]["message"],
        json!("edge ready"),
        "{svc}"
    );
    assert_eq!(svc["spec"]["type"], json!("ClusterIP"), "{svc}");
    let entry = svc["metadata"]["managedFields"]
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["manager"] == "edge-controller"))
        .cloned()
        .unwrap_or_else(|| panic!("no edge-controller entry in {svc}"));
    assert_eq!(
        (&entry["operation"], &entry["subresource"]),
        (&json!("Apply"), &json!("status")),
        "{entry}"
    );
    assert_eq!(
        entry["fieldsV1"]["f:status"]["f:conditions"]["k:{\"type\":\"example.com/Ready\"}"]["f:message"],
        json!({}),
        "{entry}"
    );

    k.write("status.yaml", &status.replace("edge ready", "edge drained"));
    k.run(&apply_status("--field-manager=other"))
        .await
        .assert_err(&format!(
            "error: Apply failed with 1 conflict: conflict with \"edge-controller\" with subresource \"status\": .status.conditions[type=\"example.com/Ready\"].message\n{CONFLICT_HELP}"
        ));

    k.write("status.yaml", &status.replace("name: edge", "name: nope"));
    let missing = k
        .run(&apply_status("--field-manager=edge-controller"))
        .await;
    assert!(
        missing.code == 1 && missing.stderr.contains("services \"nope\" not found"),
        "{missing:?}"
    );
    k.run(&["get", "svc", "nope"])
        .await
        .assert_err("Error from server (NotFound): services \"nope\" not found\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_missing_service_is_not_found() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.run(&["delete", "svc", "nope"])
        .await
        .assert_err("Error from server (NotFound): services \"nope\" not found\n");
    k.run(&["get", "svc", "nope"])
        .await
        .assert_err("Error from server (NotFound): services \"nope\" not found\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_manifest_prints_the_field_error_and_stores_nothing() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write(
        "bad-svc.yaml",
        &clusterip_yaml("bad-svc", "bad").replace("  - port: 80\n", "  - port: 0\n"),
    );
    k.run(&["apply", "-f", "bad-svc.yaml"]).await.assert_err(
        "The Service \"bad-svc\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive\n",
    );
    let missing = service(&k, "default", "bad-svc").await;
    assert_eq!(missing["code"], json!(404), "{missing}");

    k.write(
        "unk.yaml",
        &clusterip_yaml("unk", "unk").replace("spec:\n", "spec:\n  foo: bar\n"),
    );
    k.run(&["apply", "-f", "unk.yaml"]).await.assert_err(
        "Error from server (BadRequest): error when creating \"unk.yaml\": Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown field \"spec.foo\"\n",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_of_a_stale_copy_is_a_conflict() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "service", "x", &clusterip_yaml("x", "x")).await;
    let old = k.run(&["get", "svc", "x", "-o", "yaml"]).await;
    assert_eq!(old.code, 0, "{old:#?}");
    k.write("old.yaml", &old.stdout);
    k.run(&["label", "svc", "x", "env=prod"])
        .await
        .assert_ok("service/x labeled\n");
    k.run(&["replace", "-f", "old.yaml"]).await.assert_err(
        "Error from server (Conflict): error when replacing \"old.yaml\": Operation cannot be fulfilled on services \"x\": the object has been modified; please apply your changes to the latest version and try again\n",
    );
    assert_eq!(
        service(&k, "default", "x").await["metadata"]["labels"],
        json!({"app": "x", "env": "prod"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_namespaces_lists_every_namespace() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    let get = k.run(&["get", "ns"]).await;
    let age = ages(&get.stdout);
    let list = k.get_json("/api/v1/namespaces").await;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    assert!(
        items.iter().any(|ns| ns["metadata"]["name"] == "default"),
        "{list}"
    );
    let mut rows = vec![row(&["NAME", "STATUS", "AGE"])];
    for (ns, age) in items.iter().zip(&age) {
        let name = ns["metadata"]["name"].as_str().unwrap_or_default();
        rows.push(row(&[
            name,
            ns["status"]["phase"].as_str().unwrap_or_default(),
            age,
        ]));
    }
    get.assert_ok(&table(&rows));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_apply_get_describe_delete() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    apply_new(&k, "deployment.apps", "nginx", NGINX_DEPLOYMENT_YAML).await;

    let get = k.run(&["get", "deploy"]).await;
    let age = ages(&get.stdout);
    let stored = k
        .get_json("/apis/apps/v1/namespaces/default/deployments/nginx")
        .await;
    let status = |f: &str| stored["status"][f].as_i64().unwrap_or(0).to_string();
    let ready = format!("{}/2", status("readyReplicas"));
    let expected = table(&[
        row(&["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]),
        row(&[
            "nginx",
            &ready,
            &status("updatedReplicas"),
            &status("availableReplicas"),
            &age[0],
        ]),
    ]);
    get.assert_ok(&expected);

    let describe = k.run(&["describe", "deploy", "nginx"]).await;
    assert_eq!(
        (describe.code, describe.stderr.as_str()),
        (0, ""),
        "{describe:#?}"
    );
    let fields = describe_fields(&describe.stdout);
    assert_eq!(
        fields[0],
        ("Name".to_owned(), "nginx".to_owned()),
        "{}",
        describe.stdout
    );
    assert_eq!(field(&fields, "Namespace"), "default");
    assert_eq!(field(&fields, "Labels"), "app=nginx");
    assert_eq!(field(&fields, "Selector"), "app=nginx");
    assert!(
        field(&fields, "Replicas").starts_with("2 desired | "),
        "{}",
        describe.stdout
    );
    let image = describe
        .stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Image:"));
    assert_eq!(
        image.map(|l| l.trim_start_matches("Image:").trim()),
        Some("nginx:1.27"),
        "{}",
        describe.stdout
    );

    let expose = [
        "expose",
        "deployment",
        "nginx",
        "--port=80",
        "--type=LoadBalancer",
    ];
    k.run(&expose).await.assert_ok("service/nginx exposed\n");
    let exposed = service(&k, "default", "nginx").await;
    assert_eq!(exposed["metadata"]["labels"], json!({"app": "nginx"}));
    assert_eq!(exposed["spec"]["selector"], json!({"app": "nginx"}));
    let port = node_port(&exposed, 0);
    assert_eq!(
        exposed["spec"]["ports"],
        json!([{"nodePort": port, "port": 80, "protocol": "TCP", "targetPort": 80}])
    );

    k.run(&["delete", "deploy", "nginx"])
        .await
        .assert_ok("deployment.apps \"nginx\" deleted\n");
    let gone = k
        .get_json("/apis/apps/v1/namespaces/default/deployments/nginx")
        .await;
    assert_eq!(
        gone["message"],
        json!("deployments.apps \"nginx\" not found"),
        "{gone}"
    );
}
