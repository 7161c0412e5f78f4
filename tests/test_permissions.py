"""Every command, slash command, button, select, view and modal the bot registers, tried by a
member without any right: refused with a German text and nothing changed (no Discord call
but the answer, no row in the database). The registered things are read from a real
DeadlockBot with every feature on; one without an entry in TABLE fails the test."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, cast

import discord
import pytest
from discord import app_commands

from bot.db.queries import queries
from bot.discord_glue import errors
from bot.discord_glue.texts import Common
from bot.features.balancer.texts import Balancer, Results
from bot.features.coaching.texts import Coaching
from bot.features.rank_voice.texts import RankVoice
from bot.features.tempvoice.cog import KickView, TempVoiceCog
from bot.features.tempvoice.texts import LaneOwner, TempVoice
from tests.bot_harness import ADMIN, BOT_USER, GUILD, MEMBER, PLAYERS, Harness, user

Act = Callable[[Harness, Any], Awaitable[None]]  # (harness, what the setup returned)
Setup = Callable[[Harness], Awaitable[Any]]


async def _nothing(h: Harness) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class Refused:
    """Done by MEMBER, who lacks the right: the bot answers `text` and changes nothing
    (after `setup`, which builds what the member tries to touch: a lane, a session)."""

    act: Act
    text: str
    setup: Setup = _nothing


@dataclasses.dataclass(frozen=True)
class Open:
    """Anyone may do this. With an `act`, it is tried by MEMBER: an answer, nothing changed."""

    why: str
    act: Act | None = None
    setup: Setup = _nothing


def say(text: str) -> Act:
    async def act(h: Harness, _: Any) -> None:
        await h.say(MEMBER, text)

    return act


def slash(*path: str, **options: Any) -> Act:
    kinds = {int: 4, str: 3}

    async def act(h: Harness, _: Any) -> None:
        opts = [{"type": 6 if k == "mitglied" else kinds[type(v)], "name": k, "value": str(v) if k == "mitglied" else v}
                for k, v in options.items()]  # fmt: skip
        await h.slash(MEMBER, list(path), opts)

    return act


async def _lane(h: Harness) -> None:
    """LANE belongs to ADMIN, MEMBER is in it (the guild payload puts both there)."""
    await h.add_lane(ADMIN, MEMBER)


def click(custom_id: str) -> Act:
    async def act(h: Harness, _: Any) -> None:
        await h.click(MEMBER, custom_id)

    return act


def lane_click(custom_id: str, select: list[str] | None = None, modal: str | None = None) -> Act:
    async def act(h: Harness, _: Any) -> None:
        await h.click(MEMBER, custom_id, select=select)
        if modal is not None:
            await h.submit(MEMBER, h.modal(), modal)

    return act


def lane_pick(custom_id: str, kind: int) -> Act:
    """MEMBER chooses PLAYERS[0] in a user (5) or mentionable (7) select of the owner actions."""

    async def act(h: Harness, _: Any) -> None:
        message = h._message(BOT_USER, "", [{"type": 1, "components": [{"type": kind, "custom_id": custom_id}]}])
        chosen = str(PLAYERS[0])
        data = {"custom_id": custom_id, "component_type": kind, "values": [chosen],
                "resolved": {"users": {chosen: user(PLAYERS[0])}}}  # fmt: skip
        h.bot._connection.parse_interaction_create(cast(Any, h._interaction(3, MEMBER, data, message)))
        await h.settle()

    return act


async def _rename_modal(h: Harness, _: Any) -> None:
    """The owner (ADMIN) opened the rename modal; MEMBER submits it: the submit checks again."""
    await h.click(ADMIN, "tv_rename")
    await h.submit(MEMBER, h.modal(), "Meine Lane")


async def _session(h: Harness) -> int:
    """A coaching session of ADMIN's."""
    async with h.bot.db.transaction() as conn:
        return await queries.coaching.create_session(conn, user_id=ADMIN, guild_id=GUILD, match_id="m1", created_at=1)


