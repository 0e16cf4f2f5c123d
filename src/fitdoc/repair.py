"""The repair loop: train, diagnose, apply the report's top fix action, retrain, and keep
the change only when the validation metric beats the attempt it started from by more
than that metric's measured noise; then the next action, until the run is healthy or
the budget is spent.

It drives the user's own functions through a small protocol, framework-free::

    build(settings, data) -> model
    train(model, settings, epochs, data) -> {"loss": [...], "val_loss": [...], ...}

``settings`` is a plain dict (``learning_rate``, ``batch_size``, ``epochs``, ``clipnorm``,
``dropout``, ``weight_decay``, ``units``, ``activation``, ``loss``, ``output_activation``
are the keys actions change);
``train`` trains ``epochs`` more epochs of ``model`` with the settings in force
(``learning_rate`` and ``batch_size`` may change between calls) and returns the
history of those epochs; ``data`` is a :class:`Split`. The loop calls ``train`` one epoch
at a time, so that it can keep the best weights (models with ``get_weights`` or
``state_dict``), stop early, lower the rate on a plateau and stop at the first NaN
itself. It never writes a file: the change is printed for the user to make.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .analysis import noise_scale
from .names import canonical, higher_is_better
from .rules.preflight import Setup
from .run import build_run

# The setting each ``param`` action changes. Settings are read by the user's build/train: a
# key the settings lack is one they do not read, and its actions are skipped; the loop
# applies LOOP_KEYS itself.
PARAMS = {"learning_rate": "learning_rate", "batch_size": "batch_size", "num_epochs": "epochs",
          "gradient_clip_norm": "clipnorm", "dropout": "dropout"}
LOOP_DATA = {"shuffle_before_split": "shuffle_split", "normalise_inputs": "normalise_inputs"}
LOOP_KEYS = ("callbacks", *LOOP_DATA.values())
EPOCH_BUDGET = 3.0  # default: all attempts together train at most this many times the planned epochs
TIME_BUDGET = 2.5  # ... and at most this many times the first run's training time, in CPU seconds of
# this process (steady on a loaded machine): within 3x a plain fit with the loop's own costs
MAX_ATTEMPTS = 8
LR_JUMP = 10  # the second step tried for a learning-rate action
TRIAL_SHARE, MIN_TRIAL = 0.2, 5  # a change is first tried for this share of the planned epochs
SPLIT_SEED = 0
ACTING = ("warning", "error")  # severities that start a repair; info findings never do


@dataclass
class Split:
    """The data every attempt trains on: a training and a validation part."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    @classmethod
    def of(cls, data, validation_split: float | None) -> Split:
        """``(x_train, y_train, x_val, y_val)``, or ``(x, y)`` whose last ``validation_split``
        share is held out as Keras' ``validation_split`` does (no shuffle)."""
        if isinstance(data, Split):
            return data
        arrays = [np.asarray(a) for a in data]
        if len(arrays) == 4:
            return cls(*arrays)
        if len(arrays) != 2 or not validation_split or not 0 < validation_split < 1:
            raise ValueError("data is (x_train, y_train, x_val, y_val), or (x, y) with 0 < validation_split < 1")
        x, y = arrays
        cut = len(x) - int(round(len(x) * validation_split))
        return cls(x[:cut], y[:cut], x[cut:], y[cut:])

    @property
    def validation_split(self) -> float:
        return len(self.x_val) / (len(self.x_train) + len(self.x_val))

    def shuffled(self) -> Split:
        """The same parts' sizes after one fixed shuffle of all samples."""
        x, y = np.concatenate([self.x_train, self.x_val]), np.concatenate([self.y_train, self.y_val])
        order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
        cut = len(self.x_train)
        return Split(x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]])

    def normalised(self) -> Split:
        """Inputs standardised with the training part's statistics (what a Keras
        ``Normalization`` layer adapted on the training data does)."""
        mean, std = self.x_train.mean(0), self.x_train.std(0) + 1e-8
        scale = lambda x: ((x - mean) / std).astype(self.x_train.dtype)  # noqa: E731
        return Split(scale(self.x_train), self.y_train, scale(self.x_val), self.y_val)


