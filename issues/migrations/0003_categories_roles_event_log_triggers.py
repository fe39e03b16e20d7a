from django.db import migrations

# The append-only triggers of the event log as this migration made them (a migration never
# imports live code; 0011 replaces them with the ones of issues.db_triggers).
TABLE = "issues_issueevent"
MESSAGE = "issues_issueevent is append-only"
INSTALL = {
    "sqlite": [
        f"CREATE TRIGGER IF NOT EXISTS issueevent_no_update BEFORE UPDATE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
        f"CREATE TRIGGER IF NOT EXISTS issueevent_no_delete BEFORE DELETE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION issueevent_append_only() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; END; "
        "$$ LANGUAGE plpgsql",
        f"DROP TRIGGER IF EXISTS issueevent_append_only ON {TABLE}",
        f"CREATE TRIGGER issueevent_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION issueevent_append_only()",
    ],
}
REMOVE = {
    "sqlite": ["DROP TRIGGER IF EXISTS issueevent_no_update", "DROP TRIGGER IF EXISTS issueevent_no_delete"],
    "postgresql": [
        f"DROP TRIGGER IF EXISTS issueevent_append_only ON {TABLE}",
        "DROP FUNCTION IF EXISTS issueevent_append_only()",
    ],
}

CATEGORIES = [
    ("approvals", "审批许可"),
    ("tax", "税费"),
    ("financing", "融资"),
    ("land", "用地规划"),
    ("energy", "能源"),
    ("labour", "用工"),
    ("logistics", "物流"),
    ("market_access", "市场准入"),
    ("policy", "政策"),
    ("other", "其他"),
]

VIEW_ALL = [
    "enterprises.view_district", "enterprises.view_enterprise", "enterprises.view_contact",
    "enterprises.view_survey", "enterprises.view_surveyresponse",
    "visits.view_official", "visits.view_visit",
    "issues.view_department", "issues.view_category", "issues.view_issue",
    "issues.view_milestone", "issues.view_codepartment", "issues.view_extensionrequest",
    "issues.view_objection", "issues.view_issueevent",
]
# Model permissions per role. Object-level rules (which department's issues) are in
# issues.permissions; nobody gets delete on issues or events: issues are closed, never deleted.
ROLE_PERMISSIONS = {
    "official": VIEW_ALL + ["visits.add_visit", "visits.change_visit", "issues.add_issue"],
    "department": VIEW_ALL + ["issues.change_issue", "issues.add_milestone", "issues.change_milestone"],
    "leader": VIEW_ALL,
    "coordinator": VIEW_ALL + [
        "enterprises.add_enterprise", "enterprises.change_enterprise",
        "enterprises.add_contact", "enterprises.change_contact", "enterprises.delete_contact",
        "enterprises.add_survey", "enterprises.change_survey", "enterprises.import_survey",
        "enterprises.view_surveyresponse",
        "visits.add_official", "visits.change_official", "visits.add_visit", "visits.change_visit",
        "issues.add_issue", "issues.change_issue",
        "issues.add_milestone", "issues.change_milestone",
        "issues.add_codepartment", "issues.change_codepartment",
        "issues.change_extensionrequest", "issues.change_objection",
    ],
    "administrator": VIEW_ALL + [
        f"{app}.{action}_{model}"
        for app, models in {
            "enterprises": ["district", "enterprise", "contact", "survey", "surveyresponse"],
            "visits": ["official", "visit"],
            "issues": ["department", "category"],
        }.items()
        for model in models
        for action in ("add", "change", "delete")
    ] + [
        "enterprises.import_survey", "issues.add_issue", "issues.change_issue",
        "issues.add_milestone", "issues.change_milestone",
        "issues.add_codepartment", "issues.change_codepartment",
        "issues.change_extensionrequest", "issues.change_objection",
        "auth.view_user", "auth.add_user", "auth.change_user",
        "auth.view_group", "auth.change_group",
    ],
}


def seed(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; make them now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module

    Category = apps.get_model("issues", "Category")
    for order, (code, name) in enumerate(CATEGORIES, start=1):
        Category.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in sorted(set(perms)):
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def _run(schema_editor, statements):
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def triggers_up(apps, schema_editor):
    _run(schema_editor, INSTALL)


def triggers_down(apps, schema_editor):
    _run(schema_editor, REMOVE)


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0002_initial"),
        ("enterprises", "0003_tianjin_districts"),
        ("visits", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(triggers_up, triggers_down),
    ]
