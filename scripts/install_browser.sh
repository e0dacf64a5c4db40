#!/usr/bin/env bash
# Install headless Chromium and its WebDriver (Debian packages chromium, chromium-driver)
# for the browser tests. Does nothing, silently, when both are already there.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi

log() { printf '[install_browser] %s\n' "$*" >&2; }
die() { printf '[install_browser] ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        die "chromium/chromedriver missing and not root (no passwordless sudo) to install them"
    fi
fi
command -v apt-get >/dev/null 2>&1 || die "chromium/chromedriver missing and no apt-get to install them"

LOG=/tmp/install_browser-apt.log
t0=$SECONDS
log "installing chromium chromium-driver (apt-get update + install)"
if ! { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q \
        && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q chromium chromium-driver; } \
        </dev/null >"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2 || true
    die "apt-get failed; full log: $LOG"
fi
[ -x /usr/bin/chromium ] || die "chromium installed but /usr/bin/chromium is missing"
[ -x /usr/bin/chromedriver ] || die "chromium-driver installed but /usr/bin/chromedriver is missing"
log "installed in $((SECONDS - t0))s: $(/usr/bin/chromium --version 2>/dev/null || echo chromium), $(/usr/bin/chromedriver --version 2>/dev/null | cut -d' ' -f1-2)"
