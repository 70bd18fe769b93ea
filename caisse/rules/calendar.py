"""Working days of metropolitan France, shared by the rules that count *jours ouvrés*.

Public holidays come from the ``holidays`` library (metropolitan France); the extra days of
Alsace-Moselle (Good Friday, 26 December) are not handled. A working day (*jour ouvré*) is a
Monday to Friday that is not a public holiday. Pure Python and numpy, no Django.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays
import numpy as np


@cache
def public_holidays(year: int) -> frozenset[dt.date]:
    """The public holidays of metropolitan France in ``year``."""
    return frozenset(holidays.country_holidays("FR", years=year).keys())


def is_public_holiday(day: dt.date) -> bool:
    return day in public_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not a French public holiday."""
    return day.weekday() < 5 and not is_public_holiday(day)


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself when it is a working day, otherwise the first working day after it."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


@cache
def _calendar(first_year: int, last_year: int) -> np.busdaycalendar:
    days = sorted(d for year in range(first_year, last_year + 1) for d in public_holidays(year))
    return np.busdaycalendar(weekmask="1111100", holidays=np.array(days, dtype="datetime64[D]"))


def working_days_after(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """For each pair, the working days after ``start`` up to ``end`` included, i.e. in
    ``(start, end]`` (0 when ``end <= start``): the rank of ``end`` as a working day counted
    from ``start``. Arrays of ``datetime64[D]`` of one length; vectorised."""
    start = np.asarray(start, dtype="datetime64[D]")
    end = np.asarray(end, dtype="datetime64[D]")
    if start.size == 0:
        return np.zeros(0, dtype=np.int64)
    years = np.concatenate([start, end]).astype("datetime64[Y]").astype(np.int64) + 1970
    calendar = _calendar(int(years.min()), int(years.max()) + 1)
    after = np.busday_count(start + 1, end + 1, busdaycal=calendar)
    return np.maximum(after, 0).astype(np.int64)
