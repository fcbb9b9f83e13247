"""The log kind of test data (CONTRACT §5; no names of people: the log is public).

``test_record`` (Guangxi 第七条(八), 第十三条): appended at the first upload and at every
revision, rendered from the record as stored: its ids, the test item's code, the
current revision number, the SHA-256 of its canonical form now (``canonical.py``) and of
the canonical form each revision stored, and its key images and clips by SHA-256. The
self-audit re-renders the latest entry of each record: an UPDATE of the record's row or
of any of its revisions that bypassed the services changes a hash and is reported.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.ledger.registry import Rendered, Subject, register_kind

from .canonical import body_sha256, record_body
from .choices import TestingLogKind
from .models import TestRecord


def render_test_record(record: TestRecord) -> Rendered:
    files = list(record.files.order_by("pk"))
    revisions = list(record.revisions.order_by("number").values_list("body", flat=True))
    return Rendered(
        {
            "record": record.pk,
            "agency": record.agency_id,
            "project": record.project_id,
            "kind": record.kind,
            "sample": record.sample_id,
            "plan": record.plan_id,
            "test_item": record.test_item_id,
            "revision": record.revision,
            "sha256": body_sha256(record_body(record, files)),
            "revisions": [body_sha256(body) for body in revisions],
        },
        files=tuple((f"{f.kind}-{i + 1}", {"sha256": f.sha256}) for i, f in enumerate(files)),
    )


def describe_test_record(record: TestRecord) -> Subject:
    """A test record by its number, on its page (the log explorer)."""

    return Subject(
        _("检测数据 %(number)s（第 %(n)s 次修订）") % {"number": record.number, "n": record.revision},
        reverse("testing:record_detail", args=[record.pk]),
    )


register_kind(TestingLogKind.TEST_RECORD, render=render_test_record, describe=describe_test_record)
