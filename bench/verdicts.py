"""How `make bench` judges a run: by ratios to references measured in the same run, so that a uniformly
slower (or busier) machine moves a scenario and its reference together and fails nothing.

- An HTTP scenario beside the framework floor (``whoami``: same server, same load): its p95 as a
  multiple of the floor's p95 (the verdict, against ``Scenario.target_p95_ratio``) and its throughput as
  a share of the floor's req/s (for reading). Measured in rounds alternating with rounds of the floor,
  the verdict is the median of each round's ratio to the floor right before and after it (``Round``).
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
    at_most: float | None  # None: the ratio is reported, not judged (e.g. the S3 store beside the filesystem)
    per_row: bool = False


@dataclass(frozen=True)
class Judged:
    target: RatioTarget
    reference: Reference | None  # None: not measured in this run (e.g. that job was left out by --only)
    ratio: float | None

    @property
    def passed(self) -> bool | None:
        return None if self.ratio is None or self.target.at_most is None else self.ratio <= self.target.at_most


def ratio(value: float, reference: float) -> float | None:
    return value / reference if reference and reference > 0 else None


def median(values: list[float]) -> float | None:
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


@dataclass(frozen=True)
class Round:
    """One round of a scenario, beside the floor: the floor's p95 is the mean of its rounds right before and
    right after this one. On this shared machine the floor's p95 swung from 2.7 to 5.7 ms within minutes
    (the host, not our processes: the other CPUs were idle), so one long run beside one floor judged the
    host's moment as much as the scenario; the median of paired short rounds judges the scenario.
    ``extra_ms``: an allowance measured right after this round (password sign-in: the hash's own time),
    taken off its p95 before the ratio; None: the row's allowance."""

    p95: float
    floor_p95: float
    extra_ms: float | None = None


def rounds_between(scenario_p95s: list[float], floor_p95s: list[float],
                   extras_ms: list[float] | None = None) -> list[Round]:
    """Rounds run floor, scenario, floor, scenario, …, floor: scenario round i sits between floors i and i+1
    (``extras_ms``: each round's own allowance, when measured per round)."""
    if len(floor_p95s) != len(scenario_p95s) + 1:
        raise ValueError("each scenario round needs a floor round before and after it")
    extras = extras_ms or [None] * len(scenario_p95s)
    return [Round(p95, (floor_p95s[i] + floor_p95s[i + 1]) / 2, extras[i]) for i, p95 in enumerate(scenario_p95s)]


def rounds_ratio(rounds: Iterable[Round], extra_ms: float | None = 0.0) -> float | None:
    """The median over the rounds of (p95 − the allowance) ÷ the floor's p95; the allowance is each round's
    own when it has one, else ``extra_ms`` (None: no allowance, the plain ratio)."""
    ratios = [ratio(r.p95 - (0.0 if extra_ms is None else r.extra_ms if r.extra_ms is not None else extra_ms),
                    r.floor_p95) for r in rounds]
    return median([r for r in ratios if r is not None])


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
        # the floor rounds around the scenario when there are some (the machine as the scenario had it),
        # else the run's first floor
        floor_p95 = getattr(row, "floor_p95", None) or (floor.p95 if floor is not None else None)
        floor_rps = getattr(row, "floor_rps", None) or (floor.rps if floor is not None else None)
        if floor_p95 is not None:
            row.p95_ratio, row.rps_share = http_ratios(row.p95, row.rps, floor_p95, floor_rps)
        rounds = getattr(row, "rounds", None)
        extra_ms = getattr(row, "target_extra_ms", 0)
        if rounds:
            row.p95_ratio = rounds_ratio(rounds, None)
            judged = rounds_ratio(rounds, extra_ms)  # the allowance first, then the ratio
        else:
            judged = row.p95_ratio
            if floor_p95 is not None and extra_ms:
                judged = ratio(row.p95 - extra_ms, floor_p95)
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
