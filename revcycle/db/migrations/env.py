"""Alembic environment: runs on the connection ``revcycle.db.upgrade`` hands over, or on
``REVCYCLE_DATABASE_URL`` when called from the alembic command line."""

from __future__ import annotations

from alembic import context

from revcycle.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    from revcycle.db import make_engine
    from revcycle.settings import get_settings

    engine = make_engine(get_settings().database_url_or_default())
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
