"""The site's named date formats (Django's FORMAT_MODULE_PATH; `date` filter letters).

Every date a reader sees is written in one of these, by name: `{% time moment "DATE_FORMAT" %}`,
`|date:"YEAR_MONTH_FORMAT"` or `newsroom.dates.shown(moment, "DATETIME_FORMAT")`. Formats not
named here are Django's own for the language.
"""

DATE_FORMAT = "j F Y"  # 12 February 2026
DATETIME_FORMAT = "j F Y, H:i"  # 12 February 2026, 19:30
SHORT_DATE_FORMAT = "j M Y"  # 12 Feb 2026 (in tables)
SHORT_DATETIME_FORMAT = "j M Y, H:i"  # 12 Feb 2026, 19:30 (in the admin's tables and messages)
YEAR_MONTH_FORMAT = "F Y"  # February 2026
TIME_FORMAT = "H:i"  # 19:30 (live blog entries, shown under their day)
