"""``redis://HOST:PORT/DB``: state shared by any number of replicas.

Every operation that reads and then writes is one Lua script, so it is atomic on the server
(compare-and-set, counters, leases), and every operation is one round trip; ``poll`` reads the
clock and the records, counts the windows and appends the journal in a single script.

Layout under a prefix (``?prefix=``, default ``avatar-mock:``): ``meta`` (a hash: the schema
stamp, the clock and their versions), ``r:KEY`` (a hash: ``v`` version, ``d`` value, ``i`` the
record's indexes as JSON), ``i:NAME`` (a sorted set scored by an insertion sequence),
``c:KEY`` (``n`` count, ``r`` resets-at, as the client wrote it, to keep every digit),
``l:NAME`` (``o`` owner, ``e`` expires-at), ``cexp`` / ``lexp`` (what ``sweep`` may drop),
``j`` (a list of ``SEQ:ENTRY``) and ``jseq``. The scripts derive index and record keys from
stored names, which a single Redis server (the supported setup) accepts and Redis Cluster
would not.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from mockserver.backends.base import (
    LOGS,
    Backend,
    BackendUnavailable,
    Changes,
    ClockState,
    Conflict,
    Count,
    CounterOp,
    Page,
    PollResult,
    Record,
    Write,
)
from mockserver.backends.redispipe import RedisPipe, ReplyError, pack, simple_target

_COUNT = """
local function count(ck, cexp, member, now, by, resets, limit)
  local h = redis.call('HMGET', ck, 'n', 'r')
  local n = tonumber(h[1])
  local r = h[2]
  if n == nil or (r ~= '' and tonumber(r) <= now) then
    n = 0
    r = resets
    if r ~= '' then redis.call('ZADD', cexp, r, member) else redis.call('ZREM', cexp, member) end
    redis.call('HSET', ck, 'n', 0, 'r', r)
  end
  if limit ~= '' and n + by > tonumber(limit) then return {0, n, r} end
  n = n + by
  redis.call('HSET', ck, 'n', string.format('%d', n), 'r', r)
  return {1, n, r}
end
"""

_APPEND = """
local function append(j, jseq, keep, first, last)
  local s = tonumber(redis.call('GET', jseq) or '0')
  for a = first, last do
    s = redis.call('INCR', jseq)
    redis.call('RPUSH', j, s .. ':' .. ARGV[a])
  end
  if keep <= 0 then redis.call('DEL', j) else redis.call('LTRIM', j, -keep, -1) end
  return s
end
"""

# KEYS: meta cexp j jseq, records..., counters...
# ARGV: now nrec ncnt keep, (member by resets limit) per counter, journal entries...
POLL = (
    _COUNT
    + _APPEND
    + """
