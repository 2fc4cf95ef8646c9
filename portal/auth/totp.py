"""TOTP two-factor sign-in (RFC 6238) and single-use recovery codes."""

from __future__ import annotations

import base64
import io
import secrets

import pyotp
import qrcode
import qrcode.image.svg

from portal.auth.models import User
from portal.auth.passwords import check_password, hash_password
from portal.core import clock

ISSUER = "Gezinsportaal"
RECOVERY_CODE_COUNT = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code in a data: URI (no inline markup needed)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def accept_code(user: User, secret: str, code: str) -> bool:
    """True for a valid code in the current +-1 step window not used before by this user."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    moment = clock.now()
    current_step = int(moment.timestamp()) // totp.interval
    for step in (current_step - 1, current_step, current_step + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if secrets.compare_digest(totp.at(step * totp.interval), code):
            user.totp_last_step = step
            return True
    return False


def new_recovery_codes() -> list[str]:
    return ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODE_COUNT)]


def hash_recovery_code(code: str) -> str:
    return hash_password(normalise_recovery_code(code))


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch in "0123456789abcdef")


def recovery_code_matches(stored_hash: str, code: str) -> bool:
    return check_password(stored_hash, normalise_recovery_code(code))
