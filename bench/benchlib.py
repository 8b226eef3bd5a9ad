"""What the HTTP benchmarks share: the integration harness found from the source tree (with
an optional build directory), and wrk's figures read from its --latency output."""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def harness(build_dir=None):
    """The integration harness (tests/integration/harness.py) for BUILD_DIR (default
    build/ci)."""
    if build_dir:
        os.environ["LKK_BUILD_DIR"] = os.path.abspath(build_dir)
    os.environ.setdefault("LKK_BUILD_DIR", os.path.join(ROOT, "build", "ci"))
    os.environ.setdefault("LKK_SOURCE_DIR", ROOT)
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import harness as h
    return h


def wrk_figures(out):
    """(req/s, p99, non-2xx/3xx answers, requests) from wrk --latency output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, p99, int(non2xx.group(1)) if non2xx else 0, requests
