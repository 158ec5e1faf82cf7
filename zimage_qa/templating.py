"""The one Jinja2 setup every zimage-qa page uses: templates shipped as package data, autoescape on."""

from __future__ import annotations

from typing import Any


def render(package: str, template: str, **context: Any) -> str:
    """Render `template` from `<package>/templates/` with every value escaped unless marked safe."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(template).render(**context)
