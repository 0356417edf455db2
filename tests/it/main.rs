//! The one integration-test binary: every suite is a module here.

mod api;
mod apply;
mod browser;
mod browser_console;
mod browser_lb;
mod browser_signin;
mod cli;
mod console;
mod console_lb;
mod controllers;
mod history;
mod hostile;
mod kubectl;
mod kubectl_endpoints;
mod kubectl_lb;
mod lifecycle;
mod memory;
mod registry;
mod rollouts;
mod store;
mod support;
mod team;
mod workload_defaults;
