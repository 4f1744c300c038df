from datetime import datetime, timezone

import pytest

from transforms.dates import VIETNAM, infer_from_lead, parse_dateline, parse_timestamp


@pytest.mark.parametrize(
    "line, expected, precision",
    [
        ("Thứ Ba, 04/02/2020, 18:43 [GMT+7]", datetime(2020, 2, 4, 18, 43), "minute"),
        ("Thứ Ba, 03/12/2019, 03:41:31", datetime(2019, 12, 3, 3, 41, 31), "second"),
        ("Chủ nhật, 5/1/2025 - 07:05", datetime(2025, 1, 5, 7, 5), "minute"),
        ("Cập nhật: 10/10/2023 08:15 GMT+7", datetime(2023, 10, 10, 8, 15), "minute"),
        ("Thứ tư, 22/10/2025, 19:25 (GMT+7)", datetime(2025, 10, 22, 19, 25), "minute"),
        ("18:43 04/02/2020", datetime(2020, 2, 4, 18, 43), "minute"),
        ("12/08/2024", datetime(2024, 8, 12), "day"),
    ],
)
def test_datelines(line, expected, precision):
    assert parse_dateline(line) == (expected.replace(tzinfo=VIETNAM), precision)


@pytest.mark.parametrize("line", ["31/02/2020", "Ngày 30/5/2019 Bộ Chính trị ban hành chỉ thị về đại hội", "04/02", ""])
def test_not_datelines(line):
    assert parse_dateline(line) is None


def test_lead_year_only_when_the_first_sentence_names_one():
    lead = "Chiều 28/6, tại Hà Nội, Ban Tổ chức T.Ư đánh giá sáu tháng cuối năm 2021. Năm 2020 thì khác."
    assert infer_from_lead(lead) == (datetime(2021, 6, 28, tzinfo=VIETNAM), "day_inferred_year")


@pytest.mark.parametrize(
    "lead",
    [
        "Chiều ngày 23/2, đồng chí Ngô Chí Cường tổng kết Chỉ thị số 35-CT/TW ngày 30/5/2019.",  # no "năm YYYY"
        "Sáng 27/1, Ban Tổ chức Trung ương tổng kết công tác năm 2014, triển khai nhiệm vụ năm 2015.",  # two years
        "Trong năm 2021, ngày 28/6 là một ngày quan trọng.",  # the day/month does not open the lead
        "Chiều 31/2, hội nghị năm 2021 diễn ra.",  # no such day
    ],
)
def test_no_invented_dates(lead):
    assert infer_from_lead(lead) is None


@pytest.mark.parametrize("declared, expected", [
    ("2026-03-12T09:30:00+07:00", (datetime(2026, 3, 12, 9, 30, tzinfo=VIETNAM), "second")),
    ("2026-03-12T09:30", (datetime(2026, 3, 12, 9, 30, tzinfo=VIETNAM), "minute")),  # no zone: Vietnam time
    ("2026-03-12", (datetime(2026, 3, 12, tzinfo=VIETNAM), "day")),
    ("2026-03-12T02:30:00Z", (datetime(2026, 3, 12, 2, 30, tzinfo=timezone.utc), "second")),
    ("Wed, 04 May 2022 02:41:00 GMT", (datetime(2022, 5, 4, 2, 41, tzinfo=timezone.utc), "second")),
    ("Thứ Ba, 25/12/2012 - 10:03", (datetime(2012, 12, 25, 10, 3, tzinfo=VIETNAM), "minute")),
    ("Tue Jan 28 15:28:56 CET 2020", None),  # a zone email.utils does not know: the time is not guessed
    ("hôm qua", None), ("", None), (None, None),
])
def test_declared_timestamps_are_read_with_their_precision(declared, expected):
    assert parse_timestamp(declared) == expected
