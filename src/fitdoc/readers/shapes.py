"""The shapes of training record fitdoc reads, with a one-line example of each: what
``fitdoc formats`` lists and the refusal of an unknown file names."""

from __future__ import annotations

from typing import NamedTuple


class Shape(NamedTuple):
    name: str
    reader: str
    example: str


SHAPES = (
    Shape("Keras fit output", "keras-text", "Epoch 3/20 ... 12/12 - 1s - loss: 0.4100 - accuracy: 0.8500 - val_loss: 0.5200"),
    Shape("Keras CSVLogger files", "keras-csv", "epoch,accuracy,loss,val_accuracy,val_loss  then  0,0.71,0.62,0.69,0.65"),
    Shape("Keras History JSON", "keras-history", '{"loss": [0.62, 0.48], "val_loss": [0.65, 0.55]}'),
    Shape("TensorBoard event files", "tensorboard", "events.out.tfevents.1700000000.host (or the run directory)"),
    Shape("Trainer state and log dicts", "hf-trainer", "{'loss': 0.84, 'learning_rate': 4e-05, 'epoch': 0.25}"),
    Shape("Lightning metrics.csv", "lightning-csv", "epoch,step,train_loss,val_loss  (or its version_N folder)"),
    Shape("MLflow runs", "mlflow", "mlruns/ (a run id or name) or mlflow://host:5000/RUN_ID"),
    Shape("Markdown tables and model cards", "markdown-table", "| Training Loss | Epoch | Step | Validation Loss | Accuracy |"),
    Shape("PaddlePaddle Model.fit output", "paddle-hapi", "Epoch 1/5  step 51/51 [=====] - loss: 600.14 - 1ms/step  Eval begin...  step 13/13 ..."),
    Shape("ultralytics results.csv", "ultralytics-csv", "epoch,train/box_loss,train/cls_loss,...,metrics/mAP50(B),val/box_loss,..."),
    Shape("OpenMMLab JSON logs", "mmengine-json", '{"mode": "train", "epoch": 3, "iter": 50, "lr": 0.02, "loss": 0.41}  (MMDetection, mmengine scalars.json)'),
    Shape("JSON Lines of metric rows", "json-lines", '{"epoch": 3, "loss": 0.41, "val_loss": 0.52}  (W&B scan_history() exports, training loops)'),
    Shape("epoch lines of a training loop", "text-log", "Epoch 3/20 | train_loss 0.31 | val_loss 0.42 | val_acc 86.0%"),
    Shape("per-epoch blocks of phrases", "text-log", "Epoch 3/20  then  Train loss is 0.31, train accuracy 88.2%, test accuracy 86.0%"),
    Shape("printed tables", "text-log", "Epoch  Training Loss  Validation Loss  Accuracy  then  1  0.412  0.345  0.871  (fastai, Trainer, pandas)"),
    Shape("a header line then values", "text-log", "loss,acc,val_loss,val_acc  then  0.62,0.71,0.65,0.69"),
    Shape("tqdm bars with metrics", "text-log", "Epoch 3: 100%|#####| 782/782 [01:12<00:00, 10.8it/s, loss=0.412, acc=0.871]"),
    Shape("per-step lines", "text-log", "Epoch: [5][1069/2266]  lr 0.0002  loss 0.4117  or  Iteration 5, loss = 0.41  or  INFO:root:Epoch[26] Validation-accuracy=0.556"),
)
