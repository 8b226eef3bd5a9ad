"""Integration harness: the real web server with our module, a real SMTP listener, real databases.

The server is nginx (ngx_http_lkk_module) or Apache httpd (mod_lkk): LKK_IT_SERVER=nginx|apache
for the whole run, or Portal(server=...) for one portal. Apache's children run as www-data, so
every Portal directory is handed to www-data (the SQLite file, the mail directory).

Each Portal gets its own directory, free ports, settings file, nginx.conf and (for MariaDB) its
own database, so tests never see each other's state and never touch system instances.
Browser talks HTTP/1.1 the way a browser does: cookies kept, redirects not followed (the tests
assert them), forms posted as application/x-www-form-urlencoded.
"""

import email
import email.policy
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

SRC = os.environ.get("LKK_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("LKK_BUILD_DIR") or os.path.join(SRC, "build", "ci")
MODULE = os.path.join(BUILD, "module", "ngx_http_lkk_module.so")
APACHE_MODULE = os.path.join(BUILD, "module", "mod_lkk.so")
ADMIN = os.path.join(BUILD, "admin-tool", "lkk-admin")
NGINX_SNIPPET = os.path.join(SRC, "conf-examples", "lkk-snippet.conf")
APACHE_SNIPPET = os.path.join(SRC, "conf-examples", "apache-lkk-snippet.conf")
NGINX_LOAD = "load_module %s;" % MODULE
APACHE_LOAD = "LoadModule lkk_module %s" % APACHE_MODULE
# LKK_IT_INSTALLED=1 (scripts/test-packages.sh): the Debian packages as installed. The module
# is loaded by the packages' own load files, the site snippets are the installed ones, and
# lkk-admin (with its compiled-in migrations) is /usr/bin/lkk-admin. Only the settings file
# is the test's own: it points at the test's SMTP sink, port and database.
INSTALLED = os.environ.get("LKK_IT_INSTALLED") == "1"
if INSTALLED:
    MODULE = "/usr/lib/nginx/modules/ngx_http_lkk_module.so"
    APACHE_MODULE = "/usr/lib/apache2/modules/mod_lkk.so"
    ADMIN = "/usr/bin/lkk-admin"
    NGINX_SNIPPET = "/etc/nginx/snippets/lkk.conf"
    APACHE_SNIPPET = "/etc/apache2/conf-available/lkk-portal.conf"
    # "load_module modules/...;" is relative to nginx's prefix: Portal links DIR/modules.
    NGINX_LOAD = "include /usr/share/nginx/modules-available/mod-http-lkk.conf;"
    APACHE_LOAD = "Include /etc/apache2/mods-available/lkk.load"
NGINX = "/usr/sbin/nginx"
APACHE = "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"
APACHE_USER = "www-data"
SERVER = os.environ.get("LKK_IT_SERVER", "nginx")  # nginx | apache
APACHE_MPM = os.environ.get("LKK_IT_APACHE_MPM", "event")  # event | prefork
SMTP_SINK = os.path.join(SRC, "tests", "tools", "smtp_sink.py")
BACKEND = os.environ.get("LKK_IT_BACKEND", "sqlite")  # sqlite | mysql (MariaDB + Redis)

DEMO_OFFICES = [
    ("SIM", "Симферопольское УЭГХ", "+7 (3652) 11-22-33, +7 (3652) 11-22-34"),
    ("KRC", "Керченское УЭГХ", "+7 (36561) 5-55-55"),
]


def module_env():
    """The environment for nginx or apache2 with our module (and lkk-admin)."""
    env = dict(os.environ)
    env["LANG"] = "C"  # apache2 reads its environment from /etc/apache2/envvars otherwise
    if os.environ.get("LKK_ASAN"):
        # Neither server is built with ASan; the sanitized module needs the runtime first.
        lib = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                             text=True).stdout.strip()
        ubsan = subprocess.run(["gcc", "-print-file-name=libubsan.so"], capture_output=True,
                               text=True).stdout.strip()
        env["LD_PRELOAD"] = lib + " " + ubsan
        # Apache's children end their threads at a graceful restart; ASan's own teardown of
        # the alternate signal stack of such a thread then reports a stack-buffer-overflow
        # inside libasan (sigaltstack from AsanThread::Destroy, no frame of ours; see
        # google/sanitizers#1171). Without the alternate stack there is nothing to tear down.
        opts = env.get("ASAN_OPTIONS", "")
        if "use_sigaltstack" not in opts:
            env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "use_sigaltstack=0"
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_no_connections(port, timeout=15.0):
    """Waits until no TCP connection on 127.0.0.1:port is open on the server's side (only the
    listening socket, and TIME_WAIT, which is the kernel's alone). True once that holds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open("/proc/net/tcp") as f:
            rows = [line.split() for line in f.readlines()[1:]]
        # columns: sl local_address rem_address st ...; st 0A is LISTEN, 06 is TIME_WAIT
        if not [r for r in rows if int(r[1].split(":")[1], 16) == port
                and r[3] not in ("0A", "06")]:
            return True
        time.sleep(0.05)
    return False


def servers_required():
    """In CI (CI=true) and under scripts/test.sh, which starts MariaDB and Redis, a suite that
    needs them must run: a missing server is a failure there, not a skip."""
    return (os.environ.get("CI", "").lower() in ("true", "1")
            or os.environ.get("LKK_TEST_REQUIRE_SERVERS") == "1")


def require_servers(*names):
    """Skips the calling test, class or module unless the environment variables are set (or fails
    it where the servers are required). Use in setUp, setUpClass or setUpModule."""
    missing = [n for n in names if not os.environ.get(n)]
    if not missing:
        return
    reason = ("no test servers (%s unset): run eval \"$(bash scripts/services.sh start)\""
              % ", ".join(missing))
    if servers_required():
        raise AssertionError(reason + "; they are required here (CI or scripts/test.sh)")
    raise unittest.SkipTest(reason)


def this_year():
    return time.gmtime().tm_year


class SmtpSink:
    """Debian's aiosmtpd behind tests/tools/smtp_sink.py; one .eml file per received mail."""

    def __init__(self, directory, port=0):
        self.dir = directory
        self.port = port
        self.proc = None
        os.makedirs(directory, exist_ok=True)

    def start(self):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", SMTP_SINK, "--port", str(self.port), "--dir", self.dir],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"READY\s+(\d+)", line or "")
        if not m:
            raise RuntimeError("smtp sink did not start: %r" % line)
        self.port = int(m.group(1))
        return self

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc.stdout.close()
            self.proc = None

    def messages(self):
        out = []
        for name in sorted(os.listdir(self.dir), key=lambda n: (len(n), n)):
            if name.endswith(".eml"):
                with open(os.path.join(self.dir, name), "rb") as f:
                    out.append(email.message_from_bytes(f.read(), policy=email.policy.default))
        return out

    def wait_for(self, count, timeout=30.0, to=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            msgs = [m for m in self.messages() if to is None or to in str(m["To"])]
            if len(msgs) >= count:
                return msgs
            time.sleep(0.1)
        raise AssertionError("expected %d mail(s) to %s, got %d" % (count, to, len(msgs)))


def thread_stats(pids):
    """(pid, tid, the fields of /proc/PID/task/TID/stat after the name: [0] the state, [11]
    and [12] utime and stime, [16] the nice value, [38] the scheduling policy) of every thread
    of the processes pids; a thread or process gone meanwhile is left out."""
    for pid in pids:
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except FileNotFoundError:
            continue
        for tid in tasks:
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    yield pid, tid, f.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue


SCHED_IDLE = 5  # sched.h


def is_hashing_thread(fields):
    """Whether thread_stats() fields are those of a portal's Argon2 hashing thread: the only
    threads under SCHED_IDLE (core/src/crypto.cpp)."""
    return int(fields[38]) == SCHED_IDLE


def hashing_threads_running(pids):
    """How many Argon2 hashing threads of the processes pids are running or ready to run
    (state R); one waiting for a hash slot sleeps."""
    return sum(fields[0] == "R" and is_hashing_thread(fields)
               for _, _, fields in thread_stats(pids))


def post_all_at_once(forms, path, fields):
    """POSTs fields (with each form's own csrf) from every (Browser, csrf) in forms at the same
    instant, one thread each; answers each one's (status, text), or (0, exception)."""
    import threading
    start = threading.Barrier(len(forms))
    results = [None] * len(forms)

    def post(i):
        b, csrf = forms[i]
        start.wait()
        try:
            r = b.post(path, dict(fields, csrf=csrf))
            results[i] = (r.status, r.text)
        except Exception as e:  # noqa: BLE001 - reported by the caller with the others
            results[i] = (0, repr(e))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(forms))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def mail_text(msg):
    part = msg.get_body(preferencelist=("plain", "html"))
    return part.get_content()


