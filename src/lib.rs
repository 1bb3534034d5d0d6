//! miglint: a linter for database migrations.
//!
//! The code is laid out by stage, in the order data flows; each stage uses
//! only the stages before it and the shared leaves (`tests/architecture.rs`
//! checks this):
//!
//! 0. [`migration`], the one model, and [`layout`], how the SQL-folder
//!    tools name their files.
//! 1. [`project`]: configuration, which folders hold migrations, git.
//! 2. [`load`]: each file read into the one [`migration`] model.
//! 3. [`app`]: the application's models and queries, read statically.
//! 4. [`chain`]: a folder's migrations ordered into their revision graph.
//! 5. [`schema`]: the chain replayed into a schema, the facts met on the
//!    way, and each migration's SQL run in real SQLite.
//! 6. [`analysis`]: everything known about one folder, handed to the rules.
//! 7. [`rules`]: one file per rule; the judgement lives there.
//! 8. [`suppress`]: inline `miglint: ignore[...]` comments.
//! 9. [`report`]: text, JSON, GitHub and SARIF output.
//! 10. [`commands`] (`lint`, `--fix`, `schema`, `new`, `server`), called by [`cli`],
//!     which only parses arguments.
//!
//! Shared leaves: [`source`], [`diagnostic`], [`paths`], [`edit`],
//! [`write`], [`sqlite`].

// Shared leaves.
pub mod diagnostic;
pub mod edit;
pub mod paths;
pub mod source;
pub mod sqlite;
pub mod write;

// Stages, in order.
pub mod analysis;
pub mod app;
pub mod chain;
pub mod cli;
pub mod commands;
pub mod layout;
pub mod load;
pub mod migration;
pub mod project;
pub mod report;
pub mod rules;
pub mod schema;
pub mod suppress;
