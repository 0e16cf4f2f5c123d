"""Sweep model variants: train each with a validation split, let fitdoc choose its
best epoch, rebuild it from scratch, train on train+validation for that many epochs,
and evaluate on the test set.

A spec is a Python file or a YAML file. A Python spec defines::

    def load_data():            # -> (x_train, y_train, x_test, y_test)
        ...
    def build_model(params, input_shape, n_outputs):   # optional; default: mlp()
        ...                     # a keras.Model, compiled or not
    BASE = {"units": 64, "activation": "relu", "loss": "categorical_crossentropy",
            "optimizer": "rmsprop", "learning_rate": 1e-3, "batch_size": 512, "epochs": 20}
    VARIANTS = [{"name": "64 units"}, {"name": "32 units", "units": 32}]
    VALIDATION = 1000           # samples (int) or fraction (float) held out of x_train
    SEEDS = 1

A YAML spec has the same keys in lower case, with ``data: file.py:function`` (or
``module:function``) and ``model: mlp`` (the default) or ``file.py:function``.
Either kind of spec runs code (the Python file, or the file or module a YAML spec
names): trust a spec as you would a Python script.

Keras 3 is imported only here, with ``KERAS_BACKEND=torch`` unless set otherwise.
Every finished (variant, seed) writes its history, report and results under the work
directory (each file through a temporary file and a rename, so a kill leaves no half
file); a rerun skips those whose parameters have not changed and reruns one whose
``result.json`` is damaged.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .. import atomic
from ..errors import FitdocError
from ..output import html
from .table import Table, findings_cell, fmt

DEFAULTS = {
    "units": 64, "layers": 2, "activation": "relu", "dropout": 0.0, "output_activation": "softmax",
    "loss": "categorical_crossentropy", "optimizer": "rmsprop", "learning_rate": 1e-3,
    "batch_size": 512, "epochs": 20, "metrics": ["accuracy"],
}


@dataclass
class SweepSpec:
    name: str
    load_data: Callable
    build_model: Callable
    base: dict
    variants: list[dict]
    validation: float | int = 0.2
    seeds: int = 1
    source: str = ""

    def params(self, variant: dict) -> dict:
        return {**DEFAULTS, **self.base, **{k: v for k, v in variant.items() if k != "name"}}


def mlp(params: dict, input_shape: tuple, n_outputs: int):
    """Dense layers (``layers`` x ``units``, ``activation``, optional ``dropout``) and a dense output."""
    import keras

    stack = [keras.Input(shape=input_shape)]
    for _ in range(params["layers"]):
        stack.append(keras.layers.Dense(params["units"], activation=params["activation"]))
        if params["dropout"]:
            stack.append(keras.layers.Dropout(params["dropout"]))
    stack.append(keras.layers.Dense(n_outputs, activation=params["output_activation"]))
    return keras.Sequential(stack)


def load_spec(path: str | Path) -> SweepSpec:
    """Read a sweep spec from a ``.py`` or ``.yaml``/``.yml`` file."""
    path = Path(path)
    if not path.is_file():
        raise FitdocError(str(path), "no such sweep spec")
    if path.suffix == ".py":
        module = _import_file(path)
        values = {k.lower(): getattr(module, k) for k in dir(module) if k.isupper()}
        values["data"] = getattr(module, "load_data", None)
        values["model"] = getattr(module, "build_model", mlp)
    elif path.suffix in (".yaml", ".yml"):
        import yaml

        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        values["data"] = _resolve(values.get("data"), path)
        values["model"] = mlp if values.get("model", "mlp") == "mlp" else _resolve(values["model"], path)
    else:
        raise FitdocError(str(path), "a sweep spec is a .py or .yaml file")
    if not callable(values.get("data")):
        raise FitdocError(str(path), "the spec names no data loader (load_data() or data: file.py:function)")
    variants = list(values.get("variants") or [{"name": "base"}])
    for i, v in enumerate(variants):
        v.setdefault("name", f"variant {i + 1}")
    names = [v["name"] for v in variants]
    if len(set(names)) != len(names):
        raise FitdocError(str(path), f"variant names must be distinct, got {names}")
    return SweepSpec(
        name=values.get("name", path.stem), load_data=values["data"], build_model=values["model"],
        base=dict(values.get("base") or {}), variants=variants,
        validation=values.get("validation", 0.2), seeds=int(values.get("seeds", 1)), source=str(path),
    )


def _import_file(path: Path):
    name = f"fitdoc_spec_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ beside the user's file
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes
    return module


def _resolve(ref, spec_path: Path) -> Callable:
    """``file.py:function`` (relative to the spec) or ``package.module:function``."""
    if not isinstance(ref, str) or ":" not in ref:
        raise FitdocError(str(spec_path), f"expected 'file.py:function' or 'module:function', got {ref!r}")
    target, func = ref.rsplit(":", 1)
    module = _import_file(spec_path.parent / target) if target.endswith(".py") else importlib.import_module(target)
    return getattr(module, func)


@dataclass
class Data:
    """The fixed split every variant sees."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_outputs(self) -> int:
        y = self.y_train
        return y.shape[1] if y.ndim == 2 else int(max(y.max(), self.y_val.max(), self.y_test.max())) + 1

    def targets(self, y: np.ndarray, loss: str) -> np.ndarray:
        """Integer labels for sparse losses, one-hot rows for the others."""
        if y.ndim == 2 or loss.startswith("sparse") or self.n_outputs == 1:
            return y
        return np.eye(self.n_outputs, dtype="float32")[y]


