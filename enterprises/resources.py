"""django-import-export resource for enterprises (administrators' import and export).

Same rules as the survey import: the file goes through ``formats.read_table`` (size cap,
format by content, strict UTF-8 then GB18030, zip-bomb check), codes are validated with
GB 32100-2015, districts and sectors are looked up by their Chinese names, numbers are
strict (no silent 12.5 → 12, no 1.2万, no 1e1000000), model validation runs, and a file
with any bad row imports nothing. Exports are formula-safe and keep numbers numeric.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from issues.spreadsheet import neutralise

from .credit_code import normalize
from .models import District, Enterprise, Sector
from .survey_import import SECTOR_LABELS, CellError, parse_whole_number

SECTOR_NAMES = {value: label for label, value in SECTOR_LABELS.items()}

# English headers (field names) are accepted too and renamed to the Chinese ones.
HEADERS = {
    "credit_code": "统一社会信用代码",
    "name": "企业名称",
    "district": "所在区",
    "sector": "行业类别",
    "industry": "行业",
    "address": "地址",
    "employees": "从业人数",
    "annual_revenue": "年营业收入（万元）",
    "is_key": "重点企业",
    "notes": "备注",
}


class CreditCodeWidget(widgets.CharWidget):
    """Normalises only: the model's GB 32100 validator then reports a bad code as a
    validation error of its row (clean_model_instances), so every bad row is listed,
    instead of an exception in the instance lookup that hides the other rows' errors."""

    def clean(self, value, row=None, **kwargs):
        return normalize(str(value or ""))


class RequiredTextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            raise ValueError(_("This cell is empty; it is required."))
        return text


class DistrictWidget(widgets.ForeignKeyWidget):
    def __init__(self):
        super().__init__(District, field="name")
        self._cache: dict[str, District] | None = None

    def clean(self, value, row=None, **kwargs):
        name = str(value or "").strip()
        if self._cache is None:
            self._cache = {d.name: d for d in District.objects.all()}
        if not name:
            raise ValueError(_("This cell is empty; it is required."))
        if name not in self._cache:
            raise ValueError(
                _("Unknown district “%(value)s”: use one of %(allowed)s.")
                % {"value": name[:50], "allowed": "、".join(self._cache)}
            )
        return self._cache[name]


class SectorWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if text in SECTOR_LABELS:
            return SECTOR_LABELS[text]
        if text.lower() in Sector.values:
            return text.lower()
        raise ValueError(
            _("“%(value)s” is not allowed here: use one of %(allowed)s.")
            % {"value": text[:50], "allowed": "、".join(SECTOR_LABELS)}
        )

    def render(self, value, obj=None, **kwargs):
        return SECTOR_NAMES.get(value, value or "")


class WholeNumberWidget(widgets.IntegerWidget):
    """Strict: '1,200' is 1200; '12.5', '1.2万' and '1e1000000' are refused, quickly."""

    def clean(self, value, row=None, **kwargs):
        try:
            return parse_whole_number(value)
        except CellError as exc:
            raise ValueError(str(exc)) from None


class AmountWidget(widgets.DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip().replace(",", "")
        if not text:
            return None
        if len(text) > 20 or not text.replace(".", "", 1).isdigit():
            raise ValueError(
                _("“%(value)s” is not an amount: write digits, e.g. 1200.50.") % {"value": text[:20]}
            )
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(_("“%(value)s” is not an amount.") % {"value": text[:20]}) from None


class YesNoWidget(widgets.BooleanWidget):
    TRUE = {"是", "yes", "y", "true", "1", "重点"}
    FALSE = {"否", "no", "n", "false", "0", ""}

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("Write 是 or 否."))

    def render(self, value, obj=None, **kwargs):
        return "是" if value else "否"


class SafeExportMixin:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""

    def export_field(self, field, instance, **kwargs):
        return neutralise(super().export_field(field, instance, **kwargs))


class EnterpriseResource(SafeExportMixin, resources.ModelResource):
    credit_code = fields.Field("credit_code", HEADERS["credit_code"], CreditCodeWidget())
    name = fields.Field("name", HEADERS["name"], RequiredTextWidget())
    district = fields.Field("district", HEADERS["district"], DistrictWidget())
    sector = fields.Field("sector", HEADERS["sector"], SectorWidget())
    industry = fields.Field("industry", HEADERS["industry"], widgets.CharWidget())
    address = fields.Field("address", HEADERS["address"], widgets.CharWidget())
    employees = fields.Field("employees", HEADERS["employees"], WholeNumberWidget(coerce_to_string=False))
    annual_revenue = fields.Field(
        "annual_revenue", HEADERS["annual_revenue"], AmountWidget(coerce_to_string=False)
    )
    is_key = fields.Field("is_key", HEADERS["is_key"], YesNoWidget())
    notes = fields.Field("notes", HEADERS["notes"], widgets.CharWidget())

    class Meta:
        model = Enterprise
        fields = tuple(HEADERS)
        export_order = tuple(HEADERS)
        import_id_fields = ("credit_code",)
        clean_model_instances = True  # run model validation (off by default)
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        dataset.headers = [
            HEADERS.get(str(h or "").strip().lower(), str(h or "").strip()) for h in dataset.headers
        ]
        missing = [
            HEADERS[k]
            for k in ("credit_code", "name", "district", "sector")
            if HEADERS[k] not in dataset.headers
        ]
        if missing:
            raise ValueError(
                _("Required columns are missing: %(columns)s.") % {"columns": "、".join(missing)}
            )
        codes = [normalize(str(c or "")) for c in dataset[HEADERS["credit_code"]]]
        seen: dict[str, int] = {}
        for index, code in enumerate(codes):
            if code and code in seen:
                raise ValueError(
                    _(
                        "Row %(row)s has the same credit code as row %(first)s: "
                        "each enterprise may appear once."
                    )
                    % {"row": index + 2, "first": seen[code] + 2}
                )
            seen[code] = index
        return super().before_import(dataset, **kwargs)

    def get_queryset(self):
        return super().get_queryset().select_related("district")
