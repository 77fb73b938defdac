"""ASC X12 005010 codec: tokenizer, envelopes, and the 837/835/999/277CA transaction sets."""
