//! Deployments roll out through ReplicaSets as on a real cluster: the real kubectl's `get all`,
//! `rollout status|history|undo|restart`, `set image` and `scale` against a server whose
//! controllers run over the demo cluster (`nginx`, 2 replicas, RollingUpdate 25%/25%), and the
//! Endpoints of a Service selecting the pods follow them.

use std::time::Duration;

use serde_json::{Value, json};
use service_console::registry::{ClusterSettings, WriteOptions, kind_by_plural};

use crate::support::TestCluster;
use crate::support::kubectl::{DEADLINE, Kubectl};

const RS_PATH: &str = "/apis/apps/v1/namespaces/default/replicasets";
const DEPLOY_PATH: &str = "/apis/apps/v1/namespaces/default/deployments/nginx";

/// A kubectl over the demo cluster with running controllers; `None` means skip.
async fn demo() -> Option<Kubectl> {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    Kubectl::start_with(cluster).await
}

/// Polls `check` until it gives a value, failing after [`DEADLINE`] with `what`.
async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn items(list: &Value) -> Vec<Value> {
    list["items"].as_array().cloned().unwrap_or_default()
}

fn annotation<'a>(object: &'a Value, key: &str) -> &'a str {
    object["metadata"]["annotations"][key]
        .as_str()
        .unwrap_or_default()
}

/// The ReplicaSets of nginx, by revision.
async fn replica_sets(k: &Kubectl) -> Vec<Value> {
    let mut rss = items(&k.get_json(RS_PATH).await);
    rss.sort_by_key(|rs| {
        annotation(rs, "deployment.kubernetes.io/revision")
            .parse::<i64>()
            .unwrap_or(0)
    });
    rss
}

/// The pods of nginx that are Running.
async fn running_pods(k: &Kubectl) -> Vec<Value> {
    items(&k.get_json("/api/v1/namespaces/default/pods").await)
        .into_iter()
        .filter(|p| p["status"]["phase"] == json!("Running"))
        .collect()
}

/// `kubectl rollout status deployment/nginx`, which must end as upstream's does.
async fn rollout_status(k: &Kubectl) {
    let run = k
        .run(&["rollout", "status", "deployment/nginx", "--timeout=25s"])
        .await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .ends_with("deployment \"nginx\" successfully rolled out\n"),
        "{run:#?}"
    );
}

/// Waits until the one ReplicaSet with replicas has them all ready and every other has
/// none, and returns it.
async fn settled_on_one(k: &Kubectl, replicas: i64) -> Value {
    until("one active ReplicaSet", || async {
        let rss = replica_sets(k).await;
        let active: Vec<&Value> = rss
            .iter()
            .filter(|rs| rs["spec"]["replicas"] != json!(0))
            .collect();
        let idle = rss
            .iter()
            .filter(|rs| rs["spec"]["replicas"] == json!(0))
            .all(|rs| rs["status"]["replicas"] == json!(0));
        let pods = running_pods(k).await;
        match active.as_slice() {
            [rs] if idle
                && rs["status"]["readyReplicas"] == json!(replicas)
                && pods.len() == usize::try_from(replicas).unwrap_or(0) =>
            {
                Some((*rs).clone())
            }
            _ => None,
        }
    })
    .await
}

