"""The metrology database's public counts (issue 18, "Public"): instruments registered, verified
today and overdue, per kind and per commune/ward, with totals. Counts only, no personal data;
anyone may read them (kept a minute per process: :mod:`workflows.metrology.public_counts`)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.metrology_schemas import kind_label
from api.schemas import Label
from workflows.clock import as_utc
from workflows.metrology import public_counts
from workflows.metrology.public_counts import Figures

router = APIRouter(prefix="/api/public/metrology", tags=["public"], responses=ERROR_RESPONSES)


class FiguresOut(BaseModel):
    registered: int = Field(description="Phương tiện đo đã đăng ký / Instruments registered")
    verified: int = Field(description="Còn hiệu lực kiểm định hôm nay / Holding a valid verification today")
    overdue: int = Field(description="Quá hạn kiểm định / Used past the end of their verification")

    @classmethod
    def of(cls, figures: Figures) -> FiguresOut:
        return cls(registered=figures.registered, verified=figures.verified, overdue=figures.overdue)


class KindCountOut(FiguresOut):
    kind: str
    kind_name: Label


class CommuneCountOut(FiguresOut):
    commune: str = Field(description="Xã, phường, đặc khu / Commune or ward")


class CellOut(KindCountOut):
    commune: str


class CountsOut(BaseModel):
    as_of: str = Field(description="Ngày tính (dd/mm/yyyy, giờ Việt Nam) / The day counted for")
    counted_at: str = Field(description="Lúc đếm (UTC, ISO 8601) / When counted")
    cache_seconds: int = Field(description="Số liệu được giữ tối đa ngần ấy giây / Kept at most this long")
    total: FiguresOut
    by_kind: list[KindCountOut]
    by_commune: list[CommuneCountOut]
    rows: list[CellOut] = Field(description="Từng loại trong từng xã, phường / Each kind in each commune")


@router.get("/counts", response_model=CountsOut)
async def counts(rt: RuntimeDep) -> CountsOut:
    """Số phương tiện đo theo loại và xã, phường / Instrument counts per kind and commune."""
    found = await run_in_threadpool(public_counts.public_counts, rt)
    return CountsOut(
        as_of=found.today.strftime("%d/%m/%Y"),
        counted_at=as_utc(found.counted_at).isoformat(),
        cache_seconds=public_counts.CACHE_SECONDS,
        total=FiguresOut.of(found.total),
        by_kind=[
            KindCountOut(kind=k, kind_name=kind_label(k), **FiguresOut.of(f).model_dump())
            for k, f in found.by_kind
        ],
        by_commune=[CommuneCountOut(commune=c, **FiguresOut.of(f).model_dump()) for c, f in found.by_commune],
        rows=[
            CellOut(
                kind=r.kind,
                kind_name=kind_label(r.kind),
                commune=r.commune,
                **FiguresOut.of(r.figures).model_dump(),
            )
            for r in found.rows
        ],
    )
