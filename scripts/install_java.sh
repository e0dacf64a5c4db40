#!/usr/bin/env bash
# Install Java 17 (Debian package openjdk-17-jre-headless) for the Spark SQL tests of the lake
# (pyspark runs its JVM). Does nothing, silently, when a java of version >= 17 is already there.
set -euo pipefail

java_ok() {
    command -v java >/dev/null 2>&1 || return 1
    local version
    version=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
    [ -n "$version" ] && [ "$version" -ge 17 ]
}

if java_ok; then
    exit 0
fi

log() { printf '[install_java] %s\n' "$*" >&2; }
die() { printf '[install_java] ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        die "java 17 missing and not root (no passwordless sudo) to install it"
    fi
fi
command -v apt-get >/dev/null 2>&1 || die "java 17 missing and no apt-get to install it"

LOG=/tmp/install_java-apt.log
t0=$SECONDS
log "installing openjdk-17-jre-headless (apt-get update + install)"
if ! { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q \
        && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
            --no-install-recommends openjdk-17-jre-headless; } </dev/null >"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2 || true
    die "apt-get failed; full log: $LOG"
fi
java_ok || die "openjdk-17-jre-headless installed but no java >= 17 on PATH"
log "installed in $((SECONDS - t0))s: $(java -version 2>&1 | head -n 1)"
