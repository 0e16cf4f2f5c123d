"""Markdown tables and Hugging Face model cards, on published cards and one Trainer wrote."""

import pytest

import fitdoc
from fitdoc.errors import UnreadableRecord
from fitdoc.readers import Source, detect, markdown_table

from conftest import DATA

REAL = DATA / "realruns"
CARD = DATA / "text-tables" / "model_card.md"


def test_card_written_by_trainer_gives_its_table_and_settings():
    run = fitdoc.read(CARD)
    assert run.format == "markdown-table" and list(run.epochs) == [1, 2, 3]
    assert run.get("loss").values.tolist() == [0.6907, 0.438, 0.375]
    assert run.get("val_loss").values.tolist() == [0.5943, 0.5177, 0.4974]
    assert run.get("val_accuracy").values.tolist() == [0.625, 0.6562, 0.6875]  # after Validation Loss: held out
    assert run.info["settings"] == {"learning_rate": 0.1, "batch_size": 8, "optimizer": "adamw_torch_fused", "num_epochs": 3}
    assert run.planned_epochs == 3


def test_published_card_with_no_log_cells_and_a_partial_last_epoch():
    run = fitdoc.read(REAL / "410.log")
    assert list(run.epochs) == [1, 2, 3, 3.33]  # training_steps: 10 ends inside epoch 4
    assert not run.has("loss")  # every Training Loss cell is "No log"
    assert run.get("val_loss").values.tolist() == [0.756, 0.6863, 0.6672, 0.6657]
    assert run.get("val_f1").values.tolist() == [0.0] * 4
    assert run.info["settings"] == {"learning_rate": 2e-05, "batch_size": 8, "optimizer": "adam"}


def test_fractional_epochs_are_kept_as_printed_or_the_rows_are_steps(tmp_path):
    run = fitdoc.read(REAL / "406.log")
    assert list(run.epochs) == [2.07, 5.05, 8.03, 11]
    assert run.get("val_wer").values.tolist() == [6.977, 6.5987, 6.6979, 6.6794]
    within_one = fitdoc.read(REAL / "409.log")  # 26 evaluations inside epoch 1
    assert list(within_one.epochs[:3]) == [0.04, 0.08, 0.12] and len(within_one) == 26
    rounded = tmp_path / "README.md"  # epochs printed to one decimal repeat: the steps tell the rows apart
    rounded.write_text("| Training Loss | Epoch | Step | Validation Loss |\n|---|---|---|---|\n"
                       "| 0.9 | 0.3 | 10 | 1.0 |\n| 0.8 | 0.3 | 20 | 0.9 |\n| 0.7 | 0.6 | 30 | 0.8 |\n")
    by_step = fitdoc.read(rounded)
    assert list(by_step.epochs) == [10, 20, 30] and by_step.info["x_axis"] == "step"
    # the effective batch (train_batch_size 1 x 8 accumulation x 4 devices) is the one kept
    assert within_one.info["settings"]["batch_size"] == 32 and within_one.info["settings"]["num_epochs"] == 1.0


def test_whole_epochs_and_settings_of_a_published_card():
    run = fitdoc.read(REAL / "405.log")
    assert list(run.epochs) == [1, 2, 3, 4]
    assert run.get("loss").values.tolist() == [0.1421, 0.1036, 0.1836, 0.0423]
    assert set(run.metrics) == {"loss", "val_loss", "val_recall", "val_accuracy", "val_precision"}
    assert run.info["settings"]["num_epochs"] == 4 and run.planned_epochs == 4


def test_a_table_github_rendered_from_a_pasted_notebook(tmp_path):
    path = tmp_path / "issue.md"
    path.write_text(
        "Training output:\n\nStep | Training Loss | Validation Loss | Accuracy\n-- | -- | -- | --\n"
        "10 | 0.698400 | 0.497485 | 0.813416\n20 | 0.394700 | 0.291701 | 0.913778\n30 | 0.225200 | 0.138921 | 0.951371\n"
    )
    run = fitdoc.read(path)
    assert run.format == "markdown-table" and list(run.epochs) == [10, 20, 30]
    assert run.get("val_accuracy").values.tolist() == [0.813416, 0.913778, 0.951371]


@pytest.mark.parametrize(
    "text",
    [
        "# Results\n\n| Model | Top-1 | Params |\n|---|---|---|\n| resnet50 | 76.1 | 25M |\n| vit-b | 81.2 | 86M |\n",
        "| Variant | Best epoch | val_loss at best |\n|---|---:|---:|\n| a | 3 | 0.41 |\n| b | 7 | 0.38 |\n",
        "| epoch | notes |\n|---|---|\n| 1 | warm-up |\n| 2 | full lr |\n",
    ],
    ids=["benchmark-table", "summary-per-variant", "no-metric-column"],
)
def test_tables_that_are_not_a_training_record_are_refused(tmp_path, text):
    path = tmp_path / "README.md"
    path.write_text(text)
    assert markdown_table.sniff(Source(path)) == 0.0
    with pytest.raises(UnreadableRecord, match="README.md"):
        fitdoc.read(path)


def test_truncated_card_keeps_its_complete_rows(tmp_path):
    text = CARD.read_text()
    path = tmp_path / "README.md"
    path.write_text(text[: text.rindex("0.6875") + 4])  # the last row cut inside its last cell
    run = fitdoc.read(path)
    assert list(run.epochs) == [1, 2] and run.info["settings"]["learning_rate"] == 0.1
    assert any("incomplete" in n for n in run.notes)
    path.write_text(text[: text.index("| 2.0")])  # one row: not a curve
    with pytest.raises(UnreadableRecord, match="needs 2 epochs"):
        fitdoc.read(path)


def test_detected_over_the_text_reader():
    assert detect(Source(CARD)).FORMAT == "markdown-table"
