#!/usr/bin/env python3
"""A real SMTP server for payremind's tests: aiosmtpd on 127.0.0.1, with fault modes chosen by
the recipient's local part (the part before @):

  tempfail-N...   451 at RCPT for the first N attempts for that recipient, then accepted
  reject...       550 5.1.1 at RCPT: the address does not exist
  nombx...        550 at RCPT without an enhanced status: "No such user here"
  full...         552 5.2.2 at RCPT: the mailbox is full (not a bounce)
  relay...        554 5.7.1 at RCPT: relay access denied (the sender's set-up)
  authreq...      530 5.7.0 at RCPT: authentication required (the sender's set-up)
  policy...       550 5.7.1 at RCPT: refused by a policy (the sender's set-up)
  drop-N...       for the first N messages to that recipient, the message data is received and
                  then the connection is cut without a reply
  slow-MS...      waits MS milliseconds before accepting the message
  spam...         554 after the message data: refused for its content (no enhanced status)
  dmarc...        550 5.7.26 after the message data: unauthenticated sender (the sender's set-up)
  sender...       550 5.1.0 at RCPT: "Sender address rejected: User unknown in virtual mailbox
                  table" (Postfix checks the sender at RCPT: the sender's set-up)
  senderdom...    550 5.1.8 at RCPT: "Sender address rejected: Domain not found"
  nodomain...     550 5.1.2 at RCPT: "Domain not found" (a relay whose resolver is broken says
                  it for every recipient; a real one for a domain that does not exist)
  blocked...      554 5.7.1 at RCPT: "<addr>: Recipient address rejected: Access denied" (an
                  access map refusing that one address)
  denied...       554 5.7.1 at RCPT: "<addr>: Access denied" (a policy refusal naming nobody)
  hold...         the message data is received, "held" is logged in held.log, and the reply
                  waits until a file named "release" exists in --maildir (a test holds a run
                  mid-send for as long as it needs, then lets it go)

Accepted messages are written to --maildir as NNNNNN.eml (the message as received) and
NNNNNN.json (the envelope). When it is listening it prints "READY <port>" on stdout.

  server.py --maildir DIR [--tls-dir DIR] [--implicit-tls] [--auth USER:PASSWORD]
            [--max-sessions N] [--sessions-ever N] [--no-pipelining] [--refuse-second-ehlo]

--max-sessions answers EHLO with 421 beyond N sessions at once, as providers that limit
concurrent connections do. --sessions-ever answers it with 421 once N sessions have been
accepted since the start (a quota: the refused connections never get in).

The server offers PIPELINING (RFC 2920), as Postfix and the big providers do, so the tests go
through payremind's pipelined envelope; --no-pipelining leaves it out (the one-by-one path).
--refuse-second-ehlo answers a repeated EHLO with 502, as a strict server may.

--tls-dir makes a certificate authority and a certificate for 127.0.0.1/localhost with trustme
and writes the authority to DIR/ca.pem (what payremind's [smtp].ca_file trusts); the server
then offers STARTTLS (and requires it), or with --implicit-tls speaks TLS from the first byte.
--auth requires AUTH with these credentials (after TLS when TLS is on). --auth-echo makes a
refused AUTH answer with the client's own AUTH line in its reply (base64 credentials), as a
careless server may.
"""
import base64
import time

