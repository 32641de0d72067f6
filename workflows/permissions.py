"""The one permissions policy: who may do what. Every route, page, command and query asks here.

An :class:`Action` names something a person may do and who may do it: roles (business, clerk,
specialist, leader, admin and the procedures' own, e.g. council, tbt_officer) or an audience:

* ``ANYONE``: no sign-in needed;
* ``SIGNED_IN``: any signed-in account (a TBT visitor, who holds no role, too);
* ``OFFICERS``: any account holding a role other than business (``User.is_officer``), whatever
  roles the procedures add.

The core's actions are below; a procedure adds its own (``ProcedurePlugin.permissions``), merged
by :func:`table`. :func:`require` raises :class:`~workflows.errors.Forbidden` with the action's
own message (code ``forbidden``), the message each check gave before it moved here.

Rules that depend on the data as well as the role (a business sees only its own dossiers; a task
is worked by the holders of its role) are the named functions at the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from workflows.errors import Forbidden, not_found
from workflows.plugins import plugin_permissions

if TYPE_CHECKING:
    from workflows.models import Dossier, WorkTask

ANYONE = "anyone"
SIGNED_IN = "signed-in"
OFFICERS = "officers"
AUDIENCES = (ANYONE, SIGNED_IN, OFFICERS)


class Person(Protocol):
    """What the policy reads of a user (``workflows.models.User``)."""

    id: int | None
    roles: list[str]

    def has_role(self, role: str) -> bool: ...

    @property
    def is_officer(self) -> bool: ...


@dataclass(frozen=True)
class Action:
    """Something a person may do, who may (``roles``: role names or audiences), and what a person
    who may not is told."""

    name: str
    roles: tuple[str, ...]
    label_vi: str
    label_en: str
    refused_vi: str = "Bạn không có quyền thực hiện việc này."
    refused_en: str = "You may not do this."

    def allows(self, user: Person | None) -> bool:
        if ANYONE in self.roles:
            return True
        if user is None:
            return False
        if SIGNED_IN in self.roles:
            return True
        if OFFICERS in self.roles and user.is_officer:
            return True
        return any(user.has_role(role) for role in self.roles if role not in AUDIENCES)


class UnknownAction(KeyError):
    """An action no table names: a mistake in the code, never a user's."""


# --- the core's actions ---------------------------------------------------------------------------

