"""The running server of a store, for the command-line tools.

DuckDB lets one process write a file, so while the dashboard serves a store the CLIs
(`python -m kpi`, `python -m loaders`, `python -m loaders.sql_source pull`,
`python -m store.backup create`) cannot open it. The server writes `<store>.server.json`
next to the store (mode 0600: URL, process id, a random operator secret) when it starts and
removes it when it stops; a CLI that finds it, with that process alive and answering, sends
its request to the server's HTTP API with the secret, and prints what the server answers.
With no server the CLI opens the file as before. The operator secret acts as the OS account
(a system job, like the CLI itself), so only a local user who may read the store's folder
can use it.

Only the standard library here: a CLI that talks to the server imports neither polars nor
DuckDB.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

SUFFIX = ".server.json"


@dataclass(frozen=True)
class Server:
    url: str
    secret: str


class RemoteError(Exception):
    """The server could not be reached or refused: Vietnamese message, exit code."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


def link_file(db: str | os.PathLike) -> Path:
    db = Path(db)
    return db.with_name(db.name + SUFFIX)


def announce(db: str | os.PathLike, url: str) -> Server:
    """Written by the server when it starts serving `db`: returns the operator credential."""
    server = Server(url.rstrip("/"), secrets.token_urlsafe(32))
    target = link_file(db)
    partial = target.with_name(target.name + f".{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"url": server.url, "pid": os.getpid(), "secret": server.secret}, out)
    os.replace(partial, target)
    return server


def withdraw(db: str | os.PathLike, server: Server) -> None:
    """Removed by the server when it stops (only its own file, never a successor's)."""
    target = link_file(db)
    try:
        if json.loads(target.read_text(encoding="utf-8")).get("secret") == server.secret:
            target.unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find(db: str | os.PathLike) -> Server | None:
    """The live server of `db`, or None (no file, a dead process's file, or no answer)."""
    try:
        info = json.loads(link_file(db).read_text(encoding="utf-8"))
        url, pid, secret = str(info["url"]), int(info["pid"]), str(info["secret"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None
    server = Server(url, secret)
    try:
        status, _, _ = request(server, "GET", "/api/v1/health", timeout=5)
    except RemoteError:
        return None
    return server if status == 200 else None


def request(server: Server, method: str, path: str, *, params: dict | None = None,
            fields: dict | None = None, files: list[Path] | None = None,
            timeout: float | None = None) -> tuple[int, str, bytes]:
    """(status, content type, body) of one API call as the operator. Files are streamed as
    multipart/form-data (a 1 GB export is never held in memory)."""
    parts = urlsplit(server.url)
    query = {k: v for k, v in (params or {}).items() if v is not None}
    target = path + (f"?{urlencode(query, doseq=True)}" if query else "")
    headers = {"Authorization": f"Bearer {server.secret}", "Accept": "application/json"}
    body = None
    if fields is not None or files:
        body, length, content_type = _multipart(fields or {}, files or [])
        headers |= {"Content-Type": content_type, "Content-Length": str(length)}
    import http.client  # here, not at the top: a CLI with no server to call skips its ~20 ms

    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise RemoteError(f"Không kết nối được máy chủ bảng điều khiển tại {server.url}: {exc}") from None
    finally:
        conn.close()


def _multipart(fields: dict, files: list[Path]):
    boundary = uuid.uuid4().hex
    chunks: list[bytes | Path] = []
    for name, value in fields.items():
        if value is None:
            continue
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                      .encode())
    for path in files:
        safe = path.name.replace('"', "%22").replace("\r", " ").replace("\n", " ")
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{safe}"\r\n'
                      "Content-Type: application/octet-stream\r\n\r\n".encode())
        chunks.append(path)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    length = sum(c.stat().st_size if isinstance(c, Path) else len(c) for c in chunks)

    def stream():
        for chunk in chunks:
            if isinstance(chunk, Path):
                with chunk.open("rb") as source:
                    while block := source.read(1 << 20):
                        yield block
            else:
                yield chunk

    return stream(), length, f"multipart/form-data; boundary={boundary}"


def call(server: Server, method: str, path: str, *, failure: int = 2, prefix: str = "", **kwargs) -> bytes | int:
    """One API call made for a CLI: the answer's body, or, when the server cannot be reached or
    refuses, the Vietnamese reason printed on standard error and the CLI's exit code `failure`."""
    import sys

    try:
        status, _, body = request(server, method, path, **kwargs)
    except RemoteError as exc:
        print(f"{prefix}{exc}", file=sys.stderr)
        return failure
    if status >= 400:
        print(f"{prefix}{answer(status, body)}", file=sys.stderr)
        return failure
    return body


def answer(status: int, body: bytes) -> str:
    """The text of an answer; a refusal's Vietnamese message (FastAPI's `detail`)."""
    text = body.decode("utf-8", errors="replace")
    if status >= 400:
        try:
            detail = json.loads(text).get("detail")
        except (ValueError, AttributeError):
            detail = None
        return detail if isinstance(detail, str) else f"Máy chủ từ chối yêu cầu (mã {status})."
    return text
