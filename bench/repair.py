"""Measure the repair loop on seeded-fault configurations of the corpus recipes.

    KERAS_BACKEND=torch python bench/repair.py                 # the table of bench/README.md
    KERAS_BACKEND=torch python bench/repair.py --write-readme
    KERAS_BACKEND=torch python bench/repair.py --families wine_mlp --faults lr_x1000 --seeds 1

Each configuration (a dense family of ``bench/corpus/recipes.py`` with one fault, data
drawn with seeds 100+ so that none is a corpus run) is trained three ways with the same
seed: as it is ("no repair"), with the generic recipe (learning rate / 3 and
EarlyStopping(patience=3, restore_best_weights=True), always), and through
``fitdoc.repair``. A result is *within noise* of the family's healthy control when its
final validation metric is at most the control's noise below the control's mean over the
same seeds; the noise is the largest of the spread of the control's final values over
the seeds, the mean ``fitdoc.analysis.noise_scale`` of its validation curves, and one
validation sample (the metric's resolution). Times are CPU seconds of this process
(one torch thread), steadier than wall-clock on a shared machine; a plain fit is one
``train`` call for all its epochs, and the repair's time includes its diagnoses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "corpus"), str(HERE.parent / "src")]

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

import recipes  # noqa: E402

from fitdoc.analysis import noise_scale  # noqa: E402
from fitdoc.repair import Budget, Split, repair  # noqa: E402
from fitdoc.workflow.repairing import KERAS_SETTINGS, keras_functions  # noqa: E402
from fitdoc.workflow.sweep import mlp  # noqa: E402

FAMILIES = ("wine_mlp", "cancer_mlp")
# Faults a change in the loop's action list undoes, and faults it cannot (kept apart).
REPAIRABLE = ("lr_x100", "lr_x1000", "inputs_x100", "sorted_split", "linear_output", "bce_softmax",
              "mse_loss", "tiny_data_big_model")
UNREPAIRABLE = ("shuffled_labels",)
SEEDS = (100, 101)
VALIDATION_SPLIT = 0.2
GENERIC = {"lr_scale": 1 / 3, "EarlyStopping": {"monitor": "val_loss", "patience": 3, "restore_best_weights": True}}
README = HERE / "README.md"
MARK_START, MARK_END = "<!-- repair:start -->", "<!-- repair:end -->"


def settings_of(spec: recipes.Spec) -> dict:
    """The recipe's spec as settings of the sweep's Dense stack."""
    return {"units": spec.hidden[0], "layers": len(spec.hidden), "activation": spec.activation,
            "dropout": spec.dropout, "output_activation": spec.out_activation, "loss": spec.loss,
            "optimizer": spec.optimizer, "learning_rate": spec.lr, "batch_size": spec.batch,
            "epochs": spec.epochs, "metrics": list(spec.metrics), **KERAS_SETTINGS}


def data_of(spec: recipes.Spec, seed: int) -> tuple:
    """(x_train, y_train, x_val, y_val) with the fault's data changes, the validation part
    the last 20 % of the (possibly sorted) samples, as ``validation_split`` takes it."""
    x, y = recipes.load(spec.data, seed)
    rng = np.random.default_rng(10_000 + seed)
    if spec.labels == "sorted":
        order = np.argsort(y, kind="stable")
        x, y = x[order], y[order]
    elif spec.labels == "shuffled":
        y = rng.permutation(y)
    cut = len(x) - int(round(len(x) * VALIDATION_SPLIT))
    n_train = spec.n_train or cut
    x = x * spec.input_scale
    return x[:n_train], y[:n_train], x[cut:], y[cut:]


def usable(family: str, fault: str | None) -> bool:
    f = recipes.fault(fault) if fault else None
    return family in recipes.FAMILIES and (f is None or family in f.families) and \
        len(set(recipes.FAMILIES[family].hidden)) == 1


def spec_of(family: str, fault: str | None) -> recipes.Spec:
    base = recipes.FAMILIES[family]
    return (recipes.fault(fault).apply(base) if fault else base).resolved()


def functions(seed: int):
    import keras

    build, train = keras_functions(mlp)

    def seeded(settings, data):
        keras.utils.set_random_seed(seed)
        return build(settings, data)

    return seeded, train


def run_config(family: str, fault: str | None, seed: int) -> dict:
    """No repair, generic recipe and fitdoc repair of one configuration and seed."""
    spec = spec_of(family, fault)
    settings, data = settings_of(spec), data_of(spec, seed)
    build, train = functions(seed)
    cpu = time.process_time()
    plain_history = train(build(settings, Split.of(data, None)), settings, settings["epochs"], Split.of(data, None))
    plain_seconds, cpu = time.process_time() - cpu, time.process_time()
    result = repair(build, train, data, settings)
    repair_seconds, cpu = time.process_time() - cpu, time.process_time()
    generic = {**settings, "learning_rate": settings["learning_rate"] * GENERIC["lr_scale"],
               "callbacks": {"EarlyStopping": GENERIC["EarlyStopping"]}}
    plain = repair(build, train, data, generic, budget=Budget(attempts=0))
    generic_seconds = time.process_time() - cpu
    first = result.attempts[0]
    metric = result.metric
    curve = np.asarray(first.history[metric], dtype=float)
    return {
        "family": family, "fault": fault or "control", "seed": seed, "metric": metric,
        "none": _last(plain_history[metric]), "generic": plain.score_of(plain.final), "repair": result.score_of(result.final),
        "noise": noise_scale(curve[np.isfinite(curve)]), "resolution": 1 / len(data[3]),
        "attempts": len(result.attempts) - 1, "changes": {k: str(v) for k, v in result.changes().items()},
        "plain_seconds": plain_seconds, "repair_seconds": repair_seconds,
        "generic_seconds": generic_seconds,
        "plain_epochs": first.epochs, "repair_epochs": result.epochs_trained,
        "findings": first.codes,
    }


def _last(values: list) -> float | None:
    value = float(values[-1])
    return value if np.isfinite(value) else None


FLOAT32 = 1e-6  # metrics come as float32: 34/36 is not exactly 0.9722 - 1/36


def within(value: float | None, control: dict) -> bool:
    return value is not None and value >= control["mean"] - control["tol"] - FLOAT32


def controls(rows: list[dict]) -> dict:
    out = {}
    for family in {r["family"] for r in rows}:
        runs = [r for r in rows if r["family"] == family and r["fault"] == "control"]
        values = [r["none"] for r in runs]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        noise = statistics.mean(r["noise"] for r in runs)
        out[family] = {"mean": statistics.mean(values), "tol": max(spread, noise, max(r["resolution"] for r in runs))}
    return out


def summary(rows: list[dict]) -> str:
    ctl = controls(rows)
    lines = ["| faults | configurations | method | within noise of control | mean gain (points) | attempts | training time vs plain fit (total, worst run) |",
             "|---|---:|---|---:|---:|---:|---:|"]
    groups = [("repairable", [r for r in rows if r["fault"] in REPAIRABLE]),
              ("not repairable", [r for r in rows if r["fault"] in UNREPAIRABLE])]
    for label, group in groups:
        if not group:
            continue
        for method in ("none", "generic", "repair"):
            hit = sum(within(r[method], ctl[r["family"]]) for r in group)
            gain = statistics.mean(100 * ((r[method] or 0) - (r["none"] or 0)) for r in group)
            attempts = statistics.mean(r["attempts"] for r in group) if method == "repair" else (0 if method == "none" else 1)
            seconds = {"none": "plain_seconds", "generic": "generic_seconds", "repair": "repair_seconds"}[method]
            ratio = sum(r[seconds] for r in group) / sum(r["plain_seconds"] for r in group)
            worst = max(r[seconds] / r["plain_seconds"] for r in group)
            lines.append(f"| {label} | {len(group)} | {method} | {hit}/{len(group)} ({100 * hit / len(group):.0f} %) "
                         f"| {gain:+.1f} | {attempts:.2g} | {ratio:.2f}x, {worst:.2f}x |")
    healthy = [r for r in rows if r["fault"] == "control"]
    lines += ["", f"Healthy controls: {len(healthy)} runs, {sum(r['attempts'] > 0 for r in healthy)} with an attempt made; "
              f"{sum(bool(r['changes']) for r in healthy)} changed."]
    return "\n".join(lines)


def detail(rows: list[dict]) -> str:
    ctl = controls(rows)
    lines = ["| configuration | seed | control | no repair | generic | repair | attempts | change kept | time (x plain) |",
             "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        c = ctl[r["family"]]
        mark = lambda v: f"{v:.3f}{' ✓' if within(v, c) else ''}" if v is not None else "—"  # noqa: E731
        change = ", ".join(f"{k}={v}" for k, v in r["changes"].items()) or "—"
        lines.append(f"| {r['family']} {r['fault']} | {r['seed']} | {c['mean']:.3f} ± {c['tol']:.3f} | {mark(r['none'])} "
                     f"| {mark(r['generic'])} | {mark(r['repair'])} | {r['attempts']} | {change.replace('|', '/')} "
                     f"| {r['repair_seconds'] / r['plain_seconds']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", nargs="*", default=FAMILIES)
    parser.add_argument("--faults", nargs="*", default=REPAIRABLE + UNREPAIRABLE)
    parser.add_argument("--seeds", type=int, default=len(SEEDS))
    parser.add_argument("--json", type=Path, default=None, help="Write every row here.")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = []
    for family in args.families:
        for fault in (None, *args.faults):
            if not usable(family, fault):
                continue
            for seed in SEEDS[: args.seeds]:
                rows.append(run_config(family, fault, seed))
                r = rows[-1]
                print(f"[{time.perf_counter() - start:.0f}s] {family} {r['fault']} s{seed}: none {r['none']:.3f} "
                      f"generic {r['generic']:.3f} repair {r['repair']:.3f} ({r['attempts']} attempts, "
                      f"{r['repair_seconds'] / r['plain_seconds']:.2f}x)", flush=True)
    elapsed = time.perf_counter() - start
    text = (f"{summary(rows)}\n\nMeasured in {elapsed:.0f} s ({len(rows)} configuration-seeds, families "
            f"{', '.join(args.families)}, seeds {', '.join(map(str, SEEDS[:args.seeds]))}).\n\n{detail(rows)}\n")
    print(text)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.write_readme:
        readme = README.read_text(encoding="utf-8")
        block = f"{MARK_START}\n{text}{MARK_END}"
        readme = re.sub(f"{re.escape(MARK_START)}.*?{re.escape(MARK_END)}", lambda m: block, readme, flags=re.S) \
            if MARK_START in readme else readme.rstrip() + "\n\n" + block + "\n"
        README.write_text(readme, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
