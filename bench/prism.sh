#!/usr/bin/env bash
# Install Stoplight Prism (the local stand-in for Twilio's REST API) into a cache dir, idempotently.
#
#   bench/prism.sh                 install if needed; print the prism binary path (for PRISM_BIN=$(...))
#   bench/prism.sh serve [PORT]    install if needed; serve the Twilio Messages spec on 127.0.0.1:PORT (4010)
#
# PRISM_DIR (default <repo>/.cache/prism) is where it goes; PRISM_VERSION pins the version.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${PRISM_VERSION:-5.14.2}"
dir="${PRISM_DIR:-$repo/.cache/prism}"
case "$dir" in /*) ;; *) dir="$repo/$dir" ;; esac
bin="$dir/node_modules/.bin/prism"
spec="$repo/../shared/twilio/twilio_messages_v2010.json"

installed_version() {
    # Read the version from package.json: running prism --version takes seconds.
    node -p "require('$dir/node_modules/@stoplight/prism-cli/package.json').version" 2>/dev/null || true
}

if [ "$(installed_version)" != "$version" ]; then
    command -v npm >/dev/null || { echo "prism.sh: npm not found; install Node.js >= 18.20.1" >&2; exit 1; }
    mkdir -p "$dir"
    # Keeps the cache out of `git status` without touching the repository's .gitignore.
    echo "*" > "$dir/.gitignore"
    # npm's progress goes to stderr so that stdout carries only the binary path.
    npm install --prefix "$dir" --no-save --no-audit --no-fund "@stoplight/prism-cli@$version" >&2
fi

if [ "${1:-}" = "serve" ]; then
    [ -f "$spec" ] || { echo "prism.sh: spec not found: $spec" >&2; exit 1; }
    # exec, so that $! of a backgrounded call is prism itself and can be stopped by its pid.
    exec "$bin" mock -h 127.0.0.1 -p "${2:-4010}" -v warn "$spec"
fi
echo "$bin"
