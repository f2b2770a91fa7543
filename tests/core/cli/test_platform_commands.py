"""`pokaznyk telegram set-webhook`, `viber set-webhook`: exit status and the calls made."""

from __future__ import annotations

import httpx
import pytest
import respx
from click.testing import CliRunner

from pokaznyk_core.channels import messenger
from pokaznyk_core.cli import cli
from pokaznyk_core.cli.platforms import BotApiError, set_command_menu
from pokaznyk_core.dialog.messages import IncomingKind
from pokaznyk_core.settings import Settings
from pokaznyk_core.testing_platforms import (
    Answer,
    FakeGraph,
    FakeTelegram,
    FakeViber,
    RecordedRequest,
)


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, args, env={"POKAZNYK_DATABASE_URL": "sqlite:///unused.sqlite", **env}
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"POKAZNYK_TELEGRAM_SECRET_TOKEN": "s"}, "POKAZNYK_TELEGRAM_BOT_TOKEN"),
        ({"POKAZNYK_TELEGRAM_BOT_TOKEN": "1:x"}, "POKAZNYK_TELEGRAM_SECRET_TOKEN"),
    ],
)
def test_telegram_set_webhook_fails_in_one_line_without_its_tokens(
    env: dict[str, str], missing: str
) -> None:
    code, _out, err = invoke(
        ["telegram", "set-webhook", "https://bot.example.com/webhooks/telegram"], env
    )
    assert code == 1
    assert missing in err
    assert len(err.strip().splitlines()) == 1


def test_telegram_set_webhook_sends_the_url_and_the_secret_token() -> None:
    fake = FakeTelegram()
    with fake.running_in_thread():
        env = {
            "POKAZNYK_TELEGRAM_BOT_TOKEN": fake.token,
            "POKAZNYK_TELEGRAM_SECRET_TOKEN": "secret_1",
            "POKAZNYK_TELEGRAM_API_BASE": fake.url,
        }
        code, out, _err = invoke(
            ["telegram", "set-webhook", "https://bot.example.com/webhooks/telegram"], env
        )
    assert code == 0, out
    assert fake.webhook["url"] == "https://bot.example.com/webhooks/telegram"
    assert fake.webhook["secret_token"] == "secret_1"
    assert set(fake.commands) == {"", "en"}  # everyone's menu (Ukrainian) and English
    assert {c["command"] for c in fake.commands[""]} >= {"start", "submit", "cancel"}


def test_telegram_set_webhook_fails_with_the_apis_description() -> None:
    fake = FakeTelegram(
        refusal=(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
    )
    with fake.running_in_thread():
        env = {
            "POKAZNYK_TELEGRAM_BOT_TOKEN": fake.token,
            "POKAZNYK_TELEGRAM_SECRET_TOKEN": "secret_1",
            "POKAZNYK_TELEGRAM_API_BASE": fake.url,
        }
        code, _out, err = invoke(
            ["telegram", "set-webhook", "https://bot.example.com:8081/webhooks/telegram"], env
        )
    assert code == 1
    assert "HTTPS url must be provided" in err


def test_viber_set_webhook_asks_for_the_events_the_service_handles() -> None:
    fake = FakeViber()
    with fake.running_in_thread():
        env = {
            "POKAZNYK_VIBER_AUTH_TOKEN": fake.auth_token,
            "POKAZNYK_VIBER_API_BASE": fake.api_base,
        }
        code, _out, _err = invoke(
            ["viber", "set-webhook", "https://bot.example.com/webhooks/viber"], env
        )
        env["POKAZNYK_VIBER_AUTH_TOKEN"] = "revoked"
        bad, _out, err = invoke(
            ["viber", "set-webhook", "https://bot.example.com/webhooks/viber"], env
        )
    assert code == 0
    assert "conversation_started" in fake.webhook["event_types"]
    assert bad == 1 and "invalidAuthToken" in err


def platform_env(fake: FakeTelegram | FakeViber) -> dict[str, str]:
    if isinstance(fake, FakeTelegram):
        return {
            "POKAZNYK_TELEGRAM_BOT_TOKEN": fake.token,
            "POKAZNYK_TELEGRAM_SECRET_TOKEN": "secret_1",
            "POKAZNYK_TELEGRAM_API_BASE": fake.url,
        }
    return {"POKAZNYK_VIBER_AUTH_TOKEN": fake.auth_token, "POKAZNYK_VIBER_API_BASE": fake.api_base}


@pytest.mark.parametrize("platform", ["telegram", "viber"])
@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("", "empty"),  # to both platforms an empty URL removes the webhook
        ("  ", "empty"),
        ("http://bot.example.com/webhooks/x", "https://"),
        ("https:///webhooks/x", "https://"),
        ("bot.example.com/webhooks/x", "https://"),
        ("https://[::1/webhooks/x", "https://"),
    ],
)
def test_set_webhook_refuses_a_url_that_is_no_https_address_without_calling_the_platform(
    platform: str, url: str, said: str
) -> None:
    fake = FakeTelegram() if platform == "telegram" else FakeViber()
    with fake.running_in_thread():
        code, _out, err = invoke([platform, "set-webhook", url], platform_env(fake))
    assert code == 1
    [line] = err.strip().splitlines()
    assert said in line and f"/webhooks/{platform}" in line
    assert fake.requests == [] and fake.webhook == {}


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "таємниця", "a/b"])
def test_telegram_set_webhook_refuses_a_secret_token_telegram_does_not_take(secret: str) -> None:
    fake = FakeTelegram()
    with fake.running_in_thread():
        env = platform_env(fake) | {"POKAZNYK_TELEGRAM_SECRET_TOKEN": secret}
        code, _out, err = invoke(
            ["telegram", "set-webhook", "https://bot.example.com/webhooks/telegram"], env
        )
    assert code == 1
    [line] = err.strip().splitlines()
    assert "POKAZNYK_TELEGRAM_SECRET_TOKEN" in line and "1-256" in line
    assert secret not in line  # a secret is never echoed
    assert fake.requests == []


