"""Benchmark the survey import: N rows of GB18030 CSV through the real pipeline.

    .venv/bin/python scripts/bench_import.py [--rows 10000] [--create-issues]
    DATABASE_URL=postgres://... .venv/bin/python scripts/bench_import.py
    .venv/bin/python scripts/bench_import.py --rows 6000 --write-csv FILE   # the file only (drills)

Runs against the configured database (migrate it first). Writes the file to a temp dir,
imports it into a new survey round (first run: all rows new), then again (all unchanged),
prints rows/s for the check (dry run) and the two imports, and removes what it created.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from enterprises.credit_code import ALPHABET, check_character  # noqa: E402
from enterprises.models import District, Enterprise, Survey, SurveyResponse  # noqa: E402
from enterprises.survey_import import TEMPLATE_HEADERS, import_survey_file  # noqa: E402
from issues.models import Issue, IssueEvent  # noqa: E402

SECTORS = ["规模以上工业", "限额以上批发和零售业", "规模以上服务业"]
STATUSES = ["正常", "基本正常", "部分停产", "停产"]
TRENDS = ["增长", "持平", "下降"]
CATEGORIES = ["能源、政策", "税费", "融资", "审批许可、能源", "用工"]


def code(n: int) -> str:
    serial = ""
    for _ in range(9):
        n, r = divmod(n, len(ALPHABET))
        serial = ALPHABET[r] + serial
    base = "91120199" + serial
    return base + check_character(base)


def make_csv(rows: int, path: Path) -> Path:
    import csv

    districts = list(District.objects.values_list("name", flat=True))
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(TEMPLATE_HEADERS)
        for i in range(rows):
            date = ["2023-01-15", "2023/1/15", "2023年1月15日"][i % 3]
            writer.writerow(
                [
                    code(900_000 + i),
                    f"天津基准测试企业{i}有限公司",
                    districts[i % len(districts)],
                    SECTORS[i % 3],
                    date,
                    STATUSES[i % 4],
                    TRENDS[i % 3],
                    f"{1000 + i:,}",
                    str(i % 300),
                    "原材料价格上涨，订单回款周期变长",
                    CATEGORIES[i % 5],
                    "用电容量不足，需增容变压器；希望解读新能源汽车产业扶持政策",
                    "刘先生",
                    "022-20652836",
                ]
            )
    return path


def timed(label: str, rows: int, **kwargs):
    started = time.perf_counter()
    result = import_survey_file(**kwargs)
    seconds = time.perf_counter() - started
    assert result.ok, [str(e) for e in result.errors[:5]]
    print(f"{label:<28} {seconds:7.2f} s  {rows / seconds:9,.0f} rows/s  {result.counts()}")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--create-issues", action="store_true")
    parser.add_argument("--write-csv", type=Path, help="only write the file here (for the drills) and stop")
    args = parser.parse_args()
    if args.write_csv:
        make_csv(args.rows, args.write_csv)
        return
    user = None
    if args.create_issues:
        from django.contrib.auth.models import Group

        user, _ = get_user_model().objects.get_or_create(username="bench-importer")
        user.groups.add(Group.objects.get(name="coordinator"))
    survey = f"基准测试 {time.strftime('%Y%m%d%H%M%S')}"
    print(f"database: {connection.vendor}; rows: {args.rows}; create issues: {args.create_issues}")
    with tempfile.TemporaryDirectory() as folder:
        path = make_csv(args.rows, Path(folder) / "bench-gb18030.csv")
        data = path.read_bytes()
        print(f"file: {len(data) / 1048576:.1f} MB GB18030")
        common = dict(
            data=data, filename=path.name, survey_name=survey, by=user, create_issues=args.create_issues
        )
        try:
            timed("check only (dry run)", args.rows, dry_run=True, **common)
            timed("import (all new)", args.rows, dry_run=False, **common)
            timed("re-import (all unchanged)", args.rows, dry_run=False, **common)
        finally:
            with transaction.atomic():
                codes = [code(900_000 + i) for i in range(args.rows)]
                responses = SurveyResponse.objects.filter(survey__name=survey)
                issues = Issue.objects.filter(survey_response__in=responses)
                if issues.exists():
                    print("issues left in place (the event log is append-only):", issues.count())
                else:
                    responses.delete()
                    Survey.objects.filter(name=survey).delete()
                    for start in range(0, len(codes), 2000):
                        Enterprise.objects.filter(credit_code__in=codes[start : start + 2000]).delete()
    _ = IssueEvent


if __name__ == "__main__":
    main()
