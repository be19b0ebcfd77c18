"""Translation helper for the zh_Hans catalogue (locale/zh_Hans/LC_MESSAGES/django.po).

    python tools/po.py missing            # msgids without a Chinese translation, as JSON
    python tools/po.py fill FILE.json     # {"English msgid": "中文", "msgid|plural": ["单数", "复数"]}
    python tools/po.py compile            # write the .mo (what Django reads)

Only entries named in FILE.json are touched, so several people can fill their own strings in turn. A msgid with a
context (``pgettext``, ``{% translate … context … %}``) is keyed as gettext keys it: "context\u0004msgid".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def missing() -> None:
    catalogue = polib.pofile(str(PO))
    out: dict[str, object] = {}
    for entry in catalogue:
        if entry.obsolete:
            continue
        msgid = _key(entry.msgctxt, entry.msgid)
        if entry.msgid_plural:
            if not all(entry.msgstr_plural.values()) or "fuzzy" in entry.flags:
                out[f"{msgid}|{entry.msgid_plural}"] = ["", ""]
        elif not entry.msgstr or "fuzzy" in entry.flags:
            out[msgid] = ""
    print(json.dumps(out, ensure_ascii=False, indent=1))


CONTEXT_SEPARATOR = "\x04"  # gettext's own, between a context and its msgid


def _key(context: str | None, msgid: str) -> str:
    return f"{context}{CONTEXT_SEPARATOR}{msgid}" if context else msgid


def fill(path: str) -> None:
    mapping = json.loads(Path(path).read_text(encoding="utf-8"))
    catalogue = polib.pofile(str(PO))
    by_id = {_key(entry.msgctxt, entry.msgid): entry for entry in catalogue if not entry.obsolete}
    filled = 0
    for key, value in mapping.items():
        msgid = key.split("|", 1)[0]
        entry = by_id.get(msgid)
        if entry is None or not value:
            continue
        if entry.msgid_plural:
            values = value if isinstance(value, list) else [value, value]
            entry.msgstr_plural = {0: values[0]}  # Chinese has one plural form
        else:
            entry.msgstr = value
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        filled += 1
    catalogue.save(str(PO))
    compile_mo()
    print(f"filled {filled} entries")


def compile_mo() -> None:
    catalogue = polib.pofile(str(PO))
    catalogue.save_as_mofile(str(PO.with_suffix(".mo")))


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "missing"
    if command == "missing":
        missing()
    elif command == "fill":
        fill(sys.argv[2])
    elif command == "compile":
        compile_mo()
    else:
        sys.exit(__doc__)
