#!/usr/bin/env python3
"""Generates batch-short.txt and batch-long.txt (96 documents each, one per line).

Run once; the outputs are committed and are the fixed benchmark inputs (this script is
kept only to show how they were made). Short documents follow the 9-word shape of
"The quick brown fox jumps over the lazy dog"; long documents are 4 sentences from a
pool, about 49 words like long.txt.
"""
import random

ADJ1 = ["quick", "small", "old", "young", "clever", "sleepy", "noisy", "gentle"]
ADJ2 = ["brown", "grey", "white", "black", "red", "golden"]
ANIMAL = ["fox", "cat", "horse", "rabbit", "goat", "wolf", "deer", "squirrel"]
VERB = ["jumps over", "runs past", "walks around", "sleeps beside", "hides behind", "looks at"]
TARGET = ["lazy dog", "tall fence", "quiet river", "wooden bridge", "old barn", "green hill"]

POOL = [
    "The library opens at nine in the morning and closes late on weekdays.",
    "Fresh bread from the corner bakery sells out before most people finish breakfast.",
    "Our team replaced the old database with a faster system last spring.",
    "Heavy rain caused the river to rise above the footpath near the station.",
    "Children in the village learn to swim in the lake every summer.",
    "The new battery lasts two full days on a single charge.",
    "A small change to the recipe made the soup much richer and warmer.",
    "The museum added a room about the history of printing and paper.",
    "Commuters prefer the morning train because it rarely runs late.",
    "She repaired the bicycle with a spare chain and a borrowed wrench.",
    "Farmers in the valley grow apples, pears and several kinds of plums.",
    "The software update fixed a bug that slowed down large file transfers.",
    "Volunteers planted three hundred trees along the edge of the highway.",
    "The concert hall has excellent sound, even in the cheapest seats.",
    "Our cat spends most afternoons asleep in a patch of sunlight.",
    "The report explains how the city plans to reduce traffic in the center.",
    "Hikers should carry water, a map and a warm jacket on this trail.",
    "The bakery also offers a small selection of cakes made without sugar.",
    "Scientists measured the temperature of the ocean at many different depths.",
    "The hotel staff helped us find a quiet restaurant near the harbor.",
    "Students may borrow laptops from the front desk for up to one week.",
    "The old bridge will be closed for repairs until the end of the month.",
    "A good night of sleep improves memory, mood and concentration.",
    "The market sells local cheese, honey and vegetables every Saturday morning.",
]


def main() -> None:
    rnd = random.Random(4)
    short = set()
    while len(short) < 96:
        short.add(f"The {rnd.choice(ADJ1)} {rnd.choice(ADJ2)} {rnd.choice(ANIMAL)} "
                  f"{rnd.choice(VERB)} the {rnd.choice(TARGET)}")
    long_docs = []
    seen = set()
    while len(long_docs) < 96:
        pick = tuple(rnd.sample(range(len(POOL)), 4))
        words = sum(len(POOL[i].split()) for i in pick)
        if pick in seen or not 46 <= words <= 52:
            continue
        seen.add(pick)
        long_docs.append(" ".join(POOL[i] for i in pick))
    with open("batch-short.txt", "w") as f:
        f.write("\n".join(sorted(short)) + "\n")
    with open("batch-long.txt", "w") as f:
        f.write("\n".join(long_docs) + "\n")


if __name__ == "__main__":
    main()
