"""Compares pyzmq's test outcomes on ferrozmq and on libzmq (for test.sh).

  compare.py OURS.jsonl LIBZMQ.jsonl KNOWN [--rerun RERUN.jsonl] [--new-only]
  compare.py --passed-lines < RUN.jsonl     (the lines of the tests that passed)

The .jsonl files are written by outcomes.py. A test's outcome is "failed" if
any phase failed, else "skipped" if any phase skipped (xfail included), else
"passed". Prints the counts of each run and every test that passes on libzmq
but not on ferrozmq (failed, skipped or not run), marked "known" when KNOWN
(lines "NODEID | reason", # comments) lists it. With --rerun, a new failure
that passed when run again alone is reported as flaky and not counted. With
--new-only, prints only the node ids of new failures not yet passed in RERUN
(what to run again).

Exits 1 if a test that passes on libzmq fails on ferrozmq and is not known.
"""

import json
import sys


def load(path):
    """nodeid -> (outcome, message), in the order the tests ran."""
    phases = {}
    try:
        with open(path) as f:
            lines = f.readlines()
    except FileNotFoundError:
        return {}
    for line in lines:
        try:
            r = json.loads(line)
        except ValueError:
            continue  # a line cut short by a killed run
        p = phases.setdefault(r["nodeid"], {"failed": None, "skipped": False})
        if r["outcome"] == "failed":
            if p["failed"] is None:
                where = "" if r["when"] == "call" else f"[{r['when']}] "
                p["failed"] = where + r["message"]
        elif r["outcome"] == "skipped" or r["xfail"]:
            if not p["skipped"]:
                p["skipped"] = r["message"] or ("xfail" if r["xfail"] else "skipped")
    tests = {}
    for nodeid, p in phases.items():
        if p["failed"] is not None:
            tests[nodeid] = ("failed", p["failed"])
        elif p["skipped"]:
            tests[nodeid] = ("skipped", p["skipped"])
        else:
            tests[nodeid] = ("passed", "")
    return tests


def load_known(path):
    known = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            nodeid, _, reason = line.partition("|")
            known[nodeid.strip()] = reason.strip()
    return known


def counts(tests):
    c = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome, _ in tests.values():
        c[outcome] += 1
    return f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped"


def passed_lines():
    """Filter stdin (outcomes.py lines) to the lines of tests that passed."""
    lines = sys.stdin.read().splitlines(keepends=True)
    by_test = {}
    for line in lines:
        try:
            by_test.setdefault(json.loads(line)["nodeid"], []).append(line)
        except ValueError:
            pass
    for nodeid, mine in by_test.items():
        if all(json.loads(x)["outcome"] == "passed" for x in mine) and any(
            json.loads(x)["when"] == "call" for x in mine
        ):
            sys.stdout.writelines(mine)
    return 0


def main(argv):
    if argv == ["--passed-lines"]:
        return passed_lines()
    args = [a for a in argv if not a.startswith("--")]
    ours_path, ref_path, known_path = args[:3]
    rerun = load(argv[argv.index("--rerun") + 1]) if "--rerun" in argv else {}
    new_only = "--new-only" in argv
    ours, ref, known = load(ours_path), load(ref_path), load_known(known_path)

    lost = []  # passes on libzmq, not on ours
    for nodeid, (outcome, _) in ref.items():
        if outcome != "passed":
            continue
        mine, msg = ours.get(nodeid, ("not run", ""))
        if mine != "passed":
            lost.append((nodeid, mine, msg))
    new = [t for t in lost if t[0] not in known]
    if new_only:
        for nodeid, _, _ in new:
            if rerun.get(nodeid, ("",))[0] != "passed":
                print(nodeid)
        return 0

    print(f"pyzmq on libzmq:  {counts(ref)}")
    print(f"pyzmq on ferrozmq: {counts(ours)}")
    flaky = [t for t in new if rerun.get(t[0], ("",))[0] == "passed"]
    regressions = [t for t in new if t not in flaky]
    print(
        f"pass on libzmq, not on ferrozmq: {len(lost)} "
        f"({len(lost) - len(new)} known, {len(regressions)} new"
        + (f", {len(flaky)} flaky" if flaky else "")
        + ")"
    )
    for nodeid, mine, msg in lost:
        if nodeid in known:
            tag, why = "known", msg or known[nodeid]
        elif (nodeid, mine, msg) in flaky:
            tag, why = "flaky", "passed when run again alone: " + msg
        else:
            tag, why = "NEW", msg
        print(f"  {tag:5} {mine:7} {nodeid}  -- {why}")
    fixed = [n for n in known if ours.get(n, ("",))[0] == "passed"]
    for nodeid in fixed:
        print(f"  now passing on ferrozmq (drop it from known-failures.txt): {nodeid}")
    stale = [n for n in known if n not in ref]
    for nodeid in stale:
        print(f"  known-failures.txt names a test libzmq's run did not have: {nodeid}")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