def split_data(loaded, validation: float | int, seed: int = 0) -> Data:
    """Hold ``validation`` samples (count or fraction) of the training set out, after a fixed shuffle."""
    if len(loaded) == 2:
        (x_train, y_train), (x_test, y_test) = loaded
    else:
        x_train, y_train, x_test, y_test = loaded
    x_train, y_train, x_test, y_test = (np.asarray(a) for a in (x_train, y_train, x_test, y_test))
    n_val = int(validation) if isinstance(validation, int) else int(round(len(x_train) * validation))
    if not 0 < n_val < len(x_train):
        raise FitdocError("sweep spec", f"validation must leave both parts non-empty, got {validation!r} of {len(x_train)}")
    order = np.random.default_rng(seed).permutation(len(x_train))
    val, train = order[:n_val], order[n_val:]
    return Data(x_train[train], y_train[train], x_train[val], y_train[val], x_test, y_test)


class Reporter:
    """Progress of a sweep: a rich progress bar on a terminal, one line per epoch elsewhere."""

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.progress = None

    def __enter__(self):
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=self.console, transient=True)
            self.progress.start()
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.stop()

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def phase(self, label: str, total: int) -> Callable[[int, dict], None]:
        """A callback ``(epoch, logs)`` for one training phase of ``total`` epochs."""
        task = self.progress.add_task(label, total=total) if self.progress else None

        def on_epoch(epoch: int, logs: dict) -> None:
            values = " ".join(f"{k}={v:.4g}" for k, v in logs.items() if k in ("loss", "val_loss", "accuracy", "val_accuracy"))
            if self.progress:
                self.progress.update(task, completed=epoch, description=f"{label} {values}")
                if epoch >= total:
                    self.progress.remove_task(task)
            else:
                self.message(f"{label} epoch {epoch}/{total} {values}")

        return on_epoch


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "variant"


def folder_names(names: list[str]) -> dict[str, str]:
    """A distinct work folder name per variant name: its slug, with a hash of the name
    added where two names give the same slug (``"宽"``/``"窄"``, ``"lr 1e-3"``/``"lr/1e-3"``;
    case is ignored, as some file systems do)."""
    slugs = {name: _slug(name) for name in names}
    count: dict[str, int] = {}
    for slug in slugs.values():
        count[slug.lower()] = count.get(slug.lower(), 0) + 1
    return {name: slug if count[slug.lower()] == 1 and slug != "variant" else f"{slug}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
            for name, slug in slugs.items()}


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    return keras


def _epoch_callback(keras, on_epoch):
    class EpochProgress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            on_epoch(epoch + 1, {k: float(v) for k, v in (logs or {}).items()})

    return EpochProgress()


def _model(keras, spec: SweepSpec, params: dict, data: Data):
    model = spec.build_model(params, data.x_train.shape[1:], data.n_outputs)
    if not getattr(model, "compiled", False):
        optimizer = keras.optimizers.get({"class_name": params["optimizer"],
                                          "config": {"learning_rate": params["learning_rate"]}})
        model.compile(optimizer=optimizer, loss=params["loss"], metrics=list(params["metrics"]))
    return model


def retrain_length(report: dict, trained: int, steps_split: int, steps_full: int, match: str) -> int:
    """Epochs to retrain on train+validation: the recommended count (all epochs when the run
    was still improving), scaled to the same number of updates when ``match == "updates"``."""
    epochs = report.get("recommended_epochs") or trained
    if match == "updates":
        epochs = max(1, round(epochs * steps_split / steps_full))
    return int(epochs)


