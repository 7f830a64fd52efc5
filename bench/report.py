"""The bench's output: tables with each step's ratio to its floor, the machine it ran on, the
marked section of docs/performance.md and the latency chart docs/performance-latency.svg."""

from __future__ import annotations

import math
import os
import platform
import re
import subprocess
from html import escape
from pathlib import Path

from bench.common import ROOT

PAGE = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "performance-latency.svg"
BEGIN, END = "<!-- bench:begin (written by make bench) -->", "<!-- bench:end -->"
HEADER = ("step", "clients", "count", "errors", "per s", "p50 ms", "p95 ms", "p99 ms", "vs floor")
CHARTED = ("search page", "product page", "add to cart", "update quantity", "checkout submit", "order status page")
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def row(name: str, figures: dict, ratio: str = "") -> tuple:
    return (name, figures.get("clients", "-"), figures["count"], figures.get("errors", 0), f"{figures['rps']:.1f}",
            f"{figures['p50_ms']:.1f}", f"{figures['p95_ms']:.1f}", f"{figures['p99_ms']:.1f}", ratio)


def ratio(value: float, floor: float, target: float | None = None, at_least: bool = False) -> str:
    if not floor:
        return "-"
    text = f"{value / floor:.2f}x"
    if target is not None:
        met = value / floor >= target if at_least else value / floor <= target
        text += f" ({'≥' if at_least else '≤'} {target:g}x: {'met' if met else 'NOT met'})"
    return text


def text_table(rows: list[tuple], header: tuple = HEADER) -> str:
    lines = [header] + [tuple(str(cell) for cell in line) for line in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in lines)


def markdown_table(rows: list[tuple], header: tuple = HEADER) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in line) + " |" for line in rows]
    return "\n".join(lines)


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    found = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    ram = f"{int(found.group(1)) / 1024 / 1024:.1f} GiB" if found else "unknown"
    return (f"{os.cpu_count()} cores ({model}), {ram} RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {_java_version()}")


def _java_version() -> str:
    java = next(ROOT.glob(".local/**/bin/java"), None)
    try:
        answer = subprocess.run([str(java) if java else "java", "-version"], capture_output=True, text=True,
                                timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "JDK unknown"
    first = (answer.stderr or answer.stdout).splitlines()
    return first[0].replace('"', "") if first else "JDK unknown"


def write_page(sections: list[tuple[str, list[tuple], str]], header_note: str) -> None:
    """Replace the marked section of docs/performance.md with the run's tables."""
    parts = [BEGIN, "", header_note, ""]
    for title, rows, note in sections:
        parts += [f"### {title}", "", markdown_table(rows), ""]
        if note:
            parts += [note, ""]
    parts += ["![Latency against concurrent shoppers](performance-latency.svg)", "", END]
    section = "\n".join(parts)
    page = PAGE.read_text() if PAGE.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in page:
        page = page.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    before, rest = page.split(BEGIN, 1)
    after = rest.split(END, 1)[1] if END in rest else ""
    PAGE.write_text(before + section + after)


def write_chart(journeys: dict[int, dict]) -> None:
    """p50 (solid) and p95 (dashed) of the journey's steps against concurrent shoppers, as an SVG."""
    shoppers = sorted(journeys)
    series = {name: [(users, journeys[users]["http"][name]) for users in shoppers if name in journeys[users]["http"]]
              for name in CHARTED}
    series = {name: points for name, points in series.items() if points}
    # A log scale: a 50 ms page and a 10 s add under load both stay readable.
    values = [figures[key] for points in series.values() for _, figures in points for key in ("p50_ms", "p95_ms")]
    low = 10 ** math.floor(math.log10(max(1.0, min(values, default=10.0))))
    top = max(values, default=1000.0)
    high = min(step * 10 ** power for power in range(8) for step in (1, 2, 5) if step * 10 ** power >= top)
    width, height, left, right, bottom, upper = 760, 420, 70, 210, 50, 30
    plot_w, plot_h = width - left - right, height - upper - bottom
    span = max(shoppers) - min(shoppers) if len(shoppers) > 1 else 1

    def x(users: int) -> float:
        return left + (users - min(shoppers)) / span * plot_w if len(shoppers) > 1 else left + plot_w / 2

    def y(ms: float) -> float:
        share = (math.log10(max(ms, low)) - math.log10(low)) / (math.log10(high) - math.log10(low))
        return upper + plot_h - share * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14">Latency of the journey\'s steps against concurrent shoppers '
           f'(solid p50, dashed p95; log scale)</text>']
    ticks = [step * 10 ** power for power in range(round(math.log10(low)), math.ceil(math.log10(high)) + 1)
             for step in (1, 2, 5) if low <= step * 10 ** power <= high]
    for ms in ticks:
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(ms):.1f}" y2="{y(ms):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(ms) + 4:.1f}" text-anchor="end">{ms:g}</text>')
    for users in shoppers:
        out.append(f'<text x="{x(users):.1f}" y="{upper + plot_h + 18}" text-anchor="middle">{users}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">concurrent shoppers</text>')
    out.append(f'<text x="16" y="{upper + plot_h / 2}" transform="rotate(-90 16 {upper + plot_h / 2})" '
               f'text-anchor="middle">ms</text>')
    out.append(f'<rect x="{left}" y="{upper}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
    for index, (name, points) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        for key, dash in (("p50_ms", ""), ("p95_ms", ' stroke-dasharray="5,4"')):
            path = " ".join(f"{x(users):.1f},{y(figures[key]):.1f}" for users, figures in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            out += [f'<circle cx="{x(users):.1f}" cy="{y(figures[key]):.1f}" r="3" fill="{colour}"/>'
                    for users, figures in points]
        legend_y = upper + 10 + index * 20
        out.append(f'<line x1="{left + plot_w + 15}" x2="{left + plot_w + 40}" y1="{legend_y}" y2="{legend_y}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{left + plot_w + 46}" y="{legend_y + 4}">{escape(name)}</text>')
    out.append("</svg>")
    CHART.write_text("\n".join(out) + "\n")
