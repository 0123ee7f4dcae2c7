"""Herald's own checks of its container files, which Compose and its schema cannot make.

scripts/validate-compose.py runs these after Docker Compose has loaded docker-compose.yml:
each check reads the configuration as Compose resolved it (`docker compose config --format
json`, variables at their defaults), the Dockerfile through BuildKit's own parser (the
`dockerfile` package) and .dockerignore with Docker's own matching rules (the `docker`
package), and compares them with what Herald and its README say:

  readme-services   every part of the stack the README's "Docker Compose" section names runs
  herald-settings   the HERALD_* variables given to Herald are settings Herald reads
  published-urls    the URLs a user is given reach a port published on 127.0.0.1, and
                    HERALD_LISTEN listens where the published port leads
  private-services  only Herald and the Temporal UI publish ports, only on loopback: never
                    Postgres, Temporal or the unauthenticated Apprise API
  healthchecks      a service others wait for with `service_healthy` has a healthcheck
  wiring            each connection setting names a service of the right kind, on the port it
                    listens on, with the Postgres service's credentials; Herald waits for them
  secret-key        HERALD_SECRET_KEY is required from the environment, never a default
  data-volumes      Herald's data dir, Postgres's data and Apprise's configs outlive containers
  dockerfile        the Dockerfile the Herald service builds from exists
  non-root          the runtime stage runs as a non-root user
  locked-build      `cargo build` uses --locked and --release
  rust-version      the builder's Rust is not older than the workspace's rust-version
  glibc             the runtime's Debian release is not older than the builder's
  dockerignore      .dockerignore keeps every file the build reads, and keeps build output,
                    .git, local tools, local data and .env out of the build context

A check returns a list of problems; an empty list means it passed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dockerfile  # BuildKit's Dockerfile parser
from docker.utils.build import PatternMatcher  # Docker's .dockerignore matching

# ----------------------------------------------------------------- the stack --

# The parts of the stack, by the image they run (repository without registry or tag).
ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "postgres": ("Postgres", frozenset({"postgres"})),
    "temporal": ("the Temporal server", frozenset({"temporalio/server", "temporalio/auto-setup"})),
    "temporal-ui": ("the Temporal web UI", frozenset({"temporalio/ui"})),
    "temporal-tools": ("Temporal's admin tools", frozenset({"temporalio/admin-tools"})),
    "apprise": ("the Apprise API", frozenset({"caronc/apprise", "caronc/apprise-api"})),
}
# Where each listens inside the network.
LISTENS = {"postgres": 5432, "temporal": 7233, "apprise": 8000}
# How the README's "Docker Compose" section names them ("herald" is the service built here).
README_NAMES = [
    (re.compile(r"\bHerald\b"), "herald"),
    (re.compile(r"\bPostgres(?:QL)?\b"), "postgres"),
    (re.compile(r"\bTemporal server\b"), "temporal"),
    (re.compile(r"\b(?:web UI|Temporal UI)\b"), "temporal-ui"),
    (re.compile(r"\bApprise API\b"), "apprise"),
]
# Only these may publish ports (and only on loopback).
PUBLISHERS = ("herald", "temporal-ui")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def repository(image: str) -> str:
    """`postgres` for `docker.io/library/postgres:17-alpine@sha256:…`."""
    name = image.split("@", 1)[0]
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name = name[:colon]
    for prefix in ("docker.io/", "index.docker.io/", "library/"):
        name = name.removeprefix(prefix)
    return name


@dataclass
class Project:
    root: Path
    compose_file: Path
    compose: dict  # `docker compose config --format json`
    variables: dict  # `docker compose config --variables --format json`
    placeholders: dict[str, str]  # values given to required variables for the check
    _dockerfile: object = field(default=None, init=False)

    @property
    def services(self) -> dict[str, dict]:
        return self.compose.get("services") or {}

    def __post_init__(self):
        self.root = self.root.resolve()

    def built_here(self, svc: dict) -> bool:
        build = svc.get("build")
        return bool(build) and Path(build.get("context", "")).resolve() == self.root

    def role(self, name: str) -> str | None:
        svc = self.services[name]
        if self.built_here(svc):
            return "herald"
        repo = repository(svc.get("image") or "")
        return next((role for role, (_, repos) in ROLES.items() if repo in repos), None)

    def running(self, role: str) -> list[str]:
        return [name for name in self.services if self.role(name) == role]

    def herald(self) -> str | None:
        found = self.running("herald")
        return found[0] if found else None

    def env(self, name: str) -> dict[str, str]:
        return {
            k: ("" if v is None else str(v))
            for k, v in (self.services[name].get("environment") or {}).items()
        }

    def readme_section(self) -> str | None:
        """The README's "## Docker Compose" section, up to the next heading of that level."""
        text = (self.root / "README.md").read_text(encoding="utf-8")
        match = re.search(r"^## Docker Compose[ \t]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        return match.group(1) if match else None

    def dockerfile_path(self) -> Path:
        herald = self.herald()
        build = self.services[herald].get("build", {}) if herald else {}
        context = Path(build.get("context") or self.root)
        return context / (build.get("dockerfile") or "Dockerfile")

    def dockerfile(self) -> Dockerfile | None:
        if self._dockerfile is None and self.dockerfile_path().is_file():
            self._dockerfile = Dockerfile(self.dockerfile_path())
        return self._dockerfile

    def settings(self) -> dict[str, str | None]:
        """HERALD_* settings Herald reads (clap `env = "…"`), with their defaults."""
        found: dict[str, str | None] = {}
        arg = re.compile(r"#\[(?:arg|clap)\(([^]]*?)\)\]", re.S)
        for member in workspace_members(self.root):
            for source in sorted((member / "src").rglob("*.rs")):
                for attrs in arg.findall(source.read_text(encoding="utf-8")):
                    env = re.search(r'\benv\s*=\s*"([A-Za-z0-9_]+)"', attrs)
                    if env:
                        default = re.search(r'\bdefault_value\s*=\s*"([^"]*)"', attrs)
                        found[env.group(1)] = default.group(1) if default else None
        return found


def published(svc: dict) -> list[dict]:
    """Ports published on the host ({host_ip, published, target}, as Compose resolved them).

    A port without a host port is published too, on a random one."""
    return list(svc.get("ports") or [])


def describe(port: dict) -> str:
    host = f"{port.get('host_ip') or '0.0.0.0'}:{port.get('published') or '(any)'}"
    return f"{host}->{port.get('target')}"


def host_port(value: str, default_port: int | None = None) -> tuple[str | None, int | None]:
    """Host and port of a URL or of HOST:PORT."""
    parts = urlsplit(value if "://" in value else f"tcp://{value}")
    try:
        port = parts.port
    except ValueError:
        return parts.hostname, None
    if port is None:
        port = {"http": 80, "https": 443}.get(parts.scheme, default_port)
    return parts.hostname, port


def workspace_members(root: Path) -> list[Path]:
    manifest = tomllib.loads((root / "Cargo.toml").read_text(encoding="utf-8"))
    members = manifest.get("workspace", {}).get("members") or ["."]
    found = []
    for member in members:
        paths = sorted(root.glob(member)) if any(c in member for c in "*?[") else [root / member]
        found.extend(path.resolve() for path in paths if (path / "Cargo.toml").is_file())
    return found


# ----------------------------------------------------------------- Dockerfile --


def expand(text: str, values: dict[str, str]) -> str:
    """Docker's variable substitution: $NAME, ${NAME}, ${NAME:-word}, ${NAME:+word}."""

    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        op, word = match.group(3), match.group(4) or ""
        value = values.get(name, "")
        if op in (":-", "-"):
            return value if value or (op == "-" and name in values) else expand(word, values)
        if op in (":+", "+"):
            return expand(word, values) if value or (op == "+" and name in values) else ""
        return value

    return re.sub(
        r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\})",
        one,
        text,
    )


