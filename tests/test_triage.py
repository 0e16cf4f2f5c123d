"""fitdoc triage: generated sweeps with a seeded bad region, in every store it reads."""

import importlib.util
import json
import math
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from fitdoc.cli import main
from fitdoc.sources import mlflow_runs, units
from fitdoc.workflow import engines
from fitdoc.workflow.crosstab import best_split, hypergeom_upper_tail
from fitdoc.workflow.triage import COLUMNS, Options, Triage, triage_unit
from fitdoc.workflow.triage_cache import Cache

BENCH = Path(__file__).resolve().parents[1] / "bench"
_spec = importlib.util.spec_from_file_location("sweepgen", BENCH / "sweepgen.py")
sweepgen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sweepgen)

RUNS = sweepgen.sweep(40, seed=3)
DIVERGED = {name for name, p, _ in RUNS if p["lr"] >= sweepgen.BAD_LR}


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    return {
        "folder": sweepgen.write_csv_folder(root / "csv", RUNS),
        "mlruns": sweepgen.write_mlruns(root / "mlruns", RUNS),
        "mlflow.db": sweepgen.write_mlflow_db(root / "mlflow.db", RUNS),
        "lightning": sweepgen.write_lightning_logs(root / "lightning_logs", RUNS),
        "raytune": sweepgen.write_raytune(root / "ray_results", RUNS),
    }


def _triage(args, cache):
    return CliRunner().invoke(main, ["triage", *map(str, args), "--cache", str(cache), "-j", "1"])


def test_fisher_tail_matches_direct_sums():
    # the lady tasting tea: all 4 of 4 picked right out of 8 cups
    assert hypergeom_upper_tail(4, 4, 4, 8) == pytest.approx(1 / 70)
    for a, inside, present, total in [(3, 10, 5, 30), (0, 4, 2, 9), (7, 12, 9, 40), (2, 2, 2, 2)]:
        direct = sum(math.comb(present, x) * math.comb(total - present, inside - x)
                     for x in range(a, min(inside, present) + 1)) / math.comb(total, inside)
        assert hypergeom_upper_tail(a, inside, present, total) == pytest.approx(direct, rel=1e-9)


def test_split_names_the_region_or_nothing():
    rng = random.Random(0)
    lr = [10 ** rng.uniform(-5, -1) for _ in range(2000)]  # p-values far below the smallest float
    split = best_split("FD202", "lr", lr, [v >= 3e-3 for v in lr])
    assert (split.op, split.with_inside, split.with_total) == (">=", split.with_total, sum(v >= 3e-3 for v in lr))
    assert split.value == min(v for v in lr if v >= 3e-3) and split.log_p < -1000
    assert "(p = " in split.sentence("divergence") and "e-" in split.sentence("divergence")
    noise = [rng.random() < 0.2 for _ in lr[:300]]
    assert best_split("FD104", "lr", lr[:300], noise) is None  # no region: no claim, thresholds tried or not


@pytest.mark.parametrize("kind", ["folder", "mlruns", "mlflow.db", "lightning", "raytune"])
def test_every_store_ranks_and_names_the_seeded_region(stores, kind, tmp_path):
    result = _triage([stores[kind], "--top", "5"], tmp_path / "cache.sqlite")
    assert result.exit_code == 0, result.output
    out = result.stdout
    flat = " ".join(out.split())  # sentences wrap at 80 columns
    assert "40 runs from" in flat and "Runs ranked by best val_loss" in flat
    threshold = min(p["lr"] for _, p, _ in RUNS if p["lr"] >= sweepgen.BAD_LR)
    assert f"{len(DIVERGED)} of {len(DIVERGED)} runs with NaN loss" in flat
    assert f"have lr ≥ {threshold:.4g}; 0 of {40 - len(DIVERGED)} runs with lr < {threshold:.4g}" in flat
    assert max(len(line) for line in out.splitlines()) <= 80


def test_rows_rank_by_best_epoch_value_not_the_last(stores):
    rows, _ = engines.run(units(str(stores["folder"])), Options())
    ranked = Triage(rows).rows
    values = [r["best_value"] for r in ranked if r["best_value"] is not None]
    assert values == sorted(values)
    overfit = [r for r in ranked if "FD101" in r["codes"]]
    assert overfit and all(r["last_value"] > r["best_value"] for r in overfit)
    assert {r["name"] for r in ranked if "FD202" in r["codes"]} == DIVERGED


def test_jsonl_rows_have_one_stable_flat_schema(stores, tmp_path):
    result = _triage([stores["mlflow.db"], "--format", "jsonl"], tmp_path / "c.sqlite")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 40
    params = ["hp.batch_size", "hp.dropout", "hp.lr", "hp.optimizer"]
    assert all(list(r) == COLUMNS + params for r in rows)
    assert [r["rank"] for r in rows] == list(range(1, 41))
    first = rows[0]
    assert isinstance(first["hp.lr"], float) and isinstance(first["hp.batch_size"], int)
    assert first["verdict"] in ("healthy", "warning") and isinstance(first["codes"], list)
    assert all(not isinstance(v, (dict, list)) or k in ("codes", "kinds") for r in rows for k, v in r.items())


