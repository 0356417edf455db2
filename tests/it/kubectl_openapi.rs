//! The real kubectl v1.32 reading the published OpenAPI documents: `kubectl explain` from v2
//! (`--output=plaintext-openapiv2`) and v3, and client-side `kubectl apply`, which builds its
//! strategic merge patch from v2's patch extensions once `/openapi/v2` is served.

use serde_json::Value;

use crate::support::kubectl::Kubectl;

#[tokio::test]
async fn explain_reads_the_v2_document() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    let run = k
        .run(&[
            "explain",
            "service.spec.ports",
            "--output=plaintext-openapiv2",
        ])
        .await;
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:#?}");
    assert!(
        run.stdout.starts_with("KIND:     Service\nVERSION:  v1\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("RESOURCE: ports <[]Object>"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("The list of ports that are exposed by this service."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("   targetPort\t<string>\n"),
        "{}",
        run.stdout
    );
    // Upstream's `required`: a kind's metadata is optional, a ServicePort's port is not.
    let service = k
        .run(&["explain", "service", "--output=plaintext-openapiv2"])
        .await;
    assert_eq!(service.code, 0, "{service:#?}");
    assert!(
        service.stdout.contains("   metadata\t<Object>\n"),
        "{}",
        service.stdout
    );
    assert!(
        run.stdout.contains("   port\t<integer> -required-\n"),
        "{}",
        run.stdout
    );
    let deployment = k
        .run(&[
            "explain",
            "deployments.spec.template.spec.containers.ports",
            "--output=plaintext-openapiv2",
        ])
        .await;
    assert_eq!(deployment.code, 0, "{deployment:#?}");
    assert!(
        deployment
            .stdout
            .contains("   containerPort\t<integer> -required-\n"),
        "{}",
        deployment.stdout
    );
}

#[tokio::test]
async fn explain_reads_v3_at_every_depth() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    for (path, field) in [
        ("service", "spec\t<ServiceSpec>"),
        ("service.spec", "ports\t<[]ServicePort>"),
        ("service.spec.ports", "targetPort\t<IntOrString>"),
        (
            "deployment.spec.template.spec.containers",
            "image\t<string>",
        ),
        ("endpointslices.endpoints.conditions", "ready\t<boolean>"),
    ] {
        let run = k.run(&["explain", path]).await;
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{path}: {run:#?}");
        assert!(run.stdout.contains(field), "{path}: {}", run.stdout);
    }
}

/// A NodePort Service applied, then applied again with port 80 retargeted, 443 dropped and
/// 8443 added: kubectl (reading v2's `x-kubernetes-patch-merge-key: port`) sends a patch that
/// merges by port, so port 80 keeps the node port the server allocated.
#[tokio::test]
async fn client_side_apply_merges_service_ports_by_port() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    let manifest = |ports: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n  selector:\n    app: web\n  ports:\n{ports}"
        )
    };
    k.write(
        "web.yaml",
        &manifest(
            "  - name: http\n    port: 80\n    targetPort: 8080\n  - name: https\n    port: 443\n    targetPort: 8443\n",
        ),
    );
    k.run(&["apply", "-f", "web.yaml"])
        .await
        .assert_ok("service/web created\n");
    let before = service(&k).await;
    let node_port = before["spec"]["ports"][0]["nodePort"].clone();
    assert!(node_port.is_u64(), "{before}");

    k.write(
        "web.yaml",
        &manifest(
            "  - name: http\n    port: 80\n    targetPort: 9090\n  - name: alt\n    port: 8443\n    targetPort: 8443\n",
        ),
    );
    let run = k.run(&["apply", "-f", "web.yaml", "-v=6"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.contains("service/web configured"), "{run:#?}");
    assert!(
        run.stderr.contains("/openapi/v2?timeout=32s 200 OK"),
        "kubectl did not read /openapi/v2: {}",
        run.stderr
    );
    let after = service(&k).await;
    let ports: Vec<(u64, Value, Value)> = after["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| {
            (
                p["port"].as_u64().expect("port"),
                p["targetPort"].clone(),
                p["name"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            (80, 9090.into(), "http".into()),
            (8443, 8443.into(), "alt".into())
        ]
    );
    assert_eq!(after["spec"]["ports"][0]["nodePort"], node_port, "{after}");
}

async fn service(k: &Kubectl) -> Value {
    let run = k.run(&["get", "service", "web", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    serde_json::from_str(&run.stdout).expect("service JSON")
}
