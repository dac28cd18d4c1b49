"""
Set-up of the Music Assistant adapter tests: the MA stand-in on ``sys.path``, and the fixtures.

The stand-in package (``tests/ma_stub/music_assistant``) goes on ``sys.path`` here, before any
test module imports the adapter; it is never installed. music-assistant-models 1.1.108 and
later use Python 3.12 syntax while still declaring Python 3.11 support; on a Python where the
installed models cannot even be imported, these tests are not collected (with a warning)
instead of failing to import.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

_STUB = Path(__file__).resolve().parent.parent / "ma_stub"
if str(_STUB) not in sys.path:
    sys.path.insert(0, str(_STUB))


def _models_importable() -> bool:
    try:
        import music_assistant_models.config_entries  # noqa: F401, PLC0415
    except SyntaxError:
        return False
    return True


if _models_importable():
    from .fixtures import *  # noqa: F403 - the fixtures, registered by being in this module
else:
    warnings.warn(
        "The installed music-assistant-models needs a newer Python than this one; the "
        "Music Assistant adapter tests are skipped (use models 1.1.107 or older here).",
        stacklevel=1,
    )
    collect_ignore_glob = ["test_*.py", "fixtures.py", "support.py"]
