"""Keras output pasted with the Epoch header glued to its result line, checkpoint
messages between epochs, and lr/time values beside the metrics."""

import fitdoc

LINE = "782/782 [==============================] - 12s 15ms/step - loss: {:.4f} - accuracy: 0.7120 - val_loss: {:.4f} - val_accuracy: 0.7520 - lr: 0.0010 - time: 12.1000"


def test_glued_headers_checkpoints_and_time_lr(tmp_path):
    losses = [(0.6123, 0.5512), (0.4123, 0.4512), (0.3123, 0.4412)]
    text = ""
    for epoch, (loss, val) in enumerate(losses, 1):
        glue = "\n" if epoch == 1 else ""  # the break after "Epoch k/10" lost from the second epoch on
        text += f"Epoch {epoch}/10{glue}{LINE.format(loss, val)}\n"
        text += f"Epoch {epoch:05d}: val_loss improved from {losses[epoch - 2][1] if epoch > 1 else float('inf'):.5f} to {val:.5f}, saving model to best.h5\n"
    path = tmp_path / "fit.txt"
    path.write_text(text)
    run = fitdoc.read(path)
    assert run.format == "keras-text" and list(run.epochs) == [1, 2, 3]
    assert run.planned_epochs == 10  # not 10782 from "Epoch 2/10782/782"
    assert run.get("loss").values.tolist() == [0.6123, 0.4123, 0.3123]
    assert run.get("lr").values.tolist() == [0.001] * 3 and "time" not in run.metrics
    assert [e.epoch for e in run.events_of("checkpoint")] == [1, 2, 3]
    assert [e.value for e in run.events_of("checkpoint")] == [0.5512, 0.4512, 0.4412]


def test_a_glued_header_cut_mid_line_keeps_the_complete_epochs(tmp_path):
    text = "Epoch 1/3\n" + LINE.format(0.6, 0.55) + "\nEpoch 2/3" + LINE.format(0.4, 0.45)[:40]
    path = tmp_path / "cut.txt"
    path.write_text(text)
    run = fitdoc.read(path)
    assert list(run.epochs) == [1] and run.get("loss").values.tolist() == [0.6]
