"""Advice reconciled across a report, on real records: one learning-rate direction, the
rate in force at the onset, fixes said once in the run's framework with an action."""

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

import fitdoc
from fitdoc.advising import lr_at
from fitdoc.analysis import Context
from fitdoc.output.text import best_epoch_lines
from fitdoc.readers import read

DATA = Path(__file__).parent / "data"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "keras2_loss_rises_again.txt"
ADVICE = DATA / "advice"
LIGHTNING = ADVICE / "lightning_metrics.csv"  # a published Lightning CSVLogger file
HF = ADVICE / "hf_trainer_state.json"  # a published Trainer trainer_state.json
UNKNOWN = ADVICE / "paddle_nan.log"  # a PaddlePaddle log pasted into an issue
RECORDS = sorted(
    [EXAMPLE, *ADVICE.iterdir(), *(DATA / "keras_runs").glob("*.csv"), *(DATA / "keras_runs").glob("*.txt"),
     DATA / "hf" / "trainer_state.json", DATA / "lightning" / "steplr"]
)
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?")
ACTION_KINDS = {"param", "callback", "data", "model", "check", "metric"}


@pytest.fixture(scope="module")
def reports():
    return {path.name: fitdoc.diagnose(path, lang="en").to_dict() for path in RECORDS}


def lr_directions(report: dict) -> set[str]:
    out = set()
    for f in report["findings"]:
        for fix in f["fix_actions"]:
            a = fix["action"]
            if a.get("param") == "learning_rate":
                scale = a["scale"] if "scale" in a else a["to"] / a["from"]
                out.add("lower" if scale < 1 else "raise")
            elif a.get("callback") == "ReduceLROnPlateau":
                out.add("lower")
    return out


def test_one_learning_rate_direction_per_report(reports):
    for name, report in reports.items():
        assert len(lr_directions(report)) <= 1, name
        causes = {c["cause"] for f in report["findings"] for c in f["causes"]}
        assert not {"lr_too_high", "lr_too_low"} <= causes, name
    # the example's findings point both ways (FD102 says too low, FD203 too high): the
    # collapse at epoch 68 and the plateau outweigh the slow start
    assert lr_directions(reports[EXAMPLE.name]) == {"lower"}


def test_learning_rate_is_the_one_in_force_at_the_onset():
    report = fitdoc.diagnose(EXAMPLE, lang="en")
    ctx = Context(report.run)
    # ReduceLROnPlateau printed at epoch 69 sets 0.00064 for epoch 70 on
    assert lr_at(ctx, 70) == (pytest.approx(0.00064), 70)
    assert lr_at(ctx, 69) == (None, None)
    collapse = next(f for f in report.findings if f.code == "FD203")
    assert collapse.epoch == 68
    fixes = [x for _, a in report.items() for x in a.fix_actions]
    assert not any("0.00064" in x["text"] for x in fixes)
    rate = [x["action"] for x in fixes if x["action"].get("param") == "learning_rate"]
    assert rate and all("from" not in a for a in rate)  # unknown before epoch 69: only a factor


def test_learning_rate_from_events_matches_the_logged_series():
    """Keras prints "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.025" and logs
    learning_rate 0.05 for epoch 2: a change printed at an epoch takes effect after it."""
    run = read(ADVICE / "keras_reduce_lr_verbose2.txt")
    without_series = replace(run, series={k: v for k, v in run.series.items() if k != "lr"})
    assert run.events_of("lr_change")
    with_lr, from_events = Context(run), Context(without_series)
    first_change = run.events_of("lr_change")[0].epoch
    for epoch in run.epochs[run.epochs > first_change]:
        assert lr_at(from_events, epoch)[0] == pytest.approx(lr_at(with_lr, epoch)[0], abs=5e-5), epoch  # stdout prints 4 decimals
    assert len({lr_at(with_lr, e)[0] for e in run.epochs}) >= 4


def test_learning_rate_follows_the_series_at_each_onset():
    run = read(DATA / "lightning" / "steplr")
    ctx = Context(run)
    epochs, values = run.evaluated("lr")
    assert len(set(values)) > 1
    for epoch, value in zip(epochs, values):
        assert lr_at(ctx, epoch) == (value, epoch)


def test_lightning_and_hf_runs_get_no_keras_name(reports):
    for path, own in ((LIGHTNING, "lightning.pytorch"), (HF, "TrainingArguments")):
        report = reports[path.name]
        words = json.dumps(report["findings"]) + " ".join(best_epoch_lines(fitdoc.diagnose(path, lang="en")))
        assert report["findings"] and own in words, path.name
        assert "keras" not in words.lower(), path.name
    keras_words = json.dumps([f["fixes"] for f in reports["keras_nan_verbose2.txt"]["findings"]])
    assert "keras.callbacks.TerminateOnNaN()" in keras_words and "torch" not in keras_words


def test_unknown_framework_gets_keras_and_pytorch_labelled(reports):
    finding = reports[UNKNOWN.name]["findings"][0]
    assert finding["code"] == "FD201"
    assert set(finding["snippets"]) == {"keras", "pytorch"}
    stop = next(x["text"] for x in finding["fix_actions"] if x["action"] == {"callback": "TerminateOnNaN"})
    assert "Keras: callbacks=[keras.callbacks.TerminateOnNaN()]" in stop and "PyTorch: " in stop