def step_click(kind: str, select: list[str] | None = None, modal: str | None = None) -> Act:
    async def act(h: Harness, session: int) -> None:
        await h.click(MEMBER, f"dl:{kind}:{session}", select=select)
        if modal is not None:
            await h.submit(MEMBER, h.modal(), modal)

    return act


async def _selection(h: Harness) -> None:
    """ADMIN's selection of more than 12 players (panel 1); MEMBER clicks it."""
    await h.say(ADMIN, "!balance manual " + " ".join(f"<@{p}>" for p in PLAYERS))


async def _preview(h: Harness) -> None:
    """PLAYERS[0]'s preview of the ranked channel (panel 1); MEMBER clicks it."""
    await h.say(PLAYERS[0], "!balance auto")


async def _kick_view(h: Harness, _: Any) -> None:
    """The owner's kick selection; MEMBER picks from it."""
    cog = h.bot.get_cog("TempVoice")
    assert isinstance(cog, TempVoiceCog)
    view = KickView(cog.service, [discord.SelectOption(label="x", value=str(ADMIN))])
    h.bot._connection.store_view(view, 556)
    select = view.children[0]
    assert isinstance(select, discord.ui.Select) and select.custom_id
    await h.click(MEMBER, select.custom_id, select=[str(ADMIN)], message_id=556)


