#!/usr/bin/env python3
"""A real SMTP server on loopback for the email receiver's tests (aiosmtpd, from PyPI).

Usage: smtp-server.py DIR [--tls starttls|implicit|none] [--user NAME --password WORD]
Prints {"port": N, "ca": PATH} once it listens on 127.0.0.1:N. With starttls (the default) a
client must STARTTLS before anything else; with --user it must then AUTH (PLAIN or LOGIN) as
that user. The certificate is a fresh self-signed one for 127.0.0.1 (PATH, to trust as a CA).

Every message it accepts or refuses is parsed with Python's own email package (the reference
reader: defects, headers decoded per RFC 2047, each MIME part decoded) and written to DIR as
NNNN.json. Recipients steer its answers: any recipient starting "tempfail" has a message refused
"451 4.3.0" the first time its Message-ID is seen (accepted when retried), one starting "reject"
is refused "550 5.1.1" at RCPT.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

# aiosmtpd 1.4 warns about its own use of a deprecated attribute on every AUTH.
warnings.filterwarnings("ignore", category=DeprecationWarning)

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def certificate(folder):
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Recorder:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.failed_once = set()

    def write(self, record):
        self.count += 1
        path = os.path.join(self.folder, "%04d.json" % self.count)
        with open(path + ".tmp", "w") as out:
            json.dump(record, out, indent=1, sort_keys=True)
        os.rename(path + ".tmp", path)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        defects = [type(defect).__name__ for defect in message.defects]
        for part in message.walk():
            defects += [type(defect).__name__ for defect in part.defects]
            if part.is_multipart():
                continue
            parts.append({"type": part.get_content_type(), "charset": part.get_content_charset(),
                          "encoding": part.get("Content-Transfer-Encoding"), "text": part.get_content()})
        lines = raw.split(b"\r\n")
        record = {
            "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None or server.transport.get_extra_info("sslcontext") is not None, "authenticated": bool(session.authenticated),
            "headers": {name: [str(value) for value in message.get_all(name)] for name in set(message.keys())},
            "content_type": message.get_content_type(), "parts": parts, "defects": defects,
            "longest_line": max(len(line) for line in lines), "ascii": all(byte < 128 for byte in raw),
            "bare_line_feeds": raw.replace(b"\r\n", b"").count(b"\n"), "size": len(raw),
        }
        message_id = message.get("Message-ID")
        if any(rcpt.startswith("tempfail") for rcpt in envelope.rcpt_tos) and message_id not in self.failed_once:
            self.failed_once.add(message_id)
            record["answer"] = 451
            self.write(record)
            return "451 4.3.0 temporary failure, try again later"
        record["answer"] = 250
        self.write(record)
        return "250 2.0.0 OK queued"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--tls", choices=["starttls", "implicit", "none"], default="starttls")
    parser.add_argument("--user")
    parser.add_argument("--password")
    options = parser.parse_args()
    cert_folder = tempfile.mkdtemp(prefix="dw-smtp-cert-")
    cert, key = certificate(cert_folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and data.login == (options.user or "").encode() \
            and data.password == (options.password or "").encode()
        # handled=False: aiosmtpd itself answers (235, or 535 for wrong credentials).
        return AuthResult(success=ok, handled=False)

    port = free_port()
    settings = dict(hostname="127.0.0.1", port=port, server_hostname="127.0.0.1")
    if options.user:
        # AUTH only after STARTTLS; with implicit TLS aiosmtpd cannot tell, so it offers it at once.
        settings.update(authenticator=authenticate, auth_required=True,
                        auth_require_tls=options.tls == "starttls")
    if options.tls == "starttls":
        settings.update(tls_context=context, require_starttls=True)
    elif options.tls == "implicit":
        settings.update(ssl_context=context)
    controller = Controller(Recorder(options.folder), **settings)
    controller.start()
    print(json.dumps({"port": port, "ca": cert}), flush=True)
    try:
        # Until the test stops it (SIGTERM) or its stdin closes.
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
