import json

from llmc.plan import PLAN_SCHEMA, Plan
from tests.support.tools import REPO


def test_the_published_json_schema_matches_the_plan_model():
    published = json.loads((REPO / "docs" / "plan.schema.json").read_text())
    assert published == json.loads(json.dumps(Plan.model_json_schema(by_alias=True))), \
        "regenerate docs/plan.schema.json (see docs/plan.md)"


def test_plan_json_round_trips_and_names_its_schema():
    from tests.support.plans import ALL

    for make in ALL.values():
        plan = make()
        data = json.loads(plan.to_json())
        assert data["schema"] == PLAN_SCHEMA
        assert Plan.from_json(plan.to_json()) == plan
