"""Where web/ and alembic/ are: inside the package in an installed wheel (mapped there
by pyproject.toml), beside it in a source checkout or editable install."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _asset_dir(name: str) -> Path:
    installed = _PACKAGE / f"{name}_root"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


WEB_DIR = _asset_dir("web")
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
ALEMBIC_DIR = _asset_dir("alembic")
LOCALES_DIR = _PACKAGE / "i18n" / "locales"