SIGNED_IN_ACTION = Action("account.use", (SIGNED_IN,), "Dùng tài khoản", "Use one's account")
DOSSIER_SUBMIT = Action(
    "dossier.submit",
    ("business",),
    "Nộp hồ sơ",
    "Submit a dossier",
    "Chỉ tổ chức, doanh nghiệp mới nộp hồ sơ.",
    "Only a business can submit a dossier.",
)
DOSSIER_START_PAGE = Action(
    "dossier.start_page",
    ("business",),
    "Mở biểu mẫu nộp hồ sơ",
    "Open a dossier's application form",
    "Chỉ tài khoản doanh nghiệp mới nộp hồ sơ.",
    "Only a business account can submit a dossier.",
)
# The business's own pages ("my dossiers" in the menu; the pages themselves show one's own).
MY_DOSSIER_PAGES = Action("dossier.my_pages", ("business",), "Hồ sơ của tôi", "My dossiers")
# The department's own staff, who work across every procedure: they see every dossier, its whole
# data, its history's details, its sealed documents, the register and the reports. The roles a
# procedure adds (a council member, a TBT officer) see only the dossiers their work touches
# (:func:`dossier_scope`).
DEPARTMENT_ROLES = ("clerk", "specialist", "leader", "admin")
DOSSIER_SEE_ALL = Action(
    "dossier.see_all",
    DEPARTMENT_ROLES,
    "Xem mọi hồ sơ",
    "See every dossier",
    "Chỉ cán bộ của Sở (một cửa, chuyên viên, lãnh đạo, quản trị) xem mọi hồ sơ.",
    "Only the department's staff (clerk, specialist, leader, administrator) see every dossier.",
)
DOSSIER_EXTEND = Action(
    "dossier.extend",
    ("leader",),
    "Gia hạn hồ sơ",
    "Extend a dossier's deadline",
    "Chỉ lãnh đạo được gia hạn.",
    "Only a leader can extend a deadline.",
)
TASK_RELEASE_ANY = Action(
    "task.release_any", ("leader",), "Trả lại việc người khác giữ", "Release another's task"
)
WORK_API = Action(
    "work.api",
    (OFFICERS,),
    "Chức năng của cán bộ",
    "Officers' functions",
    "Chức năng dành cho cán bộ.",
    "Officers only.",
)
WORK_PAGES = Action(
    "work.pages",
    (OFFICERS,),
    "Trang của cán bộ",
    "Officers' pages",
    "Trang này dành cho cán bộ.",
    "This page is for officers.",
)
ADMIN_PAGES = Action(
    "admin.pages",
    ("admin",),
    "Trang quản trị",
    "Administration pages",
    "Trang này dành cho quản trị.",
    "This page is for administrators.",
)
INSTANCE_RESUME = Action(
    "instance.resume",
    ("admin",),
    "Khôi phục hồ sơ bị kẹt",
    "Resume a stuck dossier",
    "Chỉ quản trị viên được khôi phục hồ sơ.",
    "Only an administrator can resume a dossier.",
)
LOGIN_LOCKS_MANAGE = Action(
    "login_locks.manage",
    ("admin",),
    "Xem và gỡ khóa đăng nhập",
    "See and lift login locks",
    "Chỉ quản trị viên được xem và gỡ khóa đăng nhập.",
    "Only an administrator can see and lift login locks.",
)
ACCOUNT_MANAGE = Action(
    "account.manage",
    ("admin",),
    "Quản lý tài khoản",
    "Manage accounts",
    "Chỉ quản trị viên được quản lý tài khoản.",
    "Only an administrator can manage accounts.",
)
DOCUMENT_TEMPLATES_MANAGE = Action(
    "document_templates.manage",
    ("admin",),
    "Quản lý mẫu văn bản",
    "Manage document templates",
    "Chỉ quản trị viên được quản lý mẫu văn bản.",
    "Only an administrator can manage document templates.",
)
VIOLATION_HANDLE = Action(
    "violation.handle",
    ("specialist", "leader"),
    "Xử lý vi phạm",
    "Handle a violation",
    "Chỉ chuyên viên, lãnh đạo được ghi nhận việc xử lý vi phạm.",
    "Only a specialist or a leader can record how a violation was handled.",
)
# Checking a business's tax code against its registration (verify, reject, decide a contest): the
# one-stop desk that receives the papers, and the administrator; not the specialists and leaders.
ACCOUNT_VERIFY_TAX_CODE = Action(
    "account.verify_tax_code",
    ("clerk", "admin"),
    "Xác minh mã số thuế của doanh nghiệp",
    "Verify a business's tax code",
    "Chỉ bộ phận một cửa và quản trị viên được xác minh mã số thuế.",
    "Only the one-stop desk and the administrator can verify tax codes.",
)

# Personal signing: the administrator registers a leader's own certificate; the leader downloads
# the results waiting for their signature and uploads them signed (workflows.personal_signing).
SIGNER_CERTIFICATE_MANAGE = Action(
    "signer_certificate.manage",
    ("admin",),
    "Đăng ký chứng thư số của lãnh đạo",
    "Register a leader's signing certificate",
    "Chỉ quản trị viên được đăng ký chứng thư số của lãnh đạo.",
    "Only an administrator can register a leader's signing certificate.",
)
# The working calendar: days off and make-up working days with their deciding document
# (workflows.calendar_change), which move the deadlines of open dossiers.
CALENDAR_MANAGE = Action(
    "calendar.manage",
    ("admin",),
    "Quản lý lịch làm việc",
    "Manage the working calendar",
    "Chỉ quản trị viên được sửa lịch làm việc.",
    "Only an administrator can change the working calendar.",
)
PERSONAL_SIGNING = Action(
    "document.sign_personally",
    ("leader",),
    "Ký số cá nhân văn bản",
    "Sign a document personally",
    "Chỉ lãnh đạo được ký số cá nhân văn bản.",
    "Only a leader can sign a document personally.",
)
# Deploying a version of a procedure (models, forms, figures) and moving running dossiers onto
# it (workflows.deployments, workflows.instance_migration).
PROCEDURE_VERSIONS_MANAGE = Action(
    "procedure_versions.manage",
    ("admin",),
    "Triển khai phiên bản thủ tục, chuyển hồ sơ sang phiên bản mới",
    "Deploy procedure versions and migrate dossiers",
    "Chỉ quản trị viên được triển khai phiên bản thủ tục và chuyển hồ sơ.",
    "Only an administrator can deploy procedure versions and migrate dossiers.",
)

