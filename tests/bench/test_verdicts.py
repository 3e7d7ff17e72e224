"""The pure parts of `make bench` that judge a run: ratios to the references of the same run, verdicts,
the table cells, and --only validation (no server, no database)."""

import pytest

from bench import __main__ as bench_main
from bench import report, verdicts
from bench.verdicts import JOB, RatioTarget, Reference


def http_row(scenario, p95, rps, target_ratio, errors=0):
    return report.Row(scenario, "op", "what", 1_000, rps, p95 / 2, p95, p95 * 1.5, target_ratio, errors=errors)


def job_row(scenario, seconds, rows, references=(), targets=(), peak_mb=100):
    return report.JobRow(scenario, "op", "what", rows, seconds, peak_mb, 150, references=list(references),
                         targets=list(targets))


def test_http_scenarios_are_judged_by_their_p95_as_a_multiple_of_the_floors():
    rows = [http_row("whoami", p95=4.0, rps=1_600, target_ratio=None),
            http_row("list", p95=12.0, rps=400, target_ratio=10),
            http_row("list_q_name", p95=44.0, rps=160, target_ratio=10)]
    verdicts.judge_http(rows)
    floor, listing, names = rows
    assert (floor.p95_ratio, floor.rps_share, floor.passed) == (1.0, 1.0, None)
    assert (listing.p95_ratio, listing.rps_share, listing.passed) == (3.0, 0.25, True)
    assert (names.p95_ratio, names.passed) == (11.0, False)


def test_a_uniformly_slower_machine_fails_nothing_it_passed():
    quiet = [http_row("whoami", 4.0, 1_800, None), http_row("logged_in_user", 9.6, 900, 2.5)]
    slower = [http_row("whoami", 6.0, 1_200, None), http_row("logged_in_user", 14.4, 600, 2.5)]
    verdicts.judge_http(quiet)
    verdicts.judge_http(slower)
    assert quiet[1].passed and slower[1].passed
    assert quiet[1].p95_ratio == pytest.approx(slower[1].p95_ratio)


def test_the_floor_measured_beside_a_scenario_is_its_reference():
    rows = [http_row("whoami", 4.0, 1_800, None), http_row("verify_otp", 13.5, 450, 3),
            http_row("password_login", 70.0, 70, 3)]
    rows[1].floor_p95, rows[1].floor_rps = 5.0, 1_500  # the machine slowed down meanwhile
    rows[2].floor_p95, rows[2].floor_rps, rows[2].target_extra_ms = 5.0, 1_500, 56.0
    verdicts.judge_http(rows)
    assert (rows[1].p95_ratio, rows[1].rps_share, rows[1].passed) == (2.7, 0.3, True)  # 3.4× beside the first
    assert rows[2].passed is True  # (70 - 56) / 5 = 2.8
    assert report.http_cells(rows[1])[8] == "5.0"
    rows[2].floor_p95 = 4.0
    verdicts.judge_http(rows)
    assert rows[2].passed is False  # (70 - 56) / 4 = 3.5


def test_each_round_is_judged_beside_the_floor_rounds_before_and_after_it():
    rounds = verdicts.rounds_between([10.0, 12.0, 9.0], [3.0, 5.0, 4.0, 3.0])
    assert rounds == [verdicts.Round(10.0, 4.0), verdicts.Round(12.0, 4.5), verdicts.Round(9.0, 3.5)]
    with pytest.raises(ValueError):
        verdicts.rounds_between([10.0, 12.0], [3.0, 5.0])


def test_a_scenario_in_rounds_is_judged_by_the_median_of_its_rounds_ratios():
    verify = http_row("verify_otp", 11.0, 500, 3)
    # ratios 2.5, 2.67, 2.57, 4.0: one round beside a host hiccup does not decide; the pooled figures would
    # (11 ms beside a 3.5 ms floor = 3.1×)
    verify.rounds = verdicts.rounds_between([10.0, 12.0, 9.0, 12.0], [4.0, 4.0, 5.0, 2.0, 4.0])
    verify.floor_p95, verify.floor_rps = 3.5, 1_500
    verdicts.judge_http([http_row("whoami", 4.0, 1_800, None), verify])
    assert verify.p95_ratio == pytest.approx((2.5714 + 2.6667) / 2, rel=1e-3)
    assert verify.passed is True and verify.rps_share == pytest.approx(1 / 3)
    verify.rounds = verdicts.rounds_between([14.0, 13.0, 9.0, 14.0], [4.0, 4.0, 5.0, 2.0, 4.0])
    verdicts.judge_http([verify])
    assert verify.passed is False  # 3.5, 2.9, 2.6, 4.7: median 3.2


