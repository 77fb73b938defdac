"""Offline code sets and identifier checks, one small module per standard.

Each module follows the python-stdnum shape: ``compact``, ``validate`` (returns the
compact value or raises an :class:`~revcycle.codesets.errors.InvalidCode` subclass) and
``is_valid``. Error messages never contain the value checked: it may identify a person.
"""
