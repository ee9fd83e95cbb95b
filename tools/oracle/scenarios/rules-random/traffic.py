# rules-random: seeded random traffic through the random ruleset (lib/random_rules.py, seed 8086).
from random_rules import traffic

traffic(8086)
