"""The pages' addresses (URL path segments), declared once: app.py gives them to st.Page,
ui/links and the pages build links with them, and the server redirects every other
one-segment address (service/server.py, `PageAddresses`) instead of letting Streamlit show
its English "Page not found" dialog."""

from __future__ import annotations

from urllib.parse import quote

OVERVIEW = "tong-quan"  # the default page: Streamlit serves it at "/" only
MAP = "ban-do"
DRILLDOWN = "chi-tiet"
TASKS = "nhiem-vu"
REPORTS = "bao-cao"
UPLOAD = "tai-len"
ADMIN = "quan-tri"
CONNECTIONS = "ket-noi"
MAIL = "thu-nhac-han"
PAGE_PATHS = (OVERVIEW, MAP, DRILLDOWN, TASKS, REPORTS, UPLOAD, ADMIN, CONNECTIONS, MAIL)

# First path segments the server itself answers (Streamlit's assets and websocket, the API,
# the cookie login): never redirected.
SERVED = frozenset({"_stcore", "static", "media", "component", "app", "api", "auth", "favicon.png",
                    "manifest.json", "robots.txt"})


def redirect_target(path: str, query: str, base: str = "") -> str | None:
    """Where a GET of `path` should go instead, or None to serve it as it is: the default
    page's own address and any unknown one-segment address (after Streamlit's
    server.baseUrlPath `base`) go to the root with the same query (a mistyped or outdated
    link opens the overview with its province and period)."""
    prefix = [s for s in base.split("/") if s]
    segments = [s for s in path.split("/") if s]
    if segments[:len(prefix)] != prefix or len(segments) != len(prefix) + 1:
        return None
    name = segments[-1]
    if name in SERVED or "." in name or (name in PAGE_PATHS and name != OVERVIEW):
        return None
    root = "/" + "".join(f"{s}/" for s in prefix)
    return root + (f"?{query}" if query else "")


class PageAddresses:
    """ASGI middleware applying `redirect_target` to HTTP GET and HEAD requests (a 302)."""

    def __init__(self, app, base: str = ""):
        self.app = app
        self.base = base

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            query = scope.get("query_string", b"").decode("latin-1")
            target = redirect_target(scope.get("path", "/"), query, self.base)
            if target is not None:
                await send({"type": "http.response.start", "status": 302,
                            "headers": [(b"location", quote(target, safe="/?=&%+").encode("latin-1")),
                                        (b"content-length", b"0"), (b"cache-control", b"no-store")]})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)
