//! Team mode (`serve --tls`) through the real kubectl: the admin kubeconfig, a ServiceAccount
//! token bound to `view`, bad tokens, RBAC's escalation check and revocation; and local mode's
//! front door (the Host check, the 415 on a write without a Kubernetes Content-Type, the
//! refusal of a public address).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use service_console::auth::pki::Pki;
use service_console::auth::tokens::{ISSUER, TokenKeys};

use crate::support::process::ServerProcess;
use crate::support::team::{Team, now};

const UNAUTHORIZED: &str = "error: You must be logged in to the server (Unauthorized)\n";

#[test]
fn the_admin_kubeconfig_is_kubernetes_admin_in_system_masters() {
    let Some(team) = Team::start() else { return };
    let whoami = team.admin_ok(&[
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username} {.status.userInfo.groups}",
    ]);
    assert_eq!(
        whoami,
        "kubernetes-admin [\"system:masters\",\"system:authenticated\"]"
    );
    let services = team.admin_ok(&["get", "svc", "-o", "name"]);
    assert_eq!(services, "service/kubernetes\n");
    assert_eq!(
        team.admin_ok(&["auth", "can-i", "delete", "nodes"]),
        "yes\n"
    );
    // Every namespace has its default ServiceAccount.
    team.admin_ok(&["create", "namespace", "team-a"]);
    assert_eq!(
        team.admin_ok(&["get", "sa", "-n", "team-a", "-o", "name"]),
        "serviceaccount/default\n"
    );
}

#[test]
fn a_viewer_token_reads_but_may_not_write() {
    let Some(team) = Team::start() else { return };
    team.admin_ok(&["create", "serviceaccount", "alice"]);
    team.admin_ok(&[
        "create",
        "rolebinding",
        "alice-view",
        "--clusterrole=view",
        "--serviceaccount=default:alice",
    ]);
    let token = team.admin_ok(&["create", "token", "alice", "--duration", "1h"]);
    let alice = team.token_kubeconfig("alice", token.trim());
    let whoami = team.run(
        &alice,
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    );
    assert_eq!(
        whoami.stdout, "system:serviceaccount:default:alice",
        "{}",
        whoami.stderr
    );
    let list = team.run(&alice, &["get", "svc", "-o", "name"]);
    assert_eq!(
        (list.code, list.stdout.as_str()),
        (0, "service/kubernetes\n"),
        "{}",
        list.stderr
    );
    let create = team.run(
        &alice,
        &["create", "service", "clusterip", "web", "--tcp=80"],
    );
    assert_eq!(create.code, 1);
    assert_eq!(
        create.stderr,
        "error: failed to create ClusterIP service: services is forbidden: User \"system:serviceaccount:default:alice\" cannot create resource \"services\" in API group \"\" in the namespace \"default\"\n"
    );
    let can = team.run(&alice, &["auth", "can-i", "create", "services"]);
    assert_eq!((can.code, can.stdout.as_str()), (1, "no\n"));
    let can = team.run(&alice, &["auth", "can-i", "list", "services"]);
    assert_eq!((can.code, can.stdout.as_str()), (0, "yes\n"));
    let other = team.run(&alice, &["get", "svc", "-n", "kube-system"]);
    assert!(
        other.stderr.contains("services is forbidden: User \"system:serviceaccount:default:alice\" cannot list resource \"services\" in API group \"\" in the namespace \"kube-system\""),
        "{}",
        other.stderr
    );
    let rules = team.run(&alice, &["auth", "can-i", "--list"]);
    assert!(rules.stdout.contains("services "), "{}", rules.stdout);

    // Deleting the ServiceAccount revokes its token.
    team.admin_ok(&["delete", "serviceaccount", "alice"]);
    let revoked = team.run(&alice, &["get", "svc"]);
    assert_eq!((revoked.code, revoked.stderr.as_str()), (1, UNAUTHORIZED));
}

