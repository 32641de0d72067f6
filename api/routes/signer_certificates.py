"""Leaders' signing certificates through the API: the administrator registers, reads and revokes
a leader's certificate (personal signing, ``workflows.signer_certificates``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile

from api.deps import Permitted, RowId, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.uploads import read_limited
from workflows import permissions, signer_certificates
from workflows.errors import not_found
from workflows.models import SignerCertificate, User

router = APIRouter(prefix="/api/admin/users", tags=["admin"], responses=ERROR_RESPONSES)

Admin = Annotated[User, Depends(Permitted(permissions.SIGNER_CERTIFICATE_MANAGE))]


def _out(row: SignerCertificate) -> dict[str, object]:
    """The registration as JSON (the instants in ISO 8601)."""
    return row.model_dump(mode="json")


@router.get("/{user_id}/signer-certificate")
def read(user_id: RowId, admin: Admin, rt: RuntimeDep) -> dict[str, object]:
    """Chứng thư số đã đăng ký của lãnh đạo / The leader's registered certificate (404: none)."""
    row = signer_certificates.current(rt, user_id)
    if row is None:
        raise not_found("chứng thư số đã đăng ký", "Registered certificate")
    return _out(row)


@router.post("/{user_id}/signer-certificate", status_code=201)
async def register(
    user_id: RowId,
    admin: Admin,
    rt: RuntimeDep,
    file: Annotated[UploadFile, File(description="Chứng thư số (.cer, .crt, .pem) / The certificate")],
    signs_personally: Annotated[bool, Form()] = True,
) -> dict[str, object]:
    """Đăng ký chứng thư số cho lãnh đạo / Register a leader's signing certificate (replaces the
    earlier one; 422 on ``file`` for what is not a certificate, expired, or not for signing)."""
    content = await read_limited(file, signer_certificates.MAX_CERTIFICATE_BYTES)
    return _out(signer_certificates.register(rt, admin, user_id, content, signs_personally=signs_personally))


@router.delete("/{user_id}/signer-certificate")
def revoke(user_id: RowId, admin: Admin, rt: RuntimeDep) -> dict[str, object]:
    """Thu hồi đăng ký / Revoke the registration: the documents waiting for the leader go to the
    agency's signature."""
    return _out(signer_certificates.revoke(rt, admin, user_id))
