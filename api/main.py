"""The ASGI entry point for uvicorn (`uvicorn api.main:app`): the app built from the environment.

Built at import time, once per worker process; each worker owns (and on shutdown disposes) its
database engines. Migrations are not run here: `scripts/serve` runs them once, before the workers.
Logging is configured here, in each worker: JSON lines or text (LOG_FORMAT; telemetry/logs.py).
"""

from __future__ import annotations

import logging

from api.app import create_app
from api.settings import Settings
from telemetry.logs import configure_logging

settings = Settings.from_env()
configure_logging(settings.log_format)
logging.getLogger("loyalty").setLevel(logging.INFO)

app = create_app(settings)
