//! The one integration-test binary: every suite is a module here.

mod api;
mod apply;
mod browser;
mod cli;
mod console;
mod kubectl;
mod registry;
mod store;
mod support;
