"""The whole schema: every context's tables, and Alembic upgrades to head."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

from entrepot.campaigns.flash import models as _peak  # noqa: F401
from entrepot.campaigns.group_buys import models as _group  # noqa: F401
from entrepot.campaigns.livestream import models as _live  # noqa: F401
from entrepot.catalog import models as _catalog  # noqa: F401  (registers tables)
from entrepot.emissions import models as _emissions  # noqa: F401
from entrepot.identity import models as _identity  # noqa: F401
from entrepot.integrations import models as _integrations  # noqa: F401
from entrepot.inventory import models as _inventory  # noqa: F401
from entrepot.local_services import models as _local_services  # noqa: F401
from entrepot.logistics import models as _logistics  # noqa: F401
from entrepot.ordering import models as _ordering  # noqa: F401
from entrepot.organization import models as _organization  # noqa: F401
from entrepot.platform import audit as _audit  # noqa: F401
from entrepot.platform.db import Base, ensure_sqlite_folder
from entrepot.reporting import models as _reporting  # noqa: F401

metadata: MetaData = Base.metadata


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("entrepot") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema; safe to run again."""
    ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), "head")
