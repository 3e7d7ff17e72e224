"""The table printed at the end of `make bench`, and its copy in docs/bench.md."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.verdicts import Judged, RatioTarget, Reference, job_passed

BEGIN, END = "<!-- bench:begin (written by `make bench`) -->", "<!-- bench:end -->"


@dataclass
class Row:
    """An HTTP scenario measured under load; the ratios are set beside the floor by verdicts.judge_http."""

    scenario: str
    operation: str
    description: str
    requests: int
    rps: float
    p50: float
    p95: float
    p99: float
    target_ratio: float | None  # p95 at most this multiple of the floor's p95; None for the floor itself
    foreign_cpus: float = 0.0  # CPUs used by other processes meanwhile (bench.machine)
    errors: int = 0
    p95_ratio: float | None = None
    rps_share: float | None = None
    passed: bool | None = None
    target_extra_ms: float = 0.0  # allowed on top of the ratio × the floor's p95
    floor_p95: float | None = None  # the median of the floor rounds around it (for reading)
    floor_rps: float | None = None
    rounds: list = field(default_factory=list)  # verdicts.Round: the scenario's rounds between floor rounds


@dataclass
class JobRow:
    """A background job measured end to end (API call → job finished) in a real worker, beside references."""

    scenario: str
    operation: str
    description: str
    rows: int
    seconds: float
    peak_mb: float
    target_mb: float
    references: list[Reference] = field(default_factory=list)
    targets: list[RatioTarget] = field(default_factory=list)
    judged: list[Judged] = field(default_factory=list)  # verdicts.judge_jobs, once every job of the run is in
    problem: str = ""  # a check of what the job did that failed (it fails the row whatever its time)

    @property
    def passed(self) -> bool:
        return not self.problem and job_passed(self.judged, self.peak_mb, self.target_mb)


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


def times(value: float | None) -> str:
    """A ratio as the tables print it: "7.2×", "12×", "—" when there was nothing to compare with."""
    if value is None:
        return "—"
    return f"{value:.1f}×" if value < 10 else f"{value:,.0f}×"


def limit(at_most: float | None) -> str:
    """A ratio target: "≤ 2.5×", "≤ 10×"; "reported" for a ratio that is only shown."""
    return "reported" if at_most is None else f"≤ {at_most:,g}×"


def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def verdict(passed: bool | None, bold: bool = False) -> str:
    if passed is None:
        return "—"
    word = "PASS" if passed else "FAIL"
    return f"**{word}**" if bold else word


def http_target(row: Row) -> str:
    if row.target_ratio is None:
        return "(floor)"
    return limit(row.target_ratio) + (f" + {row.target_extra_ms:.0f} ms" if row.target_extra_ms else "")


def judged_cell(judged: Judged) -> str:
    """One target of a job: "plain `COPY` … 0.31 s: 31× (≤ 60×)"."""
    target = judged.target
    what = "per row " if target.per_row else ""
    if judged.reference is None:
        return f"{target.reference}: not measured in this run ({what}{limit(target.at_most)})"
    return (f"{judged.reference.description} {judged.reference.seconds:,.2f} s: {what}{times(judged.ratio)} "
            f"({limit(target.at_most)})")


HTTP_HEADER = ["scenario", "operation", "requests", "req/s", "× floor req/s", "p50 ms", "p95 ms", "p99 ms",
               "floor p95 ms", "p95 × floor", "target", "result", "other CPU"]


def http_cells(r: Row, bold: bool = False) -> list[str]:
    return [r.scenario, r.operation, f"{r.requests:,}", f"{r.rps:,.0f}", share(r.rps_share), f"{r.p50:.1f}",
            f"{r.p95:.1f}", f"{r.p99:.1f}", f"{r.floor_p95:.1f}" if r.floor_p95 else "",
            times(r.p95_ratio), http_target(r), verdict(r.passed, bold),
            f"{r.foreign_cpus:.2f}"]


JOB_HEADER = ["scenario", "rows", "seconds", "peak MB", "target", "result", "beside the references of this run"]


def job_cells(r: JobRow, bold: bool = False) -> list[str]:
    return [r.scenario, f"{r.rows:,}", f"{r.seconds:.1f}", f"{r.peak_mb:.0f}", f"≤ {r.target_mb:.0f}",
            verdict(r.passed, bold), "; ".join(judged_cell(j) for j in r.judged)]


def _aligned(lines: list[list[str]], left: set[int]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(cell.ljust(widths[i]) if i in left else cell.rjust(widths[i])
                             for i, cell in enumerate(line)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def table(rows: list[Row]) -> str:
    return _aligned([HTTP_HEADER] + [http_cells(r) for r in rows], left={0, 1})


def job_table(rows: list[JobRow]) -> str:
    return _aligned([JOB_HEADER] + [job_cells(r) for r in rows], left={0, len(JOB_HEADER) - 1})


def job_markdown(rows: list[JobRow]) -> list[str]:
    if not rows:
        return []
    out = ["### Background jobs (a real Celery worker, `--pool solo`)", "",
           "| scenario | operation | what runs | rows | seconds | worker peak MB | target | result "
           "| beside the references of this run (ratio, target) |",
           "|---|---|---|---:|---:|---:|---|---|---|"]
    for r in rows:
        cells = job_cells(r, bold=True)
        out.append("| " + " | ".join([r.scenario, r.operation, r.description, *cells[1:4], cells[4] + " MB",
                                      *cells[5:]]) + " |")
    return out + [""]


WEBHOOK_HEADER = ["scenario", "figure", "beside", "ratio", "target", "result"]


def webhook_target(f) -> str:
    return f"≤ {f.at_most:g}×" if f.at_most is not None else f"≥ {f.at_least:g}×"


def webhook_cells(f, bold: bool = False) -> list[str]:
    return [f.key, f"{f.value:,.1f} {f.unit}", f"{f.reference} {f.reference_value:,.1f}", times(f.ratio),
            webhook_target(f), verdict(f.passed, bold)]


def webhook_table(rows) -> str:
    return _aligned([WEBHOOK_HEADER] + [webhook_cells(f) for f in rows], left={0, 2})


def webhook_markdown(rows) -> list[str]:
    if not rows:
        return []
    out = ["### Events and webhooks (a real Celery worker and beat, a receiver in the bench process)", "",
           "| scenario | what | how | figure | beside (same run) | ratio | target | result |",
           "|---|---|---|---:|---|---:|---|---|"]
    for f in rows:
        cells = webhook_cells(f, bold=True)
        out.append("| " + " | ".join([f.key, f.operation, f.description, *cells[1:]]) + " |")
    return out + [""]


def markdown(rows: list[Row], *, seed_lines: list[str], context: list[str], extra: list[str],
             job_rows: list[JobRow] = (), webhook_rows=()) -> str:
    out = ["## Figures of the last run", "", *context, "", "### Seeding", "", *seed_lines, "", "### HTTP load", "",
           "Beside the framework floor (`whoami`, same server, same load, same run): each scenario is measured in "
           "rounds, each between two rounds of the floor. `p50`, `p95`, `p99 ms` and `floor p95 ms` are the medians "
           "of the rounds; `p95 × floor` (the verdict) is the median of each round's p95 ÷ the mean of the floor's "
           "p95 right before and after it; req/s as a share of the floor rounds' req/s.", "",
           "| scenario | operation | what is sent | requests | req/s | × floor req/s | p50 ms | p95 ms | p99 ms "
           "| floor p95 ms | p95 × floor | target | result | other CPU |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|"]
    for r in rows:
        cells = http_cells(r, bold=True)
        out.append("| " + " | ".join([*cells[:2], r.description, *cells[2:]]) + " |")
    out += ["", *webhook_markdown(list(webhook_rows)), *job_markdown(list(job_rows)), *extra]
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