def test_second_call_fetches_and_diagnoses_nothing(stores, tmp_path):
    cache = tmp_path / "cache.sqlite"
    first = _triage([stores["mlruns"], "--format", "jsonl"], cache)
    assert "40 units: 0 from the cache, 40 fetched" in first.stderr
    second = _triage([stores["mlruns"], "--format", "jsonl"], cache)
    assert "40 units: 40 from the cache, 0 fetched" in second.stderr
    assert second.stdout == first.stdout
    # a run that changes is fetched again, the others are not
    run_dir = next(d for d in sorted((stores["mlruns"] / "1").iterdir()) if d.is_dir())
    with open(run_dir / "metrics" / "loss", "a") as fh:
        fh.write("1700000009999 0.2 30\n")
    third = _triage([stores["mlruns"], "--format", "jsonl"], cache)
    assert "40 units: 39 from the cache, 1 fetched" in third.stderr


def test_cache_is_keyed_by_the_options_too(stores, tmp_path):
    found = units(str(stores["raytune"]))[:3]
    cache = Cache(tmp_path / "c.sqlite", Options().fingerprint)
    cache.store([triage_unit(u) for u in found])
    assert len(cache.lookup(found)) == 3
    assert not Cache(tmp_path / "c.sqlite", Options(monitor="loss").fingerprint).lookup(found)


def test_process_pool_gives_the_same_rows(stores):
    found = units(str(stores["folder"]))
    alone, _ = engines.run(found, Options(), jobs=1)
    pooled, stats = engines.run(found, Options(), jobs=2)
    assert Triage(pooled).rows == Triage(alone).rows and stats.diagnosed == 40


def test_tracking_server_is_listed_page_by_page(stores, monkeypatch):
    # the MLflow client path, on a local store instead of a server
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setattr(mlflow_runs, "PAGE", 7)
    found = mlflow_runs.server_units("test", stores["mlruns"].resolve().as_uri(), None)
    assert len(found) == 40 and all(u.stamp.startswith("finished:") for u in found)
    direct, _ = engines.run(units(str(stores["mlruns"])), Options())
    served, _ = engines.run(found, Options())
    strip = ("source", "run_id")
    assert ([{k: v for k, v in r.items() if k not in strip} for r in Triage(served).rows]
            == [{k: v for k, v in r.items() if k not in strip} for r in Triage(direct).rows])


def test_markdown_output(stores, tmp_path):
    out = _triage([stores["lightning"], "--format", "markdown", "--top", "3"], tmp_path / "c.sqlite").stdout
    assert out.startswith("## Triage: 40 runs") and "| # | run |" in out and "### Hyperparameters behind" in out


@pytest.mark.parametrize("kind", ["mlflow.db", "lightning"])
def test_html_report_shows_the_table_the_sections_and_example_curves(stores, kind, tmp_path):
    page = tmp_path / "triage.html"
    result = _triage([stores[kind], "--html", page, "--top", "0"], tmp_path / "c.sqlite")
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "fitdoc triage: 40 runs from" in text
    assert text.count("<tr>") == 41  # the header and every run
    assert "Hyperparameters behind the findings" in text and "runs with NaN loss" in text
    data = json.loads(text.split('id="fitdoc-data">', 1)[1].split("</script>", 1)[0])
    labels = [r["label"] for r in data["runs"]]
    assert labels[0].startswith("#1 ") and labels[0].endswith("(best run)")
    diverged = next(r for r in data["runs"] if "FD201 NaN loss" in r["label"])
    assert any(f["code"] == "FD201" for f in diverged["findings"])
    assert all(r["series"]["val_loss"] for r in data["runs"])


def test_html_report_path_is_checked_before_any_work(stores, tmp_path):
    result = _triage([stores["folder"], "--html", tmp_path / "nowhere" / "t.html"], tmp_path / "c.sqlite")
    assert result.exit_code == 2 and "does not exist" in result.output and "Runs ranked" not in result.output


def test_a_glob_of_files_with_hyperparameters_in_their_names(tmp_path):
    sweepgen.write_csv_folder(tmp_path / "runs", RUNS[:12])
    for name, p, _ in RUNS[:12]:
        (tmp_path / "runs" / name / "log.csv").rename(tmp_path / f"lr={p['lr']}_batch_size={p['batch_size']}.csv")
    result = _triage([tmp_path / "lr=*.csv", "--format", "jsonl"], tmp_path / "c.sqlite")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["hp.lr"] for r in rows) == sorted(p["lr"] for _, p, _ in RUNS[:12])
    assert all(isinstance(r["hp.batch_size"], int) for r in rows)


@pytest.mark.parametrize("spec, message", [
    ("no/such/place", "no/such/place: not a source of runs"),
    ("mlflow://localhost:1/exp/run", "triage reads a whole experiment"),
])
def test_bad_sources_are_one_line_exit_2(spec, message, tmp_path):
    result = _triage([spec], tmp_path / "c.sqlite")
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreadable_run_is_a_row_not_a_crash(tmp_path):
    sweepgen.write_csv_folder(tmp_path, RUNS[:6])
    (tmp_path / RUNS[0][0] / "log.csv").write_text("this is not a training record\n")
    result = _triage([tmp_path, "--format", "jsonl"], tmp_path / "c.sqlite")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    bad = [r for r in rows if r["verdict"] == "unreadable"]
    assert len(bad) == 1 and bad[0]["rank"] == 6 and bad[0]["error"]


def test_a_monitor_a_run_lacks_is_that_run_s_row(stores, tmp_path):
    result = _triage([stores["raytune"], "--format", "jsonl", "--monitor", "val_accuracy"], tmp_path / "c.sqlite")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0 and len(rows) == 40
    assert all(r["verdict"] == "unreadable" and "val_accuracy" in r["error"] for r in rows)