MANAGE_GUILD = Common.NEEDS_MANAGE_GUILD
READ_ONLY = "shows something; reads only"
TABLE: dict[str, Refused | Open] = {
    # -- prefix commands ----------------------------------------------------------------
    "prefix:tvpanel": Refused(say("!tvpanel"), MANAGE_GUILD),
    "prefix:dlvs": Refused(say("!dlvs"), MANAGE_GUILD),
    "prefix:dlvs snapshot": Refused(say("!dlvs snapshot"), MANAGE_GUILD),
    "prefix:dlvs trace": Refused(say("!dlvs trace on"), MANAGE_GUILD),
    "prefix:coaching": Refused(say("!coaching"), MANAGE_GUILD),
    "prefix:coaching panel": Refused(say("!coaching panel"), MANAGE_GUILD),
    "slash:tvpanel": Refused(slash("tvpanel"), MANAGE_GUILD),
    "slash:dlvs status": Refused(slash("dlvs", "status"), MANAGE_GUILD),
    "slash:dlvs snapshot": Refused(slash("dlvs", "snapshot"), MANAGE_GUILD),
    "slash:dlvs trace": Refused(slash("dlvs", "trace", zustand="ein"), MANAGE_GUILD),
    "slash:coaching hilfe": Refused(slash("coaching", "hilfe"), MANAGE_GUILD),
    "slash:coaching panel": Refused(slash("coaching", "panel"), MANAGE_GUILD),
    "prefix:rrang": Open("the help text", say("!rrang")),
    "prefix:rrang status": Open(READ_ONLY, say("!rrang status")),
    "prefix:rrang anker": Open(READ_ONLY, say("!rrang anker")),
    "prefix:rrang vcstatus": Open(READ_ONLY, say("!rrang vcstatus")),
    "prefix:rrang info": Open(READ_ONLY, say("!rrang info")),
    "prefix:rrang rollen": Open(READ_ONLY, say("!rrang rollen")),
    "prefix:rrang kanaele": Open(READ_ONLY, say("!rrang kanaele")),
    "prefix:rrang toggle": Refused(say("!rrang toggle aus"), RankVoice.NO_PERMISSION),
    "prefix:rrang aktualisieren": Refused(say("!rrang aktualisieren"), RankVoice.NO_PERMISSION),
    "prefix:balance": Open("the help text", say("!balance")),
    "prefix:balance auto": Open("a preview; nothing is created", say("!balance auto")),
    "prefix:balance matches": Open(READ_ONLY, say("!balance matches")),
    "prefix:balance status": Open(READ_ONLY, say("!balance status")),
    "prefix:balance start": Refused(say("!balance start"), Balancer.NO_PERMISSION),
    "prefix:balance manual": Refused(
        say("!balance manual " + " ".join(f"<@{p}>" for p in PLAYERS[:4])), Balancer.NO_PERMISSION
    ),
    "prefix:balance end": Refused(say("!balance end 1"), Balancer.NO_PERMISSION),
    "prefix:balance cleanup": Refused(say("!balance cleanup"), Balancer.NO_PERMISSION),
    # -- slash commands (the hybrid ones) ----------------------------------------------
    "slash:rrang hilfe": Open("the help text", slash("rrang", "hilfe")),
    "slash:rrang status": Open(READ_ONLY, slash("rrang", "status")),
    "slash:rrang anker": Open(READ_ONLY, slash("rrang", "anker")),
    "slash:rrang vcstatus": Open(READ_ONLY, slash("rrang", "vcstatus")),
    "slash:rrang info": Open(READ_ONLY, slash("rrang", "info")),
    "slash:rrang rollen": Open(READ_ONLY, slash("rrang", "rollen")),
    "slash:rrang kanaele": Open(READ_ONLY, slash("rrang", "kanaele")),
    "slash:rrang toggle": Refused(slash("rrang", "toggle", zustand="aus"), RankVoice.NO_PERMISSION),
    "slash:rrang aktualisieren": Refused(slash("rrang", "aktualisieren"), RankVoice.NO_PERMISSION),
    "slash:balance hilfe": Open("the help text", slash("balance", "hilfe")),
    "slash:balance auto": Open("a preview; nothing is created", slash("balance", "auto")),
    "slash:balance matches": Open(READ_ONLY, slash("balance", "matches")),
    "slash:balance status": Open(READ_ONLY, slash("balance", "status")),
    "slash:balance start": Refused(slash("balance", "start"), Balancer.NO_PERMISSION),
    "slash:balance manual": Refused(
        slash("balance", "manual", spieler=" ".join(f"<@{p}>" for p in PLAYERS[:4])), Balancer.NO_PERMISSION
    ),
    "slash:balance end": Refused(slash("balance", "end", match_id=1), Balancer.NO_PERMISSION),
    "slash:balance cleanup": Refused(slash("balance", "cleanup"), Balancer.NO_PERMISSION),
    "prefix:balance history": Open(READ_ONLY, say("!balance history")),
    "prefix:balance top": Open(READ_ONLY, say("!balance top")),
    "prefix:balance stats": Open(READ_ONLY, say("!balance stats")),
    "prefix:balance result": Refused(say("!balance result 1 A"), Results.NO_PERMISSION),
    "slash:balance history": Open(READ_ONLY, slash("balance", "history")),
    "slash:balance top": Open(READ_ONLY, slash("balance", "top")),
    "slash:balance stats": Open(READ_ONLY, slash("balance", "stats")),
    "slash:balance result": Refused(slash("balance", "result", match_id=1, ergebnis="A"), Results.NO_PERMISSION),
    "dynamic:ResultButton": Refused(click("bal:result:1:amber"), Results.NO_PERMISSION),
    "dynamic:SelectionButton": Refused(click(f"bal:sel:1:p:{PLAYERS[0]}"), Balancer.SELECT_ONLY_HOST, _selection),
    "dynamic:PreviewButton": Refused(click("bal:prev:1:reroll"), Results.PREVIEW_ONLY, _preview),
    "dynamic:PreviewSwap": Refused(
        lane_click("bal:prev:1:swap", select=[str(PLAYERS[0]), str(PLAYERS[1])]), Results.PREVIEW_ONLY, _preview
    ),
    "view:PagerView": Open("paging through a list: only its opener may page (balancer tests)"),
    "view:ConfirmCorrectionView": Open("only the host who asked may confirm (balancer tests)"),
    # -- the persistent panels' components ---------------------------------------------
    "component:tv_region_de": Refused(lane_click("tv_region_de"), TempVoice.NOT_OWNER, _lane),
    "component:tv_region_e": Refused(lane_click("tv_region_e"), TempVoice.NOT_OWNER, _lane),
    "component:tv_owner_claim": Refused(lane_click("tv_owner_claim"), TempVoice.CLAIM_OWNER_PRESENT, _lane),
    "component:tv_limit_btn": Refused(lane_click("tv_limit_btn", modal="2"), TempVoice.NOT_OWNER, _lane),
    "component:tv_kick": Refused(lane_click("tv_kick"), TempVoice.NOT_OWNER, _lane),
    "component:tv_ban": Refused(lane_click("tv_ban", modal=f"<@{PLAYERS[0]}>"), TempVoice.NOT_OWNER_OR_ADMIN, _lane),
    "component:tv_unban": Refused(
        lane_click("tv_unban", modal=f"<@{PLAYERS[0]}>"), TempVoice.NOT_OWNER_OR_ADMIN, _lane
    ),
    "component:tv_minrank": Refused(lane_click("tv_minrank", select=["unknown"]), TempVoice.NOT_OWNER, _lane),
    "component:tv_tpl_reset": Refused(lane_click("tv_tpl_reset"), TempVoice.NOT_OWNER, _lane),
    "component:tv_tpl_duo": Refused(lane_click("tv_tpl_duo"), TempVoice.NOT_OWNER, _lane),
    "component:tv_tpl_trio": Refused(lane_click("tv_tpl_trio"), TempVoice.NOT_OWNER, _lane),
    "component:dl_start": Open("every member may start their own coaching (the Match ID modal)"),
    # -- the coaching steps (dynamic items: the session is in the custom_id) -----------
    "dynamic:RankSelect": Refused(step_click("rank", select=["archon"]), Coaching.NOT_YOURS, _session),
    "dynamic:SubrankSelect": Refused(step_click("subrank", select=["1"]), Coaching.NOT_YOURS, _session),
    "dynamic:HeroSelect": Refused(step_click("hero1", select=["abrams"]), Coaching.NOT_YOURS, _session),
    "dynamic:CommentButton": Refused(step_click("comment", modal="Hallo"), Coaching.NOT_YOURS, _session),
    "dynamic:FinishButton": Refused(step_click("finish"), Coaching.NOT_YOURS, _session),
    # -- the lane owner's actions (commands and panel buttons) --------------------------
    "prefix:lane": Open("the help text", say("!lane")),
    "prefix:lane reset": Open("forgets the member's own preset", say("!lane reset")),
    "slash:lane hilfe": Open("the help text", slash("lane", "hilfe")),
    "slash:lane reset": Open("forgets the member's own preset", slash("lane", "reset")),
    "view:LanePanel": Open("the TempVoice panel with the owner actions: each component has its entry"),
    "prefix:lane umbenennen": Refused(say("!lane umbenennen Meine Lane"), TempVoice.NOT_OWNER, _lane),
    "slash:lane umbenennen": Refused(slash("lane", "umbenennen", name="Meine Lane"), TempVoice.NOT_OWNER, _lane),
    "prefix:lane sperren": Refused(say("!lane sperren"), TempVoice.NOT_OWNER, _lane),
    "slash:lane sperren": Refused(slash("lane", "sperren"), TempVoice.NOT_OWNER, _lane),
    "prefix:lane entsperren": Refused(say("!lane entsperren"), TempVoice.NOT_OWNER, _lane),
    "slash:lane entsperren": Refused(slash("lane", "entsperren"), TempVoice.NOT_OWNER, _lane),
    "prefix:lane verstecken": Refused(say("!lane verstecken"), TempVoice.NOT_OWNER, _lane),
    "slash:lane verstecken": Refused(slash("lane", "verstecken"), TempVoice.NOT_OWNER, _lane),
    "prefix:lane zeigen": Refused(say("!lane zeigen"), TempVoice.NOT_OWNER, _lane),
    "slash:lane zeigen": Refused(slash("lane", "zeigen"), TempVoice.NOT_OWNER, _lane),
    "prefix:lane zulassen": Refused(say(f"!lane zulassen <@{PLAYERS[0]}>"), TempVoice.NOT_OWNER, _lane),
    "slash:lane zulassen": Refused(slash("lane", "zulassen", mitglied=PLAYERS[0]), TempVoice.NOT_OWNER, _lane),
    "prefix:lane vertrauen": Refused(say(f"!lane vertrauen <@{PLAYERS[0]}>"), LaneOwner.ONLY_OWNER, _lane),
    "slash:lane vertrauen": Refused(slash("lane", "vertrauen", mitglied=PLAYERS[0]), LaneOwner.ONLY_OWNER, _lane),
    "prefix:lane misstrauen": Refused(say(f"!lane misstrauen <@{PLAYERS[0]}>"), LaneOwner.ONLY_OWNER, _lane),
    "slash:lane misstrauen": Refused(slash("lane", "misstrauen", mitglied=PLAYERS[0]), LaneOwner.ONLY_OWNER, _lane),
    "prefix:lane ablehnen": Refused(say(f"!lane ablehnen <@{PLAYERS[0]}>"), TempVoice.NOT_OWNER_OR_ADMIN, _lane),
    "slash:lane ablehnen": Refused(slash("lane", "ablehnen", mitglied=PLAYERS[0]), TempVoice.NOT_OWNER_OR_ADMIN, _lane),
    "prefix:lane entbannen": Refused(say(f"!lane entbannen <@{PLAYERS[0]}>"), TempVoice.NOT_OWNER_OR_ADMIN, _lane),
    "slash:lane entbannen": Refused(
        slash("lane", "entbannen", mitglied=PLAYERS[0]), TempVoice.NOT_OWNER_OR_ADMIN, _lane
    ),
    "prefix:lane uebertragen": Refused(say(f"!lane uebertragen <@{PLAYERS[0]}>"), TempVoice.NOT_OWNER, _lane),
    "slash:lane uebertragen": Refused(slash("lane", "uebertragen", mitglied=PLAYERS[0]), TempVoice.NOT_OWNER, _lane),
    "prefix:lane vorlage": Refused(say("!lane vorlage"), LaneOwner.ONLY_OWNER, _lane),
    "slash:lane vorlage": Refused(slash("lane", "vorlage"), LaneOwner.ONLY_OWNER, _lane),
    "component:tv_lock": Refused(lane_click("tv_lock"), TempVoice.NOT_OWNER, _lane),
    "component:tv_hide": Refused(lane_click("tv_hide"), TempVoice.NOT_OWNER, _lane),
    "component:tv_permit": Refused(lane_click("tv_permit"), TempVoice.NOT_OWNER, _lane),
    "component:tv_trust": Refused(lane_click("tv_trust"), LaneOwner.ONLY_OWNER, _lane),
    "component:tv_reject": Refused(lane_click("tv_reject"), TempVoice.NOT_OWNER_OR_ADMIN, _lane),
    "component:tv_transfer": Refused(lane_click("tv_transfer"), TempVoice.NOT_OWNER, _lane),
    "component:tv_preset": Refused(lane_click("tv_preset"), LaneOwner.ONLY_OWNER, _lane),
    "component:tv_rename": Refused(lane_click("tv_rename"), TempVoice.NOT_OWNER, _lane),  # no modal: refused at once
    "modal:RenameModal": Refused(_rename_modal, TempVoice.NOT_OWNER, _lane),
    "component:tv_pick_permit": Refused(lane_pick("tv_pick_permit", 7), TempVoice.NOT_OWNER, _lane),
    "component:tv_pick_trust": Refused(lane_pick("tv_pick_trust", 5), LaneOwner.ONLY_OWNER, _lane),
    "component:tv_pick_untrust": Refused(lane_click("tv_pick_untrust", [str(PLAYERS[0])]), LaneOwner.ONLY_OWNER, _lane),
    "component:tv_pick_reject": Refused(lane_pick("tv_pick_reject", 5), TempVoice.NOT_OWNER_OR_ADMIN, _lane),
    "component:tv_pick_unban": Refused(
        lane_click("tv_pick_unban", [str(PLAYERS[0])]), TempVoice.NOT_OWNER_OR_ADMIN, _lane
    ),
    "component:tv_pick_transfer": Refused(
        lane_click("tv_pick_transfer", [str(PLAYERS[0])]), TempVoice.NOT_OWNER, _lane
    ),
    # -- every view and modal class ----------------------------------------------------
    "view:MainView": Open("the TempVoice panel: each of its components has its entry above"),
    "view:StartView": Open("the coaching start message: its button has its entry above"),
    "view:KickView": Refused(_kick_view, TempVoice.NOT_OWNER, _lane),
    "modal:LimitModal": Refused(lane_click("tv_limit_btn", modal="2"), TempVoice.NOT_OWNER, _lane),
    "modal:MemberModal": Refused(lane_click("tv_ban", modal=f"<@{PLAYERS[0]}>"), TempVoice.NOT_OWNER_OR_ADMIN, _lane),
    "modal:CommentModal": Refused(step_click("comment", modal="Hallo"), Coaching.NOT_YOURS, _session),
    "modal:MatchIdModal": Open("every member may start their own coaching"),
}


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    sub: type
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def registered(h: Harness) -> set[str]:
    """What the running bot offers a member, read from the bot itself."""
    bot = h.bot
    keys = {f"prefix:{c.qualified_name}" for c in bot.walk_commands()}
    keys |= {f"slash:{c.qualified_name}" for c in bot.tree.walk_commands() if isinstance(c, app_commands.Command)}
    for view in bot.persistent_views:
        keys |= {f"component:{getattr(i, 'custom_id', None)}" for i in view.children}
    keys |= {f"dynamic:{cls.__name__}" for cls in bot._connection._view_store._dynamic_items.values()}
    keys |= {f"view:{cls.__name__}" for cls in _subclasses(errors.View)}
    keys |= {f"modal:{cls.__name__}" for cls in _subclasses(errors.Modal)}
    return keys


