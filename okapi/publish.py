"""Publish a build folder to the Hugging Face Hub in one atomic commit. The only module that
talks to the Hub.

A publish
1. reads the remote head, its file list and its stats.json (what okapi published before);
2. plans: the chosen languages' shards and rejects are added or replaced and their stale shards
   deleted; README.md and stats.json are re-rendered from the merged stats, so every other
   language on the Hub is kept (its files are not in the commit at all);
3. pre-uploads the large files, then sends one `create_commit` guarded by `parent_commit`, so
   a concurrent change is detected (HTTP 412) and nothing is ever half-written;
4. reads one row of each published config back through the Hub.

The token comes from $HF_TOKEN or `hf auth login`; it is handed to huggingface_hub and never
printed, logged or written.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import pyarrow.parquet as pq
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token
from huggingface_hub.errors import HfHubHTTPError, HFValidationError, RepositoryNotFoundError
from huggingface_hub.hf_api import RepoFile

import okapi
from okapi import assemble, card
from okapi.assemble import config_files

try:  # huggingface_hub 2.x runs on httpx2, 1.x on httpx: a dropped connection is one of these
    from httpx2 import TransportError
except ImportError:
    from httpx import TransportError

log = logging.getLogger("okapi.publish")
T = TypeVar("T")

REPO_TYPE = "dataset"
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_ATTEMPTS = 5  # per Hub call, for 429 and 5xx (honouring Retry-After)
BACKOFF_S = 1.0
MAX_REBASES = 3  # how often a publish is re-planned on top of a concurrent commit
HUB_OWN_FILES = {".gitattributes", "README.md"}  # what a fresh Hub repo may hold


class PublishError(ValueError):
    """A publish that cannot go on; the message says what to do."""


class ConcurrentChangeError(PublishError):
    """Someone else changed this publish's files on the Hub while it ran."""


@dataclass(frozen=True)
class LocalFile:
    path: str  # path in the repo
    content: Path | bytes
    size: int
    sha256: str
    git_oid: str

    @classmethod
    def of(cls, path: str, content: Path | bytes) -> LocalFile:
        """Hashes as the Hub reports them: sha256 for LFS files, git's blob sha1 for the others."""
        size = content.stat().st_size if isinstance(content, Path) else len(content)
        sha256, git = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % size)
        with content.open("rb") if isinstance(content, Path) else io.BytesIO(content) as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):  # shards can be large: stream them
                sha256.update(chunk)
                git.update(chunk)
        return cls(path, content, size, sha256.hexdigest(), git.hexdigest())


@dataclass(frozen=True)
class RemoteFile:
    git_oid: str
    sha256: str | None  # set for LFS files
    size: int

    def same_as(self, local: LocalFile) -> bool:
        return local.sha256 == self.sha256 if self.sha256 else local.git_oid == self.git_oid


@dataclass
class Remote:
    head: str | None  # None: the repo does not exist yet
    files: dict[str, RemoteFile] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)  # the README's YAML


@dataclass
class Plan:
    repo_id: str
    head: str | None
    langs: list[str]  # published now
    kept_langs: list[str]  # already on the Hub and left as they are
    add: list[LocalFile]
    replace: list[LocalFile]
    delete: list[str]
    unchanged: list[str]

    @property
    def empty(self) -> bool:
        return not (self.add or self.replace or self.delete)

    def operations(self) -> list[CommitOperationAdd | CommitOperationDelete]:
        ops: list[CommitOperationAdd | CommitOperationDelete] = []
        for f in self.add + self.replace:
            content = str(f.content) if isinstance(f.content, Path) else f.content
            ops.append(CommitOperationAdd(path_in_repo=f.path, path_or_fileobj=content))
        ops += [CommitOperationDelete(path_in_repo=path) for path in self.delete]
        return ops

    def describe(self) -> str:
        where = f"main at {self.head[:12]}" if self.head else "new repo"
        lines = [f"datasets/{self.repo_id} ({where})", f"  publish: {', '.join(self.langs)}"]
        if self.kept_langs:
            lines.append(f"  kept as on the Hub: {', '.join(self.kept_langs)}")
        lines += [f"  + add      {f.path} ({_size(f.size)})" for f in self.add]
        lines += [f"  ~ replace  {f.path} ({_size(f.size)})" for f in self.replace]
        lines += [f"  - delete   {path}" for path in self.delete]
        if self.unchanged:
            shown = ", ".join(self.unchanged[:6]) + (", ..." if len(self.unchanged) > 6 else "")
            lines.append(f"  = unchanged {len(self.unchanged)} file(s): {shown}")
        return "\n".join(lines)


