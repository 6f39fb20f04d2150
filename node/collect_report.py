"""What one run of a collector did (every kind of collector reports the same way)."""

from __future__ import annotations

from dataclasses import dataclass, field

from node.ingest import IngestReport

__all__ = ["CollectReport", "one_line"]


def one_line(exc: BaseException) -> str:
    """An error as one line (database drivers write several), for a run's ``stopped`` reason."""
    return " ".join(str(exc).split())


@dataclass
class CollectReport:
    """What one run did: files done, failed and left waiting; rows = stored + duplicates + quarantined."""

    name: str
    done: int = 0
    failed: int = 0
    waiting: int = 0
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    stopped: str = ""  # why the run ended before looking at every file (or every changed row)
    failures: list[str] = field(default_factory=list)
    batches: bool = False  # a database collector's run: ``done`` counts committed batches, not files
    mark: str = ""  # a database collector's position after the run

    def add(self, report: IngestReport) -> None:
        """Count one ingested file."""
        self.done += 1
        self.rows += report.rows
        self.stored += report.stored
        self.duplicates += report.duplicates
        self.quarantined += report.quarantined

    def summary(self) -> str:
        """The run as one line."""
        counts = f"{self.rows} rows: {self.stored} stored, {self.duplicates} duplicates, {self.quarantined} quarantined"
        if self.batches:
            text = f"{self.done} batches committed; {counts}; watermark {self.mark or 'none yet'}"
        else:
            text = f"{self.done} files done, {self.failed} failed, {self.waiting} waiting; {counts}"
        return f"{text}; stopped: {self.stopped}" if self.stopped else text
