#!/usr/bin/env python3
"""apprise-lite: a minimal stand-in for the Apprise API server, for `make run` and benchmarks on
machines without Docker.

The delivery itself is done by the real `apprise` library from PyPI (pinned in
scripts/tools-requirements.txt), the same library the Apprise API container delivers with. What
differs is the server around it: Python's ThreadingHTTPServer instead of gunicorn, and configs
kept in memory instead of files. The calls and answers follow shared/APPRISE.md:

  POST /add/{key}     {"config": "<text>", "format": "text"|"yaml"}  -> 200 {"error": null}
  POST /get/{key}                                                    -> 200 {"format", "config"} | 204
  POST /del/{key}                                                    -> 200 {"error": null} | 204
  POST /notify/{key}  {"title", "body", "type", "format", "tag"}     -> 200 | 424 | 204 unknown key | 400
  POST /notify/       {"urls": [...], "title", "body"}               -> 200 | 424 | 204 no valid URL
                      (or the same as a multipart form, files in `attach` parts)
  GET  /status                                                       -> 200 OK

`details` of /notify are log lines [LEVEL, TIME, MESSAGE] as Apprise writes them ("Sent …
notification." per target that accepted the message), so a client can tell a partial delivery
from a total failure. Each matched target is sent through its own one-target Apprise object, in
parallel, so every request knows exactly which of its targets worked even when many requests run
at once (Apprise's own log capture is process-wide).

Usage: apprise-lite.py [--host 127.0.0.1] [--port 8000]   (port 0 picks a free one; the chosen
address is printed as "listening on http://HOST:PORT").
"""

import argparse
import concurrent.futures as cf
import datetime
import email.parser
import email.policy
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import apprise
from apprise.attachment.memory import AttachMemory

KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
TAG_CHARS = re.compile(r"^[a-z0-9 _:+&|,-]*$", re.IGNORECASE)
TYPES = {"info", "success", "warning", "failure"}
FORMATS = {"text", "markdown", "html"}
FAILED = "One or more notification could not be sent"

CONFIGS = {}  # key -> (format, config text)
LOCK = threading.Lock()
POOL = cf.ThreadPoolExecutor(max_workers=32)


def now():
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]


def parse_tag(tag):
    """The Apprise API's tag rules: `,` or `|` = OR, space, `+` or `&` = AND; a JSON list is OR
    and a list inside it AND. Returns what apprise's `tag=` takes, or raises ValueError."""
    if tag is None:
        return None
    if isinstance(tag, str):
        if not TAG_CHARS.match(tag):
            raise ValueError("Unsupported characters found in tag definition")
        groups = []
        for part in re.split(r"[,|]", tag):
            words = [w for w in re.split(r"[\s+&]+", part.strip()) if w]
            if words:
                groups.append(tuple(words) if len(words) > 1 else words[0])
        return groups or None
    if isinstance(tag, list):
        groups = []
        for entry in tag:
            if isinstance(entry, str):
                groups.append(entry)
            elif isinstance(entry, list) and all(isinstance(w, str) for w in entry):
                groups.append(tuple(entry))
            else:
                raise ValueError("Unsupported characters found in tag definition")
        return groups or None
    raise ValueError("Unsupported characters found in tag definition")


def send_one(server, title, body, kind, body_format, files=()):
    """Sends through one target with its own Apprise object; (worked, log line)."""
    one = apprise.Apprise()
    one.add(server)
    attach = None
    if files:
        attach = apprise.AppriseAttachment()
        for name, mime, content in files:
            attach.add(AttachMemory(content=content, name=name, mimetype=mime))
    try:
        worked = bool(one.notify(body=body, title=title, notify_type=kind, body_format=body_format, attach=attach))
    except Exception:  # a plugin bug must not take the request down
        worked = False
    name = getattr(server, "service_name", None) or type(server).__name__
    if worked:
        return True, ["INFO", now(), f"Sent {name} notification."]
    return False, ["WARNING", now(), f"Failed to send {name} notification."]


