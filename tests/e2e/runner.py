"""The end-to-end suites' shared runner: register tests with @suite.test, run
them with suite.main(); prints a line per test and closes with
'<suite>: N passed, N failed' (the line tests/run-all.sh sums).

    suite = Suite("engine")
    @suite.test
    def something(): ...
    sys.exit(suite.main())   # argv: POPSIFT [TEST_NAME ...]
"""
import os
import sys


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Suite:
    def __init__(self, name):
        self.name = name
        self.tests = []
        self.popsift = None

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def main(self, argv=None):
        argv = sys.argv if argv is None else argv
        self.popsift = os.path.abspath(argv[1])
        only = set(argv[2:])
        passed = failed = 0
        for fn in self.tests:
            if only and fn.__name__ not in only:
                continue
            try:
                fn()
                print(f"ok   {self.name} {fn.__name__}", flush=True)
                passed += 1
            except Exception as exc:  # noqa: BLE001 - report every failure, keep going
                print(f"FAIL {self.name} {fn.__name__}: {type(exc).__name__}: {str(exc)[:2000]}", flush=True)
                failed += 1
        print(f"{self.name}: {passed} passed, {failed} failed")
        return 1 if failed else 0
