"""TLS between two ssl.SSLObjects over memory BIOs, no socket: the handshake loop shared
by the fixture generator (tests/tls/make-fixtures.py) and the TLS bench (bench/tls.py).
"""
import ssl


def handshake(client, server, pump, who):
    """Drives both sides' do_handshake() until both are done, calling pump() (which moves
    the octets each side wrote to the other) after every round. Exits naming `who` when
    50 rounds do not finish it."""
    done = {"c": False, "s": False}
    for _ in range(50):
        for key, obj in (("c", client), ("s", server)):
            if not done[key]:
                try:
                    obj.do_handshake()
                    done[key] = True
                except ssl.SSLWantReadError:
                    pass
        pump()
        if all(done.values()):
            return
    raise SystemExit(f"{who}: the handshake does not finish")
