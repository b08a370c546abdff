"""Settlement parser: rows/s and peak memory on V2 flat files of 100k and 1,000,000 rows.

1. Rows per second of ``open_settlement(path).totals()`` (sha256 and charset pass, header and summary, one
   streaming pass summing per transaction type / amount type / description) versus ``csv.reader`` splitting the
   same file, same run (goal: ratio >= 0.5). Each is timed ROUNDS times alternately and the best round counts.
2. Peak RSS of a child process that opens the file and streams ``totals()`` (goal: flat, < 100 MB at both sizes).
   ``rows()`` (full ``SettlementRow`` objects with dates) is reported too, as detail.

The files are written to a temporary folder in the simulator's V2 format (24 tab-separated columns, a summary row).
"""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

SIZES = (100_000, 1_000_000)
ROUNDS = 3
GOAL_RSS_MB = 100
KINDS = (("Order", "ItemPrice", "Principal", "129.99"), ("Order", "ItemPrice", "Tax", "10.40"),
         ("Order", "ItemFees", "Commission", "-19.50"), ("Order", "ItemFees", "FBAPerUnitFulfillmentFee", "-4.75"),
         ("Refund", "ItemPrice", "Principal", "-45.50"), ("Refund", "ItemFees", "Commission", "6.83"),
         ("other-transaction", "other-transaction", "StorageRenewalBilling", "-12.40"),
         ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount", "-57.30"))


def write_file(path: Path, rows: int) -> Decimal:
    """A V2 settlement of ``rows`` transaction rows; returns its total."""
    from integration.sandbox.amazon.settlement import COLUMNS

    total = sum(Decimal(KINDS[i % len(KINDS)][3]) for i in range(len(KINDS))) * (rows // len(KINDS))
    total += sum((Decimal(KINDS[i][3]) for i in range(rows % len(KINDS))), Decimal(0))
    with open(path, "w", newline="") as out:
        out.write("\t".join(COLUMNS) + "\n")
        out.write("\t".join(["28471003921", "2026-06-16 00:00:00 UTC", "2026-06-30 23:59:59 UTC",
                             "2026-07-02 00:00:00 UTC", str(total), "USD"] + [""] * 18) + "\n")
        lines = []
        for i in range(rows):
            kind, atype, desc, amount = KINDS[i % len(KINDS)]
            order = f"114-{i:07d}-{i * 7 % 9999999:07d}"
            day = 16 + i % 14
            lines.append(f"28471003921\t\t\t\t\tUSD\t{kind}\t{order}\t\t\tDS{i:07d}\tamazon.com\t{atype}\t{desc}\t"
                         f"{amount}\tAFN\t06/{day}/26\t2026-06-{day} {i % 24:02d}:14:22 UTC\t{55182930114 + i}"
                         f"\t\t\tNX-HD-{i % 5000:04d}\t1\t\n")
            if len(lines) >= 10_000:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))
    return total


def _csv_rate(path: Path, rows: int) -> float:
    started = time.perf_counter()
    with open(path, newline="") as fh:
        n = sum(1 for _ in csv.reader(fh, delimiter="\t"))
    assert n == rows + 2
    return rows / (time.perf_counter() - started)


def _parse_rate(path: Path, rows: int, total: Decimal) -> float:
    from integration.settlements.parse import open_settlement

    started = time.perf_counter()
    totals = open_settlement(path).totals()
    elapsed = time.perf_counter() - started
    assert totals.rows == rows and totals.total == total, (totals.rows, totals.total, total)
    return rows / elapsed


def _rows_rate(path: Path, rows: int) -> float:
    from integration.settlements.parse import open_settlement

    started = time.perf_counter()
    n = sum(1 for _ in open_settlement(path).rows())
    assert n == rows
    return rows / (time.perf_counter() - started)


def _child_peak_rss_mb(path: Path, method: str) -> float:
    code = ("import resource, sys; from integration.settlements.parse import open_settlement; "
            f"f = open_settlement(sys.argv[1]); r = f.totals() if {method!r} == 'totals' else sum(1 for _ in f.rows()); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    return int(out.stdout.strip()) / 1024   # ru_maxrss is in KiB on Linux


def run() -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-settlements-") as tmp:
        for rows in SIZES:
            path = Path(tmp) / f"settlement-{rows}.tsv"
            total = write_file(path, rows)
            size_mb = round(os.path.getsize(path) / 1e6, 1)
            parse, raw = [], []
            for _ in range(ROUNDS):
                raw.append(_csv_rate(path, rows))
                parse.append(_parse_rate(path, rows, total))
            best_parse, best_raw = max(parse), max(raw)
            rows_rate = _rows_rate(path, rows)
            rss = _child_peak_rss_mb(path, "totals")
            rss_rows = _child_peak_rss_mb(path, "rows")
            label = f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}M"
            results.append({"name": f"settlements_parse_{label}", "metric": f"rows/s totals() vs csv.reader {label}",
                            "value": round(best_parse), "baseline": round(best_raw),
                            "ratio": round(best_parse / best_raw, 3), "goal": ">= 0.5", "rows": rows,
                            "file_mb": size_mb, "rows_iter_per_s": round(rows_rate),
                            "rounds_parse": [round(x) for x in parse], "rounds_csv": [round(x) for x in raw]})
            results.append({"name": f"settlements_rss_{label}", "metric": f"peak RSS MB, child parsing {label}",
                            "value": round(rss, 1), "baseline": GOAL_RSS_MB, "ratio": round(rss / GOAL_RSS_MB, 3),
                            "goal": "< 1", "rows": rows, "file_mb": size_mb, "rss_mb_rows_iter": round(rss_rows, 1),
                            "bench_process_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                                          1)})
    return results


if __name__ == "__main__":
    for row in run():
        print(row)
