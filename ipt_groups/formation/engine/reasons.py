"""Why a member stayed unplaced: a reason code and a sentence a coordinator can act on."""

from __future__ import annotations

from collections import Counter, defaultdict

from ipt_groups.formation.engine.pairs import Context, bucket_key, build_pairs

_ATTR_WORDS = {
    "problem_area": "problem area",
    "language": "language",
    "age_band": "age band",
    "gender": "gender",
}


def explain(ctx: Context, unplaced: list[int], match: tuple[str, ...], viable: set[int] | None = None):
    """Reason for each unplaced member, judged within its bucket under `match`, ignoring formed groups.

    `viable` (members in some pair built with every facilitator free) may be passed when the caller has
    built those pairs already; otherwise they are built here.
    """
    key = bucket_key(match)
    wanted = {key(ctx.inp.members[m]) for m in unplaced}
    mates = [m.index for m in ctx.inp.members if key(m) in wanted and ctx.member_fit[m.index]]
    counts: dict[tuple, Counter] = defaultdict(Counter)
    for m in mates:
        counts[key(ctx.inp.members[m])].update(ctx.member_fit[m])
    if viable is None:
        viable = {m for p in build_pairs(ctx, mates, key, ctx.fresh_state()) for m in p.members}
    words = ", ".join(_ATTR_WORDS[a] for a in match) or "attributes"
    rows = []
    for m in sorted(unplaced, key=ctx.rank.__getitem__):
        reason, detail = _reason(ctx, m, counts[key(ctx.inp.members[m])], m in viable, words)
        rows.append({"member_id": ctx.inp.members[m].id, "reason": reason, "detail": detail})
    return rows


def _reason(ctx: Context, m: int, counts: Counter, viable: bool, words: str) -> tuple[str, str]:
    policy, fit = ctx.policy, ctx.member_fit[m]
    if not ctx.inp.members[m].windows:
        return "no_availability", "No availability was given, so no session time can be chosen."
    best = max(fit, key=lambda s: (counts[s], -s)) if fit else None
    if best is None or counts[best] < 2:
        return "no_shared_slot", (
            f"Nobody with the same {words} is free for a whole {policy.session_minutes}-minute session"
            f" at the same time on every date of the {policy.weeks}-week cycle."
        )
    if counts[best] < policy.min_size:
        return "too_few_at_slot", (
            f"At most {counts[best]} people with the same {words} share a time"
            f" ({ctx.table.slots[best].label}); a group needs {policy.min_size}."
        )
    if not viable:
        return "no_facilitator", (
            f"Enough people share a time, but no facilitator who leads this {words} is free at any of them."
        )
    return "groups_full", (
        "Every group or facilitator at this member's times is already used by other groups;"
        " longer-waiting members were placed first."
    )
