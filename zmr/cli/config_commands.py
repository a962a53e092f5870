"""``zmr config init [PATH]`` writes a starting ``cluster.toml`` (every setting at its
default, commented with its help), and ``zmr config show`` prints the settings in force and
where each came from (default, the file, or a ``ZMR_<SECTION>_<KEY>`` variable). Both are
generated from the settings table, so they list every setting there is."""

from __future__ import annotations

import argparse
import os
from typing import Any

from zmr.config import config_sources, env_name, load_config, toml_value
from zmr.core.errors import ConfigError
from zmr.settings.cluster import CLUSTER_SETTINGS, SECTIONS


def add_config_commands(sub: Any) -> None:
    config = sub.add_parser("config", help="write a starting cluster config, or show the "
                                           "one in force")
    actions = config.add_subparsers(dest="config_action", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="write every setting at its default, commented")
    init.add_argument("path", nargs="?", default="conf/cluster.toml",
                      help="where to write it (default: conf/cluster.toml)")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.set_defaults(handler=cmd_config_init)
    show = actions.add_parser("show", help="the settings in force and where each came from")
    show.add_argument("--config", default=None, help="cluster config (default: $ZMR_CONFIG)")
    show.set_defaults(handler=cmd_config_show)


def default_config_text() -> str:
    """The default configuration as commented TOML, one block per section."""
    lines = ["# zmr cluster configuration (zmr config init). Every setting is shown at its",
             "# default; each can also be set with ZMR_<SECTION>_<KEY> in the environment."]
    for section, kind in SECTIONS.items():
        about = (kind.__doc__ or "").strip().splitlines()[0].split(": ", 1)[-1]
        lines += ["", f"[{section}]", f"# {about}"]
        for setting in (s for s in CLUSTER_SETTINGS if s.section == section):
            lines += [f"# {setting.help} (${env_name(setting)})",
                      f"{setting.name} = {toml_value(setting.default)}"]
    return "\n".join(lines) + "\n"


def cmd_config_init(args: argparse.Namespace) -> int:
    if os.path.exists(args.path) and not args.force:
        raise ConfigError(f"{args.path} already exists (pass --force to replace it)")
    os.makedirs(os.path.dirname(args.path) or ".", exist_ok=True)
    with open(args.path, "w", encoding="utf-8") as f:
        f.write(default_config_text())
    print(args.path)
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    path = args.config or os.environ.get("ZMR_CONFIG")
    config = load_config(path)
    sources = config_sources(path)
    section = ""
    for setting in CLUSTER_SETTINGS:
        if setting.section != section:
            print(f"\n[{setting.section}]" if section else f"[{setting.section}]")
            section = str(setting.section)
        value = getattr(getattr(config, section), setting.name)
        print(f"{setting.name} = {toml_value(value)}  # {sources[setting.key]}")
    return 0