def test_an_allowance_comes_off_each_round_before_its_ratio():
    login = http_row("password_login", 70.0, 70, 3)
    login.target_extra_ms = 56.0
    login.rounds = [verdicts.Round(70.0, 5.0), verdicts.Round(68.0, 4.5), verdicts.Round(72.0, 5.0)]
    verdicts.judge_http([login])
    assert login.passed is True  # 2.8, 2.67, 3.2: median 2.8
    assert login.p95_ratio == pytest.approx(14.4)  # shown without the allowance: 14, 15.1, 14.4
    login.target_extra_ms = 50.0
    verdicts.judge_http([login])
    assert login.passed is False  # 4.0, 4.0, 4.4


def test_errors_fail_a_scenario_within_its_ratio():
    rows = [http_row("whoami", 4.0, 1_600, None), http_row("list", 8.0, 500, 10, errors=3)]
    verdicts.judge_http(rows)
    assert rows[1].passed is False


def test_without_a_floor_a_scenario_with_a_target_fails_and_prints_no_ratio():
    rows = [http_row("list", 8.0, 500, 10)]
    verdicts.judge_http(rows)
    assert (rows[0].p95_ratio, rows[0].passed) == (None, False)
    assert report.http_cells(rows[0])[9] == "—"


def test_ratio_of_nothing_is_none():
    assert verdicts.ratio(3.0, 0) is None
    assert verdicts.ratio(3.0, 1.5) == 2.0


def test_a_job_is_judged_against_its_own_references():
    plain = Reference("plain_copy", "plain `COPY`", 0.25, 1_000_000)
    row = job_row("group_file", 9.5, 1_000_000, [plain], [RatioTarget("plain_copy", 60)])
    verdicts.judge_jobs([row])
    (judged,) = row.judged
    assert judged.ratio == 38.0 and judged.passed and row.passed
    slow = job_row("group_file", 16.0, 1_000_000, [plain], [RatioTarget("plain_copy", 60)])
    verdicts.judge_jobs([slow])
    assert slow.judged[0].ratio == 64.0 and not slow.passed


def test_per_row_against_another_job_of_the_same_run():
    """The bulk attribute update may take no longer per customer than the import per new customer."""
    imported = job_row("import_csv", 100.0, 1_000_000)
    target = RatioTarget(JOB + "import_csv", 1, per_row=True)
    fast = job_row("attribute_bulk", 8.0, 100_000, targets=[target])
    slow = job_row("attribute_bulk", 12.0, 100_000, targets=[target])
    verdicts.judge_jobs([imported, fast])
    verdicts.judge_jobs([imported, slow])
    assert fast.judged[0].ratio == pytest.approx(0.8) and fast.passed
    assert slow.judged[0].ratio == pytest.approx(1.2) and not slow.passed


def test_a_reference_left_out_of_the_run_is_shown_not_judged():
    row = job_row("attribute_bulk", 8.0, 100_000, targets=[RatioTarget(JOB + "import_csv", 1, per_row=True)])
    verdicts.judge_jobs([row])
    assert row.judged[0].passed is None and row.passed
    assert report.judged_cell(row.judged[0]) == "job:import_csv: not measured in this run (per row ≤ 1×)"


def test_worker_memory_above_150_mb_fails_a_job_within_its_ratios():
    plain = Reference("plain_copy", "plain `COPY`", 1.0, 10)
    row = job_row("export_csv", 1.1, 10, [plain], [RatioTarget("plain_copy", 2)], peak_mb=151)
    verdicts.judge_jobs([row])
    assert row.judged[0].passed and not row.passed


def test_ratio_formatting():
    ratios = (None, 1.234, 9.96, 38.2, 1_234.5)
    assert [report.times(v) for v in ratios] == ["—", "1.2×", "10.0×", "38×", "1,234×"]
    assert [report.limit(v) for v in (2.5, 10.0, 250)] == ["≤ 2.5×", "≤ 10×", "≤ 250×"]
    assert [report.share(v) for v in (None, 0.423)] == ["—", "42%"]


def test_http_row_cells():
    rows = [http_row("whoami", 4.0, 1_600, None), http_row("list", 12.0, 400, 10)]
    verdicts.judge_http(rows)
    assert report.http_cells(rows[0]) == ["whoami", "op", "1,000", "1,600", "100%", "2.0", "4.0", "6.0", "",
                                          "1.0×", "(floor)", "—", "0.00"]
    assert report.http_cells(rows[1], bold=True)[4:] == ["25%", "6.0", "12.0", "18.0", "", "3.0×", "≤ 10×",
                                                         "**PASS**", "0.00"]
    header, rule, floor, listing = report.table(rows).splitlines()
    assert header.startswith("scenario  operation  requests  req/s  × floor req/s  p50 ms")
    assert len(header) == len(rule) == len(floor) == len(listing)
    assert listing.split()[-5:] == ["3.0×", "≤", "10×", "PASS", "0.00"]


