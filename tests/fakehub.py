"""An in-memory fake of the Hugging Face Hub HTTP API, on 127.0.0.1, for the real client.

Adapted from ../shared/notes/feasibility.md (Appendix A). It serves what huggingface_hub's
create_repo / repo_info / list_repo_tree / hf_hub_download / preupload_lfs_files / create_commit
(NDJSON, with `parentCommit` and `create_pr`) and datasets.load_dataset call, through
`HF_ENDPOINT`. Every commit is a snapshot, so tests can read any revision. The client must run
with `HF_HUB_DISABLE_XET=1`: LFS files then go through the classic batch API.

Tests steer it with `fail(...)` (answer an error a given number of times) and `on(...)` (run a
function before a request is handled: block it, or commit concurrently).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

import yaml

LFS_SUFFIXES = (".parquet", ".arrow", ".safetensors", ".bin")
SIZE_CATEGORIES = {"n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B"}
LICENSES = {"apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "other"}
TASKS = {"text-generation", "question-answering", "text-classification", "multiple-choice", "translation"}


def git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(data: bytes) -> bytes:
    sha = hashlib.sha256(data).hexdigest()
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {len(data)}\n".encode()


@dataclass
class Commit:
    oid: str
    parent: str | None
    files: dict[str, tuple[bytes, bool]]  # path -> (content, stored as LFS)
    message: str = ""
    touched: tuple[str, ...] = ()  # paths added, replaced or deleted by this commit


@dataclass
class Repo:
    repo_id: str
    private: bool
    refs: dict[str, str] = field(default_factory=dict)  # "main", "refs/pr/1" -> commit oid
    commits: dict[str, Commit] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        oid = self.refs.get(revision, revision)
        if oid in self.commits:
            return self.commits[oid]
        matches = [c for o, c in self.commits.items() if len(revision) >= 7 and o.startswith(revision)]
        return matches[0] if len(matches) == 1 else None


class YamlError(ValueError):
    pass


def validate_card(content: str) -> None:
    """The checks the Hub makes on a dataset card's metadata that okapi's cards exercise."""
    match = re.match(r"^---\n(.*?)\n---(\n|$)", content, re.S)
    if not match:
        return
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None
    problems = []
    if not set(meta.get("size_categories") or []) <= SIZE_CATEGORIES:
        problems.append(f"size_categories: {meta['size_categories']}")
    license_ = meta.get("license")
    if license_ is not None and not set([license_] if isinstance(license_, str) else license_) <= LICENSES:
        problems.append(f"license: {license_}")
    if not set(meta.get("task_categories") or []) <= TASKS:
        problems.append(f"task_categories: {meta['task_categories']}")
    for code in meta.get("language") or []:
        if not re.fullmatch(r"[a-z]{2,3}", str(code)):
            problems.append(f"language: {code}")
    names = []
    for config in meta.get("configs") or []:
        names.append(config.get("config_name"))
        if not config.get("config_name") or not all(
            {"split", "path"} <= set(f) for f in config.get("data_files", [])
        ):
            problems.append(f"configs: {config}")
    for info in meta.get("dataset_info") or []:
        if info.get("config_name") not in names or "features" not in info:
            problems.append(f"dataset_info: {info.get('config_name')}")
        for split in info.get("splits", []):
            if not isinstance(split.get("num_examples"), int):
                problems.append(f"dataset_info.splits: {split}")
    if problems:
        raise YamlError("; ".join(problems))


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client killed mid-request (the tests do that) is expected; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.authorizations: list[str] = []
        self._faults: list[list] = []  # [method, regex, status, times left]
        self._hooks: list[list] = []  # [method, regex, function, times left]
        self._commits = 0
        self.server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    # -- test controls
    def start(self) -> FakeHub:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, method: str, pattern: str, status: int, times: int = 1) -> None:
        """Answer `status` (with Retry-After: 0) to the next `times` requests matching."""
        self._faults.append([method, re.compile(pattern), status, times])

    def on(self, method: str, pattern: str, function: Callable[[], None], times: int = 1) -> None:
        """Call `function` before handling the next `times` requests matching."""
        self._hooks.append([method, re.compile(pattern), function, times])

    def head(self, repo_id: str, revision: str = "main") -> str:
        return self.repos[repo_id].refs[revision]

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        commit = self.repos[repo_id].resolve(revision)
        return {path: data for path, (data, _) in commit.files.items()}

    def history(self, repo_id: str) -> list[Commit]:
        repo, out = self.repos[repo_id], []
        oid = repo.refs["main"]
        while oid:
            out.append(repo.commits[oid])
            oid = repo.commits[oid].parent
        return out[::-1]

    def commit(
        self, repo_id: str, add: dict[str, bytes], delete: tuple[str, ...] = (), message: str = "direct"
    ) -> str:
        """Commit on main directly, as another client would (for concurrency tests)."""
        ops = [("file", path, data) for path, data in add.items()] + [("delete", p, b"") for p in delete]
        return self._apply(self.repos[repo_id], "main", ops, message)

    # -- state changes
    def create(self, repo_id: str, private: bool) -> None:
        repo = Repo(repo_id, private)
        gitattributes = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
        first = Commit(self._new_oid(), None, {".gitattributes": (gitattributes, False)}, "initial commit")
        repo.commits[first.oid] = first
        repo.refs["main"] = first.oid
        self.repos[repo_id] = repo

    def _new_oid(self) -> str:
        self._commits += 1
        return hashlib.sha1(f"commit {self._commits}".encode()).hexdigest()

    def _apply(self, repo: Repo, base_oid_or_ref: str, ops: list, message: str, target: str = "main") -> str:
        with self.lock:
            base = repo.resolve(base_oid_or_ref)
            files = dict(base.files)
            for kind, path, data in ops:
                if kind == "file":
                    files[path] = (data, path.endswith(LFS_SUFFIXES))
                elif kind == "delete":
                    if path not in files:
                        raise FileNotFoundError(path)
                    del files[path]
            commit = Commit(self._new_oid(), base.oid, files, message, tuple(p for _, p, _ in ops))
            repo.commits[commit.oid] = commit
            repo.refs[target] = commit.oid
            return commit.oid


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_HEAD(self) -> None:
            self._route()

        def do_GET(self) -> None:
            self._route()

        def do_POST(self) -> None:
            self._route()

        def do_PUT(self) -> None:
            self._route()

        # -- helpers
        def _send(self, code: int, body=b"", ctype="application/json", headers=None) -> None:
            if isinstance(body, dict | list):
                body = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, code: int, message: str, error_code: str = "Error") -> None:
            headers = {"X-Error-Message": message, "X-Error-Code": error_code}
            self._send(code, {"error": message}, headers=headers)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _intercept(self, path: str) -> bool:
            """Run hooks, then answer an injected fault if one matches. True when answered."""
            for hook in list(hub._hooks):
                if hook[0] == self.command and hook[1].search(path) and hook[3] > 0:
                    hook[3] -= 1
                    hook[2]()
            for fault in hub._faults:
                if fault[0] == self.command and fault[1].search(path) and fault[3] > 0:
                    fault[3] -= 1
                    self._body()
                    self._send(
                        fault[2],
                        {"error": f"injected {fault[2]}"},
                        headers={"Retry-After": "0", "X-Error-Message": f"injected {fault[2]}"},
                    )
                    return True
            return False

        # -- routing
        def _route(self) -> None:
            url = urlparse(self.path)
            raw, query = url.path, parse_qs(url.query)
            hub.requests.append((self.command, unquote(raw)))
            if self.headers.get("Authorization"):
                hub.authorizations.append(self.headers["Authorization"])
            if self._intercept(unquote(raw)):
                return
            segments = [unquote(s) for s in raw.strip("/").split("/")]
            try:
                self._dispatch(segments, query)
            except (KeyError, ValueError, json.JSONDecodeError) as exc:
                self._error(400, f"fakehub: bad request: {exc!r}")

        def _dispatch(self, seg: list[str], query: dict) -> None:
            method = self.command
            if seg[:2] == ["api", "whoami-v2"]:
                return self._send(200, {"type": "user", "name": "tester", "orgs": []})
            if method == "POST" and seg[:2] == ["api", "validate-yaml"]:
                try:
                    validate_card(json.loads(self._body() or b"{}").get("content") or "")
                except YamlError as exc:
                    return self._send(400, {"errors": [{"message": str(exc)}], "warnings": []})
                return self._send(200, {"errors": [], "warnings": []})
            if method == "POST" and seg[:3] == ["api", "repos", "create"]:
                return self._create(json.loads(self._body()))
            if len(seg) >= 4 and seg[0] == "api" and seg[1] == "datasets":
                return self._api(f"{seg[2]}/{seg[3]}", seg[4:], query)
            if len(seg) == 7 and seg[0] == "datasets" and seg[3:] == ["info", "lfs", "objects", "batch"]:
                return self._lfs_batch()
            if method == "PUT" and len(seg) == 2 and seg[0] == "lfs-put":
                return self._lfs_put(seg[1])
            if len(seg) >= 6 and seg[0] == "datasets" and seg[3] == "resolve":
                return self._resolve(f"{seg[1]}/{seg[2]}", seg[4], "/".join(seg[5:]))
            return self._error(404, f"fakehub: no route {method} {self.path}")

        def _create(self, body: dict) -> None:
            repo_id = f"{body.get('organization') or 'tester'}/{body['name']}"
            url = f"{hub.url}/datasets/{repo_id}"
            with hub.lock:
                if repo_id in hub.repos:
                    return self._send(409, {"error": "You already created this repo", "url": url})
                hub.create(repo_id, bool(body.get("private")) or body.get("visibility") == "private")
            return self._send(200, {"url": url, "name": repo_id, "id": repo_id})

        def _api(self, repo_id: str, rest: list[str], query: dict) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error(404, "Repository not found", "RepoNotFound")
            op = rest[0] if rest else None
            revision = rest[1] if len(rest) > 1 else "main"
            commit = repo.resolve(revision)
            if commit is None and op in (None, "revision", "tree", "paths-info"):
                return self._error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            if op in (None, "revision"):
                return self._send(200, self._info(repo, commit))
            if op == "tree":
                return self._tree(commit, "/".join(rest[2:]), query)
            if op == "paths-info":
                return self._paths_info(commit)
            if op == "preupload":
                return self._preupload(repo)
            if op == "commit":
                return self._commit(repo, revision, query)
            return self._error(404, f"fakehub: no route for {op}")

        def _info(self, repo: Repo, commit: Commit) -> dict:
            return {
                "id": repo.repo_id,
                "_id": repo.repo_id,
                "sha": commit.oid,
                "private": repo.private,
                "disabled": False,
                "gated": False,
                "author": repo.repo_id.split("/")[0],
                "lastModified": "2025-01-01T00:00:00.000Z",
                "createdAt": "2025-01-01T00:00:00.000Z",
                "tags": [],
                "downloads": 0,
                "likes": 0,
                "siblings": [{"rfilename": p} for p in sorted(commit.files)],
            }

        def _entry(self, path: str, data: bytes, lfs: bool) -> dict:
            if not lfs:
                return {"type": "file", "path": path, "size": len(data), "oid": git_oid(data)}
            pointer = lfs_pointer(data)
            return {
                "type": "file",
                "path": path,
                "size": len(data),
                "oid": git_oid(pointer),
                "lfs": {
                    "oid": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                    "pointerSize": len(pointer),
                },
            }

        def _tree(self, commit: Commit, prefix: str, query: dict) -> None:
            prefix = prefix.strip("/")
            recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
            out, folders = [], set()
            for path, (data, lfs) in sorted(commit.files.items()):
                if prefix and not path.startswith(prefix + "/"):
                    continue
                parts = path[len(prefix) + 1 :].split("/") if prefix else path.split("/")
                for i in range(1, len(parts)):
                    folder = "/".join(([prefix] if prefix else []) + parts[:i])
                    if (recursive or i == 1) and folder not in folders:
                        folders.add(folder)
                        out.append(
                            {"type": "directory", "path": folder, "oid": git_oid(folder.encode()), "size": 0}
                        )
                if recursive or len(parts) == 1:
                    out.append(self._entry(path, data, lfs))
            if prefix and not out:
                return self._error(404, "Entry not found", "EntryNotFound")
            return self._send(200, out)

        def _paths_info(self, commit: Commit) -> None:
            raw = self._body()
            if "json" in self.headers.get("Content-Type", ""):
                paths = json.loads(raw).get("paths", [])
            else:
                paths = parse_qs(raw.decode()).get("paths", [])
            out = []
            for path in (p.strip("/") for p in paths):
                if path in commit.files:
                    out.append(self._entry(path, *commit.files[path]))
                elif any(f.startswith(path + "/") for f in commit.files):
                    out.append({"type": "directory", "path": path, "oid": git_oid(path.encode()), "size": 0})
            return self._send(200, out)

        def _preupload(self, repo: Repo) -> None:
            files = json.loads(self._body())["files"]
            head = repo.commits[repo.refs["main"]]
            answer = []
            for f in files:
                current = head.files.get(f["path"])
                remote_oid = None
                if current is not None:  # like the Hub: the remote oid lets the client skip no-ops
                    remote_oid = hashlib.sha256(current[0]).hexdigest() if current[1] else git_oid(current[0])
                lfs = f["path"].endswith(LFS_SUFFIXES)
                answer.append(
                    {
                        "path": f["path"],
                        "uploadMode": "lfs" if lfs else "regular",
                        "shouldIgnore": False,
                        "oid": remote_oid,
                    }
                )
            return self._send(200, {"files": answer, "commitOid": head.oid})

        def _commit(self, repo: Repo, revision: str, query: dict) -> None:
            lines = [json.loads(x) for x in self._body().decode().splitlines() if x.strip()]
            header = next(line["value"] for line in lines if line["key"] == "header")
            create_pr = query.get("create_pr", ["0"])[0] in ("1", "true")
            ops = []
            for line in lines:
                key, value = line["key"], line["value"]
                if key == "file":
                    content = value["content"]
                    data = (
                        base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
                    )
                    ops.append(("file", value["path"], data))
                elif key == "lfsFile":
                    if value["oid"] not in hub.lfs:
                        return self._error(400, f"LFS object {value['oid']} was never uploaded")
                    ops.append(("file", value["path"], hub.lfs[value["oid"]]))
                elif key == "deletedFile":
                    ops.append(("delete", value["path"], b""))
            for kind, path, data in ops:
                if kind == "file" and path == "README.md":
                    try:
                        validate_card(data.decode())
                    except YamlError as exc:
                        return self._error(400, f"Invalid metadata in README.md: {exc}", "BadRequest")
            with hub.lock:
                head = repo.refs.get(revision, revision)
                parent = header.get("parentCommit")
                target = revision
                if create_pr:
                    target = f"refs/pr/{sum(r.startswith('refs/pr/') for r in repo.refs) + 1}"
                    head = parent or head
                elif parent is not None and parent != head:
                    return self._error(412, "A commit has happened since. Please refresh and try again.")
                try:
                    oid = hub._apply(repo, head, ops, header.get("summary", ""), target)
                except FileNotFoundError as exc:
                    return self._error(404, f"A file with this name doesn't exist: {exc}", "EntryNotFound")
            base = f"{hub.url}/datasets/{repo.repo_id}"
            number = target.rsplit("/", 1)[-1]
            pr_url = f"{base}/discussions/{number}" if create_pr else None
            return self._send(
                200,
                {
                    "commitUrl": f"{base}/commit/{oid}",
                    "commitOid": oid,
                    "pullRequestUrl": pr_url,
                    "success": True,
                },
            )

        def _lfs_batch(self) -> None:
            body = json.loads(self._body())
            objects = []
            for obj in body["objects"]:
                entry = {"oid": obj["oid"], "size": obj["size"]}
                if obj["oid"] not in hub.lfs:
                    entry["actions"] = {"upload": {"href": f"{hub.url}/lfs-put/{obj['oid']}"}}
                objects.append(entry)
            return self._send(
                200, {"transfer": "basic", "objects": objects}, ctype="application/vnd.git-lfs+json"
            )

        def _lfs_put(self, oid: str) -> None:
            data = self._body()
            if hashlib.sha256(data).hexdigest() != oid:
                return self._error(400, "sha256 mismatch")
            hub.lfs[oid] = data
            return self._send(200, {})

        def _resolve(self, repo_id: str, revision: str, path: str) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error(404, "Repository not found", "RepoNotFound")
            commit = repo.resolve(revision)
            if commit is None:
                return self._error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            if path not in commit.files:
                headers = {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit.oid}
                return self._send(404, {"error": "Entry not found"}, headers=headers)
            data, lfs = commit.files[path]
            etag = hashlib.sha256(data).hexdigest() if lfs else git_oid(data)
            headers = {"ETag": f'"{etag}"', "X-Repo-Commit": commit.oid, "Accept-Ranges": "bytes"}
            ranged = self.headers.get("Range")
            if ranged and self.command == "GET":
                start, _, end = ranged.removeprefix("bytes=").partition("-")
                if not start:  # suffix range: the last N bytes
                    first, last = max(0, len(data) - int(end)), len(data) - 1
                else:
                    first, last = int(start), min(int(end), len(data) - 1) if end else len(data) - 1
                headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
                return self._send(206, data[first : last + 1], "application/octet-stream", headers)
            return self._send(200, data, "application/octet-stream", headers)

    return Handler
