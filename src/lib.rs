//! miglint: a linter for Alembic and yoyo database migrations.
//!
//! The stages, in the order data flows:
//! [`config`] → [`discover`] → [`load`] → [`chain`] → [`rules`] → [`suppress`] → [`report`],
//! driven by [`lint::run`].

pub mod cache;
pub mod chain;
pub mod cli;
pub mod config;
#[doc(hidden)]
pub mod corpus;
pub mod diagnostic;
pub mod discover;
pub mod fix;
pub mod git;
pub mod lint;
pub mod load;
pub mod model;
pub mod models;
pub mod new;
pub mod queries;
pub mod render;
pub mod replay;
pub mod report;
pub mod rules;
pub mod source;
pub mod sqlite_exec;
pub mod suppress;
pub mod write;