def test_job_row_cells():
    refs = [Reference("plain_copy", "plain `COPY` of the file", 0.5, 1_000_000),
            Reference("indexed_copy", "`COPY` into an indexed copy", 22.0, 1_000_000)]
    row = job_row("import_csv", 110.0, 1_000_000, refs,
                  [RatioTarget("plain_copy", 250), RatioTarget("indexed_copy", 7)], peak_mb=122.4)
    verdicts.judge_jobs([row])
    assert report.job_cells(row) == [
        "import_csv", "1,000,000", "110.0", "122", "≤ 150", "PASS",
        "plain `COPY` of the file 0.50 s: 220× (≤ 250×); `COPY` into an indexed copy 22.00 s: 5.0× (≤ 7×)"]
    markdown = report.job_markdown([row])
    assert markdown[-2].startswith("| import_csv | op | what | 1,000,000 | 110.0 | 122 | ≤ 150 MB | **PASS** |")


@pytest.mark.parametrize("only", [["nope"], ["list", "nope"], ["import_CSV"]])
def test_only_with_an_unknown_name_is_an_error_listing_the_names(only, capsys):
    argv = [arg for name in only for arg in ("--only", name)]
    with pytest.raises(SystemExit) as exit_:
        bench_main.parse_args(argv)
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert "unknown scenario" in error and "known: attribute_bulk_update, condition_group_users, console_overview, create_session, export_csv" in error
    assert "whoami" in error and "import_csv" in error


def test_only_accepts_job_and_http_names():
    assert bench_main.parse_args(["--only", "export_csv", "--only", "list"]).only == ["export_csv", "list"]


def test_unknown_scenarios_message():
    assert verdicts.unknown_scenarios(["a"], {"a", "b"}) is None
    assert verdicts.unknown_scenarios(["c", "d"], {"a", "b"}) == "unknown scenarios c, d; known: a, b"


def test_the_floor_is_measured_beside_any_http_scenario():
    assert bench_main.wanted_scenarios(["list"]) == {"list", "whoami"}
    assert bench_main.wanted_scenarios(["group_users"]) == {"group_users", "group_file", "whoami"}
    assert bench_main.wanted_scenarios(["export_csv"]) == {"export_csv"}
    assert bench_main.wanted_scenarios([]) == bench_main.ALL_SCENARIOS


def test_markdown_rows_have_as_many_cells_as_their_headers():
    rows = [http_row("whoami", 4.0, 1_600, None), http_row("list", 12.0, 400, 10)]
    verdicts.judge_http(rows)
    job = job_row("group_file", 9.5, 1_000_000, [Reference("plain_copy", "plain `COPY`", 0.25, 1_000_000)],
                  [RatioTarget("plain_copy", 60)])
    verdicts.judge_jobs([job])
    text = report.markdown(rows, seed_lines=[], context=[], extra=[], job_rows=[job])
    lines = [line for line in text.splitlines() if line.startswith("|")]
    http, jobs = lines[:2 + len(rows)], lines[2 + len(rows):]
    assert len(jobs) == 3
    assert {line.count("|") for line in http} == {15}
    assert {line.count("|") for line in jobs} == {10}


def test_an_allowance_comes_off_the_p95_before_the_ratio():
    """Password sign-in: p95 ≤ the hash's own time + 3× the floor's p95."""
    rows = [http_row("whoami", 5.0, 1_500, None), http_row("password_login", 60.0, 100, 3),
            http_row("password_login_slow", 70.0, 90, 3)]
    rows[1].target_extra_ms = rows[2].target_extra_ms = 45.0
    verdicts.judge_http(rows)
    assert rows[1].p95_ratio == 12.0 and rows[1].passed is True  # 60 - 45 = 15 = 3 × 5
    assert rows[2].passed is False  # 70 - 45 = 25 > 15
    assert report.http_target(rows[1]) == "≤ 3× + 45 ms"


def test_a_scenario_whose_right_answer_is_an_error_status_counts_only_other_errors():
    class Result:
        errors = {"status": 594, "timeout": 2}
        error_count = 596

    assert bench_main.errors_of(Result, 403) == 2
    assert bench_main.errors_of(Result, 200) == 596


