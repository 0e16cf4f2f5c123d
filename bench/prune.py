"""Pruning with a reason against pruning by rank, on a real Optuna study.

A small numpy MLP (64-unit ReLU layer, softmax, SGD with momentum 0.9) is trained on
scikit-learn's digits (1,797 8x8 images, shipped with scikit-learn: 897 train, 900
validation) for at most ``EPOCHS`` epochs per trial. The search space holds bad
regions on purpose: learning rate 1e-3..10 (log), batch size 2..128 (tiny batches),
L2 0..1e-2. Each pruner sees the same trials (a seeded random sampler) and the same
initial weights per trial:

- ``none``: no pruning;
- ``median``: ``MedianPruner()`` (Optuna's defaults);
- ``fitdoc``: :class:`fitdoc.integrations.optuna.Pruner` alone;
- ``fitdoc+median``: the fitdoc pruner wrapping ``MedianPruner()``.

The objective reports the validation loss (and the training loss beside it) each
epoch and returns the best validation loss so far; a trial pruned for overfitting has
reached its best already, so it completes with that value (the documented use).
Prints a Markdown table: epochs trained, epochs saved against ``none``, trials pruned
(by fitdoc with their codes), best validation loss and its accuracy, CPU seconds.

    .venv/bin/python bench/prune.py [--trials 30] [--seeds 0 1]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter

import numpy as np
import optuna

from fitdoc.integrations.optuna import REASON_ATTR, Pruner, report

EPOCHS = 20


def data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float64)
    y = digits.target
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    return x[:897], y[:897], x[897:], y[897:]


def _forward(w1, b1, w2, b2, x):
    h = np.maximum(0.0, x @ w1 + b1)
    z = h @ w2 + b2
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return h, p / p.sum(axis=1, keepdims=True)


def _loss(p, y) -> float:
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-300, None))))


def objective_for(split):
    x_train, y_train, x_val, y_val = split

    def objective(trial) -> float:
        lr = trial.suggest_float("lr", 1e-3, 10.0, log=True)
        batch = trial.suggest_categorical("batch_size", [2, 8, 32, 128])
        l2 = trial.suggest_float("l2", 0.0, 1e-2)
        rng = np.random.default_rng(trial.number)
        w1 = rng.normal(0, math.sqrt(2 / 64), (64, 64))
        b1 = np.zeros(64)
        w2 = rng.normal(0, math.sqrt(1 / 64), (64, 10))
        b2 = np.zeros(10)
        params = [w1, b1, w2, b2]
        velocity = [np.zeros_like(p) for p in params]
        best = math.inf
        trial.set_user_attr("epochs", 0)
        with np.errstate(all="ignore"):
            for epoch in range(EPOCHS):
                order = rng.permutation(len(x_train))
                losses = []
                for i in range(0, len(order), batch):
                    xb, yb = x_train[order[i:i + batch]], y_train[order[i:i + batch]]
                    h, p = _forward(*params, xb)
                    losses.append(_loss(p, yb))
                    d = p.copy()
                    d[np.arange(len(yb)), yb] -= 1
                    d /= len(yb)
                    dh = (d @ params[2].T) * (h > 0)
                    grads = [xb.T @ dh + l2 * params[0], dh.sum(0), h.T @ d + l2 * params[2], d.sum(0)]
                    for k in range(4):
                        velocity[k] = 0.9 * velocity[k] - lr * grads[k]
                        params[k] += velocity[k]
                _, pv = _forward(*params, x_val)
                val_loss = _loss(pv, y_val) if np.all(np.isfinite(pv)) else math.nan
                val_acc = float(np.mean(pv.argmax(1) == y_val)) if np.all(np.isfinite(pv)) else math.nan
                train_loss = float(np.mean(losses))
                if math.isfinite(val_loss) and val_loss < best:
                    best = val_loss
                    trial.set_user_attr("best_val_accuracy", val_acc)
                trial.set_user_attr("epochs", epoch + 1)
                report(trial, epoch, val_loss, loss=train_loss, val_accuracy=val_acc)
                if trial.should_prune():
                    reason = trial.user_attrs.get(REASON_ATTR)
                    if reason and reason["kind"] == "overfitting" and math.isfinite(best):
                        return best  # its best epoch is behind it: keep it
                    raise optuna.TrialPruned()
        return best

    return objective


PRUNERS = {
    "none": lambda: optuna.pruners.NopPruner(),
    "median": lambda: optuna.pruners.MedianPruner(),
    "fitdoc": lambda: Pruner(),
    "fitdoc+median": lambda: Pruner(optuna.pruners.MedianPruner()),
}


def run(name: str, seed: int, trials: int, split, verbose: bool = False) -> dict:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed), pruner=PRUNERS[name]())
    started = time.process_time()
    study.optimize(objective_for(split), n_trials=trials)
    if verbose:
        for t in study.trials:
            print(t.number, {k: round(v, 4) if isinstance(v, float) else v for k, v in t.params.items()}, t.state.name,
                  t.user_attrs.get("epochs"), t.user_attrs.get(REASON_ATTR, {}).get("code"), t.value)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE and math.isfinite(t.value)]
    best = min(done, key=lambda t: t.value) if done else None
    reasons = Counter(t.user_attrs[REASON_ATTR]["code"] for t in study.trials if REASON_ATTR in t.user_attrs)
    return {
        "pruner": name, "seed": seed, "epochs": sum(t.user_attrs.get("epochs", 0) for t in study.trials),
        "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials), "reasons": reasons,
        "best": best.value if best else math.nan,
        "best_acc": best.user_attrs.get("best_val_accuracy") if best else math.nan,
        "cpu_s": time.process_time() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    split = data()
    print(f"{args.trials} trials x {EPOCHS} epochs max, seeds {args.seeds}\n")
    print("| pruner | seed | epochs trained | saved vs none | pruned (by fitdoc: codes) | best val_loss | its val_accuracy | CPU s |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for seed in args.seeds:
        base = None
        for name in PRUNERS:
            r = run(name, seed, args.trials, split)
            base = base or r["epochs"]
            codes = ", ".join(f"{c} x{n}" for c, n in sorted(r["reasons"].items())) or "—"
            print(f"| {name} | {seed} | {r['epochs']} | {100 * (1 - r['epochs'] / base):.0f}% | {r['pruned']} ({codes}) "
                  f"| {r['best']:.4f} | {r['best_acc']:.3f} | {r['cpu_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
