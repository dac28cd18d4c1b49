"""Run the command line: ``python -m music_assistant_alexa``."""

from __future__ import annotations

import sys

from music_assistant_alexa.cli import main

if __name__ == "__main__":
    sys.exit(main())
