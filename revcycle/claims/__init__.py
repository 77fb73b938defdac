"""Claims after they arrive: their content as data (``content``: JSON for versions, typed
changes, field-level diffs), the biller's commands on them (``cli``), and the claims built
from other claims and a payer's decision (``derived``: secondary, replacement, void)."""
