//! The rules of Kubernetes Services, exactly as kube-apiserver v1.32 applies them.
//!
//! A request flows one way through this crate: [`codec`] decodes the body, [`service::defaults`]
//! applies static defaulting, [`service::pipeline`] normalises, plans allocations with [`alloc`]
//! and prepares the object, and [`service::validate`] checks it. Errors are data
//! ([`field::FieldErrors`], [`status`]) so that every front door prints kube-apiserver's words.
//! [`rbac`] decides who may do what, as kube-apiserver's RBAC authorizer and registry do.
//! No I/O and no async live here.

pub mod alloc;
pub mod annotations;
pub mod apply;
pub mod autoscaling;
pub mod codec;
pub mod diff;
pub mod endpoints;
pub mod events;
pub mod field;
pub mod flowcontrol;
pub mod format;
pub mod history;
pub mod json;
pub mod lease;
pub mod meta;
pub mod nesting;
pub mod patch;
pub mod rbac;
pub mod selector;
pub mod service;
pub mod slb;
pub mod status;
pub mod table;
pub mod target_ports;
pub mod token_request;
pub mod traffic;
pub mod user;
pub mod workload;

pub use k8s_openapi;
