"""PNG/SVG pictures: ``diagnose --plot`` (one run: loss and accuracy panels, the best
epoch, each finding in its own colour and marker, shaded windows, NaN epochs, LR changes,
all in one shared legend) and ``compare --plot`` (runs overlaid; runs of one variant share
a colour, seeds drawn thin). Train is solid, validation dashed, everywhere; a gap in the
record is left open. Chinese labels use a CJK font when one is installed; without one the
labels fall back to English (the functions return the language they used)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import advice
from .text import epoch_gaps, title

CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
    "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "AR PL UMing CN", "Droid Sans Fallback",
)
CJK_FILES = ("wqy", "notosanscjk", "notoserifcjk", "sourcehansans", "droidsansfallback", "simhei", "msyh", "pingfang", "uming")
TRAIN = {"ls": "-", "color": "#1f77b4"}
VALIDATION = {"ls": "--", "color": "#ff7f0e"}
BEST = "#2ca02c"
NAN = "#d62728"
# one colour and marker per finding, none of them the train, validation or best colours
FINDING_STYLES = [("#d62728", "v"), ("#9467bd", "s"), ("#8c564b", "D"), ("#e377c2", "^"),
                  ("#17becf", "P"), ("#bcbd22", "X"), ("#7f7f7f", "o")]
PANEL_KEYS = {"loss": "loss_panel", "accuracy": "accuracy_panel"}


def cjk_font() -> str | None:
    """A CJK font family matplotlib can use; fonts installed after matplotlib built its
    font cache are found on disk and registered."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in installed), None)
    if found:
        return found
    for path in font_manager.findSystemFonts():
        if any(key in path.lower().replace("-", "").replace("_", "") for key in CJK_FILES):
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


def _pyplot(lang: str):
    """pyplot on the Agg backend, the rc settings for ``lang`` and the language usable."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font() if lang == "zh" else None
    if lang == "zh" and font is None:
        lang = "en"  # no CJK font: the caller tells the user
    rc = {"font.sans-serif": [font, "DejaVu Sans"], "axes.unicode_minus": False} if font else {}
    return plt, rc, lang


def panel_title(base: str, lang: str) -> str:
    return advice.say("ui", PANEL_KEYS[base], lang) if base in PANEL_KEYS else base


def style(name: str) -> dict:
    return VALIDATION if name.startswith("val_") else TRAIN


def open_gaps(epochs, values):
    """``epochs``, ``values`` with a NaN inserted wherever the record skips epochs, so no
    line is drawn across the gap."""
    epochs, values = np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)
    at = [i + 1 for i in epoch_gaps(epochs)]
    if not at:
        return epochs, values
    return np.insert(epochs, at, epochs[np.array(at) - 1] + 0.5), np.insert(values, at, np.nan)


def _panels(run) -> list[tuple[str, list[str]]]:
    """(base name, metric names): losses, then accuracies."""
    names = list(run.series)
    panels = [(base, [n for n in (base, f"val_{base}") if n in names]) for base in ("loss", "accuracy")]
    return [p for p in panels if p[1]]


def plot_run(report, path, lang: str | None = None) -> str:
    """Write the picture of one report; returns the language actually used."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    plt, rc, lang = _pyplot(lang or report.lang)
    run = report.run
    panels = _panels(run)
    with plt.rc_context(rc):
        fig, axes = plt.subplots(len(panels), 1, figsize=(9, 3.4 * len(panels) + 1.4), sharex=True, squeeze=False)
        legend: dict[str, object] = {}
        nan_epochs: set[float] = set()
        for ax, (base, names) in zip(axes[:, 0], panels):
            for name in names:
                epochs, values = run.evaluated(name)
                nan_epochs.update(epochs[~np.isfinite(values)].tolist())
                x, y = open_gaps(epochs, np.where(np.isfinite(values), values, np.nan))
                role = advice.say("ui", "validation" if name.startswith("val_") else "train", lang)
                legend[role] = ax.plot(x, y, marker="o", ms=3, lw=1.5, **style(name))[0]
            ax.set_title(panel_title(base, lang), fontsize=10)
            ax.grid(alpha=0.3)
        for ax in axes[:, 0]:
            for e in sorted(nan_epochs):
                ax.axvspan(e - 0.5, e + 0.5, color=NAN, alpha=0.12, lw=0)
        if nan_epochs:
            legend[advice.say("ui", "nan_epochs", lang)] = Patch(color=NAN, alpha=0.25)
        legend.update(_marks(axes[:, 0], report, lang, Line2D, Patch))
        axes[-1, 0].set_xlabel(advice.say("ui", "epoch_axis", lang))
        axes[-1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
        verdict = advice.say("ui", "verdict_" + report.verdict, lang)
        fig.suptitle(f"{Path(str(run.source)).name} — {verdict}", fontsize=11)
        fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=2, fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, _legend_room(fig, len(legend), 2), 1, 0.97))
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return lang


