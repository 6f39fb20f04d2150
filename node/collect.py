"""One run of a collector: take the stable files of a drop folder into the store, then move them aside.

The rules that make a drop folder safe to feed from outside:

- a file is taken only when it is *stable*: not named ``*.part``, ``*.tmp``,
  ``*.crdownload``, hidden or an Excel lock file (``~$...``), last modified at
  least ``settle_s`` ago, and the same size and modification time when it is
  read as when it was found; a file that changes while it is read stays where
  it is and is read again next run;
- a file is moved to ``done`` only after its rows are committed (stored,
  counted as duplicates or quarantined); a crash before the move means the file
  is read again, and the store counts its rows as duplicates instead of storing
  them twice;
- a file that cannot be read at all goes to ``failed`` with ``<name>.error.txt``
  beside it; bad *rows* of a readable file go to quarantine, not the file;
- a full outbox or an unavailable database stops the run and leaves the file in
  place for the next run; so does any unexpected error (logged with its traceback);
- one run at a time per drop folder (a lock file), whether started by the
  scheduler or by ``jgnode collect run``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from adapters.files import FileReader
from node.collect_db import run_db_collector
from node.collect_report import CollectReport
from node.collect_settings import CollectorSettings, DbCollector, ExportSink, FilesCollector
from node.errors import BackpressureError, IngestError, StoreError
from node.export_sink import run_export
from node.ingest import IngestReport, ingest_rows
from node.store import BacklogGuard, Store

__all__ = ["LOCK_FILE", "CollectReport", "run_collector"]

log = logging.getLogger("jgnode.collect")
LOCK_FILE: Final = ".jgnode-collect.lock"
_UNFINISHED: Final = (".part", ".tmp", ".crdownload", ".partial", ".error.txt")


def run_collector(
    store: Store,
    collector: CollectorSettings,
    *,
    guard: BacklogGuard | None = None,
    progress: Callable[[int], object] | None = None,
    stop: threading.Event | None = None,
    on_stored: Callable[[], object] | None = None,
) -> CollectReport:
    """Run ``collector`` once, now, in this thread (an export writes records out instead: ``node.export_sink``)."""
    if isinstance(collector, ExportSink):
        return run_export(store, collector, stop=stop, progress=progress)
    if isinstance(collector, DbCollector):
        return run_db_collector(store, collector, guard=guard, progress=progress, stop=stop, on_stored=on_stored)
    report = CollectReport(collector.name)
    folder = collector.folder
    if not folder.is_dir():
        report.stopped = f"drop folder {folder} does not exist"
        return report
    with _folder_lock(folder) as locked:
        if not locked:
            report.stopped = f"another run is working on {folder}"
            return report
        reader = FileReader(
            collector.dataset, collector.mapping, collector.clean, format=collector.format, sheet=collector.sheet
        )
        for path in _candidates(collector):
            if stop is not None and stop.is_set():
                report.stopped = "node stopping"
                break
            if not _take_file(store, collector, reader, path, report, guard=guard, progress=progress):
                break
            if on_stored is not None and report.stored:
                on_stored()
    return report


def _take_file(
    store: Store,
    collector: FilesCollector,
    reader: FileReader,
    path: Path,
    report: CollectReport,
    *,
    guard: BacklogGuard | None,
    progress: Callable[[int], object] | None,
) -> bool:
    """Ingest one file and move it aside; False when the run must stop here."""
    seen = _look(path)
    if seen is None:
        return True
    if time.time() - seen[1] < collector.settle_s:
        report.waiting += 1
        return True
    ingested = _ingest(store, collector, reader, path, report, guard=guard, progress=progress)
    if ingested is None:
        return not report.stopped
    if _look(path) != seen:  # written to while it was read: its rows are held, read it whole again next run
        report.waiting += 1
        return True
    report.add(ingested)
    try:
        _move_aside(path, collector.done_path)
    except OSError as exc:  # its rows are held: next run counts them as duplicates and tries the move again
        report.stopped = f"cannot move {path.name} to {collector.done_path}: {exc.strerror or exc}"
        return False
    return True


def _ingest(
    store: Store,
    collector: FilesCollector,
    reader: FileReader,
    path: Path,
    report: CollectReport,
    *,
    guard: BacklogGuard | None,
    progress: Callable[[int], object] | None,
) -> IngestReport | None:
    """The file's rows committed, or None: the file failed (moved aside) or the run must stop (``stopped``)."""
    records = reader.records(path)
    try:
        ingested = ingest_rows(
            store, records, dataset=collector.dataset, source=str(path), progress=progress, guard=guard
        )
    except IngestError as exc:
        try:
            _fail_file(collector, path, str(exc), report)
        except OSError as move_error:
            report.stopped = f"cannot move {path.name} to {collector.failed_path}: {move_error.strerror or move_error}"
    except (BackpressureError, StoreError) as exc:
        report.stopped = str(exc)
    except FileNotFoundError:
        pass  # taken away meanwhile (by hand); nothing was read
    except Exception:
        log.exception("collector %s: %s left in place after an unexpected error", collector.name, path.name)
        report.stopped = f"unexpected error on {path.name}"
    else:
        return ingested
    finally:
        records.close()
    return None


def _candidates(collector: FilesCollector) -> list[Path]:
    """Files of the drop folder that match, oldest first."""
    found = []
    for path in collector.folder.glob(collector.pattern):
        name = path.name
        if name.startswith((".", "~$")) or name.lower().endswith(_UNFINISHED) or not path.is_file():
            continue
        if path.is_relative_to(collector.done_path) or path.is_relative_to(collector.failed_path):
            continue  # a recursive pattern (**/*.csv) must not take files back from where they were put
        found.append(path)
    return sorted(found, key=lambda p: ((_look(p) or (0, 0.0))[1], p.name))


def _look(path: Path) -> tuple[int, float] | None:
    """(size, modification time) of a file; None when it is gone."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_size, info.st_mtime


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[bool]:
    """Whether this process holds the drop folder's lock (released on exit)."""
    with (folder / LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fail_file(collector: FilesCollector, path: Path, reason: str, report: CollectReport) -> None:
    target = _move_aside(path, collector.failed_path)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
    text = f"{stamp} collector {collector.name} could not read {path.name}:\n{reason}\n"
    target.with_name(target.name + ".error.txt").write_text(text, encoding="utf-8")
    report.failed += 1
    report.failures.append(f"{path.name}: {reason}")
    log.warning("collector %s: %s moved to %s: %s", collector.name, path.name, target.parent, reason)


def _move_aside(path: Path, folder: Path) -> Path:
    """Move ``path`` into ``folder``; a name already there gets a timestamp (and a counter) added."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    stamp = time.strftime("%Y%m%dT%H%M%S")
    counter = 1
    while target.exists() or target.with_name(target.name + ".error.txt").exists():
        suffix = f".{stamp}" if counter == 1 else f".{stamp}-{counter}"
        target = folder / f"{path.stem}{suffix}{path.suffix}"
        counter += 1
    shutil.move(path, target)
    return target
