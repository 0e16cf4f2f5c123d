"""Workflows over several runs: compare records, sweep model variants."""

import importlib
import sys
import types

__all__ = ["Comparison", "compare"]


class _Package(types.ModuleType):
    """Loads ``compare`` (and numpy with it) on first use, so that the command line,
    which imports this package for its commands, starts without them. ``compare`` is
    both a submodule and its function: the function stays the package's attribute."""

    @property
    def compare(self):
        return importlib.import_module(".compare", __name__).compare

    @compare.setter
    def compare(self, submodule):  # the import system binds the submodule here
        pass

    @property
    def Comparison(self):
        return importlib.import_module(".compare", __name__).Comparison


sys.modules[__name__].__class__ = _Package
