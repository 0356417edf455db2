//! Subcommands other than `serve`.

pub mod kubeconfig;
pub mod validate;
