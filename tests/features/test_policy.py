"""The governed policy: loaded and validated from its file, a spec may tighten it but never loosen it."""

import mlflow
import pytest
import yaml
from click.testing import CliRunner

from features.errors import SpecError
from features.policy import BUILTIN, StoredPolicySource, governing
from features.policy_rules import FIXED, FREE, HIGHER, LOWER, rule_for
from features.spec import load_spec
from pipelines.cli import cli
from tests.conftest import GERMAN_SPEC, POLICY, write_policy, write_spec

NUMERIC = yaml.safe_load(GERMAN_SPEC.read_text())["features"]["numeric"]


def refused(path) -> str:
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_the_shipped_specs_are_judged_under_the_shipped_policy():
    for name in ("german_credit.yaml", "consumer_loans.yaml"):
        spec = load_spec(GERMAN_SPEC.parent / name)
        assert spec.governing.label == "consumer-credit v2"
        assert spec.governing.digest == governing(yaml.safe_load(POLICY.read_text()), "x").digest
        assert spec.policy.fairness.min_air == 0.8 and spec.policy.performance.minimum == {"auc": 0.7, "ks": 0.3}
    assert load_spec(GERMAN_SPEC.parent / "consumer_loans.yaml").policy.performance.maximum == {"brier": 0.15}


def test_the_relaxed_spec_trick_is_refused(tmp_path):
    """The issue's story: the author lowers min_air to 0.5 in the spec with a 'business necessity' rationale."""
    spec = write_spec(tmp_path, **{"policy.fairness.min_air": 0.5})
    message = refused(spec)
    assert str(spec) in message
    assert "policy.fairness.min_air: 0.5 is looser than the policy's 0.8 (a spec may only raise it)" in message
    assert "policy consumer-credit v2" in message
    rationale = write_spec(tmp_path, **{"policy.fairness.rationale": "business necessity"})
    assert "policy.fairness.rationale: 'business necessity' differs from the policy's" in refused(rationale)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("policy.fairness.max_dp_difference", 0.2, "is looser than the policy's 0.1 (a spec may only lower it)"),
        ("policy.fairness.max_eo_difference", 0.11, "policy.fairness.max_eo_difference: 0.11 is looser"),
        ("policy.performance.minimum", {"auc": 0.65}, "policy.performance.minimum.auc: 0.65 is looser than"),
        ("policy.performance.max_baseline_uplift", 0.2, "policy.performance.max_baseline_uplift: 0.2"),
        ("policy.stability.alert", 0.3, "policy.stability.alert: 0.3 is looser than the policy's 0.25"),
        ("policy.stability.warn", 0.2, "policy.stability.warn: 0.2 is looser"),
        ("policy.fairness.min_group_size", 100, "policy.fairness.min_group_size: 100 is looser than the policy's 30"),
        ("policy.fairness.confidence", 0.9, "policy.fairness.confidence: 0.9 is looser"),
        ("policy.fairness.intersections", False, "policy.fairness.intersections: false is looser"),
        ("policy.fairness.proxy_auc", 0.8, "policy.fairness.proxy_auc: 0.8 is looser"),
    ],
)
def test_a_looser_limit_is_one_line_naming_the_key_and_the_policy_value(tmp_path, key, value, message):
    assert message in refused(write_spec(tmp_path, **{key: value}))


def test_a_spec_may_tighten_and_set_what_is_not_a_limit(tmp_path):
    spec = load_spec(
        write_spec(
            tmp_path,
            **{
                "policy.fairness.min_air": 0.9,
                "policy.fairness.max_dp_difference": 0.05,
                "policy.fairness.min_group_size": 20,
                "policy.fairness.n_boot": 20,
                "policy.performance.minimum": {"auc": 0.75},
                "policy.performance.maximum": {"brier": 0.2},
                "policy.stability.alert": 0.2,
                "policy.cutoff": 0.3,
            },
        )
    )
    fairness = spec.policy.fairness
    assert (fairness.min_air, fairness.max_dp_difference, fairness.min_group_size) == (0.9, 0.05, 20)
    assert spec.policy.performance.minimum == {"auc": 0.75} and spec.policy.performance.maximum == {"brier": 0.2}
    assert spec.policy.stability.alert == 0.2 and spec.policy.cutoff == 0.3
    assert fairness.max_eo_difference == 0.1  # not overridden: the policy's


def test_a_spec_cannot_drop_a_policy_minimum(tmp_path):
    spec = load_spec(write_spec(tmp_path, **{"policy.performance.minimum": {"ks": 0.2}}))
    assert spec.policy.performance.minimum == {"auc": 0.7, "ks": 0.2}


def test_a_cutoff_the_policy_states_is_fixed(tmp_path):
    write_policy(tmp_path, **{"limits.cutoff": 0.4})
    assert load_spec(write_spec(tmp_path, **{"policy.name": "test-policy", "policy.cutoff": None})).policy.cutoff == 0.4
    message = refused(write_spec(tmp_path, **{"policy.name": "test-policy", "policy.cutoff": 0.5}))
    assert "policy.cutoff: 0.5 differs from the policy's 0.4 (set by the policy; a spec may not change it)" in message


def test_a_spec_without_a_policy_name_is_judged_under_the_builtin_policy(tmp_path):
    spec = load_spec(write_spec(tmp_path, **{"policy.name": None}))
    assert spec.governing.label == "creditflow-default v1" and spec.governing.origin == "built-in"
    assert "policy creditflow-default v1" in refused(
        write_spec(tmp_path, **{"policy.name": None, "policy.fairness.min_air": 0.5})
    )


