#!/usr/bin/env python3
"""Verifies the DKIM signature of a message with dkimpy, an implementation independent of
payremind's, without DNS: the public key record is given on the command line and returned for
any query.

  dkim_verify.py MESSAGE.eml 'v=DKIM1; k=rsa; p=...'

Prints "pass" or "fail" (and dkimpy's reason on stderr); exit 0 either way, 2 on bad usage.
"""
import logging
import sys

import dkim


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    message = open(sys.argv[1], "rb").read()
    record = sys.argv[2].encode()
    asked = []

    def dnsfunc(name, timeout=5):
        asked.append(name)
        return record

    logger = logging.getLogger("dkim")
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)
    ok = dkim.verify(message, logger=logger, dnsfunc=dnsfunc)
    print("pass" if ok else "fail")
    print("asked: " + ",".join(n.decode() if isinstance(n, bytes) else n for n in asked),
          file=sys.stderr)


if __name__ == "__main__":
    main()
