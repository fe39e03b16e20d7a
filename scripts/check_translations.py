#!/usr/bin/env python3
"""Fail when a .po catalogue has untranslated or fuzzy entries (run after makemessages)."""

import re
import sys


def entries(text: str):
    for block in text.split("\n\n"):
        if "msgid" not in block:
            continue
        fuzzy = "#, fuzzy" in block or re.search(r"^#,.*fuzzy", block, re.M)
        msgid = "".join(re.findall(r'^(?:msgid|msgid_plural)?\s*"(.*)"$', block.split("msgstr")[0], re.M))
        msgstrs = re.findall(r'msgstr(?:\[\d\])? ((?:".*"\n?)+)', block + "\n")
        translated = all("".join(re.findall(r'"(.*)"', s)) for s in msgstrs) if msgstrs else False
        yield msgid, bool(fuzzy), translated


def main(path: str) -> int:
    text = open(path, encoding="utf-8").read()
    problems = []
    for msgid, fuzzy, translated in entries(text):
        if not msgid:  # the header
            continue
        if fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif not translated:
            problems.append(f"untranslated: {msgid!r}")
    for p in problems:
        print(p)
    print(f"{path}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