fn hash_of(rs: &Value) -> String {
    rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .expect("pod-template-hash label")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_owns_a_replica_set_that_owns_the_pods() {
    let Some(k) = demo().await else { return };
    rollout_status(&k).await;
    let rs = settled_on_one(&k, 2).await;
    let deploy = k.get_json(DEPLOY_PATH).await;
    let hash = hash_of(&rs);
    // controller.ComputeHash's encoding: one safe character per decimal digit of a u32.
    assert!(
        (1..=10).contains(&hash.len())
            && hash
                .bytes()
                .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)),
        "{hash}"
    );
    assert_eq!(rs["metadata"]["name"], json!(format!("nginx-{hash}")));
    assert_eq!(
        rs["metadata"]["ownerReferences"],
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "nginx",
                "uid": deploy["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}])
    );
    assert_eq!(
        rs["spec"]["selector"],
        json!({"matchLabels": {"app": "nginx", "pod-template-hash": hash}})
    );
    assert_eq!(
        rs["spec"]["template"]["metadata"]["labels"],
        json!({"app": "nginx", "pod-template-hash": hash})
    );
    // 2 replicas, maxSurge 25% of 2 rounded up: at most 3.
    for (key, value) in [
        ("deployment.kubernetes.io/revision", "1"),
        ("deployment.kubernetes.io/desired-replicas", "2"),
        ("deployment.kubernetes.io/max-replicas", "3"),
    ] {
        assert_eq!(annotation(&rs, key), value, "{key}: {rs:#}");
    }
    assert_eq!(
        annotation(&deploy, "deployment.kubernetes.io/revision"),
        "1"
    );
    assert_eq!(
        rs["status"],
        json!({"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2,
               "availableReplicas": 2, "observedGeneration": 1})
    );
    for pod in running_pods(&k).await {
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        let suffix = name.strip_prefix(&format!("nginx-{hash}-")).unwrap_or("");
        assert_eq!(suffix.len(), 5, "{name}");
        assert_eq!(pod["metadata"]["labels"]["pod-template-hash"], json!(hash));
        assert_eq!(
            pod["metadata"]["ownerReferences"][0]["uid"],
            rs["metadata"]["uid"]
        );
    }
    // Upstream's conditions once the rollout is complete.
    let conditions = &deploy["status"]["conditions"];
    assert_eq!(conditions[0]["type"], json!("Available"));
    assert_eq!(conditions[0]["reason"], json!("MinimumReplicasAvailable"));
    assert_eq!(
        conditions[0]["message"],
        json!("Deployment has minimum availability.")
    );
    assert_eq!(conditions[1]["type"], json!("Progressing"));
    assert_eq!(conditions[1]["reason"], json!("NewReplicaSetAvailable"));
    assert_eq!(
        conditions[1]["message"],
        json!(format!(
            "ReplicaSet \"nginx-{hash}\" has successfully progressed."
        ))
    );

    // `kubectl get all`: pods, services, deployments, replicasets, in that order (discovery
    // lists a group version's resources by name, as kube-apiserver does).
    let run = k.run(&["get", "all"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let positions: Vec<usize> = [
        format!("pod/nginx-{hash}-"),
        "service/kubernetes ".to_string(),
        "deployment.apps/nginx ".to_string(),
        format!("replicaset.apps/nginx-{hash} "),
    ]
    .iter()
    .map(|wanted| {
        run.stdout
            .find(wanted.as_str())
            .unwrap_or_else(|| panic!("{wanted:?} in {}", run.stdout))
    })
    .collect();
    assert!(positions.is_sorted(), "{positions:?} in {}", run.stdout);
    let header = run
        .stdout
        .lines()
        .find(|l| l.contains("DESIRED"))
        .expect("the ReplicaSets' header");
    assert_eq!(
        crate::support::kubectl::cells(header),
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    );
    // `kubectl describe` finds the new ReplicaSet and the controller's events.
    let run = k.run(&["describe", "deployment", "nginx"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    for wanted in [
        format!("NewReplicaSet:   nginx-{hash} (2/2 replicas created)"),
        "ScalingReplicaSet  ".to_string(),
        format!("Scaled up replica set nginx-{hash} to 2"),
    ] {
        assert!(run.stdout.contains(&wanted), "{wanted:?} in {}", run.stdout);
    }
    let run = k.run(&["describe", "rs", &format!("nginx-{hash}")]).await;
    for wanted in [
        "Controlled By:  Deployment/nginx".to_string(),
        "SuccessfulCreate  ".to_string(),
        format!("Created pod: nginx-{hash}-"),
    ] {
        assert!(run.stdout.contains(&wanted), "{wanted:?} in {}", run.stdout);
    }
    let run = k.run(&["get", "rs", "-o", "wide", "--no-headers"]).await;
    let cells = crate::support::kubectl::cells(run.stdout.trim_end());
    assert_eq!(
        cells
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 4)
            .map(|(_, c)| c.as_str())
            .collect::<Vec<_>>(),
        [
            format!("nginx-{hash}").as_str(),
            "2",
            "2",
            "2",
            "nginx",
            "nginx:1.25",
            format!("app=nginx,pod-template-hash={hash}").as_str()
        ],
        "{run:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_image_rolls_over_the_endpoints_and_undo_brings_revision_one_back() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let body = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80}]}
    });
    cluster
        .registry()
        .create_service("default", &body, &WriteOptions::default())
        .await
        .expect("service");
    let Some(k) = Kubectl::start_with(cluster).await else {
        return;
    };
    rollout_status(&k).await;
    let first = settled_on_one(&k, 2).await;

    let run = k
        .run(&["set", "image", "deployment/nginx", "nginx=nginx:1.27"])
        .await;
    run.assert_ok("deployment.apps/nginx image updated\n");
    rollout_status(&k).await;
    let second = settled_on_one(&k, 2).await;
    assert_ne!(hash_of(&second), hash_of(&first));
    assert_eq!(
        annotation(&second, "deployment.kubernetes.io/revision"),
        "2"
    );
    assert_eq!(
        second["spec"]["template"]["spec"]["containers"][0]["image"],
        json!("nginx:1.27")
    );
    // The old ReplicaSet stays, scaled to zero, as revision 1.
    let rss = replica_sets(&k).await;
    assert_eq!(rss.len(), 2, "{rss:#?}");
    assert_eq!(rss[0]["metadata"]["name"], first["metadata"]["name"]);
    assert_eq!(rss[0]["spec"]["replicas"], json!(0));

    // The Service's Endpoints follow the new pods.
    let new_ips: Vec<String> = until("endpoints of the new pods", || async {
        let pods = running_pods(&k).await;
        let mut ips: Vec<String> = pods
            .iter()
            .filter(|p| p["metadata"]["labels"]["pod-template-hash"] == json!(hash_of(&second)))
            .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
            .collect();
        ips.sort();
        let ep = k.get_json("/api/v1/namespaces/default/endpoints/web").await;
        let mut listed: Vec<String> = ep["subsets"][0]["addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["ip"].as_str().map(str::to_string))
            .collect();
        listed.sort();
        (ips.len() == 2 && listed == ips).then_some(ips)
    })
    .await;
    assert_eq!(new_ips.len(), 2);

    let run = k.run(&["rollout", "history", "deployment/nginx"]).await;
    run.assert_ok(
        "deployment.apps/nginx \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n",
    );

    // kubectl undoes client-side: the template of revision 1 is patched back, and the
    // controller reuses revision 1's ReplicaSet as revision 3.
    let run = k.run(&["rollout", "undo", "deployment/nginx"]).await;
    run.assert_ok("deployment.apps/nginx rolled back\n");
    rollout_status(&k).await;
    let third = settled_on_one(&k, 2).await;
    assert_eq!(third["metadata"]["name"], first["metadata"]["name"]);
    assert_eq!(annotation(&third, "deployment.kubernetes.io/revision"), "3");
    assert_eq!(
        annotation(&third, "deployment.kubernetes.io/revision-history"),
        "1"
    );
    let deploy = k.get_json(DEPLOY_PATH).await;
    assert_eq!(
        annotation(&deploy, "deployment.kubernetes.io/revision"),
        "3"
    );
    for pod in running_pods(&k).await {
        assert_eq!(pod["spec"]["containers"][0]["image"], json!("nginx:1.25"));
    }
    let run = k.run(&["rollout", "history", "deployment/nginx"]).await;
    run.assert_ok(
        "deployment.apps/nginx \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_makes_a_new_replica_set_and_scale_resizes_it() {
    let Some(k) = demo().await else { return };
    rollout_status(&k).await;
    let first = settled_on_one(&k, 2).await;

    let run = k.run(&["rollout", "restart", "deployment/nginx"]).await;
    run.assert_ok("deployment.apps/nginx restarted\n");
    rollout_status(&k).await;
    let restarted = settled_on_one(&k, 2).await;
    assert_ne!(hash_of(&restarted), hash_of(&first));
    assert!(
        !annotation(
            &restarted["spec"]["template"],
            "kubectl.kubernetes.io/restartedAt"
        )
        .is_empty(),
        "{restarted:#}"
    );

    let run = k.run(&["scale", "deployment/nginx", "--replicas=5"]).await;
    run.assert_ok("deployment.apps/nginx scaled\n");
    rollout_status(&k).await;
    let scaled = settled_on_one(&k, 5).await;
    // A scaling event resizes the ReplicaSet in place: no new revision.
    assert_eq!(scaled["metadata"]["name"], restarted["metadata"]["name"]);
    assert_eq!(
        annotation(&scaled, "deployment.kubernetes.io/desired-replicas"),
        "5"
    );
    assert_eq!(
        annotation(&scaled, "deployment.kubernetes.io/max-replicas"),
        "7"
    );
    let deploy = k.get_json(DEPLOY_PATH).await;
    assert_eq!(deploy["status"]["replicas"], json!(5));
    assert_eq!(deploy["status"]["updatedReplicas"], json!(5));
    assert_eq!(deploy["status"]["availableReplicas"], json!(5));
    let run = k.run(&["get", "deploy", "nginx", "--no-headers"]).await;
    assert_eq!(
        crate::support::kubectl::cells(run.stdout.trim_end())[..4],
        ["nginx", "5/5", "5", "5"],
        "{run:#?}"
    );

    // The scale subresource of the ReplicaSet reads as a Scale.
    let name = scaled["metadata"]["name"].as_str().expect("name");
    let scale = k.get_json(&format!("{RS_PATH}/{name}/scale")).await;
    assert_eq!(scale["kind"], json!("Scale"));
    assert_eq!(scale["spec"]["replicas"], json!(5));
}

/// Rolling out template after template with `revisionHistoryLimit: 1` keeps one old
/// ReplicaSet; a Recreate Deployment never runs old and new pods together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_limit_cleans_old_replica_sets_and_recreate_replaces_all_pods() {
    let Some(k) = demo().await else { return };
    rollout_status(&k).await;
    let patch = r#"{"spec":{"revisionHistoryLimit":1,"strategy":{"type":"Recreate","rollingUpdate":null}}}"#;
    let run = k
        .run(&["patch", "deployment/nginx", "--type=merge", "-p", patch])
        .await;
    run.assert_ok("deployment.apps/nginx patched\n");
    for image in ["nginx:1.26", "nginx:1.27", "nginx:1.28"] {
        let set = format!("nginx={image}");
        let run = k.run(&["set", "image", "deployment/nginx", &set]).await;
        run.assert_ok("deployment.apps/nginx image updated\n");
        rollout_status(&k).await;
        settled_on_one(&k, 2).await;
    }
    let rss = until("old revisions cleaned up", || async {
        let rss = replica_sets(&k).await;
        (rss.len() == 2).then_some(rss)
    })
    .await;
    let revisions: Vec<&str> = rss
        .iter()
        .map(|rs| annotation(rs, "deployment.kubernetes.io/revision"))
        .collect();
    // Revision 1 and the three images: 2, 3 and 4; only the newest old one is kept.
    assert_eq!(revisions, ["3", "4"]);
    // Recreate: max-replicas has no surge.
    assert_eq!(
        annotation(&rss[1], "deployment.kubernetes.io/max-replicas"),
        "2"
    );
    let events = k
        .run(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=nginx",
            "-o",
            "json",
        ])
        .await;
    let events: Value = serde_json::from_str(&events.stdout).expect("events JSON");
    let scaled: Vec<String> = items(&events)
        .iter()
        .filter(|e| e["reason"] == json!("ScalingReplicaSet"))
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect();
    assert!(
        scaled
            .iter()
            .any(|m| m.starts_with("Scaled down replica set nginx-") && m.ends_with(" to 0 from 2")),
        "{scaled:#?}"
    );
}

/// ReplicaSets are validated as kube-apiserver validates them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_sets_are_defaulted_and_validated() {
    let cluster = TestCluster::new().await;
    let registry = cluster.registry();
    let kind = kind_by_plural("replicasets").expect("replicasets are served");
    let body = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "other"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}
    });
    let err = registry
        .create(kind, "default", &body, &WriteOptions::default())
        .await
        .expect_err("labels do not match");
    assert_eq!(
        err.to_string(),
        "ReplicaSet.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
    );
    let mut ok = body.clone();
    ok["spec"]["template"]["metadata"]["labels"] = json!({"app": "web"});
    let created = registry
        .create(kind, "default", &ok, &WriteOptions::default())
        .await
        .expect("create")
        .object;
    assert_eq!(created["spec"]["replicas"], json!(1));
    assert_eq!(created["metadata"]["generation"], json!(1));
    assert_eq!(created["status"], json!({"replicas": 0}));
    let pod_spec = &created["spec"]["template"]["spec"];
    assert_eq!(pod_spec["restartPolicy"], json!("Always"));
    assert_eq!(
        pod_spec["containers"][0]["imagePullPolicy"],
        json!("Always")
    );
    let mut changed = created.clone();
    changed["spec"]["selector"] = json!({"matchLabels": {"app": "web", "tier": "x"}});
    changed["spec"]["template"]["metadata"]["labels"] = json!({"app": "web", "tier": "x"});
    let err = registry
        .update(kind, "default", "web", &changed, &WriteOptions::default())
        .await
        .expect_err("selector is immutable");
    assert_eq!(
        err.to_string(),
        "ReplicaSet.apps \"web\" is invalid: spec.selector: Invalid value: &LabelSelector{MatchLabels:map[string]string{app: web,tier: x,},MatchExpressions:[]LabelSelectorRequirement{},}: field is immutable"
    );
}

