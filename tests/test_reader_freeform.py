"""Free-form text log reader on logs printed by a real PyTorch loop and common layouts."""

import pytest

import fitdoc
from fitdoc.errors import UnreadableRecord
from fitdoc.readers import Source, detect, freeform, keras_text

from conftest import DATA
from conftest import write_log as write

LOGS = DATA / "text-log"


def test_tab_separated_phrases():
    run = fitdoc.read(LOGS / "tabs.txt")
    assert run.format == "text-log"
    assert list(run.epochs) == [1, 2, 3, 4, 5]  # as printed
    assert list(run.get("loss").values) == [0.693903, 0.528017, 0.447997, 0.398724, 0.363389]
    assert list(run.get("val_loss").values) == [0.6401, 0.560153, 0.508087, 0.470108, 0.440989]


def test_tutorial_layout_epoch_header_then_phase_lines():
    run = fitdoc.read(LOGS / "tutorial.txt")
    assert list(run.epochs) == [0, 1, 2, 3] and run.planned_epochs == 3
    assert list(run.get("accuracy").values) == [0.75, 0.8438, 0.8438, 0.875]
    assert list(run.get("val_loss").values) == [0.6401, 0.5602, 0.5081, 0.4701]
    assert list(run.get("val_accuracy").values) == [0.5938, 0.6875, 0.75, 0.75]


def test_absl_prefixes_per_batch_lines_and_test_as_validation():
    run = fitdoc.read(LOGS / "absl.txt")
    assert list(run.epochs) == [1, 2, 3, 4]
    # the epoch line's own loss wins over the mean of its batch lines
    assert list(run.get("loss").values) == [0.6939, 0.528, 0.448, 0.3987]
    assert list(run.get("val_accuracy").values) == [0.5938, 0.6875, 0.75, 0.75]
    assert any("test metrics read as validation" in n for n in run.notes)


def test_resumed_run_keeps_the_last_write_with_a_resume_event():
    run = fitdoc.read(LOGS / "resumed.txt")
    assert list(run.epochs) == [1, 2, 3, 4, 5, 6] and run.planned_epochs == 6
    assert list(run.get("loss").values) == [0.6939, 0.528, 0.5191, 0.4083, 0.3538, 0.3201]
    (event,) = run.events_of("resume")
    assert event.epoch == 3


@pytest.mark.parametrize(
    "text, epochs, series",
    [
        (
            "epoch 7 | train_loss 0.3 | val_acc 0.81 | lr 0.01\nepoch 8 | train_loss 0.2 | val_acc 0.83 | lr 0.01\n"
            "epoch 9 | train_loss nan | val_acc 0.8 | lr 0.001\n",
            [7, 8, 9],
            {"loss": [0.3, 0.2, float("nan")], "val_accuracy": [0.81, 0.83, 0.8], "lr": [0.01, 0.01, 0.001]},
        ),
        (
            "2024-05-01 10:00:00,001 INFO Epoch 1 Validation Accuracy: 0.5 Valid Loss: 0.9 Training Loss 1.0 f1=0.4\n"
            "2024-05-01 10:01:00,001 INFO Epoch 2 Validation Accuracy: 0.6 Valid Loss: 0.8 Training Loss 0.7 f1=0.5\n"
            "2024-05-01 10:02:00,001 INFO Epoch 3 Validation Accuracy: 0.7 Valid Loss: 0.7 Training Loss 0.5 f1=0.6\n",
            [1, 2, 3],
            {"val_accuracy": [0.5, 0.6, 0.7], "val_loss": [0.9, 0.8, 0.7], "loss": [1.0, 0.7, 0.5], "f1": [0.4, 0.5, 0.6]},
        ),
        (
            "| epoch | train_loss | val_loss |\n|---|---|---|\n| 1 | 0.9 | 1.0 |\n| 2 | 0.7 | 0.8 |\n| 3 | 0.5 | 0.7 |\n",
            [1, 2, 3],
            {"loss": [0.9, 0.7, 0.5], "val_loss": [1.0, 0.8, 0.7]},
        ),
        (
            "Epoch [1/2], Step [100/200], Loss: 0.5\nEpoch [1/2], Step [200/200], Loss: 0.3\n"
            "Epoch [2/2], Step [100/200], Loss: 0.2\nEpoch [2/2], Step [200/200], Loss: 0.1\nEpoch 2 test acc 0.9\n",
            [1, 2],
            {"loss": [0.4, 0.15], "val_accuracy": [float("nan"), 0.9]},
        ),
    ],
    ids=["pipes", "phrases-with-prefix", "markdown-table", "per-step-lines"],
)
def test_layouts(tmp_path, text, epochs, series):
    run = fitdoc.read(write(tmp_path, text), format="text-log")
    assert list(run.epochs) == epochs
    for name, values in series.items():
        assert run.get(name).values.tolist() == pytest.approx(values, nan_ok=True)