async def test_every_registered_thing_has_an_entry(harness: Harness) -> None:
    found = registered(harness)
    assert found == set(TABLE), f"without an entry: {sorted(found - set(TABLE))}; gone: {sorted(set(TABLE) - found)}"


def test_every_view_and_modal_takes_the_one_error_path() -> None:
    import bot.features.balancer.cog
    import bot.features.coaching.cog
    import bot.features.tempvoice.cog  # noqa: F401

    for base, ours in ((discord.ui.View, errors.View), (discord.ui.Modal, errors.Modal)):
        strays = [c for c in _subclasses(base) if c.__module__.startswith("bot.") and not issubclass(c, ours)]
        assert not strays, f"derive from bot.discord_glue.errors.{ours.__name__}: {strays}"


@pytest.mark.parametrize("key", sorted(k for k, e in TABLE.items() if e.act is not None))
async def test_a_member_without_the_right_is_refused_and_nothing_changes(harness: Harness, key: str) -> None:
    entry = TABLE[key]
    assert entry.act is not None
    prepared = await entry.setup(harness)
    before = harness.rows()
    await entry.act(harness, prepared)
    texts = harness.texts()
    assert any(c.is_answer for c in harness.calls), f"{key}: no answer at all ({harness.calls})"
    if isinstance(entry, Refused):
        assert texts[-1] == entry.text, key
    assert Common.ERROR not in texts, key
    assert harness.changes() == [], f"{key}: the bot changed something on Discord"
    assert harness.rows() == before, f"{key}: the database changed"
