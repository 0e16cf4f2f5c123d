"""What ``fitdoc diagnose`` costs end to end, each figure beside a baseline measured in
the same run.

    .venv/bin/python bench/diagnose_speed.py                 # about 3 minutes, 1.2 GB in --workdir
    .venv/bin/python bench/diagnose_speed.py --text-mb 100   # a smaller Keras log

Every command runs in a subprocess; its CPU time (user + system, its worker processes
included) and peak RSS come from ``wait4``, so other jobs on a shared machine inflate
them little. Short commands take the minimum of ``--repeats`` runs. Cases:

- ``fitdoc --help`` and a 20-epoch CSVLogger diagnosis, beside ``python -c pass`` and
  ``python -c "import numpy"``;
- a 100,000-epoch CSVLogger file; a TensorBoard file of 1,000,000 logged steps; a
  Keras ``verbose=1`` log of ``--text-mb`` MB and one of a tenth of it (memory must
  not grow with the size), each beside ``cat`` and a naive Python line loop;
- 1,000 small CSVLogger runs in one call (terminal text and JSON), on one core
  (``taskset -c 0``) and on all:
  the wall-clock speed-up is estimated from CPU times (the parent's own time plus its
  workers' time shared among them), since a busy machine distorts wall-clock time.

Generated files are kept in ``--workdir`` and reused; delete it afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

SCRIPT = Path(sys.executable).with_name("fitdoc")
FITDOC = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "fitdoc.cli"]
SPLIT = (
    "import resource, sys\nfrom fitdoc.cli import main\ntry:\n    main(sys.argv[1:], standalone_mode=False)\n"
    "finally:\n    s, c = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))\n"
    "    print(s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime, file=sys.stderr)\n"
)


# byte-compiled modules, as an installed package has them
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def generate(call: str) -> None:
    """Run a generator of read_throughput in its own process: a child forked from a big
    parent would count the parent's memory in its peak RSS."""
    code = f"import sys; sys.path.insert(0, {str(BENCH)!r}); import read_throughput as rt; from pathlib import Path; rt.{call}"
    subprocess.run([sys.executable, "-c", code], check=True)


def measure(cmd: list[str], repeats: int = 1) -> dict:
    """The fastest of ``repeats`` runs: CPU seconds, wall seconds, peak RSS in MB."""
    best = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        if status:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
        m = {"cpu": usage.ru_utime + usage.ru_stime, "wall": time.perf_counter() - t0,
             "rss": usage.ru_maxrss / 1024, "stderr": err.decode()}
        best = m if best is None or m["cpu"] < best["cpu"] else best
    return best


def show(name: str, m: dict, base: dict | None = None, bar: str = "") -> None:
    ratio = f"  {m['cpu'] / base['cpu']:6.1f}x the baseline" if base else ""
    print(f"  {name:<44} {m['cpu']:7.2f} s cpu {m['wall']:7.2f} s wall {m['rss']:7.0f} MB peak{ratio}  {bar}")


def naive_loop(path: Path) -> list[str]:
    return [sys.executable, "-c", f"for line in open({str(path)!r}, 'rb'): pass"]


def csv_runs(folder: Path, runs: int, epochs: int) -> None:
    folder.mkdir(exist_ok=True)
    rng = random.Random(0)
    for i in range(runs):
        path = folder / f"run{i:04d}.csv"
        if path.exists():
            continue
        rows = ["epoch,accuracy,loss,val_accuracy,val_loss\n"]
        for e in range(epochs):
            loss, val = 1 / (e + 1) + 0.05 * rng.random(), 1 / (e + 1) + 0.1 * rng.random() + 0.002 * e * (i % 3)
            rows.append(f"{e},{1 - loss / 2:.4f},{loss:.4f},{1 - val / 2:.4f},{val:.4f}\n")
        path.write_text("".join(rows))


def long_csv(path: Path, epochs: int) -> None:
    if path.exists():
        return
    rng = random.Random(0)
    with open(path, "w") as fh:
        fh.write("epoch,accuracy,loss,val_accuracy,val_loss\n")
        for e in range(epochs):
            loss = 2 * 2.718 ** (-e / 3000) + 0.05 + 0.01 * rng.random()
            val = 2 * 2.718 ** (-e / 3000) + 0.1 + e / 1e6 + 0.02 * rng.random()
            fh.write(f"{e},{1 - loss / 3!r},{loss!r},{1 - val / 3!r},{val!r}\n")


def pool_speedup(folder: Path) -> None:
    cores = len(os.sched_getaffinity(0))
    for fmt in ("text", "json"):
        command = [sys.executable, "-c", SPLIT, "diagnose", str(folder), "--format", fmt]
        one, all_ = measure(["taskset", "-c", "0", *command]), measure(command)
        parent, workers = map(float, all_["stderr"].split()[-2:])
        estimate = parent + workers / cores
        show(f"1,000 runs, --format {fmt}, one core", one)
        show(f"1,000 runs, --format {fmt}, {cores} cores", all_)
        print(f"    on {cores} cores: parent {parent:.2f} s + workers {workers:.2f} s cpu -> about {estimate:.2f} s of wall time "
              f"on an idle machine: {one['cpu'] / estimate:.2f}x faster than one core (bar: 1.7x on 2 cores)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--text-mb", type=float, default=1000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "fitdoc-diagnose-speed")
    args = p.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    csv_runs(work / "small", 1000, 20)
    measure(FITDOC + ["diagnose", str(work / "small" / "run0000.csv")])  # writes the byte-code caches
    print("start-up")
    bare = measure([sys.executable, "-c", "pass"], args.repeats)
    numpy = measure([sys.executable, "-c", "import numpy"], args.repeats)
    show("python -c pass", bare)
    show("python -c 'import numpy'", numpy)
    show("fitdoc --help", measure(FITDOC + ["--help"], args.repeats), bare, "(bar: 0.25 s)")
    show("fitdoc diagnose, 20 epochs", measure(FITDOC + ["diagnose", str(work / "small" / "run0000.csv")], args.repeats),
         numpy, "(bar: 0.35 s)")

    print("long records")
    path = work / "epochs_100000.csv"
    long_csv(path, 100_000)
    show("naive line loop, 100,000-epoch CSV", measure(naive_loop(path)))
    show("fitdoc diagnose, 100,000-epoch CSV", measure(FITDOC + ["diagnose", str(path)]), None, "(bar: 2 s, 300 MB)")
    events = work / "steps_1000000"
    events.mkdir(exist_ok=True)
    tb = events / "events.out.tfevents.1700000000.bench"
    if not tb.exists():
        generate(f"write_events(Path({str(tb)!r}), 1_000_000)")
    show("fitdoc diagnose, 1,000,000-step TensorBoard", measure(FITDOC + ["diagnose", str(events)]))
    for mb in (args.text_mb / 10, args.text_mb):
        log = work / f"keras_verbose1_{mb:g}mb.log"
        if not log.exists():
            generate(f"write_keras_text(Path({str(log)!r}), {mb})")
        cat, loop = measure(["cat", str(log)]), measure(naive_loop(log))
        show(f"cat, {mb:g} MB Keras log", cat)
        show(f"naive line loop, {mb:g} MB Keras log", loop)
        show(f"fitdoc diagnose, {mb:g} MB Keras log", measure(FITDOC + ["diagnose", str(log)]), loop,
             "(bar: 5 s for 1 GB, memory flat)")

    print("many runs")
    pool_speedup(work / "small")


if __name__ == "__main__":
    main()
