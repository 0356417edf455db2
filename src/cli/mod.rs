//! Subcommands other than `serve`.

pub mod kubeconfig;
pub mod plan;
pub mod validate;
