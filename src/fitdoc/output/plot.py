"""``--plot FILE.png``: loss and accuracy panels, train vs validation, the best epoch,
the onset of each finding and the LR changes marked. Chinese labels use a CJK font
when one is installed; without one the labels fall back to English (``plot_run``
returns the language it used)."""

from __future__ import annotations

import numpy as np

from .. import advice
from .text import epoch_gaps

CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
    "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "AR PL UMing CN", "Droid Sans Fallback",
)
SEVERITY_COLOR = {"info": "#4c9be8", "warning": "#e8a33c", "error": "#d62728"}


CJK_FILES = ("wqy", "notosanscjk", "notoserifcjk", "sourcehansans", "droidsansfallback", "simhei", "msyh", "pingfang", "uming")


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


def _panels(run) -> list[tuple[str, list[str]]]:
    """(panel key, metric names): losses, accuracies, then other validated metrics."""
    names = list(run.series)
    panels = [("loss_panel", [n for n in ("loss", "val_loss") if n in names])]
    acc = [n for n in ("accuracy", "val_accuracy") if n in names]
    if acc:
        panels.append(("accuracy_panel", acc))
    return [p for p in panels if p[1]]


def plot_run(report, path, lang: str | None = None) -> str:
    """Write the PNG for one report; returns the language actually used."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    lang = lang or report.lang
    font = cjk_font() if lang == "zh" else None
    if lang == "zh" and font is None:
        lang = "en"  # no CJK font: the caller tells the user
    run = report.run
    panels = _panels(run)
    rc = {"font.sans-serif": [font, "DejaVu Sans"], "axes.unicode_minus": False} if font else {}
    with plt.rc_context(rc):
        fig, axes = plt.subplots(len(panels), 1, figsize=(9, 3.6 * len(panels)), sharex=True, squeeze=False)
        for ax, (key, names) in zip(axes[:, 0], panels):
            for name in names:
                epochs, values = run.evaluated(name)
                finite = np.isfinite(values)
                epochs, values, finite = _break_gaps(epochs, values, finite, run.epochs)
                role = advice.say("ui", "validation" if name.startswith("val_") else "train", lang)
                ax.plot(epochs[finite], values[finite], marker="o", ms=3, lw=1.5, label=f"{name} ({role})",
                        ls="--" if name.startswith("val_") else "-")
                for e in epochs[~finite]:
                    ax.axvline(e, color=SEVERITY_COLOR["error"], lw=0.8, alpha=0.4)
            _marks(ax, report, lang)
            ax.set_title(advice.say("ui", key, lang))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="best")
        axes[-1, 0].set_xlabel(advice.say("ui", "epoch_axis", lang))
        axes[-1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.suptitle(f"{advice.say('ui', 'title', lang)} — {advice.say('ui', 'verdict_' + report.verdict, lang)}", fontsize=11)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return lang


def _break_gaps(epochs, values, finite, all_epochs):
    """Insert a NaN where the record skips epochs, so no line is drawn across the gap."""
    starts = [all_epochs[i] for i in epoch_gaps(all_epochs)]
    at = [int(np.searchsorted(epochs, start, side="right")) for start in starts]
    at = [k for k in at if 0 < k < len(epochs)]
    if not at:
        return epochs, values, finite
    epochs = np.insert(epochs.astype(float), at, epochs[np.array(at) - 1] + 0.5)
    return epochs, np.insert(values.astype(float), at, np.nan), np.insert(finite, at, True)


def _marks(ax, report, lang: str) -> None:
    if report.best.epoch is not None:
        ax.axvline(report.best.epoch, color="green", lw=1.5, alpha=0.7, label=f"{advice.say('ui', 'best_epoch', lang)} {report.best.epoch}")
    for finding in report.findings:
        if finding.epoch is not None:
            ax.axvline(finding.epoch, color=SEVERITY_COLOR[finding.severity], ls=":", lw=1.2,
                       label=f"{finding.code} {advice.kind_title(finding.kind, lang)}")
            if finding.end_epoch is not None and finding.end_epoch != finding.epoch:
                ax.axvspan(finding.epoch, finding.end_epoch, color=SEVERITY_COLOR[finding.severity], alpha=0.08)
    for i, event in enumerate(report.run.events_of("lr_change")):
        ax.axvline(event.epoch, color="grey", ls="-.", lw=0.8, alpha=0.7,
                   label=advice.say("ui", "lr_change", lang) if i == 0 else None)
