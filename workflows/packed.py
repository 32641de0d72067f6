"""Text kept compressed in the database, read back as the very same text.

``PackedText`` is a column type: the model's attribute is a ``str``; the database holds one format
byte followed by the text's UTF-8 deflated (zlib), optionally against a preset dictionary (a sample
of what the column usually holds: its boilerplate then costs a few bytes per row). A row written
with a dictionary names it by its format byte, so a dictionary once shipped is never edited: a
better one gets a new number and the old rows stay readable. Used where a row is written once and
read rarely but takes most of the database: the serialized process instances and the messages sent
(``notifications.models.Delivery``).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

PLAIN = 0  # zlib without a dictionary


def pack(text: str, dictionaries: Mapping[int, bytes], current: int = PLAIN) -> bytes:
    """The stored form of ``text``: the format byte, then the deflated UTF-8."""
    zdict = dictionaries[current] if current != PLAIN else None
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, *([zdict] if zdict else []))
    return bytes([current]) + packer.compress(text.encode()) + packer.flush()


def unpack(stored: bytes | str, dictionaries: Mapping[int, bytes]) -> str:
    """The text ``pack`` was given (a ``str`` is returned as it is: a row written before packing)."""
    if isinstance(stored, str):
        return stored
    data = bytes(stored)
    if not data:
        return ""
    version, body = data[0], data[1:]
    if version == PLAIN:
        return zlib.decompress(body).decode()
    if version not in dictionaries:
        raise ValueError(f"packed text of format {version}: no such dictionary")
    unpacker = zlib.decompressobj(zdict=dictionaries[version])
    return (unpacker.decompress(body) + unpacker.flush()).decode()


class PackedText(TypeDecorator[str]):
    """A ``str`` column stored packed (``LargeBinary``: BLOB on SQLite, bytea on PostgreSQL).

    Only equality of whole values makes sense in SQL on such a column; nothing searches them.
    """

    impl = LargeBinary
    cache_ok = True

    def __init__(self, dictionaries: tuple[tuple[int, bytes], ...] = (), current: int = PLAIN) -> None:
        super().__init__()
        # A tuple (hashable): SQLAlchemy caches statements by their types' arguments.
        self.dictionaries = dictionaries
        self.current = current
        self._by_version = dict(dictionaries)

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else pack(value, self._by_version, self.current)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else unpack(value, self._by_version)

    def copy(self, **kw: Any) -> PackedText:
        return PackedText(self.dictionaries, self.current)
