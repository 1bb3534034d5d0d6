//! What miglint reads of the application itself, statically: the
//! SQLAlchemy models ([`models`]) and the columns its queries filter, join
//! and sort on ([`queries`]).

pub mod models;
pub mod queries;
