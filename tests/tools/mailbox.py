"""Reading what tests/tools/smtp_sink.py (or the file: transport) received.

    from mailbox import parse_eml, wait_for_mails
    to, subject, text = parse_eml("/tmp/mails/1.eml")

Import it with tests/tools on sys.path (it shadows the standard library's own `mailbox`
module, which the tests do not use). Works with any python3 >= 3.6: only the email package.
"""
import email
import email.policy
import glob
import os
import re
import time


def read_message(path_or_bytes):
    """The parsed email.message.EmailMessage (policy=default: headers RFC 2047-decoded)."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        raw = bytes(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as f:
            raw = f.read()
    return email.message_from_bytes(raw, policy=email.policy.default)


def _body(msg, subtype):
    part = msg.get_body(preferencelist=(subtype,))
    if part is None:
        return ""
    # Mail bodies travel with CRLF line breaks; tests compare with "\n".
    return part.get_content().replace("\r\n", "\n")


def parse_eml(path_or_bytes):
    """(to, subject, text body) of one received message, all decoded to str."""
    msg = read_message(path_or_bytes)
    return str(msg["To"] or ""), str(msg["Subject"] or ""), _body(msg, "plain")


def html_body(path_or_bytes):
    """The text/html alternative, or "" when the mail has none."""
    return _body(read_message(path_or_bytes), "html")


def mail_files(directory):
    """The .eml files in a sink or file: directory, oldest first."""
    paths = glob.glob(os.path.join(directory, "*.eml"))

    def key(path):
        name = os.path.basename(path)[:-4]
        return (0, int(name), name) if name.isdigit() else (1, 0, name)
    return sorted(paths, key=key)


def wait_for_mails(directory, count=1, timeout=15.0):
    """Waits until the directory holds at least count .eml files; returns their paths.

    Raises AssertionError with what arrived when the time runs out.
    """
    deadline = time.monotonic() + timeout
    while True:
        paths = mail_files(directory)
        if len(paths) >= count:
            return paths
        if time.monotonic() >= deadline:
            raise AssertionError("expected %d mail(s) in %s within %.0fs, got %d"
                                 % (count, directory, timeout, len(paths)))
        time.sleep(0.05)


def envelope_recipients(eml_path):
    """The RCPT TO addresses smtp_sink recorded beside an .eml (its .rcpt file)."""
    with open(eml_path[:-4] + ".rcpt", encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def links(text, pattern=r"https?://\S+"):
    """Every URL in a text body, in order (trailing punctuation stripped)."""
    return [m.rstrip(".,;)>\"'") for m in re.findall(pattern, text)]
