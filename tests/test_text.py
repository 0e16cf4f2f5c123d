"""Plain-text helpers of the reports: wrapping (CJK too), sparklines, spans."""

import numpy as np

from fitdoc.output.text import ASCII_SPARK, cell_len, sparkline, wrap


def test_chinese_wraps_between_characters_but_never_inside_an_epoch_phrase():
    text = "EarlyStopping(monitor='val_loss', patience=3, restore_best_weights=True) 会在第 10 轮停止并保留第 7 轮"
    for width in range(20, 60):
        lines = wrap(text, width)
        assert all(cell_len(line) <= width for line in lines)
        joined = "\n".join(lines)
        assert "第 10 轮" in joined and "第 7 轮" in joined
    # a line breaks between Chinese characters, so it is filled, not cut at the nearest space
    lines = wrap("训练准确率最终只有 0.475，20 轮内 loss 仅从 1.343 降到 1.264；验证集并不比训练集差", 30)
    assert cell_len(lines[0]) >= 26 and not any(line.startswith(("，", "；")) for line in lines)


def test_english_wraps_at_spaces_and_folds_only_a_word_longer_than_the_line():
    assert wrap("FD101 Overfitting, FD104 Plateau", 18) == ["FD101 Overfitting,", "FD104 Plateau"]
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_sparkline_marks_nan_and_has_an_ascii_ramp():
    values = np.array([3.0, 2.0, 1.0, np.nan, np.nan])
    assert sparkline(values) == "█▄▁!!"
    assert sparkline(values, ramp=ASCII_SPARK) == "@=_!!"