#[test]
fn expired_and_foreign_tokens_are_unauthorized() {
    let Some(team) = Team::start() else { return };
    team.admin_ok(&["create", "serviceaccount", "bob"]);
    let uid = team.admin_ok(&["get", "sa", "bob", "-o", "jsonpath={.metadata.uid}"]);
    let expired = team
        .keys()
        .issue(
            "default",
            "bob",
            &uid,
            vec![ISSUER.into()],
            now() - 7200,
            3600,
        )
        .expect("token");
    let foreign_dir = tempfile::tempdir().expect("dir");
    let foreign = Pki::load_or_create(foreign_dir.path(), &[]).expect("pki");
    let foreign = TokenKeys::from_pem(&foreign_sa_key(&foreign), &foreign.sa_public_pem)
        .expect("keys")
        .issue("default", "bob", &uid, vec![ISSUER.into()], now(), 3600)
        .expect("token");
    let valid = team
        .keys()
        .issue("default", "bob", &uid, vec![ISSUER.into()], now(), 3600)
        .expect("token");
    for (name, token) in [
        ("expired", expired.as_str()),
        ("foreign", foreign.as_str()),
        ("garbage", "not-a-token"),
    ] {
        let config = team.token_kubeconfig(name, token);
        let out = team.run(&config, &["get", "svc"]);
        assert_eq!((out.code, out.stderr.as_str()), (1, UNAUTHORIZED), "{name}");
    }
    // The same claims signed by the server authenticate (bob may not list, so: 403, not 401).
    let config = team.token_kubeconfig("valid", &valid);
    let out = team.run(&config, &["get", "svc"]);
    assert!(
        out.stderr
            .contains("services is forbidden: User \"system:serviceaccount:default:bob\""),
        "{}",
        out.stderr
    );
}

fn foreign_sa_key(pki: &Pki) -> String {
    std::fs::read_to_string(pki.dir.join("sa.key")).expect("sa.key")
}

#[test]
fn nobody_grants_what_they_do_not_hold() {
    let Some(team) = Team::start() else { return };
    team.admin_ok(&["create", "serviceaccount", "carol"]);
    team.admin_ok(&[
        "create",
        "rolebinding",
        "carol-admin",
        "--clusterrole=admin",
        "--serviceaccount=default:carol",
    ]);
    let token = team.admin_ok(&["create", "token", "carol"]);
    let carol = team.token_kubeconfig("carol", token.trim());
    // admin may manage roles in its namespace, within what it holds.
    let ok = team.run(
        &carol,
        &[
            "create",
            "role",
            "svc-reader",
            "--verb=get",
            "--resource=services",
        ],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let escalate = team.run(
        &carol,
        &[
            "create",
            "role",
            "node-reader",
            "--verb=get",
            "--resource=nodes",
        ],
    );
    assert_eq!(escalate.code, 1);
    assert!(
        escalate.stderr.contains("roles.rbac.authorization.k8s.io \"node-reader\" is forbidden: user \"system:serviceaccount:default:carol\" (groups=[\"system:serviceaccounts\" \"system:serviceaccounts:default\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"get\"]}"),
        "{}",
        escalate.stderr
    );
    let bind = team.run(
        &carol,
        &[
            "create",
            "rolebinding",
            "carol-root",
            "--clusterrole=cluster-admin",
            "--serviceaccount=default:carol",
        ],
    );
    assert_eq!(bind.code, 1);
    assert!(
        bind.stderr
            .contains("is attempting to grant RBAC permissions not currently held"),
        "{}",
        bind.stderr
    );
    assert_eq!(
        team.admin_ok(&["get", "roles", "-o", "name"]),
        "role.rbac.authorization.k8s.io/svc-reader\n"
    );
}

/// One raw HTTP/1.1 request to a local-mode server; the whole response.
fn raw(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn local_mode_answers_only_this_machine_and_kubernetes_bodies() {
    let server = ServerProcess::start(&["--no-demo"]);
    let rebound = raw(
        server.port,
        "GET /services HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    );
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    assert!(
        rebound
            .to_ascii_lowercase()
            .contains("x-content-type-options: nosniff")
    );
    assert!(!rebound.contains("csrf"), "{rebound}");
    let console = raw(
        server.port,
        "GET /services HTTP/1.1\r\nHost: localhost:8080\r\nConnection: close\r\n\r\n",
    );
    assert!(
        console.starts_with("HTTP/1.1 200"),
        "{}",
        &console[..80.min(console.len())]
    );
    assert!(
        console
            .to_ascii_lowercase()
            .contains("x-content-type-options: nosniff")
    );

    let body = r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80}]}}"#;
    for content_type in ["", "Content-Type: text/plain\r\n"] {
        let answer = raw(
            server.port,
            &format!(
                "POST /api/v1/namespaces/default/services HTTP/1.1\r\nHost: 127.0.0.1\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        );
        assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
        assert!(
            answer.contains("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf"),
            "{answer}"
        );
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("x-content-type-options: nosniff")
        );
    }
    let listed = server
        .get("/api/v1/namespaces/default/services/web")
        .expect("get");
    assert!(listed.starts_with("HTTP/1.1 404"), "{listed}");
}

