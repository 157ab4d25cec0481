"""Everything a citizen, sponsor or partner reads, in one home.

Pure: no I/O and no imports from the rest of Britizen except plain data types, so any layer
(scoring explanations, services queueing outbox messages, handlers, the API) can word things
through it. One module per area (`texts.score`, `texts.loans`, ...); `texts.format` holds the
single formatter for money, dates, times and bands.

Welsh and English (texts/i18n.py): every `texts.*` module, whoever adds it, has its module-level
wording turned into `i18n.Text` the moment it is imported (the import hook below), so a new
module's messages are translated (and, until they are, reported missing by the catalog test)
without anyone remembering to mark them.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

# Not wording: the machinery itself, the formatter, the partner API's messages (partners'
# software reads them; the API speaks English) and the operators' growth report (the
# `britizen growth report` command line, the operator page's API and chart: staff tools, in
# English like the rest of the command line).
NOT_WORDING = frozenset(
    {"texts.i18n", "texts.format", "texts.api", "texts.catalog", "texts.growth"}
)


def make_lazy(module: ModuleType) -> None:
    from texts.i18n import lazy

    for name, value in list(vars(module).items()):
        if name.startswith("__") or isinstance(value, ModuleType | type) or callable(value):
            continue
        vars(module)[name] = lazy(value)


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        make_lazy(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if not fullname.startswith("texts.") or fullname in NOT_WORDING:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


if not any(isinstance(f, _Finder) for f in sys.meta_path):
    sys.meta_path.insert(0, _Finder())
