"""The demo (``make run``, demo mode only): the department's people, a few businesses, and each
procedure's demo dossiers, made by its plug-in (``ProcedurePlugin.demo``) in catalogue order."""

from __future__ import annotations

from sqlmodel import select

from workflows import accounts, tax_codes
from workflows.db import reading, transaction
from workflows.models import Dossier, User, WorkTask
from workflows.plugins import DemoAccount
from workflows.runtime import Runtime

CLERK = "motcua@demo.tdcflow.vn"
SPECIALIST = "chuyenvien@demo.tdcflow.vn"
LEADER = "lanhdao@demo.tdcflow.vn"
ADMIN = "quantri@demo.tdcflow.vn"
# The business most demo dossiers belong to.
BUSINESS = "lienhe@thepdongha.demo.vn"

CORE_DEMO_ACCOUNTS = (
    DemoAccount(CLERK, "demo-motcua-2026", "Lê Thị Hoa", ("clerk",), "CÁN BỘ TIẾP NHẬN"),
    DemoAccount(SPECIALIST, "demo-chuyenvien-2026", "Trần Văn Nam", ("specialist",), "CHUYÊN VIÊN"),
    DemoAccount(LEADER, "demo-lanhdao-2026", "Nguyễn Minh Đức", ("leader",), "PHÓ GIÁM ĐỐC"),
    DemoAccount(ADMIN, "demo-quantri-2026", "Hoàng Anh Tuấn", ("admin",), "QUẢN TRỊ HỆ THỐNG"),
    DemoAccount(
        BUSINESS,
        "demo-doanhnghiep1-2026",
        "Nguyễn Văn Thép",
        ("business",),
        tax_code="3200123452",
        organisation_name="Công ty TNHH Thép Đông Hà",
        address="Số 12 Lê Duẩn, phường Đông Hà, tỉnh Quảng Trị",
        tax_code_evidence="GCN ĐKDN số 3200123452, đăng ký lần đầu ngày 05/03/2015 (Phòng ĐKKD tỉnh Quảng Trị)",
    ),
    DemoAccount(
        "info@mubaohiemqb.demo.vn",
        "demo-doanhnghiep2-2026",
        "Đặng Thị Lan",
        ("business",),
        tax_code="3100654322-001",
        organisation_name="Công ty Cổ phần Mũ bảo hiểm Quảng Bình",
        address="KCN Tây Bắc Đồng Hới, tỉnh Quảng Trị",
        tax_code_evidence="Tra cứu Cổng thông tin quốc gia về đăng ký doanh nghiệp ngày 02/03/2026: chi nhánh "
        "3100654322-001 đang hoạt động",
    ),
    # Two accounts claiming one tax code, neither verified yet: the officers' list of tax codes
    # (/work/tax-codes) shows the conflict for a clerk to decide.
    DemoAccount(
        "kinhdoanh@cokhicamlo.demo.vn",
        "demo-doanhnghiep5-2026",
        "Lê Văn Tâm",
        ("business",),
        tax_code="3200765001",
        organisation_name="Công ty TNHH Cơ khí Cam Lộ",
        address="Thị trấn Cam Lộ, tỉnh Quảng Trị",
        note="MST chưa xác minh, trùng với doanh nghiệp 6",
    ),
    DemoAccount(
        "cokhicamlo.qt@demo.vn",
        "demo-doanhnghiep6-2026",
        "Trần Thị Hằng",
        ("business",),
        tax_code="3200765001",
        organisation_name="Cơ sở Cơ khí Cam Lộ",
        address="Xã Cam Hiếu, tỉnh Quảng Trị",
        note="MST chưa xác minh, trùng với doanh nghiệp 5",
    ),
)

# The smallest well-formed PDF: enough for the content check and for a viewer.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _plugins(rt: Runtime) -> list:  # type: ignore[type-arg]
    """The plug-ins of the catalogue's procedures, each once, in catalogue order."""
    seen: dict[str, object] = {}
    for procedure in rt.catalogue.procedures.values():
        if procedure.plugin.name:
            seen.setdefault(procedure.plugin.name, procedure.plugin)
    return list(seen.values())


def demo_accounts(rt: Runtime) -> list[DemoAccount]:
    """The core's demo accounts, then the procedures' own (council members, the TBT officer…)."""
    found = {account.email: account for account in CORE_DEMO_ACCOUNTS}
    for plugin in _plugins(rt):
        for account in plugin.demo_accounts:
            found.setdefault(account.email, account)
    return list(found.values())


def create_demo_accounts(rt: Runtime) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet (the officers first); returns those created.
    A business whose account names the registration checked is verified by the demo clerk."""
    created = []
    with reading(rt.engine) as session:
        existing = set(session.exec(select(User.email)).all())
    wanted = [account for account in demo_accounts(rt) if account.email not in existing]
    for account in sorted(wanted, key=lambda a: "business" in a.roles):
        if "business" in account.roles:
            user = accounts.register_business(
                rt,
                None,
                email=account.email,
                password=account.password,
                full_name=account.full_name,
                tax_code=account.tax_code or "",
                organisation_name=account.organisation_name or "",
                address=account.address or "",
            )
            if account.tax_code_evidence:
                tax_codes.verify_tax_code(rt, demo_user(rt, CLERK), user.id or 0, account.tax_code_evidence)
        else:
            accounts.create_officer(
                rt,
                None,
                email=account.email,
                password=account.password,
                full_name=account.full_name,
                roles=list(account.roles),
                job_title=account.job_title,
            )
        created.append(account)
    return created


def create_demo_dossiers(rt: Runtime) -> list[str]:
    """Each procedure's demo dossiers, in different states, so a new user sees a living system."""
    codes: list[str] = []
    for plugin in _plugins(rt):
        if plugin.demo is not None:
            codes.extend(plugin.demo(rt))
    return codes


def demo_user(rt: Runtime, email: str) -> User:
    """The demo account with this e-mail."""
    with transaction(rt.engine) as session:
        return session.exec(select(User).where(User.email == email)).one()


def open_task(rt: Runtime, code: str, spec_name: str, assignee_id: int | None = None) -> str:
    """The id of the dossier's open task ``spec_name`` (the one assigned to ``assignee_id``)."""
    with transaction(rt.engine) as session:
        query = (
            select(WorkTask.id)
            .join(Dossier, Dossier.id == WorkTask.dossier_id)
            .where(Dossier.code == code, WorkTask.spec_name == spec_name, WorkTask.status == "open")
        )
        if assignee_id is not None:
            query = query.where(WorkTask.assignee_id == assignee_id)
        return session.exec(query).one()
