"""Writes tests/data/text-log/: logs printed by a real PyTorch training loop.

    python tests/data/make_text_log.py   # needs torch and absl-py

A linear classifier on random data (SGD, 4 batches per epoch) prints its epochs as
PyTorch scripts commonly do:

- ``tabs.txt``: ``Epoch: 1 \\tTraining Loss: ... \\tValidation Loss: ...`` (5 epochs).
- ``tutorial.txt``: the transfer-learning tutorial layout, ``Epoch 0/3`` then
  ``train Loss: ... Acc: ...`` and ``val Loss: ... Acc: ...`` lines (4 epochs).
- ``absl.txt``: ``absl.logging.info`` lines (``I1123 12:00:00.123 ... train.py:88]``)
  with per-batch lines and a ``test acc`` per epoch (4 epochs).
- ``resumed.txt``: ``[Epoch k/6] loss=..., val_loss=...``; the run stops after epoch 4
  and is restarted from its epoch-2 checkpoint, printing epochs 3-6 again.
"""

import contextlib
import io
import logging
from pathlib import Path

import torch
from absl import logging as absl_logging

OUT = Path(__file__).parent / "text-log"


def data(seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 8, generator=g)
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).long()


class Loop:
    def __init__(self):
        torch.manual_seed(0)
        self.model = torch.nn.Linear(8, 2)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.2)
        self.train, self.val = data(0), data(1)

    def epoch(self, on_batch=None):
        x, y = self.train
        losses = []
        for b in range(4):
            loss = torch.nn.functional.cross_entropy(self.model(x[b * 8 : b * 8 + 8]), y[b * 8 : b * 8 + 8])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            losses.append(loss.item())
            if on_batch:
                on_batch(b + 1, loss.item())
        with torch.no_grad():
            logits = self.model(self.val[0])
            val_loss = torch.nn.functional.cross_entropy(logits, self.val[1]).item()
            val_acc = (logits.argmax(1) == self.val[1]).float().mean().item()
        train_acc = (self.model(x).argmax(1) == y).float().mean().item()
        return sum(losses) / len(losses), train_acc, val_loss, val_acc

    def state(self):
        return {k: v.clone() for k, v in self.model.state_dict().items()}, self.opt.state_dict()

    def restore(self, state):
        self.model.load_state_dict(state[0])
        self.opt.load_state_dict(state[1])


def tabs() -> str:
    loop, out = Loop(), io.StringIO()
    with contextlib.redirect_stdout(out):
        for epoch in range(1, 6):
            loss, _, val_loss, _ = loop.epoch()
            print(f"Epoch: {epoch} \tTraining Loss: {loss:.6f} \tValidation Loss: {val_loss:.6f}")
    return out.getvalue()


def tutorial() -> str:
    loop, out = Loop(), io.StringIO()
    with contextlib.redirect_stdout(out):
        for epoch in range(4):
            print(f"Epoch {epoch}/3")
            print("-" * 10)
            loss, acc, val_loss, val_acc = loop.epoch()
            print(f"train Loss: {loss:.4f} Acc: {acc:.4f}")
            print(f"val Loss: {val_loss:.4f} Acc: {val_acc:.4f}")
            print()
        print("Training complete in 0m 1s")
    return out.getvalue()


def absl() -> str:
    out = io.StringIO()
    absl_logging.set_verbosity(absl_logging.INFO)
    handler = absl_logging.get_absl_handler()
    logging.root.addHandler(handler)
    loop = Loop()
    try:
        with contextlib.redirect_stderr(out):  # before flag parsing absl writes to sys.stderr
            for epoch in range(1, 5):
                loss, _, _, val_acc = loop.epoch(lambda b, v: absl_logging.info("epoch %d batch %d loss %.4f", epoch, b, v))
                absl_logging.info("epoch %d loss %.4f test acc %.4f", epoch, loss, val_acc)
    finally:
        logging.root.removeHandler(handler)
    return out.getvalue()


def resumed() -> str:
    loop, out, checkpoints = Loop(), io.StringIO(), {}
    with contextlib.redirect_stdout(out):
        for epoch in range(1, 5):
            loss, _, val_loss, _ = loop.epoch()
            checkpoints[epoch] = loop.state()
            print(f"[Epoch {epoch}/6] loss={loss:.4f}, val_loss={val_loss:.4f}")
        print("Traceback (most recent call last):\nKeyboardInterrupt")
        loop = Loop()
        loop.restore(checkpoints[2])
        loop.train = data(2)
        print("resuming from checkpoint epoch_2.pt")
        for epoch in range(3, 7):
            loss, _, val_loss, _ = loop.epoch()
            print(f"[Epoch {epoch}/6] loss={loss:.4f}, val_loss={val_loss:.4f}")
    return out.getvalue()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for make in (tabs, tutorial, absl, resumed):
        (OUT / f"{make.__name__}.txt").write_text(make())


if __name__ == "__main__":
    main()
