#!/usr/bin/python3
"""A real SMTP listener for the tests: every message it accepts becomes DIR/<n>.eml.

Run with Debian's interpreter (/usr/bin/python3): python3-aiosmtpd is importable only there.

    /usr/bin/python3 tests/tools/smtp_sink.py --port 0 --dir /tmp/mails [--host 127.0.0.1]

Prints "READY <port>" on stdout once it listens (--port 0 picks a free port), and exits on
SIGTERM or SIGINT. For message n (1, 2, ...) it writes, in this order:
  DIR/<n>.rcpt   the envelope recipients, one per line
  DIR/<n>.from   the envelope sender
  DIR/<n>.eml    the message bytes exactly as received (written under a temporary name and
                 renamed, so a reader that sees the .eml also sees the .rcpt)
Options for failure tests: --fail-first N answers the first N messages with 451 (a temporary
failure), --auth USER:PASS requires AUTH (PLAIN/LOGIN, allowed without TLS),
--tls-cert/--tls-key offer STARTTLS, adding --implicit-tls serves TLS from the first byte.
"""
import argparse
import logging
import warnings
import asyncio
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class SinkHandler:
    def __init__(self, directory, fail_first):
        self.directory = directory
        self.fail_left = fail_first
        # Continue numbering after files already present, so a restarted sink on the same
        # directory never overwrites a mail an earlier sink received.
        self.count = sum(1 for name in os.listdir(directory) if name.endswith(".eml"))

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 Try again later (smtp_sink --fail-first)"
        self.count += 1
        n = self.count
        base = os.path.join(self.directory, str(n))
        with open(base + ".rcpt", "w", encoding="utf-8") as f:
            f.write("\n".join(envelope.rcpt_tos) + "\n")
        with open(base + ".from", "w", encoding="utf-8") as f:
            f.write((envelope.mail_from or "") + "\n")
        tmp = os.path.join(self.directory, ".%d.eml.tmp" % n)
        data = envelope.original_content
        if data is None:
            data = envelope.content if isinstance(envelope.content, bytes) else \
                envelope.content.encode("utf-8")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, base + ".eml")
        return "250 2.0.0 Message accepted for delivery"


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)
    return authenticator


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument("--dir", required=True, help="where the .eml files go (created)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--auth", default="", help="USER:PASS required from clients")
    parser.add_argument("--tls-cert", default="")
    parser.add_argument("--tls-key", default="")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="keep aiosmtpd's own log")
    args = parser.parse_args()
    # AUTH without TLS is what a loopback test wants; keep stderr for real problems.
    # A failed TLS handshake or a dropped client is what failure tests provoke on purpose.
    if not args.verbose:
        warnings.simplefilter("ignore")
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)

    os.makedirs(args.dir, exist_ok=True)
    handler = SinkHandler(args.dir, args.fail_first)

    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key or None)

    smtp_kwargs = {"data_size_limit": 10 * 1024 * 1024, "enable_SMTPUTF8": True}
    if args.auth:
        user, _, password = args.auth.partition(":")
        smtp_kwargs.update(authenticator=make_authenticator(user, password),
                           auth_required=True, auth_require_tls=False)
    if tls_context is not None and not args.implicit_tls:
        smtp_kwargs.update(tls_context=tls_context, require_starttls=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(handler, loop=loop, **smtp_kwargs)

    # Our own server instead of aiosmtpd's Controller: it reports the real port for --port 0
    # without the bind-close-rebind race.
    server = loop.run_until_complete(loop.create_server(
        factory, host=args.host, port=args.port,
        ssl=tls_context if args.implicit_tls else None, reuse_address=True))
    port = server.sockets[0].getsockname()[1]

    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    print("READY %d" % port, flush=True)
    try:
        loop.run_until_complete(stop)
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        # Clients may still hold connections open (libcurl keeps one per thread): end their
        # sessions quietly instead of leaving pending tasks behind.
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
