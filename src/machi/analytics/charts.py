"""Accessible charts rendered on the server (matplotlib's SVG and Agg backends).

A :class:`Chart` is the data of one chart; it renders itself as SVG, PNG and CSV, and
gives the table shown beside it (the screen reader's way in)::

    from machi.analytics.charts import Chart, Series

    chart = Chart(
        kind="bar",                       # "bar", "line" or "band"
        title="時間帯別の来庁者数",
        description="9時台が最も多い。",   # goes into the SVG's <desc>
        x_label="時間帯",
        y_label="来庁者数",
        categories=["9時", "10時"],        # the x axis (strings)
        series=[Series("来庁者数", [12, 30])],
    )
    chart.svg()    # str: <svg role="img" aria-labelledby=…><title>…</title><desc>…</desc>…
    chart.png()    # bytes
    chart.csv()    # str, UTF-8 with BOM (Excel opens it), header row then one row a category
    chart.table()  # (headers, rows) for the HTML table beside the chart

* ``kind="bar"``: grouped bars, one group per category, one bar per series.
* ``kind="line"``: one line per series.
* ``kind="band"``: ``series[0]`` is the line, ``lower``/``upper`` bound the shaded
  uncertainty band around it (e.g. a forecast's 80 % interval); the band's bounds also
  appear in the table and the CSV.

A value of ``None`` is a suppressed figure (秘匿): it is left out of the plot and shown
as ``X`` in the table and the CSV. Rendered SVGs and PNGs are cached by content, so a
warm page re-renders nothing. Text is kept as text in the SVG (``svg.fonttype=none``)
and drawn with Noto Sans CJK JP in the PNG.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

SUPPRESSED_MARK = "X"
# Okabe–Ito: distinguishable with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]
RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "machi",
    "font.family": ["Noto Sans CJK JP", "DejaVu Sans"],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
KINDS = ("bar", "line", "band")
CACHE_SIZE = 256

_render_lock = threading.Lock()
_cache: OrderedDict[tuple[str, str], bytes | str] = OrderedDict()


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | int | None]


@dataclass
class Chart:
    kind: str
    title: str
    categories: list[str]
    series: list[Series]
    description: str = ""
    x_label: str = ""
    y_label: str = ""
    lower: list[float | None] | None = None
    upper: list[float | None] | None = None
    lower_label: str = "下限"
    upper_label: str = "上限"
    slug: str = "chart"
    note: str = ""
    digits: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown chart kind {self.kind!r} (one of {', '.join(KINDS)})")
        for s in self.series:
            if len(s.values) != len(self.categories):
                raise ValueError(f"series {s.name!r}: one value per category is needed")
        if self.kind == "band":
            if not self.series or self.lower is None or self.upper is None:
                raise ValueError("a band chart needs one series and lower/upper bounds")
            if len(self.lower) != len(self.categories) or len(self.upper) != len(self.categories):
                raise ValueError("lower/upper need one value per category")

    # --- the table -----------------------------------------------------------------

    def headers(self) -> list[str]:
        names = [s.name for s in self.series]
        if self.kind == "band":
            names += [self.lower_label, self.upper_label]
        return [self.x_label or "", *names]

    def columns(self) -> list[list[float | int | None]]:
        cols = [list(s.values) for s in self.series]
        if self.kind == "band":
            cols += [list(self.lower or []), list(self.upper or [])]
        return cols

    def _format(self, value: float | int | None) -> str:
        if value is None:
            return SUPPRESSED_MARK
        if isinstance(value, int):
            return str(value)
        return f"{value:.{self.digits}f}"

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Headers and rows (strings) of the data table shown beside the chart."""
        cols = self.columns()
        rows = [
            [category, *(self._format(col[i]) for col in cols)]
            for i, category in enumerate(self.categories)
        ]
        return self.headers(), rows

    def csv(self) -> str:
        """The chart's data as CSV, UTF-8 with BOM; suppressed figures are ``X``."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        headers, rows = self.table()
        writer.writerow(headers)
        writer.writerows(rows)
        return "\ufeff" + out.getvalue()

    # --- rendering -----------------------------------------------------------------

    def _key(self) -> str:
        parts = repr(
            (
                self.kind,
                self.title,
                self.description,
                self.x_label,
                self.y_label,
                self.categories,
                [(s.name, s.values) for s in self.series],
                self.lower,
                self.upper,
                self.slug,
            )
        )
        return hashlib.sha256(parts.encode()).hexdigest()

    def _figure(self) -> Figure:
        fig = Figure(figsize=(7.2, 3.4), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        positions = list(range(len(self.categories)))
        if self.kind == "bar":
            count = max(len(self.series), 1)
            width = 0.8 / count
            for n, s in enumerate(self.series):
                xs = [p - 0.4 + width * (n + 0.5) for p in positions]
                pairs = [(x, v) for x, v in zip(xs, s.values, strict=True) if v is not None]
                ax.bar(
                    [x for x, _ in pairs],
                    [v for _, v in pairs],
                    width=width,
                    color=PALETTE[n % len(PALETTE)],
                    label=s.name,
                )
        else:
            if self.kind == "band":
                pts = [
                    (p, lo, hi)
                    for p, lo, hi in zip(positions, self.lower, self.upper, strict=True)
                    if lo is not None and hi is not None
                ]
                ax.fill_between(
                    [p for p, _, _ in pts],
                    [lo for _, lo, _ in pts],
                    [hi for _, _, hi in pts],
                    color=PALETTE[0],
                    alpha=0.2,
                    linewidth=0,
                    label=f"{self.lower_label}〜{self.upper_label}",
                )
            for n, s in enumerate(self.series):
                pairs = [(p, v) for p, v in zip(positions, s.values, strict=True) if v is not None]
                ax.plot(
                    [p for p, _ in pairs],
                    [v for _, v in pairs],
                    color=PALETTE[n % len(PALETTE)],
                    marker="o" if len(pairs) <= 31 else None,
                    markersize=3,
                    label=s.name,
                )
        step = max(1, len(positions) // 16)
        ax.set_xticks(positions[::step], self.categories[::step])
        if len(positions) > 8:
            for label in ax.get_xticklabels():
                label.set_rotation(45)
                label.set_horizontalalignment("right")
        ax.set_xlabel(self.x_label)
        ax.set_ylabel(self.y_label)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        if len(self.series) > 1 or self.kind == "band":
            ax.legend(frameon=False, fontsize=8)
        ax.set_title(self.title)
        return fig

    def _rendered(self, fmt: str):
        key = (self._key(), fmt)
        with _render_lock:
            hit = _cache.get(key)
            if hit is not None:
                _cache.move_to_end(key)
                return hit
            with matplotlib.rc_context(RC):
                fig = self._figure()
                if fmt == "svg":
                    out = io.StringIO()
                    FigureCanvasSVG(fig).print_svg(out, metadata={"Date": None})
                    value = _accessible_svg(out.getvalue(), self)
                else:
                    buffer = io.BytesIO()
                    FigureCanvasAgg(fig).print_png(buffer, metadata={"Software": None})
                    value = buffer.getvalue()
            _cache[key] = value
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
            return value

    def svg(self) -> str:
        """The chart as an SVG document with role="img", <title> and <desc>."""
        return self._rendered("svg")

    def png(self) -> bytes:
        return self._rendered("png")

    def svg_inline(self) -> str:
        """The SVG without its XML prolog, to embed in an HTML page."""
        text = self.svg()
        return text[text.index("<svg") :]


def _accessible_svg(text: str, chart: Chart) -> str:
    start = text.index("<svg")
    end = text.index(">", start)
    ident = f"chart-{chart.slug}"
    description = chart.description or chart.title
    opening = text[start:end]
    opening += (
        f' role="img" aria-labelledby="{ident}-title {ident}-desc"'
        f' class="analytics-chart" focusable="false"'
    )
    inserted = (
        f'<title id="{ident}-title">{html.escape(chart.title)}</title>'
        f'<desc id="{ident}-desc">{html.escape(description)}</desc>'
    )
    return text[:start] + opening + ">" + inserted + text[end + 1 :]
