"""The framework-free live doctor, fed epoch rows by hand."""

import csv

import pytest

from fitdoc.integrations.live import Handle, LiveDoctor


class FakeHandle(Handle):
    def __init__(self):
        self.lr, self.weights, self.stopped = 0.01, 0, False

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights

    def scale_lr(self, factor, min_lr):
        self.lr = max(self.lr * factor, min_lr)
        return self.lr

    def stop(self):
        self.stopped = True


def feed(doctor, rows):
    handle = FakeHandle()
    doctor.begin(handle)
    for epoch, row in enumerate(rows, start=1):
        handle.weights = epoch
        if doctor.epoch_end(epoch, row).should_stop:
            break
    doctor.end()
    return handle


def read_case(cases, name):
    with open(cases / f"{name}.csv", encoding="utf-8") as f:
        return [{k: float(v) for k, v in row.items() if k != "epoch"} for row in csv.DictReader(f)]


def test_each_finding_said_once_and_lr_lowered_on_oscillation(cases, capsys):
    doctor = LiveDoctor(reduce_lr_on=("oscillation",), factor=0.5, probes=None, lang="en")
    handle = feed(doctor, read_case(cases, "oscillating"))
    codes = [n.finding.code for n in doctor.notices]
    assert "FD204" in codes and len(codes) == len(set(codes))
    assert handle.lr == pytest.approx(0.005)
    lr_events = [e for e in doctor.report.run.events if e.type == "lr_change"]
    assert [e.value for e in lr_events] == [pytest.approx(0.005)]
    assert capsys.readouterr().out.count("FD204") == 1


def test_stop_on_nan_and_restore_best(cases):
    doctor = LiveDoctor(restore_best_weights=True, probes=None)
    handle = feed(doctor, read_case(cases, "nan"))
    onset = 6  # truth.json: NaN from CSV epoch 5, the 6th epoch
    assert handle.stopped and len(doctor.rows) == onset
    assert doctor.best_epoch == onset - 1 and handle.weights == onset - 1
    assert doctor.report.run.events_of("restore_best")[0].epoch == onset - 1


def test_patience_stops_like_early_stopping(cases):
    doctor = LiveDoctor(patience=5, probes=None, verbose=0)
    handle = feed(doctor, read_case(cases, "overfit"))
    assert handle.stopped
    assert doctor.best_epoch == 8 and max(doctor.rows) == 8 + 5


def test_arguments_are_validated():
    with pytest.raises(ValueError, match="probes"):
        LiveDoctor(probes="all")
    with pytest.raises(ValueError, match="factor"):
        LiveDoctor(factor=2)


def test_chinese_messages(cases, capsys):
    feed(LiveDoctor(probes=None, lang="zh"), read_case(cases, "nan"))
    out = capsys.readouterr().out
    assert "停止训练" in out and "loss 变成 NaN" in out
