"""KoboToolbox REST-service receiver: ``POST /kobo/hook/<token>`` (docs/kobo-integration.md)."""

from app.api.kobo.hook import blueprint

__all__ = ["blueprint"]
