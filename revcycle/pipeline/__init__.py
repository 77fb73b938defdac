"""The stages of the daily run as plain functions: ids and keys in, ids and counts out.

Each stage is idempotent for its batch: run twice, it does its work once; run after a
crash, it finishes what is left. Prefect tasks in ``tasks/`` wrap these functions.
"""
