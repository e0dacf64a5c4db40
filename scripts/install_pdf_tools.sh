#!/usr/bin/env bash
# Install poppler-utils (pdftoppm, pdftotext) for the PDF report tests, which render the
# report's pages to PNG and read its text back line by line. Does nothing, silently, when
# both tools are already there.
set -euo pipefail

if command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then
    exit 0
fi

log() { printf '[install_pdf_tools] %s\n' "$*" >&2; }
die() { printf '[install_pdf_tools] ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        die "pdftoppm/pdftotext missing and not root (no passwordless sudo) to install poppler-utils"
    fi
fi
command -v apt-get >/dev/null 2>&1 || die "pdftoppm/pdftotext missing and no apt-get to install poppler-utils"

LOG=/tmp/install_pdf_tools-apt.log
t0=$SECONDS
log "installing poppler-utils (apt-get update + install)"
if ! { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q \
        && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
            --no-install-recommends poppler-utils; } \
        </dev/null >"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2 || true
    die "apt-get failed; full log: $LOG"
fi
command -v pdftoppm >/dev/null 2>&1 || die "poppler-utils installed but pdftoppm is missing"
command -v pdftotext >/dev/null 2>&1 || die "poppler-utils installed but pdftotext is missing"
log "installed in $((SECONDS - t0))s: $(pdftoppm -v 2>&1 | head -n 1)"
