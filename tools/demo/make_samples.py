#!/usr/bin/env python3
"""Generates the demo's sample calls: stereo recordings made with text-to-speech.

Each call is a scripted dialogue; the seller speaks on the left channel, the
customer on the right, with pauses between turns and a little crosstalk-free
silence, as a dual-channel contact-center recording would have it. Written as
Ogg/Opus (small: the repo ships them) with a NAME.meta.json sidecar for
`callscope worker --source dir:samples/calls`.

Needs espeak-ng (Debian: apt-get install espeak-ng) and the Python packages
soundfile and numpy. Deterministic for a given espeak-ng version.

    python3 tools/demo/make_samples.py samples/calls
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf

RATE = 16000
SELLER_VOICES = {"s-daniel": "en-us+m3", "s-sofia": "en-us+f3", "s-rachel": "en-gb+f2"}
CUSTOMER_VOICES = ["en-gb+m1", "en-us+f2", "en-gb-scotland+m2", "en-us+m7"]

# (call name, seller, team, started_at, direction, outcome, customer, customer voice, turns)
# Turns alternate seller (S) and customer (C).
CALLS = [
    ("demo-01-daniel-discovery", "s-daniel", "crm", "2026-10-06T09:30:00Z", "outbound", "won", "Harbourline Property", 0, [
        ("S", "Hi Priya, this is Daniel from Callscope CRM. Is now still a good time?"),
        ("C", "Yes, hi Daniel. We have about twenty minutes."),
        ("S", "Great. What made you look at a new CRM this quarter?"),
        ("C", "Our agents track leads in spreadsheets and we keep losing follow ups. We tried HubSpot last year but the pricing grew too fast."),
        ("S", "That makes sense. How many agents would use it every day?"),
        ("C", "Around thirty. And we need an integration with our listing site."),
        ("S", "We have that integration out of the box. Would a two week trial help your team decide?"),
        ("C", "A trial would be great. What does onboarding look like?"),
        ("S", "Onboarding takes about a week. I will send you a proposal with pricing by Friday."),
        ("C", "Perfect, thank you. Send it to me and our finance lead."),
    ]),
    ("demo-02-daniel-negotiation", "s-daniel", "crm", "2026-10-20T14:00:00Z", "outbound", "won", "Harbourline Property", 0, [
        ("S", "Hi Priya, thanks for reviewing the proposal. What did your team think?"),
        ("C", "We like it. The budget is tight though. Salesforce offered us a discount."),
        ("S", "Understood. Which parts of the proposal matter most to you?"),
        ("C", "The mobile app and the listing integration. We do not need the advanced reports."),
        ("S", "If we drop the reports, I can bring the price down by fifteen percent on a two year contract."),
        ("C", "That works much better for us. Can you send an updated quote?"),
        ("S", "Yes, I will send the quote today and book the onboarding call for next week."),
        ("C", "Great, we are happy to sign this month."),
    ]),
    ("demo-03-daniel-renewal", "s-daniel", "crm", "2026-11-10T10:15:00Z", "inbound", "lost", "Northgate Roofing", 2, [
        ("S", "Hello, this is Daniel. How can I help?"),
        ("C", "Hi, I am calling about our renewal. Honestly we are not happy. The app has been slow and support took days to answer."),
        ("S", "I am sorry to hear that."),
        ("C", "Pipedrive offered us a much lower price and a faster setup. We are seriously thinking about moving. The last three months were frustrating for the whole team and I have to justify the cost to my boss."),
        ("S", "I understand."),
        ("C", "If you cannot match their pricing we will not renew the contract."),
        ("S", "Let me check what I can do and call you back."),
        ("C", "Fine, but we need an answer this week."),
    ]),
    ("demo-04-sofia-discovery", "s-sofia", "crm", "2026-10-08T11:00:00Z", "outbound", "won", "Brightside Dental", 1, [
        ("S", "Hi Laura, this is Sofia from Callscope CRM. Thanks for taking my call."),
        ("C", "Of course, hi Sofia."),
        ("S", "How do you manage patient follow ups today?"),
        ("C", "Mostly with reminders in our calendar. It is messy."),
        ("S", "What happens when a follow up is missed?"),
        ("C", "We lose the appointment, and sometimes the patient. We looked at HubSpot but it felt too big for a clinic."),
        ("S", "That is common for clinics your size. What would success look like in three months?"),
        ("C", "No missed follow ups, and one place for the front desk to see everything."),
        ("S", "Would a short demo next Tuesday help? I can show the reminder flows."),
        ("C", "Yes, Tuesday works. Please send an invite."),
        ("S", "I will send the invite and a short summary today."),
        ("C", "Thanks Sofia, talk soon."),
    ]),
    ("demo-05-sofia-demo", "s-sofia", "crm", "2026-10-27T15:30:00Z", "outbound", "won", "Brightside Dental", 1, [
        ("S", "Hi Laura, good to see you again. Did the team have questions after the demo?"),
        ("C", "They loved the reminders. They asked about the integration with our booking system."),
        ("S", "We support it. Who else should join the onboarding?"),
        ("C", "Our office manager and one dentist."),
        ("S", "Great. Is the budget approved for this quarter?"),
        ("C", "Yes, within the pricing you sent."),
        ("S", "Then I will prepare the contract and send it tomorrow."),
        ("C", "Wonderful. We are excited to start."),
    ]),
    ("demo-06-sofia-followup", "s-sofia", "crm", "2026-11-12T09:00:00Z", "inbound", "won", "Lakeside Physio", 3, [
        ("S", "Hello, this is Sofia. How can I help you today?"),
        ("C", "Hi, a colleague at Brightside recommended you. We need a CRM for our clinic."),
        ("S", "Lovely to hear. How many people would use it?"),
        ("C", "About ten. We are comparing you with Pipedrive."),
        ("S", "What matters most in that comparison?"),
        ("C", "Price and how quickly we can start."),
        ("S", "Onboarding takes a week for a team of ten. Could I send you a quote and book a demo?"),
        ("C", "Yes please, both would help."),
    ]),
    ("demo-07-rachel-security", "s-rachel", "security", "2026-10-13T13:00:00Z", "outbound", "won", "Meridian Logistics IT", 2, [
        ("S", "Hi Alan, this is Rachel from Callscope Security. Thanks for making time."),
        ("C", "Hi Rachel. We are reviewing endpoint protection before our renewal with CrowdStrike."),
        ("S", "What is driving the review?"),
        ("C", "Cost mostly. And we had too many false alerts last quarter."),
        ("S", "How many endpoints do you protect today?"),
        ("C", "About eight hundred laptops and sixty servers."),
        ("S", "Would a thirty day trial on one office help you compare?"),
        ("C", "Yes, a trial on the Leeds office would be ideal."),
        ("S", "I will send the trial plan and a proposal by Thursday."),
        ("C", "Sounds good."),
    ]),
    ("demo-08-rachel-pricing", "s-rachel", "security", "2026-10-29T16:00:00Z", "outbound", "lost", "Meridian Logistics IT", 2, [
        ("S", "Hi Alan, how did the trial go?"),
        ("C", "Technically fine. But SentinelOne came back with a big discount and our budget is fixed."),
        ("S", "I see. We can offer a discount on a three year contract. Our pricing includes support around the clock."),
        ("C", "Three years is too long for us right now."),
        ("S", "We could also remove the premium tier and keep the core protection, which would still cover every laptop and server in the trial."),
        ("C", "I will take it to my boss, but I think we will go with SentinelOne this time."),
        ("S", "Understood. Thank you for the trial."),
        ("C", "Thanks Rachel."),
    ]),
    ("demo-09-rachel-expansion", "s-rachel", "security", "2026-11-16T10:30:00Z", "inbound", "won", "Fernwood Council", 3, [
        ("S", "Hello, Rachel speaking."),
        ("C", "Hi Rachel, we are an existing customer and we want to add our new office."),
        ("S", "Great news. How many endpoints are in the new office?"),
        ("C", "About one hundred and twenty. Can we add them to the current contract?"),
        ("S", "Yes. Do you need the same policies as your main site?"),
        ("C", "Yes, the same policies, and onboarding before January."),
        ("S", "I will send an updated quote today and schedule onboarding for early December."),
        ("C", "Perfect, thank you."),
    ]),
]


def speak(text, voice, tmp):
    path = os.path.join(tmp, "line.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", path, text], check=True)
    audio, rate = sf.read(path, dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    if rate != RATE:  # espeak-ng writes 22,050 Hz; linear resampling is fine for a sample
        n = int(round(len(audio) * RATE / rate))
        audio = np.interp(np.linspace(0, len(audio) - 1, n), np.arange(len(audio)), audio).astype("float32")
    return audio * 0.8


def make(out_dir, call):
    name, seller, team, started_at, direction, outcome, customer, cvoice, turns = call
    voices = {"S": SELLER_VOICES[seller], "C": CUSTOMER_VOICES[cvoice]}
    left, right = [], []
    with tempfile.TemporaryDirectory() as tmp:
        gap = np.zeros(int(0.45 * RATE), dtype="float32")
        lead = np.zeros(int(0.6 * RATE), dtype="float32")
        left.append(lead)
        right.append(lead)
        for i, (who, text) in enumerate(turns):
            speech = speak(text, voices[who], tmp)
            # A longer think before the customer's answers to questions, shorter otherwise.
            pause = np.zeros(int((0.35 + 0.1 * (i % 3)) * RATE), dtype="float32")
            silence = np.zeros(len(speech), dtype="float32")
            if who == "S":
                left += [speech, pause]
                right += [silence, pause]
            else:
                left += [silence, pause]
                right += [speech, pause]
        left.append(gap)
        right.append(gap)
    stereo = np.stack([np.concatenate(left), np.concatenate(right)], axis=1)
    path = os.path.join(out_dir, f"{name}.opus")
    sf.write(path, stereo, RATE, format="OGG", subtype="OPUS")
    meta = {
        "seller_id": seller,
        "team": team,
        "started_at": started_at,
        "direction": direction,
        "outcome": outcome,
        "customer": customer,
        "channels": {"layout": "stereo", "seller_channel": "left"},
    }
    with open(os.path.join(out_dir, f"{name}.meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    return path, len(stereo) / RATE


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "samples/calls"
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    for call in CALLS:
        path, seconds = make(out_dir, call)
        total += os.path.getsize(path)
        print(f"{path}: {seconds:.1f} s, {os.path.getsize(path) // 1024} KiB")
    print(f"{len(CALLS)} calls, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
