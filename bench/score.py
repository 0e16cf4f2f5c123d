"""Score fitdoc against the benchmark corpus in bench/corpus/runs.

    python bench/score.py                      # every run, every saved format
    python bench/score.py --subset             # the fixed subset in bench/corpus/subset.txt
    python bench/score.py --min-macro-f1 0.4   # exit 1 when macro-F1 falls below 0.4
    python bench/score.py --write-readme       # refresh the results in bench/README.md

Each saved record of a run (Keras stdout verbose=2 and verbose=1, CSVLogger CSV,
History JSON) is diagnosed on its own with ``fitdoc.diagnose(path)`` and compared with
the run's label.json. A record counts as flagged when the verdict is not "healthy".
Predicted kinds are the findings with severity warning or error (and, in the
"with info" variant, all findings); predicted causes are ``likely_causes``. A record
fitdoc cannot read counts as an empty diagnosis. Epochs are compared in the Keras
stdout numbering (1-based): a predicted epoch is mapped through the report's
``epochs`` list.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RUNS = BENCH / "corpus" / "runs"
SUBSET = BENCH / "corpus" / "subset.txt"
README = BENCH / "README.md"
MARK_START, MARK_END = "<!-- results:start -->", "<!-- results:end -->"

KINDS = (
    "healthy", "still_learning", "overfitting", "underfitting", "plateau", "stuck_accuracy",
    "divergence", "nan_loss", "loss_rises_after_fall", "oscillation", "loss_spike",
    "val_acc_zero", "negative_loss", "val_better_than_train", "suspicious_validation",
)
CAUSES = (
    "lr_too_high", "lr_too_low", "batch_too_small", "data_problem", "model_too_small",
    "needs_regularization", "loss_activation_mismatch", "metric_mismatch", "too_few_epochs",
)
SCORED_KINDS = KINDS[1:]  # "healthy" is scored through the verdict (false alarms)
FORMATS = {
    "stdout_verbose2.txt": "keras stdout verbose=2",
    "stdout_verbose1.txt": "keras stdout verbose=1",
    "log.csv": "CSVLogger csv",
    "history.json": "History json",
}


def record_epoch(epoch, epochs):
    """Map an epoch in the record's numbering to the 1-based position in the run."""
    if epoch is None:
        return None
    if epochs:
        try:
            return list(epochs).index(epoch) + 1
        except ValueError:
            return None
    return epoch


def prediction(report: dict | None) -> dict:
    """What a report predicts, in the label's terms."""
    if report is None:
        return {"read": False, "flagged": False, "kinds": set(), "kinds_info": set(),
                "causes": set(), "best_epoch": None, "onsets": {}}
    epochs = report.get("epochs")
    findings = report.get("findings", [])
    onsets = {}
    for f in findings:
        epoch = record_epoch(f.get("epoch"), epochs)
        if epoch is not None and f["kind"] not in onsets:
            onsets[f["kind"]] = epoch
    return {
        "read": True,
        "flagged": report.get("verdict") != "healthy",
        "kinds": {f["kind"] for f in findings if f.get("severity") in ("warning", "error")},
        "kinds_info": {f["kind"] for f in findings},
        "causes": set(report.get("likely_causes") or []),
        "best_epoch": record_epoch(report.get("best_epoch"), epochs),
        "onsets": onsets,
    }


def truth(label: dict) -> dict:
    return {
        "kinds": set(label["kinds"]) - {"healthy"},
        "causes": set(label["causes"]),
        "healthy": label["healthy"],
        "best_epoch": label["best_epoch"],
        "onsets": {k: v for k, v in label.get("onsets", {}).items() if v is not None},
    }


def per_label(pairs: list[tuple[dict, dict]], kinds_key: str = "kinds") -> dict[str, dict]:
    """Precision, recall, F1 and support for every kind and cause."""
    counts = defaultdict(Counter)
    for t, p in pairs:
        for predicted, true, names in ((p[kinds_key], t["kinds"], SCORED_KINDS), (p["causes"], t["causes"], CAUSES)):
            for name in names:
                hit, want = name in predicted, name in true
                counts[name]["tp" if hit and want else "fp" if hit else "fn" if want else "tn"] += 1
    out = {}
    for name, c in counts.items():
        if not (c["tp"] + c["fp"] + c["fn"]):
            continue
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[name] = {"precision": precision, "recall": recall, "f1": f1,
                     "support": c["tp"] + c["fn"], "predicted": c["tp"] + c["fp"]}
    return out


def macro_f1(table: dict[str, dict]) -> float:
    """Mean F1 over the labels with at least one true instance."""
    scores = [row["f1"] for row in table.values() if row["support"]]
    return sum(scores) / len(scores) if scores else 0.0


def summary(pairs: list[tuple[dict, dict]]) -> dict:
    """All the headline numbers for a list of (truth, prediction) pairs."""
    strict, with_info = per_label(pairs), per_label(pairs, "kinds_info")
    healthy = [p for t, p in pairs if t["healthy"]]
    faulty = [p for t, p in pairs if not t["healthy"]]
    read = [(t, p) for t, p in pairs if p["read"]]
    best_hits = [t["best_epoch"] == p["best_epoch"] for t, p in read]
    best_near = [
        (t["best_epoch"] is None and p["best_epoch"] is None)
        or (t["best_epoch"] is not None and p["best_epoch"] is not None and abs(t["best_epoch"] - p["best_epoch"]) <= 1)
        for t, p in read
    ]
    onset_err = [abs(p["onsets"][k] - e) for t, p in read for k, e in t["onsets"].items() if k in p["onsets"]]
    onset_total = sum(len(t["onsets"]) for t, _ in read)
    return {
        "records": len(pairs),
        "read_rate": len(read) / len(pairs) if pairs else 0.0,
        "macro_f1": macro_f1(strict),
        "macro_f1_kinds": macro_f1({k: v for k, v in strict.items() if k in SCORED_KINDS}),
        "macro_f1_causes": macro_f1({k: v for k, v in strict.items() if k in CAUSES}),
        "macro_f1_with_info": macro_f1(with_info),
        "false_alarm_rate": sum(p["flagged"] for p in healthy) / len(healthy) if healthy else None,
        "healthy_records": len(healthy),
        "detection_rate": sum(p["flagged"] for p in faulty) / len(faulty) if faulty else None,
        "best_epoch_exact": sum(best_hits) / len(best_hits) if best_hits else None,
        "best_epoch_within_1": sum(best_near) / len(best_near) if best_near else None,
        "onset_mae": statistics.mean(onset_err) if onset_err else None,
        "onset_median": statistics.median(onset_err) if onset_err else None,
        "onset_matched": f"{len(onset_err)}/{onset_total}",
        "per_label": strict,
        "per_label_with_info": with_info,
    }


