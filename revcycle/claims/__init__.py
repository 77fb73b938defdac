"""A claim's content as data: JSON for its versions, typed changes, field-level diffs."""
