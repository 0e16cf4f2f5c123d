"""The repair section: one row per attempt (terminal, Markdown, HTML) and the change to
paste, as a diff of the settings with the report's code for each fix kept."""

from __future__ import annotations

from ..workflow.table import Table, fmt

# How a loop-level setting reads in the diff.
LOOP_SETTINGS = {
    "shuffle_split": "x, y shuffled before the validation split",
    "normalise_inputs": "inputs normalised with the training part's statistics (a Normalization layer adapted on x_train)",
}


def _value(key: str, value) -> str:
    if key == "callbacks":
        return "[" + ", ".join(f"{name}({', '.join(f'{k}={v!r}' for k, v in args.items())})"
                               for name, args in value.items()) + "]"
    return repr(value)


def _change(change: dict) -> str:
    return ", ".join(LOOP_SETTINGS.get(k) or f"{k}={_value(k, v)}" for k, v in change.items()) or "—"


KIND_WORDS = {"run": "first run", "trial": "trial", "replay": "early stop read off #{base}",
              "finish": "#{origin} trained on"}


def table(result) -> Table:
    """One row per attempt: the finding, the change, epochs, the metric, its effect against
    the attempt it was compared with over the same epochs, and whether it was kept."""
    rows = []
    for a in result.attempts:
        effect = "—"
        if a.base is not None:
            before, after = result.oriented(a.base_score), result.score_of(a)
            if after is None:
                effect = f"broken (NaN/Inf loss) vs #{a.base}"
            elif before is None:
                effect = f"vs #{a.base}, broken (NaN/Inf loss)"
            else:
                effect = f"{after - before:+.3g} vs #{a.base} (noise {a.margin:.2g})"
        outcome = "first run" if a.base is None else ("kept" if a.kept else "rejected")
        if a.index == result.chosen:
            outcome += ", final"
        kind = KIND_WORDS[a.kind].format(base=a.base, origin=a.origin)
        epochs = f"{a.epochs}" + (f", weights of {a.restored_epoch}" if a.restored_epoch else "") + \
            (f" ({a.stopped.replace('_', ' ')})" if a.stopped and a.kind != "replay" else "")
        rows.append([str(a.index), kind, a.finding or "—", _change(a.change) if a.index else "as given",
                     epochs, fmt(result.score_of(a)), effect, outcome, ", ".join(a.codes) or ("healthy" if a.report is not None else "—")])
    first, final = result.attempts[0], result.final
    notes = [f"{result.metric}: {fmt(result.score_of(first))} → {fmt(result.score_of(final))}; "
             f"{result.epochs_trained} epochs trained in all for {result.planned_epochs} planned "
             f"({result.epochs_trained / result.planned_epochs:.2g}x), {result.seconds:.1f} s"
             + (" of CPU" if result.clock == "cpu" else "")]
    if len(result.attempts) == 1:
        notes.append("no attempt made: " + ("the run is healthy" if not first.codes else
                                            "the loop can apply none of its findings' fixes"))
    return Table("Repair", ["#", "attempt", "finding", "change", "epochs", result.metric, "effect", "outcome",
                            "findings"], rows, notes, numeric={0, 5}, optional=[8, 2, 1], detail=3)


def kept_chain(result) -> list:
    """The kept attempts that lead from the first run to the final one, in order."""
    chain, a = [], result.final
    while a.base is not None:
        if a.kind != "finish":
            chain.append(a)
        a = result.attempts[a.origin if a.kind == "finish" else a.base]
    return chain[::-1]


def diff(result) -> str:
    """``- key = old`` / ``+ key = new`` lines for the settings the final attempt changed,
    then the report's code of each fix kept, as comments."""
    if not result.changed:
        return ""
    lines = []
    for key, new in result.changes().items():
        if key in LOOP_SETTINGS:
            lines.append(f"+ # {LOOP_SETTINGS[key]}")
            continue
        if key in result.initial:
            lines.append(f"- {key} = {_value(key, result.initial[key])}")
        lines.append(f"+ {key} = {_value(key, new)}")
    lines += [f"# #{a.index} {a.finding}: {a.fix}" for a in kept_chain(result) if a.fix]
    return "\n".join(lines)


def render(result, console) -> None:
    """The attempts table and the change to make."""
    from rich.text import Text

    table(result).print(console)
    text = diff(result)
    if text:
        console.print(Text("\nChange to make:", style="bold"))
        for line in text.splitlines():
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            console.print(Text(line, style=style), soft_wrap=True)  # never folded: it is pasted


class Section:
    """The repair section of an HTML report (``fitdoc.output.html.render(tables=...)``)."""

    def __init__(self, result):
        self.result = result

    def to_html(self, lang: str = "en") -> str:
        from html import escape

        text = diff(self.result)
        return table(self.result).to_html(lang) + (f'<pre class="diff">{escape(text)}</pre>' if text else "")
