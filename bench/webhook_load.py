"""The load side of bench/webhook.py: pre-signed Twilio requests written to a file, a wrk Lua script
that cycles through them and checks every response, and CPU accounting for the window."""

from __future__ import annotations

import http.client
import json
import os
import random
import resource
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

from ipt_groups.messaging.twilio import compute_twilio_signature

TO_NUMBER = "+12025550100"
ACCOUNT_SID = "AC" + "b" * 32
SERVICE_SID = "MG" + "c" * 32
RSVP_WORDS = ("C", "X", "c", "x")
ANSWER_WEIGHTS = (0.35, 0.35, 0.2, 0.1)  # PHQ-9 items 1-8: 0..3
ITEM9_POSITIVE = 0.05  # members whose item 9 is above 0 (a safety alert when answered)
PHQ9_ITEMS = 9

# Lua for wrk: globals are what done() reads back from each thread with thread:get().
LUA = r"""
local threads = {}
local reqs, n, i = {}, 0, 0
local PROLOG = '<?xml version="1.0" encoding="UTF-8"?>'
sent, answered, ok200, s4xx, s5xx, sother, bad_twiml, with_message, wrapped = 0, 0, 0, 0, 0, 0, 0, 0, 0
local COUNTERS = {"sent", "answered", "ok200", "s4xx", "s5xx", "sother", "bad_twiml", "with_message",
                  "wrapped"}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local first, k = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if k >= first then
      local tab = line:find("\t", 1, true)
      local headers = {["Content-Type"] = "application/x-www-form-urlencoded",
                       ["X-Twilio-Signature"] = line:sub(1, tab - 1)}
      n = n + 1
      reqs[n] = wrk.format("POST", nil, headers, line:sub(tab + 1))
    end
    k = k + 1
  end
  if n == 0 then error("no requests after line " .. first) end
end

function request()
  i = i + 1
  if i > n then i = 1; wrapped = wrapped + 1 end
  sent = sent + 1
  return reqs[i]
end

function response(status, headers, body)
  answered = answered + 1
  if status == 200 then ok200 = ok200 + 1
  elseif status >= 500 then s5xx = s5xx + 1
  elseif status >= 400 then s4xx = s4xx + 1
  else sother = sother + 1 end
  local ct = headers["Content-Type"] or ""
  if body:sub(1, #PROLOG) ~= PROLOG or body:sub(-11) ~= "</Response>" or ct:sub(1, 8) ~= "text/xml" then
    bad_twiml = bad_twiml + 1
  end
  if body:find("<Message>", 1, true) then with_message = with_message + 1 end
end

function done(summary, latency, requests)
  local out = {}
  for _, key in ipairs(COUNTERS) do
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get(key) end
    table.insert(out, string.format('"%s": %d', key, total))
  end
  local e = summary.errors
  for _, p in ipairs({50, 90, 99, 99.9}) do
    table.insert(out, string.format('"p%s_us": %d', tostring(p), latency:percentile(p)))
  end
  table.insert(out, string.format('"mean_us": %.1f, "max_us": %d', latency.mean, latency.max))
  table.insert(out, string.format('"duration_us": %d, "requests": %d', summary.duration, summary.requests))
  table.insert(out, string.format('"connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"timeouts": %d, "status_errors": %d', e.connect, e.read, e.write, e.timeout, e.status))
  io.write("BENCHJSON {" .. table.concat(out, ", ") .. "}\n")
end
"""


# --- requests ---------------------------------------------------------------------------------------


def twilio_params(message_sid: str, sender: str, body: str) -> dict[str, str]:
    """The fields Twilio posts for an inbound SMS, in its order (the signature covers all of them)."""
    return {
        "ToCountry": "US", "ToState": "DC", "SmsMessageSid": message_sid, "NumMedia": "0",
        "ToCity": "WASHINGTON", "FromZip": "60601", "SmsSid": message_sid, "FromState": "IL",
        "SmsStatus": "received", "FromCity": "CHICAGO", "Body": body, "FromCountry": "US", "To": TO_NUMBER,
        "MessagingServiceSid": SERVICE_SID, "ToZip": "20001", "NumSegments": "1", "ReferralNumMedia": "0",
        "MessageSid": message_sid, "AccountSid": ACCOUNT_SID, "From": sender, "ApiVersion": "2010-04-01",
    }  # fmt: skip


