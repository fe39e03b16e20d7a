"""Issue-list filters that reproduce exactly what each dashboard figure counts.

The issue list's FilterSet (issues.filters.IssueFilter) inherits these, so every figure on
the dashboard links to `issues:list?<params>` and the list shows exactly those rows.
"""

import django_filters


class FigureFilters(django_filters.FilterSet):
    pass
