"""A real SMTP server on loopback for the notification tests (aiosmtpd).

    python3 smtp_sink.py MODE PORT OUTDIR [CERT KEY]

MODE: plain | starttls (STARTTLS required before MAIL) | tls (implicit TLS).
Each message received is written to OUTDIR as NNN.eml, with the envelope
recipients and whether the session was encrypted in X-Sink-* headers first.
Prints READY when listening; runs until killed.
"""
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir

    async def handle_DATA(self, server, session, envelope):
        encrypted = getattr(session, "ssl", None) or server.transport.get_extra_info("ssl_object")
        tls = "yes" if encrypted else "no"
        head = "X-Sink-Rcpt: {}\r\nX-Sink-Tls: {}\r\n".format(",".join(envelope.rcpt_tos), tls).encode()
        name = os.path.join(self.outdir, "{}.eml".format(time.time_ns()))
        with open(name + ".tmp", "wb") as f:
            f.write(head + envelope.original_content)
        os.rename(name + ".tmp", name)
        return "250 OK"


def main():
    mode, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(outdir, exist_ok=True)
    ctx = None
    if mode in ("starttls", "tls"):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    kw = {}
    if mode == "starttls":
        kw = {"tls_context": ctx, "require_starttls": True}
    elif mode == "tls":
        kw = {"ssl_context": ctx}
    controller = Controller(Sink(outdir), hostname="127.0.0.1", port=port, **kw)
    controller.start()
    print("READY", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
