"""census.templatetags: the select options helper."""

from __future__ import annotations

from django.template import Context, Template


def render(choices: object, selected: object) -> str:
    template = Template("{% load census_forms %}{% options choices selected %}")
    return template.render(Context({"choices": choices, "selected": selected}))


def test_options_escape_values_and_labels_and_mark_the_selected_one_by_its_text() -> None:
    html = render([(7, '"><img src=x onerror=alert(1)>'), (12, "王伟 (enum_a1)"), ("a&b", "<b>")], "12")
    assert html == (
        '<option value="7">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</option>'
        '<option value="12" selected>王伟 (enum_a1)</option>'
        '<option value="a&amp;b">&lt;b&gt;</option>'
    )


def test_nothing_selected_and_nothing_to_choose() -> None:
    assert "selected" not in render([(1, "一"), (2, "二")], None)
    assert render([], "1") == ""
    assert render("", "") == ""  # a variable the context lacks renders as "": no options
