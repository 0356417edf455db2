//! The one integration-test binary: every suite is a module here.

mod cli;
mod registry;
mod store;
mod support;