def matching_pair(y: np.ndarray) -> tuple[str, str]:
    """The (loss, last activation) the labels call for."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return "categorical_crossentropy", "softmax"
    if np.issubdtype(y.dtype, np.integer) or (np.all(y == np.round(y)) and len(np.unique(y)) <= max(2, len(y) // 10)):
        return "sparse_categorical_crossentropy", "softmax"
    return "mse", "linear"


def _sig(x: float) -> float:
    return float(f"{x:.3g}")


def _scaled(value, action: dict, integer: bool = False):
    """The action's target: its ``to``, or the setting times its ``scale``."""
    new = action["to"] if "to" in action else value * action["scale"]
    return max(1, int(round(new))) if integer else _sig(new)


def changes_of(action: dict, settings: dict, data: Split) -> list[dict]:
    """The settings an action sets (``{key: value}``): the report's step, and for the
    learning rate a tenfold step the same way after it. A change needs its keys in
    ``settings`` (the user's functions read them) unless the loop applies it itself;
    [] when the loop cannot apply the action."""
    change = change_of(action, settings, data)
    if change is None or any(k not in settings and k not in LOOP_KEYS for k in change):
        return []
    if "learning_rate" not in change:
        return [change]
    lr = settings["learning_rate"]
    return [change, {"learning_rate": _sig(lr * (LR_JUMP if change["learning_rate"] > lr else 1 / LR_JUMP))}]


def change_of(action: dict, settings: dict, data: Split) -> dict | None:
    """The settings an action sets, or None when it is not one the loop can apply."""
    param, callback, kind = action.get("param"), action.get("callback"), action.get("data") or action.get("model")
    if param in PARAMS:
        key = PARAMS[param]
        if key not in settings or ("to" not in action and settings[key] is None):
            return None
        value = _scaled(settings[key], action, integer=key in ("batch_size", "epochs"))
        return {key: min(len(data.x_train), value) if key == "batch_size" else value}
    if callback in ("EarlyStopping", "ReduceLROnPlateau"):
        rest = {k: v for k, v in action.items() if k != "callback"}
        return {"callbacks": {**settings.get("callbacks", {}), callback: rest}}
    if kind in LOOP_DATA:
        return {LOOP_DATA[kind]: True}
    if kind == "match_loss_to_activation":
        loss, activation = matching_pair(data.y_train)
        return {"loss": loss, "output_activation": activation}
    if kind == "add_regularisation":
        return {"dropout": max(float(settings.get("dropout") or 0.0), action["dropout"]),
                "weight_decay": action["weight_decay"]}
    if kind == "add_capacity":
        return {"units": int(settings.get("units", 0) * action["scale"])}
    if kind == "leaky_activation":
        return {"activation": "leaky_relu"}
    return None


@dataclass
class Budget:
    """When the loop stops: attempts after the first run, epochs of all runs together
    (default ``EPOCH_BUDGET`` times the planned epochs), wall-clock seconds (default: CPU
    seconds, ``TIME_BUDGET`` times the first run's training). An attempt starts only when
    the epochs and the seconds it is expected to take (at the pace so far) fit in what
    is left."""

    attempts: int = MAX_ATTEMPTS
    epochs: int | None = None
    seconds: float | None = None


def _weights(model):
    if hasattr(model, "get_weights"):
        return model.get_weights()
    if hasattr(model, "state_dict"):
        return copy.deepcopy(model.state_dict())
    return None


def _set_weights(model, weights) -> None:
    if hasattr(model, "set_weights"):
        model.set_weights(weights)
    else:
        model.load_state_dict(weights)


