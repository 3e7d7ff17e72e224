"""`make bench`: seed a million customers with COPY, then measure the real server under HTTP load.

Run as ``python -m bench`` (see ``python -m bench --help``). Everything lives in one dedicated
application (company 990001) so the figures never mix with real data; docs/bench.md holds the
figures of the last full run.
"""

BENCH_COMPANY_ID = 990001
BENCH_APPLICATION_ID = "990001000000000000000001"
BENCH_APPLICATION_NAME = "Bench Store (make bench)"