@dataclass
class Stage:
    name: str | None
    image: str
    line: int
    commands: list = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # ARG and ENV, in effect at the end
    env: dict[str, str] = field(default_factory=dict)  # ENV only


class Dockerfile:
    """The stages of a Dockerfile, with ARG and ENV substituted the way the builder does."""

    def __init__(self, path: Path):
        self.path = path
        self.stages: list[Stage] = []
        global_args: dict[str, str] = {}
        for command in dockerfile.parse_file(str(path)):
            kind = command.cmd.upper()
            if kind == "FROM":
                words = list(command.value)
                name = words[2].lower() if len(words) == 3 and words[1].lower() == "as" else None
                self.stages.append(Stage(name, expand(words[0], global_args), command.start_line))
                continue
            if not self.stages:
                if kind == "ARG":
                    for item in command.value:
                        key, _, value = item.partition("=")
                        global_args[key] = value.strip('"')
                continue
            stage = self.stages[-1]
            if kind == "ARG":
                for item in command.value:
                    key, eq, value = item.partition("=")
                    stage.values[key] = (
                        expand(value.strip('"'), stage.values) if eq else global_args.get(key, "")
                    )
            elif kind == "ENV":
                pairs = list(command.value)
                for key, value in zip(pairs[::2], pairs[1::2], strict=True):
                    stage.values[key] = stage.env[key] = expand(value.strip('"'), stage.values)
            stage.commands.append(command)

    @property
    def runtime(self) -> Stage:
        return self.stages[-1]

    def last(self, stage: Stage, kind: str):
        return next((c for c in reversed(stage.commands) if c.cmd.upper() == kind), None)

    def cargo_builds(self):
        """(stage, RUN command) for each RUN of `cargo build` before the runtime stage."""
        for stage in self.stages[:-1]:
            for command in stage.commands:
                if command.cmd.upper() == "RUN" and "cargo build" in " ".join(command.value):
                    yield stage, command

    def where(self, line: int) -> str:
        return f"{self.path.name}:{line}"


