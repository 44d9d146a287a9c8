"""The workflow-definition API, end to end through HTTP on a real database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import edge, node, workflow_body

if TYPE_CHECKING:
    import httpx

API = "/api/v1/workflows"


async def create(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post(API, json=workflow_body(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_returns_the_draft_with_its_definition(client: httpx.AsyncClient) -> None:
    body = workflow_body()
    response = await client.post(API, json=body)

    assert response.status_code == 201
    created = response.json()
    assert created["status"] == "draft"
    assert created["version"] == 1
    assert created["name"] == "Onboarding"
    assert created["input_schema"] == body["input_schema"]
    # Editor keys (node width, the viewport) come back as they were saved.
    assert created["definition"]["nodes"][0]["width"] == 150
    assert created["definition"]["viewport"] == {"x": 0, "y": 0, "zoom": 1}
    fetched = await client.get(f"{API}/{created['id']}")
    assert fetched.json() == created


async def test_list_filters_by_status_and_counts(client: httpx.AsyncClient) -> None:
    assert (await client.get(API)).json() == []
    first = await create(client, name="a")
    await create(client, name="b")
    await client.post(f"{API}/{first['id']}/publish")

    everything = await client.get(API)
    published = await client.get(API, params={"status": "published"})
    drafts = await client.get(API, params={"status": "draft"})

    assert everything.headers["X-Total-Count"] == "2"
    assert [w["name"] for w in published.json()] == ["a"]
    assert [w["name"] for w in drafts.json()] == ["b"]


async def test_list_pages_and_sorts(client: httpx.AsyncClient) -> None:
    for name in ["c", "a", "e", "b", "d"]:
        await create(client, name=name)

    page_two = await client.get(API, params={"page": 2, "per_page": 2, "sort": "name"})

    assert page_two.headers["X-Total-Count"] == "5"
    assert [w["name"] for w in page_two.json()] == ["c", "d"]
    newest = await client.get(API, params={"per_page": 1})
    assert [w["name"] for w in newest.json()] == ["d"]


async def test_list_refuses_bad_paging(client: httpx.AsyncClient) -> None:
    too_many = await client.get(API, params={"per_page": 101})
    bad_sort = await client.get(API, params={"sort": "definition"})
    bad_status = await client.get(API, params={"status": "archived"})

    assert too_many.status_code == 422
    # The columns a list sorts by are listed in the OpenAPI document; another is invalid.
    assert bad_sort.status_code == 422
    assert bad_sort.json()["details"]["errors"][0]["loc"] == ["query", "sort"]
    assert bad_status.status_code == 422


async def test_update_changes_a_draft(client: httpx.AsyncClient) -> None:
    created = await create(client)
    definition = created["definition"]
    definition["nodes"].append(node("extra", "transform", {"output": {"x": 1}}))
    definition["edges"].append(edge("big", "extra"))

    response = await client.put(
        f"{API}/{created['id']}", json={"name": "Renamed", "definition": definition}
    )

    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == "Renamed"
    assert updated["description"] == "welcomes a user"
    assert [n["id"] for n in updated["definition"]["nodes"]][-1] == "extra"
    assert updated["updated_at"] >= created["updated_at"]


async def test_published_workflow_is_frozen(client: httpx.AsyncClient) -> None:
    created = await create(client)
    await client.post(f"{API}/{created['id']}/publish")

    update = await client.put(f"{API}/{created['id']}", json={"name": "changed"})
    delete = await client.delete(f"{API}/{created['id']}")
    again = await client.post(f"{API}/{created['id']}/publish")

    # The change made the next version; the published one is as it was.
    assert update.status_code == 200, update.text
    assert update.json()["version"] == 2
    assert update.json()["status"] == "draft"
    assert update.json()["name"] == "changed"
    assert update.json()["lineage_id"] == created["id"]
    assert delete.status_code == 409
    assert again.status_code == 409
    assert (await client.get(f"{API}/{created['id']}")).json()["name"] == "Onboarding"


async def test_delete_soft_deletes_a_draft(client: httpx.AsyncClient) -> None:
    created = await create(client)

    response = await client.delete(f"{API}/{created['id']}")

    assert response.status_code == 204
    assert (await client.get(f"{API}/{created['id']}")).status_code == 404
    assert (await client.get(API)).headers["X-Total-Count"] == "0"
    assert (await client.delete(f"{API}/{created['id']}")).status_code == 404


async def test_publish_freezes_a_valid_workflow(client: httpx.AsyncClient) -> None:
    created = await create(client)

    response = await client.post(f"{API}/{created['id']}/publish")

    assert response.status_code == 200
    assert response.json()["status"] == "published"
    assert response.json()["published_at"] is not None


async def test_publish_refuses_an_invalid_workflow_with_every_error(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "nodes": [
            node("a", "transform", {"output": {"x": "{{ later.y }}"}}),
            node("later", "htp_request", {}),
            node("c", "condition", {}),
        ],
        "edges": [edge("a", "later"), edge("a", "ghost")],
    }
    created = await create(client, definition=definition)

    response = await client.post(f"{API}/{created['id']}/publish")

    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "WORKFLOW_INVALID"
    codes = {e["code"] for e in body["details"]["errors"]}
    assert {"unknown_step_type", "edge_unknown_target", "template_not_upstream"} <= codes
    assert "invalid_config" in codes
    assert (await client.get(f"{API}/{created['id']}")).json()["status"] == "draft"


async def test_validate_reports_errors_naming_their_node(client: httpx.AsyncClient) -> None:
    good = await create(client)
    bad = await create(
        client, definition={"nodes": [node("x", "nope", {})], "edges": []}, input_schema=None
    )

    ok = await client.post(f"{API}/{good['id']}/validate")
    failed = await client.post(f"{API}/{bad['id']}/validate")

    assert ok.json() == {"valid": True, "errors": [], "issues": []}
    report = failed.json()
    assert report["valid"] is False
    assert any("'x'" in message for message in report["errors"])
    assert report["issues"][0]["node_id"] == "x"


async def test_validate_checks_the_input_schema(client: httpx.AsyncClient) -> None:
    created = await create(client, input_schema={"type": "no-such-type"})

    report = (await client.post(f"{API}/{created['id']}/validate")).json()

    assert report["valid"] is False
    assert [i["code"] for i in report["issues"]] == ["invalid_input_schema"]


async def test_duplicate_makes_the_next_version_as_a_draft(client: httpx.AsyncClient) -> None:
    created = await create(client)
    await client.post(f"{API}/{created['id']}/publish")

    second = await client.post(f"{API}/{created['id']}/duplicate")
    third = await client.post(f"{API}/{created['id']}/duplicate")

    assert second.status_code == 201
    assert second.json()["version"] == 2
    assert second.json()["status"] == "draft"
    assert second.json()["lineage_id"] == created["id"]
    assert second.json()["definition"] == created["definition"]
    assert third.json()["version"] == 3
    versions = await client.get(f"{API}/{third.json()['id']}/versions")
    assert [(v["version"], v["status"]) for v in versions.json()] == [
        (1, "published"),
        (2, "draft"),
        (3, "draft"),
    ]
    assert versions.headers["X-Total-Count"] == "3"


async def test_the_copy_can_change_while_the_original_stays(client: httpx.AsyncClient) -> None:
    created = await create(client)
    await client.post(f"{API}/{created['id']}/publish")
    copy = (await client.post(f"{API}/{created['id']}/duplicate")).json()

    changed = await client.put(f"{API}/{copy['id']}", json={"description": "v2"})

    assert changed.status_code == 200
    original = (await client.get(f"{API}/{created['id']}")).json()
    assert original["description"] == "welcomes a user"


async def test_unknown_ids_are_404_in_the_envelope(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", f"{API}/missing"),
        ("PUT", f"{API}/missing"),
        ("DELETE", f"{API}/missing"),
        ("POST", f"{API}/missing/publish"),
        ("POST", f"{API}/missing/validate"),
        ("POST", f"{API}/missing/duplicate"),
        ("GET", f"{API}/missing/versions"),
    ]:
        response = await client.request(method, path, json={} if method == "PUT" else None)
        assert response.status_code == 404, (method, path)
        body = response.json()
        assert body["error_code"] == "WORKFLOW_NOT_FOUND"
        assert body["request_id"] == response.headers["X-Request-ID"]
