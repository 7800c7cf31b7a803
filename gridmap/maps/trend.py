"""The 三率 trend of a region: response, resolution and satisfaction rate per week, drawn
on the server as one small SVG (no chart library, nothing from a CDN).

`weekly_rates` reads gridmap.metrics grouped by the China week an issue was reported in
(Monday to Sunday, as the metrics count issues by report date); `trend_svg` draws them.
Every text in the SVG is escaped; each line also differs by dash and marker shape, so the
chart reads in greyscale and for colour-blind readers; each point carries its week, rate and
value as data attributes, so what is drawn can be checked against the SQL. Core: no Flask.
"""

from __future__ import annotations

from datetime import date, timedelta

from markupsafe import escape

from gridmap import metrics
from gridmap.policy import Scope

RATES = ("response_rate", "resolution_rate", "satisfaction_rate")
# (colour, dash, marker) per rate.
LOOKS = {"response_rate": ("#1a73e8", "", "circle"),
         "resolution_rate": ("#e8710a", "6 3", "square"),
         "satisfaction_rate": ("#188038", "2 3", "diamond")}
WIDTH, HEIGHT = 340, 210
LEFT, RIGHT, TOP, BOTTOM = 42, 10, 30, 46


WEEKS = 12


def last_weeks(today: date, count: int = WEEKS) -> list[str]:
    """The Mondays of the `count` weeks up to and including today's, oldest first,
    as 'YYYY-MM-DD'."""
    monday = today - timedelta(days=today.weekday())
    return [(monday - timedelta(weeks=back)).isoformat() for back in range(count - 1, -1, -1)]


def weekly_rates(session, scope: Scope, weeks: list[str]) -> dict[str, list[float | None]]:
    """Each rate in percent per week of `weeks` (None where no valid callback)."""
    first = date.fromisoformat(weeks[0])
    rows = {row.key: row for row in metrics.compute(session, scope, by="week",
                                                    period=metrics.Period(first, None))}
    return {rate: [None if week not in rows or rows[week].rates[rate] is None
                   else round(rows[week].rates[rate] * 100, 1) for week in weeks]
            for rate in RATES}


def _marker(shape: str, x: float, y: float, colour: str, data: str = "") -> str:
    data = " " + data if data else ""
    if shape == "square":
        return (f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{colour}"'
                f'{data}/>')
    if shape == "diamond":
        return (f'<path d="M{x:.1f} {y - 4:.1f}L{x + 4:.1f} {y:.1f}L{x:.1f} {y + 4:.1f}'
                f'L{x - 4:.1f} {y:.1f}Z" fill="{colour}"{data}/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.2" fill="{colour}"{data}/>'


def trend_svg(title: str, weeks: list[str], series: dict[str, list[float | None]],
              names: dict[str, str], empty_note: str) -> str:
    """The chart: y from the lowest value's ten (at most 50) to 100 %, one line per rate;
    `weeks` as 'YYYY-MM-DD' (each labelled 'MM-DD', every other one)."""
    values = [v for line in series.values() for v in line if v is not None]
    low = min(50, int(min(values) // 10 * 10)) if values else 50
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(weeks) - 1, 1)

    def x(i):
        return LEFT + i * step

    def y(v):
        return TOP + plot_h * (100 - v) / (100 - low)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" '
             'font-family="sans-serif" font-size="12">',
             f'<title>{escape(title)}</title>',
             f'<text x="{LEFT}" y="16" font-size="14" font-weight="bold">{escape(title)}</text>']
    for v in range(low, 101, 10):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     'stroke="#dadce0"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y(v) + 3:.1f}" text-anchor="end">{v}%</text>')
    for i, week in enumerate(weeks):
        if (len(weeks) - 1 - i) % 2 == 0:  # every other week, ending with this one
            parts.append(f'<text x="{x(i):.1f}" y="{TOP + plot_h + 12}" text-anchor="middle">'
                         f'{escape(week[5:])}</text>')
    for rate, line in series.items():
        colour, dash, shape = LOOKS[rate]
        points = [(x(i), y(v)) for i, v in enumerate(line) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            dashing = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"{dashing}/>')
        parts += [_marker(shape, x(i), y(v), colour,
                          f'data-week="{escape(weeks[i])}" data-rate="{rate}" data-value="{v}"')
                  for i, v in enumerate(line) if v is not None]
    for i, rate in enumerate(series):
        colour, dash, shape = LOOKS[rate]
        lx = LEFT + i * (plot_w / 3)
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{lx:.1f}" x2="{lx + 18:.1f}" y1="{HEIGHT - 10}" '
                     f'y2="{HEIGHT - 10}" stroke="{colour}" stroke-width="2"{dashing}/>')
        parts.append(_marker(shape, lx + 9, HEIGHT - 10, colour))
        parts.append(f'<text x="{lx + 22:.1f}" y="{HEIGHT - 7}">{escape(names[rate])}</text>')
    if not values:
        parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" '
                     f'text-anchor="middle" fill="#5f6368">{escape(empty_note)}</text>')
    parts.append("</svg>")
    return "".join(parts)
