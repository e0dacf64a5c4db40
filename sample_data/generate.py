#!/usr/bin/env python3
"""Deterministic generator of realistic demo data for the KPI dashboard.

    python sample_data/generate.py OUT_DIR [--scale 1.0] [--today 2026-11-24] [--write-reference]

or, from Python, ``generate(out_dir, scale=1.0, today=date(2026, 11, 24)) -> dict``.

Writes, under OUT_DIR, the input files docs/domain.md describes (section 2, "Input
formats"): dossier exports in three real-world forms plus a re-export, service catalogues,
archive/document statistics and the TT 01/2020/TT-VPCP aggregate templates (06a, 07a).
Everything comes from numpy Generators with fixed seeds, so the same arguments give the
same bytes. Per-unit traits (size, digital maturity) use a generator seeded by the unit
code, so they do not change with --scale. See sample_data/README.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
UNITS_JSON = ROOT / "reference" / "vn_units" / "units_2025.json"
PROCEDURES_CSV = ROOT / "reference" / "procedures.csv"
SEED = 20250701
START = date(2025, 7, 1)  # the new two-level local government started on 01/7/2025

NGHE_AN = "40"
EXTRA_UNITS = ("21523", "25363")  # Xã Ba Tô (Quảng Ngãi), Phường Đồng Phú (Đồng Nai)
NGHIA_THO, BA_TO, DONG_PHU = "16969", "21523", "25363"

# Public holidays (Vietnam) that fall in or just after the data window.
HOLIDAYS = [
    "2025-09-01", "2025-09-02", "2026-01-01", "2026-02-16", "2026-02-17", "2026-02-18",
    "2026-02-19", "2026-02-20", "2026-04-27", "2026-04-30", "2026-05-01", "2026-09-01",
    "2026-09-02", "2027-01-01",
]
CAL = np.busdaycalendar(weekmask="1111100", holidays=HOLIDAYS)

# ---------------------------------------------------------------------------------------
# Procedures (commune-level TTHC). code, name, field, level (TT = toàn trình, MP = một
# phần), business-related, processing days (working days), popularity weight, has a fee.
# Codes follow the national database's d.dddddd pattern; some are approximate.
# ---------------------------------------------------------------------------------------
TT, MP = "toàn trình", "một phần"
HT, CT, DD = "Hộ tịch", "Chứng thực", "Đất đai"
BTXH, NCC, HKD = "Bảo trợ xã hội", "Người có công", "Thành lập và hoạt động của hộ kinh doanh"
GD, YT, NN, VH = "Giáo dục", "Y tế", "Nông nghiệp", "Văn hóa"

PROCEDURES: list[tuple[str, str, str, str, bool, int, float, bool]] = [
    # Hộ tịch
    ("1.001193", "Đăng ký khai sinh", HT, TT, False, 1, 30, False),
    ("1.000894", "Đăng ký kết hôn", HT, MP, False, 1, 7, False),
    ("1.000656", "Đăng ký khai tử", HT, TT, False, 1, 9, False),
    ("1.004884", "Đăng ký lại khai sinh", HT, MP, False, 5, 1.5, True),
    ("1.004772", "Đăng ký khai sinh cho người đã có hồ sơ, giấy tờ cá nhân", HT, MP, False, 3, 1.0, True),
    ("1.000593", "Đăng ký lại kết hôn", HT, MP, False, 5, 0.3, True),
    ("1.005461", "Đăng ký lại khai tử", HT, MP, False, 5, 0.3, True),
    ("1.001022", "Đăng ký nhận cha, mẹ, con", HT, MP, False, 3, 0.8, True),
    ("1.000689", "Đăng ký khai sinh kết hợp nhận cha, mẹ, con", HT, MP, False, 3, 1.0, False),
    ("1.004837", "Đăng ký giám hộ", HT, MP, False, 3, 0.2, False),
    ("1.004845", "Đăng ký chấm dứt giám hộ", HT, MP, False, 2, 0.1, False),
    ("1.004859", "Thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc", HT, TT, False, 3, 3.5, True),
    ("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", HT, TT, False, 3, 12, True),
    ("2.000635", "Cấp bản sao Trích lục hộ tịch", HT, TT, False, 1, 9, True),
    ("1.012729", "Liên thông thủ tục hành chính về đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế "
                 "cho trẻ em dưới 6 tuổi", HT, TT, False, 3, 8, False),
    ("1.012730", "Liên thông thủ tục hành chính về đăng ký khai tử, xóa đăng ký thường trú, hưởng chế độ tử tuất, "
                 "hỗ trợ chi phí mai táng, hưởng mai táng phí", HT, TT, False, 3, 3, False),
    ("1.003005", "Đăng ký việc nuôi con nuôi trong nước", "Nuôi con nuôi", MP, False, 15, 0.05, True),
    ("1.003976", "Đăng ký lại việc nuôi con nuôi trong nước", "Nuôi con nuôi", MP, False, 5, 0.01, True),
    # Chứng thực
    ("2.000908", "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của Việt Nam "
                 "cấp hoặc chứng nhận", CT, TT, False, 1, 38, True),
    ("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản (áp dụng cho cả trường hợp chứng thực điểm chỉ và "
                 "trường hợp người yêu cầu chứng thực không thể ký, không thể điểm chỉ được)", CT, MP, False, 1, 6, True),
    ("2.000843", "Chứng thực chữ ký người dịch mà người dịch không phải là cộng tác viên dịch thuật", CT, MP, False, 1,
     0.3, True),
    ("2.001035", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất và nhà ở", CT, MP,
     False, 2, 5, True),
    ("2.001019", "Chứng thực di chúc", CT, MP, False, 2, 0.4, True),
    ("2.001016", "Chứng thực văn bản từ chối nhận di sản", CT, MP, False, 2, 0.3, True),
    ("2.001009", "Chứng thực văn bản thỏa thuận phân chia di sản mà di sản là động sản, quyền sử dụng đất, nhà ở", CT,
     MP, False, 2, 0.8, True),
    ("2.001406", "Chứng thực văn bản khai nhận di sản mà di sản là động sản, quyền sử dụng đất, nhà ở", CT, MP, False,
     2, 0.5, True),
    ("2.000927", "Chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch", CT, MP, False, 2, 0.3, True),
    ("2.000942", "Sửa lỗi sai sót trong hợp đồng, giao dịch", CT, MP, False, 1, 0.1, True),
    ("2.000913", "Cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được chứng thực", CT, TT, False, 1, 0.5,
     True),
    # Đất đai
    ("1.012772", "Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài "
                 "sản gắn liền với đất lần đầu", DD, MP, False, 15, 2.5, True),
    ("1.012785", "Chuyển mục đích sử dụng đất phải được cơ quan nhà nước có thẩm quyền cho phép", DD, MP, False, 15,
     1.2, True),
    ("1.012795", "Giao đất, cho thuê đất không đấu giá quyền sử dụng đất, không đấu thầu lựa chọn nhà đầu tư thực hiện "
                 "dự án có sử dụng đất", DD, MP, True, 15, 0.1, True),
    ("1.012800", "Hòa giải tranh chấp đất đai", DD, MP, False, 15, 0.5, False),
    ("1.012802", "Giải quyết tranh chấp đất đai thuộc thẩm quyền của Chủ tịch Ủy ban nhân dân cấp xã", DD, MP, False,
     15, 0.15, False),
    ("1.012810", "Xác nhận tiếp tục sử dụng đất nông nghiệp của hộ gia đình, cá nhân khi hết hạn sử dụng đất", DD, MP,
     False, 10, 0.3, False),
    ("1.012815", "Đính chính Giấy chứng nhận đã cấp", DD, MP, False, 10, 0.3, False),
    ("1.012790", "Gia hạn sử dụng đất", DD, MP, False, 10, 0.15, True),
    # Bảo trợ xã hội, trẻ em
    ("1.001776", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng, hỗ trợ kinh phí chăm sóc, nuôi dưỡng "
                 "hàng tháng", BTXH, MP, False, 15, 3, False),
    ("1.001758", "Chi trả trợ cấp xã hội hàng tháng, hỗ trợ kinh phí chăm sóc, nuôi dưỡng hàng tháng khi đối tượng "
                 "thay đổi nơi cư trú", BTXH, MP, False, 10, 0.4, False),
    ("1.001731", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", BTXH, TT, False, 3, 1.5, False),
    ("1.001699", "Xác định, xác định lại mức độ khuyết tật và cấp Giấy xác nhận khuyết tật", BTXH, MP, False, 15, 0.9,
     False),
    ("1.001653", "Đổi, cấp lại Giấy xác nhận khuyết tật", BTXH, TT, False, 5, 0.4, False),
    ("2.000751", "Trợ giúp xã hội khẩn cấp về hỗ trợ làm nhà ở, sửa chữa nhà ở", BTXH, MP, False, 10, 0.2, False),
    ("1.000489", "Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm", BTXH, MP, False, 10, 0.6, False),
    ("1.000484", "Công nhận hộ thoát nghèo, hộ thoát cận nghèo trong năm", BTXH, MP, False, 10, 0.3, False),
    ("1.000478", "Công nhận hộ làm nông nghiệp, lâm nghiệp, ngư nghiệp và diêm nghiệp có mức sống trung bình", BTXH,
     MP, False, 10, 0.3, False),
    ("1.004944", "Áp dụng các biện pháp can thiệp khẩn cấp hoặc tạm thời cách ly trẻ em khỏi môi trường hoặc người gây "
                 "tổn hại cho trẻ em", "Trẻ em", MP, False, 1, 0.03, False),
    ("1.004946", "Đăng ký nhận chăm sóc thay thế cho trẻ em đối với cá nhân, người đại diện gia đình nhận chăm sóc "
                 "thay thế không phải là người thân thích của trẻ em", "Trẻ em", MP, False, 15, 0.03, False),
    # Người có công
    ("1.010811", "Hưởng trợ cấp khi người có công đang hưởng trợ cấp ưu đãi từ trần", NCC, MP, False, 12, 0.4, False),
    ("1.010820", "Cấp giấy giới thiệu đi thăm viếng mộ liệt sĩ và hỗ trợ thăm viếng mộ liệt sĩ", NCC, MP, False, 5, 0.3,
     False),
    ("1.010826", "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", NCC, MP, False, 12, 0.2, False),
    ("1.010803", "Công nhận và giải quyết chế độ ưu đãi đối với thân nhân liệt sĩ", NCC, MP, False, 12, 0.1, False),
    ("1.010829", "Sửa đổi, bổ sung thông tin cá nhân trong hồ sơ người có công", NCC, MP, False, 10, 0.15, False),
    ("1.010832", "Hỗ trợ người có công đi làm phương tiện, thiết bị trợ giúp, dụng cụ chỉnh hình", NCC, MP, False, 10,
     0.1, False),
    ("1.010824", "Cấp giấy xác nhận thân nhân của người có công", NCC, TT, False, 5, 0.3, False),
    # Hộ kinh doanh, tổ hợp tác
    ("1.001612", "Đăng ký thành lập hộ kinh doanh", HKD, TT, True, 3, 2.8, True),
    ("2.000720", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", HKD, TT, True, 3, 1.3, True),
    ("2.000575", "Tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn đã thông báo của hộ kinh doanh", HKD, TT,
     True, 3, 0.5, False),
    ("2.000767", "Chấm dứt hoạt động hộ kinh doanh", HKD, TT, True, 3, 0.4, False),
    ("1.001266", "Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh", HKD, TT, True, 3, 0.2, True),
    ("1.005280", "Đăng ký thành lập tổ hợp tác", "Thành lập và hoạt động của tổ hợp tác", MP, True, 3, 0.03, False),
    # Công Thương
    ("2.000620", "Cấp Giấy phép bán lẻ sản phẩm rượu", "Công Thương", MP, True, 10, 0.15, True),
    ("2.000181", "Cấp Giấy phép bán lẻ sản phẩm thuốc lá", "Công Thương", MP, True, 10, 0.08, True),
    ("2.000633", "Cấp Giấy phép sản xuất rượu thủ công nhằm mục đích kinh doanh", "Công Thương", MP, True, 10, 0.04,
     True),
    # Xây dựng
    ("1.009994", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "Xây dựng", MP, False, 15, 1.5, True),
    ("1.009995", "Cấp giấy phép xây dựng sửa chữa, cải tạo đối với nhà ở riêng lẻ", "Xây dựng", MP, False, 15, 0.3,
     True),
    ("1.009997", "Điều chỉnh giấy phép xây dựng đối với nhà ở riêng lẻ", "Xây dựng", MP, False, 10, 0.1, True),
    # Giáo dục
    ("1.005077", "Chuyển trường đối với học sinh tiểu học", GD, TT, False, 3, 0.7, False),
    ("1.005090", "Chuyển trường đối với học sinh trung học cơ sở", GD, TT, False, 3, 0.5, False),
    ("1.004494", "Thành lập nhóm trẻ, lớp mẫu giáo độc lập", GD, MP, True, 15, 0.03, False),
    ("1.004492", "Cho phép nhóm trẻ, lớp mẫu giáo độc lập hoạt động giáo dục trở lại", GD, MP, True, 10, 0.01, False),
    ("1.005144", "Hỗ trợ ăn trưa đối với trẻ em mẫu giáo", GD, MP, False, 10, 0.4, False),
    ("1.005092", "Xét cấp hỗ trợ chi phí học tập, miễn, giảm học phí đối với học sinh", GD, MP, False, 10, 0.4, False),
    # Y tế
    ("2.001233", "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở sản xuất, kinh doanh thực "
                 "phẩm", YT, MP, True, 15, 0.15, True),
    ("1.004471", "Xét hưởng chính sách hỗ trợ cho đối tượng sinh con đúng chính sách dân số", YT, TT, False, 10, 0.25,
     False),
    ("1.012115", "Cấp Giấy xác nhận kiến thức về an toàn thực phẩm", YT, TT, True, 5, 0.08, True),
    # Nông nghiệp
    ("1.008004", "Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai, dịch bệnh", NN, MP, False, 10, 0.3, False),
    ("1.003596", "Phê duyệt kế hoạch khuyến nông địa phương", NN, MP, False, 10, 0.02, False),
    ("1.000045", "Xác nhận bảng kê lâm sản", NN, MP, True, 3, 0.1, False),
    ("1.003605", "Đăng ký kê khai số lượng chăn nuôi tập trung và nuôi trồng thủy sản ban đầu", NN, MP, False, 5, 0.05,
     False),
    # Văn hóa
    ("1.000954", "Xét tặng danh hiệu Gia đình văn hóa hằng năm", VH, MP, False, 5, 0.1, False),
    ("1.000933", "Xét tặng Giấy khen Gia đình văn hóa", VH, MP, False, 5, 0.03, False),
    ("1.000919", "Công nhận lần đầu Thôn, Tổ dân phố văn hóa", VH, MP, False, 10, 0.02, False),
    ("1.003645", "Thông báo tổ chức lễ hội cấp xã", VH, TT, False, 5, 0.05, False),
    ("1.003622", "Đăng ký hoạt động thư viện tư nhân có vốn sách ban đầu từ 500 bản đến dưới 1.000 bản", VH, TT, False,
     5, 0.01, False),
    ("1.001029", "Cấp Giấy phép đủ điều kiện kinh doanh dịch vụ karaoke", VH, MP, True, 5, 0.05, True),
    # Thi đua, tôn giáo, khiếu nại, hòa giải, môi trường, dân tộc
    ("1.000775", "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã về thực hiện nhiệm vụ chính trị",
     "Thi đua, khen thưởng", TT, False, 5, 0.15, False),
    ("1.000748", "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã cho gia đình", "Thi đua, khen thưởng", TT, False, 5,
     0.08, False),
    ("1.001167", "Đăng ký hoạt động tín ngưỡng", "Tín ngưỡng, tôn giáo", TT, False, 10, 0.03, False),
    ("1.001156", "Đăng ký bổ sung hoạt động tín ngưỡng", "Tín ngưỡng, tôn giáo", TT, False, 10, 0.02, False),
    ("1.001090", "Thông báo danh mục hoạt động tôn giáo đối với tổ chức có địa bàn hoạt động tôn giáo ở một xã",
     "Tín ngưỡng, tôn giáo", TT, False, 10, 0.02, False),
    ("1.001085", "Đăng ký sinh hoạt tôn giáo tập trung", "Tín ngưỡng, tôn giáo", MP, False, 10, 0.02, False),
    ("2.002154", "Giải quyết khiếu nại lần đầu tại cấp xã", "Giải quyết khiếu nại, tố cáo", MP, False, 15, 0.1, False),
    ("2.002155", "Giải quyết tố cáo tại cấp xã", "Giải quyết khiếu nại, tố cáo", MP, False, 15, 0.05, False),
    ("2.002080", "Công nhận hòa giải viên", "Hòa giải ở cơ sở", MP, False, 5, 0.02, False),
    ("2.002081", "Thôi làm hòa giải viên", "Hòa giải ở cơ sở", MP, False, 5, 0.01, False),
    ("2.002083", "Thanh toán thù lao cho hòa giải viên", "Hòa giải ở cơ sở", MP, False, 5, 0.05, False),
    ("1.010728", "Đăng ký môi trường", "Môi trường", MP, True, 15, 0.05, False),
    ("2.002264", "Công nhận người có uy tín trong đồng bào dân tộc thiểu số", "Dân tộc", MP, False, 10, 0.01, False),
]

# Further services that appear only in catalogues (families with case or sector variants),
# as (field, business-related, share toàn trình, names).
_LAND = "Đăng ký biến động đất đai, tài sản gắn liền với đất trong trường hợp "
_SCHOOLS = ("trường mầm non", "trường tiểu học", "trường trung học cơ sở", "trường phổ thông dân tộc bán trú",
            "trường mầm non tư thục", "trường tiểu học tư thục")
_NCC_GROUPS = (
    "người hoạt động cách mạng trước ngày 01 tháng 01 năm 1945",
    "người hoạt động cách mạng từ ngày 01 tháng 01 năm 1945 đến ngày khởi nghĩa tháng Tám năm 1945",
    "Anh hùng Lực lượng vũ trang nhân dân, Anh hùng Lao động trong thời kỳ kháng chiến",
    "thương binh, người hưởng chính sách như thương binh", "bệnh binh",
    "người hoạt động kháng chiến bị nhiễm chất độc hóa học",
    "người hoạt động cách mạng, hoạt động kháng chiến bị địch bắt tù, đày",
    "người hoạt động kháng chiến giải phóng dân tộc, bảo vệ Tổ quốc và làm nghĩa vụ quốc tế",
    "người có công giúp đỡ cách mạng",
    "con đẻ của người hoạt động kháng chiến bị nhiễm chất độc hóa học", "Bà mẹ Việt Nam anh hùng",
)
_LICENCES = (  # (field, business, stem, actions)
    ("Công Thương", True, "Giấy phép bán lẻ sản phẩm rượu", ("Cấp lại", "Cấp sửa đổi, bổ sung")),
    ("Công Thương", True, "Giấy phép bán lẻ sản phẩm thuốc lá", ("Cấp lại", "Cấp sửa đổi, bổ sung")),
    ("Công Thương", True, "Giấy phép sản xuất rượu thủ công nhằm mục đích kinh doanh", ("Cấp lại", "Cấp sửa đổi, bổ sung")),
    ("Công Thương", True, "Giấy phép bán rượu tiêu dùng tại chỗ", ("Cấp", "Cấp lại", "Cấp sửa đổi, bổ sung")),
    ("Công Thương", True, "Giấy chứng nhận đủ điều kiện cửa hàng bán lẻ LPG chai", ("Cấp", "Cấp lại", "Cấp điều chỉnh")),
    ("Công Thương", True, "Giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu", ("Cấp", "Cấp lại", "Cấp điều chỉnh")),
    (VH, True, "Giấy phép đủ điều kiện kinh doanh dịch vụ karaoke", ("Điều chỉnh",)),
    (VH, True, "Giấy phép đủ điều kiện kinh doanh dịch vụ vũ trường", ("Cấp", "Điều chỉnh")),
    (YT, True, "Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở sản xuất, kinh doanh thực phẩm",
     ("Cấp lại",)),
    ("Xây dựng", False, "giấy phép xây dựng đối với nhà ở riêng lẻ", ("Gia hạn", "Cấp lại")),
    ("Xây dựng", False, "giấy phép xây dựng có thời hạn đối với nhà ở riêng lẻ", ("Cấp",)),
    ("Xây dựng", False, "giấy phép di dời công trình", ("Cấp",)),
    ("Thủy lợi", False, "giấy phép cho các hoạt động trong phạm vi bảo vệ công trình thủy lợi",
     ("Cấp", "Cấp gia hạn, điều chỉnh nội dung")),
)
CATALOGUE_EXTRA: list[tuple[str, bool, float, list[str]]] = [
    (HT, False, 0.55, [
        "Đăng ký khai sinh có yếu tố nước ngoài", "Đăng ký kết hôn có yếu tố nước ngoài",
        "Đăng ký khai tử có yếu tố nước ngoài", "Đăng ký nhận cha, mẹ, con có yếu tố nước ngoài",
        "Đăng ký khai sinh kết hợp nhận cha, mẹ, con có yếu tố nước ngoài", "Đăng ký giám hộ có yếu tố nước ngoài",
        "Đăng ký chấm dứt giám hộ có yếu tố nước ngoài", "Đăng ký lại khai sinh có yếu tố nước ngoài",
        "Đăng ký lại kết hôn có yếu tố nước ngoài", "Đăng ký lại khai tử có yếu tố nước ngoài",
        "Thay đổi, cải chính, bổ sung thông tin hộ tịch có yếu tố nước ngoài",
        "Ghi vào Sổ hộ tịch việc kết hôn của công dân Việt Nam đã được giải quyết tại cơ quan có thẩm quyền của nước ngoài",
        "Ghi vào Sổ hộ tịch việc ly hôn, hủy việc kết hôn của công dân Việt Nam đã được giải quyết tại cơ quan có thẩm "
        "quyền của nước ngoài",
        "Ghi vào Sổ hộ tịch việc hộ tịch khác của công dân Việt Nam đã được giải quyết tại cơ quan có thẩm quyền của "
        "nước ngoài",
        "Đăng ký khai sinh lưu động", "Đăng ký kết hôn lưu động", "Đăng ký khai tử lưu động",
        "Đăng ký khai sinh cho trẻ em bị bỏ rơi", "Đăng ký khai sinh cho trẻ em chưa xác định được cha, mẹ",
        "Đăng ký khai sinh cho trẻ em sinh ra do mang thai hộ",
        "Cấp Giấy xác nhận tình trạng hôn nhân cho công dân Việt Nam cư trú ở nước ngoài",
        "Cấp bản sao Trích lục khai sinh", "Cấp bản sao Trích lục kết hôn", "Cấp bản sao Trích lục khai tử",
        "Cấp bản sao Trích lục thay đổi, cải chính hộ tịch",
    ]),
    (CT, False, 0.35, [
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của nước ngoài cấp hoặc "
        "chứng nhận", "Chứng thực bản sao điện tử từ bản chính",
        "Chứng thực chữ ký người dịch mà người dịch là cộng tác viên dịch thuật",
        "Chứng thực văn bản ủy quyền", "Chứng thực chữ ký trong giấy ủy quyền",
    ] + [f"Chứng thực hợp đồng {t}" for t in (
        "chuyển nhượng quyền sử dụng đất", "tặng cho quyền sử dụng đất", "thế chấp quyền sử dụng đất",
        "góp vốn bằng quyền sử dụng đất", "cho thuê, cho thuê lại quyền sử dụng đất",
        "chuyển đổi quyền sử dụng đất nông nghiệp", "mua bán nhà ở", "tặng cho nhà ở", "đổi nhà ở",
        "cho thuê nhà ở", "cho mượn, cho ở nhờ nhà ở", "thế chấp nhà ở", "ủy quyền quản lý nhà ở",
        "mua bán tài sản là động sản", "tặng cho tài sản là động sản", "ủy quyền")]),
    (DD, False, 0.1, [_LAND + c for c in (
        "chuyển đổi quyền sử dụng đất nông nghiệp", "chuyển nhượng quyền sử dụng đất", "tặng cho quyền sử dụng đất",
        "thừa kế quyền sử dụng đất", "góp vốn bằng quyền sử dụng đất", "thay đổi tên người sử dụng đất",
        "thay đổi hình dạng, kích thước, diện tích thửa đất", "tách thửa hoặc hợp thửa đất",
        "thế chấp quyền sử dụng đất", "xóa đăng ký thế chấp quyền sử dụng đất",
        "thay đổi về tài sản gắn liền với đất", "xóa đăng ký cho thuê, cho thuê lại đất",
        "chuyển từ hình thức thuê đất sang giao đất", "thay đổi thời hạn sử dụng đất",
        "thay đổi hạn chế quyền sử dụng đất", "chia, tách quyền sử dụng đất theo kết quả hòa giải thành",
        "xác lập quyền đối với thửa đất liền kề", "thay đổi thông tin về số hiệu thửa đất")] + [
        "Cấp đổi Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
        "Cấp lại Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất do bị mất",
        "Thu hồi đất do chấm dứt việc sử dụng đất theo pháp luật, tự nguyện trả lại đất",
        "Cung cấp thông tin, dữ liệu đất đai", "Đăng ký đất đai đối với trường hợp được Nhà nước giao đất để quản lý",
        "Xác nhận hiện trạng sử dụng đất",
    ]),
    (BTXH, False, 0.3, [f"Trợ giúp xã hội khẩn cấp về {x}" for x in (
        "hỗ trợ lương thực", "hỗ trợ chi phí mai táng", "hỗ trợ chi phí điều trị người bị thương nặng",
        "hỗ trợ tạm cư, di dời", "hỗ trợ trẻ em mất người nuôi dưỡng", "hỗ trợ nước uống, nhu yếu phẩm")] + [
        "Tiếp nhận đối tượng bảo trợ xã hội có hoàn cảnh đặc biệt khó khăn vào cơ sở trợ giúp xã hội",
        "Đăng ký hoạt động đối với cơ sở trợ giúp xã hội dưới 10 đối tượng có hoàn cảnh khó khăn",
        "Cấp thẻ bảo hiểm y tế cho đối tượng bảo trợ xã hội", "Hỗ trợ chi phí điều trị cho nạn nhân bạo lực gia đình",
        "Hỗ trợ học văn hóa, học nghề, trợ cấp một lần cho nạn nhân bị mua bán",
        "Tặng quà chúc thọ, mừng thọ người cao tuổi", "Quyết định cai nghiện ma túy tự nguyện tại gia đình, cộng đồng",
        "Đăng ký cai nghiện ma túy tự nguyện", "Hỗ trợ người sau cai nghiện ma túy tái hòa nhập cộng đồng",
    ]),
    (NCC, False, 0.2, [f"Giải quyết chế độ ưu đãi đối với {x}" for x in _NCC_GROUPS] + [
        "Di chuyển hài cốt liệt sĩ đang an táng tại nghĩa trang liệt sĩ đi nơi khác theo nguyện vọng của thân nhân",
        "Di chuyển hài cốt liệt sĩ đang an táng ngoài nghĩa trang liệt sĩ về an táng tại nghĩa trang liệt sĩ",
        "Cấp trích lục hoặc sao hồ sơ người có công với cách mạng",
        "Cấp bổ sung hoặc cấp lại giấy chứng nhận người có công và giấy chứng nhận thân nhân liệt sĩ",
        "Hưởng trợ cấp ưu đãi giáo dục đối với con của người có công", "Di chuyển hồ sơ người có công với cách mạng",
        "Giải quyết trợ cấp một lần đối với người tham gia kháng chiến đã được tặng Bằng khen",
        "Giải quyết chế độ trợ cấp một lần đối với người tham gia chiến tranh bảo vệ Tổ quốc, làm nhiệm vụ quốc tế",
    ]),
    ("Thành lập và hoạt động của hợp tác xã", True, 0.6, [
        "Đăng ký thành lập hợp tác xã", "Đăng ký thay đổi nội dung đăng ký hợp tác xã",
        "Đăng ký thành lập chi nhánh, văn phòng đại diện, địa điểm kinh doanh của hợp tác xã",
        "Thông báo tạm ngừng, tiếp tục hoạt động của hợp tác xã", "Giải thể tự nguyện hợp tác xã",
        "Cấp lại Giấy chứng nhận đăng ký hợp tác xã", "Thông báo thay đổi nội dung đăng ký tổ hợp tác",
        "Thông báo chấm dứt hoạt động tổ hợp tác",
    ]),
    (HKD, True, 0.9, [
        "Cập nhật, bổ sung thông tin đăng ký hộ kinh doanh", "Hiệu đính thông tin đăng ký hộ kinh doanh",
        "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh trong trường hợp chuyển địa chỉ sang xã khác",
    ]),
    (GD, False, 0.25, [f"{a} {s}" for s in _SCHOOLS for a in (
        "Thành lập", "Cho phép hoạt động giáo dục đối với", "Cho phép hoạt động giáo dục trở lại đối với",
        "Sáp nhập, chia, tách", "Giải thể")] + [
        "Sáp nhập, chia, tách nhóm trẻ, lớp mẫu giáo độc lập", "Giải thể nhóm trẻ, lớp mẫu giáo độc lập",
        "Công nhận xã đạt chuẩn phổ cập giáo dục, xóa mù chữ", "Chuyển trường đối với học sinh trung học phổ thông",
    ]),
    (YT, False, 0.5, [
        "Cấp Giấy xác nhận nội dung quảng cáo thực phẩm", "Công bố cơ sở đủ điều kiện thực hiện tiêm chủng",
        "Hỗ trợ chi phí khám sàng lọc trước sinh, sơ sinh",
    ]),
    (NN, False, 0.15, [
        "Hỗ trợ đầu tư xây dựng phát triển thủy lợi nhỏ, thủy lợi nội đồng và tưới tiên tiến, tiết kiệm nước",
        "Phê duyệt đối tượng vay vốn để trồng rừng sản xuất, phát triển chăn nuôi",
        "Xác nhận nguồn gốc lâm sản", "Giao rừng cho hộ gia đình, cá nhân", "Cho thuê rừng đối với hộ gia đình, cá nhân",
        "Thu hồi rừng của hộ gia đình, cá nhân", "Phê duyệt phương án trồng rừng thay thế", "Đăng ký mã số vùng trồng",
        "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm nông, lâm, thủy sản",
        "Xác nhận nội dung cam kết sản xuất thực phẩm an toàn", "Hỗ trợ dự án liên kết sản xuất, tiêu thụ sản phẩm",
        "Hỗ trợ cây giống, vật nuôi, thủy sản giống", "Công nhận làng nghề", "Hỗ trợ khắc phục thiệt hại do thiên tai",
    ]),
    (VH, False, 0.5, [
        "Công nhận lại Thôn, Tổ dân phố văn hóa", "Xét tặng Giấy khen Thôn, Tổ dân phố văn hóa",
        "Thông báo thành lập thư viện cộng đồng", "Thông báo sáp nhập, hợp nhất, chia, tách thư viện cộng đồng",
        "Thông báo chấm dứt hoạt động thư viện cộng đồng", "Thông báo tổ chức biểu diễn nghệ thuật",
        "Đăng ký tổ chức lễ hội truyền thống", "Công nhận câu lạc bộ thể dục thể thao cơ sở",
    ]),
    ("Tín ngưỡng, tôn giáo", False, 0.5, [
        "Đăng ký thay đổi người đại diện của nhóm sinh hoạt tôn giáo tập trung",
        "Đề nghị thay đổi địa điểm sinh hoạt tôn giáo tập trung trong địa bàn một xã",
        "Đề nghị thay đổi địa điểm sinh hoạt tôn giáo tập trung đến địa bàn xã khác",
        "Thông báo về việc thay đổi địa điểm sinh hoạt tôn giáo tập trung",
        "Thông báo danh mục hoạt động tôn giáo bổ sung đối với tổ chức có địa bàn hoạt động tôn giáo ở một xã",
        "Đề nghị tổ chức cuộc lễ ngoài cơ sở tôn giáo, địa điểm hợp pháp đã đăng ký có quy mô tổ chức ở một xã",
        "Đề nghị giảng đạo ngoài địa bàn phụ trách, cơ sở tôn giáo có quy mô tổ chức ở một xã",
        "Thông báo tổ chức quyên góp trong địa bàn một xã",
    ]),
    ("Thi đua, khen thưởng", False, 0.7, [
        "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã về thành tích thi đua theo đợt hoặc chuyên đề",
        "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã về thành tích đột xuất",
        "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã cho tập thể, cá nhân ngoài khu vực nhà nước",
        "Xét tặng danh hiệu Lao động tiên tiến",
    ]),
    ("Tổ chức phi chính phủ", False, 0.4, [
        "Công nhận ban vận động thành lập hội", "Thành lập hội", "Phê duyệt điều lệ hội",
        "Chia, tách; sáp nhập; hợp nhất hội", "Đổi tên hội", "Hội tự giải thể",
        "Báo cáo tổ chức đại hội nhiệm kỳ, đại hội bất thường của hội",
        "Cấp giấy phép thành lập và công nhận điều lệ quỹ",
        "Công nhận quỹ đủ điều kiện hoạt động và công nhận thành viên hội đồng quản lý quỹ", "Đổi tên quỹ",
        "Quỹ tự giải thể",
    ]),
    ("Nghĩa vụ quân sự", False, 0.6, [
        "Đăng ký nghĩa vụ quân sự lần đầu", "Đăng ký nghĩa vụ quân sự bổ sung", "Đăng ký nghĩa vụ quân sự tạm vắng",
        "Đăng ký nghĩa vụ quân sự chuyển đi, chuyển đến", "Đăng ký miễn gọi nhập ngũ thời chiến",
        "Đăng ký phục vụ trong ngạch dự bị",
    ]),
    ("Giao thông vận tải", False, 0.3, [
        "Cấp phép thi công công trình đường bộ trên đường xã đang khai thác",
        "Chấp thuận xây dựng công trình thiết yếu trong phạm vi bảo vệ kết cấu hạ tầng giao thông đường xã",
        "Cấp giấy phép lưu hành xe quá tải trọng, xe quá khổ giới hạn trên đường xã",
        "Đăng ký phương tiện thủy nội địa không có động cơ", "Xóa giấy chứng nhận đăng ký phương tiện thủy nội địa",
    ]),
    ("Tư pháp", False, 0.4, [
        "Công nhận tuyên truyền viên pháp luật", "Cho thôi làm tuyên truyền viên pháp luật",
        "Xét công nhận xã đạt chuẩn tiếp cận pháp luật",
        "Giải quyết yêu cầu bồi thường tại cơ quan trực tiếp quản lý người thi hành công vụ gây thiệt hại",
        "Phục hồi danh dự", "Bầu hòa giải viên", "Thôi làm tổ trưởng tổ hòa giải",
    ]),
    ("Nội vụ", False, 0.4, [
        "Thành lập thôn mới, tổ dân phố mới", "Công nhận trưởng thôn, tổ trưởng tổ dân phố",
        "Tiếp công dân tại cấp xã", "Xử lý đơn tại cấp xã",
    ]),
    ("Môi trường", False, 0.3, [
        "Đăng ký khai thác nước dưới đất", "Tham vấn cộng đồng dân cư về báo cáo đánh giá tác động môi trường",
        "Xác nhận kế hoạch bảo vệ môi trường đối với hộ gia đình sản xuất",
    ]),
    ("Lao động, việc làm", False, 0.5, [
        "Vay vốn hỗ trợ tạo việc làm từ Quỹ quốc gia về việc làm", "Hỗ trợ đào tạo nghề cho lao động nông thôn",
        "Xác nhận người lao động không có việc làm", "Hỗ trợ người lao động đi làm việc ở nước ngoài theo hợp đồng",
    ]),
    ("Dân tộc", False, 0.2, [
        "Phê duyệt đối tượng hỗ trợ nhà ở cho hộ nghèo dân tộc thiểu số",
        "Đưa ra khỏi danh sách người có uy tín trong đồng bào dân tộc thiểu số",
        "Hỗ trợ đất sản xuất, chuyển đổi nghề cho hộ dân tộc thiểu số",
    ]),
    ("Gia đình", False, 0.5, [
        "Đăng ký hoạt động cơ sở hỗ trợ nạn nhân bạo lực gia đình",
        "Cấp giấy chứng nhận nghiệp vụ chăm sóc nạn nhân bạo lực gia đình",
        "Đăng ký thành lập câu lạc bộ gia đình phát triển bền vững",
    ]),
    ("Phòng, chống thiên tai", False, 0.3, [
        "Hỗ trợ khẩn cấp nhà ở bị đổ, sập, trôi, cháy do thiên tai",
        "Xác nhận thiệt hại về nhà ở, tài sản do thiên tai",
    ]),
    (HT, False, 0.6, [
        "Cấp bản sao Trích lục nhận cha, mẹ, con", "Cấp bản sao Trích lục giám hộ",
        "Ghi vào Sổ hộ tịch việc khai sinh của công dân Việt Nam đã được giải quyết tại cơ quan có thẩm quyền của "
        "nước ngoài",
        "Ghi vào Sổ hộ tịch việc giám hộ của công dân Việt Nam đã được giải quyết tại cơ quan có thẩm quyền của "
        "nước ngoài",
        "Ghi vào Sổ hộ tịch việc nhận cha, mẹ, con của công dân Việt Nam đã được giải quyết tại cơ quan có thẩm quyền "
        "của nước ngoài",
        "Ghi vào Sổ hộ tịch việc khai tử của công dân Việt Nam đã được giải quyết tại cơ quan có thẩm quyền của "
        "nước ngoài",
        "Đăng ký khai sinh cho trẻ em sinh ra ở nước ngoài chưa được đăng ký khai sinh về cư trú tại Việt Nam",
        "Đăng ký lại khai sinh cho người đã có hồ sơ, giấy tờ cá nhân",
    ]),
    (CT, False, 0.4, [
        "Cấp bản sao từ sổ gốc", "Chứng thực chữ ký trong giấy tờ, văn bản bằng tiếng nước ngoài",
        "Chứng thực điểm chỉ trong giấy tờ, văn bản",
        "Chứng thực văn bản khai nhận di sản mà di sản là động sản",
        "Chứng thực văn bản thỏa thuận phân chia di sản mà di sản là nhà ở",
    ]),
    (NCC, False, 0.3, [
        "Giải quyết chế độ người phục vụ thương binh, bệnh binh ở gia đình",
        "Giải quyết chế độ điều dưỡng phục hồi sức khỏe cho người có công với cách mạng",
        "Giải quyết chế độ bảo hiểm y tế cho thân nhân người có công với cách mạng",
        "Hỗ trợ cải thiện nhà ở đối với người có công với cách mạng",
        "Thăm hỏi, tặng quà người có công với cách mạng nhân dịp lễ, Tết",
        "Giải quyết chế độ mai táng phí đối với cựu chiến binh",
        "Giải quyết chế độ mai táng phí đối với thanh niên xung phong thời kỳ kháng chiến chống Pháp",
    ]),
    (BTXH, False, 0.4, [
        "Xác nhận hộ gia đình có mức sống trung bình để tham gia bảo hiểm y tế",
        "Hỗ trợ tiền điện cho hộ nghèo, hộ chính sách xã hội",
        "Hỗ trợ nhà ở cho hộ nghèo, hộ cận nghèo theo Chương trình mục tiêu quốc gia",
        "Hỗ trợ người khuyết tật nặng tham gia học nghề", "Thôi hưởng trợ cấp xã hội hằng tháng khi đối tượng chết",
    ]),
    (DD, False, 0.3, [
        "Xác nhận đối tượng được miễn, giảm tiền sử dụng đất", "Ghi nợ tiền sử dụng đất",
        "Đăng ký chuyển đổi cơ cấu cây trồng trên đất trồng lúa",
    ]),
    ("Đăng ký, quản lý cư trú", False, 0.95, [
        "Đăng ký thường trú", "Đăng ký tạm trú", "Xóa đăng ký thường trú", "Xóa đăng ký tạm trú",
        "Khai báo tạm vắng", "Gia hạn tạm trú", "Thông báo lưu trú", "Tách hộ",
        "Điều chỉnh thông tin về cư trú trong Cơ sở dữ liệu về cư trú", "Xác nhận thông tin về cư trú",
    ]),
    ("Căn cước", False, 0.5, [
        "Cấp thẻ căn cước cho người từ đủ 14 tuổi trở lên", "Cấp đổi thẻ căn cước", "Cấp lại thẻ căn cước",
        "Xác nhận số chứng minh nhân dân, số định danh cá nhân",
    ]),
    ("Phát thanh, truyền hình và thông tin điện tử", True, 0.6, [
        f"{a} Giấy chứng nhận đủ điều kiện hoạt động điểm cung cấp dịch vụ trò chơi điện tử công cộng"
        for a in ("Cấp", "Cấp sửa đổi, bổ sung", "Gia hạn", "Cấp lại")]),
    ("Xây dựng", False, 0.2, [
        "Cấp giấy phép xây dựng mới đối với công trình không theo tuyến",
        "Cấp giấy phép sửa chữa, cải tạo đối với công trình",
        "Thẩm định Báo cáo kinh tế - kỹ thuật đầu tư xây dựng",
        "Thẩm định thiết kế xây dựng triển khai sau thiết kế cơ sở",
    ]),
    (NN, False, 0.3, [
        "Đăng ký nuôi trồng thủy sản lồng bè, đối tượng thủy sản nuôi chủ lực",
        "Phê duyệt hỗ trợ giống cây trồng, vật nuôi cho hộ nghèo",
        "Phê duyệt phương án khai thác thực vật rừng thông thường thuộc sở hữu của hộ gia đình",
    ]),
    (YT, True, 0.5, [
        "Cấp Giấy chứng nhận đủ điều kiện an toàn thực phẩm cho bếp ăn tập thể",
        "Cấp lại Giấy xác nhận kiến thức về an toàn thực phẩm",
    ]),
    ("Quản lý công sản", False, 0.3, [
        "Quyết định thanh lý tài sản công", "Quyết định điều chuyển tài sản công", "Quyết định bán tài sản công",
    ]),
    (GD, False, 0.4, [
        f"{a} trung tâm học tập cộng đồng" for a in ("Thành lập", "Cho phép hoạt động giáo dục đối với",
                                                     "Sáp nhập, chia, tách", "Giải thể")] + [
        "Hỗ trợ gạo cho học sinh ở xã, thôn đặc biệt khó khăn",
    ]),
    ("Tín ngưỡng, tôn giáo", False, 0.7, [
        "Đăng ký người được bổ nhiệm, bầu cử, suy cử làm chức việc của tổ chức tôn giáo cơ sở",
        "Thông báo người được bổ nhiệm, bầu cử, suy cử làm chức việc",
    ]),
    ("Thể dục thể thao, du lịch", True, 0.5, [
        "Cấp Giấy chứng nhận đủ điều kiện kinh doanh hoạt động thể thao", "Công nhận điểm du lịch",
        "Cấp biển hiệu đạt chuẩn phục vụ khách du lịch đối với cơ sở kinh doanh dịch vụ",
    ]),
    ("Công Thương", True, 0.3, [
        "Thành lập chợ", "Chuyển đổi mô hình quản lý, kinh doanh, khai thác chợ",
    ]),
    ("Khoáng sản", True, 0.2, [
        "Đăng ký khai thác khoáng sản làm vật liệu xây dựng thông thường trong diện tích dự án xây dựng công trình",
    ]),
    ("Tiếp công dân", False, 0.8, [
        "Tiếp nhận, xử lý phản ánh, kiến nghị của người dân, doanh nghiệp",
    ]),
] + [(f, b, 0.2, [f"{a} {s}" for a in acts]) for f, b, s, acts in _LICENCES]


# ---------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------
def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    full_name: str
    province_code: str
    kind: str            # "xã" | "phường" | "đặc khu"
    index: int           # 1-based position among the province's communes sorted by code
    plain_unique: bool   # the name without diacritics is unique within the province

    @property
    def prefix(self) -> str:  # dossier id prefix, like the one-door systems' "000.00.21.H40"
        return f"000.{self.index // 100:02d}.{self.index % 100:02d}.H{self.province_code}"


def load_provinces() -> dict[str, dict]:
    return {p["Code"]: p for p in json.loads(UNITS_JSON.read_text(encoding="utf-8"))}


def province_units(province: dict) -> list[Unit]:
    wards = sorted(province["Wards"], key=lambda w: w["Code"])
    plain: dict[str, int] = {}
    for w in wards:
        key = strip_diacritics(w["Name"].lower())
        plain[key] = plain.get(key, 0) + 1
    units = []
    for i, w in enumerate(wards, start=1):
        kind = w["FullName"][: len(w["FullName"]) - len(w["Name"])].strip().lower()
        units.append(Unit(w["Code"], w["Name"], w["FullName"], w["ProvinceCode"], kind, i,
                          plain[strip_diacritics(w["Name"].lower())] == 1))
    return units


def covered_units(provinces: dict[str, dict]) -> list[Unit]:
    units = province_units(provinces[NGHE_AN])
    for code in EXTRA_UNITS:
        for prov in provinces.values():
            found = [u for u in province_units(prov) if u.code == code]
            if found:
                units.append(found[0])
                break
        else:
            raise ValueError(f"unit {code} not in {UNITS_JSON}")
    return units


# ---------------------------------------------------------------------------------------
# Months and time helpers
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Month:
    year: int
    month: int
    start: date
    end: date  # exclusive, clipped to `today`

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def full_days(self) -> int:
        nxt = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return (nxt - self.start).days


def months_until(today: date) -> list[Month]:
    out, y, m = [], START.year, START.month
    while date(y, m, 1) < today:
        nxt = date(y + m // 12, m % 12 + 1, 1)
        out.append(Month(y, m, date(y, m, 1), min(nxt, today)))
        y, m = nxt.year, nxt.month
    return out


def _d64(d: date) -> np.datetime64:
    return np.datetime64(d.isoformat(), "D")


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


# ---------------------------------------------------------------------------------------
# Dossier simulation (vectorised)
# ---------------------------------------------------------------------------------------
SEASON = {1: 1.15, 2: 0.72, 3: 1.05, 4: 0.95, 5: 1.0, 6: 1.0, 7: 0.95, 8: 1.06, 9: 1.0, 10: 1.0, 11: 1.0, 12: 1.08}
SPECIAL_MATURITY = {  # code: (start share, plateau, month index at which the plateau is reached)
    NGHIA_THO: (0.20, 0.90, 6),
    BA_TO: (0.15, 0.88, 7),
    DONG_PHU: (0.45, 0.76, 12),
}
SPECIAL_BASE = {NGHIA_THO: 95.0, BA_TO: 85.0, DONG_PHU: 230.0}


@dataclass
class UnitTraits:
    base: float
    cls: str
    s0: float
    cap: float
    reach: int
    online_gap: float
    late0: float
    ondue: float
    stuck: float
    noise: np.ndarray


def unit_traits(unit: Unit, n_months: int) -> UnitTraits:
    rng = np.random.default_rng([SEED, int(unit.code)])
    ward = unit.kind == "phường"
    if ward:
        base = float(np.clip(np.exp(rng.normal(np.log(185), 0.25)), 120, 240))
    else:
        base = float(np.clip(np.exp(rng.normal(np.log(75), 0.45)), 40, 200))
    r = rng.random()
    lead_p, mid_p = (0.7, 0.9) if ward else (0.42, 0.68)
    if r < lead_p:
        cls, s0, cap, reach = "leader", rng.uniform(0.35, 0.6), rng.uniform(0.86, 0.95), int(rng.integers(3, 6))
    elif r < mid_p:
        cls, s0, cap, reach = "mid", rng.uniform(0.25, 0.45), rng.uniform(0.82, 0.9), int(rng.integers(9, 14))
    else:
        cls, s0, cap, reach = "laggard", rng.uniform(0.3, 0.45), rng.uniform(0.55, 0.68), int(rng.integers(10, 16))
    online_gap = rng.uniform(0.15, 0.45)
    late0 = rng.uniform(0.01, 0.07) * (1.5 if cls == "laggard" else 1.0)
    ondue = rng.uniform(0.12, 0.3)
    stuck = 0.002 + (0.004 if cls == "laggard" else 0.0)
    noise = rng.normal(0, 0.02, n_months)
    if unit.code in SPECIAL_MATURITY:
        s0, cap, reach = SPECIAL_MATURITY[unit.code]
        cls = "special"
    if unit.code in SPECIAL_BASE:
        base = SPECIAL_BASE[unit.code]
    return UnitTraits(base, cls, s0, cap, reach, online_gap, late0, ondue, stuck, noise)


def full_online_share(t: UnitTraits, n_months: int) -> np.ndarray:
    m = np.arange(n_months)
    p = t.s0 + (t.cap - t.s0) * smoothstep(m / t.reach) + t.noise
    floor = np.where(m >= t.reach, t.cap - 0.025, 0.05)
    return np.clip(np.maximum(p, floor), 0.05, 0.97)


def _seconds_of_day(rng: np.random.Generator, n: int, online: bool) -> np.ndarray:
    if online:
        hourly = np.array([0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.4, 1.2, 2.5, 3, 3, 2.5, 1.2, 1.5, 2.5, 2.8, 2.5, 2,
                           1.5, 1.5, 1.4, 1.2, 0.8, 0.4])
        hours = rng.choice(24, size=n, p=hourly / hourly.sum())
        return hours * 3600 + rng.integers(0, 3600, n)
    morning = rng.random(n) < 0.58
    start = np.where(morning, 7 * 3600 + 1800, 13 * 3600 + 30 * 60)
    length = np.where(morning, 4 * 3600, 3 * 3600 + 1800)
    return start + (rng.random(n) * length).astype(np.int64)


def simulate_dossiers(units: list[Unit], months: list[Month], scale: float, today: date) -> pl.DataFrame:
    """One row per dossier with its true state at the end of the day before `today`."""
    rng = np.random.default_rng(SEED)
    n_units, n_months = len(units), len(months)
    traits = [unit_traits(u, n_months) for u in units]
    p_full = np.vstack([full_online_share(t, n_months) for t in traits])
    gap = np.array([t.online_gap for t in traits])
    p_online = np.clip(p_full + (1 - p_full) * gap[:, None], 0, 0.985)
    base = np.array([t.base for t in traits])
    season = np.array([SEASON[m.month] for m in months])
    frac = np.array([(m.end - m.start).days / m.full_days for m in months])
    growth = 1 + 0.01 * np.arange(n_months)
    lam = base[:, None] * (season * frac * growth * scale)[None, :]
    counts = rng.poisson(lam)
    sizes = counts.ravel()
    group = np.repeat(np.arange(n_units * n_months), sizes)
    unit_ix, month_ix = group // n_months, group % n_months
    n = len(group)

    # Exact full-online / online counts per unit-month; fully online is a subset of online.
    order = np.lexsort((rng.random(n), group))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[group[order]]
    fully = rank < np.rint(p_full.ravel() * sizes)[group]
    online = rank < np.rint(p_online.ravel() * sizes)[group]
    post = ~online & (rng.random(n) < 0.05)
    channel = np.where(online, 1, np.where(post, 2, 0))  # 0 direct, 1 online, 2 post

    # Procedure, by channel mix.
    w = np.array([p[6] for p in PROCEDURES])
    is_tt = np.array([p[3] == TT for p in PROCEDURES])
    is_ct = np.array([p[2] == CT for p in PROCEDURES])
    w_full = np.where(is_tt, w, 0.0)
    w_on = w * np.where(is_tt, 0.5, 1.8)
    w_off = w * np.where(is_ct, 1.8, 1.0) * np.where(is_tt, 1.0, 1.4)
    proc = np.empty(n, dtype=np.int64)
    for mask, weights in ((fully, w_full), (online & ~fully, w_on), (~online, w_off)):
        idx = np.flatnonzero(mask)
        proc[idx] = rng.choice(len(PROCEDURES), size=len(idx), p=weights / weights.sum())

    # Reception day and time.
    recv_day = np.empty(n, dtype="datetime64[D]")
    tod = np.empty(n, dtype=np.int64)
    hol = np.array(HOLIDAYS, dtype="datetime64[D]")
    for m_i, mon in enumerate(months):
        days = np.arange(_d64(mon.start), _d64(mon.end), dtype="datetime64[D]")
        weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
        holiday = np.isin(days, hol)
        for ch in (0, 1, 2):
            idx = np.flatnonzero((month_ix == m_i) & (channel == ch))
            if not len(idx):
                continue
            if ch == 1:
                wd = np.select([holiday, weekday == 5, weekday == 6], [0.3, 0.4, 0.3], 1.0)
            else:
                wd = np.select([holiday, weekday == 5, weekday == 6], [0.0, 0.12 if ch == 0 else 0.0, 0.0], 1.0)
            recv_day[idx] = rng.choice(days, size=len(idx), p=wd / wd.sum())
            tod[idx] = _seconds_of_day(rng, len(idx), online=(ch == 1))
    saturday = ((recv_day.astype(np.int64) + 3) % 7 == 5) & (channel != 1)
    tod = np.where(saturday, np.minimum(tod, 11 * 3600 + 20 * 60), tod)
    received = recv_day.astype("datetime64[s]") + tod.astype("timedelta64[s]")

    # Due date: working days after the first working day on or after reception.
    proc_days = np.array([p[5] for p in PROCEDURES])[proc]
    start_day = np.busday_offset(recv_day, 0, roll="forward", busdaycal=CAL)
    due_day = np.busday_offset(start_day, proc_days, busdaycal=CAL)
    due_tod = np.clip(tod, 8 * 3600, 17 * 3600)
    due = due_day.astype("datetime64[s]") + due_tod.astype("timedelta64[s]")

    # Outcome: early, on the due day, late; a few stuck waiting for documents.
    late0 = np.array([t.late0 for t in traits])
    p_late = (late0[:, None] * (1 - 0.5 * np.arange(n_months) / max(n_months - 1, 1))[None, :])[unit_ix, month_ix]
    ondue_p = np.array([t.ondue for t in traits])[unit_ix]
    u = rng.random(n)
    late = u < p_late
    ondue = ~late & (u < p_late + ondue_p)
    k = (rng.random(n) * proc_days).astype(np.int64)
    late_by = rng.integers(1, 7, n)
    fin_day = np.where(late, np.busday_offset(due_day, late_by, busdaycal=CAL),
                       np.where(ondue, due_day, np.busday_offset(start_day, k, busdaycal=CAL)))
    work = 7 * 3600 + 1800 + (rng.random(n) * 9.5 * 3600).astype(np.int64)
    fin_tod = np.where(ondue, np.minimum(work, due_tod), work)
    finish = fin_day.astype("datetime64[s]") + fin_tod.astype("timedelta64[s]")
    min_gap = (600 + rng.random(n) * 4800).astype("timedelta64[s]")
    finish = np.maximum(finish, received + min_gap)
    # Stuck (waiting for documents): finished weeks late, a few never (abandoned).
    stuck = rng.random(n) < np.array([t.stuck for t in traits])[unit_ix]
    abandoned = stuck & (rng.random(n) < 0.1)
    stuck_day = np.busday_offset(due_day, rng.integers(10, 60, n), busdaycal=CAL)
    finish = np.where(stuck, stuck_day.astype("datetime64[s]") + fin_tod.astype("timedelta64[s]"), finish)
    cutoff = np.datetime64(today.isoformat(), "s")
    is_open = abandoned | (finish >= cutoff)

    # Flags.
    prog = np.clip((p_full - 0.15) / 0.8, 0, 1)[unit_ix, month_ix]
    r1, r2, r3, r4 = (rng.random(n) for _ in range(4))
    digitised = np.where(fully, r1 < 0.97, np.where(online, r1 < 0.55 + 0.4 * prog, r1 < 0.3 + 0.55 * prog))
    data_reused = np.where(online, r2 < 0.2 + 0.55 * prog, r2 < 0.08 + 0.4 * prog)
    e_result = ~is_open & (fully | (r3 < 0.3 + 0.6 * prog))
    fee = np.array([p[7] for p in PROCEDURES])[proc]
    paid_online = fee & (fully | (online & (r4 < 0.45)))
    recent = received >= cutoff - np.timedelta64(2, "D")
    status = np.where(~is_open, 0, np.where(stuck, 2, np.where(recent, 3, 1)))

    frame = pl.DataFrame({
        "unit_ix": unit_ix.astype(np.int32),
        "month_ix": month_ix.astype(np.int32),
        "proc_ix": proc.astype(np.int32),
        "channel": channel.astype(np.int8),
        "received": received.astype("datetime64[us]"),
        "due": due.astype("datetime64[us]"),
        "finished": np.where(is_open, np.datetime64("NaT"), finish).astype("datetime64[us]"),
        "status": status.astype(np.int8),
        "fully": fully, "digitised": digitised, "e_result": e_result,
        "data_reused": data_reused, "paid_online": paid_online,
    })
    # Ids: unit prefix, reception date, sequence of the unit's dossiers that day.
    frame = frame.sort(["unit_ix", "received"], maintain_order=True).with_columns(
        pl.col("received").dt.date().alias("_day"))
    frame = frame.with_columns(
        (pl.int_range(pl.len()).over(["unit_ix", "_day"]) + 1).alias("_seq"))
    ids = pl.DataFrame({"unit_ix": pl.Series(range(len(units)), dtype=pl.Int32),
                        "prefix": [u.prefix for u in units]})
    frame = frame.join(ids, on="unit_ix", how="left", maintain_order="left").with_columns(
        pl.concat_str([pl.col("prefix"), pl.lit("-"), pl.col("received").dt.strftime("%y%m%d"), pl.lit("-"),
                       pl.col("_seq").cast(pl.String).str.zfill(4)]).alias("dossier_id")
    ).drop("prefix", "_day", "_seq")

    # Dossiers of the two complete months before the current one that were still open when
    # their first export was made: shown open in the main files, finished in a re-export.
    window = {len(months) - 3, len(months) - 2}
    cand = frame.with_row_index("_r").filter(
        pl.col("month_ix").is_in(list(window)) & pl.col("finished").is_not_null())
    n_window = frame.filter(pl.col("month_ix").is_in(list(window))).height
    k_stale = min(int(round(0.02 * n_window)), cand.height)
    slow = (cand["finished"] - cand["received"]).dt.total_days().to_numpy() >= 3
    weights = np.where(slow, 5.0, 1.0)
    chosen = rng.choice(cand["_r"].to_numpy(), size=k_stale, replace=False, p=weights / weights.sum())
    stale = np.zeros(frame.height, dtype=bool)
    stale[chosen] = True
    return frame.with_columns(pl.Series("stale", stale))


# ---------------------------------------------------------------------------------------
# Dossier files in their various forms
# ---------------------------------------------------------------------------------------
CHANNEL_A = {0: "Trực tiếp", 1: "Trực tuyến", 2: "Bưu chính công ích"}
CHANNEL_C = {0: "Trực tiếp tại Trung tâm", 1: "Trực tuyến", 2: "Qua dịch vụ bưu chính công ích"}
STATUS_A = {0: "Đã trả kết quả", 1: "Đang xử lý", 2: "Chờ bổ sung hồ sơ", 3: "Mới tiếp nhận"}
STATUS_B = {0: "Đã giải quyết", 1: "Đang giải quyết", 2: "Yêu cầu bổ sung", 3: "Mới tiếp nhận"}
STATUS_C = {0: "Hoàn thành", 1: "Đang xử lý", 2: "Tạm dừng - chờ bổ sung", 3: "Đã tiếp nhận"}
FLAGS = ("fully", "digitised", "e_result", "data_reused", "paid_online")
FLAG_HEADERS_A = ("Toàn trình", "Số hóa", "Kết quả điện tử", "Tái sử dụng dữ liệu", "Thanh toán trực tuyến")
FLAG_HEADERS_B = ("Xử lý toàn trình", "Đã số hóa", "Kết quả điện tử", "Tái sử dụng dữ liệu", "Thanh toán trực tuyến")


def _map(col: str, mapping: dict) -> pl.Expr:
    return pl.col(col).replace_strict(mapping, return_dtype=pl.String)


def _yes_no(col: str, yes: str, no: str) -> pl.Expr:
    """An empty "no" becomes a null, which the CSV writer leaves as a bare empty field."""
    return pl.when(pl.col(col)).then(pl.lit(yes)).otherwise(pl.lit(no or None, dtype=pl.String))


def _as_exported(frame: pl.DataFrame, reexport: bool) -> pl.DataFrame:
    """Main files show the stale dossiers as still open; the re-export shows their final state."""
    if reexport:
        return frame
    return frame.with_columns(
        pl.when(pl.col("stale")).then(None).otherwise(pl.col("finished")).alias("finished"),
        (pl.col("e_result") & ~pl.col("stale")).alias("e_result"),
        pl.when(pl.col("stale")).then(pl.lit(1, dtype=pl.Int8)).otherwise(pl.col("status")).alias("status"),
    )


def _with_lookups(frame: pl.DataFrame, units: list[Unit]) -> pl.DataFrame:
    procs = pl.DataFrame({
        "proc_ix": pl.Series(range(len(PROCEDURES)), dtype=pl.Int32),
        "p_code": [p[0] for p in PROCEDURES], "p_name": [p[1] for p in PROCEDURES],
        "p_field": [p[2] for p in PROCEDURES],
    })
    unit_frame = pl.DataFrame({
        "unit_ix": pl.Series(range(len(units)), dtype=pl.Int32),
        "u_code": [u.code for u in units], "u_full": [u.full_name for u in units],
    })
    return (frame.join(procs, on="proc_ix", how="left").join(unit_frame, on="unit_ix", how="left")
            .sort(["received", "dossier_id"]))


def form_a(frame: pl.DataFrame) -> pl.DataFrame:
    fmt = "%d/%m/%Y %H:%M:%S"
    cols = [
        pl.int_range(1, pl.len() + 1).cast(pl.String).alias("STT"),
        pl.col("dossier_id").alias("Mã hồ sơ"), pl.col("u_code").alias("Mã xã"), pl.col("u_full").alias("Tên đơn vị"),
        pl.col("p_code").alias("Mã TTHC"), pl.col("p_name").alias("Tên TTHC"), pl.col("p_field").alias("Lĩnh vực"),
        _map("channel", CHANNEL_A).alias("Kênh nộp"),
        pl.col("received").dt.strftime(fmt).alias("Ngày tiếp nhận"),
        pl.col("due").dt.strftime(fmt).alias("Ngày hẹn trả"),
        pl.col("finished").dt.strftime(fmt).alias("Ngày có kết quả"),
        _map("status", STATUS_A).alias("Trạng thái"),
    ] + [_yes_no(f, "Có", "Không").alias(h) for f, h in zip(FLAGS, FLAG_HEADERS_A, strict=True)]
    return frame.select(cols)


def _unit_name_variants(units: list[Unit]) -> pl.DataFrame:
    rows = []
    for i, u in enumerate(units):
        forms = [f"UBND {u.kind} {u.name}", u.full_name.upper(), u.name, u.full_name,
                 strip_diacritics(u.name).lower() if u.plain_unique else u.name]
        rows += [(i, v, text) for v, text in enumerate(forms)]
    return pl.DataFrame(rows, schema={"unit_ix": pl.Int32, "_variant": pl.Int8, "_uname": pl.String}, orient="row")


def form_b(frame: pl.DataFrame, units: list[Unit], rng: np.random.Generator, yes_no: tuple[str, str]) -> pl.DataFrame:
    fmt = "%d/%m/%Y"
    variant = rng.choice(5, size=frame.height, p=[0.3, 0.2, 0.25, 0.15, 0.1]).astype(np.int8)
    frame = frame.with_columns(pl.Series("_variant", variant)).join(
        _unit_name_variants(units), on=["unit_ix", "_variant"], how="left", maintain_order="left")
    yes, no = yes_no
    cols = [
        pl.col("dossier_id").alias("Số hồ sơ"), pl.col("_uname").alias("Đơn vị tiếp nhận"),
        pl.col("p_code").alias("Mã thủ tục"), pl.col("p_name").alias("Tên thủ tục"), pl.col("p_field").alias("Lĩnh vực"),
        _map("channel", {0: "1", 1: "2", 2: "3"}).alias("Hình thức nộp"),
        pl.col("received").dt.strftime(fmt).alias("Ngày nhận"),
        pl.col("due").dt.strftime(fmt).alias("Hạn xử lý"),
        pl.col("finished").dt.strftime(fmt).alias("Ngày trả kết quả"),
        _map("status", STATUS_B).alias("Trạng thái"),
    ] + [_yes_no(f, yes, no).alias(h) for f, h in zip(FLAGS, FLAG_HEADERS_B, strict=True)]
    return frame.select(cols)


def form_c_rows(frame: pl.DataFrame) -> tuple[list[str], list[tuple]]:
    fmt = "%Y-%m-%d %H:%M"
    headers = ["Mã hồ sơ", "Mã đơn vị", "Mã TTHC", "Tên TTHC", "Lĩnh vực", "Kênh thực hiện", "Ngày tiếp nhận",
               "Hạn giải quyết", "Ngày kết thúc xử lý", "Trạng thái", "Toàn trình", "Số hóa", "Kết quả điện tử",
               "Tái sử dụng dữ liệu", "Thanh toán trực tuyến"]
    exprs = [
        pl.col("dossier_id"), pl.col("u_code"), pl.col("p_code"), pl.col("p_name"), pl.col("p_field"),
        _map("channel", CHANNEL_C), pl.col("received").dt.strftime(fmt), pl.col("due").dt.strftime(fmt),
        pl.col("finished").dt.strftime(fmt).fill_null(""), _map("status", STATUS_C),
        *[_yes_no(f, "Đã", "Chưa") for f in FLAGS],
    ]
    out = frame.select([e.alias(h) for e, h in zip(exprs, headers, strict=True)])
    return headers, out.rows()


def _workbook(path: Path, created: datetime):
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"author": "Trung tâm Phục vụ hành chính công", "created": created})
    return book


def write_form_c(path: Path, unit: Unit, frame: pl.DataFrame, first: date, last: date, created: datetime) -> None:
    headers, rows = form_c_rows(frame)
    book = _workbook(path, created)
    sheet = book.add_worksheet("Danh sách hồ sơ")
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter"})
    sheet.write_string(0, 0, f"UBND {unit.full_name.upper()}", bold)
    sheet.write_string(1, 0, f"DANH SÁCH HỒ SƠ TIẾP NHẬN TỪ NGÀY {first:%d/%m/%Y} ĐẾN NGÀY {last:%d/%m/%Y}", bold)
    sheet.write_row(3, 0, headers, head)
    for i, row in enumerate(rows, start=4):
        sheet.write_row(i, 0, row)
    for col, width in enumerate((26, 10, 10, 50, 22, 22, 17, 17, 17, 20, 10, 8, 10, 10, 12)):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(4, 0)
    book.close()


def _quarter(m: Month) -> str:
    return f"{m.year}_q{(m.month - 1) // 3 + 1}"


def _half(m: Month) -> str:
    return f"{m.year}_h{1 if m.month <= 6 else 2}"


def write_dossier_files(out: Path, frame: pl.DataFrame, units: list[Unit], months: list[Month],
                        today: date) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([SEED, 2])
    code_ix = {u.code: i for i, u in enumerate(units)}
    nghe_an = [i for i, u in enumerate(units) if u.province_code == NGHE_AN]
    group_b = {i for i in nghe_an if i % 2 == 1} | {code_ix[NGHIA_THO]}
    group_a = [i for i in nghe_an if i not in group_b]
    frame = _with_lookups(frame, units)
    main = _as_exported(frame, reexport=False)
    month_key = {i: m for i, m in enumerate(months)}
    written: list[Path] = []
    seq = 1

    def month_list(keyfn, label) -> list[int]:
        return [i for i, m in month_key.items() if keyfn(m) == label]

    # Form A: group A communes, one file per quarter.
    quarters = list(dict.fromkeys(_quarter(m) for m in months))
    for q in quarters:
        part = main.filter(pl.col("unit_ix").is_in(group_a) & pl.col("month_ix").is_in(month_list(_quarter, q)))
        path = out / f"{seq:02d}_nghe_an_nhom_a_{q}.csv"
        form_a(part).write_csv(path, separator=";", include_bom=True, line_terminator="\r\n")
        written.append(path)
        seq += 1
    # Form B: group B communes (unit by name only), one file per half-year.
    halves = list(dict.fromkeys(_half(m) for m in months))
    for j, h in enumerate(halves):
        part = main.filter(pl.col("unit_ix").is_in(list(group_b)) & pl.col("month_ix").is_in(month_list(_half, h)))
        path = out / f"{seq:02d}_nghe_an_nhom_b_{h}.csv"
        form_b(part, units, rng, ("1", "0") if j % 2 else ("x", "")).write_csv(path)
        written.append(path)
        seq += 1
    # Form C: one workbook per unit outside Nghệ An.
    last_day = today - timedelta(days=1)
    for code, slug in ((BA_TO, "quang_ngai_ba_to"), (DONG_PHU, "dong_nai_dong_phu")):
        unit = units[code_ix[code]]
        path = out / f"{seq:02d}_{slug}_{code}.xlsx"
        write_form_c(path, unit, main.filter(pl.col("unit_ix") == code_ix[code]), START, last_day,
                     datetime.combine(today, datetime.min.time()).replace(hour=7, minute=30))
        written.append(path)
        seq += 1
    # Re-export (form A), last in load order.
    stale = frame.filter(pl.col("stale"))
    window = [months[i].label.replace("-", "_") for i in (len(months) - 3, len(months) - 2)]
    path = out / f"99_tai_xuat_{window[0]}_{window[1][-2:]}.csv"
    form_a(stale).write_csv(path, separator=";", include_bom=True, line_terminator="\r\n")
    written.append(path)
    return written


# ---------------------------------------------------------------------------------------
# Service catalogues
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Service:
    code: str
    name: str
    field: str
    level: str
    business: bool
    base: bool
    weight: float


def service_universe() -> list[Service]:
    rng = np.random.default_rng([SEED, 3])
    out = [Service(c, n, f, lv, b, True, w) for c, n, f, lv, b, _d, w, _fee in PROCEDURES]
    names = {s.name for s in out}
    codes = {s.code for s in out}
    i = 0
    for field, business, p_tt, variants in CATALOGUE_EXTRA:
        fresh = [v for v in dict.fromkeys(variants) if v not in names]
        # exactly round(share x size) of each family are toàn trình, which ones is random
        full = set(rng.permutation(len(fresh))[: int(round(p_tt * len(fresh)))].tolist())
        for j, name in enumerate(fresh):
            i += 1
            code = f"2.{2700 + i:06d}" if business else f"1.{13000 + i:06d}"
            assert code not in codes, code
            codes.add(code)
            names.add(name)
            out.append(Service(code, name, field, TT if j in full else MP, business, False, 0.0))
    return out


CATALOGUE_SIZE = {BA_TO: (136, 254), DONG_PHU: (126, 260), NGHIA_THO: (132, 240)}  # (toàn trình, một phần)
CATALOGUE_HEADER = ["Mã đơn vị", "Tên đơn vị", "Mã TTHC", "Tên TTHC", "Lĩnh vực", "Mức độ", "Liên quan doanh nghiệp",
                    "Không phụ thuộc địa giới", "Công khai trên Cổng DVCQG", "Miễn chỉ tiêu hồ sơ"]


def unit_catalogue(unit: Unit, universe: list[Service]) -> list[list[str]]:
    rng = np.random.default_rng([SEED, 7, int(unit.code)])
    if unit.code in CATALOGUE_SIZE:
        n_tt, n_mp = CATALOGUE_SIZE[unit.code]
    else:
        total = int(rng.integers(320, 386))
        n_tt = int(round(total * rng.uniform(0.31, 0.37)))
        n_mp = total - n_tt
    chosen: list[tuple[Service, str]] = [(s, s.level) for s in universe if s.base]
    for level, want in ((TT, n_tt), (MP, n_mp)):
        have = sum(1 for _s, lv in chosen if lv == level)
        pool = [s for s in universe if not s.base and s.level == level]
        need = want - have
        if need < 0 or need > len(pool):
            raise ValueError(f"catalogue of {unit.code}: cannot reach {want} services '{level}'")
        picked = rng.choice(len(pool), size=need, replace=False)
        chosen += [(pool[j], level) for j in sorted(picked)]
    # Business services listed but not (yet) offered online: blank level. Not for the two
    # units whose plan counts services, so their catalogue counts stay exact.
    if unit.code not in (BA_TO, DONG_PHU) and (unit.code == NGHIA_THO or rng.random() < 0.4):
        taken = {s.code for s, _ in chosen}
        pool = [s for s in universe if s.business and s.code not in taken]
        k = 3 if unit.code == NGHIA_THO else int(rng.integers(1, 5))
        chosen += [(pool[j], "") for j in sorted(rng.choice(len(pool), size=min(k, len(pool)), replace=False))]
    loc_strict = rng.uniform(0.0, 0.06)
    rows = []
    for s, level in sorted(chosen, key=lambda x: x[0].code):
        land = s.field in (DD, "Xây dựng")
        location_free = rng.random() > (0.2 if land else 0.02) + loc_strict
        on_portal = level != "" and rng.random() < (0.93 if level == TT else 0.86)
        exempt = (not s.base and rng.random() < 0.45) or (s.base and s.weight < 0.05 and rng.random() < 0.7)
        rows.append([unit.code, unit.full_name, s.code, s.name, s.field, level.capitalize() if level else "",
                     _yn(s.business), _yn(location_free), _yn(on_portal), _yn(exempt)])
    return rows


def _yn(flag: bool) -> str:
    return "Có" if flag else "Không"


def _write_csv(path: Path, rows: list[list], header: list[str] | None = None, bom: bool = False,
               delimiter: str = ",", crlf: bool = False) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8-sig" if bom else "utf-8", newline="")


def write_catalogues(out: Path, units: list[Unit]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    universe = service_universe()
    by_code = {u.code: u for u in units}
    written = []
    for code, slug, bom in ((BA_TO, "ba_to", True), (DONG_PHU, "dong_phu", False), (NGHIA_THO, "nghia_tho", True)):
        path = out / f"danh_muc_dvc_{slug}_{code}.csv"
        _write_csv(path, unit_catalogue(by_code[code], universe), CATALOGUE_HEADER, bom=bom)
        written.append(path)
    rows = [row for u in units if u.province_code == NGHE_AN for row in unit_catalogue(u, universe)]
    path = out / "danh_muc_dvc_nghe_an_cac_xa.csv"
    _write_csv(path, rows, CATALOGUE_HEADER, bom=True)
    written.append(path)
    return written


# ---------------------------------------------------------------------------------------
# Archive and document statistics
# ---------------------------------------------------------------------------------------
ARCHIVE_HEADER = ["Mã đơn vị", "Tên đơn vị", "Tháng", "Tài liệu lưu trữ giá trị cao (tổng)", "Đã số hóa (lũy kế)",
                  "Văn bản phát sinh", "Văn bản xử lý điện tử"]
ARCHIVE_SPECIAL = {NGHIA_THO: 0.34, BA_TO: 0.31, DONG_PHU: 0.26}  # share digitised at 12/2025


def write_archive(out: Path, units: list[Unit], months: list[Month]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    complete = [m for m in months if m.end.day == 1 and m.end > m.start and (m.end - m.start).days == m.full_days]
    n = len(complete)
    dec = next((i for i, m in enumerate(complete) if (m.year, m.month) == (2025, 12)), min(5, n - 1))
    rows = []
    for u in units:
        rng = np.random.default_rng([SEED, 11, int(u.code)])
        total0 = int(np.exp(rng.normal(np.log(3200 if u.kind == "phường" else 1800), 0.5)))
        start = rng.uniform(0.0, 0.08)
        at_dec = ARCHIVE_SPECIAL.get(u.code, rng.uniform(0.30, 0.42) if rng.random() < 0.5 else rng.uniform(0.1, 0.27))
        at_end = min(1.0, at_dec + rng.uniform(0.35, 0.65))
        steps = np.concatenate([rng.dirichlet(np.full(dec + 1, 4.0)) * (at_dec - start),
                                rng.dirichlet(np.full(max(n - dec - 1, 1), 4.0))[: n - dec - 1] * (at_end - at_dec)])
        share = start + np.cumsum(steps)[:n]
        total = np.full(n, total0)
        accession = int(rng.integers(dec + 1, n)) if n > dec + 1 else n
        total[accession:] += int(total0 * rng.uniform(0.02, 0.06))
        digitised = np.maximum.accumulate(np.minimum(np.floor(share * total0).astype(int), total))
        docs_base = rng.uniform(350, 900) if u.kind == "phường" else rng.uniform(120, 450)
        e0, e1 = rng.uniform(0.82, 0.96), rng.uniform(0.97, 1.0)
        for i, m in enumerate(complete):
            docs = int(rng.poisson(docs_base * SEASON[m.month]))
            rate = min(1.0, e0 + (e1 - e0) * min(1.0, i / max(n - 4, 1)) + rng.normal(0, 0.01))
            if e1 > 0.995 and i >= n - 4:
                rate = 1.0
            rows.append([u.code, u.full_name, f"{m.month:02d}/{m.year}", int(total[i]), int(digitised[i]), docs,
                         int(round(docs * rate))])
    path = out / "archive_documents.csv"
    _write_csv(path, rows, ARCHIVE_HEADER, bom=True)
    return [path]


# ---------------------------------------------------------------------------------------
# Aggregate report templates (Thông tư 01/2020/TT-VPCP, biểu 06a by unit, 07a by field)
# ---------------------------------------------------------------------------------------
NCOLS = 13
COLUMN_NUMBERS = ["(1)", "(2)", "(3)=(4)+(5)+(6)", "(4)", "(5)", "(6)", "(7)=(8)+(9)+(10)", "(8)", "(9)", "(10)",
                  "(11)=(12)+(13)", "(12)", "(13)"]
SUB_HEADERS = ["Tổng số", "Trực tuyến", "Trực tiếp và dịch vụ bưu chính", "Từ kỳ trước", "Tổng số", "Trước hạn",
               "Đúng hạn", "Quá hạn", "Tổng số", "Trong hạn", "Quá hạn"]


@dataclass
class Report:
    grid: list[list]
    merges: list[tuple[int, int, int, int]]
    styles: dict[int, str]  # row -> style name


def report_grid(org: list[str], form: str, title: str, period: str, label: str, rows: list[tuple[str, list[int]]],
                place_date: str, signers: tuple[str, str]) -> Report:
    grid: list[list] = []
    merges, styles = [], {}

    def add(cells: dict[int, object], style: str = "") -> int:
        row = [None] * NCOLS
        for c, v in cells.items():
            row[c] = v
        grid.append(row)
        if style:
            styles[len(grid) - 1] = style
        return len(grid) - 1

    r = add({0: org[0], 7: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"}, "org")
    merges += [(r, 0, r, 4), (r, 7, r, 12)]
    r = add({0: org[1], 7: "Độc lập - Tự do - Hạnh phúc"}, "org")
    merges += [(r, 0, r, 4), (r, 7, r, 12)]
    add({0: form}, "note")
    r = add({0: title}, "title")
    merges.append((r, 0, r, 12))
    r = add({0: period}, "period")
    merges.append((r, 0, r, 12))
    r = add({0: "Đơn vị tính: Số hồ sơ TTHC"}, "unitnote")
    merges.append((r, 0, r, 12))
    h1 = add({0: "STT", 1: label, 2: "Số hồ sơ nhận giải quyết", 6: "Số hồ sơ đã giải quyết",
              10: "Số hồ sơ đang giải quyết"}, "header")
    h2 = add({c: v for c, v in enumerate(SUB_HEADERS, start=2)}, "header")
    merges += [(h1, 0, h2, 0), (h1, 1, h2, 1), (h1, 2, h1, 5), (h1, 6, h1, 9), (h1, 10, h1, 12)]
    add(dict(enumerate(COLUMN_NUMBERS)), "numbers")
    sums = [0] * 11
    for i, (name, values) in enumerate(rows, start=1):
        add({0: i, 1: name, **{c: v for c, v in enumerate(values, start=2)}}, "body")
        sums = [a + b for a, b in zip(sums, values, strict=True)]
    add({1: "Tổng cộng", **{c: v for c, v in enumerate(sums, start=2)}}, "total")
    add({})
    r = add({9: place_date}, "italic")
    merges.append((r, 9, r, 12))
    r = add({1: "NGƯỜI LẬP BIỂU", 9: "THỦ TRƯỞNG ĐƠN VỊ"}, "sign")
    merges += [(r, 1, r, 3), (r, 9, r, 12)]
    r = add({1: "(Ký, ghi rõ họ tên)", 9: "(Ký tên, đóng dấu)"}, "italic")
    merges += [(r, 1, r, 3), (r, 9, r, 12)]
    for _ in range(3):
        add({})
    r = add({1: signers[0], 9: signers[1]}, "sign")
    merges += [(r, 1, r, 3), (r, 9, r, 12)]
    return Report(grid, merges, styles)


def report_row(online: int, offline: int, carried: int, early: int, ondue: int, late: int, pend_in: int,
               pend_over: int) -> list[int]:
    received = online + offline + carried
    done = early + ondue + late
    pending = pend_in + pend_over
    assert received == done + pending, (received, done, pending)
    return [received, online, offline, carried, done, early, ondue, late, pending, pend_in, pend_over]


def write_report_xlsx(path: Path, report: Report, created: datetime) -> None:
    book = _workbook(path, created)
    sheet = book.add_worksheet("Biểu mẫu")
    base = {"font_name": "Times New Roman", "font_size": 11}
    fmt = {
        "org": book.add_format({**base, "bold": True, "align": "center"}),
        "note": book.add_format({**base, "italic": True}),
        "title": book.add_format({**base, "bold": True, "font_size": 13, "align": "center", "text_wrap": True}),
        "period": book.add_format({**base, "italic": True, "align": "center"}),
        "unitnote": book.add_format({**base, "italic": True, "align": "right"}),
        "header": book.add_format({**base, "bold": True, "border": 1, "align": "center", "valign": "vcenter",
                                   "text_wrap": True}),
        "numbers": book.add_format({**base, "italic": True, "border": 1, "align": "center", "font_size": 9}),
        "body": book.add_format({**base, "border": 1}),
        "total": book.add_format({**base, "bold": True, "border": 1}),
        "sign": book.add_format({**base, "bold": True, "align": "center"}),
        "italic": book.add_format({**base, "italic": True, "align": "center"}),
        "": book.add_format(base),
    }
    covered = set()
    for r1, c1, r2, c2 in report.merges:
        style = fmt[report.styles.get(r1, "")]
        sheet.merge_range(r1, c1, r2, c2, report.grid[r1][c1], style)
        covered |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    for r, row in enumerate(report.grid):
        style = fmt[report.styles.get(r, "")]
        for c, value in enumerate(row):
            if (r, c) in covered:
                continue
            if value is None:
                if report.styles.get(r) in ("body", "total", "numbers"):
                    sheet.write_blank(r, c, None, style)
                continue
            sheet.write(r, c, value, style)
    sheet.set_column(0, 0, 5)
    sheet.set_column(1, 1, 34)
    sheet.set_column(2, 12, 11)
    sheet.set_row(3, 36)
    sheet.set_row(7, 45)
    book.close()


def write_report_csv(path: Path, report: Report) -> None:
    rows = [["" if v is None else v for v in row] for row in report.grid]
    _write_csv(path, rows, bom=True, crlf=True)


def phu_tho_06a(provinces: dict[str, dict], period: Month) -> Report:
    rng = np.random.default_rng([SEED, 25, period.year * 100 + period.month])
    wards = province_units(provinces["25"])
    phuong = [u for u in wards if u.kind == "phường"]
    xa = [u for u in wards if u.kind == "xã"]
    picked = [phuong[i] for i in rng.choice(len(phuong), 3, replace=False)] + \
             [xa[i] for i in rng.choice(len(xa), 12, replace=False)]
    picked.sort(key=lambda u: u.code)
    rows = []
    for u in picked:
        big = u.kind == "phường"
        online = int(rng.integers(250, 700) if big else rng.integers(60, 320))
        offline = int(rng.integers(60, 220) if big else rng.integers(20, 140))
        carried = int(rng.integers(5, 45))
        total = online + offline + carried
        pending = int(round(total * rng.uniform(0.03, 0.12)))
        pend_over = int(rng.integers(0, min(4, pending) + 1))
        done = total - pending
        late = int(rng.binomial(done, rng.uniform(0.0, 0.03)))
        ondue = int(rng.binomial(done - late, rng.uniform(0.08, 0.3)))
        name = f"UBND {u.kind} {u.name}"
        rows.append((name.upper() if rng.random() < 0.4 else name,
                     report_row(online, offline, carried, done - late - ondue, ondue, late, pending - pend_over,
                                pend_over)))
    last = period.end - timedelta(days=1)
    return report_grid(
        ["UBND TỈNH PHÚ THỌ", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"], "Biểu số 06a/VPCP/KSTT",
        "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT TTHC",
        f"Kỳ báo cáo: Tháng {period.month}/{period.year} (Từ ngày {period.start:%d/%m/%Y} đến ngày {last:%d/%m/%Y})",
        "Đơn vị", rows, f"Phú Thọ, ngày 05 tháng {last.month % 12 + 1:02d} năm {last.year + last.month // 12}",
        ("Nguyễn Thị Thu Hà", "Trần Quang Minh"))


def nghia_tho_07a(dossiers: pl.DataFrame, units: list[Unit], period: Month) -> Report:
    """Biểu 07a for Xã Nghĩa Thọ, computed from its (final-state) dossiers so the two agree."""
    ix = next(i for i, u in enumerate(units) if u.code == NGHIA_THO)
    start = datetime.combine(period.start, datetime.min.time())
    end = datetime.combine(period.end, datetime.min.time())
    d = dossiers.filter((pl.col("unit_ix") == ix) & (pl.col("received") < end)).with_columns(
        pl.col("proc_ix").replace_strict({i: p[2] for i, p in enumerate(PROCEDURES)}, return_dtype=pl.String)
        .alias("field"))
    done_in = pl.col("finished").is_not_null() & (pl.col("finished") >= start) & (pl.col("finished") < end)
    open_at_start = pl.col("finished").is_null() | (pl.col("finished") >= start)
    open_at_end = pl.col("finished").is_null() | (pl.col("finished") >= end)
    new = pl.col("received") >= start
    fin_day, due_day = pl.col("finished").dt.date(), pl.col("due").dt.date()
    agg = d.group_by("field").agg(
        (new & (pl.col("channel") == 1)).sum().alias("online"),
        (new & (pl.col("channel") != 1)).sum().alias("offline"),
        (~new & open_at_start).sum().alias("carried"),
        (done_in & (fin_day < due_day)).sum().alias("early"),
        (done_in & (fin_day == due_day)).sum().alias("ondue"),
        (done_in & (fin_day > due_day)).sum().alias("late"),
        (open_at_end & (pl.col("due") >= end)).sum().alias("pend_in"),
        (open_at_end & (pl.col("due") < end)).sum().alias("pend_over"),
    ).filter(pl.sum_horizontal("online", "offline", "carried") > 0)
    order = list(dict.fromkeys(p[2] for p in PROCEDURES))
    agg = agg.with_columns(pl.col("field").replace_strict({f: i for i, f in enumerate(order)}).alias("_o")).sort("_o")
    rows = [(r["field"], report_row(r["online"], r["offline"], r["carried"], r["early"], r["ondue"], r["late"],
                                    r["pend_in"], r["pend_over"])) for r in agg.iter_rows(named=True)]
    last = period.end - timedelta(days=1)
    return report_grid(
        ["UBND XÃ NGHĨA THỌ", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"], "Biểu số 07a/VPCP/KSTT",
        "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC THEO LĨNH VỰC TẠI UBND XÃ NGHĨA THỌ",
        f"Kỳ báo cáo: Tháng {period.month}/{period.year} (Từ ngày {period.start.day:02d}/{period.month}/{period.year} "
        f"đến ngày {last.day:02d}/{last.month}/{last.year})",
        "Lĩnh vực", rows, f"Nghĩa Thọ, ngày 03 tháng {last.month % 12 + 1:02d} năm {last.year + last.month // 12}",
        ("Hồ Thị Lan", "Nguyễn Văn Hải"))


def write_templates(out: Path, provinces: dict[str, dict], dossiers: pl.DataFrame, units: list[Unit],
                    months: list[Month]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    by_label = {m.label: m for m in months}
    written = []
    oct25 = by_label.get("2025-10")
    if oct25:
        report = phu_tho_06a(provinces, oct25)
        path = out / "bao_cao_06a_phu_tho_2025_10.xlsx"
        write_report_xlsx(path, report, datetime(2025, 11, 5, 9, 0))
        csv_path = out / "bao_cao_06a_phu_tho_2025_10.csv"
        write_report_csv(csv_path, report)
        written += [path, csv_path]
    sep25 = by_label.get("2025-09")
    if sep25:
        path = out / "bao_cao_07a_nghia_tho_2025_09.xlsx"
        write_report_xlsx(path, nghia_tho_07a(dossiers, units, sep25), datetime(2025, 10, 3, 8, 15))
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------
# Reference list of procedures
# ---------------------------------------------------------------------------------------
def write_procedures_csv(path: Path = PROCEDURES_CSV) -> Path:
    rows = [[c, n, f, lv, _yn(b)] for c, n, f, lv, b, *_rest in PROCEDURES]
    assert len({r[0] for r in rows}) == len(rows), "duplicate procedure code"
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(path, rows, ["procedure_code", "procedure_name", "field", "level", "business_related"])
    return path


# ---------------------------------------------------------------------------------------
_OWN_FILES = {"dossiers": ("[0-9][0-9]_*.csv", "[0-9][0-9]_*.xlsx"), "catalogue": ("danh_muc_dvc_*.csv",),
              "archive": ("archive_documents.csv",), "templates": ("bao_cao_0*.xlsx", "bao_cao_0*.csv")}


def _remove_previous(out_dir: Path) -> None:
    """Delete files an earlier run wrote (their names can differ with --today), and only those."""
    for sub, patterns in _OWN_FILES.items():
        for pattern in patterns:
            for old in (out_dir / sub).glob(pattern):
                old.unlink()


def generate(out_dir: Path, scale: float = 1.0, today: date = date(2026, 11, 24), *,
             procedures_csv: Path | None = None) -> dict[str, list[Path]]:
    """Write the demo data set under out_dir; returns the files written, by kind."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    out_dir = Path(out_dir)
    provinces = load_provinces()
    units = covered_units(provinces)
    months = months_until(today)
    if len(months) < 4:
        raise ValueError("today must be at least four months after 01/7/2025")
    dossiers = simulate_dossiers(units, months, scale, today)
    _remove_previous(out_dir)
    written = {
        "dossiers": write_dossier_files(out_dir / "dossiers", dossiers, units, months, today),
        "catalogue": write_catalogues(out_dir / "catalogue", units),
        "archive": write_archive(out_dir / "archive", units, months),
        "templates": write_templates(out_dir / "templates", provinces, dossiers, units, months),
    }
    if procedures_csv is not None:
        written["reference"] = [write_procedures_csv(Path(procedures_csv))]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate deterministic demo data for the KPI dashboard.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplier for dossier volumes (default 1.0)")
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 11, 24),
                        help="data runs up to the day before (default 2026-11-24)")
    parser.add_argument("--write-reference", action="store_true",
                        help=f"also (re)write {PROCEDURES_CSV.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    written = generate(args.out_dir, args.scale, args.today,
                       procedures_csv=PROCEDURES_CSV if args.write_reference else None)
    for kind, paths in written.items():
        for p in paths:
            print(f"{kind:10s} {p}  ({p.stat().st_size:,} bytes)")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