/// A data directory from before ReplicaSets has pods the Deployment controlled itself: the
/// deployment controller removes them and the ReplicaSet's pods take their place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_a_deployment_controlled_directly_give_way_to_its_replica_set() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    let deployments = kind_by_plural("deployments").expect("deployments");
    let pods = kind_by_plural("pods").expect("pods");
    let deploy = until("the demo Deployment", || async {
        registry.get(deployments, "default", "nginx").await.ok()
    })
    .await;
    let legacy = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "nginx-legacy-abcde", "labels": {"app": "nginx"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                          "name": "nginx", "uid": deploy["metadata"]["uid"],
                                          "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}
    });
    registry
        .create(pods, "default", &legacy, &WriteOptions::default())
        .await
        .expect("legacy pod");
    let names = until("only the ReplicaSet's pods", || async {
        let page = registry
            .list("pods", Some("default"), &Default::default())
            .await
            .ok()?;
        let owners: Vec<(String, String)> = page
            .items
            .iter()
            .map(|p| {
                (
                    p["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    p["metadata"]["ownerReferences"][0]["kind"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect();
        (owners.len() == 2 && owners.iter().all(|(_, kind)| kind == "ReplicaSet")).then_some(owners)
    })
    .await;
    assert!(
        names.iter().all(|(name, _)| name != "nginx-legacy-abcde"),
        "{names:?}"
    );
}

/// A paused Deployment takes template changes without rolling them out; resuming does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_holds_a_template_change_until_resume() {
    let Some(k) = demo().await else { return };
    rollout_status(&k).await;
    let first = settled_on_one(&k, 2).await;
    let run = k.run(&["rollout", "pause", "deployment/nginx"]).await;
    run.assert_ok("deployment.apps/nginx paused\n");
    let run = k
        .run(&["set", "image", "deployment/nginx", "nginx=nginx:1.27"])
        .await;
    run.assert_ok("deployment.apps/nginx image updated\n");
    let deploy = until("the paused change observed", || async {
        let d = k.get_json(DEPLOY_PATH).await;
        let observed = d["status"]["observedGeneration"] == d["metadata"]["generation"];
        let paused = d["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == json!("Progressing") && c["reason"] == json!("DeploymentPaused"));
        (observed && paused).then_some(d)
    })
    .await;
    let progressing = deploy["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == json!("Progressing"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(progressing["status"], json!("Unknown"));
    assert_eq!(progressing["message"], json!("Deployment is paused"));
    let rss = replica_sets(&k).await;
    assert_eq!(rss.len(), 1, "no rollout while paused: {rss:#?}");
    assert_eq!(rss[0]["metadata"]["name"], first["metadata"]["name"]);

    let run = k.run(&["rollout", "resume", "deployment/nginx"]).await;
    run.assert_ok("deployment.apps/nginx resumed\n");
    rollout_status(&k).await;
    let resumed = settled_on_one(&k, 2).await;
    assert_ne!(resumed["metadata"]["name"], first["metadata"]["name"]);
    assert_eq!(
        resumed["spec"]["template"]["spec"]["containers"][0]["image"],
        json!("nginx:1.27")
    );
}

/// With no node to run its pods, a rollout makes no progress: past `progressDeadlineSeconds`
/// the Deployment reports `ProgressDeadlineExceeded` and `kubectl rollout status` fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_without_progress_exceeds_its_deadline() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), false).await;
    let Some(k) = Kubectl::start_with(cluster).await else {
        return;
    };
    let manifest = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "stuck"},
        "spec": {"replicas": 1, "progressDeadlineSeconds": 2,
                 "selector": {"matchLabels": {"app": "stuck"}},
                 "template": {"metadata": {"labels": {"app": "stuck"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    });
    let run = k
        .run_stdin(&["apply", "-f", "-"], &manifest.to_string())
        .await;
    run.assert_ok("deployment.apps/stuck created\n");
    let run = k
        .run(&["rollout", "status", "deployment/stuck", "--timeout=25s"])
        .await;
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            1,
            "error: deployment \"stuck\" exceeded its progress deadline\n"
        ),
        "{run:#?}"
    );
    let deploy = k
        .get_json("/apis/apps/v1/namespaces/default/deployments/stuck")
        .await;
    let progressing = deploy["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == json!("Progressing"))
        .cloned()
        .unwrap_or_default();
    let rs = replica_sets(&k).await;
    assert_eq!(progressing["status"], json!("False"));
    assert_eq!(progressing["reason"], json!("ProgressDeadlineExceeded"));
    assert_eq!(
        progressing["message"],
        json!(format!(
            "ReplicaSet {} has timed out progressing.",
            rs[0]["metadata"]["name"]
        ))
    );
}

/// `kubectl create deployment` (a protobuf body) and `kubectl expose`: the new pods roll out
/// and the Service's Endpoints list them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_deployment_and_expose_it() {
    let Some(k) = demo().await else { return };
    let run = k
        .run(&[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--replicas=3",
            "--port=80",
        ])
        .await;
    run.assert_ok("deployment.apps/web created\n");
    let run = k
        .run(&["rollout", "status", "deployment/web", "--timeout=25s"])
        .await;
    assert!(
        run.stdout
            .ends_with("deployment \"web\" successfully rolled out\n"),
        "{run:#?}"
    );
    let run = k.run(&["expose", "deployment", "web"]).await;
    run.assert_ok("service/web exposed\n");
    until("the Service's endpoints on the 3 pods", || async {
        let ep = k.get_json("/api/v1/namespaces/default/endpoints/web").await;
        let addresses = ep["subsets"][0]["addresses"].as_array().map(Vec::len);
        let port = &ep["subsets"][0]["ports"][0]["port"];
        (addresses == Some(3) && *port == json!(80)).then_some(())
    })
    .await;
    let deploy = k
        .get_json("/apis/apps/v1/namespaces/default/deployments/web")
        .await;
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"],
        json!([{"name": "nginx", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"}])
    );
}

/// Pods count as available only once ready for `minReadySeconds`, and the rollout waits for
/// them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_become_available_after_min_ready_seconds() {
    let Some(k) = demo().await else { return };
    let manifest = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "slow"},
        "spec": {"replicas": 1, "minReadySeconds": 2,
                 "selector": {"matchLabels": {"app": "slow"}},
                 "template": {"metadata": {"labels": {"app": "slow"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    });
    let run = k
        .run_stdin(&["apply", "-f", "-"], &manifest.to_string())
        .await;
    run.assert_ok("deployment.apps/slow created\n");
    let path = format!("{RS_PATH}?labelSelector=app%3Dslow");
    let rs = until("a ready pod not yet available", || async {
        let rss = items(&k.get_json(&path).await);
        rss.into_iter()
            .find(|rs| rs["status"]["readyReplicas"] == json!(1))
    })
    .await;
    assert_eq!(rs["spec"]["minReadySeconds"], json!(2));
    assert_eq!(rs["status"].get("availableReplicas"), None, "{rs:#}");
    let run = k
        .run(&["rollout", "status", "deployment/slow", "--timeout=25s"])
        .await;
    assert!(
        run.stdout
            .ends_with("deployment \"slow\" successfully rolled out\n"),
        "{run:#?}"
    );
    let rss = items(&k.get_json(&path).await);
    assert_eq!(rss[0]["status"]["availableReplicas"], json!(1));
}

/// `kubectl delete --cascade=orphan` leaves the dependents, without their owner reference
/// (the garbage collector's orphan handling), and the Deployment created again adopts them;
/// the default cascade takes them along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_with_cascade_orphan_leaves_the_replica_set_and_its_pods() {
    let Some(k) = demo().await else { return };
    rollout_status(&k).await;
    let rs = settled_on_one(&k, 2).await;
    let rs_name = rs["metadata"]["name"].as_str().expect("name").to_string();
    let deployment = k.get_json(DEPLOY_PATH).await;

    let run = k
        .run(&["delete", "deployment", "nginx", "--cascade=orphan"])
        .await;
    run.assert_ok("deployment.apps \"nginx\" deleted\n");
    let orphaned = k.get_json(&format!("{RS_PATH}/{rs_name}")).await;
    assert_eq!(orphaned["metadata"]["name"], json!(rs_name), "{orphaned:#}");
    assert!(
        orphaned["metadata"].get("ownerReferences").is_none(),
        "{orphaned:#}"
    );
    // The ReplicaSet lives on: it keeps its pods, which still name it as their owner.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pods = running_pods(&k).await;
    assert_eq!(pods.len(), 2, "{pods:#?}");
    for pod in &pods {
        assert_eq!(
            pod["metadata"]["ownerReferences"][0]["name"],
            json!(rs_name),
            "{pod:#}"
        );
    }

    // The Deployment created again adopts its orphaned ReplicaSet instead of making another.
    let mut again = deployment.clone();
    for field in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "managedFields",
        "generation",
    ] {
        again["metadata"]
            .as_object_mut()
            .expect("metadata")
            .remove(field);
    }
    again.as_object_mut().expect("object").remove("status");
    let run = k
        .run_stdin(&["create", "-f", "-"], &again.to_string())
        .await;
    run.assert_ok("deployment.apps/nginx created\n");
    let adopted = until("the ReplicaSet adopted", || async {
        let rs = k.get_json(&format!("{RS_PATH}/{rs_name}")).await;
        (rs["metadata"]["ownerReferences"][0]["kind"] == json!("Deployment")).then_some(rs)
    })
    .await;
    let new_uid = k.get_json(DEPLOY_PATH).await["metadata"]["uid"].clone();
    assert_eq!(adopted["metadata"]["ownerReferences"][0]["uid"], new_uid);
    assert_eq!(
        adopted["metadata"]["ownerReferences"][0]["controller"],
        json!(true)
    );
    rollout_status(&k).await;
    let settled = settled_on_one(&k, 2).await;
    assert_eq!(settled["metadata"]["name"], json!(rs_name));
    assert_eq!(replica_sets(&k).await.len(), 1);

    // A ReplicaSet deleted with --cascade=orphan is made again by its Deployment, and the
    // new one adopts the pods the old one left: none is replaced.
    let pod_names = |pods: Vec<Value>| -> Vec<String> {
        let mut names: Vec<String> = pods
            .iter()
            .map(|p| {
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        names.sort();
        names
    };
    let before = pod_names(running_pods(&k).await);
    let run = k.run(&["delete", "rs", &rs_name, "--cascade=orphan"]).await;
    run.assert_ok(&format!("replicaset.apps \"{rs_name}\" deleted\n"));
    let remade = until("the ReplicaSet made again", || async {
        let rs = k.get_json(&format!("{RS_PATH}/{rs_name}")).await;
        (rs["metadata"]["uid"] != adopted["metadata"]["uid"] && rs["metadata"]["uid"].is_string())
            .then_some(rs)
    })
    .await;
    until("the pods adopted by the new ReplicaSet", || async {
        let pods = running_pods(&k).await;
        pods.iter()
            .all(|p| p["metadata"]["ownerReferences"][0]["uid"] == remade["metadata"]["uid"])
            .then_some(())
    })
    .await;
    rollout_status(&k).await;
    settled_on_one(&k, 2).await;
    assert_eq!(pod_names(running_pods(&k).await), before);

    // Without --cascade the ReplicaSet's pods go with it.
    let run = k.run(&["delete", "deployment", "nginx"]).await;
    run.assert_ok("deployment.apps \"nginx\" deleted\n");
    until("the ReplicaSet is gone", || async {
        replica_sets(&k).await.is_empty().then_some(())
    })
    .await;
    until("the pods are gone", || async {
        running_pods(&k).await.is_empty().then_some(())
    })
    .await;
}

/// `kubectl delete --cascade=foreground`: the dependents are gone before the Deployment is,
/// so nothing of it is left when kubectl returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_with_cascade_foreground_takes_the_dependents_first() {
    let Some(k) = demo().await else { return };
    rollout_status(&k).await;
    settled_on_one(&k, 2).await;
    let run = k
        .run(&["delete", "deployment", "nginx", "--cascade=foreground"])
        .await;
    run.assert_ok("deployment.apps \"nginx\" deleted\n");
    assert_eq!(replica_sets(&k).await, Vec::<Value>::new());
    let pods = items(&k.get_json("/api/v1/namespaces/default/pods").await);
    assert_eq!(pods, Vec::<Value>::new());
}