class Training:
    """A model the loop trains one epoch per call of ``train``, acting between epochs as
    the settings' callbacks say: EarlyStopping, ReduceLROnPlateau, and a stop at the first
    NaN loss. It keeps the weights of each new best ``val_loss`` (models with
    ``get_weights`` or ``state_dict``), so that an early stop can be replayed later."""

    def __init__(self, build: Callable, train: Callable, settings: dict, data: Split):
        start = time.process_time()
        self.train, self.data = train, data
        self.live = dict(settings)  # the settings in force (a plateau lowers the rate)
        self.model = build(dict(settings), data)
        callbacks = settings.get("callbacks", {})
        self.stop, self.plateau = callbacks.get("EarlyStopping"), callbacks.get("ReduceLROnPlateau")
        self.history: dict[str, list[float]] = {}
        self.best, self.best_epoch, self.since_best, self.since_lr = math.inf, None, 0, 0
        self.snapshots: dict[int, object] = {}
        self.stopped: str | None = None
        self.seconds = time.process_time() - start  # CPU seconds of this process

    @property
    def epochs(self) -> int:
        return len(next(iter(self.history.values()), []))

    def advance(self, epochs: int, over: Callable[[], bool] = lambda: False) -> int:
        """Train up to ``epochs`` more epochs; the number trained."""
        start, done = time.process_time(), 0
        while done < epochs and not self.stopped:
            row = self.train(self.model, dict(self.live), 1, self.data)
            done += 1
            for k, v in row.items():
                self.history.setdefault(canonical(k), []).append(float(np.ravel(v)[-1]))
            self._after_epoch(over)
        self.seconds += time.process_time() - start
        return done

    def _after_epoch(self, over: Callable[[], bool]) -> None:
        epoch = self.epochs
        watched = self.history.get("val_loss", self.history.get("loss"))[-1]
        if watched < self.best:
            self.best, self.best_epoch, self.since_best, self.since_lr = watched, epoch, 0, 0
            self.snapshots[epoch] = _weights(self.model)
        else:
            self.since_best, self.since_lr = self.since_best + 1, self.since_lr + 1
        if not math.isfinite(self.history.get("loss", [0.0])[-1]):
            self.stopped = "nan"
        elif self.stop and self.since_best >= int(self.stop["patience"]):
            self.stopped = "early_stopping"
        elif over():
            self.stopped = "budget"
        if self.plateau and self.since_lr >= int(self.plateau["patience"]):
            self.live["learning_rate"] = float(self.live["learning_rate"]) * float(self.plateau["factor"])
            self.since_lr = 0

    def restore(self) -> int | None:
        """Load the best epoch's weights when EarlyStopping says so; that epoch."""
        if not (self.stop and self.stop.get("restore_best_weights")) or self.best_epoch in (None, self.epochs):
            return None
        return self.roll_back(self.best_epoch)

    def roll_back(self, epoch: int) -> int | None:
        """Load the weights kept at ``epoch``; ``epoch``, or None when none were kept."""
        weights = self.snapshots.get(epoch)
        if weights is None:
            return None
        _set_weights(self.model, weights)
        return epoch


@dataclass
class Attempt:
    """One row of the loop: a run, a trial of a change, a replayed early stop, or a trial
    trained to the planned epochs; and what it measured."""

    index: int
    settings: dict
    change: dict  # the settings changed against the attempt it is compared with
    action: dict | None  # the report's action, None for the first run
    fix: str | None  # the report's sentence for it
    finding: str | None  # the code of the finding whose fix it is
    history: dict
    epochs: int  # epochs this row trained (0: read off an earlier record)
    seconds: float
    score: float = -math.inf  # the monitored metric (higher is better) of the weights it ends with
    noise: float = 0.0
    kind: str = "run"  # run | trial | replay | finish
    kept: bool = False
    base: int | None = None  # the attempt it was compared with
    base_score: float | None = None  # that attempt's score over the same epochs
    margin: float = 0.0  # what it had to beat that score by: the larger noise of the two curves
    origin: int | None = None  # the trial a "finish" row trains on
    stopped: str | None = None  # why it ended before its planned epochs: nan, early_stopping, budget
    restored_epoch: int | None = None
    verdict: str = ""
    codes: list[str] = field(default_factory=list)  # its warning and error findings
    report: object = field(default=None, repr=False)
    training: Training | None = field(default=None, repr=False)

    @property
    def length(self) -> int:
        return len(next(iter(self.history.values()), []))

    def to_dict(self) -> dict:
        return {
            "attempt": self.index, "kind": self.kind, "trains_on": self.origin, "action": self.action, "fix": self.fix,
            "finding": self.finding, "change": _plain(self.change), "epochs": self.epochs,
            "length": self.length, "seconds": round(self.seconds, 2), "noise": _finite(self.noise),
            "margin": _finite(self.margin),
            "kept": self.kept, "compared_with": self.base, "verdict": self.verdict, "findings": self.codes,
            "restored_epoch": self.restored_epoch, "stopped": self.stopped,
        }


def _finite(x):
    return float(x) if x is not None and math.isfinite(x) else None


def _plain(d: dict) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in d.items()}