def mail_link(msg, marker):
    """The first link in the mail's text that contains marker (e.g. '/confirm?token=')."""
    for url in re.findall(r"https?://[^\s<>\"]+", mail_text(msg)):
        if marker in url:
            return url
    raise AssertionError("no link with %r in mail:\n%s" % (marker, mail_text(msg)))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value), names lower-case
        self.raw = body
        self.text = body.decode("utf-8", errors="replace")

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    def json(self):
        return json.loads(self.raw)

    def csrf(self):
        m = re.search(r'name="csrf"\s+value="([^"]+)"', self.text)
        if not m:
            raise AssertionError("no csrf field in page:\n" + self.text[:2000])
        return m.group(1)

    def __repr__(self):
        return "<Response %d %s>" % (self.status, self.text[:200])


class Browser:
    """A cookie-keeping HTTP client that never follows redirects."""

    def __init__(self, port, base="/lkk", user_agent="Mozilla/5.0 (lkk tests)", source=None,
                 tls=False):
        """source: the local address to connect from (e.g. "127.0.0.2", to look like another
        client than the proxy in front of the portal); tls: HTTPS, certificate not checked."""
        self.port = port
        self.base = base
        self.cookies = {}
        self.user_agent = user_agent
        self.source = (source, 0) if source else None
        self.tls = tls

    def request(self, method, path, body=None, headers=None, raw_body=False):
        if not path.startswith("/"):
            path = self.base + "/" + path
        if self.tls:
            import ssl
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=60,
                                               source_address=self.source,
                                               context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60,
                                              source_address=self.source)
        h = {"User-Agent": self.user_agent, "Host": "127.0.0.1:%d" % self.port}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        hdrs = [(k.lower(), v) for k, v in r.getheaders()]
        conn.close()
        for k, v in hdrs:
            if k == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if re.search(r"max-age=0\b", v, re.I) or value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        return Response(r.status, hdrs, data)

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, fields, headers=None):
        body = urllib.parse.urlencode(fields).encode() if isinstance(fields, dict) else fields
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        return self.request("POST", path, body=body, headers=h)

    def form(self, page_path, post_path, fields):
        """GET the page with the form, then POST the fields with its CSRF token."""
        page = self.get(page_path)
        f = dict(fields)
        f["csrf"] = page.csrf()
        return self.post(post_path, f)

    def api(self, method, path, payload=None, headers=None):
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        h.update(headers or {})
        body = json.dumps(payload).encode() if payload is not None else None
        return self.request(method, self.base + "/api/v1/" + path, body=body, headers=h)


