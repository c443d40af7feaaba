"""Alembic environment: runs against the connection ``runtime.migrate`` passes in."""
from alembic import context

from runtime.models import Base
import runtime.models_automation  # noqa: F401 - automation, notification and webhook tables
import runtime.xlsx.mappings  # noqa: F401 - remembered Excel column mappings

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
