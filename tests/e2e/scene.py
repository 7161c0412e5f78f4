"""The community's guild on the local Discord API, configured as the README says."""

from __future__ import annotations

import dataclasses

from bot.shared.ranks import RANK_NAMES
from tests.e2e.world import CATEGORY, TEXT, VOICE, World

MANAGE_CHANNELS, MANAGE_GUILD = 1 << 4, 1 << 5


@dataclasses.dataclass
class Scene:
    world: World
    commands: int
    lanes_cat: int
    staging: int
    ranked_cat: int
    ranked_staging: int
    overflow_cat: int
    rank_cat: int
    rank_channels: list[int]
    match_cat: int
    status_cat: int
    status_channel: int
    lobby: int
    rank_roles: dict[int, int]  # rank value -> role id
    admin: int
    members: list[int]

    def env(self) -> dict[str, str]:
        return {
            "TEMPVOICE_STAGING_CHANNEL_IDS": f"{self.staging},{self.ranked_staging}",
            "TEMPVOICE_RANKED_CATEGORY_IDS": str(self.ranked_cat),
            "TEMPVOICE_MINRANK_CATEGORY_IDS": f"{self.lanes_cat},{self.ranked_cat}",
            "TEMPVOICE_OVERFLOW_CATEGORY_IDS": str(self.overflow_cat),
            "RANKVOICE_RANKED_CATEGORY_IDS": str(self.rank_cat),
            "BALANCER_MATCH_CATEGORY_IDS": str(self.match_cat),
            "VOICE_STATUS_CATEGORY_IDS": str(self.status_cat),
            "VOICE_STATUS_INTERVAL_SECONDS": "15",
            "COACHING_ENABLED": "1",
            "COACHING_CLAIM_PORT": "9",  # nothing listens: the claim call fails and is logged, not raised
        }

    def add_members(self, count: int, *, rank: int = 0, prefix: str = "spieler") -> list[int]:
        roles = [self.rank_roles[rank]] if rank else []
        out = [self.world.add_member(f"{prefix}{len(self.members) + i}", roles=roles) for i in range(count)]
        self.members.extend(out)
        return out


def build_scene(members: int = 12) -> Scene:
    w = World()
    rank_roles = {value: w.add_role(name, position=value + 1) for value, name in enumerate(RANK_NAMES) if value}
    admin_role = w.add_role("Admin", permissions=MANAGE_CHANNELS | MANAGE_GUILD, position=30)
    admin = w.add_member("admin", roles=[admin_role, rank_roles[6]])
    text_cat = w.add_channel("Text", CATEGORY)
    commands = w.add_channel("bot-befehle", TEXT, parent_id=text_cat)
    lanes_cat = w.add_channel("Lanes", CATEGORY)
    staging = w.add_channel("➕ Lane erstellen", VOICE, parent_id=lanes_cat)
    ranked_cat = w.add_channel("Ranked Lanes", CATEGORY)
    ranked_staging = w.add_channel("➕ Ranked Lane", VOICE, parent_id=ranked_cat)
    overflow_cat = w.add_channel("Lanes Überlauf", CATEGORY)
    rank_cat = w.add_channel("Rang-Kanäle", CATEGORY)
    rank_channels = [w.add_channel(f"Ranked {i}", VOICE, parent_id=rank_cat) for i in (1, 2)]
    match_cat = w.add_channel("Matches", CATEGORY)
    status_cat = w.add_channel("Deadlock Voice", CATEGORY)
    status_channel = w.add_channel("Deadlock 1", VOICE, parent_id=status_cat)
    lobby = w.add_channel("Treffpunkt", VOICE, parent_id=text_cat)
    scene = Scene(
        w,
        commands,
        lanes_cat,
        staging,
        ranked_cat,
        ranked_staging,
        overflow_cat,
        rank_cat,
        rank_channels,
        match_cat,
        status_cat,
        status_channel,
        lobby,
        rank_roles,
        admin,
        [],
    )
    for i in range(members):
        scene.add_members(1, rank=1 + i % 11)
    return scene
