"""Writes tests/data/lightning/: real CSVLogger output of tiny Lightning runs.

    python tests/data/make_lightning.py   # needs lightning (and torch)

- ``steplr/``: ``on_step`` + ``on_epoch`` train loss, validation, LearningRateMonitor,
  StepLR halving the LR every 2 epochs; 5 epochs, 4 batches each, logged every 2 steps.
- ``resumed/``: 3 epochs in ``version_0``, then ``fit(ckpt_path=...)`` from the end of
  epoch 1 to 5 epochs in ``version_1`` on other training data (epoch 2 written twice,
  with other values); the train loss logged per step only (plain ``train_loss`` column).
"""

import tempfile
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from torch.utils.data import DataLoader, TensorDataset

OUT = Path(__file__).parent / "lightning"


class Model(L.LightningModule):
    def __init__(self, on_epoch: bool):
        super().__init__()
        self.layer = torch.nn.Linear(8, 2)
        self.on_epoch = on_epoch

    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.layer(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=self.on_epoch)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        logits = self.layer(x)
        self.log("val_loss", torch.nn.functional.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=0.1)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)]


def data(seed: int) -> DataLoader:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 8, generator=g)
    return DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=8)


def trainer(out: Path, name: str, epochs: int, version: int, **kwargs) -> L.Trainer:
    return L.Trainer(
        max_epochs=epochs,
        logger=CSVLogger(out, name=name, version=version),
        log_every_n_steps=2,
        enable_progress_bar=False,
        enable_model_summary=False,
        **kwargs,
    )


def main(out: Path = OUT) -> None:
    L.seed_everything(0)
    t = trainer(out, "steplr", 5, 0, callbacks=[LearningRateMonitor()], enable_checkpointing=False)
    t.fit(Model(on_epoch=True), data(0), data(1))

    with tempfile.TemporaryDirectory() as ckpt_dir:
        every_epoch = ModelCheckpoint(dirpath=ckpt_dir, save_top_k=-1, filename="{epoch}")
        trainer(out, "resumed", 3, 0, callbacks=[every_epoch]).fit(Model(on_epoch=False), data(0), data(1))
        resumed = trainer(out, "resumed", 5, 1, enable_checkpointing=False)
        resumed.fit(Model(on_epoch=False), data(2), data(1), ckpt_path=f"{ckpt_dir}/epoch=1.ckpt")


if __name__ == "__main__":
    main()
