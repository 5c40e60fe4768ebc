"""ChainLift: the survey backend for value-chain upgrading programmes."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import db, jobs
from app.config import Settings, load_settings
from app.services.blobs import BlobStore


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from ``settings`` (default: read from the environment). No import-time side effects."""
    from app.api import register_blueprints  # noqa: PLC0415 - keeps `import app` light for alembic
    from app.cli import register_commands  # noqa: PLC0415
    from app.dashboard import register_dashboard  # noqa: PLC0415
    from app.web import register_pages  # noqa: PLC0415

    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.from_mapping(settings.flask_config())
    app.extensions["settings"] = settings
    app.extensions["blobs"] = BlobStore(settings.media_root)
    if settings.trusted_proxies:  # https and the client's address as the proxy saw them (Basic auth needs https)
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]
    db.init_app(app)
    jobs.init_app(app, settings)
    register_blueprints(app)
    register_pages(app)
    register_dashboard(app)
    register_commands(app)
    if not app.debug:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app
