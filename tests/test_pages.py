"""The pages in a real browser (Debian's chromium, driven by Playwright) against a real `chartcheck serve`:
intake uploads a case, a reviewer checks evidence against the highlighted page, overrides, finalizes and exports.
Screenshots of each page are saved in test-artifacts/."""

from __future__ import annotations

import io
import json
import re

import pdfplumber
import pytest

import httpx

from conftest import ROOT, SAMPLES, first_key, free_port, run, start_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "a long password"
CASE = "d01"

sync_api = pytest.importorskip("playwright.sync_api")
site_key: dict[str, str] = {}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("site")
    for name, role in (("ina", "intake"), ("rita", "reviewer")):
        assert run("user", "add", name, "--role", role, "--data-dir", str(data), stdin=PASSWORD + "\n").returncode == 0
    key = first_key(data)
    port = free_port()
    process = start_server(data, port)
    site = f"http://127.0.0.1:{port}"
    site_key[site] = key
    yield site
    process.terminate()
    process.wait(30)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page, site: str, name: str) -> None:
    page.goto(site + "/#/login")
    # after a sign-out the page may still be settling: a late re-render of the form would wipe what is typed into it
    page.wait_for_load_state("networkidle")
    sync_api.expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    sync_api.expect(page.get_by_label("User name")).to_have_value(name)
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_sign_in_refuses_a_wrong_password(page, site):
    page.goto(site + "/#/login")
    page.get_by_label("User name").fill("rita")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.locator("#login-error")).to_contain_text("wrong user name or password")
    shot(page, "01-sign-in")


