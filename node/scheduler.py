"""The collectors' schedule: an APScheduler whose job state lives in ``<data_dir>/jobs.db``.

Each configured collector is one job, ``collect:<name>``, with an interval or
cron trigger (China Standard Time); a front-table export (``kind = "export"``)
is a job like any other, its position kept in its target database. The job
store keeps every job's next run time across restarts: a node that starts
again keeps the schedule it had, a run missed while it was down happens once
at start (``coalesce``) if it is no older than the collector's
``misfire_grace_s``, and a collector never runs twice at once
(``max_instances=1``). A job whose schedule changed in ``node.toml`` is
replaced; a job whose collector was removed is deleted.

Jobs are stored as references to the module-level :func:`run_scheduled` with
(data folder, collector name) as arguments, never as closures; the function
finds the running node's store through a registry of the schedulers started in
this process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from adapters.csv_records import CHINA_TZ
from node.collect import run_collector
from node.collect_settings import CollectorSettings, Schedule
from node.settings import NodeSettings
from node.store import Store

__all__ = ["JOBS_FILE", "CollectScheduler", "job_id", "next_run_times", "run_scheduled"]

log = logging.getLogger("jgnode.collect")
JOBS_FILE: Final = "jobs.db"
_PREFIX: Final = "collect:"


@dataclass
class _Running:
    """What a job needs from the node it runs in."""

    settings: NodeSettings
    store: Store
    on_stored: Callable[[], object]
    stop: threading.Event = field(default_factory=threading.Event)


_RUNNING: dict[str, _Running] = {}  # data folder -> the node running there in this process
_RUNNING_LOCK = threading.Lock()


def job_id(name: str) -> str:
    """The job id of collector ``name``."""
    return _PREFIX + name


def _jobs_url(settings: NodeSettings) -> str:
    return f"sqlite:///{settings.data_dir / JOBS_FILE}"


def _trigger(schedule: Schedule) -> IntervalTrigger | CronTrigger:
    if schedule.cron is not None:
        return CronTrigger.from_crontab(schedule.cron, timezone=CHINA_TZ)
    return IntervalTrigger(seconds=schedule.interval_s, timezone=CHINA_TZ)


def run_scheduled(data_dir: str, name: str) -> None:
    """The job function: run collector ``name`` of the node whose data folder is ``data_dir``."""
    with _RUNNING_LOCK:
        running = _RUNNING.get(data_dir)
    collector = next((c for c in running.settings.collect if c.name == name), None) if running else None
    if running is None or collector is None:
        log.warning("collector %s of %s is not running in this process; skipped", name, data_dir)
        return
    guard = running.store.backlog_guard(running.settings.limits)
    report = run_collector(running.store, collector, guard=guard, stop=running.stop, on_stored=running.on_stored)
    level = logging.WARNING if report.stopped or report.failed else logging.INFO
    log.log(level, "collect %s: %s", name, report.summary())


class CollectScheduler:
    """Runs a node's collectors on their schedules while the node runs."""

    def __init__(self, settings: NodeSettings, store: Store, *, on_stored: Callable[[], object]) -> None:
        """Prepare; nothing runs (and no job store is opened) until :meth:`start`."""
        self._running = _Running(settings, store, on_stored)
        self._key = str(settings.data_dir)
        self._scheduler: Any = None

    def start(self) -> None:
        """Open the job store, bring the jobs in line with the settings and start running them."""
        settings = self._running.settings
        if not settings.collect and not (settings.data_dir / JOBS_FILE).exists():
            return
        with _RUNNING_LOCK:
            _RUNNING[self._key] = self._running
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=_jobs_url(settings))},
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=CHINA_TZ,
        )
        scheduler.start(paused=True)
        self._scheduler = scheduler
        _sync_jobs(scheduler, settings.collect, self._key)
        scheduler.resume()
        for name, when in self.next_runs().items():
            log.info("collector %s: next run %s", name, when.isoformat() if when else "none")

    def stop(self) -> None:
        """Let a running collection finish its current file, then stop the scheduler."""
        if self._scheduler is None:
            return
        self._running.stop.set()
        self._scheduler.shutdown(wait=True)
        self._scheduler = None
        with _RUNNING_LOCK:
            _RUNNING.pop(self._key, None)

    def next_runs(self) -> dict[str, datetime | None]:
        """Next run time of each scheduled collector."""
        if self._scheduler is None:
            return {}
        return {job.id.removeprefix(_PREFIX): job.next_run_time for job in self._scheduler.get_jobs()}


def _sync_jobs(scheduler: Any, collectors: tuple[CollectorSettings, ...], key: str) -> None:
    """Add, replace and remove jobs so that they match ``collectors``; unchanged jobs keep their next run."""
    wanted = set()
    for collector in collectors:
        ident = job_id(collector.name)
        wanted.add(ident)
        label = f"{collector.name}: {collector.schedule.describe()}"
        grace = max(1, int(collector.misfire_grace_s))
        job = scheduler.get_job(ident)
        if job is not None and job.name == label and tuple(job.args) == (key, collector.name):
            if job.misfire_grace_time != grace:
                job.modify(misfire_grace_time=grace)
            continue
        scheduler.add_job(
            run_scheduled,
            trigger=_trigger(collector.schedule),
            args=(key, collector.name),
            id=ident,
            name=label,
            replace_existing=True,
            misfire_grace_time=grace,
        )
    for job in scheduler.get_jobs():
        if job.id.startswith(_PREFIX) and job.id not in wanted:
            log.info("collector %s is no longer configured: its job is removed", job.id.removeprefix(_PREFIX))
            job.remove()


def next_run_times(settings: NodeSettings) -> dict[str, datetime | None]:
    """Next run time of each collector as the job store holds it (read without running anything)."""
    if not (settings.data_dir / JOBS_FILE).exists():
        return {}
    jobs = SQLAlchemyJobStore(url=_jobs_url(settings))
    try:
        found = {c.name: jobs.lookup_job(job_id(c.name)) for c in settings.collect}
    finally:
        jobs.shutdown()
    return {name: job.next_run_time if job else None for name, job in found.items()}
