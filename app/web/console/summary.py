"""The monthly summary as people read it: numbers and months in Norwegian or English (Babel),
a bar chart of requests per month by kind drawn as SVG on the server, and the same table as
CSV. Presentation only; the counting is ``app.domain.monthly_summary``."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from app.domain.monthly_summary import Figures, Month, Summary
from app.domain.report_values import locale
from app.domain.requests import RequestKind

# Okabe-Ito colours: told apart with the common colour-vision deficiencies.
COLOURS: dict[RequestKind, str] = {
    RequestKind.access: "#0072B2",
    RequestKind.rectification: "#E69F00",
    RequestKind.erasure: "#009E73",
    RequestKind.restriction: "#CC79A7",
    RequestKind.portability: "#56B4E9",
    RequestKind.objection: "#D55E00",
    RequestKind.withdraw_consent: "#8C6D00",
}
KINDS = list(RequestKind)


def month_name(month: Month, lang: str) -> str:
    """november 2026 / November 2026."""
    return format_date(month.first_day, "LLLL y", locale=locale(lang))


def short_month(month: Month, lang: str) -> str:
    return format_date(month.first_day, "LLL", locale=locale(lang)).rstrip(".")


def number(value: float | None, lang: str) -> str:
    return "–" if value is None else format_decimal(value, "#,##0.#", locale=locale(lang))


def share(value: float | None, lang: str) -> str:
    return "–" if value is None else format_percent(value, locale=locale(lang))


@dataclass(frozen=True)
class Row:
    """One line of the summary table, every value as text."""

    label: str
    received: list[str]  # per kind, in ``KINDS`` order
    received_total: str
    answered: str
    on_time: str
    on_time_share: str
    median_days: str
    extended: str
    refused: str
    withdrawn: str


def row(label: str, f: Figures, lang: str) -> Row:
    return Row(
        label=label,
        received=[number(f.received[k], lang) for k in KINDS],
        received_total=number(f.received_total, lang),
        answered=number(f.answered, lang),
        on_time=number(f.on_time, lang),
        on_time_share=share(f.on_time_share, lang),
        median_days=number(f.median_days, lang),
        extended=number(f.extended, lang),
        refused=number(f.refused, lang),
        withdrawn=number(f.withdrawn, lang),
    )


def rows(summary: Summary, lang: str, total_label: str) -> list[Row]:
    """Each month, newest last, then the months together."""
    each = [row(month_name(m, lang), f, lang) for m, f in summary.months]
    return [*each, row(total_label, summary.year, lang)]


def headers(w: dict[str, str]) -> list[str]:
    return [
        w["ov_month"],
        *(w[f"ov_kind_{k.value}"] for k in KINDS),
        w["ov_received_total"],
        w["ov_answered"],
        w["ov_on_time"],
        w["ov_on_time_share"],
        w["ov_median_days"],
        w["ov_extended"],
        w["ov_refused"],
        w["ov_withdrawn"],
    ]


def csv_text(summary: Summary, lang: str, w: dict[str, str]) -> str:
    """The table as CSV (semicolons, as Norwegian spreadsheets expect; a byte order mark so
    they read it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers(w))
    for r in rows(summary, lang, w["ov_twelve_months"]):
        writer.writerow(
            [
                r.label,
                *r.received,
                r.received_total,
                r.answered,
                r.on_time,
                r.on_time_share,
                r.median_days,
                r.extended,
                r.refused,
                r.withdrawn,
            ]
        )
    return "\ufeff" + out.getvalue()


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Swatch:
    x: float
    y: float
    fill: str
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    bars: list[Bar]
    ticks: list[Label]
    months: list[Label]
    years: list[Label]
    legend: list[Swatch]


WIDTH, PLOT_HEIGHT, LEFT, TOP = 720, 220, 44, 12
LEGEND_COLUMNS, LEGEND_ROW = 4, 22


def nice_top(highest: int) -> tuple[int, int]:
    """The axis's top and step: a step of 1, 2 or 5 times a power of ten, at most 5 steps."""
    if highest <= 0:
        return 1, 1
    rough = highest / 5
    power = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= rough)
    return step * math.ceil(highest / step), step


def chart(summary: Summary, lang: str, w: dict[str, str]) -> Chart:
    """Stacked bars: one per month, one part per kind of request received that month."""
    count = len(summary.months)
    slot = (WIDTH - LEFT - 8) / count
    bottom = TOP + PLOT_HEIGHT
    top_value, step = nice_top(max(f.received_total for _, f in summary.months))
    scale = PLOT_HEIGHT / top_value
    bars: list[Bar] = []
    months: list[Label] = []
    years: list[Label] = []
    for i, (month, f) in enumerate(summary.months):
        x = LEFT + i * slot + slot * 0.15
        y = float(bottom)
        for kind in KINDS:
            n = f.received[kind]
            if not n:
                continue
            height = n * scale
            y -= height
            title = f"{w[f'ov_kind_{kind.value}']}, {month_name(month, lang)}: {number(n, lang)}"
            bars.append(Bar(x, y, slot * 0.7, height, COLOURS[kind], title))
        centre = LEFT + i * slot + slot / 2
        months.append(Label(centre, bottom + 18, short_month(month, lang)))
        if i == 0 or month.month == 1:
            years.append(Label(centre, bottom + 34, str(month.year)))
    ticks = [
        Label(LEFT - 6, bottom - v * scale, number(v, lang)) for v in range(0, top_value + 1, step)
    ]
    legend_top = bottom + 52
    column = (WIDTH - LEFT) / LEGEND_COLUMNS
    legend = [
        Swatch(
            LEFT + (i % LEGEND_COLUMNS) * column,
            legend_top + (i // LEGEND_COLUMNS) * LEGEND_ROW,
            COLOURS[kind],
            w[f"ov_kind_{kind.value}"],
        )
        for i, kind in enumerate(KINDS)
    ]
    rows_of_legend = math.ceil(len(KINDS) / LEGEND_COLUMNS)
    return Chart(
        width=WIDTH,
        height=legend_top + rows_of_legend * LEGEND_ROW,
        left=LEFT,
        right=WIDTH - 8,
        top=TOP,
        bottom=bottom,
        bars=bars,
        ticks=ticks,
        months=months,
        years=years,
        legend=legend,
    )


def description(summary: Summary, lang: str, w: dict[str, str]) -> str:
    """The chart in one sentence per month, for screen readers (``<desc>``)."""
    parts = [f"{month_name(m, lang)}: {number(f.received_total, lang)}" for m, f in summary.months]
    return w["ov_chart_desc"].format(months="; ".join(parts))
