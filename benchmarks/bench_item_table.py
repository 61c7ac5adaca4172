"""Benchmark: vectorised ``paired_item_table`` against a per-item pingouin loop.

Synthetic data: 60 Likert items (1-5) x 1,000 matched pairs. Times ``paired_item_table`` with
2,000 bootstrap resamples (best of 3), then a loop calling pingouin's per-item functions
(``pingouin.wilcoxon`` and ``pingouin.compute_bootci`` of the mean change, 2,000 resamples,
percentile method) on the same data, and prints both times and their ratio from this run.

The bar: ours <= 1 s and >= 10x faster than the pingouin loop. Exit code 0 when met, 1 when
not, 2 when pingouin is not installed.

Run: ``python benchmarks/bench_item_table.py``
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

# run from a checkout without installing: make the repository root importable
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.stats import paired_item_table

N_PAIRS = 1_000
N_ITEMS = 60
N_RESAMPLES = 2_000
REPEATS = 3


def make_data(seed: int = 20240601) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Matched pre/post Likert answers (1-5) with a small average improvement."""
    rng = np.random.default_rng(seed)
    pre = rng.integers(1, 6, size=(N_PAIRS, N_ITEMS))
    change = rng.choice([-1, 0, 0, 1, 1, 2], size=(N_PAIRS, N_ITEMS))
    post = np.clip(pre + change, 1, 5)
    cols = [f"item_{i:02d}" for i in range(N_ITEMS)]
    return (pd.DataFrame(post, columns=cols).astype(float),
            pd.DataFrame(pre, columns=cols).astype(float))


def best_of(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    try:
        import pingouin
    except ImportError:
        print("pingouin is not installed: install the dev extras (pip install -e '.[dev]') "
              "to run this benchmark.", file=sys.stderr)
        return 2

    post, pre = make_data()

    def ours() -> pd.DataFrame:
        return paired_item_table(post, pre, n_resamples=N_RESAMPLES, seed=0)

    def pingouin_loop() -> list:
        rows = []
        for col in post.columns:
            x, y = post[col].to_numpy(), pre[col].to_numpy()
            w = pingouin.wilcoxon(x, y)
            ci = pingouin.compute_bootci(x - y, func="mean", method="per",
                                         n_boot=N_RESAMPLES, seed=0)
            rows.append((w.iloc[0].to_dict(), ci))  # column names vary across versions
        return rows

    ours()  # warm-up (imports, caches)
    t_ours = best_of(ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_ping = best_of(pingouin_loop)
    ratio = t_ping / t_ours
    print(f"data: {N_ITEMS} items x {N_PAIRS} matched pairs, {N_RESAMPLES} bootstrap resamples")
    print(f"paired_item_table (best of {REPEATS}): {t_ours:.3f} s")
    print(f"pingouin per-item loop (best of {REPEATS}): {t_ping:.3f} s")
    print(f"speed-up: {ratio:.1f}x")
    ok = t_ours <= 1.0 and ratio >= 10
    print("bar (<= 1 s and >= 10x):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
