"""CHOICES: every fact the simulator had to choose because it is unconfirmed.

One place to change them. Each constant says what it is and why it was picked; the references
(smac-reference.md §x) point at the facts they stand in for.

Time base
    16 game loops per game second, step_mul loops per step (§3). All unit statistics are the
    "Faster" values of §3 (the same convention as SMAClite), so 8 loops = 0.5 s.

Combat
    * Damage is instant (no projectile flight, no damage point delay). A unit fires when its
      cooldown counter (in loops, fractional) is <= 0 and the target is within
      ``weapon range + both radii`` (centre distance); the remaining fraction carries over so the
      k-th shot lands on loop ceil(k * cooldown).
    * All shots of one loop are decided first, then applied (simultaneous resolution): a unit
      killed in a loop still fires in that loop.
    * Multi-hit weapons (zealot, colossus) apply their hits at once; armor is subtracted per hit.
    * Shields absorb first and have 0 armor; the part of a hit that passes the shield loses the
      unit's armor; a hit reaching health does at least ``MIN_DAMAGE``.
    * Colossus line splash: segment centred on the target, perpendicular to the attack direction,
      half length ``COLOSSUS_LINE_HALF``, width ``COLOSSUS_LINE_WIDTH`` (+ target radius), hits
      ground enemies of the attacker.
    * Baneling: explodes when within its range 0.25 of its target, hitting every ground enemy
      whose centre is within ``BANELING_SPLASH`` + its radius for 16 (+19 light) (Liquipedia
      values, §3), then dies. No friendly fire.
    * Shields regenerate ``SHIELD_REGEN`` per second after ``SHIELD_REGEN_DELAY`` seconds without
      damage; Zerg units regenerate ``ZERG_REGEN`` health per second.
    * Medivac heals ``MEDIVAC_HEAL_RATE`` HP/s (9 HP/s Normal x 1.4) at range 4, one energy per 3
      HP; energy 200 max, 50 at spawn, regenerating ``MEDIVAC_ENERGY_REGEN``/s.

Movement
    * Units move straight toward their goal at their speed. Ground units path around terrain with
      a precomputed 8-connected BFS distance table per map (a detour heads to the centre of the
      neighbour cell closest to the goal). A unit's centre must stay in a pathable cell (axis
      sliding at walls). Air units (Medivac) ignore terrain, only the map bounds.
    * Collisions: after the moves of a loop, overlapping live units of the same plane (ground,
      air, massive) are pushed apart by half the overlap each (one pass per loop, no ORCA);
      immobile units (spine crawler) are not pushed. Colossi are their own plane (small units
      walk under them) and walk over the cliff cells of ``2c_vs_64zg``.

Built-in enemy AI
    * Attack-move to the map's point. Each loop a unit keeps its target while that target is in
      weapon range; otherwise it takes the nearest attackable ally within ``max(range,
      MIN_SCAN_RANGE)`` (edge distance; Medivacs only if nothing else is there); otherwise it
      keeps chasing its old target while within its sight, otherwise it answers the last ally
      that damaged it, otherwise it walks to the attack-move point.
    * ``2c_vs_64zg``: the zerglings' point is the nearest live ally ("attack the unit group").
    * Enemy Medivac: heals the most damaged friend within sight, else follows the centroid of
      its live army.
    * Spine crawler: static; fires at the nearest ally in weapon range (sticky).

Spawns and ids
    * Each army group is packed around its point on a square grid (spacing 2 x largest radius
      + ``SPAWN_GAP``), filled nearest-first, pathable cells only, then jittered by a uniform
      ``SPAWN_JITTER`` per coordinate (the only randomness besides 2m_vs_1z's attack point).
    * Ally ids are sorted by (type one-hot order, x, y); enemy ids follow the map's group order.

Observation / state
    * Positions are normalised by the 32x32 map size (the map header bounds; unconfirmed).
    * ``obs_timestep_number`` occupies the last slot of the own-feature block (obs size and
      content agree).
    * Terrain heights (``obs_terrain_height``): arena cells ``HEIGHT_ARENA``, plateau arenas
      ``HEIGHT_PLATEAU``, other cells ``HEIGHT_OUTSIDE`` (already divided by 255 in spirit).

Episode end
    * ``info["episode_limit"] = True`` is set on every time-out (SMAC only does it with
      ``continuing_episode=True``) so a caller can tell a truncation from a termination.
    * Stepping a finished battle of a batch is a no-op (reward 0, terminated stays True).
"""

from __future__ import annotations

MIN_DAMAGE = 0.5
COLOSSUS_LINE_HALF = 1.4
COLOSSUS_LINE_WIDTH = 0.3
BANELING_DAMAGE = 16.0
BANELING_BONUS_LIGHT = 19.0
BANELING_SPLASH = 2.2
BANELING_SPEED = 3.5  # 2.5 Normal (map data) x 1.4
SHIELD_REGEN = 2.0  # per second
SHIELD_REGEN_DELAY = 10.0  # seconds
ZERG_REGEN = 0.38  # health per second
MEDIVAC_HEAL_RATE = 12.6  # HP per second
MEDIVAC_HEAL_RANGE = 4.0
MEDIVAC_ENERGY_PER_HP = 1.0 / 3.0
MEDIVAC_ENERGY_REGEN = 0.7875  # 0.5625 Normal x 1.4
MEDIVAC_SPEED = 3.85  # 2.75 Normal (map data) x 1.4
SPINE_RADIUS = 1.0
MIN_SCAN_RANGE = 5.0
SPAWN_GAP = 0.05
SPAWN_JITTER = 0.1
HEIGHT_ARENA = 0.5
HEIGHT_PLATEAU = 0.6
HEIGHT_OUTSIDE = 0.3
MAP_SIZE = 32
