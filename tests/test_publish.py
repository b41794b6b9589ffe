"""Publishing against a fake Hub on 127.0.0.1, through the real huggingface_hub client.

Every call that talks to the Hub runs in a child process (tests/hub_client.py) started with
HF_ENDPOINT pointing at the fake and the offline flags unset: huggingface_hub reads both when it
is first imported, and this process imported it offline. Set-up that needs no Hub client (a
build, seeding the fake with a previous publish) runs here.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from conftest import SAMPLE, make_client
from fakehub import FakeHub, validate_card

from okapi.build import build
from okapi.builders import get_builder
from okapi.cli import main
from okapi.languages import parse_languages
from okapi.offline.server import OfflineServer
from okapi.sources import load_source

BUILDER = get_builder("instructions")
SMALL_SHARDS = dataclasses.replace(BUILDER, max_rows_per_shard=5)  # 18 rows → 4 shards per language
REPO_ID = "okapi-org/okapi-instructions"
TOKEN = "hf_okapiTestToken" + "7Qx2Lm9Zr4Vb"
CLIENT = Path(__file__).with_name("hub_client.py")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """vi and fr built from the sample into 4 shards each; the response cache is kept."""
    root = tmp_path_factory.mktemp("built")
    server = OfflineServer().start_in_thread()
    try:
        loaded = load_source(str(SAMPLE), BUILDER.source)
        client = make_client(server, root / "cache")
        build(SMALL_SHARDS, loaded, parse_languages("vi,fr"), root / "out", client, progress=False)
    finally:
        server.stop()
    return root


@pytest.fixture
def folder(built: Path, tmp_path: Path) -> Path:
    shutil.copytree(built / "out", tmp_path / "out")
    return tmp_path / "out"


@pytest.fixture
def hub():
    hub = FakeHub().start()
    yield hub
    hub.stop()


def child_env(hub: FakeHub, tmp_path: Path, token: str | None = TOKEN, **extra: str) -> dict[str, str]:
    drop = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        HF_ENDPOINT=hub.url,
        HF_HUB_DISABLE_XET="1",  # no Xet storage in the fake: LFS goes through the batch API
        HF_HOME=str(tmp_path / "hf-home"),
        HF_HUB_DISABLE_PROGRESS_BARS="1",
    )
    if token:
        env["HF_TOKEN"] = token
    return {**env, **extra}


def publish(
    hub: FakeHub, tmp_path: Path, folder: Path, *extra: str, verbose: bool = False, **env: str
) -> subprocess.CompletedProcess:
    flags = ["-v"] if verbose else []
    cmd = [sys.executable, str(CLIENT), "okapi", *flags, "publish", str(folder), "--repo", REPO_ID, *extra]
    env = child_env(hub, tmp_path, **env)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def load_through_hub(hub: FakeHub, tmp_path: Path, config: str) -> dict:
    cmd = [sys.executable, str(CLIENT), "load", REPO_ID, config]
    done = subprocess.run(cmd, env=child_env(hub, tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def seed(hub: FakeHub, folder: Path, langs: list[str]) -> str:
    """Put `langs` on the fake Hub exactly as a publish would commit them (fast set-up)."""
    from okapi.publish import Remote, make_plan, read_build

    plan = make_plan(read_build(folder, langs), Remote(head=None), REPO_ID)
    hub.create(REPO_ID, private=False)
    files = {f.path: f.content.read_bytes() if isinstance(f.content, Path) else f.content for f in plan.add}
    return hub.commit(REPO_ID, files, message="seed")


def local_files(folder: Path, prefix: str) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted((folder / prefix).glob("*.parquet"))}


def of_config(files: dict[str, bytes], code: str) -> dict[str, bytes]:
    return {p: b for p, b in files.items() if p.startswith(f"{code}/") or p == f"rejects/{code}.jsonl"}


def test_card_metadata_validates_and_describes_the_build(built: Path):
    from datasets import load_dataset
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard

    readme = (built / "out" / "README.md").read_text()
    validate_card(readme)  # the fake Hub's checks of the metadata
    data = DatasetCard(readme).data
    assert data.language == ["fr", "vi"] and data.license == "cc-by-nc-4.0"
    assert data.size_categories == ["n<1K"] and data.task_categories == ["text-generation"]
    assert data.pretty_name == "Okapi multilingual instructions"
    configs = MetadataConfigs.from_dataset_card_data(data)  # what load_dataset reads
    assert configs["vi"]["data_files"] == [{"split": "train", "path": "vi/train-*.parquet"}]
    infos = DatasetInfosDict.from_dataset_card_data(data)
    assert infos["fr"].splits["train"].num_examples == 18
    assert "messages" in infos["vi"].features and "lang_id_confidence" in infos["vi"].features
    # Prose: what built it, the per-language table with medians, limitations, how to load, citation.
    assert re.search(r"\| `vi` \| Vietnamese \| high \| train 18 \| 18/18 \| 100\.0% \|", readme)
    table = [
        line.split("|")[1:-1]
        for line in readme.split("## Quality scores")[1].splitlines()
        if line.startswith("|")
    ]
    medians = {name.strip(" `"): value.strip() for name, value in zip(table[0], table[2], strict=True)}
    assert medians["config"] == "`fr`" and medians["script_fraction"] == "1"
    assert "- `lang_id_confidence`: `lang_id_v" in readme  # each score names the check behind it
    assert "translator = `offline`" in readme and re.search(r"translate = `[0-9a-f]{12}`", readme)
    assert "okapi 0.1.0" in readme and f"`{BUILDER.checks[0]!r}`" in readme  # checks with thresholds
    assert re.search(r"Source: `sample_en\.jsonl` \(records sha256 `[0-9a-f]{16}`\)", readme)
    assert "/work/" not in readme and "## Limitations" in readme and "@article{lai2023okapi" in readme
    assert 'load_dataset("<org>/okapi-instructions", "fr")' in readme
    # The dataset_info block is exact: load_dataset verifies split sizes against it.
    assert load_dataset(str(built / "out"), "vi")["train"].num_rows == 18


def test_publish_verifies_loads_through_the_hub_and_never_leaks_the_token(hub, folder, tmp_path):
    dry = publish(hub, tmp_path, folder, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert (
        "would create dataset repo" in dry.stdout
        and "+ add      vi/train-00003-of-00004.parquet" in dry.stdout
    )
    assert REPO_ID not in hub.repos, "a dry run creates nothing"

    # -v and HF_DEBUG: the most verbose logging there is, to show the token stays out of it.
    done = publish(
        hub, tmp_path, folder, "--private", "--message", "first publish", verbose=True, HF_DEBUG="1"
    )
    assert done.returncode == 0, done.stderr
    assert "created private dataset repo" in done.stdout
    assert "verified: fr 'sample-01', vi 'sample-01'" in done.stdout
    assert hub.repos[REPO_ID].private
    history = hub.history(REPO_ID)
    assert [c.message for c in history] == ["initial commit", "first publish"]  # one atomic commit
    remote = hub.files(REPO_ID)
    assert of_config(remote, "vi") == {
        **local_files(folder, "vi"),
        "rejects/vi.jsonl": (folder / "rejects" / "vi.jsonl").read_bytes(),
    }
    stats = json.loads(remote["stats.json"])
    assert stats["languages"]["vi"]["config"]["medians"]["lang_id_confidence"] == 1.0

    vi = load_through_hub(hub, tmp_path, "vi")
    assert vi["configs"] == ["fr", "vi"] and vi["rows"] == {"train": 18} and vi["first_id"] == "sample-01"
    assert {"instruction", "messages", "lang_id_confidence"} <= set(vi["columns"])

    # The token was sent to the Hub, and written or printed nowhere.
    assert f"Bearer {TOKEN}" in hub.authorizations
    assert TOKEN not in dry.stdout + dry.stderr + done.stdout + done.stderr
    for root in (folder, tmp_path / "hf-home"):
        for path in root.rglob("*"):
            assert not path.is_file() or TOKEN.encode() not in path.read_bytes(), path
    for commit in hub.repos[REPO_ID].commits.values():
        assert all(TOKEN.encode() not in data for data, _ in commit.files.values())
    # Nor does a local path of the build machine reach the public repo.
    assert str(SAMPLE.parent).encode() not in remote["stats.json"] + remote["README.md"]


def test_regenerate_one_language_keeps_every_other_file_byte_identical(
    hub, folder, built, tmp_path, offline_server
):
    seed(hub, folder, ["fr", "vi"])
    before = hub.files(REPO_ID)
    old_vi = sorted(p for p in before if p.startswith("vi/"))
    assert len(old_vi) == 4

    # Rebuild vi alone with the default rows per file: its units are finished, so nothing is asked.
    server = offline_server()
    client = make_client(server, built / "cache")
    loaded = load_source(str(SAMPLE), BUILDER.source)
    build(BUILDER, loaded, parse_languages("vi"), folder, client, progress=False)
    assert server.stats.answered_keys == [] and client.usage.roles == {}

    dry = publish(hub, tmp_path, folder, "--langs", "vi", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "kept as on the Hub: fr" in dry.stdout
    assert "+ add      vi/train-00000-of-00001.parquet" in dry.stdout
    assert all(f"- delete   {p}" in dry.stdout for p in old_vi)
    assert "~ replace  README.md" in dry.stdout and "fr/" not in dry.stdout
    assert hub.files(REPO_ID) == before

    done = publish(hub, tmp_path, folder, "--langs", "vi")
    assert done.returncode == 0, done.stderr
    assert "verified: vi 'sample-01'" in done.stdout
    last = hub.history(REPO_ID)[-1]
    assert not any(p.startswith("fr/") or p == "rejects/fr.jsonl" for p in last.touched)
    after = hub.files(REPO_ID)
    assert of_config(after, "fr") == of_config(before, "fr")  # byte-identical
    assert sorted(p for p in after if p.startswith("vi/")) == ["vi/train-00000-of-00001.parquet"]
    old_stats, new_stats = json.loads(before["stats.json"]), json.loads(after["stats.json"])
    assert new_stats["languages"]["fr"] == old_stats["languages"]["fr"]
    assert new_stats["languages"]["vi"]["config"]["data_files"] == {
        "train": ["vi/train-00000-of-00001.parquet"]
    }
    assert "config_name: fr" in after["README.md"].decode()


def test_a_killed_or_failing_publish_changes_nothing_and_a_rerun_completes(hub, folder, tmp_path):
    head = seed(hub, folder, ["fr"])
    before = hub.files(REPO_ID)

    # 1. Killed while uploading the shards: the commit was never sent.
    in_upload, release = threading.Event(), threading.Event()

    def stall() -> None:
        in_upload.set()
        release.wait(30)

    hub.on("PUT", r"^/lfs-put/", stall)
    cmd = [sys.executable, str(CLIENT), "okapi", "publish", str(folder), "--repo", REPO_ID, "--langs", "vi"]
    child = subprocess.Popen(
        cmd, env=child_env(hub, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert in_upload.wait(60), "the publish never reached the upload"
        child.kill()
        child.wait(10)
    finally:
        release.set()
    assert hub.head(REPO_ID) == head and hub.files(REPO_ID) == before

    # 2. The commit keeps failing: retried, then reported; still nothing changed.
    hub.fail("POST", r"/commit/main$", 500, times=5)
    failed = publish(hub, tmp_path, folder, "--langs", "vi")
    assert failed.returncode == 2
    assert f"nothing was committed: {REPO_ID} is still at {head[:12]}" in failed.stderr
    assert failed.stderr.count("commit: HTTP 500, retry") == 4
    assert hub.head(REPO_ID) == head and hub.files(REPO_ID) == before

    # 3. Running the same command again publishes, through transient errors (429 and 5xx are
    # retried, honouring Retry-After) and reusing the shards already uploaded.
    hub.fail("GET", r"^/api/datasets/okapi-org/okapi-instructions$", 503)
    hub.fail("POST", r"/commit/main$", 429)
    hub.fail("POST", r"/commit/main$", 502)
    puts = sum(1 for method, _ in hub.requests if method == "PUT")
    done = publish(hub, tmp_path, folder, "--langs", "vi")
    assert done.returncode == 0, done.stderr
    assert "read repo: HTTP 503, retry 1/4" in done.stderr
    assert "commit: HTTP 429, retry 1/4" in done.stderr and "commit: HTTP 502, retry 2/4" in done.stderr
    assert sum(1 for method, _ in hub.requests if method == "PUT") == puts
    assert set(hub.files(REPO_ID)) >= {"fr/train-00000-of-00004.parquet", "vi/train-00003-of-00004.parquet"}
    assert len(hub.history(REPO_ID)) == 3  # initial, seed, this publish


def test_a_concurrent_commit_to_the_same_config_is_detected_and_reported(hub, folder, tmp_path):
    seed(hub, folder, ["fr"])
    theirs: list[str] = []
    hub.on("POST", r"/preupload/", lambda: theirs.append(hub.commit(REPO_ID, {"vi/notes.txt": b"mine"})))
    done = publish(hub, tmp_path, folder, "--langs", "vi")
    assert done.returncode == 2
    assert "changed while publishing" in done.stderr and "touches vi/notes.txt" in done.stderr
    assert "nothing of this publish was committed" in done.stderr
    assert hub.head(REPO_ID) == theirs[0]  # their commit stands, ours was not forced over it
    assert not any(p.startswith("vi/train") for p in hub.files(REPO_ID))


def test_a_concurrent_commit_to_another_config_is_merged(hub, folder, tmp_path):
    seed(hub, folder, ["fr"])
    changed = {
        "fr/train-00000-of-00004.parquet": (folder / "vi" / "train-00000-of-00004.parquet").read_bytes()
    }
    hub.on("POST", r"/preupload/", lambda: hub.commit(REPO_ID, changed, message="theirs"))
    done = publish(hub, tmp_path, folder, "--langs", "vi")
    assert done.returncode == 0, done.stderr
    assert "changed while publishing" in done.stderr and "re-planned on top of it" in done.stderr
    assert hub.history(REPO_ID)[-2].message == "theirs"
    files = hub.files(REPO_ID)
    assert files["fr/train-00000-of-00004.parquet"] == changed["fr/train-00000-of-00004.parquet"]
    assert "vi/train-00000-of-00004.parquet" in files


def test_pr_leaves_main_alone(hub, folder, tmp_path):
    head = seed(hub, folder, ["fr"])
    done = publish(hub, tmp_path, folder, "--langs", "vi", "--pr")
    assert done.returncode == 0, done.stderr
    assert f"/datasets/{REPO_ID}/discussions/1" in done.stdout and "verified: vi" in done.stdout
    assert hub.head(REPO_ID) == head
    assert "vi/train-00000-of-00004.parquet" in hub.files(REPO_ID, "refs/pr/1")


def test_errors_say_the_fix(folder, monkeypatch, capsys):
    args = ["publish", str(folder), "--repo", REPO_ID]
    assert main(args) == 2  # conftest sets HF_HUB_OFFLINE for the whole test session
    assert "HF_HUB_OFFLINE is set" in capsys.readouterr().err
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert main([*args, "--langs", "vi,de"]) == 2
    err = capsys.readouterr().err
    assert "de not built in" in err and "(built: fr, vi)" in err and "--langs de" in err
    assert main(args) == 2
    assert "no Hugging Face token: set HF_TOKEN or run `hf auth login`" in capsys.readouterr().err
    (folder / "vi" / "train-00003-of-00004.parquet").unlink()
    assert main([*args, "--langs", "vi"]) == 2
    assert "rebuild vi before publishing" in capsys.readouterr().err


def test_a_repo_okapi_did_not_write_is_refused(folder):
    from okapi.publish import PublishError, Remote, RemoteFile, _check_remote_is_ours, read_build

    build_ = read_build(folder)
    foreign = Remote(
        "a" * 40, {"data.csv": RemoteFile("0" * 40, None, 3), "README.md": RemoteFile("1" * 40, None, 3)}
    )
    with pytest.raises(
        PublishError, match="has files okapi did not publish .*data.csv.*publish to a new repo"
    ):
        _check_remote_is_ours(foreign, build_, REPO_ID)
    other = Remote("a" * 40, {}, {"builder": "rankings", "languages": {}})
    with pytest.raises(PublishError, match="holds the 'rankings' dataset"):
        _check_remote_is_ours(other, build_, REPO_ID)
    _check_remote_is_ours(
        Remote("a" * 40, {".gitattributes": RemoteFile("2" * 40, None, 1)}), build_, REPO_ID
    )


def test_the_card_merges_languages_and_keys_already_on_the_hub(folder):
    from okapi.publish import Remote, RemoteFile, make_plan, read_build

    first = make_plan(read_build(folder, ["fr"]), Remote(head=None), REPO_ID)
    stats = json.loads(next(f.content for f in first.add if f.path == "stats.json"))
    # On the Hub: de (published from another machine) and a key a maintainer added to the card.
    de = json.loads(json.dumps(stats["languages"]["fr"]).replace('"fr/', '"de/'))
    remote = Remote(
        "a" * 40,
        files={"de/train-00000-of-00001.parquet": RemoteFile("0" * 40, "1" * 64, 10)},
        stats={**stats, "languages": {"de": de, "ru": de}},  # ru has no files left: dropped
        metadata={"viewer": True, "license": "mit", "configs": []},
    )
    plan = make_plan(read_build(folder, ["vi"]), remote, REPO_ID)
    assert plan.langs == ["vi"] and plan.kept_langs == ["de"] and plan.delete == []
    readme = next(f.content for f in plan.add if f.path == "README.md").decode()
    meta = yaml.safe_load(readme.split("---")[1])
    assert meta["viewer"] is True and meta["license"] == "cc-by-nc-4.0"  # kept; okapi's own key wins
    assert [c["config_name"] for c in meta["configs"]] == ["de", "vi"] and meta["language"] == ["de", "vi"]
    assert "| `de` | German |" in readme and f'load_dataset("{REPO_ID}", "de")' in readme
