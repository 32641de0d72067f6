"""Alembic's environment for tdcflow (run by Alembic for every command, never imported).

Three ways in:

* ``tdcflow`` (``migrations.runner``) hands over a connection already in a transaction that holds
  the migration lock (``config.attributes["connection"]``): everything runs in that transaction.
* ``--sql`` (offline): SQL is written for ``config.attributes["url"]`` (else
  ``TDCFLOW_DATABASE_URL``) to ``config.attributes["output"]`` (else standard output).
* The ``alembic`` command line of a developer or ``make lint``: the database of
  ``TDCFLOW_DATABASE_URL``, under the same lock tdcflow takes.
"""

from __future__ import annotations

import sys
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from migrations.runner import database_url, migrating
from migrations.tables import options

config = context.config


def run_offline() -> None:
    context.configure(
        url=config.attributes.get("url") or database_url(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        output_buffer=config.attributes.get("output") or sys.stdout,
        **options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, **options())
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (given := config.attributes.get("connection")) is not None:
    run_on(given)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    with migrating(database_url()) as connection:
        run_on(connection)
