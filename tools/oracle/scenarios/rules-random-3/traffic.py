# rules-random-3: seeded random traffic through the random ruleset (lib/random_rules.py, seed 8089).
from random_rules import traffic

traffic(8089)
