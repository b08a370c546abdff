"""``make bench`` / ``python -m benchmarks [name ...]``: run every ``bench_*.py``, print a table, write JSON.

A benchmark module exposes ``run() -> list[dict]``; each dict is one result row with at least
``name`` (file name of its JSON), ``metric``, ``value``, ``baseline`` (what it is compared with),
``ratio`` and ``goal`` (text such as ">= 0.6"); anything else is kept in the JSON as detail.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def _meets(ratio, goal: str) -> str:
    if ratio is None or not goal:
        return "-"
    op, _, num = goal.partition(" ")
    target = float(num)
    ok = {">=": ratio >= target, "<=": ratio <= target, ">": ratio > target, "<": ratio < target}.get(op)
    return "yes" if ok else ("NO" if ok is not None else "-")


def _run_isolated(name: str) -> list[dict] | None:
    """Each benchmark in a process of its own: its Redis database, environment and Celery app stay its own."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    code = (f"import json, benchmarks.{name} as m; rows = m.run(); "
            f"open({path!r}, 'w').write(json.dumps(rows, default=str))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1])
    try:
        return json.loads(Path(path).read_text()) if proc.returncode == 0 else None
    finally:
        Path(path).unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    RESULTS.mkdir(exist_ok=True)
    names = [m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_")]
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    rows, failed = [], 0
    for name in sorted(names):
        started = time.time()
        results = _run_isolated(name)
        if results is None:
            failed += 1
            continue
        for res in results:
            res.setdefault("seconds", round(time.time() - started, 1))
            (RESULTS / f"{res['name']}.json").write_text(json.dumps(res, indent=2, default=str))
            rows.append(res)
    header = f"{'benchmark':38} {'metric':34} {'value':>12} {'baseline':>12} {'ratio':>8} {'goal':>8} {'met':>4}"
    print("\n" + header + "\n" + "-" * len(header))
    for res in rows:
        fmt = lambda v: "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))  # noqa: E731
        print(f"{res['name']:38} {res['metric'][:34]:34} {fmt(res.get('value')):>12} {fmt(res.get('baseline')):>12} "
              f"{fmt(res.get('ratio')):>8} {res.get('goal', ''):>8} {_meets(res.get('ratio'), res.get('goal', '')):>4}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
