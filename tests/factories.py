import datetime

import factory

from cases.models import Appearance, Case, Country, Issue, Keyword, Language, Outlet
from cases.services import editing


class KeywordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Keyword
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Keyword {n}")


class CountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Country
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Country {n}")
    kind = Country.Kind.COUNTRY


class LanguageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Language
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"l{n}")
    name = factory.Sequence(lambda n: f"Language {n}")


class OutletFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outlet
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Outlet {n}")
    domain = factory.Sequence(lambda n: f"outlet{n}.example")


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue
        django_get_or_create = ("number",)

    number = factory.Sequence(lambda n: 100 + n)
    date = datetime.date(2022, 1, 13)


class CaseFactory(factory.django.DjangoModelFactory):
    """A published case, written through the write path; status=Case.Status.DRAFT for a draft.

    keywords=, countries=, languages=, related= take lists of objects.
    """

    class Meta:
        model = Case

    title = factory.Sequence(lambda n: f"Claim number {n} about the West")
    summary = "The outlet claimed something without evidence."
    disproof = "There is no evidence for the claim."
    date = datetime.date(2022, 1, 10)
    status = Case.Status.PUBLISHED
    keywords = None
    countries = None
    languages = None
    related = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        links = {name: kwargs.pop(name) for name in editing.LINKS if kwargs.get(name)}
        for name in editing.LINKS:
            kwargs.pop(name, None)
        return editing.save_case(model_class(*args, **kwargs), **links).case


def edit(case, **values):
    """Change a case through the write path, as an editor would; returns it."""
    return editing.save_case(case, **values).case


class AppearanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appearance

    case = factory.SubFactory(CaseFactory)
    outlet = factory.SubFactory(OutletFactory)
    url = factory.Sequence(lambda n: f"https://outlet.example/article-{n}")
    archive_url = factory.Sequence(lambda n: f"https://archive.example/{n}")
