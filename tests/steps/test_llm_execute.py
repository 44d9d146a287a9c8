"""The `llm` step against a real OpenAI-compatible fake: requests, output, JSON and schema."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests import servers
from tests.servers import LlmServer, step_context
from towpath.steps.execution import Completed, EngineServices, Failed
from towpath.steps.llm import STEP, LlmConfig, execute

if TYPE_CHECKING:
    import aiohttp

    from towpath.steps.execution import Outcome

# The servers' fixtures, until the root conftest registers tests.servers as a plugin.
llm_server = servers.llm_server
http_client = servers.http_client
refused_url = servers.refused_url

PERSON_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "pets": {"type": "array", "items": {"type": "object", "required": ["kind"]}},
    },
    "required": ["name", "age"],
}


async def call(
    client: aiohttp.ClientSession, base_url: str, config: dict[str, Any], api_key: str = "sk-test"
) -> Outcome:
    services = EngineServices(http=client, llm_base_url=base_url, llm_api_key=api_key)
    return await execute(LlmConfig.model_validate(config), step_context(services))


async def completed(
    client: aiohttp.ClientSession, server: LlmServer, config: dict[str, Any]
) -> dict[str, Any]:
    outcome = await call(client, server.base_url, config)
    assert isinstance(outcome, Completed), outcome
    output: dict[str, Any] = outcome.output
    return output


async def failed(
    client: aiohttp.ClientSession, server: LlmServer, config: dict[str, Any]
) -> Failed:
    outcome = await call(client, server.base_url, config)
    assert isinstance(outcome, Failed), outcome
    return outcome


def test_the_step_type_registers_its_execute() -> None:
    assert STEP.execute is execute


async def test_a_text_completion_outputs_text_model_usage_and_finish_reason(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    output = await completed(
        http_client, llm_server, {"model": "gpt-test", "prompt": "say hello to Ada"}
    )

    assert output == {
        "text": "say hello to Ada",
        "model": "gpt-test-fake",
        "usage": {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8},
        "finish_reason": "stop",
    }


async def test_the_request_carries_the_config_the_key_and_the_idempotency_key(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    config = {
        "model": "gpt-test",
        "system": "You are terse.",
        "prompt": "Summarise: towpath",
        "temperature": 0.2,
        "max_tokens": 50,
    }
    await completed(http_client, llm_server, config)

    (request,) = llm_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["idempotency-key"] == "run-1:step-1:1"
    assert request.json == {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Summarise: towpath"},
        ],
        "temperature": 0.2,
        "max_tokens": 50,
    }


async def test_unset_options_are_left_out_and_no_key_sends_no_authorization(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    outcome = await call(
        http_client, llm_server.base_url + "/", {"model": "m", "prompt": "hi"}, api_key=""
    )

    assert isinstance(outcome, Completed)
    (request,) = llm_server.requests
    assert "authorization" not in request.headers
    assert request.json == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def test_json_format_asks_for_a_json_object_and_outputs_the_parsed_answer(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    llm_server.reply('{"name": "Ada", "age": 36}')
    config = {"model": "m", "prompt": "who?", "response_format": "json"}
    output = await completed(http_client, llm_server, config)

    assert output["json"] == {"name": "Ada", "age": 36}
    assert output["text"] == '{"name": "Ada", "age": 36}'
    assert llm_server.requests[0].json["response_format"] == {"type": "json_object"}


async def test_text_format_has_no_json_output_even_for_json_text(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    llm_server.reply('{"name": "Ada"}')
    output = await completed(http_client, llm_server, {"model": "m", "prompt": "who?"})

    assert "json" not in output
    assert "response_format" not in llm_server.requests[0].json


async def test_json_in_a_markdown_fence_is_parsed(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    llm_server.reply('```json\n{"name": "Ada", "age": 36}\n```')
    config = {"model": "m", "prompt": "who?", "response_format": "json"}
    output = await completed(http_client, llm_server, config)

    assert output["json"] == {"name": "Ada", "age": 36}


async def test_an_answer_that_is_not_json_fails_retryably(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    llm_server.reply("Sure! Ada is 36.")
    config = {"model": "m", "prompt": "who?", "response_format": "json"}
    failure = await failed(http_client, llm_server, config)

    assert failure.error == "the model's answer is not valid JSON: 'Sure! Ada is 36.'"
    assert failure.kind == "error"
    assert failure.retryable is True


async def test_a_json_answer_cut_off_at_max_tokens_says_so(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    llm_server.reply('{"name": "Ad', finish_reason="length")
    config = {"model": "m", "prompt": "who?", "response_format": "json", "max_tokens": 3}
    failure = await failed(http_client, llm_server, config)

    assert "cut off at max_tokens" in failure.error


async def test_an_answer_matching_the_schema_completes(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    answer = {"name": "Ada", "age": 36, "pets": [{"kind": "cat"}]}
    llm_server.reply(json.dumps(answer))
    config = {
        "model": "m",
        "prompt": "who?",
        "response_format": "json",
        "json_schema": PERSON_SCHEMA,
    }
    output = await completed(http_client, llm_server, config)

    assert output["json"] == answer


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            {"name": "Ada", "age": "36"},
            "the model's answer does not match json_schema at age: '36' is not of type 'integer'",
        ),
        (
            {"name": "Ada"},
            "the model's answer does not match json_schema at (root): 'age' is a required property",
        ),
        (
            {"name": "Ada", "age": 36, "pets": [{"kind": "cat"}, {"legs": 4}]},
            "the model's answer does not match json_schema at pets/1:"
            " 'kind' is a required property",
        ),
    ],
)
async def test_an_answer_breaking_the_schema_fails_retryably_naming_the_path(
    http_client: aiohttp.ClientSession, llm_server: LlmServer, answer: Any, message: str
) -> None:
    llm_server.reply(json.dumps(answer))
    config = {
        "model": "m",
        "prompt": "who?",
        "response_format": "json",
        "json_schema": PERSON_SCHEMA,
    }
    failure = await failed(http_client, llm_server, config)

    assert failure.error == message
    assert failure.kind == "error"
    assert failure.retryable is True


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [(429, "error", True), (500, "5xx", True), (503, "5xx", True), (400, "error", False)],
)
async def test_an_error_status_fails_with_its_kind(
    http_client: aiohttp.ClientSession,
    llm_server: LlmServer,
    status: int,
    kind: str,
    retryable: bool,
) -> None:
    llm_server.fail_next(status, "slow down")
    failure = await failed(http_client, llm_server, {"model": "m", "prompt": "hi"})

    assert failure.error.startswith(f"HTTP {status} from {llm_server.base_url}/chat/completions")
    assert "slow down" in failure.error
    assert failure.kind == kind
    assert failure.retryable is retryable


async def test_a_wrong_api_key_fails_for_good(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    llm_server.require_api_key("sk-right")
    failure = await failed(http_client, llm_server, {"model": "m", "prompt": "hi"})

    assert failure.error.startswith("HTTP 401 from")
    assert "Incorrect API key" in failure.error
    assert failure.retryable is False


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html>not an API</html>", "text/html"),
        ('{"choices": []}', "application/json"),
        ('{"id": "x", "object": "list"}', "application/json"),
    ],
)
async def test_an_answer_that_is_not_a_completion_fails_for_good(
    http_client: aiohttp.ClientSession, llm_server: LlmServer, body: str, content_type: str
) -> None:
    llm_server.answer_next_raw(body, content_type=content_type)
    failure = await failed(http_client, llm_server, {"model": "m", "prompt": "hi"})

    assert failure.error.startswith(
        f"{llm_server.base_url}/chat/completions did not answer with a chat completion"
    )
    assert failure.retryable is False


async def test_a_completion_without_usage_outputs_unknown_counts(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    completion = {"choices": [{"message": {"role": "assistant", "content": "ok"}}]}
    llm_server.answer_next_raw(json.dumps(completion))
    output = await completed(http_client, llm_server, {"model": "m", "prompt": "hi"})

    assert output == {
        "text": "ok",
        "model": "m",
        "usage": {"prompt_tokens": None, "completion_tokens": None, "total_tokens": None},
        "finish_reason": None,
    }


async def test_an_unreachable_endpoint_fails_as_a_retryable_network_error(
    http_client: aiohttp.ClientSession, refused_url: str
) -> None:
    outcome = await call(http_client, refused_url, {"model": "m", "prompt": "hi"})

    assert isinstance(outcome, Failed)
    assert outcome.kind == "network"
    assert outcome.retryable is True