def survey_answers(member_id: int, seed: int) -> list[str]:
    """A member's nine PHQ-9 replies, item 9 last (positive for about 5% of members)."""
    rng = random.Random(seed * 1_000_003 + member_id)
    answers = [str(v) for v in rng.choices(range(4), ANSWER_WEIGHTS, k=PHQ9_ITEMS - 1)]
    return [*answers, "1" if rng.random() < ITEM9_POSITIVE else "0"]


def reply_rounds(seeded, rounds: int, seed: int) -> list[tuple[str, str]]:
    """(phone, body) in rounds: every member once per round in a shuffled order, so a member's
    survey answers arrive in item order; after item 9 a survey member's reply is a plain "ok"."""
    answers = {m: survey_answers(m, seed) for m, _ in seeded.survey}
    rng = random.Random(seed)
    people = [(m, phone, True) for m, phone in seeded.survey] + [
        (m, phone, False) for m, phone in seeded.rsvp
    ]
    out = []
    for r in range(rounds):
        rng.shuffle(people)
        for m, phone, survey in people:
            body = (answers[m][r] if r < PHQ9_ITEMS else "ok") if survey else rng.choice(RSVP_WORDS)
            out.append((phone, body))
    return out


def sid(prefix: str, k: int) -> str:
    """The k-th MessageSid of a request file: 34 characters, as Twilio's."""
    return f"{prefix}{k:0{34 - len(prefix)}x}"


def write_requests(path: Path, url: str, token: str, sid_prefix: str, replies: list[tuple[str, str]]) -> None:
    """One line per request: signature, a tab, the form body. MessageSids are unique per file."""
    with path.open("w") as out:
        for k, (phone, body) in enumerate(replies):
            params = twilio_params(sid(sid_prefix, k), phone, body)
            out.write(f"{compute_twilio_signature(token, url, params)}\t{urlencode(params)}\n")


def post_lines(port: int, path: Path, wanted: set[int]) -> dict[int, int]:
    """POST the request file's lines numbered in `wanted`, one by one; status -> count (TwiML or not)."""
    statuses: dict[int, int] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    with path.open() as lines:
        for k, line in enumerate(lines):
            if k in wanted:
                signature, body = line.rstrip("\n").split("\t", 1)
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature,
                }
                conn.request("POST", "/twilio/sms", body, headers)
                response = conn.getresponse()
                twiml = response.read().startswith(b"<?xml") and response.getheader(
                    "Content-Type", ""
                ).startswith("text/xml")
                key = response.status if twiml else -response.status
                statuses[key] = statuses.get(key, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    return statuses


# --- wrk ---------------------------------------------------------------------------------------------


def run_wrk(url: str, script: Path, requests: Path, first: int, connections: int, seconds: float) -> dict:
    """One wrk run (1 thread, keep-alive where the server allows it); its counters and latencies."""
    cmd = [
        "wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s", "--timeout", "10s", "-s", str(script), url,
        "--", str(requests), str(first),
    ]  # fmt: skip
    before = _children_cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if done.returncode != 0 or "BENCHJSON" not in done.stdout:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCHJSON "))
    result = json.loads(line[len("BENCHJSON ") :])
    result["wrk_cpu_s"] = _children_cpu() - before
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- CPU accounting ----------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """A process and its direct children (gunicorn's master and workers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *map(int, children)]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (those that have gone count as 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def machine_busy_seconds() -> float:
    """CPU-seconds the whole machine spent not idle (all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICK


def snapshot(server_pids: list[int], pg_pids: list[int]) -> dict:
    return {
        "wall": time.perf_counter(),
        "machine": machine_busy_seconds(),
        "server": cpu_seconds(server_pids),
        "postgres": cpu_seconds(pg_pids),
    }


def cpu_share(before: dict, after: dict, wrk_cpu_s: float) -> dict:
    """Cores used over the window: machine, gunicorn, the benchmark's PostgreSQL backends, wrk, other."""
    wall = after["wall"] - before["wall"]
    cores = {k: (after[k] - before[k]) / wall for k in ("machine", "server", "postgres")}
    cores["wrk"] = wrk_cpu_s / wall
    cores["other"] = max(0.0, cores["machine"] - cores["server"] - cores["postgres"] - cores["wrk"])
    return cores