local now, nrec, ncnt, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4])
local out = redis.call('HMGET', KEYS[1], 'clock', 'v:clock')
for k = 5, 4 + nrec do
  local h = redis.call('HMGET', KEYS[k], 'v', 'd')
  out[#out + 1] = h[1]
  out[#out + 1] = h[2]
end
for c = 0, ncnt - 1 do
  local a = 5 + c * 4
  local got = count(KEYS[5 + nrec + c], KEYS[2], ARGV[a], now, tonumber(ARGV[a + 1]),
    ARGV[a + 2], ARGV[a + 3])
  out[#out + 1] = got[1]
  out[#out + 1] = got[2]
  out[#out + 1] = got[3]
  if got[1] == 0 then break end
end
if #ARGV >= 5 + ncnt * 4 then append(KEYS[3], KEYS[4], keep, 5 + ncnt * 4, #ARGV) end
return out
"""
)

# KEYS: meta cexp j jseq, counters...
# ARGV: now since ncnt clock-version-known, (member by resets limit) per counter
# -> 0 when nothing is counted and neither the clock nor the notices moved past what the
# caller knows (the common poll: no clock to decode, no lists to build); else
# {{clock, clock version}, {(admitted, value, resets) per count}, {SEQ:ENTRY above since}}
CHANGES = (
    _COUNT
    + """
local now, since, ncnt = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local last = tonumber(redis.call('GET', KEYS[4]) or '0')
if ncnt == 0 and last <= since and redis.call('HGET', KEYS[1], 'v:clock') == ARGV[4] then
  return 0
end
local clock = redis.call('HMGET', KEYS[1], 'clock', 'v:clock')
local counts = {}
for c = 0, ncnt - 1 do
  local a = 5 + c * 4
  local got = count(KEYS[5 + c], KEYS[2], ARGV[a], now, tonumber(ARGV[a + 1]), ARGV[a + 2],
    ARGV[a + 3])
  counts[#counts + 1] = got[1]
  counts[#counts + 1] = got[2]
  counts[#counts + 1] = got[3]
  if got[1] == 0 then break end
end
local entries = {}
if last > since then entries = redis.call('LRANGE', KEYS[3], since - last, -1) end
return {clock, counts, entries}
"""
)

# KEYS: ck cexp; ARGV: now member by resets limit
COUNT = (
    _COUNT
    + """
return count(KEYS[1], KEYS[2], ARGV[2], tonumber(ARGV[1]), tonumber(ARGV[3]), ARGV[4], ARGV[5])
"""
)

# KEYS: j jseq; ARGV: keep, entries...
APPEND = _APPEND + "return append(KEYS[1], KEYS[2], tonumber(ARGV[1]), 2, #ARGV)"

# KEYS: record iseq; ARGV: expect value prefix key indexes...
PUT = """
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= v then return false end
local list, have, changed = {}, {}, false
local raw = redis.call('HGET', KEYS[1], 'i')
if raw then list = cjson.decode(raw) end
for _, n in ipairs(list) do have[n] = true end
for a = 5, #ARGV do
  local n = ARGV[a]
  if not have[n] then
    have[n] = true
    list[#list + 1] = n
    changed = true
    redis.call('ZADD', ARGV[3] .. 'i:' .. n, redis.call('INCR', KEYS[2]), ARGV[4])
  end
end
if changed then redis.call('HSET', KEYS[1], 'i', cjson.encode(list)) end
redis.call('HSET', KEYS[1], 'v', v + 1, 'd', ARGV[2])
return v + 1
"""

# KEYS: record; ARGV: expect prefix key
DELETE = """
local v = redis.call('HGET', KEYS[1], 'v')
if not v or (ARGV[1] ~= '' and tonumber(ARGV[1]) ~= tonumber(v)) then return 0 end
local raw = redis.call('HGET', KEYS[1], 'i')
if raw then
  for _, n in ipairs(cjson.decode(raw)) do redis.call('ZREM', ARGV[2] .. 'i:' .. n, ARGV[3]) end
end
redis.call('DEL', KEYS[1])
return 1
"""

# KEYS: index; ARGV: offset limit prefix
NEWEST = """
local out = {redis.call('ZCARD', KEYS[1])}
local offset, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
if limit <= 0 then return out end
for _, k in ipairs(redis.call('ZREVRANGE', KEYS[1], offset, offset + limit - 1)) do
  local h = redis.call('HMGET', ARGV[3] .. 'r:' .. k, 'v', 'd')
  out[#out + 1] = k
  out[#out + 1] = h[1]
  out[#out + 1] = h[2]
end
return out
"""

# KEYS: meta; ARGV: name value expect
PUT_META = """
local v = tonumber(redis.call('HGET', KEYS[1], 'v:' .. ARGV[1]) or '0')
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= v then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], 'v:' .. ARGV[1], v + 1)
return 1
"""

# KEYS: lease lexp; ARGV: owner now until name
ACQUIRE = """
local h = redis.call('HMGET', KEYS[1], 'o', 'e')
if h[1] and h[1] ~= ARGV[1] and tonumber(h[2]) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'o', ARGV[1], 'e', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
"""

# KEYS: lease lexp; ARGV: owner name
RELEASE = """
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
"""

# KEYS: cexp lexp; ARGV: now budget prefix
SWEEP = """
local budget, dropped = tonumber(ARGV[2]), 0
for z, kind in pairs({[KEYS[1]] = 'c:', [KEYS[2]] = 'l:'}) do
  if dropped < budget then
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', z, '-inf', ARGV[1], 'LIMIT', 0,
        budget - dropped)) do
      redis.call('DEL', ARGV[3] .. kind .. m)
      redis.call('ZREM', z, m)
      dropped = dropped + 1
    end
  end
end
return dropped
"""

# One request's changes, compare-and-set: every expected version checked, then the meta, the
# puts (with their index memberships), the deletes and the change notice, or nothing.
# KEYS: meta iseq j jseq, records...
# ARGV: prefix keep has_notice nexpect nmeta nput ndel,
#   (record# version key) per expected, (name value) per meta,
#   (record# key value nindexes indexes...) per put, (record# key) per delete, [notice]
WRITE = (
    _APPEND
    + """
local prefix, keep, has_notice = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local ne, nm, np, nd = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]),
  tonumber(ARGV[7])
local a = 8
local moved = {}
for e = 1, ne do
  local v = tonumber(redis.call('HGET', KEYS[tonumber(ARGV[a])], 'v') or '0')
  if v ~= tonumber(ARGV[a + 1]) then moved[#moved + 1] = ARGV[a + 2] end
  a = a + 3
end
if #moved > 0 then return {0, moved} end
for m = 1, nm do
  local name = ARGV[a]
  local v = tonumber(redis.call('HGET', KEYS[1], 'v:' .. name) or '0')
  redis.call('HSET', KEYS[1], name, ARGV[a + 1], 'v:' .. name, v + 1)
  a = a + 2
end
local versions = {}
for p = 1, np do
  local rk, key, ni = KEYS[tonumber(ARGV[a])], ARGV[a + 1], tonumber(ARGV[a + 3])
  local v = tonumber(redis.call('HGET', rk, 'v') or '0')
  local list, have, changed = {}, {}, false
  local raw = redis.call('HGET', rk, 'i')
  if raw then list = cjson.decode(raw) end
  for _, n in ipairs(list) do have[n] = true end
  for i = a + 4, a + 3 + ni do
    local n = ARGV[i]
    if not have[n] then
      have[n] = true
      list[#list + 1] = n
      changed = true
      redis.call('ZADD', prefix .. 'i:' .. n, redis.call('INCR', KEYS[2]), key)
    end
  end
  if changed then redis.call('HSET', rk, 'i', cjson.encode(list)) end
  redis.call('HSET', rk, 'v', v + 1, 'd', ARGV[a + 2])
  versions[#versions + 1] = v + 1
  a = a + 4 + ni
end
for d = 1, nd do
  local rk, key = KEYS[tonumber(ARGV[a])], ARGV[a + 1]
  local raw = redis.call('HGET', rk, 'i')
  if raw then
    for _, n in ipairs(cjson.decode(raw)) do redis.call('ZREM', prefix .. 'i:' .. n, key) end
  end
  redis.call('DEL', rk)
  a = a + 2
end
if has_notice == '1' then append(KEYS[3], KEYS[4], keep, #ARGV, #ARGV) end
return {1, versions}
"""
)

DEFAULT_PREFIX = "avatar-mock:"


def _opt(value: float | int | None) -> str:
    return "" if value is None else repr(value)


def _count(admitted: Any, value: Any, resets: Any) -> Count:
    return Count(bool(admitted), int(value), float(resets) if resets else math.inf)


def _record(key: str, version: Any, value: Any) -> Record | None:
    return None if version is None else Record(key, int(version), bytes(value))


class RedisBackend(Backend):
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        self.prefix = query.pop("prefix", DEFAULT_PREFIX)
        self.url = url
        self._client_url = urlunsplit(parts._replace(query=urlencode(query)))
        p = self.prefix
        self._meta, self._cexp, self._lexp = p + "meta", p + "cexp", p + "lexp"
        self._j, self._jseq, self._iseq = p + "j", p + "jseq", p + "iseq"
        self._client: aioredis.Redis | None = None
        # The read before each request: its own pipelined connection for a plain url
        self._target = simple_target(self._client_url)
        self._pipe: RedisPipe | None = None
        self._opening: asyncio.Future[RedisPipe] | None = None
        self._known: tuple[int, ClockState | None] | None = None  # the clock read last
        self._command: tuple[tuple[int, int | str], bytes] | None = None  # packed, by its args

    async def _connect(self) -> None:
        client = aioredis.Redis.from_url(
            self._client_url, socket_connect_timeout=3, socket_timeout=30
        )
        try:
            await client.ping()
        except (RedisError, OSError) as err:
            await client.aclose()
            raise BackendUnavailable(
                f"cannot reach the redis state store at {self.url}: {err} (start Redis there "
                "or change --state; the mock never falls back to memory)"
            ) from None
        self._client = client
        reg = client.register_script
        self._poll, self._count_s, self._append = reg(POLL), reg(COUNT), reg(APPEND)
        self._changes = reg(CHANGES)
        self._put, self._delete, self._newest = reg(PUT), reg(DELETE), reg(NEWEST)
        self._put_meta, self._acquire = reg(PUT_META), reg(ACQUIRE)
        self._release, self._sweep = reg(RELEASE), reg(SWEEP)
        self._write = reg(WRITE)

    async def close(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
            self._pipe, self._known = None, None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> aioredis.Redis:
        assert self._client is not None, "open() the backend first"
        return self._client

    async def get_meta(self, name: str) -> tuple[bytes, int] | None:
        value, version = await self.client.hmget(self._meta, [name, "v:" + name])
        return None if version is None else (cast(bytes, value), int(version))

    async def put_meta(self, name: str, value: bytes, *, version: int | None = None) -> bool:
        return bool(await self._put_meta(keys=[self._meta], args=[name, value, _opt(version)]))

    async def get(self, key: str) -> Record | None:
        version, value = await self.client.hmget(self.prefix + "r:" + key, ["v", "d"])
        return _record(key, version, value)

    async def get_many(self, keys: Sequence[str]) -> list[Record | None]:
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(self.prefix + "r:" + key, ["v", "d"])
            rows = await pipe.execute()
        return [_record(k, v, d) for k, (v, d) in zip(keys, rows, strict=True)]

    async def put(
        self, key: str, value: bytes, *, version: int | None = None, indexes: Sequence[str] = ()
    ) -> int | None:
        got = await self._put(
            keys=[self.prefix + "r:" + key, self._iseq],
            args=[_opt(version), value, self.prefix, key, *indexes],
        )
        return None if got is None else int(got)

    async def delete(self, key: str, *, version: int | None = None) -> bool:
        got = await self._delete(
            keys=[self.prefix + "r:" + key], args=[_opt(version), self.prefix, key]
        )
        return bool(got)

    async def newest(self, index: str, *, limit: int, offset: int = 0) -> Page:
        out = await self._newest(
            keys=[self.prefix + "i:" + index], args=[offset, limit, self.prefix]
        )
        records = [
            Record(k.decode(), int(v), bytes(d))
            for k, v, d in zip(out[1::3], out[2::3], out[3::3], strict=True)
            if v is not None
        ]
        return Page(int(out[0]), records)

    def _counter_args(self, op: CounterOp, now: float) -> list[str]:
        resets = "" if op.window is None else repr(now + op.window)
        return [op.key, str(op.by), resets, _opt(op.limit)]

    async def count(self, op: CounterOp, *, now: float) -> Count:
        got = await self._count_s(
            keys=[self.prefix + "c:" + op.key, self._cexp],
            args=[repr(now), *self._counter_args(op, now)],
        )
        return _count(*got)

    async def acquire(self, lease: str, owner: str, *, now: float, ttl: float) -> bool:
        got = await self._acquire(
            keys=[self.prefix + "l:" + lease, self._lexp],
            args=[owner, repr(now), repr(now + ttl), lease],
        )
        return bool(got)

    async def release(self, lease: str, owner: str) -> bool:
        got = await self._release(
            keys=[self.prefix + "l:" + lease, self._lexp], args=[owner, lease]
        )
        return bool(got)

    def _log(self, log: str) -> tuple[str, str]:
        """A log's list and its sequence key (the notices' own, else ``<prefix>log:<name>``)."""
        if not log:
            return self._j, self._jseq
        if log not in LOGS:
            raise ValueError(f"no journal {log!r}")
        return f"{self.prefix}log:{log}", f"{self.prefix}logseq:{log}"

    async def append(self, entries: Sequence[bytes], *, keep: int, log: str = "") -> int:
        return int(await self._append(keys=list(self._log(log)), args=[keep, *entries]))

    async def journal(self, *, since: int = 0, log: str = "") -> list[tuple[int, bytes]]:
        out = []
        rows = cast(list[bytes], await self.client.lrange(self._log(log)[0], 0, -1))
        for raw in rows:
            seq, _, entry = raw.partition(b":")
            if int(seq) > since:
                out.append((int(seq), entry))
        return out

    async def poll(
        self,
        keys: Sequence[str],
        *,
        now: float,
        counters: Sequence[CounterOp] = (),
        journal: Sequence[bytes] = (),
        keep: int = 0,
    ) -> PollResult:
        p = self.prefix
        args: list[Any] = [repr(now), len(keys), len(counters), keep]
        for op in counters:
            args += self._counter_args(op, now)
        args += journal
        out = await self._poll(
            keys=[
                self._meta,
                self._cexp,
                self._j,
                self._jseq,
                *(p + "r:" + k for k in keys),
                *(p + "c:" + op.key for op in counters),
            ],
            args=args,
        )
        clock, clock_v = out[0], out[1]
        n = 2 + 2 * len(keys)
        records = [
            _record(k, out[i], out[i + 1]) for k, i in zip(keys, range(2, n, 2), strict=True)
        ]
        counts = [_count(*out[i : i + 3]) for i in range(n, len(out), 3)]
        return PollResult(
            ClockState.decode(clock) if clock is not None else None,
            int(clock_v) if clock_v is not None else 0,
            records,
            counts,
        )

    async def sweep(self, *, now: float, budget: int) -> int:
        return int(
            await self._sweep(keys=[self._cexp, self._lexp], args=[repr(now), budget, self.prefix])
        )

    async def changes(
        self,
        since: int,
        *,
        now: float = 0.0,
        counters: Sequence[CounterOp] = (),
    ) -> Changes:
        """One script, one round trip whatever moved: the clock, the counts and the entries
        above ``since``; a bare 0 when nothing is counted and nothing moved (the clock is
        the one read last). On the pipelined connection (:mod:`redispipe`) where it can."""
        known = self._known
        version_known = known[0] if known else ""
        if counters or self._target is None:
            args: list[Any] = [repr(now), since, len(counters), version_known]
            for op in counters:
                args += self._counter_args(op, now)
            keys = [self._meta, self._cexp, self._j, self._jseq]
            keys += [self.prefix + "c:" + op.key for op in counters]
            if self._target is None:
                got = await self._changes(keys=keys, args=args)
            else:
                got = await self._piped(pack("EVALSHA", self._changes.sha, len(keys), *keys, *args))
        else:  # the common read: the same command until the notices or the clock move
            mark = (since, version_known)
            cached = self._command
            if cached is None or cached[0] != mark:
                keys = [self._meta, self._cexp, self._j, self._jseq]
                command = pack("EVALSHA", self._changes.sha, 4, *keys, 0, since, 0, version_known)
                cached = self._command = (mark, command)
            got = await self._piped(cached[1])
        if got == 0 and known is not None:
            return Changes(known[1], known[0], [], [])
        (value, version), flat, rows = got
        counts = [_count(*flat[i : i + 3]) for i in range(0, len(flat), 3)]
        clock = None if version is None else ClockState.decode(cast(bytes, value))
        self._known = (int(version), clock) if version is not None else None
        entries: list[tuple[int, bytes]] = []
        for raw in rows:
            seq, _, entry = cast(bytes, raw).partition(b":")
            if int(seq) > since:
                entries.append((int(seq), entry))
        return Changes(clock, int(version or 0), entries, counts)

    async def _piped(self, command: bytes) -> Any:
        """``CHANGES`` (``command``) on the pipelined connection, opened (again) when needed;
        loaded into a server that lost its scripts (restarted, ``SCRIPT FLUSH``) and asked
        again."""
        pipe = self._pipe
        try:
            if pipe is None or not pipe.usable:
                pipe = self._pipe = await self._open_pipe()
            got = await pipe.call(command)
            if isinstance(got, ReplyError) and str(got).startswith("NOSCRIPT"):
                await self.client.script_load(CHANGES)
                got = await pipe.call(command)
        except OSError as err:  # refused, reset, lost, timed out
            raise BackendUnavailable(
                f"cannot read the redis state store at {self.url}: {err}"
            ) from None
        if isinstance(got, ReplyError):
            raise RedisError(str(got))
        return got

    async def _open_pipe(self) -> RedisPipe:
        if self._opening is None:  # callers arriving meanwhile share the one connection
            assert self._target is not None
            self._opening = asyncio.ensure_future(RedisPipe.open(self._target))
        opening = self._opening
        try:
            return await asyncio.shield(opening)
        finally:
            if opening.done():
                self._opening = None

    async def write(self, changes: Write) -> dict[str, int]:
        """One script, one round trip: the versions checked, then every change and the
        notice applied, or nothing (another replica reads all of a request's changes or
        none). A clear goes first, on its own (it scans the prefix)."""
        if changes.clear:
            await self.clear()
        p = self.prefix
        keys = [self._meta, self._iseq, self._j, self._jseq]
        slot: dict[str, int] = {}

        def at(key: str) -> int:
            n = slot.get(key)
            if n is None:
                keys.append(p + "r:" + key)
                n = slot[key] = len(keys)  # Lua counts from 1
            return n

        notice = changes.notice
        args: list[Any] = [p, changes.keep, "0" if notice is None else "1"]
        args += [len(changes.expect), len(changes.meta), len(changes.puts), len(changes.deletes)]
        for key, version in changes.expect.items():
            args += [at(key), version, key]
        for name, value in changes.meta:
            args += [name, value]
        for key, value, indexes in changes.puts:
            args += [at(key), key, value, len(indexes), *indexes]
        for key in changes.deletes:
            args += [at(key), key]
        if notice is not None:
            args.append(notice)
        ok, out = await self._write(keys=keys, args=args)
        if not ok:
            raise Conflict([cast(bytes, k).decode() for k in out])
        versions = {key: int(v) for (key, _, _), v in zip(changes.puts, out, strict=True)}
        versions.update(dict.fromkeys(changes.deletes, 0))
        return versions

    async def clear(self) -> None:
        keep = {self._meta.encode(), self._jseq.encode()}
        keep |= {self._log(log)[1].encode() for log in LOGS}
        pattern = _glob_escape(self.prefix) + "*"
        batch: list[bytes] = []
        async for key in self.client.scan_iter(match=pattern, count=1000):
            if key not in keep:
                batch.append(key)
            if len(batch) >= 1000:
                await self.client.unlink(*batch)
                batch = []
        if batch:
            await self.client.unlink(*batch)


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
