from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"


def write_log(tmp_path: Path, text: str, name: str = "train.log", encoding: str = "utf-8") -> Path:
    """``text`` written to ``tmp_path / name``: a record made by a test."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def fixtures() -> Path:
    """Real records from Keras 3, Trainer and Lightning runs (tests/data/fixtures/README.md)."""
    return DATA / "fixtures"


@pytest.fixture
def cases() -> Path:
    """Labelled curve shapes (tests/data/cases/README.md)."""
    return DATA / "cases"