class Portal:
    """nginx or Apache + lkk module on free ports, with its own settings, database and mail."""

    def __init__(self, mail="smtp", settings=None, threads=4, workers=1, backend=None,
                 shared_db=None, sink=None, mysql_url=None, redis_url=None, server_extra="",
                 server=None, mpm=None):
        """shared_db: a mysql:// (or sqlite:) URL another Portal created (not created, migrated
        or dropped here). sink: a started SmtpSink shared with other portals (not stopped here).
        mysql_url/redis_url: the servers to use instead of LKK_TEST_MYSQL_URL/LKK_TEST_REDIS_URL
        (e.g. PrivateServices that a test may stop). server_extra: directives for the server
        block (e.g. set_real_ip_from) or, on Apache, for the main server. server: "nginx" or
        "apache" (default LKK_IT_SERVER). threads: nginx's thread pool (None: no thread_pool
        line, the module declares the pool with its own size); Apache answers on its
        own threads (mpm_event, 25 per child) or processes (mpm_prefork). workers: nginx
        workers or Apache children (at least 2 under prefork: 8)."""
        self.server = server or SERVER
        self.mpm = mpm or APACHE_MPM
        self.backend = backend or BACKEND
        self.dir = tempfile.mkdtemp(prefix="lkk-it-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.base = "/lkk"
        self.threads = threads
        self.workers = workers
        self.extra = settings or {}
        self.sink = sink
        self.own_sink = sink is None
        self.mysql_url = mysql_url
        self.redis_url = redis_url
        self.server_extra = server_extra
        self.redis_lease = None
        self.mail_mode = mail
        self.shared_db = shared_db
        self.db_name = None
        self.master_pid = None
        self.initial_workers = None

    def second_host(self, **kwargs):
        """Another host of this portal, started: its own server on this one's database,
        sessions (Redis on MariaDB) and SMTP sink. Stop it before this one (which owns the
        database)."""
        return Portal(sink=self.sink, shared_db=self.settings["storage"]["url"],
                      redis_url=self.settings["sessions"]["url"]
                      if self.backend == "mysql" else None, **kwargs).start()

    # ---- settings -------------------------------------------------------------------------
    def storage_url(self):
        if self.shared_db:
            return self.shared_db
        if self.backend == "mysql":
            return self._create_mysql_db()
        return "sqlite:%s/lkk.db" % self.dir

    def _create_mysql_db(self):
        base = self.mysql_url or os.environ["LKK_TEST_MYSQL_URL"]
        u = urllib.parse.urlparse(base)
        self.db_name = "lkk_it_" + secrets.token_hex(4)
        subprocess.run(["mariadb", "-h", u.hostname, "-P", str(u.port), "-u", u.username,
                        "-p" + u.password, "-e",
                        "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                        % self.db_name], check=True)
        return "mysql://%s:%s@%s:%d/%s" % (u.username, u.password, u.hostname, u.port,
                                           self.db_name)

    def sessions_url(self):
        if self.backend == "mysql":
            if self.redis_url:
                return self.redis_url
            self.redis_lease = RedisLease(os.environ["LKK_TEST_REDIS_URL"])
            return self.redis_lease.url
        return "storage"

    def write_settings(self):
        if self.mail_mode == "smtp":
            if self.sink is None:
                self.sink = SmtpSink(os.path.join(self.dir, "inbox"), port=free_port()).start()
            mail_url = "smtp://127.0.0.1:%d" % self.sink.port
        else:
            os.makedirs(os.path.join(self.dir, "mail"), exist_ok=True)
            mail_url = "file:%s/mail" % self.dir
        self.settings = {
            "portal": {
                "base_url": "http://127.0.0.1:%d" % self.port,
                "base_path": self.base,
                "support_email": "help-lkk@example.org",
                "locale": "ru",
            },
            "storage": {"url": self.storage_url()},
            "sessions": {"url": self.sessions_url(), "cookie_secure": False},
            "mail": {"url": mail_url, "from": "Личный кабинет <noreply@example.org>",
                     "poll_interval": "1s"},
            "passwords": {"argon2_memory_kib": 4096, "argon2_iterations": 1},
            # Every test browser comes from 127.0.0.1: per-IP limits would couple the tests.
            "throttle": {"register_per_ip": 100000, "login_attempts_per_ip": 100000},
        }
        for section, kv in self.extra.items():
            self.settings.setdefault(section, {}).update(kv)
        self.settings_path = os.path.join(self.dir, "lkk.toml")
        with open(self.settings_path, "w") as f:
            f.write(to_toml(self.settings))

    def write_nginx_conf(self):
        os.makedirs(os.path.join(self.dir, "html"), exist_ok=True)
        with open(os.path.join(self.dir, "html", "static.txt"), "w") as f:
            f.write("static ok\n")
        preload = ""
        if INSTALLED and not os.path.exists(os.path.join(self.dir, "modules")):
            os.symlink("/usr/lib/nginx/modules", os.path.join(self.dir, "modules"))
        conf = """
{load}
user root;
worker_processes {workers};
pid {d}/nginx.pid;
lock_file {d}/nginx.lock;
error_log {d}/error.log info;
{thread_pool}
events {{ worker_connections 512; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    lkk_config {settings};
    server {{
        listen 127.0.0.1:{port};
        root {d}/html;
        include {snippet};
        location = /static.txt {{ }}
        {server_extra}
    }}
}}
""".format(load=NGINX_LOAD, workers=self.workers, d=self.dir,
           thread_pool="" if self.threads is None else "thread_pool lkk threads=%d;" % self.threads,
           settings=self.settings_path, port=self.port, snippet=NGINX_SNIPPET,
           server_extra=self.server_extra)
        self.nginx_conf = os.path.join(self.dir, "nginx.conf")
        with open(self.nginx_conf, "w") as f:
            f.write(conf + preload)

    def write_apache_conf(self):
        os.makedirs(os.path.join(self.dir, "html"), exist_ok=True)
        with open(os.path.join(self.dir, "html", "static.txt"), "w") as f:
            f.write("static ok\n")
        if self.mpm == "prefork":
            n = max(self.workers, 8)
            mpm = ("StartServers {n}\nServerLimit {n}\nMinSpareServers 1\nMaxSpareServers {n}\n"
                   "MaxRequestWorkers {n}\n").format(n=n)
        else:
            # A fixed number of children: none started or stopped for load, so the test can
            # tell that no child died.
            n = max(self.workers, 1)
            mpm = ("StartServers {n}\nServerLimit {n}\nThreadsPerChild 25\nThreadLimit 25\n"
                   "MaxRequestWorkers {t}\nMinSpareThreads 1\nMaxSpareThreads {t}\n"
                   ).format(n=n, t=n * 25)
        conf = """
ServerRoot {d}
ServerName 127.0.0.1
PidFile {d}/apache2.pid
DefaultRuntimeDir {d}
Mutex file:{d} default
ErrorLog {d}/error.log
LogLevel notice lkk:info
Listen 127.0.0.1:{port}
LoadModule mpm_{mpm_name}_module {mods}/mod_mpm_{mpm_name}.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule mime_module {mods}/mod_mime.so
LoadModule alias_module {mods}/mod_alias.so
{load}
TypesConfig /etc/mime.types
User {user}
Group {user}
{mpm}MaxConnectionsPerChild 0
GracefulShutdownTimeout 10
DocumentRoot {d}/html
<Directory {d}/html>
    Require all granted
</Directory>
LkkConfig {settings}
Include {snippet}
{server_extra}
""".format(d=self.dir, port=self.port, mpm_name=self.mpm, mods=APACHE_MODULES,
           load=APACHE_LOAD, user=APACHE_USER, mpm=mpm, settings=self.settings_path,
           snippet=APACHE_SNIPPET, server_extra=self.server_extra)
        self.apache_conf = os.path.join(self.dir, "apache2.conf")
        with open(self.apache_conf, "w") as f:
            f.write(conf)

    def give_to_apache_user(self):
        """Apache's children run as www-data: they write the SQLite file (and its -wal/-shm)
        and the mail directory. Called again after anything run here as root wrote there."""
        if self.server != "apache":
            return
        for root, dirs, files in os.walk(self.dir):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                try:
                    shutil.chown(name, APACHE_USER, APACHE_USER)
                except OSError:
                    pass

    # ---- processes ------------------------------------------------------------------------
    def env(self):
        return module_env()

    def admin(self, *args, check=True, input=None):
        r = subprocess.run([ADMIN, "--config", self.settings_path] + list(args),
                           capture_output=True, text=True, input=input, env=self.env())
        self.give_to_apache_user()
        if check and r.returncode != 0:
            raise AssertionError("lkk-admin %s failed (%d): %s %s"
                                 % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def load_demo_billing(self, rows):
        """rows: (office, account, surname, last_payment, last_payment_date, address)."""
        for code, name, phones in DEMO_OFFICES:
            r = self.admin("offices", "add", code, "--name", name, "--phones", phones,
                           check=False)
            if r.returncode != 0 and "exist" not in (r.stdout + r.stderr):
                raise AssertionError(r.stdout + r.stderr)
        path = os.path.join(self.dir, "billing.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("office;account;surname;last_payment;last_payment_date;address\n")
            for row in rows:
                f.write(";".join(row) + "\n")
        self.admin("billing", "import", path)

    def start(self):
        self.write_settings()
        if self.server == "apache":
            self.write_apache_conf()
        else:
            self.write_nginx_conf()
        if self.backend == "mysql" and not self.shared_db:
            self.admin("migrate")
        self.give_to_apache_user()
        if self.server == "apache":
            cmd, pid_file = [APACHE, "-f", self.apache_conf], "apache2.pid"
        else:
            cmd, pid_file = [NGINX, "-p", self.dir, "-c", self.nginx_conf], "nginx.pid"
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env())
        for _ in range(3):
            # free_port() only found the port free: another process (a parallel test, a
            # benchmark) may have bound it since. Take another one and write the files again.
            if r.returncode == 0 or "Address already in use" not in r.stdout + r.stderr:
                break
            log = os.path.join(self.dir, "error.log")
            if os.path.exists(log):  # its [emerg] bind lines are not the test's problems
                os.replace(log, log + ".port-taken")
            self.port = free_port()
            self.write_settings()
            if self.server == "apache":
                self.write_apache_conf()
            else:
                self.write_nginx_conf()
            r = subprocess.run(cmd, capture_output=True, text=True, env=self.env())
        if r.returncode != 0:
            # The launcher may fail after the daemon went to the background (a sanitizer's
            # report at its exit): that server must not live on as an orphan with its children.
            self.kill_leftover(os.path.join(self.dir, pid_file))
            raise RuntimeError("%s failed to start: %s %s\n%s"
                               % (self.server, r.stdout, r.stderr, self.error_log()))
        if not wait_port(self.port):
            raise RuntimeError("%s does not listen:\n%s" % (self.server, self.error_log()))
        deadline = time.time() + 10
        while time.time() < deadline and not os.path.exists(os.path.join(self.dir, pid_file)):
            time.sleep(0.05)
        with open(os.path.join(self.dir, pid_file)) as f:
            self.master_pid = int(f.read().strip())
        expected = self.workers if self.server != "apache" or self.mpm != "prefork" \
            else max(self.workers, 8)
        deadline = time.time() + 10
        while time.time() < deadline and len(self.worker_pids()) < expected:
            time.sleep(0.05)
        self.initial_workers = self.worker_pids()
        return self

    def kill_leftover(self, pid_file):
        time.sleep(0.5)  # a daemon writes its pid file just after the launcher returns
        try:
            with open(pid_file) as f:
                self.master_pid = int(f.read().strip())
        except (OSError, ValueError):
            return
        self.kill_hard(self.worker_pids())
        self.master_pid = None

    def kill_hard(self, children):
        """SIGKILL to the master and its children, so that none lives on as an orphan."""
        for pid in [self.master_pid] + children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def worker_pids(self):
        r = subprocess.run(["ps", "--ppid", str(self.master_pid), "-o", "pid=,args="],
                           capture_output=True, text=True)
        return sorted(int(l.split()[0]) for l in r.stdout.splitlines()
                      if "worker" in l or self.server == "apache")

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log"), encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_line_start(self, level):
        """A regex for the start of an error-log line of the core at level (nginx's names:
        "info", "error", ...), up to the message."""
        if self.server == "apache":
            # [Wed Dec 02 06:30:03.525542 2026] [lkk:info] [pid 1260:tid 1260]
            return (r"\[\w{3} \w{3} \d\d \d\d:\d\d:\d\d\.\d+ \d{4}\] \[lkk:%s\] "
                    r"\[pid \d+(:tid \d+)?\] " % ("warn" if level == "warn" else level))
        return r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[%s\] \d+#\d+: " % level

    def problems(self):
        """Lines that must never appear: alerts, emergencies, sanitizer reports, crashes."""
        bad = re.compile(r"\[alert\]|\[emerg\]|:alert\]|:emerg\]|AddressSanitizer|"
                         r"runtime error:|exited on signal|exit signal|LeakSanitizer")
        return [l for l in self.error_log().splitlines() if bad.search(l)]

    def stop(self):
        if self.master_pid:
            children = self.worker_pids()
            try:
                # graceful stop: nginx SIGQUIT, Apache SIGWINCH
                os.kill(self.master_pid, signal.SIGWINCH if self.server == "apache"
                        else signal.SIGQUIT)
            except ProcessLookupError:
                pass
            deadline = time.time() + 15
            while time.time() < deadline:
                try:
                    os.kill(self.master_pid, 0)
                    time.sleep(0.05)
                except ProcessLookupError:
                    break
            else:
                # Not stopped in 15 s: kill it, and its children too, or they would live on as
                # orphans holding the listening socket (an Apache child waits on the pipe of
                # death for a word from the master that never comes).
                sys.stderr.write("harness: %s %d did not stop gracefully in 15 s; killed\n"
                                 % (self.server, self.master_pid))
                self.kill_hard(children)
            self.master_pid = None
        if self.sink and self.own_sink:
            self.sink.stop()
        if self.redis_lease:
            self.redis_lease.release()
            self.redis_lease = None
        if self.db_name:
            base = urllib.parse.urlparse(self.mysql_url or os.environ["LKK_TEST_MYSQL_URL"])
            subprocess.run(["mariadb", "-h", base.hostname, "-P", str(base.port), "-u",
                            base.username, "-p" + base.password, "-e",
                            "DROP DATABASE IF EXISTS %s" % self.db_name])
        if not os.environ.get("LKK_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def browser(self):
        return Browser(self.port, self.base)

    # ---- database look-ups for assertions (SQLite; MariaDB through the mariadb client) ----
    def sql(self, query, params=()):
        if self.backend == "mysql":
            u = urllib.parse.urlparse(self.settings["storage"]["url"])
            q = query
            for p in params:
                q = q.replace("?", "'%s'" % str(p).replace("'", "''"), 1)
            r = subprocess.run(["mariadb", "-h", u.hostname, "-P", str(u.port), "-u",
                                u.username, "-p" + u.password, "-N", "-B", u.path[1:], "-e",
                                q], capture_output=True, text=True, check=True)
            return [tuple(line.split("\t")) for line in r.stdout.splitlines()]
        import sqlite3
        con = sqlite3.connect(os.path.join(self.dir, "lkk.db"), timeout=10)
        try:
            rows = [tuple(str(c) if c is not None else None for c in row)
                    for row in con.execute(query, params).fetchall()]
            con.commit()
            return rows
        finally:
            con.close()
            self.give_to_apache_user()


class RedisLease:
    """One of the Redis databases 1..15 for one portal (and the hosts that share it), held with
    flock so parallel test processes never share one, and emptied first: Redis outlives a test
    run, and leftover sessions or throttle counters (keyed by e-mail, IP or user id, and user
    ids start over in every fresh database) would leak into the next run. Falls back to the
    URL's own database when all are taken."""

    def __init__(self, base_url):
        import fcntl
        u = urllib.parse.urlparse(base_url)
        self.url, self.fd = base_url, None
        for n in range(1, 16):
            path = os.path.join(tempfile.gettempdir(), "lkk-it-redis-%s-%d-%d.lock"
                                % (u.hostname, u.port or 6379, n))
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.fd = fd
            self.url = urllib.parse.urlunparse(u._replace(path="/%d" % n))
            cmd = ["redis-cli", "-h", u.hostname, "-p", str(u.port or 6379), "-n", str(n)]
            if u.password:
                cmd += ["-a", urllib.parse.unquote(u.password), "--no-auth-warning"]
            subprocess.run(cmd + ["FLUSHDB"], check=True, capture_output=True)
            break

    def release(self):
        if self.fd is not None:
            os.close(self.fd)  # drops the lock
            self.fd = None


class PrivateServices:
    """A MariaDB and a Redis of one test's own: scripts/services.sh with its own directory and
    free ports, so a test that stops them does not disturb tests running next to it."""

    SCRIPT = os.path.join(SRC, "scripts", "services.sh")

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lkk-svc-")
        self.mysql_port = free_port()
        self.redis_port = free_port()
        self.root_socket = os.path.join(self.dir, "mysql.sock")
        self.mysql_url = self.redis_url = None

    def _env(self):
        env = dict(os.environ)
        env.update(LKK_SERVICES_DIR=self.dir, LKK_MYSQL_PORT=str(self.mysql_port),
                   LKK_REDIS_PORT=str(self.redis_port))
        return env

    # Starts whatever of the two is not running (services.sh leaves a running one alone).
    def start(self):
        r = subprocess.run(["bash", self.SCRIPT, "start"], capture_output=True, text=True,
                           env=self._env(), stdin=subprocess.DEVNULL, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("services.sh start failed: %s %s" % (r.stdout, r.stderr))
        exports = dict(re.findall(r"export (\w+)=(\S+)", r.stdout))
        self.mysql_url = exports["LKK_TEST_MYSQL_URL"]
        self.redis_url = exports["LKK_TEST_REDIS_URL"]
        return self

    def stop_mysql(self):
        subprocess.run(["mariadb-admin", "--socket=" + self.root_socket, "-uroot", "shutdown"],
                       capture_output=True, timeout=120)
        deadline = time.time() + 30
        while time.time() < deadline and subprocess.run(
                ["mariadb-admin", "--socket=" + self.root_socket, "-uroot", "ping"],
                capture_output=True).returncode == 0:
            time.sleep(0.05)

    def stop_redis(self):
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "shutdown", "nosave"],
                       capture_output=True, timeout=60)
        deadline = time.time() + 10
        while time.time() < deadline and subprocess.run(
                ["redis-cli", "-p", str(self.redis_port), "ping"],
                capture_output=True).returncode == 0:
            time.sleep(0.05)

    def stop(self):
        subprocess.run(["bash", self.SCRIPT, "stop"], capture_output=True, env=self._env(),
                       stdin=subprocess.DEVNULL, timeout=120)
        if not os.environ.get("LKK_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)


def to_toml(settings):
    lines = []
    for section, kv in settings.items():
        lines.append("[%s]" % section)
        for k, v in kv.items():
            if isinstance(v, bool):
                lines.append("%s = %s" % (k, "true" if v else "false"))
            elif isinstance(v, int):
                lines.append("%s = %d" % (k, v))
            else:
                lines.append("%s = %s" % (k, json.dumps(v, ensure_ascii=False)))
        lines.append("")
    return "\n".join(lines)


class PortalTestCase(unittest.TestCase):
    """Starts one portal per test class; checks the error log and worker pids after each test."""

    portal_kwargs = {}
    billing_rows = None

    @classmethod
    def setUpClass(cls):
        server = cls.portal_kwargs.get("server") or SERVER
        for path in (APACHE_MODULE if server == "apache" else MODULE, ADMIN):
            if not os.path.exists(path):
                raise unittest.SkipTest("not built: " + path)
        backend = cls.portal_kwargs.get("backend") or BACKEND
        if backend == "mysql":
            require_servers("LKK_TEST_MYSQL_URL", "LKK_TEST_REDIS_URL")
        cls.portal = Portal(**cls.portal_kwargs).start()
        year = this_year()
        rows = cls.billing_rows or [
            ("SIM", "100200", "Иванов", "1234,50", "%d-03-15" % year, "г. Симферополь, ул. Ленина, 1"),
            ("SIM", "100201", "Ёлкина", "0", "", "г. Симферополь, ул. Гоголя, 2"),
            ("SIM", "100202", "Петрова-Водкина", "500.00", "%d-12-01" % (year - 1), "ул. Мира, 3"),
            ("SIM", "100299", "Кузнецов", "10,00", "%d-02-01" % year, "ул. Кирова, 9"),
            ("KRC", "300400", "Сидоров", "99.99", "%d-01-10" % year, "г. Керчь, ул. Морская, 4"),
        ]
        cls.portal.load_demo_billing(rows)

    @classmethod
    def tearDownClass(cls):
        cls.portal.stop()

    def tearDown(self):
        self.assertEqual(self.portal.problems(), [], "error.log has problems")
        self.assertEqual(self.portal.worker_pids(), self.portal.initial_workers,
                         "a worker/child process died during the test")

    def link(self, b, account="100200", surname="Иванов", amount="1234,50", office="SIM"):
        """Links a billing account to the browser's cabinet through the form; answers the link
        id."""
        r = b.form("accounts/link", "accounts/link", {"office": office, "account": account,
                                                      "surname": surname, "amount": amount})
        self.assertEqual(r.status, 303, r.text)
        return int(r.header("location").split("linked=")[1])

    # Registers and confirms a user through the real mail; answers a logged-in Browser.
    def register_confirmed(self, email_addr, password="secret12"):
        b = self.portal.browser()
        r = b.form("register", "register", {"email": email_addr, "password": password,
                                            "password_confirm": password, "consent": "1"})
        self.assertEqual(r.status, 200, r.text)
        msg = self.portal.sink.wait_for(1, to=email_addr)[-1]
        link = mail_link(msg, "/confirm?token=")
        r = b.get(urllib.parse.urlparse(link).path + "?" + urllib.parse.urlparse(link).query)
        self.assertEqual(r.status, 200, r.text)
        r = b.form("", "login", {"email": email_addr, "password": password})
        self.assertEqual(r.status, 303, r.text)
        return b


class TwoHostsTestCase(PortalTestCase):
    """A PortalTestCase with a second host, cls.b (Portal.second_host: its own server and
    timers on the first host's database, sessions and SMTP sink; second_host_kwargs, e.g.
    settings and workers), whose error log and workers are checked after each test too."""

    second_host_kwargs = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.b = cls.portal.second_host(**cls.second_host_kwargs)
        except BaseException:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()  # the first host owns the database: it goes last
        super().tearDownClass()

    def tearDown(self):
        super().tearDown()
        self.assertEqual(self.b.problems(), [], "host B's error.log has problems")
        self.assertEqual(self.b.worker_pids(), self.b.initial_workers)
