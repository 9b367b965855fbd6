"""Geometry for the statistics page's server-rendered SVG charts.

No JavaScript: the templates cases/_timeline_chart.html and cases/_bar_chart.html draw what
these functions compute. Coordinates are in the SVG's own units (its viewBox); the SVG
scales to the width of the page.
"""

import datetime
import math

from cases.site.page_filters import thousands

# Timeline (cases per month): a column per month.
TIMELINE_WIDTH = 800
TIMELINE_HEIGHT = 260
TIMELINE_LEFT = 44  # room for the y-axis numbers
TIMELINE_TOP = 12
TIMELINE_BOTTOM = 28  # room for the year labels
MAX_YEAR_LABELS = 12
MIN_TIMELINE_SLOTS = 12

# Horizontal bars (top countries, keywords, outlets, languages).
BAR_WIDTH = 480
BAR_LABEL_WIDTH = 160
BAR_VALUE_WIDTH = 48
BAR_VALUE_CHAR_WIDTH = 8  # pixels per character of a value label
BAR_ROW_HEIGHT = 26
BAR_THICKNESS = 18
BAR_LABEL_CHARS = 24


def month_range(first, last):
    """Every first-of-month date from first to last, inclusive."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(datetime.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def fill_months(counts):
    """{month: count} to [(month, count)] for every month between the first and the last."""
    if not counts:
        return []
    return [(month, counts.get(month, 0)) for month in month_range(min(counts), max(counts))]


def nice_ceiling(value):
    """The smallest round number (1, 2, 3, 4, 5, 6 or 8 times a power of ten) >= value."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def timeline_chart(month_counts):
    """Columns, y-axis ticks and year labels for [(month, count)] in month order."""
    plot_width = TIMELINE_WIDTH - TIMELINE_LEFT
    plot_height = TIMELINE_HEIGHT - TIMELINE_TOP - TIMELINE_BOTTOM
    baseline = TIMELINE_TOP + plot_height
    top = nice_ceiling(max((count for _, count in month_counts), default=0))
    # A year's room at least, so a view of a few months does not draw a few giant columns.
    slot = plot_width / max(len(month_counts), MIN_TIMELINE_SLOTS)
    gap = min(2.0, slot * 0.2)

    columns = []
    for index, (month, count) in enumerate(month_counts):
        height = plot_height * count / top
        columns.append(
            {
                "month": month,
                "count": count,
                "x": round(TIMELINE_LEFT + index * slot + gap / 2, 2),
                "y": round(baseline - height, 2),
                "width": round(slot - gap, 2),
                "height": round(height, 2),
            }
        )

    ticks = [
        {
            "value": value,
            "y": round(baseline - plot_height * value / top, 2),
            "label_y": round(baseline - plot_height * value / top + 4, 2),
        }
        for value in sorted({0, top // 2, top})
    ]
    years = sorted({month.year for month, _ in month_counts})
    every = math.ceil(len(years) / MAX_YEAR_LABELS) if years else 1
    year_labels = [
        {"year": column["month"].year, "x": column["x"]}
        for index, column in enumerate(columns)
        # The first column is labelled too, unless January follows too closely for room.
        if (column["month"].month == 1 or (index == 0 and column["month"].month <= 9))
        and (column["month"].year - years[0]) % every == 0
    ]
    peak = max(columns, key=lambda column: column["count"], default=None)
    return {
        "peak": peak,
        "first_month": columns[0]["month"] if columns else None,
        "last_month": columns[-1]["month"] if columns else None,
        "tick_label_x": TIMELINE_LEFT - 6,
        "width": TIMELINE_WIDTH,
        "height": TIMELINE_HEIGHT,
        "left": TIMELINE_LEFT,
        "baseline": baseline,
        "columns": columns,
        "ticks": ticks,
        "year_labels": year_labels,
        "label_y": baseline + 18,
    }


def bar_chart(rows):
    """Horizontal bars for rows of {"name", "count", …}, largest first as given."""
    largest = max((row["count"] for row in rows), default=0) or 1
    # Room after the longest bar for the widest value ("1,234,567").
    value_width = max(BAR_VALUE_WIDTH, len(f"{largest:,}") * BAR_VALUE_CHAR_WIDTH + 8)
    bar_space = BAR_WIDTH - BAR_LABEL_WIDTH - value_width
    bars = []
    for index, row in enumerate(rows):
        y = index * BAR_ROW_HEIGHT
        width = round(bar_space * row["count"] / largest, 2)
        name = row["name"]
        label = name if len(name) <= BAR_LABEL_CHARS else name[: BAR_LABEL_CHARS - 1] + "…"
        bars.append(
            {
                **row,
                "label": label,
                "value_text": thousands(row["count"]),
                "y": y + (BAR_ROW_HEIGHT - BAR_THICKNESS) / 2,
                "text_y": y + BAR_ROW_HEIGHT / 2 + 5,
                "width": max(width, 1),
                "value_x": BAR_LABEL_WIDTH + max(width, 1) + 6,
            }
        )
    return {
        "width": BAR_WIDTH,
        "height": max(len(rows), 1) * BAR_ROW_HEIGHT,
        "label_x": BAR_LABEL_WIDTH - 8,
        "bar_x": BAR_LABEL_WIDTH,
        "bars": bars,
    }