@dataclass
class Published:
    repo_id: str
    commit: str | None  # None for a dry run or when nothing changed
    url: str | None
    plan: Plan
    verified: dict[str, str] = field(default_factory=dict)  # config -> id of the row read back


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


# -- retries -------------------------------------------------------------------------------


def _status(exc: HfHubHTTPError) -> int | None:
    return exc.response.status_code if exc.response is not None else None


def _retry_after(exc: HfHubHTTPError) -> float | None:
    value = exc.response.headers.get("Retry-After") if exc.response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())


def _retrying(what: str, call: Callable[[], T]) -> T:
    """Call, retrying 429 and 5xx (honouring Retry-After) and dropped connections, with backoff."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return call()
        except HfHubHTTPError as exc:
            if _status(exc) not in RETRY_STATUSES or attempt == MAX_ATTEMPTS:
                raise
            delay, reason = _retry_after(exc), f"HTTP {_status(exc)}"
        except TransportError as exc:
            if attempt == MAX_ATTEMPTS:
                raise
            delay, reason = None, type(exc).__name__
        delay = BACKOFF_S * 2 ** (attempt - 1) if delay is None else min(delay, 120.0)
        log.warning("%s: %s, retry %d/%d in %.1fs", what, reason, attempt, MAX_ATTEMPTS - 1, delay)
        time.sleep(delay)
    raise AssertionError("unreachable")


# -- the local build -----------------------------------------------------------------------


@dataclass
class Build:
    folder: Path
    builder: Any
    stats: dict[str, Any]
    configs: dict[str, dict[str, Any]]  # published language -> its `config` block

    @cached_property
    def files(self) -> dict[str, LocalFile]:
        """Repo path → file for the published configs' shards and rejects (hashed once)."""
        out = {}
        for config in self.configs.values():
            for paths in config["data_files"].values():
                out.update({p: LocalFile.of(p, self.folder / p) for p in paths})
        for name in [*self.configs, "source"]:
            path = self.folder / "rejects" / f"{name}.jsonl"
            if path.exists():
                out[f"rejects/{name}.jsonl"] = LocalFile.of(f"rejects/{name}.jsonl", path)
        return out


def read_build(folder: str | Path, langs: list[str] | None = None) -> Build:
    """The build in `folder`, checked: the chosen languages exist and match stats.json."""
    from okapi.builders import UnknownBuilderError, get_builder

    folder = Path(folder)
    stats = assemble.read_stats(folder)
    if not stats.get("languages"):
        raise PublishError(
            f"{folder} has no stats.json with languages: publish a folder written by `okapi build`"
        )
    try:
        builder = get_builder(stats["builder"])
    except UnknownBuilderError as exc:
        raise PublishError(f"{folder}/stats.json: {exc}") from None
    built = sorted(code for code in stats["languages"] if config_files(folder, code))
    chosen = langs or built
    missing = [code for code in chosen if code not in built]
    if missing:
        raise PublishError(
            f"{', '.join(missing)} not built in {folder} (built: {', '.join(built) or 'none'}); "
            f"run `okapi build {builder.name} --langs {','.join(missing)} --out {folder}` first"
        )
    configs = {}
    for code in sorted(chosen):
        config = card.describe_config(folder, code, builder.columns)
        on_disk = {s["name"]: s["num_examples"] for s in config["dataset_info"]["splits"]}
        expected = {s: n for s, n in stats["languages"][code]["splits"].items() if s in on_disk}
        if on_disk != expected:
            raise PublishError(
                f"{folder}/{code} holds {on_disk} rows but stats.json says {expected}: the folder was "
                f"changed by hand or a build was interrupted; rebuild {code} before publishing"
            )
        configs[code] = config
    return Build(folder, builder, stats, configs)


