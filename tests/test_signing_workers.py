"""Two worker processes signing the queued documents at once: every document is signed exactly once
(one official copy, one ``document_signed`` event), on SQLite and on PostgreSQL. Real processes,
each with its own runtime and connections, as two ``tdcflow worker`` would be."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

from sqlmodel import select

from tests.support import business, officer
from workflows import audit_verify
from workflows.config import PROJECT_ROOT
from workflows.db import reading
from workflows.models import AuditEvent, Document, DocumentSigning

WORKER = """
import sys
from workflows import document_signing
from workflows.runtime import build_runtime

rt = build_runtime(create_tables=False)
sys.stdin.readline()  # both processes start signing together
signed = 0
while True:
    report = document_signing.sign_due(rt, max_items=5)
    signed += report.signed
    if report.signed == 0 and report.failed == 0:
        break
print(signed)
"""


def test_two_workers_sign_every_document_exactly_once(client, rt, settings, test_pki):
    firm, clerk = business(client), officer(client, rt, "clerk")
    codes = [firm.submitted() for _ in range(8)]
    for code in codes:
        clerk.done(code, {"completeness_decision": "receive"})
    with reading(rt.engine) as session:
        queued = len(session.exec(select(DocumentSigning)).all())
    assert queued == len(codes)  # one receipt slip each

    env = {
        **os.environ,
        **test_pki.env(tsa=False),
        "TDCFLOW_DATABASE_URL": settings.database_url,
        "TDCFLOW_DATA_DIR": str(settings.data_dir),
        "TDCFLOW_SECRET_KEY": settings.secret_key or "",
        "TDCFLOW_SCHEDULER": "0",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
    signed_by_each = [int(out.strip()) for out, _ in results]
    assert sum(signed_by_each) == queued

    with reading(rt.engine) as session:
        documents = session.exec(select(Document)).all()
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "document_signed")).all()
        assert session.exec(select(DocumentSigning)).all() == []
        rendered = session.exec(select(AuditEvent).where(AuditEvent.action == "document_rendered")).all()
    assert all(d.pdf_sha256 and d.signed_at for d in documents)
    per_document = Counter(event.details["sha256"] for event in events)
    assert per_document == Counter({d.sha256: 1 for d in documents})
    # The receipts were rendered after their commands, by the workers: each once, as signed.
    assert Counter(event.details["sha256"] for event in rendered) == Counter({d.sha256: 1 for d in documents})
    assert audit_verify.verify(rt.engine).ok
