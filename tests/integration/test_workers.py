"""The server's worker processes share the Argon2 hash slots (README "Directives": as many hashes
at once as the machine has CPUs, whichever worker the logins reach; lkk/turns.h).

A worker killed while its threads hash (the OOM killer, a crash) must not take its slots with
it: the slots live in memory the master (Apache: the parent) mapped before it forked the
workers, so a slot that stayed taken would block every later login of every worker for good.
Here nginx runs 2 workers (Apache: its children) with an Argon2 cost of about two seconds
per hash; twice as many logins as CPUs are posted, and while they hash every worker is killed with
SIGKILL. The master starts new workers, and as many logins again are all answered (400: no
such subscriber) within seconds. And while five logins per CPU hash (about two seconds
each), no more of the workers' threads use the CPUs over half a second than the slots can
explain, also across a graceful restart (nginx: SIGHUP, Apache: SIGUSR1), while the workers
of the old generation finish their hashes beside the new ones.

Runs on nginx (py_test_workers) and on Apache's mpm_prefork (py_test_workers_apache_prefork).
"""

import os
import signal
import threading
import time
import unittest

import harness
from harness import PortalTestCase
CPUS = os.cpu_count() or 1
# About two seconds per hash on this machine's cores.
SLOWER_ARGON2 = {"argon2_memory_kib": 65536, "argon2_iterations": 24}


def allowed_cpus(pid, tid):
    """The CPUs the thread may run on (Cpus_allowed_list in /proc), as a sorted list; [] when
    the thread is gone."""
    try:
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith("Cpus_allowed_list:"):
                    cpus = []
                    for part in line.split(":", 1)[1].strip().split(","):
                        first, _, last = part.partition("-")
                        cpus.extend(range(int(first), int(last or first) + 1))
                    return cpus
    except FileNotFoundError:
        pass
    return []


class Logins:
    """n logins of e-mails nobody has, posted at once from threads; an answer is (status) or
    the exception the request raised (a worker killed under it)."""

    def __init__(self, portal, n):
        self.forms = []
        for _ in range(n):
            b = portal.browser()
            self.forms.append((b, b.get("").csrf()))
        self.answers = [None] * n
        self.threads = [threading.Thread(target=self.post, args=(i,)) for i in range(n)]
        for t in self.threads:
            t.start()

    def post(self, i):
        b, csrf = self.forms[i]
        try:
            r = b.post("login", {"email": "nobody-%d@example.org" % i, "password": "wrong-one1",
                                 "csrf": csrf})
            self.answers[i] = r.status
        except Exception as e:  # noqa: BLE001 - a killed worker resets the connection
            self.answers[i] = e

    def join(self, seconds):
        deadline = time.time() + seconds
        for t in self.threads:
            t.join(max(0.0, deadline - time.time()))
        return self.answers


