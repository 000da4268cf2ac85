#!/usr/bin/env python3
"""Generates the demo's transcript-only calls: two teams of four sellers over
four months (August to November 2026), so that the seller page has something
to say: trends against the previous period, sellers who may need coaching, top
performers and what they do differently.

Each call is a scripted dialogue turned into a transcript (words with times,
two speakers) and a sidecar `NAME.meta.json` (team, customer, outcome,
direction). The sellers differ on purpose, and some change over the months:

| seller | team | profile |
|---|---|---|
| s-daniel | crm | talks more and asks less from October; sentiment falls |
| s-sofia | crm | asks many questions, listens; wins most (top performer) |
| s-lena | crm | steady, middle of the team |
| s-omar | crm | talks fast, interrupts, long pitches; improves in November |
| s-rachel | security | patient listener; sentiment improves from October |
| s-tom | security | wins most in security (top performer) |
| s-nina | security | long pauses before answering |
| s-marcus | security | few questions, long monologues |

Only the standard library; deterministic (its own generator, no `random`), so
running it again gives the same files byte for byte. `--check` compares
instead of writing (CI runs it).

    python3 tools/demo/make_team_calls.py samples/team-calls
    python3 tools/demo/make_team_calls.py --check samples/team-calls
"""
import datetime as dt
import json
import os
import sys


