# Sourced by the scripts in this folder, from the repository root: makes sure .venv exists and holds
# this project, installed editable. Set LOYALTY_DEV=1 before sourcing to get the dev extras too.
# Re-installs only when pyproject.toml is newer than the install stamp (one stamp per flavour).
# Needs only Python 3.11+ with venv; set PYTHON to pick the interpreter that creates the venv.

_loyalty_python="${PYTHON:-python3}"
_loyalty_venv=".venv"

if [[ ! -x "$_loyalty_venv/bin/python" ]]; then
    if ! command -v "$_loyalty_python" >/dev/null 2>&1; then
        echo "error: $_loyalty_python not found; install Python 3.11 or newer (or set PYTHON)" >&2
        exit 1
    fi
    if ! "$_loyalty_python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "error: Python 3.11 or newer is needed; $_loyalty_python is $("$_loyalty_python" -V 2>&1)" >&2
        exit 1
    fi
    echo "creating $_loyalty_venv with $("$_loyalty_python" -V 2>&1)" >&2
    "$_loyalty_python" -m venv "$_loyalty_venv"
fi

if [[ "${LOYALTY_DEV:-0}" == "1" ]]; then
    _loyalty_stamp="$_loyalty_venv/.loyalty-installed-dev"
    _loyalty_target=".[dev]"
else
    _loyalty_stamp="$_loyalty_venv/.loyalty-installed-runtime"
    _loyalty_target="."
fi

if [[ ! -f "$_loyalty_stamp" || pyproject.toml -nt "$_loyalty_stamp" ]]; then
    echo "installing $_loyalty_target into $_loyalty_venv (editable) ..." >&2
    # -q keeps errors; the ignore hides setuptools' "editable installation" notice from the build.
    PYTHONWARNINGS="ignore::UserWarning" "$_loyalty_venv/bin/python" -m pip install -q -e "$_loyalty_target"
    touch "$_loyalty_stamp"
    # The dev extras include everything the runtime needs.
    if [[ "$_loyalty_target" == ".[dev]" ]]; then
        touch "$_loyalty_venv/.loyalty-installed-runtime"
    fi
fi

unset _loyalty_python _loyalty_venv _loyalty_stamp _loyalty_target