def diagnose(path: Path) -> dict | None:
    import fitdoc

    try:
        return fitdoc.diagnose(str(path)).to_dict()
    except Exception as exc:  # any failure to produce a report is an unread record
        print(f"unread {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


def run_ids(runs: Path, subset: bool) -> list[str]:
    if subset:
        return [line.strip() for line in SUBSET.read_text().splitlines() if line.strip()]
    return sorted(p.parent.name for p in runs.glob("*/label.json"))


def score(runs: Path, ids: list[str]) -> tuple[dict, dict[str, dict]]:
    """Overall summary and one summary per format."""
    by_format = defaultdict(list)
    for run_id in ids:
        run = runs / run_id
        t = truth(json.loads((run / "label.json").read_text()))
        for name in FORMATS:
            if (run / name).exists():
                by_format[name].append((t, prediction(diagnose(run / name))))
    pairs = [pair for name in FORMATS for pair in by_format[name]]
    return summary(pairs), {name: summary(by_format[name]) for name in FORMATS if by_format[name]}


def _fmt(x, pct=False) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    return f"{100 * x:.1f}%" if pct else f"{x:.3f}"


def render(overall: dict, formats: dict[str, dict], ids: list[str], seconds: float) -> str:
    """Markdown tables of the results."""
    lines = [
        f"Scored {len(ids)} runs, {overall['records']} records, in {seconds:.0f}s.",
        "",
        "| metric | value |", "|---|---|",
        f"| macro-F1 (kinds + causes, warning/error findings) | {_fmt(overall['macro_f1'])} |",
        f"| macro-F1, kinds only | {_fmt(overall['macro_f1_kinds'])} |",
        f"| macro-F1, causes only | {_fmt(overall['macro_f1_causes'])} |",
        f"| macro-F1 with info findings | {_fmt(overall['macro_f1_with_info'])} |",
        f"| false alarms on healthy records ({overall['healthy_records']}) | {_fmt(overall['false_alarm_rate'], True)} |",
        f"| faulty records flagged | {_fmt(overall['detection_rate'], True)} |",
        f"| best epoch exact | {_fmt(overall['best_epoch_exact'], True)} |",
        f"| best epoch within 1 | {_fmt(overall['best_epoch_within_1'], True)} |",
        f"| onset error, mean / median epochs (matched {overall['onset_matched']}) | "
        f"{_fmt(overall['onset_mae'])} / {_fmt(overall['onset_median'])} |",
        f"| read rate | {_fmt(overall['read_rate'], True)} |",
        "",
        "| label | precision | recall | F1 | support | predicted | F1 with info |", "|---|---|---|---|---|---|---|",
    ]
    info = overall["per_label_with_info"]
    for name in SCORED_KINDS + CAUSES:
        row = overall["per_label"].get(name)
        if row:
            lines.append(
                f"| {name} | {_fmt(row['precision'])} | {_fmt(row['recall'])} | {_fmt(row['f1'])} | "
                f"{row['support']} | {row['predicted']} | {_fmt(info.get(name, {}).get('f1'))} |"
            )
    lines += ["", "| format | records | read rate | macro-F1 | false alarms | best epoch exact |", "|---|---|---|---|---|---|"]
    for name, s in formats.items():
        lines.append(
            f"| {FORMATS[name]} | {s['records']} | {_fmt(s['read_rate'], True)} | {_fmt(s['macro_f1'])} | "
            f"{_fmt(s['false_alarm_rate'], True)} | {_fmt(s['best_epoch_exact'], True)} |"
        )
    return "\n".join(lines)


def write_readme(table: str) -> None:
    text = README.read_text()
    head, rest = text.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    README.write_text(f"{head}{MARK_START}\n{table}\n{MARK_END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", action="store_true", help=f"score only the runs listed in {SUBSET.name}")
    parser.add_argument("--min-macro-f1", type=float, help="exit 1 when macro-F1 is below this value")
    parser.add_argument("--write-readme", action="store_true", help="write the results into bench/README.md")
    parser.add_argument("--json", type=Path, help="also write the full results as JSON here")
    parser.add_argument("--runs", type=Path, default=RUNS, help="corpus directory")
    args = parser.parse_args(argv)

    ids = run_ids(args.runs, args.subset)
    start = time.perf_counter()
    overall, formats = score(args.runs, ids)
    table = render(overall, formats, ids, time.perf_counter() - start)
    print(table)
    if args.json:
        args.json.write_text(json.dumps({"overall": overall, "formats": formats}, indent=1))
    if args.write_readme:
        write_readme(table)
    if args.min_macro_f1 is not None and overall["macro_f1"] < args.min_macro_f1:
        print(f"macro-F1 {overall['macro_f1']:.3f} is below {args.min_macro_f1}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
