"""Server-side SVG charts for the console: no script, no library, nothing fetched from elsewhere."""

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 32, 16, 40


@dataclass(frozen=True)
class Series:
    label: str
    values: list[int]
    color: str


GRID_LINES = 4


def _nice_max(value: int) -> int:
    """The axis top: GRID_LINES steps of 1, 2 or 5 times a power of ten (whole labels), at least ``value``."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if value <= power * factor * GRID_LINES:
                return power * factor * GRID_LINES
        power *= 10


def line_chart(title: str, labels: list[str], series: list[Series]) -> str:
    """A line chart of equally spaced points (one per label), with its values in each point's tooltip."""
    count = max(1, len(labels))
    top = _nice_max(max([1, *(v for s in series for v in s.values)]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i) -> str:  # coordinates as text: format_html escapes its arguments into strings
        return f"{LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2):.1f}"

    def y(v) -> str:
        return f"{TOP + plot_h - plot_h * v / top:.1f}"

    grid = format_html_join("", '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/>'
                                '<text x="{}" y="{}" class="axis" text-anchor="end">{}</text>',
                            ((LEFT, WIDTH - RIGHT, y(top * f // GRID_LINES), y(top * f // GRID_LINES), LEFT - 6,
                              f"{float(y(top * f // GRID_LINES)) + 4:.1f}", f"{top * f // GRID_LINES:,}")
                             for f in range(GRID_LINES + 1)))
    ticks = format_html_join("", '<text x="{}" y="{}" class="axis" text-anchor="middle">{}</text>',
                             ((x(i), HEIGHT - BOTTOM + 16, label) for i, label in enumerate(labels)
                              if i % 5 == (count - 1) % 5))
    lines = format_html_join(
        "", '<g class="series" data-series="{}"><polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>{}</g>',
        ((s.label, s.color, " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(s.values)),
          format_html_join("", '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}: {} {}</title></circle>',
                           ((x(i), y(v), s.color, labels[i], f"{v:,}", s.label) for i, v in enumerate(s.values))))
         for s in series))
    legend = format_html_join("", '<tspan fill="{}" dx="12">■ {} ({} in all)</tspan>',
                              ((s.color, s.label, f"{sum(s.values):,}") for s in series))
    return format_html(
        '<svg class="console-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
        '<style>.grid{{stroke:#ddd}}.axis{{font:11px sans-serif;fill:#666}}.legend{{font:12px sans-serif}}</style>'
        '{}{}{}<text x="{}" y="{}" class="legend">{}</text></svg>',
        title, WIDTH, HEIGHT, title, grid, ticks, lines, LEFT - 12, HEIGHT - 6, legend)
