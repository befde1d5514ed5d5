"""The registry's description helper: one labelled paragraph per step, the others kept."""

from pipelines.tracking.registry import replace_part


def test_a_part_is_appended_then_replaced_in_place_keeping_the_others():
    first = replace_part("Gates: all passed.", "Monitoring:", "window 2025-11 is OK.")
    assert first == "Gates: all passed.\n\nMonitoring: window 2025-11 is OK."
    review = replace_part(first, "Review page:", "see review.html.")
    again = replace_part(review, "Monitoring:", "window 2025-12 is ALERT.")
    assert again.split("\n\n") == [
        "Gates: all passed.",
        "Monitoring: window 2025-12 is ALERT.",
        "Review page: see review.html.",
    ]


def test_an_empty_description_gets_just_the_part():
    assert replace_part("", "Monitoring:", "window 2025-12 is OK.") == "Monitoring: window 2025-12 is OK."


def test_a_first_part_opens_the_description_once():
    described = replace_part("**Review page**: author's.\n\nGates: all passed.", "**Validated**", "by val: page.")
    moved = replace_part(described, "**Validated**", "by val2: page.", first=True)
    assert moved.splitlines()[0] == "**Validated** by val2: page."
    assert moved.count("**Validated**") == 1 and "Gates: all passed." in moved
