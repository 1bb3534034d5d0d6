//! `model-drift` as users meet it: models found by convention or by
//! configuration, notes for what cannot be read statically, options.

mod common;

use common::{alembic_revision, miglint, write_tree};

fn add_email() -> String {
    common::batch_revision(
        2,
        "Add users.email.",
        "users",
        &[
            "batch_op.add_column(sa.Column(\"email\", sa.String(length=255), nullable=False, server_default=\"\"))",
            "batch_op.create_index(\"ix_users_email\", [\"email\"], unique=True)",
        ],
        &[
            "batch_op.drop_index(\"ix_users_email\")",
            "batch_op.drop_column(\"email\")",
        ],
    )
}

fn project(dir: &std::path::Path, models_path: &str, models: &str) {
    write_tree(
        dir,
        &[
            ("alembic.ini", b"[alembic]\nscript_location = migrations\n"),
            (
                "migrations/versions/001_users.py",
                alembic_revision(1, "").as_bytes(),
            ),
            ("migrations/versions/002_email.py", add_email().as_bytes()),
            (models_path, models.as_bytes()),
        ],
    );
}

/// `miglint lint ARGS` in `dir`: exit code and stdout.
fn lint(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = miglint()
        .current_dir(dir)
        .arg("lint")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

const MATCHING: &str = r#"
from datetime import datetime
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True, server_default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
"#;

#[test]
fn matching_models_pass_and_drift_is_reported_at_the_model_line() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "src/app/models.py", MATCHING);
    assert_eq!(lint(dir.path(), &[]).0, 0);

    let drifted = MATCHING
        .replace(
            "Mapped[str] = mapped_column(String(255)",
            "Mapped[int] = mapped_column(Integer",
        )
        .replace(
            "    updated_at: Mapped[datetime]\n",
            "    updated_at: Mapped[datetime]\n    last_seen: Mapped[Optional[datetime]]\n",
        );
    project(dir.path(), "src/app/models.py", &drifted);
    let (code, text) = lint(dir.path(), &[]);
    assert_eq!(code, 1, "{text}");
    insta::assert_snapshot!("model_drift_text", text);
}

#[test]
fn models_folder_is_found_and_unreadable_types_become_notes() {
    let dir = tempfile::tempdir().unwrap();
    let with_helper = MATCHING.replace(
        "    created_at: Mapped[datetime]\n",
        "    created_at = Column(utc_timestamp(), nullable=False)\n",
    );
    project(dir.path(), "app/models/user.py", &with_helper);
    let (code, text) = lint(dir.path(), &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("note: app/models/user.py:13:5: model-drift: `User.created_at` has type `utc_timestamp()`, which miglint cannot resolve; its type is not checked"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&lint(dir.path(), &["--format", "json"]).1).unwrap();
    assert_eq!(json["notes"][0]["line"], 13);
    assert_eq!(json["notes"][0]["path"], "app/models/user.py");
    // Quiet hides notes; turning the rule off drops them.
    assert!(!lint(dir.path(), &["--quiet"]).1.contains("note:"));
    assert!(
        !lint(dir.path(), &["--ignore", "model-drift"])
            .1
            .contains("note:")
    );
}

#[test]
fn configured_model_files_and_ignored_tables() {
    let dir = tempfile::tempdir().unwrap();
    // Not a conventional name: found only through `models = [...]`.
    project(
        dir.path(),
        "src/schema/entities.py",
        &MATCHING.replace("class User(Base):", "class Audit(Base):\n    __tablename__ = \"audit\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass User(Base):"),
    );
    assert_eq!(lint(dir.path(), &[]).0, 0);
    std::fs::write(
        dir.path().join("miglint.toml"),
        "models = [\"src/schema\"]\n",
    )
    .unwrap();
    let (code, text) = lint(dir.path(), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("error[model-drift]: `Audit` maps table `audit`, which no migration creates"),
        "{text}"
    );
    std::fs::write(
        dir.path().join("miglint.toml"),
        "models = [\"src/schema/entities.py\"]\n[rules.model-drift]\nignore-tables = [\"audit\"]\n",
    )
    .unwrap();
    assert_eq!(lint(dir.path(), &[]).0, 0);
}

#[test]
fn a_model_line_can_be_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let drifted = MATCHING.replace(
        "mapped_column(String(255), unique=True, server_default=\"\")",
        "mapped_column(String(255), server_default=\"\", index=True)  # miglint: ignore[model-drift]",
    );
    project(dir.path(), "models.py", &drifted);
    assert_eq!(lint(dir.path(), &[]).0, 0);
}

