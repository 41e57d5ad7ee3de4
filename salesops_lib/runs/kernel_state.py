"""What a kept kernel restores between two report runs (this module is imported in the kernel).

A worker keeps its kernel across runs (:mod:`salesops_lib.runs.kernel`) so that each run does
not pay the interpreter start and the report library imports again. Right after the kernel
starts, :func:`remember` records the fresh state; after every successful run :func:`reset`
brings the kernel back to it: the user namespace, output history and execution counter
(IPython's new-session reset), open figures, matplotlib settings, warning filters and the
"already shown" warning registries, the working folder, the environment and ``sys.path``.
Imported modules stay loaded (that is the saving); modules keep no per-run state (report
functions take the region and as-of as arguments), and a run that failed is never followed by
another run in the same kernel.
"""

from __future__ import annotations

import gc
import os
import sys
import warnings
from typing import Any

_fresh: dict[str, Any] = {}


def remember() -> None:
    """Record the fresh kernel's state (call once, before the first run).

    Matplotlib's pyplot is imported first (as every report does; it adds warning filters and
    sets up the inline backend), so its set-up is part of the state every run starts from.
    """
    try:
        import matplotlib
        import matplotlib.pyplot

        _fresh["rc"] = matplotlib.rcParams.copy()
    except ImportError:
        pass
    _fresh["cwd"] = os.getcwd()
    _fresh["environ"] = dict(os.environ)
    _fresh["path"] = list(sys.path)
    _fresh["filters"] = list(warnings.filters)


def reset() -> None:
    """Bring the kernel back to the state :func:`remember` recorded.

    Raises:
        RuntimeError: If :func:`remember` was not called in this kernel.
    """
    if not _fresh:
        raise RuntimeError("kernel_state.remember() was not called in this kernel")
    from IPython import get_ipython

    if "rc" in _fresh:
        import matplotlib
        import matplotlib.pyplot as plt

        plt.close("all")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            matplotlib.rcParams.update(_fresh["rc"])
    os.chdir(_fresh["cwd"])
    os.environ.clear()
    os.environ.update(_fresh["environ"])
    sys.path[:] = _fresh["path"]
    warnings.filters[:] = _fresh["filters"]
    warnings._filters_mutated()  # type: ignore[attr-defined]  # forget "already shown" warnings
    shell = get_ipython()
    if shell is not None:
        shell.reset(new_session=True)
    gc.collect()
