"""The public pages' Jinja2 environment (disinfo_db/jinja2.py) behaves as Django's templates."""

import datetime

from django.template import engines
from django.utils import timezone
from django.utils.safestring import mark_safe


def render(source, **context):
    return engines["jinja2"].from_string(source).render(context)


def test_dates_are_shown_in_the_current_time_zone_as_djangos_templates_show_them():
    moment = datetime.datetime(2022, 1, 10, 23, 30, tzinfo=datetime.UTC)

    with timezone.override("Europe/Vilnius"):
        shown = render("{{ moment|date('j F Y H:i') }}", moment=moment)

    assert shown == "11 January 2022 01:30"


def test_a_missing_value_and_its_attributes_render_as_nothing():
    assert render("[{{ case.issue.number }}]") == "[]"


def test_text_is_escaped_and_django_safe_strings_are_not():
    shown = render("{{ text }} {{ html }}", text="<b>", html=mark_safe("<i>x</i>"))

    assert shown == "&lt;b&gt; <i>x</i>"
