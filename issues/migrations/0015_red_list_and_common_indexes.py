from django.db import migrations, models


class Migration(migrations.Migration):
    """Two small partial indexes for the dashboard: open issues by deadline (the red list) and
    common issues by status (their open count)."""

    dependencies = [
        ("issues", "0014_open_issue_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                condition=models.Q(("status__in", ["new", "assigned", "in_progress", "resolved"])),
                fields=["deadline", "respond_by", "id"],
                name="issue_open_deadline",
            ),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                condition=models.Q(("scope", "common")), fields=["status"], name="issue_common_status"
            ),
        ),
    ]