def run_one(spec: SweepSpec, variant: dict, seed: int, data: Data, folder: Path, *,
            match: str = "epochs", lang: str = "en", reporter: Reporter | None = None) -> dict:
    """Train, diagnose, retrain and test one variant with one seed; write its history and
    results to ``folder``."""
    keras = _keras()
    reporter = reporter or Reporter()
    params = spec.params(variant)
    bs = int(params["batch_size"])
    y_train, y_val = data.targets(data.y_train, params["loss"]), data.targets(data.y_val, params["loss"])
    label = f"{variant['name']} · seed {seed}"
    started = time.perf_counter()

    keras.utils.set_random_seed(seed)
    model = _model(keras, spec, params, data)
    history = model.fit(data.x_train, y_train, validation_data=(data.x_val, y_val), epochs=int(params["epochs"]),
                        batch_size=bs, verbose=0, shuffle=True,
                        callbacks=[_epoch_callback(keras, reporter.phase(f"fit {label}", int(params["epochs"])))])
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_text(folder / "history.json", json.dumps({k: [float(v) for v in vs] for k, vs in history.history.items()}))
    report = diagnose_history(folder, lang)

    steps_split = math.ceil(len(data.x_train) / bs)
    steps_full = math.ceil((len(data.x_train) + len(data.x_val)) / bs)
    epochs = retrain_length(report, len(report["epochs"]), steps_split, steps_full, match)
    keras.utils.set_random_seed(seed)
    final = _model(keras, spec, params, data)
    final.fit(np.concatenate([data.x_train, data.x_val]), np.concatenate([y_train, y_val]), epochs=epochs,
              batch_size=bs, verbose=0, shuffle=True,
              callbacks=[_epoch_callback(keras, reporter.phase(f"retrain {label}", epochs))])
    test = final.evaluate(data.x_test, data.targets(data.y_test, params["loss"]), batch_size=bs,
                          verbose=0, return_dict=True)
    result = {
        "variant": variant["name"], "seed": seed, "key": _key(params, seed, spec, match), "params": params,
        "changed": {k: v for k, v in variant.items() if k != "name"},
        "best_epoch": report["best_epoch"], "best_epoch_metric": report["best_epoch_metric"],
        "best_epoch_reason": report.get("best_epoch_reason"),
        "at_best": {m: _at(report, m) for m in report["series"] if m.startswith("val_")},
        "trained_epochs": len(report["epochs"]), "retrain_epochs": epochs, "match": match,
        "steps_per_epoch": {"split": steps_split, "full": steps_full},
        "samples": {"train": len(data.x_train), "val": len(data.x_val), "test": len(data.x_test)},
        "test": {k: float(v) for k, v in test.items()},
        "verdict": report["verdict"], "findings": [{"code": f["code"], "kind": f["kind"]} for f in report["findings"]],
        "seconds": round(time.perf_counter() - started, 2),
    }
    atomic.write_text(folder / "result.json", json.dumps(result, ensure_ascii=False, indent=1))
    reporter.message(f"done {label}: best epoch {fmt(report['best_epoch'])}, retrained {epochs} epochs, "
                     + " ".join(f"test {k}={v:.4g}" for k, v in result["test"].items()))
    return result


def diagnose_history(folder: Path, lang: str) -> dict:
    """The report dict of the split run saved in ``folder``."""
    import fitdoc

    return fitdoc.diagnose(fitdoc.read(folder / "history.json"), lang=lang).to_dict()


def _at(report: dict, metric: str) -> float | None:
    best = report.get("best_epoch")
    values = report["series"][metric]
    if best is None:
        return next((v for v in reversed(values) if v is not None), None)
    return values[report["epochs"].index(best)]


def _key(params: dict, seed: int, spec: SweepSpec, match: str) -> str:
    text = json.dumps({"params": params, "seed": seed, "validation": spec.validation, "match": match},
                      sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def sweep(spec: SweepSpec | str | Path, work_dir: str | Path, *, seeds: int | None = None, match: str = "epochs",
          lang: str = "en", reporter: Reporter | None = None) -> SweepResult:
    """Run every (variant, seed) not already finished in ``work_dir`` and collect the results."""
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    if match not in ("epochs", "updates"):
        raise FitdocError("sweep", f"match must be 'epochs' or 'updates', got {match!r}")
    work = Path(work_dir)
    reporter = reporter or Reporter()
    n_seeds = seeds or spec.seeds
    data = None
    results, reports = [], []
    folders = folder_names([v["name"] for v in spec.variants])
    with reporter:
        for variant in spec.variants:
            for seed in range(n_seeds):
                folder = work / folders[variant["name"]] / f"seed{seed}"
                done = _finished(folder, _key(spec.params(variant), seed, spec, match), reporter)
                if done:
                    reporter.message(f"skip {variant['name']} · seed {seed}: finished in {folder}")
                else:
                    data = data or split_data(spec.load_data(), spec.validation)
                    done = run_one(spec, variant, seed, data, folder, match=match, lang=lang, reporter=reporter)
                results.append(done)
                reports.append(diagnose_history(folder, lang))
    return SweepResult(spec.name, results, reports, lang)


def _finished(folder: Path, key: str, reporter: Reporter) -> dict | None:
    """The saved result of a (variant, seed) with this key; None to run it (again)."""
    path = folder / "result.json"
    if not (path.is_file() and (folder / "history.json").is_file()):
        return None
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeError):
        result = None
    if not isinstance(result, dict):
        reporter.message(f"{path} is cut or damaged: this variant runs again")
        return None
    return result if result.get("key") == key else None


