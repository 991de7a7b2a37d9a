"""Links from a CDS card to the family guide, without the service keeping any state.

The link carries the child's state (its identifier removed) encrypted and authenticated
with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a key derived from the
service's secret, and expires after a day. Every worker with the same secret can open it;
no one without the secret can read or forge it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

LINK_LIFETIME_SECONDS = 24 * 3600


class FamilyLinks:
    def __init__(self, secret: bytes) -> None:
        derived = hmac.new(secret, b"pedonc-routing family links v1", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, state: dict[str, Any]) -> str:
        without_id = {key: value for key, value in state.items() if key != "patient_id"}
        return self._fernet.encrypt(json.dumps(without_id).encode()).decode("ascii")

    def open(self, token: str) -> dict[str, Any] | None:
        """The state, or None for a token that is forged, damaged or expired."""
        try:
            data = self._fernet.decrypt(token.encode("ascii"), ttl=LINK_LIFETIME_SECONDS)
        except (InvalidToken, UnicodeEncodeError):
            return None
        value = json.loads(data)
        return value if isinstance(value, dict) else None
