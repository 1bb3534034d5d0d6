"""Our generic Alembic env.py for the real-world suite.

run.py loads this file (in place of the project's own env.py, which would
import the whole application) inside an EnvironmentContext for every single
step. Everything project-specific arrives through ``config.attributes``,
filled by run.py from tests/realworld/manifest.json:

    connection         an open SQLAlchemy connection to the chain's fresh SQLite file
    naming_convention  the naming_convention of the project's target_metadata, or None
    render_as_batch    as the project's env.py passes it to context.configure()
    version_table      the project's version table (mlflow auth: alembic_version_auth)
"""

import sqlalchemy as sa
from alembic import context

attrs = context.config.attributes
convention = attrs.get("naming_convention")
target_metadata = sa.MetaData(naming_convention=convention) if convention else sa.MetaData()

context.configure(
    connection=attrs["connection"],
    target_metadata=target_metadata,
    render_as_batch=attrs.get("render_as_batch", False),
    version_table=attrs.get("version_table") or "alembic_version",
)

with context.begin_transaction():
    context.run_migrations()
