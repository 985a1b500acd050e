"""Generated web logs for the core bench's web rows, deterministic for a seed:
- --kind error (the default): an Apache error log for upstream's apache-auth filter: 30 % failures of
  apache-auth's kinds (user not found, password mismatch, authorization failure, wrong scheme) from a Zipf-like
  set of attackers, 70 % other error-log lines; dates with microseconds, as Apache 2.4 writes them;
- --kind access: an nginx/Apache combined access log for upstream's nginx-botsearch filter: 20 % scans of the
  paths it blocks (phpMyAdmin, wp-login.php, cgi-bin, webmail, ...) answered 404 from a Zipf-like set of
  scanners, 80 % ordinary requests (pages, assets, 200/304/404, bots, POSTs), client addresses of every length
  (IPv4 and IPv6) so the date is at a different offset on each line.

    python bench/gen_weblog.py [--kind error|access] --lines N --seed S --end EPOCH --out PATH
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


_SCANS = ("/phpMyAdmin/index.php", "/pma/scripts/setup.php", "/wp-login.php", "/wp-admin.php", "/cgi-bin/test.cgi",
          "/mysqladmin/", "/roundcube/", "/webmail/src/login.php", "/typo3/phpmyadmin/", "/admin/pma/index.php")
_PAGES = ("/", "/index.html", "/about/", "/blog/2026/12/06/post.html", "/static/app.js", "/static/site.css",
          "/favicon.ico", "/robots.txt", "/search?q=fail2ban&page=2", "/api/v1/items?id=42", "/wp-login.php.bak")
_AGENTS = ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
           "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/8.4.0",
           "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _access_line(rnd: random.Random, when: float, scanners: list[str]) -> str:
    t = time.gmtime(when)
    stamp = f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    if rnd.random() < 0.2:
        ip = scanners[min(int(rnd.paretovariate(1.2)) - 1, len(scanners) - 1)]
        method, path, status = rnd.choice(("GET", "GET", "POST", "HEAD")), rnd.choice(_SCANS), 404
    else:
        ip = (f"198.51.{rnd.randrange(100)}.{rnd.randrange(1, 255)}" if rnd.random() < 0.8
              else f"2001:db8:{rnd.randrange(1, 0xffff):x}::{rnd.randrange(1, 0xffff):x}")  # fmt: skip
        method, path = rnd.choice(("GET", "GET", "GET", "POST")), rnd.choice(_PAGES)
        status = rnd.choice((200, 200, 200, 304, 404, 301))
    user = rnd.choice(("-", "-", "-", "bob"))
    return (f'{ip} - {user} [{stamp}] "{method} {path} HTTP/1.1" {status} {rnd.randrange(100, 90000)} '
            f'"{rnd.choice(("-", "https://www.example.org/"))}" "{rnd.choice(_AGENTS)}"')  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=("error", "access"), default="error")
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
    if args.kind == "access":
        scanners = [f"192.0.2.{n + 1}" for n in range(200)] + [f"2001:db8:bad::{n:x}" for n in range(1, 100)]
        with open(args.out, "w", encoding="utf-8") as out:
            for n in range(args.lines):
                out.write(_access_line(rnd, start + n * step, scanners) + "\n")
        return 0
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
