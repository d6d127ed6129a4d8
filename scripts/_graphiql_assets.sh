# Sourced by scripts/serve and scripts/test, from the repository root: installs GraphiQL's browser files
# (React, GraphiQL and its explorer plugin, pinned in graphiql/package-lock.json) into graphiql/node_modules
# with npm, so /graphql needs no internet. Re-installs only when the lock is newer than the install stamp.
# Without npm or its registry this warns and goes on: the API works, and /graphql says how to install them.

_graphiql_stamp="graphiql/node_modules/.loyalty-installed"
if [[ ! -f "$_graphiql_stamp" || graphiql/package-lock.json -nt "$_graphiql_stamp" ]]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "warning: npm not found: GraphiQL's files are not installed (/graphql says how)" >&2
    else
        echo "installing GraphiQL's browser files into graphiql/node_modules (npm ci) ..." >&2
        # --ignore-scripts: these packages need no install scripts, and none should run.
        if npm ci --prefix graphiql --ignore-scripts --no-audit --no-fund --loglevel=error >&2; then
            touch "$_graphiql_stamp"
        else
            echo "warning: npm ci failed: GraphiQL's files are not installed (/graphql says how)" >&2
        fi
    fi
fi

unset _graphiql_stamp