class Rng:
    """A small deterministic generator (64-bit LCG), stable across Python versions."""

    def __init__(self, seed):
        self.state = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)

    def random(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return (self.state >> 11) / float(1 << 53)

    def pick(self, items):
        return items[int(self.random() * len(items)) % len(items)]

    def chance(self, p):
        return self.random() < p

    def between(self, lo, hi):
        return lo + (hi - lo) * self.random()


COMPANY = {"crm": "Pulsedesk", "security": "Shieldline"}
COMPETITORS = {"crm": ["HubSpot", "Salesforce", "Pipedrive"], "security": ["CrowdStrike", "SentinelOne"]}
CUSTOMERS = {
    "crm": [("Harbourline Property", "Priya"), ("Brightside Dental", "Laura"), ("Greg's Roofing", "Greg"),
            ("Kestrel Accounting", "Amir"), ("Maple Street Clinics", "Joan"), ("Riverbend Realty", "Chris"),
            ("Northgate Roofing", "Pat"), ("Copperleaf Studio", "Mina")],
    "security": [("St. Mary Hospital", "Hannah"), ("Northgate IT", "Mark"), ("Alder Credit Union", "Ruth"),
                 ("Bluewater Schools", "Ivan"), ("Cinder Logistics", "Dana"), ("Oakridge Legal", "Paul"),
                 ("Fennel Health", "Sara"), ("Granite Manufacturing", "Leo")],
}

# Seller profiles. wpm: words per minute of talk; pitch: sentences per seller
# statement turn; ask: share of seller turns that are questions; pause: seconds
# before answering the customer; story: most sentences in one customer turn;
# interrupt: chance of starting before the customer is done; mood: chance of
# a positive customer answer (the rest neutral, and `sour` of them negative);
# win: chance of winning a call with an outcome. `later`: what changes from
# `since` on.
SELLERS = [
    ("s-daniel", "crm", dict(wpm=170, pitch=2, ask=0.6, pause=0.7, story=3, interrupt=0.05, mood=0.6, sour=0.1, win=0.55),
     ("2026-10-01", dict(pitch=4, ask=0.25, story=1, mood=0.25, sour=0.45, win=0.35))),
    ("s-sofia", "crm", dict(wpm=160, pitch=1, ask=0.8, pause=0.6, story=4, interrupt=0.0, mood=0.7, sour=0.05, win=0.85), None),
    ("s-lena", "crm", dict(wpm=175, pitch=2, ask=0.5, pause=0.8, story=3, interrupt=0.05, mood=0.5, sour=0.15, win=0.5), None),
    ("s-omar", "crm", dict(wpm=215, pitch=4, ask=0.3, pause=0.4, story=1, interrupt=0.35, mood=0.35, sour=0.35, win=0.35),
     ("2026-11-01", dict(pitch=2, ask=0.55, interrupt=0.1, story=2, mood=0.55, sour=0.15))),
    ("s-rachel", "security", dict(wpm=165, pitch=2, ask=0.5, pause=0.9, story=3, interrupt=0.05, mood=0.3, sour=0.4, win=0.4),
     ("2026-10-01", dict(ask=0.7, story=4, mood=0.7, sour=0.05, win=0.6))),
    ("s-tom", "security", dict(wpm=170, pitch=1, ask=0.75, pause=0.7, story=4, interrupt=0.0, mood=0.65, sour=0.05, win=0.85), None),
    ("s-nina", "security", dict(wpm=150, pitch=2, ask=0.55, pause=2.2, story=3, interrupt=0.0, mood=0.5, sour=0.15, win=0.5), None),
    ("s-marcus", "security", dict(wpm=195, pitch=4, ask=0.2, pause=0.6, story=1, interrupt=0.2, mood=0.4, sour=0.3, win=0.3), None),
]

OPEN_Q = {
    "crm": ["How do your agents track leads today?", "What happens when a follow up is missed?",
            "Who else on the team would use the CRM every day?", "What would success look like in three months?",
            "How do you report on your pipeline today?", "Which tools does the CRM need to work with?",
            "What made you look at a new CRM this quarter?", "How much time does the front desk spend on reminders?"],
    "security": ["How many endpoints do you manage today?", "What happened in your last security incident?",
                 "Who handles the alerts at night?", "What would a good month look like for your IT team?",
                 "Which compliance audits are coming up?", "How do you patch laptops that are off the network?",
                 "What made you look at endpoint protection this year?", "How long does it take to isolate a device?"],
}
PITCH = {
    "crm": ["Our mobile app shows every lead and follow up in one place.",
            "The listing integration syncs new enquiries every five minutes.",
            "Reminders go out by text and email without anyone lifting a finger.",
            "Onboarding takes about a week and we import your spreadsheets for you.",
            "Reports show the whole pipeline by agent and by week.",
            "Our pricing is per seat with no setup fee.",
            "Most clinics your size start with the standard plan and a two week trial.",
            "The calendar integration books the next appointment from the same screen."],
    "security": ["Our agent isolates an infected laptop in under a minute.",
                 "The console shows every endpoint and its patch level on one page.",
                 "Our analysts watch the alerts around the clock, so nobody on your team gets paged at night.",
                 "Onboarding takes two weeks and we deploy the agent for you.",
                 "The compliance report is ready for your auditors every month.",
                 "Our pricing is per endpoint with a discount for a three year contract.",
                 "Most hospitals your size start with a thirty day trial on one site.",
                 "The integration with your ticketing system opens a ticket for every alert."],
}
SELLER_ON_COMPETITOR = "Unlike {c}, we include onboarding in the price."
ANSWER_NEUTRAL = {
    "crm": ["We have about thirty agents across two offices.", "Mostly with spreadsheets and calendar reminders.",
            "The front desk handles it, and sometimes the owner.", "We report once a month from a spreadsheet.",
            "It needs to work with our listing site and our calendar.", "We would need a quote for twenty seats.",
            "Our budget is set in January.", "We will need to discuss the contract with our finance lead."],
    "security": ["We have about four hundred laptops and sixty servers.", "The IT team is five people.",
                 "Alerts go to a shared mailbox.", "The audit is in March.",
                 "Laptops are patched when they come to the office.", "We would need a quote for four hundred endpoints.",
                 "Our budget is set in the spring.", "The renewal of our current contract is in June."],
}
ANSWER_POSITIVE = ["That sounds great, the team would love that.", "This is exactly what we need, thank you.",
                   "Wonderful, that would really help us.", "I like that a lot, it looks easy and clear.",
                   "Perfect, a trial would be great for us.", "That is a good fit, we are happy with what we saw.",
                   "Great, the demo was really helpful."]
ANSWER_NEGATIVE = ["Honestly we are frustrated, the current tool is slow and support is terrible.",
                   "That is too expensive for us and I am worried about the cost.",
                   "I am not happy, we had problems with the last integration and nobody helped.",
                   "This is confusing and we are disappointed so far.",
                   "We had a bad outage last month and I am angry about it.",
                   "I doubt this will work, the last rollout was a painful failure."]
CUSTOMER_ON_COMPETITOR = ["We are also talking to {c}, their pricing looked lower.",
                          "We tried {c} last year but it felt too big for us.",
                          "{c} offered us a discount, so we are comparing."]
BACKCHANNEL = ["Mhm.", "Right.", "Okay."]
CLOSE = ["I will send you the proposal with pricing by Friday.", "I will send a quote today and book the onboarding call.",
         "I will send the trial invite this afternoon.", "I will send a summary and the contract draft tomorrow."]


def merged(profile, later, day):
    p = dict(profile)
    if later and day >= dt.date.fromisoformat(later[0]):
        p.update(later[1])
    return p


def call_days(rng, first, last, n):
    """`n` weekdays spread evenly from `first` to `last`, with jitter."""
    span = (last - first).days
    days = []
    for i in range(n):
        d = first + dt.timedelta(days=int(span * (i + rng.between(0.1, 0.9)) / n))
        while d.weekday() >= 5:
            d -= dt.timedelta(days=1)
        days.append(d)
    return days


class Script:
    """Turns a dialogue into timed words."""

    def __init__(self, rng, profile):
        self.rng, self.p, self.t, self.words, self.last = rng, profile, 0.6, [], None

    def say(self, who, sentences, gap=None):
        wpm = self.p["wpm"] if who == "seller" else 175
        if self.last is not None and self.last != who:
            if who == "seller" and self.rng.chance(self.p["interrupt"]):
                self.t -= 0.15  # starts before the customer is done
            elif who == "seller":
                self.t += self.p["pause"] * self.rng.between(0.7, 1.3)
            else:
                self.t += self.rng.between(0.4, 0.9)
        if gap is not None:
            self.t += gap
        for k, sentence in enumerate(sentences):
            if k:
                self.t += 0.35
            for w in sentence.split():
                dur = max(0.2, 60.0 / wpm * self.rng.between(0.8, 1.2) * (0.6 + 0.06 * len(w)))
                self.words.append({"text": w, "start": round(self.t, 2), "end": round(self.t + dur, 2),
                                   "speaker": "s" if who == "seller" else "c"})
                self.t += dur + 60.0 / wpm * 0.08
        self.last = who


def make_call(seller, team, profile, later, day, index, rng):
    p = merged(profile, later, day)
    customer, contact = CUSTOMERS[team][int(rng.random() * len(CUSTOMERS[team]))]
    first = seller.split("-")[1].capitalize()
    competitor = rng.pick(COMPETITORS[team])
    s = Script(rng, p)
    s.say("seller", [f"Hi {contact}, this is {first} from {COMPANY[team]}.", "Is now still a good time?"])
    s.say("customer", ["Yes, hello.", "We have about twenty minutes."])
    exchanges = 6 + int(rng.random() * 3)
    asked = set()
    said_competitor = False
    for x in range(exchanges):
        if rng.chance(p["ask"]):
            q = rng.pick(OPEN_Q[team])
            if q in asked:
                q = OPEN_Q[team][(OPEN_Q[team].index(q) + 1) % len(OPEN_Q[team])]
            asked.add(q)
            lines = [q] if p["pitch"] <= 2 else [rng.pick(PITCH[team]), q]
        else:
            # Distinct statements: consecutive ones from a random start.
            first_pitch = int(rng.random() * len(PITCH[team]))
            lines = [PITCH[team][(first_pitch + k) % len(PITCH[team])] for k in range(p["pitch"])]
            if rng.chance(0.15):
                lines.append(SELLER_ON_COMPETITOR.format(c=competitor))
        s.say("seller", lines)
        n = 1 + int(rng.random() * p["story"])
        answer = []
        for _ in range(n):
            r = rng.random()
            if r < p["mood"]:
                answer.append(rng.pick(ANSWER_POSITIVE))
            elif r < p["mood"] + p["sour"]:
                answer.append(rng.pick(ANSWER_NEGATIVE))
            else:
                answer.append(rng.pick(ANSWER_NEUTRAL[team]))
        if not said_competitor and x == 1 and rng.chance(0.6):
            answer.append(rng.pick(CUSTOMER_ON_COMPETITOR).format(c=competitor))
            said_competitor = True
        s.say("customer", answer)
        if x % 3 == 2 and rng.chance(0.5):
            s.say("seller", [rng.pick(BACKCHANNEL)], gap=0.0)
            s.say("customer", [rng.pick(ANSWER_NEUTRAL[team])], gap=0.1)
    s.say("seller", [rng.pick(CLOSE)])
    s.say("customer", ["Thank you, talk soon."])
    hour = 9 + int(rng.random() * 8)
    minute = rng.pick([0, 15, 30, 45])
    started = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.timezone.utc)
    call_id = f"tc-{seller[2:]}-{index:02d}"
    transcript = {
        "call_id": call_id,
        "seller_id": seller,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(s.t + 0.8, 3),
        "speakers": {"s": "seller", "c": "customer"},
        "words": s.words,
    }
    outcome = None
    if rng.chance(0.8):
        outcome = "won" if rng.chance(p["win"]) else "lost"
    meta = {"team": team, "customer": f"{customer} ({contact})", "direction": rng.pick(["outbound", "outbound", "inbound"])}
    if outcome:
        meta["outcome"] = outcome
    return call_id, transcript, meta