DEBIAN = {"buster": 10, "bullseye": 11, "bookworm": 12, "trixie": 13, "forky": 14}


def debian_release(image: str) -> int | None:
    for codename, number in DEBIAN.items():
        if re.search(rf"\b{codename}\b", image):
            return number
    match = re.search(r"debian(\d+)", image)  # e.g. gcr.io/distroless/cc-debian12
    return int(match.group(1)) if match else None


def version_tuple(text: str) -> tuple[int, ...] | None:
    match = re.match(r"(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


# --------------------------------------------------------------------- checks --

CHECKS: list[tuple[str, str, object]] = []


def check(name: str, title: str):
    def register(func):
        CHECKS.append((name, title, func))
        return func

    return register


@check(
    "readme-services",
    "every part of the stack the README's Docker Compose section names is a service",
)
def readme_services(p: Project) -> list[str]:
    section = p.readme_section()
    if section is None:
        return ['README.md has no "## Docker Compose" section to check docker-compose.yml against']
    problems = []
    for pattern, role in README_NAMES:
        named = pattern.search(section)
        if named and not p.running(role):
            what = (
                "Herald, built from this repository (a service with `build: .`)"
                if role == "herald"
                else f"{ROLES[role][0]} (image {' or '.join(sorted(ROLES[role][1]))})"
            )
            problems.append(
                f'README.md\'s "Docker Compose" section names {named.group(0)!r}, '
                f"but no service in {p.compose_file.name} runs {what}"
            )
    return problems


@check("herald-settings", "the HERALD_* variables given to Herald are settings Herald reads")
def herald_settings(p: Project) -> list[str]:
    settings = p.settings()
    if not settings:
        return ['found no `#[arg(env = "HERALD_…")]` settings in the workspace sources']
    problems = []
    given = [(f"services.{name}.environment", p.env(name)) for name in p.running("herald")]
    image = p.dockerfile()
    if image:
        given.append((f"{image.path.name} (runtime ENV)", image.runtime.env))
    for where, env in given:
        for key in sorted(env):
            if key.startswith("HERALD_") and key not in settings:
                problems.append(
                    f"{where}.{key} is not a setting Herald reads, so it has no effect "
                    f"(Herald reads: {', '.join(sorted(settings))})"
                )
    return problems


@check("published-urls", "the URLs a user is given reach a port published on 127.0.0.1")
def published_urls(p: Project) -> list[str]:
    problems = []
    loopback_ports = {
        (name, int(port["published"]))
        for name, svc in p.services.items()
        for port in published(svc)
        if port.get("host_ip") in LOOPBACK and str(port.get("published", "")).isdigit()
    }

    def reaches(url: str, services: list[str]) -> bool:
        _, port = host_port(url)
        return any((name, port) in loopback_ports for name in services)

    section = p.readme_section() or ""
    for url in sorted(set(re.findall(r"https?://(?:localhost|127\.0\.0\.1)(?::\d+)?", section))):
        if not reaches(url, list(p.services)):
            problems.append(
                f'README.md\'s "Docker Compose" section sends users to {url}, but no service '
                "publishes that port on 127.0.0.1 (with the variables at their defaults)"
            )
    herald = p.herald()
    if herald is None:
        return problems
    env = p.env(herald)
    for var, role in (("HERALD_BASE_URL", "herald"), ("HERALD_TEMPORAL_UI_URL", "temporal-ui")):
        url = env.get(var)
        host = host_port(url)[0] if url else None
        what = "Herald" if role == "herald" else ROLES[role][0]
        if host in LOOPBACK and not reaches(url, p.running(role)):
            problems.append(
                f"services.{herald}.environment.{var}={url} (variables at their defaults), "
                f"but {what} is not published on that port of 127.0.0.1"
            )
    image = p.dockerfile()
    listen = env.get("HERALD_LISTEN") or (image.runtime.env.get("HERALD_LISTEN") if image else None)
    listen = listen or p.settings().get("HERALD_LISTEN") or ""
    host, port = host_port(listen)
    if host not in ("0.0.0.0", "::"):
        problems.append(
            f"Herald listens on {listen!r} (HERALD_LISTEN) inside the container: only 0.0.0.0 "
            "is reachable through a published port"
        )
    targets = [port_.get("target") for port_ in published(p.services[herald])]
    if port not in targets:
        problems.append(
            f"Herald listens on port {port} (HERALD_LISTEN), but services.{herald}.ports publish "
            f"container port(s) {targets or 'none'}"
        )
    return problems


@check("private-services", "only Herald and the Temporal UI publish ports, and only on 127.0.0.1")
def private_services(p: Project) -> list[str]:
    problems = []
    for name, svc in p.services.items():
        role = p.role(name)
        if svc.get("network_mode") == "host":
            problems.append(
                f"services.{name} uses network_mode: host, which exposes every port it listens on"
            )
        for port in published(svc):
            if role not in PUBLISHERS:
                why = " (the Apprise API has no authentication)" if role == "apprise" else ""
                problems.append(
                    f"services.{name} publishes {describe(port)}: only Herald and the Temporal UI "
                    "may publish ports; Postgres, Temporal and the Apprise API stay on the private "
                    f"network{why}"
                )
            elif port.get("host_ip") not in LOOPBACK:
                problems.append(
                    f"services.{name} publishes {describe(port)} on every interface; "
                    "bind it to 127.0.0.1"
                )
    return problems


@check("healthchecks", "services others wait for with service_healthy have a healthcheck")
def healthchecks(p: Project) -> list[str]:
    problems = []
    for name, svc in p.services.items():
        for target, dep in (svc.get("depends_on") or {}).items():
            if dep.get("condition") != "service_healthy" or target not in p.services:
                continue
            check_ = p.services[target].get("healthcheck") or {}
            test = check_.get("test") or []
            has = bool(test) and test[0] != "NONE" and not check_.get("disable")
            image = p.dockerfile() if p.role(target) == "herald" else None
            if not check_ and image:
                inherited = image.last(image.runtime, "HEALTHCHECK")
                has = inherited is not None and inherited.value[:1] != ("NONE",)
            if not has:
                problems.append(
                    f"services.{name} waits for `{target}` to be healthy, but `{target}` has no "
                    "healthcheck (or it is disabled): `docker compose up` would never start it"
                )
    return problems


@check("wiring", "connection settings name the right service, port and Postgres credentials")
def wiring(p: Project) -> list[str]:
    problems = []
    postgres_users = {}
    for name in p.running("postgres"):
        env = p.env(name)
        user = env.get("POSTGRES_USER") or "postgres"
        postgres_users[name] = (
            user,
            env.get("POSTGRES_PASSWORD", ""),
            env.get("POSTGRES_DB") or user,
        )

    def points_at(where: str, value: str | None, role: str) -> str | None:
        """Checks that `value` (URL or HOST:PORT) names a `role` service on its port."""
        what = ROLES[role][0]
        if not value:
            problems.append(f"{where} is not set, so nothing uses {what} that the stack runs")
            return None
        host, port = host_port(value, LISTENS[role])
        if host not in p.services:
            problems.append(
                f"{where}={value!r}: there is no service named {host!r} (it should name {what})"
            )
            return None
        if p.role(host) != role:
            problems.append(f"{where}={value!r}: service {host!r} does not run {what}")
            return None
        if port != LISTENS[role]:
            problems.append(
                f"{where}={value!r}: {what} listens on port {LISTENS[role]}, not {port}"
            )
        return host

    def same_credentials(
        where: str, host: str | None, user: str | None, password: str | None, db=None
    ):
        if host not in postgres_users:
            return
        want_user, want_password, want_db = postgres_users[host]
        if user != want_user or password != want_password:
            problems.append(
                f"{where}: user/password differ from services.{host}'s "
                "POSTGRES_USER/POSTGRES_PASSWORD"
            )
        if db is not None and db != want_db:
            problems.append(
                f"{where}: database {db!r} is not the one services.{host} creates ({want_db!r})"
            )

    herald = p.herald()
    if herald is not None:
        env = p.env(herald)
        at = f"services.{herald}.environment"
        depends = p.services[herald].get("depends_on") or {}
        for role, var in (
            ("postgres", "HERALD_DATABASE_URL"),
            ("temporal", "HERALD_TEMPORAL_ADDRESS"),
            ("apprise", "HERALD_APPRISE_URL"),
        ):
            if not p.running(role):
                continue
            host = points_at(f"{at}.{var}", env.get(var), role)
            if host is None:
                continue
            if depends.get(host, {}).get("condition") != "service_healthy":
                problems.append(
                    f"services.{herald} must depend on `{host}` with condition service_healthy, "
                    f"or it starts before {ROLES[role][0]} is ready"
                )
            if role == "postgres":
                url = urlsplit(env[var])
                if url.scheme not in ("postgres", "postgresql"):
                    problems.append(f"{at}.{var} must be a postgres:// URL")
                user = unquote(url.username) if url.username is not None else None
                password = unquote(url.password) if url.password is not None else None
                same_credentials(f"{at}.{var}", host, user, password, url.path.lstrip("/"))

    # Temporal's server and its schema job use the same Postgres, with the same credentials.
    for name in p.running("temporal"):
        env = p.env(name)
        if not env.get("DB", "").startswith("postgres"):
            continue
        at = f"services.{name}.environment"
        seed = env.get("POSTGRES_SEEDS", "")
        host = points_at(
            f"{at}.POSTGRES_SEEDS",
            f"{seed}:{env.get('DB_PORT') or 5432}" if seed else "",
            "postgres",
        )
        same_credentials(
            f"{at}.POSTGRES_USER/POSTGRES_PWD",
            host,
            env.get("POSTGRES_USER"),
            env.get("POSTGRES_PWD"),
        )
    for name in p.running("temporal-tools"):
        env = p.env(name)
        at = f"services.{name}.environment"
        if env.get("SQL_HOST"):
            host = points_at(
                f"{at}.SQL_HOST", f"{env['SQL_HOST']}:{env.get('SQL_PORT') or 5432}", "postgres"
            )
            same_credentials(
                f"{at}.SQL_USER/SQL_PASSWORD", host, env.get("SQL_USER"), env.get("SQL_PASSWORD")
            )
    for name in p.running("temporal-ui") + p.running("temporal-tools"):
        env = p.env(name)
        if "TEMPORAL_ADDRESS" in env or p.role(name) == "temporal-ui":
            points_at(
                f"services.{name}.environment.TEMPORAL_ADDRESS",
                env.get("TEMPORAL_ADDRESS"),
                "temporal",
            )
    return problems


@check("secret-key", "HERALD_SECRET_KEY is required from the environment")
def secret_key(p: Project) -> list[str]:
    herald = p.herald()
    if herald is None:
        return []
    value = p.env(herald).get("HERALD_SECRET_KEY")
    variable = p.variables.get("HERALD_SECRET_KEY") or {}
    if variable.get("Required") and value == p.placeholders.get("HERALD_SECRET_KEY"):
        return []
    return [
        f"services.{herald}.environment.HERALD_SECRET_KEY must be ${{HERALD_SECRET_KEY:?message}}: "
        "required from the environment, with no default, or every install would share one key"
    ]


@check("data-volumes", "Herald's data, Postgres's data and Apprise's configs are on volumes")
def data_volumes(p: Project) -> list[str]:
    problems = []

    def kept(name: str, path: str) -> bool:
        for mount in p.services[name].get("volumes") or []:
            lasting = mount.get("type") == "bind" or (
                mount.get("type") == "volume" and mount.get("source")
            )
            target = mount.get("target", "").rstrip("/")
            if lasting and (path == target or path.startswith(target + "/")):
                return True
        return False

    image = p.dockerfile()
    for name in p.running("herald"):
        data = p.env(name).get("HERALD_DATA_DIR") or (
            image.runtime.env.get("HERALD_DATA_DIR") if image else None
        )
        data = (data or p.settings().get("HERALD_DATA_DIR") or "").rstrip("/")
        if not data.startswith("/") or not kept(name, data):
            problems.append(
                f"services.{name}: Herald's data dir {data!r} (HERALD_DATA_DIR, with its key file) "
                "is not on a named volume or bind mount; it would be lost with the container"
            )
    for name in p.running("postgres"):
        data = p.env(name).get("PGDATA") or "/var/lib/postgresql/data"
        if not kept(name, data):
            problems.append(
                f"services.{name}: no named volume or bind mount holds {data}; "
                "the database would be lost with the container"
            )
    for name in p.running("apprise"):
        if not kept(name, "/config"):
            problems.append(
                f"services.{name}: no named volume or bind mount at /config; "
                "stored Apprise configs would be lost"
            )
    return problems


@check("dockerfile", "the Dockerfile the Herald service builds has a builder and a runtime stage")
def dockerfile_exists(p: Project) -> list[str]:
    path = p.dockerfile_path()
    if not path.is_file():
        return [f"{path} does not exist (the Herald service's build)"]
    if len(p.dockerfile().stages) < 2:
        return [f"{path.name}: expected a builder stage and a runtime stage"]
    return []


def _needs_dockerfile(func):
    def run(p: Project) -> list[str]:
        image = p.dockerfile()
        return func(p, image) if image is not None and len(image.stages) >= 2 else []

    return run


@check("non-root", "the image runs as a non-root user")
@_needs_dockerfile
def non_root(p: Project, image: Dockerfile) -> list[str]:
    user = image.last(image.runtime, "USER")
    if user is None:
        return [f"{image.path.name}: the runtime stage has no USER, so Herald would run as root"]
    value = expand(user.value[0], image.runtime.values)
    name = value.split(":", 1)[0]
    if name in ("", "0", "root"):
        return [f"{image.where(user.start_line)}: USER {user.value[0]} is {value!r}, which is root"]
    return []


@check("locked-build", "cargo build uses --locked and --release")
@_needs_dockerfile
def locked_build(p: Project, image: Dockerfile) -> list[str]:
    builds = list(image.cargo_builds())
    if not builds:
        return [f"{image.path.name}: no stage before the runtime RUNs `cargo build`"]
    problems = []
    for _, command in builds:
        words = " ".join(command.value).split()
        for flag in ("--locked", "--release"):
            if flag not in words:
                problems.append(f"{image.where(command.start_line)}: `cargo build` without {flag}")
    return problems


@check("rust-version", "the builder's Rust is not older than the workspace's rust-version")
@_needs_dockerfile
def rust_version(p: Project, image: Dockerfile) -> list[str]:
    manifest = tomllib.loads((p.root / "Cargo.toml").read_text(encoding="utf-8"))
    wanted = manifest.get("package", {}).get("rust-version")
    if wanted is None or isinstance(wanted, dict):  # `rust-version.workspace = true`
        wanted = manifest.get("workspace", {}).get("package", {}).get("rust-version")
    need = version_tuple(str(wanted or ""))
    problems = []
    for stage in {id(s): s for s, _ in image.cargo_builds()}.values():
        if repository(stage.image) != "rust":
            problems.append(
                f"{image.where(stage.line)}: cargo builds FROM {stage.image}; "
                "expected rust:<version>"
            )
            continue
        tag = stage.image.split(":", 1)[1] if ":" in stage.image else ""
        have = version_tuple(tag)
        if have is None or (need is not None and have < need):
            problems.append(
                f"{image.where(stage.line)}: builder {stage.image} is older than the workspace's "
                f"rust-version {wanted} (or has no version in its tag)"
            )
    return problems


@check("glibc", "the runtime's Debian release is not older than the builder's")
@_needs_dockerfile
def glibc(p: Project, image: Dockerfile) -> list[str]:
    runtime = image.runtime
    problems = []
    for stage in {id(s): s for s, _ in image.cargo_builds()}.values():
        built, runs = debian_release(stage.image), debian_release(runtime.image)
        if runs is None:
            problems.append(
                f"{image.where(runtime.line)}: runtime image {runtime.image} is not a Debian "
                "release image; the glibc binary from the builder may not run on it"
            )
        elif built is not None and runs < built:
            problems.append(
                f"{image.where(runtime.line)}: runtime {runtime.image} is an older Debian than the "
                f"builder {stage.image}; Herald would need a newer glibc than the runtime has"
            )
    return problems


# Never sent to the Docker daemon: `COPY . .` would put them in the builder's layers.
UNWANTED = {
    "target/release/herald": "build output (gigabytes)",
    ".git/HEAD": "the git repository",
    ".tools/py/bin/temporal": "local tools (`make tools`)",
    "data/herald.db": "local data (`make run`)",
    ".env": "local secrets such as HERALD_SECRET_KEY",
}


def needed_files(root: Path) -> set[str]:
    """Files `cargo build` reads: manifests, sources, and what the sources include or embed."""
    root = root.resolve()
    needed = {"Cargo.toml", "Cargo.lock"}

    def add_tree(path: Path, pattern: str = "*"):
        if path.is_file():
            needed.add(path.relative_to(root).as_posix())
        elif path.is_dir():
            needed.update(
                f.relative_to(root).as_posix() for f in path.rglob(pattern) if f.is_file()
            )

    include = re.compile(r'\binclude_(?:str|bytes)!\(\s*"([^"]+)"')
    migrate = re.compile(r'\bmigrate!\(\s*(?:"([^"]+)")?\s*\)')
    for member in workspace_members(root):
        manifest = tomllib.loads((member / "Cargo.toml").read_text(encoding="utf-8"))
        add_tree(member / "Cargo.toml")
        add_tree(member / "src", "*.rs")
        add_tree(member / str(manifest.get("package", {}).get("build", "build.rs")))
        add_tree(member / ".sqlx")
        for target in [manifest.get("lib", {})] + manifest.get("bin", []):
            if target.get("path"):
                add_tree(member / target["path"])
        for source in list((member / "src").rglob("*.rs")):
            text = source.read_text(encoding="utf-8")
            for path in include.findall(text):
                add_tree((source.parent / path).resolve())
            for path in migrate.findall(text):
                add_tree((member / (path or "migrations")).resolve(), "*.sql")
    return needed


@check("dockerignore", ".dockerignore keeps what the build needs and leaves out local state")
def dockerignore(p: Project) -> list[str]:
    context = p.dockerfile_path().parent
    ignore = context / ".dockerignore"
    if not ignore.is_file():
        return [
            f"{ignore} does not exist: build output, .git and .env would be sent to the "
            "Docker daemon"
        ]
    # As the docker SDK reads it: one pattern a line, comments and blank lines dropped.
    patterns = [line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()]
    matcher = PatternMatcher([line for line in patterns if line and not line.startswith("#")])
    problems = []
    for path in sorted(needed_files(context)):
        if matcher.matches(path):
            problems.append(
                f".dockerignore excludes {path}, but `cargo build` in the image needs it"
            )
    for path, what in UNWANTED.items():
        if not matcher.matches(path):
            problems.append(
                f".dockerignore does not exclude {path} ({what}); "
                "`COPY . .` would send it to the build"
            )
    return problems


def run_all(project: Project) -> list[tuple[str, str, list[str]]]:
    """(name, title, problems) for every check."""
    results = []
    for name, title, func in CHECKS:
        try:
            problems = func(project)
        except Exception as error:  # a check that cannot run has failed, with the reason
            problems = [f"could not run the check: {type(error).__name__}: {error}"]
        results.append((name, title, problems))
    return results


if __name__ == "__main__":  # pragma: no cover - run through validate-compose.py
    raise SystemExit("run scripts/validate-compose.py, which loads the file with Compose first")
