"""Settings come from the environment through one loader."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.config import SettingsError, load_settings


def test_defaults_live_under_instance_and_secret_is_generated_once(tmp_path: Path) -> None:
    env = {"CHAINLIFT_INSTANCE_PATH": str(tmp_path / "inst")}
    first = load_settings(env)
    assert first.database_url == f"sqlite:///{tmp_path / 'inst' / 'chainlift.sqlite3'}"
    assert first.media_root == tmp_path / "inst" / "media"
    assert len(first.secret_key) >= 40
    key_file = tmp_path / "inst" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings(env).secret_key == first.secret_key
    other = load_settings({"CHAINLIFT_INSTANCE_PATH": str(tmp_path / "other")})
    assert other.secret_key != first.secret_key


def test_environment_overrides(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "CHAINLIFT_INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": "postgresql://u@db/chainlift",
            "SECRET_KEY": "from-env",
            "MEDIA_ROOT": str(tmp_path / "m"),
            "MAX_UPLOAD_BYTES": "2000",
            "PUBLIC_BASE_URL": "https://survey.example.org/",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@db/chainlift"
    assert settings.secret_key == "from-env"
    assert settings.max_upload_bytes == 2000
    assert settings.public_base_url == "https://survey.example.org"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value"), [("MAX_UPLOAD_BYTES", "lots"), ("MAX_UPLOAD_BYTES", "-1"), ("PUBLIC_BASE_URL", "example.org")]
)
def test_bad_values_are_explained(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({"CHAINLIFT_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k", name: value})
