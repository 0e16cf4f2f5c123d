"""The framework-free core of fitdoc's training callbacks.

A :class:`LiveDoctor` collects one row of metrics per epoch into a fitdoc
:class:`~fitdoc.run.Run`, diagnoses it after every epoch with the same rules and
codes as ``fitdoc diagnose`` (plus the pre-flight FD4xx and probe FD5xx rules, which
read ``run.info["setup"]`` and ``run.info["probes"]``), says each finding once when
it first appears, and acts: stop training, lower the learning rate, keep and
restore the best weights, write the report at the end.

The framework adapters (``fitdoc.keras``, ``fitdoc.integrations.torch``,
``.lightning``, ``.hf``) only translate their hooks into these calls and give the
doctor a :class:`Handle` on the model.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import advice, atomic
from ..config import Config, load
from ..names import canonical, higher_is_better
from ..rules import Finding
from ..rules.preflight import Setup
from ..rules.probes import ProbeSample
from ..run import Event, build_run

PROBES = ("default", "full", None)
CHECK_EVERY = 3  # epochs: the longest a finding waits to be named under max_overhead


class Handle:
    """What the doctor needs from a framework: weights, learning rate, probes, stop.

    Adapters subclass it; a method left as is means "not available here".
    """

    def get_weights(self):
        return None

    def set_weights(self, weights) -> None:
        raise NotImplementedError

    def scale_lr(self, factor: float, min_lr: float) -> float | None:
        """Multiply the learning rate by ``factor`` (not below ``min_lr``); the new rate."""
        return None

    def probe(self, epoch: int, gradients: bool) -> ProbeSample | None:
        return None

    def stop(self) -> None:
        raise NotImplementedError


@dataclass
class Notice:
    """A finding as the doctor said it: at which epoch, and the words used."""

    at_epoch: int  # 0: before the first epoch
    finding: Finding
    evidence: str
    fixes: list[str]


def guarded(default=None):
    """Decorate a hook the framework calls: an error inside fitdoc is said once, the
    doctor stops working and training goes on (the hook returns ``default()`` when
    callable, else ``default``). The error is kept in ``doctor.error``."""

    def decorate(method):
        @functools.wraps(method)
        def hook(self, *args, **kwargs):
            if self.error is None:
                try:
                    return method(self, *args, **kwargs)
                except Exception as exc:
                    self.error = exc
                    first = (str(exc).splitlines() or [""])[0][:200]
                    print(f"fitdoc: the training doctor stopped after an internal error ({type(exc).__name__}: "
                          f"{first}); training goes on without it", file=sys.stderr)
            return default() if callable(default) else default

        return hook

    return decorate


def _output_path(path, what: str) -> Path | None:
    """``path`` as a file the doctor can write at the end of training; ValueError now,
    before training, if it cannot be."""
    if path is None:
        return None
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a directory; give a file name")
    if not path.parent.is_dir():
        raise ValueError(f"{what} {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{what} {str(path)!r} cannot be written")
    return path


def _matches(finding: Finding, wanted: tuple[str, ...]) -> bool:
    return finding.kind in wanted or finding.code in wanted


ARGS = """\
        monitor: metric that defines the best epoch (``val_loss``; ``loss`` when the
            run has no validation).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (from the metric's name).
        patience: stop after this many epochs without improvement of ``monitor``
            (``None``: never stop for that reason).
        min_delta: smallest change of ``monitor`` that counts as improvement.
        restore_best_weights: at the end of training, load the weights of the best
            epoch, whether or not training stopped early.
        stop_on: finding kinds or codes that stop training (``("nan_loss",)``).
        reduce_lr_on: finding kinds or codes that lower the learning rate by
            ``factor`` when they first appear, e.g. ``("oscillation",
            "loss_rises_after_fall")``.
        factor: learning-rate multiplier used by ``reduce_lr_on``.
        min_lr: the learning rate is never lowered below this.
        report_path: write the final report as JSON here.
        plot_path: draw the curves with the findings as PNG here.
        lang: ``"en"`` or ``"zh"`` (default: ``[tool.fitdoc] lang``, then the locale).
        probes: ``"default"`` (NaN checks every ``probe_every`` batches, activations
            of the sample batch each epoch, gradients every ``gradient_every``
            epochs), ``"full"`` (gradients each epoch, NaN check every batch) or
            ``None`` (curves only).
        probe_every: batches between two NaN checks of the batch loss.
        gradient_every: epochs between two gradient probes with ``probes="default"``.
        max_overhead: share of the training time the checks may take (``0.01``):
            an epoch is checked when the checks so far stayed within it, and at
            least every ``CHECK_EVERY``-th epoch, or at once when a metric is NaN/Inf;
            ``None`` checks every epoch.
        verbose: 0 silent, 1 print each finding once and each action.
        config: a :class:`fitdoc.config.Config` (default: ``[tool.fitdoc]`` of the
            nearest pyproject.toml).
"""


@dataclass
class EpochResult:
    """What the doctor made of one epoch."""

    findings: list[Finding]  # new this epoch
    should_stop: bool
    stop_reason: str | None


class LiveDoctor:
    """Diagnoses a run while it trains and acts on what it finds.

    Args:
{args}    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        patience: int | None = None,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        stop_on: tuple[str, ...] | None = ("nan_loss",),
        reduce_lr_on: tuple[str, ...] | None = None,
        factor: float = 0.5,
        min_lr: float = 0.0,
        report_path: str | Path | None = None,
        plot_path: str | Path | None = None,
        lang: str | None = None,
        probes: str | None = "default",
        probe_every: int = 50,
        gradient_every: int = 10,
        max_overhead: float | None = 0.01,
        verbose: int = 1,
        config: Config | None = None,
    ):
        self.error: Exception | None = None  # the internal error that stopped the doctor
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}")
        if probes not in PROBES:
            raise ValueError(f"probes must be 'default', 'full' or None; got {probes!r}")
        if not 0 < factor < 1:
            raise ValueError(f"factor must be between 0 and 1 (exclusive); got {factor!r}")
        if patience is not None and patience < 1:
            raise ValueError(f"patience must be a positive number of epochs or None; got {patience!r}")
        self.monitor = canonical(monitor)
        self.mode = mode
        self.patience = patience
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.stop_on = tuple(stop_on or ())
        self.reduce_lr_on = tuple(reduce_lr_on or ())
        self.factor = factor
        self.min_lr = min_lr
        self.report_path = _output_path(report_path, "report_path")
        self.plot_path = _output_path(plot_path, "plot_path")
        self.probes = probes
        self.probe_every = 1 if probes == "full" else probe_every
        self.gradient_every = 1 if probes == "full" else gradient_every
        self.max_overhead = max_overhead
        self.verbose = verbose
        self.config = config or load()
        self.lang = lang or self.config.lang or advice.default_lang()
        self.setup: Setup | None = None
        self._reset()

    def _reset(self) -> None:
        self.handle = Handle()
        self.rows: dict[int, dict[str, float]] = {}
        self.events: list[Event] = []
        self.samples: list[ProbeSample] = []
        self.notices: list[Notice] = []
        self.report = None
        self.stop_reason: str | None = None
        self.best_epoch: int | None = None
        self.best_value: float | None = None
        self._best_weights = None
        self._wait = 0
        self._epoch = 0
        self._nan_batch_seen = False
        self._checked_epoch = 0
        self._started = time.perf_counter()
        self._spent = 0.0  # seconds taken by the checks

    @property
    def findings(self) -> list[Finding]:
        """Every finding said so far, in the order it was said."""
        return [n.finding for n in self.notices]

    # -- hooks called by the adapters -------------------------------------------------

    @guarded(list)
    def begin(self, handle: Handle, setup: Setup | None = None) -> list[Finding]:
        """Training starts: forget the previous run, check the set-up (FD4xx)."""
        keep = self.setup if setup is None else setup
        said = [n for n in self.notices if n.at_epoch == 0]
        self._reset()
        self.handle, self.setup = handle, keep
        self.notices = said  # a set-up already checked by check() is not said again
        return self._diagnose() if self.setup is not None else []

    @guarded(False)
    def batch_end(self, batch: int, loss: float | None) -> bool:
        """Check the batch loss every ``probe_every`` batches; True if training must stop."""
        if self.probes is None or self._nan_batch_seen or batch % self.probe_every or loss is None:
            return False
        if math.isfinite(loss):
            return False
        self._nan_batch_seen = True
        self.samples.append(ProbeSample(self._epoch + 1, nonfinite=[("loss", f"batch {batch}")]))
        self._diagnose()
        return self.stop_reason is not None

    @guarded(lambda: EpochResult([], False, None))
    def epoch_end(self, epoch: int, metrics: dict[str, float]) -> EpochResult:
        """Record the epoch (first epoch 1), diagnose when due, act."""
        start = time.perf_counter()
        self._epoch = epoch
        row = self.rows[epoch] = {k: float(v) for k, v in metrics.items() if _is_number(v)}
        self._track_best(epoch)
        new = []
        if self._check_due(epoch, row, start):
            self._checked_epoch = epoch
            if self.probes is not None:
                sample = self.handle.probe(epoch, gradients=self.gradients_due(epoch))
                if sample is not None:
                    self.samples.append(sample)
            new = self._diagnose()
            self._reduce_lr(epoch, new)
        if self.patience is not None and self._wait >= self.patience and self.stop_reason is None:
            self._stop("stop_patience", metric=self.monitor, patience=self.patience, epoch=self.best_epoch)
        self._spent += time.perf_counter() - start
        return EpochResult(new, self.stop_reason is not None, self.stop_reason)

    def _check_due(self, epoch: int, row: dict[str, float], now: float) -> bool:
        training = now - self._started - self._spent
        return (
            self.max_overhead is None
            or self._spent <= self.max_overhead * training
            or epoch - self._checked_epoch >= CHECK_EVERY
            or not all(map(math.isfinite, row.values()))
        )

    def gradients_due(self, epoch: int) -> bool:
        """Whether the gradient probe runs at ``epoch`` (epochs 1, 1 + gradient_every, ...)."""
        return self.probes is not None and (epoch - 1) % self.gradient_every == 0

    @guarded()
    def end(self):
        """Training ended: restore the best weights, write the report; the final Report."""
        if self.restore_best_weights and self._best_weights is not None and self.best_epoch != self._epoch:
            self.handle.set_weights(self._best_weights)
            self.events.append(Event(self.best_epoch, "restore_best", self.best_value))
            self._say("restored", epoch=self.best_epoch, metric=self.monitor, value=self.best_value)
        if not self.rows:
            return None
        self._diagnose()
        if self.report_path:
            from ..output import jsonout

            atomic.write_text(self.report_path, jsonout.render([self.report]))
        if self.plot_path:
            from ..output import plot

            plot.plot_run(self.report, self.plot_path)
        return self.report

    # -- internals --------------------------------------------------------------------

    def _run(self):
        info = {"setup": self.setup, "probes": self.samples, "epoch_base": 1}
        return build_run(self.rows, source="fitdoc live", format="live", events=list(self.events), info=info)

    def _diagnose(self) -> list[Finding]:
        from ..engine import diagnose

        self.report = diagnose(self._run(), self.config, self.lang)
        said = {(n.finding.code, n.finding.variant) for n in self.notices}
        new = []
        for finding, words in self.report.items():
            if (finding.code, finding.variant) in said:
                continue
            said.add((finding.code, finding.variant))
            self.notices.append(Notice(self._epoch, finding, words.evidence, words.fixes))
            new.append(finding)
            self._announce(self.notices[-1])
            if _matches(finding, self.stop_on) and self.stop_reason is None:
                self._stop("stop_finding", code=finding.code, title=advice.kind_title(finding.kind, self.lang))
        return new

    def _announce(self, notice: Notice) -> None:
        f = notice.finding
        where = advice.say("live", "before_training", self.lang) if f.epoch is None else advice.say(
            "ui", "since_epoch", self.lang, epoch=f.epoch)
        self._say("finding", code=f.code, name=f.name, title=advice.kind_title(f.kind, self.lang), where=where,
                  evidence=notice.evidence)
        if notice.fixes:
            self._say("fix", fix=notice.fixes[0])

    def _reduce_lr(self, epoch: int, new: list[Finding]) -> None:
        if any(_matches(f, self.reduce_lr_on) for f in new):
            lr = self.handle.scale_lr(self.factor, self.min_lr)
            if lr is not None:
                self.events.append(Event(epoch, "lr_change", lr))
                self._say("lr_reduced", lr=lr, epoch=epoch)

    def _stop(self, message: str, **facts) -> None:
        self.stop_reason = self._say(message, **facts)
        self.events.append(Event(self._epoch or None, "early_stopping", message=self.stop_reason))
        self.handle.stop()

    def _track_best(self, epoch: int) -> None:
        row = self.rows[epoch]
        if self.monitor not in row and self.monitor == "val_loss" and "loss" in row:
            self.monitor = "loss"
            self._say("monitor_fallback")
        value = row.get(self.monitor)
        if value is None or not math.isfinite(value):
            self._wait += 1
            return
        maximise = self.mode == "max" or (self.mode == "auto" and higher_is_better(self.monitor))
        gain = (value - self.best_value if maximise else self.best_value - value) if self.best_value is not None else math.inf
        if gain > self.min_delta:
            self.best_epoch, self.best_value, self._wait = epoch, value, 0
            if self.restore_best_weights:
                self._best_weights = self.handle.get_weights()
        else:
            self._wait += 1

    def _say(self, key: str, **facts) -> str:
        text = advice.say("live", key, self.lang, **facts)
        if self.verbose:
            print(f"fitdoc: {text}")
        return text


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


LiveDoctor.__doc__ = LiveDoctor.__doc__.replace("{args}", ARGS)
