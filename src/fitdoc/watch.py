"""``fitdoc watch FILE``: follow a training record while it is written (stdout redirected
to a file, a CSVLogger file, a trainer_state.json), diagnose it again at each new epoch,
print each new finding once with its epoch, and act at the first error finding.

Only complete lines are read: an unterminated last line is still being written and is
left for the next look. A JSON record is read once it parses; a binary one (TensorBoard
events) as it is, since its reader checks every record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from .commandline import CONFIG, LANG, MONITOR, console, load_config, note, resolve_lang
from .errors import FitdocError

EXIT_FOUND = 1  # --exit-on: a finding at or above that severity appeared


def complete_part(data: bytes, json_record: bool) -> bytes | None:
    """What of ``data`` is safe to read: up to its last newline; for JSON, all of it once it
    parses; a binary record (TensorBoard events) whole, its reader checks each record."""
    if b"\0" in data[:4096]:
        return data
    if json_record:
        try:
            json.loads(data)
        except ValueError:
            return None
        return data
    end = data.rfind(b"\n")
    return data[: end + 1] if end >= 0 else None


class Follower:
    """Reads the complete part of ``path`` whenever it grows and diagnoses its last run."""

    def __init__(self, path: str | Path, reader=None, config=None, lang: str = "en", monitor=None):
        self.path = Path(path)
        self.reader, self.config, self.lang, self.monitor = reader, config, lang, monitor
        self._copy_dir = tempfile.TemporaryDirectory(prefix="fitdoc-watch-")
        self._copy = Path(self._copy_dir.name) / self.path.name
        self._seen_bytes: bytes | None = None
        self.epochs = 0
        self.reported: set[str] = set()

    def poll(self):
        """A new report when the record gained an epoch since the last call, else None."""
        from .engine import diagnose
        from .readers import read_runs

        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        part = complete_part(data, self.path.suffix.lower() == ".json")
        if not part or part == self._seen_bytes:
            return None
        if self._seen_bytes and len(part) < len(self._seen_bytes):  # the file was started again
            self.epochs, self.reported = 0, set()
        self._seen_bytes = part
        self._copy.write_bytes(part)
        try:
            runs = read_runs(self._copy, self.reader)
        except FitdocError:
            return None  # not yet a readable record (a header, a banner)
        run = runs[-1]
        if len(run) <= self.epochs:
            return None
        self.epochs = len(run)
        return diagnose(run, self.config, self.lang, monitor=self.monitor)

    def new_findings(self, report):
        """(finding, advice) pairs whose code was not reported before, most severe first."""
        fresh = [(f, a) for f, a in report.items() if f.code not in self.reported]
        self.reported.update(f.code for f, _ in fresh)
        return fresh

    def close(self) -> None:
        self._copy_dir.cleanup()


def _status(report) -> str:
    """``epoch 12  loss 0.31  val_loss 0.45``: the newest epoch's values."""
    from . import advice

    run = report.run
    values = [f"{name} {s.values[-1]:.4g}" for name, s in run.series.items() if s.present[-1]]
    return "  ".join([advice.say("ui", "watch_epoch", report.lang, epoch=int(run.epochs[-1])), *values])


@click.command("watch", short_help="Follow a log while it is written; report each new finding once.")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--exit-on", type=click.Choice(["error", "warning", "never"]), default="never", show_default=True,
              help=f"Exit {EXIT_FOUND} at the first finding of this severity or worse.")
@click.option("--on-error", "on_error", type=str, default=None,
              help="Shell command run once at the first error finding (FITDOC_CODE, FITDOC_EPOCH, "
                   "FITDOC_FILE and FITDOC_MESSAGE are set), e.g. 'notify-send fitdoc \"$FITDOC_MESSAGE\"'.")
@click.option("--interval", type=click.FloatRange(min=0.05), default=0.5, show_default=True,
              help="Seconds between looks at the file.")
@click.option("--idle-exit", type=click.FloatRange(min=0), default=None,
              help="Stop after the file has not grown for this many seconds [default: never; Ctrl-C stops].")
@click.option("--reader", type=str, default=None, help="Force a reader instead of detecting the format.")
@MONITOR
@CONFIG
@LANG
def watch_cmd(path, exit_on, on_error, interval, idle_exit, reader, monitor, config_path, lang):
    """Follow the training record PATH while it is being written (train.log from
    `nohup python train.py > train.log`, a CSVLogger file, a trainer_state.json), diagnose it
    at each new epoch and print each new finding once, with its epoch.

    Exit codes: 0 stopped (Ctrl-C or --idle-exit), 1 a finding at or above --exit-on, 2 bad usage."""
    from rich.text import Text

    from . import advice
    from .engine import SEVERITY_ORDER
    from .output.terminal import STYLE
    from .output.text import title, when, wrap

    cfg = load_config(config_path)
    follower = Follower(path, reader, cfg, resolve_lang(lang, cfg), monitor)
    out = console()
    if not Path(path).exists():
        note(f"{path} does not exist yet; waiting for it")
    last_growth, alarmed = time.monotonic(), False
    try:
        while True:
            report = follower.poll()
            now = time.monotonic()
            if report is None:
                if idle_exit is not None and now - last_growth > idle_exit:
                    return
                time.sleep(interval)
                continue
            last_growth = now
            out.print(Text(_status(report), style="dim"))
            for finding, adv in follower.new_findings(report):
                lang = follower.lang
                head = " · ".join([f"{finding.code} {title(finding.code, finding.kind, lang)}",
                                   advice.say("ui", f"severity_{finding.severity}", lang), when(finding, lang, advice.unit_of(report.run))])
                out.print(Text(f"  {head}", style=STYLE[finding.severity]), no_wrap=True, crop=False)
                for line in wrap(adv.evidence, out.width - 4):
                    out.print(Text(f"    {line}"), no_wrap=True, crop=False)
                if finding.severity == "error" and on_error and not alarmed:
                    alarmed = True
                    _run_hook(on_error, finding, adv, path)
                if exit_on != "never" and SEVERITY_ORDER[finding.severity] >= SEVERITY_ORDER[exit_on]:
                    sys.exit(EXIT_FOUND)
    except KeyboardInterrupt:
        return
    finally:
        follower.close()


def _run_hook(command: str, finding, adv, path) -> None:
    env = {**os.environ, "FITDOC_CODE": finding.code, "FITDOC_EPOCH": str(finding.epoch),
           "FITDOC_FILE": str(path), "FITDOC_MESSAGE": f"{finding.code} {adv.evidence}"}
    subprocess.Popen(command, shell=True, env=env)
