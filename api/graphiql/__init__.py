"""GraphiQL served from the app's own files, so the IDE works on a machine without internet.

The page (`page.html`, based on strawberry's) loads its scripts and styles from /graphiql/static/: our
own `page.css` and `favicon.svg`, and the React, GraphiQL and explorer-plugin builds that npm installs
from `graphiql/package-lock.json` into `graphiql/node_modules` (`GRAPHIQL_ASSETS_DIR`). Only the files
named in ASSETS are served, never the rest of that folder. When they are missing, /graphql shows how to
install them instead of a page that would hang on "Loading...".

The page has no inline style or event handler and one inline script, whose CSP source is
INLINE_SCRIPT_HASH. The Content-Security-Policy it works under: script-src 'self' INLINE_SCRIPT_HASH;
style-src 'self' 'unsafe-inline' (GraphiQL's dialogs and scroll locks add <style> elements at run
time); connect-src 'self' (queries go to /graphql); font-src data: (GraphiQL's CSS embeds its fonts);
img-src 'self' (the favicon).
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
from collections.abc import Mapping
from pathlib import Path
from string import Template

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC_PATH = "/graphiql/static"
_HERE = Path(__file__).parent

# URL name -> file under the npm install folder (graphiql/node_modules), as pinned in package-lock.json.
ASSETS: Mapping[str, str] = {
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "plugin-explorer.umd.js": "@graphiql/plugin-explorer/dist/index.umd.js",
    "plugin-explorer.css": "@graphiql/plugin-explorer/dist/style.css",
}
# URL name -> our own file beside this module, always there.
OWN_FILES: Mapping[str, Path] = {
    "page.css": _HERE / "page.css",
    "favicon.svg": _HERE / "favicon.svg",
}

PAGE_HTML = (_HERE / "page.html").read_text(encoding="utf-8")
_MISSING_HTML = Template((_HERE / "missing.html").read_text(encoding="utf-8"))
_INLINE_SCRIPTS = re.findall(r"<script>(.*?)</script>", PAGE_HTML, flags=re.DOTALL)
# The page's one inline script as a CSP source expression, for a Content-Security-Policy's script-src.
INLINE_SCRIPT_HASH = (
    "'sha256-" + base64.b64encode(hashlib.sha256(_INLINE_SCRIPTS[0].encode()).digest()).decode() + "'"
)


def asset_files(assets_dir: Path) -> dict[str, Path]:
    """Every file /graphiql/static/ serves, by URL name."""
    return {**{name: assets_dir / path for name, path in ASSETS.items()}, **OWN_FILES}


def missing_assets(assets_dir: Path) -> list[str]:
    """The installed files that are not there (checked per page view: installing needs no restart)."""
    return [path for path in ASSETS.values() if not (assets_dir / path).is_file()]


def graphiql_page(assets_dir: Path) -> HTMLResponse:
    """The IDE, or (503) how to install its files when they are missing."""
    if missing_assets(assets_dir):
        page = _MISSING_HTML.substitute(assets_dir=html.escape(str(assets_dir)))
        return HTMLResponse(page, status_code=503)
    return HTMLResponse(PAGE_HTML)


class GraphiQLStaticFiles(StaticFiles):
    """StaticFiles over a fixed list of files (ETag and 304s included) rather than a whole folder."""

    def __init__(self, files: Mapping[str, Path]) -> None:
        super().__init__(directory=None, check_dir=False)
        self.files = dict(files)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        file = self.files.get(path)
        if file is None:
            return "", None
        try:
            return str(file), os.stat(file)
        except FileNotFoundError:
            return "", None
