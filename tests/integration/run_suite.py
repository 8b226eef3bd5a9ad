"""Runs integration test modules for CTest and says honestly what ran.

Exit 0: every test ran and passed; 1: something failed; 77: nothing failed but some tests
were skipped (CTest's SKIP_RETURN_CODE, so the test shows as "Skipped", not "Passed").
Usage: run_suite.py MODULE [MODULE...]   (names as for `python3 -m unittest`)
"""

import sys
import unittest

SKIPPED = 77


def main(names):
    suite = unittest.defaultTestLoader.loadTestsFromNames(names)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.skipped:
        print("%d test(s) skipped, so this suite is reported as skipped:" % len(result.skipped),
              file=sys.stderr)
        for test, reason in result.skipped:
            print("  %s: %s" % (test.id(), reason), file=sys.stderr)
        return SKIPPED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
