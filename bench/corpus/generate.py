"""Build the benchmark corpus: train every run, then label it.

    KERAS_BACKEND=torch python bench/corpus/generate.py            # train missing runs, label all
    KERAS_BACKEND=torch python bench/corpus/generate.py --label-only

Runs already trained (``meta.json`` present) are kept unless ``--force``. Labelling
reads only the saved records, so the rules in labels.py can change without retraining.
Writes ``runs/<run_id>/label.json``, and next to ``runs/``: ``effects.json`` (the
per-configuration effect test) and ``subset.txt`` (the fixed scoring subset). With the
default ``runs/`` it also refreshes the corpus summary in bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import multiprocessing as mp
import shutil
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import labels  # noqa: E402
import recipes  # noqa: E402

RUNS = HERE / "runs"
README = HERE.parent / "README.md"
MARK_START, MARK_END = "<!-- corpus:start -->", "<!-- corpus:end -->"
SUBSET_PER_CAUSE, SUBSET_PER_OTHER = 2, 6


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def _train(args):
    job, root = args
    import train

    try:
        return job.run_id, train.run(job, root), None
    except Exception as exc:  # a failed run is reported and left out, the build goes on
        shutil.rmtree(root / job.run_id, ignore_errors=True)
        return job.run_id, None, f"{type(exc).__name__}: {exc}"


def _cost(job: recipes.Job) -> float:
    steps = 1 if job.spec.batch >= 16 else 40
    return job.spec.epochs * steps * (2 if job.verbose1 else 1)


def train_all(jobs: list[recipes.Job], root: Path, workers: int, force: bool) -> None:
    todo = [j for j in jobs if force or not (root / j.run_id / "meta.json").exists()]
    todo.sort(key=_cost, reverse=True)
    print(f"training {len(todo)} of {len(jobs)} runs with {workers} workers", flush=True)
    start = time.perf_counter()
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker) as pool:
        for i, (run_id, meta, error) in enumerate(pool.imap_unordered(_train, [(j, root) for j in todo]), 1):
            status = f"FAILED {error}" if error else f"{meta['seconds']:.1f}s"
            print(f"[{i}/{len(todo)} {time.perf_counter() - start:.0f}s] {run_id} {status}", flush=True)
    print(f"training took {time.perf_counter() - start:.0f}s", flush=True)


def _load(path: Path) -> dict:
    with open(path) as fh:
        return json.load(fh)


def _reference(histories: list[dict], task: str) -> dict:
    if task == "regression":
        return {"train_loss": statistics.median(h["loss"][-1] for h in histories)}
    return {"train_accuracy": statistics.median(h["accuracy"][-1] for h in histories)}


def label_all(jobs: list[recipes.Job], root: Path) -> dict:
    """Write label.json for every trained run; return the effect test per configuration."""
    runs = {}
    for job in jobs:
        d = root / job.run_id
        if (d / "meta.json").exists():
            runs[job.run_id] = (job, _load(d / "history.json"), _load(d / "meta.json"))
    configs = defaultdict(list)
    for job, history, meta in runs.values():
        configs[(job.family, job.fault)].append((job, history, meta))

    effects = {}
    for (family, fault_name), members in sorted(configs.items()):
        controls = configs.get((family, "control"), [])
        if fault_name == "control" or not controls:
            continue
        fault = recipes.fault(fault_name)
        if fault.metric_only:
            shown, detail = labels.metric_effect_shows([h for _, h, _ in members]), {"rule": "metric"}
        else:
            ctrl = [labels.effect_stats(h, m, fault.loss_comparable) for _, h, m in controls]
            faulty = [labels.effect_stats(h, m, fault.loss_comparable) for _, h, m in members]
            shown, detail = labels.effect_shows(ctrl, faulty)
        effects[f"{family}__{fault_name}"] = {"shown": shown, "seeds": len(members), "stats": detail}

    for (family, fault_name), members in configs.items():
        controls = configs.get((family, "control"), [])
        if not controls:
            continue
        ref = _reference([h for _, h, _ in controls], recipes.FAMILIES[family].task)
        fault = recipes.fault(fault_name)
        shown = fault is not None and effects[f"{family}__{fault_name}"]["shown"]
        for job, history, _ in members:
            onsets = labels.symptoms(history, ref)
            harmful = {k: e for k, e in onsets.items() if k not in labels.BENIGN}
            starts = [e for e in harmful.values() if e is not None]
            label = {
                "kinds": sorted(onsets),
                "causes": list(fault.causes) if shown else [],
                "onset_epoch": min(starts) if starts else None,
                "best_epoch": labels.best_epoch(history),
                "healthy": not shown and not harmful,
                "onsets": onsets,
                "config": {
                    "family": family, "fault": fault_name, "seed": job.seed,
                    "effect_shown": shown if fault else None,
                    "seeded_causes": list(fault.causes) if fault else [],
                    "note": fault.note if fault else "healthy control",
                    "epochs": len(history["loss"]),
                    "spec": dataclasses.asdict(job.spec),
                },
            }
            with open(root / job.run_id / "label.json", "w") as fh:
                json.dump(label, fh, indent=1)
    return effects


def choose_subset(root: Path) -> list[str]:
    """A fixed, stratified subset: 2 runs per cause, 6 healthy runs, 6 other runs."""
    groups = defaultdict(list)
    for path in sorted(root.glob("*/label.json")):
        label = _load(path)
        key = label["causes"][0] if label["causes"] else ("healthy" if label["healthy"] else "other")
        groups[key].append(path.parent.name)
    chosen = []
    for key in sorted(groups):
        ranked = sorted(groups[key], key=lambda r: hashlib.sha256(r.encode()).hexdigest())
        n = SUBSET_PER_OTHER if key in ("healthy", "other") else SUBSET_PER_CAUSE
        chosen += ranked[:n]
    return sorted(chosen)


def describe(effects: dict, root: Path) -> str:
    """Markdown summary of the labelled corpus for bench/README.md."""
    labels_ = [_load(p) for p in sorted(root.glob("*/label.json"))]
    metas = [_load(p) for p in sorted(root.glob("*/meta.json"))]
    causes = Counter(c for label in labels_ for c in label["causes"])
    kinds = Counter(k for label in labels_ for k in label["kinds"])
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    lines = [
        f"{len(labels_)} runs ({sum(l['healthy'] for l in labels_)} labelled healthy, "
        f"{sum(l['config']['fault'] == 'control' for l in labels_)} controls), "
        f"{sum(1 for _ in root.glob('*/stdout_verbose1.txt'))} with a verbose=1 record; "
        f"{size / 2**20:.1f} MiB; training time summed over runs {sum(m['seconds'] for m in metas) / 60:.0f} min.",
        "",
        "| cause | runs |", "|---|---|",
        *(f"| {c} | {n} |" for c, n in sorted(causes.items())),
        "",
        "| kind | runs |", "|---|---|",
        *(f"| {k} | {n} |" for k, n in sorted(kinds.items())),
        "",
        "Configurations whose effect does not show against their controls (their runs carry no "
        "cause and are labelled by what their curves show):",
        "",
        *(f"- `{k}`" for k, v in sorted(effects.items()) if not v["shown"]),
    ]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = README.read_text()
    if MARK_START in readme:
        head, rest = readme.split(MARK_START, 1)
        README.write_text(f"{head}{MARK_START}\n{text}\n{MARK_END}{rest.split(MARK_END, 1)[1]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", help="train only runs whose id contains this text")
    parser.add_argument("--force", action="store_true", help="retrain runs already present")
    parser.add_argument("--label-only", action="store_true")
    parser.add_argument("--runs", type=Path, default=RUNS)
    args = parser.parse_args(argv)

    jobs = recipes.jobs()
    args.runs.mkdir(parents=True, exist_ok=True)
    if not args.label_only:
        selected = [j for j in jobs if not args.only or args.only in j.run_id]
        train_all(selected, args.runs, args.workers, args.force)
    effects = label_all(jobs, args.runs)
    with open(args.runs.parent / "effects.json", "w") as fh:
        json.dump(effects, fh, indent=1, sort_keys=True)
    (args.runs.parent / "subset.txt").write_text("\n".join(choose_subset(args.runs)) + "\n")
    summary = describe(effects, args.runs)
    print(summary)
    if args.runs == RUNS:
        write_readme(summary)


if __name__ == "__main__":
    main()
