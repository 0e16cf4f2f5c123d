from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).parent / "data"


@pytest.fixture
def fixtures() -> Path:
    path = SHARED / "fixtures"
    if not path.is_dir():
        pytest.skip("shared/fixtures is not beside the repository")
    return path


@pytest.fixture
def cases() -> Path:
    path = SHARED / "cases"
    if not path.is_dir():
        pytest.skip("shared/cases is not beside the repository")
    return path
