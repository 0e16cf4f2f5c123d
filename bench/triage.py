"""Throughput of ``fitdoc triage`` on a generated sweep (bench/sweepgen.py: lr >= 3e-3
diverges, dropout < 0.1 overfits), written as CSVLogger folders and as an MLflow
``mlruns/`` store.

For each store and each engine (one process, a pool of two, a local Ray cluster of two
CPUs) it prints the runs per second (wall clock, listing included, Ray start-up not),
the CPU seconds of this process and its workers (on a shared machine the CPU figures
are the ones to trust), the peak resident memory of the driver and of the largest
worker, and the CPU seconds of fetching and of diagnosing, summed over the units;
then the time of a second call served by the cache, and the cross-tab line that names
the seeded region.

    .venv/bin/python bench/triage.py [--runs 1000] [--no-ray]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import sweepgen  # noqa: E402

from fitdoc.sources import units  # noqa: E402
from fitdoc.workflow import engines  # noqa: E402
from fitdoc.workflow.triage import Options, Triage  # noqa: E402
from fitdoc.workflow.triage_cache import Cache  # noqa: E402


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _ray_workers() -> list:
    import psutil

    def is_worker(cmdline) -> bool:  # Ray renames its workers "ray::IDLE", "ray::triage_batch"...
        text = " ".join(cmdline or [])
        return "default_worker.py" in text or text.startswith("ray::")

    return [p for p in psutil.process_iter(["cmdline"]) if is_worker(p.info["cmdline"])]


def _ray_cpu() -> float:
    """CPU seconds of the Ray worker processes so far (psutil comes with Ray)."""
    return sum(sum(p.cpu_times()[:2]) for p in _ray_workers())


def measure(spec: str, engine: str, jobs: int) -> dict:
    on_ray = engine == "ray"
    started, cpu = time.perf_counter(), _cpu() + (_ray_cpu() if on_ray else 0.0)
    found = units(spec)
    listed = time.perf_counter() - started
    rows, stats = engines.run(found, Options(), jobs=jobs, engine=engine)
    wall = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = (max((p.memory_info().rss for p in _ray_workers()), default=0) / 2**20 if on_ray
              else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return {"rows": rows, "runs": len(found), "wall": wall, "list": listed,
            "cpu": _cpu() + (_ray_cpu() if on_ray else 0.0) - cpu,
            "fetch": stats.fetch_cpu_s, "diagnose": stats.diagnose_cpu_s, "rss": own, "worker_rss": worker}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="fitdoc-triage-bench-"))
    sweep = sweepgen.sweep(args.runs, seed=0)
    t = time.perf_counter()
    stores = {"CSV folders": str(sweepgen.write_csv_folder(root / "csv", sweep)),
              "mlruns/": str(sweepgen.write_mlruns(root / "mlruns", sweep))}
    print(f"{args.runs} runs x {sweepgen.EPOCHS} epochs written to {root} in {time.perf_counter() - t:.1f} s\n")
    configs = [("process", 1), ("process", 2)] + ([] if args.no_ray else [("ray", 2)])
    if not args.no_ray:
        import ray

        t = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        print(f"local Ray cluster (2 CPUs) started in {time.perf_counter() - t:.1f} s\n")
    found_lines = []
    print("| store | engine | workers | runs/s (wall) | wall s | CPU s | runs per CPU s | fetch CPU s | diagnose CPU s "
          "| driver RSS MiB | worker RSS MiB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, spec in stores.items():
        reference = None
        for engine, jobs in configs:
            m = measure(spec, engine, jobs)
            rows = Triage(m["rows"]).rows
            same = "" if reference is None or rows == reference else " (rows differ!)"
            reference = reference or rows
            print(f"| {label} | {engine} | {jobs} | {m['runs'] / m['wall']:.0f} | {m['wall']:.1f} | {m['cpu']:.1f} "
                  f"| {m['runs'] / m['cpu']:.0f} | {m['fetch']:.1f} | {m['diagnose']:.1f} | {m['rss']:.0f} "
                  f"| {m['worker_rss']:.0f}{same} |", flush=True)
        cache = Cache(root / "cache.sqlite", Options().fingerprint)
        found = units(spec)
        engines.run(found, Options(), jobs=2, cache=cache)
        t = time.perf_counter()
        _, stats = engines.run(units(spec), Options(), cache=cache)
        print(f"| {label} | cache, 2nd call | — | {args.runs / (time.perf_counter() - t):.0f} "
              f"| {time.perf_counter() - t:.2f} | | | | | | {stats.cached} of {stats.units} cached |")
        result = Triage(m["rows"])
        found_lines += [f"- {label}: {result.split_line(g)}" for g in result.split_groups()]
    print("\nCross-tab of the last engine's rows:", *found_lines, sep="\n")


if __name__ == "__main__":
    main()
