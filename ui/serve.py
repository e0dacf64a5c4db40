"""Start the dashboard: `python -m ui.serve [streamlit options]`.

The pages live in `pages/` and are declared with `st.navigation` in app.py. Streamlit
still treats a `pages/` folder next to the entry script as an old-style multipage app
until the first script run calls `st.navigation`, so a shared deep link opened first
after a restart showed "Page not found". We tell it up front that the folder is not
that, then hand over to Streamlit's own command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.web import cli

try:
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
except ImportError:  # a later Streamlit without the flag: nothing to work around
    pass

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(argv: list[str] | None = None) -> int:
    # No error details for visitors even if .streamlit/config.toml is missing (a later
    # --client.showErrorDetails in argv still wins, e.g. "full" while developing).
    args = ["run", str(APP), "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none",
            *(argv if argv is not None else sys.argv[1:])]
    return cli.main(args, standalone_mode=False) or 0


if __name__ == "__main__":
    sys.exit(main())