# Satisfaction (workflows.ratings): the applicant of a dossier with a result rates the service once
# (a business, or a TBT visitor through its follow link: any signed-in account, the dossier's
# applicant only, :func:`may_rate_dossier`); the department's staff read the ratings and comments.
DOSSIER_RATE = Action(
    "dossier.rate",
    (SIGNED_IN,),
    "Đánh giá mức độ hài lòng",
    "Rate the service",
    "Chỉ người nộp hồ sơ được đánh giá mức độ hài lòng.",
    "Only the dossier's applicant can rate the service.",
)
RATINGS_READ = Action(
    "ratings.read",
    DEPARTMENT_ROLES,
    "Xem đánh giá của tổ chức, cá nhân",
    "Read the applicants' ratings",
    "Chỉ cán bộ của Sở xem đánh giá của tổ chức, cá nhân.",
    "Only the department's staff read the applicants' ratings.",
)

# --- the metrology database (workflows.metrology) --------------------------------------------------
# The administrator registers the verification bodies and gives them API keys; a body reports its
# results with a key (it holds no account: ``verification_body`` is the role its key stands for);
# a business reads its own instruments (by its verified tax code); the department's staff read
# any instrument and its history.
METROLOGY_BODIES_MANAGE = Action(
    "metrology.bodies.manage",
    ("admin",),
    "Quản lý tổ chức kiểm định và khóa API",
    "Manage verification bodies and their API keys",
    "Chỉ quản trị viên được quản lý tổ chức kiểm định và khóa API.",
    "Only an administrator can manage verification bodies and their API keys.",
)
METROLOGY_REPORT = Action(
    "metrology.report",
    ("verification_body",),
    "Báo cáo kết quả kiểm định",
    "Report verification results",
    "Chỉ tổ chức kiểm định (bằng khóa API của mình) được báo cáo kết quả kiểm định.",
    "Only a verification body (with its API key) can report verification results.",
)
METROLOGY_MY_INSTRUMENTS = Action(
    "metrology.my_instruments",
    ("business",),
    "Phương tiện đo của tôi",
    "My measuring instruments",
    "Chỉ tài khoản doanh nghiệp xem phương tiện đo của mình.",
    "Only a business account sees its own measuring instruments.",
)
METROLOGY_READ = Action(
    "metrology.read",
    DEPARTMENT_ROLES,
    "Xem cơ sở dữ liệu đo lường",
    "Read the metrology database",
    "Chỉ cán bộ của Sở xem cơ sở dữ liệu đo lường.",
    "Only the department's staff read the metrology database.",
)

# The violation warnings are handled by the officers who verify and inspect (the specialists) and
# their leaders; a clerk or an administrator reads the database but does not handle them. A lost
# stamp is reported by its instrument's owner (a business, for its own: a data rule below) or by
# such an officer.
METROLOGY_WARNINGS = Action(
    "metrology.warnings",
    ("specialist", "leader"),
    "Xử lý cảnh báo vi phạm đo lường",
    "Handle metrology violation warnings",
    "Chỉ chuyên viên và lãnh đạo xem và xử lý cảnh báo vi phạm đo lường.",
    "Only specialists and leaders read and handle metrology violation warnings.",
)
METROLOGY_STAMP_LOST = Action(
    "metrology.stamp_lost",
    ("business", "specialist", "leader"),
    "Báo mất tem kiểm định",
    "Report a verification stamp lost",
    "Chỉ chủ phương tiện đo (doanh nghiệp), chuyên viên hoặc lãnh đạo được báo mất tem kiểm định.",
    "Only the instrument's owner (a business), a specialist or a leader can report a stamp lost.",
)
# An instrument in use is registered by its owner (a business, under its verified tax code: a data
# rule in workflows.metrology.registration, which also lets it correct the registration only until
# the first verification) or, for any owner (a household too), by a specialist or a leader.
METROLOGY_REGISTER_OWN = Action(
    "metrology.register_own",
    ("business",),
    "Đăng ký phương tiện đo của mình",
    "Register one's own measuring instruments",
    "Chỉ tài khoản doanh nghiệp được đăng ký phương tiện đo của mình.",
    "Only a business account registers its own measuring instruments.",
)
METROLOGY_REGISTER = Action(
    "metrology.register",
    ("specialist", "leader"),
    "Đăng ký phương tiện đo cho chủ sở hữu",
    "Register measuring instruments for any owner",
    "Chỉ chuyên viên và lãnh đạo được đăng ký, sửa phương tiện đo cho chủ sở hữu.",
    "Only specialists and leaders register and correct instruments for any owner.",
)