#[test]
fn a_public_address_without_tls_refuses_to_start() {
    let dir = tempfile::tempdir().expect("dir");
    let output = Command::new(env!("CARGO_BIN_EXE_service-console"))
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to serve plain HTTP without authentication on 0.0.0.0:0")
            && stderr.contains("--tls"),
        "{stderr}"
    );
}

#[test]
fn controllers_write_only_what_their_roles_allow() {
    let Some(team) = Team::start() else { return };
    team.admin_ok(&["create", "service", "clusterip", "before", "--tcp=80"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while team.run(&team.admin, &["get", "endpoints", "before"]).code != 0 {
        assert!(
            Instant::now() < deadline,
            "the endpoints controller wrote nothing"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Without its binding the endpoints controller (kube-system/endpoint-controller) may not
    // write Endpoints: a new Service gets none.
    team.admin_ok(&[
        "delete",
        "clusterrolebinding",
        "system:controller:endpoint-controller",
    ]);
    team.admin_ok(&["create", "service", "clusterip", "after", "--tcp=80"]);
    std::thread::sleep(Duration::from_secs(2));
    let missing = team.run(&team.admin, &["get", "endpoints", "after"]);
    assert_eq!(missing.code, 1, "{}", missing.stdout);
    assert!(
        missing.stderr.contains("endpoints \"after\" not found"),
        "{}",
        missing.stderr
    );
}

/// kube-controller-manager's user renews the controllers' lease through its bootstrap role;
/// without its binding renewals are refused, and the leader stops its controllers once the
/// renew deadline passes.
#[test]
fn the_controllers_lead_only_while_their_role_allows_renewing_the_lease() {
    let Some(team) = Team::start_with(&[
        "--leader-elect-lease-duration",
        "3s",
        "--leader-elect-renew-deadline",
        "2s",
        "--leader-elect-retry-period",
        "500ms",
    ]) else {
        return;
    };
    let lease = [
        "get",
        "lease",
        "kube-controller-manager",
        "-n",
        "kube-system",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ];
    let holder = team.admin_ok(&lease);
    assert!(!holder.is_empty());
    assert!(
        team.server.log().contains("successfully acquired lease"),
        "{}",
        team.server.log()
    );
    team.admin_ok(&[
        "delete",
        "clusterrolebinding",
        "system:kube-controller-manager",
    ]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !team.server.log().contains("leaderelection lost") {
        assert!(
            Instant::now() < deadline,
            "the leader kept leading: {}",
            team.server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = team.server.log();
    assert!(
        log.contains("User \"system:kube-controller-manager\" cannot update resource \"leases\""),
        "{log}"
    );
    // No controllers run: a new Service gets no Endpoints.
    team.admin_ok(&["create", "service", "clusterip", "orphan", "--tcp=80"]);
    std::thread::sleep(Duration::from_secs(2));
    let missing = team.run(&team.admin, &["get", "endpoints", "orphan"]);
    assert_eq!(missing.code, 1, "{}", missing.stdout);
}
