"""The fastnn.sklearn-vs-scikit-learn table for README and issues: fit time, speed-up and
test score on the cases of benchmarks/sklearn_cases.py, at each thread count.

    PYTHONPATH=python python benchmarks/sklearn_report.py                 # 1 and 2 threads
    PYTHONPATH=python python benchmarks/sklearn_report.py --cases digits --seeds 0 1 2

Method: one process; for every (case, thread count) the two libraries fit in interleaved
rounds (scikit-learn, fastnn, scikit-learn, fastnn, ...), one round per seed (the seed is
the estimators' random_state, the same for both). Times are medians over the rounds,
scores means. NumPy's BLAS (scikit-learn's arithmetic) is pinned with threadpoolctl,
fastnn with ``n_threads``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sklearn_cases


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=list(sklearn_cases.CASES),
                        choices=list(sklearn_cases.CASES))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args(argv)

    import sklearn

    import fastnn

    print(f"CPU: {cpu_name()}, {os.cpu_count()} CPUs; fastnn {fastnn.__version__} "
          f"({fastnn.info()['simd']}), scikit-learn {sklearn.__version__}; seeds {args.seeds}\n")
    print("| case | threads | scikit-learn fit (s) | fastnn fit (s) | speed-up | "
          "scikit-learn score | fastnn score |")
    print("|---|---|---|---|---|---|---|")
    for name in args.cases:
        case = sklearn_cases.CASES[name]
        data = sklearn_cases.load(name)
        metric = "R^2" if case.task == "regression" else "acc"
        for threads in args.threads:
            times: dict[str, list[float]] = {lib: [] for lib in sklearn_cases.LIBS}
            scores: dict[str, list[float]] = {lib: [] for lib in sklearn_cases.LIBS}
            for seed in args.seeds:
                for lib in sklearn_cases.LIBS:
                    t, s = sklearn_cases.timed_fit(lib, case, data, seed, threads)
                    times[lib].append(t)
                    scores[lib].append(s)
            sk, fa = (statistics.median(times[lib]) for lib in sklearn_cases.LIBS)
            print(f"| {name} | {threads} | {sk:.2f} | {fa:.2f} | {sk / fa:.2f}x | "
                  f"{metric} {statistics.mean(scores['sklearn']):.4f} | "
                  f"{metric} {statistics.mean(scores['fastnn']):.4f} |", flush=True)


if __name__ == "__main__":
    main()
