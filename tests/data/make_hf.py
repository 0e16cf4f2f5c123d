"""Writes tests/data/hf/: real Hugging Face Trainer output of a tiny model.

    python tests/data/make_hf.py   # needs transformers (and torch)

A 2-class linear model on 32 random samples, batch size 8 (4 steps per epoch),
``logging_steps=1``, evaluation every 3 steps (several per epoch, and not at epoch
ends), ``max_steps=10`` (training stops at epoch 2.5: the third epoch is partial),
``metric_for_best_model="loss"`` with a checkpoint every 3 steps. Writes
``trainer_state.json`` (from the output directory) and ``stdout.txt`` (what Trainer
printed, progress bars included).
"""

import contextlib
import io
import shutil
import tempfile
from pathlib import Path

import torch
from transformers import Trainer, TrainingArguments

OUT = Path(__file__).parent / "hf"


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(8, 2)

    def forward(self, x, labels=None):
        logits = self.layer(x)
        return {"loss": torch.nn.functional.cross_entropy(logits, labels), "logits": logits}


class Data(torch.utils.data.Dataset):
    def __init__(self, seed: int):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(32, 8, generator=g)
        self.y = (self.x[:, 0] > 0).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "labels": self.y[i]}


def accuracy(pred):
    return {"accuracy": float((pred.predictions.argmax(-1) == pred.label_ids).mean())}


def main(out: Path = OUT) -> None:
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as work:
        args = TrainingArguments(
            output_dir=work,
            per_device_train_batch_size=8,
            per_device_eval_batch_size=8,
            learning_rate=0.1,
            max_steps=10,
            logging_steps=1,
            eval_strategy="steps",
            eval_steps=3,
            save_strategy="steps",
            save_steps=3,
            metric_for_best_model="loss",
            report_to=[],
            use_cpu=True,
            disable_tqdm=False,
        )
        trainer = Trainer(model=Model(), args=args, train_dataset=Data(0), eval_dataset=Data(1), compute_metrics=accuracy)
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stdout):
            trainer.train()
        trainer.save_state()
        out.mkdir(exist_ok=True)
        shutil.copy(Path(work) / "trainer_state.json", out / "trainer_state.json")
        (out / "stdout.txt").write_text(stdout.getvalue())


if __name__ == "__main__":
    main()