CORE_ACTIONS: tuple[Action, ...] = (
    SIGNED_IN_ACTION,
    DOSSIER_SUBMIT,
    DOSSIER_START_PAGE,
    MY_DOSSIER_PAGES,
    DOSSIER_SEE_ALL,
    DOSSIER_EXTEND,
    TASK_RELEASE_ANY,
    WORK_API,
    WORK_PAGES,
    ADMIN_PAGES,
    INSTANCE_RESUME,
    LOGIN_LOCKS_MANAGE,
    ACCOUNT_MANAGE,
    DOCUMENT_TEMPLATES_MANAGE,
    VIOLATION_HANDLE,
    ACCOUNT_VERIFY_TAX_CODE,
    SIGNER_CERTIFICATE_MANAGE,
    CALENDAR_MANAGE,
    PERSONAL_SIGNING,
    PROCEDURE_VERSIONS_MANAGE,
    DOSSIER_RATE,
    RATINGS_READ,
    METROLOGY_BODIES_MANAGE,
    METROLOGY_REPORT,
    METROLOGY_MY_INSTRUMENTS,
    METROLOGY_READ,
    METROLOGY_WARNINGS,
    METROLOGY_STAMP_LOST,
    METROLOGY_REGISTER_OWN,
    METROLOGY_REGISTER,
)


def table() -> dict[str, Action]:
    """Every action by name: the core's and the registered procedures'."""
    return {**{a.name: a for a in CORE_ACTIONS}, **plugin_permissions()}


def action(name: str) -> Action:
    try:
        return table()[name]
    except KeyError:
        raise UnknownAction(name) from None


def _action(what: Action | str) -> Action:
    return what if isinstance(what, Action) else action(what)


def may(user: Person | None, what: Action | str) -> bool:
    """Whether ``user`` (None: nobody signed in) may do ``what``."""
    return _action(what).allows(user)


def require(user: Person | None, what: Action | str) -> None:
    """Raise Forbidden (code ``forbidden``, the action's message) unless ``user`` may do ``what``."""
    act = _action(what)
    if not act.allows(user):
        raise Forbidden(act.refused_vi, act.refused_en, "forbidden")


def allowed_actions(user: Person | None, names: Iterable[str] | None = None) -> list[str]:
    """The actions (of ``names``, or of the whole table) ``user`` may do."""
    return [n for n in (names if names is not None else table()) if may(user, n)]


# --- rules that read the data too -----------------------------------------------------------------


@dataclass(frozen=True)
class DossierScope:
    """Which dossiers a person sees (the lists' query; :func:`may_see_dossier` for one):
    ``every`` one; else the ones they applied with (always), those with a task, open or done, for
    one of ``task_roles``, and those with a task of ``assigned_roles`` assigned to them."""

    every: bool
    task_roles: tuple[str, ...]
    assigned_roles: tuple[str, ...]

    @property
    def only_own(self) -> bool:
        return not (self.every or self.task_roles or self.assigned_roles)


