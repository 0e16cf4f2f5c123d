"""Writes tests/data/mlflow/mlruns: a real MLflow file store.

    python tests/data/make_mlflow.py   # needs mlflow

- run ``per-epoch`` (experiment ``demo``): ``train_loss``, ``val_loss`` and ``val/acc``
  logged with ``step=epoch`` for epochs 0-3; ``val_loss`` of epoch 3 is NaN.
- run ``per-step`` (experiment ``demo``): ``loss`` every 2 of 12 steps and an ``epoch``
  metric (as the Hugging Face and Lightning integrations log it), 4 steps per epoch,
  ``eval_loss`` at the end of each epoch.
"""

import math
import os
import shutil
from pathlib import Path

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"

from mlflow.tracking import MlflowClient  # noqa: E402

OUT = Path(__file__).parent / "mlflow" / "mlruns"


def write(store: Path) -> None:
    client = MlflowClient(tracking_uri=store.resolve().as_uri())
    experiment = client.create_experiment("demo")

    run = client.create_run(experiment, run_name="per-epoch").info.run_id
    for epoch, (loss, val, acc) in enumerate([(1.0, 1.1, 0.5), (0.6, 0.8, 0.7), (0.4, 0.9, 0.75), (0.3, math.nan, 0.7)]):
        client.log_metric(run, "train_loss", loss, step=epoch)
        client.log_metric(run, "val_loss", val, step=epoch)
        client.log_metric(run, "val/acc", acc, step=epoch)
    client.set_terminated(run)

    run = client.create_run(experiment, run_name="per-step").info.run_id
    for step in range(2, 13, 2):
        client.log_metric(run, "loss", 1.0 / step, step=step)
        client.log_metric(run, "epoch", step / 4, step=step)
        if step % 4 == 0:
            client.log_metric(run, "eval_loss", 2.0 / step, step=step)
    client.set_terminated(run)


if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    write(OUT)
