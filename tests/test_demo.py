"""`jgnode demo` end to end, small: seven processes, every check it makes must pass."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_runs_seven_nodes_and_verifies(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "node.cli", "demo", "--dir", str(tmp_path / "demo"), "--records", "4000"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = re.search(r"OK: the province holds exactly the ([\d,]+) county records", done.stdout)
    assert found is not None, done.stdout[-2000:]
    total = int(found.group(1).replace(",", ""))
    assert total >= 4000
    assert done.stdout.count(") verified against certificates\n") == 20  # 5 sampled records for each of 4 counties
    assert "mutual TLS" in done.stdout
    table = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line.startswith("330")}
    assert int(table["330000"][2].replace(",", "")) == total  # province: held
    counties = ["330106", "330108", "330203", "330206"]
    assert sum(int(table[c][3].replace(",", "")) for c in counties) == total  # own records of the counties
    # every process stopped: nothing still holds the address files
    assert not list((tmp_path / "demo").glob("*/node.addr"))
