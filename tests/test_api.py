"""The HTTP API (service/api.py) endpoint by endpoint, in-process through Starlette's TestClient
on a real store: who may call (401), what they may see and write (403, the one scope rule),
how big a request may be (413), the token lifecycle, and that `GET /v1/kpi` is exactly what
`python -m kpi` prints. The same API on the real server: tests/test_server.py."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from kpi.__main__ import main as kpi_main
from loaders.dossiers import load_dossier_file
from service.api import ApiSettings, create_api, safe_name
from store import accounts, api_tokens
from store import db as store

TODAY = date(2025, 11, 15)
OPERATOR = "operator-secret-for-tests"
HEADER = ("Mã hồ sơ,Mã xã,Mã TTHC,Tên TTHC,Lĩnh vực,Kênh nộp,Ngày tiếp nhận,Ngày hẹn trả,Ngày có kết quả,"
          "Trạng thái,Toàn trình,Số hóa,Kết quả điện tử,Tái sử dụng dữ liệu\n")


def export(*rows: tuple[str, str]) -> bytes:
    """A small export: (dossier id, commune code) rows received in October 2025."""
    return (HEADER + "".join(f"{i},{c},1.001193,Đăng ký khai sinh,Hộ tịch,Trực tuyến,02/10/2025,10/10/2025,"
                             "09/10/2025,Đã trả kết quả,Có,Có,Có,Có\n" for i, c in rows)).encode()


@pytest.fixture
def env(tmp_path, fixtures):
    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    accounts.create_user(con, "admin", "matkhau-quantri", "admin", None, "Quản trị viên")
    accounts.create_user(con, "qtnghean", "matkhau-quantri", "admin", "40", "Quản trị Nghệ An")
    accounts.create_user(con, "canbo1", "matkhau-canbo", "officer", "16969", "Cán bộ 1")
    accounts.create_user(con, "canbo2", "matkhau-canbo", "officer", "17611", "Cán bộ 2")
    accounts.create_user(con, "lanhdao", "matkhau-lanhdao", "leader", "40", "Lãnh đạo tỉnh")
    con.close()
    settings = ApiSettings(db=path, operator_secret=lambda: OPERATOR, max_body_bytes=200_000, today=lambda: TODAY,
                           backup_dir=tmp_path / "backups", sources_dir=tmp_path / "sources")
    client = TestClient(create_api(settings), base_url="http://testserver", raise_server_exceptions=True)
    cur = store.shared(path).cursor()
    admin = accounts.account(cur, "admin")
    tokens = {name: api_tokens.issue(cur, admin, name, f"thử {name}", 30)
              for name in ("admin", "qtnghean", "canbo1", "canbo2", "lanhdao")}
    return {"path": path, "client": client, "cur": cur, "tokens": tokens, "admin": admin}


def auth(env, name: str) -> dict:
    return {"Authorization": f"Bearer {env['tokens'][name]}"}


def count(env, sql: str) -> int:
    return env["cur"].execute(sql).fetchall()[0][0]


def test_health_needs_no_token_and_everything_else_does(env):
    client = env["client"]
    assert client.get("/v1/health").json()["status"] == "ok"
    for method, url in (("GET", "/v1/kpi?period=2025-09"), ("POST", "/v1/uploads"), ("GET", "/v1/uploads"),
                        ("POST", "/v1/uploads/1/undo"), ("POST", "/v1/backups"), ("GET", "/v1/sources")):
        for headers in ({}, {"Authorization": "Bearer kpi_AAAAAAAAAAAA_" + "x" * 43}, {"Authorization": "Basic abc"},
                        {"Authorization": "Bearer " + env["tokens"]["canbo1"][:-1] + "y"}):
            answer = client.request(method, url, headers=headers)
            assert answer.status_code == 401, (method, url, headers)
            assert "mã truy cập" in answer.json()["detail"].lower() and answer.headers["WWW-Authenticate"] == "Bearer"


def test_kpi_is_what_the_cli_prints(env, capsys):
    for form in ("json", "csv", "table"):
        for extra in ([], ["--by", "commune"], ["--unit", "16969"]):
            store.close_shared()  # the CLI opens the file read-only, as another process would
            assert kpi_main(["--db", str(env["path"]), "--period", "2025-Q3", "--today", TODAY.isoformat(),
                             "--format", form, *extra]) == 0
            printed = capsys.readouterr().out
            params = {"period": "2025-Q3", "format": form, "by": "commune" if "--by" in extra else None,
                      "unit": "16969" if "--unit" in extra else None}
            answer = env["client"].get("/v1/kpi", params={k: v for k, v in params.items() if v},
                                       headers={"Authorization": f"Bearer {OPERATOR}"})
            assert answer.status_code == 200 and answer.text == printed, (form, extra)
    assert printed.splitlines()[1].split()[0] == "16969"  # the last one: the table of one commune


def test_a_token_sees_only_its_accounts_units(env):
    client = env["client"]
    mine = client.get("/v1/kpi", params={"period": "2025-09", "unit": "16969"}, headers=auth(env, "canbo1"))
    assert mine.status_code == 200 and {r["unit_code"] for r in mine.json()} == {"16969"}
    other = client.get("/v1/kpi", params={"period": "2025-09", "unit": "17611"}, headers=auth(env, "canbo1"))
    assert other.status_code == 403 and "17611" in other.json()["detail"]
    province = client.get("/v1/kpi", params={"period": "2025-09", "unit": "40", "by": "commune"},
                          headers=auth(env, "canbo1"))
    assert province.status_code == 403
    leader = client.get("/v1/kpi", params={"period": "2025-09", "unit": "40", "by": "commune"},
                        headers=auth(env, "lanhdao"))
    assert leader.status_code == 200 and {"16969", "17611"} < {r["unit_code"] for r in leader.json()}
    bad = client.get("/v1/kpi", params={"period": "tháng 9"}, headers=auth(env, "lanhdao"))
    assert bad.status_code == 400 and "tháng 9" in bad.json()["detail"]
    missing = client.get("/v1/kpi", headers=auth(env, "lanhdao"))
    assert missing.status_code == 400 and missing.json()["detail"].startswith("Tham số không hợp lệ hoặc thiếu: period")
    assert client.get("/v1/kpi", params={"period": "2025-09", "unit": "99999"},
                      headers=auth(env, "admin")).status_code == 404


def test_token_lifecycle_shown_once_hashed_expires_revoked_and_audited(env, monkeypatch):
    cur, client = env["cur"], env["client"]
    token = env["tokens"]["canbo1"]
    token_id = api_tokens.TOKEN.fullmatch(token).group(1)
    stored = cur.execute("SELECT * FROM api_tokens WHERE token_id = ?", [token_id]).fetchall()
    assert stored and token not in json.dumps(stored, default=str) and token.split("_")[2] not in str(stored)
    assert client.get("/v1/uploads", headers=auth(env, "canbo1")).status_code == 200
    used = cur.execute("SELECT username, detail FROM audit_log WHERE action = 'api'").fetchall()
    assert ("canbo1", f"{token_id} GET /v1/uploads") in used
    # Expiry: 30 days after issue the token is refused.
    monkeypatch.setattr(api_tokens, "clock", lambda: datetime.now() + timedelta(days=31))
    assert client.get("/v1/uploads", headers=auth(env, "canbo1")).status_code == 401
    monkeypatch.setattr(api_tokens, "clock", datetime.now)
    # Revoked: refused at once; the audit log says who revoked it.
    api_tokens.revoke(cur, env["admin"], token_id)
    assert client.get("/v1/uploads", headers=auth(env, "canbo1")).status_code == 401
    assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'revoke_token' AND username = 'admin'"
                       ).fetchall()[0][0] == 1
    # A disabled account's tokens stop working too.
    cur.execute("UPDATE users SET active = false WHERE username = 'canbo2'")
    assert client.get("/v1/uploads", headers=auth(env, "canbo2")).status_code == 401


def test_only_admins_issue_tokens_and_only_in_their_scope(env):
    cur = env["cur"]
    officer = accounts.account(cur, "canbo1")
    with pytest.raises(accounts.AccessDenied):
        api_tokens.issue(cur, officer, "canbo1", "của tôi")
    province_admin = accounts.account(cur, "qtnghean")
    accounts.create_user(cur, "canbohanoi", "matkhau-canbo", "officer", "00004", "Cán bộ Hà Nội")
    with pytest.raises(accounts.AccessDenied):
        api_tokens.issue(cur, province_admin, "canbohanoi", "ngoài phạm vi")
    assert api_tokens.issue(cur, province_admin, "canbo1", "trong phạm vi").startswith("kpi_")
    with pytest.raises(api_tokens.TokenError):
        api_tokens.issue(cur, env["admin"], "canbo1", "quá hạn", days=400)
    assert {t["username"] for t in api_tokens.tokens_in_scope(cur, province_admin)} <= {
        "qtnghean", "canbo1", "canbo2", "lanhdao"}


def test_upload_history_and_undo_under_the_scope_rule(env):
    client, cur = env["client"], env["cur"]
    before = count(env, "SELECT count(*) FROM dossiers")
    files = {"files": ("xa1.csv", io.BytesIO(export(("A1", "16969"), ("A2", "16969"))), "text/csv")}
    answer = client.post("/v1/uploads", files=files, headers=auth(env, "canbo1"))
    assert answer.status_code == 200, answer.text
    [summary] = answer.json()
    assert (summary["file"], summary["loaded"], summary["rejected"]) == ("xa1.csv", 2, [])
    assert count(env, "SELECT count(*) FROM dossiers") == before + 2
    assert cur.execute("SELECT loaded_by FROM batches WHERE batch_id = ?", [summary["batch_id"]]).fetchall() == [
        ("canbo1",)]
    # A crafted upload for another commune is refused whole and writes nothing.
    crafted = {"files": ("xa2.csv", io.BytesIO(export(("B1", "17611"))), "text/csv")}
    refused = client.post("/v1/uploads", files=crafted, headers=auth(env, "canbo1"))
    assert refused.status_code == 403 and "17611" in refused.json()["detail"]
    assert count(env, "SELECT count(*) FROM dossiers") == before + 2
    # A leader may read but not write.
    assert client.post("/v1/uploads", files={"files": ("x.csv", io.BytesIO(export(("C1", "16969"))), "text/csv")},
                       headers=auth(env, "lanhdao")).status_code == 403
    # History: each officer sees their own commune's uploads only.
    assert summary["batch_id"] in [r["batch_id"] for r in client.get("/v1/uploads", headers=auth(env, "canbo1")).json()]
    assert summary["batch_id"] not in [r["batch_id"] for r in
                                       client.get("/v1/uploads", headers=auth(env, "canbo2")).json()]
    assert client.get("/v1/uploads", params={"unit": "16969"}, headers=auth(env, "canbo2")).status_code == 403
    # Undo: not by the other commune's officer; by the uploader once; a second time is a conflict.
    url = f"/v1/uploads/{summary['batch_id']}/undo"
    assert client.post(url, headers=auth(env, "canbo2")).status_code == 403
    done = client.post(url, headers=auth(env, "canbo1"))
    assert done.status_code == 200 and done.json()["removed"] == 2
    assert count(env, "SELECT count(*) FROM dossiers") == before
    assert client.post(url, headers=auth(env, "canbo1")).status_code == 409
    assert client.post("/v1/uploads/9999/undo", headers=auth(env, "admin")).status_code == 404


def test_a_rejected_file_is_a_summary_with_its_reason_and_bad_kinds_are_refused(env):
    client = env["client"]
    answer = client.post("/v1/uploads", headers=auth(env, "canbo1"),
                         files={"files": ("rong.csv", io.BytesIO(b""), "text/csv")})
    assert answer.status_code == 200 and "rong.csv" in answer.json()[0]["error"]
    bad = client.post("/v1/uploads", headers=auth(env, "canbo1"), data={"kind": "virus"},
                      files={"files": ("x.csv", io.BytesIO(export(("D1", "16969"))), "text/csv")})
    assert bad.status_code == 400 and "virus" in bad.json()["detail"]


def test_request_size_is_capped_before_the_body_is_read(env):
    client = env["client"]
    big = export(*((f"Z{i}", "16969") for i in range(3000)))
    assert len(big) > 200_000
    answer = client.post("/v1/uploads", headers=auth(env, "canbo1"), files={"files": ("big.csv", io.BytesIO(big))})
    assert answer.status_code == 413 and "quá lớn" in answer.json()["detail"]

    body = (b'--x\r\nContent-Disposition: form-data; name="files"; filename="big.csv"\r\n\r\n' + big
            + b"\r\n--x--\r\n")

    def chunks():  # no Content-Length: counted as it streams
        for start in range(0, len(body), 10_000):
            yield body[start:start + 10_000]

    streamed = client.post("/v1/uploads", headers=auth(env, "canbo1") | {"Content-Type": "multipart/form-data; boundary=x"},
                           content=chunks())
    assert streamed.status_code == 413
    assert count(env, "SELECT count(*) FROM dossiers WHERE dossier_id LIKE 'Z%'") == 0


def test_backups_are_for_national_admins_and_the_operator(env, tmp_path):
    client = env["client"]
    for name in ("canbo1", "lanhdao", "qtnghean"):
        assert client.post("/v1/backups", headers=auth(env, name)).status_code == 403, name
    made = client.post("/v1/backups", headers=auth(env, "admin"))
    assert made.status_code == 200 and made.json()["tables"]["dossiers"] == count(env, "SELECT count(*) FROM dossiers")
    assert (tmp_path / "backups").is_dir()
    assert client.post("/v1/backups", data={"out": str(tmp_path / "x")}, headers=auth(env, "admin")).status_code == 403
    operator = client.post("/v1/backups", data={"out": str(tmp_path / "chosen")},
                           headers={"Authorization": f"Bearer {OPERATOR}"})
    assert operator.status_code == 200 and (tmp_path / "chosen" / "manifest.json").exists()


def test_openapi_document_is_served(env):
    client = env["client"]
    document = client.get("/openapi.json").json()
    assert {"/v1/kpi", "/v1/uploads", "/v1/uploads/{batch_id}/undo", "/v1/health", "/v1/backups"} <= set(
        document["paths"])
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("name, kept", [("../../etc/passwd", "passwd"), ("C:\\x\\bao cao.csv", "bao cao.csv"),
                                        ("\x1b[2Jxa.csv", "[2Jxa.csv"), ("", "tep_tai_len"), (".hidden", "hidden")])
def test_uploaded_file_names_keep_only_their_last_printable_part(name, kept):
    assert safe_name(name) == kept