#[test]
fn projects_nested_in_the_current_folder_keep_their_own_models() {
    // Regression: run from inside a folder holding two projects, the one
    // without a project marker read the other's models.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/broken");
    let (_, text) = lint(&root, &[]);
    assert_eq!(text.matches("error[model-drift]").count(), 1, "{text}");
}

#[test]
fn a_model_named_alone_is_checked_against_the_project() {
    // What the pre-commit hook does after a commit that touches only models.
    let dir = tempfile::tempdir().unwrap();
    let drifted = MATCHING.replace(
        "    updated_at: Mapped[datetime]\n",
        "    updated_at: Mapped[datetime]\n    nickname: Mapped[str]\n",
    );
    project(dir.path(), "app/models.py", &drifted);
    let (code, text) = lint(dir.path(), &["app/models.py"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("error[model-drift]: `User.nickname` maps column `users.nickname`"),
        "{text}"
    );
    assert!(!text.contains("skipped"), "{text}");
    common::git(dir.path(), &["init", "-q", "-b", "main"]);
    common::git(dir.path(), &["add", "-A"]);
    let (code, text) = lint(dir.path(), &["--staged", "app/models.py"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("`User.nickname`"), "{text}");
}

#[test]
fn a_model_of_the_version_table_is_not_the_applications() {
    // Regression: a project whose only model maps `alembic_version` had
    // every table reported as mapped by no model.
    let dir = tempfile::tempdir().unwrap();
    let version = "from sqlalchemy import Column, String\nfrom sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n\n\nclass AlembicVersion(Base):\n    __tablename__ = \"alembic_version\"\n    version_num = Column(String(32), primary_key=True)\n";
    project(dir.path(), "models.py", version);
    let (code, text) = lint(dir.path(), &["--select", "model-drift"]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("model-drift"), "{text}");
    // Beside the application's models, it is left out too.
    project(
        dir.path(),
        "models.py",
        &format!(
            "{MATCHING}\n\nclass AlembicVersion(Base):\n    __tablename__ = \"alembic_version\"\n    version_num: Mapped[str] = mapped_column(String(32), primary_key=True)\n"
        ),
    );
    let (code, text) = lint(dir.path(), &["--select", "model-drift"]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("model-drift"), "{text}");
}

#[test]
fn column_aliases_and_declarative_base_variables_are_read() {
    // Regression (optuna's models): `BaseModel: Any = declarative_base()`
    // was taken for an unknown base, and `_Column = mapped_column` for a
    // call that makes no column, so every migrated column was reported as
    // missing from the models.
    let dir = tempfile::tempdir().unwrap();
    let models = r#"
from typing import Any
from sqlalchemy import String
from sqlalchemy.orm import declarative_base

try:
    from sqlalchemy.orm import mapped_column

    _Column = mapped_column
except ImportError:
    from sqlalchemy import Column as _Column

BaseModel: Any = declarative_base()


class User(BaseModel):
    __tablename__ = "users"
    id = _Column(String, primary_key=True)
    email = _Column(String(255), unique=True, server_default="", nullable=False)
    created_at = _Column(DateTime, nullable=False)
    updated_at = _Column(DateTime, nullable=False)
"#;
    project(dir.path(), "models.py", models);
    let (code, text) = lint(dir.path(), &["--select", "model-drift"]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("model-drift"), "{text}");
    // A call miglint does not read may make a column: no column is said to
    // be missing from that model, and a note says why.
    let helper = models.replace(
        "    created_at = _Column(DateTime, nullable=False)\n",
        "    created_at = timestamp_column()\n",
    );
    project(dir.path(), "models.py", &helper);
    let (code, text) = lint(dir.path(), &["--select", "model-drift"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("`User.created_at` is set by a call miglint does not read"),
        "{text}"
    );
}

/// `002` plus an index on `created_at` named otherwise than the naming
/// convention names `index=True`'s.
fn project_with_created_index(dir: &std::path::Path, models: &str) {
    project(dir, "app/models.py", models);
    let revision = common::batch_revision(
        3,
        "Index users.created_at.",
        "users",
        &["batch_op.create_index(\"users_created_idx\", [\"created_at\"])"],
        &["batch_op.drop_index(\"users_created_idx\")"],
    );
    write_tree(
        dir,
        &[("migrations/versions/003_created.py", revision.as_bytes())],
    );
}

#[test]
fn indexes_the_model_does_not_declare_are_reported_as_autogenerate_would_drop_them() {
    let dir = tempfile::tempdir().unwrap();
    // No index in the model: autogenerate's `remove_index`.
    project_with_created_index(dir.path(), MATCHING);
    let (code, text) = lint(dir.path(), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("error[model-drift]: index `users_created_idx` on `users(created_at)` is in the migrations but not in model `User`"),
        "{text}"
    );

    // `index=True` names it `ix_users_created_at`: autogenerate drops the
    // migrations' index and creates the model's.
    let indexed = MATCHING.replace(
        "created_at: Mapped[datetime]",
        "created_at: Mapped[datetime] = mapped_column(index=True)",
    );
    project_with_created_index(dir.path(), &indexed);
    let (_, text) = lint(dir.path(), &[]);
    assert!(
        text.contains("error[model-drift]: `User.created_at` is `index=True`, which names its index `ix_users_created_at`, but the migrations name the index on `users.created_at` `users_created_idx`"),
        "{text}"
    );
    assert!(
        !text.contains("is in the migrations but not in model"),
        "{text}"
    );

    // Named in the model as the migrations name it: nothing to report.
    let named = MATCHING.replace(
        "    __tablename__ = \"users\"\n",
        "    __tablename__ = \"users\"\n    __table_args__ = (Index(\"users_created_idx\", \"created_at\"),)\n",
    );
    project_with_created_index(dir.path(), &named);
    assert_eq!(lint(dir.path(), &[]).0, 0);

    // `__table_args__` computed by a function: its indexes are not known,
    // so none is said to be missing.
    let computed = MATCHING.replace(
        "    __tablename__ = \"users\"\n",
        "    __tablename__ = \"users\"\n\n    @declared_attr\n    def __table_args__(cls):\n        return table_args(cls)\n",
    );
    project_with_created_index(dir.path(), &computed);
    let (code, text) = lint(dir.path(), &[]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn two_chains_of_one_project_each_meet_the_models_of_their_own_tables() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = common::alembic_revision(1, "")
        .replace("\"users\"", "\"tenants\"")
        .replace("'users'", "'tenants'");
    write_tree(
        dir.path(),
        &[
            (
                "db/main/versions/001_users.py",
                common::alembic_revision(1, "").as_bytes(),
            ),
            ("db/tenant/versions/001_tenants.py", tenants.as_bytes()),
            (
                "app/models.py",
                format!(
                    "{MATCHING}\n\nclass Tenant(Base):\n    __tablename__ = \"tenants\"\n    id: Mapped[str] = mapped_column(String, primary_key=True)\n    created_at: Mapped[datetime]\n    updated_at: Mapped[datetime]\n"
                )
                .replace(
                    "    email: Mapped[str] = mapped_column(String(255), unique=True, server_default=\"\")\n",
                    "",
                )
                .as_bytes(),
            ),
        ],
    );
    let (code, text) = lint(dir.path(), &[]);
    assert!(!text.contains("which no migration creates"), "{text}");
    assert!(!text.contains("but no model maps it"), "{text}");
    assert_eq!(code, 0, "{text}");

    // A model whose table neither chain creates is reported once.
    let models = std::fs::read_to_string(dir.path().join("app/models.py")).unwrap();
    std::fs::write(
        dir.path().join("app/models.py"),
        models.replace(
            "__tablename__ = \"tenants\"",
            "__tablename__ = \"accounts\"",
        ),
    )
    .unwrap();
    let (_, text) = lint(dir.path(), &[]);
    assert_eq!(
        text.matches("`Tenant` maps table `accounts`, which no migration creates")
            .count(),
        1,
        "{text}"
    );
}

/// An index named at run time: miglint cannot tell which index the table
/// has, so neither direction of the comparison speaks about it.
#[test]
fn tables_the_replay_is_not_sure_of_are_not_compared() {
    let dir = tempfile::tempdir().unwrap();
    let indexed = MATCHING.replace(
        "created_at: Mapped[datetime]",
        "created_at: Mapped[datetime] = mapped_column(index=True)",
    );
    project(dir.path(), "app/models.py", &indexed);
    let (_, text) = lint(dir.path(), &[]);
    assert!(
        text.contains("is `index=True` but no migration creates an index on `users.created_at`"),
        "{text}"
    );
    let revision = common::alembic_revision(
        3,
        "    from app.naming import index_name\n    op.create_index(index_name(\"users\", \"created_at\"), \"users\", [\"created_at\"])",
    );
    write_tree(
        dir.path(),
        &[("migrations/versions/003_created.py", revision.as_bytes())],
    );
    let (_, text) = lint(dir.path(), &[]);
    assert!(!text.contains("error[model-drift]"), "{text}");
}
