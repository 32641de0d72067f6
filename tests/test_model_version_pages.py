"""The administrator's pages and API for procedure versions: deploy a bundle (checked first),
compare two versions, dry-run and run a migration of running dossiers, undo it; nobody else may."""

from __future__ import annotations

import io
import re
import zipfile

import time_machine

from tests.support import business, error_of, local, officer
from tests.test_model_versions import BUNDLE, DECLARATION
from tests.test_pages import csrf, page_login
from workflows import deployments

NOW = local(2026, 12, 3, 9, 0)


def _bundle_zip(**changes: str) -> bytes:
    files = {**deployments.read_folder(BUNDLE), **changes}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_an_admin_deploys_compares_and_migrates_through_the_pages(client, rt):
    with time_machine.travel(NOW, tick=False):
        owner = business(client)
        clerk = officer(client, rt, "clerk")
        admin = officer(client, rt, "admin")
        codes = [owner.submitted() for _ in range(2)]
        clerk.done(codes[0], {"completeness_decision": "receive"})  # now at "examine"
        page_login(client, admin.email)

        page = client.get("/admin/versions")
        assert page.status_code == 200 and "Cài cùng phần mềm" in page.text
        token = csrf(page.text)
        broken = _bundle_zip(**{"procedure.toml": "code = 'khong-co'\neffective_from = 2027-01-01\n"})
        refused = client.post(
            "/admin/versions",
            data={"csrf_token": token, "action": "deploy"},
            files={"file": ("v.zip", broken, "application/zip")},
        )
        assert refused.status_code == 422 and "khong-co" in refused.text
        checked = client.post(
            "/admin/versions",
            data={"csrf_token": token, "action": "check"},
            files={"file": ("v.zip", _bundle_zip(), "application/zip")},
        )
        assert (
            "Chưa triển khai" in checked.text
            and 'id="version-cong-bo-hop-chuan-hop-quy-d1"' not in checked.text
        )
        deployed = client.post(
            "/admin/versions",
            data={"csrf_token": token, "action": "deploy", "note": "QĐ 12/QĐ-SKHCN"},
            files={"file": ("v.zip", _bundle_zip(), "application/zip")},
        )
        assert deployed.status_code == 200 and "Đã triển khai phiên bản d1" in deployed.text
        assert re.search(
            r'id="version-cong-bo-hop-chuan-hop-quy-base">.*?class="num">2<', deployed.text, re.S
        )

        diff = client.get(f"/admin/versions/{DECLARATION}/diff", params={"a": "", "b": "d1"})
        assert "appraise" in diff.text and "cross_check.schema.json" in diff.text
        assert (
            "<code>examine</code> → <code>cross_check</code>" in diff.text
        )  # the diff's guess, shown as one

        form = client.get(f"/admin/migrations?procedure={DECLARATION}&source=&target=d1")
        fields = {"csrf_token": csrf(form.text), "procedure": DECLARATION, "source": "", "target": "d1"}
        first = client.post("/admin/migrations/dry-run", data=fields)
        assert "Chuyển được ngay: 1 · Cần chỉ rõ bước: 1" in first.text
        mapped = client.post("/admin/migrations/dry-run", data={**fields, "map:examine": "appraise"})
        assert "Chuyển được ngay: 2 · Cần chỉ rõ bước: 0" in mapped.text
        seen = re.search(r'name="seen" value="([^"]+)"', mapped.text).group(1).replace("&#34;", '"')
        ran = client.post("/admin/migrations/run", data={**fields, "map:examine": "appraise", "seen": seen})
        assert "Đã chuyển: 2 · Đã thay đổi sau khi chạy thử: 0" in ran.text
        batch = re.search(r"/admin/migrations/batches/([0-9a-f]+)/undo", ran.text).group(1)
        undone = client.post(f"/admin/migrations/batches/{batch}/undo", data={"csrf_token": csrf(ran.text)})
        assert undone.status_code == 200 and "Đã hoàn tác 2 hồ sơ" in undone.text


def test_versions_api_for_the_admin_only(client, rt):
    with time_machine.travel(NOW, tick=False):
        admin = officer(client, rt, "admin")
        leader = officer(client, rt, "leader", "PHÓ GIÁM ĐỐC")
        upload = {"file": ("v.zip", _bundle_zip(), "application/zip")}
        error_of(leader.post("/api/admin/procedure-versions", files=upload), 403)
        error_of(leader.get("/api/admin/procedure-versions"), 403)
        error_of(
            leader.post(
                "/api/admin/migrations/dry-run", json={"procedure": DECLARATION, "source": "", "target": "d1"}
            ),
            403,
        )
        bad = admin.post(
            "/api/admin/procedure-versions", files={"file": ("v.zip", b"not a zip", "application/zip")}
        )
        assert error_of(bad, 422)["fields"][0]["field"] == "bundle"
        created = admin.post("/api/admin/procedure-versions", files=upload, data={"note": "thử"})
        assert created.status_code == 201, created.text
        assert created.json()["key"] == "d1" and created.json()["effective_from"] == "2027-01-01"
        error_of(admin.post("/api/admin/procedure-versions", files=upload), 409, "already_deployed")
        listed = admin.get("/api/admin/procedure-versions").json()[DECLARATION]
        assert [(v["key"], v["installed"]) for v in listed] == [("", True), ("d1", False)]
        diff = admin.get(
            f"/api/admin/procedure-versions/{DECLARATION}/diff", params={"a": "", "b": "d1"}
        ).json()
        assert {s["id"] for s in diff["steps_added"]} == {"appraise", "cross_check"}
        assert [s["id"] for s in diff["steps_removed"]] == ["examine"]
        wrong = admin.post(
            "/api/admin/migrations/dry-run",
            json={"procedure": DECLARATION, "source": "", "target": "d1", "mapping": {"examine": "nowhere"}},
        )
        assert error_of(wrong, 422)["fields"][0]["field"] == "mapping"
        same = admin.post(
            "/api/admin/migrations/dry-run", json={"procedure": DECLARATION, "source": "", "target": ""}
        )
        assert error_of(same, 422)["fields"][0]["field"] == "target"
