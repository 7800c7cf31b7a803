"""The data key, and ID numbers encrypted at rest with it. Core: no web.

ID numbers are encrypted in the application with AES-SIV (`cryptography`), not in the
database with pgcrypto: the key then never travels to the server in a query (pgcrypto's key
would sit in pg_stat_activity, logs and backups' neighbours), and a stolen dump or disk holds
ciphertext only. SIV is deterministic: the same number under the same key gives the same
ciphertext, so a re-import finds unchanged rows unchanged and a number can still be looked up
by equality; it reveals only that two rows hold the same number.

The key (64 random bytes, AES-256-SIV) comes from `GRIDMAP_DATA_KEY` (base64) or var/data.key
(mode 0600, made on first use); it is never stored in the database. Lose it and the ID
numbers are gone: `gridmap backup` says so, and the README says how to keep it.
"""

from __future__ import annotations

import base64
import functools
import os
import secrets
from pathlib import Path

from gridmap.errors import ConfigurationError
from gridmap.models import ID_NUMBER_PREFIX

KEY_ENV = "GRIDMAP_DATA_KEY"
KEY_FILE = "data.key"
KEY_BYTES = 64
# Binds each ciphertext to what it is: an ID number's ciphertext decrypts as nothing else.
ID_NUMBER_CONTEXT = b"household.id_number"


class DataKeyError(ConfigurationError):
    """The data key is missing, malformed, or not the key the data was encrypted with."""


def key_path() -> Path:
    """var/data.key (of the checkout, or $GRIDMAP_HOME)."""
    from gridmap import devdb

    return devdb.var_dir() / KEY_FILE


def _decode(raw: str, where: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise DataKeyError(f"{where}: expected {KEY_BYTES} bytes in base64 "
                           "(make one: python3 -c 'import base64,os;"
                           "print(base64.b64encode(os.urandom(64)).decode())')")
    return key


def _read_or_make(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return _decode(path.read_text(), str(path))
        with os.fdopen(fd, "w") as f:
            f.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")
    return _decode(path.read_text(), str(path))


@functools.lru_cache(maxsize=4)
def _cipher(env_value: str | None, path: str):
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    key = _decode(env_value, KEY_ENV) if env_value else _read_or_make(Path(path))
    return AESSIV(key)


def cipher():
    """The AES-SIV cipher of the data key in force (loaded once per process and key)."""
    return _cipher(os.environ.get(KEY_ENV) or None, str(key_path()))


def encrypt_id_number(number: str | None) -> str | None:
    """'532329199001011234' → 'v1:…' (the same number gives the same text under one key)."""
    return id_number_encrypter()(number)


def id_number_encrypter():
    """`encrypt_id_number` with the key in force now, found once: for many numbers at a time
    (finding the key file costs far more than sealing a number)."""
    sealer = cipher()

    def encrypt(number: str | None) -> str | None:
        if number is None or number == "":
            return None
        sealed = sealer.encrypt(number.encode(), [ID_NUMBER_CONTEXT])
        return ID_NUMBER_PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")
    return encrypt


def decrypt_id_number(stored: str | None) -> str | None:
    """The number behind a stored 'v1:…' text (DataKeyError if another key sealed it)."""
    if stored is None:
        return None
    if not stored.startswith(ID_NUMBER_PREFIX):
        raise DataKeyError("household.id_number holds a value that is not encrypted")
    from cryptography.exceptions import InvalidTag

    body = stored[len(ID_NUMBER_PREFIX):]
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return cipher().decrypt(sealed, [ID_NUMBER_CONTEXT]).decode()
    except (InvalidTag, ValueError):
        raise DataKeyError(
            "an ID number does not decrypt with this data key: restore the key the data was "
            f"encrypted with (var/{KEY_FILE} or {KEY_ENV}, kept beside the backup)") from None
