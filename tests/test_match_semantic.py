"""Claim matching's semantic tier, with a tiny model2vec model built here (no download).

The model gives a word and its translations the same vector, as a multilingual model
would, so a German claim lands on the English case its words translate.
"""

import numpy as np
import pytest
from django.core.management import call_command

from cases.models import Case
from cases.search import semantic
from cases.services import editing
from tests.factories import CaseFactory

# Concepts, each with its words in English, German and Russian.
CONCEPTS = [
    ["british", "britischer", "британская"],
    ["intelligence", "geheimdienst", "разведка"],
    ["riots", "protests", "unruhen", "беспорядки"],
    ["vaccines", "impfstoffe", "вакцины"],
    ["microchips", "mikrochips", "микрочипы"],
    ["harvest", "ernte", "урожай"],
]


def build_tiny_model(directory):
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = {"[UNK]": 0, "[PAD]": 1}
    rows = [np.zeros(len(CONCEPTS)), np.zeros(len(CONCEPTS))]
    for index, words in enumerate(CONCEPTS):
        for word in words:
            vocab[word] = len(vocab)
            row = np.zeros(len(CONCEPTS))
            row[index] = 1
            rows.append(row)
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    vectors = np.asarray(rows, dtype=np.float32)
    StaticModel(vectors=vectors, tokenizer=tokenizer, normalize=True).save_pretrained(directory)
    return directory


@pytest.fixture
def tiny_model(tmp_path, settings):
    settings.DISINFO_EMBEDDING_MODEL = str(build_tiny_model(tmp_path / "model"))
    semantic.reset()
    yield
    semantic.reset()


@pytest.fixture
def cases(db):
    return {
        "spies": CaseFactory(
            title="British intelligence organised the riots",
            summary="The outlet said British intelligence stirred the riots.",
        ),
        "vaccines": CaseFactory(
            title="Vaccines contain microchips", summary="Vaccines hide microchips."
        ),
        "draft": CaseFactory(
            title="British intelligence is behind riots",
            summary="British intelligence riots.",
            status=Case.Status.DRAFT,
        ),
    }


@pytest.mark.django_db
class TestWithAModel:
    def test_a_german_claim_finds_the_english_case(self, tiny_model, cases, api_client):
        text = "Der britische Geheimdienst steckt hinter den Unruhen"
        response = api_client.get("/api/v1/match/", {"text": text})
        body = response.json()
        assert body["tier"] == "semantic+lexical" and body["semantic_tier"] is True
        assert body["results"][0]["id"] == cases["spies"].pk
        assert cases["draft"].pk not in [r["id"] for r in body["results"]]

    def test_a_russian_claim_too_and_the_page_says_which_tier(self, tiny_model, cases, client):
        response = client.get("/match/", {"text": "Вакцины и микрочипы"})
        assert response.context_data["matches"][0].id == cases["vaccines"].pk
        assert "by meaning with multilingual sentence embeddings" in response.content.decode()

    def test_without_the_model_the_german_claim_finds_nothing(self, cases, api_client):
        text = "Der britische Geheimdienst steckt hinter den Unruhen"
        body = api_client.get("/api/v1/match/", {"text": text}).json()
        assert body["tier"] == "lexical" and body["semantic_tier"] is False
        assert cases["spies"].pk not in [r["id"] for r in body["results"]]

    def test_filters_narrow_semantic_matches(self, tiny_model, cases, api_client):
        params = {"text": "Unruhen Geheimdienst", "date_after": "2030-01-01"}
        assert api_client.get("/api/v1/match/", params).json()["results"] == []

    def test_a_directory_without_a_model_leaves_the_tier_off(self, settings, tmp_path):
        settings.DISINFO_EMBEDDING_MODEL = str(tmp_path)
        semantic.reset()
        assert semantic.enabled() is False

    def test_the_build_command_shows_progress(self, tiny_model, cases, capsys):
        call_command("build_match_index")
        out = capsys.readouterr().out
        assert "2/2 cases embedded" in out and "Embedded 2 published cases" in out


@pytest.mark.django_db(transaction=True)
def test_the_index_follows_the_change_log(tiny_model):
    """Committed changes reach the index through cases_casechange, without a rebuild."""
    spies = CaseFactory(title="British intelligence organised the riots")
    text = "Geheimdienst Unruhen"
    found, _ = semantic.ensure_index()
    assert list(found) == [spies.pk]

    harvest = CaseFactory(title="The harvest failed")
    matches = semantic.semantic_matches("Ernte", Case.objects.published(), 5)
    assert [m.id for m in matches] == [harvest.pk]

    editing.save_case(spies, status=Case.Status.DRAFT)
    assert semantic.semantic_matches(text, Case.objects.published(), 5) == []
    ids, _ = semantic.ensure_index()
    assert sorted(ids) == [harvest.pk]