def test_sniff_is_modest_and_below_keras_on_keras_output(fixtures):
    assert freeform.sniff(Source(LOGS / "tabs.txt")) == 0.75  # every line prints its epoch
    assert freeform.sniff(Source(LOGS / "tutorial.txt")) == 0.5  # phase lines under "Epoch 0/3"
    for name in ("keras3_fit_verbose2.txt", "keras3_fit_verbose1_rendered.txt", "keras3_fit_verbose1_redirected.raw.txt"):
        source = Source(fixtures / name)
        assert freeform.sniff(source) < keras_text.sniff(source)
        assert detect(source).FORMAT == "keras-text"
    assert detect(Source(fixtures / "hf_trainer_stdout_dict_lines.txt")).FORMAT == "hf-trainer"


def test_cut_last_line_is_ignored_with_a_note(tmp_path):
    text = (LOGS / "tabs.txt").read_text()
    run = fitdoc.read(write(tmp_path, text[: text.rindex("0.44")]))
    assert list(run.epochs) == [1, 2, 3, 4]
    assert any("line 5 is incomplete" in n for n in run.notes)


def test_empty_prose_and_binary_files_are_one_line_errors(tmp_path):
    with pytest.raises(UnreadableRecord, match="empty"):
        fitdoc.read(write(tmp_path, ""))
    with pytest.raises(UnreadableRecord, match="no epochs"):
        fitdoc.read(write(tmp_path, "the epoch went well\nloss was fine\n"), format="text-log")
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x00\x01epoch 1 loss 0.5\x00" * 100)
    with pytest.raises(UnreadableRecord, match="binary"):
        fitdoc.read(binary, format="text-log")


def test_pytorch_example_prints_percentages_and_tqdm_follow_up_lines(tmp_path):
    mnist = (
        "Train Epoch: 1 [0/60000 (0%)]\tLoss: 2.300000\nTrain Epoch: 1 [640/60000 (1%)]\tLoss: 1.200000\n"
        "Train Epoch: 1 [59520/60000 (99%)]\tLoss: 0.300000\n\nTest set: Average loss: 0.1023, Accuracy: 9680/10000 (97%)\n\n"
        "Train Epoch: 2 [0/60000 (0%)]\tLoss: 0.250000\n\nTest set: Average loss: 0.0723, Accuracy: 9780/10000 (98%)\n"
    )
    percent = "".join(f"Epoch {e}/10 | Train Loss: 0.{6 - e} | Val Loss: 0.{7 - e} | Val Acc: 8{e}.5%\n" for e in range(1, 4))
    tqdm = "".join(f"Epoch {e}: 100%|####| 938/938 [00:10<00:00, loss=0.{4 - e}01]\nval_loss=0.{4 - e}5 val_acc=0.9{e}\n" for e in range(1, 4))
    runs = {}
    for name, text in (("mnist", mnist), ("percent", percent), ("tqdm", tqdm)):
        (tmp_path / name).write_text(text)
        runs[name] = fitdoc.read(tmp_path / name)
    m = runs["mnist"]
    assert m.get("loss").values[0] == pytest.approx((2.3 + 1.2 + 0.3) / 3)
    assert list(m.get("val_loss").values) == [0.1023, 0.0723] and list(m.get("val_accuracy").values) == [0.968, 0.978]
    assert list(runs["percent"].get("val_accuracy").values) == pytest.approx([0.815, 0.825, 0.835])
    assert list(runs["tqdm"].get("val_loss").values) == pytest.approx([0.35, 0.25, 0.15])


def test_fastai_tables_and_the_pytorch_tutorial_prefix(tmp_path):
    fastai = (
        "epoch     train_loss  valid_loss  accuracy  time\n"
        "0         0.512345    0.401234    0.851000  00:10\n"
        "1         0.401234    0.351234    0.871000  00:10\n"
        "2         0.351234    0.341234    0.881000  00:09\n"
    )
    tutorial = "[1,  2000] loss: 2.235\n[1,  4000] loss: 1.874\n[2,  2000] loss: 1.555\n[2,  4000] loss: 1.498\n[3,  2000] loss: 1.4\nFinished Training\n"
    (tmp_path / "fastai.txt").write_text(fastai)
    (tmp_path / "tutorial.txt").write_text(tutorial)
    table = fitdoc.read(tmp_path / "fastai.txt")
    assert list(table.epochs) == [0, 1, 2] and list(table.get("val_accuracy").values) == [0.851, 0.871, 0.881]
    assert set(table.metrics) == {"loss", "val_loss", "val_accuracy"}
    loop = fitdoc.read(tmp_path / "tutorial.txt")
    assert list(loop.epochs) == [1, 2, 3]
    assert loop.get("loss").values[0] == pytest.approx((2.235 + 1.874) / 2)


def test_percent_accuracies_without_a_percent_sign(tmp_path):
    text = "".join(f"Epoch {e}, Loss: 0.{5 - e}, Accuracy: 9{e}.5, Test Loss: 0.{6 - e}, Test Accuracy: 9{e}.0\n" for e in range(1, 4))
    (tmp_path / "tf.txt").write_text(text)
    run = fitdoc.read(tmp_path / "tf.txt")
    assert list(run.get("accuracy").values) == pytest.approx([0.915, 0.925, 0.935])
    assert list(run.get("val_accuracy").values) == pytest.approx([0.91, 0.92, 0.93])
    assert any("percent" in n for n in run.notes)
