"""Where `creditflow spec init` reads and writes: the data file, the project's governed policies, the new spec."""

from __future__ import annotations

import os
import re
from pathlib import Path

from features.data import read_table
from features.errors import SpecError
from features.policy import BUILTIN, FolderPolicySource, policy_folder
from features.spec_draft import draft, render


def init_spec(data: str | Path, target: str, positive: str | None, out: str | Path) -> str:
    """Draft a spec for `data` into `out` (never over an existing file); one line saying what was drafted."""
    data, out = Path(data), Path(out)
    if out.suffix not in (".yaml", ".yml"):
        raise SpecError(f"{out}: a spec is a .yaml file")
    if out.exists():
        raise SpecError(f"{out} exists: spec init never overwrites a spec; choose another name")
    if not out.parent.is_dir():
        raise SpecError(f"{out.parent}: no such folder")
    frame = read_table(data)
    policies = FolderPolicySource(policy_folder(out.parent))
    names = policies.names()
    policy = "consumer-credit" if "consumer-credit" in names else (names[0] if names else None)
    prohibited = policies.load(policy).policy.prohibited_features if policy else list(BUILTIN["prohibited_features"])
    drafted = draft(frame, target, positive, prohibited)
    source = os.path.relpath(data.resolve(), out.parent.resolve())
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", data.stem) or "credit_model"
    text = render(drafted, name, source, policy, [n for n in names if n != policy])
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(out)  # the spec appears whole or not at all
    stubs = len(drafted.numeric) + len(drafted.categorical)
    return (
        f"drafted {out}: {len(drafted.numeric)} numeric and {len(drafted.categorical)} categorical feature(s), "
        f"{len(drafted.pii)} pii, {len(drafted.sensitive)} sensitive, split "
        f"{'out_of_time' if drafted.dates else 'random'}, policy {policy or 'creditflow-default'}; write the "
        f"{stubs} reason text(s) marked TODO, then: creditflow check {out}"
    )