class _Loop:
    def __init__(self, build, train, data: Split, settings: dict, monitor: str | None, budget: Budget,
                 lang: str, on_attempt: Callable | None):
        self.build, self.train, self.data0, self.lang = build, train, data, lang
        self.settings0 = dict(settings)
        self.planned = int(settings.get("epochs") or 0)
        if self.planned < 1:  # the first run's epochs; a fix may change them for its own attempt
            raise ValueError("settings need 'epochs', the number of epochs a plain fit trains")
        self.monitor, self.budget = monitor, budget
        self.epoch_budget = budget.epochs or int(EPOCH_BUDGET * self.planned)
        self.trial_epochs = max(MIN_TRIAL, round(TRIAL_SHARE * self.planned))
        self.on_attempt = on_attempt or (lambda attempt: None)
        # user seconds are wall-clock; the default budget is CPU time, set after the first run
        self.clock = time.perf_counter if budget.seconds is not None else time.process_time
        self.started, self.limit = self.clock(), budget.seconds or math.inf
        self.attempts: list[Attempt] = []
        self.tried: list[dict] = [self.settings0]

    @property
    def spent(self) -> int:
        return sum(a.epochs for a in self.attempts)

    def data(self, settings: dict) -> Split:
        data = self.data0.shuffled() if settings.get("shuffle_split") else self.data0
        return data.normalised() if settings.get("normalise_inputs") else data

    # -- measuring ------------------------------------------------------------------
    def metric(self, history: dict) -> str:
        if self.monitor:
            return canonical(self.monitor)
        return next((n for n in history if n.startswith("val_") and higher_is_better(n)),
                    "val_loss" if "val_loss" in history else "loss")

    def score(self, history: dict, restored: int | None = None, upto: int | None = None) -> tuple[float, float]:
        """The monitored metric at ``restored`` (else at epoch ``upto``, else the last), oriented
        so that higher is better (-inf where a loss is NaN/Inf: a broken model), and the
        noise of its curve up to there (``fitdoc.analysis.noise_scale``)."""
        name = self.metric(history)
        if name not in history:
            raise ValueError(f"train() returned no {name!r}; it returned {sorted(history)}")
        values = np.asarray(history[name][:upto], dtype=float)
        at = (restored or len(values)) - 1
        sign = 1.0 if higher_is_better(name) else -1.0
        broken = any(not math.isfinite(history[k][at]) for k in ("loss", "val_loss") if k in history)
        value = -math.inf if broken or not math.isfinite(values[at]) else sign * values[at]
        return value, noise_scale(values[np.isfinite(values)])

    def diagnose(self, attempt: Attempt) -> None:
        from .engine import diagnose

        settings, data = attempt.settings, self.data(attempt.settings)
        y = np.concatenate([data.y_train, data.y_val])
        rows = np.linspace(0, len(y) - 1, min(len(y), 4096)).astype(int)
        setup = Setup(loss=settings.get("loss"), output_activation=settings.get("output_activation"),
                      optimizer=settings.get("optimizer"), lr=settings.get("learning_rate"),
                      x=data.x_train[:256], y=y[rows], validation_split=data.validation_split)
        stated = {k: settings[k] for k in ("learning_rate", "batch_size", "optimizer") if k in settings}
        rows_by_epoch = {e + 1: {k: v[e] for k, v in attempt.history.items()} for e in range(attempt.length)}
        run = build_run(rows_by_epoch, source=f"attempt {attempt.index}", format="repair",
                        info={"setup": setup, "settings": stated, "epoch_base": 1})
        attempt.report = diagnose(run, lang=self.lang)
        attempt.verdict = attempt.report.verdict
        attempt.codes = [f.code for f in attempt.report.findings if f.severity in ACTING]

    def add(self, attempt: Attempt, base: Attempt | None) -> Attempt:
        """Score, diagnose and record ``attempt``; keep it when it beats ``base`` by more
        than the noise of either curve, both taken over the same epochs."""
        attempt.score, attempt.noise = self.score(attempt.history, attempt.restored_epoch)
        if base is None:
            attempt.kept = True
        else:
            upto = attempt.length if attempt.kind == "trial" else None
            restored = None if attempt.kind == "trial" else base.restored_epoch
            attempt.base_score, base_noise = self.score(base.history, restored, upto)
            attempt.base, attempt.margin = base.index, max(base_noise, attempt.noise)
            attempt.kept = bool(attempt.score > attempt.base_score + attempt.margin)
        if attempt.kept:  # a rejected attempt's findings lead nowhere: not diagnosed, to save time
            self.diagnose(attempt)
        self.attempts.append(attempt)
        self.on_attempt(attempt)
        return attempt

    # -- attempts -------------------------------------------------------------------
    def fit(self, index: int, settings: dict, epochs: int, kind: str, candidate=(None, None, None), base=None) -> Attempt:
        training = Training(self.build, self.train, settings, self.data(settings))
        trained = training.advance(epochs, self.over)
        restored = training.restore() if kind == "run" or training.stopped == "early_stopping" else None
        change = {} if base is None else {k: v for k, v in settings.items() if base.settings.get(k) != v}
        return Attempt(index, settings, change, *candidate, dict(training.history), trained, training.seconds,
                       kind=kind, restored_epoch=restored, stopped=training.stopped, training=training)

    def replay(self, index: int, base: Attempt, settings: dict, candidate) -> Attempt:
        """EarlyStopping read off ``base``'s record: where it would have stopped and the
        epoch it would have restored; no epoch is trained again."""
        rule = settings["callbacks"]["EarlyStopping"]
        watched = np.asarray(base.history.get("val_loss", base.history["loss"]), dtype=float)
        best, best_epoch, stop_at = math.inf, 0, len(watched)
        for e, v in enumerate(watched, 1):
            if v < best:
                best, best_epoch = v, e
            elif e - best_epoch >= int(rule["patience"]):
                stop_at = e
                break
        restored = best_epoch if rule.get("restore_best_weights") and best_epoch != stop_at else None
        history = {k: v[:stop_at] for k, v in base.history.items()}
        change = {"callbacks": settings["callbacks"]}
        return Attempt(index, settings, change, *candidate, history, 0, 0.0, kind="replay",
                       restored_epoch=restored, stopped="early_stopping" if stop_at < len(watched) else None,
                       training=base.training)

    def finish(self, lead: Attempt, full: Attempt) -> Attempt:
        """Train the trial ``lead`` on to the planned epochs, as its own row."""
        training = lead.training
        # the default budget reserved these epochs; only the user's own seconds cut them short
        trained = training.advance(int(lead.settings["epochs"]) - lead.length, self.over if self.budget.seconds else lambda: False)
        restored = training.restore()
        change = {k: v for k, v in lead.settings.items() if full.settings.get(k) != v}
        return Attempt(len(self.attempts), lead.settings, change, lead.action, lead.fix, lead.finding,
                       dict(training.history), trained, training.seconds - lead.seconds, kind="finish",
                       restored_epoch=restored, origin=lead.index, stopped=training.stopped, training=training)

    def candidates(self, attempt: Attempt) -> list[tuple[dict, tuple]]:
        """(settings, (action, fix, finding code)) for each fix action of the attempt's
        warning and error findings, in the report's order, that the loop can apply to its
        settings and has not tried."""
        out: list[tuple[dict, tuple]] = []
        for finding, advice in attempt.report.items():
            if finding.severity not in ACTING:
                continue
            for fa in advice.fix_actions:
                for change in changes_of(fa["action"], attempt.settings, self.data0):
                    settings = {**attempt.settings, **change}
                    if settings not in self.tried and all(s != settings for s, _ in out):
                        out.append((settings, (fa["action"], fa["text"], finding.code)))
        return out

    def further_step(self, attempt: Attempt, lead: Attempt) -> tuple[dict, tuple] | None:
        """After a learning-rate trial that broke down (a NaN or Inf loss), the next tenfold
        step the same way, not yet tried."""
        lr, base = attempt.settings.get("learning_rate"), lead.settings.get("learning_rate")
        if attempt.kind != "trial" or attempt.score != -math.inf or lr is None or lr == base or \
                {k for k in attempt.change} != {"learning_rate"}:
            return None
        settings = {**attempt.settings, "learning_rate": _sig(lr * (LR_JUMP if lr > base else 1 / LR_JUMP))}
        return None if settings in self.tried else (settings, (attempt.action, attempt.fix, attempt.finding))

    def room(self, epochs: int) -> bool:
        """Whether ``epochs`` more fit in the budget, in epochs and in seconds at the pace so far."""
        elapsed = self.clock() - self.started
        return self.spent + epochs <= self.epoch_budget and elapsed + epochs * elapsed / max(1, self.spent) <= self.limit

    def over(self) -> bool:
        return self.clock() - self.started > self.limit

    def run(self) -> RepairResult:
        full = lead = self.add(self.fit(0, self.settings0, self.planned, "run"), None)
        if self.budget.seconds is None:
            self.limit = TIME_BUDGET * full.seconds
        queue = self.candidates(lead) if lead.codes else []
        while True:
            index = len(self.attempts)
            if not queue or index > self.budget.attempts:
                # a kept trial is trained on: its epochs were reserved when it started
                if lead is full or self.spent + int(lead.settings["epochs"]) - lead.length > self.epoch_budget:
                    break
                done = self.add(self.finish(lead, full), full)
                full = lead = done if done.kept else full
                queue = self.candidates(lead) if lead.codes else []
                continue
            settings, candidate = queue.pop(0)
            early_stop = {k for k in settings if settings[k] != lead.settings.get(k)} == {"callbacks"} and \
                set(settings["callbacks"]) - set(lead.settings.get("callbacks", {})) == {"EarlyStopping"}
            if early_stop and lead is not full:
                continue  # read off the full record once the trial is trained on
            # a trial reserves the epochs that train it on to the planned length
            if not early_stop and not self.room(int(settings["epochs"])):
                continue
            self.tried.append(settings)
            attempt = self.add(self.replay(index, lead, settings, candidate) if early_stop else
                               self.fit(index, settings, min(self.trial_epochs, int(settings["epochs"])), "trial",
                                        candidate, lead),
                               lead)
            if not attempt.kept:
                attempt.training = None
                further = self.further_step(attempt, lead)
                if further:
                    queue.insert(0, further)
                continue
            if attempt.kind == "replay":
                if attempt.restored_epoch:
                    attempt.training.roll_back(attempt.restored_epoch)
                full = attempt
            lead = attempt
            queue = self.candidates(lead) if lead.codes else []
        return RepairResult(self.settings0, self.attempts, full.index, self.metric(full.history), self.planned,
                            self.clock() - self.started, "wall" if self.budget.seconds is not None else "cpu")


