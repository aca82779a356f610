"""The client's config file (server and token) and its state directory (resumable transfers).

Both live where platformdirs says (``$XDG_CONFIG_HOME/pastefile`` and
``$XDG_STATE_HOME/pastefile`` on Linux). The config holds a token, so it is written 0600.
``PF_SERVER`` and ``PF_TOKEN`` override it for one command (scripts, CI).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from pastefile_client.errors import AUTH, Failure, read_failure, write_failure

APP = "pastefile"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP))


def state_dir() -> Path:
    path = Path(platformdirs.user_state_dir(APP))
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise write_failure(path, exc) from None
    return path


@dataclass
class Config:
    server: str | None = None
    token: str | None = None
    token_id: int | None = None
    username: str | None = None

    @property
    def path(self) -> Path:
        return config_dir() / "config.json"


def load() -> Config:
    """The saved config, with PF_SERVER / PF_TOKEN on top."""
    config = Config()
    path = config.path
    if path.exists():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise read_failure(path, exc) from None
        except ValueError:
            raise Failure(f"{path} is not valid JSON: fix or delete it") from None
        config = Config(**{k: raw.get(k) for k in ("server", "token", "token_id", "username")})
    if os.environ.get("PF_SERVER"):
        config.server = os.environ["PF_SERVER"]
    if os.environ.get("PF_TOKEN"):
        config.token, config.token_id = os.environ["PF_TOKEN"], None
    return config


def save(config: Config) -> None:
    path = config.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_suffix(".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(config), out, indent=2)
        os.replace(temp, path)
    except OSError as exc:
        raise write_failure(path, exc) from None


def forget() -> None:
    path = Config().path
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise write_failure(path, exc) from None


def require_login(config: Config) -> Config:
    if not config.server or not config.token:
        raise Failure("not logged in: run `pf login URL` first", AUTH)
    return config
