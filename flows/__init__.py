"""Prefect flows: one per stage, each re-runnable alone for a business day, and
``daily_revenue_cycle`` that chains them."""