def dossier_scope(user: Person) -> DossierScope:
    """The department's staff see every dossier; a procedure's role sees the dossiers whose model
    gave that role work (a TBT officer: the inquiries), a personal role those where its holder was
    given work (a council member: the applications of the rounds they score); a business its own."""
    if may(user, DOSSIER_SEE_ALL):
        return DossierScope(True, (), ())
    officer_roles = tuple(r for r in user.roles if r != "business")
    return DossierScope(
        False,
        tuple(r for r in officer_roles if r not in PERSONAL_TASK_ROLES),
        tuple(r for r in officer_roles if r in PERSONAL_TASK_ROLES),
    )


def may_see_dossier(user: Person, dossier: Dossier, worked_on: bool = False) -> bool:
    """The department's staff see every dossier; anyone else the dossiers they applied with, and
    those their roles' work touches (``worked_on``: the caller looked the tasks up, as the scope
    says)."""
    return may(user, DOSSIER_SEE_ALL) or dossier.applicant_id == user.id or worked_on


def may_work_task(user: Person, task: WorkTask, dossier: Dossier) -> bool:
    """A business's task is the applicant's alone; any other task belongs to its candidate role."""
    if task.candidate_role == "business":
        return user.id == dossier.applicant_id
    return user.has_role(task.candidate_role)


def require_may_work_task(user: Person, task: WorkTask, dossier: Dossier) -> None:
    """As :func:`may_work_task`; a business is told the task is not found (it must not learn of
    others' work), an officer which role the task is for."""
    if may_work_task(user, task, dossier):
        return
    if user.has_role("business"):
        raise not_found("công việc", "Task")
    raise Forbidden(
        f"Công việc này dành cho vai trò '{task.candidate_role}'.",
        f"This task is for the '{task.candidate_role}' role.",
        "forbidden",
    )


# Roles whose tasks are each holder's own: a council member's score sheets are theirs alone.
PERSONAL_TASK_ROLES = ("council",)


@dataclass(frozen=True)
class InboxScope:
    """The open tasks an inbox lists: those of ``roles``; those of ``assigned_roles`` assigned to
    the user; with ``applicant_tasks``, the business tasks of the user's own dossiers."""

    roles: tuple[str, ...]
    assigned_roles: tuple[str, ...]
    applicant_tasks: bool


def inbox_scope(user: Person) -> InboxScope:
    """Which open tasks ``user`` works on (the inbox's query; :func:`may_work_task` for one)."""
    return InboxScope(
        roles=tuple(r for r in user.roles if r != "business" and r not in PERSONAL_TASK_ROLES),
        assigned_roles=tuple(r for r in PERSONAL_TASK_ROLES if user.has_role(r)),
        applicant_tasks=user.has_role("business"),
    )


def may_attach_to_dossier(user: Person, dossier: Dossier, worked_on: bool = False) -> bool:
    """Whoever sees a dossier may attach files to it, but a business to its own only."""
    if user.has_role("business") and dossier.applicant_id != user.id:
        return False
    return may_see_dossier(user, dossier, worked_on)


def may_read_document(user: Person, applicant_may_read: bool) -> bool:
    """Officers read every document of a dossier they see; the applicant those its procedure does
    not seal from applicants (``applicant_may_read``, the procedure's privacy)."""
    return user.is_officer or applicant_may_read


def may_read_editable_copy(user: Person) -> bool:
    """The .docx of an issued document is the officers' editable copy; everyone else gets the
    official copy, the signed PDF (DESIGN rule 8)."""
    return user.is_officer


def may_read_whole_data(user: Person) -> bool:
    """Officers read the whole process data and the history's details of a dossier they see; a
    business what it filed."""
    return user.is_officer


def may_rate_dossier(user: Person | None, dossier: Dossier) -> bool:
    """The applicant rates the service of its own dossier, once it has its result (not withdrawn)."""
    return (
        may(user, DOSSIER_RATE)
        and user is not None
        and dossier.applicant_id == user.id
        and dossier.completed_at is not None
        and dossier.outcome != "withdrawn"
    )


def may_read_rating(user: Person | None, dossier: Dossier, worked_on: bool = False) -> bool:
    """The applicant reads its own rating; officers who see the dossier read its rating and comment."""
    if user is None:
        return False
    return dossier.applicant_id == user.id or (user.is_officer and may_see_dossier(user, dossier, worked_on))
