"""Client-side navigation to another page with its parameters, as ONE browser-history entry.

st.switch_page(page, query_params=…) (Streamlit 1.67) first sends the new query string for
the current page (the browser pushes `current page + new parameters`, a view that never
existed) and then the page change (a second entry). Back from the target then lands on that
made-up view (seen in headless Chromium: Back from a commune's drill-down opened by a ranking
click showed that commune's overview, not the province's). Instead, the page writes the
target address into the history once and lets Streamlit's own Back/Forward handler
(`popstate`: find the page by its path, take the query string, rerun) navigate to it.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import streamlit as st

from service import addresses


def address(url_path: str, params: dict[str, str]) -> str:
    """The page's path segment and query string ("chi-tiet?tinh=40&don_vi=16969")."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return url_path + (f"?{query}" if query else "")


def go_to(url_path: str, params: dict[str, str]) -> None:
    """Open the page at `url_path` (an st.Page url_path of app.py) with `params`; call it in
    the script run (not a callback), then stop the run."""
    target = json.dumps(address(url_path, params))
    known = json.dumps(list(addresses.PAGE_PATHS))
    st.html(f"""<script>
(() => {{
  const parts = window.location.pathname.replace(/\\/+$/, "").split("/");
  if ({known}.includes(parts[parts.length - 1])) parts.pop();
  const base = parts.join("/");
  window.history.pushState({{}}, "", base + "/" + {target});
  window.dispatchEvent(new PopStateEvent("popstate"));
}})();
</script>""", unsafe_allow_javascript=True)
    st.stop()
