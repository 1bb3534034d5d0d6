//! What an Alembic folder's `env.py` (beside its versions folder) says
//! about how every migration of the folder runs. Read as text: `env.py`
//! configures Alembic in code, and only plain statements of it are facts.

use std::path::{Path, PathBuf};

/// How the folder's `env.py` runs its migrations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlembicEnv {
    /// It sets `lock_timeout` for every migration.
    pub lock_timeout: bool,
    /// Whether the migrations run inside a transaction: yes for Alembic's
    /// own template (and with no `env.py` to read); no when its connection
    /// is in autocommit; `None` when `env.py` hands the run to code that
    /// miglint does not read (the application makes the connection).
    pub transaction: Option<bool>,
}

/// The `env.py` of Alembic's script directory: beside the versions folder
/// `dir`, when there is one.
pub fn env_py_of(dir: &Path) -> Option<PathBuf> {
    dir.parent()
        .map(|script_dir| script_dir.join("env.py"))
        .filter(|p| p.is_file())
}

impl AlembicEnv {
    /// The facts of the `env.py` beside the versions folder `dir`.
    pub fn of_versions(dir: &Path) -> AlembicEnv {
        match env_py_of(dir).and_then(|p| std::fs::read_to_string(p).ok()) {
            Some(text) => AlembicEnv::read(&text),
            None => AlembicEnv {
                lock_timeout: false,
                transaction: Some(true),
            },
        }
    }

    pub fn read(text: &str) -> AlembicEnv {
        let code: String = text
            .lines()
            .map(|l| l.split_once('#').map_or(l, |(code, _)| code))
            .collect::<Vec<_>>()
            .join("\n");
        let transaction = if code.contains("AUTOCOMMIT") {
            Some(false)
        } else if code.contains("begin_transaction(") {
            Some(true)
        } else {
            None
        };
        AlembicEnv {
            lock_timeout: code.contains("lock_timeout"),
            transaction,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alembic_template_runs_in_a_transaction() {
        let env = AlembicEnv::read(
            "with connectable.connect() as connection:\n    context.configure(connection=connection)\n    with context.begin_transaction():\n        context.run_migrations()\n",
        );
        assert_eq!(env.transaction, Some(true));
        assert!(!env.lock_timeout);
    }

    #[test]
    fn autocommit_connection_runs_outside_one() {
        let env = AlembicEnv::read(
            "engine = create_engine(url, isolation_level=\"AUTOCOMMIT\")\nwith context.begin_transaction():\n    context.run_migrations()\n",
        );
        assert_eq!(env.transaction, Some(false));
    }

    #[test]
    fn env_py_that_hands_the_run_to_the_application_is_unknown() {
        let env = AlembicEnv::read(
            "from app.storage import run_migrations_online\n# context.begin_transaction()\nrun_migrations_online(context, config)\n",
        );
        assert_eq!(env.transaction, None);
    }

    #[test]
    fn lock_timeout() {
        let env = AlembicEnv::read("connection.execute(text(\"SET lock_timeout = '5s'\"))\n");
        assert!(env.lock_timeout);
    }
}
