"""CHOICES: every rule the simulator had to choose or approximate, with the reason, in one place.

The figures of the game (HP, damage, periods, speeds, radii, regeneration) are SC2's and
SMAC's own, with their sources, in ``units.py``; the terrain, spawns and orders come from
SMAC's map files (``terrain.py``, ``maps.py``). What the engine does with them is below;
``docs/simulator.md`` lists the same with SC2's rule beside each.

Clock
    SC2's: 16 game loops per Normal game second (22.4 per real second at Faster), 8 loops a
    SMAC step; every time and rate is converted with it (``units.py``). Not a choice.

Combat (SC2 has projectiles, damage points and weapon turn-around that are not modelled)
    * Damage is instant: a unit fires when its cooldown (in loops, fractional) is <= 0 and the
      target is within ``weapon range + both radii`` (centre distance); the remaining fraction
      carries over, so the k-th shot lands on loop ceil(k * period * 16). SC2's small random
      delay between shots is left out.
    * All shots of one loop are decided first, then applied (simultaneous resolution): a unit
      killed in a loop still fires in that loop.
    * Multi-hit weapons (zealot, colossus) apply their hits at once; armor is subtracted per hit.
    * Shields absorb first and have 0 armor; the part of a hit that passes the shield loses the
      unit's armor; a hit reaching health does at least ``MIN_DAMAGE`` (SC2's 0.5 minimum).
    * Colossus line splash: a segment centred on the target, perpendicular to the attack
      direction, half length ``COLOSSUS_LINE_HALF``, width ``COLOSSUS_LINE_WIDTH`` (+ target
      radius); it hits ground units of the target's side.
    * Baneling: explodes when within its range of its target, hitting every ground enemy whose
      centre is within ``BANELING_SPLASH`` + its radius, then dies. No friendly fire.
    * Medivac: heals ``MEDIVAC_HEAL_RATE`` HP per Normal second (= 12.6 per Faster second) at
      range 4, one energy per ``1 / MEDIVAC_ENERGY_PER_HP`` HP, biological units only.
    * An order SC2 would refuse (a ground-only weapon on an air unit) has no effect: the unit
      keeps its previous order.

Movement and collisions
    * Units move straight toward their goal at their speed (SC2's acceleration is left out: all
      the agents' units have Acceleration 1000 in the map data but the medivac, 2.3125).
    * Ground units route around terrain over the cell grid (Dijkstra, 10 a straight step, 14 a
      diagonal one) and slide along walls; positions are continuous and a unit is a circle of its
      radius, so its radius decides which gaps it fits through (``terrain.py``).
    * Diagonal outlines: a blocked cell that is a step of a staircase outline is cut along its
      diagonal (SC2 draws such outlines with diagonal cliff pieces). This is what makes
      corridor's link a choke about 1.41 wide; the exact shape of SC2's cliff models is unknown.
    * Units are solid: a moving unit stops at, or slides around, enemies, structures and its own
      busy units (moving or fighting); its own idle units step aside (pushed out of the way if
      they fit, else the mover waits). Units move one at a time, in an order that alternates
      between game loops. Colossi collide only with colossi (they step over small units) and
      cross cliff walls. Flying units (medivacs) do not collide (SC2 only spreads them softly).

Built-in enemy AI
    * Attack-move to the map's point, in formation: the map script orders the enemy's units as
      one group, and SC2 moves a group ordered together keeping its shape, so each unit heads
      for the point plus its offset from the group's centre at spawn.
    * Each loop a unit keeps its target while that target is in weapon range; otherwise it takes
      the nearest attackable ally within ``max(range, MIN_SCAN_RANGE)`` (edge distance; Medivacs
      only if nothing else is there); otherwise it keeps chasing its old target while within its
      sight, otherwise it answers the last ally that damaged it, otherwise it walks to the
      attack-move point (it arrives within ``ARRIVAL_RADIUS``).
    * ``2c_vs_64zg``'s "attack the ally unit group": the nearest live ally.
    * Enemy Medivac: heals the most damaged friend within sight, else follows its army's centroid.
    * Spine crawler: static; fires at the nearest ally in weapon range (sticky).

Spawns and ids
    * The map script creates each army group with one "create N units at P" call; the engine's
      spread is not in the map files. Here the units are packed nearest-first around P on a
      square grid (spacing 2 x largest radius + ``SPAWN_GAP``) where they fit the terrain, then
      each moves by a uniform ``SPAWN_JITTER`` per coordinate where it still fits and overlaps
      nothing (the only randomness besides 2m_vs_1z's attack point).
    * Ally ids are sorted by (type one-hot order, x, y), as SMAC sorts by (unit type, x, y);
      enemy ids follow the map's group order.

Observation / state
    * Positions are normalised by the 32x32 map size (the maps' playable area is 0..32).
    * ``obs_timestep_number`` occupies the last slot of the own-feature block.
    * Terrain height (``obs_terrain_height``, ``terrain_height``): SC2 reports heights as a byte
      h with z = -16 + 32 h / 255; the maps paint no height, so z comes from the cliff level,
      ``HEIGHT_BASE + HEIGHT_PER_CLIFF_LEVEL * level`` (the maps' height layer reads ~8.0 on
      level-1 floors and ~0 on level-0 ground).

SMACv2 (``rllib_qmix.envs.smacv2``; facts in ``shared/docs/smacv2-reference.md``)
    * Enemy AI: at the start of every agent step (every 8 loops = 0.5 Normal seconds, the map's
      trigger period) each live enemy without a live target is ordered to attack the closest
      live agent unit (centre distance) it can target, and keeps that target until it dies. An
      enemy whose target died stands until the next order (at most 7 loops): the stock units'
      own auto-acquire in between is left out. An enemy medivac gets no order and heals as
      above.
    * Spawns: SMACv2 creates each unit alone at its drawn point; SC2 puts it on the nearest free
      spot. Here the spot is the nearest point of a square grid around the drawn point (spacing
      2 x radius + ``SPAWN_GAP``) inside the map and clear of the ground units created before
      it (allies first, then enemies); no jitter.
    * The map's playable area is taken as the whole 32x32 (as for SMAC's maps): the state's
      positions are ``(x - 16) / 32``; the real 32x32_flat's playable bounds are in its binary
      map file and were not read.
    * ``max_reward`` (the reward scale) is computed for every episode from its enemies; SMACv2
      fixes it from the first episode's random enemy team.
    * EPO (``prob_obs_enemy`` < 1): spotting is redrawn whenever an enemy loses its spotter (or
      dies), from a generator of its own seeded by the battle's, so the observations do not
      change the battles that follow; an unseen enemy zeroes only its own row (upstream zeroes
      the whole enemy block, oxwhirl/smacv2#50).

Episode end
    * ``info["episode_limit"] = True`` is set on every time-out (SMAC only does it with
      ``continuing_episode=True``) so a caller can tell a truncation from a termination.
    * Stepping a finished battle of a batch is a no-op (reward 0, terminated stays True).
"""

from __future__ import annotations

MIN_DAMAGE = 0.5
COLOSSUS_LINE_HALF = 1.4
COLOSSUS_LINE_WIDTH = 0.3
BANELING_SPLASH = 2.2
MEDIVAC_HEAL_RATE = 9.0  # HP per Normal second
MEDIVAC_ENERGY_PER_HP = 1.0 / 3.0
ARRIVAL_RADIUS = 0.5
SPAWN_GAP = 0.05
SPAWN_JITTER = 0.1
HEIGHT_BASE = 0.0
HEIGHT_PER_CLIFF_LEVEL = 8.0
MAP_SIZE = 32
SPAWN_FACING = 1.5 * 3.141592653589793  # 270 degrees: SC2's default facing
