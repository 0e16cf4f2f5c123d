"""Detection across readers: standard input, prose refused, the shapes fitdoc lists,
a file the most confident reader refuses given to the next."""

import io
import os
import subprocess
import sys
import types

import pytest

import fitdoc
from fitdoc.errors import UnreadableRecord
from fitdoc.readers import STDIN, MemorySource, Source, detect, read_runs
from fitdoc.readers.shapes import SHAPES

from conftest import DATA, ROOT

REAL = DATA / "realruns"


def cli(*args, stdin=b""):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "fitdoc.cli", *map(str, args)], input=stdin, capture_output=True, env=env)


def test_a_log_piped_in_is_read_like_the_file():
    out = cli("diagnose", STDIN, "--format", "json", stdin=(REAL / "404.log").read_bytes())
    assert out.returncode == 0, out.stderr
    assert b'"format": "text-log"' in out.stdout
    empty = cli("diagnose", STDIN)
    assert empty.returncode == 2 and "file is empty" in empty.stderr.decode()


def test_stdin_is_read_into_memory_up_to_a_cap(monkeypatch):
    import fitdoc.readers as readers

    piped = (REAL / "425.log").read_bytes()
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(piped)))
    (run,) = read_runs(STDIN)
    assert run.source == "<stdin>" and list(run.epochs[:2]) == [750, 760]
    monkeypatch.setattr(readers, "STDIN_LIMIT", len(piped) - 1)
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(piped)))
    with pytest.raises(UnreadableRecord, match="<stdin>: standard input holds more than"):
        read_runs(STDIN)


def test_memory_source_detects_and_reads_as_a_file():
    data = (REAL / "405.log").read_bytes()
    source = MemorySource("<stdin>", data)
    assert detect(source).FORMAT == detect(Source(REAL / "405.log")).FORMAT == "markdown-table"
    run = detect(source).read(source)
    assert run.source == "<stdin>" and list(run.epochs) == [1, 2, 3, 4]


def test_readme_and_a_config_are_refused_with_exit_2_and_one_line():
    for path in (ROOT / "README.md", ROOT / "pyproject.toml"):
        out = cli("diagnose", path)
        assert out.returncode == 2 and out.stdout == b""
        (line,) = out.stderr.decode().strip().splitlines()
        assert str(path) in line and "fitdoc formats" in line


def test_refusal_names_the_shapes_read_and_formats_lists_an_example_of_each(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("nothing here\n")
    with pytest.raises(UnreadableRecord) as err:
        fitdoc.read(path)
    assert all(shape.name in str(err.value) for shape in SHAPES)
    listed = cli("formats")
    assert listed.returncode == 0
    text = listed.stdout.decode()
    assert all(shape.example in text and f"[{shape.reader}]" in text for shape in SHAPES)


def test_every_listed_reader_exists():
    from fitdoc.readers import formats

    assert {shape.reader for shape in SHAPES} == set(formats())


def test_one_number_near_the_word_epoch_is_not_a_record(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("At epoch 3 the loss was 0.31 and we stopped\n")
    with pytest.raises(UnreadableRecord, match="needs 2 epochs"):
        read_runs(path, "text-log")


def test_a_tab_table_the_csvlogger_reader_refuses_goes_to_the_text_reader(tmp_path):
    path = tmp_path / "notebook.tsv"
    path.write_text("Epoch\tTraining Loss\tValidation Loss\tAccuracy\n1\tNo log\t0.41\t0.81\n2\t0.39\t0.34\t0.86\n")
    assert detect(Source(path)).FORMAT == "keras-csv"  # its header starts with "Epoch"
    run = fitdoc.read(path)
    assert run.format == "text-log" and run.get("val_loss").values.tolist() == [0.41, 0.34]
