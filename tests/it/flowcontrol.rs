//! API Priority and Fairness through kubectl: the bootstrap FlowSchemas and priority levels
//! with upstream's tables, the mandatory ones brought back when deleted, validation in
//! upstream's words, and the `X-Kubernetes-PF-*-UID` response headers naming the FlowSchema
//! and priority level each request was classified to, for the admin, ServiceAccounts, a
//! kube-system identity electing a leader and the anonymous user (refusals included; a
//! request that does not authenticate carries none).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::kubectl::{Kubectl, cells};
use crate::support::process::ServerProcess;
use crate::support::team::Team;

/// The FlowSchema and priority level uids of the last response `kubectl -v=8` logged.
fn pf_headers(log: &str) -> (Option<String>, Option<String>) {
    let last = |name: &str| {
        log.lines()
            .filter_map(|line| {
                let (_, rest) = line.split_once("]")?;
                let (key, value) = rest.trim().split_once(':')?;
                key.eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
            .next_back()
    };
    (
        last("X-Kubernetes-PF-FlowSchema-UID"),
        last("X-Kubernetes-PF-PriorityLevel-UID"),
    )
}

/// The uid of `resource/name`, read with `read`.
fn uid(read: impl Fn(&[&str]) -> String, resource: &str, name: &str) -> String {
    let uid = read(&["get", resource, name, "-o", "jsonpath={.metadata.uid}"]);
    assert!(!uid.is_empty(), "{resource}/{name} has a uid");
    uid
}

#[tokio::test]
async fn bootstrap_configuration_tables_headers_and_mandatory_objects() {
    let server = ServerProcess::start(&["--no-demo"]);
    let Some(kubectl) = Kubectl::for_server(&server.url) else {
        return;
    };
    // `kubectl get flowschemas`: upstream's columns, one row per bootstrap FlowSchema, each
    // with its priority level present (MISSINGPL False, from the Dangling condition).
    let listed = kubectl.run(&["get", "flowschemas"]).await;
    assert_eq!(
        (listed.code, listed.stderr.as_str()),
        (0, ""),
        "{listed:#?}"
    );
    let rows: Vec<Vec<String>> = listed.stdout.lines().map(cells).collect();
    assert_eq!(
        rows[0],
        [
            "NAME",
            "PRIORITYLEVEL",
            "MATCHINGPRECEDENCE",
            "DISTINGUISHERMETHOD",
            "AGE",
            "MISSINGPL"
        ]
    );
    let names: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        [
            "catch-all",
            "endpoint-controller",
            "exempt",
            "global-default",
            "kube-controller-manager",
            "kube-scheduler",
            "kube-system-service-accounts",
            "probes",
            "service-accounts",
            "system-leader-election",
            "system-node-high",
            "system-nodes",
            "workload-leader-election",
        ]
    );
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[0] == name)
            .cloned()
            .unwrap_or_default()
    };
    let without_age = |r: Vec<String>| [&r[..4], &r[5..]].concat();
    assert_eq!(
        without_age(row("exempt")),
        ["exempt", "exempt", "1", "<none>", "False"]
    );
    assert_eq!(
        without_age(row("kube-controller-manager")),
        [
            "kube-controller-manager",
            "workload-high",
            "800",
            "ByNamespace",
            "False"
        ]
    );
    assert_eq!(
        without_age(row("catch-all")),
        ["catch-all", "catch-all", "10000", "ByUser", "False"]
    );

    let levels = kubectl.run(&["get", "prioritylevelconfigurations"]).await;
    assert_eq!(levels.code, 0, "{levels:#?}");
    let rows: Vec<Vec<String>> = levels.stdout.lines().map(cells).collect();
    assert_eq!(
        rows[0],
        [
            "NAME",
            "TYPE",
            "NOMINALCONCURRENCYSHARES",
            "QUEUES",
            "HANDSIZE",
            "QUEUELENGTHLIMIT",
            "AGE"
        ]
    );
    let without_age: Vec<Vec<String>> = rows[1..].iter().map(|r| r[..6].to_vec()).collect();
    let expected = [
        ["catch-all", "Limited", "5", "<none>", "<none>", "<none>"],
        ["exempt", "Exempt", "<none>", "<none>", "<none>", "<none>"],
        ["global-default", "Limited", "20", "128", "6", "50"],
        ["leader-election", "Limited", "10", "16", "4", "50"],
        ["node-high", "Limited", "40", "64", "6", "50"],
        ["system", "Limited", "30", "64", "6", "50"],
        ["workload-high", "Limited", "40", "128", "6", "50"],
        ["workload-low", "Limited", "100", "128", "6", "50"],
    ];
    assert_eq!(without_age, expected);

    // Every bootstrap object is marked for auto-update.
    let annotation = kubectl
        .run(&[
            "get",
            "flowschema",
            "global-default",
            "-o",
            "jsonpath={.metadata.annotations}",
        ])
        .await;
    assert_eq!(
        annotation.stdout,
        r#"{"apf.kubernetes.io/autoupdate-spec":"true"}"#
    );

    // Local mode's users are in system:masters: the `exempt` FlowSchema and priority level.
    let jsonpath_uid = "jsonpath={.metadata.uid}";
    let exempt = kubectl
        .run(&["get", "flowschema", "exempt", "-o", jsonpath_uid])
        .await
        .stdout;
    let exempt_level = kubectl
        .run(&[
            "get",
            "prioritylevelconfiguration",
            "exempt",
            "-o",
            jsonpath_uid,
        ])
        .await
        .stdout;
    assert!(!exempt.is_empty() && !exempt_level.is_empty());
    let logged = kubectl.run(&["get", "svc", "-v=8"]).await;
    assert_eq!(
        pf_headers(&logged.stderr),
        (Some(exempt.clone()), Some(exempt_level.clone())),
        "{}",
        logged.stderr
    );

    // Probes are exempt for everyone, through the suggested `probes` FlowSchema.
    let probes = kubectl
        .run(&["get", "flowschema", "probes", "-o", jsonpath_uid])
        .await
        .stdout;
    let logged = kubectl.run(&["get", "--raw", "/readyz", "-v=8"]).await;
    assert_eq!(
        pf_headers(&logged.stderr),
        (Some(probes), Some(exempt_level.clone())),
        "{}",
        logged.stderr
    );

    // A deleted mandatory FlowSchema comes back (a new object), and requests name it.
    let deleted = kubectl.run(&["delete", "flowschema", "exempt"]).await;
    deleted.assert_ok("flowschema.flowcontrol.apiserver.k8s.io \"exempt\" deleted\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    let recreated = loop {
        let now = kubectl
            .run(&[
                "get",
                "flowschema",
                "exempt",
                "-o",
                "jsonpath={.metadata.uid}",
            ])
            .await;
        if now.code == 0 && !now.stdout.is_empty() && now.stdout != exempt {
            break now.stdout;
        }
        assert!(
            Instant::now() < deadline,
            "exempt was not re-created: {now:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let spec = kubectl
        .run(&[
            "get",
            "flowschema",
            "exempt",
            "-o",
            "jsonpath={.spec.matchingPrecedence} {.spec.rules[0].subjects[0].group.name}",
        ])
        .await;
    assert_eq!(spec.stdout, "1 system:masters");
    let logged = kubectl.run(&["get", "svc", "-v=8"]).await;
    assert_eq!(pf_headers(&logged.stderr).0, Some(recreated));

    // A mandatory spec cannot be changed, and the rules speak kube-apiserver's words.
    let patched = kubectl
        .run(&[
            "patch",
            "flowschema",
            "catch-all",
            "--type=merge",
            "-p",
            r#"{"spec":{"matchingPrecedence":9000}}"#,
        ])
        .await;
    assert_eq!(patched.code, 1);
    assert!(
        patched
            .stderr
            .starts_with("The FlowSchema \"catch-all\" is invalid: spec: Invalid value: ")
            && patched
                .stderr
                .ends_with(": spec of 'catch-all' must equal the fixed value\n"),
        "{}",
        patched.stderr
    );
    let bad = kubectl.write(
        "bad.yaml",
        "apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\nmetadata:\n  name: bad\nspec:\n  matchingPrecedence: 1\n  priorityLevelConfiguration:\n    name: global-default\n  rules:\n  - subjects:\n    - kind: User\n    resourceRules:\n    - verbs: [\"*\", \"get\"]\n      apiGroups: [\"*\"]\n      resources: [\"*\"]\n      namespaces: [\"*\"]\n",
    );
    let created = kubectl.run(&["create", "-f", &bad.to_string_lossy()]).await;
    created.assert_err(
        "The FlowSchema \"bad\" is invalid: \n\
         * spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1\n\
         * spec.rules[0].subjects[0].user: Required value: user is required when subject kind is 'User'\n\
         * spec.rules[0].resourceRules[0].verbs: Invalid value: []string{\"*\", \"get\"}: if '*' is present, must not specify other verbs\n",
    );
    let level = kubectl.write(
        "level.yaml",
        "apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: PriorityLevelConfiguration\nmetadata:\n  name: mine\nspec:\n  type: Limited\n  limited:\n    limitResponse:\n      type: Queue\n      queuing:\n        queues: 16\n",
    );
    let created = kubectl
        .run(&["create", "-f", &level.to_string_lossy()])
        .await;
    created.assert_ok("prioritylevelconfiguration.flowcontrol.apiserver.k8s.io/mine created\n");
    // Defaulted as v1 defaults it: 30 shares, hand size 8, queue length limit 50.
    let shown = kubectl
        .run(&["get", "prioritylevelconfiguration", "mine", "--no-headers"])
        .await;
    assert_eq!(
        cells(shown.stdout.trim())[..6],
        ["mine", "Limited", "30", "16", "8", "50"]
    );
}

/// A kubeconfig for `team`'s server authenticating as `user` with a client certificate its
/// CA signed.
fn client_kubeconfig(team: &Team, dir: &Path, user: &str) -> PathBuf {
    let pki = service_console::auth::pki::Pki::load(team.server.data_dir()).expect("the PKI");
    let (cert, key) = pki.issue_client(user, None).expect("a client certificate");
    let (cert_path, key_path) = (dir.join("client.crt"), dir.join("client.key"));
    std::fs::write(&cert_path, cert).expect("write the certificate");
    std::fs::write(&key_path, key).expect("write the key");
    let ca = team.server.data_dir().join("pki").join("ca.crt");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: team\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: client\n  user:\n    client-certificate: {}\n    client-key: {}\ncontexts:\n- name: team\n  context:\n    cluster: team\n    user: client\ncurrent-context: team\n",
        team.server.url,
        ca.display(),
        cert_path.display(),
        key_path.display()
    );
    let path = dir.join("client.kubeconfig");
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

/// A kubeconfig for `team`'s server whose requests authenticate as the anonymous user. It
/// carries basic-auth credentials, which this server (like kube-apiserver since v1.19) does not
/// read: without any, kubectl would prompt for a user name on a terminal.
fn anonymous_kubeconfig(team: &Team, dir: &Path) -> PathBuf {
    let ca = team.server.data_dir().join("pki").join("ca.crt");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: team\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: nobody\n  user:\n    username: nobody\n    password: nothing\ncontexts:\n- name: team\n  context:\n    cluster: team\n    user: nobody\ncurrent-context: team\n",
        team.server.url,
        ca.display()
    );
    let path = dir.join("anonymous.kubeconfig");
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

#[test]
fn requests_are_classified_by_who_makes_them_refusals_included() {
    let Some(team) = Team::start() else { return };
    let read = |args: &[&str]| team.admin_ok(args);
    let fs = |name: &str| Some(uid(read, "flowschema", name));
    let pl = |name: &str| Some(uid(read, "prioritylevelconfiguration", name));

    // The admin (system:masters) is exempt.
    let admin = team.run(&team.admin, &["get", "svc", "-v=8"]);
    assert_eq!(pf_headers(&admin.stderr), (fs("exempt"), pl("exempt")));

    // An ordinary ServiceAccount: service-accounts, at workload-low.
    let token = team.viewer_token();
    let alice = team.token_kubeconfig("alice", &token);
    let listed = team.run(&alice, &["get", "svc", "-v=8"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(
        pf_headers(&listed.stderr),
        (fs("service-accounts"), pl("workload-low"))
    );

    // A kube-system identity reading a Lease elects a leader: system-leader-election, even
    // though RBAC then refuses it (classification comes first).
    team.admin_ok(&["create", "serviceaccount", "elector", "-n", "kube-system"]);
    let token = team.admin_ok(&["create", "token", "elector", "-n", "kube-system"]);
    let elector = team.token_kubeconfig("elector", token.trim());
    let lease = team.run(
        &elector,
        &[
            "get",
            "lease",
            "kube-controller-manager",
            "-n",
            "kube-system",
            "-v=8",
        ],
    );
    assert_eq!(lease.code, 1);
    assert!(
        lease.stderr.contains("Response Status: 403 Forbidden"),
        "{}",
        lease.stderr
    );
    assert_eq!(
        pf_headers(&lease.stderr),
        (fs("system-leader-election"), pl("leader-election"))
    );
    // kube-controller-manager itself (a client certificate, as it authenticates upstream):
    // renewing its Lease is leader election, its other requests are its own FlowSchema's.
    let dir = tempfile::tempdir().expect("temporary directory");
    let kcm = client_kubeconfig(&team, dir.path(), "system:kube-controller-manager");
    let lease = team.run(
        &kcm,
        &[
            "get",
            "lease",
            "kube-controller-manager",
            "-n",
            "kube-system",
            "-v=8",
        ],
    );
    assert_eq!(lease.code, 0, "{}", lease.stderr);
    assert_eq!(
        pf_headers(&lease.stderr),
        (fs("system-leader-election"), pl("leader-election"))
    );
    let leases = team.run(&kcm, &["get", "leases", "-n", "kube-system", "-v=8"]);
    assert_eq!(
        pf_headers(&leases.stderr),
        (fs("kube-controller-manager"), pl("workload-high")),
        "a list is not leader election"
    );

    // The ServiceAccount's other requests are kube-system-service-accounts', at workload-high.
    let pods = team.run(&elector, &["get", "pods", "-n", "default", "-v=8"]);
    assert_eq!(
        pf_headers(&pods.stderr),
        (fs("kube-system-service-accounts"), pl("workload-high"))
    );

    // The anonymous user: global-default, on the 403 it gets.
    let anonymous = anonymous_kubeconfig(&team, dir.path());
    let refused = team.run(&anonymous, &["get", "svc", "-v=8"]);
    assert!(
        refused.stderr.contains("Response Status: 403 Forbidden"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        pf_headers(&refused.stderr),
        (fs("global-default"), pl("global-default"))
    );

    // Credentials that do not authenticate fail before classification: no headers.
    let bogus = team.token_kubeconfig("bogus", "not-a-token");
    let unauthorized = team.run(&bogus, &["get", "svc", "-v=8"]);
    assert!(
        unauthorized
            .stderr
            .contains("Response Status: 401 Unauthorized"),
        "{}",
        unauthorized.stderr
    );
    assert_eq!(pf_headers(&unauthorized.stderr), (None, None));
}
