"""Print one of the demo's keys, creating it once under .data/ (never committed, never a default).

``python -m census.demo_secret`` prints the demo's SECRET_KEY; ``python -m census.demo_secret signature-ledger-key``
and ``… pseudonym-key`` print the keys of the signature ledger and of the microdata pseudonyms, which settings
require outside DEBUG (each its own: census/settings.py refuses a key shared with another).
"""

import secrets
import sys

from census.embedded import data_dir

KEYS = ("secret-key", "signature-ledger-key", "pseudonym-key")


def main(name: str = "secret-key") -> None:
    if name not in KEYS:
        raise SystemExit(f"unknown key {name!r}; one of {', '.join(KEYS)}")
    path = data_dir() / f"demo-{name}"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    print(path.read_text().strip())


if __name__ == "__main__":
    main(*sys.argv[1:2])
