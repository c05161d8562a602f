"""Policy chain benchmark: nanoseconds per message for the whole chain, and per rule.

The chain is loaded as a busy provider's would be: 30,000 prohibited keywords
in three categories, 200,000 blacklisted numbers (global and per enterprise),
1,000 enterprises with signatures, frequency limits, duplicate detection,
range detection and the send window all on.  Messages are a realistic mix:
verification codes (a different text each), notifications, and bulk texts
repeated to many numbers; a quarter arrive without a signature and are
signed and cut again (``prepare``); the dispatcher's send-window check of a
claimed segment is measured too.  Prints a table and, with ``--json``, one
JSON object.

Budget (issue "Policy services"): the chain must cost a small fraction of a
message's budget; the store commits about 30,000 messages/s (33 µs each,
DESIGN.md §6), so the printed share is against 33 µs.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from datetime import datetime, timezone
from typing import Callable

from smsgw.domain.model import Account, Message
from smsgw.pipeline.policies import sign_submission
from smsgw.policy.accounts import AccountInfo
from smsgw.policy.blacklist import BlacklistIndex
from smsgw.policy.chain import Chain
from smsgw.policy.settings import FrequencySettings, PolicySettings
from smsgw.policy.signature import SignatureBook
from smsgw.session.smpp_submit import read_submission
from smsgw.codec import Pdu

BUDGET_NS = 1e9 / 30_000
NOON = int(datetime(2024, 5, 1, 4, 0, tzinfo=timezone.utc).timestamp() * 1000)  # 12:00 China time
ENTERPRISES = 1000


def build(seed: int) -> tuple[Chain, list[tuple[Account, Message]], list[tuple[Account, object]]]:
    rng = random.Random(seed)
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    words = {"".join(rng.choice(hanzi) for _ in range(rng.randint(2, 5))) for _ in range(30_000)}
    categories = ("reject", "review", "fraud")
    keywords = [(0, categories[i % 3], w) for i, w in enumerate(sorted(words))]
    blacklist = BlacklistIndex((rng.choice((0, rng.randint(1, ENTERPRISES))), str(13000000000 + rng.randrange(10**9)))
                               for _ in range(200_000))
    signatures = SignatureBook((e, f"【企业{e}】") for e in range(1, ENTERPRISES + 1))
    settings = PolicySettings(frequency=FrequencySettings(per_minute=5, per_hour=20, per_day=50))
    chain = Chain(settings)
    chain.load(accounts=[AccountInfo(e, f"ent{e}") for e in range(1, ENTERPRISES + 1)], blacklist=blacklist,
               keywords=keywords, signatures=signatures)
    bulk = [f"【企业{e}】尊敬的会员，您的积分即将到期，请登录APP查看详情。" for e in range(1, 50)]
    messages = []
    for i in range(50_000):
        e = rng.randint(1, ENTERPRISES)
        kind = rng.random()
        if kind < 0.5:
            text = f"【企业{e}】您的验证码是{rng.randrange(10**6):06d}，5分钟内有效，请勿泄露。"
        elif kind < 0.8:
            text = f"【企业{e}】您的订单{rng.randrange(10**8)}已发货，快递单号SF{rng.randrange(10**10)}。"
        else:
            text = rng.choice(bulk)
            e = int(text[3:text.index("】")])
        dest = str(13000000000 + rng.randrange(10**9))
        account = Account(id=e, login=f"ent{e}")
        messages.append((account, Message(id=i, account_id=e, enterprise_id=e, source_addr="", dest_addr=dest,
                                          created_at=NOON, expires_at=NOON + 1, parts=1, text=text, charge=4000)))
    now = datetime.fromtimestamp(NOON / 1000, timezone.utc)
    unsigned = []
    for i in range(2000):
        e = rng.randint(1, ENTERPRISES)
        pdu = Pdu("submit_sm", i, {"destination_addr": "13800138000", "data_coding": 8,
                                   "short_message": f"您的验证码是{i:06d}，5分钟内有效。".encode("utf-16-be")})
        unsigned.append((Account(id=e, login=f"ent{e}"), read_submission(pdu, now)))
    return chain, messages, unsigned


def per_item_ns(fn: Callable[[int], object], count: int, seconds: float, rounds: int = 5) -> float:
    """CPU nanoseconds per call over ``count`` items, the best of ``rounds`` (the machine may be shared)."""
    best = float("inf")
    for _ in range(rounds):
        n = 0
        start = time.process_time()
        while True:
            for i in range(count):
                fn(i)
            n += count
            elapsed = time.process_time() - start
            if elapsed >= seconds / rounds:
                break
        best = min(best, elapsed / n * 1e9)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="CPU time per measurement")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.process_time()
    loaded, messages, unsigned = build(args.seed)
    setup = time.process_time() - started
    count = len(messages)

    serial = [0]

    def fresh(i: int) -> tuple[Account, Message]:
        # what the intake does before the chain: a new Message with a freshly decoded text, and
        # a number not used before (rounds repeat the texts, not the messages: no duplicates)
        account, m = messages[i]
        serial[0] += 1
        dest = str(13000000000 + serial[0] * 104_729 % 10**9)
        return account, Message(id=m.id, account_id=m.account_id, enterprise_id=m.enterprise_id, source_addr="",
                                dest_addr=dest, created_at=m.created_at, expires_at=m.expires_at,
                                parts=1, text="".join((m.text or "", "")), charge=m.charge)

    def chain_of(settings: PolicySettings) -> Chain:
        chain = Chain(settings)
        chain.load(accounts=loaded.accounts.values(), blacklist=loaded.blacklist, keywords=loaded.keywords,
                   signatures=loaded.signatures)
        return chain

    def decide_ns(settings: PolicySettings) -> float:
        chain = chain_of(settings)
        clock = [NOON]

        def decide(i: int) -> object:
            clock[0] += 1  # 1 ms apart: 1,000 messages/s of simulated time
            account, message = fresh(i)
            return chain.decide(account, message, clock[0])

        return per_item_ns(decide, count, args.seconds)

    limits = FrequencySettings(per_minute=5, per_hour=20, per_day=50)
    construct = per_item_ns(fresh, count, args.seconds)
    empty = decide_ns(PolicySettings(order=())) - construct
    results: dict[str, float] = {}
    results["chain, default settings (frequency off)"] = decide_ns(PolicySettings()) - construct
    results["chain, every rule on (frequency limits set)"] = decide_ns(PolicySettings(frequency=limits)) - construct
    results["  of which the chain's own overhead"] = empty
    for rule in PolicySettings().order:
        alone = decide_ns(PolicySettings(order=(rule,), frequency=limits)) - construct
        results[f"  rule {rule}"] = alone - empty
    results["prepare: sign and re-cut an unsigned text"] = per_item_ns(
        lambda i: sign_submission(loaded, *unsigned[i % len(unsigned)], i), len(unsigned), args.seconds)
    # the dispatcher asks once per account and claimed page; this is the worst case, once per segment
    results["dispatch: send-window check of a claimed segment"] = per_item_ns(
        lambda i: loaded.window_release(messages[i][1].account_id, NOON + i), count, args.seconds)

    if args.json:
        print(json.dumps({"ns_per_message": results, "budget_ns": BUDGET_NS, "setup_s": setup,
                          "python": platform.python_version()}))
        return
    print(f"policy chain on Python {platform.python_version()} ({platform.machine()}); indexes built in "
          f"{setup:.1f} s: {loaded.keywords.size} keywords, {len(loaded.blacklist)} numbers; "
          f"{count} messages, best of 5 rounds, CPU time")
    print(f"{'':48} {'ns/message':>12} {'of 33 µs':>9}")
    for name, ns in results.items():
        print(f"{name:48} {ns:12,.0f} {ns / BUDGET_NS:9.1%}")


if __name__ == "__main__":
    main()
