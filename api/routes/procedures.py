"""The procedure catalogue as loaded at start-up."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas import Label, ProcedureDetailOut, ProcedureOut, RulesVersionOut
from workflows.catalogue import Procedure
from workflows.runtime import Runtime

router = APIRouter(prefix="/api/procedures", tags=["procedures"], responses=ERROR_RESPONSES)


def _summary(rt: Runtime, p: Procedure) -> dict:
    return {
        "code": p.code,
        "name": Label(vi=p.name_vi, en=p.name_en),
        "summary": Label(vi=p.summary_vi, en=p.summary_en),
        "field": p.field_vi,
        "legal_basis": list(p.legal_basis),
        "legal_days": p.legal_days,
        "committed_days": p.committed_days,
        "required_documents": [Label(vi=d.get("vi", ""), en=d.get("en", "")) for d in p.required_documents],
        "fees": list(p.fees),
        "outputs": list(p.outputs),
        "start_form": p.start_form,
        "model_version_id": rt.model_version_of(p),
        "rules": _rules(p),
        "upcoming": _rules(upcoming) if (upcoming := rt.catalogue.upcoming(p.code)) else None,
    }


def _rules(p: Procedure) -> RulesVersionOut:
    return RulesVersionOut(
        key=p.version_key,
        effective_from=p.effective_from,
        effective_until=p.effective_until,
        label=Label(vi=p.version_label_vi, en=p.version_label_en),
        legal_basis=list(p.legal_basis),
    )


@router.get("", response_model=list[ProcedureOut])
def list_procedures(rt: RuntimeDep) -> list[ProcedureOut]:
    """Danh mục thủ tục / The procedure catalogue (no login needed)."""
    return [ProcedureOut(**_summary(rt, p)) for p in rt.catalogue.public.values()]


@router.get("/{code}", response_model=ProcedureDetailOut)
def get_procedure(code: str, rt: RuntimeDep) -> ProcedureDetailOut:
    """Một thủ tục với biểu mẫu nộp hồ sơ / One procedure with its start form's JSON Schema."""
    procedure = rt.public_procedure(code)
    form = procedure.form(rt.forms, procedure.start_form)
    return ProcedureDetailOut(
        **_summary(rt, procedure),
        start_form_fields=form.field_names(),
        start_form_schema=form.schema,
        start_form_ui_schema=form.ui_schema,
    )
