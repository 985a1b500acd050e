"""A generated Apache error log for the core bench's web row (upstream's apache-auth filter): 30 % failures of
apache-auth's kinds (user not found, password mismatch, authorization failure, wrong scheme) from a Zipf-like
set of attackers, 70 % other error-log lines; dates with microseconds, as Apache 2.4 writes them.

    python bench/gen_weblog.py --lines N --seed S --end EPOCH --out PATH
"""

from __future__ import annotations

import argparse
import random
import time

_FAIL = (
    "[auth_basic:error] [pid {pid}:tid {tid}] [client {ip}:{port}] AH01618: user {user} not found: /private",
    "[auth_basic:error] [pid {pid}:tid {tid}] [client {ip}:{port}] AH01617: user {user}: authentication failure "
    "for \"/admin\": Password Mismatch",
    "[auth_digest:error] [pid {pid}:tid {tid}] [client {ip}:{port}] AH01790: user `{user}' in realm `Private' "
    "not found: /digest",
    "[authz_core:error] [pid {pid}:tid {tid}] [client {ip}:{port}] AH01630: client denied by server "
    "configuration: /srv/www/secret",
)
_NOISE = (
    "[ssl:info] [pid {pid}:tid {tid}] [client {ip}:{port}] AH01964: Connection to child 12 established "
    "(server www.example.org:443)",
    "[core:info] [pid {pid}:tid {tid}] [client {ip}:{port}] AH00128: File does not exist: /srv/www/favicon.ico",
    "[mpm_event:notice] [pid {pid}:tid {tid}] AH00489: Apache/2.4.57 (Debian) configured -- resuming normal "
    "operations",
    "[php:error] [pid {pid}:tid {tid}] [client {ip}:{port}] PHP Warning:  Undefined variable $x in "
    "/srv/www/index.php on line 12",
    "[proxy:error] [pid {pid}:tid {tid}] (111)Connection refused: AH00957: http: attempt to connect to "
    "127.0.0.1:8080 (localhost:8080) failed",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", type=int, default=int(time.time()) - 60)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    attackers = [f"203.0.{n // 250}.{n % 250 + 1}" for n in range(2000)]
    users = ["admin", "root", "test", "guest", "www", "backup", "oracle", "user1"]
    start = args.end - 86400
    step = 86400 / args.lines
    with open(args.out, "w", encoding="utf-8") as out:
        for n in range(args.lines):
            when = start + n * step
            stamp = time.strftime("%a %b %d %H:%M:%S", time.localtime(when))
            micro = int((when % 1) * 1e6)
            year = time.localtime(when).tm_year
            fail = rnd.random() < 0.3
            ip = attackers[min(int(rnd.paretovariate(1.2)) - 1, len(attackers) - 1)] if fail else (
                f"198.51.{rnd.randrange(100)}.{rnd.randrange(1, 255)}")  # fmt: skip
            template = rnd.choice(_FAIL if fail else _NOISE)
            text = template.format(pid=rnd.randrange(1000, 9999), tid=rnd.randrange(10**14, 10**15), ip=ip,
                                   port=rnd.randrange(1024, 65535), user=rnd.choice(users))  # fmt: skip
            out.write(f"[{stamp}.{micro:06d} {year}] {text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
