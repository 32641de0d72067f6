"""One table for every issued document

Until now a dossier's documents were rows of ``document``, a WTO notification's compilations of
comments rows of ``tbt_wto_compilation`` and an award round's recommendation lists rows of
``award_recommendation_list``, each verified by a finder of its own. Every issued document is now
a row of ``document`` saying what it was issued for (``issued_for``: "dossier", "wto_notification",
"award_round"; ``issued_for_id``), the reference it prints and its label, whom it is addressed to
(``holder_name``), its other formats (``renditions``: the award list's .xlsx) and figures of its
own (``details``); ``dossier_id`` is empty for a document issued for no dossier.

The rows of the two old tables move into ``document`` with their ids, numbers, verification codes,
file digests, issuer and instant unchanged (a code printed on paper still verifies, a stored file
is still found); a dossier's documents get their dossier's code as reference and its applicant as
holder. The data moves are SQL of their own (no rows read into Python), so ``tdcflow migrate --sql``
writes them too. The titles and labels are the ones tdcflow printed when this was written.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WTO_TITLE = "Tổng hợp ý kiến góp ý thông báo TBT của WTO"
WTO_LABELS = ("Thông báo TBT của WTO", "WTO TBT notification")
AWARD_TITLE = "Danh sách đề xuất Giải thưởng Chất lượng Quốc gia"
AWARD_REFERENCE = "Giải thưởng Chất lượng Quốc gia năm "
AWARD_LABELS = ("Đợt xét giải", "Award round")

# (name, type) of the columns this revision adds, all NOT NULL but issued_for_id.
NEW_COLUMNS: tuple[tuple[str, sa.types.TypeEngine], ...] = (  # type: ignore[type-arg]
    ("issued_for", sa.String(length=40)),
    ("issued_for_id", sa.Integer()),
    ("reference", sa.String(length=120)),
    ("reference_label_vi", sa.String(length=120)),
    ("reference_label_en", sa.String(length=120)),
    ("holder_name", sa.String(length=300)),
    ("renditions", sa.JSON()),
    ("details", sa.JSON()),
)


def _document(stage: str) -> sa.Table:
    """The document table as it stands at ``stage``: "0002" (before), "moving" (the new columns
    still nullable, while the rows are filled) or "0003". Given, not reflected, so that SQLite's
    table rebuilds can be written by ``--sql`` too."""
    columns = [
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=stage != "0002"),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("verification_code", sa.String(length=20), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    ]
    if stage != "0002":
        columns += [
            sa.Column(name, kind, nullable=stage == "moving" or name == "issued_for_id")
            for name, kind in NEW_COLUMNS
        ]
    table = sa.Table(
        "document",
        sa.MetaData(),
        *columns,
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"]),
        sa.ForeignKeyConstraint(["issued_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    sa.Index("ix_document_dossier_id", table.c.dossier_id)
    sa.Index("ix_document_verification_code", table.c.verification_code, unique=True)
    if stage == "0003":
        sa.Index("ix_document_issued_for_id", table.c.issued_for_id)
    return table


def _json_object(pairs: str) -> str:
    """SQL building a JSON object from ``key, value, …`` in this database's dialect."""
    sqlite = op.get_context().dialect.name == "sqlite"
    return f"json_object({pairs})" if sqlite else f"json_build_object({pairs})"


def _json_field(column: str, *path: str) -> str:
    """SQL reading the text at ``path`` of a JSON column."""
    if op.get_context().dialect.name == "sqlite":
        return f"json_extract({column}, '$.{'.'.join(path)}')"
    steps = "".join(f"->'{p}'" for p in path[:-1])
    return f"({column}{steps}->>'{path[-1]}')"


