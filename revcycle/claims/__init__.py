"""Claims built from other claims and a payer's decision (see ``derived``)."""
