"""CDS Hooks 2.0 request authentication: the EHR's signed JWT (``Authorization: Bearer``).

As the specification requires (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients): the
token is signed with an asymmetric key (RS/ES/PS 256-512; ``none`` and HMAC are refused), by
an issuer on the allow-list, with a key from that issuer's JWKS; ``aud`` is this CDS
Service's endpoint URL as given in discovery; ``exp``, ``iat`` and ``jti`` are required; a
``jti`` already seen is a replay. The replay window is kept in the audit store, so it holds
across workers and instances; a token may live no longer than the window (else it could be
replayed after its ``jti`` is forgotten).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
_LEEWAY_SECONDS = 30


class AuthenticationFailed(Exception):
    """The request is not from a trusted EHR; the message is safe to return."""


class _Issuer:
    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        self.name = name
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if "jwks" in config:
            self._keys = jwt.PyJWKSet.from_dict(dict(config["jwks"]))
        elif "jwks_url" in config:
            self.jwks_url = str(config["jwks_url"])
            self._client = jwt.PyJWKClient(self.jwks_url, cache_keys=True, lifespan=300)
        else:
            raise ValueError(f"CDS issuer {name!r} needs jwks or jwks_url")

    def key_for(self, token: str) -> Any:
        if self._client is not None:
            try:
                return self._client.get_signing_key_from_jwt(token).key
            except jwt.PyJWKClientError as error:
                raise AuthenticationFailed(f"no usable signing key: {error}") from None
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for candidate in self._keys.keys:
            if kid is None or candidate.key_id == kid:
                return candidate.key
        raise AuthenticationFailed("no key of the issuer's JWKS matches the token's kid")


class CdsTokenVerifier:
    """Verifies CDS Hooks JWTs against the issuer allow-list.

    Args:
        issuers: issuer -> ``{"jwks": {...}}`` or ``{"jwks_url": "https://..."}``.
        window_seconds: the ``jti`` replay window and the longest accepted token lifetime.
        claim_jti: records ``(issuer, jti, expires_at)``; returns False when already seen.
        clock: seconds since the epoch (tests move it).
    """

    def __init__(
        self,
        issuers: Mapping[str, Mapping[str, Any]],
        window_seconds: int,
        claim_jti: Callable[[str, str, int], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuers = {name: _Issuer(name, config) for name, config in issuers.items()}
        self._window = window_seconds
        self._claim_jti = claim_jti
        self._clock = clock

    def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """The verified claims, or :class:`AuthenticationFailed` with the reason."""
        if not self._issuers:
            raise AuthenticationFailed("no trusted CDS client issuers are configured")
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthenticationFailed("a Bearer JWT is required")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthenticationFailed("the token is not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthenticationFailed("the token must be signed with an asymmetric algorithm")
        issuer = self._issuers.get(str(unverified.get("iss")))
        if issuer is None:
            raise AuthenticationFailed("the token's issuer is not trusted")
        jku = header.get("jku")
        if jku is not None and jku != getattr(issuer, "jwks_url", None):
            raise AuthenticationFailed("the token's jku is not the issuer's registered JWKS")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                issuer.key_for(token),
                algorithms=list(ALGORITHMS),
                audience=audience,
                issuer=issuer.name,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationFailed("the token's aud is not this CDS service's URL") from None
        except jwt.PyJWTError as error:
            raise AuthenticationFailed(f"invalid token: {error}") from None
        now = self._clock()
        if claims["exp"] - now > self._window:
            raise AuthenticationFailed(
                f"the token lives longer than the {self._window} s replay window"
            )
        if not self._claim_jti(issuer.name, str(claims["jti"]), int(claims["exp"])):
            raise AuthenticationFailed("the token's jti was already used (replay)")
        return claims
