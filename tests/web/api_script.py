"""What a program that does not speak SMPP does with the HTTP API: send a batch, follow it, pull receipts.

    python api_script.py http://127.0.0.1:8080 smsgw_xxxxxxxx_yyyy 13800138000 18600186000 ...

Standard library only, so it can be copied as an example.  Prints what it
sees and exits 0 when every message reached a final state and its receipt
was pulled and acknowledged.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

FINAL = {"delivered", "undelivered", "expired", "rejected"}


def call(base: str, key: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(base + path, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:  # API errors are JSON with an SMPP code
        return error.code, json.load(error)


def main(base: str, key: str, numbers: list[str], timeout: float = 30.0) -> int:
    status, balance = call(base, key, "GET", "/api/v1/balance")
    print(f"balance of {balance['account']}: {balance['balance_yuan']} yuan")
    messages = [{"to": number, "text": f"您好，这是第 {i + 1} 条测试短信。"} for i, number in enumerate(numbers)]
    status, batch = call(base, key, "POST", "/api/v1/messages/batch", {"messages": messages})
    print(f"batch: {batch['accepted']} accepted, {batch['rejected']} refused")
    ids = [result["id"] for result in batch["results"] if result["id"]]
    for result in batch["results"]:
        print(f"  {result['to']}: {result['id'] or result['code']}")
    end = time.time() + timeout
    states: dict[str, str] = {}
    while time.time() < end and len(states) < len(ids):
        for message_id in ids:
            status, found = call(base, key, "GET", f"/api/v1/messages/{message_id}")
            if found["state"] in FINAL:
                states[message_id] = found["state"]
        time.sleep(0.3)
    for message_id in ids:
        print(f"  {message_id}: {states.get(message_id, 'not final')}")
    pulled: dict[str, Any] = {}
    while time.time() < end and not set(ids) <= set(pulled):
        status, receipts = call(base, key, "GET", "/api/v1/receipts?limit=1000")
        for item in receipts["items"]:
            pulled[item["message_id"]] = item
        time.sleep(0.3)
    mine = [item["pull_id"] for message_id, item in pulled.items() if message_id in ids]
    status, acked = call(base, key, "POST", "/api/v1/receipts/ack", {"ids": mine})
    print(f"receipts pulled: {len(mine)}, acknowledged: {acked['acknowledged']}")
    ok = len(states) == len(ids) == len(mine) == acked["acknowledged"] and batch["accepted"] == len(numbers)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
