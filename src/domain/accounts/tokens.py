"""Access tokens (signed JWTs) and the random secrets that are stored only as hashes.

Expiry is checked against `tally.clock`, not PyJWT's own wall clock, so tests move time with
the clock fixture and production behaves the same.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from domain.actor import Role
from tally.clock import clock

ACCESS_TOKEN_LIFETIME = timedelta(minutes=15)
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
ALGORITHM = "HS256"
# A little slack for clocks of different machines when checking `iat`.
LEEWAY = timedelta(seconds=30)
_REQUIRED_CLAIMS = ["sub", "role", "sid", "exp", "iat", "jti"]


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    role: Role
    sign_in_id: uuid.UUID
    expires_at: datetime


def issue_access_token(secret: str, user_id: uuid.UUID, role: str, sign_in_id: uuid.UUID) -> AccessToken:
    now = clock.now()
    expires_at = now + ACCESS_TOKEN_LIFETIME
    claims = {
        "sub": str(user_id),
        "role": str(role),
        "sid": str(sign_in_id),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return AccessToken(token=jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at=expires_at)


def decode_access_token(secret: str, token: str) -> AccessClaims | None:
    """The token's claims, or None when it is forged, malformed or expired."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
        )
        now = clock.now().timestamp()
        exp, iat = float(claims["exp"]), float(claims["iat"])
        if exp <= now or iat > now + LEEWAY.total_seconds():
            return None
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            role=Role(claims["role"]),
            sign_in_id=uuid.UUID(claims["sid"]),
            expires_at=datetime.fromtimestamp(exp, clock.now().tzinfo),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


def new_secret() -> str:
    """A random token for the client to keep (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database keeps of a high-entropy token: a plain SHA-256 is enough for 256 bits."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def code_digest(secret: str, challenge_id: uuid.UUID, code: str) -> str:
    """A one-time code has a million values, so its hash is keyed: a database copy cannot brute-force it."""
    message = f"{challenge_id}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
