"""Printed tables, tqdm bars and logs without epoch numbers (the text-log reader), on
published logs and on output of Trainer's notebook callback and tqdm."""

import pytest

import fitdoc
from fitdoc.errors import UnreadableRecord

from conftest import DATA
from conftest import write_log as write

REAL = DATA / "realruns"
MADE = DATA / "text-tables"


def test_pandas_history_table_with_its_index_as_epochs():
    run = fitdoc.read(REAL / "303.log")
    assert run.format == "text-log" and list(run.epochs) == list(range(1, 21))
    assert run.get("val_loss").values[[0, 3, 19]].tolist() == [0.71996, 0.684516, 0.880477]
    assert run.get("accuracy").values[-1] == 0.825762


def test_fastai_tables_pasted_as_comments_restart_at_zero():
    run = fitdoc.read(REAL / "419.log")  # fine_tune: a frozen epoch 0, then epochs 0-3 (the last cut)
    assert list(run.epochs) == [0, 1, 2]
    assert run.get("val_loss").values.tolist() == [0.265538, 0.235724, 0.192282]
    assert [e.type for e in run.events] == ["resume"]


def test_trainer_notebook_table_with_a_step_column():
    run = fitdoc.read(MADE / "notebook_table.txt")
    assert list(run.epochs) == [3, 6, 9, 12] and run.info["x_axis"] == "step"
    assert run.get("loss").values.tolist() == [0.702926, 0.536752, 0.406682, 0.358537]
    assert run.get("val_accuracy").values.tolist() == [0.59375, 0.65625, 0.65625, 0.6875]


@pytest.mark.parametrize("sep", ["\t", "  "])
def test_trainer_notebook_table_by_epoch_with_no_log(tmp_path, sep):
    rows = [["Epoch", "Training Loss", "Validation Loss", "Accuracy", "F1"], ["1", "No log", "0.412345", "0.812000", "0.801"],
            ["2", "0.398700", "0.345678", "0.861000", "0.852"], ["3", "0.251200", "0.331234", "0.872000", "0.866"]]
    run = fitdoc.read(write(tmp_path, "".join(sep.join(r) + "\n" for r in rows)))
    assert list(run.epochs) == [1, 2, 3]
    assert run.get("loss").present.tolist() == [False, True, True]
    assert run.get("val_f1").values.tolist() == [0.801, 0.852, 0.866]


@pytest.mark.parametrize(
    "text",
    [
        "loss,acc,val_loss,val_acc\n0.62,0.71,0.65,0.69\n0.48,0.79,0.55,0.75\n0.40,0.83,0.52,0.78\n",
        "".join("train_loss\ttrain_acc\tval_loss\tval_acc\t\n" + row for row in ("0.62\t0.71\t0.65\t0.69\t\n", "0.48\t0.79\t0.55\t0.75\t\n", "0.40\t0.83\t0.52\t0.78\t\n")),
        "".join(f"Epoch {e}/3\nloss acc val_loss val_acc\n{row}\n" for e, row in ((1, "0.62 0.71 0.65 0.69"), (2, "0.48 0.79 0.55 0.75"), (3, "0.40 0.83 0.52 0.78"))),
    ],
    ids=["header-once", "header-before-every-epoch-trailing-tab", "under-epoch-lines"],
)
def test_a_header_then_values_only(tmp_path, text):
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == [1, 2, 3]
    assert run.get("val_loss").values.tolist() == [0.65, 0.55, 0.52]
    assert run.get("accuracy").values.tolist() == [0.71, 0.79, 0.83]


def test_tqdm_training_and_validation_bars_with_postfix_metrics():
    run = fitdoc.read(MADE / "tqdm_postfix.txt")  # \r updates; the bar names no epoch
    assert list(run.epochs) == [1, 2, 3]
    assert run.get("loss").values.tolist() == [0.694, 0.544, 0.458]
    assert run.get("val_loss").values.tolist() == [0.573, 0.503, 0.463]
    assert run.get("val_accuracy").values.tolist() == [0.625, 0.625, 0.625]
    assert any("tqdm training bars" in n for n in run.notes)


