"""``InspectaClient``: signed calls with idempotency keys and retries, and tus uploads."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

from .signing import Signer

RETRY_STATUSES = {429, 500, 502, 503, 504}


class ApiError(Exception):
    """An error answer of the API: HTTP status, stable ``code``, message, details."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}

    @classmethod
    def from_response(cls, response: requests.Response) -> ApiError:
        try:
            error = response.json()["error"]
            return cls(response.status_code, error.get("code", "error"), error.get("message", ""), error.get("details"))
        except (ValueError, KeyError, TypeError):
            return cls(response.status_code, "http_error", response.text[:200])


def _progress(done: int, total: int, stream: Any = None) -> None:
    stream = stream or sys.stderr
    width = 30
    filled = int(width * done / total) if total else width
    percent = 100 * done / total if total else 100
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {percent:5.1f}% {done}/{total} B")
    if done >= total:
        stream.write("\n")
    stream.flush()


class InspectaClient:
    """A client of the exchange API.

    >>> client = InspectaClient("https://platform.example.cn", Signer("ik_...", secret="..."))
    >>> client.ping({"hello": "world"})
    """

    def __init__(
        self,
        base_url: str,
        signer: Signer,
        *,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float = 30.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.session = session or requests.Session()
        self.sleep = sleep

    # ------------------------------------------------------------------ calls

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None and response.status_code == 429:
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                return float(retry_after) + random.uniform(0, 0.5)  # noqa: S311 - jitter
        base = min(self.max_backoff, self.backoff * (2**attempt))
        return random.uniform(base / 2, base)  # noqa: S311 - "equal jitter"

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """A signed call; re-signed on every attempt (fresh nonce), same Idempotency-Key.
        POSTs get an Idempotency-Key unless one is given, so retries are safe."""

        body = json.dumps(json_body, ensure_ascii=False).encode("utf-8") if json_body is not None else b""
        extra = dict(headers or {})
        if body:
            extra.setdefault("Content-Type", "application/json")
        if method.upper() == "POST":
            extra["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        attempt = 0
        while True:
            prepared = requests.Request(
                method.upper(), self.base_url + path, params=params, data=body or None, headers=extra
            ).prepare()
            prepared.headers.update(self.signer.headers(prepared.method or method, prepared.url or "", body or None))
            response: requests.Response | None = None
            try:
                response = self.session.send(prepared, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout):
                if attempt >= self.retries:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= self.retries:
                    return response
            self.sleep(self._delay(attempt, response))
            attempt += 1

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A signed call that returns the JSON answer or raises :class:`ApiError`."""

        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        return response.json() if response.content else None

    def ping(self, echo: Any = None) -> Any:
        if echo is None:
            return self.call("GET", "/api/v1/exchange/ping")
        return self.call("POST", "/api/v1/exchange/ping", json_body=echo)

    def upload_token(self) -> str:
        return str(self.call("POST", "/api/v1/exchange/upload-tokens")["token"])

    # ------------------------------------------------- registry (registry:read)

    def agencies(self, **filters: str) -> list[dict[str, Any]]:
        """The agencies the client reads: an agency's LIMS its own one, a city platform
        those of its region (every page)."""

        items: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = self.call("GET", "/api/v1/registry/agencies", params={**filters, "page": str(page)})
            items.extend(answer["items"])
            if not answer["items"] or len(items) >= answer["count"]:
                return items
            page += 1

    def agency(self, agency_id: int) -> dict[str, Any]:
        return dict(self.call("GET", f"/api/v1/registry/agencies/{agency_id}"))

    def staff(self, agency_id: int) -> list[dict[str, Any]]:
        """Staff with their post certificates: the ids of tester, reviewer, signatory."""

        return list(self.call("GET", f"/api/v1/registry/agencies/{agency_id}/staff"))

    def equipment(self, agency_id: int) -> list[dict[str, Any]]:
        """Equipment with calibration dates: the ``asset_no`` values of ``equipment``."""

        return list(self.call("GET", f"/api/v1/registry/agencies/{agency_id}/equipment"))

    def signatories(self, agency_id: int) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/api/v1/registry/agencies/{agency_id}/signatories"))

    def sites(self, agency_id: int) -> list[dict[str, Any]]:
        """Sites with their capabilities (specialty, test item, parameter): ``site_id``."""

        return list(self.call("GET", f"/api/v1/registry/agencies/{agency_id}/sites"))

    def specialties(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/api/v1/core/catalog/specialties"))

    def test_items(self, specialty: str) -> list[dict[str, Any]]:
        """The test items of a specialty with their parameters (``test_item``, ``parameters``)."""

        return list(self.call("GET", f"/api/v1/core/catalog/specialties/{specialty}/items"))

    # ---------------------------------------------------- feeds (sync:pull)

    def feed(self, kind: str, updated_since: str) -> Iterator[dict[str, Any]]:
        """Every record of a registry change feed (``staff``, ``post-certificates``,
        ``equipment``, ``signatories``, ``sites``, ``capabilities``) created or changed
        at or after ``updated_since`` (RFC 3339 with offset), oldest change first,
        following ``next_cursor``. Keep the largest ``updated_at`` for the next sync."""

        return self._follow(f"/api/v1/registry/feed/{kind}", {"updated_since": updated_since})

    def removed(self, kind: str, updated_since: str) -> Iterator[dict[str, Any]]:
        """Every record of ``kind`` (``post-certificates``, ``equipment``,
        ``signatories``, ``sites``, ``capabilities``) removed at or after
        ``updated_since``, oldest removal first, as ``{"kind", "id", "agency_id",
        "removed_at"}``. Follow it with the same ``updated_since`` as :meth:`feed` (the
        start of the sync) and delete those ids from your mirror. Staff are never
        removed: people who leave come in ``feed("staff")`` with ``active`` false."""

        return self._follow("/api/v1/registry/feed/removed", {"kind": kind, "updated_since": updated_since})

    def _follow(self, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """The items of a cursor feed, page after page until ``next_cursor`` is null
        (only the cursor changes from one page to the next; other filters stay)."""

        fixed = {name: value for name, value in params.items() if name != "updated_since"}
        while True:
            answer = self.call("GET", path, params=params)
            yield from answer["items"]
            if not answer.get("next_cursor"):
                return
            params = {**fixed, "cursor": answer["next_cursor"]}

    # -------------------------------------------------- reports (reports:submit)

    def submit_report(self, report: dict[str, Any], *, idempotency_key: str | None = None) -> dict[str, Any]:
        """``POST /api/v1/reports/``; keep ``idempotency_key`` (e.g. your LIMS report id)
        across retries so a report is never submitted twice."""

        return dict(self.call("POST", "/api/v1/reports/", json_body=report, idempotency_key=idempotency_key))

    def report(self, report_id: int) -> dict[str, Any]:
        """A report of the client's organisation: status, versions, ``log_index`` (null
        until the transparency log has sequenced the current version)."""

        return dict(self.call("GET", f"/api/v1/reports/{report_id}"))

    def report_feed(self, updated_since: str) -> Iterator[dict[str, Any]]:
        """Every report of the client's organisation created or changed (printed,
        revoked, an amendment applied, approved or rejected) at or after
        ``updated_since`` (RFC 3339 with offset), oldest change first, following
        ``next_cursor``: each as :meth:`report` answers it, with ``updated_at`` and
        ``amendments``. Keep the largest ``updated_at`` for the next sync."""

        return self._follow("/api/v1/reports/feed", {"updated_since": updated_since})

    def report_pdf(self, report_id: int) -> bytes:
        """The current PDF stamped with the serial number and the verification QR."""

        return self._bytes(f"/api/v1/reports/{report_id}/pdf")

    def report_qr(self, report_id: int, fmt: str = "png") -> bytes:
        """The QR of the report (``png`` or ``svg``)."""

        return self._bytes(f"/api/v1/reports/{report_id}/qr", params={"format": fmt})

    def _bytes(self, path: str, params: dict[str, str] | None = None) -> bytes:
        response = self.request("GET", path, params=params)
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        return response.content

    # ---------------------------------------------------------------- uploads

    def upload(
        self,
        path: str | Path,
        *,
        chunk_size: int = 4 * 1024 * 1024,
        progress: bool | Callable[[int, int], None] = True,
        state_dir: str | Path | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Upload a file with tus 1.0.0; returns ``{"id", "sha256", "size", "content_type", ...}``.

        The upload URL is remembered in ``state_dir`` (default ``~/.cache/inspecta-client``)
        under the file's SHA-256, so running the same upload again after an interruption
        resumes from the server's offset. Each chunk carries a ``sha256`` Upload-Checksum.
        """

        path = Path(path)
        size = path.stat().st_size
        sha256 = _file_sha256(path)
        state_root = Path(state_dir or Path.home() / ".cache" / "inspecta-client")
        state_root.mkdir(parents=True, exist_ok=True)
        state_file = state_root / f"{sha256}.json"
        report = progress if callable(progress) else (_progress if progress else (lambda done, total: None))
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        token = self.upload_token()
        auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
        url = state.get("url") if state.get("base") == self.base_url else None
        offset = 0
        if url:
            head = self._tus("HEAD", url, auth)
            if head.status_code == 200:
                offset = int(head.headers["Upload-Offset"])
            else:
                url = None
        if not url:
            meta = {"filename": path.name, **(metadata or {})}
            encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
            created = self._tus(
                "POST",
                self.base_url + "/api/v1/uploads/",
                {**auth, "Upload-Length": str(size), "Upload-Metadata": encoded},
            )
            if created.status_code != 201:
                raise ApiError.from_response(created)
            url = requests.compat.urljoin(self.base_url + "/", created.headers["Location"])
            state_file.write_text(json.dumps({"base": self.base_url, "url": url}))
        report(offset, size)
        last: requests.Response | None = None
        with open(path, "rb") as handle:
            while offset < size:
                handle.seek(offset)
                chunk = handle.read(chunk_size)
                checksum = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
                last = self._tus(
                    "PATCH",
                    url,
                    {
                        **auth,
                        "Content-Type": "application/offset+octet-stream",
                        "Upload-Offset": str(offset),
                        "Upload-Checksum": f"sha256 {checksum}",
                    },
                    data=chunk,
                )
                if last.status_code == 409 or last.status_code == 460:
                    # Offset moved (another attempt got through) or a corrupted chunk: ask the server.
                    offset = int(self._tus("HEAD", url, auth).headers["Upload-Offset"])
                    continue
                if last.status_code != 204:
                    raise ApiError.from_response(last)
                offset = int(last.headers["Upload-Offset"])
                report(offset, size)
        # The resume state goes only once the server shows the finished file: an
        # interruption at the last chunk (or a server crash while it finished) resumes.
        info = self._tus("GET", url, {"Authorization": auth["Authorization"]})
        if info.status_code != 200:
            raise ApiError.from_response(info)
        result = info.json()["file"]
        if result is None:
            raise ApiError(
                503, "upload_incomplete", "the server has not recorded the file yet; run the upload again to resume"
            )
        if result["sha256"] != sha256:
            state_file.unlink(missing_ok=True)  # a different file: start afresh next time
            raise ApiError(422, "upload_mismatch", "the stored file does not match the local SHA-256")
        state_file.unlink(missing_ok=True)
        return dict(result)

    def _tus(self, method: str, url: str, headers: dict[str, str], data: bytes | None = None) -> requests.Response:
        attempt = 0
        while True:
            response: requests.Response | None = None
            try:
                response = self.session.request(method, url, headers=headers, data=data, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout):
                if attempt >= self.retries:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= self.retries:
                    return response
            self.sleep(self._delay(attempt, response))
            attempt += 1
            if method == "PATCH":
                # After a failed PATCH the server may hold part of the chunk: re-read the offset.
                head = self._tus(
                    "HEAD", url, {k: v for k, v in headers.items() if not k.startswith(("Upload-", "Content-"))}
                )
                if head.status_code == 200 and head.headers.get("Upload-Offset") != headers.get("Upload-Offset"):
                    return _conflict(head)


def _conflict(head: requests.Response) -> requests.Response:
    """A synthetic 409 telling the upload loop to continue from the server's offset."""
    response = requests.Response()
    response.status_code = 409
    response.headers.update({"Upload-Offset": head.headers.get("Upload-Offset", "0")})
    return response


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def env_client() -> InspectaClient:
    """A client from ``INSPECTA_URL``, ``INSPECTA_KEY_ID`` and ``INSPECTA_SECRET`` or
    ``INSPECTA_PRIVATE_KEY`` (path to an Ed25519 PEM)."""

    from .signing import load_private_key

    url = os.environ["INSPECTA_URL"]
    key_id = os.environ["INSPECTA_KEY_ID"]
    if os.environ.get("INSPECTA_PRIVATE_KEY"):
        signer = Signer(key_id, private_key=load_private_key(os.environ["INSPECTA_PRIVATE_KEY"]))
    else:
        signer = Signer(key_id, secret=os.environ["INSPECTA_SECRET"])
    return InspectaClient(url, signer)
