//! The one integration-test binary: every suite is a module here.

mod api;
mod apply;
mod browser;
mod cli;
mod console;
mod console_lb;
mod controllers;
mod kubectl;
mod kubectl_endpoints;
mod registry;
mod store;
mod support;
