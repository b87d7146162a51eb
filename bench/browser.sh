#!/usr/bin/env bash
# The browser suite's Chromium and its driver, from Debian's packages (never a download of its own).
#
#   bench/browser.sh    install them if missing and possible (root with apt-get); say why not otherwise.
#                       Exits 0 either way: the suite itself skips with the reason, or fails when
#                       REQUIRE_BROWSER=1 (CI).
set -uo pipefail

have() { [ -x "${BROWSER_BIN:-/usr/bin/chromium}" ] && [ -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ]; }

if have; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
    echo "browser.sh: chromium/chromium-driver missing and cannot be installed here (needs root and apt-get);" \
         "the browser suite will be skipped" >&2
    exit 0
fi
echo "browser.sh: installing chromium and chromium-driver (apt-get)" >&2
apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2 \
    || echo "browser.sh: apt-get could not install them; the browser suite will be skipped" >&2
exit 0
