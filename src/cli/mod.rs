//! Subcommands other than `serve`.

pub mod validate;
