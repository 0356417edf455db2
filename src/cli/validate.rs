//! `service-console validate -f FILE`: defaults and validates Service manifests exactly as
//! kube-apiserver would on create, and prints each Service or the error kubectl would print.

use std::io::Read;

use serde_json::Value;
use service_plan::alloc::{Allocated, Pools};
use service_plan::codec::{self, FieldValidation};
use service_plan::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use service_plan::k8s_openapi::jiff::Timestamp;
use service_plan::service::defaults::set_defaults;
use service_plan::service::pipeline::{self, ClusterView, NewObjectMeta, PlanError};
use service_plan::status::{Resource, Status};

use crate::config::{OutputFormat, ValidateArgs};
use crate::manifest::parse_documents;

/// The outcome of one document.
#[derive(Debug)]
pub enum Outcome {
    /// The Service after static defaulting.
    Valid(Value),
    /// What kubectl would print for the server's answer.
    Invalid(String),
}

/// Runs the command; returns the process exit code (1 when any document is invalid).
pub fn run(args: &ValidateArgs) -> anyhow::Result<i32> {
    let text = if args.file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(&args.file).map_err(|e| {
            anyhow::anyhow!(
                "the path {:?} does not exist or cannot be read: {e}",
                args.file
            )
        })?
    };
    let source = args.file.display().to_string();
    let docs = match parse_documents(&text) {
        Ok(docs) => docs,
        Err(e) => {
            eprintln!("error: error parsing {source}: {e}");
            return Ok(1);
        }
    };
    let mut failed = false;
    let mut printed = Vec::new();
    for doc in &docs {
        match validate_document(doc, &args.cluster.pools(), &source) {
            Outcome::Valid(v) => printed.push(v),
            Outcome::Invalid(message) => {
                failed = true;
                eprintln!("{message}");
            }
        }
    }
    match args.output {
        OutputFormat::Json => {
            for v in &printed {
                println!("{}", serde_json::to_string_pretty(v)?);
            }
        }
        OutputFormat::Yaml => {
            let texts: Vec<String> = printed
                .iter()
                .map(serde_saphyr::to_string)
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{}", texts.join("---\n"));
        }
    }
    Ok(if failed { 1 } else { 0 })
}

/// Validates one document as a create in an empty cluster with the given pools.
pub fn validate_document(doc: &Value, pools: &Pools, source: &str) -> Outcome {
    let server_error = |status: Status| Outcome::Invalid(kubectl_error(&status, source));
    let decoded = match codec::decode_service_validated(doc, FieldValidation::Strict) {
        Ok(d) => d,
        Err(e) => return server_error(Status::bad_request(e.message)),
    };
    let namespace = decoded
        .object
        .metadata
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());
    let mut allocated = Allocated::default();
    // A real cluster always has the `kubernetes` Service on the first address.
    allocated.insert_ip(pools.service_cidr.first());
    let meta = NewObjectMeta {
        uid: String::new(),
        now: Time(Timestamp::UNIX_EPOCH),
        name_suffix: "xxxxx".into(),
    };
    let cluster = ClusterView {
        pools,
        allocated: &allocated,
        seed: 1,
    };
    match pipeline::plan_create(decoded.object.clone(), &namespace, &meta, cluster) {
        Ok(_) => {
            let mut svc = decoded.object;
            set_defaults(&mut svc);
            codec::canonicalize(&mut svc);
            svc.status = None;
            let mut v = serde_json::to_value(&svc).unwrap_or(Value::Null);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("apiVersion".into(), "v1".into());
                obj.insert("kind".into(), "Service".into());
            }
            Outcome::Valid(v)
        }
        Err(PlanError::Invalid { name, errors }) => {
            server_error(Status::invalid(Resource::SERVICES, &name, &errors))
        }
        Err(PlanError::BadRequest(m)) => server_error(Status::bad_request(m)),
        Err(PlanError::Internal(d)) => server_error(Status::internal(d)),
        Err(PlanError::Unknown(m)) => server_error(Status::failure(500, "", m, None)),
        Err(PlanError::Conflict) => server_error(Status::conflict(Resource::SERVICES, "")),
    }
}

/// kubectl's text for a failed `apply -f`: the Invalid form as is, others with the file name.
fn kubectl_error(status: &Status, source: &str) -> String {
    if status.reason == "Invalid" {
        status.kubectl_text()
    } else {
        format!(
            "{}: error when creating {:?}: {}",
            status.server_error_prefix(),
            source,
            status.message
        )
    }
}
