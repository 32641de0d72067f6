"""An administrator, in a real browser, deploys a new version of the declaration procedure from a
.zip, reads what changes, dry-runs the move of the running dossiers, maps the renamed step, and
moves them; the specialist's next step then comes from the new version."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_journeys import login, officers  # noqa: F401  (officers: the fixture)
from tests.support import Person, business
from tests.test_model_versions import BUNDLE, DECLARATION
from workflows import deployments

expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def bundle_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "cong-bo-2027.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in deployments.read_folder(BUNDLE).items():
            archive.writestr(f"cong-bo-2027/{name}", text)
    path.write_bytes(buffer.getvalue())
    return path


def test_deploy_dry_run_map_and_migrate(live_server, new_page, officers, bundle_zip):  # noqa: F811
    base = live_server.url
    client = httpx.Client(base_url=base, timeout=30)
    owner = business(client, "Công ty TNHH Phiên Bản Mới", live_server.rt)  # type: ignore[arg-type]
    owner.submitted()  # one still waiting for the clerk
    examined = owner.submitted()
    clerk = Person(client, officers["clerk"], "").relogin()
    clerk.done(examined, {"completeness_decision": "receive"})

    page = new_page()
    login(page, base, officers["admin"])
    page.goto(f"{base}/admin/versions")
    page.get_by_label("Gói phiên bản (.zip)").set_input_files(bundle_zip)
    page.get_by_label("Ghi chú (văn bản quyết định, lý do)").fill("Quyết định 15/QĐ-SKHCN (thử nghiệm)")
    page.get_by_role("button", name="Kiểm tra và triển khai").click()
    expect(page.locator("#versions-flash")).to_contain_text("Đã triển khai phiên bản d1")
    expect(page.locator(f"#version-{DECLARATION}-d1")).to_contain_text("Quản Trị Viên")

    page.locator(f"#versions-{DECLARATION}").get_by_role("button", name="Xem khác biệt").click()
    expect(page.locator("#diff-steps")).to_contain_text("cross_check")
    expect(page.locator("#diff-forms")).to_contain_text("cross_check.schema.json")
    screenshot(page, "version-diff")

    page.get_by_role("link", name="Chuyển hồ sơ").click()
    page.get_by_role("button", name="Chạy thử").click()
    expect(page.locator("#dry-run-counts")).to_contain_text("Chuyển được ngay: 1 · Cần chỉ rõ bước: 1")
    page.locator('select[name="map:examine"]').select_option("appraise")
    page.get_by_role("button", name="Chạy thử").click()
    expect(page.locator("#dry-run-counts")).to_contain_text("Chuyển được ngay: 2 · Cần chỉ rõ bước: 0")
    screenshot(page, "migration-dry-run")
    page.get_by_role("button", name="Chuyển 2 hồ sơ").click()
    expect(page.locator("#run-counts")).to_contain_text("Đã chuyển: 2")
    expect(page.locator("#batches")).to_contain_text("d1")

    specialist = Person(client, officers["specialist"], "").relogin()
    task = specialist.task(examined)
    assert task["step"] == "appraise"
    specialist.done(examined, {"examination_findings": "Đạt yêu cầu.", "examination_conclusion": "accept"})
    page.goto(f"{base}/dossiers/{examined}")
    expect(page.locator("body")).to_contain_text("Kiểm tra chéo dự thảo kết quả")
    assert not page.console_errors
    client.close()
