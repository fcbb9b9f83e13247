"""The one application error and the error envelope of CONTRACT §1.

Every refusal, from a service, an API operation, the signature check, the tus upload
views or a page, raises :class:`AppError` with an :class:`ErrorCode`; the code names its
default HTTP status, so a raise site names only the code and a message::

    raise AppError(ErrorCode.REPORT_REVOKED, _("报告已撤销。"))

The API root has one handler for it (``inspecta.core.api_base``), pages catch it and
show the message. The codes are a public contract (docs/integration/README.md): clients
branch on them, so a member's value and status never change.

This is a leaf module: it imports nothing of the apps.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.http import JsonResponse

__all__ = ["STATUS_CODES", "AppError", "ErrorCode", "code_for_status", "error_response"]


class ErrorCode(StrEnum):
    """Every code the platform answers with; :attr:`status` is its default HTTP status."""

    # generic (CONTRACT §1)
    BAD_REQUEST = "bad_request"
    VALIDATION_FAILED = "validation_failed"
    NOT_AUTHENTICATED = "not_authenticated"
    LOGIN_INCOMPLETE = "login_incomplete"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    INVALID_INPUT = "invalid_input"
    INVALID_CURSOR = "invalid_cursor"  # a keyset cursor the API did not issue (core.pagination)
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    DATABASE_UNAVAILABLE = "database_unavailable"  # an outage of the database: retry after Retry-After
    ERROR = "error"  # a status no other code names

    # accounts
    ALLOCATION_FORBIDDEN = "allocation_forbidden"
    MANAGE_FORBIDDEN = "manage_forbidden"
    # passkeys and identity confirmation (accounts.passkeys; T/CECS 4.3.4-2)
    PASSKEY_INVALID = "passkey_invalid"
    PASSKEY_CHALLENGE_EXPIRED = "passkey_challenge_expired"
    PASSKEY_ALREADY_REGISTERED = "passkey_already_registered"
    PASSKEY_UNKNOWN = "passkey_unknown"
    PASSKEY_SIGN_COUNT_REGRESSED = "passkey_sign_count_regressed"
    TOTP_INVALID = "totp_invalid"
    IDENTITY_FACTOR_MISSING = "identity_factor_missing"
    # a signed call doing a person's step (core.actors.acting_for)
    PERSON_REQUIRED = "person_required"
    PERSON_NOT_ACTING = "person_not_acting"

    # request signatures (CONTRACT §2, docs/integration/signing.md)
    MISSING_SIGNATURE = "missing_signature"
    MALFORMED_SIGNATURE = "malformed_signature"
    MISSING_COMPONENT = "missing_component"
    UNKNOWN_KEY = "unknown_key"
    REVOKED_KEY = "revoked_key"
    KEY_EXPIRED = "key_expired"
    CLIENT_DISABLED = "client_disabled"
    SIGNATURE_EXPIRED = "signature_expired"
    CREATED_IN_FUTURE = "created_in_future"
    WINDOW_TOO_LONG = "window_too_long"
    DIGEST_MISMATCH = "digest_mismatch"
    BAD_SIGNATURE = "bad_signature"
    NONCE_REPLAYED = "nonce_replayed"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    SESSION_ONLY = "session_only"
    STAMP_FAILED = "stamp_failed"

    # idempotent writes (CONTRACT §3)
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"

    # tus uploads (CONTRACT §4, docs/integration/uploads.md)
    INVALID_UPLOAD_TOKEN = "invalid_upload_token"  # noqa: S105 - an error code
    BAD_UPLOAD_METADATA = "bad_upload_metadata"
    CHECKSUM_ALGORITHM_UNSUPPORTED = "checksum_algorithm_unsupported"
    BAD_CHECKSUM = "bad_checksum"
    INCOMPLETE_CHUNK = "incomplete_chunk"
    CREATION_WITH_UPLOAD_UNSUPPORTED = "creation_with_upload_unsupported"
    DEFER_LENGTH_UNSUPPORTED = "defer_length_unsupported"
    EMPTY_UPLOAD = "empty_upload"
    OFFSET_MISMATCH = "offset_mismatch"
    UPLOAD_COMPLETE = "upload_complete"
    UPLOAD_GONE = "upload_gone"
    TUS_VERSION_UNSUPPORTED = "tus_version_unsupported"
    UPLOAD_TOO_LARGE = "upload_too_large"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    UPLOAD_LOCKED = "upload_locked"
    CHECKSUM_MISMATCH = "checksum_mismatch"

    # transparency log (CONTRACT §5)
    LOG_UNAVAILABLE = "log_unavailable"
    TREE_SIZE_EXCEEDED = "tree_size_exceeded"
    SIZE_ZERO = "size_zero"
    INDEX_OUT_OF_RANGE = "index_out_of_range"
    CONSISTENCY_FROM_ZERO = "consistency_from_zero"
    FROM_EXCEEDS_SIZE = "from_exceeds_size"
    INVALID_RANGE = "invalid_range"
    ENTRY_NOT_FOUND = "entry_not_found"
    RECORD_NOT_LOGGED = "record_not_logged"
    TIMESTAMP_NOT_FOUND = "timestamp_not_found"

    # projects
    UNKNOWN_REGION = "unknown_region"
    UNKNOWN_STATION = "unknown_station"
    UNKNOWN_AGENCY = "unknown_agency"
    UNKNOWN_ORGANISATION = "unknown_organisation"
    UNKNOWN_FILE = "unknown_file"
    UNKNOWN_TEST_ITEM = "unknown_test_item"
    PROJECT_CODE_TAKEN = "project_code_taken"
    CONTRACT_NUMBER_TAKEN = "contract_number_taken"
    FIELD_NOT_UPDATABLE = "field_not_updatable"
    INVALID_PARTY_ROLE = "invalid_party_role"
    INVALID_PEOPLE = "invalid_people"
    PERSON_NOT_ELIGIBLE = "person_not_eligible"  # not of the party, or without the duty's role
    INVALID_DATES = "invalid_dates"
    UNKNOWN_CONTRACT = "unknown_contract"
    PLAN_CANCELLED = "plan_cancelled"
    INVALID_REGION_RULE = "invalid_region_rule"

    # reports
    UNKNOWN_PROJECT = "unknown_project"
    UNKNOWN_PARAMETER = "unknown_parameter"
    UNKNOWN_STAFF = "unknown_staff"
    UNKNOWN_CODE = "unknown_code"
    MISTYPED_CODE = "mistyped_code"
    INVALID_CONCLUSION = "invalid_conclusion"
    INVALID_DATE = "invalid_date"
    INVALID_PRINTED_AT = "invalid_printed_at"
    INVALID_CHECK_RULE = "invalid_check_rule"
    NOT_A_PDF = "not_a_pdf"
    FILE_UNAVAILABLE = "file_unavailable"
    REPORT_NUMBER_TAKEN = "report_number_taken"
    REPORT_REVOKED = "report_revoked"
    REASON_REQUIRED = "reason_required"
    NOTHING_TO_AMEND = "nothing_to_amend"
    FIELD_NOT_AMENDABLE = "field_not_amendable"
    AMENDMENT_PENDING = "amendment_pending"
    AMENDMENT_DECIDED = "amendment_decided"
    BATCH_EMPTY = "batch_empty"
    BATCH_TOO_LARGE = "batch_too_large"

    # chain of custody (sampling)
    TAG_TAKEN = "tag_taken"
    TAGS_MISMATCH = "tags_mismatch"
    PHOTOS_REQUIRED = "photos_required"
    LOCATION_REQUIRED = "location_required"
    SAMPLE_NOT_PENDING = "sample_not_pending"
    HANDOVER_INVALID = "handover_invalid"
    SEAL_INVALID = "seal_invalid"
    # commissions (委托单)
    COMMISSION_SAMPLE_INVALID = "commission_sample_invalid"
    SAMPLE_IN_COMMISSION = "sample_in_commission"
    COMMISSION_NOT_PENDING = "commission_not_pending"
    LIMS_NUMBER_TAKEN = "lims_number_taken"
    CUSTODY_ORDER = "custody_order"
    CUSTODY_NOT_PENDING = "custody_not_pending"
    CUSTODY_PERSON_INVALID = "custody_person_invalid"

    # test data (testing)
    TEST_RECORD_EXISTS = "test_record_exists"
    TEST_SAMPLE_INVALID = "test_sample_invalid"
    TEST_PLAN_INVALID = "test_plan_invalid"
    TEST_PARAMETER_INVALID = "test_parameter_invalid"
    TEST_TIMES_INVALID = "test_times_invalid"
    TEST_RECORD_LOCKED = "test_record_locked"
    TEST_AMENDMENT_INVALID = "test_amendment_invalid"

    # receipts (T/CECS 6.0.6, docs/integration/callbacks.md)
    UNKNOWN_OPERATION = "unknown_operation"

    # warnings (oversight)
    WARNING_STATE = "warning_state"
    CLOSURE_STATE = "closure_state"

    # acceptance checks of a report (the values of reports.choices.CheckCode)
    AGENCY_NOT_APPROVED = "agency_not_approved"
    CAPABILITY_MISSING = "capability_missing"
    TESTER_CERTIFICATE_INVALID = "tester_certificate_invalid"
    SIGNATORY_NOT_AUTHORISED = "signatory_not_authorised"
    EQUIPMENT_NOT_CALIBRATED = "equipment_not_calibrated"
    AGENCY_NOT_PARTY = "agency_not_party"
    TOO_MANY_AGENCIES = "too_many_agencies"
    APPROVAL_TRAIL_INVALID = "approval_trail_invalid"
    SAMPLE_CHAIN_INCOMPLETE = "sample_chain_incomplete"
    REPORT_DATA_MISMATCH = "report_data_mismatch"
    REPORT_DATA_MISSING = "report_data_missing"
    # the distinct failures of the equipment check (``equipment_not_calibrated``)
    EQUIPMENT_NOT_REGISTERED = "equipment_not_registered"
    EQUIPMENT_NOT_IN_SERVICE = "equipment_not_in_service"
    EQUIPMENT_REGISTERED_AFTER_TEST = "equipment_registered_after_test"
    EQUIPMENT_CALIBRATION_EXPIRED = "equipment_calibration_expired"

    # electronic seals (the values of sampling.seal.SealReason; docs/integration/seals.md)
    SEAL_PREFIX = "seal_prefix"
    SEAL_ENCODING = "seal_encoding"
    SEAL_FORMAT = "seal_format"
    SEAL_UNKNOWN_KEY = "seal_unknown_key"
    SEAL_SIGNATURE = "seal_signature"

    @property
    def status(self) -> int:
        """The HTTP status this code answers with unless a raise site says otherwise."""

        return _STATUS.get(self, 400)


# Default statuses; a code not listed here is a 400.
_STATUS: dict[ErrorCode, int] = {
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.LOGIN_INCOMPLETE: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.INVALID_INPUT: 422,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.ERROR: 500,
    ErrorCode.ALLOCATION_FORBIDDEN: 403,
    ErrorCode.MANAGE_FORBIDDEN: 403,
    ErrorCode.PASSKEY_INVALID: 422,
    ErrorCode.PASSKEY_CHALLENGE_EXPIRED: 422,
    ErrorCode.PASSKEY_ALREADY_REGISTERED: 409,
    ErrorCode.PASSKEY_UNKNOWN: 422,
    ErrorCode.PASSKEY_SIGN_COUNT_REGRESSED: 422,
    ErrorCode.TOTP_INVALID: 422,
    ErrorCode.IDENTITY_FACTOR_MISSING: 422,
    ErrorCode.PERSON_REQUIRED: 422,
    ErrorCode.PERSON_NOT_ACTING: 403,
    **dict.fromkeys(
        [
            ErrorCode.MISSING_SIGNATURE,
            ErrorCode.MALFORMED_SIGNATURE,
            ErrorCode.MISSING_COMPONENT,
            ErrorCode.UNKNOWN_KEY,
            ErrorCode.REVOKED_KEY,
            ErrorCode.KEY_EXPIRED,
            ErrorCode.CLIENT_DISABLED,
            ErrorCode.SIGNATURE_EXPIRED,
            ErrorCode.CREATED_IN_FUTURE,
            ErrorCode.WINDOW_TOO_LONG,
            ErrorCode.DIGEST_MISMATCH,
            ErrorCode.BAD_SIGNATURE,
            ErrorCode.NONCE_REPLAYED,
            ErrorCode.INVALID_UPLOAD_TOKEN,
        ],
        401,
    ),
    ErrorCode.INSUFFICIENT_SCOPE: 403,
    ErrorCode.SESSION_ONLY: 403,
    ErrorCode.STAMP_FAILED: 422,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: 409,
    ErrorCode.OFFSET_MISMATCH: 409,
    ErrorCode.UPLOAD_COMPLETE: 409,
    ErrorCode.UPLOAD_GONE: 410,
    ErrorCode.TUS_VERSION_UNSUPPORTED: 412,
    ErrorCode.UPLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_FILE_TYPE: 415,
    ErrorCode.UPLOAD_LOCKED: 423,
    ErrorCode.CHECKSUM_MISMATCH: 460,
    ErrorCode.LOG_UNAVAILABLE: 503,
    ErrorCode.DATABASE_UNAVAILABLE: 503,
    ErrorCode.ENTRY_NOT_FOUND: 404,
    ErrorCode.RECORD_NOT_LOGGED: 404,
    ErrorCode.TIMESTAMP_NOT_FOUND: 404,
    ErrorCode.PROJECT_CODE_TAKEN: 409,
    ErrorCode.CONTRACT_NUMBER_TAKEN: 409,
    ErrorCode.PLAN_CANCELLED: 409,
    ErrorCode.INVALID_CURSOR: 422,
    **dict.fromkeys(
        [
            ErrorCode.SEAL_PREFIX,
            ErrorCode.SEAL_ENCODING,
            ErrorCode.SEAL_FORMAT,
            ErrorCode.SEAL_UNKNOWN_KEY,
            ErrorCode.SEAL_SIGNATURE,
        ],
        422,
    ),
    ErrorCode.UNKNOWN_CODE: 404,
    ErrorCode.NOT_A_PDF: 415,
    ErrorCode.REPORT_NUMBER_TAKEN: 409,
    ErrorCode.REPORT_REVOKED: 409,
    ErrorCode.AMENDMENT_PENDING: 409,
    ErrorCode.AMENDMENT_DECIDED: 409,
    ErrorCode.BATCH_EMPTY: 422,
    ErrorCode.TEST_RECORD_EXISTS: 409,
    ErrorCode.TEST_SAMPLE_INVALID: 422,
    ErrorCode.TEST_PLAN_INVALID: 422,
    ErrorCode.TEST_PARAMETER_INVALID: 422,
    ErrorCode.TEST_TIMES_INVALID: 422,
    ErrorCode.TEST_RECORD_LOCKED: 409,
    ErrorCode.TEST_AMENDMENT_INVALID: 422,
    ErrorCode.TAG_TAKEN: 409,
    ErrorCode.TAGS_MISMATCH: 422,
    ErrorCode.PHOTOS_REQUIRED: 422,
    ErrorCode.LOCATION_REQUIRED: 422,
    ErrorCode.SAMPLE_NOT_PENDING: 409,
    ErrorCode.HANDOVER_INVALID: 422,
    ErrorCode.SEAL_INVALID: 422,
    ErrorCode.COMMISSION_SAMPLE_INVALID: 422,
    ErrorCode.SAMPLE_IN_COMMISSION: 409,
    ErrorCode.COMMISSION_NOT_PENDING: 409,
    ErrorCode.LIMS_NUMBER_TAKEN: 409,
    ErrorCode.CUSTODY_ORDER: 409,
    ErrorCode.CUSTODY_NOT_PENDING: 409,
    ErrorCode.CUSTODY_PERSON_INVALID: 422,
    ErrorCode.PERSON_NOT_ELIGIBLE: 422,
    ErrorCode.BATCH_TOO_LARGE: 422,
    ErrorCode.WARNING_STATE: 409,
    ErrorCode.CLOSURE_STATE: 409,
    # a failed acceptance check refuses the report with 422 (``agency_not_party`` is
    # also the 400 of a project write naming an agency that is not a party)
    ErrorCode.AGENCY_NOT_APPROVED: 422,
    ErrorCode.CAPABILITY_MISSING: 422,
    ErrorCode.TESTER_CERTIFICATE_INVALID: 422,
    ErrorCode.SIGNATORY_NOT_AUTHORISED: 422,
    ErrorCode.EQUIPMENT_NOT_CALIBRATED: 422,
    ErrorCode.EQUIPMENT_NOT_REGISTERED: 422,
    ErrorCode.EQUIPMENT_NOT_IN_SERVICE: 422,
    ErrorCode.EQUIPMENT_REGISTERED_AFTER_TEST: 422,
    ErrorCode.EQUIPMENT_CALIBRATION_EXPIRED: 422,
    ErrorCode.TOO_MANY_AGENCIES: 422,
    ErrorCode.SAMPLE_CHAIN_INCOMPLETE: 422,
    ErrorCode.REPORT_DATA_MISMATCH: 422,
    ErrorCode.REPORT_DATA_MISSING: 422,
    ErrorCode.APPROVAL_TRAIL_INVALID: 422,
}

# The code of an answer that carries only an HTTP status (Django Ninja's own errors,
# Django's plain-text responses under /api/).
STATUS_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.INVALID_INPUT,
    429: ErrorCode.RATE_LIMITED,
}


def code_for_status(status: int) -> ErrorCode:
    return STATUS_CODES.get(status, ErrorCode.ERROR)


class AppError(Exception):
    """A refusal: nothing was changed. ``code`` is stable, ``status`` defaults to the
    code's; keyword arguments become response headers (``Retry_After`` → ``Retry-After``)."""

    def __init__(
        self,
        code: ErrorCode,
        message: Any,
        details: dict[str, Any] | None = None,
        *,
        status: int | None = None,
        **headers: str,
    ) -> None:
        super().__init__(str(message))
        self.code = ErrorCode(code)
        self.message = str(message)
        self.details = details or {}
        self.status = status if status is not None else self.code.status
        self.headers = headers

    def response(self) -> JsonResponse:
        return error_response(self.code, self.message, self.details, status=self.status, **self.headers)


def error_response(
    code: ErrorCode, message: Any, details: dict[str, Any] | None = None, *, status: int | None = None, **headers: str
) -> JsonResponse:
    """``{"error": {"code", "message", "details"}}`` with ``status`` (by default the
    code's); keyword arguments become response headers (``Retry_After`` → ``Retry-After``)."""

    code = ErrorCode(code)
    response = JsonResponse(
        {"error": {"code": code.value, "message": str(message), "details": details or {}}},
        status=status if status is not None else code.status,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response
