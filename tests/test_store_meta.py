"""The store knows nothing of upload caps, yet opening a store applies the caps its admin set
(`meta` keys `limits.*`): store.db keeps the opened store's meta, loaders.limits reads it."""

from loaders import limits
from store import db


def test_opening_a_store_applies_its_caps_and_the_next_store_its_own(tmp_path):
    capped = db.connect(tmp_path / "capped.duckdb")
    limits.set_limit(capped, "max_rows", 500_000)
    capped.close()
    plain = db.connect(tmp_path / "plain.duckdb")
    plain.close()
    assert limits.active().max_rows == limits.from_env().max_rows     # the store opened last has none

    again = db.connect(tmp_path / "capped.duckdb", read_only=True)
    try:
        assert limits.active().max_rows == 500_000
        assert db.opened_meta()["limits.max_rows"] == "500000"
    finally:
        again.close()


def test_a_cap_set_applies_at_once_in_this_process(tmp_path):
    con = db.connect(tmp_path / "kpi.duckdb")
    try:
        assert limits.set_limit(con, "max_columns", 50).max_columns == 50
        assert limits.active().max_columns == 50
    finally:
        con.close()
