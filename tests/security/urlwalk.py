"""Walk every URL pattern Django resolves, so no page can be added without a test noticing."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the route text for an unnamed pattern
    route: str  # the pattern text, e.g. "issues/<int:pk>/"
    params: tuple[str, ...]  # the URL parameters to fill in

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:") or self.route.startswith("admin/")


def _params(pattern) -> list[str]:
    converters = getattr(pattern, "converters", None)
    if converters:
        return list(converters)
    regex = getattr(pattern, "regex", None)
    return list(regex.groupindex) if regex is not None else []


def walk(patterns=None, prefix: str = "", namespace: str = "", params: tuple = ()) -> list[Route]:
    routes: list[Route] = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(entry.pattern)
        found = (*params, *_params(entry.pattern))
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            routes += walk(entry.url_patterns, text, ns, found)
        elif isinstance(entry, URLPattern):
            if entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
            else:
                name = text
            routes.append(Route(name=name, route=text, params=found))
    return routes