def upgrade() -> None:
    with op.batch_alter_table("document", copy_from=_document("0002")) as batch:
        for name, kind in NEW_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
        batch.alter_column("dossier_id", existing_type=sa.Integer(), nullable=True)

    empty = "'{}'"
    op.execute(
        "UPDATE document SET issued_for = 'dossier', issued_for_id = dossier_id, "
        "reference = (SELECT code FROM dossier WHERE dossier.id = document.dossier_id), "
        "holder_name = (SELECT applicant_name FROM dossier WHERE dossier.id = document.dossier_id), "
        f"reference_label_vi = 'Hồ sơ', reference_label_en = 'Dossier', renditions = {empty}, details = {empty}"
    )
    comment_count = _json_object("'comment_count', c.comment_count")
    op.execute(
        "INSERT INTO document (id, dossier_id, kind, title, number, filename, sha256, size, "
        "verification_code, issued_by_id, issued_at, issued_for, issued_for_id, reference, "
        "reference_label_vi, reference_label_en, holder_name, renditions, details) "
        f"SELECT c.id, NULL, 'tbt_wto_comments', '{WTO_TITLE}', c.number, "
        "'tong-hop-gop-y-' || replace(c.number, '/', '-') || '.docx', c.sha256, c.size, "
        "c.verification_code, c.issued_by_id, c.issued_at, 'wto_notification', c.notification_id, n.symbol, "
        f"'{WTO_LABELS[0]}', '{WTO_LABELS[1]}', '', {empty}, {comment_count} "
        "FROM tbt_wto_compilation c JOIN tbt_wto_notification n ON n.id = c.notification_id"
    )
    xlsx = _json_object(
        "'xlsx', "
        + _json_object(
            "'filename', 'danh-sach-de-xuat-' || r.year || '.xlsx', 'sha256', l.xlsx_sha256, 'size', l.xlsx_size"
        )
    )
    counts = _json_object("'listed_count', l.listed_count, 'recommended_count', l.recommended_count")
    op.execute(
        "INSERT INTO document (id, dossier_id, kind, title, number, filename, sha256, size, "
        "verification_code, issued_by_id, issued_at, issued_for, issued_for_id, reference, "
        "reference_label_vi, reference_label_en, holder_name, renditions, details) "
        f"SELECT l.id, NULL, 'award_recommendation_list', '{AWARD_TITLE} năm ' || r.year, l.number, "
        "'danh-sach-de-xuat-' || r.year || '.docx', l.docx_sha256, l.docx_size, "
        "l.verification_code, l.issued_by_id, l.issued_at, 'award_round', l.round_id, "
        f"'{AWARD_REFERENCE}' || r.year, '{AWARD_LABELS[0]}', '{AWARD_LABELS[1]}', '', {xlsx}, "
        f"{counts} "
        "FROM award_recommendation_list l JOIN award_round r ON r.id = l.round_id"
    )

    with op.batch_alter_table("document", copy_from=_document("moving")) as batch:
        for name, kind in NEW_COLUMNS:
            if name != "issued_for_id":
                batch.alter_column(name, existing_type=kind, nullable=False)
        batch.create_index("ix_document_issued_for_id", ["issued_for_id"], unique=False)

    op.drop_index("ix_tbt_wto_compilation_notification_id", table_name="tbt_wto_compilation")
    op.drop_table("tbt_wto_compilation")
    op.drop_index("ix_award_recommendation_list_round_id", table_name="award_recommendation_list")
    op.drop_index("ix_award_recommendation_list_verification_code", table_name="award_recommendation_list")
    op.drop_table("award_recommendation_list")


def downgrade() -> None:
    op.create_table(
        "award_recommendation_list",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("verification_code", sa.String(length=20), nullable=False),
        sa.Column("docx_sha256", sa.String(length=64), nullable=False),
        sa.Column("docx_size", sa.Integer(), nullable=False),
        sa.Column("xlsx_sha256", sa.String(length=64), nullable=False),
        sa.Column("xlsx_size", sa.Integer(), nullable=False),
        sa.Column("listed_count", sa.Integer(), nullable=False),
        sa.Column("recommended_count", sa.Integer(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issued_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["award_round.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_award_recommendation_list_verification_code",
        "award_recommendation_list",
        ["verification_code"],
        unique=True,
    )
    op.create_index(
        "ix_award_recommendation_list_round_id", "award_recommendation_list", ["round_id"], unique=False
    )
    op.create_table(
        "tbt_wto_compilation",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("verification_code", sa.String(length=20), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issued_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["notification_id"], ["tbt_wto_notification.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("verification_code"),
    )
    op.create_index(
        "ix_tbt_wto_compilation_notification_id", "tbt_wto_compilation", ["notification_id"], unique=False
    )
    as_int = "CAST({} AS INTEGER)"
    op.execute(
        "INSERT INTO tbt_wto_compilation (id, notification_id, number, sha256, size, verification_code, "
        "comment_count, issued_by_id, issued_at) "
        "SELECT id, issued_for_id, number, sha256, size, verification_code, "
        f"{as_int.format(_json_field('details', 'comment_count'))}, issued_by_id, issued_at "
        "FROM document WHERE issued_for = 'wto_notification'"
    )
    op.execute(
        "INSERT INTO award_recommendation_list (id, round_id, number, verification_code, docx_sha256, "
        "docx_size, xlsx_sha256, xlsx_size, listed_count, recommended_count, issued_by_id, issued_at) "
        "SELECT id, issued_for_id, number, verification_code, sha256, size, "
        f"{_json_field('renditions', 'xlsx', 'sha256')}, "
        f"{as_int.format(_json_field('renditions', 'xlsx', 'size'))}, "
        f"{as_int.format(_json_field('details', 'listed_count'))}, "
        f"{as_int.format(_json_field('details', 'recommended_count'))}, issued_by_id, issued_at "
        "FROM document WHERE issued_for = 'award_round'"
    )
    op.execute("DELETE FROM document WHERE issued_for <> 'dossier'")
    with op.batch_alter_table("document", copy_from=_document("0003")) as batch:
        batch.drop_index("ix_document_issued_for_id")
        for name, _ in reversed(NEW_COLUMNS):
            batch.drop_column(name)
        batch.alter_column("dossier_id", existing_type=sa.Integer(), nullable=False)