class KilledWorkers(PortalTestCase):
    portal_kwargs = {"workers": 2, "settings": {"passwords": SLOWER_ARGON2,
                                                "throttle": {"login_attempts_per_ip": 1000}}}

    killed = []

    def tearDown(self):
        # The workers this test killed are reported by the master; nothing else may be.
        problems = [line for line in self.portal.problems()
                    if not any(str(pid) in line for pid in self.killed)]
        self.assertEqual(problems, [], "error.log has problems")

    def new_workers(self, old, seconds=20):
        deadline = time.time() + seconds
        while time.time() < deadline:
            pids = self.portal.worker_pids()
            if pids and not set(pids) & set(old):
                return pids
            time.sleep(0.1)
        self.fail("no new workers after %d s: %s" % (seconds, self.portal.worker_pids()))

    def thread_stats(self):
        """harness.thread_stats of every worker."""
        return harness.thread_stats(self.portal.worker_pids())

    def cpu_ticks(self):
        """{(pid, tid): user + system clock ticks} of every thread of every worker."""
        return {(pid, tid): int(fields[11]) + int(fields[12])  # utime, stime
                for pid, tid, fields in self.thread_stats()}

    def test_the_workers_together_hash_at_most_as_many_at_once_as_cpus(self):
        # Five logins per CPU, each hash about two seconds. Apache's prefork children once had
        # a slot each (CPUs / children, at least 1): all of them would have hashed at once,
        # sharing the CPUs, each thread getting a fifth of one over the half second measured.
        n = 5 * CPUS
        logins = Logins(self.portal, n)
        time.sleep(0.5)
        before = self.cpu_ticks()
        time.sleep(0.5)
        after = self.cpu_ticks()
        hz = os.sysconf("SC_CLK_TCK")
        busy = [k for k, t in after.items() if t - before.get(k, t) >= 0.05 * hz]
        self.assertEqual(logins.join(120), [400] * n)
        # Those hashing, and at most one more per slot whose hash ended within the half second.
        self.assertGreaterEqual(len(busy), 1)
        self.assertLessEqual(len(busy), 2 * CPUS,
                             "threads that used CPU while %d logins hashed" % n)

    def running_threads(self, seconds=1.0, every=0.02):
        """The median, over samples every 20 ms, of how many of the workers' hashing threads
        were running or ready to run (state R); one waiting for a slot sleeps. Other threads
        are left out: children starting after a restart run beside the hashes (under ASan for
        longer than the samples), and they take no slot."""
        counts = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            counts.append(harness.hashing_threads_running(self.portal.worker_pids()))
            time.sleep(every)
        return sorted(counts)[len(counts) // 2]

    @unittest.skipIf(CPUS < 2, "one CPU: nothing to spread the hashes over")
    def test_each_running_hash_has_a_cpu_of_its_own(self):
        # Left to the scheduler, a hash woken when another ended often went back to the CPU it
        # ran on before, beside the other hash, while the CPU just freed idled (core/src/crypto.cpp,
        # Hashers::Cpus). Each slot's hash is now bound to a CPU of its own.
        # A hashing thread is bound once it has its slot: one just made (Apache starts children
        # as the logins come) runs unbound until it waits for a slot. So only threads that have
        # hashed for 0.1 s of CPU or more count; a hash here takes about two seconds.
        hashed = 0.1 * os.sysconf("SC_CLK_TCK")
        logins = Logins(self.portal, 3 * CPUS)
        time.sleep(0.5)
        samples = []
        deadline = time.time() + 1.0
        while time.time() < deadline:
            sample = [allowed_cpus(pid, tid) for pid, tid, fields in self.thread_stats()
                      if fields[0] == "R" and harness.is_hashing_thread(fields)
                      and int(fields[11]) + int(fields[12]) >= hashed]
            samples.append([cpus for cpus in sample if cpus])  # [] : gone meanwhile
            time.sleep(0.02)
        self.assertEqual(logins.join(120), [400] * (3 * CPUS))
        running = [cpus for sample in samples for cpus in sample]
        self.assertGreaterEqual(len(running), 1, "no hashing thread seen")
        self.assertEqual([c for c in running if len(c) != 1], [],
                         "hashing threads allowed on more than one CPU")
        # A thread that just gave its slot back is still running on that CPU for a moment
        # (under SCHED_IDLE, beside the next hash bound there, until it sleeps waiting for a
        # slot), so a sample taken then shows two threads on one CPU (once in a CI run on Apache
        # prefork). That moment comes once per hash of about two seconds, so it is at most a few
        # of the samples; with the slots' hashes bound to one CPU it would be every one.
        crowded = [s for s in samples if len(s) >= 2]
        one_cpu = [s for s in crowded if len(set(map(tuple, s))) < 2]
        self.assertLessEqual(len(one_cpu), len(crowded) // 4,
                             "running hashes bound to one CPU in %d of %d samples: %s"
                             % (len(one_cpu), len(crowded), one_cpu))

    def test_after_a_graceful_restart_the_old_and_new_workers_share_the_slots(self):
        # Apache unloads the module between configuration reads; slots mapped again at each
        # read would let the new children hash beside the old ones still finishing theirs.
        p = self.portal
        old = p.worker_pids()
        first = Logins(p, 2 * CPUS)  # every slot taken by the old workers, as many waiting
        time.sleep(0.5)
        os.kill(p.master_pid, signal.SIGUSR1 if harness.SERVER == "apache" else signal.SIGHUP)
        deadline = time.time() + 20
        while not set(p.worker_pids()) - set(old):
            self.assertLess(time.time(), deadline, "no new workers after the restart")
            time.sleep(0.05)
        second = Logins(p, 2 * CPUS)  # the new workers
        time.sleep(0.5)
        running = self.running_threads()
        self.assertEqual(first.join(120), [400] * (2 * CPUS))
        self.assertEqual(second.join(120), [400] * (2 * CPUS))
        self.assertGreaterEqual(running, 1, "no hashing thread seen across the restart")
        self.assertLessEqual(running, CPUS, "threads hashing at once across the restart")

    def test_a_worker_killed_while_hashing_leaves_no_slot_taken(self):
        p = self.portal
        before = p.worker_pids()
        self.assertGreaterEqual(len(before), 2 if harness.SERVER == "nginx" else 1)

        # Every slot taken (each hash takes about a second), more logins waiting for a turn.
        hashing = Logins(p, 2 * CPUS)
        time.sleep(0.5)
        type(self).killed = before
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        hashing.join(30)
        self.new_workers(before)

        # A slot left taken by a dead worker would hold these up for good.
        started = time.time()
        answers = Logins(p, 2 * CPUS).join(60)
        self.assertEqual(answers, [400] * (2 * CPUS),
                         "logins after the workers died (%.1f s): %s"
                         % (time.time() - started, answers))


if __name__ == "__main__":
    unittest.main()
