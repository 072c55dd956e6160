"""Resolve a model name or path to a local folder, offline only.

A path is used as it is. A hub-style id (``bert-base-uncased``, ``org/name``) is looked up in an
existing local Hugging Face cache (``HF_HUB_CACHE``, ``HF_HOME/hub``, ``~/.cache/huggingface/hub``);
nothing is ever downloaded, and a miss names every path that was tried.
"""

from __future__ import annotations

import os
from pathlib import Path


def hub_cache_dirs() -> list[Path]:
    """The Hugging Face cache folders to search, in the order transformers uses them."""
    dirs = []
    if os.environ.get("HF_HUB_CACHE"):
        dirs.append(Path(os.environ["HF_HUB_CACHE"]))
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):
        dirs.append(Path(os.environ["HUGGINGFACE_HUB_CACHE"]))
    if os.environ.get("HF_HOME"):
        dirs.append(Path(os.environ["HF_HOME"]) / "hub")
    xdg = os.environ.get("XDG_CACHE_HOME")
    dirs.append(Path(xdg) / "huggingface" / "hub" if xdg else Path.home() / ".cache/huggingface/hub")
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def _snapshot_in_cache(cache: Path, repo_id: str, revision: str | None) -> Path | None:
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    if not repo.is_dir():
        return None
    ref = repo / "refs" / (revision or "main")
    if ref.is_file():
        commit = ref.read_text().strip()
        # The ref file is data: a name that climbs out of snapshots/ would load someone else's folder.
        if not commit or Path(commit).name != commit or commit in (".", ".."):
            raise OSError(
                f"{ref} should hold a commit hash but holds {commit[:80]!r}; delete {repo} and fetch it again"
            )
        snap = repo / "snapshots" / commit
        if snap.is_dir():
            return snap
    if revision and (repo / "snapshots" / revision).is_dir():
        return repo / "snapshots" / revision
    snaps = sorted((repo / "snapshots").glob("*"), key=lambda p: p.stat().st_mtime)
    return snaps[-1] if snaps else None


def resolve_pretrained_dir(name_or_path: str | os.PathLike, revision: str | None = None) -> Path:
    """Return the local folder holding ``name_or_path``'s files, or raise OSError naming the tries.

    Never downloads: clearformer works offline by design (the course's most common failure was a
    blocked download), so a hub id must already be in a local cache.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    tried = [str(path.resolve())]
    name = str(name_or_path)
    looks_like_id = name.count("/") <= 1 and not name.startswith((".", "/", "~"))
    if looks_like_id:
        for cache in hub_cache_dirs():
            snap = _snapshot_in_cache(cache, name, revision)
            if snap is not None:
                return snap
            tried.append(str(cache / ("models--" + name.replace("/", "--"))))
    raise OSError(
        f"cannot find a local model folder for {name!r}; tried: {', '.join(tried)}. "
        "clearformer never downloads: pass the path of a folder with config.json and the weights, "
        "or put the model in a Hugging Face cache (HF_HOME) first."
    )
