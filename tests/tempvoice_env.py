"""A guild with TempVoice configured on the fake Discord and a real database file."""

from __future__ import annotations

import dataclasses

from bot.db import Database
from bot.db.queries import queries
from bot.discord_glue.ports import VoiceMove
from bot.features.tempvoice.service import LaneService, TempVoiceConfig
from bot.shared.clock import ManualClock
from bot.shared.ranks import RANK_NAMES
from bot.shared.rename import RenameScheduler
from tests.fakes.discord_world import EventDelivery, FakeDiscord
from tests.helpers import make_deps

GUILD = 1_111_111_111_111_111_111


@dataclasses.dataclass
class Env:
    db: Database
    world: FakeDiscord
    clock: ManualClock
    renamer: RenameScheduler
    service: LaneService
    config: TempVoiceConfig
    lanes_cat: int
    ranked_cat: int
    overflow_cat: int
    overflow_cat2: int
    staging: int
    ranked_staging: int
    english_only: int
    rank_roles: dict[int, int]  # rank value -> role id
    panel_text: int

    async def move(self, member: int, channel: int | None) -> None:
        """A member moves by themselves; the event is handled and every echo settled."""
        await self.service.on_voice_move(self.world.user_moves(GUILD, member, channel))
        await self.world.settle()

    async def toggle(self, member: int) -> None:
        """Mute/deafen/stream: Discord sends a voice update with the same channel."""
        channel = self.world.voice_channel_of(GUILD, member)
        await self.service.on_voice_move(VoiceMove(GUILD, member, channel, channel))

    def lane_of(self, member: int) -> int | None:
        """Where the member really is (the bot's cache may not know yet, or never)."""
        return self.world.truth_channel_of(GUILD, member)

    def restart(self, db: Database) -> Env:
        """New services (as after a restart) on the same database file and the same Discord."""
        renamer = RenameScheduler(db, self.world, self.world, self.clock)
        service = LaneService(make_deps(db, self.world, self.clock, renamer=renamer), self.config)
        self.world.listener = service.on_voice_move
        self.world.channel_delete_listener = service.on_channel_deleted
        return dataclasses.replace(self, db=db, renamer=renamer, service=service)


def build_env(db: Database, *, seed: int = 0, event_delivery: EventDelivery = "before") -> Env:
    clock = ManualClock()
    world = FakeDiscord(clock, seed=seed, event_delivery=event_delivery)
    world.add_guild(GUILD)
    lanes_cat = world.add_category(GUILD, "Lanes")
    ranked_cat = world.add_category(GUILD, "Ranked")
    overflow_cat = world.add_category(GUILD, "Overflow")
    overflow_cat2 = world.add_category(GUILD, "Overflow 2")
    staging = world.add_voice(GUILD, "➕ Lane erstellen", lanes_cat)
    ranked_staging = world.add_voice(GUILD, "➕ Ranked Lane", ranked_cat)
    english_only = world.add_role(GUILD, "English only")
    rank_roles = {value: world.add_role(GUILD, name) for value, name in enumerate(RANK_NAMES) if value}
    config = TempVoiceConfig(
        staging_channel_ids=frozenset({staging, ranked_staging}),
        ranked_category_ids=frozenset({ranked_cat}),
        minrank_category_ids=frozenset({ranked_cat}),
        overflow_category_ids=(overflow_cat, overflow_cat2),
        english_only_role_id=english_only,
    )
    renamer = RenameScheduler(db, world, world, clock)
    service = LaneService(make_deps(db, world, clock, renamer=renamer), config)
    world.listener = service.on_voice_move
    world.channel_delete_listener = service.on_channel_deleted
    return Env(
        db,
        world,
        clock,
        renamer,
        service,
        config,
        lanes_cat,
        ranked_cat,
        overflow_cat,
        overflow_cat2,
        staging,
        ranked_staging,
        english_only,
        rank_roles,
        world.add_text(GUILD),
    )


async def lanes_in_db(env: Env) -> dict[int, int]:
    """channel id -> owner id of every tracked lane."""
    async with env.db.read() as conn:
        return {
            lane.channel_id: lane.owner_id for lane in await queries.tempvoice.list_lanes_by_guild(conn, guild_id=GUILD)
        }
