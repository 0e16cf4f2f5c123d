"""The numeric helpers against their plain definitions."""

import itertools

import numpy as np
import pytest

from fitdoc.analysis import SLOPE_PAIRS, flat_ends, longest_run, running_median, slope


def curves():
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 17, 64, 200):
        yield rng.normal(size=n).cumsum() * 0.01
        yield np.round(rng.random(n), 1)  # many exact ties
        yield 0.6931 + rng.normal(size=n) * 1e-3


def test_flat_ends_is_the_plain_scan():
    for y in curves():
        tol = np.maximum(0.01 * np.abs(y), 0.002)
        expected = []
        for i in range(len(y)):
            j = i
            while j + 1 < len(y) and abs(y[j + 1] - y[i]) <= tol[i]:
                j += 1
            expected.append(j)
        assert flat_ends(y, tol).tolist() == expected


def test_running_median_repeats_the_ends():
    for y in curves():
        for size in (3, 5, 21):
            padded = [y[0]] * (size // 2) + list(y) + [y[-1]] * (size // 2)
            expected = [np.median(padded[i : i + size]) for i in range(len(y))]
            assert running_median(y, size).tolist() == expected


def test_slope_is_the_median_of_all_pairwise_slopes():
    for y in curves():
        if len(y) >= 3:
            pairs = [(y[j] - y[i]) / (j - i) for i, j in itertools.combinations(range(len(y)), 2)]
            assert slope(y) == np.median(pairs)


def test_slope_of_a_long_curve_samples_pairs_and_is_repeatable():
    n = 3 * int(np.sqrt(2 * SLOPE_PAIRS))
    rng = np.random.default_rng(0)
    y = 0.5 * np.arange(n) + rng.normal(size=n)
    y[::50] += 1e4  # outliers a least-squares line would follow
    assert slope(y) == pytest.approx(0.5, abs=1e-3)
    assert slope(y) == slope(y.copy())


def test_longest_run_takes_the_first_longest():
    assert longest_run(np.array([0, 1, 1, 0, 1, 1, 0, 1], bool)) == (1, 2)
    assert longest_run(np.array([1, 0, 1, 1, 1], bool)) == (2, 3)
    assert longest_run(np.zeros(4, bool)) == (0, 0)
    assert longest_run(np.zeros(0, bool)) == (0, 0)


@pytest.mark.parametrize("first", [0, 1])
def test_retrain_length_counts_the_epochs_up_to_the_best_from_the_first(first):
    import fitdoc
    from fitdoc.run import build_run

    val = [1.0, 0.8, 0.6, 0.5, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9]
    rows = {first + i: {"loss": 1.0 - 0.05 * i, "val_loss": v} for i, v in enumerate(val)}
    report = fitdoc.diagnose(build_run(rows, source="made-up", format="mlflow"))
    assert report.best_epoch == first + 4 and report.best.recommended_epochs == 5
