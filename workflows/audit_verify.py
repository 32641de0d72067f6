"""Verification of the whole audit trail (``tdcflow audit verify`` and the daily job).

Every stream is read in order, once, in one snapshot of the database: each event must follow the
previous one (``seq`` without a gap), name its hash (``prev_hash``: the link) and hash to its own
``hash``; the stream's end must be the head its signed checkpoint names (``workflows.audit_anchor``):
as many events, the same head event and hash. A checkpoint without events is a stream deleted
whole. Then the daily roots: each signed, chained to the one before, equal to the hash of its
heads, and each head it recorded still in the trail. For each broken stream the first broken
event is named, with what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from workflows.audit import GENESIS, event_hash
from workflows.audit_anchor import checkpoint_signed, key_of, root_hash, root_signed
from workflows.models import AuditCheckpoint, AuditEvent, AuditRoot

_EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
_CHECKPOINTS = AuditCheckpoint.__table__  # type: ignore[attr-defined]
_ROOTS = AuditRoot.__table__  # type: ignore[attr-defined]
_BATCH = 2000


@dataclass(frozen=True)
class Problem:
    """What is wrong with one stream (or one daily root), at its first broken event."""

    stream: str
    kind: str  # hash_mismatch, link_mismatch, gap, truncated, beyond_checkpoint, head_mismatch,
    # no_checkpoint, checkpoint_unsigned, checkpoint_forged, stream_missing, root_*
    message_vi: str
    message_en: str
    event_id: int | None = None
    seq: int | None = None

    def line(self) -> str:
        """``stream  event 17 (seq 3)  gap: … / …`` (the messages open with what is wrong)."""
        if self.event_id is not None:
            where = f"event {self.event_id} (seq {self.seq})"
        else:
            where = f"seq {self.seq}" if self.seq is not None else "-"
        return f"{self.stream}  {where}  {self.message_en} / {self.message_vi}"


@dataclass
class Report:
    streams: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    last_root: tuple[date, str] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def broken_streams(self) -> list[str]:
        return list(dict.fromkeys(p.stream for p in self.problems))

    def summary_vi(self) -> str:
        root = (
            f"gốc ngày {self.last_root[0]:%d/%m/%Y}: {self.last_root[1]}" if self.last_root else "chưa có gốc"
        )
        return f"{self.streams} luồng, {self.events} sự kiện, {root}"

    def summary_en(self) -> str:
        root = (
            f"root of {self.last_root[0]:%d/%m/%Y}: {self.last_root[1]}" if self.last_root else "no root yet"
        )
        return f"{self.streams} streams, {self.events} events, {root}"

    def text(self) -> str:
        """The problems, one a line, then the summary (what the job stores on the day's root)."""
        lines = [problem.line() for problem in self.problems]
        return "\n".join([*lines, f"{self.summary_en()} / {self.summary_vi()}"])


@dataclass
class _Stream:
    """What the scan remembers of the stream it is reading."""

    name: str
    checkpoint: Any
    count: int = 0
    expected_seq: int = 1
    previous: str = GENESIS
    broken: bool = False
    last: Any = None
    first_beyond: Any = None


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent view of the whole trail while commands go on appending."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def verify(engine: Engine, stream: str | None = None) -> Report:
    """Check every stream, its checkpoint and every daily root; with ``stream``, that stream and
    its checkpoint only."""
    key = key_of(engine)
    report = Report()
    events, checkpoint_rows = select(_EVENTS), select(_CHECKPOINTS)
    if stream is not None:
        events = events.where(_EVENTS.c.stream == stream)
        checkpoint_rows = checkpoint_rows.where(_CHECKPOINTS.c.stream == stream)
    with _snapshot(engine) as connection:
        checkpoints = {row.stream: row for row in connection.execute(checkpoint_rows)}
        roots = [] if stream is not None else connection.execute(select(_ROOTS).order_by(_ROOTS.c.day)).all()
        # The heads the roots recorded, to compare with the events read below.
        wanted = {(stream, int(n)) for root in roots for stream, (n, _) in root.heads.items()}
        found: dict[tuple[str, int], str] = {}
        rows = connection.execution_options(yield_per=_BATCH).execute(
            events.order_by(_EVENTS.c.stream, _EVENTS.c.seq)
        )
        current: _Stream | None = None
        for row in rows:
            if current is None or row.stream != current.name:
                if current is not None:
                    _finish(current, key, report)
                current = _Stream(row.stream, checkpoints.pop(row.stream, None))
                report.streams += 1
            report.events += 1
            _check_event(current, row, report)
            if (row.stream, row.seq) in wanted:
                found[(row.stream, row.seq)] = row.hash
        if current is not None:
            _finish(current, key, report)
    for name, checkpoint in sorted(checkpoints.items()):
        report.problems.append(
            Problem(
                name,
                "stream_missing",
                f"mất cả luồng: điểm neo ghi {checkpoint.events} sự kiện, tìm thấy 0",
                f"stream missing: checkpoint says {checkpoint.events} events, 0 found",
            )
        )
    _check_roots(roots, found, key, report)
    if roots:
        report.last_root = (roots[-1].day, roots[-1].root_hash)
    return report


def _check_event(stream: _Stream, row: Any, report: Report) -> None:
    stream.count += 1
    checkpoint = stream.checkpoint
    if checkpoint is not None and row.seq == checkpoint.events + 1:
        stream.first_beyond = row
    if not stream.broken:
        problem: tuple[str, str, str] | None = None
        if row.seq != stream.expected_seq:
            missing = (
                f"{stream.expected_seq}"
                if row.seq == stream.expected_seq + 1
                else f"{stream.expected_seq}–{row.seq - 1}"
            )
            problem = (
                "gap",
                f"đứt quãng: thiếu sự kiện số {missing} trước sự kiện này",
                f"gap: seq {missing} missing before this event",
            )
        elif row.prev_hash != stream.previous:
            problem = (
                "link_mismatch",
                "sai liên kết: prev_hash không phải mã băm của sự kiện trước (sự kiện trước đã bị sửa hoặc thay)",
                "link mismatch: its prev_hash is not the previous event's hash (that event was changed or replaced)",
            )
        elif event_hash(row) != row.hash:
            problem = (
                "hash_mismatch",
                "sai mã băm: nội dung sự kiện đã bị sửa",
                "hash mismatch: the event's content was changed",
            )
        if problem is not None:
            stream.broken = True
            report.problems.append(Problem(stream.name, problem[0], problem[1], problem[2], row.id, row.seq))
    stream.expected_seq = row.seq + 1
    stream.previous = row.hash
    stream.last = row


def _finish(stream: _Stream, key: bytes, report: Report) -> None:
    """Compare the stream's end with its checkpoint."""
    checkpoint, last = stream.checkpoint, stream.last
    if checkpoint is None:
        report.problems.append(
            Problem(
                stream.name,
                "no_checkpoint",
                f"không có điểm neo: {stream.count} sự kiện không được neo (điểm neo đã bị xoá)",
                f"no checkpoint: {stream.count} events that nothing anchors (the checkpoint was deleted)",
                last.id,
                last.seq,
            )
        )
        return
    if not checkpoint.mac:
        report.problems.append(
            Problem(
                stream.name,
                "checkpoint_unsigned",
                "điểm neo không có chữ ký HMAC",
                "checkpoint unsigned: it carries no HMAC",
            )
        )
    elif not checkpoint_signed(key, checkpoint):
        report.problems.append(
            Problem(
                stream.name,
                "checkpoint_forged",
                "điểm neo bị sửa: HMAC không khớp",
                "checkpoint rewritten: its HMAC does not match",
            )
        )
    if stream.broken:
        return  # the first broken event is named already
    if last.seq < checkpoint.events:
        report.problems.append(
            Problem(
                stream.name,
                "truncated",
                f"bị cắt cuối: điểm neo ghi {checkpoint.events} sự kiện, tìm thấy {stream.count}",
                f"truncated: checkpoint says {checkpoint.events} events, {stream.count} found",
                last.id,
                last.seq,
            )
        )
    elif last.seq > checkpoint.events:
        beyond = stream.first_beyond or last
        report.problems.append(
            Problem(
                stream.name,
                "beyond_checkpoint",
                f"có sự kiện ngoài điểm neo: điểm neo ghi {checkpoint.events} sự kiện, tìm thấy {stream.count}",
                f"events beyond the checkpoint: checkpoint says {checkpoint.events} events, {stream.count} found",
                beyond.id,
                beyond.seq,
            )
        )
    elif last.id != checkpoint.head_event_id or last.hash != checkpoint.head_hash:
        report.problems.append(
            Problem(
                stream.name,
                "head_mismatch",
                "sự kiện cuối không phải sự kiện điểm neo đã ký (bị sửa hoặc thay)",
                "head mismatch: the last event is not the one its checkpoint signed (changed or replaced)",
                last.id,
                last.seq,
            )
        )


def _check_roots(roots: list[Any], found: dict[tuple[str, int], str], key: bytes, report: Report) -> None:
    already = set(report.broken_streams)
    heads: dict[str, tuple[int, str]] = {}
    previous = GENESIS
    for root in roots:
        name, day = f"root {root.day:%d/%m/%Y}", f"{root.day:%d/%m/%Y}"
        if root.prev_hash != previous:
            report.problems.append(
                Problem(
                    name,
                    "root_chain",
                    "gốc không nối với gốc ngày trước (một gốc đã bị xoá hoặc sửa)",
                    "root chain broken: it does not follow the previous root (a root was deleted or changed)",
                )
            )
        heads.update({stream: (int(n), str(h)) for stream, (n, h) in root.heads.items()})
        if root_hash(root.prev_hash, heads) != root.root_hash:
            report.problems.append(
                Problem(
                    name,
                    "root_mismatch",
                    "các đầu luồng đã ghi không cho ra mã băm gốc (gốc bị sửa)",
                    "root mismatch: its recorded heads do not give its root hash (the root was changed)",
                )
            )
        if not root_signed(key, root):
            report.problems.append(
                Problem(
                    name,
                    "root_forged",
                    "gốc bị sửa: HMAC không khớp",
                    "root rewritten: its HMAC does not match",
                )
            )
        for stream, (n, h) in sorted(root.heads.items()):
            if stream in already or found.get((stream, int(n))) == h:
                continue
            already.add(stream)
            gone = (stream, int(n)) not in found
            report.problems.append(
                Problem(
                    stream,
                    "root_head_missing" if gone else "root_head_mismatch",
                    f"{'mất' if gone else 'sai'} đầu luồng đã ghi trong gốc: gốc ngày {day} ghi {n} sự kiện; "
                    f"sự kiện số {n} " + ("không còn" if gone else "đã khác (bị sửa hoặc thay)"),
                    f"root head {'missing' if gone else 'mismatch'}: the root of {day} counted {n} events; "
                    f"event seq {n} " + ("is gone" if gone else "differs (changed or replaced)"),
                    seq=int(n),
                )
            )
        previous = root.root_hash
