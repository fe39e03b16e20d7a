"""Record the present state of every tracked row that has no history yet (run once after
the upgrade that added the change trail; running it again records nothing new)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from issues import trail


class Command(BaseCommand):
    help = "Record every tracked row without history as it is now, so its first change shows old values."

    def handle(self, *args, **options):
        for model in trail.TRACKED:
            with transaction.atomic():
                done = trail.record_baseline(model)
            self.stdout.write(f"{model._meta.label}: {done} recorded")
