"""The extended suite's shared pieces (`cargo xtask test --extended`): the measurements each
test records (steps, seconds, returns), written at the end of the session to
``$POLYSKILL_EXTENDED_OUT`` (default ``docs/benchmarks/extended.json``) with the machine they
were measured on."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS: dict[str, dict] = {}


@pytest.fixture
def record(request):
    """``record(**figures)`` files figures under the running test's name."""

    def put(**figures):
        RESULTS.setdefault(request.node.name, {}).update(figures)

    return put


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def pytest_sessionfinish(session, exitstatus):
    if not RESULTS:
        return
    import gymnasium

    out = Path(os.environ.get("POLYSKILL_EXTENDED_OUT", ROOT / "docs/benchmarks/extended.json"))
    previous = json.loads(out.read_text()) if out.exists() else {}
    results = {**previous.get("results", {}), **RESULTS}
    report = {
        "what": "cargo xtask test --extended: external trainers on Polyskill, side by side",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
        "versions": {"python": platform.python_version(), "gymnasium": gymnasium.__version__},
        "results": results,
    }
    from importlib import metadata

    for name in ("torch", "stable_baselines3", "ray", "metaworld"):
        try:
            report["versions"][name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
