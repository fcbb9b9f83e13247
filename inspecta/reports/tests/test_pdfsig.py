"""Signed report PDFs (T/CECS 4.1.2): a PDF signed in the test with
pyHanko (self-signed certificate made here) validates; one changed byte fails."""

from __future__ import annotations

import datetime
import io

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from inspecta.reports import pdfsig, services
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file, submission


def signed_pdf(tmp_path) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "测试授权签字人")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    signer = signers.SimpleSigner.load(str(tmp_path / "key.pem"), str(tmp_path / "cert.pem"))
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf_bytes("signed"))),
        signers.PdfSignatureMetadata(field_name="Signature1"),
        signer=signer,
    )
    return out.getvalue()


def test_signed_pdf_validates_and_one_changed_byte_fails(tmp_path):
    data = signed_pdf(tmp_path)
    [result] = pdfsig.signature_check(data)
    assert result["ok"] and result["intact"] and "测试授权签字人" in result["signer"] and result["signed_at"]
    at = data.index(b"595")  # the page's MediaBox, inside the signed byte range
    tampered = data[:at] + b"596" + data[at + 3 :]
    [bad] = pdfsig.signature_check(tampered)
    assert not bad["ok"] and not bad["intact"]
    assert pdfsig.signature_check(pdf_bytes("unsigned")) == []
    assert pdfsig.signature_check(b"not a pdf") == []


@pytest.mark.django_db
def test_submission_records_signature_and_page_shows_it(client, tree, tmp_path):
    agency, admin, made = approved_agency(tree, 801)
    project = project_with(tree, [agency])
    pdf = stored_file(agency.organisation_id, signed_pdf(tmp_path))
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-SIG", pdf=pdf))
    [sig] = report.versions.get().signatures
    assert sig["ok"] is True
    page = client.get(f"/v/{report.verification_code}").content.decode()
    assert "测试授权签字人" in page and "文件完整，签名有效" in page
