"""Relocation search: move a facilitator's group to where it places more members.

Once the constructions have run, nearly every facilitator's capacity is in use, so what decides how many
members are placed is where those groups meet. A move closes one group and opens its facilitator's group
at another pair:

1. the closed group's members go back through forward chains (a member joins a group with room, or takes
   the place of a member who moves on to another group, and so on: augment.py's rule);
2. the new group pulls waiting members in through reverse chains (a waiting member takes the place of a
   member who moves on towards the new group); if it stays below min_size it borrows members from groups
   above min_size, which then pull waiting members in themselves.

Chains never shrink a group except by borrowing, which stops at min_size, so every group stays valid. A
move is kept when no fewer members are placed: sideways moves let the search drift across the wide
plateaus of this problem, where a later move finds a gain. Otherwise it is undone. A group to move is
drawn at random (seeded); its target is one of the pairs its facilitator can lead, most waiting members
first. Every few moves a facilitator with capacity left tries to open a group, kept only for a gain; if it
cannot, it takes over a group it could lead, and that group's former facilitator tries instead.

Searches from a member that found no room mark every group they reached as dead for the rest of the move:
a group from which no chain reaches room keeps that property while other chains are applied.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict, deque

from ipt_groups.formation.engine.augment import prefer_waiting
from ipt_groups.formation.engine.pairs import Context, FacilitatorState, Group, Pair
from ipt_groups.formation.engine.solver import score

_TARGETS = 5  # target pairs tried per drawn group, most waiting members first
_OPEN_EVERY = 8  # every n-th try opens a group for a facilitator with capacity left, if there is one


class Relocation:
    """Groups, who is where, and facilitators' commitments, with moves that are kept or undone."""

    def __init__(self, ctx: Context, pairs: list[Pair], state: FacilitatorState, groups: list[Group]):
        self.ctx, self.lo, self.hi = ctx, ctx.policy.min_size, ctx.policy.max_size
        self.state = state.copy()
        self.spans = {p.index: ctx.span(p.slot) for p in pairs}
        self.member_pairs: dict[int, list[Pair]] = defaultdict(list)
        self.fac_pairs: dict[int, list[Pair]] = defaultdict(list)
        for p in pairs:
            for m in p.members:
                self.member_pairs[m].append(p)
            for f in p.facilitators:
                self.fac_pairs[f].append(p)
        self.groups = [Group(g.pair, g.facilitator, list(g.members)) for g in groups]
        self.at_pair: dict[int, list[Group]] = defaultdict(list)
        self.group_of: dict[int, Group] = {}
        for g in self.groups:
            self.state.take(g.facilitator, self.spans[g.pair.index])
            self.at_pair[g.pair.index].append(g)
            self.group_of.update({m: g for m in g.members})
        self.reachable = len(self.member_pairs)
        self.version: dict[tuple, int] = defaultdict(int)  # per bucket: bumped by every move kept there
        self._waiting: dict[int, tuple[int, int]] = {}  # pair -> (bucket version, waiting members)
        self._log: list[tuple[int, Group | None]] = []  # (member, group before) since the move began

    @property
    def placed(self) -> int:
        return len(self.group_of)

    # --- moves ------------------------------------------------------------------------------------

    def move(self, g: Group, target: Pair) -> bool:
        """Close `g` and open its facilitator's group at `target`; kept if no fewer members are placed."""
        f, before = g.facilitator, self.placed
        saved = self._begin((g.pair, target), f)
        self._close(g)
        if not self.state.free(f, self.spans[target.index]):
            self._undo(saved)
            return False
        new = self._open(target, f)
        if self.placed < before or len(new.members) < self.lo:
            self._undo(saved)
            return False
        self._kept(g.pair, target)
        return True

    def open_spare(self, f: int, target: Pair) -> bool:
        """Open a group for facilitator `f` (capacity left) at `target`; kept only if more are placed."""
        before = self.placed
        if not self.state.free(f, self.spans[target.index]):
            return False
        saved = self._begin((target,), f)
        new = self._open(target, f)
        if self.placed <= before or len(new.members) < self.lo:
            self._undo(saved)
            return False
        self._kept(target)
        return True

    def hand_over(self, g: Group, f: int) -> None:
        """Give group `g` to facilitator `f` (free at its slot, capacity left): members stay put."""
        span = self.spans[g.pair.index]
        self.state.release(g.facilitator, span)
        self.state.take(f, span)
        g.facilitator = f
        self._kept(g.pair)

    def _close(self, g: Group) -> None:
        _drop(self.groups, g)
        _drop(self.at_pair[g.pair.index], g)
        self.state.release(g.facilitator, self.spans[g.pair.index])
        freed, g.members = g.members, []
        for m in freed:
            self._log.append((m, self.group_of.pop(m)))
        if any(len(h.members) < self.hi for h in self.groups if h.pair.bucket == g.pair.bucket):
            dead: set[int] = set()
            for m in sorted(freed, key=self.ctx.rank.__getitem__):
                self._push(m, dead)

    def _open(self, pair: Pair, f: int) -> Group:
        g = Group(pair, f, [])
        self.groups.append(g)
        self.at_pair[pair.index].append(g)
        self.state.take(f, self.spans[pair.index])
        self._fill(g)
        if len(g.members) < self.lo:
            self._borrow(g)
        return g

    def _fill(self, g: Group) -> None:
        while len(g.members) < self.hi and self._pull(g):
            pass

    def _borrow(self, g: Group) -> None:
        """Take members who fit `g` from groups above min_size, which then pull waiting members in."""
        for y in g.pair.members:
            if len(g.members) >= self.lo:
                return
            h = self.group_of.get(y)
            if h is not None and h is not g and len(h.members) > self.lo:
                self._place(y, g)
                self._fill(h)

    # --- chains -----------------------------------------------------------------------------------

    def _push(self, m: int, dead: set[int]) -> bool:
        """Place waiting member `m` along the shortest forward chain ending in a group with room."""
        parent: dict[int, tuple[Group | None, int]] = {}
        queue: deque[Group] = deque()
        seen: set[int] = set()
        self._reach(m, None, parent, queue, dead, seen)
        while queue:
            g = queue.popleft()
            if len(g.members) < self.hi:
                self._shift(parent, g)
                return True
            for x in g.members:
                self._reach(x, g, parent, queue, dead, seen)
        dead.update(parent)
        return False

    def _reach(self, x: int, came_from, parent: dict, queue: deque, dead: set[int], seen: set[int]) -> None:
        """Queue the groups member `x` could move to (pairs already expanded are skipped)."""
        for p in self.member_pairs[x]:
            if p.index in seen:
                continue
            seen.add(p.index)
            for h in self.at_pair[p.index]:
                if id(h) not in parent and id(h) not in dead:
                    parent[id(h)] = (came_from, x)
                    queue.append(h)

    def _shift(self, parent: dict, end: Group) -> None:
        """Apply a forward chain: each mover leaves the previous group for the next, up to `end`."""
        steps, g = [], end
        while g is not None:
            came_from, mover = parent[id(g)]
            steps.append((g, mover))
            g = came_from
        for g, mover in reversed(steps):
            self._place(mover, g)

    def _pull(self, target: Group) -> bool:
        """Bring one waiting member into `target` along the shortest reverse chain."""
        parent: dict[int, tuple[Group, int] | None] = {id(target): None}
        queue: deque[Group] = deque([target])
        seen: set[int] = set()
        while queue:
            g = queue.popleft()
            if g.pair.index in seen:
                continue  # a group at a pair already scanned finds no one new
            seen.add(g.pair.index)
            for y in g.pair.members:
                h = self.group_of.get(y)
                if h is None:
                    self._unwind(parent, g, y)
                    return True
                if id(h) not in parent:
                    parent[id(h)] = (g, y)
                    queue.append(h)
        return False

    def _unwind(self, parent: dict, g: Group, y: int) -> None:
        """Waiting `y` joins `g`; the member that left `g` for the group `g` was reached from moves on."""
        while True:
            self._place(y, g)
            link = parent[id(g)]
            if link is None:
                return
            g, y = link

    def _place(self, m: int, g: Group) -> None:
        old = self.group_of.get(m)
        if old is not None:
            old.members.remove(m)
        g.members.append(m)
        self.group_of[m] = g
        self._log.append((m, old))

    # --- undo -------------------------------------------------------------------------------------

    def _begin(self, pairs: tuple[Pair, ...], f: int):
        """Start a move: note what it may change, so that it can be undone."""
        buckets = {p.bucket for p in pairs}
        self._log = []
        inside = [g for g in self.groups if g.pair.bucket in buckets]
        return (
            list(self.groups),
            [(g, list(g.members)) for g in inside],
            {p.index: list(self.at_pair[p.index]) for p in pairs},
            (f, self.state.capacity[f], list(self.state.busy[f])),
        )

    def _kept(self, *pairs: Pair) -> None:
        for b in {p.bucket for p in pairs}:
            self.version[b] += 1

    def _undo(self, saved) -> None:
        groups, members, at_pair, (f, capacity, busy) = saved
        for m, old in reversed(self._log):
            if old is None:
                del self.group_of[m]
            else:
                self.group_of[m] = old
        self.groups = groups
        for g, ms in members:
            g.members = ms
        self.at_pair.update(at_pair)
        self.state.capacity[f], self.state.busy[f] = capacity, busy

    # --- targets ----------------------------------------------------------------------------------

    def waiting_at(self, p: Pair) -> int:
        """Waiting members who fit pair `p` (cached until a move touches its bucket)."""
        version, count = self._waiting.get(p.index, (-1, 0))
        if version != self.version[p.bucket]:
            count = sum(m not in self.group_of for m in p.members)
            self._waiting[p.index] = (self.version[p.bucket], count)
        return count

    def targets(self, f: int, away_from: Pair | None) -> list[Pair]:
        """Pairs facilitator `f` could lead, most waiting members first (at most _TARGETS)."""
        scored = [(self.waiting_at(p), -p.index, p) for p in self.fac_pairs[f] if p is not away_from]
        scored.sort(key=lambda t: t[:2], reverse=True)
        return [p for n, _, p in scored[:_TARGETS] if n > 0]


