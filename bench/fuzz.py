"""Fuzz campaign: mutated real records through every reader, the rules and the renderers.

Each execution takes a real record from ``tests/data`` (a file, or one file of a run
directory copied aside), mutates it (byte flips, inserts, deletes, a cut at a random
offset, repeated or shuffled lines, garbage and 200 kB lines, special numbers, odd
metric names, CRLF) and runs ``read_runs`` + ``diagnose`` (+ the JSON, Markdown and
terminal renderers for one in three). It counts:

* tracebacks: any exception other than fitdoc's own one-line ``FitdocError``;
* hangs: an execution that runs past ``--hang`` seconds;
* silent changes: a cut record (a prefix of the seed) that reports an (epoch, metric)
  value the whole record does not have, without a note that says it is cut or partial
  (an epoch the whole record wrote again after a resume may differ; in an MLflow store,
  where each metric is its own file, only a metric file cut inside a line is checked).

    python bench/fuzz.py --runs 20000 --seed 1          # about 4 minutes on one core

``tests/test_fuzz_*.py`` use the same mutations and checks on a fixed time budget.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT / "src"))

from fitdoc import diagnose  # noqa: E402
from fitdoc.errors import FitdocError  # noqa: E402
from fitdoc.readers import read_runs  # noqa: E402

# (reader, seed record, the file inside it that gets mutated when it is a directory)
SEEDS = [
    ("keras-csv", "fixtures/keras3_csvlogger.csv", None),
    ("keras-csv", "fixtures/keras3_csvlogger_validation_freq2.csv", None),
    ("keras-csv", "cases/clean.csv", None),
    ("keras-csv", "cases/nan.csv", None),
    ("keras-history", "fixtures/keras3_history.json", None),
    ("keras-history", "cases/spike.json", None),
    ("keras-text", "fixtures/keras3_fit_verbose2.txt", None),
    ("keras-text", "fixtures/keras3_fit_nan_verbose2.txt", None),
    ("keras-text", "fixtures/keras3_fit_verbose1_redirected.raw.txt", None),
    ("keras-text", "keras_runs/healthy.txt", None),
    ("text-log", "text-log/absl.txt", None),
    ("text-log", "text-log/tutorial.txt", None),
    ("text-log", "text-log/resumed.txt", None),
    ("text-log", "text-log/tabs.txt", None),
    ("hf-trainer", "fixtures/hf_trainer_state.json", None),
    ("hf-trainer", "fixtures/hf_trainer_stdout_dict_lines.txt", None),
    ("lightning-csv", "fixtures/lightning_csvlogger_metrics.csv", None),
    ("lightning-csv", "lightning/steplr/version_0/metrics.csv", None),
    ("mlflow", "mlflow/mlruns", "722047744961971389/be2bfd3bbc394660bcffd2e3321e1f45/metrics/loss"),
    ("mlflow", "mlflow/mlruns", "722047744961971389/be2bfd3bbc394660bcffd2e3321e1f45/metrics/epoch"),
    ("mlflow", "mlflow/mlruns", "722047744961971389/c87f5a4db5934fca86bae4223b53a9a1/metrics/val_loss"),
    ("tensorboard", "tensorboard/keras_fit/train/events.out.tfevents.1795426061.vm.9735.0.v2", None),
    ("tensorboard", "tensorboard/keras_fit/validation/events.out.tfevents.1795426062.vm.9735.1.v2", None),
]
SPECIAL = [b"1e308", b"-0", b"1e-320", b"5e-324", b"1e999", b"9" * 400, b"9" * 5000, b"inf", b"-inf", b"nan",
           b"NaN", b"-", b".", b"e", b"+", b"", b"NA", b"None", b"1e30", b"99999999999999999999", b"1.5"]
NAMES = [b"\x1b]0;pwned\x07", b"a|b", b"<!--<script>", b"\xe5\xae\xbd\xe5\xba\xa6", b"val_", b"epoch", b"step",
         b"x" * 300, b"\"", b"'", b"\\", b"\r", b"\x00"]
CUT_WORDS = ("cut", "truncated", "incomplete", "partial", "still being written", "ends")


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


# --- mutations ------------------------------------------------------------------------


def _number_spans(data: bytes) -> list[tuple[int, int]]:
    import re

    return [m.span() for m in re.finditer(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", data)]


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, bool]:
    """A mutated record and whether it is a plain prefix of ``data`` (a cut)."""
    if rng.random() < 0.25:
        return data[: rng.randrange(len(data) + 1)], True
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        data = rng.choice(_OPS)(data, rng)
    return data, False


def _flip(data, rng):
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]


def _insert(data, rng):
    i = rng.randrange(len(data) + 1)
    return data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + data[i:]


def _delete(data, rng):
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 16) :]


def _lines(data, rng):
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    how = rng.choice(("dup", "swap", "garbage", "long", "drop"))
    if how == "dup":
        lines.insert(i, lines[i])
    elif how == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif how == "garbage":
        lines.insert(i, bytes(rng.randrange(32, 127) for _ in range(rng.randint(1, 80))))
    elif how == "long":
        lines.insert(i, b"a" * 200_000)
    else:
        del lines[i]
    return b"\n".join(lines)


def _special(data, rng):
    spans = _number_spans(data)
    if not spans:
        return data
    a, b = rng.choice(spans)
    return data[:a] + rng.choice(SPECIAL) + data[b:]


def _name(data, rng):
    import re

    words = [m.span() for m in re.finditer(rb"[A-Za-z_][A-Za-z_]{2,}", data)]
    if not words:
        return data
    a, b = rng.choice(words)
    return data[:a] + rng.choice(NAMES) + data[b:]


def _crlf(data, rng):
    return data.replace(b"\n", b"\r\n")


_OPS = [_flip, _insert, _delete, _lines, _lines, _special, _special, _name, _crlf]


# --- one execution ---------------------------------------------------------------------


def values(runs) -> dict:
    """``{(run index, epoch, metric): value}`` of the runs (NaN as a string, to compare)."""
    out = {}
    for i, run in enumerate(runs):
        for name, s in run.series.items():
            for epoch, value, present in zip(run.epochs.tolist(), s.values.tolist(), s.present.tolist()):
                if present:
                    out[i, epoch, name] = "nan" if math.isnan(value) else value
    return out


def execute(path: Path, render: bool = False):
    """The runs read from ``path`` and diagnosed, or the FitdocError; other errors propagate."""
    try:
        runs = read_runs(path)
        reports = [diagnose(run) for run in runs]
    except FitdocError as exc:
        return exc
    if render:
        from rich.console import Console

        from fitdoc.output import jsonout, markdown, terminal

        jsonout.render(reports)
        markdown.render(reports)
        console = Console(file=io.StringIO(), width=100)
        for report in reports:
            terminal.render(report, console)
    return runs


def silent_changes(full: dict, resumed: dict, axes: dict, runs) -> list:
    """Values of a cut record that differ from the whole record's, in runs without a note
    saying the record is cut or partial. An epoch the whole record wrote again later (a
    resumed run: ``resumed`` holds each run's first resume epoch) may differ: the cut
    record holds the first attempt. A run whose x-axis is not the whole record's (steps,
    not epochs: ``axes`` holds each run's) is not compared."""
    noted = {i for i, run in enumerate(runs)
             if any(w in n for n in run.notes for w in CUT_WORDS) or run.info.get("x_axis") != axes.get(i)}
    return [(k, v, full[k]) for k, v in values(runs).items()
            if k[0] not in noted and k in full and full[k] != v and not k[1] >= resumed.get(k[0], math.inf)]


class Seed:
    """A seed record copied to a scratch folder, the file to mutate and its whole values."""

    def __init__(self, reader: str, record: str, inner: str | None, scratch: Path):
        self.reader, self.name = reader, record + (f"/{inner}" if inner else "")
        src = DATA / record
        self.root = scratch / f"{len(list(scratch.iterdir()))}-{src.name}"
        if src.is_dir():
            shutil.copytree(src, self.root)
        else:
            shutil.copyfile(src, self.root)
        self.target = self.root / inner if inner else self.root
        self.original = self.target.read_bytes()
        runs = read_runs(self.root)
        self.full = values(runs)
        self.resumed = {i: min(e.epoch for e in run.events_of("resume")) for i, run in enumerate(runs) if run.events_of("resume")}
        self.axes = {i: run.info.get("x_axis") for i, run in enumerate(runs)}

    def run(self, data: bytes, cut: bool, render: bool = False):
        """(outcome, detail) for the seed with its file replaced by ``data``."""
        self.target.write_bytes(data)
        try:
            got = execute(self.root, render)
        finally:
            self.target.write_bytes(self.original)
        if isinstance(got, FitdocError):
            return "error", str(got)
        # A metric file of an MLflow store cut at a line end is a run that logged fewer
        # points (its last epoch's mean is over fewer steps): only a cut inside a line,
        # a half-written number, is checked there.
        whole_lines = self.target != self.root and (not data or data.endswith(b"\n"))
        changed = silent_changes(self.full, self.resumed, self.axes, got) if cut and not whole_lines else []
        return ("silent", changed[:3]) if changed else ("ok", None)


def campaign(runs: int, seed: int, hang: float, verbose: bool) -> Counter:
    rng = random.Random(seed)
    stats: Counter = Counter()
    crashes: Counter = Counter()
    signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory() as tmp:
        seeds = [Seed(r, rec, inner, Path(tmp)) for r, rec, inner in SEEDS]
        started = time.perf_counter()
        for n in range(runs):
            s = rng.choice(seeds)
            data, cut = mutate(s.original, rng)
            signal.setitimer(signal.ITIMER_REAL, hang)
            try:
                outcome, detail = s.run(data, cut, render=n % 3 == 0)
            except Hang:
                outcome, detail = "hang", None
            except Exception:
                outcome, detail = "traceback", traceback.format_exc(limit=-1).strip().splitlines()[-2:]
                crashes[" ".join(detail)] += 1
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            stats[outcome] += 1
            stats[s.reader, outcome] += 1
            if verbose and outcome in ("traceback", "hang", "silent"):
                print(f"{outcome} {s.name} cut={cut}: {detail}", file=sys.stderr)
        stats["seconds"] = round(time.perf_counter() - started)
    for where, count in crashes.most_common(10):
        print(f"  {count} x {where}")
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hang", type=float, default=10.0, help="seconds after which an execution counts as a hang")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    stats = campaign(args.runs, args.seed, args.hang, args.verbose)
    print(f"executions {args.runs} in {stats['seconds']} s: tracebacks {stats['traceback']}, hangs {stats['hang']}, "
          f"silent changes {stats['silent']}; ok {stats['ok']}, one-line errors {stats['error']}")
    readers = sorted({k[0] for k in stats if isinstance(k, tuple)})
    for r in readers:
        print(f"  {r:<14} " + " ".join(f"{o} {stats[r, o]}" for o in ("ok", "error", "traceback", "hang", "silent")))
    sys.exit(1 if stats["traceback"] or stats["hang"] or stats["silent"] else 0)


if __name__ == "__main__":
    main()
