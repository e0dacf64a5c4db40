"""The inbox folder: files a one-door system's export job drops into `<inbox>/<unit code>/`
are loaded as that unit's uploads while the dashboard serves.

The root is $KPI_INBOX (default `<store folder>/inbox`). Each file is loaded by a system
account scoped to the folder's unit (an officer of a commune, a province admin for a
province code), so it can write nothing else; then it moves to
`<inbox>/processed/<code>/` or `<inbox>/rejected/<code>/` (prefixed with the time) with a
Vietnamese result file `<name>.ket-qua.txt` beside it. A file still being written is
left alone until its size and time have stayed the same for two scans and SETTLE_SECONDS;
hidden and `.part`/`.tmp` files are ignored. The same content dropped again (by BLAKE3
digest) is recognised: not loaded twice, and its result file says which upload it was.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from kpi import format as fmt
from loaders import sources
from loaders.files import LoadError, file_hash
from store import accounts, jobs
from store import db as store

log = logging.getLogger(__name__)
SUFFIXES = (".csv", ".xlsx", ".txt")
SETTLE_SECONDS = 2.0
DONE_FOLDERS = ("processed", "rejected")
INBOX_ACCOUNT = "hop-thu"


class Inbox:
    def __init__(self, db: Path, root: Path, today: Callable[[], date] = date.today):
        self.db, self.root, self.today = db, root, today
        self._seen: dict[Path, tuple[int, int, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the watcher thread
    def start(self, every: float = 5.0) -> Inbox:
        self.root.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, args=(every,), name="kpi-inbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.scan()
            except Exception:  # noqa: BLE001 - the watcher keeps running; the log has the details
                log.exception("inbox scan failed")

    # ---- one scan
    def ready(self) -> list[tuple[str, Path]]:
        """(unit code, file) of the files that have stopped growing."""
        found = []
        now = time.time()
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and p.name not in DONE_FOLDERS):
            for path in sorted(folder.iterdir()):
                if (not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in SUFFIXES):
                    continue
                stat = path.stat()
                shape = (stat.st_size, stat.st_mtime_ns)
                before = self._seen.get(path)
                self._seen[path] = (*shape, now)
                if before and before[:2] == shape and now - stat.st_mtime >= SETTLE_SECONDS:
                    found.append((folder.name, path))
        self._seen = {p: v for p, v in self._seen.items() if p.exists()}
        return found

    def scan(self) -> list[dict]:
        return [self.take(code, path) for code, path in self.ready()]

    def take(self, code: str, path: Path) -> dict:
        con = store.shared(self.db).cursor()
        run_id = jobs.start_run(con, "inbox", f"{code}/{path.name}")
        digest = file_hash(path)
        earlier = jobs.inbox_seen(con, digest)
        account = accounts.unit_account(con, INBOX_ACCOUNT, "Hộp thư tự động", code)
        summary: dict = {"file": path.name, "unit": code}
        if earlier and earlier["status"] == "ok":
            outcome, text = "processed", (
                f"Tệp này trùng nội dung với tệp «{earlier['file_name']}» đã nạp lúc "
                f"{fmt.day_time(earlier['seen_at'])} (lần tải #{earlier['batch_id']}): không nạp lại.")
            summary["duplicate_of"] = earlier["batch_id"]
        elif account is None:
            outcome, text = "rejected", f"Thư mục «{code}» không phải mã của một tỉnh hoặc xã/phường: tệp không được nạp."
        else:
            try:
                with accounts.acting_as(account):
                    result = sources.load_file(con, path, unit=code, province=None, user=None)
                summary |= result.summary()
                outcome, text = "processed", _describe(result.summary())
                jobs.record_inbox(con, digest, path.name, code, result.batch_id, "ok", text)
            except (LoadError, accounts.AccessDenied) as exc:
                outcome, text = "rejected", f"Tệp «{path.name}» không được nạp: {exc}"
        if outcome == "rejected":
            summary["error"] = text
            jobs.record_inbox(con, digest, path.name, code, None, "rejected", text)
        self._move(code, path, outcome, text)
        jobs.finish_run(con, run_id, "ok" if outcome == "processed" else "failed",
                        rows_read=summary.get("rows_read"), loaded=summary.get("loaded"),
                        rejected=len(summary.get("rejected", [])) if "rows_read" in summary else None,
                        batch_id=summary.get("batch_id"), error=summary.get("error"))
        return summary

    def _move(self, code: str, path: Path, outcome: str, text: str) -> None:
        target = self.root / outcome / code
        target.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        moved = target / f"{stamp}_{path.name}"
        shutil.move(path, moved)
        moved.with_name(moved.name + ".ket-qua.txt").write_text(text + "\n", encoding="utf-8")
        self._seen.pop(path, None)


def _describe(s: dict) -> str:
    lines = [f"Đã nạp tệp «{s['file']}» lúc {fmt.day_time(datetime.now())} (lần tải #{s['batch_id']}): "
             f"đọc {fmt.number(s['rows_read'])} dòng, nạp {fmt.number(s['loaded'])}, thay thế {fmt.number(s['replaced'])}, "
             f"trùng {fmt.number(s['duplicates'])}, từ chối {fmt.number(len(s['rejected']))}."]
    lines += [f"  - dòng {r['row']}: {r['reason']}" for r in s["rejected"][:200]]
    if len(s["rejected"]) > 200:
        lines.append(f"  ... và {fmt.number(len(s['rejected']) - 200)} dòng khác")
    lines += [f"  ! {w}" for w in s.get("warnings", [])]
    return "\n".join(lines)
