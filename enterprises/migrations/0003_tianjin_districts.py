from django.db import migrations

# Tianjin's 16 districts; other cities add theirs in the admin.
TIANJIN_DISTRICTS = [
    "滨海新区", "和平区", "河东区", "河西区", "南开区", "河北区", "红桥区", "东丽区",
    "西青区", "津南区", "北辰区", "武清区", "宝坻区", "宁河区", "静海区", "蓟州区",
]


def add_districts(apps, schema_editor):
    District = apps.get_model("enterprises", "District")
    for order, name in enumerate(TIANJIN_DISTRICTS, start=1):
        District.objects.get_or_create(name=name, defaults={"sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0002_initial")]
    operations = [migrations.RunPython(add_districts, migrations.RunPython.noop)]
