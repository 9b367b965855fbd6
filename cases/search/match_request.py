"""The parameters of a match, the same on the site and in the API.

    text       the claim, 1 to MAX_TEXT_LENGTH characters (required)
    limit      how many matches, 1 to MAX_LIMIT (default DEFAULT_LIMIT)
    any parameter of the filter contract but `ordering` (a match is ranked by similarity):
    keyword, country, language, outlet, year, issue, date_after, date_before, q, ...

Anything else is refused. Errors are {parameter: [messages]}, as the filter's own.
"""

from dataclasses import dataclass

from django import forms

from cases.filters import (
    CaseFilter,
    EditorCaseFilter,
    WholeNumberField,
    unknown_parameter_message,
    unknown_parameters,
)
from cases.search.match import DEFAULT_LIMIT, MAX_LIMIT, MAX_TEXT_LENGTH

# Parameters of a page or an answer's form, not of the match.
VIEW_PARAMETERS = {"format"}


class MatchForm(forms.Form):
    text = forms.CharField(
        max_length=MAX_TEXT_LENGTH,
        strip=True,
        label="Claim",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Give the text of a claim to match.",
            "max_length": "Give at most %(limit_value)d characters (this text has %(show_value)d).",
        },
    )
    limit = WholeNumberField(
        min_value=1,
        max_value=MAX_LIMIT,
        required=False,
        label="Matches",
        error_messages={"invalid": f"Give a whole number from 1 to {MAX_LIMIT}."},
    )


def filter_parameters():
    return [name for name in CaseFilter.base_filters if name != "ordering"]


@dataclass
class MatchRequest:
    text: str
    limit: int
    case_filter: CaseFilter


class MatchInputError(Exception):
    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def parse(params, queryset, editor=False, request=None):
    """A MatchRequest from `params` (a QueryDict), or MatchInputError naming each bad
    parameter. `queryset` holds the cases the user may see."""
    allowed = {"text", "limit", *filter_parameters(), *VIEW_PARAMETERS}
    errors = {}
    unknown = unknown_parameters(params, allowed)
    for name in unknown:
        errors[name] = [unknown_parameter_message(name, allowed)]
    form = MatchForm({"text": params.get("text", ""), "limit": params.get("limit") or None})
    if not form.is_valid():
        for name, messages in form.errors.items():
            errors[name] = list(messages)
    filter_params = params.copy()
    for name in ("text", "limit", *VIEW_PARAMETERS, *(set(params) - allowed)):
        filter_params.pop(name, None)
    filter_class = EditorCaseFilter if editor else CaseFilter
    case_filter = filter_class(filter_params, queryset=queryset, request=request)
    if not case_filter.is_valid():
        for name, messages in case_filter.errors.items():
            errors[name] = list(messages)
    if errors:
        raise MatchInputError(errors)
    text = form.cleaned_data["text"]
    return MatchRequest(text, form.cleaned_data["limit"] or DEFAULT_LIMIT, case_filter)
