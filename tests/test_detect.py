"""Detection asks the likely readers first and skips those that cannot win: it must
choose what asking every reader would."""

import pytest

from conftest import DATA, ROOT
from fitdoc.errors import FitdocError
from fitdoc.readers import CEILING, Source, _modules, _sniff, read_runs


def _every_reader(source):
    best, best_score = None, 0.0
    for module in _modules():
        score = module.sniff(source)
        assert score <= CEILING.get(module.__name__.rsplit(".", 1)[1], 1.0), module
        if score > best_score:
            best, best_score = module, score
    return best


def _paths():
    roots = [DATA] + [d for d in [ROOT.parent / "shared" / "realruns" / "cases"] if d.is_dir()]
    for root in roots:
        yield from sorted(p for p in root.rglob("*") if not p.name.startswith("."))


@pytest.mark.parametrize("path", list(_paths()), ids=str)
def test_detection_matches_asking_every_reader(path):
    assert _sniff(Source(path)) is _every_reader(Source(path))


def test_a_folder_without_a_format_reads_each_record_inside(tmp_path):
    (tmp_path / "a.csv").write_text("epoch,loss\n0,1.0\n1,0.5\n")
    (tmp_path / "notes.txt").write_text("nothing here\n")
    skipped = []
    runs = read_runs(tmp_path, on_skip=skipped.append)
    assert [len(r) for r in runs] == [2] and isinstance(skipped[0], FitdocError)