def test_webhook_figures_are_judged_at_most_or_at_least_and_printed_with_their_own_header():
    from bench.webhooks import Figures, percentile

    slower = Figures("webhook_create_user", "createUser", "rounds", 44.0, "ms p95", "without, p95", 40.0, 1.1,
                     at_most=1.1)
    drained = Figures("webhook_backlog", "down", "60 s", 700.0, "deliveries/s", "the floor's req/s", 1_600.0,
                      700 / 1_600, at_least=0.5)
    unmeasured = Figures("webhook_deliveries", "sustained", "20 s", 0.0, "deliveries/s", "floor", 0.0, None,
                         at_least=0.5)
    for figures in (slower, drained, unmeasured):
        figures.judge()
    assert slower.passed is True and drained.passed is False and unmeasured.passed is False
    text = report.markdown([], seed_lines=[], context=[], extra=[], webhook_rows=[slower, drained])
    lines = [line for line in text.splitlines() if line.startswith("|") and "webhook_" in line]
    assert len(lines) == 2 and {line.count("|") for line in lines} == {9}
    assert "≥ 0.5×" in lines[1] and "**FAIL**" in lines[1] and "≤ 1.1×" in lines[0]
    assert percentile([5, 1, 4, 2, 3], 50) == 3 and percentile([], 95) == 0.0


def test_the_imports_beside_import_csv_bring_it_and_the_webhook_scenarios_the_floor():
    assert bench_main.wanted_scenarios(["import_csv_webhook"]) == {"import_csv_webhook", "import_csv"}
    assert bench_main.wanted_scenarios(["webhook_backlog"]) == {"webhook_backlog", "whoami"}


def test_rounds_combined_add_up_their_requests_and_take_the_median_of_their_percentiles():
    from bench.load import LoadResult, combined

    runs = [LoadResult(1_500, 3.0, 5.0, 9.0, 12.0, 30.0, {"status": 2}),
            LoadResult(1_200, 3.0, 6.0, 11.0, 15.0, 80.0),
            LoadResult(1_800, 3.0, 4.0, 8.0, 10.0, 20.0, {"status": 1, "timeout": 1})]
    total = combined(runs)
    assert (total.requests, total.seconds, total.rps) == (4_500, 9.0, 500.0)
    assert (total.p50_ms, total.p95_ms, total.p99_ms, total.max_ms) == (5.0, 9.0, 12.0, 80.0)
    assert total.errors == {"status": 3, "timeout": 1}


def test_an_allowance_measured_with_each_round_comes_off_that_round():
    login = http_row("password_login", 70.0, 70, 3)
    login.target_extra_ms = 50.0  # the median of the rounds' allowances, for the table
    login.rounds = verdicts.rounds_between([70.0, 62.0, 75.0], [5.0, 5.0, 4.0, 6.0], [58.0, 50.0, 62.0])
    verdicts.judge_http([login])
    assert login.passed is True  # (70-58)/5 = 2.4, (62-50)/4.5 = 2.67, (75-62)/5 = 2.6; with 50 off each: 4.0
    assert login.p95_ratio == pytest.approx(14.0)  # 14, 13.8, 15


def test_a_reported_ratio_is_shown_and_never_fails_the_job():
    """The S3-compatible store beside the filesystem (issue 16): the ratio is reported, not judged."""
    from bench import job_scenarios

    exported = job_row("export_csv", 10.0, 1_000_000)
    on_s3 = job_row("export_csv_s3", 25.0, 1_000_000, targets=job_scenarios.TARGETS["export_csv_s3"])
    verdicts.judge_jobs([exported, on_s3])
    (judged,) = on_s3.judged
    assert judged.ratio == 2.5 and judged.passed is None and on_s3.passed
    assert report.judged_cell(judged) == "`export_csv` of this run 10.00 s: 2.5× (reported)"
    assert report.limit(None) == "reported"
    heavy = job_row("export_csv_s3", 25.0, 1_000_000, targets=job_scenarios.TARGETS["export_csv_s3"], peak_mb=190)
    verdicts.judge_jobs([exported, heavy])
    assert not heavy.passed  # the worker's memory is still judged


def test_the_s3_scenarios_bring_their_filesystem_references():
    assert bench_main.wanted_scenarios(["import_csv_s3"]) == {"import_csv_s3", "import_csv"}
    assert bench_main.wanted_scenarios(["export_csv_s3"]) == {"export_csv_s3", "export_csv"}
    assert {"import_csv_s3", "export_csv_s3"} <= bench_main.JOB_SCENARIOS
