"""ActorRT's profiler trace: every job's stages as Chrome trace JSON.

``start(path)`` begins recording; ``stop()`` writes the file (Perfetto and
chrome://tracing open it) and returns how many jobs it holds. As a context
manager::

    with dx_engine.trace.recording("run.json"):
        ...

``ACTORRT_TRACE=run.json`` records a whole run without code changes.
"""

import contextlib

from ._native import start_trace as start
from ._native import stop_trace as stop

__all__ = ["recording", "start", "stop"]


@contextlib.contextmanager
def recording(path):
    """Records the jobs of the ``with`` block into ``path``."""
    start(str(path))
    try:
        yield
    finally:
        stop()