def test_intake_to_final_review_in_a_real_browser(page, site):
    expect = sync_api.expect
    # -- intake: upload the case's PDFs and one bad file; the bad file's reason shows next to its name at once --
    sign_in(page, site, "ina")
    expect(page.get_by_role("heading", name="New prior-authorization case")).to_be_visible()
    expect(page.get_by_role("link", name="Intake")).to_be_visible()
    page.get_by_label("External reference (optional)").fill("UM-2026-0042")
    pdfs = sorted((SAMPLES / "dev" / CASE).glob("*.pdf"))
    files = [{"name": p.name, "mimeType": "application/pdf", "buffer": p.read_bytes()} for p in pdfs]
    files.append({"name": "fax-cover.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + bytes(range(256)) * 8})
    page.locator("#files").set_input_files(files)
    bad = page.locator("li.file", has_text="fax-cover.pdf")
    expect(bad).to_contain_text("Cannot be read")
    expect(bad).to_contain_text("damaged")
    for pdf in pdfs:
        expect(page.locator("li.file", has_text=pdf.name)).to_contain_text("Ready")
    expect(page.get_by_label("External reference (optional)")).to_have_value("UM-2026-0042")  # nothing typed is lost
    page.get_by_role("button", name="Remove fax-cover.pdf").click()
    page.get_by_role("button", name="Submit case").click()
    status = page.locator("#case-status")
    expect(status).to_contain_text("Done", timeout=120_000)
    expect(status).to_contain_text("5 of 5 pages processed")
    expect(status).not_to_contain_text("null")  # regression: optional parts printed as the word "null"
    shot(page, "02-intake")
    # intake sees no clinical content: no review link, no outcome in the queue
    expect(status.get_by_role("link", name="Open the review")).to_have_count(0)
    page.get_by_role("link", name="Work queue").click()
    row = page.locator("tr", has_text="UM-2026-0042")
    expect(row).to_contain_text("Done")
    expect(row).not_to_contain_text("Meets criteria")
    page.get_by_role("button", name="Sign out").click()

    # -- the queue, as a reviewer --
    sign_in(page, site, "rita")
    expect(page.get_by_role("heading", name="Work queue")).to_be_visible()
    row = page.locator("tr", has_text="UM-2026-0042")
    expect(row).to_contain_text("Meets criteria")
    expect(row).to_contain_text("left")
    shot(page, "03-queue")
    row.get_by_role("link", name="UM-2026-0042").click()
    expect(page.get_by_role("heading", name="Review: UM-2026-0042")).to_be_visible()

    # -- clicking an evidence item shows its page and marks its highlight where its box is --
    case_id = page.url.rsplit("/", 1)[-1]
    determination = page.request.get(f"{site}/api/v1/cases/{case_id}/determination").json()
    criterion = next(c for c in determination["criteria"] if c["id"] == "recurrent_after_surgery")
    index, evidence = next((i, ev) for i, ev in enumerate(criterion["evidence"]) if ev["boxes"])
    info = next(d for d in determination["documents"] if d["name"] == evidence["document"])["pages"][evidence["page"] - 1]
    item = page.locator(f"#ev-recurrent_after_surgery-{index}")
    item.click()
    expect(item).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#page-label")).to_have_text(f"Page {evidence['page']} of {len(next(d for d in determination['documents'] if d['name'] == evidence['document'])['pages'])}")
    expect(page.locator("#doc-select")).to_have_value(evidence["document"])
    marks = page.locator(f'.hl.selected[data-ev~="ev-recurrent_after_surgery-{index}"]')
    expect(marks.first).to_be_visible()
    sheet = page.locator("#sheet").bounding_box()
    box = evidence["boxes"][0]
    mark = marks.first.bounding_box()
    scale = sheet["width"] / info["width"]
    assert abs(mark["x"] - (sheet["x"] + box["x0"] * scale)) < 3
    assert abs(mark["y"] - (sheet["y"] + box["top"] * scale)) < 3
    assert abs(mark["width"] - (box["x1"] - box["x0"]) * scale) < 3
    expect(page.locator("img.page-image")).to_have_js_property("complete", True)
    assert page.locator("img.page-image").evaluate("img => img.naturalWidth") > 0
    shot(page, "04-review")

    # -- clicking a highlight selects its evidence --
    other = page.locator(".hl:not(.selected)").first
    other_id = other.get_attribute("data-ev").split()[0]
    other.click()
    expect(page.locator(f"#{other_id}")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"#{other_id}")).to_be_focused()

    # -- decide: override one criterion with a reason, accept the rest, finalize --
    unresectable = page.locator("#criterion-unresectable")
    unresectable.get_by_text("Override…").click()
    unresectable.get_by_label("Status").select_option("insufficient")
    unresectable.get_by_label("Reason for overriding unresectable").fill("Tumor board note not in the packet")
    unresectable.get_by_role("button", name="Save override").click()
    expect(unresectable).to_contain_text("Overridden to")
    expect(unresectable).to_contain_text("Tumor board note not in the packet")
    for criterion_id in [c["id"] for c in determination["criteria"] if c["id"] != "unresectable"]:
        page.locator(f"#criterion-{criterion_id}").get_by_role("button", name=f"Accept {criterion_id}").click()
        expect(page.locator(f"#criterion-{criterion_id}")).to_contain_text("Accepted")
    page.get_by_label("Outcome").select_option("insufficient_documentation")
    page.get_by_label("Reason (needed when it differs from the suggestion)").fill("Asked the office for the tumor board note")
    page.get_by_role("button", name="Finalize case").click()
    expect(page.locator(".final")).to_contain_text("Insufficient documentation by user:rita")
    shot(page, "05-review-finalized")

    # -- export the reviewed case as a PDF and read it back --
    with page.expect_download() as download:
        page.locator("#export").click()
    data = open(download.value.path(), "rb").read()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
    flat = re.sub(r"\s+", " ", text)
    assert "UM-2026-0042" in flat
    assert "Overridden: Insufficient" in flat and "Tumor board note not in the packet" in flat
    assert "Final decision: Insufficient documentation" in flat and "user:rita" in flat
    assert "recurrent_after_surgery" in flat and "page" in flat
    first_quote = " ".join(criterion["evidence"][0]["text"].split())[:40]
    assert first_quote in flat
    (ARTIFACTS / "06-export.json").write_text(json.dumps({"pages": len(text.split("\f")), "chars": len(text)}))


def test_evidence_and_highlights_work_from_the_keyboard(page, site):
    expect = sync_api.expect
    sign_in(page, site, "rita")
    page.locator("tr a").first.click()
    first = page.locator(".evidence-item").first
    first.focus()
    page.keyboard.press("Enter")
    expect(first).to_have_attribute("aria-pressed", "true")
    mark = page.locator(".hl.selected").first
    expect(mark).to_be_visible()
    mark.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".evidence-item[aria-pressed='true']")).to_be_focused()
    # statuses and highlights carry words and symbols, not colour alone
    chip = page.locator(".criterion .chip").first
    assert re.search(r"(Met|Not met|Insufficient|Not applicable)", chip.inner_text())
    assert mark.get_attribute("aria-label").startswith(("Supports", "Contradicts"))


def test_safety_flags_stand_out_at_the_top_of_the_review(page, site):
    expect = sync_api.expect
    paths = sorted((SAMPLES / "dev" / "d23").glob("*.pdf"))
    with httpx.Client(base_url=site, headers={"X-API-Key": site_key[site]}, timeout=60) as client:
        created = client.post("/api/v1/cases", data={"request_type": "initial", "external_reference": "UM-FLAG-1"},
                              files=[("files", (p.name, p.read_bytes(), "application/pdf")) for p in paths]).json()
    sign_in(page, site, "rita")
    sync_api.expect(page.get_by_role("heading", name="Work queue")).to_be_visible()
    page.goto(f"{site}/#/case/{created['id']}")
    flags = page.get_by_role("alert").filter(has_text="Safety flag")
    expect(flags).to_be_visible(timeout=120_000)
    expect(flags).to_contain_text("intrahepatic", ignore_case=True)
    page.get_by_role("link", name="Work queue").click()
    expect(page.locator("tr", has_text="UM-FLAG-1")).to_contain_text("intrahepatic injection")
    shot(page, "07-queue-with-flag")
