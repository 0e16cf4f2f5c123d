"""Read throughput of fitdoc's readers, against baselines measured in the same run.

    .venv/bin/python bench/read_throughput.py                      # about 2 minutes
    .venv/bin/python bench/read_throughput.py --scalars 10000000   # the 10-million-scalar check
    .venv/bin/python bench/read_throughput.py --text-mb 1000 --only text   # the 1 GB log check

(a) csv: a generated Keras CSVLogger file, ``fitdoc.read`` vs ``cat``, a naive line
    loop and ``pandas.read_csv``.
(b) tensorboard: a generated event file (SummaryWriter layout: ``Loss/train`` every
    step, ``Loss/val`` every 1000 steps, legacy ``simple_value`` scalars), ``fitdoc.read``
    vs TensorBoard's ``EventAccumulator`` (size_guidance 0 for scalars) and tbparse
    (when installed). Baselines read at most ``--baseline-scalars`` scalars; ratios
    compare scalars per second.
(c) a generated Keras 3 ``verbose=1`` log as a terminal receives it (``\\r`` progress
    updates, ANSI colours, backspaces), vs ``cat`` and a naive line loop;
(d) a Keras 3 ``verbose=2`` log of a tenth of that size, vs the naive line loop;
(e) a ``trainer_state.json`` vs ``json.load``; (f) Trainer's stdout dict lines vs a
    naive regex over each line.

Ratios are fitdoc's throughput over the baseline's (above 1: fitdoc is faster), in
CPU time and wall time, and fitdoc's memory while reading over the baseline's.
Each read runs ``--repeats`` times (default 3), each in its own subprocess with one
OpenBLAS thread, and the read with the least CPU time is kept (Linux: memory from /proc/self/status); ``peak
RSS`` is that process's peak resident memory, imports included, and "while reading"
the rise of the peak above the resident memory before the read. Times are
wall-clock and CPU (the process's user+system time; steadier on a shared machine). Every reader's result is
checked against what was generated. Generated files are kept in ``--workdir``
(default: a directory in the system temp dir) and reused when their size matches.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MB = 1 << 20
VAL_EVERY = 1000


# --- generated records --------------------------------------------------------------


def csv_rows(mb: float):
    """A CSVLogger file: ``(text, epochs, last val_loss)``."""
    rng = random.Random(0)
    lines = ["epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\n"]
    size, epoch, val_loss = len(lines[0]), 0, 0.0
    while size < mb * MB:
        val_loss = rng.random()
        line = f"{epoch},{rng.random()!r},{0.001 * rng.random()!r},{rng.random()!r},{rng.random()!r},{val_loss!r}\n"
        lines.append(line)
        size += len(line)
        epoch += 1
    return "".join(lines), epoch, val_loss


def write_csv(path: Path, mb: float) -> dict:
    text, epochs, last = csv_rows(mb)
    path.write_text(text)
    return {"rows": epochs, "last_val_loss": last}


def write_events(path: Path, scalars: int) -> dict:
    """An event file with ``scalars`` scalars, framed with TFRecord checksums."""
    from tensorboard.compat.proto import event_pb2, summary_pb2

    rng = np.random.default_rng(0)
    values = rng.random(scalars, dtype=np.float32).tolist()
    event = event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2")
    train = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="Loss/train")])
    val = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="Loss/val")])
    records, steps, train_sum, n_train = [event.SerializeToString()], 0, 0.0, 0
    event.ClearField("file_version")
    with open(path, "wb") as fh:
        for i, x in enumerate(values):
            last_of_val = (i + 1) % (VAL_EVERY + 1) == 0
            summary = val if last_of_val else train
            summary.value[0].simple_value = x
            event.step = steps - 1 if last_of_val else steps
            event.wall_time = 1.7e9 + i * 1e-3
            event.summary.CopyFrom(summary)
            records.append(event.SerializeToString())
            if not last_of_val:
                steps += 1
                train_sum += x
                n_train += 1
            if len(records) >= 100_000 or i == scalars - 1:
                fh.write(_frame(records))
                records = []
    return {"scalars": scalars, "train_points": n_train, "train_sum": train_sum}


def _frame(records: list[bytes]) -> bytes:
    """TFRecord framing; the baselines verify every checksum it writes."""
    from fitdoc.readers.tensorboard import _masked_crcs as masked_crcs

    lengths = np.array([len(r) for r in records], dtype=np.int64)
    headers = b"".join(struct.pack("<Q", n) for n in lengths.tolist())
    header_crcs = masked_crcs(np.frombuffer(headers, np.uint8), np.arange(len(records)) * 8, np.full(len(records), 8))
    data = b"".join(records)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    data_crcs = masked_crcs(np.frombuffer(data, np.uint8), starts, lengths)
    out = []
    for i, rec in enumerate(records):
        out += [headers[8 * i : 8 * i + 8], struct.pack("<I", header_crcs[i]), rec, struct.pack("<I", data_crcs[i])]
    return b"".join(out)


def write_keras_text(path: Path, mb: float, steps: int = 200) -> dict:
    """A Keras 3 verbose=1 log with terminal control sequences."""
    rng = random.Random(0)
    bar = "\u2501"
    backspaces = "\b" * 73
    size, epoch, planned = 0, 0, 10**9
    with open(path, "w", encoding="utf-8", newline="") as fh:
        while size < mb * MB:
            epoch += 1
            parts = [f"Epoch {epoch}/{planned}\n"]
            for b in range(1, steps + 1):
                done = round(20 * b / steps)
                parts.append(
                    f"\r\x1b[1m{b:>{len(str(steps))}}/{steps}\x1b[0m \x1b[32m{bar * done}\x1b[0m\x1b[37m{bar * (20 - done)}"
                    f"\x1b[0m \x1b[1m0s\x1b[0m {rng.randint(2, 60)}ms/step - accuracy: {rng.random():.4f} - "
                    f"loss: {rng.random():.4f}"
                )
                parts.append(backspaces if b < steps else "")
            val_loss = round(rng.random(), 4)
            parts.append(f" - val_accuracy: {rng.random():.4f} - val_loss: {val_loss:.4f} - learning_rate: 0.0010\n")
            chunk = "".join(parts)
            fh.write(chunk)
            size += len(chunk.encode("utf-8"))
    return {"epochs": epoch, "last_val_loss": val_loss}


def write_keras_verbose2(path: Path, mb: float, steps: int = 200) -> dict:
    """A Keras 3 verbose=2 log: a header and one summary line per epoch."""
    rng = random.Random(0)
    size, epoch, planned, parts = 0, 0, 10**9, []
    while size < mb * MB:
        epoch += 1
        val_loss = round(rng.random(), 4)
        line = (f"Epoch {epoch}/{planned}\n{steps}/{steps} - 1s - {rng.randint(2, 60)}ms/step - accuracy: {rng.random():.4f}"
                f" - loss: {rng.random():.4f} - val_accuracy: {rng.random():.4f} - val_loss: {val_loss:.4f}\n")
        parts.append(line)
        size += len(line)
    path.write_text("".join(parts))
    return {"epochs": epoch, "last_val_loss": val_loss}


def _trainer_rows(mb: float):
    """Trainer log rows (a training row every step, an evaluation row every 500) up to ``mb`` of dict text."""
    rng = random.Random(0)
    size, step, rows = 0, 0, []
    while size < mb * MB:
        step += 1
        rows.append({"loss": round(rng.random(), 4), "grad_norm": round(3 * rng.random(), 4),
                     "learning_rate": 5e-05 * (1 - step / 1e7), "epoch": round(step / 1000, 4), "step": step})
        if step % 500 == 0:
            rows.append({"eval_loss": round(rng.random(), 4), "eval_runtime": 1.5, "epoch": round(step / 1000, 4), "step": step})
        size += 90
    return rows, step


def write_trainer_state(path: Path, mb: float) -> dict:
    rows, steps = _trainer_rows(mb)
    path.write_text(json.dumps({"global_step": steps, "num_train_epochs": 10**6, "log_history": rows}, indent=2))
    return {"rows": len(rows)}


def write_trainer_stdout(path: Path, mb: float) -> dict:
    """What Trainer prints: one dict line per log row, without the step."""
    rows, _ = _trainer_rows(mb)
    path.write_text("".join(str({k: v for k, v in r.items() if k != "step"}) + "\n" for r in rows))
    return {"rows": len(rows)}


# --- readers, each run in a subprocess ------------------------------------------------


def _read_fitdoc(path):
    import fitdoc

    run = fitdoc.read(path)
    if run.format == "tensorboard":
        loss = run.step_series["loss"].values
        return {"train_points": len(loss), "train_sum": float(loss.sum())}
    if run.format.startswith("hf"):
        return {"steps": len(run.step_series["loss"].values)}
    val_epochs, val_loss = run.evaluated("val_loss")
    return {"epochs": len(run), "last_val_loss": float(val_loss[-1])}


def _read_json(path):
    with open(path) as fh:
        return {"rows": len(json.load(fh)["log_history"])}


def _read_lines(path):
    """The naive line loop: every line, split once."""
    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            line.split()
            n += 1
    return {"lines": n}



def _read_cat(path):
    """``cat`` to /dev/null, started from this small process (its CPU time and memory
    replace this process's in the figures)."""
    import resource

    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu": max(usage.ru_utime + usage.ru_stime, 1e-3), "read_peak_mb": usage.ru_maxrss / 1024, "rss_before_mb": 0.0}


def _read_regex(path):
    """The naive regex: the name-value pairs of every line."""
    import re

    pair = re.compile(r"'(\w+)': ([-\d.e]+)")
    with open(path) as fh:
        rows = [dict(pair.findall(line)) for line in fh]
    return {"rows": len(rows)}


def _read_pandas(path):
    import pandas

    df = pandas.read_csv(path)
    return {"epochs": len(df), "last_val_loss": float(df["val_loss"].iloc[-1])}


def _read_event_accumulator(path):
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(path, size_guidance={ea.SCALARS: 0})
    acc.Reload()
    train = acc.Scalars("Loss/train")
    return {"train_points": len(train), "train_sum": math.fsum(s.value for s in train)}


def _read_tbparse(path):
    from tbparse import SummaryReader

    df = SummaryReader(path).scalars
    train = df[df["tag"] == "Loss/train"]["value"]
    return {"train_points": len(train), "train_sum": math.fsum(train)}


READERS = {
    "fitdoc": (_read_fitdoc, ["fitdoc", "numpy"]),
    "json.load": (_read_json, ["json"]),
    "naive line loop": (_read_lines, []),
    "cat": (_read_cat, ["resource"]),
    "naive regex": (_read_regex, ["re"]),
    "pandas": (_read_pandas, ["pandas"]),
    "event_accumulator": (_read_event_accumulator, ["tensorboard.backend.event_processing.event_accumulator"]),
    "tbparse": (_read_tbparse, ["tbparse"]),
}


def _memory_mb(field: str) -> float:
    """``VmRSS`` or ``VmHWM`` (peak RSS) of this process from /proc (Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def _child(reader: str, path: str) -> None:
    func, modules = READERS[reader]
    for m in modules:
        __import__(m)
    if reader == "fitdoc":
        import fitdoc.readers

        fitdoc.readers.formats()  # imports every reader module
        import tensorboard.compat.proto.event_pb2  # noqa: F401  (imported lazily by the reader)
    imports_peak, before = _memory_mb("VmHWM"), _memory_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # restart the peak RSS count from the current RSS
    t0, c0 = time.perf_counter(), time.process_time()
    result = func(path)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    read_peak = _memory_mb("VmHWM")
    figures = {"wall": wall, "cpu": cpu, "rss_before_mb": before, "read_peak_mb": read_peak, **result}
    figures["peak_rss_mb"] = max(imports_peak, figures["read_peak_mb"])
    print(json.dumps(figures))


# One OpenBLAS thread, as the fitdoc CLI sets: otherwise the threads numpy's import starts
# spin on the other core while the read is timed, and add to every reader's CPU time.
CHILD_ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}


REPEATS = 3  # each read is timed this many times (--repeats) and the least CPU time kept


def measure(reader: str, path: Path) -> dict:
    """The figures of the read, of ``REPEATS`` reads in fresh processes, that took the least CPU."""
    runs = []
    for _ in range(REPEATS):
        out = subprocess.run(
            [sys.executable, __file__, "--child", reader, str(path)], capture_output=True, text=True, check=False,
            env=CHILD_ENV,
        )
        if out.returncode:
            raise SystemExit(f"{reader} failed on {path}:\n{out.stderr[-2000:]}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda m: m["cpu"])


def _cached(path: Path, key: dict, make) -> dict:
    """Generate ``path`` unless a file made with the same ``key`` is there."""
    meta = path.parent.with_name(path.parent.name + ".json") if "tfevents" in path.name else path.with_name(path.name + ".json")
    if path.exists() and meta.exists():
        saved = json.loads(meta.read_text())
        if saved.get("key") == key:
            return saved["expected"]
    t0 = time.perf_counter()
    expected = make()
    print(f"  generated {path.name}: {path.stat().st_size / MB:.1f} MB in {time.perf_counter() - t0:.0f} s", flush=True)
    meta.write_text(json.dumps({"key": key, "expected": expected}))
    return expected


def _check(name: str, got: dict, expected: dict) -> None:
    for k, v in expected.items():
        if k in got and not (got[k] == v or (isinstance(v, float) and math.isclose(got[k], v, rel_tol=1e-9))):
            raise SystemExit(f"{name}: {k} = {got[k]}, expected {v}")


def _row(name: str, m: dict, amount: float, unit: str) -> str:
    return (
        f"  {name:<18} {m['wall']:7.2f} s wall {m['cpu']:7.2f} s cpu  {amount / m['wall']:12,.1f} {unit} (wall)"
        f" {amount / m['cpu']:12,.1f} {unit} (cpu)   peak RSS {m['peak_rss_mb']:6.0f} MB"
        f" (+{m['read_peak_mb'] - m['rss_before_mb']:.0f} MB while reading)"
    )


def _ratio(label: str, ours: dict, base: dict) -> str:
    grown = lambda m: max(m["read_peak_mb"] - m["rss_before_mb"], 1.0)  # noqa: E731
    return (f"  ratio {label}: {base['cpu'] / ours['cpu']:.2f}x the throughput (cpu), {base['wall'] / ours['wall']:.2f}x (wall);"
            f" {grown(ours) / grown(base):.2f}x the memory while reading")


def compare(title: str, path: Path, expected: dict, baselines: list[str], amount: float | None = None, unit: str = "MB/s") -> None:
    """fitdoc and each baseline on ``path``; the ratios say how fitdoc's throughput compares."""
    size = path.stat().st_size / MB
    print(f"{title}, {size:.1f} MB")
    ours = measure("fitdoc", path)
    _check("fitdoc", ours, expected)
    print(_row("fitdoc", ours, amount or size, unit))
    for reader in baselines:
        base = measure(reader, path)
        print(_row(reader, base, amount or size, unit))
        print(_ratio(f"fitdoc/{reader}", ours, base))


def bench_csv(work: Path, mb: float) -> None:
    path = work / f"csvlogger_{mb:g}mb.csv"
    expected = _cached(path, {"mb": mb}, lambda: write_csv(path, mb))
    compare(f"(a) Keras CSVLogger file, {expected['rows']:,} rows", path,
            {"epochs": expected["rows"], "last_val_loss": expected["last_val_loss"]}, ["cat", "naive line loop", "pandas"])


def bench_tensorboard(work: Path, scalars: int, baseline_scalars: int) -> None:
    print(f"(b) TensorBoard event file, {scalars:,} scalars")
    small = min(scalars, baseline_scalars)
    baselines = ["event_accumulator"] + (["tbparse"] if _installed("tbparse") else [])
    plan = {scalars: ["fitdoc"]}
    plan.setdefault(small, ["fitdoc"]).extend(baselines)
    results = {}
    for n, readers in plan.items():
        folder = work / f"events_{n}"
        folder.mkdir(exist_ok=True)
        path = folder / "events.out.tfevents.1700000000.bench"
        expected = _cached(path, {"scalars": n}, lambda: write_events(path, n))
        print(f"  {n:,} scalars, {path.stat().st_size / MB:.1f} MB:")
        for reader in readers:
            m = measure(reader, folder)
            _check(reader, m, {"train_points": expected["train_points"], "train_sum": expected["train_sum"]})
            results[reader, n] = m
            print(_row(reader, m, n, "scalars/s"))
    for reader in baselines:
        print(_ratio(f"fitdoc/{reader} on {small:,} scalars", results["fitdoc", small], results[reader, small]))


def bench_text(work: Path, mb: float) -> None:
    path = work / f"keras_verbose1_{mb:g}mb.log"
    expected = _cached(path, {"mb": mb}, lambda: write_keras_text(path, mb))
    compare(f"(c) Keras verbose=1 log, {expected['epochs']:,} epochs", path, expected, ["cat", "naive line loop"])
    path = work / f"keras_verbose2_{mb / 10:g}mb.log"
    expected = _cached(path, {"mb": mb / 10}, lambda: write_keras_verbose2(path, mb / 10))
    compare(f"(d) Keras verbose=2 log, {expected['epochs']:,} epochs", path, expected, ["naive line loop"])


def bench_trainer(work: Path, mb: float) -> None:
    path = work / f"trainer_state_{mb:g}mb.json"
    expected = _cached(path, {"mb": mb}, lambda: write_trainer_state(path, mb))
    compare(f"(e) trainer_state.json, {expected['rows']:,} log rows", path, {}, ["json.load"])
    path = work / f"trainer_stdout_{mb:g}mb.log"
    expected = _cached(path, {"mb": mb}, lambda: write_trainer_stdout(path, mb))
    compare(f"(f) Trainer stdout dict lines, {expected['rows']:,} lines", path, {}, ["naive regex"])


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main() -> None:
    global REPEATS
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--csv-mb", type=float, default=50)
    p.add_argument("--scalars", type=int, default=300_000)
    p.add_argument("--baseline-scalars", type=int, default=1_000_000, help="most scalars the baselines read")
    p.add_argument("--text-mb", type=float, default=100)
    p.add_argument("--trainer-mb", type=float, default=10)
    p.add_argument("--only", choices=["csv", "tensorboard", "text", "trainer"], action="append")
    p.add_argument("--repeats", type=int, default=REPEATS, help="reads per reader; the fastest (CPU) is kept")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "fitdoc-read-throughput")
    args = p.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    REPEATS = max(1, args.repeats)
    only = args.only or ["csv", "tensorboard", "text", "trainer"]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if "csv" in only:
        bench_csv(args.workdir, args.csv_mb)
    if "tensorboard" in only:
        bench_tensorboard(args.workdir, args.scalars, args.baseline_scalars)
    if "text" in only:
        bench_text(args.workdir, args.text_mb)
    if "trainer" in only:
        bench_trainer(args.workdir, args.trainer_mb)


if __name__ == "__main__":
    main()