import argparse
import asyncio
import json
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, maildir, max_sessions=None, pipelining=True, refuse_second_ehlo=False,
                 sessions_ever=None):
        self.maildir = maildir
        self.refuse_second_ehlo = refuse_second_ehlo
        self.pipelining = pipelining
        self.max_sessions = max_sessions
        self.sessions = 0
        self.sessions_ever = sessions_ever
        self.accepted = 0
        self.count = 0
        self.tempfails = {}
        self.drops = {}
        self.lock = threading.Lock()

    def log(self, name, line):
        """A line in the maildir's log `name`, for tests to count refusals."""
        with open(os.path.join(self.maildir, name), "a") as log:
            log.write(line + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if self.refuse_second_ehlo and getattr(session, "greeted", False):
            return ["502 5.5.1 EHLO already given"]
        session.greeted = True
        # A session counts once, however often it says EHLO.
        if self.max_sessions is not None and not getattr(session, "counted", False):
            with self.lock:
                if self.sessions >= self.max_sessions:
                    self.log("refusals.log", hostname)
                    return ["421 4.7.0 Too many connections, try again later"]
                self.sessions += 1
                session.counted = True
        if self.sessions_ever is not None and not getattr(session, "accepted", False):
            with self.lock:
                if self.accepted >= self.sessions_ever:
                    self.log("refusals.log", hostname)
                    return ["421 4.7.0 Session quota used up, try again later"]
                self.accepted += 1
                session.accepted = True
        session.host_name = hostname
        if self.pipelining:
            # aiosmtpd reads and answers commands in order, so it handles a pipelined group.
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_QUIT(self, server, session, envelope):
        if getattr(session, "counted", False):
            with self.lock:
                self.sessions -= 1
            session.counted = False
        return "221 Bye"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("nombx"):
            return "550 No such user here"
        if local.startswith("full"):
            return "552 5.2.2 <%s>: Mailbox full" % address
        if local.startswith("relay"):
            return "554 5.7.1 <%s>: Relay access denied" % address
        if local.startswith("authreq"):
            return "530 5.7.0 Authentication required"
        if local.startswith("policy"):
            return "550 5.7.1 Client host rejected: refused by policy"
        if local.startswith("senderdom"):
            return "550 5.1.8 <%s>: Sender address rejected: Domain not found" % envelope.mail_from
        if local.startswith("sender"):
            return ("550 5.1.0 <%s>: Sender address rejected: User unknown in virtual mailbox table"
                    % envelope.mail_from)
        if local.startswith("nodomain"):
            return "550 5.1.2 <%s>: Recipient address rejected: Domain not found" % address
        if local.startswith("blocked"):
            return "554 5.7.1 <%s>: Recipient address rejected: Access denied" % address
        if local.startswith("denied"):
            return "554 5.7.1 <%s>: Access denied" % address
        if local.startswith("tempfail-"):
            limit = int(local.split("-")[1].split(".")[0])
            with self.lock:
                seen = self.tempfails.get(address, 0)
                self.tempfails[address] = seen + 1
            if seen < limit:
                # Logged, so a test can tell the client is now waiting to try again.
                self.log("tempfails.log", address)
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        # Whether the client sent DATA without waiting for this reply (pipelining): it is
        # already in the read buffer. (aiosmtpd's reader is private; a test server may look.)
        buffered = bytes(getattr(getattr(server, "_reader", None), "_buffer", b""))
        envelope.pipelined = buffered.upper().startswith(b"DATA")
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        local = envelope.rcpt_tos[0].split("@")[0].lower() if envelope.rcpt_tos else ""
        if local.startswith("drop-"):
            limit = int(local.split("-")[1].split(".")[0])
            with self.lock:
                seen = self.drops.get(local, 0)
                self.drops[local] = seen + 1
            if seen < limit:
                server.transport.abort()
                return "421 dropped"
        if local.startswith("spam"):
            return "554 Message rejected as spam"
        if local.startswith("dmarc"):
            return ("550 5.7.26 This mail is unauthenticated, which poses a security risk to the"
                    " sender and Gmail users, and has been blocked.")
        if local.startswith("hold"):
            self.log("held.log", envelope.rcpt_tos[0])
            release = os.path.join(self.maildir, "release")
            while not os.path.exists(release):
                await asyncio.sleep(0.01)
        if local.startswith("slow-"):
            await asyncio.sleep(int(local.split("-")[1].split(".")[0]) / 1000)
        with self.lock:
            self.count += 1
            n = self.count
        base = os.path.join(self.maildir, "%06d" % n)
        # The envelope first, the message last and by rename: a visible .eml is complete.
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "auth": bool(session.authenticated),
                       "pipelined": getattr(envelope, "pipelined", False),
                       "ehlo": session.host_name, "received_at": time.time()}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as %06d" % n


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--tls-dir")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--auth-echo", action="store_true")
    parser.add_argument("--max-sessions", type=int)
    parser.add_argument("--sessions-ever", type=int)
    parser.add_argument("--no-pipelining", action="store_true")
    parser.add_argument("--refuse-second-ehlo", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.maildir, exist_ok=True)

    tls = None
    if args.tls_dir:
        import ssl
        import trustme
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        os.makedirs(args.tls_dir, exist_ok=True)
        ca.cert_pem.write_to_path(os.path.join(args.tls_dir, "ca.pem"))
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(tls)

    kwargs = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == user and auth_data.password.decode() == password)
            if not ok and args.auth_echo and isinstance(auth_data, LoginPassword):
                line = base64.b64encode(b"\0" + auth_data.login + b"\0" + auth_data.password)
                return AuthResult(success=False, handled=False,
                                  message="535 5.7.8 Authentication failed: AUTH PLAIN %s" % line.decode())
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=tls is not None)
    if tls is not None and args.implicit_tls:
        kwargs["ssl_context"] = tls
    elif tls is not None:
        kwargs.update(tls_context=tls, require_starttls=True)

    port = free_port()
    controller = Controller(Handler(args.maildir, args.max_sessions, not args.no_pipelining, args.refuse_second_ehlo,
                                 args.sessions_ever), hostname="127.0.0.1", port=port,
                            server_hostname="localhost", ready_timeout=10, **kwargs)
    controller.start()
    print("READY %d" % port, flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin or kills us
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
