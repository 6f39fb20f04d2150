"""Personal data in shared records: masking, keyed pseudonyms and field encryption at rest.

A subscriber not entitled to personal data sees identifiers (ID numbers,
phone numbers) masked or replaced by a keyed pseudonym, and the other personal
fields (a citizen's name, birth date, sex) masked:

- **mask** keeps what a clerk needs to tell two records apart by eye:
  ``330106********1234`` for an ID number, ``138****5678`` for a mobile number,
  ``张*`` for a name, ``1985-**-**`` for a birth date;
- **pseudonymise** replaces an identifier by ``p:`` and the first 20 hex digits
  of HMAC(key, value) with SHA-256 or SM3: the same person gets the same
  pseudonym in every record and every delivery, so a department can still join
  records without seeing who it is. A uid that is itself a personal identifier
  (a personnel record's ID number) is always pseudonymised, never masked, so
  that records stay distinct.

ID numbers and phone numbers inside free text (complaint details) are found by
pattern and masked the same way.

Designated personal fields are encrypted at rest with AES-256-GCM or SM4-GCM
(:class:`FieldCipher`), the record's identity as associated data, so a value
cannot be moved to another record unnoticed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "CIPHERS",
    "PSEUDONYM_HASHES",
    "CipherName",
    "FieldCipher",
    "PersonalMode",
    "Protector",
    "PseudonymHash",
    "mask_birth_date",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "mask_text",
]

PersonalMode = Literal["mask", "pseudonymise"]
PseudonymHash = Literal["sha256", "sm3"]
CipherName = Literal["aes-gcm", "sm4-gcm"]
PSEUDONYM_HASHES: Final = ("sha256", "sm3")
CIPHERS: Final = ("aes-gcm", "sm4-gcm")

# 18-character resident ID numbers (GB 11643) and mainland mobile numbers, where they stand alone
_ID_NUMBER: Final = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE: Final = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE: Final = re.compile(r"(?<!\d)(0\d{2,3}-?)(\d{3,4})(\d{4})(?!\d)")


def mask_id_number(value: str) -> str:
    """Keep the region (6) and the last 4 characters of an ID number; anything else, all but its last 4."""
    text = value.strip()
    if len(text) == 18:
        return f"{text[:6]}********{text[-4:]}"
    return "*" * max(len(text) - 4, 0) + text[-4:] if len(text) > 4 else "*" * len(text)


def mask_phone(value: str) -> str:
    """Keep the first 3 and the last 4 digits of a phone number."""
    text = value.strip()
    return f"{text[:3]}{'*' * (len(text) - 7)}{text[-4:]}" if len(text) > 7 else "*" * len(text)


def mask_name(value: str) -> str:
    """Keep the first character of a name (the surname), mask the rest: 张三丰 -> 张**."""
    text = value.strip()
    return text[:1] + "*" * (len(text) - 1) if text else text


def mask_birth_date(value: str) -> str:
    """Keep the year of a date: 1985-03-07 -> 1985-**-**."""
    return f"{value[:4]}-**-**" if len(value) >= 4 else "*" * len(value)


def mask_text(text: str, replace: Callable[[str, str], str] | None = None) -> str:
    """Free text with every ID number and phone number in it masked (or given to ``replace(kind, value)``)."""

    def sub(kind: str, masker: Callable[[str], str]) -> Callable[[re.Match[str]], str]:
        return lambda m: replace(kind, m.group(0)) if replace else masker(m.group(0))

    text = _ID_NUMBER.sub(sub("id_number", mask_id_number), text)
    text = _MOBILE.sub(sub("phone", mask_phone), text)
    return _LANDLINE.sub(sub("phone", mask_phone), text)


def _digest(name: PseudonymHash) -> hashes.HashAlgorithm:
    return hashes.SM3() if name == "sm3" else hashes.SHA256()


@dataclass(frozen=True, slots=True)
class Protector:
    """How a node shows personal values to a subscriber not entitled to them."""

    mode: PersonalMode
    key: bytes  # the pseudonym key (32 random bytes kept by the node)
    hash: PseudonymHash = "sha256"

    def pseudonym(self, value: str) -> str:
        """``p:`` + 20 hex digits of HMAC(key, value): stable per node key, not reversible without it."""
        if not value:
            return value
        mac = crypto_hmac.HMAC(self.key, _digest(self.hash))
        mac.update(value.strip().upper().encode("utf-8"))
        return "p:" + mac.finalize().hex()[:20]

    def identifier(self, value: str, kind: str) -> str:
        """An ID or phone number as this subscriber may see it."""
        if not value or self.mode == "pseudonymise":
            return self.pseudonym(value)
        return mask_phone(value) if kind == "phone" else mask_id_number(value)

    def text(self, value: str) -> str:
        """Free text with the ID and phone numbers in it protected."""
        return mask_text(value, self.identifier if self.mode == "pseudonymise" else None)


class FieldCipher:
    """Encrypts designated personal field values at rest: AES-256-GCM or SM4-GCM, 12-byte random nonce.

    A sealed value is ``nonce || ciphertext || tag``; the associated data names
    the record and field, so a sealed value copied into another record or field
    fails to open.
    """

    def __init__(self, name: CipherName, key: bytes) -> None:
        """Use ``key``: 32 bytes (AES-256) or 16 bytes (SM4); a longer key is cut to size."""
        if name not in CIPHERS:
            raise ValueError(f"unknown cipher {name!r}; known: {', '.join(CIPHERS)}")
        size = 32 if name == "aes-gcm" else 16
        if len(key) < size:
            raise ValueError(f"{name} needs a key of at least {size} bytes, got {len(key)}")
        self.name = name
        self._key = key[:size]
        self._aes = AESGCM(self._key) if name == "aes-gcm" else None

    def seal(self, plain: str, aad: bytes) -> bytes:
        """Encrypt ``plain`` bound to ``aad``."""
        nonce = os.urandom(12)
        data = plain.encode("utf-8")
        if self._aes is not None:
            return nonce + self._aes.encrypt(nonce, data, aad)
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        body = encryptor.update(data) + encryptor.finalize()
        return nonce + body + encryptor.tag

    def open(self, sealed: bytes, aad: bytes) -> str:
        """Decrypt a value :meth:`seal` made with the same key and ``aad``; ValueError when it was altered."""
        if len(sealed) < 28:
            raise ValueError("sealed value too short")
        nonce, body = sealed[:12], sealed[12:]
        try:
            if self._aes is not None:
                return self._aes.decrypt(nonce, body, aad).decode("utf-8")
            decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, body[-16:])).decryptor()
            decryptor.authenticate_additional_data(aad)
            return (decryptor.update(body[:-16]) + decryptor.finalize()).decode("utf-8")
        except InvalidTag:
            raise ValueError("sealed value does not open: wrong key, or altered or moved") from None
