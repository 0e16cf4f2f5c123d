"""The PyTorch-loop, Lightning and Hugging Face doctors on tiny real runs."""

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from sklearn.datasets import load_digits  # noqa: E402
from torch import nn  # noqa: E402

from fitdoc.integrations.torch import Doctor  # noqa: E402

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))[:600]
    return torch.tensor(x[order] / 16, dtype=torch.float32), torch.tensor(y[order])


def loop(doctor, model, opt, x, y, epochs, loss_fn=nn.CrossEntropyLoss()):
    torch.manual_seed(0)
    xt, yt, xv, yv = x[:480], y[:480], x[480:], y[480:]
    for epoch in range(1, epochs + 1):
        for i in range(0, len(xt), 32):
            opt.zero_grad()
            loss = loss_fn(model(xt[i:i + 32]), yt[i:i + 32])
            loss.backward()
            opt.step()
        with torch.no_grad():
            val = loss_fn(model(xv), yv).item()
        if doctor.epoch_end(epoch, {"loss": loss.item(), "val_loss": val}, model=model).should_stop:
            break
    return doctor.end()


def test_healthy_loop(digits):
    x, y = digits
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    report = loop(Doctor(optimizer=opt, loss_fn=nn.CrossEntropyLoss(), sample=(x, y), verbose=0), model, opt, x, y, 8)
    assert report.verdict == "healthy"


def test_softmax_before_cross_entropy_and_nan_stop(digits):
    x, y = digits
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10), nn.Softmax(dim=1))
    opt = torch.optim.SGD(model.parameters(), lr=1e4)
    doctor = Doctor(model, optimizer=opt, loss_fn=nn.CrossEntropyLoss(), verbose=0)
    assert [(f.code, f.variant) for f in doctor.findings] == [("FD403", "probabilities_as_logits"), ("FD407", "high")]
    big = nn.Sequential(nn.Linear(64, 1))
    opt = torch.optim.SGD(big.parameters(), lr=1.0)
    doctor = Doctor(optimizer=opt, verbose=0)
    loop(doctor, big, opt, x * 1000, y.float()[:, None], 10, loss_fn=nn.MSELoss())
    assert doctor.stop_reason and max(doctor.rows) <= 2


def test_lightning_adapter(digits):
    pl = pytest.importorskip("lightning.pytorch", reason="lightning is not installed")
    from fitdoc.integrations.lightning import Doctor as LightningDoctor

    class Net(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, _):
            loss = nn.functional.cross_entropy(self(batch[0]), batch[1])
            self.log("train_loss", loss, on_epoch=True, on_step=False)
            return loss

        def validation_step(self, batch, _):
            self.log("val_loss", nn.functional.cross_entropy(self(batch[0]), batch[1]), on_epoch=True)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=20.0)

    x, y = digits
    data = torch.utils.data.TensorDataset(x, y)
    train, val = (torch.utils.data.DataLoader(torch.utils.data.Subset(data, r), batch_size=32)
                  for r in (range(480), range(480, 600)))
    doctor = LightningDoctor(sample=(x, y), verbose=0)
    trainer = pl.Trainer(max_epochs=3, callbacks=[doctor], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(Net(), train, val)
    assert doctor.findings[0].code == "FD407"
    assert sorted(doctor.rows) == [1, 2, 3] and "val_loss" in doctor.rows[1]


def test_hf_adapter_stops_through_control():
    pytest.importorskip("transformers", reason="transformers is not installed")
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from fitdoc.integrations.hf import Doctor as HFDoctor

    model = nn.Sequential(nn.Linear(4, 2))
    args = TrainingArguments(output_dir="unused", eval_strategy="epoch", report_to=[])
    state, control = TrainerState(), TrainerControl()
    doctor = HFDoctor(verbose=0)
    doctor.on_train_begin(args, state, control, model=model, optimizer=torch.optim.Adam(model.parameters()))
    for epoch, (loss, val) in enumerate([(1.0, 1.1), (0.8, 0.9), (float("nan"), float("nan"))], start=1):
        state.epoch = float(epoch)
        doctor.on_log(args, state, control, logs={"loss": loss, "learning_rate": 1e-3})
        doctor.on_epoch_end(args, state, control)
        assert doctor.rows.get(epoch) is None  # the row waits for the evaluation
        doctor.on_evaluate(args, state, control, metrics={"eval_loss": val})
    assert control.should_training_stop and doctor.findings[-1].kind == "nan_loss"
    assert doctor.rows[1] == {"loss": 1.0, "learning_rate": 1e-3, "eval_loss": 1.1}


def test_hf_adapter_in_a_real_trainer_run_stops_on_nan(tmp_path):
    pytest.importorskip("transformers", reason="transformers is not installed")
    pytest.importorskip("accelerate", reason="accelerate is not installed")
    import importlib.util

    from transformers import Trainer, TrainingArguments

    from fitdoc.integrations.hf import Doctor as HFDoctor

    spec = importlib.util.spec_from_file_location("make_hf", Path(__file__).parent / "data" / "make_hf.py")
    make_hf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_hf)  # the tiny model and data of the committed Trainer files

    class BreakingModel(make_hf.Model):
        """Its custom loss breaks (log of a negative number) after 12 training steps."""

        calls = 0

        def forward(self, x, labels=None):
            out = super().forward(x, labels)
            if self.training:
                self.calls += 1
                if self.calls > 12:
                    out["loss"] = out["loss"] * torch.log(torch.tensor(-1.0))
            return out

    torch.manual_seed(0)
    doctor = HFDoctor(verbose=0)
    args = TrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=8, num_train_epochs=10, learning_rate=0.05,
        eval_strategy="epoch", logging_strategy="epoch", save_strategy="no", report_to=[], use_cpu=True,
        disable_tqdm=True,
    )
    trainer = Trainer(model=BreakingModel(), args=args, train_dataset=make_hf.Data(0), eval_dataset=make_hf.Data(1),
                      callbacks=[doctor])
    trainer.train()
    epochs_run = int(round(trainer.state.epoch))
    assert 3 <= epochs_run <= 5  # 4 steps per epoch: the loss breaks in epoch 4 and training stops there
    assert any(f.kind == "nan_loss" for f in doctor.findings)
    assert sorted(doctor.rows)[:3] == [1, 2, 3] and "eval_loss" in doctor.rows[1]
