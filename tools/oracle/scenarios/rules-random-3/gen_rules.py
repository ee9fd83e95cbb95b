# Writes rules.v4 of the rules-random-3 scenario: python3 gen_rules.py > rules.v4 (lib/random_rules.py, seed 8150).
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from random_rules import ruleset  # noqa: E402

sys.stdout.write(ruleset(8150))
