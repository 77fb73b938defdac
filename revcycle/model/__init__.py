"""The domain model, free of X12 syntax: ``claim`` (837 content), ``remittance`` (835
content and its balancing), ``acknowledgment`` (999 and 277CA content)."""
