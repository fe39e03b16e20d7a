"""SECURITY.md 25 for evidence files (issue 13): each hostile file, and two large real ones,
checked in a fresh process; prints size, result, time and the process's peak memory.

    .venv/bin/python scripts/drill_hostile_evidence.py

Every hostile file must be refused with a message in < 10 s and < 500 MB; the real photo and
PDF must be accepted. Exit 0 = PASS. The files are those of tests/evidence_samples.py.
"""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_SECONDS, LIMIT_MB = 10, 500
REAL = {
    "real phone photo, 12 MP JPEG with GPS (3 MB)": ("IMG_0001.jpg", "photo"),
    "real 9 MB scanned PDF": ("批复.pdf", "pdf"),
}


def child(label: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.utils import translation

    from issues.attachments import FileRefused, check_upload
    from tests import evidence_samples as S

    translation.activate("en")
    if label in REAL:
        name, kind = REAL[label]
        data = S.phone_photo() if kind == "photo" else S.pdf(body="%" + "x" * 9_000_000 + "\n")
        expected = "accepted"
    else:
        name, data, expected = S.hostile_file(label)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.monotonic()
    try:
        checked = check_upload(S.upload(name, data))
        result, message = "accepted", f"{checked.type.key}, {len(checked.data)} bytes kept"
    except FileRefused as refused:
        result, message = refused.code, refused.messages[0]
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "label": label,
                "size": len(data),
                "expected": expected,
                "result": result,
                "message": message,
                "seconds": round(seconds, 3),
                "peak_mb": round(peak),
                "baseline_mb": round(baseline),
            },
            ensure_ascii=False,
        )
    )


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.evidence_samples import HOSTILE

    failures = 0
    print(f"{'file':50} {'size':>12} {'result':10} {'time':>8} {'peak RSS':>9}")
    for label in [*HOSTILE, *REAL]:
        out = subprocess.run(
            [sys.executable, __file__, "--child", label], capture_output=True, text=True, cwd=ROOT, check=True
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        ok = row["result"] == row["expected"] and row["seconds"] < LIMIT_SECONDS and row["peak_mb"] < LIMIT_MB
        failures += not ok
        print(
            f"{row['label']:50} {row['size']:>12,} {row['result']:10} {row['seconds']:>7.3f}s "
            f"{row['peak_mb']:>6} MB {'' if ok else 'FAIL'}"
        )
    print("PASS" if not failures else f"FAIL ({failures})")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        sys.exit(main())
