"""Printed by `make run` before the server starts: what to type into ODK Collect."""

from __future__ import annotations

import argparse
import socket


def lan_address() -> str | None:
    """The address other devices on the network would use (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: connect() on UDP only picks a route
            return str(probe.getsockname()[0])
        except OSError:
            return None


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the ODK Collect set-up for a local ChainLift server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    local = f"http://127.0.0.1:{args.port}"
    lan = lan_address()
    print(f"\nChainLift is starting at {local}\n")
    print(f"Dashboard (admins and programme managers): {local}/login")
    print("  sign in as admin (its password is printed above the first time), or add managers with")
    print("      .venv/bin/flask --app wsgi users create NAME --role manager\n")
    print("ODK Collect / KoboCollect: Project settings > Server")
    if args.host in {"0.0.0.0", "::"} and lan:  # noqa: S104 - comparing, not binding
        print(f"  Server URL:  http://{lan}:{args.port}")
    else:
        print(f"  Server URL:  {local}   (a phone cannot reach 127.0.0.1: run `make run HOST=0.0.0.0`")
        print(f"               and use http://{lan or 'THIS-COMPUTER-IP'}:{args.port} on the phone's network)")
    print("  Username / password: an enumerator made with")
    print("      .venv/bin/flask --app wsgi users create NAME --role enumerator")
    print("  or, with no password, scan the QR code printed by")
    print("      .venv/bin/flask --app wsgi users collect-config NAME --server http://<address>:<port>\n")


if __name__ == "__main__":
    main()