@dataclass
class RepairResult:
    """Every attempt of a repair, the one kept, and the change to make."""

    initial: dict
    attempts: list[Attempt]
    chosen: int
    metric: str
    planned_epochs: int
    seconds: float
    clock: str  # "cpu": CPU seconds of this process (the default budget), "wall": wall-clock
    @property
    def final(self) -> Attempt:
        return self.attempts[self.chosen]

    @property
    def model(self):
        """The model the kept attempt ends with (its restored weights, if any)."""
        return self.final.training.model

    @property
    def settings(self) -> dict:
        return self.final.settings

    @property
    def changed(self) -> bool:
        return self.chosen != 0

    @property
    def epochs_trained(self) -> int:
        return sum(a.epochs for a in self.attempts)

    def oriented(self, score: float | None) -> float | None:
        """A score in the metric's own orientation (a loss positive again); None if not finite."""
        s = _finite(score)
        return None if s is None else (s if higher_is_better(self.metric) else -s)

    def score_of(self, attempt: Attempt) -> float | None:
        return self.oriented(attempt.score)

    def changes(self) -> dict:
        """The settings the kept attempt changed against the first run."""
        return {k: v for k, v in self.settings.items() if self.initial.get(k) != v}

    def diff(self) -> str:
        """The change as a diff of the settings, with the report's code for each kept fix."""
        from .output.repair import diff

        return diff(self)

    def to_dict(self) -> dict:
        return {
            "metric": self.metric, "planned_epochs": self.planned_epochs, "epochs_trained": self.epochs_trained,
            "seconds": round(self.seconds, 2), "clock": self.clock, "changed": self.changed, "chosen": self.chosen,
            "initial_score": self.score_of(self.attempts[0]), "final_score": self.score_of(self.final),
            "changes": _plain(self.changes()), "diff": self.diff(),
            "attempts": [{**a.to_dict(), "score": self.score_of(a), "compared_score": self.oriented(a.base_score)}
                         for a in self.attempts],
            "report": self.attempts[0].report.to_dict(),
        }


def repair(build: Callable, train: Callable, data, settings: dict, *, validation_split: float | None = None,
           budget: Budget | dict | None = None, monitor: str | None = None, lang: str = "en",
           on_attempt: Callable[[Attempt], None] | None = None) -> RepairResult:
    """Train with ``settings``, and while fitdoc finds a warning or an error with a fix the
    loop can apply, try its fixes one by one, keeping a change only when ``monitor``
    (default: the first accuracy-like validation metric, else ``val_loss``) beats the
    attempt it started from by more than the noise of either curve.

    Example:
        >>> result = repair(build, train, (x, y), {"learning_rate": 1.0, "batch_size": 32, "epochs": 20},
        ...                 validation_split=0.2)  # doctest: +SKIP
        >>> print(result.diff())  # doctest: +SKIP
        - learning_rate = 1.0
        + learning_rate = 0.333
    """
    budget = Budget(**budget) if isinstance(budget, dict) else budget or Budget()
    return _Loop(build, train, Split.of(data, validation_split), settings, monitor, budget, lang, on_attempt).run()
