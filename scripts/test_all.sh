#!/usr/bin/env bash
# The whole test suite: starts the real PostgreSQL and MariaDB servers (installing them
# if missing), installs headless Chromium if missing, runs pytest, stops only what it started.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

bash scripts/test_services.sh start || { echo "Không khởi động được PostgreSQL/MariaDB để kiểm thử." >&2; exit 1; }
trap 'bash scripts/test_services.sh stop' EXIT
eval "$(bash scripts/test_services.sh env)"
bash scripts/install_browser.sh || { echo "Không cài được Chromium để kiểm thử." >&2; exit 1; }
bash scripts/install_pdf_tools.sh || { echo "Không cài được poppler-utils (pdftoppm, pdftotext) để kiểm thử báo cáo PDF." >&2; exit 1; }
bash scripts/install_java.sh || { echo "Không cài được Java 17 cho Spark để kiểm thử." >&2; exit 1; }

mkdir -p artifacts
$PY -m pytest -q -ra "$@"