def mean_std(values: list) -> str:
    """``mean ± std`` (sample std) of the non-missing values; the value alone for one."""
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return fmt(float(values[0]))
    return f"{np.mean(values):.4g} ± {np.std(values, ddof=1):.2g}"


@dataclass
class SweepResult:
    """All (variant, seed) results of a sweep and the diagnosed split runs."""

    name: str
    results: list[dict]
    reports: list[dict]
    lang: str = "en"
    variants: list[str] = field(init=False)

    def __post_init__(self):
        self.variants = list(dict.fromkeys(r["variant"] for r in self.results))

    def of(self, variant: str) -> list[dict]:
        return [r for r in self.results if r["variant"] == variant]

    @property
    def test_metric(self) -> str:
        """The test metric variants are ranked by: accuracy when measured (losses may differ)."""
        names = self.results[0]["test"] if self.results else {}
        return "accuracy" if "accuracy" in names else "loss"

    def ranked(self) -> list[str]:
        sign = -1.0 if self.test_metric == "accuracy" else 1.0
        return sorted(self.variants, key=lambda v: sign * np.mean([r["test"][self.test_metric] for r in self.of(v)]))

    def table(self) -> Table:
        t = html.texts(self.lang)
        val_metrics = list(dict.fromkeys(m for r in self.results for m in r["at_best"]))
        test_metrics = list(dict.fromkeys(m for r in self.results for m in r["test"]))
        columns = [t["variant"], t["params"], t["seeds"], t["best_epoch"],
                   *(t["val_at_best"].format(metric=m) for m in val_metrics), t["retrain_epochs"],
                   *(t["test_metric"].format(metric=m) for m in test_metrics), t["findings"]]
        rows = []
        for variant in self.ranked():
            rs = self.of(variant)
            changed = ", ".join(f"{k}={v}" for k, v in rs[0]["changed"].items()) or t["none"]
            findings = findings_cell([f for r in rs for f in r["findings"]], self.lang)
            rows.append([variant, changed, str(len(rs)), mean_std([r["best_epoch"] for r in rs]),
                         *(mean_std([r["at_best"].get(m) for r in rs]) for m in val_metrics),
                         mean_std([r["retrain_epochs"] for r in rs]),
                         *(mean_std([r["test"].get(m) for r in rs]) for m in test_metrics), findings])
        numeric = set(range(2, 4 + len(val_metrics) + 1 + len(test_metrics)))
        return Table(t["results"], columns, rows, self.notes(), numeric, optional=[1], detail=len(columns) - 1)

    def notes(self) -> list[str]:
        if not self.results:
            return []
        t = html.texts(self.lang)
        first = self.results[0]
        n, steps = first["samples"], first["steps_per_epoch"]
        seeds = ", ".join(str(s) for s in sorted({r["seed"] for r in self.results}))
        ratio = steps["full"] / steps["split"]
        best = self.ranked()[0]
        value = mean_std([r["test"][self.test_metric] for r in self.of(best)])
        caveat = t["caveat_updates"] if first["match"] == "updates" else t["caveat_epochs"]
        still = [t["still_improving_note"]] if any(r["best_epoch"] is None for r in self.results) else []
        return [
            t["sweep_setup"].format(n_train=n["train"], n_val=n["val"], n_full=n["train"] + n["val"],
                                    n_test=n["test"], seeds=seeds),
            caveat.format(ratio=ratio, extra=ratio - 1, steps_full=steps["full"], steps_split=steps["split"]),
            t["best_variant"].format(variant=best, metric=self.test_metric, value=value),
            *still,
        ]

    def to_dict(self) -> dict:
        return {"name": self.name, "ranked": self.ranked(), "results": self.results, "notes": self.notes()}

    def to_markdown(self) -> str:
        return self.table().to_markdown()

    def to_html(self) -> html.HtmlReport:
        labels = [f"{r['variant']} · seed {r['seed']}" for r in self.results]
        return html.render(self.reports, labels=labels, lang=self.lang, groups=[r["variant"] for r in self.results],
                           title=f"{html.texts(self.lang)['sweep_title']}: {self.name}", tables=[self.table()])

    def _repr_html_(self) -> str:
        return self.to_html()._repr_html_()
