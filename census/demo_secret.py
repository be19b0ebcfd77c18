"""Print the demo's secret key, creating it once under .data/ (never committed, never a default)."""

import secrets

from census.embedded import data_dir


def main() -> None:
    path = data_dir() / "demo-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    print(path.read_text().strip())


if __name__ == "__main__":
    main()