def test_a_spec_naming_a_policy_file_is_refused_saying_what_to_write(tmp_path):
    """The issue's trick: the author's own file, named like the lender's policy, with min_air 0.5."""
    forged = tmp_path / "forged.yaml"
    forged.write_text(yaml.safe_dump({**yaml.safe_load(POLICY.read_text()), "limits": {"fairness": {"min_air": 0.5}}}))
    message = refused(write_spec(tmp_path, **{"policy.file": str(forged), "policy.name": None}))
    assert "policy.file: a spec names its governed policy, never a file: write `policy: {name: NAME}`" in message


@pytest.mark.parametrize("name", ["../consumer-credit", "/etc/passwd", ".hidden", 7])
def test_a_policy_name_is_a_name_not_a_path(tmp_path, name):
    assert "policy.name: expected the name of a governed policy" in refused(
        write_spec(tmp_path, **{"policy.name": name})
    )


def test_a_policy_file_naming_another_policy_is_refused(tmp_path):
    path = write_policy(tmp_path, "consumer-credit")
    path.write_text(path.read_text().replace("name: consumer-credit", "name: other"))
    assert "names policy 'other', not 'consumer-credit'" in refused(write_spec(tmp_path))


@pytest.mark.parametrize(
    "path, expected",
    [
        ("fairness.min_air", HIGHER),
        ("performance.minimum.auc", HIGHER),
        ("performance.maximum.brier", LOWER),
        ("performance.min_decline_rate", HIGHER),  # limits another change adds are covered by their names
        ("performance.max_decline_rate", LOWER),
        ("calibration.max_ece", LOWER),
        ("leakage.max_single_feature_auc", LOWER),
        ("stability.alert", LOWER),
        ("fairness.min_group_size", LOWER),
        ("fairness.mitigation.max_iter", FREE),
        ("fairness.n_boot", FREE),
        ("leakage.method", FIXED),  # no rule: fixed (fail closed)
    ],
)
def test_direction_rules(path, expected):
    assert rule_for(path) == expected


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no governed policy 'x' in the policy folder"),
        ("name: x\nlimits: [unclosed\n", "invalid YAML at line"),
        ("- a\n- b\n", "expected a mapping of policy keys"),
        ("name: x\nversion: '1'\nlimits: {fairness: {min_ari: 0.8}}\n", "unknown key 'limits.fairness.min_ari'"),
        ("name: x\nversion: '1'\ncolour: blue\n", "unknown key 'colour'"),
        ("name: x\nlimits: {}\n", "missing required key 'version'"),
        ("name: x\nversion: '1'\nexceptions: {max_days: 0}\n", "exceptions.max_days"),
    ],
)
def test_a_bad_policy_file_is_one_line_naming_it(tmp_path, content, message):
    (tmp_path / "policies").mkdir()
    policy = tmp_path / "policies" / "x.yaml"
    if content is not None:
        policy.write_text(content)
    error = refused(write_spec(tmp_path, **{"policy.name": "x"}))
    assert message in error and str(policy) in error


def test_a_prohibited_feature_is_refused(tmp_path):
    categorical = yaml.safe_load(GERMAN_SPEC.read_text())["features"]["categorical"] + ["personal_status_and_sex"]
    spec = write_spec(
        tmp_path,
        **{
            "data.sensitive": ["foreign_worker"],
            "features.categorical": categorical,
            "reasons.personal_status_and_sex": "Personal status",
        },
    )
    message = refused(spec)
    assert "feature(s) prohibited by policy consumer-credit v2: 'personal_status_and_sex' (pattern" in message


def test_a_version_is_read_back_under_its_stored_policy(tmp_path):
    """Monitoring reads a version's spec with the policy logged beside it, whatever the file says today."""
    policy = write_policy(tmp_path, **{"limits.fairness.min_air": 0.7})
    path = write_spec(tmp_path, **{"policy.name": "test-policy"})
    spec = load_spec(path)
    policy.unlink()
    again = load_spec(path, StoredPolicySource(spec.governing.document))
    assert again.policy == spec.policy and again.governing.digest == spec.governing.digest


def test_the_builtin_policy_is_valid():
    assert governing(BUILTIN, "built-in").policy.limits.fairness.min_air == 0.8


@pytest.mark.parametrize(
    "changes, policy, message",
    [
        ({"policy.fairness.min_air": 0.5}, None, "is looser than the policy's 0.8"),
        ({"policy.name": "no-such-policy"}, None, "no governed policy 'no-such-policy' in the policy folder"),
        ({"policy.file": "my-policy.yaml"}, None, "policy.file: a spec names its governed policy, never a file"),
        ({}, "name: x\nlimits: [unclosed\n", "invalid YAML"),
        ({}, "name: x\nversion: '1'\nlimits: {fairness: {min_ari: 0.8}}\n", "unknown key 'limits.fairness.min_ari'"),
        (
            {"features.numeric": NUMERIC + ["marital_status"], "reasons.marital_status": "Marital status"},
            None,
            "feature(s) prohibited by policy consumer-credit v2: 'marital_status' (pattern '*marital*')",
        ),
    ],
)
def test_run_refuses_before_writing_anything(tmp_path, tracking_uri, changes, policy, message):
    if policy is not None:
        (tmp_path / "policies").mkdir(exist_ok=True)
        (tmp_path / "policies" / "x.yaml").write_text(policy)
        changes = {"policy.name": "x"}
    spec = write_spec(tmp_path, **changes)
    result = CliRunner().invoke(cli, ["run", str(spec)])
    assert result.exit_code == 2 and result.output.startswith("error: ") and result.output.count("\n") == 1
    assert message in result.output
    assert [e.name for e in mlflow.MlflowClient(tracking_uri).search_experiments()] == ["Default"]