def test_tqdm_bars_named_by_phase_and_epoch(tmp_path):
    named = "".join(
        f"Epoch {e}: 100%|##########| 782/782 [01:12<00:00, 10.8it/s, train_loss=0.{7 - e}12]\n"
        f"Validation: 100%|##########| 157/157 [00:05<00:00, 30.1it/s, val_loss=0.{8 - e}51, val_acc=0.7{e}2]\n"
        for e in (1, 2, 3)
    )
    run = fitdoc.read(write(tmp_path, named))
    assert list(run.epochs) == [1, 2, 3] and set(run.metrics) == {"loss", "val_loss", "val_accuracy"}
    assert run.get("val_loss").values.tolist() == [0.751, 0.651, 0.551]


def test_prose_blocks_per_epoch(tmp_path):
    text = "".join(
        f"Epoch {e}/3\n----------\nTrain loss is 0.{7 - e}1, train accuracy {70 + 5 * e}.2%, test accuracy {68 + 5 * e}.0%\n\n"
        for e in (1, 2, 3)
    )
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == [1, 2, 3] and run.planned_epochs == 3
    assert run.get("loss").values.tolist() == [0.61, 0.51, 0.41]
    assert run.get("val_accuracy").values.tolist() == pytest.approx([0.73, 0.78, 0.83])  # the only held-out metric
    assert any("test metrics read as validation" in n for n in run.notes)


def test_lines_without_epoch_numbers_are_points_from_one():
    run = fitdoc.read(REAL / "404.log")
    assert list(run.epochs) == list(range(1, 11)) and run.info["x_axis"] == "step"
    assert run.get("loss").values[:5].tolist() == [1.10886, 1.53702, 0.866067, 1.32708, 1.20029]
    assert run.get("loss").nonfinite.tolist() == [False] * 5 + [True] * 5


@pytest.mark.parametrize(
    "name, first_steps, metric, first_values",
    [
        ("424.log", [4300, 4400], "loss", [22.9003, 24.6756]),  # Iter: 4300/8007 inside epoch 1/300
        ("425.log", [750, 760], "loss", [6.70559, 6.64842]),  # PaddlePaddle: batch: 750/34799, Chinese lines between
        ("427.log", [1069, 1169], "le", [25.600017547607422, 25.60001564025879]),  # [5][1069/2266], tab-separated
    ],
)
def test_a_window_inside_one_epoch_is_read_step_by_step(name, first_steps, metric, first_values):
    run = fitdoc.read(REAL / name)
    assert list(run.epochs[:2]) == first_steps and run.info["x_axis"] == "step"
    assert run.get(metric).values[:2].tolist() == first_values
    assert not {"time", "time_avg", "mem", "data", "eit", "rate"} & set(run.metrics)  # clocks, memory, counters
    assert any("window inside epoch" in n for n in run.notes)


def test_learning_rate_written_in_two_words_is_lr():
    assert "lr" in fitdoc.read(REAL / "425.log").metrics


