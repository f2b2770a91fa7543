"""A caller on the phone line of the real app: each keypad entry posted and signed as Twilio
does, each answer read as TwiML (what is said, where the next keys go)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import httpx

from pokaznyk_core.channels import ivr
from pokaznyk_core.outbox.queue import load_spoken

TOKEN = "twilio-auth-token"
PUBLIC = "https://ivr.example.com"


class Call:
    """One phone call, signing each request as Twilio does."""

    def __init__(self, web: httpx.AsyncClient, sid: str, caller: str, user: str = "") -> None:
        self.web, self.sid, self.caller = web, sid, caller
        self.user = user or caller
        """Whom the service takes the caller for (a hidden number: `call:<CallSid>`)."""

    def form(self, digits: str | None) -> dict[str, str]:
        fields = {
            "CallSid": self.sid,
            "From": self.caller,
            "To": "+380800300000",
            "CallStatus": "in-progress",
        }
        if digits is not None:
            fields["Digits"] = digits
        return fields

    async def post(
        self, url: str, digits: str | None = None, *, signed: bool = True
    ) -> httpx.Response:
        absolute = url if url.startswith("https://") else PUBLIC + url
        fields = self.form(digits)
        headers = (
            {"X-Twilio-Signature": ivr.signature(absolute, fields.items(), TOKEN)} if signed else {}
        )
        parts = urlsplit(absolute)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return await self.web.post(path, data=fields, headers=headers)

    async def press(self, action: str, digits: str) -> tuple[str, str]:
        """Press `digits` at the prompt whose keys go to `action`: (next action, what is said)."""
        return gather_of(await self.post(action, digits))

    async def reaches_the_entry(self, account_number: str) -> tuple[str, str]:
        """Answer the call in Ukrainian, choose to submit and key in the account number:
        (the action of the first value prompt, everything said after the account number)."""
        language_action, _ = gather_of(await self.post("/ivr/voice"))
        menu_action, _ = await self.press(language_action, "1")
        account_action, _ = await self.press(
            menu_action, await digit_for(menu_action, self.user, "menu:submit")
        )
        return await self.press(account_action, account_number + "#")

    async def choice(self, action: str, payload: str) -> tuple[str, str]:
        """Press the key the prompt at `action` offers for `payload`."""
        return await self.press(action, await digit_for(action, self.user, payload))


def gather_of(response: httpx.Response) -> tuple[str, str]:
    """(action URL, everything said) of a TwiML answer."""
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.text)
    gather = root.find("Gather")
    said = " ".join(s.text or "" for s in root.iter("Say"))
    return (gather.get("action", "") if gather is not None else ""), said


async def digit_for(action: str, caller: str, payload: str) -> str:
    """The key the prompt at `action` offers for the button `payload`."""
    prompt_id = int(action.split("p=")[1].split("&")[0])
    replies = await load_spoken(prompt_id, caller)
    assert replies is not None
    choices = ivr.VoicePrompt.of(replies[-1]).choices
    if payload == "confirm":  # the confirmation's button names the values it shows
        payload = next(c for c in choices if c.startswith("confirm:"))
    return str(choices.index(payload) + 1)
