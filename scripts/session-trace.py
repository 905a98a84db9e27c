#!/usr/bin/env python3
"""A large trace with sessions, for timing `behavior learn` (README):
10 million requests in about 401,000 sessions of 10-40 requests, 2,000
open at a time, 8 request types drawn from one of 4 overlapping profiles
per session. Canonical CSV on stdout.

    python3 scripts/session-trace.py > /tmp/sessions.csv
"""
import random, sys
random.seed(1)
names = ["login","home","search","view","cart","buy","rate","logout"]
profiles = [
  [0.05,0.3,0.3,0.2,0.05,0.0,0.05,0.05],
  [0.05,0.1,0.1,0.2,0.3,0.2,0.0,0.05],
  [0.05,0.1,0.5,0.3,0.0,0.0,0.0,0.05],
  [0.05,0.2,0.05,0.05,0.05,0.05,0.5,0.05],
]
slots = 2000
sess = [None]*slots
left = [0]*slots
count = 0
out = sys.stdout
out.write("timestamp,response_time,class,success,session\n")
step = 0
nid = 0
while count < 10_000_000:
    buf = []
    t0 = 1.0e9 + step * 0.5
    for s in range(slots):
        if left[s] == 0:
            nid += 1
            sess[s] = (f"s{nid}", random.randrange(4))
            left[s] = random.randint(10, 40)
        sid, p = sess[s]
        c = random.choices(names, profiles[p])[0]
        buf.append(f"{t0 + s*0.0002:.4f},0.010,{c},true,{sid}\n")
        left[s] -= 1
        count += 1
    out.write("".join(buf))
    step += 1
print(nid, file=sys.stderr)