@pytest.mark.parametrize(
    "text",
    [
        "fitdoc reads training logs.\nThe training doctor adds pre-flight checks FD401-FD407 and runtime probes FD501-FD505.\n"
        "At epoch 68 the loss rises again after falling to 0.31 because the learning rate of 0.01 is too high for it.\n",
        "[model]\nlayers = 4\nhidden = 256\n[train]\nepochs = 20\nlr = 0.001\nbatch_size = 32\n",
        "city,population,area\nParis,2161000,105.4\nLyon,513275,47.9\nLille,232787,34.8\n",
        "name,loss_ratio\nfoo,0.5\n",
    ],
    ids=["prose", "config", "csv-of-something-else", "one-row"],
)
def test_near_misses_are_refused_with_one_line(tmp_path, text):
    path = write(tmp_path, text, "notes.txt")
    with pytest.raises(UnreadableRecord) as err:
        fitdoc.read(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_truncated_table_loses_only_its_cut_row(tmp_path):
    text = (REAL / "303.log").read_text()
    run = fitdoc.read(write(tmp_path, text[: text.index("0.880477") + 3]))
    assert list(run.epochs) == list(range(1, 20))
    assert any("incomplete" in n for n in run.notes)


REAL_TEXT = DATA / "text-log-real"


def test_mxnet_epoch_lines_with_speed_and_time_cost_left_out():
    run = fitdoc.read(REAL_TEXT / "mxnet_issue15962.log")
    assert list(run.epochs) == [23, 24] and set(run.metrics) == {"accuracy", "val_accuracy"}
    assert run.get("accuracy").values.tolist() == [0.89984, 0.906055]  # Train-accuracy wins over the batch lines


@pytest.mark.parametrize(
    "name, epochs, metric, values",
    [
        ("pairnorm_issue1.log", [521, 522, 523, 524], "val_accuracy", [0.708, 0.69, 0.692, 0.686]),
        ("nnunet_issue440.log", [0, 1, 2], "val_loss", [1.1733, 1.17, 1.1654]),
        ("torchvision_detection.log", [0, 1], "loss_mask", [(1.8560 + 1.8035) / 2, 0.3612]),
    ],
)
def test_published_loop_prints(name, epochs, metric, values):
    run = fitdoc.read(REAL_TEXT / name)
    assert list(run.epochs) == epochs
    assert run.get(metric).values.tolist() == pytest.approx(values)


def test_a_print_glued_to_an_unfinished_tqdm_bar_is_read():
    run = fitdoc.read(REAL_TEXT / "epoch_progress_glued.log")
    assert list(run.epochs) == [1, 2, 3]
    assert run.get("val_loss").values[0] == 10.997926981021196


def test_metric_logger_lines_averaged_per_epoch_without_clocks_or_memory():
    run = fitdoc.read(REAL_TEXT / "llama2_accessory_issue48.log")
    assert list(run.epochs) == [1, 2] and set(run.metrics) == {"lr", "closs"}
    assert run.get("closs").values.tolist() == pytest.approx([(0.9233 + 0.8147 + 0.7704) / 3, (0.9249 + 0.9249 + 0.9240) / 3])


def test_lines_printing_their_own_epoch_with_keras_style_pairs(tmp_path):
    text = (REAL_TEXT / "dash_pairs_epoch_brackets.log").read_text()
    run = fitdoc.read(write(tmp_path, text))
    assert run.format == "text-log" and list(run.epochs) == [1, 2, 3, 4, 5]
    assert run.get("accuracy").values.tolist() == [0.5, 0.5, 0.51, 0.58, 0.72]
    window = fitdoc.read(write(tmp_path, "".join(text.splitlines(keepends=True)[2:]), "window.log"))
    assert list(window.epochs) == [3, 4, 5]  # numbered as printed, not from 1


def test_checkpoint_messages_give_no_metrics(tmp_path):
    text = "".join(
        f"Epoch {e}: 100%|##########| 18/18 [00:20<00:00,  1.14s/it, loss={9.85 - e:.2f}, v_num=193315]\n"
        f"Epoch {e}, global step {18 * (e + 1)}: 'val_loss' reached {9.6 - e:.5f} (best {9.6 - e:.5f}), "
        f"saving model to 'lightning_logs/version_0/checkpoints/epoch={e}-step={18 * (e + 1)}.ckpt' as top 1\n"
        for e in range(3)
    ) + "Epoch 3, global step 72: 'val_loss' was not in top 1\n"
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == [0, 1, 2] and set(run.metrics) == {"loss"}


STEPS_NOTE = "no epoch numbers: each logged step is one point, numbered as printed"


@pytest.mark.parametrize(
    "name, steps, series",
    [
        ("sklearn_mlp_notebook.log", range(1, 11), {"loss": [2.36734712, 2.34817172]}),
        ("sklearn_mlp_glued_tqdm.log", range(1, 7), {"loss": [0.39315778, 0.21905489]}),  # after a tqdm bar and "[LibSVM]"
        ("caffe_lcnn_issue11.log", range(1853400, 1853900, 100), {"loss": [0.667568, 0.609652], "accuracy": [0.78125, 0.84375], "lr": [0.000174348, 0.000174342]}),
        ("tfslim_models_issue2980.log", range(1, 9), {"loss": [79.3501, 72.8609]}),  # every line twice
        ("tf_retrain_cloud_annotations_issue56.log", [270, 280, 290], {"accuracy": [float("nan"), 1.0], "val_accuracy": [1.0, 1.0], "loss": [float("nan"), 0.011189]}),  # "Cross entropy" is its loss
        ("madlib_pr564.log", range(17, 22), {"loss": [0.209832004773, 0.202990027516]}),
        ("fedncf_readme.log", range(0, 15), {"loss": [0.68924, 0.69012], "hr@10": [0.00258, 0.00276], "ndcg@10": [0.00102, 0.00108]}),
    ],
)
def test_step_counter_lines_without_epochs_are_points_numbered_as_printed(name, steps, series):
    run = fitdoc.read(REAL_TEXT / name)
    assert run.format == "text-log" and list(run.epochs) == list(steps) and run.info["x_axis"] == "step"
    assert set(run.metrics) == set(series)  # no counters, clocks or sample counts ("(N=100)", "sec/step")
    for metric, values in series.items():
        assert run.get(metric).values[:2].tolist() == pytest.approx(values, nan_ok=True)
    assert STEPS_NOTE in run.notes


@pytest.mark.parametrize(
    "text",
    [
        "The solver prints a line per display interval.\nIteration 5, loss = 0.41 was the best we saw before it diverged.\n",
        "The solver printed this once:\nIteration 5, loss = 0.41\nand nothing after it.\n",
        "INFO:tensorflow:Recording summary at step 0.\nINFO:tensorflow:global_step/sec: 0.0339311\nINFO:tensorflow:Recording summary at step 4.\n",
    ],
    ids=["prose", "one-line", "step-messages-without-metrics"],
)
def test_prose_mentioning_a_step_is_not_a_step_record(tmp_path, text):
    with pytest.raises(UnreadableRecord):
        fitdoc.read(write(tmp_path, text))


def test_mmengine_epoch_train_lines_read_like_epoch_lines(tmp_path):
    run = fitdoc.read(REAL_TEXT / "mmengine_pr155.log")
    assert list(run.epochs) == list(range(10, 90, 10)) and set(run.metrics) == {"lr", "loss"}
    assert run.get("loss").values[:3].tolist() == [11.4723, 1.5616, -6.0185]
    assert any("window inside epoch 1" in n for n in run.notes)
    untagged = fitdoc.read(write(tmp_path, (REAL_TEXT / "mmengine_pr155.log").read_text().replace("Epoch(train)", "Epoch")))
    assert untagged.get("loss").values.tolist() == run.get("loss").values.tolist()


def test_mmengine_epoch_val_lines_are_the_epochs_evaluation(tmp_path):
    text = "".join(
        f"04/21 21:03:5{e} - mmengine - INFO - Epoch(train) [{e}][{i}/20]  lr: 1.000e-02  eta: 0:00:2{i // 10}  time: 0.010  "
        f"data_time: 0.000  memory: 0  loss: {loss}\n"
        for e, losses in ((1, (1.2, 1.0)), (2, (0.8, 0.6)))
        for i, loss in zip((10, 20), losses)
    )
    text += "04/21 21:03:54 - mmengine - INFO - Epoch(val) [1][10/10]  accuracy/top1: 0.6500  data_time: 0.0012  time: 0.0110\n"
    text += "04/21 21:03:59 - mmengine - INFO - Epoch(val) [2][10/10]  accuracy/top1: 0.7100  data_time: 0.0011  time: 0.0108\n"
    lines = text.splitlines(keepends=True)
    run = fitdoc.read(write(tmp_path, "".join(lines[:2] + lines[4:5] + lines[2:4] + lines[5:])))
    assert list(run.epochs) == [1, 2] and set(run.metrics) == {"lr", "loss", "val_accuracy_top1"}
    assert run.get("loss").values.tolist() == pytest.approx([1.1, 0.7])
    assert run.get("val_accuracy_top1").values.tolist() == [0.65, 0.71]


def test_fastai_v1_rows_ending_in_a_time_in_parentheses(tmp_path):
    text = (REAL_TEXT / "fastai_v1_nn_tuning.log").read_text()
    run = fitdoc.read(REAL_TEXT / "fastai_v1_nn_tuning.log")
    assert run.format == "text-log" and list(run.epochs) == list(range(1, 20))
    assert set(run.metrics) == {"loss", "val_loss", "val_error_rate"}
    assert run.get("val_loss").values[[0, 14, 18]].tolist() == [1.041628, 0.227299, 0.263469]
    without_times = fitdoc.read(write(tmp_path, "".join(line.split(" (")[0] + "\n" for line in text.splitlines())))
    assert without_times.get("val_error_rate").values.tolist() == run.get("val_error_rate").values.tolist()


@pytest.mark.parametrize(
    "name, epoch, steps, series",
    [
        ("lightning_issue20344.log", 0, range(100, 107), {"loss": [4.6] * 7}),  # every step printed twice
        ("lightning_issue4225.log", 0, range(1, 6), {"loss": [10.473, 10.224, 10.047, 9.926, 9.847]}),  # a step's last update wins
        ("lightning_issue14094.log", 0, range(932, 941), {"loss": [0.223] * 9, "accuracy": [0.875] * 9}),  # validation bars between
        ("rtm3d_issue4.log", 127, range(35, 336, 50), {"loss": [2.1274, 1.2996, 2.1689, 1.5142, 1.506, 1.4645, 1.5955]}),  # "cur (avg)": cur
        ("minimind_issue26.log", 0, range(0, 1801, 100), {  # "Epoch:[0/19](100/24681)": step 100; epoch_Time is none
            "loss": [8.863, 5.251, 4.716, 4.324, 4.061, 3.599, 3.665, 3.46, 3.517, 3.36, 3.225, 2.948, 2.979, 3.064, 2.871, 2.802, 2.51, 2.733, 2.589],
            "lr": [0.0002] * 16 + [0.00019999] * 3,
        }),
        ("cyclegan_issue1260.log", 355, range(100, 801, 100), {  # "iters: 100" is the step, time and data no metrics; no loss made up
            "g_gan": [18.23, 16.719, 17.066, 14.722, 19.073, 9.353, 14.634, 15.715],
            "g_l1": [12.882, 19.293, 18.578, 11.785, 13.787, 19.723, 21.536, 7.651],
            "d_real": [0.001] + [0.0] * 7,
            "d_fake": [0.0] * 8,
        }),
    ],
)
def test_a_window_of_steps_inside_one_epoch_is_read_at_its_printed_steps(name, epoch, steps, series):
    run = fitdoc.read(REAL_TEXT / name)
    assert run.format == "text-log" and list(run.epochs) == list(steps) and run.info["x_axis"] == "step"
    assert {name: run.get(name).values.tolist() for name in run.metrics} == series
    assert f"a window inside epoch {epoch}: each logged step is one point, numbered as printed" in run.notes


def test_epoch_prints_glued_on_one_line_are_split():
    run = fitdoc.read(REAL_TEXT / "diffusers_flax_issue5461.log")  # "Epoch... (2/116 | Loss: ...)   Epoch... (3/116 | ..."
    assert run.format == "text-log" and list(run.epochs) == list(range(1, 10)) and set(run.metrics) == {"loss"}
    assert run.get("loss").values[:3].tolist() == [0.7180335521697998, 0.43771886825561523, 0.26194703578948975]


def test_progress_percentages_inside_one_epoch_are_points_from_one():
    run = fitdoc.read(REAL_TEXT / "music_avqa_r_issue1.log")
    assert list(run.epochs) == list(range(1, 10)) and set(run.metrics) == {"loss"}  # "[10%]" is no metric
    assert run.get("loss").values[:3].tolist() == [3.709857, 2.799116, 1.711389]
    assert "a window inside epoch 1: each logged line is one point, numbered from 1" in run.notes


def test_a_validation_bars_metrics_add_to_the_training_step_it_runs_at(tmp_path):
    lines = (REAL_TEXT / "lightning_issue14094.log").read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    text = "".join(lines).replace("38.79it/s]", "38.79it/s, val_loss=0.29]")
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == list(range(932, 941)) and set(run.metrics) == {"loss", "accuracy", "val_loss"}
    assert run.get("val_loss").present.tolist() == [i == 4 for i in range(9)] and run.get("val_loss").values[4] == 0.29  # step 936


def test_an_epochs_summary_line_outranks_its_finished_bar_nan_included(tmp_path):
    run = fitdoc.read(REAL_TEXT / "crossattention_radar_issue3.log")
    assert list(run.epochs) == [8, 9] and set(run.metrics) == {"loss"}
    assert run.get("loss").nonfinite.tolist() == [True, True]  # "Mean Training loss : nan", not the bar's loss=1.95e+4
    text = (REAL_TEXT / "crossattention_radar_issue3.log").read_text(encoding="utf-8")
    bars = [line for line in text.splitlines(keepends=True) if "%|" in line]
    assert fitdoc.read(write(tmp_path, "".join(bars))).get("loss").values.tolist() == [1.95e4, 9.77e4]
    summary_first = fitdoc.read(write(tmp_path, "".join(f"Epoch {e} Mean Training loss : nan\n{bar}" for e, bar in zip((8, 9), bars)), "first.log"))
    assert summary_first.get("loss").nonfinite.tolist() == [True, True]


@pytest.mark.parametrize(
    "text",
    [
        "Epoch 0:  14%|█▍        | 100/704 [00:44<04:29,  2.24it/s, v_num=11, train_loss=4.600]\n",
        "Epoch 0:  14%|█▍        | 100/704 [00:44<04:29,  2.24it/s, v_num=11]\nEpoch 0:  14%|█▍        | 101/704 [00:45<04:29,  2.24it/s, v_num=11]\n",
        " 14%|█▍        | 100/704 [00:44<04:29,  2.24it/s, loss=4.600]\n 14%|█▍        | 101/704 [00:45<04:29,  2.24it/s, loss=4.500]\n",
        "Train - Epoch: [127/300][ 35/464]\tTime  0.738 ( 0.738)\tLoss 2.1274e+00 (1.5406e+00)\n",
        "Epoch 1 complete [10%] and the loss was 2.79 which we did not expect at all from this model.\n"
        "Epoch 1 complete [20%] and the loss was 1.71 which we did not expect at all from this model.\n",
        "Mean Training loss : nan\n",
        "Epoch:[0/19](100/24681) loss:5.251 lr:0.00020000 epoch_Time:98.0min:\n",
        "(epoch: 355, iters: 100, time: 0.078, data: 3.094) G_GAN: 18.230 G_L1: 12.882\n",
        "Epoch... (2/116 | Loss: 0.43)    Epoch... (2/116 | Loss: 0.43)\n",
    ],
    ids=["one-bar-update", "bars-without-metrics", "bars-naming-no-epoch", "one-step-line", "prose", "one-summary",
         "one-position-step", "one-iters-step", "one-epoch-printed-twice"],
)
def test_single_progress_lines_and_prose_stay_refused(tmp_path, text):
    with pytest.raises(UnreadableRecord):
        fitdoc.read(write(tmp_path, text))


def test_fairseq_validation_lines_are_validation_and_their_position_is_no_metric():
    """``valid on 'valid' subset  1000 / 1311 loss=3.24`` is a validation line partway
    through: the epoch's train loss is its summary's, and 1000/1311 is no metric."""
    run = fitdoc.read(REAL_TEXT / "fairseq_issue301.log")
    assert list(run.epochs) == [4, 5] and set(run.metrics) == {"loss", "ppl", "val_loss", "val_ppl", "lr", "gnorm"}
    assert run.get("loss").values[1] == 2.92 and run.get("val_loss").values.tolist() == [3.69, 3.13]


def test_fairseq_steps_inside_one_epoch_are_read_at_their_printed_steps():
    run = fitdoc.read(REAL_TEXT / "fairseq_issue940.log")
    assert list(run.epochs) == list(range(450, 651, 50)) and run.info["x_axis"] == "step"
    assert run.get("loss").values.tolist() == [11.521, 11.346, 11.186, 11.039, 10.902]
    assert run.get("val_loss").values[3] == 8.11425  # the validation at update 600 adds to the step before it


@pytest.mark.parametrize("name", ["fairseq_issue514.log", "fairseq_issue506.log"])
def test_fairseq_timers_counters_and_best_value_are_no_metrics(name):
    run = fitdoc.read(REAL_TEXT / name)
    assert list(run.epochs) == [8, 9, 10]
    assert set(run.metrics) == {"loss", "nll_loss", "ppl", "lr", "gnorm", "val_loss", "val_nll_loss", "val_ppl"}


def test_a_last_fairseq_epoch_of_one_step_line_is_noted_as_partial():
    run = fitdoc.read(REAL_TEXT / "fairseq_issue514.log")
    assert run.get("loss").values.tolist() == [6.326, 6.233, 6.144]  # epoch 9's summary, not its steps' mean
    assert "epoch 10 is read from its per-step lines up to the end of the log (it may be partial)" in run.notes


@pytest.mark.parametrize(
    "name, steps, series",
    [
        ("mindyolo_imgsize.log", [970, 980, 990], {"loss": [9.607, 10.5624, 10.5402], "lbox": [4.5452, 4.9831, 4.7945], "lcls": [3.3673, 3.3926, 3.7088], "dfl": [1.6945, 2.1867, 2.0369], "cur_lr": [0.07888522744178772, 0.0786675438284874, 0.07844986766576767]}),
        ("mindocr_fps_per_card.log", [700, 800, 900], {"loss": [19.327375, 14.977672, 22.353065], "lr": [0.000793, 0.000792, 0.000791]}),
        ("paddleclas_lr_qualifier.log", [0, 10, 20], {"lr": [0.001] * 3, "top1": [1.0, 0.97159, 0.97619], "celoss": [0.01757, 0.05098, 0.05253], "loss": [0.01757, 0.05098, 0.05253], "reader_cost": [0.12493, 0.12837, 0.12821], "ips": [26.10981, 25.47451, 25.76972]}),
        ("openpcdet_train_progress.log", [1, 50, 100, 150], {"loss": [516.7, 36.77, 23.51, 28.79], "lr": [1e-4, 1.351e-4, 2.377e-4, 3.91e-4]}),
    ],
)
def test_settings_qualifiers_and_progress_positions_are_no_metrics(name, steps, series):
    run = fitdoc.read(REAL_TEXT / name)
    assert list(run.epochs)[: len(steps)] == steps and set(run.metrics) == set(series)
    for metric, values in series.items():
        assert run.get(metric).values[: len(values)].tolist() == pytest.approx(values)


def test_chinese_print_with_full_width_punctuation():
    run = fitdoc.read(REAL_TEXT / "chinese_fullwidth.log")
    assert list(run.epochs) == [1, 2] and set(run.metrics) == {"loss"}
    assert run.get("loss").values.tolist() == pytest.approx([1.840965, (1.2562278509140015 + 1.1422173976898193) / 2])


def test_chinese_metric_names_are_canonical(tmp_path):
    text = "".join(f"轮次：{e}，训练损失：{1 / e:.3f}，验证集损失：{2 / e:.3f}，训练准确率：{e / 10}，验证准确率：{e / 20}\n" for e in (1, 2, 3))
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == [1, 2, 3] and set(run.metrics) == {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert run.get("val_accuracy").values.tolist() == pytest.approx([0.05, 0.1, 0.15])


@pytest.mark.parametrize("text", ["训练数据集的长度为：50000\n", "这是第 3 次实验，结果还不错：0.91\n" * 3])
def test_chinese_prose_with_a_number_is_refused(tmp_path, text):
    with pytest.raises(UnreadableRecord):
        fitdoc.read(write(tmp_path, text))


def test_a_number_tuple_gives_no_metric_but_its_line_keeps_the_others(tmp_path):
    text = "".join(f"Epoch {e}/3, img_size (640, 640), crop (1, 2, 3), loss: {1 / e:.3f}, map50-95: {e / 10}\n" for e in (1, 2, 3))
    run = fitdoc.read(write(tmp_path, text))
    assert set(run.metrics) == {"loss", "map50_95"}  # "map50-95" is one name
    assert run.get("loss").values.tolist() == pytest.approx([1.0, 0.5, 0.333])