def deliver(servers, title, body, kind, body_format, files=()):
    """Sends to every server in parallel; (status, answer) as the Apprise API gives them."""
    if not servers:
        return 424, {"error": FAILED, "details": []}
    details = []
    if len(servers) > 1:
        details.append(["INFO", now(), f"Notifying {len(servers)} service(s) with threads."])
        results = list(POOL.map(lambda s: send_one(s, title, body, kind, body_format, files), servers))
    else:
        results = [send_one(servers[0], title, body, kind, body_format, files)]
    details.extend(line for _, line in results)
    if all(worked for worked, _ in results):
        return 200, {"error": None, "details": details}
    return 424, {"error": FAILED, "details": details}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apprise-lite"

    def log_message(self, fmt, *args):  # quiet: one line per request would dominate a benchmark
        pass

    def answer(self, status, payload=None):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def read_form(self):
        """A multipart form: (fields, [(file name, media type, bytes)]), as the Apprise API takes
        attachments (`attach` parts)."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        head = f"Content-Type: {self.headers.get('Content-Type')}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        fields, files = {}, []
        for part in form.iter_parts() if form.is_multipart() else []:
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if name == "attach":
                files.append((part.get_filename() or "attachment", part.get_content_type(), payload))
            elif name:
                fields[name] = payload.decode("utf-8", "replace")
        return fields, files

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return "invalid"

    def do_GET(self):
        if self.path.split("?")[0].rstrip("/") == "/status":
            return self.answer_ok()
        self.answer(404, {"error": "not found"})

    def answer_ok(self):
        if "application/json" in (self.headers.get("Accept") or ""):
            status = {"persistent_storage": False, "can_write_config": True, "can_write_attach": False}
            return self.answer(200, {"config_lock": False, "status": status})
        data = b"OK"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        path = self.path.split("?")[0]
        parts = path.strip("/").split("/")
        action = parts[0] if parts else ""
        key = parts[1] if len(parts) > 1 else None
        if action == "notify" and key is None:
            return self.notify_stateless()
        if action not in ("add", "get", "del", "notify") or len(parts) != 2 or not KEY.match(key):
            return self.answer(404, {"error": "not found"})
        getattr(self, "do_" + action)(key)

    def do_add(self, key):
        content = self.read_json()
        if not isinstance(content, dict) or not isinstance(content.get("config"), str):
            return self.answer(400, {"error": "Payload lacks minimum requirements"})
        fmt = content.get("format", "text")
        if fmt not in ("text", "yaml"):
            return self.answer(400, {"error": "Unsupported format specified"})
        check = apprise.AppriseConfig()
        if not check.add_config(content["config"], format=fmt) or not check.servers():
            return self.answer(400, {"error": "The configuration format could not be detected"})
        with LOCK:
            CONFIGS[key] = (fmt, content["config"])
        self.answer(200, {"error": None})

    def do_get(self, key):
        with LOCK:
            stored = CONFIGS.get(key)
        if stored is None:
            return self.answer(204)
        self.answer(200, {"format": stored[0], "config": stored[1]})

    def do_del(self, key):
        with LOCK:
            gone = CONFIGS.pop(key, None)
        self.answer(204 if gone is None else 200, None if gone is None else {"error": None})

    def message(self, content):
        """(title, body, type, format) of a notify request, or an error message."""
        if not isinstance(content, dict) or not content:
            return "Payload lacks minimum requirements"
        body = content.get("body")
        kind = content.get("type", "info")
        fmt = content.get("format", "text")
        if not isinstance(body, str) or not body or kind not in TYPES:
            return "Payload lacks minimum requirements"
        if fmt not in FORMATS:
            return "An invalid body input format was specified"
        return str(content.get("title") or ""), body, kind, fmt

    def do_notify(self, key):
        content = self.read_json()
        msg = self.message(content)
        if isinstance(msg, str):
            return self.answer(400, {"error": msg})
        try:
            tag = parse_tag(content.get("tag"))
        except ValueError as e:
            return self.answer(400, {"error": str(e)})
        with LOCK:
            stored = CONFIGS.get(key)
        if stored is None:
            return self.answer(204)
        config = apprise.AppriseConfig()
        config.add_config(stored[1], format=stored[0])
        everything = apprise.Apprise()
        everything.add(config)
        servers = list(everything.find(tag=tag, match_always=True))
        status, answer = deliver(servers, *msg)
        self.answer(status, answer)

    def notify_stateless(self):
        files = []
        if (self.headers.get("Content-Type") or "").startswith("multipart/form-data"):
            content, files = self.read_form()
            if "urls" in content:  # one string: the Apprise API splits it at commas and spaces
                content["urls"] = [u for u in re.split(r"[\s,]+", content["urls"]) if u]
        else:
            content = self.read_json()
        msg = self.message(content)
        if isinstance(msg, str):
            return self.answer(400, {"error": msg})
        urls = content.get("urls")
        if isinstance(urls, str):
            urls = [urls]
        everything = apprise.Apprise()
        if not isinstance(urls, list) or not everything.add([u for u in urls if isinstance(u, str)]):
            return self.answer(204)
        status, answer = deliver(list(everything.find()), *msg, files=files)
        self.answer(status, answer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"apprise-lite {apprise.__version__}: listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
