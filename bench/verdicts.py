"""How `make bench` judges a run: by ratios to references measured in the same run, so that a uniformly
slower (or busier) machine moves a scenario and its reference together and fails nothing.

- An HTTP scenario beside the framework floor (``whoami``: same server, same load): its p95 as a
  multiple of the floor's p95 (the verdict, against ``Scenario.target_p95_ratio``) and its throughput as
  a share of the floor's req/s (for reading).
- A file job beside the references measured with it (bench/references.py) or beside another job of the
  same run (``JOB + "import_csv"``), each with a ``RatioTarget``: seconds ÷ the reference's seconds, or,
  ``per_row``, seconds per row ÷ the reference's seconds per row; and the worker's peak memory.

Everything here is pure: the report and the tests call it with plain figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

FLOOR = "whoami"
JOB = "job:"  # RatioTarget.reference of another job of the same run: JOB + its scenario key


@dataclass(frozen=True)
class Reference:
    """What the machine itself takes for the same data (or another job of the run)."""

    key: str
    description: str  # e.g. "plain `COPY` of the file into an unindexed table"
    seconds: float
    rows: int = 0


@dataclass(frozen=True)
class RatioTarget:
    reference: str  # a Reference.key of the same job, or JOB + another job's scenario
    at_most: float
    per_row: bool = False


@dataclass(frozen=True)
class Judged:
    target: RatioTarget
    reference: Reference | None  # None: not measured in this run (e.g. that job was left out by --only)
    ratio: float | None

    @property
    def passed(self) -> bool | None:
        return None if self.ratio is None else self.ratio <= self.target.at_most


def ratio(value: float, reference: float) -> float | None:
    return value / reference if reference and reference > 0 else None


def floor_beside(floors: list) -> tuple[float, float]:
    """(p95, req/s) of the floor beside a scenario: the mean of the floor runs right before and right after
    it (one of them for the first scenario); back-to-back floors swung by 30 % on this machine."""
    return sum(f.p95 for f in floors) / len(floors), sum(f.rps for f in floors) / len(floors)


def http_ratios(p95_ms: float, rps: float, floor_p95_ms: float, floor_rps: float) -> tuple[float | None, float | None]:
    """(p95 as a multiple of the floor's p95, req/s as a share of the floor's req/s)."""
    return ratio(p95_ms, floor_p95_ms), ratio(rps, floor_rps)


def http_passed(p95_ratio: float | None, target_ratio: float | None, errors: int) -> bool | None:
    """None for a scenario without a target (the floor); a target without a floor to compare with fails."""
    if target_ratio is None:
        return None
    return p95_ratio is not None and p95_ratio <= target_ratio and errors == 0


def judge_http(rows: Iterable) -> None:
    """Set p95_ratio, rps_share and passed on every report.Row, beside the floor's row of the same run."""
    rows = list(rows)
    floor = next((r for r in rows if r.scenario == FLOOR), None)
    for row in rows:
        # the floor measured right after the scenario when there is one (the machine as the scenario had
        # it), else the run's first floor
        floor_p95 = getattr(row, "floor_p95", None) or (floor.p95 if floor is not None else None)
        floor_rps = getattr(row, "floor_rps", None) or (floor.rps if floor is not None else None)
        if floor_p95 is not None:
            row.p95_ratio, row.rps_share = http_ratios(row.p95, row.rps, floor_p95, floor_rps)
        judged = row.p95_ratio
        if floor_p95 is not None and getattr(row, "target_extra_ms", 0):
            judged = ratio(row.p95 - row.target_extra_ms, floor_p95)  # the allowance first, then the ratio
        row.passed = http_passed(judged, row.target_ratio, row.errors)


def judge(seconds: float, rows: int, target: RatioTarget, references: Mapping[str, Reference]) -> Judged:
    reference = references.get(target.reference)
    if reference is None:
        return Judged(target, None, None)
    if target.per_row:
        value = ratio(seconds / rows, reference.seconds / reference.rows) if rows and reference.rows else None
    else:
        value = ratio(seconds, reference.seconds)
    return Judged(target, reference, value)


def judge_jobs(rows: Iterable) -> None:
    """Set ``judged`` on every report.JobRow: each target against its own references or the other jobs."""
    rows = list(rows)
    jobs = {JOB + r.scenario: Reference(JOB + r.scenario, f"`{r.scenario}` of this run", r.seconds, r.rows)
            for r in rows}
    for row in rows:
        available = {**jobs, **{ref.key: ref for ref in row.references}}
        row.judged = [judge(row.seconds, row.rows, target, available) for target in row.targets]


def job_passed(judged: Iterable[Judged], peak_mb: float, max_mb: float) -> bool:
    """Within every ratio target that could be judged in this run, and within the memory target."""
    return peak_mb <= max_mb and all(j.passed is not False for j in judged)


def unknown_scenarios(names: Iterable[str], known: Iterable[str]) -> str | None:
    """The error for --only names that are not scenarios (None when all are)."""
    known = set(known)
    unknown = sorted(set(names) - known)
    if not unknown:
        return None
    return (f"unknown scenario{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}")
