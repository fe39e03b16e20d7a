"""The test suite's settings (pytest's DJANGO_SETTINGS_MODULE, pyproject.toml).

The production settings, told through the environment that this is a test run: the
development secret, plain HTTP, fast password hashing, static files straight from static/.
Nothing in config/settings.py guesses a test run from what is imported, so production can
never be relaxed by a stray `import pytest`. Child processes that tests start inherit it.
"""

import os

os.environ.setdefault("TESTING", "1")

from .settings import *  # noqa: E402,F403
