//! Subcommands other than `serve`.

pub mod history;
pub mod kubeconfig;
pub mod plan;
pub mod validate;