def _marks(axes, report, lang: str, Line2D, Patch) -> dict:
    """Best epoch, LR changes and findings drawn on every panel; their legend entries."""
    legend = {}
    best = report.best.epoch
    if best is not None:
        for ax in axes:
            ax.axvline(best, color=BEST, lw=1.6, alpha=0.8)
        legend[advice.say('ui', 'best_epoch', lang) + advice.say('ui', 'colon', lang) + str(best)] = Line2D([], [], color=BEST, lw=1.6)
    lr_changes = report.run.events_of("lr_change")
    for event in lr_changes:
        for ax in axes:
            ax.axvline(event.epoch, color="grey", ls="-.", lw=0.9, alpha=0.8)
    if lr_changes:
        legend[advice.say("ui", "lr_change", lang)] = Line2D([], [], color="grey", ls="-.", lw=0.9)
    at_epoch: dict[int, int] = {}
    for k, finding in enumerate(f for f in report.findings if f.epoch is not None):
        color, marker = FINDING_STYLES[k % len(FINDING_STYLES)]
        stack = at_epoch.get(finding.epoch, 0)  # findings on one epoch: markers stacked down
        at_epoch[finding.epoch] = stack + 1
        window = finding.end_epoch is not None and finding.end_epoch != finding.epoch
        for ax in axes:
            ax.axvline(finding.epoch, color=color, ls=":", lw=1.2)
            ax.plot([finding.epoch], [0.97 - 0.09 * stack], transform=ax.get_xaxis_transform(), marker=marker,
                    ms=8, color=color, mec="black", mew=0.5, ls="", clip_on=False, zorder=5)
            if window:
                ax.axvspan(finding.epoch, finding.end_epoch, color=color, alpha=0.1, lw=0)
        label = f"{finding.code} {title(finding.code, finding.kind, lang)}"
        legend[label] = Line2D([], [], color=color, ls=":", marker=marker, mec="black", mew=0.5)
        if window:
            span = advice.say_at("ui", "epochs_range", lang, advice.unit_of(report.run), first=finding.epoch, last=finding.end_epoch)
            legend[advice.say("ui", "paren", lang, text=finding.code, detail=span)] = Patch(color=color, alpha=0.2)
    return legend


def overlay(datas, labels, path, lang: str = "en", groups=None, title_text: str | None = None) -> str:
    """Overlay runs (report dicts) into a picture, one panel per metric; ``groups`` (one name
    per run, e.g. its variant) colours runs alike and draws them thin with their mean bold.
    Returns the language used."""
    from matplotlib.lines import Line2D

    from .html import metric_groups, texts

    plt, rc, lang = _pyplot(lang)
    t = texts(lang)
    groups = list(groups) if groups else list(labels)
    names_of = list(dict.fromkeys(groups))
    shared = len(names_of) < len(groups)
    colors = plt.get_cmap("tab10" if len(names_of) <= 10 else "tab20").colors
    color = {g: colors[i % len(colors)] for i, g in enumerate(names_of)}
    panels = metric_groups(dict.fromkeys(n for d in datas for n in d["series"]))
    with plt.rc_context(rc):
        ncols = min(2, len(panels))
        nrows = -(-len(panels) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(6.2 * ncols, 3.4 * nrows + 1.2), squeeze=False)
        for ax, (base, names) in zip(axes.flat, panels):
            for name in names:
                for g in names_of:
                    members = [d for d, gg in zip(datas, groups) if gg == g and name in d["series"]]
                    for d in members:
                        y = np.array([np.nan if v is None else v for v in d["series"][name]], dtype=float)
                        x, y = open_gaps(d["epochs"], y)
                        ax.plot(x, y, ls=style(name)["ls"], color=color[g], lw=0.7 if shared else 1.3,
                                alpha=0.45 if shared else 1.0, marker="" if shared else ".", ms=3)
                        best = d.get("best_epoch")
                        if name.startswith("val_") and best in d["epochs"] and not shared:
                            ax.plot([best], [d["series"][name][d["epochs"].index(best)]], marker="*", ms=11,
                                    color=color[g], mec="black", mew=0.6)
                    if shared and len(members) > 1:
                        _mean_line(ax, members, name, color[g])
            ax.set_title(panel_title(base, lang), fontsize=10)
            ax.set_xlabel(t["epoch"])
            ax.grid(alpha=0.3)
            if base == "lr":
                ax.set_yscale("log")
        for ax in axes.flat[len(panels):]:
            ax.axis("off")
        handles = [Line2D([], [], color=color[g], lw=2) for g in names_of]
        handles += [Line2D([], [], color="gray", ls=TRAIN["ls"]), Line2D([], [], color="gray", ls=VALIDATION["ls"])]
        names = [*names_of, t["train"], t["validation"]]
        if not shared:
            handles.append(Line2D([], [], ls="", marker="*", ms=10, color="gray", mec="black"))
            names.append(t["best_epoch"])
        ncol = min(len(names), 4)
        fig.legend(handles, names, loc="lower center", ncol=ncol, frameon=False, fontsize=8)
        fig.suptitle(title_text or t["compare_title"])
        fig.tight_layout(rect=(0, _legend_room(fig, len(names), ncol), 1, 0.96))
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return lang


def _legend_room(fig, entries: int, ncol: int) -> float:
    """The share of the figure's height a bottom legend of ``entries`` in ``ncol`` columns takes."""
    rows = -(-entries // ncol)
    return min((0.15 + 0.19 * rows) / fig.get_figheight(), 0.5)


def _mean_line(ax, members, name: str, color) -> None:
    """The mean of several seeds over the epochs they share, bold."""
    common = sorted(set.intersection(*(set(d["epochs"]) for d in members)))
    if not common:
        return
    rows = [[d["series"][name][d["epochs"].index(e)] for e in common] for d in members]
    y = np.nanmean(np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=float), axis=0)
    x, y = open_gaps(common, y)
    ax.plot(x, y, ls=style(name)["ls"], color=color, lw=2.0)
