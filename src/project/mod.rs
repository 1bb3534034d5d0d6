//! The project: its configuration, which folders hold migrations (and of
//! which flavour), which files hold the application, and its git history.

pub mod config;
pub mod dialect;
pub mod discover;
pub mod env_py;
pub mod files;
pub mod git;
