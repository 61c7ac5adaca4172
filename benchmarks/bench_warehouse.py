"""Benchmark the warehouse at scale: bulk load and cohort comparison of synthetic answers.

2,000 workshops x 40 participants x 3 waves x 60 Likert items (14.4 million answers) are
generated directly as Arrow arrays (no demo generator, no ingest), bulk-inserted into a
temporary warehouse in one transaction, and compared by phase (queries + meta-analysis, no
rendering). The pre/post pairing and the per workshop x scale mean and sd of the differences
(the inputs of d_z) run inside DuckDB; only 2,000 x 10 summary rows reach pandas. Bars:
load < 60 s, comparison < 5 s, peak memory < 2 GB (``ru_maxrss``). The comparison is also
printed as a ratio to a plain DuckDB aggregate scan of the same answers
(``SELECT workshop_id, item_id, avg(score) ... GROUP BY``) measured in the same run.

Run: ``python benchmarks/bench_warehouse.py [--workshops N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.cohorts import CohortComparison
from evaluation.warehouse import connect, insert_frame

PARTICIPANTS, ITEMS, SCALES = 40, 60, 10
WAVES = ("pre", "post", "followup")
LOAD_BAR, COMPARE_BAR, MEMORY_BAR_MB = 60.0, 5.0, 2048.0


def _dict(indices: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(values))


def synthetic_answers(n_workshops: int, seed: int = 1) -> pa.Table:
    """Long-format answers as an Arrow table, built with vectorised NumPy only."""
    rng = np.random.default_rng(seed)
    per_ws = PARTICIPANTS * len(WAVES) * ITEMS
    n = n_workshops * per_ws
    ws = np.repeat(np.arange(n_workshops, dtype=np.int32), per_ws)
    rest = np.tile(np.arange(per_ws, dtype=np.int32), n_workshops)
    wave = rest // (PARTICIPANTS * ITEMS)
    person = (rest // ITEMS) % PARTICIPANTS
    item = rest % ITEMS
    latent = rng.normal(0, 1, n_workshops * PARTICIPANTS)[ws * PARTICIPANTS + person]
    gain = rng.uniform(0.2, 0.8, n_workshops)[ws]
    raw = 3 + latent + gain * (wave > 0) + rng.normal(0, 0.8, n)
    score = np.clip(np.rint(raw), 1, 5).astype(np.int8)
    keep = rng.random(n) > 0.03  # some skipped answers
    codes = ["1", "2", "3", "4", "5"]
    records = [f"{w}-{p + 2}" for w in WAVES for p in range(PARTICIPANTS)]
    return pa.table({
        "workshop_id": _dict(ws[keep], [f"ws-{i:05d}" for i in range(n_workshops)]),
        "record_id": _dict((wave * PARTICIPANTS + person)[keep], records),
        "participant_key": _dict(person[keep], [f"P{i + 1:03d}" for i in range(PARTICIPANTS)]),
        "wave": _dict(wave[keep], list(WAVES)),
        "item_id": _dict(item[keep], [f"it_{i:02d}" for i in range(ITEMS)]),
        "code": _dict(score[keep].astype(np.int32) - 1, codes),
        "score": pa.array(score[keep].astype(np.float64)),
    })


def workshop_rows(n_workshops: int) -> pd.DataFrame:
    start = dt.date(2010, 1, 1)
    return pd.DataFrame({
        "workshop_id": [f"ws-{i:05d}" for i in range(n_workshops)],
        "start_date": [start + dt.timedelta(days=int(i)) for i in range(n_workshops)],
        "phase": [("I", "II", "III")[i * 3 // n_workshops] for i in range(n_workshops)],
        "host_country": "Kazakhstan", "project": "bench", "instrument_id": "bench",
        "instrument_version": "1.0", "synthetic": True, "k_min": 5,
        "expected_participants": PARTICIPANTS, "n_pre": PARTICIPANTS, "n_post": PARTICIPANTS,
        "n_followup": PARTICIPANTS, "matched_pre_post": PARTICIPANTS,
        "responses_included": True,
    })


def instrument_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    per = ITEMS // SCALES
    scales = pd.DataFrame({
        "instrument_id": "bench", "instrument_version": "1.0",
        "scale_id": [f"scale_{s}" for s in range(SCALES)], "domain": "readiness",
        "items": [",".join(f"it_{s * per + j:02d}" for j in range(per)) for s in range(SCALES)],
        "n_items": per, "pre_post": True})
    items = pd.DataFrame({
        "instrument_id": "bench", "instrument_version": "1.0",
        "item_id": [f"it_{i:02d}" for i in range(ITEMS)], "type": "likert",
        "choices": "agree5", "scale_id": [f"scale_{i // per}" for i in range(ITEMS)],
        "reverse": False, "waves": "pre,post"})
    return scales, items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workshops", type=int, default=2000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    answers = synthetic_answers(args.workshops)
    t_gen = time.perf_counter() - t0
    scales, items = instrument_rows()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        con = connect(path)
        t0 = time.perf_counter()
        con.execute("BEGIN TRANSACTION")
        insert_frame(con, "workshops", workshop_rows(args.workshops))
        insert_frame(con, "instrument_scales", scales)
        insert_frame(con, "instrument_items", items)
        insert_frame(con, "responses", answers)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        t_load = time.perf_counter() - t0
        n_rows = con.execute("SELECT count(*) FROM responses").fetchone()[0]

        t0 = time.perf_counter()
        con.execute("SELECT workshop_id, item_id, avg(score) FROM responses "
                    "GROUP BY workshop_id, item_id").fetchall()
        t_scan = time.perf_counter() - t0

        t0 = time.perf_counter()
        comp = CohortComparison.prepare(path, write=False, by="phase", con=con)
        t_compare = time.perf_counter() - t0
        con.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    overall = comp.meta[comp.meta["group"] == "overall"]
    print(f"answers: {n_rows:,} ({args.workshops} workshops x {PARTICIPANTS} x {len(WAVES)} "
          f"waves x {ITEMS} items, 3% skipped); generated in {t_gen:.1f} s")
    print(f"load (bulk insert, one transaction + checkpoint): {t_load:.1f} s "
          f"(bar {LOAD_BAR:.0f} s) {'OK' if t_load < LOAD_BAR else 'OVER'}")
    print(f"aggregate scan baseline (workshop x item avg): {t_scan:.2f} s")
    print(f"comparison by phase (queries + meta-analysis): {t_compare:.2f} s "
          f"(bar {COMPARE_BAR:.0f} s) {'OK' if t_compare < COMPARE_BAR else 'OVER'}; "
          f"ratio to the scan {t_compare / t_scan:.1f}x")
    print(f"peak memory (ru_maxrss): {peak_mb:.0f} MB (bar {MEMORY_BAR_MB:.0f} MB) "
          f"{'OK' if peak_mb < MEMORY_BAR_MB else 'OVER'}")
    print(f"pooled scales: {len(overall)}, k per scale {int(overall['k'].max())}")
    ok = t_load < LOAD_BAR and t_compare < COMPARE_BAR and peak_mb < MEMORY_BAR_MB
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