def generate():
    files = {}
    first, last = dt.date(2026, 8, 3), dt.date(2026, 11, 27)
    for n, (seller, team, profile, later) in enumerate(SELLERS):
        rng = Rng(1000 + n)
        days = call_days(rng, first, last, 15)
        for i, day in enumerate(days, start=1):
            call_id, transcript, meta = make_call(seller, team, profile, later, day, i, rng)
            files[f"{call_id}.json"] = json.dumps(transcript, separators=(",", ":")) + "\n"
            files[f"{call_id}.meta.json"] = json.dumps(meta, indent=1) + "\n"
    return files


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = args[0]
    files = generate()
    if check:
        have = set(f for f in os.listdir(out) if f.endswith(".json")) if os.path.isdir(out) else set()
        stale = sorted(f for f, text in files.items() if not os.path.isfile(os.path.join(out, f))
                       or open(os.path.join(out, f), encoding="utf-8").read() != text)
        extra = sorted(have - set(files))
        if stale or extra:
            print(f"{out}: out of date ({len(stale)} differ, {len(extra)} extra); run tools/demo/make_team_calls.py {out}",
                  file=sys.stderr)
            return 1
        print(f"{out}: {len(files) // 2} calls, up to date")
        return 0
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".json") and f not in files:
            os.remove(os.path.join(out, f))
    for name, text in files.items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as fh:
            fh.write(text)
    print(f"{out}: {len(files) // 2} calls written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
