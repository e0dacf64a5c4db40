"""Status against targets and the choice of the target in force."""

from __future__ import annotations

from datetime import date

from kpi.targets import Target, pick, status

FULL = Target("full_online_rate", 0.8, ">=", date(2025, 12, 31), None, None, "national_02", None)
ARCHIVE = [Target("archive_digitisation_rate", 0.3, ">=", date(2025, 12, 31), None, None, "n", None),
           Target("archive_digitisation_rate", 1.0, ">=", date(2026, 12, 31), None, None, "n", None)]


def test_status_before_at_and_after_the_deadline():
    sep, dec, jan = (date(2025, 9, 1), date(2025, 9, 30)), (date(2025, 12, 1), date(2025, 12, 31)), \
        (date(2026, 1, 1), date(2026, 1, 31))
    assert status(0.85, FULL, *sep, True) == "met"
    assert status(0.75, FULL, *sep, True) == "on_track"      # 5 points short, deadline ahead
    assert status(0.60, FULL, *sep, True) == "at_risk"       # 20 points short
    assert status(0.75, FULL, *dec, True) == "missed"        # the period ends on the deadline
    assert status(0.79, FULL, *jan, True) == "missed"
    assert status(None, FULL, *sep, True) == "no_data"
    assert status(0.5, None, *sep, True) == "no_target"


def test_target_in_force_moves_to_the_next_deadline():
    assert pick(ARCHIVE, "archive_digitisation_rate", "16969", "40", True, date(2025, 12, 31)).value == 0.3
    assert pick(ARCHIVE, "archive_digitisation_rate", "16969", "40", True, date(2026, 3, 31)).value == 1.0
    assert pick(ARCHIVE, "archive_digitisation_rate", "16969", "40", True, date(2027, 3, 31)).value == 1.0


def test_own_target_then_province_then_national():
    own = Target("full_online_rate", 0.9, ">=", date(2025, 12, 31), None, "16969", "nghia_tho", None)
    province = Target("full_online_rate", 0.85, ">=", date(2025, 12, 31), None, "40", "nghe_an", None)
    targets = [FULL, own, province]
    assert pick(targets, "full_online_rate", "16969", "40", True, date(2025, 9, 30)).value == 0.9
    assert pick(targets, "full_online_rate", "17611", "40", True, date(2025, 9, 30)).value == 0.85
    assert pick(targets, "full_online_rate", "21523", "51", True, date(2025, 9, 30)).value == 0.8
    # counts are not inherited from the province
    count = Target("online_services", 982, ">=", None, None, "25", "phu_tho", None)
    assert pick([count], "online_services", "08000", "25", False, date(2025, 9, 30)) is None
