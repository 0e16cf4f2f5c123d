"""``fitdoc repair SPEC``: the repair loop on a sweep-style spec, with Keras 3.

The spec's ``load_data``, ``build_model`` (default: the sweep's Dense stack) and
``BASE`` settings are used as they are; ``VARIANTS`` and the test set are not. The last
``VALIDATION`` samples of the training arrays are held out, in their order, as Keras'
``validation_split`` takes them (so an unshuffled split shows, and can be repaired). :func:`keras_functions` is the protocol for any
Keras model builder: the optimizer takes ``clipnorm`` and ``weight_decay``, ``fit``
the batch size and learning rate in force.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import click

from ..commandline import FORMAT, LANG, console, needs_extra, resolve_lang, writable
from ..errors import FitdocError


def _targets(y, loss: str, n_classes: int):
    """Integer labels for sparse losses and one-unit binary outputs, one-hot rows otherwise."""
    import numpy as np

    if y.ndim == 2 or loss.startswith("sparse") or n_classes <= 1:
        return y
    if loss == "binary_crossentropy" and n_classes == 2:
        return y.astype("float32")
    return np.eye(n_classes, dtype="float32")[y.astype(int)]


def _outputs(settings: dict, y) -> int:
    """Output units: one for a regression or a binary cross-entropy on 0/1 labels, else the classes."""
    import numpy as np

    if y.ndim == 2:
        return y.shape[1]
    if not np.issubdtype(y.dtype, np.integer):
        return 1
    classes = int(y.max()) + 1
    return 1 if classes == 2 and settings.get("loss") == "binary_crossentropy" else classes


# Settings the Keras functions read beyond the sweep's: unset until a fix sets them.
KERAS_SETTINGS = {"clipnorm": None, "weight_decay": None}


def keras_functions(build_model: Callable) -> tuple[Callable, Callable]:
    """``(build, train)`` for :func:`fitdoc.repair.repair` around ``build_model(settings,
    input_shape, n_outputs)``, which returns an uncompiled Keras model."""
    from .sweep import _keras

    keras = _keras()

    def build(settings, data):
        model = build_model(settings, data.x_train.shape[1:], _outputs(settings, data.y_train))
        config = {"learning_rate": settings["learning_rate"]}
        config.update({k: settings[k] for k in ("clipnorm", "weight_decay") if settings.get(k)})
        optimizer = keras.optimizers.get({"class_name": settings.get("optimizer", "adam"), "config": config})
        model.compile(optimizer=optimizer, loss=settings["loss"], metrics=list(settings.get("metrics", ["accuracy"])))
        return model

    def train(model, settings, epochs, data):
        model.optimizer.learning_rate.assign(settings["learning_rate"])
        n = _outputs(settings, data.y_train)
        y_train, y_val = (_targets(y, settings["loss"], n) for y in (data.y_train, data.y_val))
        history = model.fit(data.x_train, y_train, validation_data=(data.x_val, y_val), epochs=epochs,
                            batch_size=int(settings["batch_size"]), verbose=0, shuffle=True)
        return history.history

    return build, train


def _spec_data(spec) -> tuple:
    """The spec's training arrays (its test set is not used): ``load_data()`` returns
    ``(x_train, y_train, x_test, y_test)``, ``((x_train, y_train), (x_test, y_test))`` or ``(x, y)``."""
    loaded = spec.load_data()
    if len(loaded) == 2 and all(isinstance(a, tuple) for a in loaded):
        loaded = loaded[0]
    if len(loaded) not in (2, 4):
        raise FitdocError(spec.source, "load_data() returns (x_train, y_train, x_test, y_test) or (x, y)")
    return tuple(loaded[:2])


@click.command("repair", short_help="Retrain with the fixes, keep what helps.")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--attempts", type=click.IntRange(min=0), default=None, help="Attempts after the first run [default: 8].")
@click.option("--epoch-budget", type=click.FloatRange(min=1), default=None,
              help="All attempts together train at most this many times the planned epochs [default: 3].")
@click.option("--seconds", type=click.FloatRange(min=1), default=None,
              help="Wall-clock seconds for everything [default: 2.5x the first run's CPU training time].")
@click.option("--monitor", type=str, default=None, help="Validation metric to improve [default: val accuracy, else val_loss].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every attempt.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write the HTML report with the repair section.")
@FORMAT
@LANG
def repair_cmd(spec, attempts, epoch_budget, seconds, monitor, seed, html_path, fmt, lang):
    """Train SPEC (a sweep-style .py or .yaml file: load_data, build_model, BASE), and while
    fitdoc finds a warning with a fix it can apply, retrain with the fix and keep it only if
    the validation metric beats the previous attempt by more than its noise. Writes no
    file of yours: the change is printed."""
    needs_extra("keras", "keras", "fitdoc repair")
    from .. import config as config_mod
    from ..output import repair as out
    from ..repair import MAX_ATTEMPTS, Budget, repair
    from .sweep import DEFAULTS, _keras, load_spec

    lang = resolve_lang(lang, config_mod.load())
    if html_path:
        writable(html_path)
    spec = load_spec(spec)
    settings = {**DEFAULTS, **KERAS_SETTINGS, **spec.base}
    keras = _keras()
    build, train = keras_functions(spec.build_model)

    def seeded_build(s, data):
        keras.utils.set_random_seed(seed)
        return build(s, data)

    data = _spec_data(spec)
    split = spec.validation if isinstance(spec.validation, float) else spec.validation / len(data[0])
    epochs = None if epoch_budget is None else int(epoch_budget * int(settings["epochs"]))
    budget = Budget(MAX_ATTEMPTS if attempts is None else attempts, epochs, seconds)
    try:
        result = repair(seeded_build, train, data, settings, validation_split=split,
                        budget=budget, monitor=monitor, lang=lang,
                        on_attempt=lambda a: click.echo(f"fitdoc: attempt {a.index}: {a.epochs} epochs, "
                                                        f"{', '.join(a.codes) or 'healthy'}", err=True))
    except ValueError as exc:
        raise FitdocError(spec.source, str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    elif fmt == "markdown":
        click.echo(out.table(result).to_markdown() + ("\n```diff\n" + result.diff() + "\n```" if result.changed else ""))
    else:
        out.render(result, console())
    if html_path:
        from ..output import html

        shown = [a for a in result.attempts if a.report is not None]  # rejected attempts are not diagnosed
        page = html.render([a.report for a in shown], labels=[f"attempt {a.index}" for a in shown], lang=lang,
                           title=f"fitdoc repair: {spec.name}", tables=[out.Section(result)])
        click.echo(f"wrote {page.save(Path(html_path))}", err=True)
