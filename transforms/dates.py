"""Publication dates from Vietnamese datelines and leads.

date_precision values:
  second / minute      a full dateline with a time ("Thứ Ba, 03/12/2019, 03:41:31")
  day                  a full date without a time
  day_inferred_year    a lead that gives only day/month ("Chiều 28/6") whose first sentence
                       names exactly one year ("... năm 2021"); the year was inferred
Nothing else is guessed: without such evidence published_at stays NULL.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def utc_now() -> datetime:
    """Now, as the instant the warehouse stores."""
    return datetime.now(timezone.utc)


def parse_moment(name: str, value: str | datetime | None) -> datetime | None:
    """A date or time given by a person (the CLI, a deployment parameter): ISO 8601, and
    Vietnam time when it names no zone. Raises ValueError with a one-line message."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=VIETNAM)
    parsed = _parse_iso(str(value).strip(), VIETNAM)
    if parsed is None:
        raise ValueError(f"{name}: not a date (YYYY-MM-DD or ISO 8601): {value!r}")
    return parsed[0]


def parse_timestamp(value: object, naive: tzinfo = VIETNAM, datelines: bool = True) -> tuple[datetime, str] | None:
    """A timestamp as pages, records and feeds declare it, with its precision (second,
    minute, day): ISO 8601, RFC 822 ("Wed, 01 May 2024 10:00:00 +0700"), and unless
    `datelines` is off a Vietnamese dateline ("27/05/13 08:58 GMT+7"). A time without a
    zone is read in `naive`. None when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    parsed = _parse_iso(value, naive) or (parse_dateline(value) if datelines else None)
    if parsed is not None:
        return parsed
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None and _ZONE_NAME.search(value):
        return None  # a zone email.utils does not know ("CET"): its clock time is not guessed
    return (moment if moment.tzinfo else moment.replace(tzinfo=naive)), "second"


# A time zone written as a name in an RFC 822 or asctime date: capitals that are not a
# day or month name ("CET", "ICT"). email.utils knows only UT, GMT and the US zones.
_ZONE_NAME = re.compile(r"\b(?!(?:MON|TUE|WED|THU|FRI|SAT|SUN|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\b)[A-Z]{2,5}\b")


def _parse_iso(value: str, naive: tzinfo) -> tuple[datetime, str] | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    timed = _ISO.match(value)
    precision = ("second" if timed["second"] else "minute") if timed and timed["hour"] else "day"
    return (moment if moment.tzinfo else moment.replace(tzinfo=naive)), precision


_WEEKDAY = r"(?:thứ\s*(?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s*nhật|cn)"
# The part of the day a 12-hour clock time is in ("11:05 tối" is 23:05).
_PERIOD = r"sáng|trưa|chiều|tối|đêm|am|pm|SA|CH"
_AFTERNOON = ("chiều", "tối", "pm", "ch")
_DATELINE = re.compile(
    rf"^(?:(?:cập nhật|đăng|ngày đăng|xuất bản)\s*:?\s*)?(?:{_WEEKDAY}\s*,?\s*)?(?:ngày\s*)?"
    r"(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4}|\d{2})"
    r"(?:\s*[,|-]?\s*(?:lúc\s*)?(?P<hour>\d{1,2})[:h](?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    rf"(?:\s*(?P<period>{_PERIOD}))?)?"
    r"\s*(?:\(?\[?\s*(?:gmt|utc)\s*\+\s*7\s*\]?\)?)?\.?$",
    re.I,
)
_TIME_FIRST = re.compile(
    r"^(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?:\(?gmt\+7\)?)?\s*,?\s*"
    r"(?:ngày\s*)?(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4})$",
    re.I,
)
_ISO = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
)
# "Chiều 28/6, ...", "Ngày 2-12, ...", "(NLĐO) - Sáng 27/1, ...", "Chiều ngày 23/2, ..."
_LEAD_DAY_MONTH = re.compile(
    r"^(?:\([^()]{1,30}\)\s*[-–—]?\s*)?(?:(?:sáng|chiều|trưa|tối|đêm|khuya|rạng sáng)\s+)?"
    r"(?:hôm\s+nay\s*\(?)?(?:ngày\s+)?(?P<day>\d{1,2})[/-](?P<month>\d{1,2})(?![/-]?\d)",
    re.I,
)
_YEAR_PHRASE = re.compile(r"\bnăm\s+(?P<year>(?:19|20)\d{2})\b", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZĐÀ-Ỹ\"“])")


def parse_dateline(line: str) -> tuple[datetime, str] | None:
    """A whole line that is a date (and maybe time), in Vietnam time, with its precision."""
    candidate = line.strip()
    if len(candidate) > 60:
        return None
    match = _DATELINE.match(candidate) or _TIME_FIRST.match(candidate) or _ISO.match(candidate)
    if not match:
        return None
    return _build(match.groupdict())


def _build(parts: dict) -> tuple[datetime, str] | None:
    try:
        hour, minute, second = (int(parts.get(key) or 0) for key in ("hour", "minute", "second"))
        hour = _twenty_four_hour(hour, (parts.get("period") or "").lower())
        year = int(parts["year"])
        year += 2000 if year < 100 else 0  # "27/05/13": two-digit years are this century's
        moment = datetime(year, int(parts["month"]), int(parts["day"]), hour, minute, second, tzinfo=VIETNAM)
    except (TypeError, ValueError):
        return None
    if parts.get("second"):
        precision = "second"
    elif parts.get("hour"):
        precision = "minute"
    else:
        precision = "day"
    return moment, precision


def _twenty_four_hour(hour: int, period: str) -> int:
    """A clock hour read with the part of the day printed after it: afternoon and evening
    hours below 12 are after noon; at night ("đêm") 6 to 11 are too ("11 giờ đêm"), 0 to 5 not."""
    if hour < 12 and (period in _AFTERNOON or (period == "đêm" and hour >= 6) or (period == "trưa" and hour < 6)):
        return hour + 12
    if hour == 12 and period in ("sáng", "am", "sa"):
        return 0
    return hour


def first_sentence(paragraph: str) -> str:
    return _SENTENCE_END.split(paragraph, maxsplit=1)[0]


def infer_from_lead(lead: str) -> tuple[datetime, str] | None:
    """Day/month at the start of a lead, with the year only when its first sentence names exactly one."""
    sentence = first_sentence(lead.strip())
    match = _LEAD_DAY_MONTH.match(sentence)
    if not match:
        return None
    years = {int(found.group("year")) for found in _YEAR_PHRASE.finditer(sentence)}
    if len(years) != 1:
        return None
    built = _build({"day": match.group("day"), "month": match.group("month"), "year": years.pop()})
    if built is None:
        return None
    return built[0], "day_inferred_year"
