"""Geometry for the statistics page's server-rendered SVG charts.

No JavaScript: the templates cases/_timeline_chart.html and cases/_bar_chart.html draw what
these functions compute. Coordinates are in the SVG's own units (its viewBox); the SVG
scales to the width of the page.
"""

import datetime
import math

from django.utils.formats import date_format
from django.utils.translation import gettext

from cases.site.page_filters import thousands

# Timeline (cases per month): a column per month.
TIMELINE_WIDTH = 800
TIMELINE_HEIGHT = 260
TIMELINE_LEFT = 64  # room for the y-axis numbers
TIMELINE_TOP = 16
TIMELINE_BOTTOM = 40  # room for the period labels
MIN_TIMELINE_SLOTS = 12
# Axis text is 25 units high on a phone (site.css), so that a chart 800 units wide drawn
# 360 px wide still shows it at 11 px; a character takes about 0.55 of that.
AXIS_CHAR_WIDTH = 14

# Horizontal bars (top countries, keywords, outlets, languages).
BAR_WIDTH = 480
BAR_LABEL_WIDTH = 160
BAR_VALUE_WIDTH = 48
BAR_VALUE_CHAR_WIDTH = 8  # pixels per character of a value label
BAR_ROW_HEIGHT = 26
BAR_THICKNESS = 18
BAR_LABEL_CHARS = 18  # at a phone's 15-unit font (site.css) they fit the label room


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


GRANULARITIES = ("month", "quarter", "year")


def period_start(day, granularity):
    if granularity == "year":
        return datetime.date(day.year, 1, 1)
    if granularity == "quarter":
        return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return datetime.date(day.year, day.month, 1)


def period_end(start, granularity):
    """The last day of the period that begins on `start`."""
    months = {"month": 1, "quarter": 3, "year": 12}[granularity]
    year, month = divmod(start.month - 1 + months, 12)
    return datetime.date(start.year + year, month + 1, 1) - datetime.timedelta(days=1)


def period_label(start, granularity):
    """ "Mar 2022", "Q1 2022" or "2022": what one column or point of the chart counts."""
    if granularity == "year":
        return str(start.year)
    if granularity == "quarter":
        return gettext("Q%(quarter)s %(year)s") % {
            "quarter": (start.month - 1) // 3 + 1,
            "year": start.year,
        }
    return date_format(start, "M Y")


def periods(month_counts, granularity):
    """[(month, count)] in month order, with none missing, to [(first day, count)] per period."""
    totals = {}
    for month, count in month_counts:
        start = period_start(month, granularity)
        totals[start] = totals.get(start, 0) + count
    return sorted(totals.items())


def _frame(period_counts, granularity, top_count):
    plot_width = TIMELINE_WIDTH - TIMELINE_LEFT
    plot_height = TIMELINE_HEIGHT - TIMELINE_TOP - TIMELINE_BOTTOM
    baseline = TIMELINE_TOP + plot_height
    top = nice_ceiling(top_count)
    # A year's room at least, so a view of a few months does not draw a few giant columns.
    slot = plot_width / max(len(period_counts), MIN_TIMELINE_SLOTS)
    ticks = [
        {
            "value": value,
            "y": round(baseline - plot_height * value / top, 2),
            "label_y": round(baseline - plot_height * value / top + 8, 2),
        }
        for value in sorted({0, top // 2, top})
    ]
    starts = [start for start, _ in period_counts]
    labels = [period_label(start, granularity) for start in starts]
    # Labels may not overlap at the font size a phone's narrow chart needs (site.css):
    # every n-th period is labelled, n as small as the longest label allows.
    label_width = max((len(label) for label in labels), default=1) * AXIS_CHAR_WIDTH + 12
    every = max(1, math.ceil(label_width / slot))
    axis_labels = [
        {"text": label, "x": round(TIMELINE_LEFT + index * slot, 2)}
        for index, label in enumerate(labels)
        if index % every == 0 and TIMELINE_LEFT + index * slot + label_width - 12 <= TIMELINE_WIDTH
    ]
    return {
        "granularity": granularity,
        "slot": slot,
        "top": top,
        "plot_height": plot_height,
        "tick_label_x": TIMELINE_LEFT - 6,
        "width": TIMELINE_WIDTH,
        "height": TIMELINE_HEIGHT,
        "left": TIMELINE_LEFT,
        "baseline": baseline,
        "ticks": ticks,
        "axis_labels": axis_labels,
        "label_y": baseline + 30,
    }


def _period(start, granularity, count):
    return {
        "month": start,
        "start": start,
        "end": period_end(start, granularity),
        "label": period_label(start, granularity),
        "count": count,
    }


def timeline_chart(month_counts, granularity="month"):
    """Columns, y-axis ticks and axis labels for [(month, count)] in month order."""
    period_counts = periods(month_counts, granularity)
    chart = _frame(period_counts, granularity, max((c for _, c in period_counts), default=0))
    slot = chart["slot"]
    gap = min(2.0, slot * 0.2)
    columns = []
    for index, (start, count) in enumerate(period_counts):
        height = chart["plot_height"] * count / chart["top"]
        columns.append(
            {
                **_period(start, granularity, count),
                "x": round(TIMELINE_LEFT + index * slot + gap / 2, 2),
                "y": round(chart["baseline"] - height, 2),
                "width": round(slot - gap, 2),
                "height": round(height, 2),
            }
        )
    peak = max(columns, key=lambda column: column["count"], default=None)
    chart.update(
        columns=columns,
        peak=peak,
        first=columns[0] if columns else None,
        last=columns[-1] if columns else None,
    )
    return chart


def comparison_chart(series, granularity="month"):
    """A line per series of {"name", "months": {month: count}, …} over their common range."""
    every_month = [month for line in series for month in line["months"]]
    if not every_month:
        return None
    months = month_range(min(every_month), max(every_month))
    lines_counts = [
        periods([(month, line["months"].get(month, 0)) for month in months], granularity)
        for line in series
    ]
    top_count = max(count for counts in lines_counts for _, count in counts)
    chart = _frame(lines_counts[0], granularity, top_count)
    slot = chart["slot"]
    lines = []
    for number, (line, counts) in enumerate(zip(series, lines_counts, strict=True)):
        points = []
        for index, (start, count) in enumerate(counts):
            points.append(
                {
                    **_period(start, granularity, count),
                    "x": round(TIMELINE_LEFT + index * slot + slot / 2, 2),
                    "y": round(chart["baseline"] - chart["plot_height"] * count / chart["top"], 2),
                }
            )
        lines.append(
            {
                **line,
                "number": number,
                "points": points,
                "path": " ".join(f"{point['x']},{point['y']}" for point in points),
                "total": sum(point["count"] for point in points),
            }
        )
    chart.update(
        lines=lines,
        periods=[_period(start, granularity, 0) for start, _ in lines_counts[0]],
    )
    return chart


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
