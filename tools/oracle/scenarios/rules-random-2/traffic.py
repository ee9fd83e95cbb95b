# rules-random-2: seeded random traffic through the random ruleset (lib/random_rules.py, seed 8088).
from random_rules import traffic

traffic(8088)
