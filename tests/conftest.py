from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).parent / "data"


def _shared(name: str) -> Path:
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"shared/{name} is not beside the repository")
    return path


@pytest.fixture
def fixtures() -> Path:
    return _shared("fixtures")


@pytest.fixture
def cases() -> Path:
    return _shared("cases")
