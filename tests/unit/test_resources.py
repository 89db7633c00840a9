"""The one resource definition and the PynamoDB models agree, so local, tests and AWS cannot drift."""
import pytest

from chalicelib.messages import catalogue, text
from chalicelib.resources import QUEUES, TABLES
from chalicelib.store.models import ALL_MODELS


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_model_matches_its_table_spec(model):
    spec = next(s for s in TABLES.values() if s.name == model.Meta.table_name)
    schema = model._get_schema()
    keys = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
    assert keys["HASH"] == spec.hash_key
    assert keys.get("RANGE") == spec.range_key
    indexes = {i["index_name"]: {k["KeyType"]: k["AttributeName"] for k in i["key_schema"]}
               for i in schema.get("global_secondary_indexes", [])}
    assert indexes == {i.name: {"HASH": i.hash_key, **({"RANGE": i.range_key} if i.range_key else {})}
                       for i in spec.indexes}


def test_every_queue_has_a_dead_letter_queue_and_room_for_batched_webhooks():
    for spec in QUEUES.values():
        assert spec.dlq_name.endswith("-dlq")
        assert spec.max_receive_count >= 3
        assert spec.max_message_size == 1_048_576


def test_catalogue_texts_render_with_overrides():
    assert "Comune di Prova" in text("subscribe.welcome", comune="Comune di Prova")
    assert text("subscribe.welcome", overrides={"subscribe.welcome": "Ciao {comune}"}, comune="X") == "Ciao X"
    assert all(isinstance(v, str) and v for v in catalogue("it").values())
