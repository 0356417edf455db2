//! The Service kind: defaulting, the create/update/delete pipelines, validation and warnings.

pub mod defaults;
pub mod pipeline;
pub mod types;
pub mod validate;
pub mod warnings;
