"""Helpers the tests share: plain functions and classes, never fixtures or tests.

Fixtures live in the ``conftest.py`` files and call these.
"""