def _drop(items: list, item) -> None:
    """Remove `item` by identity (a Group compares by value, which is slow and not what is meant)."""
    for i, x in enumerate(items):
        if x is item:
            del items[i]
            return


def relocate(
    ctx: Context,
    pairs: list[Pair],
    state: FacilitatorState,
    groups: list[Group],
    tries: int,
    deadline: float,
    seed: int = 3,
) -> tuple[list[Group], int]:
    """Move groups while it pays, for `tries` moves (repeatable) or until `deadline` (wall clock).

    Stops early once every reachable member is placed, or after `tries // 4` moves without a gain.
    No move places fewer members, so the last groups place the most; but sideways moves may have swapped
    in shorter-waiting members, so after the waiting pass they are compared with `groups` by score (placed,
    then waiting) and the better is returned, with the number of moves tried.
    """
    search, rng = Relocation(ctx, pairs, state, groups), random.Random(seed)
    best, idle_limit, done, idle = search.placed, max(tries // 4, 1), 0, 0
    while done < tries and idle < idle_limit and best < search.reachable and search.groups:
        if time.perf_counter() > deadline:
            break
        done += 1
        if done % _OPEN_EVERY == 0 and (
            spare := [f for f, c in enumerate(search.state.capacity) if c > 0 and search.fac_pairs[f]]
        ):
            use_spare(search, rng, rng.choice(spare))
        else:
            g = rng.choice(search.groups)
            for target in search.targets(g.facilitator, g.pair):
                if search.move(g, target):
                    break
        best, idle = (search.placed, 0) if search.placed > best else (best, idle + 1)
    prefer_waiting(ctx, pairs, search.groups)
    return max(search.groups, groups, key=lambda gs: score(ctx, gs)), done


def use_spare(search: Relocation, rng: random.Random, f: int) -> None:
    """Open a group for `f`, which has capacity left; failing that, hand `f` a group it could lead
    and open one for that group's facilitator instead (the hand-over is kept either way)."""
    if any(search.open_spare(f, target) for target in search.targets(f, None)):
        return
    options = [
        g
        for g in search.groups
        if g.facilitator != f
        and f in g.pair.facilitators
        and search.state.free(f, search.spans[g.pair.index])
    ]
    if options:
        g = rng.choice(options)
        former = g.facilitator
        search.hand_over(g, f)
        any(search.open_spare(former, target) for target in search.targets(former, None))
