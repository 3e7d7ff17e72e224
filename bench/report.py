"""The table printed at the end of `make bench`, and its copy in docs/bench.md."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

BEGIN, END = "<!-- bench:begin (written by `make bench`) -->", "<!-- bench:end -->"


@dataclass
class Row:
    scenario: str
    operation: str
    description: str
    requests: int
    rps: float
    p50: float
    p95: float
    p99: float
    target: str
    passed: bool | None
    foreign_cpus: float = 0.0  # CPUs used by other processes meanwhile (bench.machine)
    errors: int = 0


@dataclass
class JobRow:
    """A background job measured end to end (API call → job finished) in a real worker."""

    scenario: str
    operation: str
    description: str
    rows: int
    seconds: float
    target_seconds: float
    peak_mb: float
    target_mb: float
    baseline: str = ""  # the machine's limit beside it, e.g. "plain COPY 1.1 s (ratio 7.2)"

    @property
    def passed(self) -> bool:
        return self.seconds <= self.target_seconds and self.peak_mb <= self.target_mb


def machine_facts() -> dict:
    facts = {"nproc": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()}
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
        facts["ram"] = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        facts["ram"] = "?"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        facts["cpu"] = re.search(r"model name\s*:\s*(.+)", cpuinfo).group(1).strip()
    except (OSError, AttributeError):
        facts["cpu"] = platform.processor() or "?"
    return facts


def git_commit(base_dir: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=base_dir, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return ""


def table(rows: list[Row]) -> str:
    header = ["scenario", "operation", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "target (p95)", "result",
              "other CPU"]
    lines = [header]
    for r in rows:
        result = "—" if r.passed is None else ("PASS" if r.passed else "FAIL")
        lines.append([r.scenario, r.operation, f"{r.requests:,}", f"{r.rps:,.0f}", f"{r.p50:.1f}", f"{r.p95:.1f}",
                      f"{r.p99:.1f}", r.target, result, f"{r.foreign_cpus:.2f}"])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(str(cell).ljust(widths[i]) if i < 2 else str(cell).rjust(widths[i])
                             for i, cell in enumerate(line)))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def job_table(rows: list[JobRow]) -> str:
    header = ["scenario", "rows", "seconds", "target", "peak MB", "target", "result", "machine's limit"]
    lines = [header] + [[r.scenario, f"{r.rows:,}", f"{r.seconds:.1f}", f"≤ {r.target_seconds:.0f}",
                         f"{r.peak_mb:.0f}", f"≤ {r.target_mb:.0f}", "PASS" if r.passed else "FAIL", r.baseline]
                        for r in rows]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(str(cell).ljust(widths[i]) if i in (0, 7) else str(cell).rjust(widths[i])
                             for i, cell in enumerate(line)))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def job_markdown(rows: list[JobRow]) -> list[str]:
    if not rows:
        return []
    out = ["### Background jobs (a real Celery worker, `--pool solo`)", "",
           "| scenario | operation | what runs | rows | seconds | target | worker peak MB | target | result "
           "| machine's limit |",
           "|---|---|---|---:|---:|---|---:|---|---|---|"]
    for r in rows:
        out.append(f"| {r.scenario} | {r.operation} | {r.description} | {r.rows:,} | {r.seconds:.1f} | "
                   f"≤ {r.target_seconds:.0f} s | {r.peak_mb:.0f} | ≤ {r.target_mb:.0f} MB | "
                   f"{'**PASS**' if r.passed else '**FAIL**'} | {r.baseline} |")
    return out + [""]


def markdown(rows: list[Row], *, seed_lines: list[str], context: list[str], extra: list[str],
             job_rows: list[JobRow] = ()) -> str:
    out = ["## Figures of the last run", "", *context, "", "### Seeding", "", *seed_lines, "", "### HTTP load", "",
           "| scenario | operation | what is sent | requests | req/s | p50 ms | p95 ms | p99 ms | target p95 | result "
           "| other CPU |",
           "|---|---|---|---:|---:|---:|---:|---:|---|---|---:|"]
    for r in rows:
        result = "—" if r.passed is None else ("**PASS**" if r.passed else "**FAIL**")
        out.append(f"| {r.scenario} | {r.operation} | {r.description} | {r.requests:,} | {r.rps:,.0f} | {r.p50:.1f} | "
                   f"{r.p95:.1f} | {r.p99:.1f} | {r.target} | {result} | {r.foreign_cpus:.2f} |")
    out += ["", *job_markdown(list(job_rows)), *extra]
    return "\n".join(out)


def write_docs(path: Path, body: str) -> None:
    """Replace the generated block of docs/bench.md, keeping whatever is written around it."""
    block = f"{BEGIN}\n{body.rstrip()}\n{END}"
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            start, stop = text.index(BEGIN), text.index(END) + len(END)
            path.write_text(text[:start] + block + text[stop:])
            return
        path.write_text(text.rstrip() + "\n\n" + block + "\n")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Benchmark (`make bench`)\n\n" + block + "\n")
