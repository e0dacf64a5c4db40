"""Secrets the store must keep (the SMTP password), sealed with a key kept beside the store
file, not in it: `<store>.key`, mode 0600, made on first use. A backup (store.backup exports
every table, `meta` included), a copied store file or a leaked Parquet file then holds no
usable secret; a store restored on another machine without its key file says the secret must
be entered again. Fernet (the `cryptography` package: AES-128-CBC with HMAC-SHA256, an
audited recipe) does the sealing; nothing here is hand-made cryptography.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "sealed:v1:"
_MEMORY_KEY = Fernet.generate_key()  # an in-memory store's secrets live as long as the process
_LOCK = threading.Lock()


class Unreadable(ValueError):
    """A sealed value whose key file is missing or is another store's."""


def key_path(db: Path) -> Path:
    return db.with_name(db.name + ".key")


def _store_file(con) -> Path | None:
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(row[0][0]) if row and row[0][0] else None


def _key(con, create: bool) -> bytes | None:
    db = _store_file(con)
    if db is None:
        return _MEMORY_KEY
    path = key_path(db)
    with _LOCK:
        try:
            return path.read_bytes().strip()
        except FileNotFoundError:
            if not create:
                return None
        key = Fernet.generate_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile: use that one
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        return key


def seal(con, text: str) -> str:
    """`text` sealed with this store's key (made if missing), to keep in the store."""
    return PREFIX + Fernet(_key(con, create=True)).encrypt(text.encode("utf-8")).decode("ascii")


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def unseal(con, value: str) -> str:
    """The secret a sealed value holds; raises Unreadable (Vietnamese) when this store's key
    file is missing or does not open it."""
    key = _key(con, create=False)
    if key is None:
        raise Unreadable("Không có tệp khóa bên cạnh kho dữ liệu (kho được khôi phục hoặc chép sang máy khác)")
    try:
        return Fernet(key).decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise Unreadable("Tệp khóa bên cạnh kho dữ liệu không mở được giá trị đã lưu (khóa của kho khác)") from None
