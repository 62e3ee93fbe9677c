from pathlib import Path

from clikopro_chassis.config import Settings


def test_settings_read_environment_variables_of_their_field_names() -> None:
    env = {
        "DATABASE_URL": "postgresql://db/identity",
        "BROKER_URL": "amqp://guest:guest@rabbit//",
        "CONSUMER_PREFETCH": "7",
        "CONSUMER_RETRY_DELAYS_MS": "10, 20,30",
        "VALIDATE_RESPONSES": "true",
    }
    settings = Settings.from_env("identity", env)
    assert settings.service == "identity"
    assert settings.database_url == "postgresql://db/identity"
    assert settings.broker_url == "amqp://guest:guest@rabbit//"
    assert settings.consumer_prefetch == 7
    assert settings.consumer_retry_delays_ms == (10, 20, 30)
    assert settings.validate_responses is True


def test_unset_urls_fall_back_to_the_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env("missions", {"DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'missions.sqlite3'}"
    assert settings.broker_url == f"filesystem://{tmp_path / 'broker'}"