# -- the remote ----------------------------------------------------------------------------


def _download(api: HfApi, repo_id: str, name: str, revision: str) -> str:
    path = _retrying(
        f"download {name}",
        lambda: api.hf_hub_download(repo_id, name, repo_type=REPO_TYPE, revision=revision),
    )
    return Path(path).read_text(encoding="utf-8")


def read_remote(api: HfApi, repo_id: str) -> Remote:
    try:
        info = _retrying("read repo", lambda: api.repo_info(repo_id, repo_type=REPO_TYPE))
    except RepositoryNotFoundError:
        return Remote(head=None)
    head = info.sha
    entries = _retrying(
        "list files",
        lambda: list(api.list_repo_tree(repo_id, repo_type=REPO_TYPE, revision=head, recursive=True)),
    )
    files = {
        e.path: RemoteFile(e.blob_id, e.lfs.sha256 if e.lfs else None, e.size)
        for e in entries
        if isinstance(e, RepoFile)
    }
    remote = Remote(head, files)
    if "stats.json" in files:
        remote.stats = json.loads(_download(api, repo_id, "stats.json", head))
    if "README.md" in files:
        remote.metadata = card.read_metadata(_download(api, repo_id, "README.md", head))
    return remote


def _check_remote_is_ours(remote: Remote, build: Build, repo_id: str) -> None:
    builder_there = remote.stats.get("builder")
    if builder_there and builder_there != build.builder.name:
        raise PublishError(
            f"{repo_id} holds the {builder_there!r} dataset and {build.folder} is {build.builder.name!r}; "
            "publish each dataset to its own repo"
        )
    foreign = sorted(set(remote.files) - HUB_OWN_FILES) if not remote.stats else []
    if foreign:
        raise PublishError(
            f"{repo_id} has files okapi did not publish and no stats.json ({', '.join(foreign[:5])}"
            f"{', ...' if len(foreign) > 5 else ''}); publish to a new repo, or remove them on the Hub first"
        )


# -- planning ------------------------------------------------------------------------------


def _owned(path: str, langs: list[str]) -> bool:
    """Whether a repo path belongs to one of these configs (replaced as a whole when published)."""
    return any(path.startswith(f"{code}/") or path == f"rejects/{code}.jsonl" for code in langs)


def merged_stats(build: Build, remote: Remote) -> dict[str, Any]:
    """This build's stats, with the languages published before (and still on the Hub) kept.
    Local source paths become file names: no home folders in a public repo."""
    languages = {}
    for code, numbers in remote.stats.get("languages", {}).items():
        on_hub = any(p.startswith(f"{code}/") for p in remote.files)
        if code not in build.configs and numbers.get("config") and on_hub:
            languages[code] = numbers
    for code, config in build.configs.items():
        numbers = {**build.stats["languages"][code], "config": config}
        if "run" in numbers:
            numbers["run"] = {**numbers["run"], "source": card.source_name(numbers["run"]["source"])}
        languages[code] = numbers
    stats = {**build.stats, "languages": dict(sorted(languages.items()))}
    if "location" in stats.get("source", {}):
        stats["source"] = {**stats["source"], "location": card.source_name(stats["source"]["location"])}
    return stats


