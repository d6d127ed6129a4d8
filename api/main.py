"""The ASGI entry point for uvicorn (`uvicorn api.main:app`): the app built from the environment.

Built at import time, once per worker process; each worker owns (and on shutdown disposes) its
database engines. Migrations are not run here: `scripts/serve` runs them once, before the workers.
"""

from __future__ import annotations

import logging

from api.app import create_app
from api.settings import Settings

# A no-op when the host process (tests, an embedding server) has already configured logging.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("loyalty").setLevel(logging.INFO)
# /readyz asks alembic for the current revision, which would log two INFO lines per probe.
logging.getLogger("alembic").setLevel(logging.WARNING)

app = create_app(Settings.from_env())
