"""The contract kit itself: it passes a correct connector and catches each broken promise.

The sample suite runs in a separate pytest process (as a connector author's suite would),
and its JUnit report says which standard test failed for which variant.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SAMPLE = Path(__file__).parent / "samples" / "contract_sample.py"

# variant -> the standard tests that must fail for it (all others must pass or skip)
EXPECTED_FAILURES = {
    "TestGood": set(),
    "TestCollectsEveryone": {
        "test_collect_returns_only_that_subjects_data",
        "test_collect_of_an_unknown_person_is_empty",
        "test_erase_then_collect_finds_nothing_left",
        "test_erase_twice_is_harmless",
        "test_rectify_is_idempotent",
        "test_claimed_identifiers_find_nobody",
    },
    "TestSearchesByClaims": {
        "test_claimed_identifiers_find_nobody",
        "test_claimed_identifiers_change_nothing",
    },
    "TestErasesNothing": {
        "test_claimed_identifiers_change_nothing",
        "test_erase_then_collect_finds_nothing_left",
        "test_erase_only_the_requested_categories",
        "test_erase_twice_is_harmless",
        "test_held_data_survives_erasure",
    },
    "TestShowsPassword": {"test_secrets_never_leak"},
    "TestLogsEmails": {"test_no_personal_data_in_logs"},
    "TestInventsHoldCodes": {"test_holds_use_catalogue_codes"},
    "TestCrashesOnBadConfig": {"test_config_error_is_a_connector_config_error"},
    "TestIgnoresHolds": {"test_held_data_survives_erasure"},
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """class -> test -> passed/failed/skipped, from one run of the sample suite."""
    root = tmp_path_factory.mktemp("kit")
    shutil.copy(SAMPLE, root / "test_sample.py")
    (root / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    report = root / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            f"--junitxml={report}",
            "test_sample.py",
        ],
        cwd=root,
        capture_output=True,
        check=False,
        timeout=300,
    )
    result: dict[str, dict[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        cls = case.attrib["classname"].rsplit(".", 1)[-1]
        status = "passed"
        if case.find("failure") is not None or case.find("error") is not None:
            status = "failed"
        elif case.find("skipped") is not None:
            status = "skipped"
        result.setdefault(cls, {})[case.attrib["name"]] = status
    return result


@pytest.mark.parametrize("variant", sorted(EXPECTED_FAILURES))
def test_the_kit_fails_exactly_the_broken_promises(
    outcomes: dict[str, dict[str, str]], variant: str
) -> None:
    tests = outcomes.get(variant)
    assert tests, f"the sample suite produced no results for {variant}"
    failed = {name for name, status in tests.items() if status == "failed"}
    assert failed == EXPECTED_FAILURES[variant]


def test_a_correct_connector_runs_every_standard_test(outcomes: dict[str, dict[str, str]]) -> None:
    skipped = sorted(n for n, s in outcomes["TestGood"].items() if s == "skipped")
    assert skipped == [], "a connector declaring everything, with all fixtures, skips nothing"
    assert len(outcomes["TestGood"]) >= 20
