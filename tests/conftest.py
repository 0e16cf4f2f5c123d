from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"


@pytest.fixture
def fixtures() -> Path:
    """Real records from Keras 3, Trainer and Lightning runs (tests/data/fixtures/README.md)."""
    return DATA / "fixtures"


@pytest.fixture
def cases() -> Path:
    """Labelled curve shapes (tests/data/cases/README.md)."""
    return DATA / "cases"
