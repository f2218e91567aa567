"""Bad uploads through HTTP: each gets a clear 4xx naming the file and the cause, or a readable failure on its
document, and never costs the good files of the same case or a neighbouring case."""

from __future__ import annotations

import io
import uuid
import zlib

import pypdfium2 as pdfium
import pytest
from reportlab.lib import pdfencrypt
from reportlab.pdfgen import canvas

from conftest import SAMPLES, start_service


def typed_pdf() -> bytes:
    return sorted((SAMPLES / "dev" / "d01").glob("*.pdf"))[0].read_bytes()


def reportlab_pdf(pages: int = 1, encrypt: str | None = None) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out, encrypt=pdfencrypt.StandardEncryption(encrypt) if encrypt else None)
    for i in range(pages):
        c.drawString(72, 720, f"Page {i + 1} of a clinical note.")
        c.showPage()
    c.save()
    return out.getvalue()


def giant_page_pdf() -> bytes:
    document = pdfium.PdfDocument.new()
    document.new_page(14400, 14400)  # 200 x 200 inches: at 200 dpi, a 1.6-gigapixel render
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def flate_bomb_pdf(megabytes: int) -> bytes:
    """One letter page whose content stream inflates to `megabytes` MB of spaces from a few hundred KB."""
    packer = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    stream = b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


BAD = {
    # kind: (file name, bytes, expected error kind, words of the cause)
    "empty": ("empty.pdf", lambda: b"", "empty", "empty"),
    "image": ("photo.pdf", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not_pdf", "not a PDF"),
    "word": ("letter.docx", lambda: b"PK\x03\x04 not a pdf", "not_pdf", "Office document"),
    "encrypted": ("locked.pdf", lambda: reportlab_pdf(encrypt="secret"), "encrypted", "encrypted"),
    "corrupt": ("corrupt.pdf", lambda: b"%PDF-1.4\n" + bytes(range(256)) * 20, "corrupt", "damaged"),
    "truncated": ("truncated.pdf", lambda: typed_pdf()[: len(typed_pdf()) // 3], "corrupt", ""),
    "thousands_of_pages": ("huge.pdf", lambda: reportlab_pdf(pages=2000), "too_large", "2000 pages"),
    "giant_page": ("poster.pdf", giant_page_pdf, "too_large", "200 x 200 inches"),
}


def post(service, files, **form):
    data = {"request_type": "initial", "external_reference": uuid.uuid4().hex, **form}
    return service.client.post("/api/v1/cases", files=files, data=data, headers=service.as_key())


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_file_alone_is_refused_with_its_name_and_cause(service, kind):
    name, make, error, cause = BAD[kind]
    response = post(service, [("files", (name, make(), "application/pdf"))])
    assert response.status_code in (413, 422)
    assert response.status_code == (413 if error == "too_large" else 422)
    [problem] = response.json()["errors"]
    assert problem["filename"] == name and problem["error"] == error and cause in problem["message"]


def test_a_bad_file_beside_good_ones_is_kept_with_its_reason_and_the_rest_is_reviewed(service):
    good = sorted((SAMPLES / "dev" / "d01").glob("*.pdf"))
    files = [("files", (p.name, p.read_bytes(), "application/pdf")) for p in good]
    files.insert(1, ("files", ("locked.pdf", reportlab_pdf(encrypt="pw"), "application/pdf")))
    response = post(service, files)
    assert response.status_code == 202
    case = service.wait(response.json()["id"])
    assert case["status"] == "done"
    statuses = {d["filename"]: (d["status"], d["error_kind"]) for d in case["documents"]}
    assert statuses["locked.pdf"] == ("rejected", "encrypted")
    assert all(statuses[p.name] == ("done", None) for p in good)
    assert case["determination"]["suggested_outcome"] == "meets_criteria"


def test_folder_parts_of_a_file_name_are_dropped(service):
    response = post(service, [("files", ("../../etc/passwd.pdf", typed_pdf(), "application/pdf"))])
    assert response.status_code == 202
    assert response.json()["documents"][0]["filename"] == "passwd.pdf"
    service.wait(response.json()["id"])


def test_bad_form_values_are_422(service):
    files = [("files", ("a.pdf", typed_pdf(), "application/pdf"))]
    assert post(service, files, request_type="renewal").status_code == 422
    assert post(service, files, callback_url="file:///etc/passwd").status_code == 422
    missing = service.client.post("/api/v1/cases", data={"request_type": "initial"}, headers=service.as_key())
    assert missing.status_code == 422


@pytest.fixture(scope="module")
def small_service(tmp_path_factory):
    """Tight limits: 1 MB a file, 2 files a case, 300 MB of memory a case."""
    url = f"sqlite:///{tmp_path_factory.mktemp('small') / 'chartcheck.db'}"
    with start_service(url, tmp_path_factory.mktemp("small-data"), max_upload_mb=1, max_files_per_case=2,
                       job_memory_mb=300) as running:
        yield running


def test_an_oversized_file_is_413(small_service):
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
    response = post(small_service, [("files", ("scan.pdf", big, "application/pdf"))])
    assert response.status_code == 413
    assert response.json()["errors"][0]["filename"] == "scan.pdf"
    assert "1 MB" in response.json()["errors"][0]["message"]


def test_an_oversized_request_is_413_before_it_is_read(small_service):
    body = b"x" * (4 * 1024 * 1024)
    response = small_service.client.post("/api/v1/cases", content=body, headers={
        **small_service.as_key(), "Content-Type": "multipart/form-data; boundary=abc"})
    assert response.status_code == 413 and "limit" in response.json()["detail"]


def test_too_many_files_is_422(small_service):
    files = [("files", (f"{i}.pdf", typed_pdf(), "application/pdf")) for i in range(3)]
    response = post(small_service, files)
    assert response.status_code == 422 and "at most 2" in response.json()["detail"]


def test_a_file_built_to_exhaust_memory_fails_alone(small_service):
    bomb = flate_bomb_pdf(800)
    assert len(bomb) < 1024 * 1024
    good = sorted((SAMPLES / "dev" / "d01").glob("*.pdf"))[0]
    response = post(small_service, [("files", ("bomb.pdf", bomb, "application/pdf")),
                                    ("files", (good.name, good.read_bytes(), "application/pdf"))])
    assert response.status_code == 202
    neighbour = post(small_service, [("files", (good.name, good.read_bytes(), "application/pdf"))])
    case = small_service.wait(response.json()["id"], timeout=300)
    after = small_service.wait(neighbour.json()["id"], timeout=300)
    documents = {d["filename"]: d for d in case["documents"]}
    assert case["status"] == "done"
    assert documents["bomb.pdf"]["status"] == "failed" and documents["bomb.pdf"]["error_kind"] == "memory"
    assert "300 MB" in documents["bomb.pdf"]["error"]
    assert documents[good.name]["status"] == "done"
    assert after["status"] == "done" and after["determination"] is not None
