"""Writes tests/data/text-tables/: real output of libraries that print tables and bars.

    python tests/data/make_text_tables.py   # needs transformers (and torch), tqdm

- ``model_card.md``: the README that ``Trainer.create_model_card`` writes after a
  3-epoch run of a tiny model evaluated every epoch (its "Training hyperparameters"
  list and "Training results" table).
- ``notebook_table.txt``: the table ``NotebookProgressCallback`` shows in a notebook
  for a run evaluated every 3 steps, as a browser copies it (cells joined by tabs). The
  callback's own table rows are used; IPython, absent here, is replaced by a stub
  that only receives the HTML.
- ``tqdm_postfix.txt``: what a loop printing a training and a validation ``tqdm`` bar
  per epoch, with ``set_postfix(loss=..., acc=...)``, writes to a redirected stream
  (``\\r`` updates included).
"""

import contextlib
import io
import re
import sys
import tempfile
import types
from pathlib import Path

import torch
from tqdm import tqdm
from transformers import PretrainedConfig, Trainer, TrainingArguments

sys.path.insert(0, str(Path(__file__).parent))
from make_hf import Data, Model, accuracy  # noqa: E402  the tiny model of tests/data/hf

OUT = Path(__file__).parent / "text-tables"


def _trainer(work: str, **kwargs) -> Trainer:
    args = TrainingArguments(
        output_dir=work, per_device_train_batch_size=8, per_device_eval_batch_size=8, learning_rate=0.1,
        save_strategy="no", report_to=[], use_cpu=True, **{"logging_strategy": "epoch", **kwargs},
    )
    model = Model()
    model.config = PretrainedConfig(name_or_path="tiny-linear")  # the model card names the base model from it
    return Trainer(model=model, args=args, train_dataset=Data(0), eval_dataset=Data(1), compute_metrics=accuracy)


def model_card(out: Path) -> None:
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as work, contextlib.redirect_stderr(io.StringIO()):
        trainer = _trainer(work, num_train_epochs=3, eval_strategy="epoch", disable_tqdm=True)
        trainer.train()
        trainer.create_model_card(model_name="tiny-linear")
        (out / "model_card.md").write_text((Path(work) / "README.md").read_text())


def notebook_table(out: Path) -> None:
    stub = types.ModuleType("IPython.display")
    stub.display = lambda *a, **k: types.SimpleNamespace(update=lambda *a, **k: None)
    stub.HTML = str
    sys.modules.setdefault("IPython", types.ModuleType("IPython"))
    sys.modules["IPython.display"] = stub
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from transformers.utils.notebook import NotebookProgressCallback, text_to_html_table

    class Keep(NotebookProgressCallback):  # the tracker is dropped at the end of training
        def on_train_end(self, args, state, control, **kwargs):
            self.table = self.training_tracker.inner_table
            super().on_train_end(args, state, control, **kwargs)

    torch.manual_seed(0)
    callback = Keep()
    with tempfile.TemporaryDirectory() as work:
        trainer = _trainer(work, max_steps=12, eval_strategy="steps", eval_steps=3, logging_steps=3, logging_strategy="steps")
        for default in (PrinterCallback, ProgressCallback):
            trainer.remove_callback(default)
        trainer.add_callback(callback)
        trainer.train()
    html = text_to_html_table(callback.table)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    cells = [[c.strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]
    (out / "notebook_table.txt").write_text("".join("\t".join(row) + "\n" for row in cells))


def tqdm_postfix(out: Path) -> None:
    torch.manual_seed(0)
    model, data = torch.nn.Linear(8, 2), Data(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    stream = io.StringIO()
    for _ in range(3):
        for phase, x, y in (("train", data.x[:24], data.y[:24]), ("val", data.x[24:], data.y[24:])):
            bar = tqdm(range(0, len(x), 4), file=stream, ascii=True, mininterval=0)
            total, right, seen = 0.0, 0, 0
            for i in bar:
                logits = model(x[i : i + 4])
                loss = torch.nn.functional.cross_entropy(logits, y[i : i + 4])
                if phase == "train":
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                seen += len(logits)
                total += loss.item() * len(logits)
                right += int((logits.argmax(-1) == y[i : i + 4]).sum())
                bar.set_postfix(loss=total / seen, acc=right / seen)
            bar.close()
    (out / "tqdm_postfix.txt").write_text(stream.getvalue())


def main(out: Path = OUT) -> None:
    out.mkdir(exist_ok=True)
    model_card(out)
    notebook_table(out)
    tqdm_postfix(out)


if __name__ == "__main__":
    main()
