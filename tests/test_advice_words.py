"""The catalogue's wording: Chinese a Chinese ML engineer would write, and English that
names the validation loss in prose."""

import re
from pathlib import Path

import pytest

import fitdoc
from fitdoc import advice

CJK = r"[\u4e00-\u9fff]"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
CODE_NAME = r"(?<!['\"=\w（])val_(?:loss|accuracy)\b(?!['\"=）:]| ?[\d-])"  # a log line or a name in brackets is data
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "keras2_loss_rises_again.txt"


def texts(node, lang, inside=False):
    """Every sentence of ``lang`` in the catalogue (code tables are not sentences)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "code":
                yield from texts(value, lang, inside or key == lang)
    elif isinstance(node, list):
        for value in node:
            yield from texts(value, lang, inside)
    elif isinstance(node, str) and inside:
        yield PLACEHOLDER.sub("X", node)


ZH = list(texts(advice.catalog(), "zh"))
EN = list(texts(advice.catalog(), "en"))


def test_catalogue_has_sentences_in_both_languages():
    assert len(ZH) > 150 and len(EN) > 150


@pytest.mark.parametrize("pattern, why", [
    (r"测试集|测试 ?loss|test loss", "validation is 验证集, not the test set"),
    (r"(?<![\w'=])epochs?(?![\w'=])", "an epoch is 轮"),
    (CJK + r"\s*[,:;()]|[,:;(]\s*" + CJK, "half-width punctuation inside a Chinese sentence"),
    (CODE_NAME, "say 验证集 loss in prose"),
])
def test_chinese_wording(pattern, why):
    bad = [t for t in ZH if re.search(pattern, t)]
    assert not bad, f"{why}: {bad[:3]}"


def test_english_says_validation_loss_in_prose():
    bad = [t for t in EN if re.search(CODE_NAME, t)]
    assert not bad, bad[:3]


def test_chinese_report_counts_rounds():
    report = fitdoc.diagnose(EXAMPLE, lang="zh")
    words = " ".join(a.evidence + " ".join(a.fixes) for _, a in report.items())
    assert "验证集 loss" in words and "轮" in words
    assert not re.search(r"(?<![\w'=])epochs?(?![\w'=])", re.sub(r"model\.fit\([^)]*\)", "", words))
