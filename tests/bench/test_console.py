"""The console overview scenario of `make bench` (bench/console.py): in the HTTP scenarios, judged by its
ratio to the floor, and its check reads the page's figures."""

import bench.__main__ as bench_main
from bench import console


def test_the_scenario_is_known_and_measured_beside_the_floor():
    assert "console_overview" in bench_main.HTTP_SCENARIOS
    assert bench_main.wanted_scenarios(["console_overview"]) == {"console_overview", "whoami"}
    assert console.OVERVIEW_RATIO == 25.0


def test_the_check_reads_the_customers_figure(monkeypatch):
    monkeypatch.setattr(console, "_session_cookie", lambda company_id: "sessionid=x")
    scenario = console.overview_scenario(990001, "990001000000000000000001", 1_000_000)
    assert scenario.html and scenario.target_p95_ratio == 25.0
    assert dict(scenario.requests[0].headers)["Cookie"] == "sessionid=x"
    page = '<div id="figure-customers"><strong>1000000</strong></div><div id="activity-chart"><svg/></div>'
    assert scenario.check({"html": page}, 0) is None
    assert "expected about" in scenario.check({"html": page.replace("1000000", "12")}, 0)
    assert "no overview" in scenario.check({"html": "<html>login</html>"}, 0)
