"""The container definition field names the pack canonicalises are ECS's own."""

from __future__ import annotations

import botocore.session

from policies.helpers import CONTAINER_FIELDS, canonical_keys


def _member_names(shape, seen: set) -> set[str]:
    if shape.name in seen:
        return set()
    seen.add(shape.name)
    if shape.type_name == "structure":
        return {n for name, member in shape.members.items() for n in {name} | _member_names(member, seen)}
    if shape.type_name == "list":
        return _member_names(shape.member, seen)
    if shape.type_name == "map":
        return _member_names(shape.value, seen)
    return set()


def test_container_fields_are_the_members_of_ecs_container_definition():
    model = botocore.session.get_session().get_service_model("ecs")
    assert set(CONTAINER_FIELDS) == _member_names(model.shape_for("ContainerDefinition"), set())


def test_keys_are_matched_case_insensitively_and_the_last_spelling_wins():
    raw = {"User": "10001", "USER": "0", "LinuxParameters": {"CAPABILITIES": {"add": ["SYS_ADMIN"]}},
           "dockerLabels": {"User": "kept as written"}, "LogConfiguration": {"options": {"awslogs-group": "/ecs/x"}}}
    assert canonical_keys(raw) == {"user": "0", "linuxParameters": {"capabilities": {"add": ["SYS_ADMIN"]}},
                                   "dockerLabels": {"User": "kept as written"}, "logConfiguration": {"options": {"awslogs-group": "/ecs/x"}}}
