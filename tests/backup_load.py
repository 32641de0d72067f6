"""A process that keeps the one-stop desk busy, for the backup test (tests/test_backup.py).

    python -m tests.backup_load STOP_FILE

On the database and data folder of the environment (``TDCFLOW_*``), through the app's API in this
process: a business submits a declaration (three uploads of its own, new blobs each time), the clerk
receives it, the specialist accepts it, the leader approves it (documents issued). One line is
printed after each command; the loop ends once ``STOP_FILE`` exists (exit status 0), or at the first
failure (the traceback, exit status 1).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from tests.support import PDF, business, officer
from workflows.runtime import build_runtime


def main(stop_file: Path) -> int:
    rt = build_runtime(create_tables=False)
    with TestClient(create_app(rt)) as client:
        firm = business(client, "Công ty TNHH Sao Lưu", rt=rt)
        clerk = officer(client, rt, "clerk", "CÁN BỘ TIẾP NHẬN")
        specialist = officer(client, rt, "specialist", "CHUYÊN VIÊN")
        leader = officer(client, rt, "leader", "PHÓ GIÁM ĐỐC")
        round_ = 0
        while not stop_file.exists():
            round_ += 1
            # Bytes of its own for every upload: each dossier brings new blobs into the store.
            uploads = {
                name: firm.upload(f"{name}.pdf", PDF + f"% {round_} {name}\n".encode())
                for name in ("declaration_form", "business_registration", "certificate_copy")
            }
            code = firm.submitted(attachments=uploads)
            print(f"submitted {code}", flush=True)
            clerk.done(code, {"completeness_decision": "receive"})
            print(f"received {code}", flush=True)
            specialist.done(code, {"examination_findings": "Đạt.", "examination_conclusion": "accept"})
            print(f"examined {code}", flush=True)
            leader.done(code, {"approval_decision": "approve"})
            print(f"approved {code}", flush=True)
    rt.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
