"""Lightning CSVLogger reader on real metrics.csv files."""

import shutil

import pytest

import fitdoc
from fitdoc.errors import UnreadableRecord
from fitdoc.readers import Source, detect, keras_csv, lightning_csv

from conftest import DATA

LIGHTNING = DATA / "lightning"


def test_fixture_epoch_and_step_columns_and_lr_rows_without_epoch(fixtures):
    path = fixtures / "lightning_csvlogger_metrics.csv"
    source = Source(path)
    assert lightning_csv.sniff(source) > keras_csv.sniff(source)
    run = fitdoc.read(path)
    assert run.format == "lightning-csv"
    assert list(run.epochs) == [0, 1, 2]  # as Lightning writes them
    assert list(run.get("loss").values) == [1.6454483270645142, 1.5393242835998535, 1.517561674118042]
    assert list(run.get("val_loss").values) == [1.4882357120513916, 1.4547555446624756, 1.4470078945159912]
    assert list(run.get("val_accuracy").values) == [0.5] * 3
    assert list(run.get("lr").values) == [0.1] * 3
    loss_steps = run.step_series["loss"]
    assert list(loss_steps.steps) == [1, 3, 5, 7, 9, 11]
    assert loss_steps.values[:2].tolist() == [2.2914016246795654, 1.593554139137268]
    assert list(run.step_series["lr"].steps) == [0, 1, 3, 4, 5, 7, 8, 9, 11]
    assert not run.events and not run.notes


def test_lr_rows_take_the_epoch_of_the_following_step():
    run = fitdoc.read(LIGHTNING / "steplr")
    # StepLR(step_size=2, gamma=0.5): the LR row at the first step of an epoch belongs to it
    assert list(run.get("lr").values) == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert list(run.get("loss").values) == pytest.approx([0.69135, 0.58761, 0.52358, 0.49645, 0.47532], abs=1e-5)


def test_versions_are_stitched_with_the_later_write_and_a_resume_event():
    run = fitdoc.read(LIGHTNING / "resumed")
    assert list(run.epochs) == [0, 1, 2, 3, 4]
    # plain train_loss logged per step: the epoch value is the mean of its rows
    assert run.get("loss").values[0] == pytest.approx((0.976969301700592 + 0.6344740390777588) / 2)
    # epoch 2 comes from version_1 (resumed from the end of epoch 1 on other data)
    assert run.get("loss").values[2] == pytest.approx((0.5918548107147217 + 0.5674893856048584) / 2)
    assert run.get("val_loss").values[2] == 0.5796117186546326
    (event,) = run.events_of("resume")
    assert event.epoch == 2 and "version_1" in event.message
    assert list(run.step_series["loss"].steps) == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]


def test_step_going_back_in_one_file_is_a_resume(tmp_path):
    first, second = (LIGHTNING / "resumed" / f"version_{i}" / "metrics.csv" for i in (0, 1))
    joined = tmp_path / "metrics.csv"
    joined.write_text(first.read_text() + "".join(second.read_text().splitlines(True)[1:]))
    run = fitdoc.read(joined)
    assert run.get("val_loss").values[2] == 0.5796117186546326
    assert [e.epoch for e in run.events_of("resume")] == [2]


def test_a_version_starting_again_at_the_first_epoch_is_a_new_run(tmp_path):
    for version in (0, 1):
        shutil.copytree(LIGHTNING / "steplr" / "version_0", tmp_path / "logs" / f"version_{version}")
    runs = fitdoc.read_runs(tmp_path / "logs")
    assert len(runs) == 2 and all(list(r.epochs) == [0, 1, 2, 3, 4] and not r.events for r in runs)
    assert len(fitdoc.read_runs(LIGHTNING)) == 2  # a directory of logger directories


def test_cut_last_line_is_ignored_with_a_note(tmp_path, fixtures):
    text = (fixtures / "lightning_csvlogger_metrics.csv").read_text()
    cut = tmp_path / "metrics.csv"
    cut.write_text(text[: text.rindex("1.51")])  # 2,,11,1.51|7561674118042,,,
    run = fitdoc.read(cut)
    assert list(run.epochs) == [0, 1, 2]
    assert run.get("loss").present.tolist() == [True, True, False]
    assert any("line 22 is incomplete" in n for n in run.notes)


def test_bad_cell_empty_and_header_only_files_are_one_line_errors(tmp_path, fixtures):
    bad = tmp_path / "metrics.csv"
    bad.write_text((fixtures / "lightning_csvlogger_metrics.csv").read_text().replace("1.4882357120513916", "oops"))
    with pytest.raises(UnreadableRecord, match=r"line 7: 'oops' is not a number"):
        fitdoc.read(bad)
    bad.write_text("epoch,step,train_loss\n")
    assert detect(Source(bad)).FORMAT == "lightning-csv"
    with pytest.raises(UnreadableRecord, match="no epochs"):
        fitdoc.read(bad)
    bad.write_text("")
    with pytest.raises(UnreadableRecord, match="not a Lightning CSVLogger"):
        fitdoc.read(bad, format="lightning-csv")


@pytest.mark.training
def test_csv_logger_output_written_now_reads_like_the_committed_files(tmp_path):
    pytest.importorskip("lightning")
    from data import make_lightning

    make_lightning.main(tmp_path)
    steplr, resumed = fitdoc.read(tmp_path / "steplr"), fitdoc.read(tmp_path / "resumed")
    assert list(steplr.get("lr").values) == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert set(steplr.series) == {"loss", "lr", "val_loss", "val_accuracy"}
    assert list(resumed.epochs) == [0, 1, 2, 3, 4]
    assert [e.epoch for e in resumed.events_of("resume")] == [2]
