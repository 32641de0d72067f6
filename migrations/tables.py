"""What the migrations compare with: every table of the release, and what Alembic must leave alone.

The migrations know every table by design: the core's (``workflows``), the notifications room's
and each procedure package's under ``workflows/procedures/`` (walked, so a new procedure's tables
are seen without a line here). The core itself never imports a procedure; this package may.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from sqlalchemy import MetaData
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

# Made by the migrations with SQL of their own, not by a model, so autogenerate must not drop them:
# SQLite's FTS5 index of the TBT knowledge base (a virtual table and its shadow tables) and
# PostgreSQL's full-text index over the same column (an expression index); PostgreSQL's trigram
# index of ``dossier.search_text`` (its operator class needs the pg_trgm extension, 0016), and
# SQLite's trigram FTS5 index of the same column with the triggers that keep it in step (0018).
AUXILIARY_TABLE_PREFIX = "tbt_kb_fts"
# SQLite's trigram FTS5 index of ``dossier.search_text`` (0018, ``workflows.models``).
DOSSIER_SEARCH_FTS = "dossier_search_fts"
AUXILIARY_INDEXES = frozenset(
    {"ix_tbt_kb_fulltext", "ix_dossier_search_trgm", "ix_metrology_instrument_search_trgm"}
)
VERSION_TABLE = "alembic_version"


def target_metadata() -> MetaData:
    """The metadata holding every table of this version of tdcflow."""
    import notifications.models  # noqa: F401
    import workflows.metrology.models
    import workflows.models
    import workflows.outbox
    import workflows.procedures

    for module in pkgutil.walk_packages(workflows.procedures.__path__, "workflows.procedures."):
        importlib.import_module(module.name)
    return SQLModel.metadata


def is_auxiliary(table_name: str) -> bool:
    return table_name.startswith((AUXILIARY_TABLE_PREFIX, DOSSIER_SEARCH_FTS))


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Reflected objects autogenerate compares: not the auxiliary tables and indexes."""
    if type_ == "table":
        return name is not None and not is_auxiliary(name)
    if type_ == "index":
        return name not in AUXILIARY_INDEXES
    return True


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """SQLModel's ``AutoString`` is written as ``sa.String``: a migration never imports sqlmodel."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def options() -> dict[str, Any]:
    """The options of every migration context (applying, autogenerating, ``alembic check``)."""
    return {
        "target_metadata": target_metadata(),
        # SQLite alters a table by rebuilding it; batch mode does that, and is plain ALTER elsewhere.
        "render_as_batch": True,
        "compare_type": True,
        "compare_server_default": True,
        "include_name": include_name,
        "render_item": render_item,
    }
