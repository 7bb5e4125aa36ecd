"""The day a console page shows when none is asked for: today in China on the injected clock.

"Today" is the day in the group's home zone (Asia/Shanghai), where most of its orders are (Southeast
Asia is 0-1 hour behind): from 16:00 UTC the UTC+8 markets' new day has begun and is the one shown.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

HOME = ZoneInfo("Asia/Shanghai")


def home_today(now: dt.datetime) -> dt.date:
    return now.astimezone(HOME).date()
