"""The My Number (個人番号) at rest: encrypted, never in logs, revealed only when audited.

The key is MACHI_MY_NUMBER_KEY (a Fernet key), else one generated once into
$MACHI_DATA_DIR/my_number.key (mode 0600). Every application server and worker must
use the same key; losing it makes the stored numbers unreadable (back it up apart
from the databases).
"""

from __future__ import annotations

import os
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from machi.japanese import validate_my_number


@cache
def _fernet() -> Fernet:
    key = os.environ.get("MACHI_MY_NUMBER_KEY")
    if not key:
        path = settings.DATA_DIR / "my_number.key"
        if path.exists():
            key = path.read_text().strip()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Fernet.generate_key().decode()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(key)
    return Fernet(key.encode() if isinstance(key, str) else key)


def my_number_seal(number: str) -> str:
    """Validate (DOMAIN.md §2) and encrypt; '' stays ''."""
    if not number:
        return ""
    return _fernet().encrypt(validate_my_number(number).encode()).decode()


def my_number_open(sealed: str) -> str:
    """Decrypt a stored My Number. Callers must audit the reveal (registry.selectors)."""
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as error:
        raise ValueError("個人番号を復号できません（鍵が違います）。") from error


def mask(sealed: str) -> str:
    return "●●●● ●●●● ●●●●" if sealed else ""
