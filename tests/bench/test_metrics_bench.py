"""bench/metrics.py's verdict (the floor with /metrics on vs off), with plain figures."""

import pytest

from bench import metrics
from bench.__main__ import ALL_SCENARIOS, parse_args, wanted_scenarios


def test_each_round_on_is_judged_beside_the_rounds_off_around_it():
    assert metrics.ratios([100, 120, 110], [105, 100]) == [105 / 110, 100 / 115]
    with pytest.raises(ValueError):
        metrics.ratios([100, 100], [100, 100])


def test_the_verdict_is_the_median_ratio_against_at_least_095():
    passed = metrics.judge(metrics.Figure("metrics_overhead", [100, 100, 100, 100, 100], [97, 80, 96, 99],
                                          counted=10, sent=10))
    assert passed.ratio == pytest.approx(0.965) and passed.passed is True
    failed = metrics.judge(metrics.Figure("metrics_overhead", [100, 100, 100], [94, 93]))
    assert failed.ratio == pytest.approx(0.935) and failed.passed is False


def test_requests_the_page_did_not_count_fail_it():
    figure = metrics.judge(metrics.Figure("metrics_overhead", [100, 100], [100], counted=9, sent=10))
    assert figure.ratio == 1 and figure.passed is False


def test_the_report_lines():
    figure = metrics.judge(metrics.Figure("metrics_overhead", [100, 100], [99], [40.0, 60.0], counted=5, sent=5))
    assert "0.990×" in metrics.table([figure]) and "PASS" in metrics.table([figure])
    lines = metrics.markdown([figure])
    assert lines[0].startswith("### Metrics") and "| metrics_overhead | 100 | 99 | 0.990× | ≥ 0.95× | **PASS** |" in lines[-2]
    assert metrics.markdown([]) == []


def test_counted_requests_reads_the_page():
    page = ('# HELP customer_service_http_request_duration_seconds x\n'
            '# TYPE customer_service_http_request_duration_seconds histogram\n'
            'customer_service_http_request_duration_seconds_count{operation="whoami",method="GET",status="200"} 7.0\n'
            'customer_service_http_request_duration_seconds_count{operation="whoami",method="GET",status="401"} 1.0\n'
            'customer_service_http_request_duration_seconds_count{operation="healthz",method="GET",status="200"} 3.0\n')
    assert metrics.counted_requests(page) == 8


def test_the_scenario_is_known_to_the_command_line():
    assert "metrics_overhead" in ALL_SCENARIOS
    assert parse_args(["--only", "metrics_overhead"]).only == ["metrics_overhead"]
    assert wanted_scenarios(["metrics_overhead"]) == {"metrics_overhead"}
