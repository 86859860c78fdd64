"""CHOICES: every rule the simulator had to choose or approximate, with the reason, in one place.

The figures of the game (HP, damage, periods, speeds, radii, regeneration) are SC2's and
SMAC's own, with their sources, in ``units.py``; the terrain, spawns and orders come from
SMAC's map files (``terrain.py``, ``maps.py``). What the engine does with them is below;
``docs/simulator.md`` lists the same with SC2's rule beside each.

Clock
    SC2's: 16 game loops per Normal game second (22.4 per real second at Faster), 8 loops a
    SMAC step; every time and rate is converted with it (``units.py``). Not a choice.

A game loop (``sim.py``)
    * SC2's: timers and regeneration, then every unit in a random order (pysc2: "the update
      order is random") drawn each loop from the battle's own stream (``rng.py``): it lands its
      attack effects in flight, then carries out its order or its AI, fighting or walking.
      Each unit moves and strikes at its turn, seeing the others where they are then.

Combat (``combat.py``): SC2's weapon fields, read from its data tables (``units.py``)
    * An attack starts when the weapon is ready, the target within range (range + rangeSlop
      once the weapon has attacked it) and within the weapon's arc (arc / 2 + arcSlop) of the
      unit's facing. Its cooldown is the period plus a random delay drawn uniformly between
      randomDelayMin and randomDelayMax (-1..+2 loops); the cooldown carries its fraction over.
      APPROXIMATED: whether the delay is drawn uniformly over that range, and continuously,
      is not in the data (pysc2 gives only the range).
    * The effect comes at the damage point; the backswing follows, during which the unit holds
      still. APPROXIMATED: a new order before the damage point cancels the attack and refunds
      its cooldown, one after it cuts the backswing; the same attack order again changes
      nothing (SC2's exact bookkeeping of cut attacks is not in the data).
    * Missiles (stalker, marauder, hydralisk, spine crawler) fly from the attacker's centre at
      their mover's speed (MoverData, accelerating up to its maximum) toward the target's
      current position, and hit on reaching its edge; a target that dies first wastes them.
      APPROXIMATED: the impact at the target's edge, and the launch from the centre (SC2
      launches from a weapon's attachment point, and the impact point is in the art data).
    * Multi-hit weapons strike at their effect's own intervals (zealot: 2 hits 0.28 s apart;
      colossus: 2 hits 0.09 s apart, each along its beam).
    * Shields absorb first and have 0 armor; the part of a hit that passes the shield loses the
      unit's armor; a hit reaching health does at least ``MIN_DAMAGE`` (SC2's 0.5 minimum,
      Liquipedia "Damage").
    * Colossus line splash. APPROXIMATED: SC2 sweeps the beam across (ThermalLancesReverse, an
      effect of 11 searches); here each hit strikes a segment centred on the target,
      perpendicular to the attack, half length ``COLOSSUS_LINE_HALF``, width
      ``COLOSSUS_LINE_WIDTH`` (+ target radius), on ground units of the target's side.
    * Baneling: its attack is its burst (Volatile Burst: splash radius from the data, on ground
      units of the other side whose edge is within it; no friendly fire), then it dies; a
      baneling killed otherwise bursts too, and bursts that kill banelings set off theirs
      (Liquipedia, Baneling). The burst's 80 against structures never meets one here.
    * The hydralisk uses its close-range weapon (HydraliskMelee) on a ground target within its
      range 0.5, its Needle Spines otherwise. APPROXIMATED: the two weapons share one cooldown.
    * Medivac: heals at the data's rate (9 per Normal second) at range 4, paying 0.33 energy per
      HP, biological units only. APPROXIMATED: the heal's arc (15 degrees) is not checked.
    * An order SC2 would refuse (a ground-only weapon on an air unit) has no effect: the unit
      keeps its previous order.

Facing and turning
    * Units turn at their turningRate (degrees per Normal second; 999.8 for most, 720 for the
      colossus, 719.5 for the spine crawler) toward their target, or toward where they walk.
      They start facing ``SPAWN_FACING``, 270 degrees. APPROXIMATED: the facing of created
      units (SC2's default facing, not in the map files), and walking does not wait for the
      turn (SC2's units of turning rate ~1000 barely do).

Movement and crowds (``movement.py``)
    * Units move straight toward their goal at their speed (SC2's acceleration is left out: all
      the agents' units have Acceleration 1000 in the map data but the medivac, 2.3125).
    * Ground units route around terrain over the cell grid (Dijkstra, 10 a straight step, 14 a
      diagonal one) and slide along walls; positions are continuous and a unit is a circle of its
      radius, so its radius decides which gaps it fits through (``terrain.py``).
    * Diagonal outlines: a blocked cell that is a step of a staircase outline is cut along its
      diagonal (SC2 draws such outlines with diagonal cliff pieces). This is what makes
      corridor's link a choke about 1.41 wide; the exact shape of SC2's cliff models is unknown.
    * Units are solid and never overlap. APPROXIMATED (SC2's pathing and local avoidance are not
      in any data; what is modelled is what players see of them): a moving unit slides around,
      or stops at, enemies, structures and its own units that hold their ground (fighting with
      the target in reach, or in an attack's animation); it pushes its own units that stand idle
      or are on their way somewhere (chains of up to ``MAX_PUSHED``), so a crowd flows round a
      fighting front row. A unit whose way stays blocked steps aside (``SIDESTEP_DEGREES``),
      first on the side it took last. A melee attacker (range below ``MELEE_RANGE``) within
      ``RING_LOOKOUT`` of its target heads for the nearest free spot on the ring at
      ``RING_DEPTH`` of its range from the target's edge (candidates ``RING_STEP_DEGREES``
      apart), circling the target (``ORBIT_STEPS`` steps at a time) to reach a spot far round;
      with the ring full it waits, and the AI takes another target of the same rank. So a dozen
      zerglings surround a zealot (about eight fit at melee range).
    * Colossi collide only with colossi (they step over small units) and cross cliff walls.
      Flying units (medivacs) do not collide (SC2 only spreads them softly).

Built-in enemy AI (``targeting.py``)
    * Attack-move to the map's point, in formation: the map script orders the enemy's units as
      one group, and SC2 moves a group ordered together keeping its shape, so each unit heads
      for the point plus its offset from the group's centre at spawn; it arrives within
      ``ARRIVAL_RADIUS``.
    * Target choice by pysc2's account of SC2's auto-targeting: enemies within the weapon's
      scan range (minScanRange, at least the range) ranked by attackTargetPriority, then threat:
      units with a weapon above those without, those that can return fire above those that
      can't, one that can't but attacks an ally of the chooser as if it could (call for help),
      a healer healing above a healer at rest; the nearest on a tie.
    * APPROXIMATED (SC2's AI is not in the data; these rules are a reading of its behaviour):
      a unit keeps the target it is firing on while it stays in reach (range + rangeSlop)
      unless a higher-ranked enemy comes within scan range; it chases a target beyond its
      scan range while within its sight; with nothing in scan range it answers the last unit
      that damaged it; otherwise it walks on to its attack-move point.
    * ``2c_vs_64zg``'s "attack the ally unit group": the nearest live ally.
    * Enemy Medivac: heals the hurt biological ally within its auto-cast range (6) with the
      smallest life fraction, then the nearest (the heal's target sorts), else follows its
      army's centroid. APPROXIMATED: following the centroid stands in for the medivac's
      attack-move (``AcquireMove``).
    * Spine crawler: static; fires at the best target within its weapon range.

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

SMACv2 (``rllib_qmix.envs.smacv2``; facts from oxwhirl/smacv2, see that package's docstrings)
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
    * An ordered enemy keeps its target until it dies (SC2's attack-unit order), by the rules
      of combat and crowds above.
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
SPAWN_FACING_DEGREES = 270.0
ARRIVAL_RADIUS = 0.5
SPAWN_GAP = 0.05
SPAWN_JITTER = 0.1
HEIGHT_BASE = 0.0
HEIGHT_PER_CLIFF_LEVEL = 8.0
MAP_SIZE = 32
# Crowds
MAX_PUSHED = 8
SIDESTEP_DEGREES = (30.0, 60.0, 90.0)
MELEE_RANGE = 1.0
RING_DEPTH = 0.9
RING_STEP_DEGREES = 10.0
RING_LOOKOUT = 3.0
ORBIT_STEPS = 4
ORBIT_MARGIN = 0.3
