"""The daily counts behind the dashboard's period figures (`dashboard.rollup`)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .figures import TALLIES

DIMENSIONS = ("all", "department", "category", "district", "sector")


class FigureDay(models.Model):
    """What happened on one day, for the whole city (dimension "all", key "") or for one
    department, category, district or sector (the history rows' snapshot): one counter per
    tally of `dashboard.figures.TALLIES` (the columns are made from that list).

    Derived data, never edited by hand: it grows in the same transaction as the history row
    it counts (`issues.history`), and `manage.py rebuild_figures` makes it again from the
    history with one GROUP BY per tally group (`--check` compares).
    """

    day = models.DateField(_("day"))
    dimension = models.CharField(_("dimension"), max_length=12)
    key = models.CharField(_("key"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("figure day")
        verbose_name_plural = _("figure days")
        constraints = [
            models.UniqueConstraint(fields=["dimension", "key", "day"], name="figureday_unique"),
            models.CheckConstraint(condition=Q(dimension__in=DIMENSIONS), name="figureday_dimension_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension} {self.key}"


for _name in TALLIES:
    FigureDay.add_to_class(_name, models.IntegerField(default=0, db_default=0))
