"""Every batch key shared by the env runner, the replay buffer, the RLModule and the learner.

Episode-major layout: ``[B, T+1, ...]`` for per-step inputs (the extra step holds the final
observation), ``[B, T]`` for per-transition values.
"""

OBS = "obs"  # [B, T+1, N, obs_dim] float32
STATE = "state"  # [B, T+1, state_dim] float32
AVAIL_ACTIONS = "avail_actions"  # [B, T+1, N, n_actions] bool
ACTIONS = "actions"  # [B, T, N] int64
REWARDS = "rewards"  # [B, T] float32, team reward
TERMINATED = "terminated"  # [B, T] float32, 1 where the episode terminated (no bootstrap)
MASK = "mask"  # [B, T] float32, 1 for the real transitions (a prefix of each row), 0 for padding
# [B] float32, only in a data-parallel learner's shard: the factor that makes the average of
# the shards' masked-mean losses equal the masked mean over the whole batch.
LOSS_SCALE = "loss_scale"
# [B] float32, only with prioritised replay: each episode's importance weight in the loss.
PER_WEIGHTS = "per_weights"

# Forward-pass outputs of the QMIX RLModule.
Q_TAKEN_TOT = "q_taken_tot"  # [B, T] (mixed) or [B, T, N] (no mixer)
TARGET_NEXT_TOT = "target_next_tot"  # [B, T] or [B, T, N], target value of the next step
Q_TAKEN = "q_taken"  # [B, T, N] chosen per-agent Q-values
# [B, T] (mixed: every agent's) or [B, T, N] (no mixer: each agent's) float 1/0, whether the action
# taken at step t+1 is the greedy one that picked the bootstrap value of step t+1 (a
# ``td_lambda_trace="watkins"`` trace keeps going there); 0 at the last step.
NEXT_GREEDY = "next_greedy"

# Acting step of the QMIX RLModule (``_forward``), one step of E teams.
Q_VALUES = "q_values"  # [E, N, n_actions] out
PREV_ACTIONS = "prev_actions"  # [E, N] int64 in, -1 at an episode's first step
STATE_IN = "state_in"  # [E * N, hidden] GRU state in
STATE_OUT = "state_out"  # [E * N, hidden] GRU state out

# Extra entry of the env runner's ``get_spaces()``: the team's sizes and episode limit
# (``rllib_qmix.envs.team.TeamSpec``), so the algorithm learns them with the spaces.
TEAM_SPEC = "qmix_team_spec"
