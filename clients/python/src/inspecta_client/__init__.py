"""Inspecta exchange API client: RFC 9421 signing, idempotent retries, tus uploads."""

from .client import ApiError, InspectaClient
from .signing import Signer, content_digest, load_private_key

__all__ = ["ApiError", "InspectaClient", "Signer", "content_digest", "load_private_key"]
__version__ = "0.1.0"
