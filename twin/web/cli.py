"""``twin-serve``: the Atlas live view and the dealer portal over a run, a snapshot or shadow mode's live state.

  twin-serve                                        the latest run under ./outputs on http://127.0.0.1:8000
  twin-serve state=outputs/baseline/<run> server.port=8010
  twin-serve state=outputs/shadow/<run> refresh_seconds=2       follows the shadow's checkpoints

Accounts come from ``twin-users`` (the same ``users`` file). Settings: ``conf/serve.yaml``
(``twin.web.settings.ServeConfig``); a wrong key or value is refused before anything starts.
"""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from twin.errors import TwinError
from twin.web.settings import (
    LOOPBACK_HOSTS,
    ServeConfig,
    proxy_settings,
    register_serve_config,
    validate_serve,
)

register_serve_config()
#: conf/ beside the package (as twin-run's; not imported from twin.cli, which loads the simulator)
CONFIG_DIR = str(Path(__file__).resolve().parents[2] / "conf")
log = logging.getLogger("twin.web")


def _config(cfg: DictConfig) -> ServeConfig:
    config = OmegaConf.to_object(cfg)
    if not isinstance(config, ServeConfig):
        raise TypeError(f"config composed to {type(config).__name__}, expected ServeConfig")
    return validate_serve(config)


def serve(config: ServeConfig) -> None:
    """Build the app (load the state, check the users), then run uvicorn until Ctrl-C."""
    import uvicorn

    from twin.web.app import build_services, create_app
    from twin.web.clara_bridge import warm_clara_in_background

    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    services = build_services(config)
    app = create_app(services)
    current = services.states.current
    host, port = config.server.host, config.server.port
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: without it a small answer on a kept-alive connection waits ~40 ms
    # for the client's delayed ACK (Nagle), which uvicorn sets only on sockets it opens itself
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind((host, port))
    port = listener.getsockname()[1]
    users = len(services.users.all())
    print(
        f"serving the state of {current.view.as_of} (day {current.day}) from {services.states.source.root or 'the default world'}"
    )
    print(
        f"{users} users in {config.users}"
        + ("" if users else " (add one: twin-users add --user NAME --role field_ops --password-stdin)")
    )
    if host not in LOOPBACK_HOSTS:
        print(
            f"warning: listening on {host}, not loopback: put it behind TLS and set secure_cookies=true",
            file=sys.stderr,
        )
    print(f"open http://{host if ':' not in host else f'[{host}]'}:{port}/  (Ctrl-C stops)", flush=True)
    warm_clara_in_background(current)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level=config.server.log_level,
            timeout_keep_alive=int(config.server.keep_alive_seconds),
            timeout_graceful_shutdown=3,
            access_log=False,
            **proxy_settings(config.server),
        )
    )
    server.run(sockets=[listener])


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="serve")
def _hydra_entry(cfg: DictConfig) -> None:
    try:
        serve(_config(cfg))
    except (TwinError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)


def serve_main() -> None:
    if any(argument in ("--help", "-h") for argument in sys.argv[1:]):
        print(__doc__)
        print("settings (key = default):")
        _print_defaults(OmegaConf.to_container(OmegaConf.structured(ServeConfig)), "")
        return
    _hydra_entry()


def _print_defaults(node: Any, prefix: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _print_defaults(value, f"{prefix}{key}." if isinstance(value, dict) else f"{prefix}{key}")
        return
    print(f"  {prefix} = {node!r}")


if __name__ == "__main__":
    serve_main()
