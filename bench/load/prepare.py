#!/usr/bin/env python3
"""Prepares registrations for bench/load.sh through the real API.

    prepare.py BASE_URL OUT_FILE COUNT START [--submit]

COUNT parents log in (development login), fill in their profile, start a
draft for campaign 2027-G1, fill in a distinct child (valid ID number) and
upload the 户口簿 photo, so that the benchmark measures the submit alone.
Writes "bearer-token draft-id" lines; with --submit it also submits each and
writes "bearer-token application-id" lines (for the status benchmark).
START offsets the children's numbers so that runs do not collide.
"""
import concurrent.futures
import datetime
import struct
import sys
import zlib

import requests

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def id_number(n):
    day = datetime.date(2020, 9, 1) + datetime.timedelta(days=(n // 1000) % 365)
    region = 350524 + (n // 365000)
    first = f"{region}{day:%Y%m%d}{n % 1000:03d}"
    return first + CHECK[sum(int(d) * w for d, w in zip(first, WEIGHTS)) % 11]


def png(n):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = zlib.compress(b"\x00" + bytes([n % 256, (n >> 8) % 256, (n >> 16) % 256]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def one(base, n, submit):
    s = requests.Session()
    r = s.post(f"{base}/parent/dev-login", data={"openid": f"bench-{n}"}, allow_redirects=False)
    r.raise_for_status()
    token = s.get(f"{base}/api/v1/registration/session").json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    s.cookies.clear()
    s.put(f"{base}/api/v1/registration/guardian", headers=h,
          json={"name": "林美玲", "relation": "母亲", "mobile": "13805951234"}).raise_for_status()
    draft = s.post(f"{base}/api/v1/registration/campaigns/2027-G1/drafts", headers=h).json()["draft_id"]
    s.put(f"{base}/api/v1/registration/drafts/{draft}/child", headers=h, json={
        "child_name": "林小明", "id_number": id_number(n), "hukou_type": "local",
        "hukou_township": "凤城镇", "hukou_community": "东岳社区", "hukou_road": "二环路",
        "hukou_number": str(n % 500 + 1)}).raise_for_status()
    s.post(f"{base}/api/v1/registration/drafts/{draft}/documents", headers=h, data={"kind": "hukou"},
           files={"file": ("h.png", png(n), "image/png")}).raise_for_status()
    if not submit:
        return f"{token} {draft}"
    r = s.post(f"{base}/api/v1/registration/drafts/{draft}/submit", headers=h)
    r.raise_for_status()
    return f"{token} {r.json()['application_id']}"


def main():
    base, out, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    submit = "--submit" in sys.argv
    with concurrent.futures.ThreadPoolExecutor(16) as pool, open(out, "w") as f:
        for line in pool.map(lambda n: one(base, n, submit), range(start, start + count)):
            f.write(line + "\n")


if __name__ == "__main__":
    main()
