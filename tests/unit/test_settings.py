from __future__ import annotations

import pytest
from pydantic import ValidationError

from controlroom.i18n import normalise_locale, pick_locale
from controlroom.settings import Settings


def test_production_refuses_the_built_in_secret_key(monkeypatch):
    monkeypatch.delenv("CONTROLROOM_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="CONTROLROOM_SECRET_KEY"):
        Settings(mode="production")
    assert Settings(mode="demo").secret_key
    assert Settings(mode="production", secret_key="x" * 40).mode == "production"


def test_unset_database_url_means_sqlite_in_the_data_dir(tmp_path):
    settings = Settings(mode="dev", data_dir=tmp_path)
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'controlroom.sqlite3'}"
    assert settings.redis_url is None  # embedded


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValidationError):
        Settings(mode="dev", timezone="Mars/Olympus")


def test_locale_choice_query_then_cookie_then_default():
    assert normalise_locale("zh-CN") == "zh_CN"
    assert normalise_locale("en-US") == "en"
    assert normalise_locale("fr") is None
    assert pick_locale(query=None, cookie=None) == "zh_CN"
    assert pick_locale(query=None, cookie="en") == "en"
    assert pick_locale(query="zh", cookie="en") == "zh_CN"
    assert pick_locale(query="garbage!", cookie=None) == "zh_CN"