def make_plan(build: Build, remote: Remote, repo_id: str) -> Plan:
    langs = sorted(build.configs)
    stats = merged_stats(build, remote)
    readme = card.render(build.builder, stats, repo_id, extra_metadata=remote.metadata)
    stats_json = json.dumps(stats, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    local = dict(build.files)
    local["README.md"] = LocalFile.of("README.md", readme.encode())
    local["stats.json"] = LocalFile.of("stats.json", stats_json.encode())
    add, replace, unchanged = [], [], []
    for path, f in sorted(local.items()):
        there = remote.files.get(path)
        if there is None:
            add.append(f)
        elif there.same_as(f):
            unchanged.append(path)
        else:
            replace.append(f)
    delete = sorted(p for p in remote.files if _owned(p, langs) and p not in local)
    kept = sorted(code for code in stats["languages"] if code not in build.configs)
    return Plan(repo_id, remote.head, langs, kept, add, replace, delete, unchanged)


def _conflicts(before: Remote, after: Remote, build: Build) -> list[str]:
    """Paths of this publish that a concurrent commit changed to something other than ours."""
    langs, local = sorted(build.configs), build.files
    conflicts = []
    for path in sorted(set(before.files) | set(after.files)):
        if not _owned(path, langs) or before.files.get(path) == after.files.get(path):
            continue
        now = after.files.get(path)
        ours = local.get(path)
        if (now is None and ours is None) or (now and ours and now.same_as(ours)):
            continue  # already what this publish wants (e.g. our own commit whose answer was lost)
        conflicts.append(path)
    return conflicts


# -- the Hub calls -------------------------------------------------------------------------


def _token() -> str | None:
    return get_token()  # $HF_TOKEN, else the token saved by `hf auth login`


def _check_online() -> None:
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            raise PublishError(f"{name} is set: publishing needs the Hub; unset it for this command")


def _hub_error(exc: HfHubHTTPError, repo_id: str) -> PublishError:
    status = _status(exc)
    if status == 401:
        return PublishError("the Hub refused the token (401): set HF_TOKEN or run `hf auth login` again")
    if status == 403:
        return PublishError(f"no write access to {repo_id} (403): use a token with write access to its owner")
    return PublishError(f"the Hub answered HTTP {status} for {repo_id}: {exc}")


def _ensure_repo(api: HfApi, repo_id: str, private: bool, remote: Remote) -> Remote:
    if remote.head is not None:
        if private:
            log.warning(
                "%s exists: --private only applies when creating a repo; visibility unchanged", repo_id
            )
        return remote

    def create() -> None:  # private=None leaves the owner's default visibility
        api.create_repo(repo_id, repo_type=REPO_TYPE, private=private or None, exist_ok=True)

    _retrying("create repo", create)
    print(f"created {'private ' if private else ''}dataset repo {repo_id}")
    return read_remote(api, repo_id)


def _commit(api: HfApi, plan: Plan, message: str, create_pr: bool):
    ops = plan.operations()
    additions = [op for op in ops if isinstance(op, CommitOperationAdd)]
    # Large files go first; the commit that follows only points at them.
    _retrying(
        "pre-upload",
        lambda: api.preupload_lfs_files(plan.repo_id, additions, repo_type=REPO_TYPE, create_pr=create_pr),
    )
    return _retrying(
        "commit",
        lambda: api.create_commit(
            plan.repo_id,
            ops,
            commit_message=message,
            commit_description=plan.describe(),
            repo_type=REPO_TYPE,
            parent_commit=plan.head,
            create_pr=create_pr,
        ),
    )


def _first_row(source: Any) -> list[dict[str, Any]]:
    """The first row of a parquet file ([] when empty), reading only the start of each column."""
    parquet = pq.ParquetFile(source, pre_buffer=False, buffer_size=1 << 16)
    if not parquet.metadata.num_rows:
        return []
    return next(parquet.iter_batches(batch_size=1)).to_pylist()


def verify(repo_id: str, revision: str, build: Build, token: str | None) -> dict[str, str]:
    """Resolve each published config through the Hub as `load_dataset` does, check that it names
    exactly the files just committed, and read its first row back."""
    from datasets import load_dataset_builder
    from huggingface_hub import HfFileSystem

    fs = HfFileSystem(token=token)
    verified = {}
    for code, config in build.configs.items():
        resolved = load_dataset_builder(repo_id, code, revision=revision, token=token).config.data_files
        for split, paths in config["data_files"].items():
            there = sorted(url.split(f"@{revision}/", 1)[-1] for url in resolved.get(split, []))
            if there != sorted(paths):
                raise PublishError(
                    f"committed {revision[:12]}, but config {code!r} split {split!r} resolves to {there} on "
                    f"the Hub instead of {sorted(paths)}: check the repo's README `configs:` block"
                )
        first = next(iter(config["data_files"].values()))[0]
        with fs.open(f"datasets/{repo_id}@{revision}/{first}", "rb") as handle:
            got = _first_row(handle)
        expected = _first_row(build.folder / first)
        if got != expected:
            raise PublishError(
                f"committed {revision[:12]}, but {first} reads back differently from the local file; "
                "publish again, and report it if it persists"
            )
        verified[code] = str(expected[0].get("id", "row 0")) if expected else "(empty)"
    return verified


def publish(
    folder: str | Path,
    repo_id: str,
    *,
    langs: list[str] | None = None,
    create_pr: bool = False,
    dry_run: bool = False,
    private: bool = False,
    message: str | None = None,
) -> Published:
    """Publish `langs` (default: every language in the folder) of a build to `repo_id`."""
    _check_online()
    build = read_build(folder, langs)
    token = _token()
    if token is None and not dry_run:
        raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (write access needed)")
    if token is None:
        log.warning("no Hugging Face token: reading the Hub anonymously (a private repo looks missing)")
    api = HfApi(token=token, library_name="okapi", library_version=okapi.__version__)
    message = message or f"okapi {okapi.__version__}: publish {', '.join(sorted(build.configs))}"
    try:
        return _publish(api, build, repo_id, create_pr, dry_run, private, message, token)
    except HFValidationError as exc:
        raise PublishError(f"--repo {repo_id!r} is not a valid repo id (ORG/NAME): {exc}") from None
    except HfHubHTTPError as exc:
        raise _hub_error(exc, repo_id) from None
    except TransportError as exc:
        raise PublishError(
            f"could not reach the Hub ({type(exc).__name__}: {exc}); check the network or HF_ENDPOINT, then "
            "run the same command again: it sends only what the Hub does not have yet"
        ) from None


def _publish(
    api: HfApi,
    build: Build,
    repo_id: str,
    create_pr: bool,
    dry_run: bool,
    private: bool,
    message: str,
    token: str | None,
) -> Published:
    before = read_remote(api, repo_id)
    _check_remote_is_ours(before, build, repo_id)
    if dry_run:
        plan = make_plan(build, before, repo_id)
        if before.head is None:
            print(f"would create {'private ' if private else ''}dataset repo {repo_id}")
        print(plan.describe())
        print("dry run: nothing was uploaded or committed")
        return Published(repo_id, None, None, plan)
    remote = _ensure_repo(api, repo_id, private, before)
    before = remote if before.head is None else before
    for _ in range(MAX_REBASES + 1):
        plan = make_plan(build, remote, repo_id)
        if plan.empty:
            print(plan.describe())
            print(f"nothing to publish: {repo_id} already holds these files")
            return Published(repo_id, None, None, plan)
        print(plan.describe())
        try:
            info = _commit(api, plan, message, create_pr)
        except HfHubHTTPError as exc:
            if _status(exc) in (401, 403):
                raise _hub_error(exc, repo_id) from None
            if _status(exc) not in (409, 412):
                raise PublishError(
                    f"publishing failed ({exc}); nothing was committed: {repo_id} is still at "
                    f"{plan.head[:12]}. Run the same command again (uploaded files are reused)."
                ) from None
            remote = read_remote(api, repo_id)
            if remote.head is None:
                raise PublishError(f"{repo_id} was deleted while publishing; nothing was committed") from None
            _check_remote_is_ours(remote, build, repo_id)
            conflicts = _conflicts(before, remote, build)
            if conflicts:
                raise ConcurrentChangeError(
                    f"{repo_id} changed while publishing (was {plan.head[:12]}, now {remote.head[:12]}) and "
                    f"the new commit touches {', '.join(conflicts)}; nothing of this publish was committed. "
                    "Check the Hub's history, then run the same command again to publish on top of it "
                    "(add --dry-run to see what would change)."
                ) from None
            log.warning(
                "%s changed while publishing (was %s, now %s) in files of other languages only: "
                "re-planned on top of it",
                repo_id,
                plan.head[:12],
                remote.head[:12],
            )
            continue
        target = info.pr_url or info.commit_url
        print(f"committed {info.oid[:12]}: {target}")
        verified = verify(repo_id, info.oid, build, token)
        print("verified: " + ", ".join(f"{code} {row_id!r}" for code, row_id in verified.items()))
        return Published(repo_id, info.oid, target, plan, verified)
    raise ConcurrentChangeError(
        f"{repo_id} kept changing while publishing ({MAX_REBASES + 1} attempts); nothing was committed. "
        "Run the same command again when other publishers are done."
    )