@pytest.mark.parametrize("platform", ["telegram", "viber"])
def test_set_webhook_says_the_platform_timed_out(platform: str) -> None:
    env = {
        "POKAZNYK_TELEGRAM_BOT_TOKEN": "1:x",
        "POKAZNYK_TELEGRAM_SECRET_TOKEN": "secret_1",
        "POKAZNYK_TELEGRAM_API_BASE": "https://telegram.test",
        "POKAZNYK_VIBER_AUTH_TOKEN": "viber-token",
        "POKAZNYK_VIBER_API_BASE": "https://viber.test/pa",
    }
    with respx.mock(assert_all_called=True) as platform_api:
        platform_api.post(url__startswith=f"https://{platform}.test/").mock(
            side_effect=httpx.ReadTimeout("")
        )
        code, _out, err = invoke(
            [platform, "set-webhook", f"https://bot.example.com/webhooks/{platform}"], env
        )
    assert code == 1
    [line] = err.strip().splitlines()
    assert "did not answer set" in line and "timed out" in line


def test_a_missing_url_is_wrong_usage() -> None:
    code, _out, _err = invoke(["telegram", "set-webhook"], {})
    assert code == 2


async def test_the_command_menu_is_refused_with_telegrams_reason() -> None:
    async with FakeTelegram(refusal=(400, "Bad Request: BOT_COMMAND_INVALID")) as fake:
        settings = Settings(telegram_bot_token=fake.token, telegram_api_base=fake.url)
        async with httpx.AsyncClient() as client:
            with pytest.raises(BotApiError, match="refused setMyCommands: Bad Request"):
                await set_command_menu(client, settings)


class BotApiWithoutCommands(FakeTelegram):
    """A Bot API that does not know setMyCommands (an older or a partial one)."""

    def answer(self, request: RecordedRequest) -> Answer:
        if request.path.lower().endswith("/setmycommands"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        return super().answer(request)


def test_set_webhook_succeeds_with_a_warning_when_the_command_menu_is_refused() -> None:
    fake = BotApiWithoutCommands()
    with fake.running_in_thread():
        env = {
            "POKAZNYK_TELEGRAM_BOT_TOKEN": fake.token,
            "POKAZNYK_TELEGRAM_SECRET_TOKEN": "secret_1",
            "POKAZNYK_TELEGRAM_API_BASE": fake.url,
        }
        code, out, err = invoke(
            ["telegram", "set-webhook", "https://bot.example.com/webhooks/telegram"], env
        )
    assert code == 0, err
    assert fake.webhook["url"] == "https://bot.example.com/webhooks/telegram"
    assert "webhook set" in out
    assert "command menu was not set" in err and "Not Found" in err


def test_messenger_set_profile_fails_in_one_line_without_the_page_token() -> None:
    code, _out, err = invoke(["messenger", "set-profile"], {})
    assert code == 1
    assert "POKAZNYK_MESSENGER_PAGE_TOKEN" in err
    assert len(err.strip().splitlines()) == 1


def postback(payload: str) -> dict[str, object]:
    event = {
        "sender": {"id": "PSID-1"},
        "recipient": {"id": "PAGE-1"},
        "timestamp": 1,
        "postback": {"title": "…", "payload": payload, "mid": f"m-{payload}"},
    }
    return {"object": "page", "entry": [{"id": "PAGE-1", "time": 1, "messaging": [event]}]}


def test_messenger_set_profile_sets_get_started_the_welcome_text_and_the_menu() -> None:
    fake = FakeGraph()
    with fake.running_in_thread():
        env = {
            "POKAZNYK_MESSENGER_PAGE_TOKEN": fake.page_token,
            "POKAZNYK_GRAPH_API_BASE": fake.url,
        }
        code, out, err = invoke(["messenger", "set-profile"], env)
    assert code == 0, err
    assert "profile set" in out
    profile = fake.profile

    [started] = messenger.parse(postback(profile["get_started"]["payload"]))
    assert started.incoming.kind is IncomingKind.START
    greeting = {g["locale"]: g["text"] for g in profile["greeting"]}
    assert "Почати" in greeting["default"] and "Get Started" in greeting["en_US"]
    menus = {m["locale"]: m["call_to_actions"] for m in profile["persistent_menu"]}
    assert set(menus) == {"default", "en_US", "en_GB"}
    assert menus["default"][0]["title"] == "Передати показники"
    assert menus["en_US"][0]["title"] == "Submit readings"
    pressed = [messenger.parse(postback(a["payload"]))[0].incoming for a in menus["default"]]
    assert [(i.kind, i.payload) for i in pressed] == [
        (IncomingKind.BUTTON, payload) for payload, _key in messenger.MENU
    ]


def test_messenger_set_profile_fails_with_the_graph_apis_message() -> None:
    fake = FakeGraph()
    with fake.running_in_thread():
        env = {"POKAZNYK_MESSENGER_PAGE_TOKEN": "wrong", "POKAZNYK_GRAPH_API_BASE": fake.url}
        code, _out, err = invoke(["messenger", "set-profile"], env)
    assert code == 1
    assert "Invalid OAuth access token" in err
    assert fake.profile == {}