def test_snippets_carry_the_numbers_of_their_sentences(reports):
    checked = 0
    for name, report in reports.items():
        for f in report["findings"]:
            said = {n for text in f["fixes"] for n in NUMBER.findall(text)}
            for code in (f["snippets"] or {}).values():
                assert set(NUMBER.findall(code)) <= said, (name, f["code"], code)
                checked += 1
            for x in f["fix_actions"]:
                a = x["action"]
                for key in ("from", "to"):
                    if isinstance(a.get(key), float) and a.get("param") != "dropout":
                        assert f"{a[key]:.3g}" in x["text"], (name, x)
    assert checked > 20


def test_every_fix_has_an_action(reports):
    for name, report in reports.items():
        for f in report["findings"]:
            assert [x["text"] for x in f["fix_actions"]] == f["fixes"], name
            for x in f["fix_actions"]:
                assert x["action"].keys() & ACTION_KINDS, (name, x)


def test_no_fix_is_said_twice_in_a_report(reports):
    for name, report in reports.items():
        actions = [json.dumps(x["action"], sort_keys=True) for f in report["findings"] for x in f["fix_actions"]]
        assert len(actions) == len(set(actions)), name
        early_stopping = [a for a in actions if '"EarlyStopping"' in a]
        assert len(early_stopping) <= 1, name


def test_cause_confidences_rank_and_agree_with_likely_causes(reports):
    for name, report in reports.items():
        for f in report["findings"]:
            conf = [c["confidence"] for c in f["causes"]]
            assert conf == sorted(conf, reverse=True) and sum(conf) <= 1.0 + 0.01 * len(conf), name
        leading = {f["causes"][0]["cause"] for f in report["findings"] if f["causes"]}
        assert set(report["likely_causes"]) <= leading, name
    assert any(len(f["causes"]) > 2 for r in reports.values() for f in r["findings"])


def test_train_longer_counts_in_the_record_numbering(reports):
    """accuracy_on_regression: epochs 0-39 in the CSV, 1-40 on stdout: 40 epochs trained."""
    for name in ("accuracy_on_regression.csv", "accuracy_on_regression.txt"):
        longer = [x for f in reports[name]["findings"] for x in f["fix_actions"] if x["action"].get("param") == "num_epochs"]
        assert [x["action"]["from"] for x in longer] == [40], name
        assert "more than 40 epochs" in longer[0]["text"]


def test_shuffle_only_where_the_split_looks_wrong(reports):
    def shuffles(report):
        return [f["code"] for f in report["findings"] for x in f["fix_actions"] if x["action"] == {"data": "shuffle_before_split"}]

    assert shuffles(reports["sorted_split.csv"]) == ["FD302"]
    # the example's stuck accuracy lists a data problem, but validation tracks training
    assert shuffles(reports[EXAMPLE.name]) == []
    # FD302 on a regression model is not a split problem
    assert shuffles(reports["accuracy_on_regression.csv"]) == []


def test_settings_are_quoted_only_when_the_record_shows_them():
    run = read(EXAMPLE)
    batch = next(x for _, a in fitdoc.diagnose(run, lang="en").items() for x in a.fix_actions
                 if x["action"].get("param") == "batch_size")
    assert batch["action"] == {"param": "batch_size", "scale": 4} and "your batch size" in batch["text"]
    run.info["settings"] = {"batch_size": 32, "learning_rate": 0.001}
    advised = [x for _, a in fitdoc.diagnose(run, lang="en").items() for x in a.fix_actions]
    batch = next(x for x in advised if x["action"].get("param") == "batch_size")
    assert batch["action"] == {"param": "batch_size", "from": 32, "to": 128}
    assert "from 32 to 128" in batch["text"]
    rate = next(x for x in advised if x["action"].get("param") == "learning_rate")
    assert rate["action"] == {"param": "learning_rate", "from": 0.001, "to": 0.000333}


def test_hf_settings_come_from_trainer_state():
    run = read(HF)
    assert run.info["settings"] == {"batch_size": 16, "num_epochs": 10}


def test_a_rate_outside_the_usual_range_goes_back_inside_it():
    """FD407 (pre-flight): Adam at 10 is lowered to the top of its usual range, once."""
    from fitdoc.rules.preflight import Setup

    run = read(DATA / "keras_runs" / "lr_too_high_sgd.csv")
    run.info["setup"] = Setup(optimizer="Adam", lr=10.0)
    report = fitdoc.diagnose(run, lang="en")
    preflight = next(f for f in report.findings if f.code == "FD407")
    rates = [x for _, a in report.items() for x in a.fix_actions if x["action"].get("param") == "learning_rate"]
    assert [x["action"] for x in rates] == [{"param": "learning_rate", "from": 10.0, "to": preflight.facts["limit"]}]
    assert f"{10 / preflight.facts['limit']:g}x" in rates[0]["text"]


def test_the_catalogue_names_only_fixes_and_conditions_that_exist():
    from fitdoc import advice
    from fitdoc.advising import CONDITIONS

    catalog = advice.catalog()
    named = {i for ids in catalog["rule_fixes"].values() for i in ids}
    named |= {i for cause in catalog["causes"].values() for i in cause["fixes"]}
    assert named == catalog["fixes"].keys()  # every fix named exists, every fix is named
    for fix_id, entry in catalog["fixes"].items():
        assert entry.get("when", "split") in CONDITIONS and "action" in entry, fix_id
        assert set(entry.get("code", {})) <= catalog["frameworks"]["labels"].keys(), fix_id
