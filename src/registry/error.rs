//! The registry's one error type; each front door maps it once.

use service_plan::field::FieldErrors;
use service_plan::status::{Resource, Status};

use crate::store::StoreError;

/// What went wrong with a registry call, in terms a client understands.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{} \"{name}\" not found", resource.qualified())]
    NotFound { resource: Resource, name: String },
    #[error("{} \"{name}\" already exists", resource.qualified())]
    AlreadyExists { resource: Resource, name: String },
    #[error("Operation cannot be fulfilled on {} \"{name}\": {}", resource.qualified(), service_plan::status::CONFLICT_TEXT)]
    Conflict { resource: Resource, name: String },
    /// A failed precondition: a Conflict with its own text.
    #[error("Operation cannot be fulfilled on {} \"{name}\": {detail}", resource.qualified())]
    Precondition {
        resource: Resource,
        name: String,
        detail: String,
    },
    /// A failed `DeleteOptions.preconditions` check of `rest.BeforeDelete`: a Conflict that
    /// names the object by its Kind (`Service`, `Deployment.apps`), as upstream does.
    #[error("Operation cannot be fulfilled on {} \"{name}\": {detail}", resource.qualified_kind())]
    DeletePrecondition {
        resource: Resource,
        name: String,
        detail: String,
    },
    #[error("{} \"{name}\" is invalid: {}", resource.qualified_kind(), errors.aggregate())]
    Invalid {
        resource: Resource,
        name: String,
        errors: FieldErrors,
    },
    /// 403: the operation is refused on this object.
    #[error("{} \"{name}\" is forbidden: {detail}", resource.qualified())]
    Forbidden {
        resource: Resource,
        name: String,
        detail: String,
    },
    #[error("{0}")]
    BadRequest(String),
    /// 409: a server-side apply would change fields other managers own.
    #[error("{conflicts}")]
    ApplyConflict {
        conflicts: service_plan::apply::Conflicts,
    },
    /// An internal error whose detail the client may see (`Internal error occurred: …`).
    #[error("Internal error occurred: {0}")]
    Internal(String),
    /// A plain (non-Status) error, which apiserver answers with 500 and no reason,
    /// e.g. an unparsable `metadata.resourceVersion` on an update.
    #[error("{0}")]
    Unknown(String),
    /// A watch or continue token older than the compaction point.
    #[error("{0}")]
    Expired(String),
    /// A Status the rules crate built whole (RBAC's 403 and 404 on role and binding writes).
    #[error("{}", .0.message)]
    Status(Box<Status>),
    /// A storage failure: logged, and reported to the client without its text.
    #[error("storage error")]
    Store(#[from] StoreError),
}

impl RegistryError {
    /// The `metav1.Status` kube-apiserver would answer with.
    pub fn status(&self) -> Status {
        match self {
            RegistryError::Status(status) => (**status).clone(),
            RegistryError::NotFound { resource, name } => Status::not_found(*resource, name),
            RegistryError::AlreadyExists { resource, name } => {
                Status::already_exists(*resource, name)
            }
            RegistryError::Conflict { resource, name } => Status::conflict(*resource, name),
            RegistryError::Precondition {
                resource,
                name,
                detail,
            } => Status::conflict_with(*resource, name, detail),
            RegistryError::DeletePrecondition {
                resource,
                name,
                detail,
            } => Status::conflict_on_kind(*resource, name, detail),
            RegistryError::Unknown(message) => Status::failure(500, "", message.clone(), None),
            RegistryError::Invalid {
                resource,
                name,
                errors,
            } => Status::invalid(*resource, name, errors),
            RegistryError::Forbidden { resource, name, .. } => Status::failure(
                403,
                "Forbidden",
                self.to_string(),
                Some(service_plan::status::StatusDetails {
                    name: name.clone(),
                    group: resource.group.to_string(),
                    kind: resource.plural.to_string(),
                    ..Default::default()
                }),
            ),
            RegistryError::BadRequest(message) => Status::bad_request(message.clone()),
            RegistryError::ApplyConflict { conflicts } => conflicts.status(),
            RegistryError::Internal(detail) => Status::internal(detail.clone()),
            RegistryError::Expired(message) => Status::expired(message.clone()),
            RegistryError::Store(StoreError::Expired { requested, oldest }) => {
                Status::expired(format!("too old resource version: {requested} ({oldest})"))
            }
            // kube-apiserver over a full etcd answers 500 with etcd's "database space
            // exceeded"; 507 says the same thing and lets clients tell it from a bug.
            RegistryError::Store(StoreError::Full) => Status::failure(
                507,
                "InternalError",
                "Internal error occurred: storage is full: the write was not committed; free \
                 space on the server's data volume and retry",
                None,
            ),
            RegistryError::Store(_) => {
                Status::internal("an internal storage error occurred; see the server log")
            }
        }
    }
}
