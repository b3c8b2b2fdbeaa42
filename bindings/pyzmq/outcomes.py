"""pytest plugin for bindings/pyzmq/test.sh: appends one JSON line per test
phase to $FERRO_OUTCOMES, as the test ends, so a run that is killed still
leaves what it had done. Under pytest-xdist only the controller writes (it
sees every worker's reports, and a failed one for a test whose worker died).

Each line: {"nodeid", "when" (setup/call/teardown), "outcome" (passed,
failed, skipped), "xfail" (bool), "message" (the failure's last line)}.
"""

import json
import os

_out = None


def pytest_configure(config):
    global _out
    path = os.environ.get("FERRO_OUTCOMES")
    if path and not hasattr(config, "workerinput"):
        _out = open(path, "a", buffering=1)


def _message(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])[:300]  # (path, line, reason)
    if not report.failed:
        return ""
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message
    else:
        text = str(report.longrepr)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _write(report, when):
    if _out is None:
        return
    _out.write(
        json.dumps(
            {
                "nodeid": report.nodeid,
                "when": when,
                "outcome": report.outcome,
                "xfail": hasattr(report, "wasxfail"),
                "message": _message(report),
            }
        )
        + "\n"
    )


def pytest_runtest_logreport(report):
    _write(report, report.when)


def pytest_collectreport(report):
    # A module that cannot be imported, or skips itself, counts as one test.
    if report.failed or report.skipped:
        _write(report, "collect")


def pytest_unconfigure(config):
    if _out is not None:
        _out.close()
