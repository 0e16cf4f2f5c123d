"""The command line starts without the numeric stack; the package loads it on use."""

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_cli_help_loads_neither_numpy_nor_the_engine():
    loaded = _modules_after("from fitdoc.cli import main\nfrom click.testing import CliRunner\n"
                            "assert CliRunner().invoke(main, ['--help']).exit_code == 0")
    assert not {"numpy", "scipy", "matplotlib", "rich", "fitdoc.engine"} & loaded


def test_package_names_load_on_first_use():
    loaded = _modules_after("import fitdoc\nfrom fitdoc import Run, diagnose\nfrom fitdoc.workflow import compare\n"
                            "assert callable(fitdoc.read) and callable(compare) and Run.__name__ == 'Run'")
    assert "fitdoc.engine" in loaded and "scipy" not in loaded
