"""Page addresses: the default page's own address and unknown ones are redirected to the root
with their query (Streamlit would otherwise show its English "Page not found" dialog); the
pages, Streamlit's own paths, the API and the login routes are served as they are."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from service.addresses import PAGE_PATHS, PageAddresses, redirect_target


def test_redirect_targets():
    assert redirect_target("/tong-quan", "tinh=40&ky=2025-Q3") == "/?tinh=40&ky=2025-Q3"
    assert redirect_target("/tong-quan/", "") == "/"
    assert redirect_target("/khong-co-trang-nay", "tinh=40") == "/?tinh=40"
    for path in PAGE_PATHS[1:]:
        assert redirect_target(f"/{path}", "tinh=40") is None
    for path in ("/", "/_stcore/health", "/_stcore/stream", "/static/js/main.js", "/favicon.png", "/api",
                 "/api/v1/health", "/auth/session", "/media/abc.png", "/app/static/x"):
        assert redirect_target(path, "") is None, path
    # Behind a proxy at server.baseUrlPath "kpi".
    assert redirect_target("/kpi/tong-quan", "tinh=40", "kpi") == "/kpi/?tinh=40"
    assert redirect_target("/kpi", "", "kpi") is None
    assert redirect_target("/kpi/ban-do", "", "kpi") is None
    assert redirect_target("/khac/tong-quan", "", "kpi") is None


def test_middleware_redirects_only_get_of_unknown_addresses():
    async def page(request):
        return PlainTextResponse("trang")

    app = Starlette(routes=[Route("/{path:path}", page, methods=["GET", "HEAD", "POST"])])
    client = TestClient(PageAddresses(app), follow_redirects=False)
    moved = client.get("/tong-quan?tinh=40&ky=2025-Q3")
    assert moved.status_code == 302 and moved.headers["location"] == "/?tinh=40&ky=2025-Q3"
    # A hostile query cannot split the response or leave the site: the location is escaped.
    hostile = client.get("/x?a=%0d%0aSet-Cookie:%20b=1&u=//evil.example")
    assert hostile.status_code == 302 and hostile.headers["location"].startswith("/?")
    assert "\r" not in hostile.headers["location"] and "set-cookie" not in hostile.headers
    assert client.get("/ban-do?tinh=40").text == "trang"
    assert client.post("/tong-quan").text == "trang"
