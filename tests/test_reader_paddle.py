"""PaddlePaddle Model.fit output, on excerpts Paddle's documents and users published."""

import pytest

import fitdoc
from fitdoc.readers import Source, detect, keras_text, paddle_hapi

from conftest import DATA

PADDLE = DATA / "paddle"


def test_eval_block_is_the_validation_of_its_epoch():
    run = fitdoc.read(PADDLE / "uci_housing_docs.txt")
    assert run.format == "paddle-hapi" and list(run.epochs) == [1, 2, 3] and run.planned_epochs == 5
    assert run.get("loss").values.tolist() == [600.1409, 409.8211, 416.0571]
    assert run.get("val_loss").values.tolist() == [403.3546, 400.7605, 398.2093]


def test_window_starting_inside_an_epoch_and_a_final_evaluate():
    run = fitdoc.read(PADDLE / "mnist_window.txt")
    assert list(run.epochs) == [1, 2, 3, 4, 5]
    assert run.get("accuracy").values.tolist() == [0.8935, 0.9473, 0.9599, 0.9649, 0.9706]
    assert run.get("val_accuracy").present.tolist() == [False] * 4 + [True]
    assert any("starts inside epoch 1" in n for n in run.notes)


def test_detected_over_keras_whose_bars_it_shares():
    source = Source(PADDLE / "uci_housing_docs.txt")
    assert paddle_hapi.sniff(source) > keras_text.sniff(source) and detect(source).FORMAT == "paddle-hapi"


def test_keras_output_and_a_cut_file_are_not_taken_for_paddle(tmp_path, fixtures):
    assert paddle_hapi.sniff(Source(fixtures / "keras3_fit_verbose2.txt")) == 0.0
    text = (PADDLE / "uci_housing_docs.txt").read_text()
    cut = tmp_path / "cut.txt"
    cut.write_text(text[: text.rindex("398.2") + 3])
    run = fitdoc.read(cut)
    assert run.get("val_loss").present.tolist() == [True, True, False]
