"""`creditflow check SPEC`: a spec checked whole, under its governed policy, and its data against the contract.

Nothing is trained and nothing is written: every problem of the spec is listed at once (`load_spec`), then every
problem of the data (`check_contract`), then whether the split can be made. Seconds, not a run.
"""

from __future__ import annotations

from pathlib import Path

from features.contract import check_contract, drop_unlabelled
from features.data import load_data
from features.policy import PolicySource
from features.spec import load_spec
from features.split import split_rows


def check_spec(path: str | Path, policies: PolicySource | None = None) -> list[str]:
    """What a good spec and its data come to, line by line; a SpecError or DataError listing every problem."""
    spec = load_spec(path, policies)
    loaded = load_data(spec, path)
    frame, dropped = drop_unlabelled(loaded.frame, spec)
    checked = check_contract(frame, spec, loaded.unread)
    split = split_rows(checked.target, spec.split, checked.time)
    sizes = ", ".join(f"{name} {len(rows):,}" for name, rows in split.samples().items())
    governing = spec.governing.label if spec.governing is not None else "none"
    lines = [
        f"{path}: spec and data contract OK under policy {governing}",
        f"data {loaded.source}: {len(checked.target):,} rows, {int(checked.target.sum()):,} defaults "
        f"({checked.target.mean():.1%}); split {spec.split.method}: {sizes}",
        f"features: {len(spec.features.numeric)} numeric, {len(spec.features.categorical)} categorical; "
        f"sensitive: {', '.join(spec.data.sensitive_names()) or 'none'}; pii (never read): "
        f"{', '.join(spec.data.pii) or 'none'}",
    ]
    if dropped:
        lines.append("rows without an outcome dropped: " + ", ".join(f"{k} {v:,}" for k, v in dropped.items()))
    return lines + [f"warning: {w}" for w in [*loaded.warnings, *checked.warnings]]
