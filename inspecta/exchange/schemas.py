"""Exchange schemas other apps' operations answer with (CONTRACT §1)."""

from typing import Any
from uuid import UUID

from ninja import Field, Schema

__all__ = ["ItemErrorOut", "ReceiptAcceptedOut"]


class ReceiptAcceptedOut(Schema):
    """The 202 answer of a call asked to run asynchronously (T/CECS 6.0.6): poll the
    receipt, or wait for the callback (docs/integration/callbacks.md)."""

    receipt_id: UUID = Field(..., description="回执编号：GET /api/v1/exchange/receipts/{receipt_id} 查询")
    operation: str
    status: str = Field(..., description="pending")


class ItemErrorOut(Schema):
    """Why one record of a batch was refused (T/CECS 6.0.6 per-record answers): the
    error a single call would answer with (CONTRACT §1)."""

    code: str
    message: str
    details: dict[str, Any]
