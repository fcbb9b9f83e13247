"""Validation of PAdES/CMS signatures in uploaded report PDFs with pyHanko (T/CECS 4.1.2). Integrity (the signed byte ranges hash to the signed digest and the
CMS signature verifies) is what the platform can establish by itself; trust in the
signer's certificate chain needs the province's trust roots
(``INSPECTA_REPORT_PDF_TRUST_ROOTS``, PEM files), and is reported separately."""

from __future__ import annotations

import io
import logging
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)


def _validation_context() -> Any:
    from asn1crypto import pem, x509
    from pyhanko_certvalidator import ValidationContext

    roots = []
    for path in settings.INSPECTA_REPORT_PDF_TRUST_ROOTS:
        with open(path, "rb") as handle:
            data = handle.read()
        for _type, _headers, der in pem.unarmor(data, multiple=True) if pem.detect(data) else [(None, None, data)]:
            roots.append(x509.Certificate.load(der))
    return ValidationContext(trust_roots=roots, allow_fetching=False)


def signature_check(pdf: bytes) -> list[dict[str, Any]]:
    """pyHanko's synchronous API calls ``asyncio.run``; where this thread already runs an
    event loop (an async server, a browser-driving test) do the work on a worker thread."""

    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _signature_check(pdf)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_signature_check, pdf).result()


def _signature_check(pdf: bytes) -> list[dict[str, Any]]:
    """One result per embedded signature: ``field``, ``signer``, ``signed_at``,
    ``intact`` (hash matches), ``valid`` (CMS signature verifies), ``trusted``,
    ``covers_whole_file`` and ``ok`` (intact and valid). An empty list: no signature."""

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # a damaged file: report, never crash the submission
        logger.info("PDF signatures unreadable: %s", exc)
        return []
    results: list[dict[str, Any]] = []
    for sig in embedded:
        result: dict[str, Any] = {
            "field": str(sig.field_name),
            "signer": "",
            "signed_at": None,
            "intact": False,
            "valid": False,
            "trusted": False,
            "covers_whole_file": False,
            "ok": False,
        }
        try:
            status = validate_pdf_signature(sig, _validation_context())
            cert = status.signing_cert
            result.update(
                signer=cert.subject.human_friendly if cert is not None else "",
                signed_at=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
                intact=bool(status.intact),
                valid=bool(status.valid),
                trusted=bool(status.trusted),
                covers_whole_file=str(getattr(status.coverage, "name", "")) == "ENTIRE_FILE",
            )
            result["ok"] = result["intact"] and result["valid"]
        except Exception as exc:
            result["error"] = str(exc)[:200]
        results.append(result)
    return results
